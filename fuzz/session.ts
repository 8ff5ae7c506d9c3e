/**
 * A scripted session that makes the server use every procedure of every program it serves —
 * portmapper v2/v3/v4, MOUNT v3, NFSv3 (success and failure arms), LOCALIO — plus each RPC-level
 * refusal (PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS, RPC_MISMATCH, AUTH_BADCRED).
 * Run through the recording proxy it yields corpus; run in server mode it yields call records that
 * carry the live server's own file handles, so mutated calls get past the export gate.
 */
import { randomBytes } from 'node:crypto';
import { XdrReader, XdrWriter } from '../src/xdr/index.js';
import { RpcClient, authSys, AUTH_NONE, type RpcResult } from '../src/rpc/client.js';
import { recordMark } from '../src/rpc/record.js';
import { AuthFlavor, type OpaqueAuth } from '../src/rpc/auth.js';
import {
  NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc as P, CreateMode3, StableHow3, Ftype3, decodeLookupRes, decodeDirCreateRes,
  encodeAccessArgs, encodeCommitArgs, encodeCreateArgs, encodeFsinfoArgs, encodeFsstatArgs, encodeGetattrArgs,
  encodeLinkArgs, encodeLookupArgs, encodeMkdirArgs, encodeMknodArgs, encodePathconfArgs, encodeReadArgs,
  encodeReaddirArgs, encodeReaddirplusArgs, encodeReadlinkArgs, encodeRemoveArgs, encodeRenameArgs, encodeRmdirArgs,
  encodeSetattrArgs, encodeSymlinkArgs, encodeWriteArgs,
} from '../src/nfs3/index.js';
import { MOUNT_PROGRAM, MOUNT_V3, MountProc, encodeDirpath, decodeMntRes } from '../src/mount/index.js';
import { PMAP_PROGRAM, IPPROTO_TCP, IPPROTO_UDP } from '../src/portmap/program.js';
import { LOCALIO_PROGRAM, LOCALIO_V1 } from '../src/localio/constants.js';
import { FUZZ_UID } from './server-child.js';

type Enc = (w: XdrWriter) => void;

export interface SessionResult {
  /** The export's root handle. */
  root: Buffer;
}

async function call(c: RpcClient, prog: number, vers: number, proc: number, enc?: Enc, cred?: OpaqueAuth): Promise<RpcResult> {
  return c.callRaw(prog, vers, proc, enc, cred);
}

function ok(r: RpcResult): XdrReader | undefined {
  return r.header.kind === 'accepted' && r.header.stat === 'SUCCESS' ? r.reader : undefined;
}

/** A record written by hand (any rpcvers, any credential bytes), then a NULL so its reply has come back. */
async function raw(c: RpcClient, words: number[], tail: Buffer = Buffer.alloc(0)): Promise<void> {
  const w = new XdrWriter(64);
  for (const v of words) w.uint32(v);
  const body = Buffer.concat([w.finish(), tail]);
  c.writeRaw(Buffer.concat([recordMark(body.length), body]));
  await call(c, NFS3_PROGRAM, NFS3_VERSION, P.NULL);
}

export async function runSession(port: number, exportPath: string): Promise<SessionResult> {
  const c = await RpcClient.connect(port);
  try {
    return await session(c, exportPath);
  } finally {
    await c.close();
  }
}

