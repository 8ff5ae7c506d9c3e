/**
 * The byte ranges a lock owner holds, as the server sees them under POSIX
 * rules: a new lock replaces whatever the owner held in its range (an
 * upgrade, a downgrade, a split), an unlock removes its range. Kept so that
 * the locks can be reclaimed exactly after a server restart, and unlocked
 * before CLOSE (NFSv4.1 refuses to close an open whose lock owner still
 * holds locks: NFS4ERR_LOCKS_HELD).
 */
import { NFS4_UINT64_MAX } from '../../nfs4/constants.js';

export interface HeldRange {
  start: bigint;
  /** Exclusive end; NFS4_UINT64_MAX: to the end of the file, however it grows. */
  end: bigint;
  exclusive: boolean;
}

/** offset + length as LOCK takes them: length all-ones is "to EOF". */
export function rangeEnd(start: bigint, length: bigint): bigint {
  if (length === NFS4_UINT64_MAX) return NFS4_UINT64_MAX;
  const e = start + length;
  return e >= NFS4_UINT64_MAX ? NFS4_UINT64_MAX : e;
}

export function rangeLength(r: { start: bigint; end: bigint }): bigint {
  return r.end === NFS4_UINT64_MAX ? NFS4_UINT64_MAX : r.end - r.start;
}

export class LockRanges {
  private ranges: HeldRange[] = [];

  get held(): readonly HeldRange[] {
    return this.ranges;
  }

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** The owner now holds [start, end) with this type. */
  add(start: bigint, end: bigint, exclusive: boolean): void {
    this.remove(start, end);
    this.ranges.push({ start, end, exclusive });
    this.ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    // Adjacent ranges of one type are one lock, as the server merges them.
    const out: HeldRange[] = [];
    for (const r of this.ranges) {
      const last = out[out.length - 1];
      if (last && last.exclusive === r.exclusive && last.end === r.start) last.end = r.end;
      else out.push({ ...r });
    }
    this.ranges = out;
  }

  /** The owner no longer holds anything in [start, end). */
  remove(start: bigint, end: bigint): void {
    const out: HeldRange[] = [];
    for (const r of this.ranges) {
      if (r.end <= start || r.start >= end) {
        out.push(r);
        continue;
      }
      if (r.start < start) out.push({ start: r.start, end: start, exclusive: r.exclusive });
      if (r.end > end) out.push({ start: end, end: r.end, exclusive: r.exclusive });
    }
    this.ranges = out;
  }

  clear(): void {
    this.ranges = [];
  }
}
