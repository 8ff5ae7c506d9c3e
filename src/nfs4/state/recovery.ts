/**
 * Restart recovery: the grace period's rules (grace.ts) tied to the stable client records
 * (stable-store.ts), as knfsd's nfs4recover.c ties them to nfsdcld:
 *
 * - a client's record is written at its RECLAIM_COMPLETE, before the reply goes: from then on it
 *   may take new opens and locks (before it, only reclaims), so every client that can hold state
 *   has a record on disk — one write per client, not per open or lock;
 * - a previous client that comes back (same owner, verifier and principal) takes the record on
 *   disk over as its own; one that comes back with another verifier restarted, and its record goes;
 * - a record goes with its client (DESTROY_CLIENTID, expiry, a restart of the client, a collision);
 * - when the grace period ends, the records of previous clients that never came back go: after
 *   another restart they may reclaim nothing (a crash during the grace period keeps them);
 * - a client whose state is revoked while it lives gets its record marked, so that after a restart
 *   it reclaims nothing (RFC 8881 section 8.4.3: the state may have gone to another client since).
 *
 * A record that cannot be written is logged and counted and the client goes on (knfsd does the
 * same): only its recovery after a crash is lost.
 */
import { log } from '../../util/log.js';
import type { ClientRecord } from './records.js';
import { Grace, type GraceOptions } from './grace.js';
import type { StableClient } from './stable-record.js';

/** Where records go (ClientRecordStore on disk). */
export interface RecordSink {
  write(rec: StableClient): Promise<void>;
  remove(ownerId: Buffer): Promise<void>;
  /** Settles when all requests so far are on disk; undefined when none is outstanding. */
  idle(): Promise<void> | undefined;
}

function recordOf(c: ClientRecord, revoked: boolean, now: number): StableClient {
  return { ownerId: c.ownerId, verifier: c.verifier, principal: c.principal, since: now, revoked };
}

function printable(owner: Buffer): string {
  const s = owner.subarray(0, 64).toString('latin1');
  return /^[\x20-\x7e]*$/.test(s) ? s : owner.subarray(0, 32).toString('hex');
}

export class Recovery {
  readonly grace: Grace;
  /** Clients whose record on disk is theirs, by owner (hex). */
  private readonly recorded = new Map<string, ClientRecord>();
  private readonly clock: () => number;
  private readonly sink?: RecordSink;

  constructor(o: GraceOptions & { sink?: RecordSink }) {
    this.clock = o.clock;
    this.sink = o.sink;
    this.grace = new Grace(o);
    this.grace.onEnd = (unclaimed, because) => {
      let removed = 0;
      for (const rec of unclaimed) {
        // A live client in the same name has a record of its own there now.
        if (this.recorded.has(rec.ownerId.toString('hex'))) continue;
        removed++;
        this.sinkOp('remove', rec.ownerId, this.sink?.remove(rec.ownerId));
      }
      const s = this.grace.status();
      log.info('nfs4.grace.ended', { because, afterMs: (s.endedAt ?? 0) - s.startedAt, reclaimedOpens: s.reclaimedOpens, reclaimedLocks: s.reclaimedLocks, recordsRemoved: removed });
    };
  }

  private sinkOp(what: 'write' | 'remove', owner: Buffer, p: Promise<void> | undefined): Promise<void> {
    if (!p) return Promise.resolve();
    return p.catch((e: unknown) => {
      log.error('nfs4.record.failed', { op: what, owner: printable(owner), error: e as Error });
    });
  }

  /** A client was confirmed (its first CREATE_SESSION). */
  confirmed(c: ClientRecord): void {
    const r = this.grace.confirmed(c);
    if (r === 'adopt') this.recorded.set(c.ownerId.toString('hex'), c);
    else if (r === 'replace') void this.sinkOp('remove', c.ownerId, this.sink?.remove(c.ownerId));
  }

  /** RECLAIM_COMPLETE from `c`: settles once its record is on disk (a failure is logged, not thrown). */
  complete(c: ClientRecord): Promise<void> {
    this.grace.completed(c);
    const key = c.ownerId.toString('hex');
    if (this.recorded.get(key) === c) return Promise.resolve();
    this.recorded.set(key, c);
    return this.sinkOp('write', c.ownerId, this.sink?.write(recordOf(c, false, this.clock())));
  }

  /** `c` is gone with all its state: so is its record. */
  gone(c: ClientRecord): void {
    this.grace.gone(c);
    const key = c.ownerId.toString('hex');
    if (this.recorded.get(key) !== c) return;
    this.recorded.delete(key);
    void this.sinkOp('remove', c.ownerId, this.sink?.remove(c.ownerId));
  }

  /** Some of `c`'s state was revoked (it lives on): after a restart it may reclaim nothing. */
  revoked(c: ClientRecord): Promise<void> {
    if (this.recorded.get(c.ownerId.toString('hex')) !== c) return Promise.resolve();
    return this.sinkOp('write', c.ownerId, this.sink?.write(recordOf(c, true, this.clock())));
  }

  /** Whether `c` has a record (written or taken over). */
  hasRecord(c: ClientRecord): boolean {
    return this.recorded.get(c.ownerId.toString('hex')) === c;
  }

  /** Settles when every record change so far is on disk; undefined when none is outstanding. */
  idle(): Promise<void> | undefined {
    return this.sink?.idle();
  }
}
