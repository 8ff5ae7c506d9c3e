/**
 * Clients and sessions (RFC 8881 sections 18.35-18.37, 18.50, 2.10): EXCHANGE_ID's cases for a
 * client owner and verifier, CREATE_SESSION's own sequence id and the channel attributes cut to
 * our bounds, DESTROY_SESSION / DESTROY_CLIENTID, connections bound to sessions, and leases.
 * Plain data and rules: statuses are returned, nothing is sent anywhere.
 */
import { Nfs4Stat, ExchgId4Flag, CreateSession4Flag, type Nfs4Error } from '../constants.js';
import type { ChannelAttrs4 } from '../types.js';
import type { ClientRecord, SessionRecord } from './records.js';
import type { StateLimits } from './limits.js';
import { SlotTable } from './slots.js';

export type Status<T> = ({ status: 0 } & T) | { status: Nfs4Error };

export interface ExchangeIdArgs {
  ownerId: Buffer;
  verifier: Buffer;
  principal: string;
  /** EXCHGID4_FLAG_UPD_CONFIRMED_REC_A. */
  update: boolean;
  address: string;
  implName?: string;
}

export interface CreateSessionArgs {
  clientid: bigint;
  sequence: number;
  flags: number;
  fore: ChannelAttrs4;
  back: ChannelAttrs4;
  cbProgram: number;
  principal: string;
  connection: number;
}

export interface CreateSessionOk {
  sessionid: Buffer;
  sequence: number;
  flags: number;
  foreChanAttrs: ChannelAttrs4;
  backChanAttrs: ChannelAttrs4;
}

/** Our channel bounds (requests and replies of one COMPOUND, bytes). */
export interface ChannelBounds {
  maxRequest: number;
  maxResponse: number;
}

/** The smallest request and reply a session must allow: a SEQUENCE and a little more (knfsd's minimums). */
const MIN_REQUEST = 128;
const MIN_RESPONSE = 128;

function isSameBuf(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.equals(b);
}

export class Clients {
  /** By clientid. */
  readonly byId = new Map<bigint, ClientRecord>();
  /** By owner id (hex): the confirmed record and the unconfirmed one, each at most one. */
  private readonly confirmed = new Map<string, ClientRecord>();
  private readonly unconfirmed = new Map<string, ClientRecord>();
  readonly sessions = new Map<string, SessionRecord>();
  private nextClient = 1;
  private nextSession = 1;
  /** Called when a record is confirmed (restart recovery: a previous client may have come back). */
  onConfirm?: (c: ClientRecord) => void;

  constructor(
    private readonly epoch: number,
    private readonly limits: StateLimits,
    private readonly bounds: ChannelBounds,
    private readonly clock: () => number,
    /** Drop a client's opens and locks (the file side of the state). */
    private readonly dropState: (c: ClientRecord) => void,
  ) {}

  /** Whether `clientid` was issued by an earlier server instance (NFS4ERR_STALE_CLIENTID). */
  stale(clientid: bigint): boolean {
    return Number(clientid >> 32n) !== this.epoch;
  }

  private newRecord(a: ExchangeIdArgs, leaseMs?: number): ClientRecord | undefined {
    // A full table makes room by letting go of a client whose lease ran out (a courtesy client).
    if (this.byId.size >= this.limits.clients && leaseMs !== undefined) {
      const now = this.clock();
      for (const c of this.byId.values()) {
        if (now - c.renewed > leaseMs && ![...c.sessions.values()].some((s) => s.slots.busy() > 0)) {
          this.expunge(c);
          break;
        }
      }
    }
    if (this.byId.size >= this.limits.clients) return undefined;
    const id = (BigInt(this.epoch) << 32n) | BigInt(this.nextClient++ >>> 0);
    const c: ClientRecord = {
      id,
      ownerId: Buffer.from(a.ownerId),
      verifier: Buffer.from(a.verifier),
      principal: a.principal,
      confirmed: false,
      csSeqid: 0,
      renewed: this.clock(),
      reclaimComplete: false,
      sessions: new Map(),
      openOwners: new Map(),
      lockOwners: new Map(),
      address: a.address,
      since: this.clock(),
      implName: a.implName,
    };
    this.byId.set(id, c);
    this.unconfirmed.set(c.ownerId.toString('hex'), c);
    return c;
  }

