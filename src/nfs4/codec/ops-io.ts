/**
 * Codecs of the data operations: READ and WRITE (4.0), and 4.2's READ_PLUS,
 * SEEK, ALLOCATE, DEALLOCATE, COPY, COPY_NOTIFY, CLONE, OFFLOAD_CANCEL,
 * OFFLOAD_STATUS, IO_ADVISE, WRITE_SAME.
 *
 * Zero copy, as v3 (DESIGN.md §3.7): WRITE's data decodes as a view of the
 * request record and the client's encoder lends it; READ's and READ_PLUS's
 * data are lent by the server's encoder (a buffer, or a ReplyTail spliced
 * from a pipe) and decode as views of the reply record on the client.
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import { xdrPadding } from '../../xdr/index.js';
import type { ReplyChunk } from '../../rpc/program.js';
import type {
  Allocate4Args, Clone4Args, Copy4Args, Copy4Res, CopyNotify4Args, CopyNotify4Res, CopyRequirements4, Deallocate4Args,
  IoAdvise4Args, IoAdvise4Res, OffloadCancel4Args, OffloadStatus4Args, OffloadStatus4Res, Read4Args, Read4Res,
  ReadPlus4Args, ReadPlus4Res, ReadPlusContent4, Seek4Args, Seek4Res, Write4Args, Write4Res, WriteResponse4,
  WriteSame4Args, WriteSame4Res,
} from '../types.js';
import { Nfs4Stat, type StableHow4Value } from '../constants.js';
import {
  readNetloc, readNfstime, readOptional, readStateid, readVerifier, writeArray, writeNetloc, writeNfstime,
  writeOptional, writeStateid, writeVerifier,
} from './basic.js';
import { readBitmap4, writeBitmap4 } from './bitmap.js';
import { ChunkList } from './chunks.js';
import { badArm, readResult, readStatus } from './common.js';
import type { Nfs4Limits } from './limits.js';

/** Data and its XDR padding, as chunks. */
function lentData<C extends { readonly length: number }>(data: C): (C | Buffer)[] {
  if (data.length === 0) return [];
  const pad = xdrPadding(data.length);
  return pad.length === 0 ? [data] : [data, pad];
}

function readStable(r: XdrReader): StableHow4Value {
  const v = r.uint32();
  return v <= 2 ? (v as StableHow4Value) : badArm('stable_how4', v);
}

// struct READ4args { stateid4 stateid; offset4 offset; count4 count; };
// struct READ4resok { bool eof; opaque data<>; };
/** count is any uint32: the server caps it at its maxread. */
export function decodeRead4Args(r: XdrReader): Read4Args {
  const stateid = readStateid(r);
  const offset = r.uint64();
  return { stateid, offset, count: r.uint32() };
}
export function encodeRead4Args(w: XdrWriter, a: Read4Args): void {
  writeStateid(w, a.stateid);
  w.uint64(a.offset).uint32(a.count);
}
/** The header (through the data's length word) goes into `w`; the data and its padding are lent. */
export function encodeRead4Res(w: XdrWriter, res: Read4Res): ReplyChunk[] | void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  const data = res.spliced ?? res.data;
  w.bool(res.eof).uint32(data.length);
  return lentData<ReplyChunk>(data);
}
/** The data is a view of the reply record, at most maxData bytes (what the client asked for). */
export function decodeRead4Res(r: XdrReader, lim: Nfs4Limits): Read4Res {
  return readResult(r, (x) => {
    const eof = x.bool();
    return { eof, data: x.opaque(lim.maxData) };
  });
}

// struct WRITE4args { stateid4 stateid; offset4 offset; stable_how4 stable; opaque data<>; };
// struct WRITE4resok { count4 count; stable_how4 committed; verifier4 writeverf; };
/** The data stays a view of the request record (zero copy); longer than maxData is BADXDR. */
export function decodeWrite4Args(r: XdrReader, lim: Nfs4Limits): Write4Args {
  const stateid = readStateid(r);
  const offset = r.uint64();
  const stable = readStable(r);
  return { stateid, offset, stable, data: r.opaque(lim.maxData) };
}
/** WRITE4args up to the data's length word; the data and its padding are lent (sent as they are). */
export function encodeWrite4Args(w: XdrWriter, a: Write4Args): Buffer[] | void {
  writeStateid(w, a.stateid);
  w.uint64(a.offset).uint32(a.stable).uint32(a.data.length);
  const chunks = lentData(a.data);
  return chunks.length ? chunks : undefined;
}
export function encodeWrite4Res(w: XdrWriter, res: Write4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.uint32(res.count).uint32(res.committed);
  writeVerifier(w, res.writeverf);
}
export function decodeWrite4Res(r: XdrReader): Write4Res {
  return readResult(r, (x) => {
    const count = x.uint32();
    const committed = readStable(x);
    return { count, committed, writeverf: readVerifier(x) };
  });
}

