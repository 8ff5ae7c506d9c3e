import net from 'node:net';
import { EventEmitter } from 'node:events';
import { XdrReader, XdrWriter } from '../xdr/index.js';
import { log } from '../util/log.js';
import { RecordReader, recordMark, PAYLOAD_ALIGN } from './record.js';
import {
  MsgType,
  RPC_VERSION,
  readCallBody,
  writeAcceptedHeader,
  encodeAcceptError,
  encodeAuthError,
  encodeProgMismatch,
  encodeRpcMismatch,
  AuthBodyTooLong,
} from './message.js';
import { AuthFlavor, decodeAuthSys, type Credential } from './auth.js';
import { RpcAcceptError, RpcAuthError } from './errors.js';
import { DuplicateRequestCache } from './drc.js';
import type { RpcProgram, ProcedureDef, ReplyChunk, ReplyTail } from './program.js';
import type { CallContext, Peer } from './context.js';
import { BufferPool } from '../util/bufpool.js';

export interface RpcServerOptions {
  /** Largest request record accepted (sum of fragments). Default 1 MiB + 64 KiB. */
  maxRecord?: number;
  /** Calls in flight per connection before reading pauses (backpressure). Default 32. */
  maxInFlight?: number;
  /** Connections accepted at once; more are closed on arrival. Default 1024. */
  maxConnections?: number;
  /** Shared duplicate request cache; one is created when omitted. */
  drc?: DuplicateRequestCache;
  /**
   * Called once per accepted connection with its descriptor, before its first read, to adjust the
   * socket (the NFS server sets the TCP congestion control of same-host connections:
   * server/same-host-tcp.ts). What it returns is shown as the connection's `congestion`.
   */
  tuneSocket?: (fd: number, peer: Peer, local: { address: string; port: number }) => string | undefined;
}

export interface RpcServerStats {
  connections: number;
  connectionsTotal: number;
  calls: number;
  garbageRecords: number;
  oversizedRecords: number;
  drcHits: number;
}

/** One live connection, for `status`. */
export interface ConnectionInfo {
  id: number;
  peer: Peer;
  since: Date;
  calls: number;
  /** Credential flavour and uid of the latest call ('none' before any). */
  authFlavor: 'none' | 'sys' | 'unknown';
  uid?: number;
  /** What `tuneSocket` reported for this connection (its TCP congestion control). */
  congestion?: string;
}

/** Per-call outcome, for observers (metrics, tests). */
export interface CallEvent {
  prog: number;
  vers: number;
  proc: number;
  name: string;
  status: string;
  durationNs: bigint;
  /** Data bytes moved (READ/WRITE; 0 for others). */
  bytes: number;
}

let nextConnectionId = 1;

/** Node's libuv handle under a socket (not public API: probed, never assumed). */
function handleOf(socket: net.Socket): { fd?: unknown; writeQueueSize?: unknown } | null | undefined {
  return (socket as unknown as { _handle?: { fd?: unknown; writeQueueSize?: unknown } | null })._handle;
}

/** The socket's descriptor, or -1 when Node does not expose one. */
function descriptorOf(socket: net.Socket): number {
  const fd = handleOf(socket)?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

const EMPTY = Buffer.alloc(0);

/**
 * Where every server socket's reads land. Node otherwise allocates a fresh 64 KiB buffer per read:
 * at 1 GiB of WRITE data that is 16,384 allocations, and the external-memory churn costs more CPU in
 * garbage collection and page faults than the copy it feeds (measured: ~0.4 s user + ~0.5 s system
 * per GiB less with a reused buffer). Reads are consumed synchronously — RecordReader copies what it
 * keeps — before the event loop can start another read, so one buffer serves every connection.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/**
 * Re-wrap an accepted (paused) socket so that its reads go into READ_BUFFER (the `onread` option of
 * `net.Socket`, which `net.Server` cannot pass to the sockets it accepts). Undefined when this Node
 * does not let us (then the caller reads 'data' events as usual).
 */
function withReadBuffer(accepted: net.Socket, sink: (chunk: Buffer) => void): net.Socket | undefined {
  const raw = accepted as unknown as { _handle?: object | null };
  const handle = raw._handle;
  if (handle === null || typeof handle !== 'object') return undefined;
  let s: net.Socket;
  try {
    s = new net.Socket({
      handle,
      readable: true,
      writable: true,
      onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => sink((buf as Buffer).subarray(0, n)) },
    } as net.SocketConstructorOpts);
  } catch {
    return undefined;
  }
  // The accepted socket gives up the handle: destroying it now only settles net.Server's count.
  raw._handle = null;
  accepted.destroy();
  return s;
}

