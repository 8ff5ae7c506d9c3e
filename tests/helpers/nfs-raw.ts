/**
 * Small typed helpers to speak RPC / MOUNT / NFSv3 to a server from tests:
 *
 * - RawConn: a bare TCP connection that sends arbitrary bytes and collects
 *   whole reply records (exact bytes), for hostile-input and DRC tests.
 * - buildCall / frame / parseReply: compose call records by hand (any rpcvers,
 *   any credential bytes) and decode replies.
 * - NfsClient: MNT plus the NFSv3 procedures the integration tests use, over
 *   RpcClient, returning decoded results.
 *
 * Nothing here times anything: waits end on an event (a record, a close).
 * The caller's test timeout is the only watchdog.
 */
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { RecordReader, recordMark, LAST_FRAGMENT } from '../../src/rpc/record.js';
import { MsgType, readReplyBody, type ReplyHeader } from '../../src/rpc/message.js';
import { AUTH_NONE_VERF, type OpaqueAuth } from '../../src/rpc/auth.js';
import type { ReplyChunk } from '../../src/rpc/program.js';
import { RpcClient, authSys } from '../../src/rpc/client.js';
import {
  NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc, CreateMode3, StableHow3, nfs3StatName,
  encodeGetattrArgs, encodeLookupArgs, encodeReadArgs, encodeWriteArgs, encodeCommitArgs, encodeCreateArgs,
  encodeRemoveArgs, encodeReadlinkArgs, encodeMkdirArgs, encodeRenameArgs, encodeSetattrArgs, encodeSymlinkArgs, encodeLinkArgs,
  decodeGetattrRes, decodeLookupRes, decodeReadRes, decodeWriteRes, decodeCommitRes, decodeDirCreateRes,
  decodeRemoveRes, decodeReadlinkRes, decodeRenameRes, decodeSetattrRes, decodeLinkRes,
} from '../../src/nfs3/index.js';
import type {
  GetattrRes, LookupRes, ReadRes, WriteRes, CommitRes, DirCreateRes, RemoveRes, ReadlinkRes, RenameRes, Sattr3, SetattrRes, LinkRes,
  StableHow3Value,
} from '../../src/nfs3/index.js';
import { MOUNT_PROGRAM, MOUNT_V3, MountProc, encodeDirpath, decodeMntRes, type MntRes } from '../../src/mount/index.js';

export { NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc, MOUNT_PROGRAM, MOUNT_V3, MountProc, nfs3StatName, StableHow3, CreateMode3 };

