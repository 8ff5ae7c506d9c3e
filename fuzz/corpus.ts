/**
 * The fuzz corpus: real messages, one per line, in text files under fuzz/corpus/:
 *
 *   <kind> <prog> <vers> <proc> <hex>        kind: call | reply | channel
 *
 * `call` and `reply` lines are whole RPC records (without the record mark); a reply carries the
 * program, version and procedure of the call it answers. `channel` lines are LOCALIO channel
 * messages (prog/vers/proc 0). `#` starts a comment. fuzz/capture.ts writes captured.txt and
 * libnfs.txt from traffic through a recording proxy; channel.txt is encoded by it too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XdrReader } from '../src/xdr/index.js';
import { MsgType, readCallBody, readReplyBody } from '../src/rpc/message.js';

export type CorpusKind = 'call' | 'reply' | 'channel';

export interface CorpusEntry {
  kind: CorpusKind;
  prog: number;
  vers: number;
  proc: number;
  bytes: Buffer;
}

/** fuzz/corpus/ in the checkout (this file runs from dist/fuzz/). */
export const CORPUS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fuzz/corpus');

export function formatEntry(e: CorpusEntry): string {
  return `${e.kind} ${e.prog} ${e.vers} ${e.proc} ${e.bytes.toString('hex')}`;
}

export function parseCorpus(text: string, source = 'corpus'): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [kind, prog, vers, proc, hex] = line.split(/\s+/);
    if ((kind !== 'call' && kind !== 'reply' && kind !== 'channel') || hex === undefined || !/^([0-9a-f]{2})*$/.test(hex)) {
      throw new Error(`${source}:${i + 1}: not a corpus line`);
    }
    out.push({ kind, prog: Number(prog), vers: Number(vers), proc: Number(proc), bytes: Buffer.from(hex, 'hex') });
  });
  return out;
}

let cached: CorpusEntry[] | undefined;

/** Every entry of every file in fuzz/corpus/. */
export function loadCorpus(dir = CORPUS_DIR): CorpusEntry[] {
  if (cached && dir === CORPUS_DIR) return cached;
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort() : [];
  const all = files.flatMap((f) => parseCorpus(fs.readFileSync(path.join(dir, f), 'utf8'), f));
  if (dir === CORPUS_DIR) cached = all;
  return all;
}

/** Where a call record's arguments start (after the call header), or -1 if it does not parse. */
export function argsOffset(record: Buffer): number {
  try {
    const r = new XdrReader(record);
    const xid = r.uint32();
    if (r.uint32() !== MsgType.CALL) return -1;
    readCallBody(r, xid);
    return r.offset;
  } catch {
    return -1;
  }
}

/** Where an accepted SUCCESS reply's results start, or -1. */
export function resultsOffset(record: Buffer): number {
  try {
    const r = new XdrReader(record);
    const xid = r.uint32();
    if (r.uint32() !== MsgType.REPLY) return -1;
    const h = readReplyBody(r, xid);
    return h.kind === 'accepted' && h.stat === 'SUCCESS' ? r.offset : -1;
  } catch {
    return -1;
  }
}

function unique(bufs: Buffer[]): Buffer[] {
  const seen = new Set<string>();
  return bufs.filter((b) => {
    const k = b.toString('hex');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function matches(e: CorpusEntry, kind: CorpusKind, prog: number, vers: number | readonly number[], proc: number): boolean {
  const vs = typeof vers === 'number' ? [vers] : vers;
  return e.kind === kind && e.prog === prog && vs.includes(e.vers) && e.proc === proc;
}

/** The argument bytes of every captured call of (prog, vers, proc). */
export function argsOf(c: readonly CorpusEntry[], prog: number, vers: number | readonly number[], proc: number): Buffer[] {
  return unique(
    c.filter((e) => matches(e, 'call', prog, vers, proc)).flatMap((e) => {
      const at = argsOffset(e.bytes);
      return at < 0 ? [] : [e.bytes.subarray(at)];
    }),
  );
}

/** The result bytes of every captured SUCCESS reply to (prog, vers, proc). */
export function resultsOf(c: readonly CorpusEntry[], prog: number, vers: number | readonly number[], proc: number): Buffer[] {
  return unique(
    c.filter((e) => matches(e, 'reply', prog, vers, proc)).flatMap((e) => {
      const at = resultsOffset(e.bytes);
      return at < 0 ? [] : [e.bytes.subarray(at)];
    }),
  );
}

export function recordsOf(c: readonly CorpusEntry[], kind: CorpusKind): Buffer[] {
  return unique(c.filter((e) => e.kind === kind).map((e) => e.bytes));
}
