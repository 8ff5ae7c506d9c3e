/**
 * NfsClient: an NFSv3 export used the way `fs.promises` uses a local
 * directory. Paths are export paths: '/a/b' is relative to the export root,
 * 'a/b' to the path the client was connected with (the part of the URL
 * inside the export). Path walks happen on the client, one LOOKUP per
 * component, following symlinks the way the kernel does ('..' is resolved
 * against the directories actually walked and stops at the export root;
 * absolute symlink targets are taken relative to the export root).
 *
 * No attribute or name caching: every call asks the server, so what you see
 * is what the server has now (correctness first).
 */
import { constants as C } from 'node:fs';
import { Access3, CreateMode3, Ftype3, NFS3_MAXNAMLEN, Nfs3Stat, StableHow3 } from '../nfs3/constants.js';
import type { Fattr3, FsinfoRes, Sattr3 } from '../nfs3/types.js';
import type { ExportNode } from '../mount/types.js';
import { NfsError, nfsError } from './errors.js';
import { FileHandle, type FileHandleHost } from './filehandle.js';
import { Dir, type DirOptions } from './dir.js';
import { ReadStream, WriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
import { Dirent, NFS_SUPER_MAGIC, Stats, type StatFs } from './stats.js';
import type { ClientCounters } from './io.js';
import { ClientBuffers } from './buffers.js';
import type { MountRaw } from './raw.js';
import type { NfsProcs } from './procs.js';
import type { Nfs4Driver } from './v4/client4.js';
import type { RpcTransport, TransportStats } from './transport.js';
import { components, joinPath, mapLimit, parseMode, parseOpenFlags, toSattrTimes, type TimeLike } from './util.js';
import type { NfsVersion, ResolvedOptions } from './options.js';
import type { LocalioClient } from '../localio/client.js';

type Fsinfo = Extract<FsinfoRes, { status: 0 }>;

export interface Resolved {
  /** NFS file handle. */
  handle: Buffer;
  /** Attributes, when the server sent them with the LOOKUP (or GETATTR). */
  attrs: Fattr3;
  /** The canonical export path walked (symlinks resolved as far as followed). */
  path: string;
}

export interface ClientInternals {
  version: NfsVersion;
  /** NFSv4: opens, server-side copy, the session. */
  v4?: Nfs4Driver;
  opts: ResolvedOptions;
  host: string;
  nfsPort: number;
  mountPort: number;
  exportPath: string;
  cwd: string;
  root: Buffer;
  fsinfo: Fsinfo;
  nfs: NfsProcs;
  raw: NfsProcs;
  mount: MountRaw;
  transports: RpcTransport[];
  listExports: () => Promise<ExportNode[]>;
  umount: () => Promise<void>;
  localio: LocalioClient;
}

export interface MkdirOptions {
  recursive?: boolean;
  mode?: number | string;
}

export interface RmOptions {
  recursive?: boolean;
  force?: boolean;
}

export interface ReaddirOptions {
  withFileTypes?: boolean;
  recursive?: boolean;
  encoding?: BufferEncoding | null;
}

export interface WriteFileOptions {
  encoding?: BufferEncoding;
  mode?: number | string;
  flag?: string | number;
}

type Data = string | ArrayBufferView | Iterable<string | ArrayBufferView> | AsyncIterable<string | ArrayBufferView>;

export class NfsClient implements FileHandleHost {
  /** The protocol this client speaks: 3, 4.1 or 4.2 (what connect() was asked for, or negotiated). */
  readonly version: NfsVersion;
  /** Export path on the server (what MOUNT mounted; on v4 where the path entered the export's file system). */
  readonly exportPath: string;
  /** Server host and ports in use. */
  readonly host: string;
  readonly nfsPort: number;
  readonly mountPort: number;
  /** Path inside the export that relative paths resolve against (from the URL). */
  readonly cwd: string;
  /** The export's root file handle. */
  readonly rootHandle: Buffer;
  /** FSINFO of the export. */
  readonly fsinfo: Fsinfo;
  /**
   * Per-procedure access: one call, decoded result (failure arms returned, not thrown). NFSv3's
   * procedures; on v4 each is one COMPOUND answering in the same shapes (procs.ts).
   */
  readonly raw: NfsProcs;
  /** MOUNT v3 procedures, decoded. */
  readonly mount: MountRaw;
  /** Largest READ / WRITE this client sends (min of blockSize and the server's rtmax / wtmax). */
  readonly rsize: number;
  readonly wsize: number;
  readonly maxUncommitted: number;
  /** @internal the jukebox-retrying procedures the fs layer uses. */
  readonly nfs: NfsProcs;
  /** @internal NFSv4 only. */
  readonly v4?: Nfs4Driver;
  /** LOCALIO: state, counters, and the local data path the fs layer (IoCore) uses when the server is on this host. */
  readonly localio: LocalioClient;
  readonly counters: ClientCounters = { commits: 0, verifierMismatches: 0, resentBytes: 0, bytesRead: 0, bytesWritten: 0 };
  /** @internal recycled data buffers: UNSTABLE writes' copies kept until COMMIT (local and wire), pieces read locally (IoCore). */
  readonly buffers: ClientBuffers;
  private readonly opts: ResolvedOptions;
  private readonly transports: RpcTransport[];
  private readonly handles = new Set<FileHandle>();
  private readonly listExportsImpl: () => Promise<ExportNode[]>;
  private readonly umountImpl: () => Promise<void>;
  private closing?: Promise<void>;

  /** @internal — use connect(). */
  constructor(i: ClientInternals) {
    this.version = i.version;
    this.v4 = i.v4;
    this.opts = i.opts;
    this.host = i.host;
    this.nfsPort = i.nfsPort;
    this.mountPort = i.mountPort;
    this.exportPath = i.exportPath;
    this.cwd = i.cwd;
    this.rootHandle = i.root;
    this.fsinfo = i.fsinfo;
    this.nfs = i.nfs;
    this.localio = i.localio;
    this.raw = i.raw;
    this.mount = i.mount;
    this.transports = i.transports;
    this.listExportsImpl = i.listExports;
    this.umountImpl = i.umount;
    const align = (n: number) => (n >= 8192 ? n - (n % 4096) : n);
    this.rsize = align(Math.max(512, Math.min(i.opts.blockSize, i.fsinfo.rtmax || i.opts.blockSize)));
    this.wsize = align(Math.max(512, Math.min(i.opts.blockSize, i.fsinfo.wtmax || i.opts.blockSize)));
    this.maxUncommitted = i.opts.maxUncommitted;
    // Enough to recycle every copy the uncommitted set may hold, plus the WRITEs in flight beside it.
    this.buffers = new ClientBuffers(this.maxUncommitted + i.opts.maxInFlight * this.wsize);
  }

  /** Transport counters (calls, retransmits, timeouts, reconnects) and data-path counters. */
  stats(): { transports: TransportStats[]; io: ClientCounters; openFiles: number } {
    return { transports: this.transports.map((t) => ({ ...t.stats })), io: { ...this.counters }, openFiles: this.handles.size };
  }

  /** @internal */
  handleClosed(h: FileHandle): void {
    this.handles.delete(h);
  }

  private live(syscall: string): void {
    if (this.closing) throw new NfsError('ECONNABORTED', { syscall, description: 'the NFS client is closed' });
  }

  // ---------------------------------------------------------------- paths

  /** Absolute export path of `p` ('/...' as given, else joined to cwd). */
  resolvePath(p: string): string {
    const s = String(p);
    const abs = joinPath(this.cwd, s);
    return '/' + components(abs).join('/');
  }

  private async attrsOf(fh: Buffer, syscall: string, path?: string): Promise<Fattr3> {
    const r = await this.nfs.getattr(fh);
    if (r.status !== 0) throw nfsError(r.status, syscall, path);
    return r.attrs;
  }

  /**
   * Walk `p` from the export root. Intermediate symlinks are always followed,
   * the last one only when `follow`. Throws NfsError labelled (syscall, p).
   */
  async walk(p: string, follow: boolean, syscall = 'stat'): Promise<Resolved> {
    if (typeof p !== 'string' || p === '') throw new NfsError('ENOENT', { syscall, path: String(p) });
    const queue = components(joinPath(this.cwd, p));
    const stack: Array<{ name: string; fh: Buffer; attrs: Fattr3 }> = [];
    let links = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '..') {
        stack.pop();
        continue;
      }
      if (Buffer.byteLength(c) > NFS3_MAXNAMLEN) throw new NfsError('ENAMETOOLONG', { syscall, path: p });
      const dir = stack.length > 0 ? stack[stack.length - 1].fh : this.rootHandle;
      const r = await this.nfs.lookup(dir, c);
      if (r.status !== 0) throw nfsError(r.status, syscall, p);
      const attrs = r.objAttrs ?? (await this.attrsOf(r.object, syscall, p));
      if (attrs.type === Ftype3.LNK && (queue.length > 0 || follow)) {
        if (++links > 40) throw new NfsError('ELOOP', { syscall, path: p });
        const rl = await this.nfs.readlink(r.object);
        if (rl.status !== 0) throw nfsError(rl.status, syscall, p);
        if (rl.data.startsWith('/')) stack.length = 0;
        queue.unshift(...components(rl.data));
        continue;
      }
      stack.push({ name: c, fh: r.object, attrs });
    }
    const path = '/' + stack.map((s) => s.name).join('/');
    if (stack.length === 0) return { handle: this.rootHandle, attrs: await this.attrsOf(this.rootHandle, syscall, p), path };
    const top = stack[stack.length - 1];
    return { handle: top.fh, attrs: top.attrs, path };
  }

  /** The umask applied to created files and directories. */
  get umask(): number {
    return this.opts.umask;
  }

  /** @internal The directory that holds `p`'s last component, and that component. */
  async parentOf(p: string, syscall: string, dest?: string): Promise<{ dir: Buffer; name: string; dirPath: string }> {
    if (typeof p !== 'string' || p === '') throw new NfsError('ENOENT', { syscall, path: String(p), dest });
    const comps = components(joinPath(this.cwd, p));
    const name = comps.pop();
    if (name === undefined) throw new NfsError(syscall === 'mkdir' ? 'EEXIST' : syscall === 'rmdir' ? 'EBUSY' : 'EINVAL', { syscall, path: p, dest });
    if (name === '..') throw new NfsError(syscall === 'mkdir' ? 'EEXIST' : 'EINVAL', { syscall, path: p, dest });
    // Linux's NAME_MAX, checked before anything is sent (a server may answer GARBAGE_ARGS for a longer name)
    if (Buffer.byteLength(name) > NFS3_MAXNAMLEN) throw new NfsError('ENAMETOOLONG', { syscall, path: p, dest });
    const dirPath = '/' + comps.join('/');
    let d: Resolved;
    try {
      d = await this.walk(dirPath, true, syscall);
    } catch (e) {
      throw e instanceof NfsError ? e.withContext(syscall, p, dest) : e;
    }
    if (d.attrs.type !== Ftype3.DIR) throw new NfsError('ENOTDIR', { syscall, path: p, dest });
    return { dir: d.handle, name, dirPath: d.path };
  }

  // ---------------------------------------------------------------- files

  /** fs.promises.open. Flags as fs ('r', 'r+', 'w', 'wx', 'a', ... or O_* numbers). */
  async open(p: string, flags: string | number = 'r', mode: number | string = 0o666): Promise<FileHandle> {
    this.live('open');
    const f = parseOpenFlags(flags);
    if (this.v4) {
      const h = await this.v4.open(this, p, f, mode);
      this.handles.add(h);
      return h;
    }
    let fh: Buffer | undefined;
    let attrs: Fattr3 | undefined;
    let created = false;
    if (f.create) {
      const { dir, name } = await this.parentOf(p, 'open');
      for (let tries = 0; !fh; tries++) {
        const l = await this.nfs.lookup(dir, name);
        if (l.status === 0) {
          if (f.excl) throw new NfsError('EEXIST', { syscall: 'open', path: p });
          const a = l.objAttrs ?? (await this.attrsOf(l.object, 'open', p));
          if (a.type === Ftype3.LNK && !f.nofollow) {
            const r = await this.walk(p, true, 'open');
            fh = r.handle;
            attrs = r.attrs;
          } else {
            fh = l.object;
            attrs = a;
          }
          break;
        }
        if (l.status !== Nfs3Stat.NOENT) throw nfsError(l.status, 'open', p);
        const m = parseMode(mode, 0o666) & ~this.opts.umask & 0o7777;
        const c = await this.nfs.create(dir, name, { mode: CreateMode3.GUARDED, attrs: { mode: m } });
        if (c.status === Nfs3Stat.EXIST && !f.excl && tries < 3) continue; // created meanwhile: open it
        if (c.status !== 0) throw nfsError(c.status, 'open', p);
        created = true;
        if (c.obj) {
          fh = c.obj;
          attrs = c.objAttrs;
        } else {
          const again = await this.nfs.lookup(dir, name);
          if (again.status !== 0) throw nfsError(again.status, 'open', p);
          fh = again.object;
          attrs = again.objAttrs;
        }
      }
    } else {
      const r = await this.walk(p, !f.nofollow, 'open');
      fh = r.handle;
      attrs = r.attrs;
    }
    attrs ??= await this.attrsOf(fh, 'open', p);
    if (attrs.type === Ftype3.LNK) throw new NfsError('ELOOP', { syscall: 'open', path: p });
    if (attrs.type === Ftype3.DIR && f.write) throw new NfsError('EISDIR', { syscall: 'open', path: p });
    if (f.directory && attrs.type !== Ftype3.DIR) throw new NfsError('ENOTDIR', { syscall: 'open', path: p });
    if (!created) {
      let want = 0;
      if (f.read) want |= Access3.READ;
      if (f.write) want |= attrs.type === Ftype3.DIR ? Access3.MODIFY : Access3.MODIFY | Access3.EXTEND;
      if (want) {
        const a = await this.nfs.access(fh, want);
        if (a.status !== 0) throw nfsError(a.status, 'open', p);
        // EXTEND alone may be missing on servers that fold it into MODIFY
        const need = f.write ? (want & ~Access3.EXTEND) | 0 : want;
        if ((a.access & need) !== need) throw new NfsError('EACCES', { syscall: 'open', path: p });
      }
      if (f.trunc && f.write && attrs.type === Ftype3.REG && attrs.size !== 0n) {
        const s = await this.nfs.setattr(fh, { size: 0n });
        if (s.status !== 0) throw nfsError(s.status, 'open', p);
        attrs = s.wcc.after ?? { ...attrs, size: 0n };
      }
    }
    const stable = f.sync ? StableHow3.FILE_SYNC : f.dsync ? StableHow3.DATA_SYNC : StableHow3.UNSTABLE;
    const h = new FileHandle(this, fh, p, { read: f.read, write: f.write, append: f.append, stable }, attrs);
    this.handles.add(h);
    return h;
  }

  async readFile(p: string | FileHandle, options?: { encoding?: BufferEncoding | null; flag?: string | number } | BufferEncoding | null): Promise<Buffer | string>;
  async readFile(p: string | FileHandle, options: { encoding: BufferEncoding } | BufferEncoding): Promise<string>;
  async readFile(p: string | FileHandle, options?: { encoding?: BufferEncoding | null; flag?: string | number } | BufferEncoding | null): Promise<Buffer | string> {
    if (p instanceof FileHandle) return p.readFile(options);
    const flag = typeof options === 'object' && options ? options.flag : undefined;
    const h = await this.open(p, flag ?? 'r');
    try {
      return await h.readFile(options);
    } catch (e) {
      throw e instanceof NfsError && e.code === 'EISDIR' ? e.withContext('read', undefined) : e;
    } finally {
      await h.close().catch(() => undefined);
    }
  }

  async writeFile(p: string | FileHandle, data: Data, options?: WriteFileOptions | BufferEncoding): Promise<void> {
    if (p instanceof FileHandle) return p.writeFile(data, options);
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    const h = await this.open(p, o.flag ?? 'w', o.mode ?? 0o666);
    let err: unknown;
    try {
      await h.writeFile(data, o.encoding);
    } catch (e) {
      err = e;
    }
    // close commits: a failed COMMIT is an error of writeFile
    try {
      await h.close();
    } catch (e) {
      err ??= e;
    }
    if (err) throw err;
  }

  async appendFile(p: string | FileHandle, data: string | ArrayBufferView, options?: WriteFileOptions | BufferEncoding): Promise<void> {
    if (p instanceof FileHandle) return p.appendFile(data, options);
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    return this.writeFile(p, data, { ...o, flag: o.flag ?? 'a' });
  }

  async truncate(p: string, len = 0): Promise<void> {
    this.live('open');
    const r = await this.walk(p, true, 'open');
    if (r.attrs.type === Ftype3.DIR) throw new NfsError('EISDIR', { syscall: 'open', path: p });
    const s = await this.nfs.setattr(r.handle, { size: BigInt(Math.max(0, len)) });
    if (s.status !== 0) throw nfsError(s.status, 'ftruncate', p);
  }

  /**
   * Copy a file within the export. NFSv4.2: the server copies (COPY; CLONE first with
   * COPYFILE_FICLONE, only CLONE with COPYFILE_FICLONE_FORCE, else ENOTSUP). Otherwise — NFSv3 has
   * no server-side copy, and a 4.2 server may decline — READs and WRITEs in parallel.
   */
  async copyFile(src: string, dest: string, mode = 0): Promise<void> {
    const s = await this.open(src, 'r');
    try {
      const d = await this.open(dest, mode & C.COPYFILE_EXCL ? 'wx' : 'w');
      let err: unknown;
      try {
        const clone = mode & C.COPYFILE_FICLONE_FORCE ? 'force' : mode & C.COPYFILE_FICLONE ? 'try' : 'no';
        const offloaded = this.v4 ? await this.v4.copy(s, d, (await s.stat()).size, clone) : false;
        if (!offloaded && clone === 'force') throw new NfsError('ENOTSUP', { syscall: 'copyfile', path: src, dest, description: 'the server cannot clone (COPYFILE_FICLONE_FORCE)' });
        if (!offloaded) await d.writeFile(s.createReadStream({ autoClose: false }));
      } catch (e) {
        err = e;
      }
      try {
        await d.close();
      } catch (e) {
        err ??= e;
      }
      if (err) throw err;
    } finally {
      await s.close().catch(() => undefined);
    }
  }

  /** fs.createReadStream: opens `p` lazily, reads it with READs in flight ahead (LOCALIO when local), closes it at the end (streams.ts). */
  createReadStream(p: string, options?: ReadStreamOptions | BufferEncoding): ReadStream {
    return new ReadStream(this, p, options);
  }

  /** fs.createWriteStream: opens `p` lazily ('w'), WRITEs behind the writer, COMMITs before 'finish' (streams.ts). */
  createWriteStream(p: string, options?: WriteStreamOptions | BufferEncoding): WriteStream {
    return new WriteStream(this, p, options);
  }

  // ---------------------------------------------------------------- directories

  async opendir(p: string, options: DirOptions = {}): Promise<Dir> {
    this.live('opendir');
    const r = await this.walk(p, true, 'opendir');
    if (r.attrs.type !== Ftype3.DIR) throw new NfsError('ENOTDIR', { syscall: 'opendir', path: p });
    return new Dir(this.nfs, r.handle, p, options);
  }

  async readdir(p: string, options: ReaddirOptions & { withFileTypes: true }): Promise<Dirent[]>;
  async readdir(p: string, options?: ReaddirOptions | BufferEncoding): Promise<string[]>;
  async readdir(p: string, options?: ReaddirOptions | BufferEncoding): Promise<string[] | Dirent[]> {
    this.live('scandir');
    const o = typeof options === 'string' ? {} : (options ?? {});
    let r: Resolved;
    try {
      r = await this.walk(p, true, 'scandir');
    } catch (e) {
      throw e instanceof NfsError ? e.withContext('scandir', p) : e;
    }
    if (r.attrs.type !== Ftype3.DIR) throw new NfsError('ENOTDIR', { syscall: 'scandir', path: p });
    const out: Dirent[] = [];
    const visit = async (fh: Buffer, dirPath: string, prefix: string): Promise<void> => {
      const dir = new Dir(this.nfs, fh, dirPath, { types: !!(o.withFileTypes || o.recursive) });
      const subdirs: Array<{ fh: Buffer; path: string; prefix: string }> = [];
      for (let page; (page = await dir.readPage()) !== null; ) {
        for (const d of page) {
          if (o.recursive && !o.withFileTypes && prefix) d.name = prefix + d.name;
          out.push(d);
          if (o.recursive && d.isDirectory()) {
            const name = o.recursive && !o.withFileTypes && prefix ? d.name.slice(prefix.length) : d.name;
            let h = d.nfs.handle;
            if (!h) {
              const l = await this.nfs.lookup(fh, name);
              if (l.status !== 0) continue;
              h = l.object;
            }
            subdirs.push({ fh: h, path: `${dirPath.replace(/\/+$/, '')}/${name}`, prefix: `${prefix}${name}/` });
          }
        }
      }
      for (const s of subdirs) await visit(s.fh, s.path, s.prefix);
    };
    await visit(r.handle, p, '');
    if (o.withFileTypes) return out;
    return out.map((d) => d.name);
  }

  /** Returns the first directory created (its absolute export path) when `recursive`, as fs does; else undefined. */
  async mkdir(p: string, options?: MkdirOptions | number | string): Promise<string | undefined> {
    this.live('mkdir');
    const o: MkdirOptions = typeof options === 'object' ? options : { mode: options };
    const mode = parseMode(o.mode, 0o777) & ~this.opts.umask & 0o7777;
    if (!o.recursive) {
      const { dir, name } = await this.parentOf(p, 'mkdir');
      const r = await this.nfs.mkdir(dir, name, { mode });
      if (r.status !== 0) throw nfsError(r.status, 'mkdir', p);
      return undefined;
    }
    // recursive: walk down, creating what is missing
    const abs = joinPath(this.cwd, p);
    const comps = components(abs);
    let cur = this.rootHandle;
    let first: string | undefined;
    const done: string[] = [];
    for (let i = 0; i < comps.length; i++) {
      const c = comps[i];
      const sofar = '/' + [...done, c].join('/');
      if (c === '..') {
        const r = await this.walk('/' + [...done, c].join('/'), true, 'mkdir');
        cur = r.handle;
        done.push(c);
        continue;
      }
      if (Buffer.byteLength(c) > NFS3_MAXNAMLEN) throw new NfsError('ENAMETOOLONG', { syscall: 'mkdir', path: p });
      let l = await this.nfs.lookup(cur, c);
      if (l.status === Nfs3Stat.NOENT) {
        const m = await this.nfs.mkdir(cur, c, { mode });
        if (m.status === 0) {
          first ??= sofar;
          cur = m.obj ?? (await this.lookupOrThrow(cur, c, 'mkdir', p));
          done.push(c);
          continue;
        }
        if (m.status !== Nfs3Stat.EXIST) throw nfsError(m.status, 'mkdir', p);
        l = await this.nfs.lookup(cur, c);
      }
      if (l.status !== 0) throw nfsError(l.status, 'mkdir', p);
      let a = l.objAttrs ?? (await this.attrsOf(l.object, 'mkdir', p));
      let fh = l.object;
      if (a.type === Ftype3.LNK) {
        const r = await this.walk(sofar, true, 'mkdir');
        a = r.attrs;
        fh = r.handle;
      }
      if (a.type !== Ftype3.DIR) throw new NfsError(i === comps.length - 1 ? 'EEXIST' : 'ENOTDIR', { syscall: 'mkdir', path: p });
      cur = fh;
      done.push(c);
    }
    return first;
  }

  private async lookupOrThrow(dir: Buffer, name: string, syscall: string, p: string): Promise<Buffer> {
    const l = await this.nfs.lookup(dir, name);
    if (l.status !== 0) throw nfsError(l.status, syscall, p);
    return l.object;
  }

  async rmdir(p: string, options?: { recursive?: boolean }): Promise<void> {
    this.live('rmdir');
    if (options?.recursive) return this.rm(p, { recursive: true });
    const { dir, name } = await this.parentOf(p, 'rmdir');
    const r = await this.nfs.rmdir(dir, name);
    if (r.status !== 0) throw nfsError(r.status, 'rmdir', p);
  }

  /** fs.promises.rm: files, and directories with `recursive`; `force` ignores a missing path. */
  async rm(p: string, options: RmOptions = {}): Promise<void> {
    this.live('rm');
    let parent: { dir: Buffer; name: string };
    let l;
    try {
      parent = await this.parentOf(p, 'rm');
      l = await this.nfs.lookup(parent.dir, parent.name);
      if (l.status !== 0) throw nfsError(l.status, 'rm', p);
    } catch (e) {
      if (options.force && e instanceof NfsError && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return;
      throw e;
    }
    const attrs = l.objAttrs ?? (await this.attrsOf(l.object, 'rm', p));
    if (attrs.type === Ftype3.DIR) {
      if (!options.recursive) {
        throw Object.assign(new NfsError('EISDIR', { syscall: 'rm', path: p, description: 'Path is a directory' }), { code: 'ERR_FS_EISDIR' });
      }
      await this.removeTree(parent.dir, parent.name, l.object, p);
      return;
    }
    const r = await this.nfs.remove(parent.dir, parent.name);
    if (r.status !== 0 && !(options.force && r.status === Nfs3Stat.NOENT)) throw nfsError(r.status, 'rm', p);
  }

  private async removeTree(parent: Buffer, name: string, fh: Buffer, path: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      // list first, then delete: removing entries while paging by cookie can make a server skip some
      const entries: Dirent[] = [];
      const dir = new Dir(this.nfs, fh, path);
      for (let page; (page = await dir.readPage()) !== null; ) entries.push(...page);
      await mapLimit(entries, 16, async (d) => {
        const child = `${path.replace(/\/+$/, '')}/${d.name}`;
        if (d.isDirectory()) {
          const h = d.nfs.handle ?? (await this.lookupOrThrow(fh, d.name, 'rm', child));
          await this.removeTree(fh, d.name, h, child);
        } else {
          const r = await this.nfs.remove(fh, d.name);
          if (r.status !== 0 && r.status !== Nfs3Stat.NOENT) throw nfsError(r.status, 'rm', child);
        }
      });
      const r = await this.nfs.rmdir(parent, name);
      if (r.status === 0 || r.status === Nfs3Stat.NOENT) return;
      if (r.status === Nfs3Stat.NOTEMPTY && attempt < 5) continue; // something appeared meanwhile
      throw nfsError(r.status, 'rmdir', path);
    }
  }

  async unlink(p: string): Promise<void> {
    this.live('unlink');
    const { dir, name } = await this.parentOf(p, 'unlink');
    const r = await this.nfs.remove(dir, name);
    if (r.status !== 0) throw nfsError(r.status, 'unlink', p);
  }

  async rename(from: string, to: string): Promise<void> {
    this.live('rename');
    const a = await this.parentOf(from, 'rename', to);
    const b = await this.parentOf(to, 'rename', to);
    const r = await this.nfs.rename(a.dir, a.name, b.dir, b.name);
    if (r.status !== 0) throw nfsError(r.status, 'rename', from, to);
  }

  async link(existing: string, newPath: string): Promise<void> {
    this.live('link');
    let src: Resolved;
    try {
      src = await this.walk(existing, false, 'link');
    } catch (e) {
      throw e instanceof NfsError ? e.withContext('link', existing, newPath) : e;
    }
    // link(2): EPERM for a directory (servers answer ISDIR, BADTYPE, ... for it)
    if (src.attrs.type === Ftype3.DIR) throw new NfsError('EPERM', { syscall: 'link', path: existing, dest: newPath });
    const { dir, name } = await this.parentOf(newPath, 'link', newPath);
    const r = await this.nfs.link(src.handle, dir, name);
    if (r.status !== 0) throw nfsError(r.status, 'link', existing, newPath);
  }

  /** symlink(target, path): `path` becomes a symlink holding `target` verbatim. `type` is ignored (Windows only, as in fs). */
  async symlink(target: string, p: string, _type?: string | null): Promise<void> {
    this.live('symlink');
    const { dir, name } = await this.parentOf(p, 'symlink', p);
    const r = await this.nfs.symlink(dir, name, target, {});
    if (r.status !== 0) throw nfsError(r.status, 'symlink', target, p);
  }

  async readlink(p: string): Promise<string> {
    this.live('readlink');
    const r = await this.walk(p, false, 'readlink');
    if (r.attrs.type !== Ftype3.LNK) throw new NfsError('EINVAL', { syscall: 'readlink', path: p });
    const l = await this.nfs.readlink(r.handle);
    if (l.status !== 0) throw nfsError(l.status, 'readlink', p);
    return l.data;
  }

  /** The canonical export path of `p` (symlinks resolved). */
  async realpath(p: string): Promise<string> {
    this.live('realpath');
    return (await this.walk(p, true, 'realpath')).path;
  }

  // ---------------------------------------------------------------- attributes

  async stat(p: string): Promise<Stats> {
    this.live('stat');
    return new Stats((await this.walk(p, true, 'stat')).attrs);
  }

  async lstat(p: string): Promise<Stats> {
    this.live('lstat');
    return new Stats((await this.walk(p, false, 'lstat')).attrs);
  }

  private async setattr(p: string, follow: boolean, syscall: string, attrs: Sattr3): Promise<void> {
    this.live(syscall);
    const r = await this.walk(p, follow, syscall);
    const s = await this.nfs.setattr(r.handle, attrs);
    if (s.status !== 0) throw nfsError(s.status, syscall, p);
  }

  chmod(p: string, mode: number | string): Promise<void> {
    return this.setattr(p, true, 'chmod', { mode: parseMode(mode, 0) & 0o7777 });
  }

  /** -1 leaves the id unchanged. */
  chown(p: string, uid: number, gid: number): Promise<void> {
    return this.setattr(p, true, 'chown', ownerAttrs(uid, gid));
  }

  lchown(p: string, uid: number, gid: number): Promise<void> {
    return this.setattr(p, false, 'lchown', ownerAttrs(uid, gid));
  }

  utimes(p: string, atime: TimeLike, mtime: TimeLike): Promise<void> {
    return this.setattr(p, true, 'utime', toSattrTimes(atime, mtime));
  }

  lutimes(p: string, atime: TimeLike, mtime: TimeLike): Promise<void> {
    return this.setattr(p, false, 'lutime', toSattrTimes(atime, mtime));
  }

  /** fs.promises.access: F_OK by default; R_OK/W_OK/X_OK are asked of the server (ACCESS). */
  async access(p: string, mode: number = C.F_OK): Promise<void> {
    this.live('access');
    const r = await this.walk(p, true, 'access');
    if (mode === C.F_OK) return;
    const dir = r.attrs.type === Ftype3.DIR;
    let want = 0;
    if (mode & C.R_OK) want |= Access3.READ;
    if (mode & C.W_OK) want |= dir ? Access3.MODIFY | Access3.EXTEND | Access3.DELETE : Access3.MODIFY | Access3.EXTEND;
    if (mode & C.X_OK) want |= dir ? Access3.LOOKUP : Access3.EXECUTE;
    const a = await this.nfs.access(r.handle, want);
    if (a.status !== 0) throw nfsError(a.status, 'access', p);
    let need = want;
    // servers may leave EXTEND/DELETE out where MODIFY already says it; Linux checks MODIFY for W_OK too
    if (mode & C.W_OK) need &= ~(Access3.EXTEND | Access3.DELETE);
    if ((a.access & need) !== need) throw new NfsError('EACCES', { syscall: 'access', path: p });
  }

  async statfs(p = '/'): Promise<StatFs> {
    this.live('statfs');
    const r = await this.walk(p, true, 'statfs');
    const s = await this.nfs.fsstat(r.handle);
    if (s.status !== 0) throw nfsError(s.status, 'statfs', p);
    const bsize = 4096;
    const n = (b: bigint) => Number(b / BigInt(bsize));
    return {
      type: NFS_SUPER_MAGIC,
      bsize,
      blocks: n(s.tbytes),
      bfree: n(s.fbytes),
      bavail: n(s.abytes),
      files: Number(s.tfiles),
      ffree: Number(s.ffiles),
    };
  }

  // ---------------------------------------------------------------- server

  /** MOUNT EXPORT: the server's export list. */
  listExports(): Promise<ExportNode[]> {
    this.live('listExports');
    return this.listExportsImpl();
  }

  /**
   * Close every open FileHandle (committing its writes), send UMNT, and
   * release every socket and timer. Rejects with the first commit error,
   * after everything is released.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      const results = await Promise.allSettled([...this.handles].map((h) => h.close()));
      const firstErr = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      await this.localio.close();
      if (this.v4) await this.v4.close().catch(() => undefined);
      else if (this.opts.umount) await this.umountImpl().catch(() => undefined);
      for (const t of this.transports) t.close();
      if (firstErr) throw firstErr.reason;
    })();
    return this.closing;
  }

  /**
   * Drop every connection now: outstanding calls fail with ECONNABORTED,
   * nothing is committed and no UMNT is sent. For when close() would wait on
   * a server that is gone (a hard mount retries until it is back).
   */
  destroy(): void {
    this.closing ??= Promise.resolve();
    this.v4?.abandon();
    void this.localio.close();
    for (const t of this.transports) t.close();
  }
}

function ownerAttrs(uid: number, gid: number): Sattr3 {
  const a: Sattr3 = {};
  if (uid !== -1 && uid !== undefined) a.uid = uid;
  if (gid !== -1 && gid !== undefined) a.gid = gid;
  return a;
}
