/**
 * A scripted NFSv4.1 / 4.2 session made of the codec alone, run against a
 * real server (nfs-ganesha) while tshark captures it: the replies are the
 * server's own bytes, so the capture is a corpus for the client-side
 * decoders (tests/fixtures/nfs4/). Not a client: no retries, no slot
 * table, one call at a time; it stops at the first surprise.
 *
 *   node dist/tests/helpers/nfs4-capture-client.js PORT EXPORT MINOR
 * e.g. 12149 export 1. Creates, writes, locks and removes "codec-capture.txt"
 * in the export.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { LAST_FRAGMENT, RecordReader } from '../../src/rpc/record.js';
import { readReplyBody, writeCallHeader } from '../../src/rpc/message.js';
import { AUTH_NONE_VERF, AuthFlavor, encodeAuthSys } from '../../src/rpc/auth.js';
import { Attr4 as A, NFS4_PROGRAM, NFS4_VERSION, Nfs4Op as P, Nfs4Proc, nfs4StatName } from '../../src/nfs4/constants.js';
import { nfs4Limits } from '../../src/nfs4/codec/limits.js';
import { bitmap4, bitmap4From } from '../../src/nfs4/codec/bitmap.js';
import { KNOWN_ATTRS } from '../../src/nfs4/codec/fattr4-table.js';
import { decodeCompoundRes, encodeCompoundArgs } from '../../src/nfs4/codec/compound.js';
import type { Compound4Res, Nfs4ArgOp, Nfs4ResOp, Stateid4 } from '../../src/nfs4/types.js';

const [port, exportName, minorArg] = [Number(process.argv[2]), process.argv[3] ?? 'export', Number(process.argv[4] ?? 1)];
const minor = minorArg;
const lim = nfs4Limits({ maxOps: 32 });
const cred = { flavor: AuthFlavor.SYS, body: encodeAuthSys({ machine: 'nfs4-capture', uid: 0, gid: 0, gids: [] }) };
/** Every attribute the codec reads, minus the write-only ones (GETATTR of those is NFS4ERR_INVAL). */
const ALL_ATTRS = bitmap4From(KNOWN_ATTRS.filter((a) => a !== A.TIME_ACCESS_SET && a !== A.TIME_MODIFY_SET && a !== A.MODE_UMASK));
const FILE = 'codec-capture.txt';

const sock = net.connect(port, '127.0.0.1');
const waiting = new Map<number, (rec: Buffer) => void>();
const rr = new RecordReader(8 << 20, (rec) => waiting.get(rec.readUInt32BE(0))?.(rec));
sock.on('data', (c: Buffer) => rr.push(c));
let xid = (randomBytes(4).readUInt32BE(0) & 0x7fffffff) >>> 0;

/**
 * One COMPOUND; returns the decoded reply (any status). `extra`: op numbers
 * appended raw after `ops` (void arguments), for ops the codec has no
 * encoder for — an illegal one.
 */
async function compound(ops: Nfs4ArgOp[], tag = '', extra: number[] = []): Promise<Compound4Res> {
  const id = ++xid;
  const w = new XdrWriter(1024);
  w.reserve32();
  writeCallHeader(w, { xid: id, prog: NFS4_PROGRAM, vers: NFS4_VERSION, proc: Nfs4Proc.COMPOUND, cred, verf: AUTH_NONE_VERF });
  const at = w.length;
  const chunks = encodeCompoundArgs(w, { tag: Buffer.from(tag), minorversion: minor, ops });
  if (extra.length) {
    if (chunks) throw new Error('raw ops after lent chunks');
    w.patch32(at + 4 + ((Buffer.byteLength(tag) + 3) & ~3) + 4, ops.length + extra.length);
    for (const op of extra) w.uint32(op);
  }
  const parts = [Buffer.from(w.finish()), ...(chunks ?? [])];
  parts[0].writeUInt32BE((LAST_FRAGMENT | (parts.reduce((n, b) => n + b.length, 0) - 4)) >>> 0, 0);
  const reply = new Promise<Buffer>((res) => waiting.set(id, res));
  for (const p of parts) sock.write(p);
  const r = new XdrReader(await reply);
  r.uint32();
  r.uint32();
  const h = readReplyBody(r, id);
  if (h.kind !== 'accepted' || h.stat !== 'SUCCESS') throw new Error(`${tag}: RPC ${JSON.stringify(h)}`);
  const res = decodeCompoundRes(r, lim);
  if (r.remaining !== 0) throw new Error(`${tag}: ${r.remaining} bytes left after the reply`);
  console.log(`${tag.padEnd(18)} ${nfs4StatName(res.status)} ${res.results.map((x) => `${x.op}:${x.res.status}`).join(' ')}`);
  return res;
}

