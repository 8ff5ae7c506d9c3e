/**
 * The client's RPC transport: one TCP connection to one server port, with
 * many calls in flight (bounded), replies matched by xid, timeouts,
 * reconnection and retransmission with the SAME xid and the same bytes, so a
 * server's duplicate request cache recognises a retransmitted non-idempotent
 * call (knfsd's nfscache, our src/rpc/drc.ts) instead of running it twice.
 *
 * Modes, as the Linux client's mount options:
 * - hard: a call is retried until the server answers (across reconnects and
 *   server restarts); only close() ends it.
 * - soft: a call fails with ETIMEDOUT after `retrans` timeouts of `timeout` ms.
 *
 * The process is kept alive only while calls are outstanding: the socket is
 * unref'd when idle, call timers are unref'd, and the reconnect timer exists
 * only while calls wait.
 *
 * Receiving: the socket reads into one reusable buffer (`onread`, no
 * allocation per read) and each record is copied once, into a buffer sized
 * from its fragment header — and inside a large fragment the next read is
 * pointed straight at that buffer, so the kernel's copy is the only one. Records larger than 64 KiB (READ replies) go
 * into buffers from a small pool that the data path gives back (`release`)
 * once it has written the bytes out: measured here, copying 1 MiB replies
 * into fresh buffers cost about 0.3 s per GiB, most of it page faults on
 * new memory; recycled buffers stay warm.
 */
import net from 'node:net';
import { randomInt } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import { XdrReader, XdrWriter } from '../xdr/index.js';
import { LAST_FRAGMENT } from '../rpc/record.js';
import { MsgType, readReplyBody, writeCallHeader, type ReplyHeader } from '../rpc/message.js';
import { AUTH_NONE_VERF, type OpaqueAuth } from '../rpc/auth.js';
import { NfsError } from './errors.js';
import type { MountMode } from './options.js';

/** diagnostics_channel for client events: { event: 'timeout' | 'retransmit' | 'reconnect' | 'disconnect' | 'connect', ... }. */
export const clientChannel = diagnostics_channel.channel('nfs-localio:client');

/** xids unique across all of a client's connections (the server's DRC keys by address, not port). */
export class XidSource {
  private x = randomInt(1, 0x7fffffff);
  next(): number {
    this.x = (this.x + 1) >>> 0;
    if (this.x === 0) this.x = 1;
    return this.x;
  }
}

export interface TransportOptions {
  host: string;
  port: number;
  mode: MountMode;
  timeout: number;
  retrans: number;
  connectTimeout: number;
  maxInFlight: number;
  /** Largest reply record accepted. */
  maxRecord: number;
  xids: XidSource;
  /** For messages: 'nfs', 'mount', 'portmap'. */
  label: string;
  /** Size of the pooled buffers large replies are assembled in (the largest READ reply expected). */
  poolRecordSize?: number;
  /**
   * On a timeout, drop the connection and send what is outstanding again on a new one, never on the
   * same connection (NFSv4.1, RFC 8881 section 2.9.2: a retry over TCP only after the connection is
   * lost; the Linux client's "discrtry" for v4). Default false: v3 retransmits on the same connection.
   */
  disconnectOnTimeout?: boolean;
}

export interface RpcReply {
  /** Positioned at the procedure's result. */
  reader: XdrReader;
  /** The whole reply record (results may hold views of it). */
  record: Buffer;
  /**
   * Set when `record` is a pooled buffer: call it (once) when no view of the
   * record is used any more, so the buffer is reused. Never calling it is
   * safe (the buffer is then simply garbage collected).
   */
  release?: () => void;
}

const JOIN_MAX = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** Below this many bytes left in a fragment, reads go to the shared buffer (it may also hold the next records). */
const DIRECT_MIN = 16 * 1024;

/** Equal-sized buffers for large reply records, reused once released. Bounded idle count. */
class RecordPool {
  private readonly free: Buffer[] = [];
  constructor(
    readonly size: number,
    private readonly max: number,
  ) {}
  acquire(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }
  release(b: Buffer): void {
    if (this.free.length < this.max) this.free.push(b);
  }
  clear(): void {
    this.free.length = 0;
  }
}

