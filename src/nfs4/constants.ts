/**
 * NFSv4 numbers from RFC 8881 (4.1), RFC 7862 (4.2), RFC 8276 (xattrs) and
 * RFC 8275 (mode_umask), as spec/nfs4.x gives them. Kept as `as const`
 * objects, like nfs3/constants.ts, so types can name the literal values.
 * The flag and small-enum groups live in flags.ts, re-exported here.
 */
export * from './flags.js';

export const NFS4_PROGRAM = 100003;
export const NFS4_VERSION = 4;

/** RPC procedures of program 100003 version 4. */
export const Nfs4Proc = { NULL: 0, COMPOUND: 1 } as const;

/** Minor versions whose operations the codec knows (0 only so that 4.0 traffic decodes). */
export const NFS4_MINOR_VERSIONS = [0, 1, 2] as const;

/** nfs_opnum4. */
export const Nfs4Op = {
  ACCESS: 3,
  CLOSE: 4,
  COMMIT: 5,
  CREATE: 6,
  DELEGPURGE: 7,
  DELEGRETURN: 8,
  GETATTR: 9,
  GETFH: 10,
  LINK: 11,
  LOCK: 12,
  LOCKT: 13,
  LOCKU: 14,
  LOOKUP: 15,
  LOOKUPP: 16,
  NVERIFY: 17,
  OPEN: 18,
  OPENATTR: 19,
  OPEN_CONFIRM: 20,
  OPEN_DOWNGRADE: 21,
  PUTFH: 22,
  PUTPUBFH: 23,
  PUTROOTFH: 24,
  READ: 25,
  READDIR: 26,
  READLINK: 27,
  REMOVE: 28,
  RENAME: 29,
  RENEW: 30,
  RESTOREFH: 31,
  SAVEFH: 32,
  SECINFO: 33,
  SETATTR: 34,
  SETCLIENTID: 35,
  SETCLIENTID_CONFIRM: 36,
  VERIFY: 37,
  WRITE: 38,
  RELEASE_LOCKOWNER: 39,
  // NFSv4.1
  BACKCHANNEL_CTL: 40,
  BIND_CONN_TO_SESSION: 41,
  EXCHANGE_ID: 42,
  CREATE_SESSION: 43,
  DESTROY_SESSION: 44,
  FREE_STATEID: 45,
  GET_DIR_DELEGATION: 46,
  GETDEVICEINFO: 47,
  GETDEVICELIST: 48,
  LAYOUTCOMMIT: 49,
  LAYOUTGET: 50,
  LAYOUTRETURN: 51,
  SECINFO_NO_NAME: 52,
  SEQUENCE: 53,
  SET_SSV: 54,
  TEST_STATEID: 55,
  WANT_DELEGATION: 56,
  DESTROY_CLIENTID: 57,
  RECLAIM_COMPLETE: 58,
  // NFSv4.2
  ALLOCATE: 59,
  COPY: 60,
  COPY_NOTIFY: 61,
  DEALLOCATE: 62,
  IO_ADVISE: 63,
  LAYOUTERROR: 64,
  LAYOUTSTATS: 65,
  OFFLOAD_CANCEL: 66,
  OFFLOAD_STATUS: 67,
  READ_PLUS: 68,
  SEEK: 69,
  WRITE_SAME: 70,
  CLONE: 71,
  // RFC 8276
  GETXATTR: 72,
  SETXATTR: 73,
  LISTXATTRS: 74,
  REMOVEXATTR: 75,
} as const;
export type Nfs4OpNum = (typeof Nfs4Op)[keyof typeof Nfs4Op];

/** The result op code of an unknown operation (and its status). */
export const OP_ILLEGAL = 10044;

/**
 * The last operation of each minor version: an op number above it (or below
 * ACCESS) is illegal in that minor version (knfsd's nfsd4_opnum_in_range).
 * xattr operations are an extension of 4.2 (RFC 8276 section 8).
 */
export const LAST_OP: Readonly<Record<number, number>> = { 0: 39, 1: 58, 2: 75 };
export const FIRST_OP = 3;

const OP_NAMES = new Map<number, string>([...Object.entries(Nfs4Op).map(([k, v]) => [v, k] as [number, string]), [OP_ILLEGAL, 'ILLEGAL']]);
/** "OPEN" for 18, for logs and metrics. */
export function nfs4OpName(op: number): string {
  return OP_NAMES.get(op) ?? `op(${op})`;
}

