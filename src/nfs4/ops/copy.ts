import { May, type Verified } from '../../export/types.js';
import { modeBeforeWrite } from '../../export/setid.js';
import { refuse } from '../../vfs/status.js';
import { storageFailureResetsVerifier } from '../../vfs/common.js';
import { Nfs4Stat, StableHow4 } from '../constants.js';
import type { Clone4Args, Copy4Args, Copy4Res, Stateid4, Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { OpStatus, fileKey, stateidArg, toNfs4Stat } from './common.js';

/**
 * The source (saved filehandle, read with its stateid) and destination (current filehandle,
 * written with its stateid) of COPY and CLONE: regular files of one export (NFS4ERR_XDEV across
 * exports); overlapping ranges of one file are NFS4ERR_INVAL.
 */
async function ends(c: Compound, a: { srcStateid: Stateid4; dstStateid: Stateid4 }): Promise<{ src: Verified; dst: Verified }> {
  if (c.saved === undefined) throw new OpStatus(Nfs4Stat.NOFILEHANDLE, 'no saved filehandle');
  const ssid = stateidArg(c, a.srcStateid);
  if (typeof ssid === 'number') throw new OpStatus(ssid);
  const dsid = stateidArg(c, a.dstStateid);
  if (typeof dsid === 'number') throw new OpStatus(dsid);
  const src = await c.env.gate.verify(c.saved!, c.caller(), { type: 'reg', may: May.READ });
  const dst = await c.env.gate.verify(c.fh!, c.caller(), { type: 'reg', may: May.WRITE });
  const state = c.env.state;
  const s1 = state.checkIo(c.client, fileKey(src), ssid, false);
  if (s1 !== 0) throw new OpStatus(s1, 'source stateid');
  const s2 = state.checkIo(c.client, fileKey(dst), dsid, true);
  if (s2 !== 0) throw new OpStatus(s2, 'destination stateid');
  if (src.export.id !== dst.export.id) refuse('EXDEV', 'across exports');
  return { src, dst };
}


function overlap(srcOff: bigint, dstOff: bigint, count: bigint): boolean {
  if (count === 0n) return true;
  return srcOff < dstOff + count && dstOff < srcOff + count;
}

/**
 * COPY (RFC 7862 section 15.2) within this server, always synchronous (whatever was asked:
 * the requirements say so) by copy_file_range underneath; the bytes are not made durable by it,
 * so the reply is UNSTABLE with the write verifier and the client COMMITs. Copies from other
 * servers (a source server list) are NFS4ERR_NOTSUPP, as OFFLOAD_STATUS and OFFLOAD_CANCEL.
 */
export const copy: OpRow<60> = {
  async handler(a: Copy4Args, c: Compound): Promise<Copy4Res> {
    if (a.sourceServers.length > 0) return { status: Nfs4Stat.NOTSUPP };
    try {
      const { src, dst } = await ends(c, a);
      const b = dst.export.backend;
      if (!b.copyRange) refuse('ENOTSUP', 'the backend cannot copy');
      const size = (await src.export.backend.getattr(src.node)).size;
      if (a.srcOffset > size) refuse('EINVAL', 'the source offset is past its end');
      if (src.node.key.equals(dst.node.key) && overlap(a.srcOffset, a.dstOffset, a.count)) refuse('EINVAL', 'overlapping ranges of one file');
      const kept = modeBeforeWrite(dst.attrs, dst.identity);
      if (kept !== undefined) await b.setattr(dst.node, { mode: kept });
      let count: bigint;
      try {
        count = await b.copyRange(src.node, a.srcOffset, dst.node, a.dstOffset, a.count);
      } catch (e) {
        if (storageFailureResetsVerifier(e)) c.env.resetWriteVerifier();
        throw e;
      }
      return {
        status: 0,
        response: { count, committed: StableHow4.UNSTABLE, writeverf: c.env.writeVerifier() },
        requirements: { consecutive: true, synchronous: true },
      };
    } catch (e) {
      return { status: toNfs4Stat(e) } as Copy4Res;
    }
  },
  fh: true,
  modifies: true,
};

/**
 * CLONE (RFC 7862 section 15.13): the destination range shares the source's blocks, where the
 * file system reflinks (FICLONERANGE); elsewhere NFS4ERR_NOTSUPP (EOPNOTSUPP), and ranges it
 * cannot clone (unaligned) NFS4ERR_INVAL.
 */
export const clone: OpRow<71> = {
  async handler(a: Clone4Args, c: Compound): Promise<Status4Res> {
    try {
      const { src, dst } = await ends(c, a);
      const b = dst.export.backend;
      if (!b.clone) refuse('ENOTSUP', 'the backend cannot clone');
      if (src.node.key.equals(dst.node.key) && overlap(a.srcOffset, a.dstOffset, a.count)) refuse('EINVAL', 'overlapping ranges of one file');
      await b.clone(src.node, a.srcOffset, dst.node, a.dstOffset, a.count);
      return { status: 0 };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
