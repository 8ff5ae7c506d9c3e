/**
 * The client across server failures, against our own server run as a child
 * process (killed with SIGKILL, restarted on the same port and state dir so
 * file handles stay valid):
 * - a server restart in the middle of a large write, then sync(): the bytes
 *   on disk are exactly what was written (uncommitted data re-sent because
 *   the write verifier changed);
 * - a call in flight when the server dies: ETIMEDOUT in soft mode, completes
 *   after the restart in hard mode;
 * - a lost reply to a non-idempotent call: the retransmission (same xid)
 *   is answered from the server's duplicate request cache.
 * Nothing is timed: the test waits on events; timeouts are the client's
 * own retry timers.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, NfsError } from '../../src/index.js';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process.js';
import { startRpcProxy } from '../helpers/rpc-proxy.js';
import { rejection } from './targets.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const cleanup: string[] = [];
after(() => {
  for (const d of cleanup) fs.rmSync(d, { recursive: true, force: true });
});

interface Served {
  dir: string;
  stateDir: string;
  port: number;
  server: ServerProcess;
  url: string;
  start(): Promise<ServerProcess>;
}

async function serve(): Promise<Served> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-restart-exp-'));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-restart-state-'));
  cleanup.push(dir, stateDir);
  const port = await freePort();
  const opts = { dir, stateDir, port, exportsText: `${dir} *(rw,insecure,no_root_squash)\n` };
  const s: Served = {
    dir,
    stateDir,
    port,
    server: await startServer(opts),
    url: `nfs://127.0.0.1${dir}?version=3&nfsport=${port}&mountport=${port}`,
    start: async () => (s.server = await startServer(opts)),
  };
  return s;
}

/** Freeze the server (its socket stays open, nothing is answered): calls sent now are truly in flight. */
function freeze(s: ServerProcess): void {
  s.child.kill('SIGSTOP');
}


