/**
 * Interop: the real Linux NFS client over NFSv4.1 and 4.2 — both of Debian 12's kernels (6.1 and
 * 6.12) under qemu (../shared/peers/kernel-client, its README's NFSv4 section) — against our server
 * on 127.0.0.1: smoke.sh in all four combinations, our own nfs4.sh (locks between processes in
 * the protocol, another client's share reservations, a 10,000-entry listing, and on 4.2 sparse
 * files with SEEK, fallocate, copy_file_range and xattrs), and root_squash with uid 1000/1001.
 * One guest at a time: run under `flock /tmp/nfsl-qemu.lock` on shared machines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GUEST_DIR, KERNEL_CLIENT_DIR, md5File, needKernelClient, needRoot, runKernelClient, tempDir, removeDir } from '../helpers/peers.js';
import { assertGuest, buildGuestTool, checkRootSquash, prepareRootSquash, prepareSemantics, withExport } from '../helpers/kernel-guest.js';
import { V4Conn, V4Session } from '../helpers/nfs4-test-client.js';

const skip = needKernelClient() || needRoot('kernel-client NFSv4 tests');
const COMBOS = [['6.1', '4.1'], ['6.1', '4.2'], ['6.12', '4.1'], ['6.12', '4.2']] as const;

for (const [kernel, vers] of COMBOS) {
  test(`smoke.sh over NFSv${vers}, kernel ${kernel}: 36 passed, 0 failed`, { skip }, async (t) => {
    await withExport('rw,insecure,no_root_squash', () => undefined, async ({ exp, server }) => {
      const r = await runKernelClient({
        port: server.port,
        exportPath: exp,
        script: path.join(KERNEL_CLIENT_DIR, 'tests/smoke.sh'),
        env: { BIG_MB: 32, KEEP_BIG: 1 },
        nfsVers: vers,
        kernel,
      });
      await assertGuest(t, r, server, 36);
      const proof = path.join(exp, 'kvmnfs-proof');
      assert.equal(fs.readFileSync(path.join(proof, 'hello.txt'), 'utf8'), 'hello from the guest kernel\nline2\n');
      const [md5] = fs.readFileSync(path.join(proof, 'big.md5'), 'utf8').split(/\s+/);
      assert.equal(await md5File(path.join(proof, 'big')), md5, 'the 32 MB file the guest wrote has its md5 on the host');
      const ops = r.stdout.split('\n').find((l) => /^NULL:\d+/.test(l)) ?? '';
      assert.match(ops, /EXCHANGE_ID:\d+ CREATE_SESSION:\d+/, 'the guest spoke NFSv4.1 sessions');
      if (vers === '4.2' && kernel === '6.12') assert.match(ops, /READ_PLUS:[1-9]/, "6.12's client read with READ_PLUS");
    });
  });
}

const MANY = 10_000;

for (const [kernel, vers] of [['6.1', '4.1'], ['6.12', '4.2']] as const) {
  test(`nfs4.sh over NFSv${vers}, kernel ${kernel}: locks, share deny, 10,000 entries${vers === '4.2' ? ', SEEK, fallocate, COPY, xattrs' : ''}`, { skip }, async (t) => {
    const files = buildGuestTool();
    try {
      await withExport(
        'rw,insecure,no_root_squash',
        (exp) => {
          fs.mkdirSync(path.join(exp, 'many10000'));
          const names = Array.from({ length: MANY }, (_, i) => `f${String(i).padStart(5, '0')}_${'x'.repeat(i % 40)}`);
          for (const n of names) fs.writeFileSync(path.join(exp, 'many10000', n), '');
          fs.writeFileSync(path.join(exp, 'many10000.expected'), names.sort().join('\n') + '\n');
          fs.mkdirSync(path.join(exp, 'deny'));
          fs.writeFileSync(path.join(exp, 'deny/denied-write'), 'held\n');
          fs.writeFileSync(path.join(exp, 'deny/denied-read'), 'held\n');
        },
        async ({ exp, server }) => {
          // Another client holds the two files open with deny modes for the whole run, renewing its lease.
          const conn = await V4Conn.connect(server.port);
          const holder = await V4Session.create(conn, 1);
          const dir = await holder.lookup(path.join(exp, 'deny'));
          assert.ok((await holder.open(dir, 'denied-write', { access: 1, deny: 2, owner: 'w' })).stateid);
          assert.ok((await holder.open(dir, 'denied-read', { access: 3, deny: 1, owner: 'r' })).stateid);
          const renew = setInterval(() => void holder.run([]).catch(() => undefined), 20_000);
          try {
            const r = await runKernelClient({ port: server.port, exportPath: exp, script: path.join(GUEST_DIR, 'nfs4.sh'), files, nfsVers: vers, kernel });
            await assertGuest(t, r, server);
            for (const l of r.stdout.split('\n').filter((x) => x.startsWith('=='))) t.diagnostic(l);
          } finally {
            clearInterval(renew);
            conn.destroy();
          }
        },
      );
    } finally {
      removeDir(files);
    }
  });
}

for (const [kernel, vers] of [['6.1', '4.1'], ['6.12', '4.2']] as const) {
  test(`root_squash over NFSv${vers}, kernel ${kernel}: root creates as 65534; uid 1000 and 1001 are themselves`, { skip }, async (t) => {
    await withExport(
      'rw,insecure,root_squash',
      prepareRootSquash,
      async ({ exp, server }) => {
        const r = await runKernelClient({ port: server.port, exportPath: exp, script: path.join(GUEST_DIR, 'root-squash.sh'), nfsVers: vers, kernel });
        await assertGuest(t, r, server);
        checkRootSquash(exp);
      },
    );
  });
}

test('semantics.sh and storage.sh over NFSv4.2, kernel 6.12: readdir 2000, rename over, sparse 6 GiB, types, silly rename; deep trees, set-id bits, long symlinks', { skip }, async (t) => {
  await withExport('rw,insecure,no_root_squash', prepareSemantics, async ({ exp, server }) => {
    for (const script of ['semantics.sh', 'storage.sh']) {
      const r = await runKernelClient({ port: server.port, exportPath: exp, script: path.join(GUEST_DIR, script), nfsVers: '4.2', kernel: '6.12' });
      await t.test(script, (tt) => assertGuest(tt, r, server));
    }
    const sp = fs.statSync(path.join(exp, 'sem', 'sparse'));
    assert.equal(sp.size, 6 * 2 ** 30 + 3);
    assert.ok(sp.blocks * 512 < 16 * 2 ** 20, `the sparse file stays sparse on the server (${sp.blocks} blocks)`);
    assert.ok(!fs.readdirSync(path.join(exp, 'sem'), { recursive: true }).map(String).some((n) => path.basename(n).startsWith('.nfs')), 'no silly-renamed .nfs files left');
  });
});
