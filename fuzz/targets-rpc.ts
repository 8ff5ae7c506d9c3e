/**
 * Targets of the RPC layer as the server meets it: record marking (the server's RecordReader, with
 * its pool and payload locator), the call header and credentials through to the procedure's
 * decoder (what Connection.dispatch does before a handler runs), AUTH_SYS bodies, and reply
 * headers (what every client parses first).
 */
import { XdrReader, XdrError } from '../src/xdr/index.js';
import { RecordReader, LAST_FRAGMENT } from '../src/rpc/record.js';
import { RpcServer } from '../src/rpc/server.js';
import { RpcTransportError } from '../src/rpc/errors.js';
import { AuthBodyTooLong, MsgType, RPC_VERSION, readCallBody, readReplyBody } from '../src/rpc/message.js';
import { AuthFlavor, decodeAuthSys } from '../src/rpc/auth.js';
import type { RpcProgram } from '../src/rpc/program.js';
import { argsOffset, recordsOf, type CorpusEntry } from './corpus.js';
import { InvariantError, checkHeldMemory, checkShape } from './guard.js';
import { decoderTarget, isXdrError, type Target } from './target.js';
import { serverPrograms } from './targets-programs.js';
import { INTERESTING32 } from './mutate.js';
import type { Rng } from './prng.js';

/** The call as far as the server decodes it before a handler runs (src/rpc/server.ts Connection.dispatch). */
export function callTarget(corpus: readonly CorpusEntry[], programs: RpcProgram[]): Target {
  const byNumber = new Map(programs.map((p) => [p.number, p]));
  return {
    name: 'rpc.call',
    seeds: recordsOf(corpus, 'call'),
    maxLen: 8192,
    expected: (e) => e instanceof XdrError || e instanceof AuthBodyTooLong,
    run(input) {
      if (input.length < 8) return 'rejected';
      const r = new XdrReader(input);
      const xid = r.uint32();
      if (r.uint32() !== MsgType.CALL) return 'rejected';
      const h = readCallBody(r, xid);
      if (h.rpcvers !== RPC_VERSION) return 'rejected';
      if (h.cred.flavor !== AuthFlavor.NONE && h.cred.flavor !== AuthFlavor.SYS) return 'rejected';
      if (h.verf.flavor !== AuthFlavor.NONE || h.verf.body.length !== 0) return 'rejected';
      if (h.cred.flavor === AuthFlavor.SYS) checkShape(decodeAuthSys(h.cred.body), input);
      const proc = byNumber.get(h.prog)?.versions.get(h.vers)?.[h.proc];
      if (!proc) return 'rejected';
      const args = proc.decode(r);
      checkShape(args, input, r.offset);
      return 'ok';
    },
  };
}

export function authSysTarget(corpus: readonly CorpusEntry[]): Target {
  const bodies = recordsOf(corpus, 'call').flatMap((rec) => {
    const r = new XdrReader(rec);
    try {
      const xid = r.uint32();
      r.uint32();
      const h = readCallBody(r, xid);
      return h.cred.flavor === AuthFlavor.SYS ? [Buffer.from(h.cred.body)] : [];
    } catch {
      return [];
    }
  });
  const seeds = [...new Map(bodies.map((b) => [b.toString('hex'), b])).values()];
  return {
    ...decoderTarget('rpc.authsys', seeds, () => undefined),
    maxLen: 512,
    run(input) {
      checkShape(decodeAuthSys(input), input);
      return 'ok';
    },
  };
}

/** A reply record as a client parses it: xid, REPLY, then readReplyBody. */
export function replyTarget(corpus: readonly CorpusEntry[]): Target {
  return decoderTarget('rpc.reply', recordsOf(corpus, 'reply'), (r) => {
    if (r.remaining < 8) return undefined;
    const xid = r.uint32();
    if (r.uint32() !== MsgType.REPLY) return undefined;
    return readReplyBody(r, xid);
  }, { maxLen: 8192 });
}

function frame(records: Buffer[], splits: number[] = []): Buffer {
  const parts: Buffer[] = [];
  records.forEach((rec, i) => {
    const cuts = [0, ...(splits[i] ? [Math.floor(rec.length / 2)] : []), rec.length];
    for (let k = 0; k + 1 < cuts.length; k++) {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(((k + 2 === cuts.length ? LAST_FRAGMENT : 0) | (cuts[k + 1] - cuts[k])) >>> 0);
      parts.push(h, rec.subarray(cuts[k], cuts[k + 1]));
    }
  });
  return Buffer.concat(parts);
}

/** Streams of framed records from the corpus: single records, several, split fragments, one large WRITE. */
export function recordStreams(calls: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < calls.length; i += 7) out.push(frame([calls[i]]));
  for (let i = 0; i + 3 < calls.length; i += 23) out.push(frame(calls.slice(i, i + 3), [0, 1, 0]));
  out.push(Buffer.concat([Buffer.from([0, 0, 0, 0]), frame([calls[0]])]));
  // a WRITE over 64 KiB: the server assembles it in a pooled buffer, its data placed by seekPayload
  const write = calls.find((c) => c.length > 60 && c.readUInt32BE(12) === 100003 && c.readUInt32BE(20) === 7 && argsOffset(c) > 0);
  if (write) {
    const at = argsOffset(write);
    const fhLen = write.readUInt32BE(at);
    const head = write.subarray(0, at + 4 + ((fhLen + 3) & ~3) + 16);
    const data = Buffer.alloc(70_000, 0x61);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(data.length);
    head.writeUInt32BE(data.length, head.length - 8);
    out.push(frame([Buffer.concat([head, tail, data])]));
  }
  return out;
}

