/**
 * Attributes as NFSv3 puts them on the wire: fattr3 from the backend's
 * Attrs, wcc_data from before/after pictures, post_op_attr that never fails
 * a call (missing attributes are allowed; a failed getattr after a
 * successful operation must not turn it into an error).
 */
import type { Attrs, FileType, Node, Timestamp } from '../storage/types.js';
import type { Export } from '../export/types.js';
import { Ftype3, type Ftype3Value } from './constants.js';
import type { Fattr3, Nfstime3, PostOpAttr, WccAttr, WccData } from './types.js';

const FTYPE: Readonly<Record<FileType, Ftype3Value>> = {
  reg: Ftype3.REG,
  dir: Ftype3.DIR,
  blk: Ftype3.BLK,
  chr: Ftype3.CHR,
  lnk: Ftype3.LNK,
  sock: Ftype3.SOCK,
  fifo: Ftype3.FIFO,
};

/**
 * nfstime3 has unsigned 32-bit seconds. Times before 1970 or after 2106
 * cannot be represented; we clamp instead of letting them wrap (knfsd's
 * truncating cast turns 1969 into 2106, which confuses make and rsync).
 */
export function toNfstime(t: Timestamp): Nfstime3 {
  const seconds = t.sec < 0 ? 0 : t.sec > 0xffffffff ? 0xffffffff : Math.floor(t.sec);
  const nseconds = t.sec < 0 ? 0 : Math.min(Math.max(Math.floor(t.nsec), 0), 999_999_999);
  return { seconds, nseconds };
}

/** fattr3 of an object of `exp`. fsid is the export id, so each export is its own file system to clients. */
export function toFattr3(a: Attrs, exp: Export): Fattr3 {
  return {
    type: FTYPE[a.type],
    mode: a.mode & 0o7777,
    // A directory has at least "." and its entry in the parent; some
    // backends (and FUSE file systems) report 1, which makes find(1)'s
    // leaf optimisation skip subdirectories.
    nlink: a.type === 'dir' ? Math.max(a.nlink, 2) : a.nlink,
    uid: a.uid >>> 0,
    gid: a.gid >>> 0,
    size: a.size,
    used: a.used,
    rdev: { specdata1: a.rdev.major >>> 0, specdata2: a.rdev.minor >>> 0 },
    fsid: BigInt(exp.id),
    fileid: a.fileid,
    atime: toNfstime(a.atime),
    mtime: toNfstime(a.mtime),
    ctime: toNfstime(a.ctime),
  };
}

export function toWccAttr(a: Attrs): WccAttr {
  return { size: a.size, mtime: toNfstime(a.mtime), ctime: toNfstime(a.ctime) };
}

/** Fresh attributes of a node, or none if they cannot be had (post_op_attr FALSE). */
export async function postOpAttr(exp: Export, node: Node): Promise<PostOpAttr> {
  try {
    return toFattr3(await exp.backend.getattr(node), exp);
  } catch {
    return undefined;
  }
}

/** wcc_data from the attributes before the operation and fresh ones after. */
export async function wccAfter(exp: Export, node: Node, before: Attrs | undefined): Promise<WccData> {
  return { before: before && toWccAttr(before), after: await postOpAttr(exp, node) };
}

/** wcc_data when even the object could not be reached: nothing before, nothing after. */
export const EMPTY_WCC: WccData = Object.freeze({ before: undefined, after: undefined }) as WccData;

/** FTYPE as a lookup by the type's first letters, for the per-entry encoder. */
function ftypeCode(t: FileType): number {
  return FTYPE[t];
}

/** nfstime3 from a Timestamp, with toNfstime's clamping, written at `off`. */
function nfstimeInto(dv: DataView, off: number, t: Timestamp): void {
  const sec = t.sec;
  if (sec < 0) {
    dv.setUint32(off, 0);
    dv.setUint32(off + 4, 0);
    return;
  }
  const nsec = t.nsec;
  dv.setUint32(off, sec > 0xffffffff ? 0xffffffff : Math.floor(sec));
  dv.setUint32(off + 4, nsec > 0 ? (nsec < 999_999_999 ? Math.floor(nsec) : 999_999_999) : 0);
}

/**
 * The 84 bytes of fattr3 for `a` at `off`: byte for byte what
 * writeFattr(toFattr3(a, exp)) writes for an export whose id is `fsid`,
 * without building the Fattr3 (READDIRPLUS writes one per entry).
 */
export function fattr3Into(dv: DataView, off: number, a: Attrs, fsid: number): void {
  const isDir = a.type === 'dir';
  dv.setUint32(off, ftypeCode(a.type));
  dv.setUint32(off + 4, a.mode & 0o7777);
  dv.setUint32(off + 8, isDir ? Math.max(a.nlink, 2) : a.nlink);
  dv.setUint32(off + 12, a.uid >>> 0);
  dv.setUint32(off + 16, a.gid >>> 0);
  // setBigUint64 reduces modulo 2^64 itself (ToBigUint64), as BigInt.asUintN does.
  dv.setBigUint64(off + 20, a.size);
  dv.setBigUint64(off + 28, a.used);
  dv.setUint32(off + 36, a.rdev.major >>> 0);
  dv.setUint32(off + 40, a.rdev.minor >>> 0);
  dv.setUint32(off + 44, 0);
  dv.setUint32(off + 48, fsid >>> 0);
  dv.setBigUint64(off + 52, a.fileid);
  nfstimeInto(dv, off + 60, a.atime);
  nfstimeInto(dv, off + 68, a.mtime);
  nfstimeInto(dv, off + 76, a.ctime);
}
