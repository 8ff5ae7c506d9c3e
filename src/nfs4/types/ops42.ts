/**
 * Arguments and results of the operations NFSv4.2 added (59..71, RFC 7862)
 * and of the extended attribute operations (72..75, RFC 8276).
 */
import type { Nfs4Stat, Nfs4Status, StableHow4Value } from '../constants.js';
import type { Bitmap4, ChangeInfo4, Fail, FailExcept, Netloc4, Nfstime4, Ok, Stateid4, WriteResponse4 } from './basic.js';

// ALLOCATE4args, DEALLOCATE4args (results: status only)
export interface Allocate4Args { stateid: Stateid4; offset: bigint; length: bigint }
export interface Deallocate4Args { stateid: Stateid4; offset: bigint; length: bigint }

export interface CopyRequirements4 { consecutive: boolean; synchronous: boolean }
// COPY4args / COPY4res
export interface Copy4Args {
  srcStateid: Stateid4;
  dstStateid: Stateid4;
  srcOffset: bigint;
  dstOffset: bigint;
  count: bigint;
  consecutive: boolean;
  synchronous: boolean;
  sourceServers: Netloc4[];
}
type NoReqs = typeof Nfs4Stat.OFFLOAD_NO_REQS;
export type Copy4Res =
  | Ok<{ response: WriteResponse4; requirements: CopyRequirements4 }>
  | { status: NoReqs; requirements: CopyRequirements4 }
  | FailExcept<NoReqs>;

// COPY_NOTIFY4args / COPY_NOTIFY4res
export interface CopyNotify4Args { srcStateid: Stateid4; destinationServer: Netloc4 }
export type CopyNotify4Res = Ok<{ leaseTime: Nfstime4; stateid: Stateid4; sourceServers: Netloc4[] }> | Fail;

// IO_ADVISE4args / IO_ADVISE4res
export interface IoAdvise4Args { stateid: Stateid4; offset: bigint; count: bigint; hints: Bitmap4 }
export type IoAdvise4Res = Ok<{ hints: Bitmap4 }> | Fail;

export interface DeviceError4 { deviceId: Buffer; status: Nfs4Status; opnum: number }
// LAYOUTERROR4args (result: status only)
export interface Layouterror4Args { offset: bigint; length: bigint; stateid: Stateid4; errors: DeviceError4[] }

export interface IoInfo4 { count: bigint; bytes: bigint }
// LAYOUTSTATS4args (result: status only)
export interface Layoutstats4Args {
  offset: bigint;
  length: bigint;
  stateid: Stateid4;
  read: IoInfo4;
  write: IoInfo4;
  deviceId: Buffer;
  layoutType: number;
  layoutBody: Buffer;
}

// OFFLOAD_CANCEL4args (result: status only), OFFLOAD_STATUS4args / OFFLOAD_STATUS4res
export interface OffloadCancel4Args { stateid: Stateid4 }
export interface OffloadStatus4Args { stateid: Stateid4 }
export type OffloadStatus4Res = Ok<{ count: bigint; complete?: Nfs4Status }> | Fail;

/** read_plus_content: data (a view, like READ's) or a hole; other types take the void arm. */
export type ReadPlusContent4 =
  | { type: 0; offset: bigint; data: Buffer }
  | { type: 1; offset: bigint; length: bigint };
// READ_PLUS4args / READ_PLUS4res
export interface ReadPlus4Args { stateid: Stateid4; offset: bigint; count: number }
export type ReadPlus4Res =
  | Ok<{ eof: boolean; contents: ReadPlusContent4[]; release?: () => void }>
  | Fail;

// SEEK4args / SEEK4res
export interface Seek4Args { stateid: Stateid4; offset: bigint; what: number }
export type Seek4Res = Ok<{ eof: boolean; offset: bigint }> | Fail;

export interface AppDataBlock4 {
  offset: bigint;
  blockSize: bigint;
  blockCount: bigint;
  reloffBlocknum: bigint;
  blockNum: number;
  reloffPattern: bigint;
  pattern: Buffer;
}
// WRITE_SAME4args / WRITE_SAME4res
export interface WriteSame4Args { stateid: Stateid4; stable: StableHow4Value; adb: AppDataBlock4 }
export type WriteSame4Res = Ok<{ response: WriteResponse4 }> | Fail;

// CLONE4args (result: status only)
export interface Clone4Args {
  srcStateid: Stateid4;
  dstStateid: Stateid4;
  srcOffset: bigint;
  dstOffset: bigint;
  count: bigint;
}

// GETXATTR4args / GETXATTR4res
export interface Getxattr4Args { name: string }
export type Getxattr4Res = Ok<{ value: Buffer }> | Fail;

// SETXATTR4args / SETXATTR4res
export interface Setxattr4Args {
  option: number;
  key: string;
  /** A view of the request record, like WRITE data. */
  value: Buffer;
}
export type Setxattr4Res = Ok<{ cinfo: ChangeInfo4 }> | Fail;

// LISTXATTRS4args / LISTXATTRS4res
export interface Listxattrs4Args { cookie: bigint; maxcount: number }
export type Listxattrs4Res = Ok<{ cookie: bigint; names: string[]; eof: boolean }> | Fail;

// REMOVEXATTR4args / REMOVEXATTR4res
export interface Removexattr4Args { name: string }
export type Removexattr4Res = Ok<{ cinfo: ChangeInfo4 }> | Fail;
