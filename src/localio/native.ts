/**
 * Typed wrapper around the optional fd-passing addon (native/fdpass.c).
 *
 * The addon passes file descriptors between processes over AF_UNIX SOCK_SEQPACKET
 * sockets (SCM_RIGHTS). It is built at `npm install` time when a C toolchain is
 * available; without it cross-process LOCALIO is off and `loadFdPass()` says why.
 *
 * Raw descriptors are easy to misuse (double close, closing an fd a watcher thread
 * still reads, leaking received fds), so callers should use SeqpacketChannel and
 * SeqpacketListener, which own their sockets and follow one rule: a socket watched
 * by a native thread is only shut down by JS, and closed once the watcher reported
 * its final event.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errnoError } from '../util/errno.js';
import type { StatAt, StatMany } from '../storage/posix.js';
import type { V42Native } from '../storage/posix-v42.js';
import type { SpliceNative } from '../storage/splice.js';
import type { AtNative } from '../storage/posix-at.js';

export interface FdPassNative {
  listen(path: string, backlog: number): number;
  connect(path: string, timeoutMs: number): number;
  watchAccept(fd: number, cb: (err: string | null, fd: number) => void): void;
  watchMessages(
    fd: number,
    maxBytes: number,
    cb: (kind: 'msg' | 'end', data: Buffer | null, fds: number[] | null, err: string | null) => void,
  ): void;
  send(fd: number, data: Buffer, fds?: number[]): number;
  shutdown(fd: number): void;
  close(fd: number): void;
  peerCred(fd: number): { pid: number; uid: number; gid: number };
  /**
   * preadv2(RWF_NOWAIT) of `length` bytes plus one probe byte: the count read
   * (up to length + 1), -1 when not all of it is in the page cache, -2 when
   * the file system has no RWF_NOWAIT. Never waits for I/O. (Optional: an
   * addon built before it existed lacks it.)
   */
  preadNoWait?(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /**
   * statx(2) of `name` relative to the directory `dirFd`, not following a final
   * symlink, into `out` (at least 17 elements, layout STAT_AT in
   * storage/posix-util.ts): 0, or -errno (e.g. -2 for ENOENT). Throws only on bad
   * arguments. The values are those fs.lstatSync(path, { bigint: true }) reports,
   * without building a BigIntStats. (Optional: an addon built before it existed lacks it.)
   */
  statAt?(dirFd: number, name: string, out: BigInt64Array): number;
  /**
   * statAt of every name on the thread pool: `names` holds status.length names as UTF-8, each
   * ended by a NUL; entry i goes into out[17 i ..], its result (0 or -errno) into status[i]. The
   * names are copied and `dirFd` duplicated at the call; `out` and `status` must be left alone
   * until the promise settles. (Optional, like statAt.)
   */
  statMany?(dirFd: number, names: Uint8Array, out: BigInt64Array, status: Int32Array): Promise<void>;
  /**
   * A non-blocking pipe sized (F_SETPIPE_SZ) for `capacity` bytes when the system allows:
   * [readFd, writeFd, capacity it got]. (Optional, like the two below: READ replies by splice.)
   */
  pipeOpen?(capacity: number): number[];
  /**
   * On the thread pool: splice(2) up to `count` bytes of file `fd` from `position` into the pipe
   * (fewer at end of file or when the pipe is full); `bytes` moved and the file's `size` after.
   * Rejects with an errno-coded Error.
   */
  spliceIn?(fd: number, position: number, count: number, pipeWriteFd: number): Promise<{ bytes: number; size: number }>;
  /**
   * Without waiting: send `head`, then `count` bytes out of the pipe (spliced), then `trailer` to the
   * non-blocking socket `socketFd`, as far as it takes them; the bytes it took. Throws errno-coded
   * on a socket error.
   */
  spliceOut?(socketFd: number, head: Uint8Array, pipeReadFd: number, count: number, trailer: Uint8Array): number;
  /**
   * The TCP congestion control of socket `socketFd` (TCP_CONGESTION), after setting it to `name`
   * when given. Throws errno-coded with syscall 'setsockopt' when the kernel refuses the name
   * (EPERM: not allowed; ENOENT: not in this kernel; EINVAL: empty or over 15 bytes), 'getsockopt' when
   * the descriptor is no TCP socket. (Optional, like statAt.)
   */
  tcpCongestion?(socketFd: number, name?: string): string;
}

export type FdPassLoadResult = { native: FdPassNative } | { native: undefined; reason: string };

const FUNCTIONS = ['listen', 'connect', 'watchAccept', 'watchMessages', 'send', 'shutdown', 'close', 'peerCred'];

let loaded: FdPassLoadResult | undefined;

/** Default location of the addon: <package root>/build/Release (this file is dist/src/localio/native.js). */
export function defaultAddonPath(): string {
  return fileURLToPath(new URL('../../../build/Release/nfs_localio_fdpass.node', import.meta.url));
}

/**
 * Loads the addon once. Env: NFS_LOCALIO_NO_NATIVE=1 disables it; NFS_LOCALIO_NATIVE
 * overrides the path of the .node file.
 */
