/**
 * Encoders of every NFSv3 procedure's result, RFC 1813 section 3.3. Each
 * writes the nfsstat3 then the resok or resfail arm. READ returns its data as
 * extra chunks so the transport sends it without copying.
 */
import type { XdrWriter } from '../../xdr/index.js';
import { xdrPad, xdrPadding } from '../../xdr/index.js';
import type { ReplyChunk } from '../../rpc/program.js';
import { NFS3_COOKIEVERFSIZE } from '../constants.js';
import type {
  AccessRes, CommitRes, DirCreateRes, Entry3, EntryPlus3, FsinfoRes, FsstatRes, GetattrRes, LinkRes, LookupRes,
  PathconfRes, PostOpAttr, ReadRes, ReaddirRes, ReaddirplusRes, ReadlinkRes, RemoveRes, RenameRes, RmdirRes,
  SetattrRes, WriteRes,
} from '../types.js';
import {
  opaqueSize, postOpAttrSize, postOpFhSize, writeFattr, writeFh, writeNfstime, writePostOpAttr, writePostOpFh,
  writeWcc,
} from './basic.js';

// union GETATTR3res switch (nfsstat3 status) {
// case NFS3_OK: GETATTR3resok resok;   (struct { fattr3 obj_attributes; })
// default: void; };
export function encodeGetattrRes(w: XdrWriter, res: GetattrRes): void {
  w.uint32(res.status);
  if (res.status === 0) writeFattr(w, res.attrs);
}

// union SETATTR3res switch (nfsstat3 status) {
// case NFS3_OK: SETATTR3resok resok;  default: SETATTR3resfail resfail; };
// (both: struct { wcc_data obj_wcc; })
export function encodeSetattrRes(w: XdrWriter, res: SetattrRes): void {
  w.uint32(res.status);
  writeWcc(w, res.wcc);
}

// struct LOOKUP3resok { nfs_fh3 object; post_op_attr obj_attributes; post_op_attr dir_attributes; };
// struct LOOKUP3resfail { post_op_attr dir_attributes; };
export function encodeLookupRes(w: XdrWriter, res: LookupRes): void {
  w.uint32(res.status);
  if (res.status === 0) {
    writeFh(w, res.object);
    writePostOpAttr(w, res.objAttrs);
  }
  writePostOpAttr(w, res.dirAttrs);
}

// struct ACCESS3resok { post_op_attr obj_attributes; uint32 access; };
// struct ACCESS3resfail { post_op_attr obj_attributes; };
export function encodeAccessRes(w: XdrWriter, res: AccessRes): void {
  w.uint32(res.status);
  writePostOpAttr(w, res.objAttrs);
  if (res.status === 0) w.uint32(res.access);
}

// struct READLINK3resok { post_op_attr symlink_attributes; nfspath3 data; };
// struct READLINK3resfail { post_op_attr symlink_attributes; };
export function encodeReadlinkRes(w: XdrWriter, res: ReadlinkRes): void {
  w.uint32(res.status);
  writePostOpAttr(w, res.attrs);
  if (res.status === 0) w.string(res.data);
}

// struct READ3resok { post_op_attr file_attributes; count3 count; bool eof; opaque data<>; };
// struct READ3resfail { post_op_attr file_attributes; };
/**
 * Zero copy: the header (through the opaque's length word) goes into `w`;
 * the data view and its XDR padding are returned as tail chunks.
 */
export function encodeReadRes(w: XdrWriter, res: ReadRes): ReplyChunk[] | void {
  w.uint32(res.status);
  writePostOpAttr(w, res.attrs);
  if (res.status !== 0) return;
  const data = res.spliced ?? res.data;
  w.uint32(res.count).bool(res.eof).uint32(data.length);
  if (data.length === 0) return;
  return xdrPad(data.length) === 0 ? [data] : [data, xdrPadding(data.length)];
}