  /** Whether the client holds state that a collision must not take away. */
  private hasState(c: ClientRecord): boolean {
    return c.sessions.size > 0 || c.openOwners.size > 0 || c.lockOwners.size > 0;
  }

  /**
   * EXCHANGE_ID (RFC 8881 section 18.35.4's cases). Returns the record to answer with; its
   * `confirmed` says whether EXCHGID4_FLAG_CONFIRMED_R is due, and csSeqid + 1 is eir_sequenceid.
   */
  exchangeId(a: ExchangeIdArgs, leaseMs?: number): Status<{ client: ClientRecord }> {
    const key = a.ownerId.toString('hex');
    const conf = this.confirmed.get(key);
    const unconf = this.unconfirmed.get(key);
    if (a.update) {
      // Cases 6-9: update of a confirmed record.
      if (!conf) return { status: Nfs4Stat.NOENT };
      if (conf.principal !== a.principal) return { status: Nfs4Stat.PERM };
      if (!isSameBuf(conf.verifier, a.verifier)) return { status: Nfs4Stat.NOT_SAME };
      return { status: 0, client: conf };
    }
    if (conf) {
      if (conf.principal !== a.principal) {
        // Case 3, client collision: the existing client keeps its id while it has state.
        if (this.hasState(conf) && !this.leaseExpired(conf, leaseMs)) return { status: Nfs4Stat.CLID_INUSE };
        this.expunge(conf);
      } else if (isSameBuf(conf.verifier, a.verifier)) {
        // Case 2: the same client asking again.
        if (unconf) this.expunge(unconf);
        return { status: 0, client: conf };
      }
      // Case 5 (client restart): a new unconfirmed record; the old one goes when it is confirmed.
    }
    // Cases 1 and 4: a new owner, or a new unconfirmed record replacing an unconfirmed one.
    if (unconf) this.expunge(unconf);
    const c = this.newRecord(a, leaseMs);
    if (!c) return { status: Nfs4Stat.RESOURCE };
    return { status: 0, client: c };
  }

  leaseExpired(c: ClientRecord, leaseMs?: number): boolean {
    return leaseMs !== undefined && this.clock() - c.renewed > leaseMs;
  }

  /** Remove a client and everything it holds. */
  expunge(c: ClientRecord): void {
    for (const s of c.sessions.values()) this.sessions.delete(s.id.toString('hex'));
    c.sessions.clear();
    this.dropState(c);
    this.byId.delete(c.id);
    const key = c.ownerId.toString('hex');
    if (this.confirmed.get(key) === c) this.confirmed.delete(key);
    if (this.unconfirmed.get(key) === c) this.unconfirmed.delete(key);
  }

  /** CREATE_SESSION (RFC 8881 section 18.36). */
  createSession(a: CreateSessionArgs, leaseMs?: number): Status<CreateSessionOk> {
    const c = this.byId.get(a.clientid);
    if (!c) return { status: Nfs4Stat.STALE_CLIENTID };
    // An unconfirmed record not confirmed within a lease is gone (RFC 8881 section 18.35.4).
    if (!c.confirmed && this.leaseExpired(c, leaseMs)) {
      this.expunge(c);
      return { status: Nfs4Stat.STALE_CLIENTID };
    }
    // Only an unconfirmed record is bound to the principal that made it (18.36.4); once confirmed
    // another principal of the client may create sessions (pynfs CSESS10).
    if (!c.confirmed && c.principal !== a.principal) return { status: Nfs4Stat.CLID_INUSE };
    // Its own sequence id: a retransmission gets the first answer, anything else is misordered.
    if (a.sequence === c.csSeqid && c.csReply !== undefined) return c.csReply as Status<CreateSessionOk>;
    const expected = c.csSeqid === 0xffffffff ? 0 : c.csSeqid + 1;
    if (a.sequence !== expected) return { status: Nfs4Stat.SEQ_MISORDERED };
    const res = this.makeSession(c, a);
    // Only successes are cached: a failed CREATE_SESSION leaves the sequence id where it was.
    if (res.status === 0) {
      c.csSeqid = a.sequence;
      c.csReply = res;
    }
    return res;
  }

