import type { ProcedureDef } from '../../rpc/program.js';
import type { Nfs3Env } from '../env.js';
import type { MknodArgs, MknodRes } from '../types.js';
import { decodeMknodArgs } from '../codec/args.js';
import { encodeDirCreateRes } from '../codec/results.js';
import { Ftype3 } from '../constants.js';
import { refuse } from '../status.js';
import {
  applyAfterCreate, checkNewName, createIn, newMode, newOwner,
} from '../create-common.js';

const KIND = { [Ftype3.BLK]: 'blk', [Ftype3.CHR]: 'chr', [Ftype3.SOCK]: 'sock', [Ftype3.FIFO]: 'fifo' } as const;

/**
 * NFSPROC3_MKNOD (3.3.11): devices, sockets and FIFOs. Regular files,
 * directories and symlinks have their own procedures: BADTYPE. Device nodes
 * need root (CAP_MKNOD on Linux): anyone else gets PERM before the backend
 * is asked.
 */
export function mknodProcedure(env: Nfs3Env): ProcedureDef<MknodArgs, MknodRes> {
  return {
    name: 'MKNOD',
    decode: decodeMknodArgs,
    handle: (args, ctx) =>
      createIn(env, ctx, args.where.dir, async (dir) => {
        const what = args.what;
        if (!('attrs' in what)) refuse('EBADTYPE', `MKNOD cannot make type ${what.type}`);
        checkNewName(args.where.name);
        const kind = KIND[what.type as keyof typeof KIND];
        const rdev = 'spec' in what ? { major: what.spec.specdata1, minor: what.spec.specdata2 } : { major: 0, minor: 0 };
        if ((kind === 'blk' || kind === 'chr') && dir.identity.uid !== 0) refuse('EPERM', 'only root may make device nodes');
        const s = what.attrs;
        const node = await dir.export.backend.mknod(dir.node, args.where.name, kind, newMode(s, dir), rdev, newOwner(dir, s));
        await applyAfterCreate(dir, node, s, false);
        return node;
      }),
    encode: encodeDirCreateRes,
    cache: 'reply',
  };
}