/**
 * A program-agnostic ONC RPC server over TCP (RFC 5531): record marking,
 * call-header decoding, authentication flavors, dispatch through procedure
 * tables, the duplicate request cache, and many calls in flight per
 * connection with replies matched by xid and sent as they complete.
 */
export class RpcServer extends EventEmitter {
  private readonly programs = new Map<number, RpcProgram>();
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly infos = new Map<number, ConnectionInfo>();
  readonly drc: DuplicateRequestCache;
  readonly maxRecord: number;
  private readonly maxInFlight: number;
  private readonly maxConnections: number;
  /** @internal */
  readonly tuneSocket: RpcServerOptions['tuneSocket'];
  private readonly counters = { connectionsTotal: 0, calls: 0, garbageRecords: 0, oversizedRecords: 0 };
  /** Buffers for reassembling large records (WRITE), shared by all connections. */
  readonly recordPool: BufferPool;
  /** Buffers for what a spliced reply could not send at once (sendWithTail), shared by all connections. */
  readonly tailPool: BufferPool;

  constructor(programs: RpcProgram[], opts: RpcServerOptions = {}) {
    super();
    for (const p of programs) this.addProgram(p);
    this.maxRecord = opts.maxRecord ?? 1024 * 1024 + 64 * 1024;
    this.maxInFlight = opts.maxInFlight ?? 32;
    this.maxConnections = opts.maxConnections ?? 1024;
    this.drc = opts.drc ?? new DuplicateRequestCache();
    this.tuneSocket = opts.tuneSocket;
    // PAYLOAD_ALIGN more than a record, so a WRITE's data can start on a page boundary (RecordReader).
    this.recordPool = new BufferPool(this.maxRecord + PAYLOAD_ALIGN, 16);
    this.tailPool = new BufferPool(this.maxRecord + PAYLOAD_ALIGN, 16);
    this.server = net.createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
    this.server.on('error', (err) => this.emit('error', err));
  }

  addProgram(p: RpcProgram): void {
    this.programs.set(p.number, p);
  }

  removeProgram(number: number): void {
    this.programs.delete(number);
  }

  hasProgram(number: number): boolean {
    return this.programs.has(number);
  }

