/**
 * The copies a LOCALIO client keeps of its UNSTABLE writes. Over the wire the
 * uncommitted bytes are views of the WRITE messages already built; a local
 * write has no message, and the caller may reuse its buffer as soon as
 * write() resolves, so the bytes are copied — until a COMMIT with a matching
 * verifier says they are safe (RFC 1813 §3.3.21; uncommitted.ts).
 *
 * A fresh 1 MiB Buffer for every such copy cost 0.8–1.1 ms on the bench VM
 * (new memory: 256 page faults) against 35–50 µs for a copy into a reused
 * buffer, and that difference was the whole gap between 1 MiB LOCALIO
 * writes and raw `fs` writes. So copies of more than MIN_POOLED bytes go into
 * pooled buffers (power-of-two classes up to 1 MiB, util/bufpool.ts), each
 * with a lease: the ranges cut from one copy share it, and the buffer goes
 * back to its pool when the last of them is dropped (committed, overwritten
 * or truncated away). Small copies and copies over 1 MiB are plain buffers.
 */
import { BufferPool } from '../util/bufpool.js';

/** Copies up to this size are plain buffers (small allocations come from Node's own pool or are cheap). */
const MIN_POOLED = 64 * 1024;
/** The largest pooled class; a larger write (one local pwrite of a whole buffer) is copied plainly. */
const MAX_POOLED = 1024 * 1024;
/** Buffers per class that are ever carved: at most 16 MiB of 1 MiB copies, less for the smaller classes. */
const PER_CLASS = 16;

/** One pooled buffer shared by the uncommitted ranges that hold parts of it. */
export class Lease {
  private refs = 1;

  constructor(
    private readonly pool: BufferPool,
    private readonly buf: Buffer,
  ) {}

  /** Another range now holds part of the buffer. */
  retain(): void {
    if (this.refs > 0) this.refs++;
  }

  /** A range let go; the last one gives the buffer back. Extra calls do nothing. */
  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) this.pool.release(this.buf);
  }

  /** Holders left (for tests). */
  get holders(): number {
    return this.refs;
  }
}

export interface Copy {
  data: Buffer;
  /** Present when `data` lives in a pooled buffer: release it once the bytes are no longer needed. */
  lease?: Lease;
}

export class CopyPool {
  /** By class size (a power of two from 128 KiB to 1 MiB), made on first use. */
  private readonly pools = new Map<number, BufferPool>();

  /** A copy of `src` that stays valid until its lease (if any) is released. */
  copy(src: Uint8Array): Copy {
    const n = src.byteLength;
    if (n <= MIN_POOLED || n > MAX_POOLED) return { data: Buffer.from(src) };
    const size = 2 ** Math.ceil(Math.log2(n));
    let pool = this.pools.get(size);
    if (pool === undefined) this.pools.set(size, (pool = new BufferPool(size, PER_CLASS)));
    const buf = pool.acquire();
    buf.set(src);
    return { data: buf.subarray(0, n), lease: new Lease(pool, buf) };
  }

  /** Buffers waiting in the pools (for tests and status). */
  get idle(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.idle;
    return n;
  }
}
