/**
 * Attributes as NFSv4 has them (RFC 8881 section 5, RFC 7862 section 12.2, RFC 8276): fattr4
 * values of an object from the backend's Attrs, and the settable ones back to the backend's
 * SetAttrs. What an attribute means is decided here once; the codec only has their shapes.
 *
 * `change` is the ctime in nanoseconds as knfsd writes it for file systems without an i_version
 * (seconds << 30 | nanoseconds): it moves with every change of data or metadata the file system
 * timestamps and, the clock not going back, never goes backwards across a restart
 * (change_attr_type TIME_METADATA says so to 4.2 clients).
 */
import type { Export } from '../export/types.js';
import type { Attrs, FileType, Node, SetAttrs, Timestamp } from '../storage/types.js';
import { Attr4 as A, ChangeAttrType4, Fh4Expire, Ftype4, type Ftype4Value } from './constants.js';
import type { Bitmap4, Fattr4, Fattr4Values, Nfstime4, Settime4 } from './types.js';
import { bitmap4, bitmap4And, bitmap4Bits, bitmap4Has, writeBitmap4 } from './codec/bitmap.js';
import { ATTR_BY_BIT } from './codec/fattr4-table.js';
import type { XdrWriter } from '../xdr/index.js';
import type { Nfs4Env } from './env.js';
import { refuse } from '../vfs/status.js';

const FTYPE: Readonly<Record<FileType, Ftype4Value>> = {
  reg: Ftype4.REG, dir: Ftype4.DIR, blk: Ftype4.BLK, chr: Ftype4.CHR, lnk: Ftype4.LNK, sock: Ftype4.SOCK, fifo: Ftype4.FIFO,
};

const COMMON = [
  A.SUPPORTED_ATTRS, A.TYPE, A.FH_EXPIRE_TYPE, A.CHANGE, A.SIZE, A.LINK_SUPPORT, A.SYMLINK_SUPPORT, A.NAMED_ATTR, A.FSID,
  A.UNIQUE_HANDLES, A.LEASE_TIME, A.RDATTR_ERROR, A.CANSETTIME, A.CASE_INSENSITIVE, A.CASE_PRESERVING,
  A.CHOWN_RESTRICTED, A.FILEHANDLE, A.FILEID, A.FILES_AVAIL, A.FILES_FREE, A.FILES_TOTAL, A.HOMOGENEOUS, A.MAXFILESIZE,
  A.MAXLINK, A.MAXNAME, A.MAXREAD, A.MAXWRITE, A.MODE, A.NO_TRUNC, A.NUMLINKS, A.OWNER, A.OWNER_GROUP, A.RAWDEV,
  A.SPACE_AVAIL, A.SPACE_FREE, A.SPACE_TOTAL, A.SPACE_USED, A.TIME_ACCESS, A.TIME_ACCESS_SET, A.TIME_DELTA,
  A.TIME_METADATA, A.TIME_MODIFY, A.TIME_MODIFY_SET, A.MOUNTED_ON_FILEID, A.SUPPATTR_EXCLCREAT,
];

/** The attributes we support, per minor version (4.2 adds clone_blksize, change_attr_type, mode_umask, xattr_support). */
export const SUPPORTED: Readonly<Record<number, Bitmap4>> = {
  1: bitmap4(...COMMON),
  2: bitmap4(...COMMON, A.CLONE_BLKSIZE, A.CHANGE_ATTR_TYPE, A.MODE_UMASK, A.XATTR_SUPPORT),
};

/** Attributes a GETATTR may not ask for (write-only): NFS4ERR_INVAL. */
export const WRITE_ONLY = bitmap4(A.TIME_ACCESS_SET, A.TIME_MODIFY_SET, A.MODE_UMASK);

/** What EXCLUSIVE4_1 may set besides the verifier (the times hold the verifier). */
const EXCLCREAT: Readonly<Record<number, Bitmap4>> = {
  1: bitmap4(A.MODE, A.OWNER, A.OWNER_GROUP),
  2: bitmap4(A.MODE, A.OWNER, A.OWNER_GROUP, A.MODE_UMASK),
};
export function exclcreatAttrs(minor: number): Bitmap4 {
  return EXCLCREAT[minor] ?? EXCLCREAT[1];
}

