import type { DestroySession4Args, Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';

/**
 * DESTROY_SESSION (RFC 8881 section 18.37). Refused with NFS4ERR_DELAY while another request
 * runs on the session (knfsd does the same); the COMPOUND destroying its own session counts its
 * own slot out.
 */
export const destroySession: OpRow<44> = {
  handler(a: DestroySession4Args, c: Compound): Status4Res {
    const own = c.session && c.session.id.equals(a.sessionid) ? 1 : 0;
    return { status: c.env.state.clients.destroySession(a.sessionid, own) };
  },
};
