import type { Attrs, Backend, DirPage, Node, ReadResult, SetAttrs, StableHow, WriteResult } from './types.js';
import { BackendDecorator } from './decorator.js';
import { BufferPool } from '../util/bufpool.js';
import { GenerationalCache } from '../util/cache.js';

/** A file's queued UNSTABLE writes. */
interface Queue {
  /** Settles when every write queued so far is done (never rejects). */
  tail: Promise<void>;
  /** Writes queued and not yet done. */
  pending: number;
  /** The first failure of a queued write, for the file's next WRITE or COMMIT. */
  error?: unknown;
}

/** Files remembered as written successfully (a file's first write is never queued). */
const MAX_KNOWN = 4096;

/**
 * Write-behind for UNSTABLE writes, in front of any backend.
 *
 * Why: a serial writer (libnfs `nfs-cp`) sends WRITE n+1 only after WRITE n's reply, and each reply
 * waited for its `pwrite` — 2.3–2.7 ms per MiB into fresh page-cache pages on the bench VM, longer
 * than the client takes to send the next MiB. Here an UNSTABLE write is queued on its file — its bytes
 * taken over from the caller when it allows (`keep`: the RPC record), else copied into a pooled
 * buffer — and the reply goes out at once: the `pwrite` of one MiB overlaps the
 * transfer of the next. UNSTABLE promises nothing durable before COMMIT (RFC 1813 §3.3.7), so
 * replying before the data reaches the page cache changes no guarantee a client may rely on.
 *
 * What keeps it correct:
 * - Every other access to the file — GETATTR, READ, SETATTR, a stable WRITE, COMMIT, a LOCALIO
 *   open — waits for its queue first, so it sees every write that was answered before it. Listing,
 *   naming and removal calls wait for all queues (they report or change files by name).
 * - The reply carries no post-op attributes (`WriteResult.queued`): they are not known yet, and a
 *   guess would differ from what the next GETATTR says.
 * - A queued write's failure is thrown by the file's next WRITE or COMMIT, which resets the write
 *   verifier, so the client resends what it has not seen committed.
 * - A file's first WRITE is never queued, so what only the backend can refuse (a directory, a file
 *   removed, a read-only file system) is refused to that WRITE itself.
 * - Bounded: at most `maxBytes` queued across all files; beyond that a write waits for room.
 */
export class WriteBehindBackend extends BackendDecorator {
  private readonly queues = new Map<string, Queue>();
  /** Files a write has succeeded on, recently used ones kept: only these queue. */
  private readonly writable = new GenerationalCache<string, true>(MAX_KNOWN / 2);
  private queuedBytes = 0;
  private readonly roomWaiters: Array<() => void> = [];
  private readonly pool: BufferPool;
  private readonly maxBytes: number;
  private readonly minBytes: number;
  /** queued: writes answered before their data reached the backend; waited: writes that found no room. */
  readonly stats = { queued: 0, waited: 0, failed: 0 };

  constructor(inner: Backend, opts: { maxWrite?: number; maxBytes?: number; minBytes?: number } = {}) {
    super(inner);
    const maxWrite = opts.maxWrite ?? 1024 * 1024;
    this.maxBytes = Math.max(opts.maxBytes ?? 8 * 1024 * 1024, maxWrite);
    this.minBytes = opts.minBytes ?? 64 * 1024;
    this.pool = new BufferPool(maxWrite, Math.ceil(this.maxBytes / maxWrite) + 1);
    const lent = this.readLent;
    if (lent) {
      this.readLent = async (n, o, c) => {
        await this.settle(n);
        return lent(n, o, c);
      };
    }
    const spliced = this.readSpliced;
    if (spliced) {
      this.readSpliced = async (n, o, c) => {
        await this.settle(n);
        return spliced(n, o, c);
      };
    }
    const plus = this.readdirPlus;
    if (plus) {
      this.readdirPlus = async (d, c, l) => {
        await this.settleAll();
        return plus(d, c, l);
      };
    }
    const open = this.openFd;
    if (open) {
      this.openFd = async (n, m) => {
        await this.settle(n);
        return open(n, m);
      };
    }
    // The 4.2 calls see the file's data: its queued writes land first.
    this.guardData((n) => this.settle(n));
  }

