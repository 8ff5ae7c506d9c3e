/**
 * NFSv4 argument and result types (spec/nfs4.x), one pair per operation,
 * and the COMPOUND they travel in. An operation in a COMPOUND is a
 * discriminated union keyed by `op`: `{ op: Nfs4Op.READ, args: Read4Args }`
 * in a request, `{ op: Nfs4Op.READ, res: Read4Res }` in a reply. Results
 * are discriminated on `status` as in v3: NFS4_OK carries the resok fields,
 * failures only what the RFC's union carries for them (mostly nothing;
 * LOCK4denied for NFS4ERR_DENIED, SETATTR's attrsset always ...).
 */
import { Nfs4Op, type OP_ILLEGAL, type Nfs4Error, type Nfs4Stat, type Nfs4Status } from './constants.js';
import type { NoArgs, Status4Res } from './types/basic.js';
import type * as O from './types/ops.js';
import type * as S from './types/ops41.js';
import type * as X from './types/ops42.js';
import type { Nfs4CodecError } from './codec/errors.js';

export type * from './types/basic.js';
export type * from './types/ops.js';
export type * from './types/ops41.js';
export type * from './types/ops42.js';

/** The arguments of each operation. */
export interface Nfs4ArgsMap {
  [Nfs4Op.ACCESS]: O.Access4Args;
  [Nfs4Op.CLOSE]: O.Close4Args;
  [Nfs4Op.COMMIT]: O.Commit4Args;
  [Nfs4Op.CREATE]: O.Create4Args;
  [Nfs4Op.DELEGPURGE]: O.Delegpurge4Args;
  [Nfs4Op.DELEGRETURN]: O.Delegreturn4Args;
  [Nfs4Op.GETATTR]: O.Getattr4Args;
  [Nfs4Op.GETFH]: NoArgs;
  [Nfs4Op.LINK]: O.Link4Args;
  [Nfs4Op.LOCK]: O.Lock4Args;
  [Nfs4Op.LOCKT]: O.Lockt4Args;
  [Nfs4Op.LOCKU]: O.Locku4Args;
  [Nfs4Op.LOOKUP]: O.Lookup4Args;
  [Nfs4Op.LOOKUPP]: NoArgs;
  [Nfs4Op.NVERIFY]: O.Nverify4Args;
  [Nfs4Op.OPEN]: O.Open4Args;
  [Nfs4Op.OPENATTR]: O.Openattr4Args;
  [Nfs4Op.OPEN_CONFIRM]: O.OpenConfirm4Args;
  [Nfs4Op.OPEN_DOWNGRADE]: O.OpenDowngrade4Args;
  [Nfs4Op.PUTFH]: O.Putfh4Args;
  [Nfs4Op.PUTPUBFH]: NoArgs;
  [Nfs4Op.PUTROOTFH]: NoArgs;
  [Nfs4Op.READ]: O.Read4Args;
  [Nfs4Op.READDIR]: O.Readdir4Args;
  [Nfs4Op.READLINK]: NoArgs;
  [Nfs4Op.REMOVE]: O.Remove4Args;
  [Nfs4Op.RENAME]: O.Rename4Args;
  [Nfs4Op.RENEW]: O.Renew4Args;
  [Nfs4Op.RESTOREFH]: NoArgs;
  [Nfs4Op.SAVEFH]: NoArgs;
  [Nfs4Op.SECINFO]: O.Secinfo4Args;
  [Nfs4Op.SETATTR]: O.Setattr4Args;
  [Nfs4Op.SETCLIENTID]: O.Setclientid4Args;
  [Nfs4Op.SETCLIENTID_CONFIRM]: O.SetclientidConfirm4Args;
  [Nfs4Op.VERIFY]: O.Verify4Args;
  [Nfs4Op.WRITE]: O.Write4Args;
  [Nfs4Op.RELEASE_LOCKOWNER]: O.ReleaseLockowner4Args;
  [Nfs4Op.BACKCHANNEL_CTL]: S.BackchannelCtl4Args;
  [Nfs4Op.BIND_CONN_TO_SESSION]: S.BindConnToSession4Args;
  [Nfs4Op.EXCHANGE_ID]: S.ExchangeId4Args;
  [Nfs4Op.CREATE_SESSION]: S.CreateSession4Args;
  [Nfs4Op.DESTROY_SESSION]: S.DestroySession4Args;
  [Nfs4Op.FREE_STATEID]: S.FreeStateid4Args;
  [Nfs4Op.GET_DIR_DELEGATION]: S.GetDirDelegation4Args;
  [Nfs4Op.GETDEVICEINFO]: S.Getdeviceinfo4Args;
  [Nfs4Op.GETDEVICELIST]: S.Getdevicelist4Args;
  [Nfs4Op.LAYOUTCOMMIT]: S.Layoutcommit4Args;
  [Nfs4Op.LAYOUTGET]: S.Layoutget4Args;
  [Nfs4Op.LAYOUTRETURN]: S.Layoutreturn4Args;
  [Nfs4Op.SECINFO_NO_NAME]: S.SecinfoNoName4Args;
  [Nfs4Op.SEQUENCE]: S.Sequence4Args;
  [Nfs4Op.SET_SSV]: S.SetSsv4Args;
  [Nfs4Op.TEST_STATEID]: S.TestStateid4Args;
  [Nfs4Op.WANT_DELEGATION]: S.WantDelegation4Args;
  [Nfs4Op.DESTROY_CLIENTID]: S.DestroyClientid4Args;
  [Nfs4Op.RECLAIM_COMPLETE]: S.ReclaimComplete4Args;
  [Nfs4Op.ALLOCATE]: X.Allocate4Args;
  [Nfs4Op.COPY]: X.Copy4Args;
  [Nfs4Op.COPY_NOTIFY]: X.CopyNotify4Args;
  [Nfs4Op.DEALLOCATE]: X.Deallocate4Args;
  [Nfs4Op.IO_ADVISE]: X.IoAdvise4Args;
  [Nfs4Op.LAYOUTERROR]: X.Layouterror4Args;
  [Nfs4Op.LAYOUTSTATS]: X.Layoutstats4Args;
  [Nfs4Op.OFFLOAD_CANCEL]: X.OffloadCancel4Args;
  [Nfs4Op.OFFLOAD_STATUS]: X.OffloadStatus4Args;
  [Nfs4Op.READ_PLUS]: X.ReadPlus4Args;
  [Nfs4Op.SEEK]: X.Seek4Args;
  [Nfs4Op.WRITE_SAME]: X.WriteSame4Args;
  [Nfs4Op.CLONE]: X.Clone4Args;
  [Nfs4Op.GETXATTR]: X.Getxattr4Args;
  [Nfs4Op.SETXATTR]: X.Setxattr4Args;
  [Nfs4Op.LISTXATTRS]: X.Listxattrs4Args;
  [Nfs4Op.REMOVEXATTR]: X.Removexattr4Args;
}

