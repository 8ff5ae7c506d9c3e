import { Nfs4Stat } from '../constants.js';
import type { Lockt4Args, Lockt4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { rangeOf } from '../state/index.js';
import { denied, lockKind } from './lock.js';
import { fileKey, toNfs4Stat, verifyCurrent } from './common.js';

/**
 * LOCKT (RFC 8881 section 18.11): would a lock of this owner conflict? NFS4ERR_DENIED with the
 * holder when it would. The owner's clientid is the session's (4.1). In the grace period after a
 * restart the answer depends on locks not yet reclaimed: NFS4ERR_GRACE (knfsd).
 */
export const lockt: OpRow<13> = {
  async handler(a: Lockt4Args, c: Compound): Promise<Lockt4Res> {
    const range = rangeOf(a.offset, a.length);
    if (!range) return { status: Nfs4Stat.INVAL };
    if (c.env.state.inGrace()) return { status: Nfs4Stat.GRACE } as Lockt4Res;
    try {
      const v = await verifyCurrent(c, { type: 'reg' });
      const h = c.env.state.files.test(c.client!, fileKey(v), a.owner.owner, lockKind(a.locktype), range.start, range.end);
      if (h) return { status: Nfs4Stat.DENIED, denied: denied(h) };
      return { status: 0 };
    } catch (e) {
      return { status: toNfs4Stat(e) } as Lockt4Res;
    }
  },
  fh: true,
};
