import { May } from '../../export/types.js';
import { storageFailureResetsVerifier } from '../../vfs/common.js';
import type { Commit4Args, Commit4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat, verifyCurrent } from './common.js';

/**
 * COMMIT (RFC 8881 section 18.3), as NFSv3's: always an fsync (even on an "async" export), its
 * failure reported and the write verifier reset.
 */
export const commit: OpRow<5> = {
  async handler(a: Commit4Args, c: Compound): Promise<Commit4Res> {
    try {
      const v = await verifyCurrent(c, { type: 'reg', may: May.WRITE });
      try {
        await v.export.backend.commit(v.node, a.offset, a.count);
      } catch (e) {
        if (storageFailureResetsVerifier(e)) c.env.resetWriteVerifier();
        throw e;
      }
      return { status: 0, writeverf: c.env.writeVerifier() };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
