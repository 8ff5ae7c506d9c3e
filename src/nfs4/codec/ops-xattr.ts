/**
 * Codecs of the extended attribute operations (RFC 8276): GETXATTR,
 * SETXATTR, LISTXATTRS, REMOVEXATTR. Names are xattrkey4 (readXattrKey);
 * SETXATTR's value, like WRITE data, stays a view of the request record.
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import type {
  Getxattr4Args, Getxattr4Res, Listxattrs4Args, Listxattrs4Res, Removexattr4Args, Removexattr4Res, Setxattr4Args,
  Setxattr4Res,
} from '../types.js';
import { readChangeInfo, readXattrKey, writeArray, writeChangeInfo } from './basic.js';
import { readResult } from './common.js';
import type { Nfs4Limits } from './limits.js';

// struct GETXATTR4args { xattrkey4 gxa_name; };
// union GETXATTR4res switch (nfsstat4 gxr_status) { case NFS4_OK: xattrvalue4 gxr_value; default: void; };
export function decodeGetxattr4Args(r: XdrReader, lim: Nfs4Limits): Getxattr4Args {
  return { name: readXattrKey(r, lim) };
}
export function encodeGetxattr4Args(w: XdrWriter, a: Getxattr4Args | Removexattr4Args): void {
  w.string(a.name);
}
export function encodeGetxattr4Res(w: XdrWriter, res: Getxattr4Res): void {
  w.uint32(res.status);
  if (res.status === 0) w.opaque(res.value);
}
/** The value is copied: unlike READ data it is small and callers keep it. */
export function decodeGetxattr4Res(r: XdrReader, lim: Nfs4Limits): Getxattr4Res {
  return readResult(r, (x) => ({ value: Buffer.from(x.opaque(lim.maxData)) }));
}

// struct SETXATTR4args { setxattr_option4 sxa_option; xattrkey4 sxa_key; xattrvalue4 sxa_value; };
// union SETXATTR4res switch (nfsstat4 sxr_status) { case NFS4_OK: change_info4 sxr_info; default: void; };
/** The option's values are the server's to judge (INVAL); the value is a view of the record. */
export function decodeSetxattr4Args(r: XdrReader, lim: Nfs4Limits): Setxattr4Args {
  const option = r.uint32();
  const key = readXattrKey(r, lim);
  return { option, key, value: r.opaque(lim.maxData) };
}
export function encodeSetxattr4Args(w: XdrWriter, a: Setxattr4Args): void {
  w.uint32(a.option).string(a.key).opaque(a.value);
}
export function encodeXattrCinfoRes(w: XdrWriter, res: Setxattr4Res | Removexattr4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeChangeInfo(w, res.cinfo);
}
export function decodeXattrCinfoRes(r: XdrReader): Setxattr4Res {
  return readResult(r, (x) => ({ cinfo: readChangeInfo(x) }));
}

// struct LISTXATTRS4args { nfs_cookie4 lxa_cookie; count4 lxa_maxcount; };
// struct LISTXATTRS4resok { nfs_cookie4 lxr_cookie; xattrkey4 lxr_names<>; bool lxr_eof; };
export function decodeListxattrs4Args(r: XdrReader): Listxattrs4Args {
  const cookie = r.uint64();
  return { cookie, maxcount: r.uint32() };
}
export function encodeListxattrs4Args(w: XdrWriter, a: Listxattrs4Args): void {
  w.uint64(a.cookie).uint32(a.maxcount);
}
export function encodeListxattrs4Res(w: XdrWriter, res: Listxattrs4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.uint64(res.cookie);
  writeArray(w, res.names, (x, n) => x.string(n));
  w.bool(res.eof);
}
export function decodeListxattrs4Res(r: XdrReader, lim: Nfs4Limits): Listxattrs4Res {
  return readResult(r, (x) => {
    const cookie = x.uint64();
    const names = x.array(lim.maxArray, (y) => readXattrKey(y, lim));
    return { cookie, names, eof: x.bool() };
  });
}

// struct REMOVEXATTR4args { xattrkey4 rxa_name; };
// union REMOVEXATTR4res switch (nfsstat4 rxr_status) { case NFS4_OK: change_info4 rxr_info; default: void; };
export function decodeRemovexattr4Args(r: XdrReader, lim: Nfs4Limits): Removexattr4Args {
  return { name: readXattrKey(r, lim) };
}
export const encodeRemovexattr4Args = encodeGetxattr4Args;
