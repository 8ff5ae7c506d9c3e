/**
 * The POSIX backend's bounded cache of directory descriptors (O_PATH: they
 * cost no open file on the filesystem), used by the resolver (posix-resolve.ts).
 *
 * A cached descriptor follows its directory through renames. Each use re-stats
 * it: a directory removed (nlink 0) is dropped, and one whose ctime moved since
 * it was last checked — renamed, maybe out of the export by a local process —
 * is checked again by walking ".." up to the export root before it is used.
 * Our own changes inside a directory record its new ctime (touched()), so the
 * walk is only paid for changes made behind our back. Descriptors in use are
 * never closed underneath a call: eviction marks them dead, the last release
 * closes them.
 */
import fs from 'node:fs';
import { STAT_AT } from './posix-util.js';
import type { At } from './posix-at.js';

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

export interface Slot {
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

/** Longest walk up to the root; deeper means something is wrong. */
const MAX_DEPTH = 65536;

export class DirSlots {
  private readonly slots = new Map<bigint, Slot>();
  private readonly walkSt = newStat();

  constructor(
    private readonly at: At,
    /** The export root's slot: never evicted, never closed here. */
    readonly root: Slot,
    private readonly rootDev: bigint,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  get(ino: bigint): Slot | undefined {
    return ino === this.root.ino ? this.root : this.slots.get(ino);
  }

  hold(s: Slot, st: Stat): HeldDir {
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
  checked(s: Slot): HeldDir | undefined {
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
        if (ino === this.root.ino && dev === this.rootDev) return true;
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

  /** Cache a directory descriptor just opened and verified (its generation `gen`); returns it held. */
  insert(fd: number, ino: bigint, gen: bigint, st: Stat): HeldDir {
    const old = this.slots.get(ino);
    if (old !== undefined) this.drop(old);
    const s: Slot = { fd, ino, gen, st, csec: st[STAT_AT.CTIME_SEC], cnsec: st[STAT_AT.CTIME_NSEC], refs: 0, dead: false };
    this.slots.set(ino, s);
    if (this.slots.size > this.max) this.trim();
    return this.hold(s, st);
  }

  /** Evict the least recently used idle descriptors beyond the bound (held ones may overshoot). */
  private trim(): void {
    for (const s of this.slots.values()) {
      if (this.slots.size <= this.max) return;
      if (s.refs === 0) this.drop(s);
    }
  }

  /** Mark a slot recently used (Map order is the LRU order). */
  touch(s: Slot): void {
    if (s === this.root) return;
    this.slots.delete(s.ino);
    this.slots.set(s.ino, s);
  }

  /** After a change we made inside a held directory: its new ctime is ours, no re-check needed. */
  touched(h: HeldDir): void {
    const s = this.slots.get(h.ino);
    if (s === undefined || s.dead) return;
    const st = this.walkSt;
    if (this.at.stat(s.fd, '', st) === 0) {
      s.csec = st[STAT_AT.CTIME_SEC];
      s.cnsec = st[STAT_AT.CTIME_NSEC];
    }
  }

  /** Close every cached descriptor (the root's is the backend's to close). */
  closeAll(): void {
    for (const s of [...this.slots.values()]) this.drop(s);
  }
}
