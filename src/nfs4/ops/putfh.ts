import type { Putfh4Args, Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat } from './common.js';
import { codeOf } from '../../util/errno.js';

/**
 * PUTFH (RFC 8881 section 18.19). The handle goes through the gate now, so a forged or stale one
 * is NFS4ERR_BADHANDLE / NFS4ERR_STALE here (as knfsd answers), not at the next operation —
 * except the handle of a file removed while it is open, which the opener may still close.
 */
export const putfh: OpRow<22> = {
  async handler(a: Putfh4Args, c: Compound): Promise<Status4Res> {
    try {
      const v = await c.env.gate.verify(a.object, c.caller());
      c.fh = a.object;
      c.verified = { fh: a.object, v };
      c.stateid = undefined;
      return { status: 0 };
    } catch (e) {
      // A file removed while open: its handle stays usable for CLOSE and LOCKU (ops/common.ts stateFileKey).
      if (codeOf(e) === 'ESTALE' && c.env.state.files.hasStateFor(a.object)) {
        c.fh = a.object;
        c.stateid = undefined;
        return { status: 0 };
      }
      return { status: toNfs4Stat(e) };
    }
  },
};