/** The bytes of an encoded reply: what the encoder wrote, then its chunks (a tail copied out of its pipe). */
export function replyBytes(w: XdrWriter, chunks: ReplyChunk[] | void): Buffer {
  const parts = [w.finish()];
  for (const c of chunks ?? []) {
    if (Buffer.isBuffer(c)) parts.push(c);
    else {
      const b = Buffer.alloc(c.length);
      c.copyRest(b, 0);
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- identity

/**
 * The AUTH_SYS identity tests act as. The default export is root_squash, so
 * a root test process would become nobody: use a plain uid instead and give
 * the export tree to it (chownTree). Unprivileged, the server acts as its own
 * user whatever we send, so our own ids are as good as any.
 */
export const TEST_UID = process.getuid?.() === 0 ? 4242 : (process.getuid?.() ?? 4242);
export const TEST_GID = process.getgid?.() === 0 ? 4242 : (process.getgid?.() ?? 4242);
export const CRED: OpaqueAuth = authSys(TEST_UID, TEST_GID, [TEST_GID], 'nfs-raw-test');

/** When running as root, hand a tree to TEST_UID so calls as CRED may read and write it. */
export function chownTree(root: string): void {
  if (process.getuid?.() !== 0) return;
  const walk = (p: string): void => {
    fs.lchownSync(p, TEST_UID, TEST_GID);
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(root);
}

// ---------------------------------------------------------------- raw records

export interface CallSpec {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  rpcvers?: number;
  msgType?: number;
  cred?: OpaqueAuth;
  verf?: OpaqueAuth;
  /** A credential written by hand: the flavor, then `bytes` verbatim (length word included), for malformed ones. */
  rawCred?: { flavor: number; bytes: Buffer };
  args?: Buffer | ((w: XdrWriter) => void);
}

/** A call message body (no record mark). */
export function buildCall(c: CallSpec): Buffer {
  const w = new XdrWriter(256);
  w.uint32(c.xid).uint32(c.msgType ?? MsgType.CALL).uint32(c.rpcvers ?? 2).uint32(c.prog).uint32(c.vers).uint32(c.proc);
  if (c.rawCred) {
    w.uint32(c.rawCred.flavor);
    w.fixedOpaque(c.rawCred.bytes);
  } else {
    const cred = c.cred ?? AUTH_NONE_VERF;
    w.uint32(cred.flavor).opaque(cred.body);
  }
  const verf = c.verf ?? AUTH_NONE_VERF;
  w.uint32(verf.flavor).opaque(verf.body);
  const head = w.finish();
  if (c.args === undefined) return Buffer.from(head);
  if (Buffer.isBuffer(c.args)) return Buffer.concat([head, c.args]);
  const aw = new XdrWriter(256);
  c.args(aw);
  return Buffer.concat([head, aw.finish()]);
}

/** One record, as a single last fragment. */
export function frame(body: Buffer): Buffer {
  return Buffer.concat([recordMark(body.length), body]);
}

/** One record split into fragments of the given sizes (cycled); zero-size non-last fragments are allowed. */
export function fragment(body: Buffer, sizes: number[]): Buffer {
  const out: Buffer[] = [];
  let off = 0;
  let i = 0;
  for (;;) {
    const want = sizes[i++ % sizes.length]!;
    const n = Math.min(want, body.length - off);
    const last = off + n >= body.length && (n > 0 || body.length === 0);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(((last ? LAST_FRAGMENT : 0) | n) >>> 0, 0);
    out.push(h, body.subarray(off, off + n));
    off += n;
    if (last) break;
  }
  return Buffer.concat(out);
}

export interface ParsedReply {
  xid: number;
  header: ReplyHeader;
  /** Positioned at the result body on SUCCESS. */
  reader: XdrReader;
}

export function parseReply(rec: Buffer): ParsedReply {
  const r = new XdrReader(rec);
  const xid = r.uint32();
  const mt = r.uint32();
  if (mt !== MsgType.REPLY) throw new Error(`not a reply (msg_type ${mt})`);
  return { xid, header: readReplyBody(r, xid), reader: r };
}

/** "SUCCESS", "GARBAGE_ARGS", "AUTH_BADCRED", "RPC_MISMATCH"... */
export function replyStatus(h: ReplyHeader): string {
  return h.kind === 'accepted' ? h.stat : h.kind === 'auth_error' ? h.stat : 'RPC_MISMATCH';
}

/**
 * A bare connection: write anything, read whole records. Records that
 * arrive while nobody waits are queued (unless `discard` is set, for floods).
 */
export class RawConn {
  readonly socket: net.Socket;
  private readonly queue: Buffer[] = [];
  private waiters: Array<{ resolve: (b: Buffer) => void; reject: (e: Error) => void }> = [];
  private readonly xidWaiters = new Map<number, (b: Buffer) => void>();
  private ended = false;
  /** Resolves when the socket is fully closed (by either side). */
  readonly closed: Promise<void>;
  /** Records received in total. */
  received = 0;
  discard = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    const rr = new RecordReader(64 * 1024 * 1024, (rec) => this.onRecord(rec));
    socket.on('data', (c: Buffer) => rr.push(c));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => {
      this.ended = true;
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w.reject(new Error('connection closed'));
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, noDelay: true });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawConn(s));
      });
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  private onRecord(rec: Buffer): void {
    this.received++;
    if (rec.length >= 4) {
      const xid = rec.readUInt32BE(0);
      const xw = this.xidWaiters.get(xid);
      if (xw) {
        this.xidWaiters.delete(xid);
        xw(rec);
        return;
      }
    }
    if (this.discard) return;
    const w = this.waiters.shift();
    if (w) w.resolve(rec);
    else this.queue.push(rec);
  }

  /** Write bytes; resolves once they are handed to the kernel. */
  write(b: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) return reject(new Error('socket destroyed'));
      this.socket.write(b, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Write one byte per write() call, each flushed before the next. */
  async writeByteByByte(b: Buffer): Promise<void> {
    for (let i = 0; i < b.length; i++) await this.write(b.subarray(i, i + 1));
  }

  /** The next record not claimed by an xid waiter. */
  nextRecord(): Promise<Buffer> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.ended) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Take every record received and not yet consumed. */
  drain(): Buffer[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** The reply record with this xid (registered before sending, so it cannot be missed). */
  expectXid(xid: number): Promise<Buffer> {
    const i = this.queue.findIndex((r) => r.length >= 4 && r.readUInt32BE(0) === xid);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      this.xidWaiters.set(xid, resolve);
      void this.closed.then(() => {
        if (this.xidWaiters.delete(xid)) reject(new Error(`connection closed before reply to xid ${xid}`));
      });
    });
  }

  /** Send a call (framed as one record) and resolve with the exact reply record. */
  async call(c: CallSpec): Promise<Buffer> {
    const p = this.expectXid(c.xid);
    await this.write(frame(buildCall(c)));
    return p;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Half-close and wait for the server to close its side. */
  async end(): Promise<void> {
    this.socket.end();
    await this.closed;
  }
}