  private makeSession(c: ClientRecord, a: CreateSessionArgs): Status<CreateSessionOk> {
    if ((a.flags & ~(CreateSession4Flag.PERSIST | CreateSession4Flag.CONN_BACK_CHAN | CreateSession4Flag.CONN_RDMA)) !== 0) return { status: Nfs4Stat.INVAL };
    const f = a.fore;
    if (f.maxRequestSize < MIN_REQUEST || f.maxResponseSize < MIN_RESPONSE) return { status: Nfs4Stat.TOOSMALL };
    if (f.maxOperations < 1 || f.maxRequests < 1) return { status: Nfs4Stat.TOOSMALL };
    const b = a.back;
    // Checked whether or not a back channel is asked for now (BIND_CONN_TO_SESSION may add one), as knfsd.
    if (b.maxRequestSize < MIN_REQUEST || b.maxResponseSize < MIN_RESPONSE || b.maxOperations < 2 || b.maxRequests < 1) return { status: Nfs4Stat.TOOSMALL };
    if (c.sessions.size >= this.limits.sessionsPerClient || this.sessions.size >= this.limits.sessions) {
      return { status: Nfs4Stat.RESOURCE };
    }
    const fore: ChannelAttrs4 = {
      headerPadSize: 0,
      maxRequestSize: Math.min(f.maxRequestSize, this.bounds.maxRequest),
      maxResponseSize: Math.min(f.maxResponseSize, this.bounds.maxResponse),
      maxResponseSizeCached: Math.min(f.maxResponseSizeCached, this.limits.cachedReply),
      maxOperations: Math.min(f.maxOperations, this.limits.ops),
      maxRequests: Math.min(f.maxRequests, this.limits.slots),
    };
    // The back channel is the client's to size: we never send on it (no delegations or layouts),
    // so its attributes are taken as offered (the Linux client checks they come back unchanged).
    const back: ChannelAttrs4 = { ...b, headerPadSize: 0, rdmaIrd: undefined };
    // Not persistent (no reply cache on disk), never RDMA; a back channel on this connection if asked.
    const flags = a.flags & CreateSession4Flag.CONN_BACK_CHAN;
    if (!c.confirmed) this.confirm(c);
    const id = Buffer.alloc(16);
    id.writeBigUInt64BE(c.id, 0);
    id.writeUInt32BE(this.epoch, 8);
    id.writeUInt32BE(this.nextSession++ >>> 0, 12);
    const s: SessionRecord = {
      id,
      client: c,
      fore,
      back,
      flags,
      cbProgram: a.cbProgram,
      slots: new SlotTable(fore.maxRequests),
      foreConns: new Set([a.connection]),
      backConns: new Set(flags & CreateSession4Flag.CONN_BACK_CHAN ? [a.connection] : []),
      wantsBack: (flags & CreateSession4Flag.CONN_BACK_CHAN) !== 0,
      since: this.clock(),
    };
    c.sessions.set(id.toString('hex'), s);
    this.sessions.set(id.toString('hex'), s);
    c.renewed = this.clock();
    return { status: 0, sessionid: id, sequence: a.sequence, flags, foreChanAttrs: fore, backChanAttrs: back };
  }

  /** The unconfirmed record becomes the confirmed one; a confirmed record it replaces (client restart) goes, with its state. */
  private confirm(c: ClientRecord): void {
    const key = c.ownerId.toString('hex');
    const old = this.confirmed.get(key);
    if (old && old !== c) this.expunge(old);
    if (this.unconfirmed.get(key) === c) this.unconfirmed.delete(key);
    c.confirmed = true;
    this.confirmed.set(key, c);
    this.onConfirm?.(c);
  }

