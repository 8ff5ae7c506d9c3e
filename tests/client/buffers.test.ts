/**
 * ClientBuffers: the recycled buffers of the client's LOCALIO path (copies of
 * UNSTABLE writes, pieces read), and their leases.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientBuffers } from '../../src/client/buffers.js';
import { alignedTo } from '../../src/util/bufpool.js';

/** Whether two views share their first byte's memory (never assert.equal on the ArrayBuffers: a failure would print them). */
const sameMemory = (a: Buffer, b: Buffer) => a.buffer === b.buffer && a.byteOffset === b.byteOffset;

it('copies of 64 KiB–1 MiB are pooled and reused once released; others are plain', () => {
  const copies = new ClientBuffers();
  const src = Buffer.alloc(1 << 20, 7);
  const a = copies.copy(src);
  assert.ok(a.lease, '1 MiB is pooled');
  assert.ok(a.data.equals(src));
  src.fill(9); // the caller reuses its buffer: the copy keeps the old bytes
  assert.equal(a.data[0], 7);
  const held = copies.copy(src); // while a is held, another buffer
  assert.ok(!sameMemory(held.data, a.data));
  a.lease!.release();
  assert.equal(copies.idle, 1);
  const b = copies.copy(src.subarray(0, 700 * 1024)); // same class (1 MiB): a's buffer again
  assert.ok(sameMemory(b.data, a.data));
  assert.equal(b.data.length, 700 * 1024);
  assert.equal(b.data[0], 9);
  b.lease!.release();
  b.lease!.release(); // once too often: ignored, the buffer is not in the pool twice
  assert.equal(copies.idle, 1);
  for (const n of [1, 4096, 64 * 1024, (1 << 20) + 1]) {
    const c = copies.copy(Buffer.alloc(n, 3));
    assert.equal(c.lease, undefined, `${n} bytes: a plain copy`);
    assert.equal(c.data.length, n);
  }
  held.lease!.release();
});

it('take(): power-of-two classes, page-aligned, one buffer per holder until released', () => {
  const bufs = new ClientBuffers();
  const a = bufs.take(100_000); // class 128 KiB
  const b = bufs.take(131_072); // the same class, another buffer while a is held
  assert.ok(a.lease && b.lease);
  assert.ok(alignedTo(a.data, 4096) && alignedTo(b.data, 4096), 'page-aligned');
  assert.equal(a.data.length, 100_000);
  assert.ok(!sameMemory(a.data, b.data));
  a.lease.release();
  const c = bufs.take(70_000); // 128 KiB class again: a's buffer
  assert.ok(sameMemory(c.data, a.data));
  const d = bufs.take(200_000); // 256 KiB class: its own pool
  assert.ok(!sameMemory(d.data, a.data) && !sameMemory(d.data, b.data));
  for (const h of [b, c, d]) h.lease!.release();
  assert.equal(bufs.idle, 3);
  // More holders than a class carves: the rest are plain buffers, still correct sizes.
  const many = Array.from({ length: 20 }, () => bufs.take(1 << 20));
  assert.ok(many.every((h) => h.data.length === 1 << 20));
  for (const h of many) h.lease?.release();
});
