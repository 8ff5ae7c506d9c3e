/**
 * The data path shared by FileHandle, readFile/writeFile and the CLI's cp:
 * reads split by rsize and issued in parallel, writes split by wsize and
 * issued in parallel as UNSTABLE, with the uncommitted data kept (one copy
 * per write in a recycled buffer, buffers.ts, which a WRITE over the wire
 * also sends from) until a COMMIT returns a matching verifier — and re-sent
 * when it does not.
 */
import { StableHow3, type StableHow3Value } from '../nfs3/constants.js';
import { nfsError, NfsError } from './errors.js';
import type { NfsProcs, StateRef } from './procs.js';
import { UncommittedSet, type Range } from './uncommitted.js';
import type { LocalioClient } from '../localio/client.js';
import type { ClientBuffers } from './buffers.js';

export interface ClientCounters {
  /** COMMIT calls sent. */
  commits: number;
  /** COMMITs (or WRITE replies) whose verifier showed the server had lost uncommitted data. */
  verifierMismatches: number;
  /** Bytes sent again because of a verifier change. */
  resentBytes: number;
  bytesRead: number;
  bytesWritten: number;
}

export interface IoCore {
  nfs: NfsProcs;
  /** LOCALIO: tried first for READ, WRITE and COMMIT; undefined from it means "use the wire". */
  localio?: LocalioClient;
  rsize: number;
  wsize: number;
  maxUncommitted: number;
  counters: ClientCounters;
  /** Recycled buffers: UNSTABLE writes' copies until COMMIT (local and wire), pieces read locally (buffers.ts). */
  buffers: ClientBuffers;
}

/**
 * One READ's worth of data, as views of the reply buffer(s). Call
 * `release()` once the bytes are written out or copied: the buffers are
 * then reused for later replies. (Not calling it is safe, just slower.)
 */
export interface ReadPiece {
  chunks: Buffer[];
  length: number;
  eof: boolean;
  release(): void;
}

/** READ [pos, pos+len) (len ≤ rsize) until done, EOF or a short reply; re-asks on short non-EOF replies. */
export async function readPiece(core: IoCore, fh: Buffer, pos: number, len: number, syscall: string, path?: string, st?: StateRef): Promise<ReadPiece> {
  st?.check();
  if (core.localio?.isLocal && st?.ready) await stateReady(st);
  if (core.localio?.isLocal) {
    const { data: buf, lease } = core.buffers.take(len);
    const r = await core.localio.read(fh, pos, buf, 0, len);
    if (r?.status === 0) {
      core.counters.bytesRead += r.n;
      return { chunks: r.n ? [buf.subarray(0, r.n)] : [], length: r.n, eof: r.eof, release: () => lease?.release() };
    }
    lease?.release();
    if (r) throw nfsError(r.status, syscall, path);
  }
  const chunks: Buffer[] = [];
  const releases: Array<() => void> = [];
  const release = () => {
    for (const r of releases.splice(0)) r();
  };
  let got = 0;
  let eof = false;
  try {
    while (got < len) {
      const res = await core.nfs.readChunks(fh, pos + got, len - got, st);
      core.localio?.wire('read', res.status === 0 ? res.data.length : 0);
      if (res.status !== 0) throw nfsError(res.status, syscall, path);
      releases.push(res.release);
      const n = Math.min(res.data.length, len - got);
      if (n > 0) chunks.push(n === res.data.length ? res.data : res.data.subarray(0, n));
      got += n;
      if (res.eof || n === 0) {
        eof = true;
        break;
      }
    }
  } catch (err) {
    release();
    throw err;
  }
  core.counters.bytesRead += got;
  return { chunks, length: got, eof, release };
}

/** NFSv4 before local I/O: the state current (its lease renewed when it may have run out), or the handle's error. */
async function stateReady(st: StateRef): Promise<void> {
  const w = st.ready?.();
  if (w) await w;
  st.check();
}

/** Copy a piece's chunks into `into` at `at`. */
export function copyPiece(p: ReadPiece, into: Uint8Array, at: number): void {
  for (const c of p.chunks) {
    into.set(c, at);
    at += c.length;
  }
}

/**
 * Read [pos, pos+len) into `into` at `at`, in rsize pieces all in flight at
 * once (the transport bounds how many are on the wire). Returns the bytes
 * read contiguously from `pos` (short at EOF).
 */
