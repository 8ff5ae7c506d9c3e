/**
 * Messages on a cross-process LOCALIO channel (a Unix SEQPACKET socket: one
 * message per packet, a passed descriptor rides with the message it
 * belongs to). JSON, because these are rare control messages — an open per
 * file, not per I/O — and every field is checked and bounded on decode.
 *
 *   server → client  hello       {instance, pid}          first, on connect
 *   client → server  welcome     {}                       the binding is complete
 *   client → server  open        {id, fh, cred, mode}
 *   server → client  opened      {id, exportId} + fd  |  error {id, code, message}
 *   client → server  release     {id}                     the client closed that descriptor
 *   server → client  invalidate  {seq, exportId?, reason}
 *   client → server  invalidated {seq}                    its descriptors are closed
 *   client → server  stats       {local, wire, fallbacks} its counters (for status and metrics), when changed
 */
import type { ClientReport, IoCounts, LocalCred, LocalMode } from './types.js';

export const CHANNEL_VERSION = 1;
export const MAX_MESSAGE = 16 * 1024;
const MAX_FH = 64;
const MAX_GIDS = 16;
const MAX_TEXT = 512;

export type ChannelMsg =
  | { t: 'hello'; v: number; instance: string; pid: number }
  | { t: 'welcome'; v: number }
  | { t: 'open'; id: number; fh: Buffer; cred: LocalCred; mode: LocalMode }
  | { t: 'opened'; id: number; exportId: number }
  | { t: 'error'; id: number; code: string; message: string }
  | { t: 'release'; id: number }
  | { t: 'invalidate'; seq: number; exportId?: number; reason: string }
  | { t: 'invalidated'; seq: number }
  | ({ t: 'stats' } & ClientReport);

export class ChannelProtocolError extends Error {
  readonly code = 'ELOCALIOPROTO';
  constructor(message: string) {
    super(`LOCALIO channel: ${message}`);
    this.name = 'ChannelProtocolError';
  }
}

export function encodeMsg(m: ChannelMsg): Buffer {
  const wire = m.t === 'open' ? { ...m, fh: m.fh.toString('base64') } : m;
  const b = Buffer.from(JSON.stringify(wire));
  if (b.length > MAX_MESSAGE) throw new ChannelProtocolError(`message too long (${b.length} bytes)`);
  return b;
}

function u32value(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ChannelProtocolError(`bad ${what}`);
  return v;
}

function u32(o: Record<string, unknown>, k: string): number {
  return u32value(o[k], k);
}

/** A byte or operation count: a non-negative safe integer. */
function count(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ChannelProtocolError(`bad ${k}`);
  return v;
}

function io(o: Record<string, unknown>, k: string): IoCounts {
  const v = o[k];
  if (typeof v !== 'object' || v === null) throw new ChannelProtocolError(`bad ${k}`);
  const r = v as Record<string, unknown>;
  return { reads: count(r, 'reads'), writes: count(r, 'writes'), commits: count(r, 'commits'), bytesRead: count(r, 'bytesRead'), bytesWritten: count(r, 'bytesWritten') };
}

function text(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > MAX_TEXT) throw new ChannelProtocolError(`bad ${k}`);
  return v;
}

export function decodeMsg(data: Buffer): ChannelMsg {
  if (data.length > MAX_MESSAGE) throw new ChannelProtocolError('message too long');
  let o: unknown;
  try {
    o = JSON.parse(data.toString('utf8'));
  } catch {
    throw new ChannelProtocolError('not JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new ChannelProtocolError('not an object');
  const r = o as Record<string, unknown>;
  switch (r.t) {
    case 'hello':
      return { t: 'hello', v: u32(r, 'v'), instance: text(r, 'instance'), pid: u32(r, 'pid') };
    case 'welcome':
      return { t: 'welcome', v: u32(r, 'v') };
    case 'open': {
      const fh = Buffer.from(text(r, 'fh'), 'base64');
      if (fh.length === 0 || fh.length > MAX_FH) throw new ChannelProtocolError('bad fh');
      const c = r.cred;
      if (typeof c !== 'object' || c === null) throw new ChannelProtocolError('bad cred');
      const cr = c as Record<string, unknown>;
      const gids = cr.gids;
      if (!Array.isArray(gids) || gids.length > MAX_GIDS) throw new ChannelProtocolError('bad gids');
      const cred: LocalCred = { uid: u32(cr, 'uid'), gid: u32(cr, 'gid'), gids: gids.map((g) => u32value(g, 'gid')) };
      if (r.mode !== 'r' && r.mode !== 'rw') throw new ChannelProtocolError('bad mode');
      return { t: 'open', id: u32(r, 'id'), fh, cred, mode: r.mode };
    }
    case 'opened':
      return { t: 'opened', id: u32(r, 'id'), exportId: u32(r, 'exportId') };
    case 'error':
      return { t: 'error', id: u32(r, 'id'), code: text(r, 'code'), message: text(r, 'message') };
    case 'release':
      return { t: 'release', id: u32(r, 'id') };
    case 'invalidate':
      return { t: 'invalidate', seq: u32(r, 'seq'), exportId: r.exportId === undefined ? undefined : u32(r, 'exportId'), reason: text(r, 'reason') };
    case 'invalidated':
      return { t: 'invalidated', seq: u32(r, 'seq') };
    case 'stats':
      return { t: 'stats', local: io(r, 'local'), wire: io(r, 'wire'), fallbacks: count(r, 'fallbacks') };
    default:
      throw new ChannelProtocolError('unknown message type');
  }
}
