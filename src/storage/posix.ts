/**
 * PosixBackend: serves a host directory (the default backend).
 *
 * Nothing here builds a path. Every object is reached from the export root's
 * descriptor one name at a time (posix-resolve.ts), and every call names one
 * component under a directory descriptor (posix-at.ts: openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS and the *at family with the native
 * addon, /proc/self/fd without it). So a tree deeper than PATH_MAX works (each
 * NFS request names one component, and so do we), and a local process that
 * swaps a directory for a symlink while we work can change which object a
 * name means but never make us act outside the export. Symlinks are never
 * followed for the client.
 *
 * The parts: posix-core.ts (what they share), posix-data.ts (READ, WRITE,
 * COMMIT, LOCALIO descriptors), posix-names.ts (create, remove, rename,
 * link), posix-listing.ts (READDIR pages), this file (identity, attributes).
 *
 * Metadata calls are synchronous on purpose: a cached-metadata statx costs
 * less than one thread-pool round trip (measured: lstatSync 4-5 µs, the
 * callback form 10 µs, the promise form 13-21 µs per entry). Calls that change
 * the namespace or move data stay asynchronous.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MAX_OFFSET, assertName } from './common.js';
import { FdCache } from './posix-fdcache.js';
import { STAT_AT, decodeKey, rootTag } from './posix-util.js';
import { Resolver } from './posix-resolve.js';
import { isLnk, isReg, newStat } from './posix-dirs.js';
import { makeAt, throwErrno, type At, type AtNative } from './posix-at.js';
import { PosixCore } from './posix-core.js';
import { PosixData } from './posix-data.js';
import { PosixNames } from './posix-names.js';
import { PosixV42, type V42Native } from './posix-v42.js';
import { PosixListing, type StatMany } from './posix-listing.js';
import type { SpliceNative } from './splice.js';
import {
  storageError,
  type Attrs,
  type Backend,
  type CreateOptions,
  type DirPage,
  type DirPlusPage,
  type FsStats,
  type LocalFd,
  type Node,
  type Owner,
  type ReadResult,
  type SetAttrs,
  type SplicedRead,
  type StableHow,
  type WriteResult,
} from './types.js';

export { PosixNode } from './posix-resolve.js';
export type { StatMany } from './posix-listing.js';
export type StatAt = (dirFd: number, name: string, out: BigInt64Array) => number;

const OVERLAYFS_MAGIC = 0x794c7630n;
const O_PATH = 0o10000000;

export interface PosixBackendOptions {
  /** Where to persist the inode → (parent, name) table across restarts. */
  stateDir?: string;
  /** Bound on entries visited by one fallback scan (default 1,000,000). */
  maxScanEntries?: number;
  /** Descriptor cache size (default 256) and idle close time (default 30 s). */
  fdCacheSize?: number;
  fdIdleMs?: number;
  /** Directory descriptors cached (default: an eighth of the open-file limit, 64..1024). */
  dirFdCacheSize?: number;
  /** Background fdatasync after this many UNSTABLE bytes to a file (flush-behind.ts). Default 16 MiB; 0 off. */
  flushBehindBytes?: number;
  /** Aligned pieces of at least this many bytes are written with O_DIRECT (direct-write.ts). Default 128 KiB; 0 off. */
  directWriteBytes?: number;
  /**
   * The native addon's calls relative to directory descriptors (native/fsat.c), injected because
   * storage does not depend on localio. Without them the backend works through /proc/self/fd
   * (posix-at.ts ProcAt), which costs a few lookups per call and has no openat2 check.
   */
  at?: AtNative;
  /** The addon's statMany: a READDIRPLUS page stats the entries of the page after it ahead of time. */
  statMany?: StatMany;
  /** The addon's NFSv4.2 calls (native/fsdata.c): SEEK data/hole, ALLOCATE, DEALLOCATE, COPY, CLONE, xattrs. */
  v42?: V42Native;
  /** The native addon's splice calls (splice.ts): READ data from the page cache to the socket without a copy. */
  splice?: SpliceNative;
  /** Largest read `readSpliced` serves (its pipes' size). Default 1 MiB. */
  spliceBytes?: number;
  /** How old (ms) stats taken ahead of a listing page may be when the page uses them. Default 50. */
  statAheadMs?: number;
}

