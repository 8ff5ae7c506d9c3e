import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/util/bufpool.js';

const MiB = 1024 * 1024;

test('pool buffers are page-aligned slots of WebAssembly memories, reused after release', () => {
  const pool = new BufferPool(MiB + 64 * 1024, 4);
  const bufs = [pool.acquire(), pool.acquire(), pool.acquire()];
  for (const b of bufs) {
    assert.equal(b.length, MiB + 64 * 1024);
    // A slot starts a whole number of 64 KiB wasm pages into memory that starts on a page boundary.
    assert.equal(b.byteOffset % 65536, 0);
    assert.ok(b.buffer.byteLength >= b.byteOffset + b.length);
  }
  bufs[0].fill(1);
  bufs[1].fill(2);
  assert.ok(bufs[0].every((x) => x === 1), 'slots do not overlap');
  pool.release(bufs[1]);
  assert.equal(pool.acquire(), bufs[1], 'a released slot is handed out again');
});

test('at most `max` slots are carved; beyond that plain buffers, of which at most `max` idle are kept', () => {
  const pool = new BufferPool(4096, 2);
  const a = pool.acquire();
  const b = pool.acquire();
  const c = pool.acquire();
  const d = pool.acquire();
  assert.equal(a.buffer, b.buffer, 'the two slots share one memory');
  assert.notEqual(c.buffer, a.buffer);
  for (const x of [a, b, c, d]) pool.release(x);
  assert.equal(pool.idle, 4, 'both slots and two plain buffers kept');
  pool.release(Buffer.allocUnsafeSlow(4096));
  assert.equal(pool.idle, 4, 'a third plain buffer is dropped');
  pool.release(Buffer.alloc(100));
  pool.release(a.subarray(0, 100));
  assert.equal(pool.idle, 4, 'wrong sizes are never pooled');
});
