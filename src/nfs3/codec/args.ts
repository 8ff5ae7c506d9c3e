/**
 * Decoders (server side) and encoders (client side, tests) of every NFSv3
 * procedure's arguments, RFC 1813 section 3.3. Decoders check shape and
 * bounds only; semantics (".", "..", permissions ...) belong to handlers.
 */
import { XdrError, type XdrReader, type XdrWriter } from '../../xdr/index.js';
import { CreateMode3, Ftype3, NFS3_COOKIEVERFSIZE, NFS3_CREATEVERFSIZE, NFS3_FHSIZE, StableHow3 } from '../constants.js';
import type {
  AccessArgs, CommitArgs, CreateArgs, FsinfoArgs, FsstatArgs, GetattrArgs, LinkArgs, LookupArgs, MkdirArgs,
  MknodArgs, PathconfArgs, ReadArgs, ReaddirArgs, ReaddirplusArgs, ReadlinkArgs, RemoveArgs, RenameArgs,
  RmdirArgs, SetattrArgs, SymlinkArgs, WriteArgs,
} from '../types.js';
import {
  readDirOpArgs, readFh, readNfspath, readNfstime, readSattr, readSpecdata, writeDirOpArgs, writeFh,
  writeNfstime, writeSattr,
} from './basic.js';

// struct GETATTR3args { nfs_fh3 object; };
export function decodeGetattrArgs(r: XdrReader): GetattrArgs {
  return { object: readFh(r) };
}
export function encodeGetattrArgs(w: XdrWriter, a: GetattrArgs): void {
  writeFh(w, a.object);
}

// union sattrguard3 switch (bool check) { case TRUE: nfstime3 obj_ctime; case FALSE: void; };
// struct SETATTR3args { nfs_fh3 object; sattr3 new_attributes; sattrguard3 guard; };
export function decodeSetattrArgs(r: XdrReader): SetattrArgs {
  const object = readFh(r);
  const attrs = readSattr(r);
  const guard = r.bool() ? readNfstime(r) : undefined;
  return guard === undefined ? { object, attrs } : { object, attrs, guard };
}
export function encodeSetattrArgs(w: XdrWriter, a: SetattrArgs): void {
  writeFh(w, a.object);
  writeSattr(w, a.attrs);
  w.bool(a.guard !== undefined);
  if (a.guard !== undefined) writeNfstime(w, a.guard);
}

// struct LOOKUP3args { diropargs3 what; };
export function decodeLookupArgs(r: XdrReader): LookupArgs {
  return { what: readDirOpArgs(r) };
}
export function encodeLookupArgs(w: XdrWriter, a: LookupArgs): void {
  writeDirOpArgs(w, a.what);
}

// struct ACCESS3args { nfs_fh3 object; uint32 access; };
export function decodeAccessArgs(r: XdrReader): AccessArgs {
  const object = readFh(r);
  return { object, access: r.uint32() };
}
export function encodeAccessArgs(w: XdrWriter, a: AccessArgs): void {
  writeFh(w, a.object);
  w.uint32(a.access);
}

// struct READLINK3args { nfs_fh3 symlink; };
export function decodeReadlinkArgs(r: XdrReader): ReadlinkArgs {
  return { symlink: readFh(r) };
}
export function encodeReadlinkArgs(w: XdrWriter, a: ReadlinkArgs): void {
  writeFh(w, a.symlink);
}

// struct READ3args { nfs_fh3 file; offset3 offset; count3 count; };
/** count is any uint32 here; the handler caps it at rtmax (the reply buffer is ours to size). */
export function decodeReadArgs(r: XdrReader): ReadArgs {
  const file = readFh(r);
  const offset = r.uint64();
  return { file, offset, count: r.uint32() };
}
export function encodeReadArgs(w: XdrWriter, a: ReadArgs): void {
  writeFh(w, a.file);
  w.uint64(a.offset).uint32(a.count);
}

const STABLE = new Set<number>([StableHow3.UNSTABLE, StableHow3.DATA_SYNC, StableHow3.FILE_SYNC]);

// enum stable_how { UNSTABLE = 0, DATA_SYNC = 1, FILE_SYNC = 2 };
// struct WRITE3args { nfs_fh3 file; offset3 offset; count3 count;
//                     stable_how stable; opaque data<>; };
/**
 * Returns a decoder bounded by `maxData` (the server's wtmax plus slack): the
 * opaque length is checked before any byte is touched, and the data stays a
 * view of the record (zero copy). Like knfsd, `count` must equal the opaque
 * length; a mismatch means a confused or hostile client, so GARBAGE_ARGS.
 */
