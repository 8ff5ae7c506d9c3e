/**
 * The POSIX backend's map from inode number to where it was last seen:
 * (parent directory inode, name). A node is reached by opening each name of
 * its parent chain under the descriptor of the one above (posix-resolve.ts),
 * so renaming a directory (one entry changes) does not invalidate anything
 * below it, and no path is ever built.
 *
 * The table is a cache, never the truth: every use re-checks what a name
 * leads to against the node's (ino, generation). When that fails (the server
 * restarted, or something changed behind our back), the TreeScanner walks the
 * exported tree breadth-first and refills the table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { STAT_AT } from './posix-util.js';
import type { At } from './posix-at.js';

interface Dentry {
  parent: bigint;
  name: string;
}

export class DentryTable {
  private readonly map = new Map<bigint, Dentry>();

  constructor(readonly rootIno: bigint) {}

  get size(): number {
    return this.map.size;
  }

  set(ino: bigint, parent: bigint, name: string): void {
    if (ino === this.rootIno) return;
    const e = this.map.get(ino);
    if (e !== undefined && e.parent === parent && e.name === name) return;
    this.map.set(ino, { parent, name });
  }

  delete(ino: bigint): void {
    this.map.delete(ino);
  }

  /** Forget `ino` only if it was recorded under this name (other hard links survive). */
  deleteIf(ino: bigint, parent: bigint, name: string): void {
    const e = this.map.get(ino);
    if (e !== undefined && e.parent === parent && e.name === name) this.map.delete(ino);
  }

  /** Where `ino` was last seen: its parent directory's inode and its name there. */
  get(ino: bigint): Readonly<Dentry> | undefined {
    return this.map.get(ino);
  }

  /** Persist atomically (write + rename) so a crash never leaves a torn file. */
  save(file: string, rootGen: bigint): void {
    const entries: [string, string, string][] = [];
    for (const [ino, e] of this.map) entries.push([ino.toString(), e.parent.toString(), e.name]);
    const body = JSON.stringify({ v: 1, rootIno: this.rootIno.toString(), rootGen: rootGen.toString(), entries });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, body, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  /** Load a saved table for the same root; silently ignore anything unusable. */
  load(file: string, rootGen: bigint): number {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return 0;
    }
    const d = data as { v?: unknown; rootIno?: unknown; rootGen?: unknown; entries?: unknown };
    if (d.v !== 1 || d.rootIno !== this.rootIno.toString() || d.rootGen !== rootGen.toString()) return 0;
    if (!Array.isArray(d.entries)) return 0;
    let n = 0;
    for (const row of d.entries as unknown[]) {
      if (!Array.isArray(row) || row.length !== 3) continue;
      const [ino, parent, name] = row as unknown[];
      if (typeof ino !== 'string' || typeof parent !== 'string' || typeof name !== 'string') continue;
      if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) continue;
      try {
        this.set(BigInt(ino), BigInt(parent), name);
        n++;
      } catch {
        // not a number: skip
      }
    }
    return n;
  }
}

interface Scan {
  /** Callers waiting for an inode; woken as soon as the scan records it. */
  waiters: Map<bigint, (() => void)[]>;
  done: Promise<void>;
}

/** Entries lstat'ed between yields to the event loop. */
const CHUNK = 512;
/**
 * After a scan has finished, a miss within this window is answered ESTALE
 * without another scan: the table is as complete as a scan can make it, and
 * a burst of stale keys must not turn into a burst of full-tree walks.
 */
const RESCAN_AFTER_MS = 1000;

/** What a scan needs of the backend: a directory held by inode number, to list relative to it. */
export interface ScanSource {
  readonly at: At;
  readonly rootDev: bigint;
  /** The directory with inode `ino` held open (reached through the table), or undefined when it cannot be now. */
  holdDir(ino: bigint): { readonly fd: number; release(): void } | undefined;
}

