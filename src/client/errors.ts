/**
 * Client errors, shaped like Node's fs errors so code written for
 * `fs.promises` handles them unchanged: `code` ('ENOENT'), `errno` (negative,
 * as libuv reports it), `syscall` ('open'), `path` / `dest`, and a message of
 * the form "ENOENT: no such file or directory, open '/a'". NFS-level failures
 * also carry the original `nfsstat3`; RPC-level ones the RPC status name.
 */
import { Nfs3Stat } from '../nfs3/constants.js';

/** errno numbers (Linux) and messages (glibc strerror, lower-cased as libuv prints them). */
const ERRNO: Record<string, [number, string]> = {
  EPERM: [1, 'operation not permitted'],
  ENOENT: [2, 'no such file or directory'],
  EIO: [5, 'i/o error'],
  ENXIO: [6, 'no such device or address'],
  EBADF: [9, 'bad file descriptor'],
  EAGAIN: [11, 'resource temporarily unavailable'],
  EBUSY: [16, 'resource busy or locked'],
  EACCES: [13, 'permission denied'],
  EEXIST: [17, 'file already exists'],
  EXDEV: [18, 'cross-device link not permitted'],
  ENODEV: [19, 'no such device'],
  ENOTDIR: [20, 'not a directory'],
  EISDIR: [21, 'illegal operation on a directory'],
  EINVAL: [22, 'invalid argument'],
  EFBIG: [27, 'file too large'],
  EDEADLK: [35, 'resource deadlock avoided'],
  ENOLCK: [37, 'no locks available'],
  E2BIG: [7, 'argument list too long'],
  ENODATA: [61, 'no data available'],
  ENOSPC: [28, 'no space left on device'],
  EROFS: [30, 'read-only file system'],
  EMLINK: [31, 'too many links'],
  ENAMETOOLONG: [36, 'name too long'],
  ENOTEMPTY: [39, 'directory not empty'],
  ELOOP: [40, 'too many symbolic links encountered'],
  EREMOTE: [66, 'object is remote'],
  EPROTO: [71, 'protocol error'],
  EPROTONOSUPPORT: [93, 'protocol not supported'],
  ENOTSUP: [95, 'operation not supported'],
  ECONNABORTED: [103, 'software caused connection abort'],
  ECONNRESET: [104, 'connection reset by peer'],
  ESTALE: [116, 'stale file handle'],
  EREMOTEIO: [121, 'remote i/o error'],
  EDQUOT: [122, 'disk quota exceeded'],
  ETIMEDOUT: [110, 'connection timed out'],
  ECONNREFUSED: [111, 'connection refused'],
  EHOSTUNREACH: [113, 'host is unreachable'],
};

/** glibc's strerror text for the CLI ("No such file or directory"). */
const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ENAMETOOLONG: 'File name too long',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  ENOTSUP: 'Operation not supported',
  EPROTONOSUPPORT: 'Protocol not supported',
  EPROTO: 'Protocol error',
  EAGAIN: 'Resource temporarily unavailable',
  ESTALE: 'Stale file handle',
  EREMOTEIO: 'Remote I/O error',
  EDQUOT: 'Disk quota exceeded',
  ETIMEDOUT: 'Connection timed out',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EBADF: 'Bad file descriptor',
  EDEADLK: 'Resource deadlock avoided',
  ENOLCK: 'No locks available',
  EBUSY: 'Device or resource busy',
};

/** nfsstat3 → errno code, as the Linux client maps them (fs/nfs/nfs2xdr.c nfs_errtbl). */
const NFS_TO_ERRNO = new Map<number, string>([
  [Nfs3Stat.PERM, 'EPERM'],
  [Nfs3Stat.NOENT, 'ENOENT'],
  [Nfs3Stat.IO, 'EIO'],
  [Nfs3Stat.NXIO, 'ENXIO'],
  [Nfs3Stat.ACCES, 'EACCES'],
  [Nfs3Stat.EXIST, 'EEXIST'],
  [Nfs3Stat.XDEV, 'EXDEV'],
  [Nfs3Stat.NODEV, 'ENODEV'],
  [Nfs3Stat.NOTDIR, 'ENOTDIR'],
  [Nfs3Stat.ISDIR, 'EISDIR'],
  [Nfs3Stat.INVAL, 'EINVAL'],
  [Nfs3Stat.FBIG, 'EFBIG'],
  [Nfs3Stat.NOSPC, 'ENOSPC'],
  [Nfs3Stat.ROFS, 'EROFS'],
  [Nfs3Stat.MLINK, 'EMLINK'],
  [Nfs3Stat.NAMETOOLONG, 'ENAMETOOLONG'],
  [Nfs3Stat.NOTEMPTY, 'ENOTEMPTY'],
  [Nfs3Stat.DQUOT, 'EDQUOT'],
  [Nfs3Stat.STALE, 'ESTALE'],
  [Nfs3Stat.REMOTE, 'EREMOTE'],
  // Linux has EBADHANDLE (521) internally; user space sees a stale handle.
  [Nfs3Stat.BADHANDLE, 'ESTALE'],
  [Nfs3Stat.NOT_SYNC, 'EIO'],
  [Nfs3Stat.BAD_COOKIE, 'EIO'],
  [Nfs3Stat.NOTSUPP, 'ENOTSUP'],
  [Nfs3Stat.TOOSMALL, 'EIO'],
  [Nfs3Stat.SERVERFAULT, 'EREMOTEIO'],
  [Nfs3Stat.BADTYPE, 'EINVAL'],
  [Nfs3Stat.JUKEBOX, 'EAGAIN'],
  // nfsstat4 values v3 does not have (RFC 8881 keeps v3's numbers for the ones it has), as the Linux
  // client maps them (fs/nfs/nfs4xdr.c nfs_errtbl, nfs4proc.c)
  [10010, 'EAGAIN'], // DENIED (a lock held by someone else)
  [10012, 'EAGAIN'], // LOCKED
  [10013, 'EAGAIN'], // GRACE
  [10015, 'EACCES'], // SHARE_DENIED
  [10029, 'ELOOP'], // SYMLINK
  [10032, 'EINVAL'], // ATTRNOTSUPP
  [10038, 'EACCES'], // OPENMODE
  [10039, 'EINVAL'], // BADOWNER
  [10040, 'EINVAL'], // BADCHAR
  [10041, 'EINVAL'], // BADNAME
  [10043, 'ENOLCK'], // LOCK_NOTSUPP
  [10028, 'ENOLCK'], // LOCK_RANGE
  [10045, 'EDEADLK'], // DEADLOCK
  [10046, 'EBUSY'], // FILE_OPEN
  [10083, 'EINVAL'], // WRONG_TYPE
  [10095, 'ENODATA'], // NOXATTR
  [10096, 'E2BIG'], // XATTR2BIG
]);

