/**
 * Decoders of NFSv3 results (the client side, and tests checking what the
 * server put on the wire). Same XDR as codec/results.ts, read back. Lists
 * are bounded by the bytes of the record: each entry consumes at least 4.
 */
import { XdrError, type XdrReader } from '../../xdr/index.js';
import { NFS3_COOKIEVERFSIZE, NFS3_MAXPATHLEN, NFS3_WRITEVERFSIZE, type Nfs3Error } from '../constants.js';
import type {
  AccessRes, CommitRes, DirCreateRes, Entry3, EntryPlus3, FsinfoRes, FsstatRes, GetattrRes, LinkRes, LookupRes,
  PathconfRes, ReadRes, ReaddirRes, ReaddirplusRes, ReadlinkRes, RemoveRes, RenameRes, SetattrRes, WriteRes,
} from '../types.js';
import { readFattr, readFh, readFilename, readNfstime, readPostOpAttr, readPostOpFh, readWcc } from './basic.js';

function status(r: XdrReader): 0 | Nfs3Error {
  return r.uint32() as 0 | Nfs3Error;
}

export function decodeGetattrRes(r: XdrReader): GetattrRes {
  const s = status(r);
  return s === 0 ? { status: 0, attrs: readFattr(r) } : { status: s };
}

export function decodeSetattrRes(r: XdrReader): SetattrRes {
  return { status: status(r), wcc: readWcc(r) } as SetattrRes;
}

export function decodeLookupRes(r: XdrReader): LookupRes {
  const s = status(r);
  if (s !== 0) return { status: s, dirAttrs: readPostOpAttr(r) };
  const object = readFh(r);
  const objAttrs = readPostOpAttr(r);
  return { status: 0, object, objAttrs, dirAttrs: readPostOpAttr(r) };
}

export function decodeAccessRes(r: XdrReader): AccessRes {
  const s = status(r);
  const objAttrs = readPostOpAttr(r);
  return s === 0 ? { status: 0, objAttrs, access: r.uint32() } : { status: s, objAttrs };
}

export function decodeReadlinkRes(r: XdrReader): ReadlinkRes {
  const s = status(r);
  const attrs = readPostOpAttr(r);
  return s === 0 ? { status: 0, attrs, data: r.string(NFS3_MAXPATHLEN) } : { status: s, attrs };
}

/** `maxData` bounds the data the caller is willing to accept (what it asked for). */
export function decodeReadRes(r: XdrReader, maxData: number): ReadRes {
  const s = status(r);
  const attrs = readPostOpAttr(r);
  if (s !== 0) return { status: s, attrs };
  const count = r.uint32();
  const eof = r.bool();
  const data = r.opaque(maxData);
  return { status: 0, attrs, count, eof, data };
}

export function decodeWriteRes(r: XdrReader): WriteRes {
  const s = status(r);
  const wcc = readWcc(r);
  if (s !== 0) return { status: s, wcc };
  const count = r.uint32();
  const committed = r.uint32();
  if (committed > 2) throw new XdrError('XDR_BAD_VALUE', `bad stable_how ${committed}`);
  return { status: 0, wcc, count, committed: committed as 0 | 1 | 2, verf: r.fixedOpaque(NFS3_WRITEVERFSIZE) };
}

export function decodeDirCreateRes(r: XdrReader): DirCreateRes {
  const s = status(r);
  if (s !== 0) return { status: s, dirWcc: readWcc(r) };
  const obj = readPostOpFh(r);
  const objAttrs = readPostOpAttr(r);
  return { status: 0, obj, objAttrs, dirWcc: readWcc(r) };
}

export function decodeRemoveRes(r: XdrReader): RemoveRes {
  return { status: status(r), dirWcc: readWcc(r) };
}
export const decodeRmdirRes = decodeRemoveRes;

export function decodeRenameRes(r: XdrReader): RenameRes {
  const s = status(r);
  const fromDirWcc = readWcc(r);
  return { status: s, fromDirWcc, toDirWcc: readWcc(r) };
}

export function decodeLinkRes(r: XdrReader): LinkRes {
  const s = status(r);
  const fileAttrs = readPostOpAttr(r);
  return { status: s, fileAttrs, linkDirWcc: readWcc(r) };
}

function readEntry(r: XdrReader): Entry3 {
  const fileid = r.uint64();
  const name = readFilename(r);
  return { fileid, name, cookie: r.uint64() };
}

export function decodeReaddirRes(r: XdrReader): ReaddirRes {
  const s = status(r);
  const dirAttrs = readPostOpAttr(r);
  if (s !== 0) return { status: s, dirAttrs };
  const cookieverf = r.fixedOpaque(NFS3_COOKIEVERFSIZE);
  const entries: Entry3[] = [];
  while (r.bool()) entries.push(readEntry(r));
  return { status: 0, dirAttrs, cookieverf, entries, eof: r.bool() };
}

export function decodeReaddirplusRes(r: XdrReader): ReaddirplusRes {
  const s = status(r);
  const dirAttrs = readPostOpAttr(r);
  if (s !== 0) return { status: s, dirAttrs };
  const cookieverf = r.fixedOpaque(NFS3_COOKIEVERFSIZE);
  const entries: EntryPlus3[] = [];
  while (r.bool()) {
    const e = readEntry(r);
    const attrs = readPostOpAttr(r);
    entries.push({ ...e, attrs, handle: readPostOpFh(r) });
  }
  return { status: 0, dirAttrs, cookieverf, entries, eof: r.bool() };
}

export function decodeFsstatRes(r: XdrReader): FsstatRes {
  const s = status(r);
  const attrs = readPostOpAttr(r);
  if (s !== 0) return { status: s, attrs };
  const tbytes = r.uint64();
  const fbytes = r.uint64();
  const abytes = r.uint64();
  const tfiles = r.uint64();
  const ffiles = r.uint64();
  const afiles = r.uint64();
  return { status: 0, attrs, tbytes, fbytes, abytes, tfiles, ffiles, afiles, invarsec: r.uint32() };
}

export function decodeFsinfoRes(r: XdrReader): FsinfoRes {
  const s = status(r);
  const attrs = readPostOpAttr(r);
  if (s !== 0) return { status: s, attrs };
  const rtmax = r.uint32();
  const rtpref = r.uint32();
  const rtmult = r.uint32();
  const wtmax = r.uint32();
  const wtpref = r.uint32();
  const wtmult = r.uint32();
  const dtpref = r.uint32();
  const maxfilesize = r.uint64();
  const timeDelta = readNfstime(r);
  const properties = r.uint32();
  return { status: 0, attrs, rtmax, rtpref, rtmult, wtmax, wtpref, wtmult, dtpref, maxfilesize, timeDelta, properties };
}

export function decodePathconfRes(r: XdrReader): PathconfRes {
  const s = status(r);
  const attrs = readPostOpAttr(r);
  if (s !== 0) return { status: s, attrs };
  const linkmax = r.uint32();
  const nameMax = r.uint32();
  const noTrunc = r.bool();
  const chownRestricted = r.bool();
  const caseInsensitive = r.bool();
  return { status: 0, attrs, linkmax, nameMax, noTrunc, chownRestricted, caseInsensitive, casePreserving: r.bool() };
}

export function decodeCommitRes(r: XdrReader): CommitRes {
  const s = status(r);
  const wcc = readWcc(r);
  return s === 0 ? { status: 0, wcc, verf: r.fixedOpaque(NFS3_WRITEVERFSIZE) } : { status: s, wcc };
}
