import type { DestroyClientid4Args, Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';

/** DESTROY_CLIENTID (RFC 8881 section 18.50): a client with sessions left is NFS4ERR_CLIENTID_BUSY. */
export const destroyClientid: OpRow<57> = {
  handler(a: DestroyClientid4Args, c: Compound): Status4Res {
    return { status: c.env.state.clients.destroyClientid(a.clientid) };
  },
};
