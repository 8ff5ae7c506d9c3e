/**
 * READ's data path, for any NFS version: large reads take the backend's cheapest way — data
 * spliced into a pipe (never copied by us), a buffer it lends, or a pooled buffer; small ones a
 * small buffer. The caller sends the data as a tail chunk of its reply and calls `release` once
 * the socket has it. Only the bytes actually read are sent, so an unzeroed buffer leaks nothing.
 */
import type { ReplyTail } from '../rpc/program.js';
import type { Backend, Node } from '../storage/types.js';
import type { BufferPool } from '../util/bufpool.js';

/** Reads above this size take the zero-copy or pooled ways; smaller ones a small buffer of their own. */
export const LARGE_READ = 64 * 1024;

const EMPTY = Buffer.alloc(0);

export interface ReadData {
  /** The bytes (empty when `spliced` carries them). */
  data: Buffer;
  /** The bytes in a kernel pipe instead: a reply tail, sent without a copy. */
  spliced?: ReplyTail;
  count: number;
  eof: boolean;
  /** Give the buffer or pipe behind the data back (once the reply is sent). */
  release?: () => void;
}

/**
 * Read up to `count` bytes at `offset`. `allowSplice` false when the reply already carries a
 * tail (one socket write carries one). `pool` holds buffers of at least `count` bytes.
 */
export async function readData(
  b: Backend,
  node: Node,
  offset: bigint,
  count: number,
  pool: BufferPool,
  allowSplice = true,
): Promise<ReadData> {
  const large = count > LARGE_READ;
  // Zero copy: the data in a pipe, spliced from the page cache to the socket by the connection.
  if (b.readSpliced && large && allowSplice) {
    const s = await b.readSpliced(node, offset, count);
    if (s !== undefined) return { data: EMPTY, spliced: s, count: s.length, eof: s.eof, release: () => s.release() };
  }
  // Zero copy when the backend can lend its buffer (the read-ahead's).
  if (b.readLent && large) {
    const lent = await b.readLent(node, offset, count);
    return { data: lent.data, count: lent.data.length, eof: lent.eof, release: lent.release };
  }
  // Small reads take a small buffer; large ones a pooled buffer.
  const pooled = large && count <= pool.size ? pool.acquire() : undefined;
  const buf = pooled ? pooled.subarray(0, count) : Buffer.allocUnsafe(count);
  let r;
  try {
    r = await b.read(node, offset, buf);
  } catch (err) {
    if (pooled) pool.release(pooled);
    throw err;
  }
  const data = buf.subarray(0, r.bytesRead);
  return { data, count: data.length, eof: r.eof, release: pooled && (() => pool.release(pooled)) };
}
