import { BufferPool } from '../../util/bufpool.js';
import { readData } from '../../vfs/read.js';
import type { Read4Args, Read4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat, verifyIo } from './common.js';

/** Largest offset + count a READ may reach (2^63 - 1, as NFSv3's and knfsd's OFFSET_MAX). */
const OFFSET_MAX = 0x7fffffffffffffffn;

/**
 * READ (RFC 8881 section 18.22): the stateid must allow reading this file (an open or lock state
 * of it, or a special stateid no open's deny mode forbids). The count is cut to maxread and to the
 * room left in the session's reply, as knfsd does. The data comes by vfs/read.ts — spliced from
 * the page cache when no other READ of this COMPOUND took the one tail a reply can carry.
 */
export function readOp(rtmax: number): OpRow<25> {
  const pool = new BufferPool(rtmax, 64);
  return {
    async handler(a: Read4Args, c: Compound): Promise<Read4Res> {
      try {
        const v = await verifyIo(c, a.stateid, false);
        const offset = a.offset > OFFSET_MAX ? OFFSET_MAX : a.offset;
        // The reply's READ4resok (status, eof, length) and padding fit beside the data (the runner counts them).
        let count = Math.max(0, Math.min(a.count, rtmax, c.room - 16));
        if (offset + BigInt(count) > OFFSET_MAX) count = Number(OFFSET_MAX - offset);
        const d = await readData(v.export.backend, v.node, offset, count, pool, !c.tail);
        if (d.spliced) c.tail = true;
        return { status: 0, eof: d.eof, data: d.data, spliced: d.spliced, release: d.release };
      } catch (e) {
        return { status: toNfs4Stat(e) };
      }
    },
    fh: true,
    bytes: (res) => (res.status === 0 ? (res.spliced ?? res.data).length : 0),
  };
}
