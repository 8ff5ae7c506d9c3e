/**
 * The COMPOUND runner (RFC 8881 sections 2.10.6, 15.2, 16.2): operations run in order until the
 * first that does not succeed; the current and saved filehandles and the current stateid travel
 * between them; in NFSv4.1 the first operation is SEQUENCE (or one of the few allowed outside a
 * session, alone), which picks the slot whose cached reply a retransmission gets; the reply is
 * kept within what the session negotiated (REP_TOO_BIG, REP_TOO_BIG_TO_CACHE). An operation the
 * codec could not take ends the COMPOUND with its stop status; a known operation without a
 * handler is NFS4ERR_NOTSUPP, never OP_ILLEGAL.
 */
import { crc32 } from 'node:zlib';
import type { CallContext } from '../rpc/context.js';
import type { Caller, Verified } from '../export/types.js';
import { Nfs4Op, Nfs4Stat, nfs4OpName, type Nfs4Error, type Nfs4Status } from './constants.js';
import type { Compound4Decoded, Compound4Res, Nfs4ArgOp, Nfs4KnownOp, Nfs4ResOp, Stateid4 } from './types.js';
import { ILLEGAL_RESULT, OP_CODECS, errorResult } from './codec/table.js';
import { encodeCompoundRes } from './codec/compound.js';
import { XdrWriter } from '../xdr/index.js';
import type { ReplyChunk } from '../rpc/program.js';
import type { Nfs4Env } from './env.js';
import type { ClientRecord, SessionRecord, Slot } from './state/index.js';
import type { OpTable, Replay } from './optable-types.js';

/** What a COMPOUND's operations share while it runs. */
export class Compound {
  /** Current and saved filehandles. */
  fh?: Buffer;
  /**
   * What the gate found for the current filehandle, while nothing changed since (PUTFH verifies
   * the handle; the operation after it rechecks that result instead of looking the object up
   * again: ops/common.ts verifyCurrent). Dropped by every operation that changes something.
   */
  verified?: { fh: Buffer; v: Verified };
  saved?: Buffer;
  /** Current and saved stateids (RFC 8881 section 16.2.3.1.2). */
  stateid?: Stateid4;
  savedStateid?: Stateid4;
  /** The session SEQUENCE named, its slot and client. */
  session?: SessionRecord;
  slot?: Slot;
  client?: ClientRecord;
  cachethis = false;
  /** A spliced READ tail is in the reply already (one socket write carries one). */
  tail = false;
  /** Reply bytes left within the session's bound, and within what its slot may cache (cachethis). */
  room = Infinity;
  cacheRoom = Infinity;
  /** The index of the operation running. */
  index = 0;
  private kept = 0;
  private keptRelease?: () => void;

  constructor(
    readonly env: Nfs4Env,
    readonly ctx: CallContext,
    readonly minor: number,
    readonly opCount: number,
    readonly requestSize: number,
    readonly fingerprint: string,
  ) {}

  caller(): Caller {
    return { cred: this.ctx.cred, peer: this.ctx.peer };
  }

  /**
   * Keep the request's bytes (WRITE data) past the COMPOUND, as CallContext.keepArgs, for any
   * number of operations: the record goes back when the last of them lets go.
   */
  keep(): (() => void) | undefined {
    const k = this.ctx.keepArgs;
    if (!k) return undefined;
    if (this.kept === 0) this.keptRelease = k();
    this.kept++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.kept === 0) this.keptRelease?.();
    };
  }
}

/** What the COMPOUND procedure answers: a result to encode, or reply bytes already made (a slot's cache). */
export type CompoundReply =
  | { kind: 'res'; res: Compound4Res }
  | { kind: 'bytes'; body: Buffer; res?: Compound4Res }
  | { kind: 'chunks'; chunks: ReplyChunk[]; res: Compound4Res };

