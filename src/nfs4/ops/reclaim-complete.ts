import { Nfs4Stat } from '../constants.js';
import type { ReclaimComplete4Args, Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';

/**
 * RECLAIM_COMPLETE (RFC 8881 section 18.51): the client has reclaimed what it will. Once per
 * client (NFS4ERR_COMPLETE_ALREADY after); rca_one_fs is accepted and needs a current filehandle
 * (knfsd). From now on the client may take new opens and locks (out of the grace period), so its
 * stable record is written before the reply (knfsd's nfsd4_client_record_create); once every
 * previous client has sent it, the grace period ends.
 */
export const reclaimComplete: OpRow<58> = {
  async handler(a: ReclaimComplete4Args, c: Compound): Promise<Status4Res> {
    if (a.oneFs) return { status: c.fh === undefined ? Nfs4Stat.NOFILEHANDLE : 0 };
    const cl = c.client!;
    if (cl.reclaimComplete) return { status: Nfs4Stat.COMPLETE_ALREADY };
    cl.reclaimComplete = true;
    await c.env.state.recovery.complete(cl);
    return { status: 0 };
  },
};