describe('client across server restarts', () => {
  it('restart in the middle of a 64 MiB write, then sync(): the sha256 on disk is right', async () => {
    const s = await serve();
    // hard mount (the default); keep every byte uncommitted until sync so the restart must be repaired by re-sending
    // Over the wire: what is checked is the re-send of data a crashed server lost. (LOCALIO writes go to
    // the page cache, which a server crash does not lose: tests/integration/localio-processes.test.ts.)
    const c = await connect(s.url, { timeout: 2000, maxUncommitted: 256 * 1024 * 1024, localio: false });
    try {
      const CHUNK = 1024 * 1024;
      const N = 64;
      const data = randomBytes(CHUNK * N);
      const h = await c.open('/big.bin', 'w');
      const inflight: Array<Promise<unknown>> = [];
      let restarted: Promise<ServerProcess> | undefined;
      let atCrash = 0;
      for (let i = 0; i < N; i++) {
        if (i === N / 2) {
          // a WRITE is on the wire when the server dies
          freeze(s.server);
          inflight.push(h.write(data, i * CHUNK, CHUNK, i * CHUNK));
          await s.server.kill9();
          atCrash = h.uncommittedBytes;
          assert.ok(atCrash > 0, 'unstable data was outstanding at the crash');
          restarted = s.start();
          continue;
        }
        inflight.push(h.write(data, i * CHUNK, CHUNK, i * CHUNK));
        if (inflight.length >= 4) await inflight.shift();
      }
      await Promise.all(inflight);
      await restarted;
      await h.sync();
      assert.equal(h.uncommittedBytes, 0);
      await h.close();
      const onDisk = fs.readFileSync(path.join(s.dir, 'big.bin'));
      assert.equal(onDisk.length, data.length);
      assert.equal(sha(onDisk), sha(data));
      const st = c.stats();
      assert.ok(st.io.verifierMismatches >= 1, 'the COMMIT saw the new write verifier');
      assert.ok(st.io.resentBytes >= atCrash, `bytes acknowledged before the crash were sent again (${st.io.resentBytes} >= ${atCrash})`);
      assert.ok(st.transports[0].reconnects >= 1);
    } finally {
      await c.close();
      await s.server.stop();
    }
  });

  it('soft mode: a call in flight when the server is killed fails with ETIMEDOUT', async () => {
    const s = await serve();
    fs.writeFileSync(path.join(s.dir, 'f'), 'x');
    const c = await connect(`${s.url}&soft&timeo=300&retrans=2`);
    try {
      assert.equal((await c.stat('/f')).size, 1);
      freeze(s.server);
      const pending = c.writeFile('/g', randomBytes(4 * 1024 * 1024));
      const pstat = c.stat('/f');
      await s.server.kill9();
      for (const p of [pending, pstat]) {
        const e = await rejection(p);
        assert.ok(e instanceof NfsError, String(e));
        assert.equal(e.code, 'ETIMEDOUT');
        assert.equal(e.errno, -110);
      }
      // and a new call while the server stays down
      const e2 = await rejection(c.readdir('/'));
      assert.equal(e2.code, 'ETIMEDOUT');
      assert.ok(c.stats().transports[0].timeouts >= 2);
    } finally {
      await c.close();
      await s.server.stop();
    }
  });

  it('hard mode: calls in flight when the server is killed complete after it restarts', async () => {
    const s = await serve();
    fs.writeFileSync(path.join(s.dir, 'f'), 'before');
    const c = await connect(`${s.url}&hard&timeo=500`);
    try {
      const data = randomBytes(6 * 1024 * 1024 + 3);
      const h = await c.open('/w.bin', 'w');
      freeze(s.server);
      const write = h.write(data, 0, data.length, 0);
      const read = c.readFile('/f', 'utf8');
      await s.server.kill9();
      let settled = false;
      void Promise.allSettled([write, read]).then(() => (settled = true));
      // wait (on the client's own retry timers) until the calls have timed out twice with the server down
      while (c.stats().transports[0].timeouts < 4) await new Promise((r) => setTimeout(r, 50));
      assert.equal(settled, false, 'hard mode keeps retrying while the server is down');
      await s.start();
      assert.equal((await write).bytesWritten, data.length);
      assert.equal(await read, 'before');
      await h.close();
      assert.equal(sha(fs.readFileSync(path.join(s.dir, 'w.bin'))), sha(data));
    } finally {
      await c.close();
      await s.server.stop();
    }
  });

  it('hard mode: destroy() ends the wait for a server that is gone', async () => {
    const s = await serve();
    const c = await connect(`${s.url}&hard&timeo=300`);
    try {
      freeze(s.server);
      const pending = c.stat('/');
      await s.server.kill9();
      while (c.stats().transports[0].timeouts < 1) await new Promise((r) => setTimeout(r, 50));
      c.destroy();
      const e = await rejection(pending);
      assert.equal(e.code, 'ECONNABORTED');
      await c.close(); // already closed: resolves
    } finally {
      await s.server.stop();
    }
  });

  it('a lost reply: the retransmission keeps its xid and the server answers it from its duplicate request cache', async () => {
    const s = await serve();
    fs.writeFileSync(path.join(s.dir, 'victim'), 'x');
    // A proxy that drops the reply to the first NFS REMOVE and cuts the client's connection.
    const removeXids = new Set<number>();
    const seenCalls: Array<{ xid: number; bytes: string }> = [];
    let dropped = false;
    const proxy = await startRpcProxy(s.port, {
      onCall: (rec) => {
        if (rec.readUInt32BE(12) === 100003 && rec.readUInt32BE(20) === 12) {
          removeXids.add(rec.readUInt32BE(0));
          seenCalls.push({ xid: rec.readUInt32BE(0), bytes: rec.toString('hex') });
        }
      },
      drop: (rec) => !dropped && removeXids.has(rec.readUInt32BE(0)) && (dropped = true),
    });
    const pport = proxy.port;
    const c = await connect(`nfs://127.0.0.1${s.dir}?version=3&nfsport=${pport}&mountport=${pport}&timeo=5000`);
    try {
      await c.unlink('/victim'); // would be ENOENT if the server ran the REMOVE twice
      assert.equal(dropped, true, 'the first reply was dropped');
      assert.equal(fs.existsSync(path.join(s.dir, 'victim')), false);
      assert.equal(seenCalls.length, 2, 'the REMOVE was sent twice');
      assert.equal(seenCalls[0].xid, seenCalls[1].xid, 'with the same xid');
      assert.equal(seenCalls[0].bytes, seenCalls[1].bytes, 'and the same bytes');
      assert.ok(c.stats().transports[0].retransmits >= 1);
    } finally {
      await c.close();
      await proxy.close();
      await s.server.stop();
    }
  });
});