export interface TransportStats {
  calls: number;
  retransmits: number;
  timeouts: number;
  reconnects: number;
  inFlight: number;
}

/**
 * Writes a call's arguments into `w`; may return chunks that end them, lent to the transport and sent
 * uncopied (see RpcTransport.call) — as the server's encoders return READ data (encodeReadRes).
 */
export type ArgsEncoder = (w: XdrWriter) => readonly Buffer[] | void;

interface PendingCall {
  xid: number;
  /** The record: one buffer, or a head and chunks the caller lent (sent as they are, never copied). */
  msg: Buffer | readonly Buffer[];
  /** Writes of a lent message the socket has not finished with (it may still read the chunks). */
  writing: number;
  /** A reply that came while `writing` > 0: delivered once the last of those writes is done. */
  afterWrites?: () => void;
  resolve: (r: RpcReply) => void;
  reject: (e: Error) => void;
  tries: number;
  timer?: NodeJS.Timeout;
  /** Connection generation the message was last written on (0 = not yet sent). */
  sentOn: number;
  label: string;
  /** Per-call soft limit (LOCALIO probes): fail after one timeout of this many ms, whatever the mount mode. */
  softMs?: number;
  /** Sent while a reconnect hook holds everything else back, and outside the in-flight bound (onConnectHook). */
  priority?: boolean;
}

function rpcError(h: ReplyHeader, label: string): NfsError {
  if (h.kind === 'auth_error') return new NfsError('EACCES', { rpcStatus: h.stat, description: `RPC authentication failed (${h.stat})`, syscall: label });
  if (h.kind === 'rpc_mismatch') return new NfsError('EPROTO', { rpcStatus: 'RPC_MISMATCH', description: 'RPC version mismatch', syscall: label });
  const code = h.stat === 'PROG_UNAVAIL' || h.stat === 'PROG_MISMATCH' || h.stat === 'PROC_UNAVAIL' ? 'EPROTO' : 'EIO';
  return new NfsError(code, { rpcStatus: h.stat, description: `RPC call failed (${h.stat})`, syscall: label });
}

export class RpcTransport {
  private socket?: net.Socket;
  private connected = false;
  private gen = 0;
  private closed = false;
  private attempts = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly pending = new Map<number, PendingCall>();
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private lastError?: Error;
  /** Set once the first connection succeeded: failures after that follow hard/soft rules. */
  private everConnected = false;
  /** Called after the connection came back (not on the first connect): LOCALIO re-probes. */
  onReconnect?: () => void;
  /**
   * Run on a connection that came back before anything outstanding is sent on it again: calls made with
   * `priority` go out meanwhile, all others wait until it settles (NFSv4.1 binds the new connection to
   * its session first, then retransmits each call on its own slot and sequence id).
   */
  onConnectHook?: () => Promise<void>;
  /** A reconnect hook is running on the current connection. */
  private holding = false;
  private firstConnect?: { resolve: () => void; reject: (e: Error) => void };
  readonly stats: TransportStats = { calls: 0, retransmits: 0, timeouts: 0, reconnects: 0, inFlight: 0 };

  // reply reassembly
  private readonly rbuf = Buffer.allocUnsafeSlow(512 * 1024);
  private readonly pool: RecordPool;
  private hdr = Buffer.alloc(4);
  private hdrHave = 0;
  private fragLeft = -1;
  private lastFrag = false;
  private cur?: Buffer;
  private curPooled = false;
  private curFill = 0;
  /** The read in progress goes straight into `cur` (not into `rbuf`). */
  private direct = false;
  /**
   * The fragments so far of a record that comes in several: one buffer, growing to at most twice
   * their bytes (never a Buffer per fragment: a server can send endless empty or 1-byte ones).
   */
  private joined?: Buffer;
  private recLen = 0;

