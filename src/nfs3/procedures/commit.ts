import type { ProcedureDef } from '../../rpc/program.js';
import type { Nfs3Env } from '../env.js';
import type { CommitArgs, CommitRes } from '../types.js';
import { decodeCommitArgs } from '../codec/args.js';
import { encodeCommitRes } from '../codec/results.js';
import { toFattr3, toWccAttr, wccAfter } from '../attrs.js';
import { verifyForWrite, writeFailure } from '../write-common.js';
import { NFS3_OFFSET_MAX, Nfs3Stat } from '../constants.js';

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
      const v = await verifyForWrite(env, args.file, ctx);
      if ('status' in v) return v;
      const exp = v.export;
      if (args.offset > NFS3_OFFSET_MAX) {
        return { status: Nfs3Stat.INVAL, wcc: { before: toWccAttr(v.attrs), after: toFattr3(v.attrs, exp) } };
      }
      try {
        await exp.backend.commit(v.node, args.offset, args.count);
        const wcc = await wccAfter(exp, v.node, v.attrs);
        return { status: 0, wcc, verf: env.writeVerifier() };
      } catch (e) {
        return writeFailure(env, v, e);
      }
    },
    encode: encodeCommitRes,
    cache: 'none',
  };
}