/** Operations allowed as the first of an NFSv4.1 COMPOUND without SEQUENCE — then alone (knfsd's ALLOWED_AS_FIRST_OP). */
const SESSIONLESS = new Set<number>([
  Nfs4Op.EXCHANGE_ID, Nfs4Op.CREATE_SESSION, Nfs4Op.DESTROY_SESSION, Nfs4Op.BIND_CONN_TO_SESSION, Nfs4Op.DESTROY_CLIENTID,
]);

/** The fingerprint a slot keeps to tell a retransmission from a false retry: length and CRC-32 of the first bytes. */
export function fingerprintOf(args: Buffer): string {
  return `${args.length}:${crc32(args.subarray(0, 1024))}`;
}

function done(status: Nfs4Status, tag: Buffer, results: Nfs4ResOp[]): Compound4Res {
  return { status, tag, results };
}

/**
 * Run a decoded COMPOUND. `size` is the request's bytes (for REQ_TOO_BIG), `fingerprint` its
 * slot fingerprint.
 */
export async function runCompound(
  env: Nfs4Env,
  table: OpTable,
  a: Compound4Decoded,
  ctx: CallContext,
  size: number,
  fingerprint: string,
): Promise<CompoundReply> {
  if (a.minorversion !== 1 && a.minorversion !== 2) return { kind: 'res', res: done(Nfs4Stat.MINOR_VERS_MISMATCH, a.tag, []) };
  const results: Nfs4ResOp[] = [];
  const n = a.ops.length + (a.stop ? 1 : 0);
  if (n === 0) return { kind: 'res', res: done(0, a.tag, results) };
  const c = new Compound(env, ctx, a.minorversion, a.opCount, size, fingerprint);
  // RFC 8881 section 2.10.6.4 / knfsd's nfs41_check_op_ordering.
  const first = a.ops[0];
  if (first !== undefined && first.op !== Nfs4Op.SEQUENCE) {
    const status: Nfs4Error | 0 = !SESSIONLESS.has(first.op) ? Nfs4Stat.OP_NOT_IN_SESSION : n !== 1 || a.truncated ? Nfs4Stat.NOT_ONLY_OP : 0;
    if (status !== 0) return { kind: 'res', res: done(status, a.tag, [errorResult(first.op, status)]) };
  } else if (first === undefined && a.truncated) {
    return { kind: 'res', res: done(Nfs4Stat.TOO_MANY_OPS, a.tag, []) };
  }
  let status: Nfs4Status = 0;
  try {
    for (let i = 0; i < a.ops.length; i++) {
      c.index = i;
      const r = await runOp(table, a.ops[i], c, i);
      if (r.kind === 'replay') return { kind: 'bytes', body: r.reply };
      results.push(r.res);
      status = r.res.res.status;
      if (status !== 0) break;
    }
    if (status === 0 && a.stop) {
      const s = a.stop;
      results.push(s.illegal ? ILLEGAL_RESULT : errorResult(s.opnum as Nfs4KnownOp, s.status));
      status = s.status;
    }
  } catch (e) {
    if (c.slot && c.session) c.session.slots.finish(c.slot, 'uncached');
    throw e;
  }
  const res = done(status, a.tag, results);
  if (!c.slot || !c.session) return { kind: 'res', res };
  return keepInSlot(c.session, c.slot, res);
}

/**
 * Encode the reply once and leave it in the slot for retransmissions when it is small enough
 * (the session's ca_maxresponsesize_cached) and all in memory; otherwise the slot says
 * 'uncached' (a retransmission gets NFS4ERR_RETRY_UNCACHED_REP — READ replies, which are
 * idempotent and may carry a spliced tail).
 */
function keepInSlot(session: SessionRecord, slot: Slot, res: Compound4Res): CompoundReply {
  let w: XdrWriter;
  let chunks: ReplyChunk[] | void;
  try {
    w = new XdrWriter(512);
    chunks = encodeCompoundRes(w, res);
  } catch (e) {
    session.slots.finish(slot, 'uncached');
    throw e;
  }
  const head = w.finish();
  const rest = chunks ?? [];
  let len = head.length;
  let inMemory = true;
  for (const ch of rest) {
    len += ch.length;
    if (!Buffer.isBuffer(ch)) inMemory = false;
  }
  if (inMemory && len <= session.fore.maxResponseSizeCached) {
    const body = rest.length === 0 ? Buffer.from(head) : Buffer.concat([head, ...(rest as Buffer[])]);
    session.slots.finish(slot, body);
    return { kind: 'bytes', body, res };
  }
  session.slots.finish(slot, 'uncached');
  return { kind: 'chunks', chunks: [head, ...rest], res };
}

