import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryBackend, ReadAheadBackend } from '../../src/storage/index.js';

const MiB = 1 << 20;
const owner = { uid: 0, gid: 0 };

async function setup(size: number) {
  const ra = new ReadAheadBackend(new MemoryBackend({ capacityBytes: 64 * MiB }), { minBytes: 4096, maxBytes: 64 * 1024 });
  const root = await ra.root();
  const f = await ra.create(root, 'f', { mode: 0o644, owner, exclusive: true });
  const data = randomBytes(size);
  await ra.write(f, 0n, data, 'unstable');
  return { ra, root, f, data };
}

test('sequential reads are served from read-ahead with the same bytes and eof', async () => {
  const { ra, f, data } = await setup(10 * 64 * 1024 + 123);
  const out: Buffer[] = [];
  let off = 0n;
  for (;;) {
    const b = Buffer.alloc(64 * 1024);
    const r = await ra.read(f, off, b);
    out.push(b.subarray(0, r.bytesRead));
    off += BigInt(r.bytesRead);
    if (r.eof) break;
  }
  assert.deepEqual(Buffer.concat(out), data);
  assert.ok(ra.stats.hits >= 8, `hits ${ra.stats.hits}`);
  await ra.close();
});

test('a write through the backend drops the read-ahead: the next read sees the new data', async () => {
  const { ra, f } = await setup(4 * 64 * 1024);
  const b = Buffer.alloc(64 * 1024);
  await ra.read(f, 0n, b);
  await ra.read(f, 65536n, b); // sequential: starts a read-ahead of [128K, 192K)
  const fresh = Buffer.alloc(64 * 1024, 0x5a);
  await ra.write(f, 131072n, fresh, 'unstable');
  const r = await ra.read(f, 131072n, b);
  assert.equal(r.bytesRead, 65536);
  assert.deepEqual(b, fresh);
  await ra.close();
});

test('truncation drops the read-ahead: eof and length follow the new size', async () => {
  const { ra, f } = await setup(4 * 64 * 1024);
  const b = Buffer.alloc(64 * 1024);
  await ra.read(f, 0n, b);
  await ra.read(f, 65536n, b);
  await ra.setattr(f, { size: 131072n + 10n });
  const r = await ra.read(f, 131072n, b);
  assert.equal(r.bytesRead, 10);
  assert.equal(r.eof, true);
  await ra.close();
});

test('a shorter read than the read-ahead gets exactly its bytes and eof=false', async () => {
  const { ra, f, data } = await setup(4 * 64 * 1024);
  const b = Buffer.alloc(64 * 1024);
  await ra.read(f, 0n, b);
  await ra.read(f, 65536n, b);
  const small = Buffer.alloc(100);
  const r = await ra.read(f, 131072n, small);
  assert.equal(r.bytesRead, 100);
  assert.equal(r.eof, false);
  assert.deepEqual(small, data.subarray(131072, 131172));
  await ra.close();
});

test('readLent lends the read-ahead buffer itself: same bytes and eof, buffers come back on release', async () => {
  const { ra, f, data } = await setup(6 * 64 * 1024 + 5);
  const out: Buffer[] = [];
  let off = 0n;
  for (;;) {
    const lent = await ra.readLent(f, off, 64 * 1024);
    out.push(Buffer.from(lent.data));
    off += BigInt(lent.data.length);
    lent.release();
    lent.release(); // idempotent
    if (lent.eof) break;
  }
  assert.deepEqual(Buffer.concat(out), data);
  assert.ok(ra.stats.hits >= 4, `hits ${ra.stats.hits}`);
  await ra.close();
});
