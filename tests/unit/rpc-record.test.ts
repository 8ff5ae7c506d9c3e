import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecordReader, recordMark, LAST_FRAGMENT, PAYLOAD_ALIGN } from '../../src/rpc/record.js';
import { BufferPool, alignedTo } from '../../src/util/bufpool.js';

function frame(fragments: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  fragments.forEach((f, i) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(((i === fragments.length - 1 ? LAST_FRAGMENT : 0) | f.length) >>> 0);
    parts.push(h, f);
  });
  return Buffer.concat(parts);
}

test('reassembles records split into fragments and delivered split at any byte', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 }),
      (records, cuts) => {
        const wire = Buffer.concat(records.map((frags) => frame(frags.map((f) => Buffer.from(f)))));
        const got: Buffer[] = [];
        const rr = new RecordReader(1 << 20, (r) => got.push(Buffer.from(r)));
        let off = 0;
        let i = 0;
        while (off < wire.length) {
          const n = cuts[i++ % cuts.length];
          rr.push(wire.subarray(off, off + n));
          off += n;
        }
        assert.equal(got.length, records.length);
        records.forEach((frags, k) => assert.deepEqual(got[k], Buffer.concat(frags.map((f) => Buffer.from(f)))));
        assert.equal(rr.buffered, 0);
      },
    ),
  );
});

test('transient chunks (one read buffer reused for every read): records stay intact after the buffer is overwritten', () => {
  const pool = new BufferPool(256 * 1024, 4);
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 64 * 1024 + 1, max: 200 * 1024 }),
      fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
      (records, bigLen, cuts) => {
        // Small multi-fragment records plus one large single-fragment record (assembled in the pool).
        const big = Buffer.alloc(bigLen, 0x5a);
        const want = [...records.map((frags) => Buffer.concat(frags.map((f) => Buffer.from(f)))), big];
        const wire = Buffer.concat([...records.map((frags) => frame(frags.map((f) => Buffer.from(f)))), frame([big])]);
        const held: Buffer[] = [];
        const rr = new RecordReader(1 << 20, (r) => held.push(r), pool);
        const readBuffer = Buffer.alloc(70_000);
        let off = 0;
        let i = 0;
        while (off < wire.length) {
          const n = Math.min(cuts[i++ % cuts.length], wire.length - off);
          wire.copy(readBuffer, 0, off, off + n);
          rr.push(readBuffer.subarray(0, n), true);
          readBuffer.fill(0xee); // the next read overwrites it
          off += n;
        }
        assert.equal(held.length, want.length);
        want.forEach((w, k) => assert.deepEqual(held[k], w));
      },
    ),
    { numRuns: 60 },
  );
});

test('a record over the cap is rejected when its header arrives, before its bytes are buffered', () => {
  const rr = new RecordReader(1000, () => assert.fail('no record expected'));
  const h = Buffer.alloc(4);
  h.writeUInt32BE((LAST_FRAGMENT | 0x7fffffff) >>> 0);
  assert.throws(() => rr.push(h), { code: 'RPC_RECORD_TOO_LARGE' });
});

test('the cap applies to the sum of fragments', () => {
  const rr = new RecordReader(100, () => {});
  const wire = frame([Buffer.alloc(60), Buffer.alloc(60)]);
  assert.throws(() => rr.push(wire), { code: 'RPC_RECORD_TOO_LARGE' });
});

test('recordMark makes a single last fragment', () => {
  assert.equal(recordMark(5).readUInt32BE(0), (LAST_FRAGMENT | 5) >>> 0);
});

test('a large record is placed so the payload its locator names starts on a page, split at any byte', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 4, max: 70000 }), (payloadAt, firstCut) => {
      const len = 200 * 1024;
      const rec = Buffer.alloc(len);
      for (let i = 0; i < len; i++) rec[i] = (i * 7) & 0xff;
      rec.writeUInt32BE(payloadAt, 0); // the test's locator reads the payload offset from the first word
      const wire = frame([rec]);
      const pool = new BufferPool(len + PAYLOAD_ALIGN, 2);
      let got: Buffer | undefined;
      const locate = (head: Buffer) => (head.length >= 4 ? head.readUInt32BE(0) : -1);
      const rr = new RecordReader(1 << 20, (r) => (got = r), pool, locate);
      // The first read brings the fragment header and at least what the locator reads; the rest comes in pieces.
      const cut = 4 + Math.min(firstCut, len);
      rr.push(wire.subarray(0, cut), true);
      for (let off = cut; off < wire.length; off += 65536) rr.push(wire.subarray(off, off + 65536), true);
      assert.ok(got !== undefined && got.equals(rec), 'the record is intact');
      assert.ok(alignedTo(got.subarray(payloadAt), PAYLOAD_ALIGN), `payload at ${payloadAt} is page-aligned`);
    }),
    { numRuns: 60 },
  );
});

test('without enough bytes to locate the payload, or without a locator, a large record starts at the buffer', () => {
  const len = 100 * 1024;
  const rec = Buffer.alloc(len, 1);
  const wire = frame([rec]);
  for (const locate of [undefined, () => -1]) {
    const pool = new BufferPool(len + PAYLOAD_ALIGN, 2);
    let got: Buffer | undefined;
    const rr = new RecordReader(1 << 20, (r) => (got = r), pool, locate);
    rr.push(wire.subarray(0, 10), true);
    rr.push(wire.subarray(10), true);
    assert.ok(got !== undefined && got.equals(rec));
    assert.ok(alignedTo(got, PAYLOAD_ALIGN), 'the record itself is where the pooled buffer starts');
  }
});
