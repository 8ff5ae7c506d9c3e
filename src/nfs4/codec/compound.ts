/**
 * COMPOUND4args and COMPOUND4res, both directions.
 *
 * Server side, decodeCompoundArgs follows knfsd's nfsd4_decode_compound:
 * - the tag (bounded by maxTag), minor version and op count; a bad header
 *   or a truncated op number throws (the RPC layer answers GARBAGE_ARGS);
 * - at most maxOps ops are decoded whatever count the client declared, so
 *   a 10,000-op COMPOUND allocates nothing for ops it will not run
 *   (`truncated` tells the runner, which answers NFS4ERR_TOO_MANY_OPS or
 *   RESOURCE); an unknown minor version decodes no op at all (the runner
 *   answers NFS4ERR_MINOR_VERS_MISMATCH);
 * - decoding stops at the first op it cannot take: an op number unknown in
 *   that minor version (`stop.illegal`, answered NFS4ERR_OP_ILLEGAL with
 *   result op OP_ILLEGAL), or a known op whose arguments do not decode
 *   (`stop.error`, answered `stop.status`). `ops` holds the ops before it,
 *   which the runner runs first, as RFC 8881 section 16.2.3 orders.
 *
 * Client side, encodeCompoundArgs and decodeCompoundRes mirror them, with
 * the same bounds on what a server sends back.
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import type { ReplyChunk } from '../../rpc/program.js';
import { FIRST_OP, LAST_OP, Nfs4Op, Nfs4Stat, OP_ILLEGAL } from '../constants.js';
import type {
  Compound4Args, Compound4Decoded, Compound4Res, Compound4Stop, Nfs4ArgOp, Nfs4KnownOp, Nfs4ResOp,
} from '../types.js';
import { ChunkList } from './chunks.js';
import { readStatus } from './common.js';
import { decoding, Nfs4CodecError } from './errors.js';
import type { Nfs4Limits } from './limits.js';
import { OP_CODECS, opCodec } from './table.js';

/** Whether `opnum` is an operation of minor version `minor` (knfsd's nfsd4_opnum_in_range). */
export function opInMinorVersion(opnum: number, minor: number): boolean {
  const last = LAST_OP[minor];
  return last !== undefined && opnum >= FIRST_OP && opnum <= last;
}

export function decodeCompoundArgs(r: XdrReader, lim: Nfs4Limits): Compound4Decoded {
  const { tag, minorversion, opCount } = decoding(() => {
    const tag = Buffer.from(r.opaque(lim.maxTag));
    const minorversion = r.uint32();
    return { tag, minorversion, opCount: r.uint32() };
  });
  const out: Compound4Decoded = { tag, minorversion, opCount, truncated: opCount > lim.maxOps, ops: [] };
  if (LAST_OP[minorversion] === undefined) return out;
  const n = Math.min(opCount, lim.maxOps);
  for (let index = 0; index < n; index++) {
    const opnum = decoding(() => r.uint32());
    if (!opInMinorVersion(opnum, minorversion)) {
      out.stop = { index, opnum, illegal: true, status: Nfs4Stat.OP_ILLEGAL };
      return out;
    }
    const op = opnum as Nfs4KnownOp;
    try {
      out.ops.push({ op, args: OP_CODECS[op].decodeArgs(r, lim) } as Nfs4ArgOp);
    } catch (e) {
      const error = Nfs4CodecError.from(e);
      out.stop = { index, opnum: op, illegal: false, status: error.status, error } satisfies Compound4Stop;
      return out;
    }
  }
  return out;
}

/**
 * Move `r` from the start of COMPOUND4args to the first byte of the first
 * WRITE's data (ProcedureDef.seekPayload: the RPC layer then places the
 * record so that the data starts on a page boundary). The ops before the
 * WRITE are decoded to find their ends; throws when there is no WRITE among
 * the first maxOps ops, or on anything decodeCompoundArgs would refuse.
 */
