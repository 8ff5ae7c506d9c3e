/**
 * A small LRU of open descriptors keyed by inode number, so READ/WRITE/COMMIT
 * do not open and close the file per call (the hot path: a 1 MiB READ would
 * otherwise pay open+fstat+close on top of the copy).
 *
 * Read-only and read-write descriptors are separate entries: a file the
 * client only reads is never opened for writing (which would fail on a
 * read-only file for an unprivileged server). Entries in use (refs > 0) are
 * never closed underneath a request; eviction and close() mark them dead and
 * they are closed on release. Idle entries are closed after `idleMs`.
 *
 * Holding a descriptor pins the inode, so its number cannot be reused while
 * cached: a cached (ino, gen) is always the same object.
 */
import fs from 'node:fs';

export interface FdEntry {
  readonly fd: number;
  readonly ino: bigint;
  readonly gen: bigint;
  readonly rw: boolean;
  refs: number;
  lastUse: number;
  dead: boolean;
  /** A second descriptor of the same file opened with O_DIRECT (direct-write.ts), closed with this one. */
  direct?: number;
}

export class FdCache {
  private readonly ro = new Map<bigint, FdEntry>();
  private readonly rw = new Map<bigint, FdEntry>();
  private readonly closing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly max = 256,
    private readonly idleMs = 30_000,
  ) {}

  get size(): number {
    return this.ro.size + this.rw.size;
  }

  /** Take a reference on a cached descriptor. A read may use a read-write one, unless `exact`. */
  acquire(ino: bigint, gen: bigint, write: boolean, exact = false): FdEntry | undefined {
    let map = write || !exact ? this.rw : this.ro;
    let e = map.get(ino);
    if (e === undefined && !write && !exact) {
      map = this.ro;
      e = map.get(ino);
    }
    if (e === undefined || e.gen !== gen) return undefined;
    e.refs++;
    e.lastUse = Date.now();
    // Map order is the LRU order: move to the back.
    map.delete(ino);
    map.set(ino, e);
    return e;
  }

  /** True when some descriptor for exactly this (ino, gen) is cached. */
  holds(ino: bigint, gen: bigint): boolean {
    const e = this.rw.get(ino) ?? this.ro.get(ino);
    return e !== undefined && e.gen === gen;
  }

  /** Any cached descriptor for the inode, unreferenced (for fstat). */
  peek(ino: bigint, gen: bigint): FdEntry | undefined {
    const e = this.rw.get(ino) ?? this.ro.get(ino);
    return e !== undefined && e.gen === gen ? e : undefined;
  }

  /**
   * Cache a freshly opened descriptor and return a referenced entry. If a
   * concurrent open won the race, the new descriptor is closed and the
   * existing entry is used instead.
   */
  insert(fd: number, ino: bigint, gen: bigint, write: boolean): FdEntry {
    const map = write ? this.rw : this.ro;
    const existing = map.get(ino);
    if (existing !== undefined && existing.gen === gen && !existing.dead) {
      this.closeFd(fd);
      existing.refs++;
      existing.lastUse = Date.now();
      return existing;
    }
    if (existing !== undefined) this.drop(map, existing);
    const e: FdEntry = { fd, ino, gen, rw: write, refs: 1, lastUse: Date.now(), dead: false };
    map.set(ino, e);
    this.trim();
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), Math.min(this.idleMs, 10_000));
      this.timer.unref();
    }
    return e;
  }

  release(e: FdEntry): void {
    e.refs--;
    e.lastUse = Date.now();
    if (e.dead && e.refs === 0) this.closeEntry(e);
  }

  /** Forget every descriptor for an inode (it was removed or replaced). */
  evict(ino: bigint): void {
    const r = this.ro.get(ino);
    if (r !== undefined) this.drop(this.ro, r);
    const w = this.rw.get(ino);
    if (w !== undefined) this.drop(this.rw, w);
  }

  /** Close everything; resolves when every descriptor not in use is closed. */
  async closeAll(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const e of [...this.ro.values()]) this.drop(this.ro, e);
    for (const e of [...this.rw.values()]) this.drop(this.rw, e);
    await Promise.all([...this.closing]);
  }

  private drop(map: Map<bigint, FdEntry>, e: FdEntry): void {
    if (map.get(e.ino) === e) map.delete(e.ino);
    if (e.dead) return;
    e.dead = true;
    if (e.refs === 0) this.closeEntry(e);
  }

  /** Evict least recently used idle entries beyond `max` (in-use ones may overshoot). */
  private trim(): void {
    while (this.size > this.max) {
      const victim = this.oldestIdle();
      if (victim === undefined) return;
      this.drop(victim.rw ? this.rw : this.ro, victim);
    }
  }

  private oldestIdle(): FdEntry | undefined {
    let best: FdEntry | undefined;
    for (const map of [this.ro, this.rw]) {
      for (const e of map.values()) {
        if (e.refs > 0) continue;
        if (best === undefined || e.lastUse < best.lastUse) best = e;
        break; // Map order is LRU order: the first idle entry is that map's oldest.
      }
    }
    return best;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const map of [this.ro, this.rw]) {
      for (const e of [...map.values()]) {
        if (e.refs === 0 && e.lastUse < cutoff) this.drop(map, e);
      }
    }
  }

  private closeEntry(e: FdEntry): void {
    this.closeFd(e.fd);
    if (e.direct !== undefined) this.closeFd(e.direct);
    e.direct = undefined;
  }

  private closeFd(fd: number): void {
    const p = new Promise<void>((resolve) => fs.close(fd, () => resolve()));
    this.closing.add(p);
    void p.then(() => this.closing.delete(p));
  }
}
