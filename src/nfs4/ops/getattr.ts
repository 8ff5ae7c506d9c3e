import { Nfs4Stat } from '../constants.js';
import type { Getattr4Args, Getattr4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { bitmap4And, bitmap4IsEmpty } from '../codec/bitmap.js';
import { fattr4Of, WRITE_ONLY } from '../attrs.js';
import { toNfs4Stat, verifyCurrent } from './common.js';

/**
 * GETATTR (RFC 8881 section 18.7): the requested attributes we support (others are left out, as
 * the RFC says); a write-only one (time_access_set ...) is NFS4ERR_INVAL. No permission needed.
 */
export const getattr: OpRow<9> = {
  async handler(a: Getattr4Args, c: Compound): Promise<Getattr4Res> {
    if (!bitmap4IsEmpty(bitmap4And(a.attrRequest, WRITE_ONLY))) return { status: Nfs4Stat.INVAL };
    try {
      const v = await verifyCurrent(c);
      const attrs = await fattr4Of(c.env, c.minor, { exp: v.export, node: v.node, attrs: v.attrs, fh: c.fh }, a.attrRequest);
      return { status: 0, attrs };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
