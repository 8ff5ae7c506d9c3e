/**
 * NFS program 100003 version 4: NULL and COMPOUND (RFC 8881 section 16), minor versions 1 and 2.
 * COMPOUND never enters the RPC layer's duplicate request cache: in NFSv4.1 the session's slot
 * cache is that (compound.ts). Decoding follows the codec's rules (codec/compound.ts): a request
 * whose header or an op number does not decode is GARBAGE_ARGS; an op whose arguments do not
 * decode ends the COMPOUND with its status.
 */
import type { ProcedureDef } from '../rpc/program.js';
import type { XdrReader, XdrWriter } from '../xdr/index.js';
import { Nfs4Op } from './constants.js';
import type { Compound4Decoded, Compound4Res } from './types.js';
import { decodeCompoundArgs, encodeCompoundRes, seekCompoundWriteData } from './codec/compound.js';
import { nfs4Limits, type Nfs4Limits } from './codec/limits.js';
import { fingerprintOf, runCompound, type CompoundReply } from './compound.js';
import { createOpTable } from './optable.js';
import type { Nfs4Env } from './env.js';

interface CompoundCall {
  args: Compound4Decoded;
  size: number;
  fingerprint: string;
}

/** The codec's bounds for requests to this server: WRITE data up to wtmax, 64 operations. */
export function serverLimits(env: Pick<Nfs4Env, 'wtmax'>, maxOps = 64): Nfs4Limits {
  return nfs4Limits({ maxOps, maxData: env.wtmax + 4096 });
}

function resultsOf(r: CompoundReply): Compound4Res | undefined {
  return r.res;
}

export function createNfs4Procedures(env: Nfs4Env): ProcedureDef[] {
  const table = createOpTable({ rtmax: env.rtmax });
  const limits = serverLimits(env, env.state.limits.ops);
  const nullProc: ProcedureDef<void, void> = {
    name: 'NULL',
    decode: () => undefined,
    handle: () => undefined,
    encode: () => undefined,
    cache: 'none',
  };
  const compound: ProcedureDef<CompoundCall, CompoundReply> = {
    name: 'COMPOUND',
    decode(r: XdrReader): CompoundCall {
      const raw = r.rest();
      return { args: decodeCompoundArgs(r, limits), size: raw.length, fingerprint: fingerprintOf(raw) };
    },
    handle: (call, ctx) => runCompound(env, table, call.args, ctx, call.size, call.fingerprint),
    encode(w: XdrWriter, r: CompoundReply) {
      if (r.kind === 'bytes') return [r.body];
      if (r.kind === 'chunks') return r.chunks;
      return encodeCompoundRes(w, r.res);
    },
    cache: 'none',
    release(r) {
      for (const o of resultsOf(r)?.results ?? []) {
        if (o.op === Nfs4Op.READ && o.res.status === 0) o.res.release?.();
        if (o.op === Nfs4Op.READ_PLUS && o.res.status === 0) o.res.release?.();
      }
    },
    bytes(r) {
      let n = 0;
      for (const o of resultsOf(r)?.results ?? []) {
        if (o.op === Nfs4Op.READ && o.res.status === 0) n += (o.res.spliced ?? o.res.data).length;
        else if (o.op === Nfs4Op.WRITE && o.res.status === 0) n += o.res.count;
      }
      return n;
    },
    // WRITE data lands page-aligned in the record, for direct I/O (rpc/record.ts).
    seekPayload: (r) => seekCompoundWriteData(r, limits),
  };
  return [nullProc, compound];
}
