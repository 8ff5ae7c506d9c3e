/**
 * `npm pack` yields a package that installs and runs: `nfs-localio` on PATH,
 * type declarations shipped, and an install that succeeds when the optional
 * native part cannot be built (no C compiler) — then cross-process LOCALIO
 * is off with the reason and everything else works.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO, freePort } from '../helpers/server-process.js';
import { startCommand } from '../helpers/peers.js';

const run = promisify(execFile);
let tmp: string;
let tarball: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-pack-'));
  // dist/ is already built by `npm test`; --ignore-scripts keeps pack from rebuilding it under running tests.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: REPO, maxBuffer: 32 << 20 });
  const info = JSON.parse(stdout)[0] as { filename: string; files: Array<{ path: string }> };
  tarball = path.join(tmp, info.filename);
  fs.writeFileSync(path.join(tmp, 'files.json'), JSON.stringify(info.files.map((f) => f.path)));
});

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds the CLI, the compiled library with its types, the addon sources — and no tests', () => {
  const files: string[] = JSON.parse(fs.readFileSync(path.join(tmp, 'files.json'), 'utf8'));
  for (const f of ['bin/nfs-localio.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/localio/client.d.ts', 'native/fdpass.c', 'binding.gyp', 'scripts/build-native.mjs', 'README.md', 'package.json']) {
    assert.ok(files.includes(f), `${f} is packed`);
  }
  assert.ok(!files.some((f) => f.startsWith('dist/tests/') || f.startsWith('tests/') || f.startsWith('build/')), 'no tests or local build output');
});

test('installs without a C compiler, runs from PATH, and says why cross-process LOCALIO is off', { timeout: 240_000 }, async (t) => {
  const prefix = path.join(tmp, 'prefix');
  const env = { ...process.env, CC: '/bin/false', CXX: '/bin/false', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const inst = await run('npm', ['install', '-g', '--prefer-offline', '--foreground-scripts', '--prefix', prefix, tarball], { env, maxBuffer: 32 << 20 });
  const said = (inst.stdout + inst.stderr).split('\n').filter((l) => l.startsWith('nfs-localio:'));
  t.diagnostic(said.join(' | '));
  assert.ok(said.some((l) => /native fd passing not built/.test(l)), 'the install says the addon was not built, and why');
  const bin = path.join(prefix, 'bin', 'nfs-localio');
  assert.ok(fs.existsSync(bin), 'nfs-localio is on the prefix PATH');
  const pkg = path.join(prefix, 'lib', 'node_modules', 'nfs-localio');
  assert.ok(fs.existsSync(path.join(pkg, 'dist/src/index.d.ts')), 'type declarations installed');
  assert.ok(!fs.existsSync(path.join(pkg, 'build/Release/nfs_localio_fdpass.node')), 'the addon was not built (no compiler)');
  const help = await run(bin, ['--help']);
  assert.match(help.stdout, /serve/);
  assert.match(help.stdout, /status/);

  // Serve and read a file through the installed package, from the PATH command and from the library.
  const share = path.join(tmp, 'share');
  fs.mkdirSync(share);
  fs.writeFileSync(path.join(share, 'hello.txt'), 'hello from the package\n');
  const port = await freePort();
  const srv = startCommand(bin, ['serve', share, '--port', String(port), '--state-dir', path.join(tmp, 'state')], { killSignal: 'SIGTERM' });
  try {
    for (let i = 0; i < 100 && !srv.output().includes('Serving'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(srv.output(), /Serving/);
    assert.match(srv.output(), /localio\.cross_process\.off reason=.*cannot load/, 'the server says why cross-process LOCALIO is off');
    const script = `import { connect } from ${JSON.stringify(path.join(pkg, 'dist/src/index.js'))};
      const c = await connect({ host: '127.0.0.1', nfsPort: ${port}, mountPort: ${port}, path: ${JSON.stringify(share)}, uid: process.getuid(), gid: process.getgid() });
      await c.localio.settled();
      process.stdout.write(String(await c.readFile('hello.txt')) + JSON.stringify(c.localio.status()));
      await c.close();`;
    const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: tmp });
    assert.match(r.stdout, /^hello from the package\n/);
    const st = JSON.parse(r.stdout.split('\n')[1]);
    assert.equal(st.crossProcess, false);
    assert.notEqual(st.state, 'local', 'a second process cannot be local without the addon');
  } finally {
    await srv.kill();
  }
});