// struct READ_PLUS4args { stateid4 rpa_stateid; offset4 rpa_offset; count4 rpa_count; };
// union read_plus_content switch (data_content4 rpc_content) {
// case NFS4_CONTENT_DATA: data4 rpc_data; case NFS4_CONTENT_HOLE: data_info4 rpc_hole; default: void; };
// struct read_plus_res4 { bool rpr_eof; read_plus_content rpr_contents<>; };
export const decodeReadPlus4Args: (r: XdrReader) => ReadPlus4Args = decodeRead4Args;
export const encodeReadPlus4Args: (w: XdrWriter, a: ReadPlus4Args) => void = encodeRead4Args;
/** Each data segment is lent like READ's data; the headers between them go into writers of their own. */
export function encodeReadPlus4Res(w: XdrWriter, res: ReadPlus4Res): Buffer[] | void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.bool(res.eof).uint32(res.contents.length);
  const out = new ChunkList<Buffer>(w);
  for (const c of res.contents) {
    out.w.uint32(c.type);
    if (c.type === 0) {
      out.w.uint64(c.offset).uint32(c.data.length);
      out.lend(lentData(c.data));
    } else out.w.uint64(c.offset).uint64(c.length);
  }
  return out.finish();
}
/** Unknown content types (the void arm) are refused: nothing a 4.2 server sends. */
export function decodeReadPlus4Res(r: XdrReader, lim: Nfs4Limits): ReadPlus4Res {
  return readResult(r, (x) => {
    const eof = x.bool();
    const contents = x.array(lim.maxArray, (y): ReadPlusContent4 => {
      const type = y.uint32();
      const offset = y.uint64();
      if (type === 0) return { type, offset, data: y.opaque(lim.maxData) };
      if (type === 1) return { type, offset, length: y.uint64() };
      return badArm('data_content4', type);
    });
    return { eof, contents };
  });
}

// struct SEEK4args { stateid4 sa_stateid; offset4 sa_offset; data_content4 sa_what; };
// struct seek_res4 { bool sr_eof; offset4 sr_offset; };
/** `what` is not checked here: knfsd answers an unknown one with INVAL, a semantic matter. */
export function decodeSeek4Args(r: XdrReader): Seek4Args {
  const stateid = readStateid(r);
  const offset = r.uint64();
  return { stateid, offset, what: r.uint32() };
}
export function encodeSeek4Args(w: XdrWriter, a: Seek4Args): void {
  writeStateid(w, a.stateid);
  w.uint64(a.offset).uint32(a.what);
}
export function encodeSeek4Res(w: XdrWriter, res: Seek4Res): void {
  w.uint32(res.status);
  if (res.status === 0) w.bool(res.eof).uint64(res.offset);
}
export function decodeSeek4Res(r: XdrReader): Seek4Res {
  return readResult(r, (x) => {
    const eof = x.bool();
    return { eof, offset: x.uint64() };
  });
}

// struct ALLOCATE4args / DEALLOCATE4args { stateid4 stateid; offset4 offset; length4 length; };
export function decodeAllocate4Args(r: XdrReader): Allocate4Args {
  const stateid = readStateid(r);
  const offset = r.uint64();
  return { stateid, offset, length: r.uint64() };
}
export function encodeAllocate4Args(w: XdrWriter, a: Allocate4Args | Deallocate4Args): void {
  writeStateid(w, a.stateid);
  w.uint64(a.offset).uint64(a.length);
}
export const decodeDeallocate4Args: (r: XdrReader) => Deallocate4Args = decodeAllocate4Args;
export const encodeDeallocate4Args = encodeAllocate4Args;

