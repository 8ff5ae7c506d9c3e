/**
 * How the POSIX backend reaches an object without a path: node identity, a
 * bounded cache of directory descriptors, and resolution through the dentry
 * table one name at a time (posix-at.ts does the calls).
 *
 * A node is (inode number, generation); the generation is the birth time where
 * the filesystem has one, so a key whose inode number was reused is ESTALE,
 * not the new file. The dentry table says where an inode was last seen
 * (parent inode, name); a directory is reached by opening each name of its
 * parent chain under the descriptor of the one above, starting from the
 * nearest directory already held (the export root at worst), and checking at
 * every step that the name still leads to the inode the table says. Any
 * mismatch is a miss: the TreeScanner walks the tree to refill the table, and
 * the resolution is tried once more (ESTALE after that).
 *
 * Cached directory descriptors (O_PATH, so they cost no open file on the
 * filesystem) follow their directory through renames. Each use re-stats the
 * descriptor: a directory removed (nlink 0) is ESTALE, and one whose ctime
 * moved since it was last checked — renamed, maybe out of the export by a
 * local process — is checked again by walking ".." up to the export root.
 * Our own changes inside a directory record its new ctime (touched()), so the
 * walk is only paid for changes made behind our back.
 */
import fs from 'node:fs';
import { storageError, type Node } from './types.js';
import { STAT_AT, encodeKey, genOf, statAtBirthNs } from './posix-util.js';
import { DentryTable, TreeScanner } from './posix-dentries.js';
import type { At, NodeRef } from './posix-at.js';

export class PosixNode implements Node {
  constructor(
    readonly key: Buffer,
    readonly fileid: bigint,
    readonly ino: bigint,
    readonly gen: bigint,
  ) {}
}

/** A STAT_AT array (posix-util.ts): what statx said of an object. */
export type Stat = BigInt64Array;

export const newStat = (): Stat => new BigInt64Array(STAT_AT.FIELDS);
export const typeBits = (st: Stat): number => Number(st[STAT_AT.MODE]) & 0o170000;
export const isDir = (st: Stat): boolean => typeBits(st) === 0o040000;
export const isReg = (st: Stat): boolean => typeBits(st) === 0o100000;
export const isLnk = (st: Stat): boolean => typeBits(st) === 0o120000;

/** A directory descriptor held for the length of one call; release() exactly once. */
export interface HeldDir {
  readonly fd: number;
  readonly ino: bigint;
  /** The directory's stat as it was held (refreshed in place by later holds of the same directory). */
  readonly st: Stat;
  release(): void;
}

/** Where a node is now: its directory (held), its name there, its stat. The root: itself, name ''. */
export interface Place {
  readonly dir: HeldDir;
  readonly name: string;
  readonly st: Stat;
}

interface Slot {
  readonly fd: number;
  readonly ino: bigint;
  readonly gen: bigint;
  /** Its stat as last checked (refreshed in place by every check: typed arrays are costly to make). */
  readonly st: Stat;
  /** ctime when last known to be beneath the export root. */
  csec: bigint;
  cnsec: bigint;
  refs: number;
  dead: boolean;
}

/** Longest parent chain followed; deeper means a corrupt (cyclic) table. 2,048 levels of 2-byte names pass 4 KiB. */
const MAX_DEPTH = 65536;
/** Bound of the node memo (nodeFor): ~200 bytes each, so ~13 MiB at most. */
const MAX_NODES = 65536;

export interface ResolverOptions {
  rootFd: number;
  rootIno: bigint;
  rootDev: bigint;
  useBirthtime: boolean;
  tag: number;
  maxDirFds: number;
  maxScanEntries: number;
}

export class Resolver {
  readonly table: DentryTable;
  readonly scanner: TreeScanner;
  private readonly slots = new Map<bigint, Slot>();
  private readonly root: Slot;
  private readonly nodes = new Map<bigint, PosixNode>();
  /** Scratch stats for synchronous paths that are done with them before returning (statNow's is the caller's until its next call). */
  private readonly walkSt = newStat();
  private readonly nowSt = newStat();