export function loadFdPass(): FdPassLoadResult {
  if (loaded) return loaded;
  if (process.env.NFS_LOCALIO_NO_NATIVE === '1') {
    loaded = { native: undefined, reason: 'disabled by NFS_LOCALIO_NO_NATIVE' };
  } else if (process.platform !== 'linux') {
    loaded = { native: undefined, reason: `fd passing is Linux-only (platform ${process.platform})` };
  } else {
    const path = process.env.NFS_LOCALIO_NATIVE || defaultAddonPath();
    try {
      const mod = createRequire(import.meta.url)(path) as Record<string, unknown>;
      const missing = FUNCTIONS.filter((f) => typeof mod[f] !== 'function');
      loaded = missing.length
        ? { native: undefined, reason: `${path} lacks ${missing.join(', ')}` }
        : { native: mod as unknown as FdPassNative };
    } catch (e) {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      loaded = { native: undefined, reason: `cannot load ${path}: ${msg}` };
    }
  }
  return loaded;
}

/** The addon's calls the POSIX backend takes, bound; each undefined when this addon lacks it. */
export interface StorageCalls {
  statAt?: StatAt;
  statMany?: StatMany;
  /** The calls relative to directory descriptors (native/fsat.c), when the addon has them all. */
  at?: AtNative;
  splice?: SpliceNative;
  /** The NFSv4.2 calls on descriptors (native/fsdata.c): seek data/hole, fallocate, copy_file_range, FICLONE, xattrs. */
  v42?: V42Native;
}

const AT_FUNCTIONS = ['fsAt', 'fsAtSync', 'readdirAt', 'readlinkAt', 'statfsAt', 'statAt', 'openat2Active'] as const;

/**
 * What the server injects into storage from the addon (storage does not depend on localio):
 * the calls relative to directory descriptors, statMany for listings, the splice calls for READ
 * replies. Empty without the addon.
 */
export function storageCalls(native: FdPassNative | undefined = loadFdPass().native): StorageCalls {
  if (native === undefined) return {};
  const { statAt, statMany, pipeOpen, spliceIn, spliceOut } = native;
  const raw = native as unknown as Record<string, unknown>;
  const hasAt = AT_FUNCTIONS.every((f) => typeof raw[f] === 'function') && typeof raw.fsAtConst === 'object';
  return {
    at: hasAt ? bindAll(raw, AT_FUNCTIONS, { fsAtConst: raw.fsAtConst }) as unknown as AtNative : undefined,
    statAt: statAt?.bind(native),
    statMany: statMany?.bind(native),
    splice: pipeOpen && spliceIn && spliceOut ? { pipeOpen: pipeOpen.bind(native), spliceIn: spliceIn.bind(native), spliceOut: spliceOut.bind(native) } : undefined,
    v42: typeof raw.dataOp === 'function' && typeof raw.xattr === 'function' ? (bindAll(raw, ['dataOp', 'xattr'], {}) as unknown as V42Native) : undefined,
  };
}

/** The named functions of an addon object, bound to it, plus `extra`. */
function bindAll(mod: Record<string, unknown>, names: readonly string[], extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...extra };
  for (const n of names) out[n] = (mod[n] as (...a: unknown[]) => unknown).bind(mod);
  return out;
}

function channelClosed(): Error {
  return errnoError('ECHANNELCLOSED', 'SeqpacketChannel is closed');
}

function closeQuietly(native: FdPassNative, fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      native.close(fd);
    } catch {
      /* already gone: nothing to release */
    }
  }
}

type ChannelState = 'open' | 'closing' | 'closed';

/** One connected SOCK_SEQPACKET socket: whole messages, each with up to 8 descriptors. */
export class SeqpacketChannel {
  /** Credentials of the peer process as of connect() (SO_PEERCRED). */
  readonly peer: { pid: number; uid: number; gid: number };
  /** Called per message. The handler owns `fds`: it must close or keep every one of them. */
  onMessage?: (data: Buffer, fds: number[]) => void;
  /** Called exactly once when the channel is gone: null for EOF / local close, else an errno name. */
  onClose?: (err: string | null) => void;

  readonly #native: FdPassNative;
  readonly #fd: number;
  #state: ChannelState = 'open';
  #started = false;
  #closeNotified = false;

  private constructor(native: FdPassNative, fd: number, peer: { pid: number; uid: number; gid: number }) {
    this.#native = native;
    this.#fd = fd;
    this.peer = peer;
  }

  /** Connects to a SeqpacketListener at `path`; throws an Error with `.code` (ENOENT, ECONNREFUSED, ETIMEDOUT...). */
  static connect(native: FdPassNative, path: string, timeoutMs: number): SeqpacketChannel {
    return SeqpacketChannel.fromFd(native, native.connect(path, timeoutMs));
  }

