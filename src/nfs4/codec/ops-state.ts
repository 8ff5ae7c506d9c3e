/**
 * Codecs of the operations on open and lock state: OPEN, OPEN_CONFIRM,
 * OPEN_DOWNGRADE, CLOSE, LOCK, LOCKT, LOCKU, RELEASE_LOCKOWNER,
 * TEST_STATEID, FREE_STATEID (delegations: ops-deleg.ts).
 * Union discriminants without an arm are bad XDR, as in knfsd; the values
 * of share_access / share_deny are the server's to judge (INVAL).
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import { Nfs4Stat, type LockType4Value } from '../constants.js';
import type {
  Close4Args, Close4Res, Createhow4, FreeStateid4Args, Lock4Args, Lock4Denied, Lock4Res, Locker4, Lockt4Args,
  Lockt4Res, Locku4Args, Locku4Res, Open4Args, Open4Res, OpenClaim4, OpenConfirm4Args, OpenConfirm4Res,
  OpenDowngrade4Args, OpenDowngrade4Res, Openflag4, ReleaseLockowner4Args, TestStateid4Args, TestStateid4Res,
} from '../types.js';
import {
  readChangeInfo, readComponent, readStateOwner, readStateid, readVerifier, writeArray, writeChangeInfo,
  writeStateOwner, writeStateid, writeVerifier,
} from './basic.js';
import { readBitmap4, writeBitmap4 } from './bitmap.js';
import { badArm, readResult, readStatus } from './common.js';
import { decodeFattr4, encodeFattr4 } from './fattr4.js';
import { readDelegation, writeDelegation } from './ops-deleg.js';
import type { Nfs4Limits } from './limits.js';

function readLockType(r: XdrReader): LockType4Value {
  const t = r.uint32();
  return t >= 1 && t <= 4 ? (t as LockType4Value) : badArm('nfs_lock_type4', t);
}

// union createhow4 switch (createmode4 mode) { case UNCHECKED4: case GUARDED4: fattr4 createattrs;
//   case EXCLUSIVE4: verifier4 createverf; case EXCLUSIVE4_1: creatverfattr ch_createboth; };
// union openflag4 switch (opentype4 opentype) { case OPEN4_CREATE: createhow4 how; default: void; };
function readOpenflag(r: XdrReader, lim: Nfs4Limits): Openflag4 {
  const opentype = r.uint32();
  if (opentype === 0) return { opentype };
  if (opentype !== 1) return badArm('opentype4', opentype);
  const mode = r.uint32();
  let how: Createhow4;
  if (mode === 0 || mode === 1) how = { mode, createattrs: decodeFattr4(r, lim, 'settable') };
  else if (mode === 2) how = { mode, createverf: readVerifier(r) };
  else if (mode === 3) {
    const createverf = readVerifier(r);
    how = { mode, createverf, createattrs: decodeFattr4(r, lim, 'settable') };
  } else return badArm('createmode4', mode);
  return { opentype, how };
}
function writeOpenflag(w: XdrWriter, f: Openflag4): void {
  w.uint32(f.opentype);
  if (f.opentype === 0) return;
  const how = f.how;
  w.uint32(how.mode);
  if (how.mode === 2 || how.mode === 3) writeVerifier(w, how.createverf);
  if (how.mode !== 2) encodeFattr4(w, how.createattrs);
}

// union open_claim4 switch (open_claim_type4 claim) { CLAIM_NULL: component4 file; CLAIM_PREVIOUS:
//   open_delegation_type4; CLAIM_DELEGATE_CUR: open_claim_delegate_cur4; CLAIM_DELEGATE_PREV: component4;
//   CLAIM_FH: void; CLAIM_DELEG_PREV_FH: void; CLAIM_DELEG_CUR_FH: stateid4; };
function readOpenClaim(r: XdrReader, lim: Nfs4Limits): OpenClaim4 {
  const claim = r.uint32();
  switch (claim) {
    case 0:
    case 3:
      return { claim, file: readComponent(r, lim) };
    case 1:
      return { claim, delegateType: r.uint32() };
    case 2: {
      const delegateStateid = readStateid(r);
      return { claim, delegateStateid, file: readComponent(r, lim) };
    }
    case 4:
    case 6:
      return { claim };
    case 5:
      return { claim, delegateStateid: readStateid(r) };
    default:
      return badArm('open_claim_type4', claim);
  }
}
function writeOpenClaim(w: XdrWriter, c: OpenClaim4): void {
  w.uint32(c.claim);
  if ('delegateStateid' in c) writeStateid(w, c.delegateStateid);
  if ('file' in c) w.string(c.file);
  if ('delegateType' in c) w.uint32(c.delegateType);
}

// struct OPEN4args { seqid4 seqid; uint32_t share_access; uint32_t share_deny; open_owner4 owner;
//   openflag4 openhow; open_claim4 claim; };
// struct OPEN4resok { stateid4 stateid; change_info4 cinfo; uint32_t rflags; bitmap4 attrset; open_delegation4 delegation; };
export function decodeOpen4Args(r: XdrReader, lim: Nfs4Limits): Open4Args {
  const seqid = r.uint32();
  const shareAccess = r.uint32();
  const shareDeny = r.uint32();
  const owner = readStateOwner(r, lim);
  const openhow = readOpenflag(r, lim);
  return { seqid, shareAccess, shareDeny, owner, openhow, claim: readOpenClaim(r, lim) };
}
export function encodeOpen4Args(w: XdrWriter, a: Open4Args): void {
  w.uint32(a.seqid).uint32(a.shareAccess).uint32(a.shareDeny);
  writeStateOwner(w, a.owner);
  writeOpenflag(w, a.openhow);
  writeOpenClaim(w, a.claim);
}
export function encodeOpen4Res(w: XdrWriter, res: Open4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  writeStateid(w, res.stateid);
  writeChangeInfo(w, res.cinfo);
  w.uint32(res.rflags);
  writeBitmap4(w, res.attrset);
  writeDelegation(w, res.delegation);
}
export function decodeOpen4Res(r: XdrReader, lim: Nfs4Limits): Open4Res {
  return readResult(r, (x) => {
    const stateid = readStateid(x);
    const cinfo = readChangeInfo(x);
    const rflags = x.uint32();
    const attrset = readBitmap4(x, lim);
    return { stateid, cinfo, rflags, attrset, delegation: readDelegation(x, lim) };
  });
}

// struct OPEN_CONFIRM4args { stateid4 open_stateid; seqid4 seqid; };  (4.0)
export function decodeOpenConfirm4Args(r: XdrReader): OpenConfirm4Args {
  const openStateid = readStateid(r);
  return { openStateid, seqid: r.uint32() };
}
export function encodeOpenConfirm4Args(w: XdrWriter, a: OpenConfirm4Args): void {
  writeStateid(w, a.openStateid);
  w.uint32(a.seqid);
}

// struct OPEN_DOWNGRADE4args { stateid4 open_stateid; seqid4 seqid; uint32_t share_access; uint32_t share_deny; };
export function decodeOpenDowngrade4Args(r: XdrReader): OpenDowngrade4Args {
  const openStateid = readStateid(r);
  const seqid = r.uint32();
  const shareAccess = r.uint32();
  return { openStateid, seqid, shareAccess, shareDeny: r.uint32() };
}
export function encodeOpenDowngrade4Args(w: XdrWriter, a: OpenDowngrade4Args): void {
  writeStateid(w, a.openStateid);
  w.uint32(a.seqid).uint32(a.shareAccess).uint32(a.shareDeny);
}

// OPEN_CONFIRM4res, OPEN_DOWNGRADE4res, CLOSE4res: NFS4_OK carries the open stateid.
export function encodeOpenStateidRes(w: XdrWriter, res: OpenConfirm4Res | OpenDowngrade4Res | Close4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeStateid(w, res.openStateid);
}
export function decodeOpenStateidRes(r: XdrReader): Close4Res {
  return readResult(r, (x) => ({ openStateid: readStateid(x) }));
}

// struct CLOSE4args { seqid4 seqid; stateid4 open_stateid; };
export function decodeClose4Args(r: XdrReader): Close4Args {
  const seqid = r.uint32();
  return { seqid, openStateid: readStateid(r) };
}
export function encodeClose4Args(w: XdrWriter, a: Close4Args): void {
  w.uint32(a.seqid);
  writeStateid(w, a.openStateid);
}

// union locker4 switch (bool new_lock_owner) { case TRUE: open_to_lock_owner4; case FALSE: exist_lock_owner4; };
// struct LOCK4args { nfs_lock_type4 locktype; bool reclaim; offset4 offset; length4 length; locker4 locker; };
// union LOCK4res switch (nfsstat4 status) { case NFS4_OK: stateid4; case NFS4ERR_DENIED: LOCK4denied; default: void; };
function readLocker(r: XdrReader, lim: Nfs4Limits): Locker4 {
  if (r.bool()) {
    const openSeqid = r.uint32();
    const openStateid = readStateid(r);
    const lockSeqid = r.uint32();
    return { newLockOwner: true, openSeqid, openStateid, lockSeqid, lockOwner: readStateOwner(r, lim) };
  }
  const lockStateid = readStateid(r);
  return { newLockOwner: false, lockStateid, lockSeqid: r.uint32() };
}
export function decodeLock4Args(r: XdrReader, lim: Nfs4Limits): Lock4Args {
  const locktype = readLockType(r);
  const reclaim = r.bool();
  const offset = r.uint64();
  const length = r.uint64();
  return { locktype, reclaim, offset, length, locker: readLocker(r, lim) };
}
export function encodeLock4Args(w: XdrWriter, a: Lock4Args): void {
  w.uint32(a.locktype).bool(a.reclaim).uint64(a.offset).uint64(a.length);
  const l = a.locker;
  w.bool(l.newLockOwner);
  if (l.newLockOwner) {
    w.uint32(l.openSeqid);
    writeStateid(w, l.openStateid);
    w.uint32(l.lockSeqid);
    writeStateOwner(w, l.lockOwner);
  } else {
    writeStateid(w, l.lockStateid);
    w.uint32(l.lockSeqid);
  }
}
// struct LOCK4denied { offset4 offset; length4 length; nfs_lock_type4 locktype; lock_owner4 owner; };
function readDenied(r: XdrReader, lim: Nfs4Limits): Lock4Denied {
  const offset = r.uint64();
  const length = r.uint64();
  const locktype = readLockType(r);
  return { offset, length, locktype, owner: readStateOwner(r, lim) };
}
function writeDenied(w: XdrWriter, d: Lock4Denied): void {
  w.uint64(d.offset).uint64(d.length).uint32(d.locktype);
  writeStateOwner(w, d.owner);
}
/** NFS4ERR_DENIED carries the conflicting lock (LOCK4denied), whatever else failed carries nothing. */
function encodeLockRes(w: XdrWriter, res: Lock4Res | Lockt4Res): void {
  w.uint32(res.status);
  if (res.status === 0 && 'lockStateid' in res) writeStateid(w, res.lockStateid);
  else if (res.status === Nfs4Stat.DENIED) writeDenied(w, res.denied);
}
export function encodeLock4Res(w: XdrWriter, res: Lock4Res): void {
  encodeLockRes(w, res);
}
export function decodeLock4Res(r: XdrReader, lim: Nfs4Limits): Lock4Res {
  const status = readStatus(r);
  if (status === 0) return { status, lockStateid: readStateid(r) };
  if (status === Nfs4Stat.DENIED) return { status, denied: readDenied(r, lim) };
  return { status } as Lock4Res;
}

