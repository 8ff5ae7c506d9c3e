/**
 * An NFSv4.1 session (RFC 8881 section 2.10): EXCHANGE_ID with this
 * client's owner, CREATE_SESSION, then every COMPOUND starts with SEQUENCE
 * on a slot of the session's slot table (slots.ts) — so calls in flight are
 * bounded by what the server granted, and a retransmission (same bytes,
 * after a reconnect) lands on the same slot and sequence id, where the
 * server's reply cache answers it instead of running it twice.
 *
 * What a SEQUENCE can say is handled here, once: a dead session or client
 * (server restart) starts recovery (a new session, else a new client whose
 * state the state layer reclaims through `hooks.reclaim`) and the COMPOUND
 * is built again and re-sent; slot trouble moves to another slot; a replay
 * in progress is asked again; revoked state goes to `hooks.revoked`. A
 * connection that comes back is bound to the session (BIND_CONN_TO_SESSION)
 * before anything is retransmitted on it (RpcTransport.onConnectHook).
 *
 * The lease is renewed by a SEQUENCE when the client has been idle for a
 * third of it; the timer never keeps the process alive. close() sends
 * DESTROY_SESSION and DESTROY_CLIENTID.
 */
import { randomBytes } from 'node:crypto';
import { Nfs4Op, Nfs4Stat, nfs4StatName, type Nfs4Status } from '../../nfs4/constants.js';
import type { ChannelAttrs4, Compound4Res, Nfs4ArgOp, Nfs4ResOp } from '../../nfs4/types.js';
import { NfsError } from '../errors.js';
import type { RpcReply, RpcTransport } from '../transport.js';
import { SlotTable, type Slot } from './slots.js';
import { nfs4Error, PURE_OPS } from './status.js';
import { Wire4, closedError, publish, type CompoundOptions, type SessionOptions } from './wire4.js';

export type { SessionOptions, CompoundOptions } from './wire4.js';

/** A COMPOUND's results after SEQUENCE. */
export interface Reply4 {
  /** The status of the last result (NFS4_OK when every op succeeded). */
  status: Nfs4Status;
  results: Nfs4ResOp[];
  /** Give back the reply record (kept only with `keep`); safe to call more than once. */
  release(): void;
}

export interface SessionHooks {
  /** The server lost our state (a new client record): reclaim opens and locks before RECLAIM_COMPLETE. */
  reclaim?(): Promise<void>;
  /** SEQUENCE said some of our state was revoked (sr_status_flags). */
  revoked?(flags: number): void;
  /** Recovery is done (after a reclaim when `reclaimed`): LOCALIO probes again, as Linux's nfs4_do_reclaim. */
  recovered?(reclaimed: boolean): void;
}

const NOOP = () => undefined;
/** A pause inside a call: it keeps the process alive, as the call it belongs to does (only the renewal timer does not). */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** sr_status_flags that mean state was taken away from us. */
const REVOKED_FLAGS = 0x08 | 0x10 | 0x20 | 0x40;
const RESTART_RECLAIM_NEEDED = 0x100;

export class Nfs4Session {
  clientid = 0n;
  sessionid = Buffer.alloc(16);
  /** What the server granted for the fore channel. */
  fore!: ChannelAttrs4;
  /** The lease, ms (GETATTR lease_time; 90 s until known). */
  leaseMs = 90_000;
  readonly slots = new SlotTable(1);
  hooks: SessionHooks = {};
  readonly stats = { compounds: 0, recoveries: 0, reclaims: 0, renewals: 0, delays: 0, rebinds: 0 };
  private csSeq = 0;
  /**
   * Counted up by every new session and client id. Whether a failed call was sent on the session (or
   * built with the client id) recovery has replaced since is judged by these, not by the ids: a server
   * restarted within a second may hand out the very same ids again (nfs-ganesha derives them from its
   * start time in seconds).
   */
  private sessionGen = 0;
  private clientGen = 0;
  private recovering?: Promise<void>;
  private closed = false;
  private lastReply = Date.now();
  private renewTimer?: NodeJS.Timeout;
  private renewing = false;
  private freshening?: Promise<void>;

  private readonly wire: Wire4;

  constructor(readonly o: SessionOptions) {
    this.wire = new Wire4(o);
  }

  get minor(): number {
    return this.o.minor;
  }

  /** EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE; extra connections bound; renewal started. */
  async establish(): Promise<void> {
    await this.exchangeId();
    await this.createSession();
    await this.reclaimComplete();
    for (const t of this.o.transports) {
      t.onConnectHook = () => this.bindConn(t);
      if (t !== this.o.transports[0]) await this.bindConn(t);
    }
    this.renewTimer = setInterval(() => this.maybeRenew(), Math.max(500, Math.floor(this.leaseMs / 6)));
    this.renewTimer.unref();
  }

