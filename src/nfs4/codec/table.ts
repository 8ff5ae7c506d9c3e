/**
 * The operation table: for every operation of minor versions 0..2, its
 * argument decoder (server) and encoder (client), its result encoder
 * (server) and decoder (client). `satisfies` checks it is complete; the
 * COMPOUND codecs (compound.ts) dispatch through it.
 *
 * Encoders may return chunks they lend (WRITE data from the client, READ
 * and READ_PLUS data from the server): see chunks.ts.
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import type { ReplyChunk } from '../../rpc/program.js';
import { Nfs4Op as P, Nfs4Stat, nfs4OpName, type Nfs4Error } from '../constants.js';
import type { Nfs4ArgsMap, Nfs4KnownOp, Nfs4ResMap, Nfs4ResOp } from '../types.js';
import { decodeNoArgs, decodeStatus4Res, encodeNoArgs, encodeStatus4Res } from './common.js';
import type { Nfs4Limits } from './limits.js';
import * as D from './ops-dir.js';
import * as F from './ops-fh.js';
import * as G from './ops-deleg.js';
import * as I from './ops-io.js';
import * as L from './ops-pnfs.js';
import * as S from './ops-session.js';
import * as T from './ops-state.js';
import * as X from './ops-xattr.js';

export interface OpCodec<A, R> {
  readonly name: string;
  decodeArgs(r: XdrReader, lim: Nfs4Limits): A;
  encodeArgs(w: XdrWriter, a: A): readonly Buffer[] | void;
  encodeRes(w: XdrWriter, res: R): readonly ReplyChunk[] | void;
  decodeRes(r: XdrReader, lim: Nfs4Limits): R;
}

export type OpCodecTable = { readonly [K in Nfs4KnownOp]: OpCodec<Nfs4ArgsMap[K], Nfs4ResMap[K]> };

function op<A, R>(
  num: number,
  decodeArgs: OpCodec<A, R>['decodeArgs'],
  encodeArgs: OpCodec<A, R>['encodeArgs'],
  encodeRes: OpCodec<A, R>['encodeRes'],
  decodeRes: OpCodec<A, R>['decodeRes'],
): OpCodec<A, R> {
  return { name: nfs4OpName(num), decodeArgs, encodeArgs, encodeRes, decodeRes };
}

/** An operation whose result is only a status. */
function statusOp<A>(num: number, decodeArgs: OpCodec<A, unknown>['decodeArgs'], encodeArgs: OpCodec<A, unknown>['encodeArgs']) {
  return op(num, decodeArgs, encodeArgs, encodeStatus4Res, decodeStatus4Res);
}

/** An operation with void arguments whose result is only a status. */
const voidOp = (num: number) => statusOp(num, decodeNoArgs, encodeNoArgs);

