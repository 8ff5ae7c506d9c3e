import { May } from '../../export/types.js';
import { checkNewName } from '../../vfs/create.js';
import { refuse } from '../../vfs/status.js';
import { Nfs4Stat } from '../constants.js';
import type { Link4Args, Link4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { changeInfo, toNfs4Stat } from './common.js';

/**
 * LINK (RFC 8881 section 18.9): a hard link to the saved filehandle (not a directory: ISDIR) in
 * the current directory, within one export (XDEV otherwise).
 */
export const link: OpRow<11> = {
  async handler(a: Link4Args, c: Compound): Promise<Link4Res> {
    if (c.saved === undefined) return { status: Nfs4Stat.NOFILEHANDLE };
    try {
      const file = await c.env.gate.verify(c.saved, c.caller(), { type: 'notdir' });
      const dir = await c.env.gate.verify(c.fh!, c.caller(), { type: 'dir', may: May.WRITE | May.EXEC });
      checkNewName(a.newname);
      if (file.export.id !== dir.export.id) refuse('EXDEV', 'link across exports');
      await dir.export.backend.link(file.node, dir.node, a.newname);
      return { status: 0, cinfo: changeInfo(dir.attrs, await dir.export.backend.getattr(dir.node)) };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
