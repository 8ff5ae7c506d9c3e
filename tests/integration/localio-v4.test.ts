/**
 * LOCALIO over NFSv4.1 and 4.2: the probe is the same plain RPC of program
 * 400122 on the v4 connection (with the session's AUTH_SYS credential, in
 * the background); the OPEN goes over the wire, then READ, WRITE and COMMIT
 * go to descriptors the server hands out — in one process, and across two
 * (SCM_RIGHTS); a restarted server: the client falls back to the wire,
 * recovers its state and probes again. (Two network namespaces:
 * tests/interop/localio-netns.test.ts; no READ/WRITE COMPOUND on the wire
 * after the probe: tests/interop/localio-tshark.test.ts.)
 *
 * Runs once our server speaks v4 (or against another build: see
 * tests/helpers/v4-server.ts).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '../../src/index.js';
import { TEST_GID, TEST_UID } from '../helpers/nfs-raw.js';
import { freePort, startServer } from '../helpers/server-process.js';
import { needAddon, runChild } from '../helpers/localio-child.js';
import { waitFor } from '../helpers/peers.js';
import { inProcessV4Skip, oursV4Skip, serverClass } from '../helpers/v4-server.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const IS_ROOT = process.getuid?.() === 0;

function dirs(name: string): { exp: string; state: string; rv: string; done(): void } {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `nfsl-lio4-${name}-`)));
  const exp = path.join(tmp, 'exp');
  const rv = path.join(tmp, 'rv');
  fs.mkdirSync(exp);
  fs.mkdirSync(rv, { mode: 0o700 });
  if (IS_ROOT) fs.chownSync(exp, TEST_UID, TEST_GID);
  return { exp, state: path.join(tmp, 'state'), rv, done: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

const inSkip = await inProcessV4Skip();
const procSkip = (await oursV4Skip()) || needAddon();

for (const version of [4.1, 4.2] as const) {
  test(`one process, NFSv${version}: the probe binds on the v4 connection; READ, WRITE and COMMIT go to descriptors after the OPEN over the wire`, { skip: inSkip }, async (t: TestContext) => {
    const d = dirs(`in-${version}`);
    const Server = await serverClass();
    const server = await Server.start({ exports: { text: `${d.exp} *(rw,insecure,root_squash)\n` }, port: 0, stateDir: d.state, rendezvous: d.rv });
    const url = `nfs://127.0.0.1${d.exp}?version=${version}&nfsport=${server.port}&mountport=${server.port}&uid=${TEST_UID}&gid=${TEST_GID}`;
    const c = await connect(url, { localioRendezvous: d.rv });
    const none = await connect(url, { auth: 'none', localioRendezvous: d.rv });
    try {
      assert.equal(c.version, version);
      await c.localio.settled();
      const st0 = c.localio.status();
      assert.equal(st0.state, 'local', JSON.stringify(st0));
      assert.equal(st0.server?.channel, 'in-process');
      const callsBefore = c.stats().transports[0].calls;
      const data = randomBytes(8 * MiB + 13);
      await c.writeFile('/a.bin', data);
      assert.equal(sha((await c.readFile('/a.bin')) as Buffer), sha(data));
      assert.equal(sha(fs.readFileSync(path.join(d.exp, 'a.bin'))), sha(data));
      const h = await c.open('/a.bin', 'r+');
      await h.write('local!', 0);
      await h.sync();
      await h.lock({ start: 0, length: 6 }); // locks stay on the wire
      const back = Buffer.alloc(6);
      await h.read(back, 0, 6, 0);
      assert.equal(back.toString(), 'local!');
      await h.close();
      const st = c.localio.status();
      t.diagnostic(`local ${JSON.stringify(st.local)} wire ${JSON.stringify(st.wire)}; ${c.stats().transports[0].calls - callsBefore} COMPOUNDs for the rest`);
      assert.ok(st.local.writes >= 2 && st.local.commits >= 2 && st.local.reads >= 2, JSON.stringify(st.local));
      assert.ok(st.local.bytesWritten >= data.length && st.local.bytesRead >= data.length, JSON.stringify(st.local));
      assert.deepEqual([st.wire.reads, st.wire.writes, st.wire.commits], [0, 0, 0], 'no READ, WRITE or COMMIT on the wire');
      // AUTH_NONE never probes; its I/O is the wire's.
      await none.localio.settled();
      assert.equal(none.localio.status().state, 'off');
      assert.equal((await none.readFile('/a.bin')).length, data.length);
      assert.ok(none.localio.status().wire.reads > 0);
    } finally {
      await none.close();
      await c.close();
      await server.close();
      d.done();
    }
  });
}

test('two processes, NFSv4.1: a client process is local to a server process (descriptors by SCM_RIGHTS)', { skip: procSkip }, async () => {
  const d = dirs('proc');
  const server = await startServer({ dir: d.exp, stateDir: d.state, extraArgs: ['--rendezvous', d.rv] });
  try {
    fs.writeFileSync(path.join(d.exp, 'seed.bin'), randomBytes(3 * MiB + 1));
    const r = await runChild({
      connect: { host: '127.0.0.1', nfsPort: server.port, mountPort: server.port, path: d.exp, uid: TEST_UID, gid: TEST_GID, gids: [TEST_GID], localioRendezvous: d.rv, version: 4.1 },
      write: { path: '/w.bin', bytes: 5 * MiB + 7 },
      read: ['/w.bin', '/seed.bin'],
    });
    assert.equal(r.settled.state, 'local', JSON.stringify(r.settled));
    assert.equal(r.settled.server?.channel, 'unix');
    assert.equal(r.reads[0].sha256, r.wrote!.sha256);
    assert.equal(r.reads[1].sha256, sha(fs.readFileSync(path.join(d.exp, 'seed.bin'))));
    assert.equal(sha(fs.readFileSync(path.join(d.exp, 'w.bin'))), r.wrote!.sha256);
    assert.deepEqual([r.final.wire.reads, r.final.wire.writes], [0, 0], JSON.stringify(r.final));
  } finally {
    await server.stop();
    d.done();
  }
});

test('NFSv4.1, a server restart: the client falls back to the wire, recovers its session and probes again', { skip: procSkip }, async () => {
  const d = dirs('restart');
  const port = await freePort();
  const opts = { dir: d.exp, stateDir: d.state, port, extraArgs: ['--rendezvous', d.rv] };
  let server = await startServer(opts);
  const c = await connect(`nfs://127.0.0.1${d.exp}?version=4.1&nfsport=${port}&mountport=${port}&uid=${TEST_UID}&gid=${TEST_GID}&timeo=1000`, { localioRendezvous: d.rv });
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, 'local');
    await c.writeFile('/before.bin', randomBytes(MiB));
    const before = c.localio.status();
    await server.kill9();
    server = await startServer(opts);
    // The channel closed with the server: LOCALIO is off until a probe binds the new one; the call goes on.
    const data = randomBytes(2 * MiB);
    await c.writeFile('/after.bin', data);
    assert.ok(c.v4!.session.stats.recoveries >= 1, 'the session was recovered');
    await waitFor('LOCALIO bound to the new server', async () => {
      await c.localio.settled();
      return c.localio.status().state === 'local';
    });
    const st = c.localio.status();
    assert.ok(st.probes > before.probes, 'probed again');
    assert.notEqual(st.server?.instance, before.server?.instance, 'bound to the new server instance');
    await c.writeFile('/again.bin', data);
    assert.ok(c.localio.status().local.writes > st.local.writes, 'local again');
    assert.equal(sha(fs.readFileSync(path.join(d.exp, 'after.bin'))), sha(data));
  } finally {
    await c.close();
    await server.stop();
    d.done();
  }
});