// struct write_response4 { stateid4 wr_callback_id<1>; length4 wr_count; stable_how4 wr_committed; verifier4 wr_writeverf; };
function readWriteResponse(r: XdrReader): WriteResponse4 {
  const callbackId = readOptional(r, readStateid);
  const count = r.uint64();
  const committed = readStable(r);
  const resp: WriteResponse4 = { count, committed, writeverf: readVerifier(r) };
  if (callbackId !== undefined) resp.callbackId = callbackId;
  return resp;
}
function writeWriteResponse(w: XdrWriter, resp: WriteResponse4): void {
  writeOptional(w, resp.callbackId, writeStateid);
  w.uint64(resp.count).uint32(resp.committed);
  writeVerifier(w, resp.writeverf);
}

// struct copy_requirements4 { bool cr_consecutive; bool cr_synchronous; };
function readRequirements(r: XdrReader): CopyRequirements4 {
  const consecutive = r.bool();
  return { consecutive, synchronous: r.bool() };
}

// struct COPY4args { stateid4 ca_src_stateid; stateid4 ca_dst_stateid; offset4 ca_src_offset;
//   offset4 ca_dst_offset; length4 ca_count; bool ca_consecutive; bool ca_synchronous; netloc4 ca_source_server<>; };
// union COPY4res switch (nfsstat4 cr_status) { case NFS4_OK: COPY4resok; case NFS4ERR_OFFLOAD_NO_REQS: copy_requirements4; default: void; };
export function decodeCopy4Args(r: XdrReader, lim: Nfs4Limits): Copy4Args {
  const srcStateid = readStateid(r);
  const dstStateid = readStateid(r);
  const srcOffset = r.uint64();
  const dstOffset = r.uint64();
  const count = r.uint64();
  const consecutive = r.bool();
  const synchronous = r.bool();
  const sourceServers = r.array(lim.maxArray, (x) => readNetloc(x, lim));
  return { srcStateid, dstStateid, srcOffset, dstOffset, count, consecutive, synchronous, sourceServers };
}
export function encodeCopy4Args(w: XdrWriter, a: Copy4Args): void {
  writeStateid(w, a.srcStateid);
  writeStateid(w, a.dstStateid);
  w.uint64(a.srcOffset).uint64(a.dstOffset).uint64(a.count).bool(a.consecutive).bool(a.synchronous);
  writeArray(w, a.sourceServers, writeNetloc);
}
export function encodeCopy4Res(w: XdrWriter, res: Copy4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeWriteResponse(w, res.response);
  if ('requirements' in res) w.bool(res.requirements.consecutive).bool(res.requirements.synchronous);
}
export function decodeCopy4Res(r: XdrReader): Copy4Res {
  const status = readStatus(r);
  if (status === 0) {
    const response = readWriteResponse(r);
    return { status, response, requirements: readRequirements(r) };
  }
  if (status === Nfs4Stat.OFFLOAD_NO_REQS) return { status, requirements: readRequirements(r) };
  return { status } as Copy4Res;
}

// struct COPY_NOTIFY4args { stateid4 cna_src_stateid; netloc4 cna_destination_server; };
// struct COPY_NOTIFY4resok { nfstime4 cnr_lease_time; stateid4 cnr_stateid; netloc4 cnr_source_server<>; };
export function decodeCopyNotify4Args(r: XdrReader, lim: Nfs4Limits): CopyNotify4Args {
  const srcStateid = readStateid(r);
  return { srcStateid, destinationServer: readNetloc(r, lim) };
}
export function encodeCopyNotify4Args(w: XdrWriter, a: CopyNotify4Args): void {
  writeStateid(w, a.srcStateid);
  writeNetloc(w, a.destinationServer);
}
export function encodeCopyNotify4Res(w: XdrWriter, res: CopyNotify4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  writeNfstime(w, res.leaseTime);
  writeStateid(w, res.stateid);
  writeArray(w, res.sourceServers, writeNetloc);
}
export function decodeCopyNotify4Res(r: XdrReader, lim: Nfs4Limits): CopyNotify4Res {
  return readResult(r, (x) => {
    const leaseTime = readNfstime(x);
    const stateid = readStateid(x);
    return { leaseTime, stateid, sourceServers: x.array(lim.maxArray, (y) => readNetloc(y, lim)) };
  });
}

