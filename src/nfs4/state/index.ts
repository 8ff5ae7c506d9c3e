/**
 * NFSv4.1 state (DESIGN.md §7): clients and sessions (clients.ts), each session's slot table —
 * the duplicate request cache — (slots.ts), open and lock state with their stateids (files.ts,
 * ranges.ts, stateid.ts), and leases. Plain data structures and rules with no wire: the
 * operations in ../ops call these and turn the statuses into results. Bounded everywhere
 * (limits.ts). The clock is injected so that tests drive leases without waiting.
 */
import { Nfs4Stat, type Nfs4Error } from '../constants.js';
import type { Sequence4Args } from '../types.js';
import { Clients, type ChannelBounds, type Status } from './clients.js';
import { Files } from './files.js';
import { DEFAULT_STATE_LIMITS, type StateLimits } from './limits.js';
import type { ClientRecord, SessionRecord } from './records.js';
import type { Slot } from './slots.js';
import { StateidMint, specialStateid } from './stateid.js';
import { Recovery, type RecordSink } from './recovery.js';
import type { StableClient } from './stable-record.js';
import type { Stateid4 } from '../types.js';

export { Clients, Files, StateidMint };
export type { ClientRecord, SessionRecord, Slot, StateLimits, Status };
export * from './records.js';
export * from './stateid.js';
export { RANGE_END, rangeOf, lengthOf, type LockKind } from './ranges.js';
export type { LockHolder } from './files.js';
export { DEFAULT_STATE_LIMITS } from './limits.js';
export { Recovery, type RecordSink } from './recovery.js';
export type { GraceStatus } from './grace.js';
export type { StableClient } from './stable-record.js';

export interface Nfs4StateOptions {
  /** The lease, seconds (90 by default, as knfsd). */
  leaseSeconds?: number;
  /** Distinguishes this server instance's clientids, sessionids and stateids from an earlier one's. */
  epoch: number;
  limits?: Partial<StateLimits>;
  bounds: ChannelBounds;
  /** Milliseconds; Date.now by default. */
  clock?: () => number;
  /** How long an expired client keeps state nobody else wants (seconds; a day by default, as knfsd). */
  courtesySeconds?: number;
  /** The stable records of the previous instance's clients: they may reclaim in the grace period. */
  previous?: readonly StableClient[];
  /** The grace period after a restart, seconds (the lease by default). */
  graceSeconds?: number;
  /** Where client records are written (none: nothing survives a restart). */
  records?: RecordSink;
}

export type SequenceUse =
  | { kind: 'new'; session: SessionRecord; slot: Slot; statusFlags: number }
  | { kind: 'replay'; session: SessionRecord; reply: Buffer }
  | { kind: 'error'; status: Nfs4Error };

export class Nfs4State {
  readonly leaseSeconds: number;
  readonly limits: StateLimits;
  readonly mint: StateidMint;
  readonly clients: Clients;
  readonly files: Files;
  readonly clock: () => number;
  /** How long an expired client's state is kept while nobody needs it (ms). */
  readonly courtesyMs: number;
  /** Restart recovery: the grace period and the stable client records. */
  readonly recovery: Recovery;

  constructor(o: Nfs4StateOptions) {
    this.leaseSeconds = o.leaseSeconds ?? 90;
    this.limits = Object.freeze({ ...DEFAULT_STATE_LIMITS, ...o.limits });
    this.clock = o.clock ?? Date.now;
    this.courtesyMs = o.courtesySeconds !== undefined ? o.courtesySeconds * 1000 : 24 * 3600 * 1000;
    this.mint = new StateidMint(o.epoch);
    this.files = new Files(this.mint, this.limits);
    this.recovery = new Recovery({
      previous: o.previous ?? [],
      graceMs: (o.graceSeconds ?? this.leaseSeconds) * 1000,
      leaseMs: this.leaseMs,
      clock: this.clock,
      sink: o.records,
    });
    this.clients = new Clients(o.epoch, this.limits, o.bounds, this.clock, (c) => {
      this.files.dropClient(c);
      this.recovery.gone(c);
    });
    this.clients.onConfirm = (c) => this.recovery.confirmed(c);
    this.files.courtesy = {
      expired: (c) => this.clock() - c.renewed > this.leaseMs && ![...c.sessions.values()].some((s) => s.slots.busy() > 0),
      expunge: (c) => this.clients.expunge(c),
    };
  }

