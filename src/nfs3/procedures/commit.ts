import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { CommitArgs, CommitRes } from '../types.js';
import { decodeCommitArgs } from '../codec/args.js';
import { encodeCommitRes } from '../codec/results.js';
import { EMPTY_WCC, toFattr3, toWccAttr, wccAfter } from '../attrs.js';
import { callerOf, reachableAfterRefusal, storageFailureResetsVerifier } from '../common.js';
import { NFS3_OFFSET_MAX, Nfs3Stat } from '../constants.js';
import { toNfsStat } from '../status.js';

/**
 * NFSPROC3_COMMIT (3.3.21): make data written UNSTABLE durable (fsync) and
 * answer the write verifier. Always syncs, even on an "async" export: async
 * WRITEs are reported UNSTABLE, so COMMIT is the only point at which data
 * becomes durable, and answering NFS3_OK without it would be a lie. An fsync
 * failure is reported (mapped errno, typically IO) and resets the verifier,
 * so the client resends.
 */
export function commitProcedure(env: Nfs3Env): ProcedureDef<CommitArgs, CommitRes> {
  return {
    name: 'COMMIT',
    decode: decodeCommitArgs,
    async handle(args, ctx) {
      let v: Verified;
      try {
        v = await env.gate.verify(args.file, callerOf(ctx), { type: 'reg', may: May.WRITE });
      } catch (e) {
        const seen = await reachableAfterRefusal(env.gate, args.file, ctx, e);
        return { status: toNfsStat(e), wcc: seen ? await wccAfter(seen.export, seen.node, seen.attrs) : EMPTY_WCC };
      }
      const exp = v.export;
      if (args.offset > NFS3_OFFSET_MAX) {
        return { status: Nfs3Stat.INVAL, wcc: { before: toWccAttr(v.attrs), after: toFattr3(v.attrs, exp) } };
      }
      try {
        await exp.backend.commit(v.node, args.offset, args.count);
        const wcc = await wccAfter(exp, v.node, v.attrs);
        return { status: 0, wcc, verf: Buffer.from(env.writeVerifier()) };
      } catch (e) {
        if (storageFailureResetsVerifier(e)) env.resetWriteVerifier();
        const status = toNfsStat(e);
        return { status, wcc: await wccAfter(exp, v.node, v.attrs) };
      }
    },
    encode: encodeCommitRes,
    cache: 'none',
  };
}
