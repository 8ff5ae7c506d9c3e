import { modeBeforeWrite } from '../../export/setid.js';
import { storageFailureResetsVerifier } from '../../vfs/common.js';
import { Nfs4Stat, StableHow4, type StableHow4Value } from '../constants.js';
import type { StableHow } from '../../storage/types.js';
import type { Write4Args, Write4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat, verifyIo } from './common.js';

const MAX_END = 0x7fffffffffffffffn;

export function toStorageStable(s: number): StableHow {
  return s === StableHow4.FILE_SYNC ? 'file_sync' : s === StableHow4.DATA_SYNC ? 'data_sync' : 'unstable';
}

export function fromStorageStable(s: StableHow): StableHow4Value {
  return s === 'file_sync' ? StableHow4.FILE_SYNC : s === 'data_sync' ? StableHow4.DATA_SYNC : StableHow4.UNSTABLE;
}

/**
 * WRITE (RFC 8881 section 18.32) with NFSv3's honesty: `committed` is what the backend achieved
 * (FILE_SYNC only after a durable write; an "async" export writes UNSTABLE whatever is asked),
 * the verifier is the server's (shared with v3), and a storage failure resets it so clients send
 * uncommitted data again. The stateid must allow writing; set-id bits go first (file_remove_privs).
 * The data stays a view of the request: a backend that queues it keeps the record (Compound.keep).
 */
export const write: OpRow<38> = {
  async handler(a: Write4Args, c: Compound): Promise<Write4Res> {
    try {
      const v = await verifyIo(c, a.stateid, true);
      if (a.offset + BigInt(a.data.length) > MAX_END) return { status: Nfs4Stat.FBIG };
      const asked = v.options.sync ? a.stable : StableHow4.UNSTABLE;
      const b = v.export.backend;
      try {
        const kept = modeBeforeWrite(v.attrs, v.identity);
        if (kept !== undefined) await b.setattr(v.node, { mode: kept });
        const keep = c.ctx.keepArgs ? () => c.keep()! : undefined;
        const r = await b.write(v.node, a.offset, a.data, toStorageStable(asked), keep);
        return { status: 0, count: r.count, committed: fromStorageStable(r.committed), writeverf: c.env.writeVerifier() };
      } catch (e) {
        if (storageFailureResetsVerifier(e)) c.env.resetWriteVerifier();
        throw e;
      }
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
  bytes: (res) => (res.status === 0 ? res.count : 0),
};