  get leaseMs(): number {
    return this.leaseSeconds * 1000;
  }

  /**
   * SEQUENCE (RFC 8881 section 18.46): the session, the slot (a new request, or the reply a
   * retransmission gets), renewing the lease. `opCount` and `requestSize` are checked against what
   * the session negotiated (TOO_MANY_OPS, REQ_TOO_BIG); `connection` is bound to the fore channel
   * if it was not (SP4_NONE clients: RFC 8881 section 2.10.11.3).
   */
  sequence(a: Sequence4Args, fingerprint: string, connection: number, opCount: number, requestSize: number): SequenceUse {
    const s = this.clients.session(a.sessionid);
    if (!s) return { kind: 'error', status: Nfs4Stat.BADSESSION };
    if (a.slotid >= s.slots.size) return { kind: 'error', status: Nfs4Stat.BADSLOT };
    if (opCount > s.fore.maxOperations) return { kind: 'error', status: Nfs4Stat.TOO_MANY_OPS };
    if (requestSize > s.fore.maxRequestSize) return { kind: 'error', status: Nfs4Stat.REQ_TOO_BIG };
    const use = s.slots.use(a.slotid, a.sequenceid, fingerprint);
    if (use.kind === 'error') return use;
    s.foreConns.add(connection);
    s.client.renewed = this.clock();
    if (use.kind === 'replay') return { kind: 'replay', session: s, reply: use.reply };
    return { kind: 'new', session: s, slot: use.slot, statusFlags: this.clients.backchannelFlags(s) };
  }

  /** Whether the grace period after a restart lasts. */
  inGrace(): boolean {
    return this.recovery.grace.active();
  }

  /**
   * Files.checkIo, and in the grace period I/O with a special stateid (but the READ bypass one)
   * is NFS4ERR_GRACE: whether a deny mode forbids it depends on opens not yet reclaimed (knfsd's
   * check_special_stateids). Reclaimed stateids work as any.
   */
  checkIo(c: ClientRecord | undefined, key: string, sid: Stateid4, write: boolean): Nfs4Error | 0 {
    const sp = specialStateid(sid);
    if ((sp === 'anonymous' || (sp === 'bypass' && write)) && this.inGrace()) return Nfs4Stat.GRACE;
    return this.files.checkIo(c, key, sid, write);
  }

  /** The client a clientid names now (undefined: gone, or from an earlier instance). */
  client(id: bigint): ClientRecord | undefined {
    return this.clients.byId.get(id);
  }

  /**
   * Remove clients whose lease ran out more than the courtesy period ago (knfsd keeps courtesy
   * clients a day); returns them (logs). Before that, an expired client's state goes only when it
   * conflicts with another client's request, or when the client table is full.
   */
  expire(): ClientRecord[] {
    // Unconfirmed records have no state to keep: they go when their lease runs out.
    return this.clients.expire(this.leaseMs + this.courtesyMs, this.leaseMs);
  }

  /** Counts for metrics and status. */
  counts(): { clients: number; sessions: number; opens: number; lockStates: number; locks: number; cachedBytes: number } {
    const f = this.files.counts();
    let cachedBytes = 0;
    for (const s of this.clients.sessions.values()) cachedBytes += s.slots.cachedBytes();
    return { clients: this.clients.byId.size, sessions: this.clients.sessions.size, opens: f.opens, lockStates: f.lockStates, locks: f.locks, cachedBytes };
  }
}
