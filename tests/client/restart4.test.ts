/**
 * NFSv4 state across server failures: a server killed with SIGKILL and
 * started again (same ports, same recovery records), against nfs-ganesha
 * with its grace period on, and against our server (its grace period: docs/nfs4.md):
 * - in the middle of a large write with a lock held: the client finds the
 *   dead session, makes a new client and session, reclaims its open
 *   (CLAIM_PREVIOUS) and its lock in the grace period, re-sends what the
 *   server lost; after sync() the sha256 is right and the lock is still
 *   held (another client is denied). Soft mode: a typed error instead;
 * - a lost reply: the call goes again on a new connection, bound to the
 *   session (BIND_CONN_TO_SESSION) first, on the same slot and sequence id,
 *   and the server answers from its reply cache;
 * - an idle client keeps its lease (and its lock) by renewing it; a client
 *   that stopped renewing loses its state: only the handles that held it
 *   fail (EIO), new opens work.
 * Nothing is timed: the tests wait on events; timeouts are the client's own.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, NfsError } from '../../src/index.js';
import { XdrReader } from '../../src/xdr/index.js';
import { decodeCompoundArgs } from '../../src/nfs4/codec/compound.js';
import { nfs4Limits } from '../../src/nfs4/codec/limits.js';
import { Nfs4Op } from '../../src/nfs4/constants.js';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process.js';
import { startRpcProxy } from '../helpers/rpc-proxy.js';
import { startGraceGanesha } from '../helpers/ganesha-grace.js';
import { LockChild } from '../helpers/lock-child-proc.js';
import { waitFor } from '../helpers/peers.js';
import { ganeshaSkip, oursV4Skip, rejection } from './targets.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A v4 server that can be frozen, killed and started again with its state. */
interface Restartable {
  dir: string;
  port: number;
  url(query?: string): string;
  freeze(): void;
  kill9(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function ganesha(version: '4.1' | '4.2'): Promise<Restartable> {
  // A 6 s lease keeps the expiry test short; a grace period of 15 s is more than the reclaim needs (and is
  // waited out in full after the soft-mode test, whose client never comes back to reclaim).
  const g = await startGraceGanesha({ lease: 6, grace: 15 });
  return { dir: g.dir, port: g.nfsPort, url: (q = '') => g.url(version, q), freeze: g.freeze, kill9: g.kill9, start: g.start, stop: g.stop };
}

async function ours(version: '4.1' | '4.2'): Promise<Restartable> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-restart4-exp-'));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-restart4-state-'));
  const port = await freePort();
  // A 10 s lease (the shortest it takes) keeps the expiry test short.
  const opts = { dir, stateDir, port, exportsText: `${dir} *(rw,insecure,no_root_squash)\n`, extraArgs: ['--lease-time', '10'] };
  let server: ServerProcess = await startServer(opts);
  return {
    dir,
    port,
    url: (q = '') => `nfs://127.0.0.1${dir}?version=${version}&nfsport=${port}&mountport=${port}${q}`,
    freeze: () => void server.child.kill('SIGSTOP'),
    kill9: () => server.kill9(),
    start: async () => void (server = await startServer(opts)),
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}


