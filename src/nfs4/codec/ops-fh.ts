/**
 * Codecs of the operations on the current filehandle and its attributes:
 * ACCESS, COMMIT, DELEGPURGE, DELEGRETURN, GETATTR, GETFH, LOOKUP, NVERIFY,
 * OPENATTR, PUTFH, READLINK, RENEW, SECINFO, SECINFO_NO_NAME, SETATTR,
 * VERIFY (the void-argument / status-only ones use common.ts). Per op:
 * decodeXArgs (server), encodeXArgs (client), encodeXRes (server),
 * decodeXRes (client); the XDR is in the comment above them.
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import type {
  Access4Args, Access4Res, Commit4Args, Commit4Res, Delegpurge4Args, Delegreturn4Args, Getattr4Args, Getattr4Res,
  Getfh4Res, Lookup4Args, Nverify4Args, Openattr4Args, Putfh4Args, Readlink4Res, Renew4Args, Secinfo4, Secinfo4Args,
  Secinfo4Res, SecinfoNoName4Args, Setattr4Args, Setattr4Res, Verify4Args,
} from '../types.js';
import {
  readComponent, readFh4, readStateid, readVerifier, writeFh4, writeStateid, writeVerifier,
} from './basic.js';
import { readBitmap4, writeBitmap4 } from './bitmap.js';
import { readResult, readStatus } from './common.js';
import { decodeFattr4, encodeFattr4 } from './fattr4.js';
import type { Nfs4Limits } from './limits.js';

// struct ACCESS4args { uint32_t access; };
// struct ACCESS4resok { uint32_t supported; uint32_t access; };
export function decodeAccess4Args(r: XdrReader): Access4Args {
  return { access: r.uint32() };
}
export function encodeAccess4Args(w: XdrWriter, a: Access4Args): void {
  w.uint32(a.access);
}
export function encodeAccess4Res(w: XdrWriter, res: Access4Res): void {
  w.uint32(res.status);
  if (res.status === 0) w.uint32(res.supported).uint32(res.access);
}
export function decodeAccess4Res(r: XdrReader): Access4Res {
  return readResult(r, (x) => {
    const supported = x.uint32();
    return { supported, access: x.uint32() };
  });
}

// struct COMMIT4args { offset4 offset; count4 count; };
// struct COMMIT4resok { verifier4 writeverf; };
export function decodeCommit4Args(r: XdrReader): Commit4Args {
  const offset = r.uint64();
  return { offset, count: r.uint32() };
}
export function encodeCommit4Args(w: XdrWriter, a: Commit4Args): void {
  w.uint64(a.offset).uint32(a.count);
}
export function encodeCommit4Res(w: XdrWriter, res: Commit4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeVerifier(w, res.writeverf);
}
export function decodeCommit4Res(r: XdrReader): Commit4Res {
  return readResult(r, (x) => ({ writeverf: readVerifier(x) }));
}

// struct DELEGPURGE4args { clientid4 clientid; };
export function decodeDelegpurge4Args(r: XdrReader): Delegpurge4Args {
  return { clientid: r.uint64() };
}
export function encodeDelegpurge4Args(w: XdrWriter, a: Delegpurge4Args): void {
  w.uint64(a.clientid);
}

// struct DELEGRETURN4args { stateid4 deleg_stateid; };
export function decodeDelegreturn4Args(r: XdrReader): Delegreturn4Args {
  return { delegStateid: readStateid(r) };
}
export function encodeDelegreturn4Args(w: XdrWriter, a: Delegreturn4Args): void {
  writeStateid(w, a.delegStateid);
}

// struct GETATTR4args { bitmap4 attr_request; };
// struct GETATTR4resok { fattr4 obj_attributes; };
export function decodeGetattr4Args(r: XdrReader, lim: Nfs4Limits): Getattr4Args {
  return { attrRequest: readBitmap4(r, lim) };
}
export function encodeGetattr4Args(w: XdrWriter, a: Getattr4Args): void {
  writeBitmap4(w, a.attrRequest);
}
export function encodeGetattr4Res(w: XdrWriter, res: Getattr4Res): void {
  w.uint32(res.status);
  if (res.status === 0) encodeFattr4(w, res.attrs);
}
export function decodeGetattr4Res(r: XdrReader, lim: Nfs4Limits): Getattr4Res {
  return readResult(r, (x) => ({ attrs: decodeFattr4(x, lim) }));
}

// struct GETFH4resok { nfs_fh4 object; };
export function encodeGetfh4Res(w: XdrWriter, res: Getfh4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeFh4(w, res.object);
}
export function decodeGetfh4Res(r: XdrReader): Getfh4Res {
  return readResult(r, (x) => ({ object: readFh4(x) }));
}

// struct LOOKUP4args { component4 objname; };
export function decodeLookup4Args(r: XdrReader, lim: Nfs4Limits): Lookup4Args {
  return { objname: readComponent(r, lim) };
}
export function encodeLookup4Args(w: XdrWriter, a: Lookup4Args): void {
  w.string(a.objname);
}

// struct NVERIFY4args { fattr4 obj_attributes; };  struct VERIFY4args { fattr4 obj_attributes; };
/** Any attribute the codec knows may be compared; what to answer for rdattr_error etc. is the server's. */
export function decodeVerify4Args(r: XdrReader, lim: Nfs4Limits): Verify4Args {
  return { objAttributes: decodeFattr4(r, lim, 'any') };
}
export function encodeVerify4Args(w: XdrWriter, a: Verify4Args | Nverify4Args): void {
  encodeFattr4(w, a.objAttributes);
}
export const decodeNverify4Args: (r: XdrReader, lim: Nfs4Limits) => Nverify4Args = decodeVerify4Args;
export const encodeNverify4Args = encodeVerify4Args;

