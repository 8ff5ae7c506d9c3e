import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { RemoveArgs, RemoveRes } from '../types.js';
import { removeEntry } from '../../vfs/dirops.js';
import { decodeRemoveArgs } from '../codec/args.js';
import { encodeRemoveRes } from '../codec/results.js';
import { EMPTY_WCC, wccAfter } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { toNfsStat } from '../status.js';

/**
 * NFSPROC3_REMOVE (3.3.12) of a non-directory. "." and ".." are INVAL; a
 * directory is ISDIR (unlink(2) on Linux); the sticky bit is honoured.
 */
export function removeProcedure(env: Nfs3Env): ProcedureDef<RemoveArgs, RemoveRes> {
  return {
    name: 'REMOVE',
    decode: decodeRemoveArgs,
    async handle(args, ctx) {
      let dir: Verified | undefined;
      try {
        dir = await env.gate.verify(args.object.dir, callerOf(ctx), { type: 'dir', may: May.WRITE | May.EXEC });
        await removeEntry(dir, args.object.name, 'file');
        return { status: 0, dirWcc: await wccAfter(dir.export, dir.node, dir.attrs) };
      } catch (e) {
        dir ??= await reachableAfterRefusal(env.gate, args.object.dir, ctx, e);
        const status = toNfsStat(e);
        return { status, dirWcc: dir ? await wccAfter(dir.export, dir.node, dir.attrs) : EMPTY_WCC };
      }
    },
    encode: encodeRemoveRes,
    cache: 'reply',
  };
}
