import type { ProcedureDef } from '../../rpc/program.js';
import type { Nfs3Env } from '../env.js';
import type { SymlinkArgs, SymlinkRes } from '../types.js';
import { decodeSymlinkArgs } from '../codec/args.js';
import { encodeDirCreateRes } from '../codec/results.js';
import { symlinkTarget } from '../../vfs/create.js';
import { NFS3_MAXPATHLEN } from '../constants.js';
import {
  applyAfterCreate, checkNewName, createIn, newOwner,
} from '../create-common.js';


/**
 * NFSPROC3_SYMLINK (3.3.10). The mode of a symlink means nothing on Linux;
 * it is created 0777 like knfsd's. The target is stored as given: never
 * interpreted or followed by the server.
 */
export function symlinkProcedure(env: Nfs3Env): ProcedureDef<SymlinkArgs, SymlinkRes> {
  return {
    name: 'SYMLINK',
    decode: decodeSymlinkArgs,
    handle: (args, ctx) =>
      createIn(env, ctx, args.where.dir, async (dir) => {
        checkNewName(args.where.name);
        const target = symlinkTarget(args.target, NFS3_MAXPATHLEN);
        const s = args.attrs;
        const node = await dir.export.backend.symlink(dir.node, args.where.name, target, 0o777, newOwner(dir, s));
        await applyAfterCreate(dir, node, s, false);
        return node;
      }),
    encode: encodeDirCreateRes,
    cache: 'reply',
  };
}
