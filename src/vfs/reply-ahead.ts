/**
 * Reply-ahead for directory listings, shared by NFSv3 READDIRPLUS and NFSv4 READDIR: a client lists
 * a directory one reply at a time, sending the next request only once it has the previous reply,
 * so a listing costs its pages' work plus a round trip per page, one after the other. Once a reply
 * that is not the last has gone out, the next page (same caller, directory and budgets, from where
 * this one ended) is computed while that reply travels and the client reads it; the next request
 * then only passes the gate and takes it.
 *
 * A page is served only when it is fresh: computed at most `maxAgeMs` earlier, no modifying NFS
 * call began or ended since it started (the change clock), and the directory's ctime, mtime and
 * size as the request's gate sees them are those it was computed with. Otherwise — and for any
 * other request — the caller computes the page then, as always. At most MAX_AHEAD pages wait.
 */
import type { Attrs } from '../storage/types.js';
import type { ChangeClock } from '../util/changes.js';

const MAX_AHEAD = 32;

/** Pages computed ahead (started), served to their request, and found stale when asked for. */
export interface AheadStats {
  started: number;
  served: number;
  stale: number;
}

interface Ahead<P> {
  page: Promise<P | undefined>;
  born: number;
  /** The change clock when the computation started: the page is used only if it has not moved since. */
  before: number | undefined;
  /** The directory's ctime, mtime and size when computed; the request's gate must see the same. */
  dirStamp?: string;
}

function dirStamp(a: Attrs): string {
  return `${a.ctime.sec}.${a.ctime.nsec}|${a.mtime.sec}.${a.mtime.nsec}|${a.size}`;
}

export class ReplyAhead<P> {
  private readonly ahead = new Map<string, Ahead<P>>();

  constructor(
    private readonly changes: ChangeClock | undefined,
    readonly stats: AheadStats,
    private readonly maxAgeMs: number,
  ) {}

  /** A fresh page computed ahead for the request of `key` on a directory with `dir` attributes (taken: used once). */
  async take(key: string, dir: Attrs): Promise<P | undefined> {
    const a = this.ahead.get(key);
    if (a === undefined) return undefined;
    this.ahead.delete(key);
    const page = await a.page;
    const fresh =
      page !== undefined &&
      Date.now() - a.born <= this.maxAgeMs &&
      this.changes !== undefined &&
      this.changes.unchangedSince(a.before) &&
      a.dirStamp === dirStamp(dir);
    if (fresh) this.stats.served++;
    else this.stats.stale++;
    return fresh ? page : undefined;
  }

  /**
   * Compute the page of `key` in the background, after the current reply has been handed to the
   * socket: `compute` passes the gate as a request would (the directory may have gone, or stopped
   * being this caller's to read) and gives the directory's attributes it saw with the page; a
   * failure is no page.
   */
  start(key: string, compute: () => Promise<{ dir: Attrs; page: P }>): void {
    const changes = this.changes;
    if (changes === undefined || this.ahead.has(key)) return;
    // Oldest first (insertion order): drop the ones nobody asked for in time, then make room.
    const now = Date.now();
    for (const [k, x] of this.ahead) {
      if (now - x.born <= this.maxAgeMs && this.ahead.size < MAX_AHEAD) break;
      this.ahead.delete(k);
    }
    const a: Ahead<P> = { page: Promise.resolve(undefined), born: now, before: undefined };
    this.ahead.set(key, a);
    this.stats.started++;
    a.page = new Promise<void>((r) => setImmediate(r)).then(async () => {
      a.before = changes.stamp();
      a.born = Date.now();
      try {
        const r = await compute();
        a.dirStamp = dirStamp(r.dir);
        return r.page;
      } catch {
        return undefined;
      }
    });
  }
}