  listen(port: number, host: string): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ port, host, exclusive: true }, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  address(): net.AddressInfo | null {
    return this.server.address() as net.AddressInfo | null;
  }

  /** Stop accepting, close every connection, and resolve when the listener is closed. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }

  stats(): RpcServerStats {
    return { connections: this.sockets.size, ...this.counters, drcHits: this.drc.stats.hits };
  }

  /** The connections open now. */
  connections(): ConnectionInfo[] {
    return [...this.infos.values()].map((c) => ({ ...c, peer: { ...c.peer } }));
  }

  /** @internal */
  track(info: ConnectionInfo | undefined, id: number): void {
    if (info) this.infos.set(id, info);
    else this.infos.delete(id);
  }

  private accept(socket: net.Socket): void {
    if (this.sockets.size >= this.maxConnections) {
      log.warn('rpc.connection.refused', { peer: socket.remoteAddress, reason: 'too many connections' });
      socket.destroy();
      return;
    }
    this.counters.connectionsTotal++;
    let conn: Connection | undefined;
    const adopted = withReadBuffer(socket, (chunk) => conn?.feed(chunk, true));
    const s = adopted ?? socket;
    this.sockets.add(s);
    conn = new Connection(this, s, nextConnectionId++, this.maxRecord, this.maxInFlight);
    if (adopted === undefined) {
      const c = conn;
      s.on('data', (chunk: Buffer) => c.feed(chunk, false));
      s.resume();
    }
  }

  /**
   * Where a call's bulk payload starts, from the record's first bytes: the call header, then the
   * procedure's own `seekPayload`. -1 for replies, unknown procedures, or too few bytes.
   * @internal
   */
  readonly locatePayload = (head: Buffer): number => {
    try {
      const r = new XdrReader(head);
      const xid = r.uint32();
      if (r.uint32() !== MsgType.CALL) return -1;
      const h = readCallBody(r, xid);
      const proc = this.programs.get(h.prog)?.versions.get(h.vers)?.[h.proc];
      if (proc?.seekPayload === undefined) return -1;
      proc.seekPayload(r);
      return r.offset;
    } catch {
      return -1;
    }
  };

  /** @internal */
  forget(socket: net.Socket): void {
    this.sockets.delete(socket);
  }

  /** @internal */
  program(n: number): RpcProgram | undefined {
    return this.programs.get(n);
  }

  /** @internal */
  count(what: 'calls' | 'garbageRecords' | 'oversizedRecords'): void {
    this.counters[what]++;
  }
}

/** Decode the call's credential; throws RpcAuthError when the flavor is refused. */
function authenticate(flavor: number, body: Buffer, verfFlavor: number, verfBody: Buffer): Credential {
  if (flavor !== AuthFlavor.NONE && flavor !== AuthFlavor.SYS) {
    throw new RpcAuthError('AUTH_BADCRED', `auth flavor ${flavor} not supported`);
  }
  // AUTH_NONE and AUTH_SYS both carry an AUTH_NONE verifier (RFC 5531 §14).
  if (verfFlavor !== AuthFlavor.NONE || verfBody.length !== 0) throw new RpcAuthError('AUTH_BADVERF');
  if (flavor === AuthFlavor.NONE) return { flavor: 'none' };
  try {
    return decodeAuthSys(body);
  } catch {
    throw new RpcAuthError('AUTH_BADCRED', 'malformed AUTH_SYS credential');
  }
}

/** One TCP connection: reassembles records, dispatches calls, writes replies by xid. */
class Connection {
  private readonly reader: RecordReader;
  private readonly peer: Peer;
  private readonly local: { address: string; port: number };
  private readonly info: ConnectionInfo;
  private inFlight = 0;
  private readonly queue: Array<{ record: Buffer; release?: () => void }> = [];
  private closed = false;
  private writeBlocked = false;

