/**
 * Write-behind (src/storage/write-behind.ts): UNSTABLE writes are answered before they reach the
 * backend, and nothing can tell — every later access to the file sees them, failures reach the next
 * WRITE or COMMIT, and the queue stays within its bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend, WriteBehindBackend, type Node, type StableHow, type WriteResult } from '../../src/storage/index.js';

const KiB = 1024;
const OWNER = { uid: 1, gid: 1 };
const isCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

/** A memory backend whose writes wait for `gate` to open: queued writes stay queued until the test says. */
class GatedMemory extends MemoryBackend {
  gate: Promise<void> = Promise.resolve();
  writesDone = 0;
  override async write(node: Node, offset: bigint, data: Buffer, stable: StableHow): Promise<WriteResult> {
    await this.gate;
    const r = await super.write(node, offset, data, stable);
    this.writesDone++;
    return r;
  }
}

async function setup(capacity = 64 * 1024 * KiB, opts = {}) {
  const inner = new GatedMemory({ capacityBytes: capacity });
  const wb = new WriteBehindBackend(inner, { maxWrite: 64 * KiB, minBytes: 1, ...opts });
  const root = await wb.root();
  const f = await wb.create(root, 'f', { mode: 0o644, owner: OWNER, exclusive: true });
  await wb.write(f, 0n, Buffer.alloc(0), 'unstable'); // a file's first write is never queued
  inner.writesDone = 0;
  let open!: () => void;
  inner.gate = new Promise((r) => (open = r));
  return { inner, wb, root, f, open };
}

test('an UNSTABLE write is answered while its data is still queued; GETATTR and READ of the file wait for it', async () => {
  const { inner, wb, f, open } = await setup();
  const r = await wb.write(f, 0n, Buffer.alloc(10 * KiB, 7), 'unstable');
  assert.deepEqual(r, { count: 10 * KiB, committed: 'unstable', queued: true });
  assert.equal(inner.writesDone, 0, 'not written yet');
  const attrs = wb.getattr(f);
  const buf = Buffer.alloc(10 * KiB);
  const read = wb.read(f, 0n, buf);
  open();
  assert.equal((await attrs).size, BigInt(10 * KiB), 'GETATTR sees the queued write');
  assert.equal((await read).bytesRead, 10 * KiB);
  assert.ok(buf.every((b) => b === 7), 'READ sees the queued data');
  await wb.close();
});

test('the caller\'s buffer may be reused at once: the queue keeps its own copy', async () => {
  const { wb, f, open } = await setup();
  const data = Buffer.alloc(4 * KiB, 1);
  await wb.write(f, 0n, data, 'unstable');
  data.fill(9); // the RPC layer recycles the record buffer after the reply
  open();
  const buf = Buffer.alloc(4 * KiB);
  await wb.read(f, 0n, buf);
  assert.ok(buf.every((b) => b === 1));
  await wb.close();
});

test('stable writes, SETATTR and COMMIT are ordered after the queued writes of the file', async () => {
  const { wb, f, open } = await setup();
  await wb.write(f, 0n, Buffer.alloc(8 * KiB, 1), 'unstable');
  const stable = wb.write(f, 0n, Buffer.alloc(2 * KiB, 2), 'file_sync');
  const trunc = stable.then(() => wb.setattr(f, { size: 4n * BigInt(KiB) }));
  const commit = trunc.then(() => wb.commit(f, 0n, 0));
  open();
  assert.equal((await stable).queued, undefined, 'a stable write is never queued');
  await trunc;
  await commit;
  const buf = Buffer.alloc(8 * KiB);
  const r = await wb.read(f, 0n, buf);
  assert.equal(r.bytesRead, 4 * KiB);
  assert.ok(buf.subarray(0, 2 * KiB).every((b) => b === 2) && buf.subarray(2 * KiB, 4 * KiB).every((b) => b === 1));
  await wb.close();
});

test('listing and removal wait for every queue', async () => {
  const { wb, root, f, open } = await setup();
  await wb.write(f, 0n, Buffer.alloc(16 * KiB, 3), 'unstable');
  const page = wb.readdirPlus!(root, 0n, 10);
  open();
  const e = (await page).entries.find((x) => x.name === 'f');
  assert.equal(e?.attrs.size, BigInt(16 * KiB));
  await wb.write(f, 16n * BigInt(KiB), Buffer.alloc(KiB, 3), 'unstable');
  await wb.remove(root, 'f');
  await assert.rejects(wb.lookup(root, 'f'), isCode('ENOENT'));
  await wb.close();
});

