/**
 * MemoryBackend: a complete in-memory filesystem with POSIX semantics, for
 * tests and for serving scratch space without touching the disk.
 *
 * - Files are sparse: data lives in BLOCK-sized chunks, holes read as zeros
 *   and cost nothing; `used` counts allocated chunks. Allocation beyond
 *   `capacityBytes` fails with ENOSPC before anything is written.
 * - Timestamps follow POSIX: write → mtime+ctime; chmod/chown/link/rename →
 *   ctime; entry added/removed → directory mtime+ctime. Reads do not touch
 *   atime (like a noatime mount). The clock is strictly increasing, so every
 *   change is visible as a new timestamp.
 * - Keys carry a random per-instance id: keys from another instance (or an
 *   earlier process) are ESTALE, hence persistentKeys = false.
 * - Devices, FIFOs and sockets are plain nodes (no privilege involved).
 * - Readdir cookies come from a per-directory counter: unique, never reused,
 *   and increasing in insertion order, so a Map's order is cookie order.
 */
import { randomBytes } from 'node:crypto';
import { assertName, indexAfter, timestampToNs, nsToTimestamp, MAX_OFFSET, FIRST_COOKIE } from './common.js';
import {
  storageError,
  type Attrs,
  type Backend,
  type CreateOptions,
  type DirPage,
  type DirPlusEntry,
  type DirPlusPage,
  type FileType,
  type FsStats,
  type Node,
  type Owner,
  type ReadResult,
  type SetAttrs,
  type StableHow,
  type WriteResult,
} from './types.js';

import * as v42 from './memory-v42.js';

const BLOCK = v42.BLOCK;

export interface MemoryBackendOptions {
  /** Bytes of file data the filesystem can hold (default 1 GiB). */
  capacityBytes?: number;
  /** Maximum number of objects (default 1,000,000). */
  maxFiles?: number;
}

interface Entry {
  inode: Inode;
  cookie: bigint;
}

interface Inode {
  id: number;
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
  rdev: { major: number; minor: number };
  /** Backend.hold counts: a removed file stays (nlink 0) until the last is let go. */
  holds?: number;
  /** Regular files. */
  size: number;
  chunks?: Map<number, Buffer>;
  /** Directories: entries in cookie order, the parent, the next cookie. */
  entries?: Map<string, Entry>;
  parent?: Inode;
  nextCookie: bigint;
  /** Cached sorted arrays for paging, dropped on change. */
  listing?: { names: string[]; cookies: bigint[] };
  /** Symlinks. */
  target?: string;
  /** Extended attributes, by full name. */
  xattrs?: Map<string, Buffer>;
}

class MemNode implements Node {
  constructor(
    readonly key: Buffer,
    readonly fileid: bigint,
    readonly inode: Inode,
  ) {}
}

/* Key: [0] = 0x4d ('M'), [1..8] instance id, [9..16] inode id. */
const KEY_LEN = 17;

export class MemoryBackend implements Backend {
  readonly kind = 'memory';
  readonly persistentKeys = false;
  readonly localFd = false;

  private readonly instance = randomBytes(8);
  private readonly fsid: bigint;
  private readonly inodes = new Map<number, Inode>();
  private readonly rootInode: Inode;
  private readonly capacity: number;
  private readonly maxFiles: number;
  private usedBytes = 0;
  private nextId = 1;
  private lastNs = 0n;
  private readonly clockBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

  constructor(opts: MemoryBackendOptions = {}) {
    this.capacity = opts.capacityBytes ?? 1 << 30;
    this.maxFiles = opts.maxFiles ?? 1_000_000;
    this.fsid = this.instance.readBigUInt64BE(0) & 0x7fffffffffffffffn;
    this.rootInode = this.alloc('dir', 0o755, { uid: 0, gid: 0 });
    this.rootInode.parent = this.rootInode;
    this.rootInode.nlink = 2;
  }

  // ---- plumbing -------------------------------------------------------------

