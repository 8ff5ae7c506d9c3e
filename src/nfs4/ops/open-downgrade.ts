import { Nfs4Stat, Open4Share } from '../constants.js';
import type { OpenDowngrade4Args, OpenDowngrade4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { stateFileKey, stateidArg, toNfs4Stat } from './common.js';

/**
 * OPEN_DOWNGRADE (RFC 8881 section 18.18): the open keeps only `access` / `deny`, which must be
 * the union of some of the OPENs in effect for its owner (NFS4ERR_INVAL otherwise).
 */
export const openDowngrade: OpRow<21> = {
  async handler(a: OpenDowngrade4Args, c: Compound): Promise<OpenDowngrade4Res> {
    const access = a.shareAccess;
    if ((access & Open4Share.ACCESS_BOTH) === 0 || (access & ~Open4Share.ACCESS_BOTH) !== 0 || a.shareDeny > Open4Share.DENY_BOTH) {
      return { status: Nfs4Stat.INVAL };
    }
    const sid = stateidArg(c, a.openStateid);
    if (typeof sid === 'number') return { status: sid };
    try {
      const key = await stateFileKey(c, sid);
      const r = c.env.state.files.downgrade(c.client!, sid, key, access, a.shareDeny);
      if (r.status !== 0) return { status: r.status };
      const openStateid = { seqid: r.state.seqid, other: r.state.other };
      c.stateid = openStateid;
      return { status: 0, openStateid };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