const STATFS = bitmap4(A.FILES_AVAIL, A.FILES_FREE, A.FILES_TOTAL, A.SPACE_AVAIL, A.SPACE_FREE, A.SPACE_TOTAL);

export function changeOf(a: Attrs): bigint {
  return (BigInt(a.ctime.sec) << 30n) + BigInt(a.ctime.nsec);
}

function nfstime(t: Timestamp): Nfstime4 {
  return { seconds: BigInt(Math.floor(t.sec)), nseconds: Math.min(Math.max(Math.floor(t.nsec), 0), 999_999_999) };
}

/** What a fattr4 is computed from: an object of an export, its attributes, and its handle when known. */
export interface AttrTarget {
  exp: Export;
  node: Node;
  attrs: Attrs;
  fh?: Buffer;
}

function anyOf(mask: Bitmap4, bits: Bitmap4): boolean {
  return bitmap4Bits(bitmap4And(mask, bits)).length > 0;
}

/**
 * The fattr4 of `t` for the attributes `requested` that we support in `minor`. Synchronous unless
 * it needs the file system's statistics or an export root's mount point (READDIR's entries mostly
 * do not: no promise per entry).
 */
export function fattr4Of(env: Nfs4Env, minor: number, t: AttrTarget, requested: Bitmap4): Fattr4 | Promise<Fattr4> {
  const supported = SUPPORTED[minor] ?? SUPPORTED[1];
  const mask = bitmap4And(requested, supported);
  const has = (bit: number) => bitmap4Has(mask, bit);
  const v = plainValues(env, minor, t, mask);
  const statfs = anyOf(mask, STATFS);
  const mounted = has(A.MOUNTED_ON_FILEID) && t.node.key.equals(t.exp.rootKey);
  if (!statfs && !mounted) {
    return { mask, values: v };
  }
  return (async () => {
    if (statfs) {
      const s = await t.exp.backend.statfs(t.node);
      if (has(A.FILES_AVAIL)) v.filesAvail = s.availFiles;
      if (has(A.FILES_FREE)) v.filesFree = s.freeFiles;
      if (has(A.FILES_TOTAL)) v.filesTotal = s.totalFiles;
      if (has(A.SPACE_AVAIL)) v.spaceAvail = s.availBytes;
      if (has(A.SPACE_FREE)) v.spaceFree = s.freeBytes;
      if (has(A.SPACE_TOTAL)) v.spaceTotal = s.totalBytes;
    }
    if (has(A.MOUNTED_ON_FILEID)) v.mountedOnFileid = await mountedOnFileid(env, t);
    return { mask, values: v };
  })();
}

type ValueOf = (t: AttrTarget, env: Nfs4Env, minor: number) => unknown;
type DirectWrite = (w: XdrWriter, t: AttrTarget) => void;

/**
 * What each attribute is, once: its value for an object, from the backend's attributes and the
 * server's settings, without asking the file system again (statfs values and an export root's
 * mounted_on_fileid are fattr4Of's own). The codec's rows say how each is written.
 */
