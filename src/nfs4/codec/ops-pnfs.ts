/**
 * Codecs of the pNFS operations: GETDEVICEINFO, GETDEVICELIST, LAYOUTCOMMIT,
 * LAYOUTGET, LAYOUTRETURN (4.1), LAYOUTERROR, LAYOUTSTATS (4.2). We grant no
 * layouts; these decode so that a server answers them with a status (never
 * OP_ILLEGAL for a known op), and so a client could talk to a pNFS server.
 * Layout and device bodies stay opaque (copied, bounded by maxOpaque).
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import { NFS4_DEVICEID4_SIZE, Nfs4Stat } from '../constants.js';
import type {
  DeviceError4, Getdeviceinfo4Args, Getdeviceinfo4Res, Getdevicelist4Args, Getdevicelist4Res, IoInfo4, Layout4,
  Layoutcommit4Args, Layoutcommit4Res, Layouterror4Args, Layoutget4Args, Layoutget4Res, Layoutreturn4,
  Layoutreturn4Args, Layoutreturn4Res, Layoutstats4Args,
} from '../types.js';
import {
  readNfstime, readOpaqueCopy, readStateid, readVerifier, writeArray, writeFixed, writeNfstime, writeStateid,
  writeVerifier,
} from './basic.js';
import { readBitmap4, writeBitmap4 } from './bitmap.js';
import { badArm, readResult, readStatus } from './common.js';
import type { Nfs4Limits } from './limits.js';

// typedef opaque deviceid4[NFS4_DEVICEID4_SIZE];
const readDeviceId = (r: XdrReader): Buffer => Buffer.from(r.fixedOpaque(NFS4_DEVICEID4_SIZE));
const writeDeviceId = (w: XdrWriter, d: Buffer): void => writeFixed(w, d, NFS4_DEVICEID4_SIZE, 'deviceid4');

// struct GETDEVICEINFO4args { deviceid4 gdia_device_id; layouttype4 gdia_layout_type; count4 gdia_maxcount;
//   bitmap4 gdia_notify_types; };
// union GETDEVICEINFO4res switch (nfsstat4 gdir_status) { case NFS4_OK: GETDEVICEINFO4resok;
//   case NFS4ERR_TOOSMALL: count4 gdir_mincount; default: void; };
// struct GETDEVICEINFO4resok { device_addr4 gdir_device_addr; bitmap4 gdir_notification; };
export function decodeGetdeviceinfo4Args(r: XdrReader, lim: Nfs4Limits): Getdeviceinfo4Args {
  const deviceId = readDeviceId(r);
  const layoutType = r.uint32();
  const maxcount = r.uint32();
  return { deviceId, layoutType, maxcount, notifyTypes: readBitmap4(r, lim) };
}
export function encodeGetdeviceinfo4Args(w: XdrWriter, a: Getdeviceinfo4Args): void {
  writeDeviceId(w, a.deviceId);
  w.uint32(a.layoutType).uint32(a.maxcount);
  writeBitmap4(w, a.notifyTypes);
}
export function encodeGetdeviceinfo4Res(w: XdrWriter, res: Getdeviceinfo4Res): void {
  w.uint32(res.status);
  if (res.status === 0) {
    w.uint32(res.layoutType).opaque(res.addrBody);
    writeBitmap4(w, res.notification);
  } else if (res.status === Nfs4Stat.TOOSMALL) w.uint32(res.mincount);
}
export function decodeGetdeviceinfo4Res(r: XdrReader, lim: Nfs4Limits): Getdeviceinfo4Res {
  const status = readStatus(r);
  if (status === 0) {
    const layoutType = r.uint32();
    const addrBody = readOpaqueCopy(r, lim.maxOpaque);
    return { status, layoutType, addrBody, notification: readBitmap4(r, lim) };
  }
  if (status === Nfs4Stat.TOOSMALL) return { status, mincount: r.uint32() };
  return { status } as Getdeviceinfo4Res;
}

// struct GETDEVICELIST4args { layouttype4 gdla_layout_type; count4 gdla_maxdevices; nfs_cookie4 gdla_cookie;
//   verifier4 gdla_cookieverf; };
// struct GETDEVICELIST4resok { nfs_cookie4 gdlr_cookie; verifier4 gdlr_cookieverf;
//   deviceid4 gdlr_deviceid_list<>; bool gdlr_eof; };
export function decodeGetdevicelist4Args(r: XdrReader): Getdevicelist4Args {
  const layoutType = r.uint32();
  const maxdevices = r.uint32();
  const cookie = r.uint64();
  return { layoutType, maxdevices, cookie, cookieverf: readVerifier(r) };
}
export function encodeGetdevicelist4Args(w: XdrWriter, a: Getdevicelist4Args): void {
  w.uint32(a.layoutType).uint32(a.maxdevices).uint64(a.cookie);
  writeVerifier(w, a.cookieverf);
}
export function encodeGetdevicelist4Res(w: XdrWriter, res: Getdevicelist4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.uint64(res.cookie);
  writeVerifier(w, res.cookieverf);
  writeArray(w, res.deviceIds, writeDeviceId);
  w.bool(res.eof);
}
export function decodeGetdevicelist4Res(r: XdrReader, lim: Nfs4Limits): Getdevicelist4Res {
  return readResult(r, (x) => {
    const cookie = x.uint64();
    const cookieverf = readVerifier(x);
    const deviceIds = x.array(lim.maxArray, readDeviceId);
    return { cookie, cookieverf, deviceIds, eof: x.bool() };
  });
}

// struct LAYOUTCOMMIT4args { offset4 loca_offset; length4 loca_length; bool loca_reclaim; stateid4 loca_stateid;
//   newoffset4 loca_last_write_offset; newtime4 loca_time_modify; layoutupdate4 loca_layoutupdate; };
// union newoffset4 / newtime4 / newsize4 switch (bool) { case TRUE: value; case FALSE: void; };
// struct LAYOUTCOMMIT4resok { newsize4 locr_newsize; };
export function decodeLayoutcommit4Args(r: XdrReader, lim: Nfs4Limits): Layoutcommit4Args {
  const offset = r.uint64();
  const length = r.uint64();
  const reclaim = r.bool();
  const stateid = readStateid(r);
  const lastWriteOffset = r.optional((x) => x.uint64());
  const timeModify = r.optional((x) => readNfstime(x, true));
  const layoutType = r.uint32();
  const layoutBody = readOpaqueCopy(r, lim.maxOpaque);
  const a: Layoutcommit4Args = { offset, length, reclaim, stateid, layoutType, layoutBody };
  if (lastWriteOffset !== undefined) a.lastWriteOffset = lastWriteOffset;
  if (timeModify !== undefined) a.timeModify = timeModify;
  return a;
}
export function encodeLayoutcommit4Args(w: XdrWriter, a: Layoutcommit4Args): void {
  w.uint64(a.offset).uint64(a.length).bool(a.reclaim);
  writeStateid(w, a.stateid);
  w.bool(a.lastWriteOffset !== undefined);
  if (a.lastWriteOffset !== undefined) w.uint64(a.lastWriteOffset);
  w.bool(a.timeModify !== undefined);
  if (a.timeModify !== undefined) writeNfstime(w, a.timeModify);
  w.uint32(a.layoutType).opaque(a.layoutBody);
}
export function encodeLayoutcommit4Res(w: XdrWriter, res: Layoutcommit4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.bool(res.newSize !== undefined);
  if (res.newSize !== undefined) w.uint64(res.newSize);
}
export function decodeLayoutcommit4Res(r: XdrReader): Layoutcommit4Res {
  return readResult(r, (x) => {
    const newSize = x.optional((y) => y.uint64());
    return newSize === undefined ? {} : { newSize };
  });
}

// struct LAYOUTGET4args { bool loga_signal_layout_avail; layouttype4 loga_layout_type; layoutiomode4 loga_iomode;
//   offset4 loga_offset; length4 loga_length; length4 loga_minlength; stateid4 loga_stateid; count4 loga_maxcount; };
// union LAYOUTGET4res switch (nfsstat4 logr_status) { case NFS4_OK: LAYOUTGET4resok;
//   case NFS4ERR_LAYOUTTRYLATER: bool logr_will_signal_layout_avail; default: void; };
// struct LAYOUTGET4resok { bool logr_return_on_close; stateid4 logr_stateid; layout4 logr_layout<>; };
// struct layout4 { offset4 lo_offset; length4 lo_length; layoutiomode4 lo_iomode; layout_content4 lo_content; };
export function decodeLayoutget4Args(r: XdrReader): Layoutget4Args {
  const signalLayoutAvail = r.bool();
  const layoutType = r.uint32();
  const iomode = r.uint32();
  const offset = r.uint64();
  const length = r.uint64();
  const minlength = r.uint64();
  const stateid = readStateid(r);
  return { signalLayoutAvail, layoutType, iomode, offset, length, minlength, stateid, maxcount: r.uint32() };
}
export function encodeLayoutget4Args(w: XdrWriter, a: Layoutget4Args): void {
  w.bool(a.signalLayoutAvail).uint32(a.layoutType).uint32(a.iomode).uint64(a.offset).uint64(a.length);
  w.uint64(a.minlength);
  writeStateid(w, a.stateid);
  w.uint32(a.maxcount);
}
function readLayout(r: XdrReader, lim: Nfs4Limits): Layout4 {
  const offset = r.uint64();
  const length = r.uint64();
  const iomode = r.uint32();
  const type = r.uint32();
  return { offset, length, iomode, type, body: readOpaqueCopy(r, lim.maxOpaque) };
}
export function encodeLayoutget4Res(w: XdrWriter, res: Layoutget4Res): void {
  w.uint32(res.status);
  if (res.status === 0) {
    w.bool(res.returnOnClose);
    writeStateid(w, res.stateid);
    writeArray(w, res.layouts, (x, l) => x.uint64(l.offset).uint64(l.length).uint32(l.iomode).uint32(l.type).opaque(l.body));
  } else if (res.status === Nfs4Stat.LAYOUTTRYLATER) w.bool(res.willSignalLayoutAvail);
}
export function decodeLayoutget4Res(r: XdrReader, lim: Nfs4Limits): Layoutget4Res {
  const status = readStatus(r);
  if (status === 0) {
    const returnOnClose = r.bool();
    const stateid = readStateid(r);
    return { status, returnOnClose, stateid, layouts: r.array(lim.maxArray, (x) => readLayout(x, lim)) };
  }
  if (status === Nfs4Stat.LAYOUTTRYLATER) return { status, willSignalLayoutAvail: r.bool() };
  return { status } as Layoutget4Res;
}

// struct LAYOUTRETURN4args { bool lora_reclaim; layouttype4 lora_layout_type; layoutiomode4 lora_iomode;
//   layoutreturn4 lora_layoutreturn; };
// union layoutreturn4 switch (layoutreturn_type4 lr_returntype) { case LAYOUTRETURN4_FILE: layoutreturn_file4; default: void; };
// struct layoutreturn_file4 { offset4 lrf_offset; length4 lrf_length; stateid4 lrf_stateid; opaque lrf_body<>; };
// union LAYOUTRETURN4res switch (nfsstat4) { case NFS4_OK: layoutreturn_stateid lorr_stateid; default: void; };
/** layoutreturn_type4 has three values: any other is bad XDR (as knfsd). */
function readLayoutreturn(r: XdrReader, lim: Nfs4Limits): Layoutreturn4 {
  const returnType = r.uint32();
  if (returnType === 2 || returnType === 3) return { returnType };
  if (returnType !== 1) return badArm('layoutreturn_type4', returnType);
  const offset = r.uint64();
  const length = r.uint64();
  const stateid = readStateid(r);
  return { returnType, offset, length, stateid, body: readOpaqueCopy(r, lim.maxOpaque) };
}
export function decodeLayoutreturn4Args(r: XdrReader, lim: Nfs4Limits): Layoutreturn4Args {
  const reclaim = r.bool();
  const layoutType = r.uint32();
  const iomode = r.uint32();
  return { reclaim, layoutType, iomode, layoutreturn: readLayoutreturn(r, lim) };
}
export function encodeLayoutreturn4Args(w: XdrWriter, a: Layoutreturn4Args): void {
  w.bool(a.reclaim).uint32(a.layoutType).uint32(a.iomode);
  const l = a.layoutreturn;
  w.uint32(l.returnType);
  if (l.returnType === 1) {
    w.uint64(l.offset).uint64(l.length);
    writeStateid(w, l.stateid);
    w.opaque(l.body);
  }
}
export function encodeLayoutreturn4Res(w: XdrWriter, res: Layoutreturn4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.bool(res.stateid !== undefined);
  if (res.stateid !== undefined) writeStateid(w, res.stateid);
}
export function decodeLayoutreturn4Res(r: XdrReader): Layoutreturn4Res {
  return readResult(r, (x) => {
    const stateid = x.optional(readStateid);
    return stateid === undefined ? {} : { stateid };
  });
}

