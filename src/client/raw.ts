/**
 * Raw per-procedure access: one method per NFSv3 procedure (RFC 1813 §3.3)
 * and per MOUNT v3 procedure, each sending exactly one call and returning
 * the decoded result, failure arms included (nothing is thrown for an
 * nfsstat3; RPC-level and transport failures do throw NfsError). For tools
 * and tests that need to see what the server says.
 */
import { xdrPadding, type XdrReader } from '../xdr/index.js';
import type { OpaqueAuth } from '../rpc/auth.js';
import { NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc, Nfs3Stat, NFS3_COOKIEVERFSIZE, type StableHow3Value } from '../nfs3/constants.js';
import {
  encodeAccessArgs, encodeCommitArgs, encodeCreateArgs, encodeFsinfoArgs, encodeFsstatArgs, encodeGetattrArgs,
  encodeLinkArgs, encodeLookupArgs, encodeMkdirArgs, encodeMknodArgs, encodePathconfArgs, encodeReadArgs,
  encodeReaddirArgs, encodeReaddirplusArgs, encodeReadlinkArgs, encodeRemoveArgs, encodeRenameArgs, encodeRmdirArgs,
  encodeSetattrArgs, encodeSymlinkArgs, encodeWriteArgs, encodeWriteArgsHead,
} from '../nfs3/codec/args.js';
import {
  decodeAccessRes, decodeCommitRes, decodeDirCreateRes, decodeFsinfoRes, decodeFsstatRes, decodeGetattrRes,
  decodeLinkRes, decodeLookupRes, decodePathconfRes, decodeReadRes, decodeReaddirRes, decodeReaddirplusRes,
  decodeReadlinkRes, decodeRemoveRes, decodeRenameRes, decodeRmdirRes, decodeSetattrRes, decodeWriteRes,
} from '../nfs3/codec/results-decode.js';
import type {
  AccessRes, CommitRes, CreateHow3, CreateRes, FsinfoRes, FsstatRes, GetattrRes, LinkRes, LookupRes, MkdirRes,
  MknodData, MknodRes, Nfstime3, PathconfRes, ReadRes, ReaddirRes, ReaddirplusRes, ReadlinkRes, RemoveRes, RenameRes,
  RmdirRes, Sattr3, SetattrRes, SymlinkRes, WriteRes,
} from '../nfs3/types.js';
import { MOUNT_PROGRAM, MOUNT_V3, MountProc } from '../mount/constants.js';
import { decodeExports, decodeMntRes, decodeMountList, encodeDirpath } from '../mount/codec.js';
import type { ExportNode, MntRes, MountEntry } from '../mount/types.js';
import type { PostOpAttr } from '../nfs3/types.js';
import type { ArgsEncoder, RpcReply, RpcTransport } from './transport.js';
import type { NfsProcs } from './procs.js';

/** READ3res whose data may sit in a pooled buffer: call `release` once the data is no longer used. */
export type ReadChunksRes =
  | { status: 0; attrs: PostOpAttr; count: number; eof: boolean; data: Buffer; release: () => void }
  | { status: Exclude<ReadRes['status'], 0>; attrs: PostOpAttr };

const NOOP = () => undefined;

/** Sends one call of a program on some connection. */
export type Caller = (proc: number, encode: ArgsEncoder | undefined, sizeHint: number, label: string) => Promise<RpcReply>;

/** A set of connections to one port, calls spread over the least busy. */
export class Channel {
  private rr = 0;
  constructor(
    readonly transports: RpcTransport[],
    private readonly prog: number,
    private readonly vers: number,
    private readonly cred: () => OpaqueAuth,
  ) {}

  readonly call: Caller = (proc, encode, sizeHint, label) => {
    const ts = this.transports;
    let t = ts[0];
    if (ts.length > 1) {
      // least outstanding, ties broken round-robin
      const start = this.rr++ % ts.length;
      t = ts[start];
      for (let i = 1; i < ts.length; i++) {
        const c = ts[(start + i) % ts.length];
        if (c.outstanding < t.outstanding) t = c;
      }
    }
    return t.call(this.prog, this.vers, proc, this.cred(), encode, sizeHint, label);
  };
}

const ZERO_VERF = Buffer.alloc(NFS3_COOKIEVERFSIZE);
const big = (n: number | bigint): bigint => (typeof n === 'bigint' ? n : BigInt(n));

export interface RawOptions {
  /** Re-issue a call answered NFS3ERR_JUKEBOX after a pause (the fs layer does; the public raw API does not). */
  retryJukebox?: boolean;
  /** soft mode: give up on JUKEBOX after this many pauses. */
  jukeboxTries?: number;
}

/** NFSv3 procedures, decoded. */
export class Nfs3Raw implements NfsProcs {
  constructor(
    private readonly caller: Caller,
    private readonly opts: RawOptions = {},
  ) {}

