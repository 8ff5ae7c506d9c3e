import type { ProcedureDef } from '../../rpc/program.js';
import type { Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import { reachableAfterRefusal } from '../common.js';
import type { MkdirArgs, MkdirRes } from '../types.js';
import { decodeMkdirArgs } from '../codec/args.js';
import { encodeDirCreateRes } from '../codec/results.js';
import {
  applyAfterCreate, checkNewName, createdRes, createFailRes, newMode, newOwner, verifyParent,
} from '../create-common.js';

/** NFSPROC3_MKDIR (3.3.9). A size in the sattr3 is ignored (knfsd clears it). */
export function mkdirProcedure(env: Nfs3Env): ProcedureDef<MkdirArgs, MkdirRes> {
  return {
    name: 'MKDIR',
    decode: decodeMkdirArgs,
    async handle(args, ctx) {
      let dir: Verified | undefined;
      try {
        dir = await verifyParent(env, ctx, args.where.dir);
        checkNewName(args.where.name);
        const s = args.attrs;
        const node = await dir.export.backend.mkdir(dir.node, args.where.name, newMode(s), newOwner(dir, s));
        await applyAfterCreate(dir, node, s, false);
        return await createdRes(env, dir, node);
      } catch (e) {
        dir ??= await reachableAfterRefusal(env.gate, args.where.dir, ctx, e);
        return createFailRes(dir, e);
      }
    },
    encode: encodeDirCreateRes,
    cache: 'reply',
  };
}
