import { Nfs4Stat } from '../constants.js';
import type { Locku4Args, Locku4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { rangeOf } from '../state/index.js';
import { stateFileKey, stateidArg, toNfs4Stat } from './common.js';

/** LOCKU (RFC 8881 section 18.12): the owner's locks leave the range (split where they stick out). */
export const locku: OpRow<14> = {
  async handler(a: Locku4Args, c: Compound): Promise<Locku4Res> {
    const range = rangeOf(a.offset, a.length);
    if (!range) return { status: Nfs4Stat.INVAL };
    const sid = stateidArg(c, a.lockStateid);
    if (typeof sid === 'number') return { status: sid };
    try {
      const key = await stateFileKey(c, sid);
      const r = c.env.state.files.unlock(c.client!, key, sid, range.start, range.end);
      if (r.status !== 0) return { status: r.status };
      const lockStateid = { seqid: r.state.seqid, other: r.state.other };
      c.stateid = lockStateid;
      return { status: 0, lockStateid };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
