/**
 * XDR of the NFSv3 basic data types (RFC 1813 section 2.5): file handles,
 * names, times, sattr3 and the attribute unions. Decoders enforce every bound
 * before allocating (the reader does the checks) and throw XdrError, which
 * the RPC layer answers with GARBAGE_ARGS.
 */
import { isUtf8 } from 'node:buffer';
import { XdrError, type XdrReader, type XdrWriter } from '../../xdr/index.js';
import { NFS3_FHSIZE, NFS3_MAXNAMLEN, TimeHow } from '../constants.js';
import type { DirOpArgs3, Fattr3, Nfstime3, PostOpAttr, PostOpFh3, PreOpAttr, Sattr3, Specdata3, WccData } from '../types.js';

// struct nfs_fh3 { opaque data<NFS3_FHSIZE>; };
/** A file handle: 1..64 bytes. An empty handle is malformed (no handle we compose is empty). */
export function readFh(r: XdrReader): Buffer {
  const fh = r.opaque(NFS3_FHSIZE);
  if (fh.length === 0) throw new XdrError('XDR_BAD_VALUE', 'empty file handle');
  // Copied (≤ 64 bytes): the record it came from may be a pooled buffer that
  // is reused once the call completes, and handles can outlive the call.
  return Buffer.from(fh);
}

export function writeFh(w: XdrWriter, fh: Buffer): void {
  w.opaque(fh);
}

// typedef string filename3<>;   (bounded to NFS3_MAXNAMLEN like knfsd)
/**
 * A single path component: 1..255 bytes, no '/' and no NUL, exactly as
 * knfsd's svcxdr_decode_filename3 (a bad name is a decode error there too,
 * hence GARBAGE_ARGS). We additionally require valid UTF-8, because names
 * travel to the backend as JS strings: a lossy decode could make two distinct
 * byte names collide on one file. "." and ".." pass here; handlers decide.
 */
export function readFilename(r: XdrReader): string {
  const b = r.opaque(NFS3_MAXNAMLEN);
  if (b.length === 0) throw new XdrError('XDR_BAD_VALUE', 'empty filename');
  if (b.indexOf(0x2f) !== -1) throw new XdrError('XDR_BAD_VALUE', "filename contains '/'");
  if (b.indexOf(0) !== -1) throw new XdrError('XDR_BAD_VALUE', 'filename contains NUL');
  if (!isUtf8(b)) throw new XdrError('XDR_BAD_VALUE', 'filename is not UTF-8');
  return b.toString('utf8');
}

export function writeFilename(w: XdrWriter, name: string): void {
  w.string(name);
}

// typedef string nfspath3<>;
/**
 * Raw bytes of a path (a SYMLINK target): a view of the record, bounded only
 * by it (nothing is allocated). Its length and content are the handler's to
 * judge, as knfsd's nfsd3_proc_symlink does: over NFS3_MAXPATHLEN is
 * NAMETOOLONG there, not undecodable arguments.
 */
export function readNfspath(r: XdrReader): Buffer {
  return r.opaque(r.remaining);
}

// struct diropargs3 { nfs_fh3 dir; filename3 name; };
export function readDirOpArgs(r: XdrReader): DirOpArgs3 {
  const dir = readFh(r);
  const name = readFilename(r);
  return { dir, name };
}

export function writeDirOpArgs(w: XdrWriter, a: DirOpArgs3): void {
  writeFh(w, a.dir);
  writeFilename(w, a.name);
}

// struct nfstime3 { uint32 seconds; uint32 nseconds; };
export function readNfstime(r: XdrReader): Nfstime3 {
  const seconds = r.uint32();
  const nseconds = r.uint32();
  return { seconds, nseconds };
}

export function writeNfstime(w: XdrWriter, t: Nfstime3): void {
  w.uint32(t.seconds).uint32(t.nseconds);
}

// struct specdata3 { uint32 specdata1; uint32 specdata2; };
export function readSpecdata(r: XdrReader): Specdata3 {
  const specdata1 = r.uint32();
  const specdata2 = r.uint32();
  return { specdata1, specdata2 };
}

const TIME_HOW = new Set<number>([TimeHow.DONT_CHANGE, TimeHow.SET_TO_SERVER_TIME, TimeHow.SET_TO_CLIENT_TIME]);

// union set_atime switch (time_how set_it) {
// case SET_TO_CLIENT_TIME: nfstime3 atime;
// default: void; };
function readSetTime(r: XdrReader): Nfstime3 | 'server' | undefined {
  const how = r.enumValue(TIME_HOW);
  if (how === TimeHow.SET_TO_CLIENT_TIME) return readNfstime(r);
  return how === TimeHow.SET_TO_SERVER_TIME ? 'server' : undefined;
}

function writeSetTime(w: XdrWriter, t: Nfstime3 | 'server' | undefined): void {
  if (t === undefined) w.uint32(TimeHow.DONT_CHANGE);
  else if (t === 'server') w.uint32(TimeHow.SET_TO_SERVER_TIME);
  else writeNfstime(w.uint32(TimeHow.SET_TO_CLIENT_TIME), t);
}