function restartSuite(name: string, skip: string | false, make: () => Promise<Restartable>): void {
  describe(`NFSv4 state across server restarts: ${name}`, { skip }, () => {
    let s: Restartable;
    before(async () => {
      s = await make();
    });
    after(async () => {
      await s?.stop();
    });

    it('kill -9 in the middle of a 64 MiB write with a lock held: reclaimed; after sync() the sha256 is right and the lock still held', async () => {
      // Hard (the default); everything stays uncommitted until sync, so what the server lost must be re-sent.
      const c = await connect(s.url('&timeo=2000'), { localio: false, maxUncommitted: 256 * 1024 * 1024 });
      const other = await connect(s.url());
      try {
        const CHUNK = 1024 * 1024;
        const N = 64;
        const data = randomBytes(CHUNK * N);
        const h = await c.open('/big.bin', 'w');
        await h.lock();
        const inflight: Array<Promise<unknown>> = [];
        let atCrash = 0;
        for (let i = 0; i < N; i++) {
          if (i === N / 2) {
            s.freeze(); // a WRITE is on the wire when the server dies
            inflight.push(h.write(data, i * CHUNK, CHUNK, i * CHUNK));
            await s.kill9();
            atCrash = h.uncommittedBytes;
            assert.ok(atCrash > 0, 'unstable data was outstanding at the crash');
            await s.start();
            continue;
          }
          inflight.push(h.write(data, i * CHUNK, CHUNK, i * CHUNK));
          if (inflight.length >= 4) await inflight.shift();
        }
        await Promise.all(inflight);
        await h.sync();
        assert.equal(h.uncommittedBytes, 0);
        assert.equal(sha(fs.readFileSync(path.join(s.dir, 'big.bin'))), sha(data));
        const st = c.v4!.state.stats;
        assert.ok(st.reclaimedOpens >= 1 && st.reclaimedLocks >= 1, JSON.stringify(st));
        assert.ok(c.stats().io.resentBytes >= atCrash, 'what the server lost was sent again');
        // The lock survived the restart: another client is refused (once the grace period is over).
        const oh = await other.open('/big.bin', 'r+');
        assert.equal((await rejection(oh.lock({ start: 0, length: 1 }))).code, 'EAGAIN');
        await h.close();
        await oh.lock({ start: 0, length: 1 });
        await oh.close();
      } finally {
        await c.close();
        await other.close();
      }
    });

    it('soft mode: a call in flight when the server is killed fails with a typed error', async () => {
      const c = await connect(s.url('&soft&timeo=300&retrans=2'), { localio: false });
      try {
        const h = await c.open('/soft.bin', 'w');
        await h.lock();
        s.freeze();
        const pending = h.write(randomBytes(4 * 1024 * 1024), 0, 4 * 1024 * 1024, 0);
        await s.kill9();
        const e = await rejection(pending);
        assert.ok(e instanceof NfsError, String(e));
        assert.equal(e.code, 'ETIMEDOUT');
        await s.start();
      } finally {
        c.destroy();
      }
    });

    it('a lost reply: sent again on a new connection bound to the session, same slot and sequence id, answered from the reply cache', async () => {
      fs.writeFileSync(path.join(s.dir, 'victim'), 'x');
      const seen: Array<{ conn: number; xid: number; ops: number[]; bytes: string }> = [];
      let dropped = false;
      let lostXid = -1;
      let removeXid = -1;
      const lim = nfs4Limits();
      const proxy = await startRpcProxy(s.port, {
        onCall: (rec, conn) => {
          if (rec.readUInt32BE(12) !== 100003 || rec.readUInt32BE(20) !== 1) return;
          const r = new XdrReader(rec, 24);
          r.uint32(); // cred
          r.opaque(400);
          r.uint32(); // verf
          r.opaque(400);
          const ops = decodeCompoundArgs(r, lim).ops.map((x) => x.op);
          seen.push({ conn, xid: rec.readUInt32BE(0), ops, bytes: rec.subarray(24).toString('hex') });
          if (ops.includes(Nfs4Op.REMOVE)) removeXid = rec.readUInt32BE(0);
        },
        // The reply to the first REMOVE the server carried out (a GRACE answer is passed on: the client asks again).
        drop: (rec) => {
          const status = rec.readUInt32BE(24 + ((rec.readUInt32BE(16) + 3) & ~3)); // COMPOUND4res status, after the verifier
          if (dropped || rec.readUInt32BE(0) !== removeXid || status !== 0) return false;
          dropped = true;
          lostXid = removeXid;
          return true;
        },
      });
      const u = new URL(s.url());
      u.searchParams.set('nfsport', String(proxy.port));
      const c = await connect(u.href + '&timeo=5000', { localio: false });
      try {
        await c.unlink('/victim'); // ENOENT if the server ran the REMOVE twice
        assert.equal(dropped, true, 'the first reply was lost');
        assert.equal(fs.existsSync(path.join(s.dir, 'victim')), false);
        const removes = seen.filter((x) => x.xid === lostXid);
        assert.equal(removes.length, 2, 'the REMOVE whose reply was lost went twice');
        assert.ok(removes[0].ops.includes(Nfs4Op.REMOVE));
        assert.equal(removes[0].bytes, removes[1].bytes, 'the same bytes: slot, sequence id and all');
        assert.notEqual(removes[0].conn, removes[1].conn, 'on another connection');
        const second = seen.filter((x) => x.conn === removes[1].conn);
        assert.deepEqual(second[0].ops, [Nfs4Op.BIND_CONN_TO_SESSION], 'which was bound to the session first');
      } finally {
        await c.close();
        await proxy.close();
      }
    });

    it('an idle client renews its lease: its lock outlives three lease periods of silence', async () => {
      const file = '/renewed.bin';
      fs.writeFileSync(path.join(s.dir, file), 'z');
      const c = await connect(s.url(), { localio: false });
      const other = await connect(s.url());
      try {
        const h = await c.open(file, 'r+');
        await h.lock();
        const lease = c.v4!.session.leaseMs;
        const r0 = c.v4!.session.stats.renewals;
        // Nothing from this client but its renewals (each a lone SEQUENCE after a third of the lease idle).
        await waitFor('three renewals', () => c.v4!.session.stats.renewals >= r0 + 3, 20 * lease);
        const oh = await other.open(file, 'r+');
        assert.equal((await rejection(oh.lock({ start: 0, length: 1 }))).code, 'EAGAIN', 'the lock is still held');
        assert.equal(c.v4!.session.stats.recoveries, 0, 'the session never lapsed');
        await h.close();
        await oh.lock({ start: 0, length: 1 });
        await oh.close();
      } finally {
        await c.close();
        await other.close();
      }
    });

    it('a client that stopped renewing loses its state: only the handles that held it fail (EIO), new opens work', async () => {
      const file = '/leased.bin';
      fs.writeFileSync(path.join(s.dir, file), 'y'.repeat(100));
      const child = new LockChild(s.url(), file);
      const other = await connect(s.url());
      try {
        assert.equal((await child.next()).ready, true);
        assert.deepEqual(await child.send('lock 0 100'), { ok: true });
        const oh = await other.open(file, 'r+');
        assert.equal((await rejection(oh.lock({ start: 0, length: 1 }))).code, 'EAGAIN');
        child.child.kill('SIGSTOP'); // it renews nothing now
        await oh.lock({ start: 0, length: 1, wait: true }); // granted once the server has let the lease go
        child.child.kill('SIGCONT');
        const lost = await child.send('read');
        assert.equal(lost.ok, false);
        assert.equal(lost.code, 'EIO', JSON.stringify(lost));
        assert.equal(typeof lost.nfsstat4, 'number');
        assert.deepEqual(await child.send('reopen'), { ok: true }, 'a new open of the same client works');
        assert.equal((await child.send('lock 0 1')).code, 'EIO', 'the lost handle stays failed');
        await oh.close();
      } finally {
        child.child.kill('SIGCONT');
        assert.equal(await child.exit(), 0);
        await other.close();
      }
    });
  });
}

const v4Skip = await oursV4Skip();
restartSuite('nfs-localio server (NFSv4.1)', v4Skip, () => ours('4.1'));
restartSuite('nfs-ganesha with a grace period (NFSv4.1)', ganeshaSkip(), () => ganesha('4.1'));
