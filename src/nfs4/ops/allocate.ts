import { modeBeforeWrite } from '../../export/setid.js';
import { refuse } from '../../vfs/status.js';
import type { Allocate4Args, Deallocate4Args, Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat, verifyIo } from './common.js';

/** ALLOCATE and DEALLOCATE: a write to the file (its stateid, its set-id bits), then the backend's call. */
async function change(c: Compound, a: Allocate4Args | Deallocate4Args, what: 'allocate' | 'deallocate'): Promise<Status4Res> {
  try {
    const v = await verifyIo(c, a.stateid, true);
    const b = v.export.backend;
    const call = b[what];
    if (!call) refuse('ENOTSUP', `the backend cannot ${what}`);
    if (a.length === 0n) refuse('EINVAL', 'a range of no bytes');
    const kept = modeBeforeWrite(v.attrs, v.identity);
    if (kept !== undefined) await b.setattr(v.node, { mode: kept });
    await call.call(b, v.node, a.offset, a.length);
    return { status: 0 };
  } catch (e) {
    return { status: toNfs4Stat(e) };
  }
}

/** ALLOCATE (RFC 7862 section 15.1): space reserved for the range (fallocate), the file extended to it. */
export const allocate: OpRow<59> = { handler: (a, c) => change(c, a, 'allocate'), fh: true, modifies: true };

/** DEALLOCATE (RFC 7862 section 15.4): a hole punched in the range; it reads as zeros, the size stays. */
export const deallocate: OpRow<62> = { handler: (a, c) => change(c, a, 'deallocate'), fh: true, modifies: true };