// struct WRITE3resok { wcc_data file_wcc; count3 count; stable_how committed; writeverf3 verf; };
// struct WRITE3resfail { wcc_data file_wcc; };
export function encodeWriteRes(w: XdrWriter, res: WriteRes): void {
  w.uint32(res.status);
  writeWcc(w, res.wcc);
  if (res.status === 0) w.uint32(res.count).uint32(res.committed).fixedOpaque(res.verf);
}

// CREATE3res, MKDIR3res, SYMLINK3res and MKNOD3res share one shape:
// struct *3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
// struct *3resfail { wcc_data dir_wcc; };
export function encodeDirCreateRes(w: XdrWriter, res: DirCreateRes): void {
  w.uint32(res.status);
  if (res.status === 0) {
    writePostOpFh(w, res.obj);
    writePostOpAttr(w, res.objAttrs);
  }
  writeWcc(w, res.dirWcc);
}

// struct REMOVE3resok / REMOVE3resfail { wcc_data dir_wcc; };
export function encodeRemoveRes(w: XdrWriter, res: RemoveRes): void {
  w.uint32(res.status);
  writeWcc(w, res.dirWcc);
}

// struct RMDIR3resok / RMDIR3resfail { wcc_data dir_wcc; };
export function encodeRmdirRes(w: XdrWriter, res: RmdirRes): void {
  w.uint32(res.status);
  writeWcc(w, res.dirWcc);
}

// struct RENAME3resok / RENAME3resfail { wcc_data fromdir_wcc; wcc_data todir_wcc; };
export function encodeRenameRes(w: XdrWriter, res: RenameRes): void {
  w.uint32(res.status);
  writeWcc(w, res.fromDirWcc);
  writeWcc(w, res.toDirWcc);
}

// struct LINK3resok / LINK3resfail { post_op_attr file_attributes; wcc_data linkdir_wcc; };
export function encodeLinkRes(w: XdrWriter, res: LinkRes): void {
  w.uint32(res.status);
  writePostOpAttr(w, res.fileAttrs);
  writeWcc(w, res.linkDirWcc);
}

// struct entry3 { fileid3 fileid; filename3 name; cookie3 cookie; entry3 *nextentry; };
// struct dirlist3 { entry3 *entries; bool eof; };
// struct READDIR3resok { post_op_attr dir_attributes; cookieverf3 cookieverf; dirlist3 reply; };
// struct READDIR3resfail { post_op_attr dir_attributes; };

/** Bytes of READDIR3resok outside the entries: attrs, verifier, list terminator, eof. */
export function readdirFixedSize(dirAttrs: PostOpAttr): number {
  return postOpAttrSize(dirAttrs) + NFS3_COOKIEVERFSIZE + 4 + 4;
}

/** Bytes one entry3 adds: the "value follows" word, fileid, name, cookie. */
export function entry3Size(nameBytes: number): number {
  return 4 + dirInfoSize(nameBytes);
}

/** fileid + name + cookie: what READDIRPLUS's dircount counts. */
export function dirInfoSize(nameBytes: number): number {
  return 8 + opaqueSize(nameBytes) + 8;
}

export function encodeReaddirRes(w: XdrWriter, res: ReaddirRes): void {
  w.uint32(res.status);
  writePostOpAttr(w, res.dirAttrs);
  if (res.status !== 0) return;
  w.fixedOpaque(res.cookieverf);
  for (const e of res.entries) writeEntry(w, e);
  w.bool(false).bool(res.eof);
}

function writeEntry(w: XdrWriter, e: Entry3): void {
  w.bool(true).uint64(e.fileid).string(e.name).uint64(e.cookie);
}

// struct entryplus3 { fileid3 fileid; filename3 name; cookie3 cookie;
//    post_op_attr name_attributes; post_op_fh3 name_handle; entryplus3 *nextentry; };
// struct dirlistplus3 { entryplus3 *entries; bool eof; };
// struct READDIRPLUS3resok { post_op_attr dir_attributes; cookieverf3 cookieverf; dirlistplus3 reply; };
// struct READDIRPLUS3resfail { post_op_attr dir_attributes; };

