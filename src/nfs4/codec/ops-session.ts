/**
 * Codecs of the client and session operations: EXCHANGE_ID, CREATE_SESSION,
 * DESTROY_SESSION, SEQUENCE, BIND_CONN_TO_SESSION, BACKCHANNEL_CTL,
 * DESTROY_CLIENTID, RECLAIM_COMPLETE, SET_SSV (4.1), and 4.0's SETCLIENTID
 * and SETCLIENTID_CONFIRM (decoded so 4.0 traffic reads; 4.1 servers answer
 * NFS4ERR_NOTSUPP).
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import { Nfs4Stat } from '../constants.js';
import type {
  BackchannelCtl4Args, BindConnToSession4Args, BindConnToSession4Res, CreateSession4Args, CreateSession4Res,
  DestroyClientid4Args, DestroySession4Args, ExchangeId4Args, ExchangeId4Res, ReclaimComplete4Args, Sequence4Args,
  Sequence4Res, SetSsv4Args, SetSsv4Res, Setclientid4Args, Setclientid4Res, SetclientidConfirm4Args,
  StateProtect4A, StateProtect4R, StateProtectOps4,
} from '../types.js';
import {
  readCallbackSecParms, readChannelAttrs, readClientOwner, readImplId, readNetaddr, readOpaqueCopy, readOptional,
  readServerOwner, readSessionid, readVerifier, writeArray, writeCallbackSecParms, writeChannelAttrs,
  writeClientOwner, writeImplId, writeNetaddr, writeOptional, writeServerOwner, writeSessionid, writeVerifier,
} from './basic.js';
import { readBitmap4, writeBitmap4 } from './bitmap.js';
import { badArm, readResult, readStatus } from './common.js';
import type { Nfs4Limits } from './limits.js';

// struct state_protect_ops4 { bitmap4 spo_must_enforce; bitmap4 spo_must_allow; };
function readProtectOps(r: XdrReader, lim: Nfs4Limits): StateProtectOps4 {
  const mustEnforce = readBitmap4(r, lim);
  return { mustEnforce, mustAllow: readBitmap4(r, lim) };
}
function writeProtectOps(w: XdrWriter, o: StateProtectOps4): void {
  writeBitmap4(w, o.mustEnforce);
  writeBitmap4(w, o.mustAllow);
}

const readOpaques = (r: XdrReader, lim: Nfs4Limits): Buffer[] => r.array(lim.maxArray, (x) => readOpaqueCopy(x, lim.maxOpaque));
const writeOpaques = (w: XdrWriter, list: Buffer[]): void => writeArray(w, list, (x, b) => x.opaque(b));

// union state_protect4_a switch (state_protect_how4 spa_how) { case SP4_NONE: void;
//   case SP4_MACH_CRED: state_protect_ops4; case SP4_SSV: ssv_sp_parms4; };
// struct ssv_sp_parms4 { state_protect_ops4 ssp_ops; sec_oid4 ssp_hash_algs<>; sec_oid4 ssp_encr_algs<>;
//   uint32_t ssp_window; uint32_t ssp_num_gss_handles; };
function readProtectA(r: XdrReader, lim: Nfs4Limits): StateProtect4A {
  const how = r.uint32();
  if (how === 0) return { how };
  if (how === 1) return { how, machOps: readProtectOps(r, lim) };
  if (how !== 2) return badArm('state_protect_how4', how);
  const ops = readProtectOps(r, lim);
  const hashAlgs = readOpaques(r, lim);
  const encrAlgs = readOpaques(r, lim);
  const window = r.uint32();
  return { how, ssvParms: { ops, hashAlgs, encrAlgs, window, numGssHandles: r.uint32() } };
}
function writeProtectA(w: XdrWriter, p: StateProtect4A): void {
  w.uint32(p.how);
  if (p.how === 1) writeProtectOps(w, p.machOps);
  else if (p.how === 2) {
    const s = p.ssvParms;
    writeProtectOps(w, s.ops);
    writeOpaques(w, s.hashAlgs);
    writeOpaques(w, s.encrAlgs);
    w.uint32(s.window).uint32(s.numGssHandles);
  }
}

// union state_protect4_r switch (state_protect_how4 spr_how) { case SP4_NONE: void;
//   case SP4_MACH_CRED: state_protect_ops4; case SP4_SSV: ssv_prot_info4; };
// struct ssv_prot_info4 { state_protect_ops4 spi_ops; uint32_t spi_hash_alg; uint32_t spi_encr_alg;
//   uint32_t spi_ssv_len; uint32_t spi_window; gsshandle4_t spi_handles<>; };
function readProtectR(r: XdrReader, lim: Nfs4Limits): StateProtect4R {
  const how = r.uint32();
  if (how === 0) return { how };
  if (how === 1) return { how, machOps: readProtectOps(r, lim) };
  if (how !== 2) return badArm('state_protect_how4', how);
  const ops = readProtectOps(r, lim);
  const hashAlg = r.uint32();
  const encrAlg = r.uint32();
  const ssvLen = r.uint32();
  const window = r.uint32();
  return { how, ssvInfo: { ops, hashAlg, encrAlg, ssvLen, window, handles: readOpaques(r, lim) } };
}
function writeProtectR(w: XdrWriter, p: StateProtect4R): void {
  w.uint32(p.how);
  if (p.how === 1) writeProtectOps(w, p.machOps);
  else if (p.how === 2) {
    const s = p.ssvInfo;
    writeProtectOps(w, s.ops);
    w.uint32(s.hashAlg).uint32(s.encrAlg).uint32(s.ssvLen).uint32(s.window);
    writeOpaques(w, s.handles);
  }
}

// struct EXCHANGE_ID4args { client_owner4 eia_clientowner; uint32_t eia_flags;
//   state_protect4_a eia_state_protect; nfs_impl_id4 eia_client_impl_id<1>; };
// struct EXCHANGE_ID4resok { clientid4 eir_clientid; sequenceid4 eir_sequenceid; uint32_t eir_flags;
//   state_protect4_r eir_state_protect; server_owner4 eir_server_owner;
//   opaque eir_server_scope<NFS4_OPAQUE_LIMIT>; nfs_impl_id4 eir_server_impl_id<1>; };
export function decodeExchangeId4Args(r: XdrReader, lim: Nfs4Limits): ExchangeId4Args {
  const clientowner = readClientOwner(r, lim);
  const flags = r.uint32();
  const stateProtect = readProtectA(r, lim);
  const clientImplId = readOptional(r, (x) => readImplId(x, lim));
  const a: ExchangeId4Args = { clientowner, flags, stateProtect };
  if (clientImplId !== undefined) a.clientImplId = clientImplId;
  return a;
}
export function encodeExchangeId4Args(w: XdrWriter, a: ExchangeId4Args): void {
  writeClientOwner(w, a.clientowner);
  w.uint32(a.flags);
  writeProtectA(w, a.stateProtect);
  writeOptional(w, a.clientImplId, writeImplId);
}
export function encodeExchangeId4Res(w: XdrWriter, res: ExchangeId4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  w.uint64(res.clientid).uint32(res.sequenceid).uint32(res.flags);
  writeProtectR(w, res.stateProtect);
  writeServerOwner(w, res.serverOwner);
  w.opaque(res.serverScope);
  writeOptional(w, res.serverImplId, writeImplId);
}
export function decodeExchangeId4Res(r: XdrReader, lim: Nfs4Limits): ExchangeId4Res {
  return readResult(r, (x) => {
    const clientid = x.uint64();
    const sequenceid = x.uint32();
    const flags = x.uint32();
    const stateProtect = readProtectR(x, lim);
    const serverOwner = readServerOwner(x, lim);
    const serverScope = readOpaqueCopy(x, lim.maxOwner);
    const serverImplId = readOptional(x, (y) => readImplId(y, lim));
    const ok = { clientid, sequenceid, flags, stateProtect, serverOwner, serverScope };
    return serverImplId === undefined ? ok : { ...ok, serverImplId };
  });
}

// struct CREATE_SESSION4args { clientid4 csa_clientid; sequenceid4 csa_sequence; uint32_t csa_flags;
//   channel_attrs4 csa_fore_chan_attrs; channel_attrs4 csa_back_chan_attrs; uint32_t csa_cb_program;
//   callback_sec_parms4 csa_sec_parms<>; };
// struct CREATE_SESSION4resok { sessionid4 csr_sessionid; sequenceid4 csr_sequence; uint32_t csr_flags;
//   channel_attrs4 csr_fore_chan_attrs; channel_attrs4 csr_back_chan_attrs; };
export function decodeCreateSession4Args(r: XdrReader, lim: Nfs4Limits): CreateSession4Args {
  const clientid = r.uint64();
  const sequence = r.uint32();
  const flags = r.uint32();
  const foreChanAttrs = readChannelAttrs(r);
  const backChanAttrs = readChannelAttrs(r);
  const cbProgram = r.uint32();
  const secParms = r.array(lim.maxArray, (x) => readCallbackSecParms(x, lim));
  return { clientid, sequence, flags, foreChanAttrs, backChanAttrs, cbProgram, secParms };
}
export function encodeCreateSession4Args(w: XdrWriter, a: CreateSession4Args): void {
  w.uint64(a.clientid).uint32(a.sequence).uint32(a.flags);
  writeChannelAttrs(w, a.foreChanAttrs);
  writeChannelAttrs(w, a.backChanAttrs);
  w.uint32(a.cbProgram);
  writeArray(w, a.secParms, writeCallbackSecParms);
}
export function encodeCreateSession4Res(w: XdrWriter, res: CreateSession4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  writeSessionid(w, res.sessionid);
  w.uint32(res.sequence).uint32(res.flags);
  writeChannelAttrs(w, res.foreChanAttrs);
  writeChannelAttrs(w, res.backChanAttrs);
}
export function decodeCreateSession4Res(r: XdrReader): CreateSession4Res {
  return readResult(r, (x) => {
    const sessionid = readSessionid(x);
    const sequence = x.uint32();
    const flags = x.uint32();
    const foreChanAttrs = readChannelAttrs(x);
    return { sessionid, sequence, flags, foreChanAttrs, backChanAttrs: readChannelAttrs(x) };
  });
}

// struct DESTROY_SESSION4args { sessionid4 dsa_sessionid; };
export function decodeDestroySession4Args(r: XdrReader): DestroySession4Args {
  return { sessionid: readSessionid(r) };
}
export function encodeDestroySession4Args(w: XdrWriter, a: DestroySession4Args): void {
  writeSessionid(w, a.sessionid);
}

// struct SEQUENCE4args { sessionid4 sa_sessionid; sequenceid4 sa_sequenceid; slotid4 sa_slotid;
//   slotid4 sa_highest_slotid; bool sa_cachethis; };
// struct SEQUENCE4resok { sessionid4 sr_sessionid; sequenceid4 sr_sequenceid; slotid4 sr_slotid;
//   slotid4 sr_highest_slotid; slotid4 sr_target_highest_slotid; uint32_t sr_status_flags; };
export function decodeSequence4Args(r: XdrReader): Sequence4Args {
  const sessionid = readSessionid(r);
  const sequenceid = r.uint32();
  const slotid = r.uint32();
  const highestSlotid = r.uint32();
  return { sessionid, sequenceid, slotid, highestSlotid, cachethis: r.bool() };
}
export function encodeSequence4Args(w: XdrWriter, a: Sequence4Args): void {
  writeSessionid(w, a.sessionid);
  w.uint32(a.sequenceid).uint32(a.slotid).uint32(a.highestSlotid).bool(a.cachethis);
}
export function encodeSequence4Res(w: XdrWriter, res: Sequence4Res): void {
  w.uint32(res.status);
  if (res.status !== 0) return;
  writeSessionid(w, res.sessionid);
  w.uint32(res.sequenceid).uint32(res.slotid).uint32(res.highestSlotid).uint32(res.targetHighestSlotid);
  w.uint32(res.statusFlags);
}
export function decodeSequence4Res(r: XdrReader): Sequence4Res {
  return readResult(r, (x) => {
    const sessionid = readSessionid(x);
    const sequenceid = x.uint32();
    const slotid = x.uint32();
    const highestSlotid = x.uint32();
    const targetHighestSlotid = x.uint32();
    return { sessionid, sequenceid, slotid, highestSlotid, targetHighestSlotid, statusFlags: x.uint32() };
  });
}

// struct BIND_CONN_TO_SESSION4args { sessionid4 bctsa_sessid; channel_dir_from_client4 bctsa_dir;
//   bool bctsa_use_conn_in_rdma_mode; };  (the resok has the same shape, from the server)
function readBind(r: XdrReader): BindConnToSession4Args {
  const sessid = readSessionid(r);
  const dir = r.uint32();
  return { sessid, dir, useConnInRdmaMode: r.bool() };
}
function writeBind(w: XdrWriter, a: BindConnToSession4Args): void {
  writeSessionid(w, a.sessid);
  w.uint32(a.dir).bool(a.useConnInRdmaMode);
}
export const decodeBindConnToSession4Args = readBind;
export const encodeBindConnToSession4Args = writeBind;
export function encodeBindConnToSession4Res(w: XdrWriter, res: BindConnToSession4Res): void {
  w.uint32(res.status);
  if (res.status === 0) writeBind(w, res);
}
export function decodeBindConnToSession4Res(r: XdrReader): BindConnToSession4Res {
  return readResult(r, readBind);
}

// struct BACKCHANNEL_CTL4args { uint32_t bca_cb_program; callback_sec_parms4 bca_sec_parms<>; };
export function decodeBackchannelCtl4Args(r: XdrReader, lim: Nfs4Limits): BackchannelCtl4Args {
  const cbProgram = r.uint32();
  return { cbProgram, secParms: r.array(lim.maxArray, (x) => readCallbackSecParms(x, lim)) };
}
export function encodeBackchannelCtl4Args(w: XdrWriter, a: BackchannelCtl4Args): void {
  w.uint32(a.cbProgram);
  writeArray(w, a.secParms, writeCallbackSecParms);
}

// struct DESTROY_CLIENTID4args { clientid4 dca_clientid; };
export function decodeDestroyClientid4Args(r: XdrReader): DestroyClientid4Args {
  return { clientid: r.uint64() };
}
export function encodeDestroyClientid4Args(w: XdrWriter, a: DestroyClientid4Args): void {
  w.uint64(a.clientid);
}

// struct RECLAIM_COMPLETE4args { bool rca_one_fs; };
export function decodeReclaimComplete4Args(r: XdrReader): ReclaimComplete4Args {
  return { oneFs: r.bool() };
}
export function encodeReclaimComplete4Args(w: XdrWriter, a: ReclaimComplete4Args): void {
  w.bool(a.oneFs);
}

// struct SET_SSV4args { opaque ssa_ssv<>; opaque ssa_digest<>; };  struct SET_SSV4resok { opaque ssr_digest<>; };
export function decodeSetSsv4Args(r: XdrReader, lim: Nfs4Limits): SetSsv4Args {
  const ssv = readOpaqueCopy(r, lim.maxOpaque);
  return { ssv, digest: readOpaqueCopy(r, lim.maxOpaque) };
}
export function encodeSetSsv4Args(w: XdrWriter, a: SetSsv4Args): void {
  w.opaque(a.ssv).opaque(a.digest);
}
export function encodeSetSsv4Res(w: XdrWriter, res: SetSsv4Res): void {
  w.uint32(res.status);
  if (res.status === 0) w.opaque(res.digest);
}
export function decodeSetSsv4Res(r: XdrReader, lim: Nfs4Limits): SetSsv4Res {
  return readResult(r, (x) => ({ digest: readOpaqueCopy(x, lim.maxOpaque) }));
}

// struct SETCLIENTID4args { nfs_client_id4 client; cb_client4 callback; uint32_t callback_ident; };  (4.0)
// union SETCLIENTID4res switch (nfsstat4 status) { case NFS4_OK: SETCLIENTID4resok;
//   case NFS4ERR_CLID_INUSE: clientaddr4 client_using; default: void; };
export function decodeSetclientid4Args(r: XdrReader, lim: Nfs4Limits): Setclientid4Args {
  const verifier = readVerifier(r);
  const id = readOpaqueCopy(r, lim.maxOwner);
  const program = r.uint32();
  const location = readNetaddr(r, lim);
  return { client: { verifier, id }, callback: { program, location }, callbackIdent: r.uint32() };
}
export function encodeSetclientid4Args(w: XdrWriter, a: Setclientid4Args): void {
  writeVerifier(w, a.client.verifier);
  w.opaque(a.client.id).uint32(a.callback.program);
  writeNetaddr(w, a.callback.location);
  w.uint32(a.callbackIdent);
}
export function encodeSetclientid4Res(w: XdrWriter, res: Setclientid4Res): void {
  w.uint32(res.status);
  if (res.status === 0) {
    w.uint64(res.clientid);
    writeVerifier(w, res.setclientidConfirm);
  } else if (res.status === Nfs4Stat.CLID_INUSE) writeNetaddr(w, res.clientUsing);
}
export function decodeSetclientid4Res(r: XdrReader, lim: Nfs4Limits): Setclientid4Res {
  const status = readStatus(r);
  if (status === 0) {
    const clientid = r.uint64();
    return { status, clientid, setclientidConfirm: readVerifier(r) };
  }
  if (status === Nfs4Stat.CLID_INUSE) return { status, clientUsing: readNetaddr(r, lim) };
  return { status } as Setclientid4Res;
}

// struct SETCLIENTID_CONFIRM4args { clientid4 clientid; verifier4 setclientid_confirm; };  (4.0)
export function decodeSetclientidConfirm4Args(r: XdrReader): SetclientidConfirm4Args {
  const clientid = r.uint64();
  return { clientid, setclientidConfirm: readVerifier(r) };
}
export function encodeSetclientidConfirm4Args(w: XdrWriter, a: SetclientidConfirm4Args): void {
  w.uint64(a.clientid);
  writeVerifier(w, a.setclientidConfirm);
}
