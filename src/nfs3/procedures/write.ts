import type { ProcedureDef } from '../../rpc/program.js';
import type { Nfs3Env } from '../env.js';
import type { WriteArgs, WriteRes } from '../types.js';
import { makeDecodeWriteArgs, seekWriteData } from '../codec/args.js';
import { encodeWriteRes } from '../codec/results.js';
import { toFattr3, toWccAttr, wccAfter } from '../attrs.js';
import { fromStorageStable, toStorageStable } from '../common.js';
import { verifyForWrite, writeFailure } from '../write-common.js';
import { modeBeforeWrite } from '../../export/setid.js';
import { NFS3_OFFSET_MAX, Nfs3Stat, StableHow3, WRITE_SLACK } from '../constants.js';

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
    bytes: (res) => (res.status === 0 ? res.count : 0),
    async handle(args, ctx) {
      const v = await verifyForWrite(env, args.file, ctx);
      if ('status' in v) return v;
      const exp = v.export;
      if (args.offset + BigInt(args.count) > NFS3_OFFSET_MAX) {
        const same = toFattr3(v.attrs, exp);
        return { status: Nfs3Stat.FBIG, wcc: { before: toWccAttr(v.attrs), after: same } };
      }
      const asked = v.options.sync ? args.stable : StableHow3.UNSTABLE;
      try {
        // A write by a caller without CAP_FSETID drops the file's set-id bits first (file_remove_privs).
        const kept = modeBeforeWrite(v.attrs, v.identity);
        if (kept !== undefined) await exp.backend.setattr(v.node, { mode: kept });
        // ctx.keepArgs: a backend that queues the data takes the record's bytes instead of copying them.
        const r = await exp.backend.write(v.node, args.offset, args.data, toStorageStable(asked), ctx.keepArgs);
        // Queued (write-behind): the attributes after it are not known yet; asking would wait for it.
        const wcc = r.queued ? { before: toWccAttr(v.attrs), after: undefined } : await wccAfter(exp, v.node, v.attrs);
        // Read after the write: a verifier reset by a concurrent failure must not be hidden.
        // (The verifier buffer is replaced on reset, never changed in place: no copy needed.)
        return { status: 0, wcc, count: r.count, committed: fromStorageStable(r.committed), verf: env.writeVerifier() };
      } catch (e) {
        return writeFailure(env, v, e);
      }
    },
    encode: encodeWriteRes,
    // The data lands page-aligned in the record, so the backend can write it with direct I/O.
    seekPayload: seekWriteData,
    cache: 'reply',
  };
}
