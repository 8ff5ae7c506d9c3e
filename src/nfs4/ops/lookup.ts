import { May } from '../../export/types.js';
import type { Lookup4Args, Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { crossInto } from './cross.js';
import { toNfs4Stat, verifyCurrent } from './common.js';

/**
 * LOOKUP (RFC 8881 section 18.15): search permission on the directory; the backend never follows
 * a symbolic link. In the pseudo-filesystem only directories on the way to an export this client
 * may use are there; at a junction the lookup crosses into the export (crossInto).
 */
export const lookup: OpRow<15> = {
  async handler(a: Lookup4Args, c: Compound): Promise<Status4Res> {
    try {
      const dir = await verifyCurrent(c, { type: 'dir', may: May.EXEC });
      const node = await dir.export.backend.lookup(dir.node, a.objname);
      const to = await crossInto(c, dir.export, node);
      c.fh = c.env.gate.compose(to.exp, to.node);
      c.stateid = undefined;
      return { status: 0 };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
