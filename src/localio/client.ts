/**
 * The client side of LOCALIO (the kernel's fs/nfs/localio.c), in user space.
 *
 * Probe (in the background; I/O meanwhile goes over the wire): a fresh
 * random 16-byte nonce is registered in the in-process registry and, when
 * the native addon is there, as a Unix socket named by it in the rendezvous
 * directory; then NULL and UUID_IS_LOCAL of program 400122 go over the NFS
 * connection with the mount's AUTH_SYS credential. The client is local only
 * if a server BOUND it while the call was in flight (claimed the in-process
 * entry, or connected to the socket and said hello) — never because of the
 * reply, which is void either way. The nonce and the socket name are removed
 * as soon as the call returns.
 *
 * Local I/O: one read and one read-write descriptor per file, opened through
 * the server's gate and cached until invalidation, client close or an idle
 * timeout. READ → pread into the caller's buffer (eof from the file size via
 * one probe byte, like the server's own READ); WRITE → pwrite, then fdatasync
 * / fsync for DATA_SYNC / FILE_SYNC; COMMIT → fsync. Local writes report the
 * client's own verifier, which any local write or commit error changes, so
 * uncommitted data is sent again (the kernel's nfs_reset_boot_verifier).
 *
 * Fallback: when the server is gone (ENXIO/ENOENT/ENOMEM from an open, a
 * closed channel, an instance that shut down) LOCALIO is disabled, that I/O
 * goes over the wire and a re-probe is scheduled with backoff; EACCES,
 * ESTALE and the like send just that I/O over the wire, where the server
 * gives the authoritative answer. Re-probe also after the NFS connection
 * reconnects. Never while local (no flapping).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { log } from '../util/log.js';
import { StableHow3, type Nfs3Error, type StableHow3Value } from '../nfs3/constants.js';
import { toNfsStat } from '../nfs3/status.js';
import { registerNonce, unregisterNonce } from './registry.js';
import { ensureRendezvousDir, socketName, sweepStale } from './rendezvous.js';
import { CHANNEL_VERSION, decodeMsg, encodeMsg, type ChannelMsg } from './protocol.js';
import { loadFdPass, SeqpacketChannel, SeqpacketListener, type FdPassNative } from './native.js';
import type { ClientReport, InProcessServer, InvalidateTarget, IoCounts, LocalCred, LocalFile, LocalMode } from './types.js';

export type { IoCounts };
import { publish } from './events.js';
import { codeOf, errnoError } from '../util/errno.js';

export type LocalioState = 'off' | 'probing' | 'local' | 'disabled';

export interface LocalioClientOptions {
  /** false: never probe (state 'off'). */
  enabled: boolean;
  /** Why it is off when `enabled` is false (for status). */
  offReason?: string;
  /** The mount's AUTH_SYS identity; undefined for AUTH_NONE mounts, which never probe. */
  cred?: LocalCred;
  rendezvous?: string;
  /** Close a cached descriptor unused this long. Default 30 s. */
  idleMs?: number;
  /**
   * Send a LOCALIO call over the wire: resolves on an accepted SUCCESS, rejects with the RPC error.
   * Must give up by itself (a soft call) when the server does not answer.
   */
  call(proc: number, args?: Buffer): Promise<void>;
  /** Whether the NFS connection is up: a re-probe waits for the reconnect instead of knocking on a dead server. */
  connected?: () => boolean;
  /** Label for logs (the server address). */
  label: string;
}

export interface LocalioClientStatus {
  state: LocalioState;
  reason?: string;
  since: string;
  server?: { instance: string; channel: 'in-process' | 'unix' };
  crossProcess: boolean;
  crossProcessReason?: string;
  probes: number;
  enables: number;
  disables: number;
  fallbacks: number;
  invalidations: number;
  openFiles: number;
  local: IoCounts;
  wire: IoCounts;
}

/** A read's outcome: status 0 with the byte count, or an nfsstat3 (the error the wire would give). */
export type LocalRead = { status: 0; n: number; eof: boolean } | { status: Nfs3Error };
export type LocalWrite = { status: 0; count: number; committed: StableHow3Value; verf: Buffer } | { status: Nfs3Error };
export type LocalCommit = { status: 0; verf: Buffer } | { status: Nfs3Error };

