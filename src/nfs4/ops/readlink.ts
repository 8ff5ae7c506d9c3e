import type { Readlink4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat, verifyCurrent } from './common.js';

/** READLINK (RFC 8881 section 18.24): the target as stored, never interpreted; not a symlink is NFS4ERR_INVAL. */
export const readlink: OpRow<27> = {
  async handler(_a, c: Compound): Promise<Readlink4Res> {
    try {
      const v = await verifyCurrent(c, { type: 'lnk' });
      return { status: 0, link: Buffer.from(await v.export.backend.readlink(v.node), 'utf8') };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