  /** Realtime ns from a monotonic source, strictly increasing across calls. */
  private now(): bigint {
    let t = this.clockBase + process.hrtime.bigint();
    if (t <= this.lastNs) t = this.lastNs + 1n;
    this.lastNs = t;
    return t;
  }

  private alloc(type: FileType, mode: number, owner: Owner): Inode {
    if (this.inodes.size >= this.maxFiles) throw storageError('ENOSPC', 'no free inodes');
    const t = this.now();
    const ino: Inode = {
      id: this.nextId++,
      type,
      mode: mode & 0o7777,
      uid: owner.uid,
      gid: owner.gid,
      nlink: type === 'dir' ? 2 : 1,
      atime: t,
      mtime: t,
      ctime: t,
      rdev: { major: 0, minor: 0 },
      size: 0,
      nextCookie: FIRST_COOKIE,
    };
    if (type === 'reg') ino.chunks = new Map();
    if (type === 'dir') ino.entries = new Map();
    this.inodes.set(ino.id, ino);
    return ino;
  }

  private free(ino: Inode): void {
    if (ino.chunks !== undefined) {
      this.usedBytes -= ino.chunks.size * BLOCK;
      ino.chunks.clear();
    }
    this.inodes.delete(ino.id);
  }

  private node(ino: Inode): MemNode {
    const key = Buffer.allocUnsafe(KEY_LEN);
    key[0] = 0x4d;
    this.instance.copy(key, 1);
    key.writeBigUInt64BE(BigInt(ino.id), 9);
    return new MemNode(key, BigInt(ino.id), ino);
  }

  /** The live inode behind a node; ESTALE once it has been freed. */
  private live(node: Node): Inode {
    if (!(node instanceof MemNode) || this.inodes.get(node.inode.id) !== node.inode) {
      throw storageError('ESTALE', 'stale node');
    }
    return node.inode;
  }

  private dir(node: Node): Inode {
    const d = this.live(node);
    if (d.type !== 'dir') throw storageError('ENOTDIR', 'not a directory');
    return d;
  }

  private get(d: Inode, name: string): Entry {
    assertName(name);
    const e = d.entries!.get(name);
    if (e === undefined) throw storageError('ENOENT', `no such entry ${JSON.stringify(name)}`);
    return e;
  }

  /** Add a name; marks the directory changed. */
  private addEntry(d: Inode, name: string, ino: Inode, t: bigint): void {
    d.entries!.set(name, { inode: ino, cookie: d.nextCookie++ });
    d.listing = undefined;
    d.mtime = d.ctime = t;
    if (ino.type === 'dir') {
      ino.parent = d;
      d.nlink++;
    }
  }

  private removeEntry(d: Inode, name: string, t: bigint): void {
    const e = d.entries!.get(name)!;
    d.entries!.delete(name);
    d.listing = undefined;
    d.mtime = d.ctime = t;
    if (e.inode.type === 'dir') d.nlink--;
  }

  /** Drop one link to an inode; frees it when none remain. */
  private unlinkInode(ino: Inode, t: bigint): void {
    if (ino.type === 'dir') ino.nlink = 0;
    else ino.nlink--;
    ino.ctime = t;
    if (ino.nlink <= 0 && !ino.holds) this.free(ino);
  }

  private newChild(dir: Node, name: string, type: FileType, mode: number, owner: Owner): Inode {
    const d = this.dir(dir);
    assertName(name);
    if (d.entries!.has(name)) throw storageError('EEXIST', 'file exists');
    // A setgid directory hands its group down (and its setgid bit to subdirectories).
    const sgid = (d.mode & 0o2000) !== 0;
    const ino = this.alloc(type, mode, sgid ? { uid: owner.uid, gid: d.gid } : owner);
    if (sgid && type === 'dir') ino.mode |= 0o2000;
    this.addEntry(d, name, ino, ino.ctime);
    return ino;
  }

  // ---- Backend --------------------------------------------------------------