// struct OPENATTR4args { bool createdir; };
export function decodeOpenattr4Args(r: XdrReader): Openattr4Args {
  return { createdir: r.bool() };
}
export function encodeOpenattr4Args(w: XdrWriter, a: Openattr4Args): void {
  w.bool(a.createdir);
}

// struct PUTFH4args { nfs_fh4 object; };
export function decodePutfh4Args(r: XdrReader): Putfh4Args {
  return { object: readFh4(r) };
}
export function encodePutfh4Args(w: XdrWriter, a: Putfh4Args): void {
  writeFh4(w, a.object);
}

// struct READLINK4resok { linktext4 link; };
export function encodeReadlink4Res(w: XdrWriter, res: Readlink4Res): void {
  w.uint32(res.status);
  if (res.status === 0) w.opaque(res.link);
}
export function decodeReadlink4Res(r: XdrReader, lim: Nfs4Limits): Readlink4Res {
  return readResult(r, (x) => ({ link: Buffer.from(x.opaque(lim.maxLink)) }));
}

// struct RENEW4args { clientid4 clientid; };
export function decodeRenew4Args(r: XdrReader): Renew4Args {
  return { clientid: r.uint64() };
}
export function encodeRenew4Args(w: XdrWriter, a: Renew4Args): void {
  w.uint64(a.clientid);
}

// struct SECINFO4args { component4 name; };
// union secinfo4 switch (uint32_t flavor) { case RPCSEC_GSS: rpcsec_gss_info flavor_info; default: void; };
// struct rpcsec_gss_info { sec_oid4 oid; qop4 qop; rpc_gss_svc_t service; };
// typedef secinfo4 SECINFO4resok<>;
export function decodeSecinfo4Args(r: XdrReader, lim: Nfs4Limits): Secinfo4Args {
  return { name: readComponent(r, lim) };
}
export function encodeSecinfo4Args(w: XdrWriter, a: Secinfo4Args): void {
  w.string(a.name);
}
export function encodeSecinfo4Res(w: XdrWriter, res: Secinfo4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.uint32(res.flavors.length);
  for (const f of res.flavors) {
    w.uint32(f.flavor);
    if ('oid' in f) w.opaque(f.oid).uint32(f.qop).uint32(f.service);
  }
}
export function decodeSecinfo4Res(r: XdrReader, lim: Nfs4Limits): Secinfo4Res {
  return readResult(r, (x) => ({
    flavors: x.array(lim.maxArray, (y): Secinfo4 => {
      const flavor = y.uint32();
      if (flavor !== 6) return { flavor };
      const oid = Buffer.from(y.opaque(lim.maxOpaque));
      const qop = y.uint32();
      return { flavor, oid, qop, service: y.uint32() };
    }),
  }));
}

// typedef secinfo_style4 SECINFO_NO_NAME4args;  (result: SECINFO4res)
export function decodeSecinfoNoName4Args(r: XdrReader): SecinfoNoName4Args {
  return { style: r.uint32() };
}
export function encodeSecinfoNoName4Args(w: XdrWriter, a: SecinfoNoName4Args): void {
  w.uint32(a.style);
}

// struct SETATTR4args { stateid4 stateid; fattr4 obj_attributes; };
// struct SETATTR4res { nfsstat4 status; bitmap4 attrsset; };
export function decodeSetattr4Args(r: XdrReader, lim: Nfs4Limits): Setattr4Args {
  const stateid = readStateid(r);
  return { stateid, objAttributes: decodeFattr4(r, lim, 'settable') };
}
export function encodeSetattr4Args(w: XdrWriter, a: Setattr4Args): void {
  writeStateid(w, a.stateid);
  encodeFattr4(w, a.objAttributes);
}
export function encodeSetattr4Res(w: XdrWriter, res: Setattr4Res): void {
  w.uint32(res.status);
  writeBitmap4(w, res.attrsset);
}
export function decodeSetattr4Res(r: XdrReader, lim: Nfs4Limits): Setattr4Res {
  const status = readStatus(r);
  return { status, attrsset: readBitmap4(r, lim) } as Setattr4Res;
}
