import type { ProcedureDef } from '../../rpc/program.js';
import type { Node } from '../../storage/types.js';
import type { Nfs3Env } from '../env.js';
import type { CreateArgs, CreateRes } from '../types.js';
import { decodeCreateArgs } from '../codec/args.js';
import { encodeDirCreateRes } from '../codec/results.js';
import { CreateMode3 } from '../constants.js';
import { toSetAttrs } from '../sattr.js';
import { checkNewName, createIn } from '../create-common.js';
import { createExclusive, createNew, createUnchecked } from '../../vfs/create.js';

export { verifierTimes } from '../../vfs/create.js';

/**
 * NFSPROC3_CREATE (3.3.8) of a regular file, in the three modes:
 * UNCHECKED (reuse an existing regular file, truncating if asked), GUARDED
 * (EXIST if the name exists) and EXCLUSIVE (idempotent through the verifier).
 * New files are owned per ownerFor (setgid directories give their group).
 */
export function createProcedure(env: Nfs3Env): ProcedureDef<CreateArgs, CreateRes> {
  return {
    name: 'CREATE',
    decode: decodeCreateArgs,
    handle: (args, ctx) =>
      createIn(env, ctx, args.where.dir, async (dir) => {
        const name = args.where.name;
        checkNewName(name);
        const how = args.how;
        let node: Node;
        if (how.mode === CreateMode3.EXCLUSIVE) node = (await createExclusive(dir, name, how.verf)).node;
        else if (how.mode === CreateMode3.GUARDED) node = await createNew(dir, name, toSetAttrs(how.attrs));
        else node = (await createUnchecked(dir, name, toSetAttrs(how.attrs))).node;
        return node;
      }),
    encode: encodeDirCreateRes,
    cache: 'reply',
  };
}