test('queued bytes stay within maxBytes: a writer waits for room', async () => {
  const { inner, wb, f, open } = await setup(64 * 1024 * KiB, { maxBytes: 128 * KiB });
  const writes: Promise<WriteResult>[] = [];
  for (let i = 0; i < 6; i++) writes.push(wb.write(f, BigInt(i * 64 * KiB), Buffer.alloc(64 * KiB, i), 'unstable'));
  await new Promise((r) => setImmediate(r));
  let answered = 0;
  for (const w of writes) void w.then(() => answered++);
  await new Promise((r) => setImmediate(r));
  assert.equal(answered, 2, 'two 64 KiB writes fit in 128 KiB; the others wait');
  assert.ok(wb.stats.waited >= 1);
  open();
  await Promise.all(writes);
  await wb.commit(f, 0n, 0);
  assert.equal(inner.writesDone, 6);
  const buf = Buffer.alloc(6 * 64 * KiB);
  await wb.read(f, 0n, buf);
  for (let i = 0; i < 6; i++) assert.equal(buf[i * 64 * KiB + 5], i);
  await wb.close();
});

test('a queued write that fails (ENOSPC) is reported by the file\'s next COMMIT, once', async () => {
  const { wb, f, open } = await setup(32 * KiB);
  const r = await wb.write(f, 0n, Buffer.alloc(64 * KiB), 'unstable');
  assert.equal(r.queued, true, 'answered before the backend could say no');
  open();
  await assert.rejects(wb.commit(f, 0n, 0), isCode('ENOSPC'));
  await wb.commit(f, 0n, 0); // reported once: the COMMIT that saw it made the client resend
  await wb.close();
});

test('a queued write that fails is reported by the file\'s next WRITE', async () => {
  const { wb, f, open } = await setup(32 * KiB);
  await wb.write(f, 0n, Buffer.alloc(64 * KiB), 'unstable');
  open();
  await wb.getattr(f); // settles the queue; GETATTR itself does not report it
  await assert.rejects(wb.write(f, 0n, Buffer.alloc(KiB), 'unstable'), isCode('ENOSPC'));
  const ok = await wb.write(f, 0n, Buffer.alloc(KiB), 'unstable');
  assert.equal(ok.count, KiB);
  await wb.close();
});

test('a file\'s first write goes straight through, so the backend\'s refusal reaches it', async () => {
  const inner = new GatedMemory({ capacityBytes: 16 * KiB });
  const wb = new WriteBehindBackend(inner, { maxWrite: 64 * KiB, minBytes: 1 });
  const root = await wb.root();
  const dir = await wb.mkdir(root, 'd', 0o755, OWNER);
  await assert.rejects(wb.write(dir, 0n, Buffer.alloc(KiB), 'unstable'), isCode('EISDIR'));
  const f = await wb.create(root, 'f', { mode: 0o644, owner: OWNER, exclusive: true });
  await assert.rejects(wb.write(f, 0n, Buffer.alloc(32 * KiB), 'unstable'), isCode('ENOSPC'));
  const r = await wb.write(f, 0n, Buffer.alloc(KiB), 'unstable');
  assert.equal(r.queued, undefined, 'the first successful write was not queued either');
  assert.equal((await wb.write(f, BigInt(KiB), Buffer.alloc(KiB), 'unstable')).queued, true, 'the next one is');
  await wb.close();
});

test('close waits for queued writes before the backend closes', async () => {
  const { inner, wb, f, open } = await setup();
  await wb.write(f, 0n, Buffer.alloc(KiB), 'unstable');
  let closed = false;
  const c = wb.close().then(() => (closed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(closed, false);
  open();
  await c;
  assert.equal(inner.writesDone, 1);
});


test('with `keep`, a queued write holds the caller\'s bytes (no copy) and gives them back once written', async () => {
  const { inner, wb, f, open } = await setup();
  const data = Buffer.alloc(8 * KiB, 4);
  let kept = 0;
  let released = 0;
  const keep = () => {
    kept++;
    return () => released++;
  };
  const r = await wb.write(f, 0n, data, 'unstable', keep);
  assert.equal(r.queued, true);
  assert.equal(kept, 1);
  assert.equal(released, 0, 'held while queued');
  open();
  await wb.commit(f, 0n, 0);
  assert.equal(inner.writesDone, 1);
  assert.equal(released, 1, 'given back once written');
  const buf = Buffer.alloc(8 * KiB);
  await wb.read(f, 0n, buf);
  assert.ok(buf.every((b) => b === 4));
  await wb.close();
});