  constructor(
    readonly at: At,
    private readonly o: ResolverOptions,
  ) {
    this.table = new DentryTable(o.rootIno);
    const st = newStat();
    if (at.stat(o.rootFd, '', st) !== 0) throw storageError('ESTALE', 'export root unreadable');
    this.root = { fd: o.rootFd, ino: o.rootIno, gen: this.genOfStat(st), st, csec: 0n, cnsec: 0n, refs: 1, dead: false };
    this.scanner = new TreeScanner(this.table, { at, rootDev: o.rootDev, holdDir: (ino) => this.holdByIno(ino) }, o.maxScanEntries);
  }

  get rootIno(): bigint {
    return this.o.rootIno;
  }

  /** Directory descriptors cached now (tests, diagnostics). */
  get cachedDirs(): number {
    return this.slots.size;
  }

  // ---- identity --------------------------------------------------------------

  genOfStat(st: Stat): bigint {
    const b = statAtBirthNs(st);
    return this.o.useBirthtime && b > 0n ? genOf(b) : 0n;
  }

  /**
   * The node of (ino, gen), reusing the one minted last time when it is the
   * same object: re-serving a listing then allocates no key, and the export
   * layer's handle memo (keyed by node identity) hits.
   */
  nodeFor(ino: bigint, gen: bigint): PosixNode {
    const c = this.nodes.get(ino);
    if (c !== undefined && c.gen === gen) return c;
    const n = new PosixNode(encodeKey(this.o.tag, ino, gen), ino, ino, gen);
    // Bounded by dropping the whole memo: a plain Map hit stays one lookup.
    if (c === undefined && this.nodes.size >= MAX_NODES) this.nodes.clear();
    this.nodes.set(ino, n);
    return n;
  }

  /** The node of an object just stat'ed at (dir, name), recorded in the table. */
  found(st: Stat, dirIno: bigint, name: string): PosixNode {
    const ino = st[STAT_AT.INO];
    this.table.set(ino, dirIno, name);
    return this.nodeFor(ino, this.genOfStat(st));
  }

  matches(n: PosixNode, st: Stat): boolean {
    return st[STAT_AT.INO] === n.ino && this.genOfStat(st) === n.gen;
  }

  // ---- directory descriptors -------------------------------------------------

  private hold(s: Slot, st: Stat): HeldDir {
    s.refs++;
    let done = false;
    return {
      fd: s.fd,
      ino: s.ino,
      st,
      release: () => {
        if (done) return;
        done = true;
        this.unref(s);
      },
    };
  }

  private unref(s: Slot): void {
    if (s === this.root) return;
    s.refs--;
    if (s.dead && s.refs === 0) fs.closeSync(s.fd);
  }

  private drop(s: Slot): void {
    if (s === this.root || s.dead) return;
    if (this.slots.get(s.ino) === s) this.slots.delete(s.ino);
    s.dead = true;
    if (s.refs === 0) fs.closeSync(s.fd); // an O_PATH descriptor: closing it never waits
  }

  /** Forget a cached directory (removed, or replaced under its name). */
  forget(ino: bigint): void {
    const s = this.slots.get(ino);
    if (s !== undefined) this.drop(s);
  }

  /** A cached slot, checked: still linked, still beneath the root. Undefined (and dropped) otherwise. */
  private checked(s: Slot): HeldDir | undefined {
    const st = s.st;
    const bad = () => {
      this.drop(s);
      return undefined;
    };
    if (this.at.stat(s.fd, '', st) !== 0) return bad();
    if (s === this.root) return this.hold(s, st);
    if (st[STAT_AT.NLINK] === 0n) return bad();
    if (st[STAT_AT.CTIME_SEC] !== s.csec || st[STAT_AT.CTIME_NSEC] !== s.cnsec) {
      if (!this.beneathRoot(s.fd)) return bad();
      s.csec = st[STAT_AT.CTIME_SEC];
      s.cnsec = st[STAT_AT.CTIME_NSEC];
    }
    return this.hold(s, st);
  }

  /** Walk ".." from fd: true when it reaches the export root (and not the filesystem's top first). */
  private beneathRoot(fd: number): boolean {
    const st = this.walkSt;
    if (this.at.stat(fd, '', st) !== 0) return false;
    let cur = fd;
    let prev = st[STAT_AT.INO];
    let prevDev = st[STAT_AT.DEV];
    try {
      for (let depth = 0; depth < MAX_DEPTH; depth++) {
        const up = this.at.parentOf(cur);
        if (cur !== fd) fs.closeSync(cur);
        cur = up;
        if (this.at.stat(cur, '', st) !== 0) return false;
        const ino = st[STAT_AT.INO];
        const dev = st[STAT_AT.DEV];
        if (ino === this.o.rootIno && dev === this.o.rootDev) return true;
        if (ino === prev && dev === prevDev) return false; // the top: its ".." is itself
        prev = ino;
        prevDev = dev;
      }
      return false;
    } catch {
      return false;
    } finally {
      if (cur !== fd) fs.closeSync(cur);
    }
  }

