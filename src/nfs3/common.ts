/** Small helpers shared by the procedure handlers. */
import type { CallContext } from '../rpc/context.js';
import { GateError, type Caller, type FhGate, type Verified } from '../export/types.js';
import { mayDelete, stickyAllows } from '../export/permission.js';
import type { Attrs, StableHow } from '../storage/types.js';
import { StableHow3, type StableHow3Value } from './constants.js';
import { refuse } from './status.js';

export function callerOf(ctx: CallContext): Caller {
  return { cred: ctx.cred, peer: ctx.peer };
}

/** "." and "..": names that never denote a new or removable directory entry. */
export function isDotName(name: string): boolean {
  return name === '.' || name === '..';
}

/** True when the node is the root of its export (where ".." must stop). */
export function isExportRoot(v: Pick<Verified, 'export' | 'node'>): boolean {
  return v.node.key.equals(v.export.rootKey);
}

export function toStorageStable(s: StableHow3Value): StableHow {
  return s === StableHow3.FILE_SYNC ? 'file_sync' : s === StableHow3.DATA_SYNC ? 'data_sync' : 'unstable';
}

export function fromStorageStable(s: StableHow): StableHow3Value {
  return s === 'file_sync' ? StableHow3.FILE_SYNC : s === 'data_sync' ? StableHow3.DATA_SYNC : StableHow3.UNSTABLE;
}

/**
 * Refuse removing (or renaming away, or replacing) `victim` from the verified
 * directory (mayDelete: write+search on the directory, which the gate has
 * already checked, and the sticky bit). A sticky-bit refusal is EPERM, as
 * Linux's may_delete answers; anything else EACCES.
 */
export function checkMayDelete(dir: Verified, victim: Attrs): void {
  if (mayDelete(dir.attrs, victim, dir.identity)) return;
  if (!stickyAllows(dir.attrs, victim, dir.identity)) refuse('EPERM', 'sticky directory: not the owner of the entry or the directory');
  refuse('EACCES', 'no write and search permission on the directory');
}

/**
 * knfsd resets the verifier on any storage error except those that say
 * nothing about durable storage (EAGAIN: try again; ESTALE: the file is gone).
 */
export function storageFailureResetsVerifier(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return code !== 'EAGAIN' && code !== 'ESTALE';
}

/** Gate refusals that happen after the object was found (wrong type, permission, read-only). */
const REFUSED_AFTER_RESOLVE = new Set(['ENOTDIR', 'EISDIR', 'EINVAL', 'EACCES', 'EPERM', 'EROFS']);

/**
 * When the gate refused a handle for its type or permissions, the object
 * still exists and its attributes belong in the failure arm (knfsd fills
 * post_op_attr/wcc_data from the dentry fh_verify found before refusing).
 * A second pass through the same gate, asking for nothing, gets them; since
 * GETATTR needs no permission either, nothing is revealed that the client
 * could not already read.
 */
export async function reachableAfterRefusal(
  gate: FhGate,
  fh: Buffer,
  ctx: CallContext,
  err: unknown,
): Promise<Verified | undefined> {
  if (!(err instanceof GateError) || !REFUSED_AFTER_RESOLVE.has(err.code)) return undefined;
  try {
    return await gate.verify(fh, callerOf(ctx));
  } catch {
    return undefined;
  }
}