export function seekCompoundWriteData(r: XdrReader, lim: Nfs4Limits): void {
  decoding(() => {
    r.opaque(lim.maxTag);
    const minor = r.uint32();
    const n = Math.min(r.uint32(), lim.maxOps);
    for (let i = 0; i < n; i++) {
      const opnum = r.uint32();
      if (!opInMinorVersion(opnum, minor)) break;
      if (opnum === Nfs4Op.WRITE) {
        r.skip(16 + 8 + 4); // stateid, offset, stable
        r.uint32(); // the data's length
        return;
      }
      OP_CODECS[opnum as Nfs4KnownOp].decodeArgs(r, lim);
    }
    throw new Nfs4CodecError('NFS4_BAD_VALUE', 'no WRITE in this COMPOUND');
  });
}

/** Client side. WRITE data is lent, not copied: the closing chunks, as RpcTransport.call takes them. */
export function encodeCompoundArgs(w: XdrWriter, a: Compound4Args): Buffer[] | void {
  w.opaque(a.tag).uint32(a.minorversion).uint32(a.ops.length);
  const out = new ChunkList<Buffer>(w);
  for (const o of a.ops) {
    out.w.uint32(o.op);
    out.lend((OP_CODECS[o.op].encodeArgs as (w: XdrWriter, a: unknown) => readonly Buffer[] | void)(out.w, o.args));
  }
  return out.finish();
}

/**
 * Server side. The tag is echoed as given. READ / READ_PLUS data are lent
 * (the returned chunks follow what was written into `w`); one ReplyTail at
 * most per reply, since one socket write carries one: a server must not
 * splice two READs into one COMPOUND (NFS4_TWO_TAILS otherwise).
 */
export function encodeCompoundRes(w: XdrWriter, res: Compound4Res): ReplyChunk[] | void {
  w.uint32(res.status).opaque(res.tag).uint32(res.results.length);
  const out = new ChunkList<ReplyChunk>(w);
  let tails = 0;
  for (const o of res.results) {
    out.w.uint32(o.op);
    if (o.op === OP_ILLEGAL) {
      out.w.uint32(o.res.status);
      continue;
    }
    const chunks = (OP_CODECS[o.op].encodeRes as (w: XdrWriter, r: unknown) => readonly ReplyChunk[] | void)(out.w, o.res);
    if (chunks) for (const c of chunks) if (!Buffer.isBuffer(c)) tails++;
    out.lend(chunks);
  }
  if (tails > 1) throw new Nfs4CodecError('NFS4_TWO_TAILS', `${tails} spliced tails in one COMPOUND reply`);
  return out.finish();
}

/**
 * Client side. The result count is bounded by maxOps (a client knows how
 * many ops it sent); an op number the codec does not know cannot be read
 * past (its result's length is unknown): NFS4_UNKNOWN_OP.
 */
export function decodeCompoundRes(r: XdrReader, lim: Nfs4Limits): Compound4Res {
  return decoding(() => {
    const status = readStatus(r);
    const tag = Buffer.from(r.opaque(lim.maxTag));
    const n = r.uint32();
    if (n > lim.maxOps) throw new Nfs4CodecError('NFS4_TOO_LONG', `${n} results exceed ${lim.maxOps}`);
    const results: Nfs4ResOp[] = [];
    for (let i = 0; i < n; i++) {
      const opnum = r.uint32();
      if (opnum === OP_ILLEGAL) {
        results.push({ op: OP_ILLEGAL, res: { status: readStatus(r) as typeof Nfs4Stat.OP_ILLEGAL } });
        continue;
      }
      const codec = opCodec(opnum);
      if (codec === undefined) throw new Nfs4CodecError('NFS4_UNKNOWN_OP', `result of unknown op ${opnum}`);
      results.push({ op: opnum, res: codec.decodeRes(r, lim) } as Nfs4ResOp);
    }
    return { status, tag, results };
  });
}
