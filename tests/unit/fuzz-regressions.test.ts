/**
 * Inputs `npm run fuzz` found to break a decoder, replayed exactly (docs/fuzzing.md lists them).
 * Each test names the fuzz case that found the bug; the inputs are minimised by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { XdrReader, XdrError } from '../../src/xdr/index.js';
import { decodeReadRes } from '../../src/nfs3/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const xdrError = (code: string) => (e: unknown) => e instanceof XdrError && e.code === code;

// nfs3.READ.res seed=1 case=3272: a READ reply whose data length is 2^31 or more, decoded for a client
// that asked for a count that large (count3 is a uint32). `(n + 3) & ~3` went negative: the bounds
// check passed and the reader moved backwards (offset -2147483628), the data a truncated view.
test('READ3res with a data length of 2^31 is short, not a reader moved backwards', () => {
  const reply = hex('00000000 00000000 00000000 00000001 80000000');
  for (const max of [0x80000000, 0xffffffff]) {
    const r = new XdrReader(reply);
    assert.throws(() => decodeReadRes(r, max), xdrError('XDR_SHORT'));
  }
});

// nfs3.READ.res seed=1 case=5225: lengths just under 2^32 rounded to 0 padded bytes, so a 0xfffffffd-byte
// opaque "fitted" in what was left and came back as a shorter view.
test('opaque lengths near 2^32 are short, whatever the maximum', () => {
  for (const len of [0x7ffffffd, 0x7fffffff, 0x80000000, 0xc300000c, 0xfffffffd, 0xffffffff]) {
    const b = Buffer.alloc(16);
    b.writeUInt32BE(len, 0);
    const r = new XdrReader(b);
    assert.throws(() => r.opaque(0xffffffff), xdrError('XDR_SHORT'), `length ${len}`);
    assert.equal(r.offset, 4);
    assert.throws(() => new XdrReader(b).skip(len), xdrError('XDR_SHORT'));
    assert.throws(() => new XdrReader(b).fixedOpaque(len), xdrError('XDR_SHORT'));
  }
  // and a length that fits still pads to 4
  const r = new XdrReader(hex('00000005 6162636465000000 00000007'));
  assert.equal(r.opaque(0xffffffff).toString(), 'abcde');
  assert.equal(r.uint32(), 7);
});

// rpc.reply seed=1 (and rpc.client, client.transport): a reply_stat, accept_stat or reject_stat outside
// RFC 5531 threw a plain Error — not the decoders' typed XdrError — which the NFS client then wrapped.
test('a reply header with an unknown status is an XdrError', async () => {
  const { readReplyBody } = await import('../../src/rpc/message.js');
  const bodies = [
    '00000002', // reply_stat 2
    '00000000 00000000 00000000 00005c00', // MSG_ACCEPTED, AUTH_NONE verifier, accept_stat 23552
    '00000001 00008704', // MSG_DENIED, reject_stat 34564
  ];
  for (const b of bodies) assert.throws(() => readReplyBody(new XdrReader(hex(b)), 1), xdrError('XDR_BAD_VALUE'), b);
});

test('the NFS client turns such a reply into EPROTO caused by the XdrError', async () => {
  const { RpcTransport, XidSource } = await import('../../src/client/transport.js');
  const t = new RpcTransport({
    host: '127.0.0.1', port: 9, mode: 'soft', timeout: 1e9, retrans: 1, connectTimeout: 1e9, maxInFlight: 4,
    maxRecord: 4096, xids: new XidSource(), label: 'test',
  });
  const inner = t as unknown as { pending: Map<number, unknown>; nextReadBuffer(): Buffer; received(n: number, b: Buffer): void };
  let rejected: unknown;
  inner.pending.set(0x028d3bc8, { xid: 0x028d3bc8, msg: Buffer.alloc(0), writing: 0, tries: 0, sentOn: 1, label: 'test', resolve: () => assert.fail('resolved'), reject: (e: unknown) => (rejected = e) });
  // client.transport seed=1 case=22: accept_stat 53
  const reply = hex('80000018 028d3bc8 00000001 00000000 00000000 00000000 00000035');
  const into = inner.nextReadBuffer();
  reply.copy(into);
  inner.received(reply.length, into);
  assert.equal((rejected as { code?: string }).code, 'EPROTO');
  assert.ok((rejected as { cause?: unknown }).cause instanceof XdrError);
  t.close();
});

/** Bytes of `n` fragments of `len` bytes each (not the last: the record stays unfinished). */
function fragments(n: number, len: number): Buffer {
  const b = Buffer.alloc(n * (4 + len), 0x61);
  for (let i = 0; i < n; i++) b.writeUInt32BE(len, i * (4 + len));
  return b;
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

// server mode (held records): 16 connections each holding a record of nearly the cap, sent as
// 1-byte fragments, grew the server's RSS by 2 GiB — RecordReader kept a Buffer (~100 bytes of
// heap) per piece. Its bytes now go into one buffer.
test('an unfinished record in 1-byte fragments holds its bytes, not a Buffer per fragment', async () => {
  const { RecordReader } = await import('../../src/rpc/record.js');
  const n = 256 * 1024;
  const wire = fragments(n, 1);
  const readBuffer = Buffer.alloc(64 * 1024);
  for (const transient of [true, false]) {
    const h0 = heapUsed();
    const rr = new RecordReader(1 << 20, () => assert.fail('no record is complete'));
    for (let off = 0; off < wire.length; off += readBuffer.length) {
      const piece = wire.subarray(off, off + readBuffer.length);
      if (transient) {
        piece.copy(readBuffer);
        rr.push(readBuffer.subarray(0, piece.length), true);
      } else rr.push(piece);
    }
    assert.equal(rr.buffered, n);
    const grew = heapUsed() - h0;
    // it was ~26 MiB of heap for these 256 KiB; the bytes themselves live outside the JS heap
    assert.ok(grew < 4 << 20, `heap grew ${grew} bytes holding ${n} bytes (transient ${transient})`);
    rr.discard();
  }
});

test('a record that arrives in many pieces is delivered whole and exact', async () => {
  const { RecordReader, LAST_FRAGMENT } = await import('../../src/rpc/record.js');
  const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff));
  const got: Buffer[] = [];
  const rr = new RecordReader(8192, (r) => got.push(Buffer.from(r)));
  // fragments of 1..7 bytes, the last one marked, fed a byte at a time through a reused buffer
  const parts: Buffer[] = [];
  for (let off = 0, k = 1; off < body.length; off += k, k = (k % 7) + 1) {
    const frag = body.subarray(off, Math.min(body.length, off + k));
    const h = Buffer.alloc(4);
    h.writeUInt32BE(((off + frag.length === body.length ? LAST_FRAGMENT : 0) | frag.length) >>> 0);
    parts.push(h, frag);
  }
  const wire = Buffer.concat(parts);
  const one = Buffer.alloc(1);
  for (const byte of wire) {
    one[0] = byte;
    rr.push(one, true);
  }
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], body);
  assert.equal(rr.buffered, 0);
});

