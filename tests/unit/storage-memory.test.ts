/** MemoryBackend specifics beyond the conformance suite: capacity and instance-bound keys. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend, type Backend } from '../../src/storage/index.js';

const OWNER = { uid: 1, gid: 1 };
const isCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

describe('MemoryBackend', () => {
  it('advertises volatile keys and no local descriptors', () => {
    const b = new MemoryBackend();
    assert.equal(b.persistentKeys, false);
    assert.equal(b.localFd, false);
    assert.equal((b as Backend).openFd, undefined);
  });

  it('keys from another instance are ESTALE', async () => {
    const a = new MemoryBackend();
    const b = new MemoryBackend();
    const f = await a.create(await a.root(), 'f', { mode: 0o644, owner: OWNER, exclusive: true });
    await b.create(await b.root(), 'f', { mode: 0o644, owner: OWNER, exclusive: true });
    await assert.rejects(b.fromKey(f.key), isCode('ESTALE'));
    await assert.rejects(b.fromKey((await a.root()).key), isCode('ESTALE'));
    await assert.rejects(b.getattr(f), isCode('ESTALE'));
  });

  it('enforces capacity with ENOSPC and reports it in statfs', async () => {
    const b = new MemoryBackend({ capacityBytes: 64 * 1024 });
    const root = await b.root();
    const f = await b.create(root, 'f', { mode: 0o644, owner: OWNER, exclusive: true });
    assert.equal((await b.statfs(root)).totalBytes, 65536n);
    await b.write(f, 0n, Buffer.alloc(60 * 1024, 1), 'unstable');
    assert.equal((await b.statfs(root)).freeBytes, 4096n);
    // Needs two more blocks, one is free: nothing is written.
    await assert.rejects(b.write(f, 60n * 1024n, Buffer.alloc(8192, 2), 'unstable'), isCode('ENOSPC'));
    assert.equal((await b.getattr(f)).size, 60n * 1024n);
    // Rewriting allocated blocks needs no space.
    await b.write(f, 0n, Buffer.alloc(4096, 3), 'file_sync');
    await b.setattr(f, { size: 4096n });
    assert.equal((await b.statfs(root)).freeBytes, 61440n);
    await b.remove(root, 'f');
    assert.equal((await b.statfs(root)).freeBytes, 65536n);
  });

  it('enforces the object limit', async () => {
    const b = new MemoryBackend({ maxFiles: 3 });
    const root = await b.root();
    await b.mkdir(root, 'a', 0o755, OWNER);
    await b.create(root, 'b', { mode: 0o644, owner: OWNER, exclusive: true });
    await assert.rejects(b.symlink(root, 'c', 'x', 0o777, OWNER), isCode('ENOSPC'));
    assert.equal((await b.statfs(root)).freeFiles, 0n);
  });

  it('setgid directories hand down their group', async () => {
    const b = new MemoryBackend();
    const root = await b.root();
    const d = await b.mkdir(root, 'd', 0o2775, { uid: 1, gid: 50 });
    const sub = await b.mkdir(d, 'sub', 0o755, { uid: 2, gid: 2 });
    const f = await b.create(d, 'f', { mode: 0o644, owner: { uid: 2, gid: 2 }, exclusive: true });
    assert.equal((await b.getattr(sub)).gid, 50);
    assert.equal((await b.getattr(sub)).mode, 0o2755);
    assert.equal((await b.getattr(f)).gid, 50);
    assert.equal((await b.getattr(f)).uid, 2);
  });
});
