/**
 * The NFSv4.1/4.2 side of the server: the state (clients, sessions, opens, locks), the operation
 * environment over the same export table, gate and write verifier as NFSv3, the procedures of
 * program 100003 version 4, the lease sweeper, restart recovery (the stable client records read
 * back at start, the grace period), and what `status` and the metrics show of it.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ExportTable } from '../export/index.js';
import type { ProcedureDef } from '../rpc/program.js';
import type { ChangeClock } from '../util/changes.js';
import { log } from '../util/log.js';
import { createNfs4Procedures } from '../nfs4/program.js';
import { Nfs4State, type GraceStatus, type StableClient, type StateLimits } from '../nfs4/state/index.js';
import { ClientRecordStore } from '../nfs4/state/stable-store.js';
import { IdMapper } from '../nfs4/idmap.js';
import type { Nfs4Env, Nfs4OpEvent } from '../nfs4/env.js';
import { lengthOf } from '../nfs4/state/index.js';

export interface Nfs4Options {
  table: ExportTable;
  secret: Buffer;
  rtmax: number;
  wtmax: number;
  changes: ChangeClock;
  writeVerifier(): Buffer;
  resetWriteVerifier(): void;
  leaseSeconds?: number;
  /** The grace period after a restart (the lease by default). */
  graceSeconds?: number;
  /** The stable client records (openClientRecords); without them nothing survives a restart. */
  recovery?: Nfs4Recovery;
  idmapDomain?: string;
  limits?: Partial<StateLimits>;
  /** Largest request record the RPC layer takes (the sessions' ca_maxrequestsize). */
  maxRecord: number;
}

/** What `nfs-localio status` shows of one v4 client. */
export interface Nfs4ClientStatus {
  clientid: string;
  address: string;
  confirmed: boolean;
  implementation?: string;
  since: string;
  leaseRenewedAgoMs: number;
  sessions: Array<{ id: string; slots: number; busy: number; cachedBytes: number; connections: number; backChannel: boolean }>;
  opens: Array<{ fh: string; access: string; deny: string; locks: Array<{ start: string; length: string; type: string }> }>;
}

/** The stable client records and what the previous instance left in them. */
export interface Nfs4Recovery {
  store: ClientRecordStore;
  previous: StableClient[];
}

/**
 * Open the stable client records in `stateDir` and read back the previous instance's (bounded,
 * checked: a file that is not an intact record is set aside and logged, and its client cannot
 * reclaim). A directory that cannot be used is logged and the server serves without restart
 * recovery (knfsd does the same without its tracking daemon): after a restart its clients' reclaims
 * are then NFS4ERR_NO_GRACE.
 */
export async function openClientRecords(stateDir: string): Promise<Nfs4Recovery | undefined> {
  let opened;
  try {
    opened = await ClientRecordStore.open(stateDir);
  } catch (e) {
    log.error('nfs4.records.unavailable', { stateDir, error: e as Error });
    return undefined;
  }
  const { store, loaded } = opened;
  for (const p of loaded.problems) log.warn('nfs4.record.unreadable', { file: p.file, code: p.code, reason: p.message });
  if (loaded.skipped > 0) log.warn('nfs4.record.too_many', { read: loaded.records.length, skipped: loaded.skipped });
  return { store, previous: loaded.records };
}

/** What `nfs-localio status` shows of the grace period. */
export interface Nfs4GraceStatus {
  active: boolean;
  graceSeconds: number;
  startedAt: string;
  remainingMs: number;
  endedAt?: string;
  endedBecause?: GraceStatus['endedBecause'];
  previousClients: number;
  /** Previous clients still to reclaim: how many, and (at most 64) who. */
  pendingCount: number;
  pending: Array<{ owner: string; state: 'waiting' | 'reclaiming' }>;
  reclaimedOpens: number;
  reclaimedLocks: number;
  /** Client records on disk, and how many writes or removals of them failed. */
  records: number;
  recordFailures: number;
}

export interface Nfs4Status {
  leaseSeconds: number;
  grace: Nfs4GraceStatus;
  idmapDomain?: string;
  counts: ReturnType<Nfs4State['counts']>;
  clients: Nfs4ClientStatus[];
}

const SHARE = ['', 'read', 'write', 'both'];

/** A client owner for people: its text when it is printable (Linux: "Linux NFSv4.1 host"), else hex. */
function ownerText(owner: Buffer): string {
  const s = owner.subarray(0, 96).toString('latin1');
  return /^[\x20-\x7e]*$/.test(s) ? s : owner.subarray(0, 48).toString('hex');
}

/**
 * The epoch of this server instance's clientids, sessionids and stateids: the start time in
 * seconds (as knfsd's boot time), so that ones from an earlier instance are told apart.
 */
function epochNow(): number {
  const e = Math.floor(Date.now() / 1000) >>> 0;
  return e === 0 || e === 0xffffffff ? 1 : e;
}

