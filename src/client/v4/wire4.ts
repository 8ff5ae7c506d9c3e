/**
 * COMPOUNDs on the wire without a session: how an NFSv4.1 client sends
 * one (on the least busy connection), and the operations that run before a
 * session exists or about one — EXCHANGE_ID, CREATE_SESSION,
 * BIND_CONN_TO_SESSION, DESTROY_SESSION and DESTROY_CLIENTID. The session
 * (session.ts) keeps what they return; this file holds no state but the
 * round-robin counter.
 */
import type { OpaqueAuth } from '../../rpc/auth.js';
import { NFS4_PROGRAM, NFS4_VERSION, Nfs4Op, Nfs4Proc, Nfs4Stat, ChannelDirFromClient4, ExchgId4Flag } from '../../nfs4/constants.js';
import { decodeCompoundRes, encodeCompoundArgs } from '../../nfs4/codec/compound.js';
import type { Nfs4Limits } from '../../nfs4/codec/limits.js';
import type { ChannelAttrs4, Compound4Res, Nfs4ArgOp, Nfs4ArgsMap, Nfs4KnownOp, Nfs4ResMap } from '../../nfs4/types.js';
import { NfsError } from '../errors.js';
import type { MountMode } from '../options.js';
import { clientChannel, type RpcReply, type RpcTransport } from '../transport.js';
import { nfs4Error } from './status.js';

export interface SessionOptions {
  transports: RpcTransport[];
  cred: OpaqueAuth;
  minor: 1 | 2;
  /** co_ownerid: the same for this client's whole life, so the server recognises it after a restart. */
  owner: Buffer;
  /** co_verifier: one per process start (a new one tells the server our earlier state is gone). */
  verifier: Buffer;
  /** Slots asked for (calls in flight); the server may grant fewer. */
  maxRequests: number;
  /** Largest request and reply asked for (the largest WRITE / READ plus headers). */
  maxRequestSize: number;
  maxResponseSize: number;
  limits: Nfs4Limits;
  mode: MountMode;
  /** For messages: host:port. */
  label: string;
}

export interface CompoundOptions {
  /** For errors and traces: 'read', 'open' ... */
  label: string;
  /** Bytes of arguments (sizes the message buffer). */
  sizeHint?: number;
  /** sa_cachethis: the COMPOUND changes state, so a retransmission must be answered from the reply cache. */
  cache?: boolean;
  /** Keep the reply record: views of it (READ data) stay valid until `release()`. */
  keep?: boolean;
  /** Part of state recovery: goes out while recovery holds every other call back. */
  recovery?: boolean;
  /** Give up after this many ms without an answer, whatever the mount mode (lease renewal). */
  softMs?: number;
  /** Answer DELAY / GRACE to the caller instead of pausing and asking again. */
  noRetry?: boolean;
}

const EMPTY_TAG = Buffer.alloc(0);

/** A session event on the client's diagnostics_channel (transport.ts clientChannel). */
export function publish(event: string, o: Record<string, unknown>): void {
  if (clientChannel.hasSubscribers) clientChannel.publish({ event, ...o });
}

export function closedError(label: string): NfsError {
  return new NfsError('ECONNABORTED', { syscall: label, description: 'the NFS client is closed' });
}

export class Wire4 {
  private rr = 0;

  constructor(private readonly o: SessionOptions) {}

  /** The connection with the fewest calls outstanding (ties round-robin). */
  pick(): RpcTransport {
    const ts = this.o.transports;
    if (ts.length === 1) return ts[0];
    const start = this.rr++ % ts.length;
    let t = ts[start];
    for (let i = 1; i < ts.length; i++) {
      const c = ts[(start + i) % ts.length];
      if (c.outstanding < t.outstanding) t = c;
    }
    return t;
  }

  /** One COMPOUND on `t`: its results decoded (failure arms included), the record kept until `rep.release`. */
  async send(ops: Nfs4ArgOp[], o: CompoundOptions, t: RpcTransport, priority = false): Promise<{ res: Compound4Res; rep: RpcReply }> {
    const rep = await t.call(
      NFS4_PROGRAM,
      NFS4_VERSION,
      Nfs4Proc.COMPOUND,
      this.o.cred,
      (w) => encodeCompoundArgs(w, { tag: EMPTY_TAG, minorversion: this.o.minor, ops }),
      (o.sizeHint ?? 256) + 64,
      o.label,
      o.softMs,
      priority,
    );
    try {
      return { res: decodeCompoundRes(rep.reader, this.o.limits), rep };
    } catch (err) {
      rep.release?.();
      throw new NfsError('EPROTO', { syscall: o.label, description: `malformed COMPOUND reply: ${(err as Error).message}`, cause: err });
    }
  }

