/**
 * Codecs of the directory operations: CREATE, LINK, REMOVE, RENAME, READDIR.
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import { Ftype4 } from '../constants.js';
import type {
  Create4Args, Create4Res, Createtype4, Entry4, Link4Args, Link4Res, Readdir4Args, Readdir4Res, Remove4Args, Remove4Res,
  Rename4Args, Rename4Res,
} from '../types.js';
import {
  readChangeInfo, readComponent, readSpecdata, readVerifier, writeChangeInfo, writeSpecdata, writeVerifier,
} from './basic.js';
import { readBitmap4, writeBitmap4 } from './bitmap.js';
import { readResult, readStatus } from './common.js';
import { Nfs4CodecError } from './errors.js';
import { decodeFattr4, encodeFattr4 } from './fattr4.js';
import type { Nfs4Limits } from './limits.js';

// typedef opaque linktext4<>;
/** A symlink target, copied; longer than maxLink is NFS4ERR_NAMETOOLONG (RFC 8881 section 18.4.4). */
export function readLinktext(r: XdrReader, lim: Nfs4Limits): Buffer {
  const len = r.uint32();
  const b = r.fixedOpaque(len);
  if (len > lim.maxLink) throw new Nfs4CodecError('NFS4_NAME_TOO_LONG', `linktext4 of ${len} bytes exceeds ${lim.maxLink}`);
  return Buffer.from(b);
}

// union createtype4 switch (nfs_ftype4 type) {
// case NF4LNK: linktext4 linkdata; case NF4BLK: case NF4CHR: specdata4 devdata; default: void; };
// struct CREATE4args { createtype4 objtype; component4 objname; fattr4 createattrs; };
// struct CREATE4resok { change_info4 cinfo; bitmap4 attrset; };
function readCreatetype(r: XdrReader, lim: Nfs4Limits): Createtype4 {
  const type = r.uint32();
  if (type === Ftype4.LNK) return { type, linkdata: readLinktext(r, lim) };
  if (type === Ftype4.BLK || type === Ftype4.CHR) return { type, devdata: readSpecdata(r) };
  return { type };
}
export function decodeCreate4Args(r: XdrReader, lim: Nfs4Limits): Create4Args {
  const objtype = readCreatetype(r, lim);
  const objname = readComponent(r, lim);
  return { objtype, objname, createattrs: decodeFattr4(r, lim, 'settable') };
}
export function encodeCreate4Args(w: XdrWriter, a: Create4Args): void {
  const t = a.objtype;
  w.uint32(t.type);
  if ('linkdata' in t) w.opaque(t.linkdata);
  else if ('devdata' in t) writeSpecdata(w, t.devdata);
  w.string(a.objname);
  encodeFattr4(w, a.createattrs);
}
export function encodeCreate4Res(w: XdrWriter, res: Create4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  writeChangeInfo(w, res.cinfo);
  writeBitmap4(w, res.attrset);
}
export function decodeCreate4Res(r: XdrReader, lim: Nfs4Limits): Create4Res {
  return readResult(r, (x) => {
    const cinfo = readChangeInfo(x);
    return { cinfo, attrset: readBitmap4(x, lim) };
  });
}

// struct LINK4args { component4 newname; };
// struct LINK4resok { change_info4 cinfo; };
export function decodeLink4Args(r: XdrReader, lim: Nfs4Limits): Link4Args {
  return { newname: readComponent(r, lim) };
}
export function encodeLink4Args(w: XdrWriter, a: Link4Args): void {
  w.string(a.newname);
}
/** Shared by LINK, REMOVE (and SETXATTR, REMOVEXATTR): NFS4_OK carries one change_info4. */
export function encodeCinfoRes(w: XdrWriter, res: Link4Res | Remove4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeChangeInfo(w, res.cinfo);
}
export function decodeCinfoRes(r: XdrReader): Link4Res {
  return readResult(r, (x) => ({ cinfo: readChangeInfo(x) }));
}

