/** What the NFSv4 operation handlers share: the gate for the current filehandle, statuses, stateids. */
import { May, type Verified, type Want } from '../../export/types.js';
import type { Attrs } from '../../storage/types.js';
import { nfsStatusOf } from '../../vfs/status.js';
import { codeOf } from '../../util/errno.js';
import { Nfs4Stat, type Nfs4Error } from '../constants.js';
import type { ChangeInfo4, Stateid4 } from '../types.js';
import type { Compound } from '../compound.js';
import { changeOf } from '../attrs.js';
import { specialStateid, type ClientRecord } from '../state/index.js';

/** A handler's refusal with an nfsstat4 that no errno names (a stateid's, a missing filehandle's). */
export class OpStatus extends Error {
  readonly code = 'NFS4_OP_STATUS';
  constructor(readonly status: Nfs4Error, message?: string) {
    super(message ?? `nfsstat4 ${status}`);
    this.name = 'OpStatus';
  }
}

/** An error thrown by the gate, a backend or a handler's refusal, as nfsstat4. */
export function toNfs4Stat(e: unknown): Nfs4Error {
  if (e instanceof OpStatus) return e.status;
  return nfsStatusOf(e, 4) as Nfs4Error;
}

/** A failure result (status only). */
export function failed(status: Nfs4Error): { status: Nfs4Error } {
  return { status };
}

/**
 * The current filehandle through the gate (the runner checked there is one). What PUTFH found
 * for this very handle is rechecked instead of looked up again, while nothing changed since.
 */
export async function verifyCurrent(c: Compound, want?: Want): Promise<Verified> {
  const fh = c.fh!;
  const seen = c.verified;
  if (seen !== undefined && seen.fh === fh) return c.env.gate.recheck(seen.v, want);
  return c.env.gate.verify(fh, c.caller(), want);
}

/** The key naming a file in the state: the same for every handle of the object. */
export function fileKey(v: Pick<Verified, 'export' | 'node'>): string {
  return `${v.export.id}:${v.node.key.toString('hex')}`;
}

/** change_info4 from a directory's attributes before and after. Not atomic: others may change it between. */
export function changeInfo(before: Attrs, after: Attrs): ChangeInfo4 {
  return { atomic: false, before: changeOf(before), after: changeOf(after) };
}

/** The client of the session the COMPOUND's SEQUENCE named. */
export function clientOf(c: Compound): ClientRecord | undefined {
  return c.client;
}

/**
 * A stateid argument with the current stateid put in for the special "current" one (RFC 8881
 * section 16.2.3.1.2): NFS4ERR_BAD_STATEID when there is none.
 */
export function stateidArg(c: Compound, sid: Stateid4): Stateid4 | Nfs4Error {
  if (specialStateid(sid) !== 'current') return sid;
  return c.stateid ?? Nfs4Stat.BAD_STATEID;
}

/**
 * The file key for an operation on the state `sid` (CLOSE, LOCKU, OPEN_DOWNGRADE): the current
 * filehandle's through the gate, or — when its file is gone (removed while open, as knfsd still
 * lets a client close it) — the state's own, if the handle is the one the state was made on.
 */
export async function stateFileKey(c: Compound, sid: Stateid4): Promise<string> {
  try {
    return fileKey(await verifyCurrent(c));
  } catch (e) {
    if (codeOf(e) !== 'ESTALE' || !c.client) throw e;
    const r = c.env.state.files.find(c.client, sid);
    if (r.status === 0 && r.state.fh.equals(c.fh!)) return r.state.file.key;
    throw e;
  }
}

/**
 * The current filehandle for READ-like (`write` false) or WRITE-like operations: a regular file
 * the caller may read or write, and a stateid that allows it on that file (Nfs4State.checkIo); a
 * refusal throws OpStatus / the gate's error.
 */
export async function verifyIo(c: Compound, stateid: Stateid4, write: boolean): Promise<Verified> {
  const sid = stateidArg(c, stateid);
  if (typeof sid === 'number') throw new OpStatus(sid);
  const v = await verifyCurrent(c, { type: 'reg', may: write ? May.WRITE : May.READ });
  const st = c.env.state.checkIo(c.client, fileKey(v), sid, write);
  if (st !== 0) throw new OpStatus(st);
  return v;
}