  /** A COMPOUND of one session-less op: its result. */
  private async single<K extends Nfs4KnownOp>(op: { op: K; args: Nfs4ArgsMap[K] }, label: string, t = this.o.transports[0], softMs?: number, priority = false): Promise<Nfs4ResMap[K]> {
    const { res, rep } = await this.send([op as Nfs4ArgOp], { label, softMs }, t, priority);
    rep.release?.();
    const r = res.results[0];
    if (res.status === Nfs4Stat.MINOR_VERS_MISMATCH) throw new NfsError('EPROTONOSUPPORT', { syscall: label, description: `the server does not speak NFSv4.${this.o.minor}` });
    if (!r || r.op !== op.op) throw nfs4Error(res.status || Nfs4Stat.SERVERFAULT, label, undefined, `no ${label} result`);
    return r.res as Nfs4ResMap[K];
  }

  /** EXCHANGE_ID (SP4_NONE, no pNFS): the client id, CREATE_SESSION's sequence, and whether the server kept us confirmed. */
  async exchangeId(owner: Buffer, verifier: Buffer): Promise<{ clientid: bigint; sequenceid: number; confirmed: boolean }> {
    const r = await this.single(
      {
        op: Nfs4Op.EXCHANGE_ID,
        args: {
          clientowner: { verifier, ownerid: owner },
          flags: ExchgId4Flag.USE_NON_PNFS,
          stateProtect: { how: 0 },
          clientImplId: { domain: 'nfs-localio.dev', name: 'nfs-localio client (Node.js)', date: { seconds: 0n, nseconds: 0 } },
        },
      },
      'exchange_id',
    );
    if (r.status !== 0) throw nfs4Error(r.status, 'exchange_id');
    return { clientid: r.clientid, sequenceid: r.sequenceid, confirmed: (r.flags & ExchgId4Flag.CONFIRMED_R) !== 0 };
  }

  /** CREATE_SESSION; STALE_CLIENTID and SEQ_MISORDERED are returned (recovery goes on), other refusals thrown. */
  async createSession(clientid: bigint, sequence: number, o: SessionOptions): Promise<{ refused: number } | { sessionid: Buffer; foreChanAttrs: ChannelAttrs4 }> {
    const fore: ChannelAttrs4 = {
      headerPadSize: 0,
      maxRequestSize: o.maxRequestSize,
      maxResponseSize: o.maxResponseSize,
      maxResponseSizeCached: 16 * 1024,
      maxOperations: 16,
      maxRequests: o.maxRequests,
    };
    // No back channel: we take no delegations and no callbacks (docs/nfs4.md).
    const back: ChannelAttrs4 = { headerPadSize: 0, maxRequestSize: 4096, maxResponseSize: 4096, maxResponseSizeCached: 0, maxOperations: 2, maxRequests: 1 };
    const r = await this.single(
      { op: Nfs4Op.CREATE_SESSION, args: { clientid, sequence, flags: 0, foreChanAttrs: fore, backChanAttrs: back, cbProgram: 0x40000000, secParms: [{ flavor: 0 }] } },
      'create_session',
    );
    if (r.status === 0) return { sessionid: r.sessionid, foreChanAttrs: r.foreChanAttrs };
    if (r.status === Nfs4Stat.STALE_CLIENTID || r.status === Nfs4Stat.SEQ_MISORDERED) return { refused: r.status };
    throw nfs4Error(r.status, 'create_session');
  }

  /** BIND_CONN_TO_SESSION on `t` (fore channel), sent ahead of what the connection holds back. */
  async bindConn(t: RpcTransport, sessionid: Buffer): Promise<void> {
    const r = await this.single(
      { op: Nfs4Op.BIND_CONN_TO_SESSION, args: { sessid: sessionid, dir: ChannelDirFromClient4.FORE, useConnInRdmaMode: false } },
      'bind_conn_to_session',
      t,
      Math.max(2000, t.opts.timeout),
      true,
    );
    // BADSESSION here (the server restarted) is found again by the calls retransmitted next, which recover.
    if (r.status !== 0 && r.status !== Nfs4Stat.BADSESSION && r.status !== Nfs4Stat.DEADSESSION) throw nfs4Error(r.status, 'bind_conn_to_session');
  }

  /** DESTROY_SESSION and DESTROY_CLIENTID, each soft: a server that is gone does not hold close() up. */
  async destroy(t: RpcTransport, sessionid: Buffer, clientid: bigint): Promise<void> {
    const softMs = Math.min(2000, t.opts.timeout);
    await this.single({ op: Nfs4Op.DESTROY_SESSION, args: { sessionid } }, 'destroy_session', t, softMs).catch(() => undefined);
    await this.single({ op: Nfs4Op.DESTROY_CLIENTID, args: { clientid } }, 'destroy_clientid', t, softMs).catch(() => undefined);
  }
}
