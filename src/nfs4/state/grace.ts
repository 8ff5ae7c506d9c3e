/**
 * The grace period after a restart (RFC 8881 section 8.4.2, knfsd's nfs4state.c): the clients of
 * the previous server instance — those with a stable record — may reclaim their opens and locks,
 * and nobody may take a new one that could conflict with what they will reclaim. Rules only: the
 * clock is injected, the records come from the caller, nothing is read or written here.
 *
 * - It lasts `graceMs` (the lease by default) from the start, and ends early once every previous
 *   client has sent RECLAIM_COMPLETE or been found gone: it came back with another verifier (it
 *   restarted too, so it holds nothing to reclaim), or the client that came back in its name was
 *   destroyed or expired before it finished. With no previous client there is no grace at all.
 * - A reclaim near the end extends it by a second, up to one lease more (knfsd: a client that
 *   renews a little less often than once a lease may only learn of the restart late).
 * - A client may reclaim while the grace period lasts, before its own RECLAIM_COMPLETE, when it
 *   is a previous client come back: the same owner, verifier and principal as its record, and
 *   nothing of its state was revoked before the restart. Anything else: NFS4ERR_NO_GRACE.
 */
import { Nfs4Stat, type Nfs4Error } from '../constants.js';
import type { ClientRecord } from './records.js';
import type { StableClient } from './stable-record.js';

/** Where a previous client is in its recovery. */
export type PreviousState = 'waiting' | 'reclaiming' | 'done' | 'gone';

interface Previous {
  readonly rec: StableClient;
  state: PreviousState;
  /** The client that came back in its name and may reclaim (state 'reclaiming' or 'done'). */
  client?: ClientRecord;
}

export interface GraceOptions {
  previous: readonly StableClient[];
  graceMs: number;
  leaseMs: number;
  clock: () => number;
}

export type GraceEnd = 'no previous clients' | 'all reclaimed' | 'time';

/** What `confirmed` found: the client's record is the previous one ('adopt'), or that one is void ('replace'). */
export type Confirmed = 'adopt' | 'replace' | 'none';

export interface GraceStatus {
  active: boolean;
  graceSeconds: number;
  startedAt: number;
  /** ms until it ends on time (0 once over); a late reclaim may still extend it by a second. */
  remainingMs: number;
  endedAt?: number;
  endedBecause?: GraceEnd;
  previousClients: number;
  /** Previous clients still to reclaim (at most 64 listed). */
  pending: Array<{ owner: Buffer; state: 'waiting' | 'reclaiming' }>;
  pendingCount: number;
  reclaimedOpens: number;
  reclaimedLocks: number;
}

const LATE_RECLAIM_MS = 1000;

export class Grace {
  readonly startedAt: number;
  readonly graceMs: number;
  private readonly leaseMs: number;
  private readonly clock: () => number;
  private readonly previous = new Map<string, Previous>();
  private waiting = 0;
  private lastReclaim = -Infinity;
  private ended?: { at: number; because: GraceEnd };
  reclaimedOpens = 0;
  reclaimedLocks = 0;
  /** Called once when it ends, with the previous clients that did not come back to finish (their records go). */
  onEnd?: (unclaimed: StableClient[], because: GraceEnd) => void;

  constructor(o: GraceOptions) {
    this.clock = o.clock;
    this.startedAt = o.clock();
    this.graceMs = o.graceMs;
    this.leaseMs = o.leaseMs;
    for (const rec of o.previous) {
      const key = rec.ownerId.toString('hex');
      if (this.previous.has(key)) continue;
      // A client whose state was revoked can reclaim nothing: nobody waits for it.
      this.previous.set(key, { rec, state: rec.revoked ? 'gone' : 'waiting' });
      if (!rec.revoked) this.waiting++;
    }
    if (this.waiting === 0) this.ended = { at: this.startedAt, because: 'no previous clients' };
  }

