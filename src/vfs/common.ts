/** Small helpers every NFS version's operations share. */
import type { CallContext } from '../rpc/context.js';
import { GateError, type Caller, type FhGate, type Verified } from '../export/types.js';

export function callerOf(ctx: CallContext): Caller {
  return { cred: ctx.cred, peer: ctx.peer };
}

/** True when the node is the root of its export (where ".." must stop). */
export function isExportRoot(v: Pick<Verified, 'export' | 'node'>): boolean {
  return v.node.key.equals(v.export.rootKey);
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
const REFUSED_AFTER_RESOLVE = new Set(['ENOTDIR', 'ESYMLINKDIR', 'EISDIR', 'EINVAL', 'ELOOP', 'EWRONGTYPE', 'EACCES', 'EPERM', 'EROFS']);

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