export const OP_CODECS = {
  [P.ACCESS]: op(P.ACCESS, F.decodeAccess4Args, F.encodeAccess4Args, F.encodeAccess4Res, F.decodeAccess4Res),
  [P.CLOSE]: op(P.CLOSE, T.decodeClose4Args, T.encodeClose4Args, T.encodeOpenStateidRes, T.decodeOpenStateidRes),
  [P.COMMIT]: op(P.COMMIT, F.decodeCommit4Args, F.encodeCommit4Args, F.encodeCommit4Res, F.decodeCommit4Res),
  [P.CREATE]: op(P.CREATE, D.decodeCreate4Args, D.encodeCreate4Args, D.encodeCreate4Res, D.decodeCreate4Res),
  [P.DELEGPURGE]: statusOp(P.DELEGPURGE, F.decodeDelegpurge4Args, F.encodeDelegpurge4Args),
  [P.DELEGRETURN]: statusOp(P.DELEGRETURN, F.decodeDelegreturn4Args, F.encodeDelegreturn4Args),
  [P.GETATTR]: op(P.GETATTR, F.decodeGetattr4Args, F.encodeGetattr4Args, F.encodeGetattr4Res, F.decodeGetattr4Res),
  [P.GETFH]: op(P.GETFH, decodeNoArgs, encodeNoArgs, F.encodeGetfh4Res, F.decodeGetfh4Res),
  [P.LINK]: op(P.LINK, D.decodeLink4Args, D.encodeLink4Args, D.encodeCinfoRes, D.decodeCinfoRes),
  [P.LOCK]: op(P.LOCK, T.decodeLock4Args, T.encodeLock4Args, T.encodeLock4Res, T.decodeLock4Res),
  [P.LOCKT]: op(P.LOCKT, T.decodeLockt4Args, T.encodeLockt4Args, T.encodeLockt4Res, T.decodeLockt4Res),
  [P.LOCKU]: op(P.LOCKU, T.decodeLocku4Args, T.encodeLocku4Args, T.encodeLocku4Res, T.decodeLocku4Res),
  [P.LOOKUP]: statusOp(P.LOOKUP, F.decodeLookup4Args, F.encodeLookup4Args),
  [P.LOOKUPP]: voidOp(P.LOOKUPP),
  [P.NVERIFY]: statusOp(P.NVERIFY, F.decodeNverify4Args, F.encodeNverify4Args),
  [P.OPEN]: op(P.OPEN, T.decodeOpen4Args, T.encodeOpen4Args, T.encodeOpen4Res, T.decodeOpen4Res),
  [P.OPENATTR]: statusOp(P.OPENATTR, F.decodeOpenattr4Args, F.encodeOpenattr4Args),
  [P.OPEN_CONFIRM]: op(P.OPEN_CONFIRM, T.decodeOpenConfirm4Args, T.encodeOpenConfirm4Args, T.encodeOpenStateidRes, T.decodeOpenStateidRes),
  [P.OPEN_DOWNGRADE]: op(P.OPEN_DOWNGRADE, T.decodeOpenDowngrade4Args, T.encodeOpenDowngrade4Args, T.encodeOpenStateidRes, T.decodeOpenStateidRes),
  [P.PUTFH]: statusOp(P.PUTFH, F.decodePutfh4Args, F.encodePutfh4Args),
  [P.PUTPUBFH]: voidOp(P.PUTPUBFH),
  [P.PUTROOTFH]: voidOp(P.PUTROOTFH),
  [P.READ]: op(P.READ, I.decodeRead4Args, I.encodeRead4Args, I.encodeRead4Res, I.decodeRead4Res),
  [P.READDIR]: op(P.READDIR, D.decodeReaddir4Args, D.encodeReaddir4Args, D.encodeReaddir4Res, D.decodeReaddir4Res),
  [P.READLINK]: op(P.READLINK, decodeNoArgs, encodeNoArgs, F.encodeReadlink4Res, F.decodeReadlink4Res),
  [P.REMOVE]: op(P.REMOVE, D.decodeRemove4Args, D.encodeRemove4Args, D.encodeCinfoRes, D.decodeCinfoRes),
  [P.RENAME]: op(P.RENAME, D.decodeRename4Args, D.encodeRename4Args, D.encodeRename4Res, D.decodeRename4Res),
  [P.RENEW]: statusOp(P.RENEW, F.decodeRenew4Args, F.encodeRenew4Args),
  [P.RESTOREFH]: voidOp(P.RESTOREFH),
  [P.SAVEFH]: voidOp(P.SAVEFH),
  [P.SECINFO]: op(P.SECINFO, F.decodeSecinfo4Args, F.encodeSecinfo4Args, F.encodeSecinfo4Res, F.decodeSecinfo4Res),
  [P.SETATTR]: op(P.SETATTR, F.decodeSetattr4Args, F.encodeSetattr4Args, F.encodeSetattr4Res, F.decodeSetattr4Res),
  [P.SETCLIENTID]: op(P.SETCLIENTID, S.decodeSetclientid4Args, S.encodeSetclientid4Args, S.encodeSetclientid4Res, S.decodeSetclientid4Res),
  [P.SETCLIENTID_CONFIRM]: statusOp(P.SETCLIENTID_CONFIRM, S.decodeSetclientidConfirm4Args, S.encodeSetclientidConfirm4Args),
  [P.VERIFY]: statusOp(P.VERIFY, F.decodeVerify4Args, F.encodeVerify4Args),
  [P.WRITE]: op(P.WRITE, I.decodeWrite4Args, I.encodeWrite4Args, I.encodeWrite4Res, I.decodeWrite4Res),
  [P.RELEASE_LOCKOWNER]: statusOp(P.RELEASE_LOCKOWNER, T.decodeReleaseLockowner4Args, T.encodeReleaseLockowner4Args),
  [P.BACKCHANNEL_CTL]: statusOp(P.BACKCHANNEL_CTL, S.decodeBackchannelCtl4Args, S.encodeBackchannelCtl4Args),
  [P.BIND_CONN_TO_SESSION]: op(P.BIND_CONN_TO_SESSION, S.decodeBindConnToSession4Args, S.encodeBindConnToSession4Args, S.encodeBindConnToSession4Res, S.decodeBindConnToSession4Res),
  [P.EXCHANGE_ID]: op(P.EXCHANGE_ID, S.decodeExchangeId4Args, S.encodeExchangeId4Args, S.encodeExchangeId4Res, S.decodeExchangeId4Res),
  [P.CREATE_SESSION]: op(P.CREATE_SESSION, S.decodeCreateSession4Args, S.encodeCreateSession4Args, S.encodeCreateSession4Res, S.decodeCreateSession4Res),
  [P.DESTROY_SESSION]: statusOp(P.DESTROY_SESSION, S.decodeDestroySession4Args, S.encodeDestroySession4Args),
  [P.FREE_STATEID]: statusOp(P.FREE_STATEID, T.decodeFreeStateid4Args, T.encodeFreeStateid4Args),
  [P.GET_DIR_DELEGATION]: op(P.GET_DIR_DELEGATION, G.decodeGetDirDelegation4Args, G.encodeGetDirDelegation4Args, G.encodeGetDirDelegation4Res, G.decodeGetDirDelegation4Res),
  [P.GETDEVICEINFO]: op(P.GETDEVICEINFO, L.decodeGetdeviceinfo4Args, L.encodeGetdeviceinfo4Args, L.encodeGetdeviceinfo4Res, L.decodeGetdeviceinfo4Res),
  [P.GETDEVICELIST]: op(P.GETDEVICELIST, L.decodeGetdevicelist4Args, L.encodeGetdevicelist4Args, L.encodeGetdevicelist4Res, L.decodeGetdevicelist4Res),
  [P.LAYOUTCOMMIT]: op(P.LAYOUTCOMMIT, L.decodeLayoutcommit4Args, L.encodeLayoutcommit4Args, L.encodeLayoutcommit4Res, L.decodeLayoutcommit4Res),
  [P.LAYOUTGET]: op(P.LAYOUTGET, L.decodeLayoutget4Args, L.encodeLayoutget4Args, L.encodeLayoutget4Res, L.decodeLayoutget4Res),
  [P.LAYOUTRETURN]: op(P.LAYOUTRETURN, L.decodeLayoutreturn4Args, L.encodeLayoutreturn4Args, L.encodeLayoutreturn4Res, L.decodeLayoutreturn4Res),
  [P.SECINFO_NO_NAME]: op(P.SECINFO_NO_NAME, F.decodeSecinfoNoName4Args, F.encodeSecinfoNoName4Args, F.encodeSecinfo4Res, F.decodeSecinfo4Res),
  [P.SEQUENCE]: op(P.SEQUENCE, S.decodeSequence4Args, S.encodeSequence4Args, S.encodeSequence4Res, S.decodeSequence4Res),
  [P.SET_SSV]: op(P.SET_SSV, S.decodeSetSsv4Args, S.encodeSetSsv4Args, S.encodeSetSsv4Res, S.decodeSetSsv4Res),
  [P.TEST_STATEID]: op(P.TEST_STATEID, T.decodeTestStateid4Args, T.encodeTestStateid4Args, T.encodeTestStateid4Res, T.decodeTestStateid4Res),
  [P.WANT_DELEGATION]: op(P.WANT_DELEGATION, G.decodeWantDelegation4Args, G.encodeWantDelegation4Args, G.encodeWantDelegation4Res, G.decodeWantDelegation4Res),
  [P.DESTROY_CLIENTID]: statusOp(P.DESTROY_CLIENTID, S.decodeDestroyClientid4Args, S.encodeDestroyClientid4Args),
  [P.RECLAIM_COMPLETE]: statusOp(P.RECLAIM_COMPLETE, S.decodeReclaimComplete4Args, S.encodeReclaimComplete4Args),
  [P.ALLOCATE]: statusOp(P.ALLOCATE, I.decodeAllocate4Args, I.encodeAllocate4Args),
  [P.COPY]: op(P.COPY, I.decodeCopy4Args, I.encodeCopy4Args, I.encodeCopy4Res, I.decodeCopy4Res),
  [P.COPY_NOTIFY]: op(P.COPY_NOTIFY, I.decodeCopyNotify4Args, I.encodeCopyNotify4Args, I.encodeCopyNotify4Res, I.decodeCopyNotify4Res),
  [P.DEALLOCATE]: statusOp(P.DEALLOCATE, I.decodeDeallocate4Args, I.encodeDeallocate4Args),
  [P.IO_ADVISE]: op(P.IO_ADVISE, I.decodeIoAdvise4Args, I.encodeIoAdvise4Args, I.encodeIoAdvise4Res, I.decodeIoAdvise4Res),
  [P.LAYOUTERROR]: statusOp(P.LAYOUTERROR, L.decodeLayouterror4Args, L.encodeLayouterror4Args),
  [P.LAYOUTSTATS]: statusOp(P.LAYOUTSTATS, L.decodeLayoutstats4Args, L.encodeLayoutstats4Args),
  [P.OFFLOAD_CANCEL]: statusOp(P.OFFLOAD_CANCEL, I.decodeOffload4Args, I.encodeOffload4Args),
  [P.OFFLOAD_STATUS]: op(P.OFFLOAD_STATUS, I.decodeOffload4Args, I.encodeOffload4Args, I.encodeOffloadStatus4Res, I.decodeOffloadStatus4Res),
  [P.READ_PLUS]: op(P.READ_PLUS, I.decodeReadPlus4Args, I.encodeReadPlus4Args, I.encodeReadPlus4Res, I.decodeReadPlus4Res),
  [P.SEEK]: op(P.SEEK, I.decodeSeek4Args, I.encodeSeek4Args, I.encodeSeek4Res, I.decodeSeek4Res),
  [P.WRITE_SAME]: op(P.WRITE_SAME, I.decodeWriteSame4Args, I.encodeWriteSame4Args, I.encodeWriteSame4Res, I.decodeWriteSame4Res),
  [P.CLONE]: statusOp(P.CLONE, I.decodeClone4Args, I.encodeClone4Args),
  [P.GETXATTR]: op(P.GETXATTR, X.decodeGetxattr4Args, X.encodeGetxattr4Args, X.encodeGetxattr4Res, X.decodeGetxattr4Res),
  [P.SETXATTR]: op(P.SETXATTR, X.decodeSetxattr4Args, X.encodeSetxattr4Args, X.encodeXattrCinfoRes, X.decodeXattrCinfoRes),
  [P.LISTXATTRS]: op(P.LISTXATTRS, X.decodeListxattrs4Args, X.encodeListxattrs4Args, X.encodeListxattrs4Res, X.decodeListxattrs4Res),
  [P.REMOVEXATTR]: op(P.REMOVEXATTR, X.decodeRemovexattr4Args, X.encodeRemovexattr4Args, X.encodeXattrCinfoRes, X.decodeXattrCinfoRes),
} satisfies OpCodecTable as OpCodecTable;

/** The codec row of an op number, if it is a known operation. */
export function opCodec(opnum: number): OpCodec<unknown, unknown> | undefined {
  return Object.hasOwn(OP_CODECS, opnum) ? (OP_CODECS[opnum as Nfs4KnownOp] as OpCodec<unknown, unknown>) : undefined;
}

/**
 * The result of an operation that failed with `status` before it produced
 * anything: just the status, plus SETATTR's attrsset (its result carries
 * one whatever the status). For statuses whose arm carries more (LOCK's
 * DENIED, COPY's OFFLOAD_NO_REQS ...) build the result yourself.
 */
export function errorResult(opnum: Nfs4KnownOp, status: Nfs4Error): Nfs4ResOp {
  if (opnum === P.SETATTR) return { op: opnum, res: { status, attrsset: [] } };
  return { op: opnum, res: { status } } as Nfs4ResOp;
}

/** The result an unknown op number gets (RFC 8881 section 15.2: op OP_ILLEGAL, NFS4ERR_OP_ILLEGAL). */
export const ILLEGAL_RESULT: Nfs4ResOp = Object.freeze({ op: 10044, res: Object.freeze({ status: Nfs4Stat.OP_ILLEGAL }) });