  /** The lease the server reported: renewal runs at a sixth of it, and renews after a third of it idle. */
  setLease(seconds: number): void {
    if (!(seconds > 0)) return;
    this.leaseMs = seconds * 1000;
    if (this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = setInterval(() => this.maybeRenew(), Math.max(500, Math.floor(this.leaseMs / 6)));
      this.renewTimer.unref();
    }
  }

  /**
   * One COMPOUND: SEQUENCE, then the ops `build()` returns — called again for every attempt, so a
   * retry after recovery carries the new stateids. Resolves with the results after SEQUENCE (failure
   * arms included); rejects with an NfsError for what no retry fixes.
   */
  async compound(build: () => Nfs4ArgOp[], o: CompoundOptions): Promise<Reply4> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw closedError(o.label);
      if (!o.recovery) while (this.recovering) await this.recovering;
      // Built before a slot is taken: building may throw (a handle whose state is lost).
      const clientGen = this.clientGen;
      const ops = build();
      const slot = await this.slots.acquire();
      if (!this.slots.owns(slot)) continue; // a slot of the session before a recovery
      const outcome = await this.onSlot(slot, ops, o);
      if (outcome.kind === 'done') {
        const reply = outcome.reply;
        const failed = failedOp(reply);
        if (failed && !o.noRetry && failed.safe) {
          if (failed.status === Nfs4Stat.DELAY || failed.status === Nfs4Stat.GRACE) {
            reply.release();
            this.stats.delays++;
            publish(failed.status === Nfs4Stat.GRACE ? 'nfs4.grace' : 'nfs4.delay', { label: o.label, attempt });
            if (this.o.mode === 'soft' && attempt >= 20) return { ...reply, release: NOOP };
            // knfsd and ganesha answer DELAY for a moment; GRACE until the grace period ends (Linux polls at 1-15 s).
            await sleep(failed.status === Nfs4Stat.GRACE ? Math.min(1000 * (attempt + 1), 5000) : Math.min(100 * 2 ** attempt, 2000));
            continue;
          }
          if (failed.status === Nfs4Stat.STALE_CLIENTID || failed.status === Nfs4Stat.BADSESSION || failed.status === Nfs4Stat.DEADSESSION) {
            reply.release();
            // Built with a client id recovery has replaced since: built again, no second recovery.
            if (clientGen === this.clientGen) await this.recover(nfs4StatName(failed.status));
            continue;
          }
        }
        return reply;
      }
      if (outcome.kind === 'recover') {
        if (o.recovery) throw nfs4Error(outcome.status, o.label, undefined, 'the session was lost during recovery');
        // A call sent on a session that recovery has replaced since needs no second recovery: just the new session.
        if (outcome.gen === this.sessionGen) await this.recover(nfs4StatName(outcome.status));
      } else if (outcome.kind === 'pause') await sleep(outcome.ms);
      if (attempt > 1000) throw new NfsError('EIO', { syscall: o.label, description: 'the server kept refusing the session' });
    }
  }

  /** One request on `slot` (held by the caller), its retransmissions included. Always gives the slot back. */
  private async onSlot(slot: Slot, ops: Nfs4ArgOp[], o: CompoundOptions): Promise<{ kind: 'done'; reply: Reply4 } | { kind: 'recover'; status: number; gen: number } | { kind: 'again' } | { kind: 'pause'; ms: number }> {
    let seqid = slot.seq + 1;
    const sessionid = this.sessionid;
    const gen = this.sessionGen;
    let released = false;
    const giveBack = () => {
      if (!released) this.slots.release(slot);
      released = true;
    };
    try {
      for (let replays = 0; ; replays++) {
        const seq: Nfs4ArgOp = {
          op: Nfs4Op.SEQUENCE,
          args: { sessionid, sequenceid: seqid, slotid: slot.id, highestSlotid: Math.max(this.slots.highestSlotid, slot.id), cachethis: !!o.cache },
        };
        let res: Compound4Res;
        let rep: RpcReply;
        const t = this.wire.pick();
        try {
          ({ res, rep } = await this.wire.send([seq, ...ops], o, t));
        } catch (e) {
          publish('nfs4.noanswer', { slot: slot.id, seqid, error: (e as Error).message });
          // No answer: the server may or may not have taken this sequence id (slots.ts, `uncertain`).
          slot.seq = seqid;
          slot.uncertain = true;
          throw e;
        }
        this.stats.compounds++;
        const first = res.results[0];
        if (!first || first.op !== Nfs4Op.SEQUENCE) {
          rep.release?.();
          if (res.status === Nfs4Stat.MINOR_VERS_MISMATCH) throw new NfsError('EPROTONOSUPPORT', { syscall: o.label, description: `the server does not speak NFSv4.${this.o.minor}` });
          throw nfs4Error(res.status, o.label, undefined, `${nfs4StatName(res.status)} without a SEQUENCE result`);
        }
        const s = first.res;
        if (s.status === Nfs4Stat.OK) {
          slot.seq = seqid;
          slot.uncertain = false;
          this.lastReply = Date.now();
          this.slots.serverLimits(s.highestSlotid, s.targetHighestSlotid);
          giveBack();
          if (s.statusFlags) this.onStatusFlags(s.statusFlags);
          const release = o.keep && rep.release ? once(rep.release) : NOOP;
          if (!o.keep) rep.release?.();
          return { kind: 'done', reply: { status: res.status, results: res.results.slice(1), release } };
        }
        rep.release?.();
        switch (s.status) {
          case Nfs4Stat.DELAY:
            // The server still runs this slot's previous request (a retransmission of ours): ask again, same bytes.
            if (replays > 50 && this.o.mode === 'soft') throw nfs4Error(s.status, o.label);
            await sleep(Math.min(50 * 2 ** replays, 1000));
            continue;
          case Nfs4Stat.SEQ_MISORDERED:
            // Sent on a session since replaced (a retransmission after a server restart that reused its id).
            if (gen !== this.sessionGen) return { kind: 'recover', status: s.status, gen };
            if (slot.uncertain && seqid === slot.seq + 1) {
              // The request we gave up on never reached the server: its sequence id is free again.
              slot.seq -= 1;
              slot.uncertain = false;
              seqid = slot.seq + 1;
              continue;
            }
            slot.uncertain = false;
            publish('nfs4.misordered', { slot: slot.id, seqid, session: sessionid.toString('hex'), current: this.sessionid.toString('hex'), owned: this.slots.owns(slot), replays });
            throw new NfsError('EIO', { syscall: o.label, description: `slot ${slot.id}: the server expected another sequence id than ${seqid} (NFS4ERR_SEQ_MISORDERED)` });
          case Nfs4Stat.RETRY_UNCACHED_REP:
          case Nfs4Stat.SEQ_FALSE_RETRY:
            // The server took this sequence id already (and did not keep its reply): a new request.
            slot.seq = seqid;
            slot.uncertain = false;
            seqid = slot.seq + 1;
            continue;
          case Nfs4Stat.BADSLOT:
          case Nfs4Stat.BAD_HIGH_SLOT:
            this.slots.shrinkBelow(slot.id);
            return { kind: 'again' };
          case Nfs4Stat.CONN_NOT_BOUND_TO_SESSION:
            // The server did not take the request: bind this connection, then the same sequence id again.
            await this.bindConn(t);
            continue;
          case Nfs4Stat.BADSESSION:
          case Nfs4Stat.DEADSESSION:
          case Nfs4Stat.STALE_CLIENTID:
          case Nfs4Stat.EXPIRED:
            return { kind: 'recover', status: s.status, gen };
          default:
            throw nfs4Error(s.status, o.label, undefined, `SEQUENCE failed: ${nfs4StatName(s.status)}`);
        }
      }
    } finally {
      giveBack();
    }
  }

  // ---------------------------------------------------------------- client and session

  /** EXCHANGE_ID; returns whether the server still had this client confirmed (its state kept). */
  private async exchangeId(): Promise<boolean> {
    const r = await this.wire.exchangeId(this.o.owner, this.o.verifier);
    this.clientid = r.clientid;
    this.clientGen++;
    this.csSeq = r.sequenceid;
    return r.confirmed;
  }

  /** CREATE_SESSION on the current client id; the status when the server refuses. */
  private async createSession(): Promise<number> {
    const r = await this.wire.createSession(this.clientid, this.csSeq, this.o);
    if ('refused' in r) return r.refused;
    this.csSeq = (this.csSeq + 1) >>> 0;
    this.sessionid = Buffer.from(r.sessionid);
    this.sessionGen++;
    this.fore = r.foreChanAttrs;
    this.slots.reset(Math.max(1, r.foreChanAttrs.maxRequests));
    publish('nfs4.session', { session: this.sessionid.toString('hex'), slots: r.foreChanAttrs.maxRequests });
    return 0;
  }

  private async reclaimComplete(): Promise<void> {
    const r = await this.compound(() => [{ op: Nfs4Op.RECLAIM_COMPLETE, args: { oneFs: false } }], { label: 'reclaim_complete', cache: true, recovery: true });
    if (r.status !== 0 && r.status !== Nfs4Stat.COMPLETE_ALREADY) throw nfs4Error(r.status, 'reclaim_complete');
  }

  /** BIND_CONN_TO_SESSION on `t` (fore channel), before anything else goes on a connection that came back. */
  async bindConn(t: RpcTransport): Promise<void> {
    if (this.closed) return;
    this.stats.rebinds++;
    await this.wire.bindConn(t, this.sessionid);
  }

  /** Recovery, once however many calls ask for it: other calls wait (compound()) until it is done. */
  recover(why: string): Promise<void> {
    this.recovering ??= this.recoverNow(why).finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  private async recoverNow(why: string): Promise<void> {
    this.stats.recoveries++;
    publish('nfs4.recover', { why, label: this.o.label });
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw closedError('recover');
      try {
        // The client may still be known (only the session was lost): a new session keeps our state.
        let lost = (await this.createSession()) !== 0;
        if (lost) {
          const kept = await this.exchangeId();
          const st = await this.createSession();
          if (st !== 0) throw nfs4Error(st, 'create_session');
          lost = !kept;
        }
        for (const t of this.o.transports.slice(1)) await this.bindConn(t).catch(() => undefined);
        if (lost) {
          // A new client record: every open and lock is reclaimed in the grace period, then RECLAIM_COMPLETE.
          this.stats.reclaims++;
          await this.hooks.reclaim?.();
          await this.reclaimComplete();
        }
        publish('nfs4.recovered', { why, reclaimed: lost, label: this.o.label });
        this.hooks.recovered?.(lost);
        return;
      } catch (e) {
        publish('nfs4.recover_failed', { why, attempt, error: (e as Error).message });
        if (this.o.mode === 'soft' && attempt >= this.o.transports[0].opts.retrans) throw e;
        if (e instanceof NfsError && e.code === 'ECONNABORTED') throw e;
        await sleep(Math.min(200 * 2 ** attempt, 5000));
      }
    }
  }

  private onStatusFlags(flags: number): void {
    if (flags & RESTART_RECLAIM_NEEDED) {
      void this.recoverReclaim();
    }
    if (flags & REVOKED_FLAGS) this.hooks.revoked?.(flags);
  }

  /** SEQ4_STATUS_RESTART_RECLAIM_NEEDED: the server wants our state reclaimed on this very client. */
  private async recoverReclaim(): Promise<void> {
    if (this.recovering) return;
    this.recovering = (async () => {
      await this.hooks.reclaim?.();
      await this.reclaimComplete();
      this.hooks.recovered?.(true);
    })().finally(() => {
      this.recovering = undefined;
    });
    await this.recovering.catch(() => undefined);
  }

  // ---------------------------------------------------------------- lease and close

  /** undefined while the server answered within the last two thirds of a lease; else a SEQUENCE (shared by concurrent callers). */
  renewIfStale(): Promise<void> | undefined {
    if (this.recovering) return this.recovering;
    if (Date.now() - this.lastReply < (this.leaseMs * 2) / 3) return undefined;
    this.freshening ??= this.compound(() => [], { label: 'renew' })
      .then(() => undefined)
      .finally(() => {
        this.freshening = undefined;
      });
    return this.freshening;
  }

  private maybeRenew(): void {
    if (this.closed || this.renewing || this.recovering) return;
    if (this.slots.inUse > 0 || Date.now() - this.lastReply < this.leaseMs / 3) return;
    this.renewing = true;
    this.stats.renewals++;
    // A lone SEQUENCE renews the lease (and finds a restarted server while we are idle). Soft: a server
    // that is gone must not keep the process alive.
    this.compound(() => [], { label: 'renew', softMs: Math.max(1000, Math.floor(this.leaseMs / 3)) })
      .catch(() => undefined)
      .finally(() => {
        this.renewing = false;
      });
  }

  /** DESTROY_SESSION and DESTROY_CLIENTID, each soft (a server that is gone does not hold close() up). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewTimer);
    this.slots.close(closedError('close'));
    const t = this.o.transports[0];
    if (t.isClosed) return;
    await this.wire.destroy(t, this.sessionid, this.clientid);
  }

  /** Every connection is gone (destroy()): no more calls, no timers. */
  abandon(): void {
    this.closed = true;
    clearInterval(this.renewTimer);
    this.slots.close(closedError('close'));
  }
}


function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      f();
    }
  };
}

/** The op that failed, its status, and whether every op before it had no effect (so asking again is safe). */
function failedOp(r: Reply4): { status: number; safe: boolean } | undefined {
  if (r.status === 0) return undefined;
  const i = r.results.findIndex((x) => x.res.status !== 0);
  if (i < 0) return undefined;
  let safe = true;
  for (let j = 0; j < i; j++) if (!PURE_OPS.has(r.results[j].op)) safe = false;
  return { status: r.results[i].res.status, safe };
}

/** A verifier for this process: EXCHANGE_ID's co_verifier (a new process is a new client incarnation). */
export const PROCESS_VERIFIER = randomBytes(8);
