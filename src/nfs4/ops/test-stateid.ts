import { Nfs4Stat, type Nfs4Status } from '../constants.js';
import type { FreeStateid4Args, Status4Res, TestStateid4Args, TestStateid4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { specialStateid } from '../state/index.js';
import { stateidArg } from './common.js';

/** TEST_STATEID (RFC 8881 section 18.48): the status each stateid would get; special ones are BAD_STATEID. */
export const testStateid: OpRow<55> = {
  handler(a: TestStateid4Args, c: Compound): TestStateid4Res {
    const statusCodes: Nfs4Status[] = a.stateids.map((s) =>
      specialStateid(s) !== undefined ? Nfs4Stat.BAD_STATEID : c.env.state.files.testStateid(c.client!, s),
    );
    return { status: 0, statusCodes };
  },
};

/** FREE_STATEID (18.38): a lock state without locks goes; open states and held locks are LOCKS_HELD. */
export const freeStateid: OpRow<45> = {
  handler(a: FreeStateid4Args, c: Compound): Status4Res {
    const sid = stateidArg(c, a.stateid);
    if (typeof sid === 'number') return { status: sid };
    return { status: c.env.state.files.free(c.client!, sid) };
  },
  modifies: true,
};