export interface NfsErrorInit {
  syscall?: string;
  path?: string;
  dest?: string;
  nfsstat3?: number;
  nfsstat4?: number;
  rpcStatus?: string;
  cause?: unknown;
  /** Replaces the default description (after "CODE: "). */
  description?: string;
}

/** An error from the NFS client. `instanceof Error`; fields as Node's SystemError from fs. */
export class NfsError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
  /**
   * The server's nfsstat3 when the failure came from an NFS reply — on NFSv4 too, for every status v3
   * has (nfsstat4 keeps their numbers).
   */
  readonly nfsstat3?: number;
  /** The server's nfsstat4 when the failure came from an NFSv4 reply. */
  readonly nfsstat4?: number;
  /** The RPC status (e.g. 'PROG_UNAVAIL', 'AUTH_TOOWEAK') when the call itself failed. */
  readonly rpcStatus?: string;

  constructor(code: string, init: NfsErrorInit = {}) {
    const [num, text] = ERRNO[code] ?? [0, code.toLowerCase()];
    let msg = `${code}: ${init.description ?? text}`;
    if (init.syscall) msg += `, ${init.syscall}`;
    if (init.path !== undefined) msg += ` '${init.path}'`;
    if (init.dest !== undefined) msg += ` -> '${init.dest}'`;
    super(msg, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = 'NfsError';
    this.code = code;
    this.errno = -num;
    if (init.syscall !== undefined) this.syscall = init.syscall;
    if (init.path !== undefined) this.path = init.path;
    if (init.dest !== undefined) this.dest = init.dest;
    if (init.nfsstat3 !== undefined) this.nfsstat3 = init.nfsstat3;
    if (init.nfsstat4 !== undefined) this.nfsstat4 = init.nfsstat4;
    if (init.rpcStatus !== undefined) this.rpcStatus = init.rpcStatus;
  }

  /** The same error re-labelled for a different syscall/path (errors raised deep inside path walks). */
  withContext(syscall: string, path?: string, dest?: string): NfsError {
    return new NfsError(this.code, {
      syscall,
      path,
      dest,
      nfsstat3: this.nfsstat3,
      nfsstat4: this.nfsstat4,
      rpcStatus: this.rpcStatus,
      cause: (this as { cause?: unknown }).cause,
    });
  }
}

export function errnoCodeOf(nfsstat3: number): string {
  return NFS_TO_ERRNO.get(nfsstat3) ?? 'EIO';
}

/** Whether NFSv3 has this status (nfsstat4 values below 10008 and JUKEBOX/DELAY are v3's). */
export function isNfs3Status(status: number): boolean {
  return (status > 0 && status < 10000) || (status >= 10001 && status <= 10008);
}

/**
 * An NfsError for a failed NFS reply. The shared fs layer calls it with the status of either version:
 * nfsstat4 values v3 lacks set `nfsstat4` instead of `nfsstat3`.
 */
export function nfsError(status: number, syscall?: string, path?: string, dest?: string): NfsError {
  return isNfs3Status(status)
    ? new NfsError(errnoCodeOf(status), { nfsstat3: status, syscall, path, dest })
    : new NfsError(errnoCodeOf(status), { nfsstat4: status, syscall, path, dest });
}

/** "No such file or directory" — the text coreutils print, for the CLI. */
export function strerror(code: string | undefined): string {
  if (!code) return 'Unknown error';
  const s = STRERROR[code];
  if (s) return s;
  const e = ERRNO[code];
  if (e) return e[1].charAt(0).toUpperCase() + e[1].slice(1);
  return code;
}

export function isNfsError(e: unknown, code?: string): e is NfsError {
  return e instanceof NfsError && (code === undefined || e.code === code);
}
