import type { ProcedureDef } from '../../rpc/program.js';
import type { Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { ReadlinkArgs, ReadlinkRes } from '../types.js';
import { decodeReadlinkArgs } from '../codec/args.js';
import { encodeReadlinkRes } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { toNfsStat } from '../status.js';

/** NFSPROC3_READLINK (3.3.5): the target of a symlink (INVAL for any other type, as knfsd). */
export function readlinkProcedure(env: Nfs3Env): ProcedureDef<ReadlinkArgs, ReadlinkRes> {
  return {
    name: 'READLINK',
    decode: decodeReadlinkArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.symlink, callerOf(ctx), { type: 'lnk' });
        const data = await v.export.backend.readlink(v.node);
        return { status: 0, attrs: toFattr3(v.attrs, v.export), data };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.symlink, ctx, e);
        return { status: toNfsStat(e), attrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeReadlinkRes,
    cache: 'none',
  };
}
