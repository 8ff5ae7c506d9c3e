import type { Backend, Node } from '../../storage/types.js';
import { codeOf } from '../../util/errno.js';
import type { ReadPlus4Args, ReadPlus4Res, ReadPlusContent4 } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat, verifyIo } from './common.js';

/** Segments per reply, at most: a file of many small holes is answered in several READ_PLUS. */
const MAX_SEGMENTS = 64;
const OFFSET_MAX = 0x7fffffffffffffffn;

/** The next data at or after `pos`, the file size when only a hole is left. */
async function nextData(b: Backend, node: Node, pos: bigint, size: bigint): Promise<bigint> {
  try {
    return await b.seek!(node, pos, 'data');
  } catch (e) {
    if (codeOf(e) === 'ENXIO') return size;
    throw e;
  }
}

/**
 * READ_PLUS (RFC 7862 section 15.10): the range as data and hole segments, in order, covering
 * [offset, offset + count) up to the end of the file, which rpr_eof reports. Holes are where the
 * backend's SEEK_DATA / SEEK_HOLE say (without them everything is one data segment). Data is
 * read with read(): what lies in a hole according to a seek that raced with a writer is still
 * read as data, never guessed. Checks as READ's.
 */
export function readPlusOp(rtmax: number): OpRow<68> {
  return {
    async handler(a: ReadPlus4Args, c: Compound): Promise<ReadPlus4Res> {
      try {
        const v = await verifyIo(c, a.stateid, false);
        const b = v.export.backend;
        // Each segment's header (type, offset, length) beside the data, within the room the session leaves.
        const count = Math.max(0, Math.min(a.count, rtmax, c.room - 16 - 24 * MAX_SEGMENTS));
        const size = v.attrs.size;
        const offset = a.offset > OFFSET_MAX ? OFFSET_MAX : a.offset;
        let end = offset + BigInt(count);
        if (end > size) end = size;
        const contents: ReadPlusContent4[] = [];
        const buf = Buffer.allocUnsafe(count);
        let used = 0;
        let pos = offset;
        while (pos < end && contents.length < MAX_SEGMENTS) {
          const data = b.seek ? await nextData(b, v.node, pos, size) : pos;
          if (data > pos) {
            const holeEnd = data < end ? data : end;
            contents.push({ type: 1, offset: pos, length: holeEnd - pos });
            pos = holeEnd;
            continue;
          }
          let stop = b.seek ? await b.seek(v.node, pos, 'hole') : end;
          if (stop > end || stop <= pos) stop = end;
          const into = buf.subarray(used, used + Number(stop - pos));
          const r = await b.read(v.node, pos, into);
          contents.push({ type: 0, offset: pos, data: into.subarray(0, r.bytesRead) });
          used += r.bytesRead;
          pos += BigInt(r.bytesRead);
          if (r.bytesRead < into.length) break; // the file shrank under us: stop at what is there
        }
        // eof: the reply reaches the end of the file as it is now.
        const eof = pos >= (await b.getattr(v.node)).size;
        return { status: 0, eof, contents };
      } catch (e) {
        return { status: toNfs4Stat(e) };
      }
    },
    fh: true,
    bytes: (res) => (res.status === 0 ? res.contents.reduce((n, s) => n + (s.type === 0 ? s.data.length : 0), 0) : 0),
  };
}
