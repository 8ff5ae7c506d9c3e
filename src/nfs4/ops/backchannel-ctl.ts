import { AuthFlavor4, Nfs4Stat } from '../constants.js';
import type { BackchannelCtl4Args, Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';

/**
 * BACKCHANNEL_CTL (RFC 8881 section 18.33): the client changes the callback program and security.
 * We never call back, so it is recorded only; at least one flavor must be one we could use
 * (AUTH_NONE or AUTH_SYS), as knfsd's nfsd4_check_cb_sec.
 */
export const backchannelCtl: OpRow<40> = {
  handler(a: BackchannelCtl4Args, c: Compound): Status4Res {
    if (!a.secParms.some((p) => p.flavor === AuthFlavor4.NONE || p.flavor === AuthFlavor4.SYS)) return { status: Nfs4Stat.ENCR_ALG_UNSUPP };
    c.session!.cbProgram = a.cbProgram;
    return { status: 0 };
  },
};