  /** Whether the grace period lasts (ending it, when it is over). */
  active(): boolean {
    if (this.ended) return false;
    const now = this.clock();
    if (this.waiting === 0) this.end(now, 'all reclaimed');
    else if (now >= this.startedAt + this.graceMs) {
      const late = now - this.lastReclaim < LATE_RECLAIM_MS && now < this.startedAt + this.graceMs + this.leaseMs;
      if (!late) this.end(now, 'time');
    }
    return !this.ended;
  }

  private end(at: number, because: GraceEnd): void {
    this.ended = { at, because };
    // The records of those that did not come back to finish (whether a live client has written one
    // of its own in the same name since is the caller's to check).
    const unclaimed = [...this.previous.values()].filter((p) => p.state === 'waiting' || p.state === 'gone').map((p) => p.rec);
    this.onEnd?.(unclaimed, because);
  }

  private entry(c: ClientRecord): Previous | undefined {
    return this.previous.get(c.ownerId.toString('hex'));
  }

  /**
   * A client was confirmed (its first CREATE_SESSION). A previous client come back with its
   * verifier and principal may reclaim ('adopt': the record on disk is its own); one with another
   * verifier restarted and holds nothing of before ('replace': that record is void).
   */
  confirmed(c: ClientRecord): Confirmed {
    const p = this.entry(c);
    if (!p || p.state !== 'waiting' || this.ended) return 'none';
    if (!p.rec.verifier.equals(c.verifier)) {
      this.settle(p, 'gone');
      return 'replace';
    }
    // Another principal in its name cannot reclaim what the record's principal held.
    if (p.rec.principal !== c.principal) return 'none';
    p.state = 'reclaiming';
    p.client = c;
    return 'adopt';
  }

  private settle(p: Previous, to: 'done' | 'gone'): void {
    if (p.state === 'waiting' || p.state === 'reclaiming') this.waiting--;
    p.state = to;
  }

  /** Whether `c` may reclaim now: 0, or NFS4ERR_NO_GRACE. */
  mayReclaim(c: ClientRecord): 0 | Nfs4Error {
    if (c.reclaimComplete || !this.active()) return Nfs4Stat.NO_GRACE;
    const p = this.entry(c);
    if (!p || p.client !== c || p.state !== 'reclaiming' || p.rec.revoked) return Nfs4Stat.NO_GRACE;
    return 0;
  }

  /** A reclaim was granted. */
  reclaimed(kind: 'open' | 'lock'): void {
    this.lastReclaim = this.clock();
    if (kind === 'open') this.reclaimedOpens++;
    else this.reclaimedLocks++;
  }

  /** RECLAIM_COMPLETE from `c`. */
  completed(c: ClientRecord): void {
    const p = this.entry(c);
    if (p && p.client === c) this.settle(p, 'done');
  }

  /** `c` is gone (destroyed, expired, replaced): a previous client that came back as `c` and had not finished is gone too. */
  gone(c: ClientRecord): void {
    const p = this.entry(c);
    if (p && p.client === c && p.state === 'reclaiming') this.settle(p, 'gone');
  }

  /** Whether `c` came back as a previous client (its record on disk is the previous one). */
  adopted(c: ClientRecord): boolean {
    return this.entry(c)?.client === c;
  }

  status(): GraceStatus {
    const active = this.active();
    const pending: GraceStatus['pending'] = [];
    let pendingCount = 0;
    for (const p of this.previous.values()) {
      if (p.state !== 'waiting' && p.state !== 'reclaiming') continue;
      pendingCount++;
      if (pending.length < 64) pending.push({ owner: p.rec.ownerId, state: p.state });
    }
    return {
      active,
      graceSeconds: this.graceMs / 1000,
      startedAt: this.startedAt,
      remainingMs: active ? Math.max(0, this.startedAt + this.graceMs - this.clock()) : 0,
      endedAt: this.ended?.at,
      endedBecause: this.ended?.because,
      previousClients: this.previous.size,
      pending: active ? pending : [],
      pendingCount: active ? pendingCount : 0,
      reclaimedOpens: this.reclaimedOpens,
      reclaimedLocks: this.reclaimedLocks,
    };
  }
}