export function makeDecodeWriteArgs(maxData: number): (r: XdrReader) => WriteArgs {
  return (r) => {
    const file = readFh(r);
    const offset = r.uint64();
    const count = r.uint32();
    const stable = r.enumValue<WriteArgs['stable']>(STABLE);
    const data = r.opaque(maxData);
    if (data.length !== count) {
      throw new XdrError('XDR_BAD_VALUE', `WRITE count ${count} != data length ${data.length}`);
    }
    return { file, offset, count, stable, data };
  };
}
/** Move `r` from the start of WRITE3args to the first byte of its data (ProcedureDef.seekPayload). */
export function seekWriteData(r: XdrReader): void {
  r.opaque(NFS3_FHSIZE);
  r.skip(8 + 4 + 4); // offset, count, stable
  r.uint32(); // the data's length
}
export function encodeWriteArgs(w: XdrWriter, a: WriteArgs): void {
  encodeWriteArgsHead(w, a, a.data.length);
  w.fixedOpaque(a.data);
}

/**
 * WRITE3args up to the data: what follows on the wire is `dataLength` bytes of data, then
 * xdrPadding(dataLength). For callers that send the data as a chunk of its own (not copied).
 */
export function encodeWriteArgsHead(w: XdrWriter, a: Omit<WriteArgs, 'data'>, dataLength: number): void {
  writeFh(w, a.file);
  w.uint64(a.offset).uint32(a.count).uint32(a.stable).uint32(dataLength);
}

const CREATE_MODES = new Set<number>([CreateMode3.UNCHECKED, CreateMode3.GUARDED, CreateMode3.EXCLUSIVE]);

// enum createmode3 { UNCHECKED = 0, GUARDED = 1, EXCLUSIVE = 2 };
// union createhow3 switch (createmode3 mode) {
// case UNCHECKED: case GUARDED: sattr3 obj_attributes;
// case EXCLUSIVE: createverf3 verf; };
// struct CREATE3args { diropargs3 where; createhow3 how; };
export function decodeCreateArgs(r: XdrReader): CreateArgs {
  const where = readDirOpArgs(r);
  const mode = r.enumValue(CREATE_MODES);
  if (mode === CreateMode3.EXCLUSIVE) return { where, how: { mode: 2, verf: r.fixedOpaque(NFS3_CREATEVERFSIZE) } };
  return { where, how: { mode: mode as 0 | 1, attrs: readSattr(r) } };
}
export function encodeCreateArgs(w: XdrWriter, a: CreateArgs): void {
  writeDirOpArgs(w, a.where);
  w.uint32(a.how.mode);
  if (a.how.mode === CreateMode3.EXCLUSIVE) w.fixedOpaque(a.how.verf);
  else writeSattr(w, a.how.attrs);
}

// struct MKDIR3args { diropargs3 where; sattr3 attributes; };
export function decodeMkdirArgs(r: XdrReader): MkdirArgs {
  const where = readDirOpArgs(r);
  return { where, attrs: readSattr(r) };
}
export function encodeMkdirArgs(w: XdrWriter, a: MkdirArgs): void {
  writeDirOpArgs(w, a.where);
  writeSattr(w, a.attrs);
}

// struct symlinkdata3 { sattr3 symlink_attributes; nfspath3 symlink_data; };
// struct SYMLINK3args { diropargs3 where; symlinkdata3 symlink; };
export function decodeSymlinkArgs(r: XdrReader): SymlinkArgs {
  const where = readDirOpArgs(r);
  const attrs = readSattr(r);
  return { where, attrs, target: readNfspath(r) };
}
export function encodeSymlinkArgs(w: XdrWriter, a: SymlinkArgs): void {
  writeDirOpArgs(w, a.where);
  writeSattr(w, a.attrs);
  w.opaque(a.target);
}

// struct devicedata3 { sattr3 dev_attributes; specdata3 spec; };
// union mknoddata3 switch (ftype3 type) {
// case NF3CHR: case NF3BLK: devicedata3 device;
// case NF3SOCK: case NF3FIFO: sattr3 pipe_attributes;
// default: void; };
// struct MKNOD3args { diropargs3 where; mknoddata3 what; };
/** Any other type value takes the void arm, as in knfsd; the handler then answers BADTYPE. */
export function decodeMknodArgs(r: XdrReader): MknodArgs {
  const where = readDirOpArgs(r);
  const type = r.uint32();
  if (type === Ftype3.CHR || type === Ftype3.BLK) {
    const attrs = readSattr(r);
    return { where, what: { type: type as 3 | 4, attrs, spec: readSpecdata(r) } };
  }
  if (type === Ftype3.SOCK || type === Ftype3.FIFO) {
    return { where, what: { type: type as 6 | 7, attrs: readSattr(r) } };
  }
  return { where, what: { type } };
}
export function encodeMknodArgs(w: XdrWriter, a: MknodArgs): void {
  writeDirOpArgs(w, a.where);
  const what = a.what;
  w.uint32(what.type);
  if ('spec' in what) {
    writeSattr(w, what.attrs);
    w.uint32(what.spec.specdata1).uint32(what.spec.specdata2);
  } else if ('attrs' in what) {
    writeSattr(w, what.attrs);
  }
}

