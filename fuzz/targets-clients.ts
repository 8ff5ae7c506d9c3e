/**
 * Targets where a hostile server's bytes land in our clients: the NFS client's transport
 * (src/client/transport.ts: record marking into pooled buffers, replies matched by xid, the RPC
 * reply header) and the small RpcClient (src/rpc/client.ts). Each delivered reply is then decoded
 * with one of the NFSv3 / MOUNT result decoders, as the client would.
 *
 * Both are driven through their private receive paths (no socket): the transport exactly as its
 * socket's `onread` does — nextReadBuffer() names the memory the next read goes to, received()
 * takes the bytes — and with a table of pending calls that answers every xid.
 */
import { EventEmitter } from 'node:events';
import type { XdrReader } from '../src/xdr/index.js';
import { XdrError } from '../src/xdr/index.js';
import { RpcTransport, XidSource, type RpcReply } from '../src/client/transport.js';
import { NfsError } from '../src/client/errors.js';
import { RpcClient, RpcCallError } from '../src/rpc/client.js';
import { RpcTransportError } from '../src/rpc/errors.js';
import { recordsOf, type CorpusEntry } from './corpus.js';
import { InvariantError, checkHeldMemory } from './guard.js';
import { recordStreams } from './targets-rpc.js';
import { resultTargets } from './targets-programs.js';
import type { Target } from './target.js';
import type { Rng } from './prng.js';

/** A Map that has a pending call for every key (the fuzzer answers calls it never made). */
class AnswerAll<V> extends Map<number, V> {
  constructor(private readonly make: (xid: number) => V) {
    super();
  }
  override get(xid: number): V {
    return this.make(xid);
  }
  override has(): boolean {
    return true;
  }
  override delete(): boolean {
    return true;
  }
  override get size(): number {
    return 1;
  }
}

interface TransportInternals {
  pending: Map<number, unknown>;
  rbuf: Buffer;
  pool: { free: Buffer[] };
  nextReadBuffer(): Buffer;
  received(n: number, buf: Buffer): void;
  resetReader(): void;
}

/** The private members a target drives must exist under these names: a rename fails loudly, never quietly weakens the target. */
function internals(what: string, o: object, names: string[]): void {
  for (const n of names) if (!(n in o)) throw new Error(`fuzz: ${what} has no member '${n}' any more; update fuzz/targets-clients.ts`);
}

/** Decode a delivered reply's results with a random result decoder, as the client would. */
function decodeResults(decoders: Target[], rng: Rng, reader: XdrReader, record: Buffer): void {
  const t = decoders[rng.below(decoders.length)];
  const rest = record.subarray(reader.offset);
  try {
    t.run(rest, rng);
  } catch (e) {
    if (!(e instanceof XdrError)) throw e;
  }
}

/** Rejections a client may give for a bad reply: typed, and caused (if at all) by a typed decode error. */
function checkRejection(err: unknown): void {
  if (err instanceof NfsError) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause !== undefined && !(cause instanceof XdrError)) throw new InvariantError(`NfsError ${err.code} caused by ${(cause as Error)?.name}: ${(cause as Error)?.message}`);
    return;
  }
  if (err instanceof RpcCallError || err instanceof XdrError || err instanceof RpcTransportError) return;
  throw new InvariantError(`a reply was rejected with ${(err as Error)?.name}: ${(err as Error)?.message}`);
}

