import { Nfs4Stat } from '../constants.js';
import type { Status4Res } from '../types.js';
import type { OpRow } from '../optable-types.js';

/** SAVEFH (RFC 8881 section 18.32): the current filehandle and stateid are saved. */
export const savefh: OpRow<32> = {
  handler(_a, c): Status4Res {
    c.saved = c.fh;
    c.savedStateid = c.stateid;
    return { status: 0 };
  },
  fh: true,
};

/** RESTOREFH (18.27): the saved filehandle and stateid become current; none saved is NFS4ERR_RESTOREFH. */
export const restorefh: OpRow<31> = {
  handler(_a, c): Status4Res {
    if (c.saved === undefined) return { status: Nfs4Stat.RESTOREFH };
    c.fh = c.saved;
    c.stateid = c.savedStateid;
    return { status: 0 };
  },
};
