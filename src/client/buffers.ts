/**
 * Recycled data buffers of the client's data path, and the leases that say
 * when one may be reused.
 *
 * Copies of UNSTABLE writes, local and over the wire: the caller may reuse its
 * buffer as soon as write() resolves, so the bytes are copied — and kept until
 * a COMMIT with a matching verifier says they are safe (RFC 1813 §3.3.21;
 * uncommitted.ts). A WRITE over the wire sends the copy itself (chunks lent
 * to the transport: RpcTransport.call). A fresh 1 MiB Buffer for every such copy cost 0.8–1.1 ms on
 * the bench VM (new memory: 256 page faults) against 35–50 µs for a copy into a
 * reused buffer: that difference was the whole gap between 1 MiB LOCALIO
 * writes and raw `fs` writes, and most of the client's CPU in a 1 GiB copy
 * over the wire. The ranges cut from one copy share its lease, and the buffer
 * goes back to its pool when the last of them is dropped (committed,
 * overwritten or truncated away).
 *
 * Pieces read locally (io.ts readPiece: readFile, streams, the CLI's cp): the
 * piece's release() gives the buffer back. Pool buffers are page-aligned,
 * which also makes the kernel's copy from the page cache several times
 * cheaper than into Node's malloc'd buffers (util/bufpool.ts).
 *
 * Buffers of more than MIN_POOLED bytes come from pools of power-of-two
 * classes up to 1 MiB; smaller and larger ones are plain buffers, with no
 * lease.
 */
import { BufferPool } from '../util/bufpool.js';

/** Buffers up to this size are plain (small allocations come from Node's own pool or are cheap). */
const MIN_POOLED = 64 * 1024;
/** The largest pooled class; anything larger (a local write of a whole big buffer) is a plain buffer. */
const MAX_POOLED = 1024 * 1024;
/** Buffers per class that are always recycled (more when the owner says it holds more at once). */
const PER_CLASS = 16;

/** One pooled buffer shared by its holders (the uncommitted ranges viewing parts of a copy, a read piece). */
export class Lease {
  private refs = 1;

  constructor(
    private readonly pool: BufferPool,
    private readonly buf: Buffer,
  ) {}

  /** Another holder (a range cut from the first) now views the buffer. */
  retain(): void {
    if (this.refs > 0) this.refs++;
  }

  /** A holder let go; the last one gives the buffer back. Extra calls do nothing. */
  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) this.pool.release(this.buf);
  }

  /** Holders left (for tests). */
  get holders(): number {
    return this.refs;
  }
}

export interface Held {
  data: Buffer;
  /** Present when `data` lives in a pooled buffer: release it once the bytes are no longer needed. */
  lease?: Lease;
}

export class ClientBuffers {
  /** By class size (a power of two from 128 KiB to 1 MiB), made on first use. */
  private readonly pools = new Map<number, BufferPool>();

  /**
   * `holdBytes`: how much may be held at once (a client: its uncommitted limit plus the WRITEs in
   * flight); each class recycles that much, at least PER_CLASS buffers. Pool memory is made only
   * as it is first needed, and goes with the client.
   */
  constructor(private readonly holdBytes = 0) {}

  /** `n` unzeroed bytes, valid until their lease (if any) is released. */
  take(n: number): Held {
    if (n <= MIN_POOLED || n > MAX_POOLED) return { data: Buffer.allocUnsafe(n) };
    const size = 2 ** Math.ceil(Math.log2(n));
    let pool = this.pools.get(size);
    if (pool === undefined) this.pools.set(size, (pool = new BufferPool(size, Math.max(PER_CLASS, Math.ceil(this.holdBytes / size)))));
    const buf = pool.acquire();
    return { data: buf.subarray(0, n), lease: new Lease(pool, buf) };
  }

  /** A copy of `src`, valid until its lease (if any) is released. */
  copy(src: Uint8Array): Held {
    const h = this.take(src.byteLength);
    h.data.set(src);
    return h;
  }

  /** Buffers waiting in the pools (for tests). */
  get idle(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.idle;
    return n;
  }
}
