/**
 * ReadStream and WriteStream: what `client.createReadStream(path)` and
 * `client.createWriteStream(path)` return, shaped like fs's — and what a
 * FileHandle's createReadStream() / createWriteStream() return, as
 * `{ fd: handle }` (Node builds FileHandle streams the same way).
 *
 * As fs's streams: the file is opened lazily ('open' with the handle's fd,
 * then 'ready'; `pending` until then), a failed open is an 'error' with no
 * 'open'; the file is closed on end and error when autoClose (the default)
 * and by destroy() always; 'close' follows unless emitClose is false.
 * `start` / `end` (inclusive), `encoding`, `highWaterMark`, `signal`;
 * `bytesRead`, `bytesWritten`, `path`, `fd`, `close(cb)`.
 *
 * Over NFS: a read stream pushes the FileHandle's pieces() (READs in flight
 * ahead of the consumer, LOCALIO when local) as views of the replies, cut to
 * at most highWaterMark (default rsize, where fs has 64 KiB). A write
 * stream sends through the handle's write-behind (UNSTABLE WRITEs of
 * wsize), and COMMITs before 'finish' when it is to close the file
 * (autoClose) or `flush` is set: 'finish' then means durable, which fs's
 * flush (an fsync at close, after 'finish') does not promise. `fd` takes a
 * FileHandle of the client; NFS files have no descriptor number to pass.
 */
import { Readable, Writable, finished } from 'node:stream';
import { FileHandle } from './filehandle.js';
import type { ReadPiece } from './io.js';
import type { WriteBehind } from './writebehind.js';

/** What the streams need: the client (rsize, wsize, open) or a FileHandle's host. */
export interface StreamHost {
  rsize: number;
  wsize: number;
  open?(p: string, flags?: string | number, mode?: number | string): Promise<FileHandle>;
}

interface CommonOptions {
  /** Open flags (read default 'r', write default 'w'); unused with `fd`. */
  flags?: string | number;
  /** Mode of a file the flags create (default 0o666, less the client's umask). */
  mode?: number | string;
  /** An open FileHandle to use instead of opening the path (fs's `fd`): no 'open'/'ready' then, `path` is undefined. */
  fd?: FileHandle;
  start?: number;
  highWaterMark?: number;
  encoding?: BufferEncoding | null;
  /** Close the file on end/finish and on error (default true, as fs). destroy() closes it regardless, as fs does. */
  autoClose?: boolean;
  /** Emit 'close' after the stream is destroyed (default true). */
  emitClose?: boolean;
  signal?: AbortSignal;
}

export interface ReadStreamOptions extends CommonOptions {
  /** Inclusive, as fs.createReadStream. */
  end?: number;
  /** READs kept in flight ahead of the consumer (default 8). */
  readAhead?: number;
}

export interface WriteStreamOptions extends CommonOptions {
  /** COMMIT before 'finish' even when autoClose is false (with autoClose the file's close commits before 'finish' anyway). */
  flush?: boolean;
  /** Bytes of WRITEs kept in flight (default 8 × wsize). */
  writeBehind?: number;
}

type Callback = (error?: Error | null) => void;

function describe(v: unknown): string {
  if (v === null || v === undefined) return `Received ${v}`;
  if (typeof v === 'function') return 'Received function';
  if (typeof v === 'object') return `Received an instance of ${(v as object).constructor?.name ?? 'Object'}`;
  return `Received type ${typeof v} (${typeof v === 'string' ? `'${v}'` : String(v)})`;
}

function invalidType(what: string, expected: string, v: unknown): TypeError {
  return Object.assign(new TypeError(`The ${what} must be ${expected}. ${describe(v)}`), { code: 'ERR_INVALID_ARG_TYPE' });
}

