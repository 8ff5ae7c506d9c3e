/**
 * errno-style codes → nfsstat3: the shared table (vfs/status.ts) read for version 3. Every
 * handler's catch goes through here.
 */
import { nfsStatusOf, NfsRefusal, refuse } from '../vfs/status.js';
import type { Nfs3Error } from './constants.js';

/** Map an error thrown by a backend or the gate to an nfsstat3 (never NFS3_OK). */
export function toNfsStat(err: unknown): Nfs3Error {
  return nfsStatusOf(err, 3) as Nfs3Error;
}

/** The refusal type handlers throw (kept under its v3 name). */
export { NfsRefusal as Nfs3Refusal, refuse };
