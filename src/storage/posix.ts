/**
 * PosixBackend: serves a host directory (the default backend).
 *
 * Identity. A node is (inode number, generation); the generation is the birth
 * time in ns where the filesystem has one, so a key whose inode number was
 * reused by a newer file is ESTALE rather than silently the new file. Paths
 * are never stored in keys: the DentryTable maps inodes to (parent, name) and
 * every use re-verifies the rebuilt path with lstat. Keys survive a restart:
 * a new instance finds them through the persisted table (opts.stateDir) or,
 * failing that, a bounded breadth-first scan of the tree.
 *
 * Symlinks are never followed for the client: lstat everywhere, O_NOFOLLOW on
 * open, lchown/lutimes, chmod of a symlink is a no-op, and paths are only
 * built from directories we verified. See rwlock.ts for the races this
 * leaves to local processes on the server.
 *
 * Metadata lookups use lstatSync on purpose. Measured on the 2-core dev VM,
 * 10,000 files, warm cache, whole directory:
 *   lstatSync loop            40-55 ms  (~4-5 µs each, mostly the statx itself)
 *   callback fs.lstat, all    95-110 ms
 *   fs.promises.lstat, all   130-210 ms
 *   `find -printf %i` spawn   ~30 ms   (d_ino without stat; no attributes)
 *   fs.promises.readdir       8-16 ms  (names only; Dirent has no inode)
 * A cached-metadata lstat costs less than one threadpool round trip, so the
 * event loop is blocked for less time than the async version spends queueing.
 * Listing pages stat only the entries they return. Paging the 10,000-entry
 * directory 200 at a time: readdir 270 ms cold (first read, JIT warm-up),
 * 3-5 ms when cached (inode numbers kept with the listing); readdirPlus
 * (fresh attributes every time) ~105 ms, of which the statx calls are ~55%.
 * With the native addon's statAt (opts.statAt) pages stat each entry relative
 * to one descriptor of the directory: one component to look up instead of the
 * whole path, and no BigIntStats with four Dates. Paging 60 at a time:
 * readdirPlus 68-70 ms instead of ~95 ms; the statx itself (2.5-3.5 µs) is
 * now about half of an entry's cost.
 * Data-moving and namespace-changing calls stay asynchronous.
 */