async function session(c: RpcClient, exportPath: string): Promise<SessionResult> {
  const sys = authSys(FUZZ_UID, FUZZ_UID, [FUZZ_UID, 100]);
  const nfs = (proc: number, enc?: Enc, cred: OpaqueAuth = sys) => call(c, NFS3_PROGRAM, NFS3_VERSION, proc, enc, cred);

  // portmapper v2, rpcbind v3/v4
  const pmap = (proc: number, prog: number, vers: number, prot: number) =>
    call(c, PMAP_PROGRAM, 2, proc, (w) => void w.uint32(prog).uint32(vers).uint32(prot).uint32(0));
  await call(c, PMAP_PROGRAM, 2, 0);
  await pmap(3, NFS3_PROGRAM, 3, IPPROTO_TCP);
  await pmap(3, MOUNT_PROGRAM, 3, IPPROTO_TCP);
  await pmap(3, NFS3_PROGRAM, 3, IPPROTO_UDP);
  await pmap(1, 300000, 1, IPPROTO_TCP);
  await pmap(2, 300000, 1, IPPROTO_TCP);
  await call(c, PMAP_PROGRAM, 2, 4);
  for (const v of [3, 4]) {
    const rpcb = (proc: number, prog: number, vers: number, netid: string) =>
      call(c, PMAP_PROGRAM, v, proc, (w) => void w.uint32(prog).uint32(vers).string(netid).string('127.0.0.1.8.1').string('fuzz'));
    await call(c, PMAP_PROGRAM, v, 0);
    await rpcb(3, NFS3_PROGRAM, 3, 'tcp');
    await rpcb(3, MOUNT_PROGRAM, 0, 'tcp6');
    await rpcb(3, NFS3_PROGRAM, 3, 'udp');
    await rpcb(1, 300000, 1, 'tcp');
    await rpcb(2, 300000, 1, 'tcp');
    await call(c, PMAP_PROGRAM, v, 4);
  }

  // MOUNT v3
  const mnt = (proc: number, path?: string, cred: OpaqueAuth = sys) =>
    call(c, MOUNT_PROGRAM, MOUNT_V3, proc, path === undefined ? undefined : (w) => encodeDirpath(w, path), cred);
  await mnt(MountProc.NULL);
  await mnt(MountProc.MNT, '/no/such/export');
  const m = ok(await mnt(MountProc.MNT, exportPath));
  const res = m ? decodeMntRes(m) : undefined;
  if (!res || res.status !== 0) throw new Error(`MNT ${exportPath} failed`);
  const root = Buffer.from(res.fhandle);
  await mnt(MountProc.DUMP);
  await mnt(MountProc.EXPORT);
  await mnt(MountProc.UMNT, exportPath);
  await mnt(MountProc.UMNTALL);
  await mnt(MountProc.MNT, exportPath, AUTH_NONE);

  // NFSv3
  const lookup = async (dir: Buffer, name: string): Promise<Buffer | undefined> => {
    const r = ok(await nfs(P.LOOKUP, (w) => encodeLookupArgs(w, { what: { dir, name } })));
    const l = r ? decodeLookupRes(r) : undefined;
    return l?.status === 0 ? l.object : undefined;
  };
  const created = async (r: RpcResult): Promise<Buffer | undefined> => {
    const x = ok(r);
    const d = x ? decodeDirCreateRes(x) : undefined;
    return d?.status === 0 ? d.obj : undefined;
  };
  await nfs(P.NULL);
  await nfs(P.GETATTR, (w) => encodeGetattrArgs(w, { object: root }));
  await nfs(P.GETATTR, (w) => encodeGetattrArgs(w, { object: root }), AUTH_NONE);
  await nfs(P.FSINFO, (w) => encodeFsinfoArgs(w, { fsroot: root }));
  await nfs(P.FSSTAT, (w) => encodeFsstatArgs(w, { fsroot: root }));
  await nfs(P.PATHCONF, (w) => encodePathconfArgs(w, { object: root }));
  await nfs(P.ACCESS, (w) => encodeAccessArgs(w, { object: root, access: 0x3f }));
  await lookup(root, 'missing');
  await lookup(root, '..');
  const small = await lookup(root, 'small.txt');
  const sub = await lookup(root, 'sub');
  const link = await lookup(root, 'link');
  const name = `f-${randomBytes(3).toString('hex')}`;
  const f =
    (await created(await nfs(P.CREATE, (w) => encodeCreateArgs(w, { where: { dir: root, name }, how: { mode: CreateMode3.UNCHECKED, attrs: { mode: 0o644 } } })))) ??
    root;
  await nfs(P.CREATE, (w) => encodeCreateArgs(w, { where: { dir: root, name }, how: { mode: CreateMode3.GUARDED, attrs: { mode: 0o600, size: 0n } } }));
  await nfs(P.CREATE, (w) => encodeCreateArgs(w, { where: { dir: root, name: `${name}.x` }, how: { mode: CreateMode3.EXCLUSIVE, verf: randomBytes(8) } }));
  const data = Buffer.from('fuzz corpus data '.repeat(20));
  await nfs(P.WRITE, (w) => encodeWriteArgs(w, { file: f, offset: 0n, count: data.length, stable: StableHow3.UNSTABLE, data }));
  await nfs(P.WRITE, (w) => encodeWriteArgs(w, { file: f, offset: 4093n, count: 3, stable: StableHow3.FILE_SYNC, data: Buffer.from('end') }));
  await nfs(P.COMMIT, (w) => encodeCommitArgs(w, { file: f, offset: 0n, count: 0 }));
  await nfs(P.READ, (w) => encodeReadArgs(w, { file: f, offset: 0n, count: 512 }));
  await nfs(P.READ, (w) => encodeReadArgs(w, { file: f, offset: 1n << 40n, count: 512 }));
  if (small) await nfs(P.READ, (w) => encodeReadArgs(w, { file: small, offset: 0n, count: 4096 }));
  await nfs(P.SETATTR, (w) => encodeSetattrArgs(w, { object: f, attrs: { mode: 0o640, size: 100n, atime: 'server', mtime: { seconds: 1700000000, nseconds: 5 } } }));
  await nfs(P.SETATTR, (w) => encodeSetattrArgs(w, { object: f, attrs: { uid: FUZZ_UID, gid: FUZZ_UID }, guard: { seconds: 1, nseconds: 0 } }));
  const d = await created(await nfs(P.MKDIR, (w) => encodeMkdirArgs(w, { where: { dir: root, name: `${name}.d` }, attrs: { mode: 0o755 } })));
  await nfs(P.MKDIR, (w) => encodeMkdirArgs(w, { where: { dir: root, name: `${name}.d` }, attrs: {} }));
  await nfs(P.SYMLINK, (w) => encodeSymlinkArgs(w, { where: { dir: root, name: `${name}.s` }, attrs: {}, target: Buffer.from(name) }));
  if (link) await nfs(P.READLINK, (w) => encodeReadlinkArgs(w, { symlink: link }));
  await nfs(P.READLINK, (w) => encodeReadlinkArgs(w, { symlink: f }));
  await nfs(P.MKNOD, (w) => encodeMknodArgs(w, { where: { dir: root, name: `${name}.p` }, what: { type: Ftype3.FIFO, attrs: { mode: 0o600 } } }));
  await nfs(P.MKNOD, (w) => encodeMknodArgs(w, { where: { dir: root, name: `${name}.c` }, what: { type: Ftype3.CHR, attrs: {}, spec: { specdata1: 1, specdata2: 3 } } }));
  await nfs(P.MKNOD, (w) => encodeMknodArgs(w, { where: { dir: root, name: `${name}.r` }, what: { type: Ftype3.REG } }));
  await nfs(P.LINK, (w) => encodeLinkArgs(w, { file: f, link: { dir: root, name: `${name}.h` } }));
  await nfs(P.RENAME, (w) => encodeRenameArgs(w, { from: { dir: root, name: `${name}.h` }, to: { dir: sub ?? root, name: `${name}.h2` } }));
  const verf = Buffer.alloc(8);
  await nfs(P.READDIR, (w) => encodeReaddirArgs(w, { dir: root, cookie: 0n, cookieverf: verf, count: 4096 }));
  await nfs(P.READDIR, (w) => encodeReaddirArgs(w, { dir: root, cookie: 0n, cookieverf: verf, count: 200 }));
  await nfs(P.READDIRPLUS, (w) => encodeReaddirplusArgs(w, { dir: root, cookie: 0n, cookieverf: verf, dircount: 1024, maxcount: 8192 }));
  await nfs(P.READDIRPLUS, (w) => encodeReaddirplusArgs(w, { dir: sub ?? root, cookie: 0n, cookieverf: verf, dircount: 512, maxcount: 1024 }));
  await nfs(P.REMOVE, (w) => encodeRemoveArgs(w, { object: { dir: sub ?? root, name: `${name}.h2` } }));
  await nfs(P.REMOVE, (w) => encodeRemoveArgs(w, { object: { dir: root, name: 'missing' } }));
  if (d) await nfs(P.RMDIR, (w) => encodeRmdirArgs(w, { object: { dir: root, name: `${name}.d` } }));
  await nfs(P.RMDIR, (w) => encodeRmdirArgs(w, { object: { dir: root, name } }));
  // failure arms: a forged handle, a file where a directory is needed
  const forged = Buffer.from(root);
  forged[forged.length - 1] ^= 0xff;
  await nfs(P.GETATTR, (w) => encodeGetattrArgs(w, { object: forged }));
  await nfs(P.LOOKUP, (w) => encodeLookupArgs(w, { what: { dir: f, name: 'x' } }));
  await nfs(P.READ, (w) => encodeReadArgs(w, { file: root, offset: 0n, count: 10 }));
  await nfs(P.WRITE, (w) => encodeWriteArgs(w, { file: forged, offset: 0n, count: 1, stable: StableHow3.UNSTABLE, data: Buffer.from('x') }));

  // LOCALIO
  await call(c, LOCALIO_PROGRAM, LOCALIO_V1, 0);
  await call(c, LOCALIO_PROGRAM, LOCALIO_V1, 1, (w) => void w.fixedOpaque(randomBytes(16)));

  // RPC-level refusals
  await call(c, 200000, 1, 0);
  await call(c, NFS3_PROGRAM, 2, 0);
  await call(c, NFS3_PROGRAM, NFS3_VERSION, 99);
  await nfs(P.GETATTR);
  await call(c, NFS3_PROGRAM, NFS3_VERSION, P.NULL, undefined, { flavor: AuthFlavor.DH, body: Buffer.alloc(8) });
  await call(c, NFS3_PROGRAM, NFS3_VERSION, P.NULL, undefined, { flavor: AuthFlavor.SYS, body: Buffer.alloc(6) });
  await raw(c, [0x5eed0001, 0, 3, NFS3_PROGRAM, 3, 0, 0, 0, 0, 0]);
  await raw(c, [0x5eed0002, 0, 2, NFS3_PROGRAM, 3, 0, 0, 401]);
  await raw(c, [0x5eed0003, 0, 2, NFS3_PROGRAM, 3, 0, 0, 0, 1, 4, 0]);
  return { root };
}