/** How the client reaches the server it is bound to. */
interface ServerLink {
  readonly kind: 'in-process' | 'unix';
  readonly instance: string;
  open(fh: Buffer, cred: LocalCred, mode: LocalMode): Promise<LocalFile>;
  /** Per-I/O serve reference (in-process); a unix link holds none: the server waits for our acknowledgement instead. */
  tryGet(): boolean;
  put(): void;
  /** Forget the binding on both sides. */
  detach(): void;
}

interface Slot {
  /** false once the file system said it has no RWF_NOWAIT. */
  nowait?: boolean;
  key: string;
  mode: LocalMode;
  file: LocalFile;
  inflight: number;
  lastUse: number;
  retired: boolean;
  onIdle?: () => void;
}

/** Errors from a local open that mean the server side is gone: disable and re-probe (the kernel's -ENXIO/-ENOENT/-ENOMEM). */
const GONE = new Set(['ENXIO', 'ENOENT', 'ENOMEM', 'ECHANNELCLOSED', 'EPIPE', 'ECONNRESET']);
const PROBE_BACKOFF_MIN = 1000;
const PROBE_BACKOFF_MAX = 60_000;
/** How long a refused local open sends that file's I/O straight to the wire. */
const REFUSED_MS = 2000;
const probeByte = Buffer.alloc(1);
/**
 * Reads up to this size try the page cache first, on the event loop
 * (preadv2 RWF_NOWAIT through the addon): a cached 4 KiB read costs ~2 µs
 * there against ~30 µs for the thread-pool round trip. Never waits for I/O
 * (not cached → the pool), and bounded so the loop is never held long.
 */
const NOWAIT_MAX = 256 * 1024;
/**
 * A read served from the page cache completes without touching the event
 * loop, so `while (…) await fh.read(…)` would never let timers or sockets
 * run. After this many in a row within one turn of the loop, the next read
 * first waits for the next turn (setImmediate); the count restarts each turn.
 */
const NOWAIT_STREAK = 64;
let nowaitStreak = 0;
let streakReset = false;
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function nowaitTurn(): boolean {
  if (!streakReset) {
    streakReset = true;
    setImmediate(() => {
      nowaitStreak = 0;
      streakReset = false;
    }).unref();
  }
  return ++nowaitStreak <= NOWAIT_STREAK;
}

