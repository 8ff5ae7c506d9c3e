/**
 * `serve --portmap`: the portmapper also answers on port 111, so a client
 * that insists on asking one (libnfs without nfsport=/mountport=) finds
 * MOUNT and NFS with no system rpcbind. Needs root and a free port 111;
 * elsewhere it is skipped with a loud message (in CI it must run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, needCommand, IN_CI } from '../helpers/server-process.js';

function port111InUse(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(111, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

test('libnfs with no ports in the URL reaches the server through --portmap on 111', { timeout: 60_000 }, async (t) => {
  const missing = needCommand('nfs-ls');
  if (missing) return t.skip(missing);
  if (process.getuid?.() !== 0 || (await port111InUse())) {
    const why = process.getuid?.() !== 0 ? 'not root' : 'port 111 is taken';
    if (IN_CI) assert.fail(`--portmap test cannot run in CI: ${why}`);
    process.stderr.write(`!!! SKIPPING --portmap test: ${why} !!!\n`);
    return t.skip(why);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-pm111-'));
  const dir = path.join(tmp, 'export');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'found-via-portmap.txt'), 'hi\n');
  const srv = await startServer({ dir, stateDir: path.join(tmp, 'state'), extraArgs: ['--portmap'] });
  try {
    const out = execFileSync('nfs-ls', [`nfs://127.0.0.1${dir}?version=3`], { encoding: 'utf8', timeout: 30_000 });
    assert.match(out, /found-via-portmap\.txt/);
  } finally {
    await srv.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
