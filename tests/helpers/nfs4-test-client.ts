/**
 * A small NFSv4.1/4.2 client made of the codec, for the server's tests: one TCP connection,
 * COMPOUNDs sent as given (raw bytes too, for hostile input), a session with a slot table the
 * test drives (so retransmissions and misordering can be provoked on purpose), and helpers for
 * the common sequences (open, lookup by path). Not the library's client: it retries nothing and
 * hides nothing.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { LAST_FRAGMENT, RecordReader } from '../../src/rpc/record.js';
import { readReplyBody, writeCallHeader, type ReplyHeader } from '../../src/rpc/message.js';
import { AUTH_NONE_VERF, AuthFlavor, encodeAuthSys } from '../../src/rpc/auth.js';
import { NFS4_PROGRAM, NFS4_VERSION, Nfs4Op as P, Nfs4Proc, nfs4StatName } from '../../src/nfs4/constants.js';
import { nfs4Limits } from '../../src/nfs4/codec/limits.js';
import { decodeCompoundRes, encodeCompoundArgs } from '../../src/nfs4/codec/compound.js';
import type { ChannelAttrs4, Compound4Res, Nfs4ArgOp, Nfs4ResOp, Stateid4 } from '../../src/nfs4/types.js';

const lim = nfs4Limits({ maxOps: 128, maxData: 8 << 20 });

export interface Cred {
  uid: number;
  gid: number;
  gids?: number[];
}

export type Reply = { kind: 'compound'; res: Compound4Res } | { kind: 'rpc'; header: ReplyHeader; body: Buffer };

export class V4Conn {
  private readonly waiting = new Map<number, (rec: Buffer) => void>();
  private xid = (randomBytes(4).readUInt32BE(0) & 0x7fffffff) >>> 0;
  readonly closed: Promise<void>;

  private constructor(readonly sock: net.Socket) {
    const rr = new RecordReader(16 << 20, (rec) => {
      const w = this.waiting.get(rec.readUInt32BE(0));
      if (w) {
        this.waiting.delete(rec.readUInt32BE(0));
        w(Buffer.from(rec));
      }
    });
    sock.on('data', (c: Buffer) => rr.push(c));
    this.closed = new Promise((res) => sock.once('close', () => res()));
    sock.on('error', () => undefined);
  }

  static connect(port: number): Promise<V4Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => resolve(new V4Conn(s)));
      s.once('error', reject);
    });
  }

  nextXid(): number {
    return ++this.xid >>> 0;
  }

  /** Send a whole RPC record (call bytes without the record mark) and wait for the reply to `xid`. */
  sendRaw(xid: number, body: Buffer[]): Promise<Buffer> {
    const len = body.reduce((n, b) => n + b.length, 0);
    const mark = Buffer.alloc(4);
    mark.writeUInt32BE((LAST_FRAGMENT | len) >>> 0);
    const reply = new Promise<Buffer>((res) => this.waiting.set(xid, res));
    this.sock.write(Buffer.concat([mark, ...body]));
    return reply;
  }

  /** A COMPOUND as the codec encodes it; `xid` to retransmit one. */
  async compound(minor: number, ops: Nfs4ArgOp[], o: { tag?: string; cred?: Cred; xid?: number } = {}): Promise<Compound4Res> {
    const r = await this.call(minor, ops, o);
    if (r.kind !== 'compound') throw new Error(`RPC failure ${JSON.stringify(r.header)}`);
    return r.res;
  }

  async call(minor: number, ops: Nfs4ArgOp[], o: { tag?: string; cred?: Cred; xid?: number; proc?: number; vers?: number; prog?: number } = {}): Promise<Reply> {
    const id = o.xid ?? this.nextXid();
    const w = new XdrWriter(1024);
    const c = o.cred ?? { uid: 0, gid: 0 };
    const cred = { flavor: AuthFlavor.SYS, body: encodeAuthSys({ machine: 'v4test', uid: c.uid, gid: c.gid, gids: c.gids ?? [] }) };
    writeCallHeader(w, { xid: id, prog: o.prog ?? NFS4_PROGRAM, vers: o.vers ?? NFS4_VERSION, proc: o.proc ?? Nfs4Proc.COMPOUND, cred, verf: AUTH_NONE_VERF });
    const chunks = (o.proc ?? 1) === 1 && (o.prog ?? NFS4_PROGRAM) === NFS4_PROGRAM ? encodeCompoundArgs(w, { tag: Buffer.from(o.tag ?? ''), minorversion: minor, ops }) : undefined;
    const rec = await this.sendRaw(id, [Buffer.from(w.finish()), ...(chunks ?? [])]);
    const r = new XdrReader(rec);
    r.uint32();
    r.uint32();
    const header = readReplyBody(r, id);
    if (header.kind !== 'accepted' || header.stat !== 'SUCCESS' || (o.proc ?? 1) !== 1 || (o.prog ?? NFS4_PROGRAM) !== NFS4_PROGRAM) return { kind: 'rpc', header, body: r.rest() };
    const res = decodeCompoundRes(r, lim);
    return { kind: 'compound', res };
  }

  close(): Promise<void> {
    this.sock.end();
    return this.closed;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

export function resOf<T extends Nfs4ResOp['op']>(res: Compound4Res, op: T): Extract<Nfs4ResOp, { op: T }>['res'] {
  const r = res.results.find((x) => x.op === op);
  if (!r) throw new Error(`no result of op ${op} in ${describeRes(res)}`);
  return r.res as never;
}

/** The result of `op`, which must be NFS4_OK. */
export function ok<T extends Nfs4ResOp['op']>(res: Compound4Res, op: T): Extract<Nfs4ResOp, { op: T }>['res'] & { status: 0 } {
  const r = resOf(res, op);
  if (r.status !== 0) throw new Error(`op ${op} failed: ${nfs4StatName(r.status)} in ${describeRes(res)}`);
  return r as never;
}

export function describeRes(res: Compound4Res): string {
  return `${nfs4StatName(res.status)} [${res.results.map((x) => `${x.op}:${nfs4StatName(x.res.status)}`).join(' ')}]`;
}

export const CHANNEL: ChannelAttrs4 = {
  headerPadSize: 0,
  maxRequestSize: 1049620,
  maxResponseSize: 1049480,
  maxResponseSizeCached: 3428,
  maxOperations: 16,
  maxRequests: 8,
};

/** A client with a session on one connection: slot 0 by default, sequence ids kept per slot. */
export class V4Session {
  readonly seqids: number[];
  constructor(
    readonly conn: V4Conn,
    readonly minor: number,
    readonly clientid: bigint,
    readonly sessionid: Buffer,
    slots: number,
  ) {
    this.seqids = new Array<number>(slots).fill(0);
  }

  /** EXCHANGE_ID's reply flags (eir_flags) of the last create(). */
  exchangeFlags = 0;

  static async create(conn: V4Conn, minor = 1, o: { owner?: string; verifier?: Buffer; cred?: Cred; channel?: Partial<ChannelAttrs4>; flags?: number; reclaimComplete?: boolean } = {}): Promise<V4Session> {
    const cred = o.cred;
    const ex = ok(await conn.compound(minor, [{
      op: P.EXCHANGE_ID,
      args: { clientowner: { verifier: o.verifier ?? randomBytes(8), ownerid: Buffer.from(o.owner ?? `v4test ${randomBytes(6).toString('hex')}`) }, flags: 0, stateProtect: { how: 0 } },
    }], { cred }), P.EXCHANGE_ID);
    const chan = { ...CHANNEL, ...o.channel };
    const cs = ok(await conn.compound(minor, [{
      op: P.CREATE_SESSION,
      args: { clientid: ex.clientid, sequence: ex.sequenceid, flags: o.flags ?? 0, foreChanAttrs: chan, backChanAttrs: { ...CHANNEL, maxRequests: 1, maxOperations: 2 }, cbProgram: 0x40000000, secParms: [{ flavor: 0 }] },
    }], { cred }), P.CREATE_SESSION);
    const s = new V4Session(conn, minor, ex.clientid, cs.sessionid, cs.foreChanAttrs.maxRequests);
    s.exchangeFlags = ex.flags;
    if (o.reclaimComplete !== false) ok(await s.run([{ op: P.RECLAIM_COMPLETE, args: { oneFs: false } }], { cred }), P.RECLAIM_COMPLETE);
    return s;
  }

  /** The SEQUENCE op for the next request on `slot` (the same sequence id again with `retry`). */
  seq(slot = 0, o: { retry?: boolean; cachethis?: boolean } = {}): Nfs4ArgOp {
    if (!o.retry) this.seqids[slot]++;
    return { op: P.SEQUENCE, args: { sessionid: this.sessionid, sequenceid: this.seqids[slot], slotid: slot, highestSlotid: this.seqids.length - 1, cachethis: o.cachethis ?? false } };
  }

  /** SEQUENCE + `ops`. */
  run(ops: Nfs4ArgOp[], o: { slot?: number; retry?: boolean; cred?: Cred; xid?: number; cachethis?: boolean } = {}): Promise<Compound4Res> {
    return this.conn.compound(this.minor, [this.seq(o.slot, o), ...ops], { cred: o.cred, xid: o.xid });
  }

  /** PUTROOTFH and a LOOKUP per component of `path`; the filehandle. */
  async lookup(path: string, cred?: Cred): Promise<Buffer> {
    const comps = path.split('/').filter(Boolean);
    const res = await this.run([{ op: P.PUTROOTFH, args: undefined }, ...comps.map((c) => ({ op: P.LOOKUP, args: { objname: c } }) as Nfs4ArgOp), { op: P.GETFH, args: undefined }], { cred });
    return ok(res, P.GETFH).object;
  }

  /** OPEN by name in `dir` (created UNCHECKED when `create`); the stateid and filehandle. */
  async open(dir: Buffer, name: string, o: { access?: number; deny?: number; create?: boolean; owner?: string; cred?: Cred; mode?: number } = {}): Promise<{ res: Compound4Res; stateid?: Stateid4; fh?: Buffer }> {
    const openhow = o.create
      ? { opentype: 1 as const, how: { mode: 0 as const, createattrs: { mask: [0, 1 << (33 - 32)], values: { mode: o.mode ?? 0o644 } } } }
      : { opentype: 0 as const };
    const res = await this.run([
      { op: P.PUTFH, args: { object: dir } },
      { op: P.OPEN, args: { seqid: 0, shareAccess: o.access ?? 3, shareDeny: o.deny ?? 0, owner: { clientid: this.clientid, owner: Buffer.from(o.owner ?? 'owner') }, openhow, claim: { claim: 0, file: name } } },
      { op: P.GETFH, args: undefined },
    ], { cred: o.cred });
    const r = resOf(res, P.OPEN);
    if (r.status !== 0) return { res };
    return { res, stateid: r.stateid, fh: ok(res, P.GETFH).object };
  }

  async destroy(): Promise<void> {
    await this.conn.compound(this.minor, [{ op: P.DESTROY_SESSION, args: { sessionid: this.sessionid } }]);
    await this.conn.compound(this.minor, [{ op: P.DESTROY_CLIENTID, args: { clientid: this.clientid } }]);
  }
}