const VALUES: ReadonlyArray<[number, ValueOf]> = [
  [A.SUPPORTED_ATTRS, (_t, _e, minor) => SUPPORTED[minor] ?? SUPPORTED[1]],
  [A.TYPE, (t) => FTYPE[t.attrs.type]],
  [A.FH_EXPIRE_TYPE, () => Fh4Expire.PERSISTENT],
  [A.CHANGE, (t) => changeOf(t.attrs)],
  [A.SIZE, (t) => t.attrs.size],
  [A.LINK_SUPPORT, () => true],
  [A.SYMLINK_SUPPORT, () => true],
  [A.NAMED_ATTR, () => false],
  [A.FSID, (t) => ({ major: BigInt(t.exp.id), minor: 0n })],
  [A.UNIQUE_HANDLES, () => true],
  [A.LEASE_TIME, (_t, env) => env.state.leaseSeconds],
  [A.RDATTR_ERROR, () => 0],
  [A.CANSETTIME, () => true],
  [A.CASE_INSENSITIVE, () => false],
  [A.CASE_PRESERVING, () => true],
  [A.CHOWN_RESTRICTED, () => true],
  [A.FILEHANDLE, (t, env) => t.fh ?? env.gate.compose(t.exp, t.node)],
  [A.FILEID, (t) => t.attrs.fileid],
  [A.HOMOGENEOUS, () => true],
  [A.MAXFILESIZE, () => 0x7fffffffffffffffn],
  [A.MAXLINK, () => 65000],
  [A.MAXNAME, () => 255],
  [A.MAXREAD, (_t, env) => BigInt(env.rtmax)],
  [A.MAXWRITE, (_t, env) => BigInt(env.wtmax)],
  [A.MODE, (t) => t.attrs.mode & 0o7777],
  [A.NO_TRUNC, () => true],
  // A directory has at least "." and its entry in the parent (as nfs3/attrs.ts).
  [A.NUMLINKS, (t) => (t.attrs.type === 'dir' ? Math.max(t.attrs.nlink, 2) : t.attrs.nlink)],
  [A.OWNER, (t, env) => env.idmap.owner(t.attrs.uid >>> 0)],
  [A.OWNER_GROUP, (t, env) => env.idmap.group(t.attrs.gid >>> 0)],
  [A.RAWDEV, (t) => ({ specdata1: t.attrs.rdev.major >>> 0, specdata2: t.attrs.rdev.minor >>> 0 })],
  [A.SPACE_USED, (t) => t.attrs.used],
  [A.TIME_ACCESS, (t) => nfstime(t.attrs.atime)],
  [A.TIME_DELTA, () => ({ seconds: 0n, nseconds: 1 })],
  [A.TIME_METADATA, (t) => nfstime(t.attrs.ctime)],
  [A.TIME_MODIFY, (t) => nfstime(t.attrs.mtime)],
  // Not an export root's (fattr4Of looks those up): its own fileid.
  [A.MOUNTED_ON_FILEID, (t) => t.attrs.fileid],
  [A.SUPPATTR_EXCLCREAT, (_t, _e, minor) => exclcreatAttrs(minor)],
  [A.CLONE_BLKSIZE, () => 4096],
  [A.CHANGE_ATTR_TYPE, () => ChangeAttrType4.TIME_METADATA],
  [A.XATTR_SUPPORT, (t) => typeof t.exp.backend.getxattr === 'function'],
];
const VALUE_OF = new Map(VALUES);

/** Everything fattr4Of knows without asking the file system again. */
function plainValues(env: Nfs4Env, minor: number, t: AttrTarget, mask: Bitmap4): Fattr4Values {
  const v: Record<string, unknown> = {};
  for (const bit of bitmap4Bits(mask)) {
    const fn = VALUE_OF.get(bit);
    const row = ATTR_BY_BIT.get(bit);
    if (fn && row) v[row.key] = fn(t, env, minor);
  }
  return v as Fattr4Values;
}

/**
 * A fattr4 encoding of one attribute mask, worked out once for many objects (READDIR's entries):
 * the rows to write in order. Undefined when the mask needs what only fattr4Of can give (statfs).
 */
export interface Fattr4Plan {
  readonly mask: Bitmap4;
  readonly steps: ReadonlyArray<{ write: (w: XdrWriter, v: never) => void; value: ValueOf; direct: DirectWrite | undefined }>;
}

export function fattr4Plan(minor: number, requested: Bitmap4): Fattr4Plan | undefined {
  const mask = bitmap4And(requested, SUPPORTED[minor] ?? SUPPORTED[1]);
  if (anyOf(mask, STATFS)) return undefined;
  const steps: Fattr4Plan['steps'][number][] = [];
  for (const bit of bitmap4Bits(mask)) {
    const value = VALUE_OF.get(bit);
    const row = ATTR_BY_BIT.get(bit);
    if (!value || !row) return undefined; // a write-only attribute: the caller refuses those first
    steps.push({ write: row.write as never, value, direct: DIRECT.get(bit) });
  }
  return { mask, steps };
}

/** nfstime4 of a Timestamp, written as nfstime() and writeNfstime would, with no object or BigInt made. */
function writeTime(w: XdrWriter, t: Timestamp): void {
  w.int64n(Math.floor(t.sec)).uint32(Math.min(Math.max(Math.floor(t.nsec), 0), 999_999_999));
}

