/**
 * NFSv3 argument and result types, one pair per procedure (RFC 1813 section
 * 3.3, spec/nfs3.x). Results are discriminated on `status`: the NFS3_OK arm
 * carries the resok fields, the failure arm (any Nfs3Error) carries what the
 * RFC's resfail carries (post_op_attr / wcc_data), so handlers cannot forget it.
 */
import type { Nfs3Error, Ftype3Value, StableHow3Value } from './constants.js';
import type { ReplyTail } from '../rpc/program.js';

// ---- basic data types (section 2.5) ----

export interface Nfstime3 {
  seconds: number;
  nseconds: number;
}

export interface Specdata3 {
  specdata1: number;
  specdata2: number;
}

export interface Fattr3 {
  type: Ftype3Value;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: bigint;
  used: bigint;
  rdev: Specdata3;
  fsid: bigint;
  fileid: bigint;
  atime: Nfstime3;
  mtime: Nfstime3;
  ctime: Nfstime3;
}

/** post_op_attr: undefined = attributes_follow FALSE. */
export type PostOpAttr = Fattr3 | undefined;

export interface WccAttr {
  size: bigint;
  mtime: Nfstime3;
  ctime: Nfstime3;
}

/** pre_op_attr: undefined = attributes_follow FALSE. */
export type PreOpAttr = WccAttr | undefined;

export interface WccData {
  before: PreOpAttr;
  after: PostOpAttr;
}

/** post_op_fh3: undefined = handle_follows FALSE. */
export type PostOpFh3 = Buffer | undefined;

/** set_atime / set_mtime: undefined = DONT_CHANGE, 'server' = SET_TO_SERVER_TIME. */
export type SetTime = Nfstime3 | 'server' | undefined;

export interface Sattr3 {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: bigint;
  atime?: Nfstime3 | 'server';
  mtime?: Nfstime3 | 'server';
}

export interface DirOpArgs3 {
  dir: Buffer;
  name: string;
}

// ---- helpers for failure arms ----
type Fail<T> = { status: Nfs3Error } & T;
type Ok<T> = { status: 0 } & T;

// ---- per procedure ----

export type NullArgs = void;
export type NullRes = void;

export interface GetattrArgs { object: Buffer }
export type GetattrRes = Ok<{ attrs: Fattr3 }> | Fail<{}>;

export interface SetattrArgs { object: Buffer; attrs: Sattr3; guard?: Nfstime3 }
export type SetattrRes = Ok<{ wcc: WccData }> | Fail<{ wcc: WccData }>;

export interface LookupArgs { what: DirOpArgs3 }
export type LookupRes =
  | Ok<{ object: Buffer; objAttrs: PostOpAttr; dirAttrs: PostOpAttr }>
  | Fail<{ dirAttrs: PostOpAttr }>;

export interface AccessArgs { object: Buffer; access: number }
export type AccessRes = Ok<{ objAttrs: PostOpAttr; access: number }> | Fail<{ objAttrs: PostOpAttr }>;

export interface ReadlinkArgs { symlink: Buffer }
export type ReadlinkRes = Ok<{ attrs: PostOpAttr; data: string }> | Fail<{ attrs: PostOpAttr }>;

export interface ReadArgs { file: Buffer; offset: bigint; count: number }
export type ReadRes =
  | Ok<{
      attrs: PostOpAttr;
      count: number;
      eof: boolean;
      data: Buffer;
      /** Server side: the data is in a kernel pipe instead (`data` is then empty), sent without a copy. */
      spliced?: ReplyTail;
      /** gives the buffer (or pipe) behind the data back once the reply is sent */
      release?: () => void;
    }>
  | Fail<{ attrs: PostOpAttr }>;

export interface WriteArgs {
  file: Buffer;
  offset: bigint;
  count: number;
  stable: StableHow3Value;
  /** A view of the request record (zero copy): valid while the call runs. */
  data: Buffer;
}
export type WriteRes =
  | Ok<{ wcc: WccData; count: number; committed: StableHow3Value; verf: Buffer }>
  | Fail<{ wcc: WccData }>;

export type CreateHow3 =
  | { mode: 0 | 1; attrs: Sattr3 }
  | { mode: 2; verf: Buffer };
export interface CreateArgs { where: DirOpArgs3; how: CreateHow3 }