export async function readInto(core: IoCore, fh: Buffer, pos: number, len: number, into: Uint8Array, at: number, syscall: string, path?: string, st?: StateRef): Promise<number> {
  st?.check();
  if (core.localio?.isLocal && st?.ready) await stateReady(st);
  if (core.localio?.isLocal) {
    // Straight into the caller's buffer, in one pread: no rsize split, no copy.
    const r = await core.localio.read(fh, pos, into, at, len);
    if (r) {
      if (r.status !== 0) throw nfsError(r.status, syscall, path);
      core.counters.bytesRead += r.n;
      return r.n;
    }
  }
  const n = Math.ceil(len / core.rsize);
  const lens = new Array<number>(n);
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const off = i * core.rsize;
      const want = Math.min(core.rsize, len - off);
      const p = await readPiece(core, fh, pos + off, want, syscall, path, st);
      copyPiece(p, into, at + off);
      p.release();
      lens[i] = p.length;
    }),
  );
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += lens[i];
    if (lens[i] < Math.min(core.rsize, len - i * core.rsize)) break;
  }
  return total;
}

/**
 * Sequential pieces of [start, end) with `ahead` READs in flight ahead of
 * the consumer; stops after the first short piece (EOF).
 */
export async function* readAhead(core: IoCore, fh: Buffer, start: number, end: number, ahead: number, syscall: string, path?: string, st?: StateRef): AsyncGenerator<ReadPiece> {
  const queue: Array<Promise<ReadPiece & { want: number }>> = [];
  let next = start;
  const issue = () => {
    while (queue.length < ahead && next < end) {
      const at = next;
      const want = Math.min(core.rsize, end - at);
      next += want;
      const p = readPiece(core, fh, at, want, syscall, path, st).then((r) => ({ ...r, want }));
      p.catch(() => undefined); // awaited below; an abandoned generator must not leave an unhandled rejection
      queue.push(p);
    }
  };
  issue();
  while (queue.length > 0) {
    const r = await queue.shift()!;
    yield r;
    if (r.length < r.want) return;
    issue();
  }
}

/**
 * Everything a file handle knows about its unstable writes. COMMIT runs in
 * the background once half of `maxUncommitted` is held, and writers wait
 * only when all of it is; a re-send after a verifier change holds new writes
 * back so older bytes can never land over newer ones.
 */
export class WriteTracker {
  private readonly set = new UncommittedSet();
  private seq = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private commitChain: Promise<void> = Promise.resolve();
  private committing = false;
  private gate?: Promise<void>;
  private deferred?: Error;
  /** The highest offset written by this handle (for O_APPEND and size tracking). */
  highWater = 0;

  constructor(
    private readonly core: IoCore,
    private readonly fh: Buffer,
    private readonly path: string | undefined,
    private readonly stableHow: StableHow3Value = StableHow3.UNSTABLE,
    /** NFSv4: the open file's state, which every WRITE carries. */
    private readonly st?: StateRef,
  ) {}

  get uncommittedBytes(): number {
    return this.set.bytes;
  }

  get uncommittedRanges(): readonly Range[] {
    return this.set.all();
  }