  async root(): Promise<Node> {
    return this.node(this.rootInode);
  }

  async fromKey(key: Buffer): Promise<Node> {
    if (!Buffer.isBuffer(key) || key.length !== KEY_LEN || key[0] !== 0x4d || !key.subarray(1, 9).equals(this.instance)) {
      throw storageError('ESTALE', 'not a key of this instance');
    }
    const ino = this.inodes.get(Number(key.readBigUInt64BE(9)));
    if (ino === undefined) throw storageError('ESTALE', 'stale key');
    return this.node(ino);
  }

  async hold(node: Node): Promise<() => void> {
    const i = this.live(node);
    if (i.type !== 'reg') throw storageError('EINVAL', 'only regular files are held open');
    i.holds = (i.holds ?? 0) + 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--i.holds! === 0 && i.nlink <= 0 && this.inodes.get(i.id) === i) this.free(i);
    };
  }

  async getattr(node: Node): Promise<Attrs> {
    return this.attrs(this.live(node));
  }

  private attrs(i: Inode): Attrs {
    const size = i.type === 'reg' ? i.size : i.type === 'lnk' ? Buffer.byteLength(i.target!) : i.type === 'dir' ? BLOCK : 0;
    return {
      type: i.type,
      mode: i.mode,
      nlink: i.nlink,
      uid: i.uid,
      gid: i.gid,
      size: BigInt(size),
      used: BigInt(i.type === 'reg' ? i.chunks!.size * BLOCK : i.type === 'dir' ? BLOCK : 0),
      rdev: { ...i.rdev },
      fsid: this.fsid,
      fileid: BigInt(i.id),
      atime: nsToTimestamp(i.atime),
      mtime: nsToTimestamp(i.mtime),
      ctime: nsToTimestamp(i.ctime),
    };
  }

  async setattr(node: Node, set: SetAttrs): Promise<Attrs> {
    const i = this.live(node);
    // Validate everything before changing anything.
    if (set.size !== undefined) {
      if (i.type !== 'reg') throw storageError('EINVAL', 'size can only be set on a regular file');
      if (set.size < 0n || set.size > MAX_OFFSET) throw storageError('EFBIG', 'size out of range');
    }
    const atime = set.atime === undefined || set.atime === 'now' ? set.atime : timestampToNs(set.atime);
    const mtime = set.mtime === undefined || set.mtime === 'now' ? set.mtime : timestampToNs(set.mtime);
    const t = this.now();
    if (set.size !== undefined) this.truncate(i, Number(set.size), t);
    if (set.uid !== undefined || set.gid !== undefined) {
      if (set.uid !== undefined) i.uid = set.uid;
      if (set.gid !== undefined) i.gid = set.gid;
      // Like Linux: chown of a non-directory drops setuid, and setgid if group-executable.
      if (i.type !== 'dir' && i.type !== 'lnk') i.mode &= (i.mode & 0o010) !== 0 ? ~0o6000 : ~0o4000;
      i.ctime = t;
    }
    if (set.mode !== undefined && i.type !== 'lnk') {
      i.mode = set.mode & 0o7777;
      i.ctime = t;
    }
    if (atime !== undefined) i.atime = atime === 'now' ? t : atime;
    if (mtime !== undefined) i.mtime = mtime === 'now' ? t : mtime;
    if (atime !== undefined || mtime !== undefined) i.ctime = t;
    return this.attrs(i);
  }

  async lookup(dir: Node, name: string): Promise<Node> {
    return this.node(this.get(this.dir(dir), name).inode);
  }

  async parent(dir: Node): Promise<Node> {
    return this.node(this.dir(dir).parent!);
  }

  async readlink(node: Node): Promise<string> {
    const i = this.live(node);
    if (i.type !== 'lnk') throw storageError('EINVAL', 'not a symbolic link');
    return i.target!;
  }

  // ---- data -----------------------------------------------------------------

  private file(node: Node): Inode {
    const i = this.live(node);
    if (i.type === 'dir') throw storageError('EISDIR', 'is a directory');
    if (i.type !== 'reg') throw storageError('EINVAL', 'not a regular file');
    return i;
  }

  async read(node: Node, offset: bigint, into: Buffer): Promise<ReadResult> {
    const i = this.file(node);
    if (offset < 0n) throw storageError('EINVAL', 'negative offset');
    if (offset >= BigInt(i.size)) return { bytesRead: 0, eof: true };
    const off = Number(offset);
    const n = Math.min(into.length, i.size - off);
    for (let done = 0; done < n; ) {
      const pos = off + done;
      const idx = Math.floor(pos / BLOCK);
      const within = pos - idx * BLOCK;
      const len = Math.min(BLOCK - within, n - done);
      const chunk = i.chunks!.get(idx);
      if (chunk === undefined) into.fill(0, done, done + len);
      else chunk.copy(into, done, within, within + len);
      done += len;
    }
    return { bytesRead: n, eof: off + n >= i.size };
  }

  async write(node: Node, offset: bigint, data: Buffer, stable: StableHow): Promise<WriteResult> {
    const i = this.file(node);
    if (offset < 0n || offset + BigInt(data.length) > MAX_OFFSET) throw storageError('EFBIG', 'offset out of range');
    const off = Number(offset);
    const end = off + data.length;
    // Reserve space first: a write either happens completely or not at all.
    let fresh = 0;
    for (let idx = Math.floor(off / BLOCK); idx * BLOCK < end; idx++) if (!i.chunks!.has(idx)) fresh++;
    if (this.usedBytes + fresh * BLOCK > this.capacity) throw storageError('ENOSPC', 'no space left on device');
    for (let done = 0; done < data.length; ) {
      const pos = off + done;
      const idx = Math.floor(pos / BLOCK);
      const within = pos - idx * BLOCK;
      const len = Math.min(BLOCK - within, data.length - done);
      let chunk = i.chunks!.get(idx);
      if (chunk === undefined) {
        chunk = Buffer.alloc(BLOCK);
        i.chunks!.set(idx, chunk);
        this.usedBytes += BLOCK;
      }
      data.copy(chunk, within, done, done + len);
      done += len;
    }
    if (end > i.size) i.size = end;
    i.mtime = i.ctime = this.now();
    return { count: data.length, committed: stable };
  }

  private truncate(i: Inode, size: number, t: bigint): void {
    if (size < i.size) {
      const keep = Math.ceil(size / BLOCK);
      for (const idx of [...i.chunks!.keys()]) {
        if (idx >= keep) {
          i.chunks!.delete(idx);
          this.usedBytes -= BLOCK;
        }
      }
      // Zero the tail of the last partial block so a later extension reads zeros.
      const last = i.chunks!.get(Math.floor(size / BLOCK));
      if (last !== undefined && size % BLOCK !== 0) last.fill(0, size % BLOCK);
    }
    i.size = size;
    i.mtime = i.ctime = t;
  }

  async commit(node: Node, _offset: bigint, _count: number): Promise<void> {
    this.file(node); // nothing to flush; still ESTALE/EISDIR like the others
  }

  // ---- NFSv4.2 (memory-v42.ts) --------------------------------------------------

  private readonly space: v42.Space = {
    reserve: (bytes) => {
      if (this.usedBytes + bytes > this.capacity) throw storageError('ENOSPC', 'no space left on device');
      this.usedBytes += bytes;
    },
    release: (bytes) => {
      this.usedBytes -= bytes;
    },
    now: () => this.now(),
  };

  async seek(node: Node, offset: bigint, what: 'data' | 'hole'): Promise<bigint> {
    return v42.seek(this.file(node), offset, what);
  }

  async allocate(node: Node, offset: bigint, length: bigint): Promise<void> {
    v42.allocate(this.file(node), offset, length, this.space);
  }

  async deallocate(node: Node, offset: bigint, length: bigint): Promise<void> {
    v42.deallocate(this.file(node), offset, length, this.space);
  }

  async copyRange(src: Node, srcOffset: bigint, dst: Node, dstOffset: bigint, count: bigint): Promise<bigint> {
    const data = v42.readRange(this.file(src), srcOffset, count);
    if (data.length > 0) await this.write(dst, dstOffset, data, 'unstable');
    return BigInt(data.length);
  }

  async clone(src: Node, srcOffset: bigint, dst: Node, dstOffset: bigint, count: bigint): Promise<void> {
    await this.copyRange(src, srcOffset, dst, dstOffset, count);
  }

  private xattrsOf(node: Node): Map<string, Buffer> {
    const i = this.live(node);
    i.xattrs ??= new Map();
    return i.xattrs;
  }

  async getxattr(node: Node, name: string): Promise<Buffer> {
    const v = this.xattrsOf(node).get(name);
    if (v === undefined) throw storageError('ENODATA', `no ${name}`);
    return Buffer.from(v);
  }

  async setxattr(node: Node, name: string, value: Buffer, how: 'either' | 'create' | 'replace'): Promise<void> {
    v42.setXattr(this.xattrsOf(node), name, value, how);
    this.live(node).ctime = this.now();
  }

  async listxattr(node: Node): Promise<string[]> {
    return [...this.xattrsOf(node).keys()];
  }

  async removexattr(node: Node, name: string): Promise<void> {
    if (!this.xattrsOf(node).delete(name)) throw storageError('ENODATA', `no ${name}`);
    this.live(node).ctime = this.now();
  }

  // ---- creation -------------------------------------------------------------

  async create(dir: Node, name: string, opts: CreateOptions): Promise<Node> {
    const d = this.dir(dir);
    assertName(name);
    const existing = d.entries!.get(name);
    if (existing !== undefined) {
      if (opts.exclusive || existing.inode.type !== 'reg') throw storageError('EEXIST', 'file exists');
      return this.node(existing.inode);
    }
    return this.node(this.newChild(dir, name, 'reg', opts.mode, opts.owner));
  }

  async mkdir(dir: Node, name: string, mode: number, owner: Owner): Promise<Node> {
    return this.node(this.newChild(dir, name, 'dir', mode, owner));
  }

  async symlink(dir: Node, name: string, target: string, _mode: number, owner: Owner): Promise<Node> {
    if (target.includes('\0')) throw storageError('EINVAL', 'NUL in symlink target');
    if (Buffer.byteLength(target) > 4095) throw storageError('ENAMETOOLONG', 'symlink target too long');
    const i = this.newChild(dir, name, 'lnk', 0o777, owner);
    i.target = target;
    return this.node(i);
  }

  async mknod(
    dir: Node,
    name: string,
    type: 'blk' | 'chr' | 'sock' | 'fifo',
    mode: number,
    rdev: { major: number; minor: number },
    owner: Owner,
  ): Promise<Node> {
    const i = this.newChild(dir, name, type, mode, owner);
    if (type === 'blk' || type === 'chr') i.rdev = { major: rdev.major >>> 0, minor: rdev.minor >>> 0 };
    return this.node(i);
  }

  // ---- removal, renaming, links --------------------------------------------

  async remove(dir: Node, name: string): Promise<void> {
    const d = this.dir(dir);
    const e = this.get(d, name);
    if (e.inode.type === 'dir') throw storageError('EISDIR', 'is a directory'); // unlink(2) on Linux
    const t = this.now();
    this.removeEntry(d, name, t);
    this.unlinkInode(e.inode, t);
  }

  async rmdir(dir: Node, name: string): Promise<void> {
    const d = this.dir(dir);
    const e = this.get(d, name);
    if (e.inode.type !== 'dir') throw storageError('ENOTDIR', 'not a directory');
    if (e.inode.entries!.size > 0) throw storageError('ENOTEMPTY', 'directory not empty');
    const t = this.now();
    this.removeEntry(d, name, t);
    this.unlinkInode(e.inode, t);
  }

  async rename(fromDir: Node, fromName: string, toDir: Node, toName: string): Promise<void> {
    const fd = this.dir(fromDir);
    const td = this.dir(toDir);
    const src = this.get(fd, fromName).inode;
    assertName(toName);
    const dst = td.entries!.get(toName)?.inode;
    if (dst === src) return; // same name, or two links to one file: rename(2) does nothing
    if (src.type === 'dir') {
      // Moving a directory below itself would detach a cycle.
      for (let p: Inode = td; ; p = p.parent!) {
        if (p === src) throw storageError('EINVAL', 'cannot move a directory into itself');
        if (p === this.rootInode) break;
      }
    }
    if (dst !== undefined) {
      if (src.type === 'dir' && dst.type !== 'dir') throw storageError('ENOTDIR', 'target is not a directory');
      if (src.type !== 'dir' && dst.type === 'dir') throw storageError('EISDIR', 'target is a directory');
      if (dst.type === 'dir' && dst.entries!.size > 0) throw storageError('ENOTEMPTY', 'directory not empty');
    }
    const t = this.now();
    if (dst !== undefined) {
      this.removeEntry(td, toName, t);
      this.unlinkInode(dst, t);
    }
    this.removeEntry(fd, fromName, t);
    this.addEntry(td, toName, src, t);
    src.ctime = t;
  }

  async link(node: Node, dir: Node, name: string): Promise<void> {
    const i = this.live(node);
    const d = this.dir(dir);
    assertName(name);
    if (i.type === 'dir') throw storageError('EPERM', 'hard link to a directory');
    if (d.entries!.has(name)) throw storageError('EEXIST', 'file exists');
    if (i.nlink >= 65000) throw storageError('EMLINK', 'too many links');
    const t = this.now();
    i.nlink++;
    i.ctime = t;
    this.addEntry(d, name, i, t);
  }

  // ---- listing --------------------------------------------------------------

  private listingOf(d: Inode): { names: string[]; cookies: bigint[] } {
    if (d.listing === undefined) {
      const names: string[] = [];
      const cookies: bigint[] = [];
      for (const [name, e] of d.entries!) {
        names.push(name);
        cookies.push(e.cookie);
      }
      d.listing = { names, cookies };
    }
    return d.listing;
  }

  async readdir(dir: Node, cookie: bigint, limit: number): Promise<DirPage> {
    const p = await this.readdirPlus(dir, cookie, limit);
    return { entries: p.entries.map(({ name, fileid, cookie: c }) => ({ name, fileid, cookie: c })), eof: p.eof };
  }

  async readdirPlus(dir: Node, cookie: bigint, limit: number): Promise<DirPlusPage> {
    const d = this.dir(dir);
    const l = this.listingOf(d);
    const start = indexAfter(l.cookies, cookie);
    const end = Math.min(l.names.length, start + Math.max(0, limit));
    const entries: DirPlusEntry[] = [];
    for (let k = start; k < end; k++) {
      const ino = d.entries!.get(l.names[k])!.inode;
      entries.push({ name: l.names[k], cookie: l.cookies[k], fileid: BigInt(ino.id), node: this.node(ino), attrs: this.attrs(ino) });
    }
    return { entries, eof: end >= l.names.length };
  }

  async statfs(node: Node): Promise<FsStats> {
    this.live(node);
    const free = BigInt(Math.max(0, this.capacity - this.usedBytes));
    const freeFiles = BigInt(Math.max(0, this.maxFiles - this.inodes.size));
    return {
      totalBytes: BigInt(this.capacity),
      freeBytes: free,
      availBytes: free,
      totalFiles: BigInt(this.maxFiles),
      freeFiles,
      availFiles: freeFiles,
    };
  }

  async close(): Promise<void> {
    // Nothing external to release; the data lives as long as the object.
  }
}
