import type { ProcedureDef } from '../../rpc/program.js';
import type { Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { FsstatArgs, FsstatRes } from '../types.js';
import { decodeFsstatArgs } from '../codec/args.js';
import { encodeFsstatRes } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { toNfsStat } from '../status.js';

/**
 * NFSPROC3_FSSTAT (3.3.18): space and inode counts from backend.statfs.
 * invarsec 0: the numbers change at any moment.
 */
export function fsstatProcedure(env: Nfs3Env): ProcedureDef<FsstatArgs, FsstatRes> {
  return {
    name: 'FSSTAT',
    decode: decodeFsstatArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.fsroot, callerOf(ctx));
        const s = await v.export.backend.statfs(v.node);
        return {
          status: 0,
          attrs: toFattr3(v.attrs, v.export),
          tbytes: s.totalBytes,
          fbytes: s.freeBytes,
          abytes: s.availBytes,
          tfiles: s.totalFiles,
          ffiles: s.freeFiles,
          afiles: s.availFiles,
          invarsec: 0,
        };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.fsroot, ctx, e);
        return { status: toNfsStat(e), attrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeFsstatRes,
    cache: 'none',
  };
}