function pread(fd: number, bufs: NodeJS.ArrayBufferView[], pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.readv(fd, bufs, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

function pwrite(fd: number, buf: Uint8Array, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

function fsyncFd(fd: number, dataOnly: boolean): Promise<void> {
  return new Promise((resolve, reject) => (dataOnly ? fs.fdatasync : fs.fsync)(fd, (err) => (err ? reject(err) : resolve())));
}

export class LocalioClient {
  private state: LocalioState;
  private reason?: string;
  private since = new Date();
  private link?: ServerLink;
  private readonly slots = new Map<string, Slot>();
  private readonly opening = new Map<string, Promise<Slot | undefined>>();
  /** Files whose local open the server refused, until when (a permission or type answer is not retried per I/O). */
  private readonly refused = new Map<string, number>();
  private closing?: Promise<void>;
  /** Local write verifier (the kernel's cl_nfssvc_boot): changes on any local write or commit error. */
  private verf = randomBytes(8);
  private probing?: Promise<void>;
  private backoff = PROBE_BACKOFF_MIN;
  private reprobeTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;
  private readonly native?: FdPassNative;
  private readonly crossReason?: string;
  private static lastSweep = 0;
  readonly counters = {
    probes: 0,
    enables: 0,
    disables: 0,
    fallbacks: 0,
    invalidations: 0,
    local: { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 } as IoCounts,
    wire: { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 } as IoCounts,
  };

  constructor(private readonly opts: LocalioClientOptions) {
    if (!opts.enabled) {
      this.state = 'off';
      this.reason = opts.offReason ?? 'disabled by option';
    } else if (!opts.cred) {
      this.state = 'off';
      this.reason = 'AUTH_NONE mount (LOCALIO needs AUTH_SYS)';
    } else {
      this.state = 'disabled';
      this.reason = 'not probed yet';
    }
    const nat = loadFdPass();
    if (nat.native) this.native = nat.native;
    else this.crossReason = nat.reason;
  }

  get isLocal(): boolean {
    return this.state === 'local';
  }

  status(): LocalioClientStatus {
    return {
      state: this.state,
      reason: this.reason,
      since: this.since.toISOString(),
      server: this.link ? { instance: this.link.instance, channel: this.link.kind } : undefined,
      crossProcess: this.native !== undefined,
      crossProcessReason: this.crossReason,
      probes: this.counters.probes,
      enables: this.counters.enables,
      disables: this.counters.disables,
      fallbacks: this.counters.fallbacks,
      invalidations: this.counters.invalidations,
      openFiles: this.slots.size,
      local: { ...this.counters.local },
      wire: { ...this.counters.wire },
    };
  }

  private setState(s: LocalioState, reason?: string): void {
    if (this.state === s && this.reason === reason) return;
    this.state = s;
    this.reason = reason;
    this.since = new Date();
    publish('client', 'state', { state: s, reason, server: this.opts.label });
  }

  // ---------------------------------------------------------------- probing

  /** Start a probe in the background unless one runs, we are local, or LOCALIO is off. Never blocks. */
  probe(why: string): void {
    if (this.closed || this.state === 'off' || this.state === 'local' || this.probing) return;
    clearTimeout(this.reprobeTimer);
    this.reprobeTimer = undefined;
    this.probing = this.runProbe(why).finally(() => {
      this.probing = undefined;
    });
  }

  /** Wait for a probe in flight (tests, the CLI's status). */
  async settled(): Promise<void> {
    await this.probing;
  }

  /** The NFS connection reconnected: the server may be another one now. */
  reconnected(): void {
    if (this.state !== 'local') {
      this.backoff = PROBE_BACKOFF_MIN;
      this.probe('reconnect');
    }
  }

  private scheduleReprobe(): void {
    if (this.closed || this.state === 'off' || this.reprobeTimer) return;
    const wait = this.backoff;
    this.backoff = Math.min(PROBE_BACKOFF_MAX, this.backoff * 2);
    this.reprobeTimer = setTimeout(() => {
      this.reprobeTimer = undefined;
      // Disconnected: reconnected() probes when the connection is back.
      if (this.opts.connected && !this.opts.connected()) return;
      this.probe('retry');
    }, wait);
    this.reprobeTimer.unref();
  }

  private async runProbe(why: string): Promise<void> {
    this.counters.probes++;
    this.setState('probing', why);
    publish('client', 'probe', { why, server: this.opts.label });
    const nonce = randomBytes(16);
    let link: ServerLink | undefined;
    let open = true;
    // (a) the in-process tier
    registerNonce(nonce, {
      v: 1,
      claim: (server) => {
        if (!open || link || this.closed) return undefined;
        const l = new InProcessLink(server);
        link = l;
        return this.target(l);
      },
    });
    // (b) the host tier: a socket named by the nonce
    let listener: SeqpacketListener | undefined;
    let sockPath: string | undefined;
    const pendingChannels = new Set<SeqpacketChannel>();
    if (this.native) {
      try {
        const dir = ensureRendezvousDir(this.opts.rendezvous);
        this.maybeSweep(dir);
        sockPath = path.join(dir, socketName(nonce));
        const native = this.native;
        listener = SeqpacketListener.listen(native, sockPath, (ch) => {
          if (!open || link || this.closed) return ch.close();
          pendingChannels.add(ch);
          ch.onMessage = (data, fds) => {
            for (const fd of fds) fs.close(fd, () => undefined);
            let m: ChannelMsg | undefined;
            try {
              m = decodeMsg(data);
            } catch {
              m = undefined;
            }
            if (!m || m.t !== 'hello' || m.v !== CHANNEL_VERSION || !open || link) return ch.close();
            pendingChannels.delete(ch);
            const l = new UnixLink(ch, m.instance);
            link = l;
            l.attach(this.target(l));
            try {
              ch.send(encodeMsg({ t: 'welcome', v: CHANNEL_VERSION }));
            } catch {
              ch.close();
            }
          };
          ch.onClose = () => pendingChannels.delete(ch);
          ch.start();
        });
        // Whoever the server runs as must be able to connect; the name is the secret, the directory unlistable.
        fs.chmodSync(sockPath, 0o666);
      } catch (e) {
        log.debug('localio.rendezvous.unavailable', { err: e as Error });
        listener?.close();
        listener = undefined;
        if (sockPath) fs.rmSync(sockPath, { force: true });
        sockPath = undefined;
      }
    }
    let outcome: string | undefined;
    try {
      await this.opts.call(0);
      await this.opts.call(1, nonce);
    } catch (e) {
      outcome = (e as { rpcStatus?: string }).rpcStatus === 'PROG_UNAVAIL' ? 'the server has no LOCALIO program' : `probe failed: ${(e as Error).message}`;
    } finally {
      open = false;
      unregisterNonce(nonce);
      listener?.close();
      if (sockPath) fs.rmSync(sockPath, { force: true });
      for (const ch of pendingChannels) ch.close();
    }
    const bound = link as ServerLink | undefined;
    if (this.closed) {
      bound?.detach();
      return;
    }
    if (bound) {
      this.link = bound;
      this.refused.clear();
      this.backoff = PROBE_BACKOFF_MIN;
      this.counters.enables++;
      this.setState('local', `bound to server ${bound.instance} (${bound.kind})`);
      log.debug('localio.client.local', { server: this.opts.label, instance: bound.instance, channel: bound.kind });
      this.startSweeper();
      return;
    }
    this.setState('disabled', outcome ?? 'not local: no server on this host recognised the probe');
    log.debug('localio.client.remote', { server: this.opts.label, reason: this.reason });
    // A server without the program, or on another host, stays that way until we reconnect.
    if (outcome?.startsWith('probe failed')) this.scheduleReprobe();
  }

  private maybeSweep(dir: string): void {
    const now = Date.now();
    if (now - LocalioClient.lastSweep < 60_000 || !this.native) return;
    LocalioClient.lastSweep = now;
    const native = this.native;
    const n = sweepStale(dir, (p) => {
      try {
        native.close(native.connect(p, 200));
        return false;
      } catch (e) {
        return codeOf(e) === 'ECONNREFUSED';
      }
    });
    if (n) log.info('localio.rendezvous.swept', { dir, removed: n });
  }

  /** What the server calls on us. */
  private target(l: ServerLink): InvalidateTarget {
    return {
      invalidate: (exportId, reason) => this.invalidate(l, exportId, reason),
      lost: (reason) => this.lost(l, reason),
      report: () => this.report(),
    };
  }

  /** What the server shows about us (status, metrics). */
  report(): ClientReport {
    return { local: { ...this.counters.local }, wire: { ...this.counters.wire }, fallbacks: this.counters.fallbacks };
  }

  private async invalidate(l: ServerLink, exportId: number | undefined, reason: string): Promise<void> {
    this.counters.invalidations++;
    publish('client', 'invalidate', { exportId, reason });
    log.debug('localio.client.invalidate', { export: exportId, reason });
    const waits: Promise<void>[] = [];
    for (const s of [...this.slots.values()]) if (exportId === undefined || s.file.exportId === exportId) waits.push(this.retire(s));
    if (exportId === undefined && this.link === l) {
      // The whole server is going: stop using it before it even says so.
      this.link = undefined;
      this.setState('disabled', `invalidated by the server: ${reason}`);
      this.counters.disables++;
      this.scheduleReprobe();
    }
    await Promise.all(waits);
  }

  private lost(l: ServerLink, reason: string): void {
    if (this.link !== l) return;
    this.link = undefined;
    for (const s of [...this.slots.values()]) void this.retire(s);
    this.counters.disables++;
    this.setState('disabled', `server gone: ${reason}`);
    log.debug('localio.client.disabled', { server: this.opts.label, reason });
    this.scheduleReprobe();
  }

  /** Local I/O failed in a way that says the server side is gone. */
  private disable(reason: string): void {
    const l = this.link;
    if (!l) return;
    this.lost(l, reason);
    l.detach();
  }

  // ---------------------------------------------------------------- descriptors

  private startSweeper(): void {
    if (this.sweepTimer) return;
    const idle = this.opts.idleMs ?? 30_000;
    this.sweepTimer = setInterval(() => {
      const cutoff = Date.now() - idle;
      for (const s of [...this.slots.values()]) if (s.inflight === 0 && s.lastUse < cutoff) void this.retire(s);
    }, Math.max(50, Math.min(idle / 2, 10_000)));
    this.sweepTimer.unref();
  }

  /** Close a cached descriptor once no I/O uses it; resolves then. */
  private retire(s: Slot): Promise<void> {
    if (this.slots.get(s.key) === s) this.slots.delete(s.key);
    if (s.retired) return s.inflight === 0 ? Promise.resolve() : new Promise((r) => (s.onIdle = chain(s.onIdle, r)));
    s.retired = true;
    if (s.inflight === 0) {
      s.file.release();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      s.onIdle = chain(s.onIdle, () => {
        s.file.release();
        resolve();
      });
    });
  }

  /** A referenced descriptor for `fh` in `mode` (a read may use the read-write one), or undefined → use the wire. */
  private async acquire(fh: Buffer, mode: LocalMode): Promise<Slot | undefined> {
    const l = this.link;
    if (!l || this.state !== 'local') return undefined;
    const k = fh.toString('latin1');
    let s = this.slots.get(k + '|rw') ?? (mode === 'r' ? this.slots.get(k + '|r') : undefined);
    if (!s) {
      const key = `${k}|${mode}`;
      let p = this.opening.get(key);
      if (!p) {
        p = this.openSlot(l, fh, mode, key);
        this.opening.set(key, p);
        void p.finally(() => this.opening.delete(key));
      }
      s = await p;
      // While the open ran, the binding may have gone (and another come): never mix the two.
      if (!s || s.retired || this.link !== l) return undefined;
    }
    if (!l.tryGet()) {
      this.disable('the server is shutting down');
      return undefined;
    }
    s.inflight++;
    s.lastUse = Date.now();
    return s;
  }

  private async openSlot(l: ServerLink, fh: Buffer, mode: LocalMode, key: string): Promise<Slot | undefined> {
    const refusedUntil = this.refused.get(key);
    if (refusedUntil !== undefined) {
      if (refusedUntil > Date.now()) return undefined;
      this.refused.delete(key);
    }
    let file: LocalFile;
    try {
      file = await l.open(fh, this.opts.cred!, mode);
    } catch (e) {
      const code = codeOf(e) ?? 'EIO';
      this.counters.fallbacks++;
      publish('client', 'fallback', { op: 'open', code });
      if (GONE.has(code)) this.disable(`local open failed with ${code}`);
      else {
        // EACCES, ESTALE, EOPNOTSUPP…: the wire answers this file for a while, without asking again per I/O.
        if (this.refused.size >= 1024) this.refused.clear();
        this.refused.set(key, Date.now() + REFUSED_MS);
      }
      return undefined;
    }
    if (this.link !== l || this.closed) {
      file.release();
      return undefined;
    }
    const s: Slot = { key, mode, file, inflight: 0, lastUse: Date.now(), retired: false };
    this.slots.set(key, s);
    return s;
  }

  private put(s: Slot, l: ServerLink | undefined): void {
    s.inflight--;
    l?.put();
    if (s.inflight === 0 && s.onIdle) {
      const f = s.onIdle;
      s.onIdle = undefined;
      f();
    }
  }

  /** Local I/O failed: the nfsstat3 the wire would have answered, or undefined when the I/O should go over the wire instead. */
  private failed(e: unknown, op: string, resetVerf: boolean): Nfs3Error | undefined {
    const code = codeOf(e);
    if (code === 'EBADF') {
      // The descriptor went away under us (only by a bug or a forced close): the wire decides.
      this.counters.fallbacks++;
      publish('client', 'fallback', { op, code });
      return undefined;
    }
    if (resetVerf) this.verf = randomBytes(8);
    publish('client', 'io_error', { op, code });
    return toNfsStat(e);
  }

  // ---------------------------------------------------------------- the data path

  /**
   * READ `len` bytes at `pos` into `into` at `at`. undefined: not local for
   * this I/O, use the wire.
   */
  async read(fh: Buffer, pos: number, into: Uint8Array, at: number, len: number): Promise<LocalRead | undefined> {
    const l = this.link;
    const s = await this.acquire(fh, 'r');
    if (!s) return undefined;
    try {
      let got = 0;
      let eof = false;
      const nw = this.native?.preadNoWait;
      if (nw && len <= NOWAIT_MAX && s.nowait !== false) {
        // Long runs of cached reads give the event loop a turn now and then (a setImmediate, not a pool hop).
        if (!nowaitTurn()) await nextTurn();
        const n = nw(s.file.fd, into, at, len, pos);
        if (n > len) {
          this.countRead(len);
          return { status: 0, n: len, eof: false };
        }
        if (n === 0) {
          this.countRead(0);
          return { status: 0, n: 0, eof: true };
        }
        if (n === -2) s.nowait = false;
        // n > 0: part of it was cached (or it ends at EOF): the pool reads the rest and tells EOF
        else if (n > 0) got = n;
      }
      if (got === len) eof = (await pread(s.file.fd, [probeByte], pos + len)) === 0;
      while (got < len) {
        const want = Math.min(len - got, 1 << 30);
        // One extra probe byte tells whether data follows: eof from the file size without an fstat.
        const n = await pread(s.file.fd, [into.subarray(at + got, at + got + want), probeByte], pos + got);
        if (n > want) {
          got += want;
          continue;
        }
        got += n;
        eof = true;
        break;
      }
      this.countRead(got);
      return { status: 0, n: got, eof };
    } catch (e) {
      const st = this.failed(e, 'read', false);
      return st === undefined ? undefined : { status: st };
    } finally {
      this.put(s, l);
    }
  }

  private countRead(n: number): void {
    this.counters.local.reads++;
    this.counters.local.bytesRead += n;
  }

  /** WRITE honouring stable_how. undefined: use the wire. */
  async write(fh: Buffer, pos: number, data: Buffer, stable: StableHow3Value): Promise<LocalWrite | undefined> {
    const l = this.link;
    const s = await this.acquire(fh, 'rw');
    if (!s) return undefined;
    try {
      let off = 0;
      while (off < data.length) {
        const n = await pwrite(s.file.fd, data, off, data.length - off, pos + off);
        if (n === 0) throw errnoError('ENOSPC', 'short write');
        off += n;
      }
      if (stable !== StableHow3.UNSTABLE) await fsyncFd(s.file.fd, stable === StableHow3.DATA_SYNC);
      this.counters.local.writes++;
      this.counters.local.bytesWritten += data.length;
      return { status: 0, count: data.length, committed: stable, verf: this.verf };
    } catch (e) {
      const st = this.failed(e, 'write', true);
      return st === undefined ? undefined : { status: st };
    } finally {
      this.put(s, l);
    }
  }

  /** COMMIT → fsync. undefined: use the wire. */
  async commit(fh: Buffer): Promise<LocalCommit | undefined> {
    const l = this.link;
    const s = await this.acquire(fh, 'rw');
    if (!s) return undefined;
    try {
      await fsyncFd(s.file.fd, false);
      this.counters.local.commits++;
      return { status: 0, verf: this.verf };
    } catch (e) {
      const st = this.failed(e, 'commit', true);
      return st === undefined ? undefined : { status: st };
    } finally {
      this.put(s, l);
    }
  }

  /** Count an operation that went over the wire (for status). */
  wire(op: 'read' | 'write' | 'commit', bytes = 0): void {
    const w = this.counters.wire;
    if (op === 'read') {
      w.reads++;
      w.bytesRead += bytes;
    } else if (op === 'write') {
      w.writes++;
      w.bytesWritten += bytes;
    } else w.commits++;
  }

  /** Close every descriptor (after its I/O) and leave the server. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      clearTimeout(this.reprobeTimer);
      clearInterval(this.sweepTimer);
      await Promise.all([...this.slots.values()].map((s) => this.retire(s)));
      const l = this.link;
      this.link = undefined;
      l?.detach();
      this.setState('off', 'client closed');
    })();
    return this.closing;
  }
}

function chain(a: (() => void) | undefined, b: () => void): () => void {
  return a ? () => (a(), b()) : b;
}

/** In the same process: direct calls, the server's own descriptors by reference. */
class InProcessLink implements ServerLink {
  readonly kind = 'in-process' as const;
  readonly instance: string;
  constructor(private readonly server: InProcessServer) {
    this.instance = server.instance;
  }
  open(fh: Buffer, cred: LocalCred, mode: LocalMode): Promise<LocalFile> {
    return this.server.open(fh, cred, mode);
  }
  tryGet(): boolean {
    return this.server.tryGet();
  }
  put(): void {
    this.server.put();
  }
  detach(): void {
    this.server.detach();
  }
}

/** Another process: requests on the Unix channel, descriptors by SCM_RIGHTS. */
class UnixLink implements ServerLink {
  readonly kind = 'unix' as const;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: LocalFile) => void; reject: (e: Error) => void }>();
  private target?: InvalidateTarget;
  /** The channel's watcher does not keep the process alive (an idle binding must not): this does, while an open waits. */
  private keepAlive?: NodeJS.Timeout;

  private settle(id: number): { resolve: (f: LocalFile) => void; reject: (e: Error) => void } | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
    return p;
  }

  constructor(
    private readonly ch: SeqpacketChannel,
    readonly instance: string,
  ) {
    ch.onMessage = (data, fds) => this.onMessage(data, fds);
    ch.onClose = (err) => {
      clearInterval(this.reporter);
      const e = errnoError('ECHANNELCLOSED', 'the LOCALIO channel closed');
      for (const id of [...this.pending.keys()]) this.settle(id)?.reject(e);
      this.target?.lost(`channel closed${err ? ` (${err})` : ''}`);
    };
  }

  attach(t: InvalidateTarget): void {
    this.target = t;
    // Local I/O never reaches the server: tell it our counters (for its status and metrics), when they change.
    let last = '';
    this.reporter = setInterval(() => {
      if (this.ch.closed || !t.report) return;
      const m = encodeMsg({ t: 'stats', ...t.report() });
      const k = m.toString('latin1');
      if (k === last) return;
      last = k;
      try {
        this.ch.send(m);
      } catch {
        // closing
      }
    }, 1000);
    this.reporter.unref();
  }

  private reporter?: NodeJS.Timeout;

  private onMessage(data: Buffer, fds: number[]): void {
    let m: ChannelMsg;
    try {
      m = decodeMsg(data);
    } catch (e) {
      for (const fd of fds) fs.close(fd, () => undefined);
      log.warn('localio.channel.bad_message', { err: e as Error });
      this.ch.close();
      return;
    }
    const p = m.t === 'opened' || m.t === 'error' ? this.settle(m.id) : undefined;
    if (m.t === 'opened' && p && fds.length === 1) {
      const fd = fds[0];
      const id = m.id;
      let released = false;
      p.resolve({
        fd,
        exportId: m.exportId,
        release: () => {
          if (released) return;
          released = true;
          fs.close(fd, () => undefined);
          if (!this.ch.closed) {
            try {
              this.ch.send(encodeMsg({ t: 'release', id }));
            } catch {
              // the channel is going; the server drops its reference when it sees it close
            }
          }
        },
      });
      return;
    }
    for (const fd of fds) fs.close(fd, () => undefined);
    if (m.t === 'opened' && !p) {
      // an answer nobody waits for any more: let the server drop its reference
      try {
        this.ch.send(encodeMsg({ t: 'release', id: m.id }));
      } catch {
        // closing
      }
      return;
    }
    if (m.t === 'opened' && p) {
      p.reject(errnoError('EPROTO', 'the server answered an open without a descriptor'));
      return;
    }
    if (m.t === 'error' && p) {
      p.reject(errnoError(m.code, m.message));
      return;
    }
    if (m.t === 'invalidate') {
      const seq = m.seq;
      const done = () => {
        if (this.ch.closed) return;
        try {
          this.ch.send(encodeMsg({ t: 'invalidated', seq }));
        } catch {
          // closed meanwhile
        }
      };
      (this.target ? this.target.invalidate(m.exportId, m.reason) : Promise.resolve()).then(done, done);
      return;
    }
    if (m.t !== 'opened' && m.t !== 'error') {
      this.ch.close();
    }
  }

  open(fh: Buffer, cred: LocalCred, mode: LocalMode): Promise<LocalFile> {
    if (this.ch.closed) return Promise.reject(errnoError('ECHANNELCLOSED', 'the LOCALIO channel is closed'));
    const id = this.nextId++;
    return new Promise<LocalFile>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.keepAlive ??= setInterval(() => undefined, 1 << 30);
      try {
        this.ch.send(encodeMsg({ t: 'open', id, fh, cred, mode }));
      } catch (e) {
        this.settle(id);
        reject(e);
      }
    });
  }

  tryGet(): boolean {
    return !this.ch.closed;
  }

  put(): void {}

  detach(): void {
    // Last counters first, so the server's totals include this client's final I/O.
    if (!this.ch.closed && this.target?.report) {
      try {
        this.ch.send(encodeMsg({ t: 'stats', ...this.target.report() }));
      } catch {
        // closing anyway
      }
    }
    this.ch.close();
  }
}

