/**
 * The NFSv4.1/4.2 side of the server: the state (clients, sessions, opens, locks), the operation
 * environment over the same export table, gate and write verifier as NFSv3, the procedures of
 * program 100003 version 4, the lease sweeper, and what `status` and the metrics show of it.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ExportTable } from '../export/index.js';
import type { ProcedureDef } from '../rpc/program.js';
import type { ChangeClock } from '../util/changes.js';
import { log } from '../util/log.js';
import { createNfs4Procedures } from '../nfs4/program.js';
import { Nfs4State, type StateLimits } from '../nfs4/state/index.js';
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

export interface Nfs4Status {
  leaseSeconds: number;
  idmapDomain?: string;
  counts: ReturnType<Nfs4State['counts']>;
  clients: Nfs4ClientStatus[];
}

const SHARE = ['', 'read', 'write', 'both'];

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

  constructor(o: Nfs4Options) {
    this.state = new Nfs4State({
      epoch: epochNow(),
      leaseSeconds: o.leaseSeconds,
      limits: o.limits,
      bounds: { maxRequest: o.maxRecord, maxResponse: o.rtmax + 64 * 1024 },
    });
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
    return { leaseSeconds: this.state.leaseSeconds, idmapDomain: this.env.idmap.domain, counts: this.state.counts(), clients };
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