/**
 * Breadth-first walk of the exported tree that records every entry in the
 * table. One scan runs at a time; callers arriving meanwhile join it. A
 * caller is woken as soon as its inode is recorded, but the scan always runs
 * on to the end (or `maxEntries`), so after a restart the first stale key
 * fills the table for all the keys that follow. It stays on the root's
 * device (mount points are not crossed). Directories are listed and their
 * entries stat'ed relative to a descriptor of the directory, reached through
 * the entries the scan itself just recorded: no path, however deep.
 *
 * The scan only fills the cache; it acts on nothing, and every use of a
 * table entry is re-verified, so it needs no namespace lock.
 */
export class TreeScanner {
  private current: Scan | undefined;
  private lastEnd = 0;
  private stopped = false;
  scans = 0;

  constructor(
    private readonly table: DentryTable,
    private readonly src: ScanSource,
    private readonly maxEntries: number,
  ) {}

  /**
   * Wait until `ino` is recorded by a scan (or a scan ends without it).
   * `found` tells whether the caller is now satisfied: a caller that joined a
   * scan already under way may have missed its object (moved while the scan
   * was elsewhere), so it gets one fresh scan of its own.
   */
  async find(ino: bigint, found: () => boolean): Promise<void> {
    if (this.current === undefined && Date.now() - this.lastEnd < RESCAN_AFTER_MS) return;
    for (let attempt = 0; attempt < 2 && !this.stopped; attempt++) {
      const joined = this.current !== undefined;
      const scan = this.current ?? this.start();
      await new Promise<void>((wake) => {
        const list = scan.waiters.get(ino);
        if (list === undefined) scan.waiters.set(ino, [wake]);
        else list.push(wake);
      });
      if (!joined || found()) return;
      if (this.current === scan) await scan.done; // let it finish before starting another
    }
  }

  /** The table lost entries it cannot refill by itself: let the next miss scan again. */
  invalidate(): void {
    this.lastEnd = 0;
  }

  /** Stop any running scan (the backend is closing). */
  stop(): void {
    this.stopped = true;
  }

  private start(): Scan {
    const scan: Scan = { waiters: new Map(), done: Promise.resolve() };
    this.current = scan;
    this.scans++;
    scan.done = this.run(scan)
      .catch(() => undefined)
      .finally(() => {
        this.lastEnd = Date.now();
        if (this.current === scan) this.current = undefined;
        for (const list of scan.waiters.values()) for (const wake of list) wake();
        scan.waiters.clear();
      });
    return scan;
  }

  private async run(scan: Scan): Promise<void> {
    const queue: (bigint | undefined)[] = [this.table.rootIno];
    const st = new BigInt64Array(STAT_AT.FIELDS);
    const { at, rootDev } = this.src;
    let seen = 0;
    for (let qi = 0; qi < queue.length && !this.stopped; qi++) {
      const dirIno = queue[qi]!;
      queue[qi] = undefined; // let visited entries be collected
      const dir = this.src.holdDir(dirIno);
      if (dir === undefined) continue; // vanished or unreachable: nothing to learn here
      try {
        let names: string[];
        try {
          names = (await at.readdir(dir.fd)).names;
        } catch {
          continue;
        }
        for (let i = 0; i < names.length; i++) {
          if (i > 0 && i % CHUNK === 0) await new Promise((r) => setImmediate(r));
          if (at.stat(dir.fd, names[i], st) !== 0) continue;
          const ino = st[STAT_AT.INO];
          this.table.set(ino, dirIno, names[i]);
          const list = scan.waiters.get(ino);
          if (list !== undefined) {
            scan.waiters.delete(ino);
            for (const wake of list) wake();
          }
          if ((Number(st[STAT_AT.MODE]) & 0o170000) === 0o040000 && st[STAT_AT.DEV] === rootDev) queue.push(ino);
          if (++seen >= this.maxEntries) return;
        }
      } finally {
        dir.release();
      }
    }
  }
}