/** Shared by CREATE, MKDIR, SYMLINK, MKNOD. */
export type DirCreateRes =
  | Ok<{ obj: PostOpFh3; objAttrs: PostOpAttr; dirWcc: WccData }>
  | Fail<{ dirWcc: WccData }>;
export type CreateRes = DirCreateRes;

export interface MkdirArgs { where: DirOpArgs3; attrs: Sattr3 }
export type MkdirRes = DirCreateRes;

/** The target is kept as bytes: the handler (not the decoder) refuses empty, NUL or non-UTF-8 targets with INVAL, as knfsd does. */
export interface SymlinkArgs { where: DirOpArgs3; attrs: Sattr3; target: Buffer }
export type SymlinkRes = DirCreateRes;

export type MknodData =
  | { type: 3 | 4; attrs: Sattr3; spec: Specdata3 }
  | { type: 6 | 7; attrs: Sattr3 }
  /** NF3REG, NF3DIR, NF3LNK or an unknown value: the union's void arm; the handler answers BADTYPE. */
  | { type: number };
export interface MknodArgs { where: DirOpArgs3; what: MknodData }
export type MknodRes = DirCreateRes;

export interface RemoveArgs { object: DirOpArgs3 }
export type RemoveRes = { status: 0 | Nfs3Error; dirWcc: WccData };

export interface RmdirArgs { object: DirOpArgs3 }
export type RmdirRes = { status: 0 | Nfs3Error; dirWcc: WccData };

export interface RenameArgs { from: DirOpArgs3; to: DirOpArgs3 }
export type RenameRes = { status: 0 | Nfs3Error; fromDirWcc: WccData; toDirWcc: WccData };

export interface LinkArgs { file: Buffer; link: DirOpArgs3 }
export type LinkRes = { status: 0 | Nfs3Error; fileAttrs: PostOpAttr; linkDirWcc: WccData };

export interface ReaddirArgs { dir: Buffer; cookie: bigint; cookieverf: Buffer; count: number }
export interface Entry3 { fileid: bigint; name: string; cookie: bigint }
export type ReaddirRes =
  | Ok<{ dirAttrs: PostOpAttr; cookieverf: Buffer; entries: Entry3[]; eof: boolean }>
  | Fail<{ dirAttrs: PostOpAttr }>;

export interface ReaddirplusArgs {
  dir: Buffer;
  cookie: bigint;
  cookieverf: Buffer;
  dircount: number;
  maxcount: number;
}
export interface EntryPlus3 extends Entry3 { attrs: PostOpAttr; handle: PostOpFh3 }
export type ReaddirplusRes =
  | Ok<{
      dirAttrs: PostOpAttr;
      cookieverf: Buffer;
      entries: EntryPlus3[];
      eof: boolean;
      /**
       * Server side only: the entries already encoded (entryplus3 items, each
       * with its leading TRUE, no list terminator), sent after `entries`.
       * The READDIRPLUS procedure fills this instead of `entries`.
       */
      encoded?: Buffer;
    }>
  | Fail<{ dirAttrs: PostOpAttr }>;

export interface FsstatArgs { fsroot: Buffer }
export type FsstatRes =
  | Ok<{
      attrs: PostOpAttr;
      tbytes: bigint;
      fbytes: bigint;
      abytes: bigint;
      tfiles: bigint;
      ffiles: bigint;
      afiles: bigint;
      invarsec: number;
    }>
  | Fail<{ attrs: PostOpAttr }>;

export interface FsinfoArgs { fsroot: Buffer }
export type FsinfoRes =
  | Ok<{
      attrs: PostOpAttr;
      rtmax: number;
      rtpref: number;
      rtmult: number;
      wtmax: number;
      wtpref: number;
      wtmult: number;
      dtpref: number;
      maxfilesize: bigint;
      timeDelta: Nfstime3;
      properties: number;
    }>
  | Fail<{ attrs: PostOpAttr }>;

export interface PathconfArgs { object: Buffer }
export type PathconfRes =
  | Ok<{
      attrs: PostOpAttr;
      linkmax: number;
      nameMax: number;
      noTrunc: boolean;
      chownRestricted: boolean;
      caseInsensitive: boolean;
      casePreserving: boolean;
    }>
  | Fail<{ attrs: PostOpAttr }>;

export interface CommitArgs { file: Buffer; offset: bigint; count: number }
export type CommitRes = Ok<{ wcc: WccData; verf: Buffer }> | Fail<{ wcc: WccData }>;
