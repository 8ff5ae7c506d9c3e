/**
 * FileHandle: what `client.open()` returns, shaped like fs.promises'
 * FileHandle. Reads and writes go straight to the server (no client page
 * cache); writes are UNSTABLE and committed on sync()/datasync()/close(), and
 * with O_SYNC/O_DSYNC they are FILE_SYNC/DATA_SYNC instead.
 */
import type { StableHow3Value } from '../nfs3/constants.js';
import type { Fattr3 } from '../nfs3/types.js';
import { NfsError, nfsError } from './errors.js';
import { readAhead, readInto, WriteTracker, type IoCore, type ReadPiece } from './io.js';
import { WriteBehind } from './writebehind.js';
import { ReadStream, WriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
import { Stats } from './stats.js';
import { toSattrTimes, type TimeLike } from './util.js';
import type { StateRef } from './procs.js';

export interface FileHandleHost extends IoCore {
  handleClosed(h: FileHandle): void;
}

/** fh.lock() / fh.unlock(): a byte range (default the whole file); length 0 or Infinity: to the end of the file. */
export interface LockOptions {
  start?: number | bigint;
  length?: number | bigint;
  /** A write (exclusive) lock; false: a read (shared) one. Default true. */
  exclusive?: boolean;
  /** When another owner holds the range: false (default) rejects with EAGAIN, true polls until granted. */
  wait?: boolean;
  /** Stops a waiting lock (AbortError). */
  signal?: AbortSignal;
}

/** What a FileHandle holds on an NFSv4 server (an OPEN, a lock owner): v4/state.ts. */
export interface FileState extends StateRef {
  close(): Promise<void>;
  lockRange(o: LockOptions): Promise<void>;
  unlockRange(o: LockOptions): Promise<void>;
}

export interface ReadResult<T extends ArrayBufferView = Buffer> {
  bytesRead: number;
  buffer: T;
}

export interface WriteResult<T = Buffer> {
  bytesWritten: number;
  buffer: T;
}

/** Options of a FileHandle's streams: those of the client's, less what opening a path takes. */
export type HandleReadStreamOptions = Omit<ReadStreamOptions, 'fd' | 'flags' | 'mode'>;
export type HandleWriteStreamOptions = Omit<WriteStreamOptions, 'fd' | 'flags' | 'mode'>;

let nextFd = 1000;

function toBuffer(data: string | ArrayBufferView, encoding?: BufferEncoding): Buffer {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  if (Buffer.isBuffer(data)) return data;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * fs.FileHandle's two argument forms after the buffer: `(offset, length,
 * position)` or `({ offset, length, position })`; length defaults to the rest
 * of the buffer.
 */
function bufferRange(size: number, b: unknown, c: unknown, d: unknown): { offset: number; length: number; position: number | bigint | null | undefined } {
  if (b !== null && typeof b === 'object') {
    const o = b as { offset?: number; length?: number; position?: number | bigint | null };
    const offset = o.offset ?? 0;
    return { offset, length: o.length ?? size - offset, position: o.position };
  }
  const offset = (b as number | undefined) ?? 0;
  return { offset, length: (c as number | undefined) ?? size - offset, position: d as number | bigint | null | undefined };
}

export class FileHandle {
  /** A number unique among this process's NFS file handles (not an OS descriptor). */
  readonly fd: number;
  private pos = 0;
  private closed = false;
  private closing?: Promise<void>;
  private readonly tracker: WriteTracker;
  /** Size as last seen (for O_APPEND). */
  private knownSize: number;

  /** @internal — use client.open(). */
  constructor(
    private readonly host: FileHandleHost,
    /** The NFS file handle. */
    readonly handle: Buffer,
    /** The path it was opened by (for error messages). */
    readonly path: string,
    private readonly flags: { read: boolean; write: boolean; append: boolean; stable: StableHow3Value },
    attrs: Fattr3 | undefined,
    /** NFSv4: the OPEN this handle is (undefined on v3, and for directories and special files). */
    private readonly state?: FileState,
  ) {
    this.fd = nextFd++;
    this.knownSize = attrs ? Number(attrs.size) : 0;
    this.tracker = new WriteTracker(host, handle, path, flags.stable, state);
  }

  private check(syscall: string): void {
    if (this.closed) throw new NfsError('EBADF', { syscall });
  }

  /** @internal NFSv4: the OPEN this handle is (copyFile's COPY carries its stateid). */
  get openState(): FileState | undefined {
    return this.state;
  }

  /** Uncommitted (UNSTABLE, acknowledged) bytes this handle holds for a possible re-send. */
  get uncommittedBytes(): number {
    return this.tracker.uncommittedBytes;
  }

  // ------------------------------------------------------------------ read

  read<T extends ArrayBufferView = Buffer>(buffer: T, offset?: number, length?: number, position?: number | bigint | null): Promise<ReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(options?: { buffer?: T; offset?: number; length?: number; position?: number | bigint | null }): Promise<ReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(buffer: T, options?: { offset?: number; length?: number; position?: number | bigint | null }): Promise<ReadResult<T>>;
  async read<T extends ArrayBufferView = Buffer>(a?: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<ReadResult<T>> {
    this.check('read');
    let buffer: ArrayBufferView;
    let offset: number;
    let length: number;
    let position: number | bigint | null | undefined;
    if (a !== undefined && ArrayBuffer.isView(a)) {
      buffer = a;
      ({ offset, length, position } = bufferRange(buffer.byteLength, b, c, d));
    } else {
      const o = (a ?? {}) as { buffer?: ArrayBufferView; offset?: number; length?: number; position?: number | bigint | null };
      buffer = o.buffer ?? Buffer.alloc(16384);
      offset = o.offset ?? 0;
      length = o.length ?? buffer.byteLength - offset;
      position = o.position;
    }
    if (offset < 0 || length < 0 || offset + length > buffer.byteLength) {
      throw Object.assign(new RangeError(`offset ${offset} + length ${length} is out of the buffer's bounds`), { code: 'ERR_OUT_OF_RANGE' });
    }
    const implicit = position === undefined || position === null || position === -1 || position === -1n;
    const pos = implicit ? this.pos : Number(position);
    if (implicit) this.pos += length;
    const view = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const n = length === 0 ? 0 : await readInto(this.host, this.handle, pos, length, view, offset, 'read', this.path, this.state);
    if (implicit && this.pos === pos + length) this.pos = pos + n;
    return { bytesRead: n, buffer: buffer as T };
  }

  /** Read from the current position to the end of the file (as FileHandle.readFile). */
  async readFile(options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<Buffer | string> {
    this.check('read');
    const encoding = typeof options === 'string' ? options : (options?.encoding ?? undefined);
    const st = await this.stat();
    const start = this.pos;
    const chunks: Buffer[] = [];
    let total = 0;
    // read what GETATTR promised in one go, then go on until a short read (the file may have grown)
    let want = Math.max(0, st.size - start);
    let pos = start;
    for (;;) {
      const len = Math.max(want, this.host.rsize);
      const buf = Buffer.allocUnsafe(len);
      const n = await readInto(this.host, this.handle, pos, len, buf, 0, 'read', this.path, this.state);
      chunks.push(n === len ? buf : buf.subarray(0, n));
      total += n;
      pos += n;
      if (n < len) break;
      want = 0;
    }
    this.pos = pos;
    const out = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
    return encoding ? out.toString(encoding) : out;
  }

  /**
   * Pieces of the file with READs in flight ahead of the consumer (each
   * piece: views of one READ reply). The zero-copy way to stream a file out.
   */
  pieces(options: { start?: number; end?: number; readAhead?: number } = {}): AsyncGenerator<ReadPiece> {
    this.check('read');
    const start = options.start ?? this.pos;
    const end = options.end === undefined || options.end === Infinity ? Infinity : options.end;
    return readAhead(this.host, this.handle, start, end, Math.max(1, options.readAhead ?? 8), 'read', this.path, this.state);
  }

  /** A ReadStream of this handle (streams.ts), from `start` or this handle's position; autoClose closes the handle. */
  createReadStream(options: HandleReadStreamOptions = {}): ReadStream {
    this.check('read');
    return new ReadStream(this.host, undefined, { ...options, fd: this });
  }

  // ------------------------------------------------------------------ write

  write<T extends ArrayBufferView>(buffer: T, offset?: number, length?: number, position?: number | bigint | null): Promise<WriteResult<T>>;
  write<T extends ArrayBufferView>(buffer: T, options?: { offset?: number; length?: number; position?: number | bigint | null }): Promise<WriteResult<T>>;
  write(data: string, position?: number | bigint | null, encoding?: BufferEncoding): Promise<WriteResult<string>>;
  async write(a: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<WriteResult<unknown>> {
    this.check('write');
    if (!this.flags.write) throw new NfsError('EBADF', { syscall: 'write' });
    let data: Buffer;
    let position: number | bigint | null | undefined;
    if (typeof a === 'string') {
      data = Buffer.from(a, (c as BufferEncoding | undefined) ?? 'utf8');
      position = b as number | bigint | null | undefined;
    } else if (ArrayBuffer.isView(a)) {
      const whole = toBuffer(a);
      let offset: number;
      let length: number;
      ({ offset, length, position } = bufferRange(whole.length, b, c, d));
      if (offset < 0 || length < 0 || offset + length > whole.length) {
        throw Object.assign(new RangeError(`offset ${offset} + length ${length} is out of the buffer's bounds`), { code: 'ERR_OUT_OF_RANGE' });
      }
      data = whole.subarray(offset, offset + length);
    } else {
      throw Object.assign(new TypeError('The "buffer" argument must be a string, Buffer, TypedArray or DataView'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const n = await this.writeData(data, position);
    return { bytesWritten: n, buffer: a };
  }

  private async writeData(data: Buffer, position: number | bigint | null | undefined): Promise<number> {
    const implicit = position === undefined || position === null || position === -1 || position === -1n;
    let pos: number;
    if (this.flags.append) {
      // O_APPEND: at the end of the file as this handle knows it (NFSv3 has no atomic append).
      pos = Math.max(this.knownSize, this.tracker.highWater);
    } else if (implicit) pos = this.pos;
    else pos = Number(position);
    if (implicit || this.flags.append) this.pos = pos + data.length;
    const n = await this.tracker.write(pos, data);
    if (pos + n > this.knownSize) this.knownSize = pos + n;
    return n;
  }

  async writev(buffers: ArrayBufferView[], position?: number | null): Promise<{ bytesWritten: number; buffers: ArrayBufferView[] }> {
    this.check('write');
    const data = Buffer.concat(buffers.map((b) => toBuffer(b)));
    const r = await this.write(data, 0, data.length, position);
    return { bytesWritten: r.bytesWritten, buffers };
  }

  async readv(buffers: ArrayBufferView[], position?: number | null): Promise<{ bytesRead: number; buffers: ArrayBufferView[] }> {
    this.check('read');
    let total = 0;
    let pos = position ?? null;
    for (const b of buffers) {
      const r = await this.read(b, 0, b.byteLength, pos);
      total += r.bytesRead;
      if (pos !== null) pos += r.bytesRead;
      if (r.bytesRead < b.byteLength) break;
    }
    return { bytesRead: total, buffers };
  }

  /** Write all of `data` at the current position (as FileHandle.writeFile). */
  async writeFile(data: string | ArrayBufferView | Iterable<string | ArrayBufferView> | AsyncIterable<string | ArrayBufferView>, options?: { encoding?: BufferEncoding } | BufferEncoding): Promise<void> {
    this.check('write');
    if (!this.flags.write) throw new NfsError('EBADF', { syscall: 'write' });
    const encoding = typeof options === 'string' ? options : options?.encoding;
    if (typeof data === 'string' || ArrayBuffer.isView(data)) {
      await this.writeData(toBuffer(data, encoding), null);
      return;
    }
    // streamed: several wsize WRITEs in flight
    const wb = this.writeBehind(undefined);
    for await (const piece of data as AsyncIterable<string | ArrayBufferView>) await wb.add(toBuffer(piece, encoding));
    await wb.flush();
  }

  async appendFile(data: string | ArrayBufferView, options?: { encoding?: BufferEncoding } | BufferEncoding): Promise<void> {
    return this.writeFile(data, options);
  }

  /** @internal write-behind from `start` (undefined: this handle's position, advanced as it goes), `limit` bytes in flight. */
  writeBehind(start: number | undefined, limit?: number): WriteBehind {
    this.check('write');
    if (!this.flags.write) throw new NfsError('EBADF', { syscall: 'write' });
    const wsize = this.host.wsize;
    return new WriteBehind((data, at) => this.writeData(data, at), start, wsize, Math.max(wsize, limit ?? 8 * wsize));
  }

  /** A WriteStream of this handle (streams.ts), from `start` or this handle's position; autoClose commits and closes the handle. */
  createWriteStream(options: HandleWriteStreamOptions = {}): WriteStream {
    this.check('write');
    if (!this.flags.write) throw new NfsError('EBADF', { syscall: 'write' });
    return new WriteStream(this.host, undefined, { ...options, fd: this });
  }

  // ------------------------------------------------------------------ metadata

  async stat(): Promise<Stats> {
    this.check('fstat');
    const res = await this.host.nfs.getattr(this.handle);
    if (res.status !== 0) throw nfsError(res.status, 'fstat');
    this.knownSize = Number(res.attrs.size);
    return new Stats(res.attrs);
  }

  async truncate(len = 0): Promise<void> {
    this.check('ftruncate');
    // Uncommitted bytes beyond the new size must not come back later: commit first (as Linux flushes before truncate).
    await this.tracker.sync();
    const res = await this.host.nfs.setattr(this.handle, { size: BigInt(Math.max(0, len)) }, undefined, this.state);
    if (res.status !== 0) throw nfsError(res.status, 'ftruncate');
    this.tracker.truncated(len);
    this.knownSize = len;
  }

  async chmod(mode: number | string): Promise<void> {
    this.check('fchmod');
    const m = typeof mode === 'string' ? parseInt(mode, 8) : mode;
    const res = await this.host.nfs.setattr(this.handle, { mode: m & 0o7777 }, undefined, this.state);
    if (res.status !== 0) throw nfsError(res.status, 'fchmod');
  }

  async chown(uid: number, gid: number): Promise<void> {
    this.check('fchown');
    const a: { uid?: number; gid?: number } = {};
    if (uid !== -1) a.uid = uid;
    if (gid !== -1) a.gid = gid;
    const res = await this.host.nfs.setattr(this.handle, a, undefined, this.state);
    if (res.status !== 0) throw nfsError(res.status, 'fchown');
  }

  async utimes(atime: TimeLike, mtime: TimeLike): Promise<void> {
    this.check('futime');
    const res = await this.host.nfs.setattr(this.handle, toSattrTimes(atime, mtime), undefined, this.state);
    if (res.status !== 0) throw nfsError(res.status, 'futime');
  }

  /** COMMIT everything written through this handle; re-sends data the server lost (verifier change). */
  async sync(): Promise<void> {
    this.check('fsync');
    await this.tracker.sync();
  }

  async datasync(): Promise<void> {
    this.check('fdatasync');
    await this.tracker.sync();
  }

  // ------------------------------------------------------------------ locks

  /**
   * A byte-range lock (fcntl F_SETLK / F_SETLKW), held by this handle's own lock owner until
   * unlock() or close(). NFSv4 only: NFSv3 locks need the NLM protocol, which this client does not
   * speak, so on v3 this rejects with ENOLCK. Another owner's conflicting lock: EAGAIN, or with
   * `wait` the call polls (with backoff) until it is granted.
   */
  async lock(options: LockOptions = {}): Promise<void> {
    this.check('fcntl');
    if (!this.state) throw new NfsError('ENOLCK', { syscall: 'fcntl', path: this.path, description: 'no locks available (byte-range locks need NFSv4: NFSv3 would need NLM)' });
    const exclusive = options.exclusive ?? true;
    // As fcntl(2): a write lock needs a handle open for writing, a read lock one open for reading.
    if (exclusive ? !this.flags.write : !this.flags.read) throw new NfsError('EBADF', { syscall: 'fcntl', path: this.path });
    await this.state.lockRange({ ...options, exclusive });
  }

  /** Release [start, start + length) of this handle's locks (the whole file by default). */
  async unlock(options: Omit<LockOptions, 'exclusive' | 'wait' | 'signal'> = {}): Promise<void> {
    this.check('fcntl');
    if (!this.state) throw new NfsError('ENOLCK', { syscall: 'fcntl', path: this.path, description: 'no locks available (byte-range locks need NFSv4: NFSv3 would need NLM)' });
    await this.state.unlockRange(options);
  }

  /**
   * Commit (if anything was written) and release the handle — on NFSv4 its locks and its OPEN too. A
   * commit failure is reported here, as close(2) reports NFS write errors.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      try {
        await this.tracker.drain();
        let err: unknown;
        await this.tracker.sync().catch((e: unknown) => void (err = e));
        await this.state?.close().catch((e: unknown) => void (err ??= e));
        if (err) throw err;
      } finally {
        this.closed = true;
        this.host.handleClosed(this);
      }
    })();
    return this.closing;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