/** PosixBackend.dataPath(): each acceleration's state ('on', or 'off: why') and counters. */
export interface PosixDataPath {
  /** How names are resolved: 'on' with the addon's openat2, else 'off: why' (the /proc fallback). */
  resolution: { state: string; mode: string };
  directWrites: { state: string; writes: number; bytes: number; fallbacks: number };
  splicedReads: { state: string; reads: number; bytes: number };
  statAhead: { state: string; batches: number; served: number; dropped: number };
}

/** The soft open-file limit of this process (/proc/self/limits), or undefined. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class PosixBackend implements Backend {
  readonly kind = 'posix';
  readonly persistentKeys = true;
  readonly localFd = true;

  readonly rootPath: string;
  private readonly rootGen: bigint;
  private readonly tag: number;
  private readonly rootFd: number;
  private readonly at: At;
  private readonly r: Resolver;
  private readonly c: PosixCore;
  private readonly data: PosixData;
  private readonly names: PosixNames;
  private readonly listing: PosixListing;
  private readonly stateFile: string | undefined;
  /** For stats turned into attributes before anything else runs. */
  private readonly scratch = newStat();
  readonly readSpliced?: (node: Node, offset: bigint, count: number) => Promise<SplicedRead | undefined>;
  // NFSv4.2 (posix-v42.ts): seek and copyRange always, the rest with the addon.
  readonly seek: Backend['seek'];
  readonly copyRange: Backend['copyRange'];
  readonly allocate?: Backend['allocate'];
  readonly deallocate?: Backend['deallocate'];
  readonly clone?: Backend['clone'];
  readonly getxattr?: Backend['getxattr'];
  readonly setxattr?: Backend['setxattr'];
  readonly listxattr?: Backend['listxattr'];
  readonly removexattr?: Backend['removexattr'];

  /** Setup is synchronous (a few stats and an optional state-file read) so `new` is enough. */
  constructor(rootDir: string, opts: PosixBackendOptions = {}) {
    this.rootPath = fs.realpathSync(path.resolve(rootDir)); // the admin's symlinks are fine; clients' never
    const st = fs.lstatSync(this.rootPath, { bigint: true });
    if (!st.isDirectory()) throw storageError('ENOTDIR', `${rootDir} is not a directory`);
    // Without statx libuv reports ctime as birthtime (it would change on every chmod); /proc has no
    // birth time, so a nonzero one there means "fake". On overlayfs the birth time changes on
    // copy-up, so it is no generation.
    const fakeBirth = (fs.lstatSync('/proc/self', { bigint: true, throwIfNoEntry: false })?.birthtimeNs ?? 0n) !== 0n;
    let fsType = 0n;
    try {
      fsType = fs.statfsSync(this.rootPath, { bigint: true }).type;
    } catch {
      // unknown filesystem type: keep birth times
    }
    const useBirthtime = !fakeBirth && fsType !== OVERLAYFS_MAGIC;
    // The full birth time here, as before keys were compacted: it names the state file (through
    // the tag) and validates its contents.
    this.rootGen = useBirthtime && st.birthtimeNs > 0n ? st.birthtimeNs : 0n;
    this.tag = rootTag(st.ino, this.rootGen);
    this.at = makeAt(opts.at);
    this.rootFd = fs.openSync(this.rootPath, O_PATH | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
    const limit = openFileLimit() ?? 1024;
    this.r = new Resolver(this.at, {
      rootFd: this.rootFd,
      rootIno: st.ino,
      rootDev: st.dev,
      useBirthtime,
      tag: this.tag,
      maxDirFds: opts.dirFdCacheSize ?? Math.max(64, Math.min(1024, Math.floor(limit / 8))),
      maxScanEntries: opts.maxScanEntries ?? 1_000_000,
    });
    const privileged = typeof process.getuid === 'function' && process.getuid() === 0;
    this.c = new PosixCore(this.r, this.at, new FdCache(opts.fdCacheSize ?? 256, opts.fdIdleMs ?? 30_000), st.dev, privileged);
    this.data = new PosixData(this.c, {
      flushBehindBytes: opts.flushBehindBytes ?? 16 * 1024 * 1024,
      directWriteBytes: opts.directWriteBytes ?? 128 * 1024,
      splice: opts.splice,
      spliceBytes: opts.spliceBytes ?? 1024 * 1024,
    });
    if (this.data.pipes !== undefined) this.readSpliced = (n, o, c) => this.data.spliced(n, o, c);
    const v42 = new PosixV42(this.c, this.data, opts.at !== undefined ? opts.v42 : undefined);
    this.seek = (n, o, w) => v42.seek(n, o, w);
    this.copyRange = (s, so, d, dof, c) => v42.copyRange(s, so, d, dof, c);
    if (v42.hasNative) {
      this.allocate = (n, o, l) => v42.allocate(n, o, l);
      this.deallocate = (n, o, l) => v42.deallocate(n, o, l);
      this.clone = (s, so, d, dof, c) => v42.clone(s, so, d, dof, c);
      this.getxattr = (n, name) => v42.getxattr(n, name);
      this.setxattr = (n, name, v, how) => v42.setxattr(n, name, v, how);
      this.listxattr = (n) => v42.listxattr(n);
      this.removexattr = (n, name) => v42.removexattr(n, name);
    }
    this.names = new PosixNames(this.c);
    this.listing = new PosixListing(this.c, opts.at !== undefined ? opts.statMany : undefined, opts.statAheadMs ?? 50);
    if (opts.stateDir !== undefined) {
      this.stateFile = path.join(opts.stateDir, `posix-dentries-${this.tag.toString(16).padStart(8, '0')}.json`);
      this.r.table.load(this.stateFile, this.rootGen);
    }
  }

  static async open(rootDir: string, opts?: PosixBackendOptions): Promise<PosixBackend> {
    return new PosixBackend(rootDir, opts);
  }

  /** How names are resolved (start-up line, status). */
  get resolution(): string {
    return this.at.describe();
  }

  /** Fallback scans run so far (for tests and diagnostics). */
  get scanCount(): number {
    return this.r.scanner.scans;
  }

  /** Descriptors currently cached: files, and directories (tests, diagnostics). */
  get cachedFds(): number {
    return this.c.fds.size;
  }
  get cachedDirs(): number {
    return this.r.cachedDirs;
  }

  get direct() {
    return this.data.direct;
  }
  get spliceStats() {
    return this.data.spliceStats;
  }
  get statAheadStats() {
    return this.listing.statAheadStats;
  }

  /** What the data-path accelerations have done and whether each is on (status and metrics). */
  dataPath(): PosixDataPath {
    const state = (off: string | undefined) => (off === undefined ? 'on' : `off: ${off}`);
    const pipes = this.data.pipes;
    return {
      resolution: { state: state(this.at.kind === 'native' ? undefined : 'no native addon, resolving through /proc/self/fd'), mode: this.at.describe() },
      directWrites: { state: state(this.data.direct.off), ...this.data.direct.stats },
      splicedReads: { state: state(pipes === undefined ? 'no native splice' : pipes.off), ...this.data.spliceStats },
      statAhead: { state: state(this.listing.statAheadOn ? undefined : 'no native statMany'), ...this.listing.statAheadStats },
    };
  }

  // ---- identity ---------------------------------------------------------------

  async root(): Promise<Node> {
    this.c.ensureOpen();
    const st = newStat();
    if (this.at.stat(this.rootFd, '', st) !== 0) throw storageError('ESTALE', 'export root unreadable');
    return this.r.nodeFor(this.r.rootIno, this.r.genOfStat(st));
  }

  async fromKey(key: Buffer): Promise<Node> {
    this.c.ensureOpen();
    const d = decodeKey(key, this.tag);
    if (d === undefined) throw storageError('ESTALE', 'not a key of this export');
    const n = this.r.nodeFor(d.ino, d.gen);
    // A cached descriptor pins the inode and we evict on removal: nothing to check.
    if (this.c.fds.holds(n.ino, n.gen) || this.r.statNow(n) !== undefined) return n;
    return this.c.shared(async () => {
      await this.r.stat(n);
      return n;
    });
  }

  // ---- attributes ---------------------------------------------------------------

  async getattr(node: Node): Promise<Attrs> {
    const n = this.c.asNode(node);
    this.c.ensureOpen();
    const e = this.r.pins.fd(n.ino, n.gen) === undefined ? this.c.fds.peek(n.ino, n.gen) : undefined;
    if (e !== undefined) {
      // An open file: its descriptor follows it through renames; nlink 0 means removed behind our back.
      const st = this.scratch;
      const r = this.at.stat(e.fd, '', st);
      if (r !== 0) throwErrno(r, 'fstat');
      if (st[STAT_AT.NLINK] > 0n) return this.c.attrs(st);
      this.c.fds.evict(n.ino);
    }
    const now = this.r.statNow(n);
    if (now !== undefined) return this.c.attrs(now);
    return this.c.shared(async () => this.c.attrs(await this.r.stat(n)));
  }

  async setattr(node: Node, set: SetAttrs): Promise<Attrs> {
    const n = this.c.asNode(node);
    return this.c.modifying(false, async () => {
      const { ref, st, done } = await this.r.ref(n);
      try {
        if (set.size !== undefined) {
          if (!isReg(st)) throw storageError('EINVAL', 'size can only be set on a regular file');
          if (set.size < 0n || set.size > MAX_OFFSET) throw storageError('EFBIG', 'size out of range');
        }
        // Owner first: chown clears setuid/setgid, so an explicit mode must come after.
        if (set.uid !== undefined || set.gid !== undefined) await this.at.chown(ref, set.uid ?? -1, set.gid ?? -1);
        if (set.mode !== undefined && !isLnk(st)) await this.at.chmod(ref, set.mode & 0o7777);
        if (set.size !== undefined) {
          const e = await this.data.fdFor(n, true, true);
          try {
            await new Promise<void>((res, rej) => fs.ftruncate(e.fd, Number(set.size), (err) => (err ? rej(err) : res())));
          } finally {
            this.c.fds.release(e);
          }
        }
        await this.at.utimes(ref, set.atime, set.mtime);
        const after = newStat();
        if (this.at.stat(ref.fd, '', after) !== 0 || !this.r.matches(n, after)) throw storageError('ESTALE', 'changed');
        return this.c.attrs(after);
      } finally {
        done();
      }
    });
  }

  // ---- names ----------------------------------------------------------------------

  async lookup(dir: Node, name: string): Promise<Node> {
    assertName(name);
    const dn = this.c.asNode(dir);
    return this.c.shared(async () => {
      const d = await this.r.dir(dn);
      try {
        const st = this.scratch; // used up before anything else runs
        const r = this.at.stat(d.fd, name, st);
        if (r !== 0) throwErrno(r, 'statx');
        return this.r.found(st, d.ino, name);
      } finally {
        d.release();
      }
    });
  }

  async parent(dir: Node): Promise<Node> {
    const dn = this.c.asNode(dir);
    return this.c.shared(async () => {
      const d = await this.r.dir(dn);
      try {
        if (d.ino === this.r.rootIno) return this.r.nodeFor(d.ino, this.r.genOfStat(d.st));
        // d was just checked to be beneath the root, so its ".." is the root or inside it.
        const st = this.scratch;
        const r = this.at.stat(d.fd, '..', st);
        if (r !== 0) throwErrno(r, 'statx');
        return this.r.nodeFor(st[STAT_AT.INO], this.r.genOfStat(st));
      } finally {
        d.release();
      }
    });
  }

  async readlink(node: Node): Promise<string> {
    const n = this.c.asNode(node);
    return this.c.shared(async () => {
      const { ref, st, done } = await this.r.ref(n);
      try {
        if (!isLnk(st)) throw storageError('EINVAL', 'not a symbolic link');
        return this.at.readlink(ref);
      } finally {
        done();
      }
    });
  }

  async statfs(node: Node): Promise<FsStats> {
    const n = this.c.asNode(node);
    return this.c.shared(async () => {
      const { ref, done } = await this.r.ref(n);
      try {
        return await this.at.statfs(ref.fd);
      } finally {
        done();
      }
    });
  }

  // ---- the other parts -----------------------------------------------------------

  read(node: Node, offset: bigint, into: Buffer): Promise<ReadResult> {
    return this.data.read(node, offset, into);
  }
  write(node: Node, offset: bigint, data: Buffer, stable: StableHow): Promise<WriteResult> {
    return this.data.write(node, offset, data, stable);
  }
  commit(node: Node, _offset: bigint, _count: number): Promise<void> {
    return this.data.commit(node);
  }
  hold(node: Node): Promise<() => void> {
    const n = this.c.asNode(node);
    this.c.ensureOpen();
    // Descriptors opened through the pin may be all that is left of a removed file: they go with it.
    return this.c.shared(() => this.r.pin(n, () => this.c.fds.evict(n.ino)));
  }

  openFd(node: Node, mode: 'r' | 'rw'): Promise<LocalFd> {
    return this.data.openFd(node, mode);
  }
  create(dir: Node, name: string, opts: CreateOptions): Promise<Node> {
    return this.names.create(dir, name, opts);
  }
  mkdir(dir: Node, name: string, mode: number, owner: Owner): Promise<Node> {
    return this.names.mkdir(dir, name, mode, owner);
  }
  symlink(dir: Node, name: string, target: string, _mode: number, owner: Owner): Promise<Node> {
    return this.names.symlink(dir, name, target, owner);
  }
  mknod(dir: Node, name: string, type: 'blk' | 'chr' | 'sock' | 'fifo', mode: number, rdev: { major: number; minor: number }, owner: Owner): Promise<Node> {
    return this.names.mknod(dir, name, type, mode, rdev, owner);
  }
  remove(dir: Node, name: string): Promise<void> {
    return this.names.remove(dir, name);
  }
  rmdir(dir: Node, name: string): Promise<void> {
    return this.names.rmdir(dir, name);
  }
  rename(fromDir: Node, fromName: string, toDir: Node, toName: string): Promise<void> {
    return this.names.rename(fromDir, fromName, toDir, toName);
  }
  link(node: Node, dir: Node, name: string): Promise<void> {
    return this.names.link(node, dir, name);
  }
  readdir(dir: Node, cookie: bigint, limit: number): Promise<DirPage> {
    return this.listing.readdir(dir, cookie, limit);
  }
  readdirPlus(dir: Node, cookie: bigint, limit: number): Promise<DirPlusPage> {
    return this.listing.readdirPlus(dir, cookie, limit);
  }

  async close(): Promise<void> {
    if (this.c.closed) return;
    this.c.closed = true;
    await this.data.flusher.drain();
    this.data.pipes?.close();
    await this.listing.close();
    this.r.closeAll();
    await this.c.fds.closeAll();
    fs.closeSync(this.rootFd);
    if (this.stateFile !== undefined) {
      try {
        this.r.table.save(this.stateFile, this.rootGen);
      } catch {
        // best effort: the scan fallback still works without it
      }
    }
  }
}
