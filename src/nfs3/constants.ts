/**
 * NFSv3 numbers from RFC 1813 (spec/nfs3.x). Kept as `as const` objects so
 * types can name the literal values (result unions discriminate on them).
 */

export const NFS3_PROGRAM = 100003;
export const NFS3_VERSION = 3;

/** Procedure numbers, RFC 1813 section 3.3. */
export const Nfs3Proc = {
  NULL: 0,
  GETATTR: 1,
  SETATTR: 2,
  LOOKUP: 3,
  ACCESS: 4,
  READLINK: 5,
  READ: 6,
  WRITE: 7,
  CREATE: 8,
  MKDIR: 9,
  SYMLINK: 10,
  MKNOD: 11,
  REMOVE: 12,
  RMDIR: 13,
  RENAME: 14,
  LINK: 15,
  READDIR: 16,
  READDIRPLUS: 17,
  FSSTAT: 18,
  FSINFO: 19,
  PATHCONF: 20,
  COMMIT: 21,
} as const;

/** nfsstat3, RFC 1813 section 2.6. */
export const Nfs3Stat = {
  OK: 0,
  PERM: 1,
  NOENT: 2,
  IO: 5,
  NXIO: 6,
  ACCES: 13,
  EXIST: 17,
  XDEV: 18,
  NODEV: 19,
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
  REMOTE: 71,
  BADHANDLE: 10001,
  NOT_SYNC: 10002,
  BAD_COOKIE: 10003,
  NOTSUPP: 10004,
  TOOSMALL: 10005,
  SERVERFAULT: 10006,
  BADTYPE: 10007,
  JUKEBOX: 10008,
} as const;
export type Nfs3Status = (typeof Nfs3Stat)[keyof typeof Nfs3Stat];
/** Every nfsstat3 except NFS3_OK: the status of a failure arm. */
export type Nfs3Error = Exclude<Nfs3Status, 0>;

const STATUS_NAMES = new Map<number, string>(Object.entries(Nfs3Stat).map(([k, v]) => [v, k === 'OK' ? 'NFS3_OK' : `NFS3ERR_${k}`]));
/** "NFS3ERR_NOENT" for 2, for logs and test messages. */
export function nfs3StatName(s: number): string {
  return STATUS_NAMES.get(s) ?? `nfsstat3(${s})`;
}

/** ftype3. */
export const Ftype3 = {
  REG: 1,
  DIR: 2,
  BLK: 3,
  CHR: 4,
  LNK: 5,
  SOCK: 6,
  FIFO: 7,
} as const;
export type Ftype3Value = (typeof Ftype3)[keyof typeof Ftype3];

/** ACCESS3 bits (section 3.3.4). */
export const Access3 = {
  READ: 0x0001,
  LOOKUP: 0x0002,
  MODIFY: 0x0004,
  EXTEND: 0x0008,
  DELETE: 0x0010,
  EXECUTE: 0x0020,
} as const;
export const ACCESS3_ALL = 0x003f;

/** stable_how (section 3.3.7). */
export const StableHow3 = {
  UNSTABLE: 0,
  DATA_SYNC: 1,
  FILE_SYNC: 2,
} as const;
export type StableHow3Value = (typeof StableHow3)[keyof typeof StableHow3];

/** createmode3 (section 3.3.8). */
export const CreateMode3 = {
  UNCHECKED: 0,
  GUARDED: 1,
  EXCLUSIVE: 2,
} as const;
export type CreateMode3Value = (typeof CreateMode3)[keyof typeof CreateMode3];

/** time_how (section 2.5, sattr3). */
export const TimeHow = {
  DONT_CHANGE: 0,
  SET_TO_SERVER_TIME: 1,
  SET_TO_CLIENT_TIME: 2,
} as const;

/** FSINFO properties (section 3.3.19). */
export const Fsf3 = {
  LINK: 0x0001,
  SYMLINK: 0x0002,
  HOMOGENEOUS: 0x0008,
  CANSETTIME: 0x0010,
} as const;

/** Sizes (section 2.4 and 2.5). */
export const NFS3_FHSIZE = 64;
export const NFS3_COOKIEVERFSIZE = 8;
export const NFS3_CREATEVERFSIZE = 8;
export const NFS3_WRITEVERFSIZE = 8;
/**
 * The RFC leaves filename3 and nfspath3 unbounded; these are Linux's
 * NFS3_MAXNAMLEN (NAME_MAX, enforced while decoding) and NFS3_MAXPATHLEN
 * (PATH_MAX: knfsd's SYMLINK answers NAMETOOLONG beyond it, and Linux's own
 * symlink(2) then takes targets of up to 4,095 bytes).
 */
export const NFS3_MAXNAMLEN = 255;
export const NFS3_MAXPATHLEN = 4096;

/** Largest file offset/size a POSIX file can have (knfsd's OFFSET_MAX). */
export const NFS3_OFFSET_MAX = (1n << 63n) - 1n;

/** Bytes a WRITE's data may exceed wtmax by before the decoder refuses it (knfsd truncates; we refuse past this slack). */
export const WRITE_SLACK = 4096;
