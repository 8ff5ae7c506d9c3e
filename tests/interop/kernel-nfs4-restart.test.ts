/**
 * Interop: the Linux kernel client (6.1 over NFSv4.1, 6.12 over NFSv4.2, under qemu) across
 * restarts of our server on the same port and state directory — kill -9, then SIGTERM. A guest
 * process (tests/guest/restart4.sh, nfs4tool's `run`) writes a file through one descriptor with a
 * write lock on all of it, and after each restart goes on writing through that descriptor: the
 * kernel reclaims the open and the lock in the grace period; a second process (through a second
 * mount, so the server answers) is refused the lock; every byte written — including what was sent
 * UNSTABLE after the last fsync before the restart — is in the file after the final close. The
 * server's status shows the client's record read back, the reclaims, and the grace period ended
 * by the client's RECLAIM_COMPLETE.
 * One guest at a time: run under `flock /tmp/nfsl-qemu.lock` on shared machines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, statusJson, type ServerProcess } from '../helpers/server-process.js';
import { assertGuest, buildGuestTool } from '../helpers/kernel-guest.js';
import { GUEST_DIR, needKernelClient, needRoot, privateTempDir, removeDir, sha256File, startKernelClient, tempDir, waitFor } from '../helpers/peers.js';
import type { NfsServerStatus } from '../../src/server/server.js';

const skip = needKernelClient() || needRoot('kernel-client NFSv4 restart tests');
const BS = 1 << 20;
const BLOCKS = 5;

/** nfs4tool's pattern(): block i's byte j. */
function block(i: number): Buffer {
  const b = Buffer.allocUnsafe(BS);
  for (let j = 0; j < BS; j++) b[j] = (i * 131 + j * 7 + (j >> 10) + 1) & 0xff;
  return b;
}

type V4 = NonNullable<NfsServerStatus['nfs4']>;

function v4Status(state: string, port: number): V4 {
  const st = statusJson<NfsServerStatus>(state, port).nfs4;
  assert.ok(st, 'the server speaks NFSv4');
  return st;
}

/** The write locks the server holds on the guest's behalf (status: per client, per open). */
function writeLocks(v4: V4): string[] {
  return v4.clients.flatMap((c) => c.opens.flatMap((o) => o.locks.filter((l) => l.type === 'write').map((l) => `${l.start}+${l.length}`)));
}

for (const [kernel, vers] of [['6.1', '4.1'], ['6.12', '4.2']] as const) {
  test(`kernel ${kernel}, NFSv${vers}: a process writing under a lock keeps its descriptor and its lock across kill -9 and SIGTERM of the server; nothing it wrote is lost`, { skip }, async (t) => {
    const files = buildGuestTool();
    const exp = tempDir('nfsl-kr-exp-');
    const state = privateTempDir('nfsl-kr-state-');
    // A 20 s lease and grace period: long enough for a guest under TCG to come back, short if it did not.
    const opts = { dir: exp, stateDir: state, exportsText: `${exp} *(rw,insecure,no_root_squash)\n`, extraArgs: ['--lease-time', '20'] };
    const servers: ServerProcess[] = [];
    let guest: ReturnType<typeof startKernelClient> | undefined;
    try {
      servers.push(await startServer(opts));
      const port = servers[0].port;
      guest = startKernelClient({ port, exportPath: exp, script: path.join(GUEST_DIR, 'restart4.sh'), files, nfsVers: vers, kernel, env: { BS } });
      const g = guest;
      let ended = false;
      void g.done.then(() => (ended = true));
      const waitGuest = (marker: string) =>
        waitFor(`the guest's ${marker}`, () => {
          if (ended) throw new Error(`the guest ended before ${marker}:\n${g.output()}`);
          return fs.existsSync(path.join(exp, 'g', marker));
        });

      for (const [n, how] of [[1, 'kill -9'], [2, 'SIGTERM']] as const) {
        await waitGuest(`ready-${n}`);
        const before = v4Status(state, port);
        assert.deepEqual(writeLocks(before), ['0+18446744073709551615'], `before restart ${n}: the writer's lock on all of the file`);
        if (how === 'kill -9') await servers[servers.length - 1].kill9();
        else assert.equal(await servers[servers.length - 1].stop(), 0, 'a clean exit on SIGTERM with a client holding state');
        servers.push(await startServer({ ...opts, port }));
        const after = v4Status(state, port);
        assert.ok(after.grace.previousClients >= 1, `restart ${n} (${how}): the guest's client record was read back (${JSON.stringify(after.grace)})`);
        fs.writeFileSync(path.join(exp, 'g', `restarted-${n}`), '');
        await waitGuest(`checked-${n}`);
        const done = v4Status(state, port);
        t.diagnostic(`restart ${n} (${how}): grace ${JSON.stringify({ ...done.grace, pending: undefined })}`);
        assert.equal(done.grace.active, false);
        assert.equal(done.grace.endedBecause, 'all reclaimed', 'the client\'s RECLAIM_COMPLETE ended the grace period');
        assert.ok(done.grace.reclaimedOpens >= 1 && done.grace.reclaimedLocks >= 1, `the open and the lock were reclaimed: ${JSON.stringify(done.grace)}`);
        assert.deepEqual(writeLocks(done), ['0+18446744073709551615'], `after restart ${n}: the same lock, reclaimed`);
        fs.writeFileSync(path.join(exp, 'g', `host-saw-${n}`), '');
      }
      const r = await g.done;
      await assertGuest(t, r, servers[servers.length - 1]);
      const want = createHash('sha256');
      for (let i = 0; i < BLOCKS; i++) want.update(block(i));
      const file = path.join(exp, 'g', 'data.bin');
      assert.equal(fs.statSync(file).size, BS * BLOCKS);
      assert.equal(await sha256File(file), want.digest('hex'), 'every block, those sent UNSTABLE before each restart included, is in the file');
      const last = v4Status(state, port);
      assert.deepEqual(writeLocks(last), [], 'the lock went with the close');
      assert.equal(await servers[servers.length - 1].stop(), 0);
    } finally {
      await guest?.kill();
      for (const s of servers) await s.kill9();
      removeDir(files);
      removeDir(exp);
      removeDir(state);
    }
  });
}
