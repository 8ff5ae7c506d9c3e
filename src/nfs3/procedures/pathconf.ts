import type { ProcedureDef } from '../../rpc/program.js';
import type { Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { PathconfArgs, PathconfRes } from '../types.js';
import { decodePathconfArgs } from '../codec/args.js';
import { encodePathconfRes } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { NFS3_MAXNAMLEN } from '../constants.js';
import { toNfsStat } from '../status.js';

/** ext4's link limit; knfsd reports the underlying file system's (ext4: 65000). */
const LINK_MAX = 65000;

/**
 * NFSPROC3_PATHCONF (3.3.20): POSIX pathconf values. Long names are refused
 * (no_trunc), only root may chown (chown_restricted), names are case
 * sensitive and preserved.
 */
export function pathconfProcedure(env: Nfs3Env): ProcedureDef<PathconfArgs, PathconfRes> {
  return {
    name: 'PATHCONF',
    decode: decodePathconfArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.object, callerOf(ctx));
        return {
          status: 0,
          attrs: toFattr3(v.attrs, v.export),
          linkmax: LINK_MAX,
          nameMax: NFS3_MAXNAMLEN,
          noTrunc: true,
          chownRestricted: true,
          caseInsensitive: false,
          casePreserving: true,
        };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.object, ctx, e);
        return { status: toNfsStat(e), attrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodePathconfRes,
    cache: 'none',
  };
}