// struct LOCKT4args { nfs_lock_type4 locktype; offset4 offset; length4 length; lock_owner4 owner; };
// union LOCKT4res switch (nfsstat4 status) { case NFS4ERR_DENIED: LOCK4denied; default: void; };
export function decodeLockt4Args(r: XdrReader, lim: Nfs4Limits): Lockt4Args {
  const locktype = readLockType(r);
  const offset = r.uint64();
  const length = r.uint64();
  return { locktype, offset, length, owner: readStateOwner(r, lim) };
}
export function encodeLockt4Args(w: XdrWriter, a: Lockt4Args): void {
  w.uint32(a.locktype).uint64(a.offset).uint64(a.length);
  writeStateOwner(w, a.owner);
}
export function encodeLockt4Res(w: XdrWriter, res: Lockt4Res): void {
  encodeLockRes(w, res);
}
export function decodeLockt4Res(r: XdrReader, lim: Nfs4Limits): Lockt4Res {
  const status = readStatus(r);
  if (status === Nfs4Stat.DENIED) return { status, denied: readDenied(r, lim) };
  return { status } as Lockt4Res;
}

// struct LOCKU4args { nfs_lock_type4 locktype; seqid4 seqid; stateid4 lock_stateid; offset4 offset; length4 length; };
// union LOCKU4res switch (nfsstat4 status) { case NFS4_OK: stateid4 lock_stateid; default: void; };
export function decodeLocku4Args(r: XdrReader): Locku4Args {
  const locktype = readLockType(r);
  const seqid = r.uint32();
  const lockStateid = readStateid(r);
  const offset = r.uint64();
  return { locktype, seqid, lockStateid, offset, length: r.uint64() };
}
export function encodeLocku4Args(w: XdrWriter, a: Locku4Args): void {
  w.uint32(a.locktype).uint32(a.seqid);
  writeStateid(w, a.lockStateid);
  w.uint64(a.offset).uint64(a.length);
}
export function encodeLocku4Res(w: XdrWriter, res: Locku4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeStateid(w, res.lockStateid);
}
export function decodeLocku4Res(r: XdrReader): Locku4Res {
  return readResult(r, (x) => ({ lockStateid: readStateid(x) }));
}

