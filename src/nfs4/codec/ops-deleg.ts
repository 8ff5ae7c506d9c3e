/**
 * Codecs of delegations: open_delegation4 (in OPEN's result), and the
 * WANT_DELEGATION and GET_DIR_DELEGATION operations, decoded so that a
 * server can answer them (it grants none: OPEN_DELEGATE_NONE[_EXT]).
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import type {
  DelegClaim4, GetDirDelegation4Args, GetDirDelegation4Res, Nfsace4, OpenDelegation4, SpaceLimit4, WantDelegation4Args,
  WantDelegation4Res,
} from '../types.js';
import { readNfstime, readStateid, readUtf8, readVerifier, writeNfstime, writeStateid, writeVerifier } from './basic.js';
import { readBitmap4, writeBitmap4 } from './bitmap.js';
import { badArm, readResult } from './common.js';
import type { Nfs4Limits } from './limits.js';

// struct nfsace4 { acetype4 type; aceflag4 flag; acemask4 access_mask; utf8str_mixed who; };
function readAce(r: XdrReader, lim: Nfs4Limits): Nfsace4 {
  const type = r.uint32();
  const flag = r.uint32();
  const accessMask = r.uint32();
  return { type, flag, accessMask, who: readUtf8(r, lim.maxOwner) };
}
function writeAce(w: XdrWriter, a: Nfsace4): void {
  w.uint32(a.type).uint32(a.flag).uint32(a.accessMask).string(a.who);
}

// union nfs_space_limit4 switch (limit_by4 limitby) { case NFS_LIMIT_SIZE: uint64_t filesize;
//   case NFS_LIMIT_BLOCKS: nfs_modified_limit4 mod_blocks; };
function readSpaceLimit(r: XdrReader): SpaceLimit4 {
  const limitBy = r.uint32();
  if (limitBy === 1) return { limitBy, filesize: r.uint64() };
  if (limitBy !== 2) return badArm('limit_by4', limitBy);
  const numBlocks = r.uint32();
  return { limitBy, numBlocks, bytesPerBlock: r.uint32() };
}

// union open_delegation4 switch (open_delegation_type4 delegation_type) { case OPEN_DELEGATE_NONE: void;
//   case OPEN_DELEGATE_READ: open_read_delegation4; case OPEN_DELEGATE_WRITE: open_write_delegation4;
//   case OPEN_DELEGATE_NONE_EXT: open_none_delegation4; };
export function readDelegation(r: XdrReader, lim: Nfs4Limits): OpenDelegation4 {
  const type = r.uint32();
  if (type === 0) return { type };
  if (type === 1 || type === 2) {
    const stateid = readStateid(r);
    const recall = r.bool();
    if (type === 1) return { type, read: { stateid, recall, permissions: readAce(r, lim) } };
    const spaceLimit = readSpaceLimit(r);
    return { type, write: { stateid, recall, spaceLimit, permissions: readAce(r, lim) } };
  }
  if (type !== 3) return badArm('open_delegation_type4', type);
  const why = r.uint32();
  if (why === 1 || why === 2) return { type, whynone: { why, flag: r.bool() } };
  return { type, whynone: { why: why as 0 } };
}
export function writeDelegation(w: XdrWriter, d: OpenDelegation4): void {
  w.uint32(d.type);
  if (d.type === 1 || d.type === 2) {
    const g = d.type === 1 ? d.read : d.write;
    writeStateid(w, g.stateid);
    w.bool(g.recall);
    if (d.type === 2) {
      const l = d.write.spaceLimit;
      w.uint32(l.limitBy);
      if (l.limitBy === 1) w.uint64(l.filesize);
      else w.uint32(l.numBlocks).uint32(l.bytesPerBlock);
    }
    writeAce(w, g.permissions);
  } else if (d.type === 3) {
    w.uint32(d.whynone.why);
    if ('flag' in d.whynone) w.bool(d.whynone.flag);
  }
}

// union deleg_claim4 switch (open_claim_type4 dc_claim) { case CLAIM_FH: void; case CLAIM_DELEG_PREV_FH: void;
//   case CLAIM_PREVIOUS: open_delegation_type4 dc_delegate_type; };
// struct WANT_DELEGATION4args { uint32_t wda_want; deleg_claim4 wda_claim; };
// union WANT_DELEGATION4res switch (nfsstat4 wdr_status) { case NFS4_OK: open_delegation4; default: void; };
export function decodeWantDelegation4Args(r: XdrReader): WantDelegation4Args {
  const want = r.uint32();
  const claim = r.uint32();
  let c: DelegClaim4;
  if (claim === 4 || claim === 6) c = { claim };
  else if (claim === 1) c = { claim, delegateType: r.uint32() };
  else return badArm('deleg_claim4', claim);
  return { want, claim: c };
}
export function encodeWantDelegation4Args(w: XdrWriter, a: WantDelegation4Args): void {
  w.uint32(a.want).uint32(a.claim.claim);
  if (a.claim.claim === 1) w.uint32(a.claim.delegateType);
}
export function encodeWantDelegation4Res(w: XdrWriter, res: WantDelegation4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeDelegation(w, res.delegation);
}
export function decodeWantDelegation4Res(r: XdrReader, lim: Nfs4Limits): WantDelegation4Res {
  return readResult(r, (x) => ({ delegation: readDelegation(x, lim) }));
}

// struct GET_DIR_DELEGATION4args { bool gdda_signal_deleg_avail; bitmap4 gdda_notification_types;
//   attr_notice4 gdda_child_attr_delay; attr_notice4 gdda_dir_attr_delay; bitmap4 gdda_child_attributes;
//   bitmap4 gdda_dir_attributes; };
// union GET_DIR_DELEGATION4res_non_fatal switch (gddrnf4_status) { case GDD4_OK: GET_DIR_DELEGATION4resok;
//   case GDD4_UNAVAIL: bool gddrnf_will_signal_deleg_avail; };
export function decodeGetDirDelegation4Args(r: XdrReader, lim: Nfs4Limits): GetDirDelegation4Args {
  const signalDelegAvail = r.bool();
  const notificationTypes = readBitmap4(r, lim);
  const childAttrDelay = readNfstime(r, true);
  const dirAttrDelay = readNfstime(r, true);
  const childAttributes = readBitmap4(r, lim);
  return { signalDelegAvail, notificationTypes, childAttrDelay, dirAttrDelay, childAttributes, dirAttributes: readBitmap4(r, lim) };
}
export function encodeGetDirDelegation4Args(w: XdrWriter, a: GetDirDelegation4Args): void {
  w.bool(a.signalDelegAvail);
  writeBitmap4(w, a.notificationTypes);
  writeNfstime(w, a.childAttrDelay);
  writeNfstime(w, a.dirAttrDelay);
  writeBitmap4(w, a.childAttributes);
  writeBitmap4(w, a.dirAttributes);
}
export function encodeGetDirDelegation4Res(w: XdrWriter, res: GetDirDelegation4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  const n = res.nonFatal;
  w.uint32(n.gdd);
  if (n.gdd === 1) {
    w.bool(n.willSignalDelegAvail);
    return;
  }
  writeVerifier(w, n.cookieverf);
  writeStateid(w, n.stateid);
  writeBitmap4(w, n.notification);
  writeBitmap4(w, n.childAttributes);
  writeBitmap4(w, n.dirAttributes);
}
export function decodeGetDirDelegation4Res(r: XdrReader, lim: Nfs4Limits): GetDirDelegation4Res {
  return readResult(r, (x) => {
    const gdd = x.uint32();
    if (gdd === 1) return { nonFatal: { gdd, willSignalDelegAvail: x.bool() } };
    if (gdd !== 0) return badArm('gddrnf4_status', gdd);
    const cookieverf = readVerifier(x);
    const stateid = readStateid(x);
    const notification = readBitmap4(x, lim);
    const childAttributes = readBitmap4(x, lim);
    return { nonFatal: { gdd, cookieverf, stateid, notification, childAttributes, dirAttributes: readBitmap4(x, lim) } };
  });
}
