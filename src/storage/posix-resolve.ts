/**
 * How the POSIX backend reaches an object without a path: node identity and
 * resolution through the dentry table one name at a time (posix-at.ts does
 * the calls, posix-dirs.ts keeps the directory descriptors).
 *
 * A node is (inode number, generation); the generation is the birth time where
 * the filesystem has one, so a key whose inode number was reused is ESTALE,
 * not the new file. The dentry table says where an inode was last seen
 * (parent inode, name); a directory is reached by opening each name of its
 * parent chain under the descriptor of the one above, starting from the
 * nearest directory already held (the export root at worst), and checking at
 * every step that the name still leads to the inode the table says. Any
 * mismatch is a miss: the TreeScanner walks the tree to refill the table, and
 * the resolution is tried once more (ESTALE after that). The directories
 * held on the way stay cached (posix-dirs.ts), so the next object in them
 * costs one statx.
 */
import fs from 'node:fs';
import { storageError, type Node } from './types.js';
import { STAT_AT, encodeKey, genOf, statAtBirthNs } from './posix-util.js';
import { DentryTable, TreeScanner } from './posix-dentries.js';
import { DirSlots, isDir, isLnk, isReg, newStat, type HeldDir, type Stat } from './posix-dirs.js';
import type { At, NodeRef } from './posix-at.js';
import { Pins } from './posix-pins.js';

export class PosixNode implements Node {
  constructor(
    readonly key: Buffer,
    readonly fileid: bigint,
    readonly ino: bigint,
    readonly gen: bigint,
  ) {}
}

/** Where a node is now: its directory (held), its name there, its stat. The root: itself, name ''. */
export interface Place {
  readonly dir: HeldDir;
  readonly name: string;
  readonly st: Stat;
}

/** Longest parent chain followed; deeper means a corrupt (cyclic) table. */
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
  private readonly dirs: DirSlots;
  private readonly nodes = new Map<bigint, PosixNode>();
  /** Files held reachable by their node (Backend.hold): found through their own descriptor, never by name. */
  readonly pins: Pins;
  /** statNow's scratch: the caller's until its next call. */
  private readonly nowSt = newStat();

  constructor(
    readonly at: At,
    private readonly o: ResolverOptions,
  ) {
    this.table = new DentryTable(o.rootIno);
    this.pins = new Pins(at);
    const st = newStat();
    if (at.stat(o.rootFd, '', st) !== 0) throw storageError('ESTALE', 'export root unreadable');
    const root = { fd: o.rootFd, ino: o.rootIno, gen: this.genOfStat(st), st, csec: 0n, cnsec: 0n, refs: 1, dead: false };
    this.dirs = new DirSlots(at, root, o.rootDev, o.maxDirFds);
    this.scanner = new TreeScanner(this.table, { at, rootDev: o.rootDev, holdDir: (ino) => this.holdByIno(ino) }, o.maxScanEntries);
  }

  get rootIno(): bigint {
    return this.o.rootIno;
  }

  /** Directory descriptors cached now (tests, diagnostics). */
  get cachedDirs(): number {
    return this.dirs.size;
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

  /**
   * The directory with inode `ino` held, whatever its generation (a held
   * descriptor pins its inode, so a cached one is the current object): from
   * the cache, or by opening its parent chain from the nearest cached
   * ancestor. Undefined when the table does not lead to it now.
   */
  holdByIno(ino: bigint): HeldDir | undefined {
    if (ino === this.o.rootIno) return this.dirs.checked(this.dirs.root);
    const chain: { ino: bigint; name: string }[] = [];
    let base: HeldDir | undefined;
    for (let cur = ino, depth = 0; base === undefined; depth++) {
      if (depth >= MAX_DEPTH) return undefined;
      const s = this.dirs.get(cur);
      if (s !== undefined) {
        base = this.dirs.checked(s);
        if (base !== undefined) {
          this.dirs.touch(s);
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
      parent = this.dirs.insert(fd, chain[i].ino, this.genOfStat(st), st);
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
      const h = this.dirs.checked(this.dirs.root);
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
    if (this.pins.stat(n.ino, n.gen, this.nowSt)) return this.nowSt;
    const s = this.dirs.get(n.ino);
    if (s !== undefined && s.gen === n.gen) {
      const h = this.dirs.checked(s);
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
    const pinned = this.pins.fd(n.ino, n.gen);
    if (pinned !== undefined) {
      // Only regular files are pinned: the descriptor is all a call on the object needs, linked or not.
      const st = newStat();
      this.pins.stat(n.ino, n.gen, st);
      return { ref: { fd: pinned, dir: pinned, name: '', isLink: false }, st, done: () => undefined };
    }
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
    this.dirs.touched(h);
  }

  /** Forget a cached directory (removed, or replaced under its name). */
  forget(ino: bigint): void {
    this.dirs.forget(ino);
  }

  /**
   * Keep a regular file reachable by its node until the returned function is
   * called, even once no name leads to it (posix-pins.ts); `unpinned` runs
   * when the last pin goes.
   */
  async pin(n: PosixNode, unpinned: () => void): Promise<() => void> {
    return this.pins.pin(n.ino, n.gen, async () => {
      const p = await this.place(n);
      let fd: number;
      try {
        if (!isReg(p.st)) throw storageError('EINVAL', 'only regular files are held open');
        fd = this.at.pathAt(p.dir.fd, p.name, false);
      } finally {
        p.dir.release();
      }
      const st = newStat();
      if (this.at.stat(fd, '', st) !== 0 || !this.matches(n, st)) {
        fs.closeSync(fd);
        throw storageError('ESTALE', 'changed while pinning');
      }
      return fd;
    }, unpinned);
  }

  /** Close every cached descriptor (the root's is the backend's to close). */
  closeAll(): void {
    this.pins.closeAll();
    this.scanner.stop();
    this.dirs.closeAll();
    this.nodes.clear();
  }
}