// ---------------------------------------------------------------- seeded randomness

/** mulberry32: a tiny deterministic PRNG, so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytesSeeded(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

// ---------------------------------------------------------------- typed NFS client

/** Status of a call that did not get SUCCESS, or the NFS result. */
export class NfsClient {
  private constructor(
    readonly rpc: RpcClient,
    readonly cred: OpaqueAuth,
  ) {}

  static async connect(port: number, cred: OpaqueAuth = CRED): Promise<NfsClient> {
    return new NfsClient(await RpcClient.connect(port), cred);
  }

  close(): Promise<void> {
    return this.rpc.close();
  }

  async mnt(dirpath: string): Promise<MntRes> {
    const { reader } = await this.rpc.call(MOUNT_PROGRAM, MOUNT_V3, MountProc.MNT, (w) => encodeDirpath(w, dirpath), this.cred);
    return decodeMntRes(reader);
  }

  /** MNT that must succeed; returns the root handle. */
  async mount(dirpath: string): Promise<Buffer> {
    const r = await this.mnt(dirpath);
    if (r.status !== 0) throw new Error(`MNT ${dirpath} failed: mountstat3 ${r.status}`);
    return r.fhandle;
  }

  private async nfs<T>(proc: number, enc: (w: XdrWriter) => void, dec: (r: XdrReader) => T, xid?: number): Promise<T> {
    const { reader } = await this.rpc.call(NFS3_PROGRAM, NFS3_VERSION, proc, enc, this.cred, xid);
    return dec(reader);
  }

  null(): Promise<void> {
    return this.nfs(Nfs3Proc.NULL, () => {}, () => undefined);
  }

  getattr(fh: Buffer): Promise<GetattrRes> {
    return this.nfs(Nfs3Proc.GETATTR, (w) => encodeGetattrArgs(w, { object: fh }), decodeGetattrRes);
  }

  lookup(dir: Buffer, name: string): Promise<LookupRes> {
    return this.nfs(Nfs3Proc.LOOKUP, (w) => encodeLookupArgs(w, { what: { dir, name } }), decodeLookupRes);
  }

  /** LOOKUP each component of a relative path; throws unless every step is NFS3_OK. */
  async walk(root: Buffer, rel: string): Promise<Buffer> {
    let fh = root;
    for (const name of rel.split('/').filter(Boolean)) {
      const r = await this.lookup(fh, name);
      if (r.status !== 0) throw new Error(`LOOKUP ${name} in ${rel}: ${nfs3StatName(r.status)}`);
      fh = r.object;
    }
    return fh;
  }

