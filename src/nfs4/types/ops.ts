/**
 * Arguments and results of the operations NFSv4.0 defined (3..39), which
 * 4.1 and 4.2 keep (OPEN_CONFIRM, RENEW, SETCLIENTID, SETCLIENTID_CONFIRM
 * and RELEASE_LOCKOWNER are 4.0-only but decoded so 4.0 traffic reads).
 * The comment on each op names its XDR in spec/nfs4.x.
 */
import type { ReplyTail } from '../../rpc/program.js';
import type { Nfs4Stat, LockType4Value, StableHow4Value } from '../constants.js';
import type {
  Bitmap4, ChangeInfo4, Fail, FailExcept, Fattr4, Netaddr4, Ok, OpenDelegation4, Specdata4, Stateid4,
  StateOwner4,
} from './basic.js';

type Denied = typeof Nfs4Stat.DENIED;

// ACCESS4args / ACCESS4res
export interface Access4Args { access: number }
export type Access4Res = Ok<{ supported: number; access: number }> | Fail;

// CLOSE4args / CLOSE4res
export interface Close4Args { seqid: number; openStateid: Stateid4 }
export type Close4Res = Ok<{ openStateid: Stateid4 }> | Fail;

// COMMIT4args / COMMIT4res
export interface Commit4Args { offset: bigint; count: number }
export type Commit4Res = Ok<{ writeverf: Buffer }> | Fail;

/**
 * createtype4: NF4LNK carries the link text, NF4BLK/NF4CHR a device; every
 * other type value takes the void arm (the server answers BADTYPE for those
 * it cannot create).
 */
export type Createtype4 = { type: 5; linkdata: Buffer } | { type: 3 | 4; devdata: Specdata4 } | { type: number };
// CREATE4args / CREATE4res
export interface Create4Args { objtype: Createtype4; objname: string; createattrs: Fattr4 }
export type Create4Res = Ok<{ cinfo: ChangeInfo4; attrset: Bitmap4 }> | Fail;

// DELEGPURGE4args, DELEGRETURN4args (results: status only)
export interface Delegpurge4Args { clientid: bigint }
export interface Delegreturn4Args { delegStateid: Stateid4 }

// GETATTR4args / GETATTR4res
export interface Getattr4Args { attrRequest: Bitmap4 }
export type Getattr4Res = Ok<{ attrs: Fattr4 }> | Fail;

// GETFH4res
export type Getfh4Res = Ok<{ object: Buffer }> | Fail;

// LINK4args / LINK4res
export interface Link4Args { newname: string }
export type Link4Res = Ok<{ cinfo: ChangeInfo4 }> | Fail;

/** locker4: a new lock owner (from an open stateid) or an existing lock stateid. */
export type Locker4 =
  | { newLockOwner: true; openSeqid: number; openStateid: Stateid4; lockSeqid: number; lockOwner: StateOwner4 }
  | { newLockOwner: false; lockStateid: Stateid4; lockSeqid: number };
export interface Lock4Denied { offset: bigint; length: bigint; locktype: LockType4Value; owner: StateOwner4 }
// LOCK4args / LOCK4res
export interface Lock4Args { locktype: LockType4Value; reclaim: boolean; offset: bigint; length: bigint; locker: Locker4 }
export type Lock4Res = Ok<{ lockStateid: Stateid4 }> | { status: Denied; denied: Lock4Denied } | FailExcept<Denied>;

// LOCKT4args / LOCKT4res
export interface Lockt4Args { locktype: LockType4Value; offset: bigint; length: bigint; owner: StateOwner4 }
export type Lockt4Res = Ok | { status: Denied; denied: Lock4Denied } | FailExcept<Denied>;

// LOCKU4args / LOCKU4res
export interface Locku4Args { locktype: LockType4Value; seqid: number; lockStateid: Stateid4; offset: bigint; length: bigint }
export type Locku4Res = Ok<{ lockStateid: Stateid4 }> | Fail;

// LOOKUP4args (result: status only)
export interface Lookup4Args { objname: string }

// NVERIFY4args, VERIFY4args (results: status only)
export interface Nverify4Args { objAttributes: Fattr4 }
export interface Verify4Args { objAttributes: Fattr4 }

/** createhow4. */
export type Createhow4 =
  | { mode: 0 | 1; createattrs: Fattr4 }
  | { mode: 2; createverf: Buffer }
  | { mode: 3; createverf: Buffer; createattrs: Fattr4 };
/** openflag4. */
export type Openflag4 = { opentype: 0 } | { opentype: 1; how: Createhow4 };
/** open_claim4. */
export type OpenClaim4 =
  | { claim: 0; file: string }
  | { claim: 1; delegateType: number }
  | { claim: 2; delegateStateid: Stateid4; file: string }
  | { claim: 3; file: string }
  | { claim: 4 }
  | { claim: 5; delegateStateid: Stateid4 }
  | { claim: 6 };