// struct CLONE4args { stateid4 cl_src_stateid; stateid4 cl_dst_stateid; offset4 cl_src_offset; offset4 cl_dst_offset; length4 cl_count; };
export function decodeClone4Args(r: XdrReader): Clone4Args {
  const srcStateid = readStateid(r);
  const dstStateid = readStateid(r);
  const srcOffset = r.uint64();
  const dstOffset = r.uint64();
  return { srcStateid, dstStateid, srcOffset, dstOffset, count: r.uint64() };
}
export function encodeClone4Args(w: XdrWriter, a: Clone4Args): void {
  writeStateid(w, a.srcStateid);
  writeStateid(w, a.dstStateid);
  w.uint64(a.srcOffset).uint64(a.dstOffset).uint64(a.count);
}

// struct OFFLOAD_CANCEL4args / OFFLOAD_STATUS4args { stateid4 stateid; };
// struct OFFLOAD_STATUS4resok { length4 osr_count; nfsstat4 osr_complete<1>; };
export function decodeOffload4Args(r: XdrReader): OffloadCancel4Args | OffloadStatus4Args {
  return { stateid: readStateid(r) };
}
export function encodeOffload4Args(w: XdrWriter, a: OffloadCancel4Args | OffloadStatus4Args): void {
  writeStateid(w, a.stateid);
}
export function encodeOffloadStatus4Res(w: XdrWriter, res: OffloadStatus4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.uint64(res.count);
  writeOptional(w, res.complete, (x, s) => x.uint32(s));
}
export function decodeOffloadStatus4Res(r: XdrReader): OffloadStatus4Res {
  return readResult(r, (x) => {
    const count = x.uint64();
    const complete = readOptional(x, readStatus);
    return complete === undefined ? { count } : { count, complete };
  });
}

// struct IO_ADVISE4args { stateid4 iaa_stateid; offset4 iaa_offset; length4 iaa_count; bitmap4 iaa_hints; };
// struct IO_ADVISE4resok { bitmap4 ior_hints; };
export function decodeIoAdvise4Args(r: XdrReader, lim: Nfs4Limits): IoAdvise4Args {
  const stateid = readStateid(r);
  const offset = r.uint64();
  const count = r.uint64();
  return { stateid, offset, count, hints: readBitmap4(r, lim) };
}
export function encodeIoAdvise4Args(w: XdrWriter, a: IoAdvise4Args): void {
  writeStateid(w, a.stateid);
  w.uint64(a.offset).uint64(a.count);
  writeBitmap4(w, a.hints);
}
export function encodeIoAdvise4Res(w: XdrWriter, res: IoAdvise4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeBitmap4(w, res.hints);
}
export function decodeIoAdvise4Res(r: XdrReader, lim: Nfs4Limits): IoAdvise4Res {
  return readResult(r, (x) => ({ hints: readBitmap4(x, lim) }));
}

// struct WRITE_SAME4args { stateid4 wsa_stateid; stable_how4 wsa_stable; app_data_block4 wsa_adb; };
// struct app_data_block4 { offset4 adb_offset; length4 adb_block_size; length4 adb_block_count;
//   length4 adb_reloff_blocknum; count4 adb_block_num; length4 adb_reloff_pattern; opaque adb_pattern<>; };
export function decodeWriteSame4Args(r: XdrReader, lim: Nfs4Limits): WriteSame4Args {
  const stateid = readStateid(r);
  const stable = readStable(r);
  const offset = r.uint64();
  const blockSize = r.uint64();
  const blockCount = r.uint64();
  const reloffBlocknum = r.uint64();
  const blockNum = r.uint32();
  const reloffPattern = r.uint64();
  const pattern = Buffer.from(r.opaque(lim.maxOpaque));
  return { stateid, stable, adb: { offset, blockSize, blockCount, reloffBlocknum, blockNum, reloffPattern, pattern } };
}
export function encodeWriteSame4Args(w: XdrWriter, a: WriteSame4Args): void {
  writeStateid(w, a.stateid);
  const b = a.adb;
  w.uint32(a.stable).uint64(b.offset).uint64(b.blockSize).uint64(b.blockCount).uint64(b.reloffBlocknum);
  w.uint32(b.blockNum).uint64(b.reloffPattern).opaque(b.pattern);
}
export function encodeWriteSame4Res(w: XdrWriter, res: WriteSame4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeWriteResponse(w, res.response);
}
export function decodeWriteSame4Res(r: XdrReader): WriteSame4Res {
  return readResult(r, (x) => ({ response: readWriteResponse(x) }));
}