  override async write(node: Node, offset: bigint, data: Buffer, stable: StableHow, keep?: () => () => void): Promise<WriteResult> {
    const k = node.key.toString('latin1');
    this.throwFailure(k);
    if (stable !== 'unstable' || data.length < this.minBytes || data.length > this.pool.size || this.writable.get(k) === undefined) {
      await this.settle(node);
      this.throwFailure(k);
      const r = await this.inner.write(node, offset, data, stable);
      this.writable.set(k, true);
      return r;
    }
    if (this.queuedBytes + data.length > this.maxBytes) {
      this.stats.waited++;
      while (this.queuedBytes > 0 && this.queuedBytes + data.length > this.maxBytes) {
        await new Promise<void>((r) => this.roomWaiters.push(r));
      }
      this.throwFailure(k);
    }
    // The caller's bytes when it lets us keep them (the RPC record), else a pooled copy.
    let bytes: Buffer;
    let done: () => void;
    if (keep !== undefined) {
      bytes = data;
      done = keep();
    } else {
      const buf = this.pool.acquire();
      data.copy(buf);
      bytes = buf.subarray(0, data.length);
      done = () => this.pool.release(buf);
    }
    this.queuedBytes += data.length;
    let q = this.queues.get(k);
    if (q === undefined) {
      q = { tail: Promise.resolve(), pending: 0 };
      this.queues.set(k, q);
    }
    const queue = q;
    queue.pending++;
    this.stats.queued++;
    queue.tail = queue.tail.then(async () => {
      try {
        await this.inner.write(node, offset, bytes, 'unstable');
      } catch (err) {
        this.stats.failed++;
        queue.error ??= err;
        this.writable.delete(k);
      } finally {
        done();
        this.queuedBytes -= bytes.length;
        queue.pending--;
        if (queue.pending === 0 && queue.error === undefined && this.queues.get(k) === queue) this.queues.delete(k);
        for (const w of this.roomWaiters.splice(0)) w();
      }
    });
    return { count: data.length, committed: 'unstable', queued: true };
  }

  override async commit(node: Node, offset: bigint, count: number): Promise<void> {
    await this.settle(node);
    this.throwFailure(node.key.toString('latin1'));
    return this.inner.commit(node, offset, count);
  }

  /** Wait until every write queued on `node` so far is done. */
  private async settle(node: Node): Promise<void> {
    if (this.queues.size === 0) return;
    const q = this.queues.get(node.key.toString('latin1'));
    if (q !== undefined && q.pending > 0) await q.tail;
  }

  /** Wait until every queued write is done (calls that see or change files by name). */
  private async settleAll(): Promise<void> {
    while (this.queuedBytes > 0) await Promise.all([...this.queues.values()].map((q) => q.tail));
  }

  /** A queued write of this file failed: report it (once) to this WRITE or COMMIT. */
  private throwFailure(k: string): void {
    const q = this.queues.get(k);
    if (q?.error === undefined) return;
    const err = q.error;
    q.error = undefined;
    if (q.pending === 0) this.queues.delete(k);
    throw err;
  }

  override async getattr(node: Node): Promise<Attrs> {
    await this.settle(node);
    return this.inner.getattr(node);
  }
  override async setattr(node: Node, set: SetAttrs): Promise<Attrs> {
    await this.settle(node);
    return this.inner.setattr(node, set);
  }
  override async read(node: Node, offset: bigint, into: Buffer): Promise<ReadResult> {
    await this.settle(node);
    return this.inner.read(node, offset, into);
  }
  override async remove(dir: Node, name: string): Promise<void> {
    await this.settleAll();
    return this.inner.remove(dir, name);
  }
  override async rename(fromDir: Node, fromName: string, toDir: Node, toName: string): Promise<void> {
    await this.settleAll();
    return this.inner.rename(fromDir, fromName, toDir, toName);
  }
  override async link(node: Node, dir: Node, name: string): Promise<void> {
    await this.settleAll();
    return this.inner.link(node, dir, name);
  }
  override async rmdir(dir: Node, name: string): Promise<void> {
    await this.settleAll();
    return this.inner.rmdir(dir, name);
  }
  override async readdir(dir: Node, cookie: bigint, limit: number): Promise<DirPage> {
    await this.settleAll();
    return this.inner.readdir(dir, cookie, limit);
  }
  /** Queued writes finish (their failures are dropped: nobody is left to commit), then the backend closes. */
  override async close(): Promise<void> {
    await this.settleAll();
    this.queues.clear();
    this.writable.clear();
    return this.inner.close();
  }
}
