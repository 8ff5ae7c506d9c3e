/**
 * nfsstat4 → NfsError (the errno codes of errors.ts: nfsstat4 keeps v3's
 * numbers for what v3 has, so an error reads the same on either version),
 * and which ops have no effect on the server (a COMPOUND whose failing op
 * follows only such ops may be sent again).
 */
import { Nfs4Op, nfs4StatName } from '../../nfs4/constants.js';
import { NfsError, errnoCodeOf, isNfs3Status } from '../errors.js';

/** An NfsError for an nfsstat4: `nfsstat4` always, `nfsstat3` too when v3 has the same status. */
export function nfs4Error(status: number, syscall?: string, path?: string, description?: string, dest?: string): NfsError {
  return new NfsError(errnoCodeOf(status), {
    syscall,
    path,
    dest,
    nfsstat4: status,
    ...(isNfs3Status(status) ? { nfsstat3: status } : {}),
    ...(description ? { description } : isNfs3Status(status) ? {} : { description: `${errDescription(errnoCodeOf(status))} (${nfs4StatName(status)})` }),
  });
}

function errDescription(code: string): string {
  return new NfsError(code).message.replace(/^[A-Z0-9_]+: /, '');
}

/** Ops that change nothing on the server. */
export const PURE_OPS = new Set<number>([
  Nfs4Op.SEQUENCE,
  Nfs4Op.PUTFH,
  Nfs4Op.PUTROOTFH,
  Nfs4Op.PUTPUBFH,
  Nfs4Op.LOOKUP,
  Nfs4Op.LOOKUPP,
  Nfs4Op.GETFH,
  Nfs4Op.GETATTR,
  Nfs4Op.SAVEFH,
  Nfs4Op.RESTOREFH,
  Nfs4Op.ACCESS,
  Nfs4Op.READ,
  Nfs4Op.READDIR,
  Nfs4Op.READLINK,
  Nfs4Op.VERIFY,
  Nfs4Op.NVERIFY,
  Nfs4Op.SECINFO,
  Nfs4Op.SECINFO_NO_NAME,
  Nfs4Op.LOCKT,
  Nfs4Op.TEST_STATEID,
  Nfs4Op.SEEK,
  Nfs4Op.READ_PLUS,
]);