/** Bytes one entryplus3 adds to the reply (what maxcount counts). */
export function entryPlus3Size(nameBytes: number, e: Pick<EntryPlus3, 'attrs' | 'handle'>): number {
  return entry3Size(nameBytes) + postOpAttrSize(e.attrs) + postOpFhSize(e.handle);
}

/** The end of a dirlistplus3 / dirlist3: no more entries, then eof. Never written to. */
const LIST_END_EOF = Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]);
const LIST_END_MORE = Buffer.alloc(8);

export function encodeReaddirplusRes(w: XdrWriter, res: ReaddirplusRes): Buffer[] | void {
  w.uint32(res.status);
  writePostOpAttr(w, res.dirAttrs);
  if (res.status !== 0) return;
  w.fixedOpaque(res.cookieverf);
  for (const e of res.entries) {
    writeEntry(w, e);
    writePostOpAttr(w, e.attrs);
    writePostOpFh(w, e.handle);
  }
  // Pre-encoded entries (whole XDR items, a multiple of 4 bytes) go out as
  // tail chunks, like READ data: no copy into the writer, no regrowth.
  if (res.encoded !== undefined) return [res.encoded, res.eof ? LIST_END_EOF : LIST_END_MORE];
  w.bool(false).bool(res.eof);
}

// struct FSSTAT3resok { post_op_attr obj_attributes; size3 tbytes; size3 fbytes; size3 abytes;
//    size3 tfiles; size3 ffiles; size3 afiles; uint32 invarsec; };
// struct FSSTAT3resfail { post_op_attr obj_attributes; };
export function encodeFsstatRes(w: XdrWriter, res: FsstatRes): void {
  w.uint32(res.status);
  writePostOpAttr(w, res.attrs);
  if (res.status !== 0) return;
  w.uint64(res.tbytes).uint64(res.fbytes).uint64(res.abytes);
  w.uint64(res.tfiles).uint64(res.ffiles).uint64(res.afiles).uint32(res.invarsec);
}

// struct FSINFO3resok { post_op_attr obj_attributes; uint32 rtmax; uint32 rtpref; uint32 rtmult;
//    uint32 wtmax; uint32 wtpref; uint32 wtmult; uint32 dtpref; size3 maxfilesize;
//    nfstime3 time_delta; uint32 properties; };
// struct FSINFO3resfail { post_op_attr obj_attributes; };
export function encodeFsinfoRes(w: XdrWriter, res: FsinfoRes): void {
  w.uint32(res.status);
  writePostOpAttr(w, res.attrs);
  if (res.status !== 0) return;
  w.uint32(res.rtmax).uint32(res.rtpref).uint32(res.rtmult);
  w.uint32(res.wtmax).uint32(res.wtpref).uint32(res.wtmult).uint32(res.dtpref);
  w.uint64(res.maxfilesize);
  writeNfstime(w, res.timeDelta);
  w.uint32(res.properties);
}

// struct PATHCONF3resok { post_op_attr obj_attributes; uint32 linkmax; uint32 name_max;
//    bool no_trunc; bool chown_restricted; bool case_insensitive; bool case_preserving; };
// struct PATHCONF3resfail { post_op_attr obj_attributes; };
export function encodePathconfRes(w: XdrWriter, res: PathconfRes): void {
  w.uint32(res.status);
  writePostOpAttr(w, res.attrs);
  if (res.status !== 0) return;
  w.uint32(res.linkmax).uint32(res.nameMax);
  w.bool(res.noTrunc).bool(res.chownRestricted).bool(res.caseInsensitive).bool(res.casePreserving);
}

// struct COMMIT3resok { wcc_data file_wcc; writeverf3 verf; };
// struct COMMIT3resfail { wcc_data file_wcc; };
export function encodeCommitRes(w: XdrWriter, res: CommitRes): void {
  w.uint32(res.status);
  writeWcc(w, res.wcc);
  if (res.status === 0) w.fixedOpaque(res.verf);
}