  session(id: Buffer): SessionRecord | undefined {
    return this.sessions.get(id.toString('hex'));
  }

  /** DESTROY_SESSION: refused while another request runs on it (NFS4ERR_DELAY). `own` slots held by the caller itself. */
  destroySession(id: Buffer, own = 0): Nfs4Error | 0 {
    const s = this.session(id);
    if (!s) return Nfs4Stat.BADSESSION;
    if (s.slots.busy() > own) return Nfs4Stat.DELAY;
    this.sessions.delete(id.toString('hex'));
    s.client.sessions.delete(id.toString('hex'));
    return 0;
  }

  /** DESTROY_CLIENTID (RFC 8881 section 18.50): only a client without sessions. */
  destroyClientid(clientid: bigint): Nfs4Error | 0 {
    const c = this.byId.get(clientid);
    if (!c) return Nfs4Stat.STALE_CLIENTID;
    if (c.sessions.size > 0) return Nfs4Stat.CLIENTID_BUSY;
    this.expunge(c);
    return 0;
  }

  /**
   * BIND_CONN_TO_SESSION (RFC 8881 section 18.34): bind `connection` to the fore channel, the
   * back channel or both. The direction granted, CDFS4_FORE 1 / BACK 2 / BOTH 3.
   */
  bindConnection(id: Buffer, dir: number, connection: number): Status<{ dir: number }> {
    const s = this.session(id);
    if (!s) return { status: Nfs4Stat.BADSESSION };
    // As knfsd: FORE_OR_BOTH and BACK_OR_BOTH get both directions.
    const granted = dir === 1 ? 1 : dir === 2 ? 2 : dir === 3 || dir === 7 ? 3 : 0;
    if (granted === 0) return { status: Nfs4Stat.INVAL };
    const fore = (granted & 1) !== 0;
    const back = (granted & 2) !== 0;
    if (fore) s.foreConns.add(connection);
    if (back) s.backConns.add(connection);
    return { status: 0, dir: granted };
  }

  /** A connection closed: it is no longer bound to any session. */
  connectionClosed(connection: number): void {
    for (const s of this.sessions.values()) {
      s.foreConns.delete(connection);
      s.backConns.delete(connection);
    }
  }

  /** SEQUENCE's status flags about the back channel (RFC 8881 section 18.46.3). */
  backchannelFlags(s: SessionRecord): number {
    if (!s.wantsBack || s.backConns.size > 0) return 0;
    let flags = 0x200; // SEQ4_STATUS_CB_PATH_DOWN_SESSION
    const anyBack = [...s.client.sessions.values()].some((o) => o.backConns.size > 0);
    if (!anyBack) flags |= 0x1; // SEQ4_STATUS_CB_PATH_DOWN
    return flags;
  }

  /**
   * Clients whose lease ran out `afterMs` ago with nothing running: removed with all their state.
   * (Until then an expired client is a courtesy client: its state stays until it conflicts with
   * someone's request, files.ts.)
   */
  expire(afterMs: number, unconfirmedAfterMs = afterMs): ClientRecord[] {
    const now = this.clock();
    const gone: ClientRecord[] = [];
    for (const c of this.byId.values()) {
      if (now - c.renewed <= (c.confirmed ? afterMs : unconfirmedAfterMs)) continue;
      if ([...c.sessions.values()].some((s) => s.slots.busy() > 0)) continue;
      gone.push(c);
    }
    for (const c of gone) this.expunge(c);
    return gone;
  }

  /** EXCHANGE_ID's eir_flags for a record. */
  static replyFlags(c: ClientRecord): number {
    return ExchgId4Flag.USE_NON_PNFS | (c.confirmed ? ExchgId4Flag.CONFIRMED_R : 0);
  }
}