  private async run<T extends { status: number }>(
    proc: number,
    label: string,
    encode: ArgsEncoder | undefined,
    decode: (r: XdrReader, rep: RpcReply) => T,
    sizeHint = 256,
    /** The result keeps views of the record and releases it itself. */
    pooled = false,
  ): Promise<T> {
    for (let pause = 1; ; pause++) {
      const rep = await this.caller(proc, encode, sizeHint, label);
      let res: T;
      try {
        res = decode(rep.reader, rep);
      } catch (err) {
        if (pooled) rep.release?.();
        throw err;
      }
      // Results of other decoders may hold views of the record (READ data, verifiers): their buffer is
      // never recycled, only garbage-collected. A pooled-aware result gives it back itself.
      if (pooled && res.status !== 0) rep.release?.();
      if (res.status !== Nfs3Stat.JUKEBOX || !this.opts.retryJukebox) return res;
      if (this.opts.jukeboxTries !== undefined && pause >= this.opts.jukeboxTries) return res;
      // The server is fetching the file from slow storage: wait, as the Linux client does (NFS_JUKEBOX_RETRY_TIME 5 s), a little less at first.
      await new Promise((r) => setTimeout(r, Math.min(500 * pause, 5000)));
    }
  }

  null(): Promise<void> {
    return this.caller(Nfs3Proc.NULL, undefined, 0, 'null').then(() => undefined);
  }

  getattr(fh: Buffer): Promise<GetattrRes> {
    return this.run(Nfs3Proc.GETATTR, 'getattr', (w) => encodeGetattrArgs(w, { object: fh }), decodeGetattrRes);
  }

  setattr(fh: Buffer, attrs: Sattr3, guard?: Nfstime3): Promise<SetattrRes> {
    return this.run(Nfs3Proc.SETATTR, 'setattr', (w) => encodeSetattrArgs(w, guard ? { object: fh, attrs, guard } : { object: fh, attrs }), decodeSetattrRes);
  }

  lookup(dir: Buffer, name: string): Promise<LookupRes> {
    return this.run(Nfs3Proc.LOOKUP, 'lookup', (w) => encodeLookupArgs(w, { what: { dir, name } }), decodeLookupRes);
  }

  access(fh: Buffer, access: number): Promise<AccessRes> {
    return this.run(Nfs3Proc.ACCESS, 'access', (w) => encodeAccessArgs(w, { object: fh, access }), decodeAccessRes);
  }

  readlink(fh: Buffer): Promise<ReadlinkRes> {
    return this.run(Nfs3Proc.READLINK, 'readlink', (w) => encodeReadlinkArgs(w, { symlink: fh }), decodeReadlinkRes);
  }

  /** READ: `data` is a view of the reply record. */
  read(fh: Buffer, offset: number | bigint, count: number): Promise<ReadRes> {
    return this.run(Nfs3Proc.READ, 'read', (w) => encodeReadArgs(w, { file: fh, offset: big(offset), count }), (r) => decodeReadRes(r, count));
  }

  /** READ whose data stays in the (pooled) reply buffer: the client's data path. Call `release` when done with `data`. */
  readChunks(fh: Buffer, offset: number | bigint, count: number): Promise<ReadChunksRes> {
    return this.run(
      Nfs3Proc.READ,
      'read',
      (w) => encodeReadArgs(w, { file: fh, offset: big(offset), count }),
      (r, rep): ReadChunksRes => {
        const res = decodeReadRes(r, count);
        if (res.status !== 0) return res;
        return { status: 0, attrs: res.attrs, count: res.count, eof: res.eof, data: res.data, release: rep.release ?? NOOP };
      },
      256,
      true,
    );
  }

  write(fh: Buffer, offset: number | bigint, data: Buffer, stable: StableHow3Value): Promise<WriteRes> {
    return this.run(
      Nfs3Proc.WRITE,
      'write',
      (w) => encodeWriteArgs(w, { file: fh, offset: big(offset), count: data.length, stable, data }),
      decodeWriteRes,
      data.length + fh.length + 64,
    );
  }

  /**
   * WRITE whose data goes on the wire as it is, not copied into the message: the caller lends `data`
   * and must leave it untouched until the call settles — and after a rejection, for good (the socket
   * may still be sending it). A resolved call gives it back (RpcTransport.call).
   */
  writeLent(fh: Buffer, offset: number | bigint, data: Buffer, stable: StableHow3Value): Promise<WriteRes> {
    return this.run(
      Nfs3Proc.WRITE,
      'write',
      (w) => {
        encodeWriteArgsHead(w, { file: fh, offset: big(offset), count: data.length, stable }, data.length);
        const pad = xdrPadding(data.length);
        return pad.length ? [data, pad] : [data];
      },
      decodeWriteRes,
      fh.length + 64,
    );
  }

  create(dir: Buffer, name: string, how: CreateHow3): Promise<CreateRes> {
    return this.run(Nfs3Proc.CREATE, 'create', (w) => encodeCreateArgs(w, { where: { dir, name }, how }), decodeDirCreateRes);
  }

  mkdir(dir: Buffer, name: string, attrs: Sattr3 = {}): Promise<MkdirRes> {
    return this.run(Nfs3Proc.MKDIR, 'mkdir', (w) => encodeMkdirArgs(w, { where: { dir, name }, attrs }), decodeDirCreateRes);
  }