// struct sattr3 {
//    set_mode3 mode;  set_uid3 uid;  set_gid3 gid;
//    set_size3 size;  set_atime atime;  set_mtime mtime; };
// (set_mode3 etc.: union switch (bool set_it) { case TRUE: value; default: void; })
export function readSattr(r: XdrReader): Sattr3 {
  const s: Sattr3 = {};
  if (r.bool()) s.mode = r.uint32();
  if (r.bool()) s.uid = r.uint32();
  if (r.bool()) s.gid = r.uint32();
  if (r.bool()) s.size = r.uint64();
  const atime = readSetTime(r);
  if (atime !== undefined) s.atime = atime;
  const mtime = readSetTime(r);
  if (mtime !== undefined) s.mtime = mtime;
  return s;
}

export function writeSattr(w: XdrWriter, s: Sattr3): void {
  w.bool(s.mode !== undefined);
  if (s.mode !== undefined) w.uint32(s.mode);
  w.bool(s.uid !== undefined);
  if (s.uid !== undefined) w.uint32(s.uid);
  w.bool(s.gid !== undefined);
  if (s.gid !== undefined) w.uint32(s.gid);
  w.bool(s.size !== undefined);
  if (s.size !== undefined) w.uint64(s.size);
  writeSetTime(w, s.atime);
  writeSetTime(w, s.mtime);
}

// struct fattr3 { ftype3 type; mode3 mode; uint32 nlink; uid3 uid; gid3 gid;
//    size3 size; size3 used; specdata3 rdev; uint64 fsid; fileid3 fileid;
//    nfstime3 atime; nfstime3 mtime; nfstime3 ctime; };
/** Encoded size of fattr3: 5 words + 5 hypers + 3 times. */
export const FATTR3_SIZE = 84;

export function writeFattr(w: XdrWriter, a: Fattr3): void {
  w.uint32(a.type).uint32(a.mode).uint32(a.nlink).uint32(a.uid).uint32(a.gid);
  w.uint64(a.size).uint64(a.used);
  w.uint32(a.rdev.specdata1).uint32(a.rdev.specdata2);
  w.uint64(a.fsid).uint64(a.fileid);
  writeNfstime(w, a.atime);
  writeNfstime(w, a.mtime);
  writeNfstime(w, a.ctime);
}

export function readFattr(r: XdrReader): Fattr3 {
  const type = r.uint32() as Fattr3['type'];
  const mode = r.uint32();
  const nlink = r.uint32();
  const uid = r.uint32();
  const gid = r.uint32();
  const size = r.uint64();
  const used = r.uint64();
  const rdev = readSpecdata(r);
  const fsid = r.uint64();
  const fileid = r.uint64();
  const atime = readNfstime(r);
  const mtime = readNfstime(r);
  const ctime = readNfstime(r);
  return { type, mode, nlink, uid, gid, size, used, rdev, fsid, fileid, atime, mtime, ctime };
}

// union post_op_attr switch (bool attributes_follow) {
// case TRUE: fattr3 attributes;  case FALSE: void; };
export function writePostOpAttr(w: XdrWriter, a: PostOpAttr): void {
  w.bool(a !== undefined);
  if (a !== undefined) writeFattr(w, a);
}

export function readPostOpAttr(r: XdrReader): PostOpAttr {
  return r.bool() ? readFattr(r) : undefined;
}

export function postOpAttrSize(a: PostOpAttr): number {
  return a === undefined ? 4 : 4 + FATTR3_SIZE;
}

// struct wcc_attr { size3 size; nfstime3 mtime; nfstime3 ctime; };
// union pre_op_attr switch (bool attributes_follow) {
// case TRUE: wcc_attr attributes;  case FALSE: void; };
function writePreOpAttr(w: XdrWriter, a: PreOpAttr): void {
  w.bool(a !== undefined);
  if (a === undefined) return;
  w.uint64(a.size);
  writeNfstime(w, a.mtime);
  writeNfstime(w, a.ctime);
}

function readPreOpAttr(r: XdrReader): PreOpAttr {
  if (!r.bool()) return undefined;
  const size = r.uint64();
  const mtime = readNfstime(r);
  const ctime = readNfstime(r);
  return { size, mtime, ctime };
}

// struct wcc_data { pre_op_attr before; post_op_attr after; };
export function writeWcc(w: XdrWriter, wcc: WccData): void {
  writePreOpAttr(w, wcc.before);
  writePostOpAttr(w, wcc.after);
}

export function readWcc(r: XdrReader): WccData {
  const before = readPreOpAttr(r);
  const after = readPostOpAttr(r);
  return { before, after };
}

// union post_op_fh3 switch (bool handle_follows) {
// case TRUE: nfs_fh3 handle;  case FALSE: void; };
export function writePostOpFh(w: XdrWriter, fh: PostOpFh3): void {
  w.bool(fh !== undefined);
  if (fh !== undefined) writeFh(w, fh);
}

export function readPostOpFh(r: XdrReader): PostOpFh3 {
  return r.bool() ? readFh(r) : undefined;
}

export function postOpFhSize(fh: PostOpFh3): number {
  return fh === undefined ? 4 : 8 + ((fh.length + 3) & ~3);
}

/** Encoded size of a filename3 / opaque of n bytes: length word plus padded bytes. */
export function opaqueSize(n: number): number {
  return 4 + ((n + 3) & ~3);
}