  /** Write `data` at `pos` (split by wsize, in parallel). Resolves when every WRITE is acknowledged. */
  async write(pos: number, data: Uint8Array): Promise<number> {
    if (this.gate) await this.gate;
    const max = this.core.maxUncommitted;
    if (this.set.bytes >= max / 2 && !this.committing) this.backgroundCommit();
    while (this.set.bytes >= max) {
      await this.commitRound();
      if (this.deferred) throw this.takeDeferred();
    }
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // One job: LOCALIO takes the whole buffer in one pwrite, the wire splits it by wsize (writeChunk).
    if (buf.length > 0) await this.track(this.writeChunk(pos, buf, undefined));
    if (pos + buf.length > this.highWater) this.highWater = pos + buf.length;
    return buf.length;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** One WRITE: local when LOCALIO is on, else (or when it declines) over the wire. `born` is set when re-sending. */
  private async writeChunk(pos: number, chunk: Buffer, born: number | undefined): Promise<void> {
    this.st?.check();
    const local = this.core.localio;
    if (local?.isLocal && this.st?.ready) await stateReady(this.st);
    if (local?.isLocal) {
      const r = await local.write(this.fh, pos, chunk, this.stableHow);
      if (r) {
        if (r.status !== 0) throw nfsError(r.status, 'write', this.path);
        const seq = ++this.seq;
        if (r.committed === StableHow3.UNSTABLE) {
          // The caller may reuse its buffer once write() resolves: keep a copy for a possible re-send.
          const { data, lease } = this.core.buffers.copy(chunk.subarray(0, r.count));
          this.set.add({ start: pos, end: pos + r.count, data, lease, verf: r.verf, seq, born: born ?? seq });
        } else {
          this.set.stable(pos, pos + r.count);
        }
        this.core.counters.bytesWritten += r.count;
        return;
      }
    }
    // Over the wire: WRITEs of at most wsize, all in flight at once (the transport bounds them).
    const ws = this.core.wsize;
    if (chunk.length <= ws) return this.wireChunk(pos, chunk, born);
    const parts: Promise<void>[] = [];
    for (let off = 0; off < chunk.length; off += ws) parts.push(this.wireChunk(pos + off, chunk.subarray(off, Math.min(off + ws, chunk.length)), born));
    await Promise.all(parts);
  }

  /**
   * WRITEs of `chunk` at `pos` over the wire. The data is copied once, into a recycled buffer
   * (buffers.ts), which the WRITE sends as it is and the uncommitted set then keeps until COMMIT:
   * the caller may reuse `chunk` as soon as this resolves. (Encoding the data into a fresh message
   * per WRITE instead cost a 1 GiB copy 3.7–4.4 s of client CPU here, 1.7–2.0 s this way; most of the
   * difference was faulting new memory in.)
   */
  private async wireChunk(pos: number, chunk: Buffer, born: number | undefined): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const copy = this.core.buffers.copy(off === 0 ? chunk : chunk.subarray(off));
      // If the call fails the copy is not given back: the socket may still be sending it.
      const res = await this.core.nfs.writeLent(this.fh, pos + off, copy.data, this.stableHow, this.st);
      this.core.localio?.wire('write', res.status === 0 ? res.count : 0);
      if (res.status !== 0) {
        copy.lease?.release();
        throw nfsError(res.status, 'write', this.path);
      }
      const n = Math.min(res.count, copy.data.length);
      if (n === 0) {
        copy.lease?.release();
        throw new NfsError('EIO', { syscall: 'write', path: this.path, description: 'the server wrote 0 bytes' });
      }
      const seq = ++this.seq;
      const start = pos + off;
      if (res.committed === StableHow3.UNSTABLE) {
        // The set takes over the lease (its range views the first n bytes).
        this.set.add({ start, end: start + n, data: copy.data.subarray(0, n), verf: Buffer.from(res.verf), seq, born: born ?? seq, lease: copy.lease });
      } else {
        copy.lease?.release();
        this.set.stable(start, start + n);
      }
      this.core.counters.bytesWritten += n;
      off += n;
    }
  }

  private backgroundCommit(): void {
    this.commitRound().catch((err: Error) => {
      this.deferred ??= err;
    });
  }

  private takeDeferred(): Error {
    const e = this.deferred!;
    this.deferred = undefined;
    return e;
  }

  /** One COMMIT of everything acknowledged so far; serialized. */
  private commitRound(): Promise<void> {
    const run = async () => {
      this.committing = true;
      try {
        await this.commitOnce();
      } finally {
        this.committing = false;
      }
    };
    const p = this.commitChain.then(run, run);
    this.commitChain = p.catch(() => undefined);
    return p;
  }

  private async commitOnce(): Promise<void> {
    if (this.set.size === 0) return;
    const maxSeq = this.seq;
    this.core.counters.commits++;
    const lr = this.core.localio?.isLocal ? await this.core.localio.commit(this.fh) : undefined;
    let verf: Buffer;
    if (lr) {
      if (lr.status !== 0) throw nfsError(lr.status, 'fsync', this.path);
      verf = lr.verf;
    } else {
      const res = await this.core.nfs.commit(this.fh, 0, 0);
      this.core.localio?.wire('commit');
      if (res.status !== 0) throw nfsError(res.status, 'fsync', this.path);
      verf = res.verf;
    }
    const stale = this.set.settle(maxSeq, verf);
    if (stale.length === 0) return;
    // The server restarted (or failed a write) since these bytes were acknowledged: send them again.
    this.core.counters.verifierMismatches++;
    let open!: () => void;
    this.gate = new Promise<void>((r) => (open = r));
    try {
      await Promise.allSettled([...this.inflight]);
      const jobs: Promise<void>[] = [];
      for (const r of this.set.all().slice()) {
        if (r.verf.equals(verf)) continue;
        if (r.seq > maxSeq) continue; // acknowledged after this COMMIT was sent: judged by the next one
        this.core.counters.resentBytes += r.end - r.start;
        // Its bytes must outlive the range, which the re-send's own acknowledgement replaces.
        r.lease?.retain();
        const resend = this.writeChunk(r.start, r.data, r.born);
        const letGo = () => r.lease?.release();
        resend.then(letGo, letGo);
        jobs.push(this.track(resend));
      }
      await Promise.all(jobs);
    } finally {
      this.gate = undefined;
      open();
    }
  }

  /**
   * fsync: wait for the writes in flight, then COMMIT until every byte
   * acknowledged so far is committed under a matching verifier.
   */
  async sync(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    if (this.deferred) throw this.takeDeferred();
    const born = this.seq;
    for (let round = 0; this.set.hasBornBy(born); round++) {
      if (round >= 50) throw new NfsError('EIO', { syscall: 'fsync', path: this.path, description: 'the server kept changing its write verifier' });
      await this.commitRound();
    }
    if (this.deferred) throw this.takeDeferred();
  }

  /** The file was truncated to `size`: uncommitted bytes past it must never be re-sent. */
  truncated(size: number): void {
    this.set.truncate(size);
    if (this.highWater > size) this.highWater = size;
  }

  /** Wait for every write in flight (errors are the writers'). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }
}