/** The result of each operation. */
export interface Nfs4ResMap {
  [Nfs4Op.ACCESS]: O.Access4Res;
  [Nfs4Op.CLOSE]: O.Close4Res;
  [Nfs4Op.COMMIT]: O.Commit4Res;
  [Nfs4Op.CREATE]: O.Create4Res;
  [Nfs4Op.DELEGPURGE]: Status4Res;
  [Nfs4Op.DELEGRETURN]: Status4Res;
  [Nfs4Op.GETATTR]: O.Getattr4Res;
  [Nfs4Op.GETFH]: O.Getfh4Res;
  [Nfs4Op.LINK]: O.Link4Res;
  [Nfs4Op.LOCK]: O.Lock4Res;
  [Nfs4Op.LOCKT]: O.Lockt4Res;
  [Nfs4Op.LOCKU]: O.Locku4Res;
  [Nfs4Op.LOOKUP]: Status4Res;
  [Nfs4Op.LOOKUPP]: Status4Res;
  [Nfs4Op.NVERIFY]: Status4Res;
  [Nfs4Op.OPEN]: O.Open4Res;
  [Nfs4Op.OPENATTR]: Status4Res;
  [Nfs4Op.OPEN_CONFIRM]: O.OpenConfirm4Res;
  [Nfs4Op.OPEN_DOWNGRADE]: O.OpenDowngrade4Res;
  [Nfs4Op.PUTFH]: Status4Res;
  [Nfs4Op.PUTPUBFH]: Status4Res;
  [Nfs4Op.PUTROOTFH]: Status4Res;
  [Nfs4Op.READ]: O.Read4Res;
  [Nfs4Op.READDIR]: O.Readdir4Res;
  [Nfs4Op.READLINK]: O.Readlink4Res;
  [Nfs4Op.REMOVE]: O.Remove4Res;
  [Nfs4Op.RENAME]: O.Rename4Res;
  [Nfs4Op.RENEW]: Status4Res;
  [Nfs4Op.RESTOREFH]: Status4Res;
  [Nfs4Op.SAVEFH]: Status4Res;
  [Nfs4Op.SECINFO]: O.Secinfo4Res;
  [Nfs4Op.SETATTR]: O.Setattr4Res;
  [Nfs4Op.SETCLIENTID]: O.Setclientid4Res;
  [Nfs4Op.SETCLIENTID_CONFIRM]: Status4Res;
  [Nfs4Op.VERIFY]: Status4Res;
  [Nfs4Op.WRITE]: O.Write4Res;
  [Nfs4Op.RELEASE_LOCKOWNER]: Status4Res;
  [Nfs4Op.BACKCHANNEL_CTL]: Status4Res;
  [Nfs4Op.BIND_CONN_TO_SESSION]: S.BindConnToSession4Res;
  [Nfs4Op.EXCHANGE_ID]: S.ExchangeId4Res;
  [Nfs4Op.CREATE_SESSION]: S.CreateSession4Res;
  [Nfs4Op.DESTROY_SESSION]: Status4Res;
  [Nfs4Op.FREE_STATEID]: Status4Res;
  [Nfs4Op.GET_DIR_DELEGATION]: S.GetDirDelegation4Res;
  [Nfs4Op.GETDEVICEINFO]: S.Getdeviceinfo4Res;
  [Nfs4Op.GETDEVICELIST]: S.Getdevicelist4Res;
  [Nfs4Op.LAYOUTCOMMIT]: S.Layoutcommit4Res;
  [Nfs4Op.LAYOUTGET]: S.Layoutget4Res;
  [Nfs4Op.LAYOUTRETURN]: S.Layoutreturn4Res;
  [Nfs4Op.SECINFO_NO_NAME]: O.Secinfo4Res;
  [Nfs4Op.SEQUENCE]: S.Sequence4Res;
  [Nfs4Op.SET_SSV]: S.SetSsv4Res;
  [Nfs4Op.TEST_STATEID]: S.TestStateid4Res;
  [Nfs4Op.WANT_DELEGATION]: S.WantDelegation4Res;
  [Nfs4Op.DESTROY_CLIENTID]: Status4Res;
  [Nfs4Op.RECLAIM_COMPLETE]: Status4Res;
  [Nfs4Op.ALLOCATE]: Status4Res;
  [Nfs4Op.COPY]: X.Copy4Res;
  [Nfs4Op.COPY_NOTIFY]: X.CopyNotify4Res;
  [Nfs4Op.DEALLOCATE]: Status4Res;
  [Nfs4Op.IO_ADVISE]: X.IoAdvise4Res;
  [Nfs4Op.LAYOUTERROR]: Status4Res;
  [Nfs4Op.LAYOUTSTATS]: Status4Res;
  [Nfs4Op.OFFLOAD_CANCEL]: Status4Res;
  [Nfs4Op.OFFLOAD_STATUS]: X.OffloadStatus4Res;
  [Nfs4Op.READ_PLUS]: X.ReadPlus4Res;
  [Nfs4Op.SEEK]: X.Seek4Res;
  [Nfs4Op.WRITE_SAME]: X.WriteSame4Res;
  [Nfs4Op.CLONE]: Status4Res;
  [Nfs4Op.GETXATTR]: X.Getxattr4Res;
  [Nfs4Op.SETXATTR]: X.Setxattr4Res;
  [Nfs4Op.LISTXATTRS]: X.Listxattrs4Res;
  [Nfs4Op.REMOVEXATTR]: X.Removexattr4Res;
}

