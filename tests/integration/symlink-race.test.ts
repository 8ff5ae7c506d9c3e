/**
 * A local process on the server host swaps an exported directory for a
 * symlink to a directory outside the export, again and again, while an NFS
 * client works inside that directory (writes, truncates, chmods, creates,
 * renames, links, removes — through handles it got while the directory was
 * real, and through fresh LOOKUPs). A server that acted on paths could be made
 * to follow the symlink between checking a path and using it; ours acts on one
 * name under a directory descriptor and never follows. The canary outside
 * the export, named like the file the client works on, must keep its
 * content, owner, mode and times, and nothing may appear beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startServer } from '../helpers/server-process.js';
import { NfsClient, StableHow3, CreateMode3 } from '../helpers/nfs-raw.js';
import { authSys } from '../../src/rpc/client.js';

const ROUNDS = Number(process.env.NFS_LOCALIO_RACE_ROUNDS ?? 1000);

/** The swapper: dir → dir.real and a symlink dir → outside, then back, as fast as it can, until killed. */
const SWAPPER = `
const fs = require('fs');
const [dir, real, outside] = process.argv.slice(1);
let n = 0;
process.on('SIGTERM', () => { process.stdout.write(String(n)); process.exit(0); });
(function burst() {
  for (let k = 0; k < 64; k++, n++) {
    try { fs.renameSync(dir, real); fs.symlinkSync(outside, dir); } catch {}
    try { fs.unlinkSync(dir); fs.renameSync(real, dir); } catch {}
  }
  setImmediate(burst); // back to the event loop now and then, so SIGTERM is heard
})();`;

test(`a local symlink swap raced against ${ROUNDS} rounds of NFS operations never touches anything outside the export`, { timeout: 300_000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-race-'));
  const exp = path.join(tmp, 'export');
  const outside = path.join(tmp, 'outside');
  const dir = path.join(exp, 'dir');
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(dir, 'victim'), 'inside\n');
  const canary = path.join(outside, 'victim');
  fs.writeFileSync(canary, 'canary\n', { mode: 0o644 });
  fs.chmodSync(canary, 0o644);
  fs.utimesSync(canary, 1_000_000, 1_000_000);
  const before = fs.lstatSync(canary, { bigint: true });
  const server = await startServer({ dir: exp, exportsText: `${exp} *(rw,insecure,no_root_squash)\n` });
  const swapper = spawn(process.execPath, ['-e', SWAPPER, dir, path.join(exp, 'dir.real'), outside], { stdio: ['ignore', 'pipe', 'inherit'] });
  let swaps = '';
  swapper.stdout!.on('data', (d) => (swaps += d));
  // As root on a no_root_squash export, as an attacker would want the server to act.
  const c = await NfsClient.connect(server.port, authSys(0, 0, [0], 'race'));
  const tally = new Map<string, number>();
  // Any call unanswered for a minute is a hang: name it instead of waiting for the test's timeout.
  const answered = <T>(what: string, p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no reply in 60 s\n${server.output().slice(-3000)}`)), 60_000)));
    return Promise.race([p, hang]).finally(() => clearTimeout(timer));
  };
  const count = (what: string, status: number) => {
    const k = `${what}:${status === 0 ? 'ok' : status}`;
    tally.set(k, (tally.get(k) ?? 0) + 1);
  };
  try {
    const root = await c.mount(exp);
    // Handles taken while the directory is real (retried until the swapper lets us see it so).
    let dirFh: Buffer | undefined;
    let victim: Buffer | undefined;
    while (dirFh === undefined || victim === undefined) {
      const d = await c.lookup(root, 'dir');
      if (d.status !== 0) continue;
      const v = await c.lookup(d.object, 'victim');
      if (v.status === 0) [dirFh, victim] = [d.object, v.object];
    }
    for (let i = 0; i < ROUNDS; i++) {
      const fresh = await answered('lookup dir', c.lookup(root, 'dir')); // sometimes the symlink, sometimes the directory
      const d = fresh.status === 0 ? fresh.object : dirFh;
      const v = await answered('lookup victim', c.lookup(d, 'victim'));
      const f = v.status === 0 ? v.object : victim;
      count('write', (await answered('write', c.write(f, 0, Buffer.from(`pwned ${i}\n`), StableHow3.UNSTABLE))).status);
      count('truncate', (await answered('truncate', c.setattr(f, { size: 0n }))).status);
      count('chmod', (await answered('chmod', c.setattr(f, { mode: i % 2 ? 0o600 : 0o666 }))).status);
      count('chown', (await answered('chown', c.setattr(f, { uid: 4321, gid: 4321 }))).status);
      count('utimes', (await answered('utimes', c.setattr(f, { mtime: { seconds: 2_000_000 + i, nseconds: 0 } }))).status);
      count('create', (await answered('create', c.create(d, `n${i}`, CreateMode3.UNCHECKED))).status);
      count('mkdir', (await answered('mkdir', c.mkdir(d, `d${i}`))).status);
      count('symlink', (await answered('symlink', c.symlink(d, `s${i}`, '/etc/passwd'))).status);
      count('link', (await answered('link', c.link(f, d, `h${i}`))).status);
      count('rename', (await answered('rename', c.rename(d, `n${i}`, dirFh, `m${i}`))).status);
      count('remove', (await answered('remove', c.remove(d, 'victim'))).status);
      count('recreate', (await answered('recreate', c.create(dirFh, 'victim', CreateMode3.UNCHECKED))).status);
    }
  } finally {
    swapper.kill('SIGTERM');
    await new Promise((r) => swapper.once('exit', r));
    await c.close();
    await server.stop();
  }
  t.diagnostic(`${ROUNDS} rounds, ${swaps || '?'} swaps; results: ${[...tally].map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const after = fs.lstatSync(canary, { bigint: true });
  try {
    assert.equal(fs.readFileSync(canary, 'utf8'), 'canary\n', 'the canary keeps its content');
    assert.equal(after.mode, before.mode, 'and its mode');
    assert.equal(`${after.uid}:${after.gid}`, `${before.uid}:${before.gid}`, 'and its owner');
    assert.equal(after.mtimeNs, before.mtimeNs, 'and its times');
    assert.equal(after.size, before.size);
    assert.deepEqual(fs.readdirSync(outside), ['victim'], 'nothing was made outside the export');
    assert.ok(Number(swaps) > ROUNDS, `the swapper really raced (${swaps} swaps)`);
    assert.ok((tally.get('write:ok') ?? 0) > 0, 'some operations reached the real directory');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