function outOfRange(name: string, range: string, v: unknown): RangeError {
  return Object.assign(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(v)}`), { code: 'ERR_OUT_OF_RANGE' });
}

/** fs's validateInteger(v, name, 0). */
function position(v: unknown, name: string): number {
  if (typeof v !== 'number') throw invalidType(`"${name}" argument`, 'of type number', v);
  if (!Number.isInteger(v)) throw outOfRange(name, 'an integer', v);
  if (v < 0 || v > Number.MAX_SAFE_INTEGER) throw outOfRange(name, `>= 0 && <= ${Number.MAX_SAFE_INTEGER}`, v);
  return v;
}

/** The options object (a string is the encoding, as fs), the FileHandle given as `fd`, and the path checked. */
function common<T extends CommonOptions>(path: unknown, options: T | BufferEncoding | undefined | null): { o: T; fh?: FileHandle } {
  const o = (typeof options === 'string' ? { encoding: options } : { ...(options ?? {}) }) as T;
  if (o.fd !== undefined && o.fd !== null) {
    if (!(o.fd instanceof FileHandle)) throw invalidType('"options.fd" property', 'a FileHandle of this client (NFS files have no descriptor number)', o.fd);
    return { o, fh: o.fd };
  }
  if (typeof path !== 'string') throw invalidType('"path" argument', 'of type string', path);
  return { o };
}

/** Open `path` for a stream: 'open' and 'ready' after the constructor's callback, as fs. */
function openFor(s: ReadStream | WriteStream, host: StreamHost, callback: Callback): void {
  // Already closed: destroyed inside the constructor (a signal aborted beforehand), when there was no file
  // to close yet. fs opens it all the same, emits 'open' after 'close' and never closes it; we leave it shut.
  if (s.handle || s.closed) return callback();
  if (!host.open) return callback(new TypeError('this stream was given neither a path to open nor a FileHandle'));
  host.open(s.path!, s.flags, s.mode).then(
    (h) => {
      s.handle = h;
      s.fd = h.fd;
      callback();
      s.emit('open', h.fd);
      s.emit('ready');
    },
    (e: Error) => callback(e),
  );
}

/** Close the stream's FileHandle (fs closes the descriptor on destroy whatever autoClose says). */
function closeFor(s: ReadStream | WriteStream, err: Error | null, callback: Callback): void {
  const h = s.handle;
  if (!h || s.fd === null) return callback(err);
  s.fd = null;
  h.close().then(
    () => callback(err),
    (e: Error) => callback(err ?? e),
  );
}

interface StreamState {
  autoDestroy: boolean;
}

export class ReadStream extends Readable {
  /** The FileHandle's fd once open; null before (`pending`) and once closed, as fs. */
  fd: number | null = null;
  /** The path given; undefined when a FileHandle was given as `fd`. */
  readonly path: string | undefined;
  readonly flags: string | number;
  readonly mode: number | string;
  readonly start: number | undefined;
  /** Inclusive; Infinity for the whole file. */
  readonly end: number;
  bytesRead = 0;
  /** The FileHandle read: the one given as `fd`, or the stream's own once open. */
  handle: FileHandle | undefined;
  private readonly host: StreamHost;
  private readonly chunkMax: number;
  private readonly ahead: number | undefined;
  private pieces?: AsyncGenerator<ReadPiece>;

  constructor(host: StreamHost, path: string | undefined, options?: ReadStreamOptions | BufferEncoding | null) {
    const { o, fh } = common<ReadStreamOptions>(path, options);
    const start = o.start === undefined ? undefined : position(o.start, 'start');
    const end = o.end === undefined || o.end === Infinity ? Infinity : position(o.end, 'end');
    if (start !== undefined && start > end) throw outOfRange('start', `<= "end" (here: ${end})`, start);
    const hwm = o.highWaterMark ?? host.rsize;
    super({ highWaterMark: hwm, encoding: o.encoding ?? undefined, autoDestroy: o.autoClose ?? true, emitClose: o.emitClose ?? true, signal: o.signal });
    this.host = host;
    this.path = fh ? undefined : path;
    this.flags = o.flags ?? 'r';
    this.mode = o.mode ?? 0o666;
    this.start = start;
    this.end = end;
    this.chunkMax = Math.max(1, hwm);
    this.ahead = o.readAhead;
    if (fh) {
      this.handle = fh;
      this.fd = fh.fd;
    }
  }

  get pending(): boolean {
    return this.fd === null;
  }

  get autoClose(): boolean {
    return (this as unknown as { _readableState: StreamState })._readableState.autoDestroy;
  }

  set autoClose(v: boolean) {
    (this as unknown as { _readableState: StreamState })._readableState.autoDestroy = v;
  }

  /** destroy(), with `callback` told when the stream has closed (fs's ReadStream.close). */
  close(callback?: (err?: Error | null) => void): void {
    if (typeof callback === 'function') finished(this, callback);
    this.destroy();
  }

  override _construct(callback: Callback): void {
    openFor(this, this.host, callback);
  }

  override _read(): void {
    const h = this.handle!;
    // closed under us (a FileHandle given as fd): end the stream, as fs does on the handle's 'close'
    if (h.isClosed) return void this.destroy();
    if (!this.pieces) {
      try {
        this.pieces = h.pieces({ start: this.start, end: this.end === Infinity ? Infinity : this.end + 1, readAhead: this.ahead });
      } catch (e) {
        return void this.destroy(e as Error);
      }
    }
    this.pieces.next().then(
      (r) => {
        if (this.destroyed) return;
        if (r.done || r.value.length === 0) return void this.push(null);
        this.bytesRead += r.value.length;
        const max = this.chunkMax;
        for (const c of r.value.chunks) {
          if (c.length <= max) this.push(c);
          else for (let at = 0; at < c.length; at += max) this.push(c.subarray(at, at + max));
        }
      },
      (e: Error) => {
        if (!this.destroyed) this.destroy(e);
      },
    );
  }

  override _destroy(err: Error | null, callback: Callback): void {
    // READs still in flight complete in the background; nothing waits for them
    const pieces = this.pieces;
    this.pieces = undefined;
    pieces?.return(undefined).catch(() => undefined);
    closeFor(this, err, callback);
  }
}

export class WriteStream extends Writable {
  /** The FileHandle's fd once open; null before (`pending`) and once closed, as fs. */
  fd: number | null = null;
  /** The path given; undefined when a FileHandle was given as `fd`. */
  readonly path: string | undefined;
  readonly flags: string | number;
  readonly mode: number | string;
  /** Where the first byte goes; undefined: the file's position (0 for a file the stream opens; appends with 'a'). */
  readonly start: number | undefined;
  /** COMMIT before 'finish' even without autoClose. */
  readonly flush: boolean;
  /** The FileHandle written: the one given as `fd`, or the stream's own once open. */
  handle: FileHandle | undefined;
  private readonly host: StreamHost;
  private readonly limit: number | undefined;
  private wb?: WriteBehind;

  constructor(host: StreamHost, path: string | undefined, options?: WriteStreamOptions | BufferEncoding | null) {
    const { o, fh } = common<WriteStreamOptions>(path, options);
    const start = o.start === undefined ? undefined : position(o.start, 'start');
    if (o.flush !== undefined && o.flush !== null && typeof o.flush !== 'boolean') throw invalidType('"options.flush" property', 'of type boolean', o.flush);
    super({
      highWaterMark: o.highWaterMark ?? host.wsize,
      decodeStrings: true,
      defaultEncoding: o.encoding ?? 'utf8',
      autoDestroy: o.autoClose ?? true,
      emitClose: o.emitClose ?? true,
      signal: o.signal,
    });
    this.host = host;
    this.path = fh ? undefined : path;
    this.flags = o.flags ?? 'w';
    this.mode = o.mode ?? 0o666;
    this.start = start;
    this.flush = o.flush ?? false;
    this.limit = o.writeBehind;
    if (fh) {
      this.handle = fh;
      this.fd = fh.fd;
    }
  }

  /** Bytes the server has acknowledged so far (all of them once 'finish' is emitted). */
  get bytesWritten(): number {
    return this.wb?.acknowledged ?? 0;
  }

  get pending(): boolean {
    return this.fd === null;
  }

  get autoClose(): boolean {
    return (this as unknown as { _writableState: StreamState })._writableState.autoDestroy;
  }

  set autoClose(v: boolean) {
    (this as unknown as { _writableState: StreamState })._writableState.autoDestroy = v;
  }

  /** end(), then destroy once finished even without autoClose; `callback` on 'close' (fs's WriteStream.close). */
  close(callback?: (err?: Error | null) => void): void {
    if (callback) {
      if (this.closed) {
        process.nextTick(callback);
        return;
      }
      this.on('close', callback);
    }
    if (!this.autoClose) this.on('finish', () => this.destroy());
    this.end();
  }

  /** There is no shutdown for files: end(), as fs. */
  destroySoon(): this {
    return this.end();
  }

  override _construct(callback: Callback): void {
    openFor(this, this.host, callback);
  }

  private send(data: Buffer[], callback: Callback): void {
    try {
      this.wb ??= this.handle!.writeBehind(this.start, this.limit);
    } catch (e) {
      return callback(e as Error);
    }
    this.wb.add(data).then(() => callback(), callback);
  }

  // Copies: the writer may reuse its buffer once called back, before its WRITE is acknowledged.
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    this.send([Buffer.from(chunk)], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: Callback): void {
    this.send(
      chunks.map((c) => Buffer.from(c.chunk)),
      callback,
    );
  }

  override _final(callback: Callback): void {
    (async () => {
      await this.wb?.flush();
      const h = this.handle!;
      // durable before 'finish': the close that follows (autoClose) then has nothing left to commit
      if (this.autoClose || this.flush) await h.sync();
    })().then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: Callback): void {
    // the WRITEs in flight first: close() commits what they wrote
    (this.wb?.settle() ?? Promise.resolve()).then(() => closeFor(this, err, callback));
  }
}