  symlink(dir: Buffer, name: string, target: string | Buffer, attrs: Sattr3 = {}): Promise<SymlinkRes> {
    const t = typeof target === 'string' ? Buffer.from(target) : target;
    return this.run(Nfs3Proc.SYMLINK, 'symlink', (w) => encodeSymlinkArgs(w, { where: { dir, name }, attrs, target: t }), decodeDirCreateRes);
  }

  mknod(dir: Buffer, name: string, what: MknodData): Promise<MknodRes> {
    return this.run(Nfs3Proc.MKNOD, 'mknod', (w) => encodeMknodArgs(w, { where: { dir, name }, what }), decodeDirCreateRes);
  }

  remove(dir: Buffer, name: string): Promise<RemoveRes> {
    return this.run(Nfs3Proc.REMOVE, 'remove', (w) => encodeRemoveArgs(w, { object: { dir, name } }), decodeRemoveRes);
  }

  rmdir(dir: Buffer, name: string): Promise<RmdirRes> {
    return this.run(Nfs3Proc.RMDIR, 'rmdir', (w) => encodeRmdirArgs(w, { object: { dir, name } }), decodeRmdirRes);
  }

  rename(fromDir: Buffer, fromName: string, toDir: Buffer, toName: string): Promise<RenameRes> {
    return this.run(Nfs3Proc.RENAME, 'rename', (w) => encodeRenameArgs(w, { from: { dir: fromDir, name: fromName }, to: { dir: toDir, name: toName } }), decodeRenameRes);
  }

  link(fh: Buffer, dir: Buffer, name: string): Promise<LinkRes> {
    return this.run(Nfs3Proc.LINK, 'link', (w) => encodeLinkArgs(w, { file: fh, link: { dir, name } }), decodeLinkRes);
  }

  readdir(fh: Buffer, cookie: number | bigint = 0n, cookieverf: Buffer = ZERO_VERF, count = 32768): Promise<ReaddirRes> {
    return this.run(Nfs3Proc.READDIR, 'readdir', (w) => encodeReaddirArgs(w, { dir: fh, cookie: big(cookie), cookieverf, count }), decodeReaddirRes);
  }

  readdirplus(fh: Buffer, cookie: number | bigint = 0n, cookieverf: Buffer = ZERO_VERF, dircount = 32768, maxcount = 131072): Promise<ReaddirplusRes> {
    return this.run(
      Nfs3Proc.READDIRPLUS,
      'readdirplus',
      (w) => encodeReaddirplusArgs(w, { dir: fh, cookie: big(cookie), cookieverf, dircount, maxcount }),
      decodeReaddirplusRes,
    );
  }

  fsstat(fh: Buffer): Promise<FsstatRes> {
    return this.run(Nfs3Proc.FSSTAT, 'fsstat', (w) => encodeFsstatArgs(w, { fsroot: fh }), decodeFsstatRes);
  }

  fsinfo(fh: Buffer): Promise<FsinfoRes> {
    return this.run(Nfs3Proc.FSINFO, 'fsinfo', (w) => encodeFsinfoArgs(w, { fsroot: fh }), decodeFsinfoRes);
  }

  pathconf(fh: Buffer): Promise<PathconfRes> {
    return this.run(Nfs3Proc.PATHCONF, 'pathconf', (w) => encodePathconfArgs(w, { object: fh }), decodePathconfRes);
  }

  commit(fh: Buffer, offset: number | bigint = 0n, count = 0): Promise<CommitRes> {
    return this.run(Nfs3Proc.COMMIT, 'commit', (w) => encodeCommitArgs(w, { file: fh, offset: big(offset), count }), decodeCommitRes);
  }
}

/** MOUNT v3 procedures, decoded. */
export class MountRaw {
  constructor(private readonly caller: Caller) {}

  async null(): Promise<void> {
    await this.caller(MountProc.NULL, undefined, 0, 'mount.null');
  }

  async mnt(path: string): Promise<MntRes> {
    const rep = await this.caller(MountProc.MNT, (w) => encodeDirpath(w, path), path.length + 8, 'mount');
    return decodeMntRes(rep.reader);
  }

  async dump(): Promise<MountEntry[]> {
    const rep = await this.caller(MountProc.DUMP, undefined, 0, 'mount.dump');
    return decodeMountList(rep.reader);
  }

  async umnt(path: string): Promise<void> {
    await this.caller(MountProc.UMNT, (w) => encodeDirpath(w, path), path.length + 8, 'umount');
  }

  async umntall(): Promise<void> {
    await this.caller(MountProc.UMNTALL, undefined, 0, 'umountall');
  }

  async export(): Promise<ExportNode[]> {
    const rep = await this.caller(MountProc.EXPORT, undefined, 0, 'mount.export');
    return decodeExports(rep.reader);
  }
}

export { NFS3_PROGRAM, NFS3_VERSION, MOUNT_PROGRAM, MOUNT_V3 };