// struct REMOVE3args { diropargs3 object; };
export function decodeRemoveArgs(r: XdrReader): RemoveArgs {
  return { object: readDirOpArgs(r) };
}
export function encodeRemoveArgs(w: XdrWriter, a: RemoveArgs): void {
  writeDirOpArgs(w, a.object);
}

// struct RMDIR3args { diropargs3 object; };
export function decodeRmdirArgs(r: XdrReader): RmdirArgs {
  return { object: readDirOpArgs(r) };
}
export function encodeRmdirArgs(w: XdrWriter, a: RmdirArgs): void {
  writeDirOpArgs(w, a.object);
}

// struct RENAME3args { diropargs3 from; diropargs3 to; };
export function decodeRenameArgs(r: XdrReader): RenameArgs {
  const from = readDirOpArgs(r);
  return { from, to: readDirOpArgs(r) };
}
export function encodeRenameArgs(w: XdrWriter, a: RenameArgs): void {
  writeDirOpArgs(w, a.from);
  writeDirOpArgs(w, a.to);
}

// struct LINK3args { nfs_fh3 file; diropargs3 link; };
export function decodeLinkArgs(r: XdrReader): LinkArgs {
  const file = readFh(r);
  return { file, link: readDirOpArgs(r) };
}
export function encodeLinkArgs(w: XdrWriter, a: LinkArgs): void {
  writeFh(w, a.file);
  writeDirOpArgs(w, a.link);
}

// struct READDIR3args { nfs_fh3 dir; cookie3 cookie; cookieverf3 cookieverf; count3 count; };
export function decodeReaddirArgs(r: XdrReader): ReaddirArgs {
  const dir = readFh(r);
  const cookie = r.uint64();
  const cookieverf = r.fixedOpaque(NFS3_COOKIEVERFSIZE);
  return { dir, cookie, cookieverf, count: r.uint32() };
}
export function encodeReaddirArgs(w: XdrWriter, a: ReaddirArgs): void {
  writeFh(w, a.dir);
  w.uint64(a.cookie).fixedOpaque(a.cookieverf).uint32(a.count);
}

// struct READDIRPLUS3args { nfs_fh3 dir; cookie3 cookie; cookieverf3 cookieverf;
//                           count3 dircount; count3 maxcount; };
export function decodeReaddirplusArgs(r: XdrReader): ReaddirplusArgs {
  const dir = readFh(r);
  const cookie = r.uint64();
  const cookieverf = r.fixedOpaque(NFS3_COOKIEVERFSIZE);
  const dircount = r.uint32();
  return { dir, cookie, cookieverf, dircount, maxcount: r.uint32() };
}
export function encodeReaddirplusArgs(w: XdrWriter, a: ReaddirplusArgs): void {
  writeFh(w, a.dir);
  w.uint64(a.cookie).fixedOpaque(a.cookieverf).uint32(a.dircount).uint32(a.maxcount);
}

// struct FSSTAT3args { nfs_fh3 fsroot; };
export function decodeFsstatArgs(r: XdrReader): FsstatArgs {
  return { fsroot: readFh(r) };
}
export function encodeFsstatArgs(w: XdrWriter, a: FsstatArgs): void {
  writeFh(w, a.fsroot);
}

// struct FSINFO3args { nfs_fh3 fsroot; };
export function decodeFsinfoArgs(r: XdrReader): FsinfoArgs {
  return { fsroot: readFh(r) };
}
export function encodeFsinfoArgs(w: XdrWriter, a: FsinfoArgs): void {
  writeFh(w, a.fsroot);
}

// struct PATHCONF3args { nfs_fh3 object; };
export function decodePathconfArgs(r: XdrReader): PathconfArgs {
  return { object: readFh(r) };
}
export function encodePathconfArgs(w: XdrWriter, a: PathconfArgs): void {
  writeFh(w, a.object);
}

// struct COMMIT3args { nfs_fh3 file; offset3 offset; count3 count; };
export function decodeCommitArgs(r: XdrReader): CommitArgs {
  const file = readFh(r);
  const offset = r.uint64();
  return { file, offset, count: r.uint32() };
}
export function encodeCommitArgs(w: XdrWriter, a: CommitArgs): void {
  writeFh(w, a.file);
  w.uint64(a.offset).uint32(a.count);
}
