import { isUtf8 } from 'node:buffer';
import type { ProcedureDef } from '../../rpc/program.js';
import type { Nfs3Env } from '../env.js';
import type { SymlinkArgs, SymlinkRes } from '../types.js';
import { decodeSymlinkArgs } from '../codec/args.js';
import { encodeDirCreateRes } from '../codec/results.js';
import { refuse } from '../status.js';
import { NFS3_MAXPATHLEN } from '../constants.js';
import {
  applyAfterCreate, checkNewName, createIn, newOwner,
} from '../create-common.js';

/**
 * A symlink target must be non-empty, at most NFS3_MAXPATHLEN bytes, and free
 * of NUL (knfsd answers INVAL, NAMETOOLONG, INVAL, as symlink(2) would; the
 * filesystem may still refuse a long one, ext4 beyond 4,095 bytes); it must
 * also be UTF-8 because the backend takes a string and a lossy conversion
 * would store a different target.
 */
function targetOf(raw: Buffer): string {
  if (raw.length === 0) refuse('EINVAL', 'empty symlink target');
  if (raw.length > NFS3_MAXPATHLEN) refuse('ENAMETOOLONG', `symlink target of ${raw.length} bytes`);
  if (raw.indexOf(0) !== -1) refuse('EINVAL', 'symlink target contains NUL');
  if (!isUtf8(raw)) refuse('EINVAL', 'symlink target is not UTF-8');
  return raw.toString('utf8');
}

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
        const target = targetOf(args.target);
        const s = args.attrs;
        const node = await dir.export.backend.symlink(dir.node, args.where.name, target, 0o777, newOwner(dir, s));
        await applyAfterCreate(dir, node, s, false);
        return node;
      }),
    encode: encodeDirCreateRes,
    cache: 'reply',
  };
}