/** nfsstat4. */
export const Nfs4Stat = {
  OK: 0,
  PERM: 1,
  NOENT: 2,
  IO: 5,
  NXIO: 6,
  ACCESS: 13,
  EXIST: 17,
  XDEV: 18,
  NOTDIR: 20,
  ISDIR: 21,
  INVAL: 22,
  FBIG: 27,
  NOSPC: 28,
  ROFS: 30,
  MLINK: 31,
  NAMETOOLONG: 63,
  NOTEMPTY: 66,
  DQUOT: 69,
  STALE: 70,
  BADHANDLE: 10001,
  BAD_COOKIE: 10003,
  NOTSUPP: 10004,
  TOOSMALL: 10005,
  SERVERFAULT: 10006,
  BADTYPE: 10007,
  DELAY: 10008,
  SAME: 10009,
  DENIED: 10010,
  EXPIRED: 10011,
  LOCKED: 10012,
  GRACE: 10013,
  FHEXPIRED: 10014,
  SHARE_DENIED: 10015,
  WRONGSEC: 10016,
  CLID_INUSE: 10017,
  RESOURCE: 10018,
  MOVED: 10019,
  NOFILEHANDLE: 10020,
  MINOR_VERS_MISMATCH: 10021,
  STALE_CLIENTID: 10022,
  STALE_STATEID: 10023,
  OLD_STATEID: 10024,
  BAD_STATEID: 10025,
  BAD_SEQID: 10026,
  NOT_SAME: 10027,
  LOCK_RANGE: 10028,
  SYMLINK: 10029,
  RESTOREFH: 10030,
  LEASE_MOVED: 10031,
  ATTRNOTSUPP: 10032,
  NO_GRACE: 10033,
  RECLAIM_BAD: 10034,
  RECLAIM_CONFLICT: 10035,
  BADXDR: 10036,
  LOCKS_HELD: 10037,
  OPENMODE: 10038,
  BADOWNER: 10039,
  BADCHAR: 10040,
  BADNAME: 10041,
  BAD_RANGE: 10042,
  LOCK_NOTSUPP: 10043,
  OP_ILLEGAL: 10044,
  DEADLOCK: 10045,
  FILE_OPEN: 10046,
  ADMIN_REVOKED: 10047,
  CB_PATH_DOWN: 10048,
  BADIOMODE: 10049,
  BADLAYOUT: 10050,
  BAD_SESSION_DIGEST: 10051,
  BADSESSION: 10052,
  BADSLOT: 10053,
  COMPLETE_ALREADY: 10054,
  CONN_NOT_BOUND_TO_SESSION: 10055,
  DELEG_ALREADY_WANTED: 10056,
  BACK_CHAN_BUSY: 10057,
  LAYOUTTRYLATER: 10058,
  LAYOUTUNAVAILABLE: 10059,
  NOMATCHING_LAYOUT: 10060,
  RECALLCONFLICT: 10061,
  UNKNOWN_LAYOUTTYPE: 10062,
  SEQ_MISORDERED: 10063,
  SEQUENCE_POS: 10064,
  REQ_TOO_BIG: 10065,
  REP_TOO_BIG: 10066,
  REP_TOO_BIG_TO_CACHE: 10067,
  RETRY_UNCACHED_REP: 10068,
  UNSAFE_COMPOUND: 10069,
  TOO_MANY_OPS: 10070,
  OP_NOT_IN_SESSION: 10071,
  HASH_ALG_UNSUPP: 10072,
  CLIENTID_BUSY: 10074,
  PNFS_IO_HOLE: 10075,
  SEQ_FALSE_RETRY: 10076,
  BAD_HIGH_SLOT: 10077,
  DEADSESSION: 10078,
  ENCR_ALG_UNSUPP: 10079,
  PNFS_NO_LAYOUT: 10080,
  NOT_ONLY_OP: 10081,
  WRONG_CRED: 10082,
  WRONG_TYPE: 10083,
  DIRDELEG_UNAVAIL: 10084,
  REJECT_DELEG: 10085,
  RETURNCONFLICT: 10086,
  DELEG_REVOKED: 10087,
  PARTNER_NOTSUPP: 10088,
  PARTNER_NO_AUTH: 10089,
  UNION_NOTSUPP: 10090,
  OFFLOAD_DENIED: 10091,
  WRONG_LFS: 10092,
  BADLABEL: 10093,
  OFFLOAD_NO_REQS: 10094,
  NOXATTR: 10095,
  XATTR2BIG: 10096,
} as const;
export type Nfs4Status = (typeof Nfs4Stat)[keyof typeof Nfs4Stat];
/** Every nfsstat4 except NFS4_OK: the status of a failure arm. */
export type Nfs4Error = Exclude<Nfs4Status, 0>;

const STATUS_NAMES = new Map<number, string>(Object.entries(Nfs4Stat).map(([k, v]) => [v, k === 'OK' ? 'NFS4_OK' : `NFS4ERR_${k}`]));
/** "NFS4ERR_NOENT" for 2, for logs and test messages. */
export function nfs4StatName(s: number): string {
  return STATUS_NAMES.get(s) ?? `nfsstat4(${s})`;
}