export class Nfs4Server {
  readonly state: Nfs4State;
  readonly env: Nfs4Env;
  readonly procedures: ProcedureDef[];
  /** 'op' events (Nfs4OpEvent), for metrics. */
  readonly ops = new EventEmitter();
  private readonly sweeper: NodeJS.Timeout;
  private graceTimer?: NodeJS.Timeout;
  private readonly records?: ClientRecordStore;

  constructor(o: Nfs4Options) {
    this.records = o.recovery?.store;
    this.state = new Nfs4State({
      epoch: epochNow(),
      leaseSeconds: o.leaseSeconds,
      limits: o.limits,
      bounds: { maxRequest: o.maxRecord, maxResponse: o.rtmax + 64 * 1024 },
      previous: o.recovery?.previous,
      graceSeconds: o.graceSeconds,
      records: o.recovery?.store,
    });
    const grace = this.state.recovery.grace;
    if (grace.active()) {
      log.info('nfs4.grace.started', { seconds: grace.graceMs / 1000, previousClients: grace.status().pendingCount });
      // It ends (and the records of clients that never came back go) on time even when nobody asks.
      this.graceTimer = setInterval(() => {
        if (!grace.active()) clearInterval(this.graceTimer);
      }, 1000);
      this.graceTimer.unref();
    }
    this.env = {
      gate: o.table,
      exports: o.table,
      state: this.state,
      idmap: new IdMapper({ domain: o.idmapDomain }),
      writeVerifier: o.writeVerifier,
      resetWriteVerifier: o.resetWriteVerifier,
      rtmax: o.rtmax,
      wtmax: o.wtmax,
      // Stable across restarts with the same state directory: clients trunk and reclaim by it.
      serverOwner: createHash('sha256').update('nfs-localio server owner\0').update(o.secret).digest().subarray(0, 16),
      changes: o.changes,
      onOp: (ev: Nfs4OpEvent) => {
        if (this.ops.listenerCount('op') > 0) this.ops.emit('op', ev);
      },
    };
    this.procedures = createNfs4Procedures(this.env);
    // Expired leases are looked for a few times per lease.
    const every = Math.max(1000, Math.min(this.state.leaseMs / 4, 15_000));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  private sweep(): void {
    for (const c of this.state.expire()) {
      log.info('nfs4.client.expired', { clientid: c.id.toString(16), address: c.address });
    }
  }

  /** A connection closed: it is no longer bound to any session. */
  connectionClosed(id: number): void {
    this.state.clients.connectionClosed(id);
  }

  status(): Nfs4Status {
    const now = this.state.clock();
    const clients: Nfs4ClientStatus[] = [...this.state.clients.byId.values()].map((c) => {
      const opens: Nfs4ClientStatus['opens'] = [];
      for (const o of c.openOwners.values()) {
        for (const s of o.states.values()) {
          if (s.type !== 'open') continue;
          const locks = [...s.locks].flatMap((l) => this.state.files.locksOf(l)).map((l) => ({ start: String(l.start), length: String(lengthOf(l)), type: l.kind }));
          opens.push({ fh: s.fh.toString('hex'), access: SHARE[s.access], deny: SHARE[s.deny] || 'none', locks });
        }
      }
      return {
        clientid: c.id.toString(16),
        address: c.address,
        confirmed: c.confirmed,
        implementation: c.implName,
        since: new Date(c.since).toISOString(),
        leaseRenewedAgoMs: now - c.renewed,
        sessions: [...c.sessions.values()].map((s) => ({
          id: s.id.toString('hex'),
          slots: s.slots.size,
          busy: s.slots.busy(),
          cachedBytes: s.slots.cachedBytes(),
          connections: s.foreConns.size,
          backChannel: s.backConns.size > 0,
        })),
        opens,
      };
    });
    return { leaseSeconds: this.state.leaseSeconds, grace: this.graceStatus(), idmapDomain: this.env.idmap.domain, counts: this.state.counts(), clients };
  }

  graceStatus(): Nfs4GraceStatus {
    const g = this.state.recovery.grace.status();
    return {
      active: g.active,
      graceSeconds: g.graceSeconds,
      startedAt: new Date(g.startedAt).toISOString(),
      remainingMs: g.remainingMs,
      endedAt: g.endedAt === undefined ? undefined : new Date(g.endedAt).toISOString(),
      endedBecause: g.endedBecause,
      previousClients: g.previousClients,
      pendingCount: g.pendingCount,
      pending: g.pending.map((p) => ({ owner: ownerText(p.owner), state: p.state })),
      reclaimedOpens: g.reclaimedOpens,
      reclaimedLocks: g.reclaimedLocks,
      records: this.records?.stats.records ?? 0,
      recordFailures: this.records?.stats.failures ?? 0,
    };
  }

  /** Stop the timers; record changes still queued are let finish (bounded by the disk). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.graceTimer);
    await this.state.recovery.idle();
  }
}
