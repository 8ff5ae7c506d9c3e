import type { ProcedureDef } from '../../rpc/program.js';
import type { Verified } from '../../export/types.js';
import { accessMask } from '../../export/permission.js';
import type { Nfs3Env } from '../env.js';
import type { AccessArgs, AccessRes } from '../types.js';
import { decodeAccessArgs } from '../codec/args.js';
import { encodeAccessRes } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { toNfsStat } from '../status.js';

/**
 * NFSPROC3_ACCESS (3.3.4): which of the requested ACCESS3 bits the caller
 * has. Never fails for lack of permission: it answers with fewer bits.
 */
export function accessProcedure(env: Nfs3Env): ProcedureDef<AccessArgs, AccessRes> {
  return {
    name: 'ACCESS',
    decode: decodeAccessArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.object, callerOf(ctx));
        const access = accessMask(v.attrs, v.identity, v.options.readOnly, args.access);
        return { status: 0, objAttrs: toFattr3(v.attrs, v.export), access };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.object, ctx, e);
        return { status: toNfsStat(e), objAttrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeAccessRes,
    cache: 'none',
  };
}
