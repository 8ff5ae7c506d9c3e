import { XdrError, XdrReader, XdrWriter } from '../xdr/index.js';
import { AcceptStat, AuthStat, RejectStat, type AcceptStatName, type AuthStatName } from './errors.js';
import { readOpaqueAuth, writeOpaqueAuth, AUTH_NONE_VERF, MAX_AUTH_BODY, type OpaqueAuth } from './auth.js';

/** RFC 5531 message types and reply statuses. */
export const MsgType = { CALL: 0, REPLY: 1 } as const;
export const ReplyStat = { MSG_ACCEPTED: 0, MSG_DENIED: 1 } as const;
export const RPC_VERSION = 2;

export interface CallHeader {
  xid: number;
  rpcvers: number;
  prog: number;
  vers: number;
  proc: number;
  cred: OpaqueAuth;
  verf: OpaqueAuth;
}

/**
 * A credential or verifier body over 400 bytes (RFC 5531 opaque_auth). Not
 * garbage arguments: the call is denied with AUTH_BADCRED / AUTH_BADVERF.
 */
export class AuthBodyTooLong extends Error {
  constructor(
    readonly which: 'cred' | 'verf',
    readonly rpcvers: number,
  ) {
    super(`${which} body over ${MAX_AUTH_BODY} bytes`);
    this.name = 'AuthBodyTooLong';
  }
}

function readAuth(r: XdrReader, which: 'cred' | 'verf', rpcvers: number): OpaqueAuth {
  const flavor = r.uint32();
  const len = r.uint32();
  if (len > MAX_AUTH_BODY) throw new AuthBodyTooLong(which, rpcvers);
  return { flavor, body: r.fixedOpaque(len) };
}

/**
 * Decode the fixed part of a call (after the xid and msg_type the caller has
 * already read). Leaves the reader at the procedure's arguments.
 */
export function readCallBody(r: XdrReader, xid: number): CallHeader {
  const rpcvers = r.uint32();
  const prog = r.uint32();
  const vers = r.uint32();
  const proc = r.uint32();
  const cred = readAuth(r, 'cred', rpcvers);
  const verf = readAuth(r, 'verf', rpcvers);
  return { xid, rpcvers, prog, vers, proc, cred, verf };
}

export function writeCallHeader(w: XdrWriter, h: Omit<CallHeader, 'rpcvers'>): void {
  w.uint32(h.xid).uint32(MsgType.CALL).uint32(RPC_VERSION).uint32(h.prog).uint32(h.vers).uint32(h.proc);
  writeOpaqueAuth(w, h.cred);
  writeOpaqueAuth(w, h.verf);
}

/** Start an accepted reply; the caller appends the result body on SUCCESS. */
export function writeAcceptedHeader(w: XdrWriter, xid: number, stat: AcceptStatName, verf: OpaqueAuth = AUTH_NONE_VERF): void {
  w.uint32(xid).uint32(MsgType.REPLY).uint32(ReplyStat.MSG_ACCEPTED);
  writeOpaqueAuth(w, verf);
  w.uint32(AcceptStat[stat]);
}

export function encodeProgMismatch(xid: number, low: number, high: number): Buffer {
  const w = new XdrWriter(40);
  writeAcceptedHeader(w, xid, 'PROG_MISMATCH');
  w.uint32(low).uint32(high);
  return w.finish();
}

export function encodeAcceptError(xid: number, stat: Exclude<AcceptStatName, 'SUCCESS' | 'PROG_MISMATCH'>): Buffer {
  const w = new XdrWriter(32);
  writeAcceptedHeader(w, xid, stat);
  return w.finish();
}

export function encodeRpcMismatch(xid: number, low: number, high: number): Buffer {
  const w = new XdrWriter(32);
  w.uint32(xid).uint32(MsgType.REPLY).uint32(ReplyStat.MSG_DENIED).uint32(RejectStat.RPC_MISMATCH);
  w.uint32(low).uint32(high);
  return w.finish();
}

export function encodeAuthError(xid: number, stat: Exclude<AuthStatName, 'AUTH_OK'>): Buffer {
  const w = new XdrWriter(24);
  w.uint32(xid).uint32(MsgType.REPLY).uint32(ReplyStat.MSG_DENIED).uint32(RejectStat.AUTH_ERROR);
  w.uint32(AuthStat[stat]);
  return w.finish();
}

/** A decoded reply, as the client side sees it. */
export type ReplyHeader =
  | { xid: number; kind: 'accepted'; stat: AcceptStatName; verf: OpaqueAuth; mismatch?: { low: number; high: number } }
  | { xid: number; kind: 'rpc_mismatch'; low: number; high: number }
  | { xid: number; kind: 'auth_error'; stat: AuthStatName };

const ACCEPT_NAMES = Object.fromEntries(Object.entries(AcceptStat).map(([k, v]) => [v, k])) as Record<number, AcceptStatName>;
const AUTH_NAMES = Object.fromEntries(Object.entries(AuthStat).map(([k, v]) => [v, k])) as Record<number, AuthStatName>;

/**
 * Decode a reply header (after xid and msg_type); leaves the reader at the result on SUCCESS. A
 * malformed header throws XdrError, like every other decoder (a hostile server sends these).
 */
export function readReplyBody(r: XdrReader, xid: number): ReplyHeader {
  const stat = r.uint32();
  if (stat === ReplyStat.MSG_ACCEPTED) {
    const verf = readOpaqueAuth(r);
    const a = r.uint32();
    const name = ACCEPT_NAMES[a];
    if (name === undefined) throw new XdrError('XDR_BAD_VALUE', `unknown accept_stat ${a}`);
    if (name === 'PROG_MISMATCH') return { xid, kind: 'accepted', stat: name, verf, mismatch: { low: r.uint32(), high: r.uint32() } };
    return { xid, kind: 'accepted', stat: name, verf };
  }
  if (stat === ReplyStat.MSG_DENIED) {
    const rej = r.uint32();
    if (rej === RejectStat.RPC_MISMATCH) return { xid, kind: 'rpc_mismatch', low: r.uint32(), high: r.uint32() };
    if (rej === RejectStat.AUTH_ERROR) {
      const a = r.uint32();
      return { xid, kind: 'auth_error', stat: AUTH_NAMES[a] ?? 'AUTH_FAILED' };
    }
    throw new XdrError('XDR_BAD_VALUE', `unknown reject_stat ${rej}`);
  }
  throw new XdrError('XDR_BAD_VALUE', `unknown reply_stat ${stat}`);
}
