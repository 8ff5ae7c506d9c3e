/**
 * The ONE mapping from errno-style error codes (backend StorageError,
 * GateError, Node fs errors) to nfsstat3. Every handler's catch goes through
 * here. The table follows knfsd's nfserrno() (fs/nfsd/nfsproc.c); codes knfsd
 * does not list are chosen below with the reason next to them.
 */
import { log } from '../util/log.js';
import diagnostics_channel from 'node:diagnostics_channel';
import { Nfs3Stat, type Nfs3Error } from './constants.js';

const S = Nfs3Stat;

const TABLE: Readonly<Record<string, Nfs3Error>> = {
  EPERM: S.PERM,
  ENOENT: S.NOENT,
  EIO: S.IO,
  ENXIO: S.NXIO,
  E2BIG: S.FBIG,
  EBADF: S.STALE,
  EACCES: S.ACCES,
  EEXIST: S.EXIST,
  EXDEV: S.XDEV,
  ENODEV: S.NODEV,
  ENOTDIR: S.NOTDIR,
  EISDIR: S.ISDIR,
  EINVAL: S.INVAL,
  EFBIG: S.FBIG,
  ENOSPC: S.NOSPC,
  EROFS: S.ROFS,
  EMLINK: S.MLINK,
  ENAMETOOLONG: S.NAMETOOLONG,
  ENOTEMPTY: S.NOTEMPTY,
  EDQUOT: S.DQUOT,
  ESTALE: S.STALE,
  EREMOTE: S.REMOTE,
  // The gate's code for a handle it cannot parse or authenticate.
  EBADHANDLE: S.BADHANDLE,
  // Transient conditions: knfsd answers JUKEBOX so the client retries later.
  ETIMEDOUT: S.JUKEBOX,
  EAGAIN: S.JUKEBOX,
  EWOULDBLOCK: S.JUKEBOX,
  ENOMEM: S.JUKEBOX,
  EJUKEBOX: S.JUKEBOX,
  ETXTBSY: S.IO,
  EREMOTEIO: S.IO,
  EUCLEAN: S.IO,
  // Device or resource busy (renaming a mount point ...): knfsd's default, IO.
  EBUSY: S.IO,
  EOPNOTSUPP: S.NOTSUPP,
  ENOTSUP: S.NOTSUPP,
  ENOSYS: S.NOTSUPP,
  ETOOSMALL: S.TOOSMALL,
  ESERVERFAULT: S.SERVERFAULT,
  // Out of descriptors is the server's problem, not the client's (knfsd: ENFILE → SERVERFAULT).
  ENFILE: S.SERVERFAULT,
  EMFILE: S.SERVERFAULT,
  ENOKEY: S.PERM,
  // A symlink met where a directory or file was needed (O_NOFOLLOW): NFSv3 has
  // no SYMLINK error, and knfsd's v3 answer for a wrong-type symlink is INVAL.
  ELOOP: S.INVAL,
  // Value too large (offset/size beyond what the file system represents).
  EOVERFLOW: S.INVAL,
  ERANGE: S.INVAL,
  // Backends may name NFS-specific conditions directly.
  EBADCOOKIE: S.BAD_COOKIE,
  ENOTSYNC: S.NOT_SYNC,
  EBADTYPE: S.BADTYPE,
};

const faults = diagnostics_channel.channel('nfs-localio:nfs3:serverfault');

/** Map an error thrown by a backend or the gate to an nfsstat3 (never NFS3_OK). */
export function toNfsStat(err: unknown): Nfs3Error {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string') {
    const s = TABLE[code];
    if (s !== undefined) return s;
  }
  // Unknown: a bug or an unexpected condition. Say so, loudly, and answer
  // SERVERFAULT rather than a misleading specific error.
  if (faults.hasSubscribers) faults.publish({ error: err });
  log.error('nfs3.serverfault', { reason: 'unmapped error', err: err as Error });
  return S.SERVERFAULT;
}

/** An error with an errno-style code, for handlers' own refusals (same shape as StorageError/GateError). */
export class Nfs3Refusal extends Error {
  readonly code: string;
  constructor(code: string, message?: string) {
    super(message ?? code);
    this.name = 'Nfs3Refusal';
    this.code = code;
  }
}

export function refuse(code: string, message?: string): never {
  throw new Nfs3Refusal(code, message);
}
