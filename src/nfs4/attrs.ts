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
import { bitmap4, bitmap4And, bitmap4Bits, bitmap4Has } from './codec/bitmap.js';
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
  const v = plainValues(env, minor, t, mask, supported);
  const statfs = anyOf(mask, STATFS);
  const mounted = has(A.MOUNTED_ON_FILEID) && t.node.key.equals(t.exp.rootKey);
  if (!statfs && !mounted) {
    if (has(A.MOUNTED_ON_FILEID)) v.mountedOnFileid = t.attrs.fileid;
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

/** Everything fattr4Of knows without asking the file system again. */
function plainValues(env: Nfs4Env, minor: number, t: AttrTarget, mask: Bitmap4, supported: Bitmap4): Fattr4Values {
  const a = t.attrs;
  const has = (bit: number) => bitmap4Has(mask, bit);
  const v: Fattr4Values = {};
  if (has(A.SUPPORTED_ATTRS)) v.supportedAttrs = supported;
  if (has(A.TYPE)) v.type = FTYPE[a.type];
  if (has(A.FH_EXPIRE_TYPE)) v.fhExpireType = Fh4Expire.PERSISTENT;
  if (has(A.CHANGE)) v.change = changeOf(a);
  if (has(A.SIZE)) v.size = a.size;
  if (has(A.LINK_SUPPORT)) v.linkSupport = true;
  if (has(A.SYMLINK_SUPPORT)) v.symlinkSupport = true;
  if (has(A.NAMED_ATTR)) v.namedAttr = false;
  if (has(A.FSID)) v.fsid = { major: BigInt(t.exp.id), minor: 0n };
  if (has(A.UNIQUE_HANDLES)) v.uniqueHandles = true;
  if (has(A.LEASE_TIME)) v.leaseTime = env.state.leaseSeconds;
  if (has(A.RDATTR_ERROR)) v.rdattrError = 0;
  if (has(A.CANSETTIME)) v.cansettime = true;
  if (has(A.CASE_INSENSITIVE)) v.caseInsensitive = false;
  if (has(A.CASE_PRESERVING)) v.casePreserving = true;
  if (has(A.CHOWN_RESTRICTED)) v.chownRestricted = true;
  if (has(A.FILEHANDLE)) v.filehandle = t.fh ?? env.gate.compose(t.exp, t.node);
  if (has(A.FILEID)) v.fileid = a.fileid;
  if (has(A.HOMOGENEOUS)) v.homogeneous = true;
  if (has(A.MAXFILESIZE)) v.maxfilesize = 0x7fffffffffffffffn;
  if (has(A.MAXLINK)) v.maxlink = 65000;
  if (has(A.MAXNAME)) v.maxname = 255;
  if (has(A.MAXREAD)) v.maxread = BigInt(env.rtmax);
  if (has(A.MAXWRITE)) v.maxwrite = BigInt(env.wtmax);
  if (has(A.MODE)) v.mode = a.mode & 0o7777;
  if (has(A.NO_TRUNC)) v.noTrunc = true;
  // A directory has at least "." and its entry in the parent (as nfs3/attrs.ts).
  if (has(A.NUMLINKS)) v.numlinks = a.type === 'dir' ? Math.max(a.nlink, 2) : a.nlink;
  if (has(A.OWNER)) v.owner = env.idmap.owner(a.uid >>> 0);
  if (has(A.OWNER_GROUP)) v.ownerGroup = env.idmap.group(a.gid >>> 0);
  if (has(A.RAWDEV)) v.rawdev = { specdata1: a.rdev.major >>> 0, specdata2: a.rdev.minor >>> 0 };
  if (has(A.SPACE_USED)) v.spaceUsed = a.used;
  if (has(A.TIME_ACCESS)) v.timeAccess = nfstime(a.atime);
  if (has(A.TIME_DELTA)) v.timeDelta = { seconds: 0n, nseconds: 1 };
  if (has(A.TIME_METADATA)) v.timeMetadata = nfstime(a.ctime);
  if (has(A.TIME_MODIFY)) v.timeModify = nfstime(a.mtime);
  if (has(A.SUPPATTR_EXCLCREAT)) v.suppattrExclcreat = exclcreatAttrs(minor);
  if (has(A.CLONE_BLKSIZE)) v.cloneBlksize = 4096;
  if (has(A.CHANGE_ATTR_TYPE)) v.changeAttrType = ChangeAttrType4.TIME_METADATA;
  if (has(A.XATTR_SUPPORT)) v.xattrSupport = typeof t.exp.backend.getxattr === 'function';
  return v;
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
