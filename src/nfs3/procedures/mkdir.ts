import type { ProcedureDef } from '../../rpc/program.js';
import type { Nfs3Env } from '../env.js';
import type { MkdirArgs, MkdirRes } from '../types.js';
import { decodeMkdirArgs } from '../codec/args.js';
import { encodeDirCreateRes } from '../codec/results.js';
import {
  applyAfterCreate, checkNewName, createIn, newMode, newOwner,
} from '../create-common.js';

/** NFSPROC3_MKDIR (3.3.9). A size in the sattr3 is ignored (knfsd clears it). */
export function mkdirProcedure(env: Nfs3Env): ProcedureDef<MkdirArgs, MkdirRes> {
  return {
    name: 'MKDIR',
    decode: decodeMkdirArgs,
    handle: (args, ctx) =>
      createIn(env, ctx, args.where.dir, async (dir) => {
        checkNewName(args.where.name);
        const s = args.attrs;
        const node = await dir.export.backend.mkdir(dir.node, args.where.name, newMode(s), newOwner(dir, s));
        await applyAfterCreate(dir, node, s, false);
        return node;
      }),
    encode: encodeDirCreateRes,
    cache: 'reply',
  };
}
