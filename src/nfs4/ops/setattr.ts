import { setidForSetattr } from '../../export/setid.js';
import { checkSetattr, isEmptySetAttrs, setattrMay } from '../../vfs/setattr.js';
import type { SetAttrs } from '../../storage/types.js';
import type { Setattr4Args, Setattr4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { setAttrsOf } from '../attrs.js';
import { fileKey, stateidArg, toNfs4Stat, verifyCurrent } from './common.js';

/**
 * SETATTR (RFC 8881 section 18.30). The rules are NFSv3's (vfs/setattr.ts, export/setid.ts); a
 * size change needs a regular file and a stateid that allows writing (an open for write, or a
 * special stateid no open's deny mode forbids). attrsset says what was set: everything asked on
 * success, nothing on failure.
 */
export const setattr: OpRow<34> = {
  async handler(a: Setattr4Args, c: Compound): Promise<Setattr4Res> {
    try {
      const set: SetAttrs = setAttrsOf(c.env, c.minor, a.objAttributes);
      const v = await verifyCurrent(c, { type: set.size !== undefined ? 'reg' : 'any', may: setattrMay(set) });
      if (set.size !== undefined) {
        const sid = stateidArg(c, a.stateid);
        const st = typeof sid === 'number' ? sid : c.env.state.checkIo(c.client, fileKey(v), sid, true);
        if (st !== 0) return { status: st, attrsset: [] };
      }
      checkSetattr(v, set);
      // Linux ignores mode changes on symlinks (knfsd drops ATTR_MODE for them).
      if (v.attrs.type === 'lnk') delete set.mode;
      const applied = setidForSetattr(v.attrs, set, v.identity);
      if (!isEmptySetAttrs(applied)) await v.export.backend.setattr(v.node, applied);
      return { status: 0, attrsset: a.objAttributes.mask };
    } catch (e) {
      return { status: toNfs4Stat(e), attrsset: [] };
    }
  },
  fh: true,
  modifies: true,
};