export function transportTarget(corpus: readonly CorpusEntry[]): Target {
  const decoders = resultTargets(corpus);
  const t = new RpcTransport({
    host: '127.0.0.1', port: 9, mode: 'soft', timeout: 1e9, retrans: 1, connectTimeout: 1e9, maxInFlight: 64,
    maxRecord: 256 * 1024, xids: new XidSource(), label: 'fuzz', poolRecordSize: 128 * 1024,
  });
  const ti = t as unknown as TransportInternals;
  internals('RpcTransport', ti, ['pending', 'rbuf', 'pool', 'nextReadBuffer', 'received', 'resetReader']);
  let rng: Rng | undefined;
  ti.pending = new AnswerAll((xid) => ({
    xid, msg: Buffer.alloc(0), writing: 0, tries: 0, sentOn: 1, label: 'fuzz',
    resolve: (rep: RpcReply) => {
      if (rep.record.buffer === ti.rbuf.buffer) throw new InvariantError('a reply record is a view of the shared read buffer');
      try {
        decodeResults(decoders, rng!, rep.reader, rep.record);
      } finally {
        rep.release?.();
      }
    },
    reject: checkRejection,
  }));
  return {
    name: 'client.transport',
    seeds: recordStreams(recordsOf(corpus, 'reply')),
    maxLen: 96 * 1024,
    expected: (e) => e instanceof NfsError || e instanceof XdrError,
    allocLimit: (input) => Math.max(input.length, t.opts.maxRecord, t.opts.poolRecordSize ?? 0),
    run(input, r) {
      rng = r;
      t.opts.maxRecord = r.pick([0, 64, 4096, 256 * 1024]);
      const idle = ti.pool.free.length;
      ti.resetReader();
      try {
        for (let off = 0; off < input.length; ) {
          const into = ti.nextReadBuffer();
          const n = Math.min(into.length, input.length - off, r.chance(0.3) ? input.length : r.range(1, 1 << r.below(17)));
          input.copy(into, 0, off, off + n);
          ti.received(n, into);
          off += n;
        }
      } finally {
        ti.resetReader(); // what the socket's close does
      }
      if (ti.pool.free.length < idle) throw new InvariantError(`reply pool: ${idle} idle buffers before, ${ti.pool.free.length} after`);
      return 'ok';
    },
    finish() {
      t.opts.maxRecord = 4 << 20;
      ti.resetReader();
      checkHeldMemory('RpcTransport', (wire) => {
        for (let off = 0; off < wire.length; ) {
          const into = ti.nextReadBuffer();
          const n = Math.min(into.length, wire.length - off);
          wire.copy(into, 0, off, off + n);
          ti.received(n, into);
          off += n;
        }
      }, () => ti.resetReader());
    },
  };
}

/** A stand-in socket for RpcClient: records writes, lets the fuzzer emit 'data'. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  localPort = 1;
  cork(): void {}
  uncork(): void {}
  write(): boolean {
    return true;
  }
  end(): void {}
  destroy(): void {
    this.destroyed = true;
  }
}

export function rpcClientTarget(corpus: readonly CorpusEntry[]): Target {
  const decoders = resultTargets(corpus);
  return {
    name: 'rpc.client',
    seeds: recordStreams(recordsOf(corpus, 'reply')),
    maxLen: 96 * 1024,
    // its RecordReader holds a record in a buffer that grows to at most twice the bytes that arrived
    allocLimit: (input) => Math.max(256, 2 * input.length),
    expected: (e) => e instanceof XdrError,
    run(input, rng) {
      const sock = new FakeSocket();
      const client = Reflect.construct(RpcClient, [sock, rng.pick([64, 4096, 1 << 20])]) as RpcClient;
      internals('RpcClient', client, ['pending']);
      // RpcClient turns anything its data handler throws into a closed connection: keep the first problem aside.
      let problem: unknown;
      const guard = (f: () => void) => {
        try {
          f();
        } catch (e) {
          problem ??= e;
        }
      };
      (client as unknown as { pending: Map<number, unknown> }).pending = new AnswerAll(() => ({
        resolve: (res: { reader: XdrReader }) =>
          guard(() => decodeResults(decoders, rng, res.reader, (res.reader as unknown as { buf: Buffer }).buf)),
        reject: (err: unknown) => guard(() => checkRejection(err)),
      }));
      for (let off = 0; off < input.length && !sock.destroyed; ) {
        const n = Math.min(input.length - off, rng.chance(0.3) ? input.length : rng.range(1, 1 << rng.below(17)));
        sock.emit('data', input.subarray(off, off + n));
        off += n;
      }
      if (problem !== undefined) throw problem;
      return sock.destroyed ? 'rejected' : 'ok';
    },
    finish() {
      const sock = new FakeSocket();
      Reflect.construct(RpcClient, [sock, 1 << 20]);
      checkHeldMemory('RpcClient', (wire) => sock.emit('data', wire), () => sock.emit('close'));
    },
  };
}