function ok<T extends Nfs4ResOp['op']>(res: Compound4Res, op: T): Extract<Nfs4ResOp, { op: T }>['res'] & { status: 0 } {
  const r = res.results.find((x) => x.op === op);
  if (!r || r.res.status !== 0) throw new Error(`op ${op} failed: ${r ? nfs4StatName(r.res.status) : 'missing'}`);
  return r.res as never;
}

async function main(): Promise<void> {
  await new Promise<void>((res) => sock.once('connect', res));
  const exid = await compound([{
    op: P.EXCHANGE_ID,
    args: {
      clientowner: { verifier: randomBytes(8), ownerid: Buffer.from(`nfs-localio codec capture ${process.pid}`) },
      flags: 0x00010000,
      stateProtect: { how: 0 },
      clientImplId: { domain: 'nfs-localio.dev', name: 'codec capture', date: { seconds: 0n, nseconds: 0 } },
    },
  }], 'exchange_id');
  const ex = ok(exid, P.EXCHANGE_ID);
  const chan = { headerPadSize: 0, maxRequestSize: 1 << 20, maxResponseSize: 1 << 20, maxResponseSizeCached: 8192, maxOperations: 16, maxRequests: 8 };
  const cs = ok(await compound([{
    op: P.CREATE_SESSION,
    args: { clientid: ex.clientid, sequence: ex.sequenceid, flags: 0, foreChanAttrs: chan, backChanAttrs: { ...chan, maxRequests: 1 }, cbProgram: 0x40000000, secParms: [{ flavor: 0 }] },
  }], 'create_session'), P.CREATE_SESSION);
  let seqid = 0;
  const seq = (): Nfs4ArgOp => ({ op: P.SEQUENCE, args: { sessionid: cs.sessionid, sequenceid: ++seqid, slotid: 0, highestSlotid: 0, cachethis: false } });

  await compound([seq(), { op: P.RECLAIM_COMPLETE, args: { oneFs: false } }], 'reclaim_complete');
  const root = await compound([seq(), { op: P.PUTROOTFH, args: undefined }, { op: P.GETATTR, args: { attrRequest: bitmap4(A.SUPPORTED_ATTRS, A.TYPE, A.FH_EXPIRE_TYPE, A.CHANGE, A.SIZE, A.LINK_SUPPORT, A.SYMLINK_SUPPORT, A.NAMED_ATTR, A.FSID, A.UNIQUE_HANDLES, A.LEASE_TIME, A.RDATTR_ERROR, A.FILEHANDLE) } }, { op: P.GETFH, args: undefined }], 'root');
  const supported = ok(root, P.GETATTR).attrs.values.supportedAttrs ?? [];
  const wanted = ALL_ATTRS.map((w, i) => (w & (supported[i] ?? 0)) >>> 0);
  await compound([seq(), { op: P.PUTROOTFH, args: undefined }, { op: P.SECINFO_NO_NAME, args: { style: 0 } }], 'secinfo_no_name');
  const exp = await compound([seq(), { op: P.PUTROOTFH, args: undefined }, { op: P.LOOKUP, args: { objname: exportName } }, { op: P.GETFH, args: undefined }, { op: P.GETATTR, args: { attrRequest: wanted } }], 'lookup export');
  const dir = ok(exp, P.GETFH).object;
  await compound([seq(), { op: P.PUTFH, args: { object: dir } }, { op: P.LOOKUP, args: { objname: 'no-such-name' } }, { op: P.GETFH, args: undefined }], 'lookup missing');
  await compound([seq(), { op: P.PUTFH, args: { object: dir } }, { op: P.READDIR, args: { cookie: 0n, cookieverf: Buffer.alloc(8), dircount: 8192, maxcount: 32768, attrRequest: bitmap4(A.TYPE, A.FILEID, A.SIZE, A.MODE, A.NUMLINKS, A.OWNER, A.OWNER_GROUP, A.TIME_MODIFY, A.MOUNTED_ON_FILEID, A.RDATTR_ERROR) } }], 'readdir');
  const owner = { clientid: ex.clientid, owner: Buffer.from('open-owner-1') };
  const opened = await compound([
    seq(),
    { op: P.PUTFH, args: { object: dir } },
    { op: P.OPEN, args: { seqid: 0, shareAccess: 3, shareDeny: 0, owner, openhow: { opentype: 1, how: { mode: 0, createattrs: { mask: bitmap4(A.MODE), values: { mode: 0o644 } } } }, claim: { claim: 0, file: FILE } } },
    { op: P.GETFH, args: undefined },
    { op: P.ACCESS, args: { access: 0x3f } },
    { op: P.GETATTR, args: { attrRequest: bitmap4(A.TYPE, A.CHANGE, A.SIZE, A.FILEID, A.MODE, A.OWNER) } },
  ], 'open create');
  const stateid: Stateid4 = ok(opened, P.OPEN).stateid;
  const file = ok(opened, P.GETFH).object;
  const data = Buffer.alloc(1001, 0x61);
  await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.WRITE, args: { stateid, offset: 0n, stable: 0, data } }, { op: P.GETATTR, args: { attrRequest: bitmap4(A.CHANGE, A.SIZE) } }], 'write');
  await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.COMMIT, args: { offset: 0n, count: 0 } }], 'commit');
  await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.READ, args: { stateid, offset: 0n, count: 4096 } }, { op: P.GETATTR, args: { attrRequest: bitmap4(A.SIZE) } }], 'read');
  await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.SETATTR, args: { stateid, objAttributes: { mask: bitmap4(A.SIZE, A.TIME_MODIFY_SET), values: { size: 999n, timeModifySet: 'server' } } } }], 'setattr');
  await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.VERIFY, args: { objAttributes: { mask: bitmap4(A.SIZE), values: { size: 999n } } } }, { op: P.NVERIFY, args: { objAttributes: { mask: bitmap4(A.SIZE), values: { size: 999n } } } }], 'verify');
  const locked = await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.LOCK, args: { locktype: 2, reclaim: false, offset: 0n, length: 100n, locker: { newLockOwner: true, openSeqid: 0, openStateid: stateid, lockSeqid: 0, lockOwner: { clientid: ex.clientid, owner: Buffer.from('lock-owner-1') } } } }], 'lock');
  const lockStateid = ok(locked, P.LOCK).lockStateid;
  await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.LOCKT, args: { locktype: 2, offset: 50n, length: 10n, owner: { clientid: ex.clientid, owner: Buffer.from('lock-owner-2') } } }], 'lockt (denied)');
  await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.LOCKU, args: { locktype: 2, seqid: 0, lockStateid, offset: 0n, length: 100n } }], 'locku');
  await compound([seq(), { op: P.TEST_STATEID, args: { stateids: [stateid, { seqid: 0, other: Buffer.alloc(12, 0xee) }] } }], 'test_stateid');
  if (minor >= 2) {
    await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.SEEK, args: { stateid, offset: 0n, what: 0 } }], 'seek');
    await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.ALLOCATE, args: { stateid, offset: 0n, length: 4096n } }], 'allocate');
    await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.READ_PLUS, args: { stateid, offset: 0n, count: 4096 } }], 'read_plus');
    await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.GETXATTR, args: { name: 'comment' } }], 'getxattr');
  }
  await compound([seq(), { op: P.PUTFH, args: { object: file } }, { op: P.CLOSE, args: { seqid: 0, openStateid: stateid } }], 'close');
  await compound([seq(), { op: P.PUTFH, args: { object: dir } }, { op: P.REMOVE, args: { target: FILE } }], 'remove');
  // An op number no minor version has: the server answers OP_ILLEGAL.
  await compound([seq()], 'illegal op', [99]);
  await compound([{ op: P.DESTROY_SESSION, args: { sessionid: cs.sessionid } }], 'destroy_session');
  await compound([{ op: P.DESTROY_CLIENTID, args: { clientid: ex.clientid } }], 'destroy_clientid');
  sock.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
