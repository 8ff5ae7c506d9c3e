import { accessMask } from '../../export/permission.js';
import { Access4 } from '../constants.js';
import type { Access4Args, Access4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat, verifyCurrent } from './common.js';

const DIR_BITS = Access4.READ | Access4.LOOKUP | Access4.MODIFY | Access4.EXTEND | Access4.DELETE;
const FILE_BITS = Access4.READ | Access4.EXECUTE | Access4.MODIFY | Access4.EXTEND;
const XATTR_BITS = Access4.XAREAD | Access4.XAWRITE | Access4.XALIST;

/**
 * ACCESS (RFC 8881 section 18.1, RFC 8276 section 8.4.1): what the mode grants this caller, as
 * NFSv3's ACCESS (the bits are the same). Supported are the bits that mean something for the
 * object's type (knfsd's tables); on 4.2 the extended-attribute bits follow READ (XAREAD,
 * XALIST) and MODIFY (XAWRITE) where the backend has extended attributes.
 */
export const access: OpRow<3> = {
  async handler(a: Access4Args, c: Compound): Promise<Access4Res> {
    try {
      const v = await verifyCurrent(c);
      let meaningful = v.attrs.type === 'dir' ? DIR_BITS : FILE_BITS;
      const xattrs = c.minor >= 2 && typeof v.export.backend.getxattr === 'function';
      if (xattrs) meaningful |= XATTR_BITS;
      const supported = a.access & meaningful;
      let granted = accessMask(v.attrs, v.identity, v.options.readOnly, supported & 0x3f);
      if (xattrs) {
        const all = accessMask(v.attrs, v.identity, v.options.readOnly, Access4.READ | Access4.MODIFY);
        if (all & Access4.READ) granted |= Access4.XAREAD | Access4.XALIST;
        if (all & Access4.MODIFY) granted |= Access4.XAWRITE;
      }
      return { status: 0, supported, access: granted & supported };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
