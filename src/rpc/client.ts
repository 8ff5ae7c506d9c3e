import net from 'node:net';
import { randomInt } from 'node:crypto';
import { XdrReader, XdrWriter } from '../xdr/index.js';
import { RecordReader, recordMark } from './record.js';
import { MsgType, readReplyBody, writeCallHeader, type ReplyHeader } from './message.js';
import { AUTH_NONE_VERF, AuthFlavor, encodeAuthSys, type OpaqueAuth } from './auth.js';
import { RpcTransportError } from './errors.js';

/** The result of a call whose reply was accepted with SUCCESS: a reader positioned at the result. */
export interface RpcResult {
  header: ReplyHeader;
  reader: XdrReader;
}

/** A call that did not get SUCCESS. `code` names the RPC status. */
export class RpcCallError extends Error {
  readonly code: string;
  readonly reply: ReplyHeader;
  constructor(reply: ReplyHeader) {
    const code = reply.kind === 'accepted' ? reply.stat : reply.kind === 'auth_error' ? reply.stat : 'RPC_MISMATCH';
    super(`RPC call failed: ${code}`);
    this.name = 'RpcCallError';
    this.code = code;
    this.reply = reply;
  }
}

export function authSys(uid: number, gid: number, gids: number[] = [], machine = 'nfs-localio'): OpaqueAuth {
  return { flavor: AuthFlavor.SYS, body: encodeAuthSys({ machine, uid, gid, gids }) };
}

export const AUTH_NONE: OpaqueAuth = AUTH_NONE_VERF;

interface Pending {
  resolve: (r: RpcResult) => void;
  reject: (e: Error) => void;
}

/**
 * A minimal multiplexed ONC RPC client over one TCP connection: many calls in
 * flight, replies matched by xid. (The full NFS client with timeouts,
 * reconnect and retransmission builds on this.)
 */
export class RpcClient {
  private readonly pending = new Map<number, Pending>();
  private xid = randomInt(0, 0x7fffffff);
  private closedErr?: Error;

  private constructor(private readonly socket: net.Socket, maxRecord: number) {
    const reader = new RecordReader(maxRecord, (rec) => this.onReply(rec));
    socket.on('data', (c: Buffer) => {
      try {
        reader.push(c);
      } catch (err) {
        this.fail(err as Error);
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new RpcTransportError('RPC_CONNECTION_CLOSED', 'connection closed')));
  }

  static connect(port: number, host = '127.0.0.1', opts: { localPort?: number; maxRecord?: number } = {}): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, localPort: opts.localPort, noDelay: true });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RpcClient(s, opts.maxRecord ?? 4 * 1024 * 1024));
      });
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Send raw bytes (tests of hostile input). */
  writeRaw(b: Buffer): void {
    this.socket.write(b);
  }

  call(
    prog: number,
    vers: number,
    proc: number,
    encodeArgs: (w: XdrWriter) => void = () => {},
    cred: OpaqueAuth = AUTH_NONE,
    xid?: number,
  ): Promise<RpcResult> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    const id = xid ?? (this.xid = (this.xid + 1) >>> 0);
    const w = new XdrWriter(256);
    writeCallHeader(w, { xid: id, prog, vers, proc, cred, verf: AUTH_NONE_VERF });
    encodeArgs(w);
    const body = w.finish();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.cork();
      this.socket.write(recordMark(body.length));
      this.socket.write(body);
      this.socket.uncork();
    });
  }

  /** Like call(), but resolves with the reply header whatever its status. */
  async callRaw(prog: number, vers: number, proc: number, encodeArgs?: (w: XdrWriter) => void, cred?: OpaqueAuth): Promise<RpcResult> {
    try {
      return await this.call(prog, vers, proc, encodeArgs, cred);
    } catch (err) {
      if (err instanceof RpcCallError) return { header: err.reply, reader: new XdrReader(Buffer.alloc(0)) };
      throw err;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }

  private onReply(rec: Buffer): void {
    if (rec.length < 8) return;
    const r = new XdrReader(rec);
    const xid = r.uint32();
    if (r.uint32() !== MsgType.REPLY) return;
    const p = this.pending.get(xid);
    if (!p) return;
    this.pending.delete(xid);
    try {
      const header = readReplyBody(r, xid);
      if (header.kind === 'accepted' && header.stat === 'SUCCESS') p.resolve({ header, reader: r });
      else p.reject(new RpcCallError(header));
    } catch (err) {
      p.reject(err as Error);
    }
  }

  private fail(err: Error): void {
    if (!this.closedErr) this.closedErr = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
