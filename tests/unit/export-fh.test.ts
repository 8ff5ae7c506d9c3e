import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFh, decodeFh, loadOrCreateSecret, defaultStateDir, FH_MAX } from '../../src/export/fh.js';
import { rejectsHandle, rejectsTampered } from '../helpers/fh.js';

const secret = randomBytes(32);

test('round trip for every key length 0..32; size ≤ 64', () => {
  for (let n = 0; n <= 32; n++) {
    const key = randomBytes(n);
    const fh = encodeFh(secret, 0xdeadbeef, key);
    assert.ok(fh.length <= 64 && fh.length <= FH_MAX);
    assert.equal(fh.length, 16 + n);
    assert.deepEqual(decodeFh(secret, fh), { exportId: 0xdeadbeef, nodeKey: key });
  }
  assert.throws(() => encodeFh(secret, 1, Buffer.alloc(33)), RangeError);
  assert.throws(() => encodeFh(secret, 0, Buffer.alloc(3)), RangeError);
});

test('every single-bit flip and every truncation/extension of a valid handle is rejected', () => {
  for (const key of [Buffer.alloc(0), Buffer.from('k'), randomBytes(8), randomBytes(32)]) {
    rejectsTampered(secret, encodeFh(secret, 42, key));
  }
});

test('a handle from another secret is rejected; random handles are rejected', () => {
  const fh = encodeFh(secret, 7, Buffer.from('abc'));
  rejectsHandle(randomBytes(32), fh);
  for (let i = 0; i < 2000; i++) rejectsHandle(secret, randomBytes(i % 65));
  // Random but well-formed headers.
  for (let i = 0; i < 2000; i++) {
    const n = i % 33;
    const h = randomBytes(16 + n);
    h[0] = 1; h[1] = 1; h[2] = n; h[3] = 0;
    rejectsHandle(secret, h);
  }
});

test('secret is created 0600 in a 0700 dir, persisted and reused', async () => {
  const base = await mkdtemp(join(tmpdir(), 'nfs-export-fh-'));
  try {
    const dir = join(base, 'state', 'nested');
    const a = await loadOrCreateSecret(dir);
    assert.equal(a.length, 32);
    assert.equal((await stat(join(dir, 'fh.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o077, 0);
    const b = await loadOrCreateSecret(dir);
    assert.deepEqual(b, a);
    assert.deepEqual(await readdir(dir), ['fh.key']); // no temp files left
    // Handles survive a "restart".
    const fh = encodeFh(a, 9, Buffer.from('node'));
    assert.deepEqual(decodeFh(b, fh).nodeKey, Buffer.from('node'));
    // Concurrent first starts agree on one key.
    const dir2 = join(base, 'race');
    const keys = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateSecret(dir2)));
    for (const k of keys) assert.deepEqual(k, keys[0]);
    // A damaged key is an error, never silently replaced.
    await writeFile(join(base, 'fh.key'), 'short');
    await assert.rejects(loadOrCreateSecret(base), /expected 32 bytes/);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('defaultStateDir precedence', () => {
  assert.equal(defaultStateDir({ NFS_LOCALIO_STATE_DIR: '/x', XDG_STATE_HOME: '/y' }, 0), '/x');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/y' }, 0), '/var/lib/nfs-localio');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/y', HOME: '/h' }, 1000), '/y/nfs-localio');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: 'rel', HOME: '/h' }, 1000), '/h/.local/state/nfs-localio');
  assert.equal(defaultStateDir({ HOME: '/h' }, 1000), '/h/.local/state/nfs-localio');
});
