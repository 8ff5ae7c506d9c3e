import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { ReadArgs, ReadRes } from '../types.js';
import { decodeReadArgs } from '../codec/args.js';
import { encodeReadRes } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { NFS3_OFFSET_MAX } from '../constants.js';
import { toNfsStat } from '../status.js';
import { BufferPool } from '../../util/bufpool.js';

/**
 * NFSPROC3_READ (3.3.6). The count is capped at rtmax (we advertised it in
 * FSINFO; a larger request just gets a short read). Large reads take the
 * backend's cheapest way: data spliced into a pipe (never copied by us), a
 * buffer it lends, or a pooled buffer; small ones a small buffer. The data
 * leaves as a tail chunk of the reply; only the bytes actually read are sent,
 * so an unzeroed buffer leaks nothing. eof is the backend's.
 *
 * The attributes are the ones the gate fetched: reading changes at most
 * atime, and skipping a second getattr saves a thread-pool round trip on the
 * hottest path.
 */
const EMPTY = Buffer.alloc(0);
/** Reads above this size take the zero-copy or pooled ways; smaller ones a small buffer of their own. */
const LARGE_READ = 64 * 1024;

export function readProcedure(env: Nfs3Env): ProcedureDef<ReadArgs, ReadRes> {
  // Reply buffers are recycled once the socket has the bytes (see BufferPool).
  const pool = new BufferPool(env.rtmax, 64);
  return {
    name: 'READ',
    decode: decodeReadArgs,
    bytes: (res) => (res.status === 0 ? res.count : 0),
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.file, callerOf(ctx), { type: 'reg', may: May.READ });
        // knfsd clamps offset and count to OFFSET_MAX rather than failing.
        const offset = args.offset > NFS3_OFFSET_MAX ? NFS3_OFFSET_MAX : args.offset;
        let count = Math.min(args.count, env.rtmax);
        if (offset + BigInt(count) > NFS3_OFFSET_MAX) count = Number(NFS3_OFFSET_MAX - offset);
        const b = v.export.backend;
        const attrs = toFattr3(v.attrs, v.export);
        const large = count > LARGE_READ;
        // Zero copy: the data in a pipe, spliced from the page cache to the socket by the connection.
        if (b.readSpliced && large) {
          const s = await b.readSpliced(v.node, offset, count);
          if (s !== undefined) return { status: 0, attrs, count: s.length, eof: s.eof, data: EMPTY, spliced: s, release: () => s.release() };
        }
        // Zero copy when the backend can lend its buffer (the read-ahead's).
        if (b.readLent && large) {
          const lent = await b.readLent(v.node, offset, count);
          return { status: 0, attrs, count: lent.data.length, eof: lent.eof, data: lent.data, release: lent.release };
        }
        // Small reads take a small buffer; large ones a pooled rtmax buffer.
        const pooled = large ? pool.acquire() : undefined;
        const buf = pooled ? pooled.subarray(0, count) : Buffer.allocUnsafe(count);
        let r;
        try {
          r = await b.read(v.node, offset, buf);
        } catch (err) {
          if (pooled) pool.release(pooled);
          throw err;
        }
        const data = buf.subarray(0, r.bytesRead);
        return { status: 0, attrs, count: data.length, eof: r.eof, data, release: pooled && (() => pool.release(pooled)) };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.file, ctx, e);
        return { status: toNfsStat(e), attrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeReadRes,
    cache: 'none',
    release(res) {
      if (res.status === 0) res.release?.();
    },
  };
}
