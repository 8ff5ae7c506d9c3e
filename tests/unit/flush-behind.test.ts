import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlushBehind } from '../../src/storage/flush-behind.js';

const MiB = 1024 * 1024;

/** A flush the test completes by hand. */
function manualFlush() {
  const calls: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  const flush = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, flush };
}

test('a flush starts once a file has `threshold` unstable bytes, one at a time per file', async () => {
  const fb = new FlushBehind(4 * MiB);
  const m = manualFlush();
  for (let i = 0; i < 3; i++) fb.wrote('a', MiB, m.flush);
  assert.equal(m.calls.length, 0, 'below the threshold nothing is flushed');
  fb.wrote('a', MiB, m.flush);
  assert.equal(m.calls.length, 1, 'the fourth MiB starts a flush');
  for (let i = 0; i < 8; i++) fb.wrote('a', MiB, m.flush);
  assert.equal(m.calls.length, 1, 'no second flush of the same file while one runs');
  fb.wrote('b', 4 * MiB, m.flush);
  assert.equal(m.calls.length, 2, 'other files flush independently');
  m.calls[0].resolve();
  await new Promise((r) => setImmediate(r));
  fb.wrote('a', MiB, m.flush);
  assert.equal(m.calls.length, 3, 'after it finishes, the bytes written meanwhile start the next one');
  m.calls[1].resolve();
  m.calls[2].resolve();
  await fb.drain();
});

test('a background flush failure is thrown by that file\'s next commit, once; other files are unaffected', async () => {
  const fb = new FlushBehind(MiB);
  const m = manualFlush();
  fb.wrote('a', MiB, m.flush);
  fb.wrote('b', MiB, m.flush);
  const eio = Object.assign(new Error('EIO'), { code: 'EIO' });
  m.calls[0].reject(eio);
  m.calls[1].resolve();
  await assert.rejects(fb.beforeCommit('a'), (e) => e === eio);
  await fb.beforeCommit('a'); // reported once: the COMMIT that saw it reset the verifier
  await fb.beforeCommit('b');
  assert.equal(fb.size, 0);
});

test('commit waits for the file\'s flush in progress; drain waits for every flush', async () => {
  const fb = new FlushBehind(MiB);
  const m = manualFlush();
  fb.wrote('a', MiB, m.flush);
  let committed = false;
  const c = fb.beforeCommit('a').then(() => (committed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(committed, false);
  m.calls[0].resolve();
  await c;
  assert.equal(committed, true);
  fb.wrote('z', MiB, m.flush);
  let drained = false;
  const d = fb.drain().then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false);
  m.calls[1].resolve();
  await d;
});

test('threshold 0 is off; idle entries are bounded', async () => {
  const off = new FlushBehind(0);
  const m = manualFlush();
  off.wrote('a', 100 * MiB, m.flush);
  assert.equal(m.calls.length, 0);
  assert.equal(off.size, 0);
  const fb = new FlushBehind(MiB);
  for (let i = 0; i < 10_000; i++) fb.wrote(`f${i}`, 1, m.flush);
  assert.ok(fb.size <= 4096, `tracked ${fb.size} files`);
});
