import type { CallContext } from '../rpc/context.js';
import { May, type Verified } from '../export/types.js';
import type { Nfs3Env } from './env.js';
import type { WccData } from './types.js';
import { EMPTY_WCC, wccAfter } from './attrs.js';
import { callerOf, reachableAfterRefusal, storageFailureResetsVerifier } from './common.js';
import { toNfsStat } from './status.js';
import type { Nfs3Error } from './constants.js';

/** The failure arm WRITE and COMMIT share: a status and the file's wcc_data. */
export interface WccFailure {
  status: Nfs3Error;
  wcc: WccData;
}

/**
 * WRITE and COMMIT: the file must be a regular file the caller may write.
 * A refusal becomes the failure arm, with the attributes the client may
 * still see (as knfsd fills wcc_data after fh_verify refused).
 */
export async function verifyForWrite(env: Nfs3Env, fh: Buffer, ctx: CallContext): Promise<Verified | WccFailure> {
  try {
    return await env.gate.verify(fh, callerOf(ctx), { type: 'reg', may: May.WRITE });
  } catch (e) {
    const seen = await reachableAfterRefusal(env.gate, fh, ctx, e);
    return { status: toNfsStat(e), wcc: seen ? await wccAfter(seen.export, seen.node, seen.attrs) : EMPTY_WCC };
  }
}

/**
 * A storage failure during WRITE or COMMIT: reset the write verifier (knfsd
 * does the same) so clients resend uncommitted data, and answer the mapped
 * status with the file's wcc_data.
 */
export async function writeFailure(env: Nfs3Env, v: Verified, e: unknown): Promise<WccFailure> {
  if (storageFailureResetsVerifier(e)) env.resetWriteVerifier();
  return { status: toNfsStat(e), wcc: await wccAfter(v.export, v.node, v.attrs) };
}