// OPEN4args / OPEN4res
export interface Open4Args {
  seqid: number;
  shareAccess: number;
  shareDeny: number;
  owner: StateOwner4;
  openhow: Openflag4;
  claim: OpenClaim4;
}
export type Open4Res =
  | Ok<{ stateid: Stateid4; cinfo: ChangeInfo4; rflags: number; attrset: Bitmap4; delegation: OpenDelegation4 }>
  | Fail;

// OPENATTR4args (result: status only)
export interface Openattr4Args { createdir: boolean }

// OPEN_CONFIRM4args / OPEN_CONFIRM4res (4.0)
export interface OpenConfirm4Args { openStateid: Stateid4; seqid: number }
export type OpenConfirm4Res = Ok<{ openStateid: Stateid4 }> | Fail;

// OPEN_DOWNGRADE4args / OPEN_DOWNGRADE4res
export interface OpenDowngrade4Args { openStateid: Stateid4; seqid: number; shareAccess: number; shareDeny: number }
export type OpenDowngrade4Res = Ok<{ openStateid: Stateid4 }> | Fail;

// PUTFH4args (result: status only)
export interface Putfh4Args { object: Buffer }

// READ4args / READ4res
export interface Read4Args { stateid: Stateid4; offset: bigint; count: number }
export type Read4Res =
  | Ok<{
      eof: boolean;
      /** A view: of the reply record on the client; on the server, data the encoder lends to the socket. */
      data: Buffer;
      /** Server side: the data is in a kernel pipe instead (`data` is then empty), sent without a copy. */
      spliced?: ReplyTail;
      /** Server side: gives the buffer (or pipe) behind the data back once the reply is sent. */
      release?: () => void;
    }>
  | Fail;

export interface Entry4 { cookie: bigint; name: string; attrs: Fattr4 }
// READDIR4args / READDIR4res
export interface Readdir4Args { cookie: bigint; cookieverf: Buffer; dircount: number; maxcount: number; attrRequest: Bitmap4 }
export type Readdir4Res =
  | Ok<{
      cookieverf: Buffer;
      entries: Entry4[];
      eof: boolean;
      /** Server side only: entries already encoded (entry4 items with their leading TRUE), sent after `entries`. */
      encoded?: Buffer;
    }>
  | Fail;

// READLINK4res
export type Readlink4Res = Ok<{ link: Buffer }> | Fail;

// REMOVE4args / REMOVE4res
export interface Remove4Args { target: string }
export type Remove4Res = Ok<{ cinfo: ChangeInfo4 }> | Fail;

// RENAME4args / RENAME4res
export interface Rename4Args { oldname: string; newname: string }
export type Rename4Res = Ok<{ sourceCinfo: ChangeInfo4; targetCinfo: ChangeInfo4 }> | Fail;

// RENEW4args (4.0; result: status only)
export interface Renew4Args { clientid: bigint }

/** secinfo4: RPCSEC_GSS (6) carries its triple; other flavors nothing. */
export type Secinfo4 = { flavor: 6; oid: Buffer; qop: number; service: number } | { flavor: number };
// SECINFO4args / SECINFO4res (also SECINFO_NO_NAME4res)
export interface Secinfo4Args { name: string }
export type Secinfo4Res = Ok<{ flavors: Secinfo4[] }> | Fail;

// SETATTR4args / SETATTR4res: attrsset is there whatever the status.
export interface Setattr4Args { stateid: Stateid4; objAttributes: Fattr4 }
export type Setattr4Res = Ok<{ attrsset: Bitmap4 }> | Fail<{ attrsset: Bitmap4 }>;

// SETCLIENTID4args / SETCLIENTID4res (4.0)
export interface Setclientid4Args {
  client: { verifier: Buffer; id: Buffer };
  callback: { program: number; location: Netaddr4 };
  callbackIdent: number;
}
type ClidInuse = typeof Nfs4Stat.CLID_INUSE;
export type Setclientid4Res =
  | Ok<{ clientid: bigint; setclientidConfirm: Buffer }>
  | { status: ClidInuse; clientUsing: Netaddr4 }
  | FailExcept<ClidInuse>;

// SETCLIENTID_CONFIRM4args (4.0; result: status only)
export interface SetclientidConfirm4Args { clientid: bigint; setclientidConfirm: Buffer }

// WRITE4args / WRITE4res
export interface Write4Args {
  stateid: Stateid4;
  offset: bigint;
  stable: StableHow4Value;
  /** A view of the request record (zero copy): valid while the call runs. */
  data: Buffer;
}
export type Write4Res = Ok<{ count: number; committed: StableHow4Value; writeverf: Buffer }> | Fail;

// RELEASE_LOCKOWNER4args (4.0; result: status only)
export interface ReleaseLockowner4Args { lockOwner: StateOwner4 }