// struct REMOVE4args { component4 target; };
// struct REMOVE4resok { change_info4 cinfo; };
export function decodeRemove4Args(r: XdrReader, lim: Nfs4Limits): Remove4Args {
  return { target: readComponent(r, lim) };
}
export function encodeRemove4Args(w: XdrWriter, a: Remove4Args): void {
  w.string(a.target);
}

// struct RENAME4args { component4 oldname; component4 newname; };
// struct RENAME4resok { change_info4 source_cinfo; change_info4 target_cinfo; };
export function decodeRename4Args(r: XdrReader, lim: Nfs4Limits): Rename4Args {
  const oldname = readComponent(r, lim);
  return { oldname, newname: readComponent(r, lim) };
}
export function encodeRename4Args(w: XdrWriter, a: Rename4Args): void {
  w.string(a.oldname).string(a.newname);
}
export function encodeRename4Res(w: XdrWriter, res: Rename4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  writeChangeInfo(w, res.sourceCinfo);
  writeChangeInfo(w, res.targetCinfo);
}
export function decodeRename4Res(r: XdrReader): Rename4Res {
  return readResult(r, (x) => {
    const sourceCinfo = readChangeInfo(x);
    return { sourceCinfo, targetCinfo: readChangeInfo(x) };
  });
}

// struct READDIR4args { nfs_cookie4 cookie; verifier4 cookieverf; count4 dircount; count4 maxcount; bitmap4 attr_request; };
// struct entry4 { nfs_cookie4 cookie; component4 name; fattr4 attrs; entry4 *nextentry; };
// struct dirlist4 { entry4 *entries; bool eof; };
// struct READDIR4resok { verifier4 cookieverf; dirlist4 reply; };
export function decodeReaddir4Args(r: XdrReader, lim: Nfs4Limits): Readdir4Args {
  const cookie = r.uint64();
  const cookieverf = readVerifier(r);
  const dircount = r.uint32();
  const maxcount = r.uint32();
  return { cookie, cookieverf, dircount, maxcount, attrRequest: readBitmap4(r, lim) };
}
export function encodeReaddir4Args(w: XdrWriter, a: Readdir4Args): void {
  w.uint64(a.cookie);
  writeVerifier(w, a.cookieverf);
  w.uint32(a.dircount).uint32(a.maxcount);
  writeBitmap4(w, a.attrRequest);
}

/** One entry4 with its leading "value follows" TRUE: for servers that encode entries as they list them. */
export function writeEntry4(w: XdrWriter, e: Entry4): void {
  writeEntry4Head(w, e.cookie, e.name);
  encodeFattr4(w, e.attrs);
}

/** An entry4 up to its attributes (the caller writes the fattr4 that follows). */
export function writeEntry4Head(w: XdrWriter, cookie: bigint, name: string): void {
  w.bool(true).uint64(cookie).string(name);
}

/** The end of a dirlist4: no more entries, then eof. Shared: never written to. */
const LIST_END_EOF = Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]);
const LIST_END_MORE = Buffer.alloc(8);

/** Entries pre-encoded by the server (Readdir4Res.encoded) go out as chunks, not copied. */
export function encodeReaddir4Res(w: XdrWriter, res: Readdir4Res): Buffer[] | void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  writeVerifier(w, res.cookieverf);
  for (const e of res.entries) writeEntry4(w, e);
  if (res.encoded !== undefined && res.encoded.length > 0) return [res.encoded, res.eof ? LIST_END_EOF : LIST_END_MORE];
  w.bool(false).bool(res.eof);
}

/** Entries are bounded by the reply's bytes: each takes at least 24. */
export function decodeReaddir4Res(r: XdrReader, lim: Nfs4Limits): Readdir4Res {
  const status = readStatus(r);
  if (status !== 0) return { status };
  const cookieverf = readVerifier(r);
  const entries: Entry4[] = [];
  while (r.bool()) {
    const cookie = r.uint64();
    const name = readComponent(r, lim);
    entries.push({ cookie, name, attrs: decodeFattr4(r, lim) });
  }
  return { status, cookieverf, entries, eof: r.bool() };
}
