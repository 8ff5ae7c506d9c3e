import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { RmdirArgs, RmdirRes } from '../types.js';
import { removeEntry } from '../../vfs/dirops.js';
import { decodeRmdirArgs } from '../codec/args.js';
import { encodeRmdirRes } from '../codec/results.js';
import { EMPTY_WCC, wccAfter } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { toNfsStat } from '../status.js';

/**
 * NFSPROC3_RMDIR (3.3.13). "." is INVAL and ".." NOTEMPTY (what rmdir(2)
 * answers for them on Linux); a non-directory is NOTDIR; the sticky bit is
 * honoured.
 */
export function rmdirProcedure(env: Nfs3Env): ProcedureDef<RmdirArgs, RmdirRes> {
  return {
    name: 'RMDIR',
    decode: decodeRmdirArgs,
    async handle(args, ctx) {
      let dir: Verified | undefined;
      try {
        dir = await env.gate.verify(args.object.dir, callerOf(ctx), { type: 'dir', may: May.WRITE | May.EXEC });
        await removeEntry(dir, args.object.name, 'dir');
        return { status: 0, dirWcc: await wccAfter(dir.export, dir.node, dir.attrs) };
      } catch (e) {
        dir ??= await reachableAfterRefusal(env.gate, args.object.dir, ctx, e);
        const status = toNfsStat(e);
        return { status, dirWcc: dir ? await wccAfter(dir.export, dir.node, dir.attrs) : EMPTY_WCC };
      }
    },
    encode: encodeRmdirRes,
    cache: 'reply',
  };
}