async function transportFor(maxRecord: number) {
  const { RpcTransport, XidSource } = await import('../../src/client/transport.js');
  const t = new RpcTransport({
    host: '127.0.0.1', port: 9, mode: 'soft', timeout: 1e9, retrans: 1, connectTimeout: 1e9, maxInFlight: 4,
    maxRecord, xids: new XidSource(), label: 'test',
  });
  const inner = t as unknown as { pending: Map<number, unknown>; nextReadBuffer(): Buffer; received(n: number, b: Buffer): void };
  /** Feed bytes as the socket's reads would: into the buffer the transport names for each read. */
  const feed = (wire: Buffer) => {
    for (let off = 0; off < wire.length; ) {
      const into = inner.nextReadBuffer();
      const n = Math.min(into.length, wire.length - off);
      wire.copy(into, 0, off, off + n);
      inner.received(n, into);
      off += n;
    }
  };
  return { t, inner, feed };
}

// The client side of the same: RpcTransport kept a Buffer per fragment, and an empty fragment
// counts nothing against the record cap — a server sending endless empty fragments grew the
// client without bound (16 MB of them: 735 MiB of heap).
test('the NFS client holds nothing for empty fragments, and one buffer for tiny ones', async () => {
  const { t, feed } = await transportFor(4 << 20);
  const h0 = heapUsed();
  feed(Buffer.alloc(4 * 1_000_000)); // a million empty fragments, none of them the last
  feed(fragments(200_000, 1));
  const grew = heapUsed() - h0;
  assert.ok(grew < 4 << 20, `heap grew ${grew} bytes`);
  t.close();
});

test('the NFS client joins a reply sent in many fragments', async () => {
  const { LAST_FRAGMENT } = await import('../../src/rpc/record.js');
  const { t, inner, feed } = await transportFor(1 << 20);
  let got: Buffer | undefined;
  const xid = 0x1234;
  inner.pending.set(xid, { xid, msg: Buffer.alloc(0), writing: 0, tries: 0, sentOn: 1, label: 'test', resolve: (r: { record: Buffer }) => (got = Buffer.from(r.record)), reject: (e: unknown) => assert.fail(String(e)) });
  const reply = Buffer.concat([hex('00001234 00000001 00000000 00000000 00000000 00000000'), Buffer.alloc(3000, 0x7a)]);
  const parts: Buffer[] = [Buffer.alloc(4)]; // an empty first fragment
  for (let off = 0, k = 1; off < reply.length; off += k, k = (k % 13) + 1) {
    const frag = reply.subarray(off, Math.min(reply.length, off + k));
    const h = Buffer.alloc(4);
    h.writeUInt32BE(((off + frag.length === reply.length ? LAST_FRAGMENT : 0) | frag.length) >>> 0);
    parts.push(h, frag);
  }
  feed(Buffer.concat(parts));
  assert.deepEqual(got, reply);
  t.close();
});
