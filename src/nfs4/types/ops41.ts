/**
 * Arguments and results of the operations NFSv4.1 added (40..58): sessions,
 * state management, delegations and pNFS (the last two decoded so that the
 * server can answer them, never granted).
 */
import type { Nfs4Stat, Nfs4Status } from '../constants.js';
import type {
  Bitmap4, CallbackSecParms4, ChannelAttrs4, ClientOwner4, Fail, FailExcept, Layout4, NfsImplId4, Nfstime4, Ok,
  OpenDelegation4, ServerOwner4, StateProtectOps4, Stateid4,
} from './basic.js';

// BACKCHANNEL_CTL4args (result: status only)
export interface BackchannelCtl4Args { cbProgram: number; secParms: CallbackSecParms4[] }

// BIND_CONN_TO_SESSION4args / BIND_CONN_TO_SESSION4res
export interface BindConnToSession4Args { sessid: Buffer; dir: number; useConnInRdmaMode: boolean }
export type BindConnToSession4Res = Ok<{ sessid: Buffer; dir: number; useConnInRdmaMode: boolean }> | Fail;

export interface SsvSpParms4 {
  ops: StateProtectOps4;
  hashAlgs: Buffer[];
  encrAlgs: Buffer[];
  window: number;
  numGssHandles: number;
}
/** state_protect4_a. */
export type StateProtect4A = { how: 0 } | { how: 1; machOps: StateProtectOps4 } | { how: 2; ssvParms: SsvSpParms4 };
export interface SsvProtInfo4 {
  ops: StateProtectOps4;
  hashAlg: number;
  encrAlg: number;
  ssvLen: number;
  window: number;
  handles: Buffer[];
}
/** state_protect4_r. */
export type StateProtect4R = { how: 0 } | { how: 1; machOps: StateProtectOps4 } | { how: 2; ssvInfo: SsvProtInfo4 };
// EXCHANGE_ID4args / EXCHANGE_ID4res
export interface ExchangeId4Args {
  clientowner: ClientOwner4;
  flags: number;
  stateProtect: StateProtect4A;
  /** eia_client_impl_id<1>: absent when the array is empty. */
  clientImplId?: NfsImplId4;
}
export type ExchangeId4Res =
  | Ok<{
      clientid: bigint;
      sequenceid: number;
      flags: number;
      stateProtect: StateProtect4R;
      serverOwner: ServerOwner4;
      serverScope: Buffer;
      serverImplId?: NfsImplId4;
    }>
  | Fail;

// CREATE_SESSION4args / CREATE_SESSION4res
export interface CreateSession4Args {
  clientid: bigint;
  sequence: number;
  flags: number;
  foreChanAttrs: ChannelAttrs4;
  backChanAttrs: ChannelAttrs4;
  cbProgram: number;
  secParms: CallbackSecParms4[];
}
export type CreateSession4Res =
  | Ok<{ sessionid: Buffer; sequence: number; flags: number; foreChanAttrs: ChannelAttrs4; backChanAttrs: ChannelAttrs4 }>
  | Fail;

// DESTROY_SESSION4args, FREE_STATEID4args (results: status only)
export interface DestroySession4Args { sessionid: Buffer }
export interface FreeStateid4Args { stateid: Stateid4 }

// GET_DIR_DELEGATION4args / GET_DIR_DELEGATION4res
export interface GetDirDelegation4Args {
  signalDelegAvail: boolean;
  notificationTypes: Bitmap4;
  childAttrDelay: Nfstime4;
  dirAttrDelay: Nfstime4;
  childAttributes: Bitmap4;
  dirAttributes: Bitmap4;
}
export type GetDirDelegation4NonFatal =
  | { gdd: 0; cookieverf: Buffer; stateid: Stateid4; notification: Bitmap4; childAttributes: Bitmap4; dirAttributes: Bitmap4 }
  | { gdd: 1; willSignalDelegAvail: boolean };
export type GetDirDelegation4Res = Ok<{ nonFatal: GetDirDelegation4NonFatal }> | Fail;

