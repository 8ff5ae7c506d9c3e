import { May } from '../../export/types.js';
import { renameEntry } from '../../vfs/dirops.js';
import { Nfs4Stat } from '../constants.js';
import type { Rename4Args, Rename4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { changeInfo, toNfs4Stat } from './common.js';

/**
 * RENAME (RFC 8881 section 18.26): from the saved filehandle's directory to the current one's,
 * under rename(2)'s and the sticky bit's rules (vfs/dirops.ts); across exports NFS4ERR_XDEV.
 */
export const rename: OpRow<29> = {
  async handler(a: Rename4Args, c: Compound): Promise<Rename4Res> {
    if (c.saved === undefined) return { status: Nfs4Stat.NOFILEHANDLE };
    try {
      const want = { type: 'dir', may: May.WRITE | May.EXEC } as const;
      const from = await c.env.gate.verify(c.saved, c.caller(), want);
      const to = await c.env.gate.verify(c.fh!, c.caller(), want);
      await renameEntry(from, a.oldname, to, a.newname);
      const b = from.export.backend;
      const [fromAfter, toAfter] = await Promise.all([b.getattr(from.node), b.getattr(to.node)]);
      return { status: 0, sourceCinfo: changeInfo(from.attrs, fromAfter), targetCinfo: changeInfo(to.attrs, toAfter) };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