// struct LAYOUTERROR4args { offset4 lea_offset; length4 lea_length; stateid4 lea_stateid; device_error4 lea_errors<>; };
// struct device_error4 { deviceid4 de_deviceid; nfsstat4 de_status; nfs_opnum4 de_opnum; };
export function decodeLayouterror4Args(r: XdrReader, lim: Nfs4Limits): Layouterror4Args {
  const offset = r.uint64();
  const length = r.uint64();
  const stateid = readStateid(r);
  const errors = r.array(lim.maxArray, (x): DeviceError4 => {
    const deviceId = readDeviceId(x);
    const status = readStatus(x);
    return { deviceId, status, opnum: x.uint32() };
  });
  return { offset, length, stateid, errors };
}
export function encodeLayouterror4Args(w: XdrWriter, a: Layouterror4Args): void {
  w.uint64(a.offset).uint64(a.length);
  writeStateid(w, a.stateid);
  writeArray(w, a.errors, (x, e) => {
    writeDeviceId(x, e.deviceId);
    x.uint32(e.status).uint32(e.opnum);
  });
}

// struct LAYOUTSTATS4args { offset4 lsa_offset; length4 lsa_length; stateid4 lsa_stateid; io_info4 lsa_read;
//   io_info4 lsa_write; deviceid4 lsa_deviceid; layoutupdate4 lsa_layoutupdate; };
// struct io_info4 { uint64_t ii_count; uint64_t ii_bytes; };
function readIoInfo(r: XdrReader): IoInfo4 {
  const count = r.uint64();
  return { count, bytes: r.uint64() };
}
export function decodeLayoutstats4Args(r: XdrReader, lim: Nfs4Limits): Layoutstats4Args {
  const offset = r.uint64();
  const length = r.uint64();
  const stateid = readStateid(r);
  const read = readIoInfo(r);
  const write = readIoInfo(r);
  const deviceId = readDeviceId(r);
  const layoutType = r.uint32();
  return { offset, length, stateid, read, write, deviceId, layoutType, layoutBody: readOpaqueCopy(r, lim.maxOpaque) };
}
export function encodeLayoutstats4Args(w: XdrWriter, a: Layoutstats4Args): void {
  w.uint64(a.offset).uint64(a.length);
  writeStateid(w, a.stateid);
  w.uint64(a.read.count).uint64(a.read.bytes).uint64(a.write.count).uint64(a.write.bytes);
  writeDeviceId(w, a.deviceId);
  w.uint32(a.layoutType).opaque(a.layoutBody);
}
