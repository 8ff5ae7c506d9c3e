/**
 * The data of UNSTABLE writes the server has acknowledged but not yet
 * committed, per file: disjoint byte ranges, each with the write verifier
 * its WRITE reply carried. RFC 1813 §3.3.21: a client must keep such data
 * until a COMMIT returns the same verifier; a different verifier means the
 * server restarted (or lost data) and every range written under another
 * verifier must be sent again. A later write over a range replaces the older
 * data (the newest bytes are what the file must end up holding); a write the
 * server made stable (FILE_SYNC/DATA_SYNC) just removes the ranges it covers.
 */
import type { Lease } from './buffers.js';

export interface Range {
  start: number;
  end: number;
  /** The bytes: a view of the write's copy (buffers.ts), which a WRITE over the wire was sent from. */
  data: Buffer;
  verf: Buffer;
  /** Sequence number of the write that produced it: COMMIT covers writes completed before it was sent. */
  seq: number;
  /** Sequence number of the first write of these bytes (kept across re-sends): sync() waits for these. */
  born: number;
  /**
   * When `data` lives in a pooled copy (buffers.ts; small and huge copies have none): the set holds one reference per
   * range, taken over from add() and given back when the range is dropped or replaced by its pieces.
   */
  lease?: Lease;
}

/** `r` leaves the set, replaced by `pieces` (0–2) ranges viewing its data: they hold its lease instead. */
function handOver(r: Range, pieces: number): void {
  if (r.lease === undefined) return;
  for (let k = 0; k < pieces; k++) r.lease.retain();
  r.lease.release();
}

export class UncommittedSet {
  private ranges: Range[] = [];
  private total = 0;

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.ranges.length;
  }

  /** Index of the first range whose end is after `pos`. */
  private firstEndingAfter(pos: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid].end <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drop (or trim) whatever lies in [start, end); returns the index where a range starting at `start` belongs. */
  private cut(start: number, end: number): number {
    const rs = this.ranges;
    let i = this.firstEndingAfter(start);
    const at = i;
    const repl: Range[] = [];
    let j = i;
    while (j < rs.length && rs[j].start < end) {
      const r = rs[j];
      this.total -= r.end - r.start;
      const pieces = repl.length;
      if (r.start < start) repl.push({ ...r, end: start, data: r.data.subarray(0, start - r.start) });
      if (r.end > end) repl.push({ ...r, start: end, data: r.data.subarray(end - r.start) });
      handOver(r, repl.length - pieces);
      j++;
    }
    for (const r of repl) this.total += r.end - r.start;
    rs.splice(at, j - at, ...repl);
    // position for a new range starting at `start`: after any left remainder
    i = at;
    while (i < rs.length && rs[i].start < start) i++;
    return i;
  }

  /** Record acknowledged UNSTABLE data (replacing older data in its range); the set now holds r's lease. */
  add(r: Range): void {
    const rs = this.ranges;
    if (r.end <= r.start) {
      r.lease?.release();
      return;
    }
    if (rs.length === 0 || rs[rs.length - 1].end <= r.start) {
      rs.push(r);
    } else {
      const i = this.cut(r.start, r.end);
      rs.splice(i, 0, r);
    }
    this.total += r.end - r.start;
  }

  /** Data in [start, end) reached stable storage by other means: forget it. */
  stable(start: number, end: number): void {
    if (this.ranges.length === 0 || end <= start) return;
    this.cut(start, end);
  }

  /** Forget everything at or beyond `size` (the file was truncated). */
  truncate(size: number): void {
    if (this.ranges.length === 0) return;
    const last = this.ranges[this.ranges.length - 1].end;
    if (last > size) this.cut(size, last);
  }

  /**
   * A COMMIT sent after write `maxSeq` completed returned `verf`: ranges
   * written (seq ≤ maxSeq) under that verifier are safe and dropped; ranges
   * written under another verifier are returned for re-sending (they stay
   * in the set until the re-send replaces them).
   */
  settle(maxSeq: number, verf: Buffer): Range[] {
    const keep: Range[] = [];
    const stale: Range[] = [];
    for (const r of this.ranges) {
      if (r.seq > maxSeq) keep.push(r);
      else if (r.verf.equals(verf)) {
        this.total -= r.end - r.start;
        r.lease?.release();
      } else {
        keep.push(r);
        stale.push(r);
      }
    }
    this.ranges = keep;
    return stale;
  }

  /** Any range first written at or before `born`? (sync() is done when none is left.) */
  hasBornBy(born: number): boolean {
    return this.ranges.some((r) => r.born <= born);
  }

  /** Whether a range is still held exactly as given (not replaced by newer data). */
  holds(r: Range): boolean {
    const i = this.firstEndingAfter(r.start);
    const x = this.ranges[i];
    return x !== undefined && x === r;
  }

  all(): readonly Range[] {
    return this.ranges;
  }
}