// struct RELEASE_LOCKOWNER4args { lock_owner4 lock_owner; };  (4.0)
export function decodeReleaseLockowner4Args(r: XdrReader, lim: Nfs4Limits): ReleaseLockowner4Args {
  return { lockOwner: readStateOwner(r, lim) };
}
export function encodeReleaseLockowner4Args(w: XdrWriter, a: ReleaseLockowner4Args): void {
  writeStateOwner(w, a.lockOwner);
}

// struct TEST_STATEID4args { stateid4 ts_stateids<>; };
// struct TEST_STATEID4resok { nfsstat4 tsr_status_codes<>; };
export function decodeTestStateid4Args(r: XdrReader, lim: Nfs4Limits): TestStateid4Args {
  return { stateids: r.array(lim.maxArray, readStateid) };
}
export function encodeTestStateid4Args(w: XdrWriter, a: TestStateid4Args): void {
  writeArray(w, a.stateids, writeStateid);
}
export function encodeTestStateid4Res(w: XdrWriter, res: TestStateid4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeArray(w, res.statusCodes, (x, s) => x.uint32(s));
}
export function decodeTestStateid4Res(r: XdrReader, lim: Nfs4Limits): TestStateid4Res {
  return readResult(r, (x) => ({ statusCodes: x.array(lim.maxArray, readStatus) }));
}

// struct FREE_STATEID4args { stateid4 fsa_stateid; };
export function decodeFreeStateid4Args(r: XdrReader): FreeStateid4Args {
  return { stateid: readStateid(r) };
}
export function encodeFreeStateid4Args(w: XdrWriter, a: FreeStateid4Args): void {
  writeStateid(w, a.stateid);
}
