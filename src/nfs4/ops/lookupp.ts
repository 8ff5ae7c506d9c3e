import { May } from '../../export/types.js';
import type { Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { isExportRoot } from '../../vfs/common.js';
import { errnoError } from '../../util/errno.js';
import { toNfs4Stat, verifyCurrent } from './common.js';

/**
 * LOOKUPP (RFC 8881 section 18.16): the parent directory. From the root of an export it leaves
 * the export for the directory above the one it covers (a pseudo directory, or one of the export
 * it is nested in); at the root of everything it is NFS4ERR_NOENT.
 */
export const lookupp: OpRow<16> = {
  async handler(_a, c: Compound): Promise<Status4Res> {
    try {
      const v = await verifyCurrent(c, { type: 'dir', may: May.EXEC });
      let exp = v.export;
      let node = v.node;
      if (isExportRoot(v)) {
        const mp = await c.env.exports.namespace.mountpoint(exp);
        if (!mp) throw errnoError('ENOENT', 'the root has no parent');
        exp = mp.exp;
        node = mp.node;
      }
      const parent = await exp.backend.parent(node);
      c.fh = c.env.gate.compose(exp, parent);
      c.stateid = undefined;
      return { status: 0 };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
