/**
 * LOCALIO's wire shape and building blocks: program 400122 exactly as Linux
 * has it (16 raw bytes, void SUCCESS whether recognised or not, absent from
 * the portmapper, PROG_UNAVAIL when disabled), the channel protocol's bounds,
 * the single-use in-process registry and the serve reference.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NfsServer, defaultExportEntry } from '../../src/server/server.js';
import { RpcClient, authSys } from '../../src/rpc/client.js';
import { LOCALIO_PROGRAM } from '../../src/localio/constants.js';
import { decodeMsg, encodeMsg, MAX_MESSAGE } from '../../src/localio/protocol.js';
import { registerNonce, takeNonce, unregisterNonce, registeredNonces } from '../../src/localio/registry.js';
import { ServeRef } from '../../src/localio/serve-ref.js';
import { ensureRendezvousDir, findSocket } from '../../src/localio/rendezvous.js';
import { setLogLevel } from '../../src/util/log.js';

setLogLevel('silent');
let dir: string;
let on: NfsServer;
let off: NfsServer;
const cred = authSys(1000, 1000, [1000], 'wire-test');

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'localio-wire-'));
  on = await NfsServer.start({ exports: [defaultExportEntry(dir)], port: 0, stateDir: path.join(dir, '.state'), control: false });
  off = await NfsServer.start({ exports: [defaultExportEntry(dir)], port: 0, stateDir: path.join(dir, '.state'), control: false, localio: false });
});

after(async () => {
  await on.close();
  await off.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('NULL and UUID_IS_LOCAL answer void SUCCESS; an unknown nonce binds nothing', async () => {
  const c = await RpcClient.connect(on.port);
  try {
    const n = await c.call(LOCALIO_PROGRAM, 1, 0, undefined, cred);
    assert.equal(n.reader.remaining, 0);
    const u = await c.call(LOCALIO_PROGRAM, 1, 1, (w) => w.fixedOpaque(randomBytes(16)), cred);
    assert.equal(u.header.kind, 'accepted');
    assert.equal(u.reader.remaining, 0, 'void result');
    assert.equal(on.localioStatus()!.clients.length, 0);
    assert.ok(on.localioStatus()!.counters.misses >= 1);
  } finally {
    await c.close();
  }
});

test('UUID_IS_LOCAL takes exactly 16 raw bytes: fewer is GARBAGE_ARGS', async () => {
  const c = await RpcClient.connect(on.port);
  try {
    const r = await c.callRaw(LOCALIO_PROGRAM, 1, 1, (w) => w.fixedOpaque(randomBytes(12)), cred);
    assert.equal(r.header.kind === 'accepted' && r.header.stat, 'GARBAGE_ARGS');
    const none = await c.callRaw(LOCALIO_PROGRAM, 1, 1, undefined, cred);
    assert.equal(none.header.kind === 'accepted' && none.header.stat, 'GARBAGE_ARGS');
  } finally {
    await c.close();
  }
});

test('other versions and procedures: PROG_MISMATCH 1..1, PROC_UNAVAIL; disabled server: PROG_UNAVAIL', async () => {
  const c = await RpcClient.connect(on.port);
  const d = await RpcClient.connect(off.port);
  try {
    const v2 = await c.callRaw(LOCALIO_PROGRAM, 2, 0, undefined, cred);
    assert.equal(v2.header.kind === 'accepted' && v2.header.stat, 'PROG_MISMATCH');
    assert.deepEqual(v2.header.kind === 'accepted' && v2.header.mismatch, { low: 1, high: 1 });
    const p2 = await c.callRaw(LOCALIO_PROGRAM, 1, 2, undefined, cred);
    assert.equal(p2.header.kind === 'accepted' && p2.header.stat, 'PROC_UNAVAIL');
    const u = await d.callRaw(LOCALIO_PROGRAM, 1, 0, undefined, cred);
    assert.equal(u.header.kind === 'accepted' && u.header.stat, 'PROG_UNAVAIL');
  } finally {
    await c.close();
    await d.close();
  }
});

test('the portmapper does not list program 400122 (as Linux: it lives only on the NFS connection)', async () => {
  const c = await RpcClient.connect(on.port);
  try {
    // PMAP v2 GETPORT(400122, 1, TCP) → 0
    const r = await c.call(100000, 2, 3, (w) => w.uint32(LOCALIO_PROGRAM).uint32(1).uint32(6).uint32(0));
    assert.equal(r.reader.uint32(), 0);
  } finally {
    await c.close();
  }
});

test('the in-process registry is single-use and shared through globalThis', () => {
  const nonce = randomBytes(16);
  const before0 = registeredNonces();
  const probe = { v: 1 as const, claim: () => undefined };
  registerNonce(nonce, probe);
  assert.equal(registeredNonces(), before0 + 1);
  const shared = (globalThis as unknown as Record<symbol, Map<string, unknown>>)[Symbol.for('nfs-localio.localio.registry.v1')];
  assert.ok(shared.has(nonce.toString('hex')), 'another copy of the package sees it');
  assert.equal(takeNonce(nonce), probe);
  assert.equal(takeNonce(nonce), undefined, 'a nonce is taken once');
  registerNonce(nonce, probe);
  unregisterNonce(nonce);
  assert.equal(takeNonce(nonce), undefined);
  // An entry of a foreign shape is never trusted.
  shared.set('00'.repeat(16), { v: 2, claim: 1 });
  assert.equal(takeNonce(Buffer.alloc(16)), undefined);
  shared.delete('00'.repeat(16));
  assert.equal(registeredNonces(), before0);
});

test('serve reference: try-get fails after kill; drain waits for the holders, bounded', async () => {
  const r = new ServeRef();
  assert.ok(r.tryGet());
  assert.ok(r.tryGet());
  r.kill();
  assert.equal(r.tryGet(), false);
  assert.equal(await r.drain(20), false, 'two holders: the bounded wait gives up');
  setTimeout(() => {
    r.put();
    r.put();
  }, 10);
  assert.equal(await r.drain(5000), true);
});

test('channel messages: every field checked and bounded', () => {
  const fh = randomBytes(40);
  const m = decodeMsg(encodeMsg({ t: 'open', id: 7, fh, cred: { uid: 1, gid: 2, gids: [3, 4] }, mode: 'rw' }));
  assert.deepEqual(m, { t: 'open', id: 7, fh, cred: { uid: 1, gid: 2, gids: [3, 4] }, mode: 'rw' });
  const bad = (o: unknown) => assert.throws(() => decodeMsg(Buffer.from(JSON.stringify(o))), { code: 'ELOCALIOPROTO' });
  bad({ t: 'open', id: 1, fh: randomBytes(65).toString('base64'), cred: { uid: 0, gid: 0, gids: [] }, mode: 'r' });
  bad({ t: 'open', id: 1, fh: '', cred: { uid: 0, gid: 0, gids: [] }, mode: 'r' });
  bad({ t: 'open', id: 1, fh: 'AAAA', cred: { uid: 0, gid: 0, gids: Array(17).fill(1) }, mode: 'r' });
  bad({ t: 'open', id: 1, fh: 'AAAA', cred: { uid: -1, gid: 0, gids: [] }, mode: 'r' });
  bad({ t: 'open', id: 1, fh: 'AAAA', cred: { uid: 0, gid: 0, gids: [] }, mode: 'w' });
  bad({ t: 'open', id: 1.5, fh: 'AAAA', cred: { uid: 0, gid: 0, gids: [] }, mode: 'r' });
  bad({ t: 'nope' });
  bad([1, 2]);
  assert.throws(() => decodeMsg(Buffer.from('{not json')), { code: 'ELOCALIOPROTO' });
  assert.throws(() => decodeMsg(Buffer.alloc(MAX_MESSAGE + 1, 0x20)), { code: 'ELOCALIOPROTO' });
});

test('rendezvous directory: made 1733; a world-writable one without the sticky bit is refused; names are only 16-byte nonces', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rdv-'));
  try {
    const d = ensureRendezvousDir(path.join(base, 'r'));
    assert.equal(fs.statSync(d).mode & 0o7777, 0o1733);
    const bad = path.join(base, 'bad');
    fs.mkdirSync(bad);
    fs.chmodSync(bad, 0o777);
    assert.throws(() => ensureRendezvousDir(bad), { code: 'ERENDEZVOUS' });
    assert.equal(findSocket(Buffer.alloc(15), d), undefined);
    assert.equal(findSocket(randomBytes(16), d), undefined);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});
