import { ExchgId4Flag, Nfs4Stat, StateProtect4 } from '../constants.js';
import type { ExchangeId4Args, ExchangeId4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { Clients } from '../state/index.js';
import { principalOf } from './principal.js';

/** The flags a client may send (EXCHGID4_FLAG_MASK_A): anything else, CONFIRMED_R included, is INVAL. */
const MASK_A = ExchgId4Flag.SUPP_MOVED_REFER | ExchgId4Flag.SUPP_MOVED_MIGR | ExchgId4Flag.BIND_PRINC_STATEID |
  ExchgId4Flag.MASK_PNFS | ExchgId4Flag.UPD_CONFIRMED_REC_A;

/**
 * EXCHANGE_ID (RFC 8881 section 18.35). SP4_NONE only: SP4_MACH_CRED needs a credential that
 * proves the machine (RPCSEC_GSS), which AUTH_SYS is not (NFS4ERR_INVAL, as knfsd), and SSV is not
 * offered (NFS4ERR_ENCR_ALG_UNSUPP). Exactly one pNFS role: USE_NON_PNFS. The server owner and
 * scope are stable across restarts (derived from the state directory's secret).
 */
export const exchangeId: OpRow<42> = {
  handler(a: ExchangeId4Args, c: Compound): ExchangeId4Res {
    if ((a.flags & ~MASK_A) !== 0) return { status: Nfs4Stat.INVAL };
    if (a.stateProtect.how === StateProtect4.MACH_CRED) return { status: Nfs4Stat.INVAL };
    if (a.stateProtect.how === StateProtect4.SSV) return { status: Nfs4Stat.ENCR_ALG_UNSUPP };
    const r = c.env.state.clients.exchangeId({
      ownerId: a.clientowner.ownerid,
      verifier: a.clientowner.verifier,
      principal: principalOf(c),
      update: (a.flags & ExchgId4Flag.UPD_CONFIRMED_REC_A) !== 0,
      address: c.ctx.peer.address,
      implName: a.clientImplId?.name,
    }, c.env.state.leaseMs);
    if (r.status !== 0) return r;
    const cl = r.client;
    return {
      status: 0,
      clientid: cl.id,
      sequenceid: cl.csSeqid === 0xffffffff ? 0 : cl.csSeqid + 1,
      flags: Clients.replyFlags(cl),
      stateProtect: { how: StateProtect4.NONE },
      serverOwner: { minorId: 0n, majorId: c.env.serverOwner },
      serverScope: c.env.serverOwner,
      serverImplId: { domain: 'nfs-localio.invalid', name: 'nfs-localio', date: { seconds: 0n, nseconds: 0 } },
    };
  },
};
