import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { RenameArgs, RenameRes, WccData } from '../types.js';
import { renameEntry } from '../../vfs/dirops.js';
import { decodeRenameArgs } from '../codec/args.js';
import { encodeRenameRes } from '../codec/results.js';
import { EMPTY_WCC, wccAfter } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { toNfsStat } from '../status.js';

function wcc(dir: Verified | undefined): Promise<WccData> | WccData {
  return dir ? wccAfter(dir.export, dir.node, dir.attrs) : EMPTY_WCC;
}

/**
 * NFSPROC3_RENAME (3.3.14). Both directories need write and search
 * permission; "." and ".." on either side are INVAL; crossing exports is
 * XDEV (each export is its own file system to the client). The sticky bit
 * applies to the source and to a target being replaced; moving a directory
 * to another parent needs write permission on it (its ".." changes), as in
 * Linux's may_rename. Replacement rules (dir over non-dir etc.) are the
 * backend's, which follows rename(2).
 */
export function renameProcedure(env: Nfs3Env): ProcedureDef<RenameArgs, RenameRes> {
  return {
    name: 'RENAME',
    decode: decodeRenameArgs,
    async handle(args, ctx) {
      let from: Verified | undefined;
      let to: Verified | undefined;
      try {
        const want = { type: 'dir', may: May.WRITE | May.EXEC } as const;
        from = await env.gate.verify(args.from.dir, callerOf(ctx), want);
        to = await env.gate.verify(args.to.dir, callerOf(ctx), want);
        await renameEntry(from, args.from.name, to, args.to.name);
        const [fromDirWcc, toDirWcc] = await Promise.all([wcc(from), wcc(to)]);
        return { status: 0, fromDirWcc, toDirWcc };
      } catch (e) {
        if (!from) from = await reachableAfterRefusal(env.gate, args.from.dir, ctx, e);
        else if (!to) to = await reachableAfterRefusal(env.gate, args.to.dir, ctx, e);
        const status = toNfsStat(e);
        const [fromDirWcc, toDirWcc] = await Promise.all([wcc(from), wcc(to)]);
        return { status, fromDirWcc, toDirWcc };
      }
    },
    encode: encodeRenameRes,
    cache: 'reply',
  };
}