/**
 * The attributes every READDIR entry carries, written straight from the attributes (the same bytes
 * as their VALUES entry through the codec's row, which the fattr4 tests compare): one listing
 * writes 10,000 of each.
 */
const DIRECT = new Map<number, DirectWrite>([
  [A.TYPE, (w, t) => void w.uint32(FTYPE[t.attrs.type])],
  [A.SIZE, (w, t) => void w.uint64(t.attrs.size)],
  [A.FILEID, (w, t) => void w.uint64(t.attrs.fileid)],
  [A.MOUNTED_ON_FILEID, (w, t) => void w.uint64(t.attrs.fileid)],
  [A.SPACE_USED, (w, t) => void w.uint64(t.attrs.used)],
  [A.MODE, (w, t) => void w.uint32(t.attrs.mode & 0o7777)],
  [A.TIME_ACCESS, (w, t) => writeTime(w, t.attrs.atime)],
  [A.TIME_METADATA, (w, t) => writeTime(w, t.attrs.ctime)],
  [A.TIME_MODIFY, (w, t) => writeTime(w, t.attrs.mtime)],
  [A.RAWDEV, (w, t) => void w.uint32(t.attrs.rdev.major >>> 0).uint32(t.attrs.rdev.minor >>> 0)],
]);

/** fattr4 of an object that is not an export root, by a plan: byte for byte encodeFattr4(fattr4Of(...)). */
export function writeFattr4(w: XdrWriter, plan: Fattr4Plan, env: Nfs4Env, minor: number, t: AttrTarget): void {
  writeBitmap4(w, plan.mask);
  const at = w.reserve32();
  const start = w.length;
  for (const s of plan.steps) {
    if (s.direct !== undefined) s.direct(w, t);
    else s.write(w, s.value(t, env, minor) as never);
  }
  w.patch32(at, w.length - start);
}

/** For the root of an export, the fileid of the directory it covers; for anything else its own. */
async function mountedOnFileid(env: Nfs4Env, t: AttrTarget): Promise<bigint> {
  if (!t.node.key.equals(t.exp.rootKey)) return t.attrs.fileid;
  const mp = await env.exports.namespace.mountpoint(t.exp);
  return mp ? mp.node.fileid : t.attrs.fileid;
}

function settime(t: Settime4): Timestamp | 'now' {
  return t === 'server' ? 'now' : { sec: Number(t.seconds), nsec: t.nseconds };
}

/**
 * The backend's SetAttrs for a fattr4 a client sent (SETATTR, CREATE, OPEN). Owners map through
 * the id mapper (NFS4ERR_BADOWNER); an attribute we do not support in `minor` is
 * NFS4ERR_ATTRNOTSUPP. mode_umask (4.2) is the mode with the umask applied, as a local create would.
 */
export function setAttrsOf(env: Nfs4Env, minor: number, f: Fattr4): SetAttrs {
  const supported = SUPPORTED[minor] ?? SUPPORTED[1];
  for (const bit of bitmap4Bits(f.mask)) if (!bitmap4Has(supported, bit)) refuse('EATTRNOTSUPP', `attribute ${bit} cannot be set`);
  const v = f.values;
  const s: SetAttrs = {};
  if (v.size !== undefined) s.size = v.size;
  if (v.mode !== undefined) s.mode = v.mode & 0o7777;
  if (v.modeUmask !== undefined) s.mode = v.modeUmask.mode & ~v.modeUmask.umask & 0o7777;
  if (v.owner !== undefined) {
    const uid = env.idmap.uidOf(v.owner);
    if (uid === undefined) refuse('EBADOWNER', `unknown owner "${v.owner}"`);
    s.uid = uid;
  }
  if (v.ownerGroup !== undefined) {
    const gid = env.idmap.gidOf(v.ownerGroup);
    if (gid === undefined) refuse('EBADOWNER', `unknown group "${v.ownerGroup}"`);
    s.gid = gid;
  }
  if (v.timeAccessSet !== undefined) s.atime = settime(v.timeAccessSet);
  if (v.timeModifySet !== undefined) s.mtime = settime(v.timeModifySet);
  return s;
}
