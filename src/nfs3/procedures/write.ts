import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { WriteArgs, WriteRes } from '../types.js';
import { makeDecodeWriteArgs } from '../codec/args.js';
import { encodeWriteRes } from '../codec/results.js';
import { EMPTY_WCC, toFattr3, toWccAttr, wccAfter } from '../attrs.js';
import { callerOf, reachableAfterRefusal, fromStorageStable, storageFailureResetsVerifier, toStorageStable } from '../common.js';
import { NFS3_OFFSET_MAX, Nfs3Stat, StableHow3, WRITE_SLACK } from '../constants.js';
import { toNfsStat } from '../status.js';

/**
 * NFSPROC3_WRITE (3.3.7).
 *
 * Honesty about stability: `committed` is what the backend says it achieved,
 * never more. On a "sync" export the client's stable_how is passed through;
 * on an "async" export the write is done UNSTABLE whatever was asked and
 * reported as UNSTABLE, so the client follows with a COMMIT instead of
 * believing data is durable (knfsd's async lies here; we do not).
 *
 * A storage failure resets the write verifier (knfsd does the same), so a
 * client holding uncommitted data from earlier WRITEs sees a new verifier at
 * its next WRITE/COMMIT and resends everything since its last COMMIT.
 */
export function writeProcedure(env: Nfs3Env): ProcedureDef<WriteArgs, WriteRes> {
  return {
    name: 'WRITE',
    decode: makeDecodeWriteArgs(env.wtmax + WRITE_SLACK),
    async handle(args, ctx) {
      let v: Verified;
      try {
        v = await env.gate.verify(args.file, callerOf(ctx), { type: 'reg', may: May.WRITE });
      } catch (e) {
        const seen = await reachableAfterRefusal(env.gate, args.file, ctx, e);
        return { status: toNfsStat(e), wcc: seen ? await wccAfter(seen.export, seen.node, seen.attrs) : EMPTY_WCC };
      }
      const exp = v.export;
      if (args.offset + BigInt(args.count) > NFS3_OFFSET_MAX) {
        const same = toFattr3(v.attrs, exp);
        return { status: Nfs3Stat.FBIG, wcc: { before: toWccAttr(v.attrs), after: same } };
      }
      const asked = v.options.sync ? args.stable : StableHow3.UNSTABLE;
      try {
        const r = await exp.backend.write(v.node, args.offset, args.data, toStorageStable(asked));
        const wcc = await wccAfter(exp, v.node, v.attrs);
        // Read after the write: a verifier reset by a concurrent failure must not be hidden.
        const verf = Buffer.from(env.writeVerifier());
        return { status: 0, wcc, count: r.count, committed: fromStorageStable(r.committed), verf };
      } catch (e) {
        if (storageFailureResetsVerifier(e)) env.resetWriteVerifier();
        const status = toNfsStat(e);
        return { status, wcc: await wccAfter(exp, v.node, v.attrs) };
      }
    },
    encode: encodeWriteRes,
    cache: 'reply',
  };
}
