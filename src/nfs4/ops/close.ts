import type { Close4Args, Close4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { INVALID_STATEID } from '../state/index.js';
import { stateFileKey, stateidArg, toNfs4Stat } from './common.js';

/**
 * CLOSE (RFC 8881 section 18.2): the open goes, with its lock states; NFS4ERR_LOCKS_HELD while one
 * of them still holds locks. The stateid returned is the special invalid one (18.2.4: the state is gone).
 */
export const close: OpRow<4> = {
  async handler(a: Close4Args, c: Compound): Promise<Close4Res> {
    const sid = stateidArg(c, a.openStateid);
    if (typeof sid === 'number') return { status: sid };
    try {
      const key = await stateFileKey(c, sid);
      const st = c.env.state.files.close(c.client!, sid, key);
      if (st !== 0) return { status: st };
      c.stateid = INVALID_STATEID;
      return { status: 0, openStateid: INVALID_STATEID };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