import fs from 'node:fs';
import path from 'node:path';
import { assertName, toStorageError, indexAfter, hashListing, wallNowNs, MAX_OFFSET, type Listing } from './common.js';
import { DentryTable, TreeScanner } from './posix-dentries.js';
import { FdCache, type FdEntry } from './posix-fdcache.js';
import { FlushBehind } from './flush-behind.js';
import { DirectWrites } from './direct-write.js';
import { PipePool, spliceRead, type SpliceNative } from './splice.js';
import { RwLock } from './rwlock.js';
import { ChangeClock } from '../util/changes.js';
import {
  statToAttrs,
  statAtToAttrs,
  statAtBirthNs,
  STAT_AT,
  encodeKey,
  decodeKey,
  genOf,
  rootTag,
  makeSpecial,
  makeSocket,
  setTimes,
  openFd,
  fstatFd,
  closeFd,
  preadv,
  pwrite,
} from './posix-util.js';
import {
  storageError,
  type Attrs,
  type Backend,
  type CreateOptions,
  type DirEntry,
  type DirPage,
  type DirPlusEntry,
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

const C = fs.constants;
const OPEN_FLAGS = C.O_NOFOLLOW | C.O_NONBLOCK; // NONBLOCK: never hang on a FIFO swapped in
const OVERLAYFS_MAGIC = 0x794c7630n;

export interface PosixBackendOptions {
  /** Where to persist the inode → (parent, name) table across restarts. */
  stateDir?: string;
  /** Bound on entries visited by one fallback scan (default 1,000,000). */
  maxScanEntries?: number;
  /** Descriptor cache size (default 256) and idle close time (default 30 s). */
  fdCacheSize?: number;
  fdIdleMs?: number;
  /**
   * Start a background fdatasync of a file after this many bytes of UNSTABLE writes to it, so its
   * COMMIT has little left to wait for (see flush-behind.ts). Default 16 MiB; 0 turns it off.
   */
  flushBehindBytes?: number;
  /**
   * Write pieces of at least this many bytes, at aligned offsets from aligned memory, with direct
   * I/O (O_DIRECT) instead of through the page cache (see direct-write.ts). Default 128 KiB; 0 turns
   * it off.
   */
  directWriteBytes?: number;
  /**
   * statx(2) of a name relative to a directory descriptor into a STAT_AT array
   * (posix-util.ts), returning 0 or -errno: the optional native addon's statAt,
   * injected because storage does not depend on localio. Listing pages then stat
   * their entries with it instead of lstatSync, with identical results.
   */
  statAt?: StatAt;
  /**
   * The addon's statMany: statAt of many NUL-terminated names on the thread pool (STAT_AT layout,
   * 17 values a name, results 0 or -errno). With it a READDIRPLUS page stats the entries of the page after it
   * ahead of time, on the other core (see page()).
   */
  statMany?: StatMany;
  /**
   * The native addon's splice calls (splice.ts), injected like statAt: with them the backend offers
   * `readSpliced`, READ data that goes from the page cache to the socket without a copy.
   */
  splice?: SpliceNative;
  /** Largest read `readSpliced` serves (its pipes' size). Default 1 MiB. */
  spliceBytes?: number;
  /** How old (ms) stats taken ahead of a listing page may be when the page uses them. Default 50. */
  statAheadMs?: number;
}

export type StatAt = (dirFd: number, name: string, out: BigInt64Array) => number;
export type StatMany = (dirFd: number, names: Uint8Array, out: BigInt64Array, status: Int32Array) => Promise<void>;

/** Entries of a listing stat'ed on the thread pool ahead of the page that will show them. */
interface StatAhead {
  /** Index in listing.names of the first entry, and how many. */
  from: number;
  count: number;
  out: BigInt64Array;
  status: Int32Array;
  /** False when the batch failed (then nothing of it is used). */
  done: Promise<boolean>;
  born: number;
  /** The change clock as the batch started: used only if no modifying call came in since. */
  stamp: number | undefined;
}

/** PosixBackend.dataPath(): each acceleration's state ('on', or 'off: why') and counters. */
export interface PosixDataPath {
  directWrites: { state: string; writes: number; bytes: number; fallbacks: number };
  splicedReads: { state: string; reads: number; bytes: number };
  statAhead: { state: string; batches: number; served: number; dropped: number };
}

/** A listing's batches stat'ed ahead, in index order. */
interface StatAheads {
  listing: DirListing;
  batches: StatAhead[];
}

/**
 * Directories with entries stat'ed ahead at once; how long such stats stay usable; and how many
 * pages ahead of the one being served they reach (two: the batch for the next page was started a
 * whole page earlier, so it is done when that page is computed right after this one's reply).
 */
const MAX_STAT_AHEAD = 16;
const STAT_AHEAD_MS = 50;
const STAT_AHEAD_PAGES = 2;

/** An entry's metadata in a listing page: lstat's, or statAt's array (PosixBackend.statBuf). */
type EntryStat = fs.BigIntStats | BigInt64Array;

export class PosixNode implements Node {
  constructor(
    readonly key: Buffer,
    readonly fileid: bigint,
    readonly ino: bigint,
    readonly gen: bigint,
  ) {}
}

interface Resolved {
  path: string;
  st: fs.BigIntStats;
}

interface DirListing extends Listing {
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** False when built within the fs clock granularity of the last change. */
  trusted: boolean;
  /** Inode numbers, filled lazily as pages are served. */
  inos: (bigint | undefined)[];
  /**
   * The node each entry was last served as, with its birth time as statAt gave it: when the next
   * listing's stat shows the same inode born at the same time, it is the same object, and the
   * node (and its dentry record) is reused without a lookup in the node and dentry maps.
   */
  nodes: (ListedNode | undefined)[];
}

interface ListedNode {
  node: PosixNode;
  bsec: bigint;
  bnsec: bigint;
}

/** Bound of the node memo (nodeFor): ~200 bytes each, so ~13 MiB at most. */
const MAX_NODES = 65536;
/** Directory listings cached at once (each up to a directory's size). */
const MAX_LISTINGS = 64;
/** A listing built this soon after the directory's last change may miss a same-tick change. */
const CLOCK_SLACK_NS = 50_000_000n;

function lstatQuiet(p: string): fs.BigIntStats | undefined {
  try {
    return fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, ELOOP...: the path does not lead to our object
  }
}

/** A file's identity for flush-behind: inode and generation. */
function flushKey(n: PosixNode): string {
  return `${n.ino}:${n.gen}`;
}
function fsyncFd(fd: number, dataOnly: boolean): Promise<void> {
  return new Promise((res, rej) => (dataOnly ? fs.fdatasync : fs.fsync)(fd, (e) => (e ? rej(e) : res())));
}

export class PosixBackend implements Backend {
  readonly kind = 'posix';
  readonly persistentKeys = true;
  readonly localFd = true;

  readonly rootPath: string;
  private readonly rootIno: bigint;
  private readonly rootGen: bigint;
  private readonly rootDev: bigint;
  private readonly tag: number;
  private readonly fsid: bigint;
  /** Birth times are usable as generations (statx present, not overlayfs). */
  private readonly useBirthtime: boolean;
  private readonly privileged = typeof process.getuid === 'function' && process.getuid() === 0;
  private readonly table: DentryTable;
  private readonly scanner: TreeScanner;
  private readonly fds: FdCache;
  private readonly lock = new RwLock();
  private readonly listings = new Map<bigint, DirListing>();
  /** Recently minted nodes by inode number (bounded, see nodeFor). */
  private readonly nodes = new Map<bigint, PosixNode>();
  private readonly stateFile: string | undefined;
  private readonly probe = Buffer.alloc(1);
  private readonly flusher: FlushBehind;
  /** Ticks on every modifying call: entries stat'ed ahead are used only if none came in since. */
  private readonly changes = new ChangeClock();
  /** Large aligned writes bypass the page cache (direct-write.ts). */
  readonly direct: DirectWrites;
  /** Pipes for readSpliced; undefined without the native splice calls. */
  private readonly pipes: PipePool | undefined;
  /** Reads spliced, and their bytes (tests, diagnostics). */
  readonly spliceStats = { reads: 0, bytes: 0 };
  readonly readSpliced?: (node: Node, offset: bigint, count: number) => Promise<SplicedRead | undefined>;
  private readonly statAt: StatAt | undefined;
  private readonly statMany: StatMany | undefined;
  private readonly statAhead = new Map<bigint, StatAheads>();
  private readonly statAheadMs: number;
  /** Batches started, entries served from them, and batches dropped unused as stale (tests, diagnostics). */
  readonly statAheadStats = { batches: 0, served: 0, dropped: 0 };
  /** Batches still on the thread pool (each holds a duplicate of a directory descriptor until done). */
  private readonly statBatches = new Set<Promise<boolean>>();
  /**
   * statAt's output, reused for every entry: a page loop consumes each entry
   * before the next statAt and never awaits in between, so pages running
   * concurrently under the shared lock cannot interleave on it.
   */
  private readonly statBuf = new BigInt64Array(STAT_AT.FIELDS);
  private closed = false;

  /**
   * Setup is synchronous (a few stats and an optional state-file read) so
   * `new` is enough; `open()` exists for callers that prefer a factory.
   */
  constructor(rootDir: string, opts: PosixBackendOptions = {}) {
    this.rootPath = fs.realpathSync(path.resolve(rootDir)); // the admin's symlinks are fine; clients' never
    const st = fs.lstatSync(this.rootPath, { bigint: true });
    if (!st.isDirectory()) throw storageError('ENOTDIR', `${rootDir} is not a directory`);
    // Without statx libuv reports ctime as birthtime (it would change on every
    // chmod); /proc has no birth time, so a nonzero one there means "fake".
    // On overlayfs the birth time changes on copy-up, so it is no generation.
    const fakeBirth = (lstatQuiet('/proc/self')?.birthtimeNs ?? 0n) !== 0n;
    let fsType = 0n;
    try {
      fsType = fs.statfsSync(this.rootPath, { bigint: true }).type;
    } catch {
      // unknown filesystem type: keep birth times
    }
    this.useBirthtime = !fakeBirth && fsType !== OVERLAYFS_MAGIC;
    this.rootIno = st.ino;
    this.rootDev = st.dev;
    // The full birth time here, as before keys were compacted: it names the
    // state file (through the tag) and validates its contents.
    this.rootGen = this.useBirthtime && st.birthtimeNs > 0n ? st.birthtimeNs : 0n;
    this.tag = rootTag(this.rootIno, this.rootGen);
    this.fsid = st.dev;
    this.table = new DentryTable(this.rootIno, this.rootPath);
    this.scanner = new TreeScanner(this.table, this.rootPath, this.rootDev, opts.maxScanEntries ?? 1_000_000);
    this.fds = new FdCache(opts.fdCacheSize ?? 256, opts.fdIdleMs ?? 30_000);
    this.flusher = new FlushBehind(opts.flushBehindBytes ?? 16 * 1024 * 1024);
    this.direct = new DirectWrites(opts.directWriteBytes ?? 128 * 1024);
    if (opts.splice !== undefined) {
      this.pipes = new PipePool(opts.splice, opts.spliceBytes ?? 1024 * 1024);
      this.readSpliced = (n, o, c) => this.spliced(n, o, c);
    }
    this.statAt = opts.statAt;
    this.statMany = opts.statAt !== undefined ? opts.statMany : undefined;
    this.statAheadMs = opts.statAheadMs ?? STAT_AHEAD_MS;
    if (opts.stateDir !== undefined) {
      this.stateFile = path.join(opts.stateDir, `posix-dentries-${this.tag.toString(16).padStart(8, '0')}.json`);
      this.table.load(this.stateFile, this.rootGen);
    }
  }

  static async open(rootDir: string, opts?: PosixBackendOptions): Promise<PosixBackend> {
    return new PosixBackend(rootDir, opts);
  }

  /** Fallback scans run so far (for tests and diagnostics). */
  get scanCount(): number {
    return this.scanner.scans;
  }

  /** Descriptors currently cached (for tests and diagnostics). */
  get cachedFds(): number {
    return this.fds.size;
  }

  // ---- identity ---------------------------------------------------------

  /** The generation in keys of a birth time in ns (posix-util genOf: a 32-bit mix of it). */
  private genOf(birthNs: bigint): bigint {
    return this.useBirthtime && birthNs > 0n ? genOf(birthNs) : 0n;
  }

  private mint(st: fs.BigIntStats): PosixNode {
    return this.nodeFor(st.ino, this.genOf(st.birthtimeNs));
  }

  /**
   * The node of (ino, gen), reusing the one minted last time when it is the
   * same object: re-serving a listing then allocates no key, and the export
   * layer's handle memo (keyed by node identity) hits. Nodes are immutable
   * values, so sharing one between calls is safe.
   */
  private nodeFor(ino: bigint, gen: bigint): PosixNode {
    const c = this.nodes.get(ino);
    if (c !== undefined && c.gen === gen) return c;
    const n = new PosixNode(encodeKey(this.tag, ino, gen), ino, ino, gen);
    // Bounded by dropping the whole memo: a plain Map hit stays one lookup
    // (a two-generation cache promotes entries on every hit in the old half).
    if (c === undefined && this.nodes.size >= MAX_NODES) this.nodes.clear();
    this.nodes.set(ino, n);
    return n;
  }

  /** Mint a node for an entry we just saw at (dir, name) and remember where it lives. */
  private found(st: fs.BigIntStats, dirIno: bigint, name: string): PosixNode {
    this.table.set(st.ino, dirIno, name);
    return this.mint(st);
  }

  /** found() of a listing entry, from either kind of stat: the same node and table entry. */
  private foundEntry(st: EntryStat, dirIno: bigint, name: string): PosixNode {
    if (!(st instanceof BigInt64Array)) return this.found(st, dirIno, name);
    const ino = st[STAT_AT.INO];
    this.table.set(ino, dirIno, name);
    return this.nodeFor(ino, this.genOf(statAtBirthNs(st)));
  }

  private asNode(node: Node): PosixNode {
    if (!(node instanceof PosixNode)) throw storageError('ESTALE', 'node from another backend');
    return node;
  }

  private resolveSync(n: PosixNode): Resolved | undefined {
    const p = this.table.pathOf(n.ino);
    if (p === undefined) return undefined;
    const st = lstatQuiet(p);
    if (st === undefined || st.ino !== n.ino || this.genOf(st.birthtimeNs) !== n.gen) return undefined;
    return { path: p, st };
  }

  /** Current path and stat of a node; scans on a miss; ESTALE if it is gone. Hold the lock. */
  private async resolve(n: PosixNode): Promise<Resolved> {
    const r = this.resolveSync(n);
    if (r !== undefined) return r;
    if (n.ino === this.rootIno) throw storageError('ESTALE', 'export root changed');
    await this.scanner.find(n.ino, () => this.resolveSync(n) !== undefined);
    const again = this.resolveSync(n);
    if (again !== undefined) return again;
    throw storageError('ESTALE', 'stale key');
  }

  private async resolveDir(n: PosixNode): Promise<Resolved> {
    const r = await this.resolve(n);
    if (!r.st.isDirectory()) throw storageError('ENOTDIR', 'not a directory');
    return r;
  }

  private child(dirPath: string, name: string): string {
    assertName(name);
    return dirPath === '/' ? `/${name}` : `${dirPath}/${name}`;
  }

  private ensureOpen(): void {
    if (this.closed) throw storageError('EIO', 'backend closed');
  }

  /** Run under the shared lock, mapping every failure to a StorageError. */
  private async shared<T>(fn: () => Promise<T> | T): Promise<T> {
    this.ensureOpen();
    try {
      return await this.lock.shared(fn);
    } catch (e) {
      throw toStorageError(e);
    }
  }

  /** A modifying call under the lock: it ticks the change clock as it starts and as it ends. */
  private modifying<T>(lock: (fn: () => Promise<T> | T) => Promise<T>, fn: () => Promise<T> | T): Promise<T> {
    return this.changes.during(() => lock.call(this, fn));
  }

  private async exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    this.ensureOpen();
    try {
      return await this.lock.exclusive(fn);
    } catch (e) {
      throw toStorageError(e);
    }
  }

  async root(): Promise<Node> {
    return this.shared(() => this.mint(fs.lstatSync(this.rootPath, { bigint: true })));
  }

  async fromKey(key: Buffer): Promise<Node> {
    this.ensureOpen();
    const d = decodeKey(key, this.tag);
    if (d === undefined) throw storageError('ESTALE', 'not a key of this export');
    const n = this.nodeFor(d.ino, d.gen);
    // A cached descriptor pins the inode and we evict on removal: no lstat needed.
    if (this.fds.holds(n.ino, n.gen)) return n;
    return this.shared(async () => {
      await this.resolve(n);
      return n;
    });
  }

  // ---- attributes ---------------------------------------------------------

  async getattr(node: Node): Promise<Attrs> {
    const n = this.asNode(node);
    this.ensureOpen();
    const e = this.fds.peek(n.ino, n.gen);
    if (e !== undefined) {
      // Open file: fstat follows it through renames; nlink 0 means removed behind our back.
      let st: fs.BigIntStats;
      try {
        st = fs.fstatSync(e.fd, { bigint: true });
      } catch (err) {
        throw toStorageError(err);
      }
      if (st.nlink > 0n) return statToAttrs(st, this.fsid);
      this.fds.evict(n.ino);
    }
    return this.shared(async () => statToAttrs((await this.resolve(n)).st, this.fsid));
  }

  async setattr(node: Node, set: SetAttrs): Promise<Attrs> {
    const n = this.asNode(node);
    return this.modifying(this.shared, async () => {
      const { path: p, st } = await this.resolve(n);
      const isLink = st.isSymbolicLink();
      if (set.size !== undefined) {
        if (!st.isFile()) throw storageError('EINVAL', 'size can only be set on a regular file');
        if (set.size < 0n || set.size > MAX_OFFSET) throw storageError('EFBIG', 'size out of range');
      }
      // Owner first: chown clears setuid/setgid, so an explicit mode must come after.
      if (set.uid !== undefined || set.gid !== undefined) {
        await fs.promises.lchown(p, set.uid ?? -1, set.gid ?? -1);
      }
      if (set.mode !== undefined && !isLink) {
        const cur = lstatQuiet(p); // re-check right before the path-following chmod
        if (cur === undefined || cur.ino !== n.ino || cur.isSymbolicLink()) throw storageError('ESTALE', 'changed');
        await fs.promises.chmod(p, set.mode & 0o7777);
      }
      if (set.size !== undefined) {
        const e = await this.fdFor(n, true, true);
        try {
          await new Promise<void>((res, rej) => fs.ftruncate(e.fd, Number(set.size), (err) => (err ? rej(err) : res())));
        } finally {
          this.fds.release(e);
        }
      }
      if (set.atime !== undefined || set.mtime !== undefined) {
        await setTimes(p, isLink, lstatQuiet(p) ?? st, set.atime, set.mtime);
      }
      const after = lstatQuiet(p);
      if (after === undefined || after.ino !== n.ino) throw storageError('ESTALE', 'changed');
      return statToAttrs(after, this.fsid);
    });
  }

  // ---- names --------------------------------------------------------------

  async lookup(dir: Node, name: string): Promise<Node> {
    const d = this.asNode(dir);
    return this.shared(async () => {
      const { path: dp } = await this.resolveDir(d);
      const st = fs.lstatSync(this.child(dp, name), { bigint: true });
      return this.found(st, d.ino, name);
    });
  }

  async parent(dir: Node): Promise<Node> {
    const d = this.asNode(dir);
    return this.shared(async () => {
      const { path: dp } = await this.resolveDir(d);
      if (d.ino === this.rootIno) return this.mint(fs.lstatSync(this.rootPath, { bigint: true }));
      // dp is strictly inside the root, so its ".." is too.
      return this.mint(fs.lstatSync(`${dp}/..`, { bigint: true }));
    });
  }

  async readlink(node: Node): Promise<string> {
    const n = this.asNode(node);
    return this.shared(async () => {
      const { path: p, st } = await this.resolve(n);
      if (!st.isSymbolicLink()) throw storageError('EINVAL', 'not a symbolic link');
      return fs.readlinkSync(p);
    });
  }

  // ---- data ---------------------------------------------------------------

  /**
   * A referenced cache entry for the node's descriptor, opening one if needed.
   * Opening checks the type first (never open a device or FIFO), opens with
   * O_NOFOLLOW, and checks the opened inode is the node's.
   */
  private async fdFor(n: PosixNode, write: boolean, locked = false, exact = false): Promise<FdEntry> {
    const cached = this.fds.acquire(n.ino, n.gen, write, exact);
    if (cached !== undefined) return cached;
    const open = async () => {
      const { path: p, st } = await this.resolve(n);
      if (st.isDirectory()) throw storageError('EISDIR', 'is a directory');
      if (!st.isFile()) throw storageError('EINVAL', 'not a regular file');
      return openFd(p, (write ? C.O_RDWR : C.O_RDONLY) | OPEN_FLAGS);
    };
    // Callers already holding the lock must not queue for it again (a waiting
    // writer would deadlock against them).
    const fd = locked ? await open() : await this.lock.shared(open);
    let st: fs.BigIntStats;
    try {
      st = await fstatFd(fd);
    } catch (e) {
      await closeFd(fd);
      throw e;
    }
    if (st.ino !== n.ino || this.genOf(st.birthtimeNs) !== n.gen || !st.isFile()) {
      await closeFd(fd);
      throw storageError('ESTALE', 'file changed while opening');
    }
    return this.fds.insert(fd, n.ino, n.gen, write);
  }

  /**
   * Run `fn` on a cached descriptor of a regular file; every failure (open or
   * I/O) comes out as a storage error, and the descriptor always goes back.
   */
  private async withFd<T>(node: Node, write: boolean, fn: (fd: number, e: FdEntry) => Promise<T>): Promise<T> {
    this.ensureOpen();
    const n = this.asNode(node);
    let e: FdEntry;
    try {
      e = await this.fdFor(n, write);
    } catch (err) {
      throw toStorageError(err);
    }
    try {
      return await fn(e.fd, e);
    } catch (err) {
      throw toStorageError(err);
    } finally {
      this.fds.release(e);
    }
  }

  async read(node: Node, offset: bigint, into: Buffer): Promise<ReadResult> {
    if (offset < 0n) throw storageError('EINVAL', 'negative offset');
    return this.withFd(node, false, async (fd) => {
      if (offset > MAX_OFFSET) return { bytesRead: 0, eof: true };
      // One extra probe byte tells us whether anything lies past the range,
      // so eof = (offset + bytesRead >= size) costs no extra fstat.
      const got = await preadv(fd, [into, this.probe], Number(offset));
      return got > into.length ? { bytesRead: into.length, eof: false } : { bytesRead: got, eof: true };
    });
  }

  /** readSpliced: the range into a pipe (splice.ts); undefined for what a pipe cannot take now. */
  private async spliced(node: Node, offset: bigint, count: number): Promise<SplicedRead | undefined> {
    const pipes = this.pipes!;
    if (offset < 0n) throw storageError('EINVAL', 'negative offset');
    if (offset > MAX_OFFSET || count > pipes.capacity || pipes.off !== undefined) return undefined;
    const s = await this.withFd(node, false, (fd) => spliceRead(pipes, fd, Number(offset), count));
    if (s !== undefined) {
      this.spliceStats.reads++;
      this.spliceStats.bytes += s.length;
    }
    return s;
  }

  /** What the data-path accelerations have done and whether each is on (status and metrics). */
  dataPath(): PosixDataPath {
    const state = (off: string | undefined) => (off === undefined ? 'on' : `off: ${off}`);
    return {
      directWrites: { state: state(this.direct.off), ...this.direct.stats },
      splicedReads: { state: state(this.pipes === undefined ? 'no native splice' : this.pipes.off), ...this.spliceStats },
      statAhead: { state: state(this.statMany === undefined ? 'no native statMany' : undefined), ...this.statAheadStats },
    };
  }

  async write(node: Node, offset: bigint, data: Buffer, stable: StableHow): Promise<WriteResult> {
    if (offset < 0n || offset + BigInt(data.length) > MAX_OFFSET) throw storageError('EFBIG', 'offset out of range');
    const n = this.asNode(node);
    return this.changes.during(() => this.withFd(n, true, async (fd, e) => {
      const pos = Number(offset);
      // Large aligned pieces skip the page cache; whatever that leaves is written through it.
      const direct = this.direct.suits(data, pos) ? await this.direct.write(e, data, pos) : 0;
      let done = direct;
      while (done < data.length) {
        const w = await pwrite(fd, data, done, data.length - done, pos + done);
        if (w === 0) throw storageError('EIO', 'short write');
        done += w;
      }
      if (stable !== 'unstable') await fsyncFd(fd, stable === 'data_sync');
      else if (done > direct) this.flusher.wrote(flushKey(n), done - direct, () => this.withFd(n, true, (f) => fsyncFd(f, true)));
      return { count: data.length, committed: stable };
    }));
  }

  async commit(node: Node, _offset: bigint, _count: number): Promise<void> {
    const n = this.asNode(node);
    // A background flush may have consumed a writeback error: it is this COMMIT's to report.
    await this.flusher.beforeCommit(flushKey(n));
    // Prefer the descriptor that did the writes; a fresh one still reports a
    // writeback error nobody has seen yet (Linux errseq semantics).
    return this.withFd(n, false, (fd) => fsyncFd(fd, false));
  }

  // ---- creation -------------------------------------------------------------

  /** Group a new object gets: the parent's on a setgid directory (as the kernel does), else the owner's. */
  private groupFor(dirSt: fs.BigIntStats, owner: Owner): number {
    return (Number(dirSt.mode) & 0o2000) !== 0 ? Number(dirSt.gid) : owner.gid;
  }

  private invalidate(dirIno: bigint): void {
    this.listings.delete(dirIno);
  }

  async create(dir: Node, name: string, opts: CreateOptions): Promise<Node> {
    const d = this.asNode(dir);
    return this.modifying(this.shared, async () => {
      const { path: dp, st: dst } = await this.resolveDir(d);
      const p = this.child(dp, name);
      for (let attempt = 0; ; attempt++) {
        let fd: number;
        try {
          fd = await openFd(p, C.O_RDWR | C.O_CREAT | C.O_EXCL | OPEN_FLAGS, 0o600);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || opts.exclusive) throw e;
          const st = lstatQuiet(p);
          if (st === undefined && attempt < 3) continue; // removed meanwhile: try creating again
          if (st === undefined || !st.isFile()) throw storageError('EEXIST', 'exists and is not a regular file');
          return this.found(st, d.ino, name);
        }
        this.invalidate(d.ino);
        try {
          if (this.privileged) await new Promise<void>((res, rej) => fs.fchown(fd, opts.owner.uid, this.groupFor(dst, opts.owner), (e) => (e ? rej(e) : res())));
          await new Promise<void>((res, rej) => fs.fchmod(fd, opts.mode & 0o7777, (e) => (e ? rej(e) : res())));
          const st = await fstatFd(fd);
          const n = this.found(st, d.ino, name);
          // The client is about to WRITE: keep the descriptor instead of reopening.
          this.fds.release(this.fds.insert(fd, n.ino, n.gen, true));
          return n;
        } catch (e) {
          await closeFd(fd);
          await fs.promises.unlink(p).catch(() => undefined);
          throw e;
        }
      }
    });
  }

  async mkdir(dir: Node, name: string, mode: number, owner: Owner): Promise<Node> {
    const d = this.asNode(dir);
    return this.modifying(this.shared, async () => {
      const { path: dp, st: dst } = await this.resolveDir(d);
      const p = this.child(dp, name);
      await fs.promises.mkdir(p, 0o700); // private until owner and mode are right
      this.invalidate(d.ino);
      let fd: number | undefined;
      try {
        fd = await openFd(p, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
        const f = fd;
        if (this.privileged) await new Promise<void>((res, rej) => fs.fchown(f, owner.uid, this.groupFor(dst, owner), (e) => (e ? rej(e) : res())));
        const sgid = (Number(dst.mode) & 0o2000) !== 0 ? 0o2000 : 0; // Linux keeps setgid on subdirectories
        await new Promise<void>((res, rej) => fs.fchmod(f, (mode & 0o7777) | sgid, (e) => (e ? rej(e) : res())));
        return this.found(await fstatFd(f), d.ino, name);
      } catch (e) {
        await fs.promises.rmdir(p).catch(() => undefined);
        throw e;
      } finally {
        if (fd !== undefined) await closeFd(fd);
      }
    });
  }

  async symlink(dir: Node, name: string, target: string, _mode: number, owner: Owner): Promise<Node> {
    const d = this.asNode(dir);
    // Exclusive: a new symlink must not appear under a path another request is using.
    return this.modifying(this.exclusive, async () => {
      const { path: dp, st: dst } = await this.resolveDir(d);
      const p = this.child(dp, name);
      if (target.includes('\0')) throw storageError('EINVAL', 'NUL in symlink target');
      await fs.promises.symlink(target, p);
      this.invalidate(d.ino);
      try {
        if (this.privileged) await fs.promises.lchown(p, owner.uid, this.groupFor(dst, owner));
        return this.found(fs.lstatSync(p, { bigint: true }), d.ino, name);
      } catch (e) {
        await fs.promises.unlink(p).catch(() => undefined);
        throw e;
      }
    });
  }

  async mknod(
    dir: Node,
    name: string,
    type: 'blk' | 'chr' | 'sock' | 'fifo',
    mode: number,
    rdev: { major: number; minor: number },
    owner: Owner,
  ): Promise<Node> {
    const d = this.asNode(dir);
    return this.modifying(this.shared, async () => {
      const { path: dp, st: dst } = await this.resolveDir(d);
      const p = this.child(dp, name);
      if ((type === 'chr' || type === 'blk') && !this.privileged) throw storageError('EPERM', 'device nodes need root');
      if (lstatQuiet(p) !== undefined) throw storageError('EEXIST', 'file exists');
      if (type === 'sock') await makeSocket(dp, name);
      else await makeSpecial(p, type, rdev);
      this.invalidate(d.ino);
      try {
        if (this.privileged) await fs.promises.lchown(p, owner.uid, this.groupFor(dst, owner));
        const st = fs.lstatSync(p, { bigint: true });
        if (st.isSymbolicLink() || st.isDirectory() || st.isFile()) throw storageError('EEXIST', 'replaced meanwhile');
        await fs.promises.chmod(p, mode & 0o7777); // path chmod: Node has no lchmod on Linux; checked just above
        return this.found(fs.lstatSync(p, { bigint: true }), d.ino, name);
      } catch (e) {
        await fs.promises.unlink(p).catch(() => undefined);
        throw e;
      }
    });
  }

  // ---- removal and renaming -----------------------------------------------

  /** Bookkeeping after (dir, name) → st stopped existing under that name. */
  private gone(st: fs.BigIntStats, dirIno: bigint, name: string): void {
    if (st.isDirectory() || st.nlink <= 1n) {
      this.fds.evict(st.ino);
      this.table.delete(st.ino);
      this.listings.delete(st.ino);
    } else {
      // Other links remain, under names we may not know: a later use rescans.
      this.table.deleteIf(st.ino, dirIno, name);
      this.scanner.invalidate();
    }
  }

  async remove(dir: Node, name: string): Promise<void> {
    const d = this.asNode(dir);
    return this.modifying(this.shared, async () => {
      const { path: dp } = await this.resolveDir(d);
      const p = this.child(dp, name);
      const st = fs.lstatSync(p, { bigint: true });
      if (st.isDirectory()) throw storageError('EISDIR', 'is a directory'); // what unlink(2) says on Linux
      await fs.promises.unlink(p);
      this.invalidate(d.ino);
      this.gone(st, d.ino, name);
    });
  }

  async rmdir(dir: Node, name: string): Promise<void> {
    const d = this.asNode(dir);
    return this.modifying(this.shared, async () => {
      const { path: dp } = await this.resolveDir(d);
      const p = this.child(dp, name);
      const st = fs.lstatSync(p, { bigint: true });
      if (!st.isDirectory()) throw storageError('ENOTDIR', 'not a directory');
      await fs.promises.rmdir(p);
      this.invalidate(d.ino);
      this.gone(st, d.ino, name);
    });
  }

  async rename(fromDir: Node, fromName: string, toDir: Node, toName: string): Promise<void> {
    const fd = this.asNode(fromDir);
    const td = this.asNode(toDir);
    return this.modifying(this.exclusive, async () => {
      const from = this.child((await this.resolveDir(fd)).path, fromName);
      const to = this.child((await this.resolveDir(td)).path, toName);
      const src = fs.lstatSync(from, { bigint: true });
      const dst = lstatQuiet(to);
      if (dst !== undefined && dst.ino === src.ino) return; // same object: rename(2) does nothing
      await fs.promises.rename(from, to);
      this.invalidate(fd.ino);
      this.invalidate(td.ino);
      if (dst !== undefined) this.gone(dst, td.ino, toName);
      this.table.set(src.ino, td.ino, toName);
    });
  }

  async link(node: Node, dir: Node, name: string): Promise<void> {
    const n = this.asNode(node);
    const d = this.asNode(dir);
    return this.modifying(this.exclusive, async () => {
      const { path: src, st } = await this.resolve(n);
      if (st.isDirectory()) throw storageError('EPERM', 'hard link to a directory');
      const { path: dp } = await this.resolveDir(d);
      await fs.promises.link(src, this.child(dp, name)); // link(2) does not follow a symlink source
      this.invalidate(d.ino);
    });
  }

  // ---- listing --------------------------------------------------------------

  /**
   * The directory's names in cookie order, cached while the directory's
   * (ino, mtime, ctime) is unchanged, so paging through a large directory
   * reads and sorts it once. Our own changes drop the cache explicitly.
   */
  private async listing(d: PosixNode, r: Resolved): Promise<DirListing> {
    const c = this.listings.get(d.ino);
    if (c !== undefined && c.trusted && c.mtimeNs === r.st.mtimeNs && c.ctimeNs === r.st.ctimeNs) {
      this.listings.delete(d.ino);
      this.listings.set(d.ino, c);
      return c;
    }
    const started = wallNowNs();
    const names = await fs.promises.readdir(r.path);
    const last = r.st.mtimeNs > r.st.ctimeNs ? r.st.mtimeNs : r.st.ctimeNs;
    const l: DirListing = {
      ...hashListing(names),
      mtimeNs: r.st.mtimeNs,
      ctimeNs: r.st.ctimeNs,
      trusted: started - last > CLOCK_SLACK_NS,
      inos: new Array<bigint | undefined>(names.length),
      nodes: new Array<ListedNode | undefined>(names.length),
    };
    this.listings.delete(d.ino);
    this.listings.set(d.ino, l);
    if (this.listings.size > MAX_LISTINGS) this.listings.delete(this.listings.keys().next().value as bigint);
    return l;
  }

  /**
   * A descriptor of the directory r for statAt, or undefined (no statAt, or the
   * path no longer leads to that directory: the caller then stats by path, as
   * without the addon). O_NOFOLLOW and the (dev, ino) check keep the entries
   * those of the directory the listing was read from.
   */
  private openForStatAt(r: Resolved): number | undefined {
    if (this.statAt === undefined) return undefined;
    let fd: number;
    try {
      fd = fs.openSync(r.path, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch {
      return undefined;
    }
    const b = this.statBuf;
    if (this.statAt(fd, '.', b) === 0 && b[STAT_AT.INO] === r.st.ino && b[STAT_AT.DEV] === r.st.dev) return fd;
    fs.closeSync(fd);
    return undefined;
  }

  /**
   * Serve one page. Fileids need inode numbers, which Dirent lacks, so each
   * entry served is stat'ed once (cached in the listing for plain READDIR;
   * READDIRPLUS always re-stats for fresh attributes). Entries deleted since
   * the listing was read are skipped.
   *
   * With statAt the stats are relative to one descriptor of the directory
   * (see the top of this file for what that saves). Any statAt failure
   * (ENOENT included) is retried by path, so the outcome is the lstat path's.
   * The array passed to emit is reused: emit must be done with it on return.
   *
   * Stat-ahead (with statMany): a client lists a directory page after page,
   * so once a page with stats is served, the entries after it are stat'ed on
   * the thread pool — on the other core, while this page is encoded and sent —
   * and the next page takes those results instead of stat'ing on the event
   * loop (the statx calls were half of a page's cost). Only results of the
   * same listing (the directory unchanged), at most STAT_AHEAD_MS (statAheadMs) old, with no
   * modifying call begun or ended through this backend since they were taken,
   * are used; anything else is stat'ed then, as without it.
   */
  private async page(
    dir: Node,
    cookie: bigint,
    limit: number,
    needStat: boolean,
    emit: (name: string, cookie: bigint, ino: bigint, st: EntryStat | undefined, d: PosixNode, node: PosixNode | undefined) => void,
  ): Promise<boolean> {
    const d = this.asNode(dir);
    return this.shared(async () => {
      const r = await this.resolveDir(d);
      const l = await this.listing(d, r);
      const prefix = r.path === '/' ? '' : r.path;
      // Opened at the first entry that needs a stat (a cached READDIR page needs none).
      let dirFd: number | undefined;
      let opened = false;
      const first = indexAfter(l.cookies, cookie);
      const ahead = needStat ? await this.statsAhead(d.ino, l, first, limit) : [];
      let b = 0; // the batch in `ahead` that entry i may be in
      try {
        let i = first;
        for (let taken = 0; i < l.names.length && taken < limit; i++) {
          let ino = l.inos[i];
          let st: EntryStat | undefined;
          while (b < ahead.length && i >= ahead[b].from + ahead[b].count) b++;
          const a = ahead[b];
          const k = a === undefined ? -1 : i - a.from;
          if (a !== undefined && k >= 0 && a.status[k] === 0) {
            st = a.out.subarray(k * STAT_AT.FIELDS, (k + 1) * STAT_AT.FIELDS);
            ino = l.inos[i] = st[STAT_AT.INO];
            this.statAheadStats.served++;
          } else if (needStat || ino === undefined) {
            if (!opened) {
              dirFd = this.openForStatAt(r);
              opened = true;
            }
            if (dirFd !== undefined && this.statAt!(dirFd, l.names[i], this.statBuf) === 0) {
              st = this.statBuf;
              ino = l.inos[i] = st[STAT_AT.INO];
            } else {
              st = lstatQuiet(`${prefix}/${l.names[i]}`);
              if (st === undefined) continue;
              ino = l.inos[i] = st.ino;
            }
          }
          emit(l.names[i], l.cookies[i], ino, st, d, needStat && st !== undefined ? this.listedNode(l, i, st, d) : undefined);
          taken++;
        }
        if (needStat && this.statMany !== undefined && i < l.names.length) {
          const reach = Math.min(l.names.length, i + STAT_AHEAD_PAGES * (i - first));
          let from = this.statAheadEnd(d.ino, l, i);
          if (from < reach && !opened) {
            dirFd = this.openForStatAt(r);
            opened = true;
          }
          // Batches of one page each, so the next page waits only for its own.
          for (; dirFd !== undefined && from < reach; from += i - first) this.startStatAhead(d.ino, l, dirFd, from, i - first);
        }
        return i >= l.names.length;
      } finally {
        if (dirFd !== undefined) fs.closeSync(dirFd);
      }
    });
  }

  /** The node of entry i of listing l, just stat'ed (st): the one served last time when it is the same object. */
  private listedNode(l: DirListing, i: number, st: EntryStat, d: PosixNode): PosixNode {
    const c = l.nodes[i];
    if (st instanceof BigInt64Array) {
      const bsec = st[STAT_AT.BTIME_SEC];
      const bnsec = st[STAT_AT.BTIME_NSEC];
      if (c !== undefined && c.node.ino === st[STAT_AT.INO] && c.bsec === bsec && c.bnsec === bnsec) return c.node;
      const node = this.foundEntry(st, d.ino, l.names[i]);
      l.nodes[i] = { node, bsec, bnsec };
      return node;
    }
    return this.foundEntry(st, d.ino, l.names[i]);
  }

  /** Stat `count` entries of listing `l` from index `from` on the thread pool (see page()). */
  private startStatAhead(dirIno: bigint, l: DirListing, dirFd: number, from: number, count: number): void {
    const n = Math.min(count, l.names.length - from);
    if (n <= 0) return;
    const out = new BigInt64Array(n * STAT_AT.FIELDS);
    const status = new Int32Array(n);
    const stamp = this.changes.stamp();
    let done: Promise<boolean>;
    try {
      // One NUL-terminated string of names: one copy into native memory instead of one per name.
      const names = Buffer.from(`${l.names.slice(from, from + n).join('\0')}\0`);
      done = this.statMany!(dirFd, names, out, status).then(
        () => true,
        () => false,
      );
    } catch {
      return; // the descriptor could not be duplicated, say: the next page stats as usual
    }
    this.statBatches.add(done);
    void done.then(() => this.statBatches.delete(done));
    this.statAheadStats.batches++;
    let s = this.statAhead.get(dirIno);
    if (s === undefined || s.listing !== l) {
      s = { listing: l, batches: [] };
      this.statAhead.set(dirIno, s);
      if (this.statAhead.size > MAX_STAT_AHEAD) this.statAhead.delete(this.statAhead.keys().next().value as bigint);
    }
    s.batches.push({ from, count: n, out, status, done, born: Date.now(), stamp });
  }

  /** Where this directory's batches for listing `l` end (at least `from`): the next batch starts there. */
  private statAheadEnd(dirIno: bigint, l: DirListing, from: number): number {
    const s = this.statAhead.get(dirIno);
    const last = s?.listing === l ? s.batches.at(-1) : undefined;
    return last === undefined ? from : Math.max(from, last.from + last.count);
  }

  /**
   * The batches of this directory's listing `l` that a page of `limit` entries from index `from`
   * can use, in order: each done, at most STAT_AHEAD_MS old, and taken with no modifying call begun
   * or ended since. Batches wholly before `from` are dropped; all of them when the listing changed,
   * one is stale, or they do not start within this page. Batches beyond the page are not waited for.
   */
  private async statsAhead(dirIno: bigint, l: DirListing, from: number, limit: number): Promise<StatAhead[]> {
    const s = this.statAhead.get(dirIno);
    if (s === undefined) return [];
    const drop = (): StatAhead[] => {
      this.statAheadStats.dropped += s.batches.length;
      this.statAhead.delete(dirIno);
      return [];
    };
    if (s.listing !== l) return drop();
    s.batches = s.batches.filter((a) => a.from + a.count > from);
    // Not where this reader is going next (another reader, or one that started over): forget them.
    if (s.batches.length > 0 && s.batches[0].from >= from + limit) return drop();
    const usable: StatAhead[] = [];
    for (const a of s.batches) {
      if (a.from >= from + limit) break;
      const ok = await a.done;
      if (!ok || Date.now() - a.born > this.statAheadMs || !this.changes.unchangedSince(a.stamp)) return drop();
      usable.push(a);
    }
    return usable;
  }

  async readdir(dir: Node, cookie: bigint, limit: number): Promise<DirPage> {
    const entries: DirEntry[] = [];
    const eof = await this.page(dir, cookie, limit, false, (name, c, ino) => {
      entries.push({ name, cookie: c, fileid: ino });
    });
    return { entries, eof };
  }

  async readdirPlus(dir: Node, cookie: bigint, limit: number): Promise<DirPlusPage> {
    const entries: DirPlusEntry[] = [];
    const eof = await this.page(dir, cookie, limit, true, (name, c, ino, st, _d, node) => {
      const s = st as EntryStat;
      const attrs = s instanceof BigInt64Array ? statAtToAttrs(s, this.fsid) : statToAttrs(s, this.fsid);
      entries.push({ name, cookie: c, fileid: ino, node: node!, attrs });
    });
    return { entries, eof };
  }

  async statfs(node: Node): Promise<FsStats> {
    const n = this.asNode(node);
    return this.shared(async () => {
      const { path: p } = await this.resolve(n);
      const s = await fs.promises.statfs(p, { bigint: true });
      return {
        totalBytes: s.blocks * s.bsize,
        freeBytes: s.bfree * s.bsize,
        availBytes: s.bavail * s.bsize,
        totalFiles: s.files,
        freeFiles: s.ffree,
        availFiles: s.ffree,
      };
    });
  }

  /**
   * LOCALIO: a reference on the cached descriptor of exactly that mode (a
   * client that may only read must never get a read-write descriptor).
   * Shared with READ/WRITE/COMMIT; closed when the last reference goes and
   * the cache lets it go.
   */
  async openFd(node: Node, mode: 'r' | 'rw'): Promise<LocalFd> {
    this.ensureOpen();
    const n = this.asNode(node);
    let e: FdEntry;
    try {
      e = await this.fdFor(n, mode === 'rw', false, true);
    } catch (err) {
      throw toStorageError(err);
    }
    let closed = false;
    return {
      fd: e.fd,
      close: async () => {
        if (closed) return;
        closed = true;
        this.fds.release(e);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flusher.drain();
    this.pipes?.close();
    this.statAhead.clear();
    await Promise.all([...this.statBatches]);
    this.scanner.stop();
    this.listings.clear();
    this.nodes.clear();
    await this.fds.closeAll();
    if (this.stateFile !== undefined) {
      try {
        this.table.save(this.stateFile, this.rootGen);
      } catch {
        // best effort: the scan fallback still works without it
      }
    }
  }
}
