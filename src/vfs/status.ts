/**
 * The ONE mapping from errno-style error codes (backend StorageError, GateError, Node fs errors,
 * handlers' refusals) to NFS status numbers, for NFSv3 (nfsstat3) and NFSv4 (nfsstat4). The two
 * enums give the same number to every condition they share (NOENT 2 ... BADHANDLE 10001,
 * JUKEBOX = DELAY 10008), so one table serves both; the few conditions only one version can say
 * are in that version's overrides. The table follows knfsd's nfserrno() (fs/nfsd/vfs.c); codes
 * knfsd does not list are chosen below with the reason next to them.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { log } from '../util/log.js';

/** Shared numbers (RFC 1813 nfsstat3 = RFC 8881 nfsstat4 for these). */
const TABLE: Readonly<Record<string, number>> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 27,
  EBADF: 70,
  EACCES: 13,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  EMLINK: 31,
  ENAMETOOLONG: 63,
  ENOTEMPTY: 66,
  EDQUOT: 69,
  ESTALE: 70,
  EREMOTE: 71,
  // The gate's code for a handle it cannot parse or authenticate.
  EBADHANDLE: 10001,
  // Transient conditions: knfsd answers JUKEBOX / DELAY so the client retries later.
  ETIMEDOUT: 10008,
  EAGAIN: 10008,
  EWOULDBLOCK: 10008,
  ENOMEM: 10008,
  EJUKEBOX: 10008,
  ETXTBSY: 5,
  EREMOTEIO: 5,
  EUCLEAN: 5,
  // Device or resource busy (renaming a mount point ...): knfsd's default, IO.
  EBUSY: 5,
  EOPNOTSUPP: 10004,
  ENOTSUP: 10004,
  ENOSYS: 10004,
  ETOOSMALL: 10005,
  ESERVERFAULT: 10006,
  // Out of descriptors is the server's problem, not the client's (knfsd: ENFILE → SERVERFAULT).
  ENFILE: 10006,
  EMFILE: 10006,
  ENOKEY: 1,
  // Value too large (offset/size beyond what the file system represents).
  EOVERFLOW: 22,
  ERANGE: 22,
  // Backends may name NFS-specific conditions directly.
  EBADCOOKIE: 10003,
  EBADTYPE: 10007,
};

/** What only NFSv3 can say. */
const V3: Readonly<Record<string, number>> = {
  // A symlink met where a directory or file was needed (O_NOFOLLOW): NFSv3 has
  // no SYMLINK error, and knfsd's v3 answer for a wrong-type symlink is INVAL.
  ELOOP: 22,
  ENOTSYNC: 10002,
  // A regular file was wanted and something else (not a directory or symlink) was found.
  EWRONGTYPE: 22,
  // A symbolic link where a directory was wanted.
  ESYMLINKDIR: 20,
};

/** What only NFSv4 can say. */
const V4: Readonly<Record<string, number>> = {
  ELOOP: 10029, // NFS4ERR_SYMLINK
  EDEADLK: 10045, // NFS4ERR_DEADLOCK
  // An extended attribute that is not there, or one too large (RFC 8276).
  ENODATA: 10095, // NFS4ERR_NOXATTR
  ENOATTR: 10095,
  EXATTR2BIG: 10096, // NFS4ERR_XATTR2BIG
  ENOTSYNC: 10027, // NFS4ERR_NOT_SAME
  EBADNAME: 10041,
  EBADOWNER: 10039,
  EWRONGTYPE: 10083, // NFS4ERR_WRONG_TYPE
  EATTRNOTSUPP: 10032,
  ESYMLINKDIR: 10029, // NFS4ERR_SYMLINK
};

const faults = diagnostics_channel.channel('nfs-localio:nfs:serverfault');

/**
 * The status `err` maps to in NFS version `version` (never OK). An unmapped error is a bug or an
 * unexpected condition: it is said so, loudly, and answered SERVERFAULT rather than a misleading
 * specific error.
 */
export function nfsStatusOf(err: unknown, version: 3 | 4): number {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string') {
    const s = (version === 3 ? V3 : V4)[code] ?? TABLE[code];
    if (s !== undefined) return s;
  }
  if (faults.hasSubscribers) faults.publish({ error: err, version });
  log.error(version === 3 ? 'nfs3.serverfault' : 'nfs4.serverfault', { reason: 'unmapped error', err: err as Error });
  return 10006;
}

/** An error with an errno-style code, for handlers' own refusals (same shape as StorageError/GateError). */
export class NfsRefusal extends Error {
  readonly code: string;
  constructor(code: string, message?: string) {
    super(message ?? code);
    this.name = 'NfsRefusal';
    this.code = code;
  }
}

export function refuse(code: string, message?: string): never {
  throw new NfsRefusal(code, message);
}