  /** Cache a directory descriptor just opened and verified; returns it held. */
  private insert(fd: number, ino: bigint, st: Stat): HeldDir {
    const old = this.slots.get(ino);
    if (old !== undefined) this.drop(old);
    const s: Slot = { fd, ino, gen: this.genOfStat(st), st, csec: st[STAT_AT.CTIME_SEC], cnsec: st[STAT_AT.CTIME_NSEC], refs: 0, dead: false };
    this.slots.set(ino, s);
    if (this.slots.size > this.o.maxDirFds) this.trim();
    return this.hold(s, st);
  }

  /** Evict the least recently used idle descriptors beyond the bound (held ones may overshoot). */
  private trim(): void {
    for (const s of this.slots.values()) {
      if (this.slots.size <= this.o.maxDirFds) return;
      if (s.refs === 0) this.drop(s);
    }
  }

  /** Mark a slot recently used (Map order is the LRU order). */
  private touch(s: Slot): void {
    this.slots.delete(s.ino);
    this.slots.set(s.ino, s);
  }

  /**
   * The directory with inode `ino` held, whatever its generation (a held
   * descriptor pins its inode, so a cached one is the current object): from
   * the cache, or by opening its parent chain from the nearest cached
   * ancestor. Undefined when the table does not lead to it now.
   */
  holdByIno(ino: bigint): HeldDir | undefined {
    if (ino === this.o.rootIno) return this.checked(this.root);
    const chain: { ino: bigint; name: string }[] = [];
    let base: HeldDir | undefined;
    for (let cur = ino, depth = 0; base === undefined; depth++) {
      if (depth >= MAX_DEPTH) return undefined;
      const s = cur === this.o.rootIno ? this.root : this.slots.get(cur);
      if (s !== undefined) {
        base = this.checked(s);
        if (base !== undefined) {
          if (s !== this.root) this.touch(s);
          break;
        }
      }
      const e = this.table.get(cur);
      if (e === undefined) return undefined;
      chain.push({ ino: cur, name: e.name });
      cur = e.parent;
    }
    let parent = base;
    for (let i = chain.length - 1; i >= 0; i--) {
      let fd: number;
      try {
        fd = this.at.pathAt(parent.fd, chain[i].name, true);
      } catch {
        parent.release();
        return undefined;
      }
      const st = newStat();
      if (this.at.stat(fd, '', st) !== 0 || st[STAT_AT.INO] !== chain[i].ino) {
        fs.closeSync(fd);
        parent.release();
        return undefined;
      }
      parent.release();
      parent = this.insert(fd, chain[i].ino, st);
    }
    return parent;
  }

  /** holdByIno for a directory node: the generation must match (ESTALE otherwise), and it must be a directory. */
  private holdDirSync(n: PosixNode): HeldDir | undefined {
    const h = this.holdByIno(n.ino);
    if (h === undefined) return undefined;
    if (this.genOfStat(h.st) !== n.gen) {
      h.release();
      throw storageError('ESTALE', 'stale key');
    }
    if (!isDir(h.st)) {
      h.release();
      throw storageError('ENOTDIR', 'not a directory');
    }
    return h;
  }

  /**
   * A directory node held. ENOTDIR when the object is there but no directory,
   * ESTALE when it is gone (after one scan of the tree).
   */
  async dir(n: PosixNode): Promise<HeldDir> {
    const h = this.holdDirSync(n);
    if (h !== undefined) return h;
    this.notDirectory(n);
    const again = await this.afterScan(n, () => this.holdDirSync(n));
    if (again !== undefined) return again;
    this.notDirectory(n);
    throw storageError('ESTALE', 'stale key');
  }

  /** Throw ENOTDIR when n is reachable and no directory. */
  private notDirectory(n: PosixNode): void {
    const p = this.placeSync(n);
    if (p === undefined) return;
    p.dir.release();
    if (!isDir(p.st)) throw storageError('ENOTDIR', 'not a directory');
  }