/** nfs_ftype4. */
export const Ftype4 = {
  REG: 1,
  DIR: 2,
  BLK: 3,
  CHR: 4,
  LNK: 5,
  SOCK: 6,
  FIFO: 7,
  ATTRDIR: 8,
  NAMEDATTR: 9,
} as const;
export type Ftype4Value = (typeof Ftype4)[keyof typeof Ftype4];

/** Attribute numbers, FATTR4_* (RFC 8881 section 5.6-5.8, RFC 7862 section 12.2, RFC 8275, RFC 8276). */
export const Attr4 = {
  SUPPORTED_ATTRS: 0,
  TYPE: 1,
  FH_EXPIRE_TYPE: 2,
  CHANGE: 3,
  SIZE: 4,
  LINK_SUPPORT: 5,
  SYMLINK_SUPPORT: 6,
  NAMED_ATTR: 7,
  FSID: 8,
  UNIQUE_HANDLES: 9,
  LEASE_TIME: 10,
  RDATTR_ERROR: 11,
  ACL: 12,
  ACLSUPPORT: 13,
  ARCHIVE: 14,
  CANSETTIME: 15,
  CASE_INSENSITIVE: 16,
  CASE_PRESERVING: 17,
  CHOWN_RESTRICTED: 18,
  FILEHANDLE: 19,
  FILEID: 20,
  FILES_AVAIL: 21,
  FILES_FREE: 22,
  FILES_TOTAL: 23,
  FS_LOCATIONS: 24,
  HIDDEN: 25,
  HOMOGENEOUS: 26,
  MAXFILESIZE: 27,
  MAXLINK: 28,
  MAXNAME: 29,
  MAXREAD: 30,
  MAXWRITE: 31,
  MIMETYPE: 32,
  MODE: 33,
  NO_TRUNC: 34,
  NUMLINKS: 35,
  OWNER: 36,
  OWNER_GROUP: 37,
  QUOTA_AVAIL_HARD: 38,
  QUOTA_AVAIL_SOFT: 39,
  QUOTA_USED: 40,
  RAWDEV: 41,
  SPACE_AVAIL: 42,
  SPACE_FREE: 43,
  SPACE_TOTAL: 44,
  SPACE_USED: 45,
  SYSTEM: 46,
  TIME_ACCESS: 47,
  TIME_ACCESS_SET: 48,
  TIME_BACKUP: 49,
  TIME_CREATE: 50,
  TIME_DELTA: 51,
  TIME_METADATA: 52,
  TIME_MODIFY: 53,
  TIME_MODIFY_SET: 54,
  MOUNTED_ON_FILEID: 55,
  DIR_NOTIF_DELAY: 56,
  DIRENT_NOTIF_DELAY: 57,
  DACL: 58,
  SACL: 59,
  CHANGE_POLICY: 60,
  FS_STATUS: 61,
  FS_LAYOUT_TYPES: 62,
  LAYOUT_HINT: 63,
  LAYOUT_TYPES: 64,
  LAYOUT_BLKSIZE: 65,
  LAYOUT_ALIGNMENT: 66,
  FS_LOCATIONS_INFO: 67,
  MDSTHRESHOLD: 68,
  RETENTION_GET: 69,
  RETENTION_SET: 70,
  RETENTEVT_GET: 71,
  RETENTEVT_SET: 72,
  RETENTION_HOLD: 73,
  MODE_SET_MASKED: 74,
  SUPPATTR_EXCLCREAT: 75,
  FS_CHARSET_CAP: 76,
  CLONE_BLKSIZE: 77,
  SPACE_FREED: 78,
  CHANGE_ATTR_TYPE: 79,
  SEC_LABEL: 80,
  MODE_UMASK: 81,
  XATTR_SUPPORT: 82,
  // draft-ietf-nfsv4-delstid: named so bitmaps from newer Linux clients read well; never served.
  OFFLINE: 83,
  TIME_DELEG_ACCESS: 84,
  TIME_DELEG_MODIFY: 85,
  OPEN_ARGUMENTS: 86,
} as const;
export type Attr4Num = (typeof Attr4)[keyof typeof Attr4];

/** Sizes. */
export const NFS4_FHSIZE = 128;
export const NFS4_VERIFIER_SIZE = 8;
export const NFS4_OTHER_SIZE = 12;
export const NFS4_STATEID_SIZE = 16;
export const NFS4_OPAQUE_LIMIT = 1024;
export const NFS4_SESSIONID_SIZE = 16;
export const NFS4_DEVICEID4_SIZE = 16;
/** The all-ones length of LOCK/LOCKT/LOCKU: "to the end of the file". */
export const NFS4_UINT64_MAX = 0xffffffffffffffffn;
export const NFS4_MAXFILEOFF = 0xfffffffffffffffen;
