/**
 * Interop: libnfs 4.0.0 command-line tools (nfs-ls, nfs-cp, nfs-cat) against
 * our server on 127.0.0.1 (NFSv3 + MOUNT v3 on one port, no portmapper).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { needCommand, startServer, type ServerProcess } from '../helpers/server-process.js';
import { describe, lsNames, needRoot, nfsUrl, privateTempDir, removeDir, runCommand, sha256File, tempDir, writeRandomFile } from '../helpers/peers.js';

// In CI a missing peer throws here, so the whole file fails; on a laptop it skips loudly.
const skip = needCommand('nfs-ls') || needCommand('nfs-cp') || needCommand('nfs-cat');

const BIG = 64 * 1024 * 1024;
const MANY = 10_000;

let exp: string; // exported directory
let local: string; // local scratch (not exported)
let state: string; // server state dir
let server: ServerProcess;

before(async () => {
  if (skip) return;
  exp = tempDir('nfsl-libnfs-exp-');
  local = tempDir('nfsl-libnfs-local-');
  state = privateTempDir('nfsl-libnfs-state-');
  fs.mkdirSync(path.join(exp, 'sub/deeper'), { recursive: true });
  fs.writeFileSync(path.join(exp, 'top.txt'), 'top\n');
  fs.writeFileSync(path.join(exp, 'sub/in-sub.txt'), 'in sub\n');
  fs.writeFileSync(path.join(exp, 'sub/deeper/x'), '');
  fs.writeFileSync(path.join(exp, 'small.txt'), 'hello from the host\nsecond line é ✓\n');
  const many = path.join(exp, 'many');
  fs.mkdirSync(many);
  // varied name lengths so entries straddle many READDIRPLUS replies
  for (let i = 0; i < MANY; i++) fs.writeFileSync(path.join(many, manyName(i)), '');
  fs.mkdirSync(path.join(exp, 'pub'));
  fs.chmodSync(path.join(exp, 'pub'), 0o1777);
  // The server runs as root here; no_root_squash so libnfs (uid 0) can write the 0755 export root.
  server = await startServer({ dir: exp, stateDir: state, exportsText: `${exp} *(rw,insecure,no_root_squash)\n` });
});

after(async () => {
  if (skip) return;
  const code = await server?.stop();
  removeDir(exp);
  removeDir(local);
  removeDir(state);
  if (code !== 0 && code !== null) process.stderr.write(`server exit ${code}:\n${server.output()}\n`);
});

function manyName(i: number): string {
  return `e${String(i).padStart(5, '0')}-${'n'.repeat(i % 97)}`;
}

function url(rel = '', extra: Record<string, string | number> = {}): string {
  return nfsUrl(server.port, exp, rel, extra);
}

test('nfs-ls of the export root', { skip }, async () => {
  const r = await runCommand('nfs-ls', [url()]);
  assert.equal(r.code, 0, describe(r));
  const names = lsNames(r.stdout).sort();
  assert.deepEqual(names, ['many', 'pub', 'small.txt', 'sub', 'top.txt']);
  const subLine = r.stdout.split('\n').find((l) => l.endsWith(' sub'));
  assert.match(subLine ?? '', /^d/, 'sub is listed as a directory');
  const topLine = r.stdout.split('\n').find((l) => l.endsWith(' top.txt'));
  assert.match(topLine ?? '', /^-.*\s4 top\.txt$/, 'top.txt: regular file of 4 bytes');
});

test('nfs-ls of a subdirectory mount', { skip }, async () => {
  const r = await runCommand('nfs-ls', [url('sub')]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(lsNames(r.stdout).sort(), ['deeper', 'in-sub.txt']);
  const r2 = await runCommand('nfs-ls', [url('sub/deeper')]);
  assert.equal(r2.code, 0, describe(r2));
  assert.deepEqual(lsNames(r2.stdout), ['x']);
});

test(`nfs-ls of a ${MANY}-entry directory lists exactly those names`, { skip }, async () => {
  const r = await runCommand('nfs-ls', [url('many')]);
  assert.equal(r.code, 0, describe(r, 500));
  const names = lsNames(r.stdout);
  assert.equal(names.length, MANY, `expected ${MANY} entries (+ . and ..), got ${names.length}`);
  assert.equal(new Set(names).size, MANY, 'no duplicates');
  const expected = Array.from({ length: MANY }, (_, i) => manyName(i)).sort();
  assert.deepEqual(names.sort(), expected);
});

test('nfs-cp in and out of a 64 MiB file keeps sha256', { skip }, async () => {
  const src = path.join(local, 'src.bin');
  const sum = await writeRandomFile(src, BIG);
  const put = await runCommand('nfs-cp', [src, url('big-in.bin')]);
  assert.equal(put.code, 0, describe(put));
  const onServer = path.join(exp, 'big-in.bin');
  assert.equal(fs.statSync(onServer).size, BIG);
  assert.equal(await sha256File(onServer), sum, 'file written through NFS matches on the server side');
  const back = path.join(local, 'back.bin');
  const get = await runCommand('nfs-cp', [url('big-in.bin'), back]);
  assert.equal(get.code, 0, describe(get));
  assert.equal(await sha256File(back), sum, 'file read back through NFS matches');
  fs.rmSync(src);
  fs.rmSync(back);
  fs.rmSync(onServer);
});

test('nfs-cp refuses an existing destination (O_EXCL) and leaves it intact', { skip }, async () => {
  const src = path.join(local, 'excl.bin');
  fs.writeFileSync(src, 'new content\n');
  const r = await runCommand('nfs-cp', [src, url('top.txt')]);
  assert.notEqual(r.code, 0, describe(r));
  assert.match(r.stderr, /NFS3ERR_EXIST/, describe(r));
  assert.equal(fs.readFileSync(path.join(exp, 'top.txt'), 'utf8'), 'top\n');
});

test('nfs-cat of a small file', { skip }, async () => {
  const r = await runCommand('nfs-cat', [url('small.txt')]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(r.stdoutBuf, fs.readFileSync(path.join(exp, 'small.txt')));
  const r2 = await runCommand('nfs-cat', [url('sub/in-sub.txt')]);
  assert.equal(r2.code, 0, describe(r2));
  assert.equal(r2.stdout, 'in sub\n');
});

test('nfs-cat of a missing file fails with NOENT, server keeps serving', { skip }, async () => {
  const r = await runCommand('nfs-cat', [url('no-such-file')]);
  assert.notEqual(r.code, 0, describe(r));
  assert.match(r.stderr, /NOENT|No such file/i, describe(r));
  assert.equal(server.child.exitCode, null, 'server still running');
});

test('uid=1000&gid=1000 creates a file owned by 1000:1000 (root server, no_root_squash)', { skip: skip || needRoot('libnfs uid/gid test') }, async () => {
  const src = path.join(local, 'u.bin');
  fs.writeFileSync(src, 'owned by 1000\n');
  const r = await runCommand('nfs-cp', [src, url('pub/u.bin', { uid: 1000, gid: 1000 })]);
  assert.equal(r.code, 0, describe(r));
  const st = fs.statSync(path.join(exp, 'pub/u.bin'));
  assert.equal(`${st.uid}:${st.gid}`, '1000:1000');
  assert.equal(fs.readFileSync(path.join(exp, 'pub/u.bin'), 'utf8'), 'owned by 1000\n');
  // uid 1000 may not create in the root-owned 0755 export root
  const denied = await runCommand('nfs-cp', [src, url('denied.bin', { uid: 1000, gid: 1000 })]);
  assert.notEqual(denied.code, 0, describe(denied));
  assert.match(denied.stderr, /NFS3ERR_ACCES/, describe(denied));
  assert.equal(fs.existsSync(path.join(exp, 'denied.bin')), false);
  // and root (no_root_squash) creates as 0:0
  const asRoot = await runCommand('nfs-cp', [src, url('pub/root.bin')]);
  assert.equal(asRoot.code, 0, describe(asRoot));
  const st2 = fs.statSync(path.join(exp, 'pub/root.bin'));
  assert.equal(`${st2.uid}:${st2.gid}`, '0:0');
});

test('a refused host gets MNT3ERR_ACCES and the server keeps serving', { skip }, async () => {
  const refused = tempDir('nfsl-libnfs-refused-');
  const open = tempDir('nfsl-libnfs-open-');
  const st = privateTempDir('nfsl-libnfs-state-');
  fs.writeFileSync(path.join(refused, 'secret'), 'no\n');
  fs.writeFileSync(path.join(open, 'fine'), 'yes\n');
  const s = await startServer({
    dir: refused,
    stateDir: st,
    exportsText: `${refused} 10.9.9.9(rw,insecure,no_root_squash)\n${open} *(ro,insecure)\n`,
  });
  try {
    const r = await runCommand('nfs-ls', [nfsUrl(s.port, refused)]);
    assert.notEqual(r.code, 0, describe(r));
    assert.match(r.stderr, /MNT3ERR_ACCES/, describe(r));
    assert.doesNotMatch(r.stdout, /secret/);
    const cat = await runCommand('nfs-cat', [nfsUrl(s.port, refused, 'secret')]);
    assert.notEqual(cat.code, 0, describe(cat));
    assert.doesNotMatch(cat.stdout, /no/);
    // still alive and serving the other export
    assert.equal(s.child.exitCode, null, `server exited:\n${s.output()}`);
    const ok = await runCommand('nfs-ls', [nfsUrl(s.port, open)]);
    assert.equal(ok.code, 0, describe(ok));
    assert.deepEqual(lsNames(ok.stdout), ['fine']);
  } finally {
    const code = await s.stop();
    removeDir(refused);
    removeDir(open);
    removeDir(st);
    assert.equal(code, 0, `server exit status after SIGTERM:\n${s.output()}`);
  }
});
