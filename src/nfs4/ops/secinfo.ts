import { May } from '../../export/types.js';
import { AuthFlavor4, SecinfoStyle4 } from '../constants.js';
import type { Secinfo4, Secinfo4Args, Secinfo4Res, SecinfoNoName4Args } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { isExportRoot } from '../../vfs/common.js';
import { errnoError } from '../../util/errno.js';
import { crossInto } from './cross.js';
import { toNfs4Stat, verifyCurrent } from './common.js';

/**
 * The flavors every export takes: AUTH_SYS, and AUTH_NONE (which squashing maps to the anonymous
 * ids). RPCSEC_GSS is not offered (the RPC layer refuses it with AUTH_BADCRED).
 */
const FLAVORS: Secinfo4[] = [{ flavor: AuthFlavor4.SYS }, { flavor: AuthFlavor4.NONE }];

/**
 * SECINFO (RFC 8881 section 18.29): the flavors for the object `name` in the current directory
 * (which must exist). On success the current filehandle is consumed (18.29.3).
 */
export const secinfo: OpRow<33> = {
  async handler(a: Secinfo4Args, c: Compound): Promise<Secinfo4Res> {
    try {
      const dir = await verifyCurrent(c, { type: 'dir', may: May.EXEC });
      await crossInto(c, dir.export, await dir.export.backend.lookup(dir.node, a.name));
      c.fh = undefined;
      c.stateid = undefined;
      return { status: 0, flavors: FLAVORS };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};

/**
 * SECINFO_NO_NAME (18.45): the flavors for the current filehandle, or (PARENT) for its parent
 * (NFS4ERR_NOENT above the root). The current filehandle is consumed too.
 */
export const secinfoNoName: OpRow<52> = {
  async handler(a: SecinfoNoName4Args, c: Compound): Promise<Secinfo4Res> {
    try {
      const v = await verifyCurrent(c);
      if (a.style === SecinfoStyle4.PARENT) {
        if (v.attrs.type !== 'dir') throw errnoError('ENOTDIR', 'not a directory');
        if (isExportRoot(v) && !(await c.env.exports.namespace.mountpoint(v.export))) throw errnoError('ENOENT', 'the root has no parent');
      } else if (a.style !== SecinfoStyle4.CURRENT_FH) {
        throw errnoError('EINVAL', `secinfo style ${a.style}`);
      }
      c.fh = undefined;
      c.stateid = undefined;
      return { status: 0, flavors: FLAVORS };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