type OpRun = { kind: 'res'; res: Nfs4ResOp } | { kind: 'replay'; reply: Buffer };

async function runOp(table: OpTable, o: Nfs4ArgOp, c: Compound, i: number): Promise<OpRun> {
  const env = c.env;
  const t0 = process.hrtime.bigint();
  const finish = (res: Nfs4ResOp, bytes = 0): OpRun => {
    env.onOp?.({ op: res.op, name: nfs4OpName(res.op), status: res.res.status, durationNs: process.hrtime.bigint() - t0, bytes });
    return { kind: 'res', res };
  };
  const fail = (status: Nfs4Error) => finish(errorResult(o.op, status));
  if (o.op === Nfs4Op.SEQUENCE) {
    if (i !== 0) return fail(Nfs4Stat.SEQUENCE_POS);
  } else if (i > 0 && !c.session) {
    // Only SEQUENCE may carry other operations; the session-less ones came alone (checked above).
    return fail(Nfs4Stat.NOT_ONLY_OP);
  }
  // One shape for every row: the table's types keep each handler to its own op.
  const row = (table as Partial<Record<number, AnyRow>>)[o.op];
  if (!row) return fail(Nfs4Stat.NOTSUPP);
  if (row.fh && c.fh === undefined) return fail(Nfs4Stat.NOFILEHANDLE);
  // A reply must fit what the session allows, and what its slot keeps when the client asks for
  // that. An operation that changes something is checked before it runs, against an estimate (it
  // must not run and then be reported as failed); any other is checked by the size of its result.
  if (row.modifies) {
    const est = row.size?.(o.args, c) ?? MODIFY_ESTIMATE;
    if (est > c.room) return fail(Nfs4Stat.REP_TOO_BIG);
    if (est > c.cacheRoom) return fail(Nfs4Stat.REP_TOO_BIG_TO_CACHE);
  }
  const run = async () => row.handler(o.args, c);
  const out = row.modifies ? await env.changes.during(run) : await run();
  if (row.modifies) c.verified = undefined;
  if ('replay' in out) return { kind: 'replay', reply: out.replay };
  const res = { op: o.op, res: out } as Nfs4ResOp;
  const size = resultSize(res);
  if (!row.modifies && out.status === 0 && (size > c.room || size > c.cacheRoom)) {
    (out as { release?: () => void }).release?.();
    return fail(size > c.room ? Nfs4Stat.REP_TOO_BIG : Nfs4Stat.REP_TOO_BIG_TO_CACHE);
  }
  c.room -= size;
  c.cacheRoom -= size;
  return finish(res, row.bytes ? row.bytes(out) : 0);
}

/** What a modifying operation's reply is taken to need before it runs (they are all small). */
const MODIFY_ESTIMATE = 256;
const scratch = new XdrWriter(4096);

/** Bytes an operation's result takes in the reply (its data lent, not copied, so counting is cheap). */
function resultSize(r: Nfs4ResOp): number {
  scratch.truncate(0);
  if (r.op === 10044) return 8;
  const chunks = (OP_CODECS[r.op].encodeRes as (w: XdrWriter, res: unknown) => readonly ReplyChunk[] | void)(scratch, r.res);
  let n = 4 + scratch.length;
  if (chunks) for (const ch of chunks) n += ch.length;
  return n;
}

interface AnyRow {
  handler(args: unknown, c: Compound): Promise<Replay | { status: Nfs4Status }> | Replay | { status: Nfs4Status };
  fh?: boolean;
  modifies?: boolean;
  size?(args: unknown, c: Compound): number;
  bytes?(res: unknown): number;
}