  constructor(
    private readonly owner: RpcServer,
    private readonly socket: net.Socket,
    readonly id: number,
    maxRecord: number,
    private readonly maxInFlight: number,
  ) {
    this.peer = {
      address: socket.remoteAddress ?? '?',
      port: socket.remotePort ?? 0,
      family: socket.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4',
    };
    this.local = { address: socket.localAddress ?? '?', port: socket.localPort ?? 0 };
    this.reader = new RecordReader(maxRecord, (rec, release) => this.onRecord(rec, release), owner.recordPool, owner.locatePayload);
    this.info = { id, peer: this.peer, since: new Date(), calls: 0, authFlavor: 'unknown' };
    const fd = descriptorOf(socket);
    if (owner.tuneSocket && fd >= 0) this.info.congestion = owner.tuneSocket(fd, this.peer, this.local);
    owner.track(this.info, id);
    owner.emit('connect', { id, peer: this.peer });
    log.info('client.connected', { conn: id, peer: `${this.peer.address}:${this.peer.port}` });
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.updateFlow();
    });
    socket.on('error', (err) => log.debug('rpc.socket.error', { conn: id, err }));
    socket.on('close', () => {
      this.closed = true;
      for (const q of this.queue) q.release?.();
      this.queue.length = 0;
      this.reader.discard();
      owner.forget(socket);
      owner.track(undefined, id);
      owner.emit('disconnect', { id, peer: this.peer });
      log.info('client.disconnected', { conn: id, peer: `${this.peer.address}:${this.peer.port}`, calls: this.info.calls });
    });
  }

  /** Bytes from the socket; `transient` when their memory is reused after this returns. */
  feed(chunk: Buffer, transient: boolean): void {
    if (this.closed || this.socket.destroyed) return;
    try {
      this.reader.push(chunk, transient);
    } catch (err) {
      this.owner.count('oversizedRecords');
      log.warn('rpc.record.rejected', { conn: this.id, peer: this.peer.address, err: err as Error });
      this.socket.destroy();
    }
  }

  private onRecord(record: Buffer, release?: () => void): void {
    if (this.inFlight >= this.maxInFlight) {
      this.queue.push({ record, release });
      this.updateFlow();
      return;
    }
    this.start(record, release);
  }

  /** Pause reading while the in-flight bound is reached or the peer is not reading replies. */
  private updateFlow(): void {
    if (this.closed) return;
    const busy = this.inFlight >= this.maxInFlight || this.writeBlocked;
    if (busy && !this.socket.isPaused()) this.socket.pause();
    else if (!busy && this.socket.isPaused()) this.socket.resume();
  }

  private start(record: Buffer, release?: () => void): void {
    this.inFlight++;
    this.updateFlow();
    // Whoever holds `owner` gives the record back: this call when it ends, or a handler that kept it.
    let owner = release;
    const keepArgs = (): (() => void) => {
      const r = owner;
      owner = undefined;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        r?.();
      };
    };
    this.dispatch(record, keepArgs)
      .catch((err) => log.error('rpc.dispatch.bug', { conn: this.id, err }))
      .finally(() => {
        // The record (and views of it, like WRITE data) is no longer used, unless a handler kept it.
        owner?.();
        this.inFlight--;
        while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
          const q = this.queue.shift()!;
          this.start(q.record, q.release);
        }
        this.updateFlow();
      });
  }

  /** Write one reply as a single fragment; `sent` runs once the socket owns the bytes (or never will). */
  private send(chunks: ReplyChunk[], sent?: () => void): void {
    if (this.closed) {
      sent?.();
      return;
    }
    let len = 0;
    let tail = -1;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i];
      len += c.length;
      if (!Buffer.isBuffer(c)) tail = i;
    }
    if (tail >= 0) {
      this.sendWithTail(chunks, tail, len, sent);
      return;
    }
    const bufs = chunks as Buffer[];
    this.socket.cork();
    this.socket.write(recordMark(len));
    let ok = true;
    for (let i = 0; i < bufs.length; i++) {
      ok = i === bufs.length - 1 && sent ? this.socket.write(bufs[i], () => sent()) : this.socket.write(bufs[i]);
    }
    this.socket.uncork();
    if (!ok) {
      this.writeBlocked = true;
      this.updateFlow();
    }
  }

  /**
   * A reply whose chunk `at` is a tail (READ data in a pipe): when nothing is queued on the socket,
   * the tail writes record mark, header, its data and trailer straight to the socket's descriptor —
   * the data without a copy — as far as the socket takes them now; whatever is left (or all of it,
   * when the socket is busy) is copied out once, into a pooled buffer given back once the socket has
   * it, and goes through the socket's own write queue, after what went out directly. Writing behind
   * libuv's back is safe only while its queue is empty, and nothing else can write between the check
   * and the call (one thread).
   */
  private sendWithTail(chunks: ReplyChunk[], at: number, len: number, sent?: () => void): void {
    const tail = chunks[at] as ReplyTail;
    // One tail per reply: the chunks around it are buffers.
    const head = Buffer.concat([recordMark(len), ...(chunks.slice(0, at) as Buffer[])]);
    const trailer = at + 1 < chunks.length ? Buffer.concat(chunks.slice(at + 1) as Buffer[]) : EMPTY;
    const total = head.length + tail.length + trailer.length;
    const pool = this.owner.tailPool;
    let out = 0;
    let pooled: Buffer | undefined;
    try {
      const fd = this.idleDescriptor();
      if (fd >= 0) out = tail.sendTo(fd, head, trailer);
      if (out < total) {
        pooled = total - out <= pool.size ? pool.acquire() : undefined;
        const rest = pooled ? pooled.subarray(0, total - out) : Buffer.allocUnsafe(total - out);
        let p = 0;
        if (out < head.length) p += head.copy(rest, 0, out);
        if (out < head.length + tail.length) p += tail.copyRest(rest, p);
        trailer.copy(rest, p, Math.max(0, out - head.length - tail.length));
        const held = pooled;
        pooled = undefined; // the socket's now: back to the pool when it has written it
        const ok = this.socket.write(rest, () => {
          if (held) pool.release(held);
          sent?.();
        });
        if (!ok) {
          this.writeBlocked = true;
          this.updateFlow();
        }
        return;
      }
    } catch (err) {
      if (pooled) pool.release(pooled);
      log.debug('rpc.reply.failed', { conn: this.id, err: err as Error });
      this.socket.destroy();
    }
    sent?.();
  }

  /** The socket's descriptor when nothing is queued to be written on it (else -1). */
  private idleDescriptor(): number {
    const fd = descriptorOf(this.socket);
    if (fd < 0 || this.socket.writableLength !== 0 || handleOf(this.socket)?.writeQueueSize !== 0) return -1;
    return fd;
  }

  private async dispatch(record: Buffer, keepArgs: () => () => void): Promise<void> {
    const srv = this.owner;
    if (record.length < 8) {
      srv.count('garbageRecords');
      log.warn('rpc.record.garbage', { conn: this.id, peer: this.peer.address, bytes: record.length });
      return;
    }
    const r = new XdrReader(record);
    const xid = r.uint32();
    const msgType = r.uint32();
    if (msgType !== MsgType.CALL) {
      srv.count('garbageRecords');
      log.warn('rpc.record.not_a_call', { conn: this.id, xid, msgType });
      return;
    }
    let header;
    try {
      header = readCallBody(r, xid);
    } catch (err) {
      srv.count('garbageRecords');
      log.warn('rpc.call.bad_header', { conn: this.id, xid, err: err as Error });
      if (err instanceof AuthBodyTooLong) {
        if (err.rpcvers !== RPC_VERSION) this.send([encodeRpcMismatch(xid, RPC_VERSION, RPC_VERSION)]);
        else this.send([encodeAuthError(xid, err.which === 'cred' ? 'AUTH_BADCRED' : 'AUTH_BADVERF')]);
        return;
      }
      this.send([encodeAcceptError(xid, 'GARBAGE_ARGS')]);
      return;
    }
    srv.count('calls');
    if (header.rpcvers !== RPC_VERSION) {
      this.send([encodeRpcMismatch(xid, RPC_VERSION, RPC_VERSION)]);
      return;
    }
    let cred: Credential;
    try {
      cred = authenticate(header.cred.flavor, header.cred.body, header.verf.flavor, header.verf.body);
      const info = this.info;
      info.calls++;
      info.authFlavor = cred.flavor;
      info.uid = cred.flavor === 'sys' ? cred.uid : undefined;
    } catch (err) {
      this.send([encodeAuthError(xid, (err as RpcAuthError).code as any)]);
      return;
    }
    const program = srv.program(header.prog);
    if (!program) {
      this.send([encodeAcceptError(xid, 'PROG_UNAVAIL')]);
      return;
    }
    const table = program.versions.get(header.vers);
    if (!table) {
      const vs = [...program.versions.keys()];
      this.send([encodeProgMismatch(xid, Math.min(...vs), Math.max(...vs))]);
      return;
    }
    const proc: ProcedureDef | undefined = table[header.proc];
    if (!proc) {
      this.send([encodeAcceptError(xid, 'PROC_UNAVAIL')]);
      return;
    }
    const argStart = r.offset;
    let args: unknown;
    try {
      args = proc.decode(r);
    } catch (err) {
      log.debug('rpc.call.garbage_args', { conn: this.id, xid, proc: proc.name, err: err as Error });
      this.send([encodeAcceptError(xid, 'GARBAGE_ARGS')]);
      this.emitCall(header, proc, 'GARBAGE_ARGS', process.hrtime.bigint());
      return;
    }

    let drcKey: string | undefined;
    if (proc.cache === 'reply') {
      drcKey = DuplicateRequestCache.key(this.peer.address, xid, header.prog, header.vers, header.proc, record.subarray(argStart));
      const hit = srv.drc.begin(drcKey);
      if (hit.state === 'in-progress') return; // the original reply is on its way
      if (hit.state === 'done') {
        log.debug('rpc.drc.replay', { conn: this.id, xid, proc: proc.name });
        this.send([hit.reply]);
        return;
      }
    }

    const ctx: CallContext = {
      xid,
      prog: header.prog,
      vers: header.vers,
      proc: header.proc,
      cred,
      peer: this.peer,
      local: this.local,
      connectionId: this.id,
      keepArgs,
    };
    const t0 = process.hrtime.bigint();
    let chunks: ReplyChunk[];
    let status = 'SUCCESS';
    let sent: (() => void) | undefined;
    let bytes = 0;
    try {
      const res = await proc.handle(args, ctx);
      if (proc.bytes) bytes = proc.bytes(res);
      if (proc.release) sent = () => proc.release!(res);
      const w = new XdrWriter(256);
      writeAcceptedHeader(w, xid, 'SUCCESS');
      const tail = proc.encode(w, res);
      chunks = tail ? [w.finish(), ...tail] : [w.finish()];
      if (typeof res === 'object' && res !== null && 'status' in res && typeof (res as any).status === 'number') {
        status = String((res as any).status);
      }
    } catch (err) {
      if (err instanceof RpcAuthError) {
        status = err.code;
        chunks = [encodeAuthError(xid, err.code as any)];
      } else if (err instanceof RpcAcceptError) {
        status = err.code;
        chunks = [encodeAcceptError(xid, err.code as any)];
      } else {
        status = 'SYSTEM_ERR';
        log.error('rpc.call.failed', { conn: this.id, xid, proc: proc.name, err: err as Error });
        chunks = [encodeAcceptError(xid, 'SYSTEM_ERR')];
      }
    }
    if (drcKey) {
      // An exact-size copy: a view would keep the writer's larger buffer alive
      // behind the cache's byte count.
      // Cached procedures encode into buffers only (ProcedureDef: no tail with cache 'reply').
      const bufs = chunks as Buffer[];
      const reply = bufs.length === 1 ? Buffer.from(bufs[0]) : Buffer.concat(bufs);
      srv.drc.finish(drcKey, reply);
      chunks = [reply];
    }
    this.send(chunks, sent);
    this.emitCall(header, proc, status, t0, bytes);
  }

  private emitCall(h: { prog: number; vers: number; proc: number }, proc: ProcedureDef, status: string, t0: bigint, bytes = 0): void {
    if (this.owner.listenerCount('call') === 0) return;
    const ev: CallEvent = { prog: h.prog, vers: h.vers, proc: h.proc, name: proc.name, status, durationNs: process.hrtime.bigint() - t0, bytes };
    this.owner.emit('call', ev);
  }
}
