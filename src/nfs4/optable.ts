/**
 * The NFSv4.1/4.2 operation table (knfsd's nfsd4_ops): one row per operation we implement, each
 * from its own file in ops/. A known operation without a row is NFS4ERR_NOTSUPP (the runner):
 * OPENATTR (no named attributes), DELEGPURGE, GET_DIR_DELEGATION and WANT_DELEGATION (no
 * delegations), the pNFS layout operations, SET_SSV (no SSV), 4.2's COPY_NOTIFY, OFFLOAD_STATUS,
 * OFFLOAD_CANCEL (COPY is synchronous and local only), IO_ADVISE, WRITE_SAME, LAYOUTERROR and
 * LAYOUTSTATS, and the NFSv4.0-only operations
 * (SETCLIENTID, SETCLIENTID_CONFIRM, RENEW, OPEN_CONFIRM, RELEASE_LOCKOWNER), which RFC 8881
 * section 18 says a 4.1 server answers with NFS4ERR_NOTSUPP.
 */
import { Nfs4Op as P } from './constants.js';
import type { OpTable } from './optable-types.js';
import { access } from './ops/access.js';
import { backchannelCtl } from './ops/backchannel-ctl.js';
import { bindConnToSession } from './ops/bind-conn-to-session.js';
import { close } from './ops/close.js';
import { commit } from './ops/commit.js';
import { create } from './ops/create.js';
import { createSession } from './ops/create-session.js';
import { delegreturn } from './ops/delegreturn.js';
import { destroyClientid } from './ops/destroy-clientid.js';
import { destroySession } from './ops/destroy-session.js';
import { exchangeId } from './ops/exchange-id.js';
import { getattr } from './ops/getattr.js';
import { getfh } from './ops/getfh.js';
import { link } from './ops/link.js';
import { lock } from './ops/lock.js';
import { lockt } from './ops/lockt.js';
import { locku } from './ops/locku.js';
import { lookup } from './ops/lookup.js';
import { lookupp } from './ops/lookupp.js';
import { open } from './ops/open.js';
import { openDowngrade } from './ops/open-downgrade.js';
import { putfh } from './ops/putfh.js';
import { putpubfh, putrootfh } from './ops/putrootfh.js';
import { readOp } from './ops/read.js';
import { readdir } from './ops/readdir.js';
import { readlink } from './ops/readlink.js';
import { reclaimComplete } from './ops/reclaim-complete.js';
import { remove } from './ops/remove.js';
import { rename } from './ops/rename.js';
import { restorefh, savefh } from './ops/savefh.js';
import { secinfo, secinfoNoName } from './ops/secinfo.js';
import { sequence } from './ops/sequence.js';
import { setattr } from './ops/setattr.js';
import { freeStateid, testStateid } from './ops/test-stateid.js';
import { nverify, verify } from './ops/verify.js';
import { write } from './ops/write.js';
import { seek } from './ops/seek.js';
import { allocate, deallocate } from './ops/allocate.js';
import { clone, copy } from './ops/copy.js';
import { readPlusOp } from './ops/read-plus.js';
import { getxattr, listxattrs, removexattr, setxattr } from './ops/xattr.js';

export function createOpTable(o: { rtmax: number }): OpTable {
  return {
    [P.ACCESS]: access,
    [P.CLOSE]: close,
    [P.COMMIT]: commit,
    [P.CREATE]: create,
    [P.DELEGRETURN]: delegreturn,
    [P.GETATTR]: getattr,
    [P.GETFH]: getfh,
    [P.LINK]: link,
    [P.LOCK]: lock,
    [P.LOCKT]: lockt,
    [P.LOCKU]: locku,
    [P.LOOKUP]: lookup,
    [P.LOOKUPP]: lookupp,
    [P.NVERIFY]: nverify,
    [P.OPEN]: open,
    [P.OPEN_DOWNGRADE]: openDowngrade,
    [P.PUTFH]: putfh,
    [P.PUTPUBFH]: putpubfh,
    [P.PUTROOTFH]: putrootfh,
    [P.READ]: readOp(o.rtmax),
    [P.READDIR]: readdir,
    [P.READLINK]: readlink,
    [P.REMOVE]: remove,
    [P.RENAME]: rename,
    [P.RESTOREFH]: restorefh,
    [P.SAVEFH]: savefh,
    [P.SECINFO]: secinfo,
    [P.SETATTR]: setattr,
    [P.VERIFY]: verify,
    [P.WRITE]: write,
    [P.BACKCHANNEL_CTL]: backchannelCtl,
    [P.BIND_CONN_TO_SESSION]: bindConnToSession,
    [P.EXCHANGE_ID]: exchangeId,
    [P.CREATE_SESSION]: createSession,
    [P.DESTROY_SESSION]: destroySession,
    [P.FREE_STATEID]: freeStateid,
    [P.SECINFO_NO_NAME]: secinfoNoName,
    [P.SEQUENCE]: sequence,
    [P.TEST_STATEID]: testStateid,
    [P.DESTROY_CLIENTID]: destroyClientid,
    [P.RECLAIM_COMPLETE]: reclaimComplete,
    // NFSv4.2 (RFC 7862) and extended attributes (RFC 8276).
    [P.ALLOCATE]: allocate,
    [P.COPY]: copy,
    [P.DEALLOCATE]: deallocate,
    [P.READ_PLUS]: readPlusOp(o.rtmax),
    [P.SEEK]: seek,
    [P.CLONE]: clone,
    [P.GETXATTR]: getxattr,
    [P.SETXATTR]: setxattr,
    [P.LISTXATTRS]: listxattrs,
    [P.REMOVEXATTR]: removexattr,
  };
}