  /** Takes ownership of a connected SEQPACKET socket (closed here if it cannot be adopted). */
  static fromFd(native: FdPassNative, fd: number): SeqpacketChannel {
    let peer: { pid: number; uid: number; gid: number };
    try {
      peer = native.peerCred(fd);
    } catch (e) {
      closeQuietly(native, [fd]);
      throw e;
    }
    return new SeqpacketChannel(native, fd, peer);
  }

  /** True once close() was called or the peer went away. */
  get closed(): boolean {
    return this.#state !== 'open';
  }

  /** Starts receiving (maxBytes per message, default 64 KiB, at most 1 MiB; larger messages end the channel with EMSGSIZE). */
  start(maxBytes = 64 * 1024): void {
    if (this.#state !== 'open') throw channelClosed();
    if (this.#started) throw new Error('SeqpacketChannel already started');
    this.#native.watchMessages(this.#fd, maxBytes, (kind, data, fds, err) => this.#onEvent(kind, data, fds, err));
    this.#started = true;
  }

  /** Sends one message (at least 1 byte); `fds` (at most 8) stay owned by the caller — the peer gets duplicates. */
  send(data: Buffer, fds?: number[]): void {
    if (this.#state !== 'open') throw channelClosed();
    if (data.length === 0) throw new RangeError('SeqpacketChannel messages must not be empty');
    const n = this.#native.send(this.#fd, data, fds);
    if (n !== data.length) throw errnoError('EMSGSIZE', `short send (${n} of ${data.length})`);
  }

  /** Idempotent. The peer sees EOF; onClose fires once (after the receive thread ended, if started). */
  close(): void {
    if (this.#state !== 'open') return;
    if (!this.#started) {
      this.#state = 'closed';
      closeQuietly(this.#native, [this.#fd]);
      process.nextTick(() => this.#notifyClose(null));
      return;
    }
    // The watcher thread may be inside recvmsg(fd): wake it with shutdown and let its
    // final 'end' event close the descriptor, so the number cannot be reused under it.
    this.#state = 'closing';
    try {
      this.#native.shutdown(this.#fd);
    } catch {
      /* the socket is already unusable; the watcher will report 'end' anyway */
    }
  }

  #onEvent(kind: 'msg' | 'end', data: Buffer | null, fds: number[] | null, err: string | null): void {
    if (kind === 'end') {
      const wasClosing = this.#state === 'closing';
      this.#state = 'closed';
      closeQuietly(this.#native, [this.#fd]);
      this.#notifyClose(wasClosing ? null : err);
      return;
    }
    const received = fds ?? [];
    const handler = this.onMessage;
    if (this.#state !== 'open' || !handler || !data) {
      closeQuietly(this.#native, received);
      return;
    }
    handler(data, received);
  }

  #notifyClose(err: string | null): void {
    if (this.#closeNotified) return;
    this.#closeNotified = true;
    this.onClose?.(err);
  }
}

/** A listening SOCK_SEQPACKET socket; each accepted connection becomes a SeqpacketChannel (not yet started). */
export class SeqpacketListener {
  /** Called once when the listener is fully closed: null after close(), else the accept error's errno name. */
  onClose?: (err: string | null) => void;

  readonly #native: FdPassNative;
  readonly #fd: number;
  readonly #onChannel: (ch: SeqpacketChannel) => void;
  #state: ChannelState = 'open';

  private constructor(native: FdPassNative, fd: number, onChannel: (ch: SeqpacketChannel) => void) {
    this.#native = native;
    this.#fd = fd;
    this.#onChannel = onChannel;
  }

  /** Binds and listens at `path` (throws with `.code`, e.g. EADDRINUSE if the path exists). */
  static listen(native: FdPassNative, path: string, onChannel: (ch: SeqpacketChannel) => void): SeqpacketListener {
    const fd = native.listen(path, 128);
    const l = new SeqpacketListener(native, fd, onChannel);
    try {
      native.watchAccept(fd, (err, newFd) => l.#onAccept(err, newFd));
    } catch (e) {
      closeQuietly(native, [fd]);
      throw e;
    }
    return l;
  }

  get closed(): boolean {
    return this.#state !== 'open';
  }

  /** Idempotent. Stops accepting; the fd is closed when the accept thread has ended. Does not unlink the path. */
  close(): void {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    try {
      // On Linux, shutdown() of a listening socket makes the blocked accept() fail with EINVAL.
      this.#native.shutdown(this.#fd);
    } catch {
      /* the accept thread will report its error and end anyway */
    }
  }

  #onAccept(err: string | null, newFd: number): void {
    if (err !== null || newFd < 0) {
      // Final event: the accept thread has exited and no longer uses the fd.
      const wasClosing = this.#state === 'closing';
      this.#state = 'closed';
      closeQuietly(this.#native, [this.#fd]);
      this.onClose?.(wasClosing ? null : err ?? 'EUNKNOWN');
      return;
    }
    if (this.#state !== 'open') {
      closeQuietly(this.#native, [newFd]);
      return;
    }
    let ch: SeqpacketChannel;
    try {
      ch = SeqpacketChannel.fromFd(this.#native, newFd); // closes newFd on failure
    } catch {
      return;
    }
    this.#onChannel(ch);
  }
}
