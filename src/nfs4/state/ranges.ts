/**
 * POSIX byte-range locks of one file, as plain data (no wire, no clients): each lock is an owner's
 * half-open range [start, end) of type read or write, where end = RANGE_END means "to the end of
 * the file, however far it grows" (NFSv4's length of all ones). The rules are fcntl's:
 * - a request conflicts with another owner's lock that overlaps it when either of the two is a
 *   write lock; an owner never conflicts with itself;
 * - a granted request replaces whatever the owner held in its range (a read↔write upgrade or
 *   downgrade of that part; the rest of a lock that sticks out is kept, split if need be), and
 *   merges with the owner's locks of the same type that overlap or touch it;
 * - an unlock removes the owner's coverage of its range, splitting a lock that spans it; unlocking
 *   a range with nothing in it is no error.
 * Locks are kept sorted by start; the table is bounded by its owner.
 */

/** One past the last byte: "to the end of the file". */
export const RANGE_END = 1n << 64n;

export type LockKind = 'read' | 'write';

export interface RangeLock {
  /** Opaque owner identity (the same owner compares equal by this key). */
  readonly owner: string;
  readonly kind: LockKind;
  readonly start: bigint;
  /** Exclusive; RANGE_END = to the end of the file. */
  readonly end: bigint;
}

/**
 * NFSv4's (offset, length) as [start, end): length 0 is invalid, all ones means to the end, and
 * offset + length past 2^64 is invalid (RFC 8881 section 18.10.3: NFS4ERR_INVAL).
 */
export function rangeOf(offset: bigint, length: bigint): { start: bigint; end: bigint } | undefined {
  if (length === 0n) return undefined;
  if (length === 0xffffffffffffffffn) return { start: offset, end: RANGE_END };
  const end = offset + length;
  if (end > RANGE_END) return undefined;
  return { start: offset, end };
}

/** NFSv4's length of a lock: all ones when it runs to the end of the file. */
export function lengthOf(l: { start: bigint; end: bigint }): bigint {
  return l.end === RANGE_END ? 0xffffffffffffffffn : l.end - l.start;
}

function overlaps(a: { start: bigint; end: bigint }, start: bigint, end: bigint): boolean {
  return a.start < end && start < a.end;
}

export class RangeLocks {
  private locks: RangeLock[] = [];

  get size(): number {
    return this.locks.length;
  }

  all(): readonly RangeLock[] {
    return this.locks;
  }

  /** The first lock of another owner that a request (owner, kind, range) conflicts with. */
  conflict(owner: string, kind: LockKind, start: bigint, end: bigint): RangeLock | undefined {
    for (const l of this.locks) {
      if (l.start >= end) break;
      if (l.owner !== owner && overlaps(l, start, end) && (kind === 'write' || l.kind === 'write')) return l;
    }
    return undefined;
  }

  /** Whether `owner` holds any lock. */
  holds(owner: string): boolean {
    return this.locks.some((l) => l.owner === owner);
  }

  /**
   * How many locks the table would hold after `lock` (a bound is checked before granting:
   * splitting can add one).
   */
  sizeAfterLock(owner: string, start: bigint, end: bigint): number {
    return this.locks.length + 2 - this.locks.filter((l) => l.owner === owner && overlaps(l, start, end)).length;
  }

  /** Grant (the caller checked `conflict`): the owner's range becomes `kind`. */
  lock(owner: string, kind: LockKind, start: bigint, end: bigint): void {
    this.cut(owner, start, end);
    let s = start;
    let e = end;
    // Merge with the owner's same-kind locks that overlap or touch the range.
    const keep: RangeLock[] = [];
    for (const l of this.locks) {
      if (l.owner === owner && l.kind === kind && l.start <= e && s <= l.end) {
        if (l.start < s) s = l.start;
        if (l.end > e) e = l.end;
      } else keep.push(l);
    }
    keep.push({ owner, kind, start: s, end: e });
    keep.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.locks = keep;
  }

  /** Remove the owner's coverage of [start, end). */
  unlock(owner: string, start: bigint, end: bigint): void {
    this.cut(owner, start, end);
  }

  /** Drop every lock of `owner`. */
  release(owner: string): void {
    this.locks = this.locks.filter((l) => l.owner !== owner);
  }

  private cut(owner: string, start: bigint, end: bigint): void {
    const out: RangeLock[] = [];
    for (const l of this.locks) {
      if (l.owner !== owner || !overlaps(l, start, end)) {
        out.push(l);
        continue;
      }
      if (l.start < start) out.push({ ...l, end: start });
      if (l.end > end) out.push({ ...l, start: end });
    }
    out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.locks = out;
  }
}
