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
import { readData } from '../../vfs/read.js';

/**
 * NFSPROC3_READ (3.3.6). The count is capped at rtmax (we advertised it in
 * FSINFO; a larger request just gets a short read). The data comes by
 * vfs/read.ts (spliced, lent or pooled) and leaves as a tail chunk of the
 * reply. eof is the backend's.
 *
 * The attributes are the ones the gate fetched: reading changes at most
 * atime, and skipping a second getattr saves a thread-pool round trip on the
 * hottest path.
 */

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
        const attrs = toFattr3(v.attrs, v.export);
        const d = await readData(v.export.backend, v.node, offset, count, pool);
        return { status: 0, attrs, count: d.count, eof: d.eof, data: d.data, spliced: d.spliced, release: d.release };
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