  read(fh: Buffer, offset: bigint | number, count: number): Promise<ReadRes> {
    return this.nfs(Nfs3Proc.READ, (w) => encodeReadArgs(w, { file: fh, offset: BigInt(offset), count }), (r) => decodeReadRes(r, count));
  }

  /** READ a whole file in chunks; throws unless every READ is NFS3_OK. */
  async readAll(fh: Buffer, chunk = 256 * 1024): Promise<Buffer> {
    const parts: Buffer[] = [];
    let off = 0n;
    for (let i = 0; i < 1_000_000; i++) {
      const r = await this.read(fh, off, chunk);
      if (r.status !== 0) throw new Error(`READ at ${off}: ${nfs3StatName(r.status)}`);
      parts.push(Buffer.from(r.data));
      off += BigInt(r.data.length);
      if (r.eof || r.data.length === 0) break;
    }
    return Buffer.concat(parts);
  }

  write(fh: Buffer, offset: bigint | number, data: Buffer, stable: StableHow3Value = StableHow3.FILE_SYNC, xid?: number): Promise<WriteRes> {
    return this.nfs(
      Nfs3Proc.WRITE,
      (w) => encodeWriteArgs(w, { file: fh, offset: BigInt(offset), count: data.length, stable, data }),
      decodeWriteRes,
      xid,
    );
  }

  commit(fh: Buffer, offset: bigint | number = 0, count = 0): Promise<CommitRes> {
    return this.nfs(Nfs3Proc.COMMIT, (w) => encodeCommitArgs(w, { file: fh, offset: BigInt(offset), count }), decodeCommitRes);
  }

  create(dir: Buffer, name: string, mode: 0 | 1 = CreateMode3.GUARDED, attrs: Sattr3 = { mode: 0o644 }, xid?: number): Promise<DirCreateRes> {
    return this.nfs(Nfs3Proc.CREATE, (w) => encodeCreateArgs(w, { where: { dir, name }, how: { mode, attrs } }), decodeDirCreateRes, xid);
  }

  mkdir(dir: Buffer, name: string, attrs: Sattr3 = { mode: 0o755 }): Promise<DirCreateRes> {
    return this.nfs(Nfs3Proc.MKDIR, (w) => encodeMkdirArgs(w, { where: { dir, name }, attrs }), decodeDirCreateRes);
  }

  remove(dir: Buffer, name: string, xid?: number): Promise<RemoveRes> {
    return this.nfs(Nfs3Proc.REMOVE, (w) => encodeRemoveArgs(w, { object: { dir, name } }), decodeRemoveRes, xid);
  }

  rename(fromDir: Buffer, fromName: string, toDir: Buffer, toName: string): Promise<RenameRes> {
    return this.nfs(
      Nfs3Proc.RENAME,
      (w) => encodeRenameArgs(w, { from: { dir: fromDir, name: fromName }, to: { dir: toDir, name: toName } }),
      decodeRenameRes,
    );
  }

  readlink(fh: Buffer): Promise<ReadlinkRes> {
    return this.nfs(Nfs3Proc.READLINK, (w) => encodeReadlinkArgs(w, { symlink: fh }), decodeReadlinkRes);
  }

  setattr(fh: Buffer, attrs: Sattr3): Promise<SetattrRes> {
    return this.nfs(Nfs3Proc.SETATTR, (w) => encodeSetattrArgs(w, { object: fh, attrs }), decodeSetattrRes);
  }

  symlink(dir: Buffer, name: string, target: string): Promise<DirCreateRes> {
    return this.nfs(Nfs3Proc.SYMLINK, (w) => encodeSymlinkArgs(w, { where: { dir, name }, attrs: {}, target: Buffer.from(target) }), decodeDirCreateRes);
  }

  link(fh: Buffer, dir: Buffer, name: string): Promise<LinkRes> {
    return this.nfs(Nfs3Proc.LINK, (w) => encodeLinkArgs(w, { file: fh, link: { dir, name } }), decodeLinkRes);
  }
}

// ---------------------------------------------------------------- process probes

/** Resident set size of a process, bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Open descriptors of a process (Linux /proc). */
export function fdCountOf(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
