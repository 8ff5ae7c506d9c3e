import { May } from '../../export/types.js';
import { removeEntry } from '../../vfs/dirops.js';
import type { Remove4Args, Remove4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { changeInfo, toNfs4Stat, verifyCurrent } from './common.js';

/** REMOVE (RFC 8881 section 18.25): a file or an empty directory, with the sticky-bit rules (vfs/dirops.ts). */
export const remove: OpRow<28> = {
  async handler(a: Remove4Args, c: Compound): Promise<Remove4Res> {
    try {
      const dir = await verifyCurrent(c, { type: 'dir', may: May.WRITE | May.EXEC });
      await removeEntry(dir, a.target, 'any');
      return { status: 0, cinfo: changeInfo(dir.attrs, await dir.export.backend.getattr(dir.node)) };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