  private async afterScan<T>(n: PosixNode, again: () => T | undefined): Promise<T | undefined> {
    if (n.ino === this.o.rootIno) throw storageError('ESTALE', 'export root changed');
    await this.scanner.find(n.ino, () => {
      const p = this.placeSync(n);
      p?.dir.release();
      return p !== undefined;
    });
    return again();
  }

  // ---- any object ------------------------------------------------------------

  /** The node's place now (its stat into `st`), or undefined when the table does not lead to it. */
  placeSync(n: PosixNode, st: Stat = newStat()): Place | undefined {
    if (n.ino === this.o.rootIno) {
      const h = this.checked(this.root);
      if (h === undefined || !this.matches(n, h.st)) {
        h?.release();
        return undefined;
      }
      return { dir: h, name: '', st: h.st };
    }
    const e = this.table.get(n.ino);
    if (e === undefined) return undefined;
    const dir = this.holdByIno(e.parent);
    if (dir === undefined) return undefined;
    if (this.at.stat(dir.fd, e.name, st) !== 0 || !this.matches(n, st)) {
      dir.release();
      return undefined;
    }
    return { dir, name: e.name, st };
  }

  /** The node's place; scans once on a miss; ESTALE if it is gone. The caller releases place.dir. */
  async place(n: PosixNode): Promise<Place> {
    const p = this.placeSync(n) ?? (await this.afterScan(n, () => this.placeSync(n)));
    if (p === undefined) throw storageError('ESTALE', 'stale key');
    return p;
  }

  /**
   * The node's stat now without waiting for anything (no scan, no lock: a
   * resolution that succeeds is right at that instant), or undefined on a miss.
   * The array is valid until the next statNow: use it before returning.
   */
  statNow(n: PosixNode): Stat | undefined {
    const s = this.slots.get(n.ino);
    if (s !== undefined && s.gen === n.gen) {
      const h = this.checked(s);
      if (h !== undefined) {
        h.release();
        return h.st;
      }
    }
    const p = this.placeSync(n, this.nowSt);
    p?.dir.release();
    return p?.st;
  }

  /** The node's stat (a fresh array): statNow, else after one scan; ESTALE if it is gone. */
  async stat(n: PosixNode): Promise<Stat> {
    const now = this.statNow(n);
    if (now !== undefined) return now.slice();
    const p = await this.place(n);
    p.dir.release();
    return p.st;
  }

  /**
   * A descriptor of the node itself (O_PATH) with its place, for calls that
   * must act on exactly this object (chown, chmod, utimes, readlink): done()
   * closes it and releases the directory.
   */
  async ref(n: PosixNode): Promise<{ ref: NodeRef; st: Stat; done(): void }> {
    const p = await this.place(n);
    if (p.name === '') return { ref: { fd: p.dir.fd, dir: p.dir.fd, name: '', isLink: false }, st: p.st, done: () => p.dir.release() };
    let fd: number;
    try {
      fd = this.at.pathAt(p.dir.fd, p.name, false);
    } catch (e) {
      p.dir.release();
      throw e;
    }
    const st = newStat();
    if (this.at.stat(fd, '', st) !== 0 || !this.matches(n, st)) {
      fs.closeSync(fd);
      p.dir.release();
      throw storageError('ESTALE', 'changed while opening');
    }
    return {
      ref: { fd, dir: p.dir.fd, name: p.name, isLink: isLnk(st) },
      st,
      done: () => {
        fs.closeSync(fd);
        p.dir.release();
      },
    };
  }

  /** After a change we made inside a held directory: its new ctime is ours, no re-check needed. */
  touched(h: HeldDir): void {
    const s = h.ino === this.o.rootIno ? undefined : this.slots.get(h.ino);
    if (s === undefined || s.dead) return;
    const st = newStat();
    if (this.at.stat(s.fd, '', st) === 0) {
      s.csec = st[STAT_AT.CTIME_SEC];
      s.cnsec = st[STAT_AT.CTIME_NSEC];
    }
  }

  /** Close every cached descriptor (the root's is the backend's to close). */
  closeAll(): void {
    this.scanner.stop();
    for (const s of [...this.slots.values()]) this.drop(s);
    this.nodes.clear();
  }
}