/** Records in a framed stream as RFC 5531 defines them: the reference the reader is checked against. */
function referenceRecords(stream: Buffer, maxRecord: number): { records: Buffer[]; tooLarge: boolean } {
  const records: Buffer[] = [];
  let parts: Buffer[] = [];
  let len = 0;
  let off = 0;
  while (off + 4 <= stream.length) {
    const word = stream.readUInt32BE(off);
    const n = word & 0x7fffffff;
    if (len + n > maxRecord) return { records, tooLarge: true };
    off += 4;
    if (off + n > stream.length) break;
    parts.push(stream.subarray(off, off + n));
    len += n;
    off += n;
    if (word & LAST_FRAGMENT) {
      records.push(Buffer.concat(parts));
      parts = [];
      len = 0;
    }
  }
  return { records, tooLarge: false };
}

/** Rewrite one fragment header of a framed stream to a value around the caps. */
function mutateFraming(rng: Rng, seed: Buffer, maxRecord: number): Buffer {
  const b = Buffer.from(seed);
  const heads: number[] = [];
  for (let off = 0; off + 4 <= b.length; ) {
    heads.push(off);
    off += 4 + (b.readUInt32BE(off) & 0x7fffffff);
  }
  if (heads.length === 0) return b;
  const at = rng.pick(heads);
  const w = b.readUInt32BE(at);
  const len = w & 0x7fffffff;
  const last = w & LAST_FRAGMENT;
  const v = rng.pick([
    0, LAST_FRAGMENT, w ^ LAST_FRAGMENT, last | (len + 1), last | Math.max(0, len - 1), last | (len + 4), last | maxRecord,
    last | (maxRecord + 1), LAST_FRAGMENT | (maxRecord - 4), 0x7fffffff, 0xffffffff, LAST_FRAGMENT | 65537, rng.pick(INTERESTING32),
  ]);
  b.writeUInt32BE(v >>> 0, at);
  if (rng.chance(0.2)) {
    // split the fragment: a header in the middle of its bytes
    const cut = at + 4 + 4 * rng.below(Math.floor(len / 4) + 1);
    return Buffer.concat([b.subarray(0, cut), Buffer.from([0, 0, 0, rng.below(16) * 4]), b.subarray(cut)]);
  }
  return b;
}

/** The server's RecordReader: random read sizes, reused ("transient") read buffers, the WRITE pool. */
export function recordTarget(corpus: readonly CorpusEntry[]): Target {
  const server = new RpcServer(serverPrograms());
  const pool = server.recordPool;
  const scratch = Buffer.alloc(128 * 1024);
  let maxRecord = server.maxRecord;
  return {
    name: 'rpc.record',
    seeds: recordStreams(recordsOf(corpus, 'call')),
    maxLen: 96 * 1024,
    expected: (e) => e instanceof RpcTransportError && e.code === 'RPC_RECORD_TOO_LARGE',
    // what the reader holds grows with the bytes that arrived: at most twice them (or 256)
    allocLimit: (input) => Math.max(256, 2 * input.length),
    mutate: (rng, seed) => mutateFraming(rng, seed, server.maxRecord),
    finish() {
      const reader = new RecordReader(server.maxRecord, () => undefined, pool, server.locatePayload);
      checkHeldMemory('RecordReader', (wire) => reader.push(wire), () => reader.discard());
    },
    run(input, rng) {
      maxRecord = rng.chance(0.6) ? server.maxRecord : rng.pick([0, 8, 64, 1024, 65536]);
      const idle = pool.idle;
      const got: Buffer[] = [];
      const reader = new RecordReader(
        maxRecord,
        (rec, release) => {
          if (rec.length > maxRecord) throw new InvariantError(`record of ${rec.length} over the ${maxRecord} cap`);
          // a pooled record is used now, as dispatch would, and given back; others are checked at the end
          got.push(release ? Buffer.from(rec) : rec);
          release?.();
        },
        maxRecord === server.maxRecord ? pool : undefined,
        server.locatePayload,
      );
      const want = referenceRecords(input, maxRecord);
      let threw: unknown;
      try {
        for (let off = 0; off < input.length; ) {
          const n = Math.min(input.length - off, rng.chance(0.3) ? input.length : rng.range(1, 1 << rng.below(17)));
          if (rng.chance(0.5)) {
            // the server's shared read buffer: scribbled over once push returns
            const view = scratch.subarray(0, n);
            input.copy(view, 0, off, off + n);
            reader.push(view, true);
            view.fill(0xee);
          } else reader.push(input.subarray(off, off + n));
          if (reader.buffered > maxRecord) throw new InvariantError(`holding ${reader.buffered} bytes over the ${maxRecord} cap`);
          off += n;
        }
      } catch (e) {
        threw = e;
      } finally {
        reader.discard();
      }
      if (pool.idle < idle) throw new InvariantError(`record pool: ${idle} idle buffers before, ${pool.idle} after`);
      if (got.length !== want.records.length) throw new InvariantError(`${got.length} records delivered, the stream holds ${want.records.length}`);
      got.forEach((g, i) => {
        if (!g.equals(want.records[i])) throw new InvariantError(`record ${i} delivered with the wrong bytes`);
      });
      if (threw !== undefined) {
        if (!(threw instanceof RpcTransportError) || !want.tooLarge) throw threw;
        return 'rejected';
      }
      if (want.tooLarge) throw new InvariantError('a record over the cap was not refused');
      return 'ok';
    },
  };
}

export { isXdrError };
