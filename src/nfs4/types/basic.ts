/**
 * NFSv4 basic data types (spec/nfs4.x, RFC 8881 section 3) and the typed
 * attribute object the fattr4 codec reads and writes. Names follow the RFC
 * fields in camelCase, without their per-struct prefixes. 64-bit values are
 * bigint; opaque values are Buffers (copies, unless a type says "a view").
 */
import type { Nfs4Error, Nfs4Status, Ftype4Value } from '../constants.js';

/** Failure arms carry the status and, for a few results, more (LOCK4denied ...). */
export type Ok<T = {}> = { status: 0 } & T;
export type Fail<T = {}> = { status: Nfs4Error } & T;
/** A failure other than the statuses that have arms of their own. */
export type FailExcept<E extends Nfs4Error> = { status: Exclude<Nfs4Error, E> };
/** The result of the operations that return only a status. */
export interface Status4Res {
  status: Nfs4Status;
}
/** Operations with void arguments. */
export type NoArgs = undefined;

/** bitmap4: uint32 words, word 0 (attributes 0..31) first. */
export type Bitmap4 = number[];

export interface Nfstime4 {
  seconds: bigint;
  nseconds: number;
}

/** settime4: 'server' is SET_TO_SERVER_TIME4. */
export type Settime4 = Nfstime4 | 'server';

export interface Stateid4 {
  seqid: number;
  /** 12 bytes. */
  other: Buffer;
}

export interface ChangeInfo4 {
  atomic: boolean;
  before: bigint;
  after: bigint;
}

/** state_owner4 (open_owner4, lock_owner4). */
export interface StateOwner4 {
  clientid: bigint;
  owner: Buffer;
}

export interface Specdata4 {
  specdata1: number;
  specdata2: number;
}

export interface Fsid4 {
  major: bigint;
  minor: bigint;
}

export interface Netaddr4 {
  netid: string;
  addr: string;
}

export interface NfsImplId4 {
  domain: string;
  name: string;
  date: Nfstime4;
}

export interface Nfsace4 {
  type: number;
  flag: number;
  accessMask: number;
  who: string;
}

export interface FsLocation4 {
  server: string[];
  rootpath: string[];
}

export interface FsLocations4 {
  fsRoot: string[];
  locations: FsLocation4[];
}

export interface ModeUmask4 {
  mode: number;
  umask: number;
}

/**
 * The attribute values the codec knows, by attribute (spec/nfs4.x). A
 * value left undefined is not sent: encodeFattr4 clears its bit.
 */
export interface Fattr4Values {
  supportedAttrs?: Bitmap4;
  type?: Ftype4Value;
  fhExpireType?: number;
  change?: bigint;
  size?: bigint;
  linkSupport?: boolean;
  symlinkSupport?: boolean;
  namedAttr?: boolean;
  fsid?: Fsid4;
  uniqueHandles?: boolean;
  leaseTime?: number;
  rdattrError?: Nfs4Status;
  aclsupport?: number;
  cansettime?: boolean;
  caseInsensitive?: boolean;
  casePreserving?: boolean;
  chownRestricted?: boolean;
  filehandle?: Buffer;
  fileid?: bigint;
  filesAvail?: bigint;
  filesFree?: bigint;
  filesTotal?: bigint;
  fsLocations?: FsLocations4;
  homogeneous?: boolean;
  maxfilesize?: bigint;
  maxlink?: number;
  maxname?: number;
  maxread?: bigint;
  maxwrite?: bigint;
  mode?: number;
  noTrunc?: boolean;
  numlinks?: number;
  owner?: string;
  ownerGroup?: string;
  rawdev?: Specdata4;
  spaceAvail?: bigint;
  spaceFree?: bigint;
  spaceTotal?: bigint;
  spaceUsed?: bigint;
  timeAccess?: Nfstime4;
  timeAccessSet?: Settime4;
  timeCreate?: Nfstime4;
  timeDelta?: Nfstime4;
  timeMetadata?: Nfstime4;
  timeModify?: Nfstime4;
  timeModifySet?: Settime4;
  mountedOnFileid?: bigint;
  fsLayoutTypes?: number[];
  layoutBlksize?: number;
  suppattrExclcreat?: Bitmap4;
  cloneBlksize?: number;
  changeAttrType?: number;
  modeUmask?: ModeUmask4;
  xattrSupport?: boolean;
}

/**
 * fattr4 as values: `mask` says which attributes are present. On encode the
 * bits sent are those of `mask` with a value the codec knows; on decode the
 * mask is exactly the wire's.
 */
export interface Fattr4 {
  mask: Bitmap4;
  values: Fattr4Values;
}

// ---- session and callback types (NFSv4.1) ----

export interface ClientOwner4 {
  verifier: Buffer;
  ownerid: Buffer;
}

export interface ServerOwner4 {
  minorId: bigint;
  majorId: Buffer;
}

export interface ChannelAttrs4 {
  headerPadSize: number;
  maxRequestSize: number;
  maxResponseSize: number;
  maxResponseSizeCached: number;
  maxOperations: number;
  maxRequests: number;
  /** ca_rdma_ird<1>: absent when the array is empty. */
  rdmaIrd?: number;
}

export interface AuthsysParms {
  stamp: number;
  machinename: string;
  uid: number;
  gid: number;
  gids: number[];
}

export interface GssCbHandles4 {
  service: number;
  handleFromServer: Buffer;
  handleFromClient: Buffer;
}

/** callback_sec_parms4, switched on the flavor (AUTH_NONE 0, AUTH_SYS 1, RPCSEC_GSS 6). */
export type CallbackSecParms4 =
  | { flavor: 0 }
  | { flavor: 1; sys: AuthsysParms }
  | { flavor: 6; gss: GssCbHandles4 };

export interface StateProtectOps4 {
  mustEnforce: Bitmap4;
  mustAllow: Bitmap4;
}

/** netloc4 (COPY, COPY_NOTIFY). */
export type Netloc4 = { type: 1; name: string } | { type: 2; url: string } | { type: 3; addr: Netaddr4 };

/** open_delegation4: what OPEN and WANT_DELEGATION grant (we grant NONE or NONE_EXT). */
export type OpenDelegation4 =
  | { type: 0 }
  | { type: 1; read: { stateid: Stateid4; recall: boolean; permissions: Nfsace4 } }
  | { type: 2; write: { stateid: Stateid4; recall: boolean; spaceLimit: SpaceLimit4; permissions: Nfsace4 } }
  | { type: 3; whynone: WhyNone4 };

/** open_none_delegation4: a boolean follows only for WND4_CONTENTION (1) and WND4_RESOURCE (2). */
export type WhyNone4 = { why: 1 | 2; flag: boolean } | { why: 0 | 3 | 4 | 5 | 6 | 7 | 8 };

export type SpaceLimit4 = { limitBy: 1; filesize: bigint } | { limitBy: 2; numBlocks: number; bytesPerBlock: number };

export interface Layout4 {
  offset: bigint;
  length: bigint;
  iomode: number;
  type: number;
  body: Buffer;
}

export interface WriteResponse4 {
  /** wr_callback_id<1>: absent for a synchronous copy. */
  callbackId?: Stateid4;
  count: bigint;
  committed: number;
  writeverf: Buffer;
}