  constructor(readonly opts: TransportOptions) {
    this.pool = new RecordPool(opts.poolRecordSize ?? 1024 * 1024 + 4096, 32);
  }

  get port(): number {
    return this.opts.port;
  }

  /** Connect now; rejects (ECONNREFUSED, ETIMEDOUT, ...) if the first connection fails. */
  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      if (!this.socket) this.open();
    });
  }

  /**
   * One RPC. `encode` writes the procedure's arguments; `sizeHint` (bytes of
   * arguments) sizes the message buffer so large WRITEs are encoded without
   * regrowth. Resolves with a reader at the result of an accepted SUCCESS
   * reply; rejects with an NfsError otherwise.
   *
   * `encode` may return chunks that end the arguments (WRITE data and
   * its padding): they are sent as they are, after the encoded bytes, never
   * copied. The caller lends them: a reply is delivered only once the socket
   * has finished every write of them (a retransmission may still be queued
   * when the first reply comes), so after a resolved call they are the
   * caller's again. After a rejected one the socket may still hold them.
   */
  async call(
    prog: number,
    vers: number,
    proc: number,
    cred: OpaqueAuth,
    encode?: ArgsEncoder,
    sizeHint = 256,
    label = this.opts.label,
    /** Fail with ETIMEDOUT after this many ms without an answer, even on a hard mount (background probes). */
    softMs?: number,
    /** Outside the in-flight bound, and sent while a reconnect hook holds other calls back (onConnectHook). */
    priority = false,
  ): Promise<RpcReply> {
    if (this.closed) throw new NfsError('ECONNABORTED', { description: 'the NFS client is closed', syscall: label });
    if (priority) {
      // not counted: the hook's call must not wait behind the calls it holds back
    } else if (this.inFlight >= this.opts.maxInFlight) {
      await new Promise<void>((r) => this.waiters.push(r));
      if (this.closed) throw new NfsError('ECONNABORTED', { description: 'the NFS client is closed', syscall: label });
    } else this.inFlight++;
    const xid = this.opts.xids.next();
    const w = new XdrWriter(sizeHint + 64 + cred.body.length);
    w.reserve32();
    writeCallHeader(w, { xid, prog, vers, proc, cred, verf: AUTH_NONE_VERF });
    const encoded = encode?.(w);
    const tail = Array.isArray(encoded) ? (encoded as readonly Buffer[]) : undefined;
    const head = w.finish();
    let length = head.length - 4;
    for (const t of tail ?? []) length += t.length;
    w.patch32(0, (LAST_FRAGMENT | length) >>> 0);
    const msg = tail?.length ? [head, ...tail] : head;
    this.stats.calls++;
    return new Promise<RpcReply>((resolve, reject) => {
      const c: PendingCall = {
        xid,
        msg,
        writing: 0,
        resolve: (rep) => {
          if (c.writing === 0) resolve(rep);
          else c.afterWrites = () => resolve(rep);
        },
        reject,
        tries: 0,
        sentOn: 0,
        label,
        softMs,
        priority,
      };
      this.pending.set(xid, c);
      if (this.pending.size === 1) this.refresh();
      this.arm(c);
      if (this.connected && (!this.holding || priority)) this.send(c);
      else if (!this.connected) this.ensureConnecting();
    });
  }

  /** Close the connection, fail outstanding calls, release every timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const err = new NfsError('ECONNABORTED', { description: 'the NFS client is closed', syscall: this.opts.label });
    for (const c of this.pending.values()) {
      clearTimeout(c.timer);
      c.reject(err);
    }
    this.pending.clear();
    const ws = this.waiters.splice(0);
    for (const w of ws) w();
    this.socket?.destroy();
    this.socket = undefined;
    this.connected = false;
    this.resetReader();
    this.pool.clear();
    this.firstConnect?.reject(err);
    this.firstConnect = undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Calls outstanding (sent or waiting to be). */
  get outstanding(): number {
    return this.pending.size + this.waiters.length;
  }

  // ---------------------------------------------------------------- internals

  private release(): void {
    const w = this.waiters.shift();
    if (w) w(); // the slot passes to the waiter
    else this.inFlight--;
  }

  private finish(c: PendingCall): void {
    clearTimeout(c.timer);
    this.pending.delete(c.xid);
    if (!c.priority) this.release();
    if (this.pending.size === 0) this.refresh();
  }

  /** Keep the process alive exactly while calls are outstanding. */
  private refresh(): void {
    this.stats.inFlight = this.pending.size;
    if (!this.socket) return;
    if (this.pending.size > 0) this.socket.ref();
    else this.socket.unref();
  }

  private arm(c: PendingCall): void {
    c.timer = setTimeout(() => this.onTimeout(c), c.softMs ?? this.opts.timeout);
    c.timer.unref();
  }

  private onTimeout(c: PendingCall): void {
    if (!this.pending.has(c.xid)) return;
    c.tries++;
    this.stats.timeouts++;
    if (clientChannel.hasSubscribers) clientChannel.publish({ event: 'timeout', label: c.label, xid: c.xid, tries: c.tries, port: this.opts.port });
    if (c.softMs !== undefined || (this.opts.mode === 'soft' && c.tries >= this.opts.retrans)) {
      this.finish(c);
      c.reject(
        new NfsError('ETIMEDOUT', {
          description: `the server ${this.opts.host}:${this.opts.port} did not answer (${c.tries} tries of ${c.softMs ?? this.opts.timeout} ms)`,
          syscall: c.label,
          cause: this.lastError,
        }),
      );
      return;
    }
    this.arm(c);
    if (this.connected && this.holding && !c.priority) return; // goes out when the reconnect hook is done
    if (this.connected && this.opts.disconnectOnTimeout) {
      // Never again on this connection: a new one carries every outstanding call (once per connection).
      if (c.sentOn === this.gen) this.socket?.destroy();
      return;
    }
    // Same xid, same bytes: a server that already ran the call answers from its DRC.
    if (this.connected) {
      this.stats.retransmits++;
      if (clientChannel.hasSubscribers) clientChannel.publish({ event: 'retransmit', label: c.label, xid: c.xid, port: this.opts.port });
      this.send(c);
    } else this.ensureConnecting();
  }

  private send(c: PendingCall): void {
    c.sentOn = this.gen;
    const s = this.socket!;
    if (!Array.isArray(c.msg)) {
      s.write(c.msg as Buffer);
      return;
    }
    // One vectored write of head and lent chunks; its callback (also on error or destroy) says the
    // socket is done reading them.
    c.writing++;
    const done = () => {
      if (--c.writing > 0) return;
      const deliver = c.afterWrites;
      c.afterWrites = undefined;
      deliver?.();
    };
    s.cork();
    const parts = c.msg as readonly Buffer[];
    for (let i = 0; i < parts.length; i++) s.write(parts[i], i === parts.length - 1 ? done : undefined);
    s.uncork();
  }

  private ensureConnecting(): void {
    if (this.closed || this.socket || this.reconnectTimer) return;
    if (!this.everConnected && !this.firstConnect) {
      this.open();
      return;
    }
    const delay = this.attempts === 0 ? 0 : Math.min(50 * 2 ** (this.attempts - 1), 2000);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed || this.pending.size === 0) return;
      this.stats.reconnects++;
      if (clientChannel.hasSubscribers) clientChannel.publish({ event: 'reconnect', port: this.opts.port, attempt: this.attempts });
      this.open();
    }, delay);
  }

  private open(): void {
    const gen = ++this.gen;
    this.resetReader();
    const s = net.connect({
      host: this.opts.host,
      port: this.opts.port,
      noDelay: true,
      onread: {
        // Called before every read: inside a large fragment, the kernel copies straight into the record's buffer.
        buffer: () => this.nextReadBuffer(),
        callback: (n: number, buf: Uint8Array) => {
          if (gen !== this.gen) return false;
          try {
            this.received(n, buf as Buffer);
          } catch (err) {
            this.lastError = err as Error;
            s.destroy();
          }
          return true;
        },
      },
    });
    this.socket = s;
    const connectTimer = setTimeout(() => {
      s.destroy(new NfsError('ETIMEDOUT', { description: `connecting to ${this.opts.host}:${this.opts.port} timed out`, syscall: 'connect' }));
    }, this.opts.connectTimeout);
    connectTimer.unref();
    s.once('connect', () => {
      clearTimeout(connectTimer);
      if (gen !== this.gen) return;
      const again = this.everConnected;
      this.connected = true;
      this.everConnected = true;
      this.attempts = 0;
      if (clientChannel.hasSubscribers) clientChannel.publish({ event: 'connect', port: this.opts.port, local: s.localPort });
      this.refresh();
      const fc = this.firstConnect;
      this.firstConnect = undefined;
      fc?.resolve();
      const hook = again ? this.onConnectHook : undefined;
      if (hook) {
        this.holding = true;
        void hook()
          .catch(() => undefined)
          .finally(() => {
            if (gen !== this.gen || !this.connected) return; // that connection is gone: the next one runs the hook again
            this.holding = false;
            this.resendAll(gen);
          });
      } else this.resendAll(gen);
      if (again) this.onReconnect?.();
    });
    s.on('error', (err) => {
      this.lastError = err;
    });
    s.once('close', () => {
      clearTimeout(connectTimer);
      if (gen !== this.gen) return;
      const wasConnected = this.connected;
      this.connected = false;
      this.holding = false;
      this.socket = undefined;
      this.resetReader();
      if (this.closed) return;
      if (clientChannel.hasSubscribers) clientChannel.publish({ event: 'disconnect', port: this.opts.port, error: this.lastError?.message });
      if (!this.everConnected) {
        // The first connection failed: fail fast (as mount(8) does), whatever the mode.
        const fc = this.firstConnect;
        this.firstConnect = undefined;
        const e = this.lastError as NodeJS.ErrnoException | undefined;
        const code = e instanceof NfsError ? e.code : (e?.code ?? 'ECONNREFUSED');
        fc?.reject(new NfsError(code, { description: `cannot connect to ${this.opts.host}:${this.opts.port}: ${e?.message ?? 'closed'}`, syscall: 'connect', cause: e }));
        // calls made before the first connection share its fate
        for (const c of [...this.pending.values()]) {
          this.finish(c);
          c.reject(new NfsError(code, { description: `cannot connect to ${this.opts.host}:${this.opts.port}`, syscall: c.label, cause: e }));
        }
        return;
      }
      if (wasConnected) this.attempts = 0;
      if (this.pending.size > 0) this.ensureConnecting();
    });
  }

  /** Everything outstanding not yet on connection `gen` goes on it, oldest first, with its original xid. */
  private resendAll(gen: number): void {
    const calls = [...this.pending.values()].filter((c) => c.sentOn !== gen).sort((a, b) => a.xid - b.xid);
    for (const c of calls) {
      if (c.sentOn !== 0) this.stats.retransmits++;
      this.send(c);
    }
  }

  /** The buffer the next socket read goes into. */
  private nextReadBuffer(): Buffer {
    if (this.cur && this.fragLeft >= DIRECT_MIN) {
      this.direct = true;
      return this.cur.subarray(this.curFill, this.curFill + this.fragLeft);
    }
    this.direct = false;
    return this.rbuf;
  }

  private resetReader(): void {
    this.direct = false;
    if (this.cur && this.curPooled) this.pool.release(this.cur);
    this.hdrHave = 0;
    this.fragLeft = -1;
    this.lastFrag = false;
    this.cur = undefined;
    this.curPooled = false;
    this.curFill = 0;
    this.joined = undefined;
    this.recLen = 0;
  }

  /**
   * `n` bytes were read into `buf`, the buffer nextReadBuffer() gave for this read (the socket's
   * `onread` callback, and the fuzzer's stand-in for it: fuzz/targets-clients.ts).
   */
  private received(n: number, buf: Buffer): void {
    if (this.direct) {
      this.direct = false;
      this.curFill += n;
      this.fragLeft -= n;
      if (this.fragLeft === 0) this.endFragment();
    } else this.onBytes(buf, n);
  }

  /** Record marking (RFC 5531 §11), bytes copied out of the shared read buffer. */
  private onBytes(buf: Buffer, n: number): void {
    let off = 0;
    while (off < n) {
      if (this.fragLeft < 0) {
        const take = Math.min(4 - this.hdrHave, n - off);
        buf.copy(this.hdr, this.hdrHave, off, off + take);
        this.hdrHave += take;
        off += take;
        if (this.hdrHave < 4) return;
        this.hdrHave = 0;
        const word = this.hdr.readUInt32BE(0);
        this.lastFrag = (word & LAST_FRAGMENT) !== 0;
        this.fragLeft = word & 0x7fffffff;
        if (this.recLen + this.fragLeft > this.opts.maxRecord) {
          throw new NfsError('EPROTO', { description: `reply record of ${this.recLen + this.fragLeft} bytes exceeds ${this.opts.maxRecord}` });
        }
        const single = this.lastFrag && this.recLen === 0;
        this.curPooled = single && this.fragLeft > JOIN_MAX && this.fragLeft <= this.pool.size;
        this.cur = this.curPooled ? this.pool.acquire() : this.fragLeft === 0 ? EMPTY : Buffer.allocUnsafe(this.fragLeft);
        this.curFill = 0;
        if (this.fragLeft === 0) this.endFragment();
        continue;
      }
      const take = Math.min(this.fragLeft, n - off);
      buf.copy(this.cur!, this.curFill, off, off + take);
      this.curFill += take;
      this.fragLeft -= take;
      off += take;
      if (this.fragLeft === 0) this.endFragment();
    }
  }

  private endFragment(): void {
    const frag = this.cur!.subarray(0, this.curFill);
    const pooled = this.curPooled ? this.cur! : undefined;
    this.cur = undefined;
    this.curPooled = false;
    this.fragLeft = -1;
    if (!this.lastFrag) {
      this.join(frag);
      return;
    }
    let rec = frag;
    if (this.recLen > 0) {
      this.join(frag);
      rec = this.joined!.subarray(0, this.recLen);
      this.joined = undefined;
    }
    this.recLen = 0;
    this.lastFrag = false;
    let release: (() => void) | undefined;
    if (pooled) {
      let done = false;
      release = () => {
        if (!done) {
          done = true;
          this.pool.release(pooled);
        }
      };
    }
    this.onRecord(rec, release);
  }

  /** Add a fragment's bytes to the record being joined. */
  private join(frag: Buffer): void {
    if (frag.length === 0) return;
    const need = this.recLen + frag.length;
    if (this.joined === undefined || need > this.joined.length) {
      const next = Buffer.allocUnsafe(Math.min(Math.max(need, 2 * (this.joined?.length ?? 0), 256), this.opts.maxRecord));
      this.joined?.copy(next, 0, 0, this.recLen);
      this.joined = next;
    }
    frag.copy(this.joined, this.recLen);
    this.recLen = need;
  }

  private onRecord(rec: Buffer, release: (() => void) | undefined): void {
    if (rec.length < 8 || rec.readUInt32BE(4) !== MsgType.REPLY) return release?.();
    const xid = rec.readUInt32BE(0);
    const c = this.pending.get(xid);
    if (!c) return release?.(); // a reply to a call we gave up on, or a duplicate
    this.finish(c);
    const r = new XdrReader(rec, 8);
    let h: ReplyHeader;
    try {
      h = readReplyBody(r, xid);
    } catch (err) {
      release?.();
      c.reject(new NfsError('EPROTO', { description: `malformed RPC reply: ${(err as Error).message}`, syscall: c.label, cause: err }));
      return;
    }
    if (h.kind === 'accepted' && h.stat === 'SUCCESS') c.resolve(release ? { reader: r, record: rec, release } : { reader: r, record: rec });
    else {
      release?.();
      c.reject(rpcError(h, c.label));
    }
  }
}