// GETDEVICEINFO4args / GETDEVICEINFO4res
export interface Getdeviceinfo4Args { deviceId: Buffer; layoutType: number; maxcount: number; notifyTypes: Bitmap4 }
type TooSmall = typeof Nfs4Stat.TOOSMALL;
export type Getdeviceinfo4Res =
  | Ok<{ layoutType: number; addrBody: Buffer; notification: Bitmap4 }>
  | { status: TooSmall; mincount: number }
  | FailExcept<TooSmall>;

// GETDEVICELIST4args / GETDEVICELIST4res
export interface Getdevicelist4Args { layoutType: number; maxdevices: number; cookie: bigint; cookieverf: Buffer }
export type Getdevicelist4Res = Ok<{ cookie: bigint; cookieverf: Buffer; deviceIds: Buffer[]; eof: boolean }> | Fail;

// LAYOUTCOMMIT4args / LAYOUTCOMMIT4res
export interface Layoutcommit4Args {
  offset: bigint;
  length: bigint;
  reclaim: boolean;
  stateid: Stateid4;
  lastWriteOffset?: bigint;
  timeModify?: Nfstime4;
  layoutType: number;
  layoutBody: Buffer;
}
export type Layoutcommit4Res = Ok<{ newSize?: bigint }> | Fail;

// LAYOUTGET4args / LAYOUTGET4res
export interface Layoutget4Args {
  signalLayoutAvail: boolean;
  layoutType: number;
  iomode: number;
  offset: bigint;
  length: bigint;
  minlength: bigint;
  stateid: Stateid4;
  maxcount: number;
}
type TryLater = typeof Nfs4Stat.LAYOUTTRYLATER;
export type Layoutget4Res =
  | Ok<{ returnOnClose: boolean; stateid: Stateid4; layouts: Layout4[] }>
  | { status: TryLater; willSignalLayoutAvail: boolean }
  | FailExcept<TryLater>;

/** layoutreturn4: a file range (1) or a whole fsid (2) / everything (3). */
export type Layoutreturn4 =
  | { returnType: 1; offset: bigint; length: bigint; stateid: Stateid4; body: Buffer }
  | { returnType: 2 | 3 };
// LAYOUTRETURN4args / LAYOUTRETURN4res
export interface Layoutreturn4Args { reclaim: boolean; layoutType: number; iomode: number; layoutreturn: Layoutreturn4 }
export type Layoutreturn4Res = Ok<{ stateid?: Stateid4 }> | Fail;

// SECINFO_NO_NAME4args (result: SECINFO4res)
export interface SecinfoNoName4Args { style: number }

// SEQUENCE4args / SEQUENCE4res
export interface Sequence4Args {
  sessionid: Buffer;
  sequenceid: number;
  slotid: number;
  highestSlotid: number;
  cachethis: boolean;
}
export type Sequence4Res =
  | Ok<{
      sessionid: Buffer;
      sequenceid: number;
      slotid: number;
      highestSlotid: number;
      targetHighestSlotid: number;
      statusFlags: number;
    }>
  | Fail;

// SET_SSV4args / SET_SSV4res
export interface SetSsv4Args { ssv: Buffer; digest: Buffer }
export type SetSsv4Res = Ok<{ digest: Buffer }> | Fail;

// TEST_STATEID4args / TEST_STATEID4res
export interface TestStateid4Args { stateids: Stateid4[] }
export type TestStateid4Res = Ok<{ statusCodes: Nfs4Status[] }> | Fail;

/** deleg_claim4. */
export type DelegClaim4 = { claim: 4 } | { claim: 6 } | { claim: 1; delegateType: number };
// WANT_DELEGATION4args / WANT_DELEGATION4res
export interface WantDelegation4Args { want: number; claim: DelegClaim4 }
export type WantDelegation4Res = Ok<{ delegation: OpenDelegation4 }> | Fail;

// DESTROY_CLIENTID4args, RECLAIM_COMPLETE4args (results: status only)
export interface DestroyClientid4Args { clientid: bigint }
export interface ReclaimComplete4Args { oneFs: boolean }