/** A known operation number. */
export type Nfs4KnownOp = keyof Nfs4ArgsMap;

/** One operation of a COMPOUND request: `{ op, args }`, discriminated by op. */
export type Nfs4ArgOp = { [K in Nfs4KnownOp]: { op: K; args: Nfs4ArgsMap[K] } }[Nfs4KnownOp];

/** The result an unknown operation number gets: op OP_ILLEGAL, status NFS4ERR_OP_ILLEGAL. */
export interface IllegalResOp {
  op: typeof OP_ILLEGAL;
  res: { status: Nfs4Error };
}

/** One operation's result in a COMPOUND reply. */
export type Nfs4ResOp = { [K in Nfs4KnownOp]: { op: K; res: Nfs4ResMap[K] } }[Nfs4KnownOp] | IllegalResOp;

/** COMPOUND4args, as a client builds it. */
export interface Compound4Args {
  /** utf8str_cs, echoed by the server: kept as bytes. */
  tag: Buffer;
  minorversion: number;
  ops: Nfs4ArgOp[];
}

/**
 * Why decoding stopped before the op count: the op at `index` (the first
 * not in `ops`) is answered with `status` and the COMPOUND ends there.
 * - an op number unknown in this minor version: `illegal`, status
 *   NFS4ERR_OP_ILLEGAL, answered with result op OP_ILLEGAL;
 * - a known op whose arguments did not decode: `error` says why (its
 *   `code`), status what to answer (NFS4ERR_BADXDR, or INVAL, NAMETOOLONG,
 *   BADNAME, ATTRNOTSUPP ... for checks RFC 8881 puts on the arguments).
 */
export type Compound4Stop =
  | { index: number; opnum: number; illegal: true; status: typeof Nfs4Stat.OP_ILLEGAL }
  | { index: number; opnum: Nfs4KnownOp; illegal: false; status: Nfs4Error; error: Nfs4CodecError };

/** COMPOUND4args as the server decoded it. */
export interface Compound4Decoded extends Compound4Args {
  /** The op count the client declared. */
  opCount: number;
  /** True when opCount exceeded the limit: only the first maxOps ops were looked at. */
  truncated: boolean;
  /** Set when an op could not be decoded (see Compound4Stop); `ops` are the ones before it. */
  stop?: Compound4Stop;
}

/** COMPOUND4res. `status` is the last result's (NFS4_OK when all succeeded). */
export interface Compound4Res {
  status: Nfs4Status;
  tag: Buffer;
  results: Nfs4ResOp[];
}
