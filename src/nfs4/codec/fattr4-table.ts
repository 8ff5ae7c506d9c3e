/**
 * One row per attribute the codec knows (spec/nfs4.x "Attributes the codec
 * encodes and decodes"): its number, the Fattr4Values key that holds it,
 * its XDR both ways, and whether a client may set it (RFC 8881 section 5.6
 * and 5.7 mark it R/W and we decode it in SETATTR / CREATE / OPEN). acl is
 * R/W in the RFC but not known here, so setting it is NFS4ERR_ATTRNOTSUPP.
 *
 * The rows know XDR, not meaning: what value an attribute has is the
 * server's to say; here only its shape.
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import { Attr4 as A, type Ftype4Value, type Nfs4Status } from '../constants.js';
import type { Fattr4Values, FsLocations4 } from '../types.js';
import {
  readFh4, readFsid, readNfstime, readSettime, readSpecdata, readUtf8, writeFh4, writeFsid, writeNfstime, writeSettime,
  writeSpecdata,
} from './basic.js';
import { readBitmap4, writeBitmap4 } from './bitmap.js';
import type { Nfs4Limits } from './limits.js';

type Key = keyof Fattr4Values;
type Val<K extends Key> = NonNullable<Fattr4Values[K]>;

export interface AttrRow<K extends Key = Key> {
  readonly bit: number;
  readonly key: K;
  readonly settable: boolean;
  write(w: XdrWriter, v: Val<K>): void;
  read(r: XdrReader, lim: Nfs4Limits): Val<K>;
}

function row<K extends Key>(
  bit: number,
  key: K,
  write: (w: XdrWriter, v: Val<K>) => void,
  read: (r: XdrReader, lim: Nfs4Limits) => Val<K>,
  settable = false,
): AttrRow<K> {
  return { bit, key, settable, write, read };
}

const u32 = (w: XdrWriter, v: number) => void w.uint32(v);
const r32 = (r: XdrReader) => r.uint32();
const u64 = (w: XdrWriter, v: bigint) => void w.uint64(v);
const r64 = (r: XdrReader) => r.uint64();
const wbool = (w: XdrWriter, v: boolean) => void w.bool(v);
const rbool = (r: XdrReader) => r.bool();
const wtime = writeNfstime;
const rtime = (r: XdrReader) => readNfstime(r);
const wstr = (w: XdrWriter, v: string) => void w.string(v);
const rowner = (r: XdrReader, lim: Nfs4Limits) => readUtf8(r, lim.maxOwner);

// pathname4 (component4 pathname4<>), as fs_locations uses it. Not names we open, so only bounded.
function readPathname(r: XdrReader, lim: Nfs4Limits): string[] {
  return r.array(lim.maxArray, (x) => readUtf8(x, lim.maxName));
}
function writePathname(w: XdrWriter, p: string[]): void {
  w.uint32(p.length);
  for (const c of p) w.string(c);
}

// struct fs_locations4 { pathname4 fs_root; fs_location4 locations<>; };
// struct fs_location4 { utf8str_cis server<>; pathname4 rootpath; };
function readFsLocations(r: XdrReader, lim: Nfs4Limits): FsLocations4 {
  const fsRoot = readPathname(r, lim);
  const locations = r.array(lim.maxArray, (x) => {
    const server = x.array(lim.maxArray, (y) => readUtf8(y, lim.maxOwner));
    return { server, rootpath: readPathname(x, lim) };
  });
  return { fsRoot, locations };
}
function writeFsLocations(w: XdrWriter, f: FsLocations4): void {
  writePathname(w, f.fsRoot);
  w.uint32(f.locations.length);
  for (const l of f.locations) {
    w.uint32(l.server.length);
    for (const s of l.server) w.string(s);
    writePathname(w, l.rootpath);
  }
}

/** Every attribute the codec knows, in bit order. */
export const ATTR_ROWS: readonly AttrRow[] = [
  row(A.SUPPORTED_ATTRS, 'supportedAttrs', writeBitmap4, readBitmap4),
  row(A.TYPE, 'type', u32, (r) => r.uint32() as Ftype4Value),
  row(A.FH_EXPIRE_TYPE, 'fhExpireType', u32, r32),
  row(A.CHANGE, 'change', u64, r64),
  row(A.SIZE, 'size', u64, r64, true),
  row(A.LINK_SUPPORT, 'linkSupport', wbool, rbool),
  row(A.SYMLINK_SUPPORT, 'symlinkSupport', wbool, rbool),
  row(A.NAMED_ATTR, 'namedAttr', wbool, rbool),
  row(A.FSID, 'fsid', writeFsid, readFsid),
  row(A.UNIQUE_HANDLES, 'uniqueHandles', wbool, rbool),
  row(A.LEASE_TIME, 'leaseTime', u32, r32),
  row(A.RDATTR_ERROR, 'rdattrError', u32, (r) => r.uint32() as Nfs4Status),
  row(A.ACLSUPPORT, 'aclsupport', u32, r32),
  row(A.CANSETTIME, 'cansettime', wbool, rbool),
  row(A.CASE_INSENSITIVE, 'caseInsensitive', wbool, rbool),
  row(A.CASE_PRESERVING, 'casePreserving', wbool, rbool),
  row(A.CHOWN_RESTRICTED, 'chownRestricted', wbool, rbool),
  row(A.FILEHANDLE, 'filehandle', writeFh4, readFh4),
  row(A.FILEID, 'fileid', u64, r64),
  row(A.FILES_AVAIL, 'filesAvail', u64, r64),
  row(A.FILES_FREE, 'filesFree', u64, r64),
  row(A.FILES_TOTAL, 'filesTotal', u64, r64),
  row(A.FS_LOCATIONS, 'fsLocations', writeFsLocations, readFsLocations),
  row(A.HOMOGENEOUS, 'homogeneous', wbool, rbool),
  row(A.MAXFILESIZE, 'maxfilesize', u64, r64),
  row(A.MAXLINK, 'maxlink', u32, r32),
  row(A.MAXNAME, 'maxname', u32, r32),
  row(A.MAXREAD, 'maxread', u64, r64),
  row(A.MAXWRITE, 'maxwrite', u64, r64),
  row(A.MODE, 'mode', u32, r32, true),
  row(A.NO_TRUNC, 'noTrunc', wbool, rbool),
  row(A.NUMLINKS, 'numlinks', u32, r32),
  row(A.OWNER, 'owner', wstr, rowner, true),
  row(A.OWNER_GROUP, 'ownerGroup', wstr, rowner, true),
  row(A.RAWDEV, 'rawdev', writeSpecdata, readSpecdata),
  row(A.SPACE_AVAIL, 'spaceAvail', u64, r64),
  row(A.SPACE_FREE, 'spaceFree', u64, r64),
  row(A.SPACE_TOTAL, 'spaceTotal', u64, r64),
  row(A.SPACE_USED, 'spaceUsed', u64, r64),
  row(A.TIME_ACCESS, 'timeAccess', wtime, rtime),
  row(A.TIME_ACCESS_SET, 'timeAccessSet', writeSettime, readSettime, true),
  row(A.TIME_CREATE, 'timeCreate', wtime, (r) => readNfstime(r, true), true),
  row(A.TIME_DELTA, 'timeDelta', wtime, rtime),
  row(A.TIME_METADATA, 'timeMetadata', wtime, rtime),
  row(A.TIME_MODIFY, 'timeModify', wtime, rtime),
  row(A.TIME_MODIFY_SET, 'timeModifySet', writeSettime, readSettime, true),
  row(A.MOUNTED_ON_FILEID, 'mountedOnFileid', u64, r64),
  row(A.FS_LAYOUT_TYPES, 'fsLayoutTypes', (w, v) => {
    w.uint32(v.length);
    for (const t of v) w.uint32(t);
  }, (r, lim) => r.array(lim.maxArray, r32)),
  row(A.LAYOUT_BLKSIZE, 'layoutBlksize', u32, r32),
  row(A.SUPPATTR_EXCLCREAT, 'suppattrExclcreat', writeBitmap4, readBitmap4),
  row(A.CLONE_BLKSIZE, 'cloneBlksize', u32, r32),
  row(A.CHANGE_ATTR_TYPE, 'changeAttrType', u32, r32),
  row(A.MODE_UMASK, 'modeUmask', (w, v) => void w.uint32(v.mode).uint32(v.umask), (r) => {
    const mode = r.uint32();
    return { mode, umask: r.uint32() };
  }, true),
  row(A.XATTR_SUPPORT, 'xattrSupport', wbool, rbool),
];

/** The row of each known attribute, by number. */
export const ATTR_BY_BIT: ReadonlyMap<number, AttrRow> = new Map(ATTR_ROWS.map((r) => [r.bit, r]));

/** Attribute numbers the codec knows. */
export const KNOWN_ATTRS: readonly number[] = ATTR_ROWS.map((r) => r.bit);

/** Attribute numbers a client may set through the codec (SETATTR, CREATE, OPEN createattrs). */
export const SETTABLE_ATTRS: readonly number[] = ATTR_ROWS.filter((r) => r.settable).map((r) => r.bit);
