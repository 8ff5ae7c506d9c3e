/**
 * The client commands of the CLI (ls, cat, cp, stat, mkdir, rm, mv,
 * exports) against our own server: output, messages and exit codes as the
 * coreutils they mirror, cp in both directions (sha256 checked), and the
 * progress bar only on a terminal.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../helpers/server-process.js';
import { ganeshaSkip, startGanesha, startOurs, type Target } from './targets.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], o: { env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('nfs-localio client commands', () => {
  let t: Target;
  let tmp: string;
  const u = (rel = '') => (rel ? t.urlOf(rel) : t.url);
  const d = (rel: string) => path.join(t.dir, rel);

  before(async () => {
    t = await startOurs();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-cli-local-'));
    fs.mkdirSync(d('dir/sub'), { recursive: true });
    fs.writeFileSync(d('dir/a.txt'), 'alpha\n');
    fs.writeFileSync(d('dir/b.txt'), 'bravo\n');
    fs.writeFileSync(d('dir/.hidden'), 'h');
    fs.writeFileSync(d('dir/sub/c.txt'), 'charlie\n');
    fs.symlinkSync('a.txt', d('dir/link'));
  });
  after(async () => {
    await t?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ls lists a directory sorted, one name per line off a terminal, dot files with -a', async () => {
    const r = await cli(['ls', u('dir')]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'a.txt\nb.txt\nlink\nsub\n');
    assert.equal(r.stderr, '');
    const a = await cli(['ls', '-a', u('dir')]);
    assert.equal(a.stdout, '.\n..\n.hidden\na.txt\nb.txt\nlink\nsub\n');
    const A = await cli(['ls', '-A', u('dir')]);
    assert.equal(A.stdout, '.hidden\na.txt\nb.txt\nlink\nsub\n');
    const f = await cli(['ls', u('dir/a.txt')]);
    assert.equal(f.stdout, `${u('dir/a.txt')}\n`);
  });

  it('ls -l and ls -R', async () => {
    const r = await cli(['ls', '-l', u('dir')]);
    assert.equal(r.code, 0, show(r));
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^total \d+$/);
    assert.match(lines.find((l) => l.endsWith(' a.txt'))!, /^-rw-r--r-- 1 \d+ \d+ +6 \w{3} [ \d]\d (\d\d:\d\d| \d{4}) a\.txt$/);
    assert.match(lines.find((l) => l.includes(' sub'))!, /^drwx/);
    assert.match(lines.find((l) => l.includes(' link'))!, /^l.* link -> a\.txt$/);
    const R = await cli(['ls', '-R', u('dir')]);
    assert.equal(R.code, 0, show(R));
    assert.equal(R.stdout, `${u('dir')}:\na.txt\nb.txt\nlink\nsub\n\n${u('dir/sub')}:\nc.txt\n`);
  });

  it('ls of a missing path: coreutils message, exit 2; other arguments still listed', async () => {
    const r = await cli(['ls', u('nope'), u('dir/sub')]);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr, `nfs-localio: cannot access '${u('nope')}': No such file or directory\n`);
    assert.equal(r.stdout, `${u('dir/sub')}:\nc.txt\n`);
  });

  it('cat prints files in order; a missing file or a directory is reported, exit 1', async () => {
    const r = await cli(['cat', u('dir/a.txt'), u('dir/sub/c.txt')]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'alpha\ncharlie\n');
    const m = await cli(['cat', u('dir/nope'), u('dir/a.txt'), u('dir')]);
    assert.equal(m.code, 1);
    assert.equal(m.stdout, 'alpha\n');
    assert.equal(m.stderr, `nfs-localio: ${u('dir/nope')}: No such file or directory\nnfs-localio: ${u('dir')}: Is a directory\n`);
  });

  it('cat of a many-READ file, over the wire and locally: exact bytes into a pipe; a reader that stops early ends it quietly', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 5);
    fs.writeFileSync(d('big.bin'), data);
    for (const url of [`${u('big.bin')}&localio=0`, u('big.bin')]) {
      const out = await new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'cat', url], { stdio: ['ignore', 'pipe', 'pipe'] });
        const parts: Buffer[] = [];
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => parts.push(b));
        child.stderr.on('data', (b) => (stderr += b));
        child.once('close', (code) => resolve({ code, stdout: Buffer.concat(parts), stderr }));
      });
      assert.equal(out.code, 0, `${url}: ${out.stderr}`);
      assert.equal(out.stderr, '');
      assert.equal(out.stdout.length, data.length);
      assert.equal(sha(out.stdout), sha(data), url);
    }
    // As cat(1) into `head`: the reader closes the pipe after the first bytes; cat stops without a word, exit 0.
    const early = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'cat', u('big.bin')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.once('data', (b: Buffer) => {
        stdout = b.subarray(0, 10).toString('hex');
        child.stdout.destroy();
      });
      child.stderr.on('data', (b) => (stderr += b));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(early.stdout, data.subarray(0, 10).toString('hex'));
    assert.equal(early.code, 0, show(early));
    assert.equal(early.stderr, '');
  });

  it('cp local → NFS and NFS → local, exact bytes, no progress bar off a terminal', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 5);
    const src = path.join(tmp, 'src.bin');
    fs.writeFileSync(src, data, { mode: 0o640 });
    const up = await cli(['cp', src, u('up.bin')]);
    assert.equal(up.code, 0, show(up));
    assert.equal(up.stderr, '');
    assert.equal(sha(fs.readFileSync(d('up.bin'))), sha(data));
    assert.equal(fs.statSync(d('up.bin')).mode & 0o777, 0o640);
    const down = await cli(['cp', u('up.bin'), path.join(tmp, 'down.bin')]);
    assert.equal(down.code, 0, show(down));
    assert.equal(down.stderr, '');
    assert.equal(sha(fs.readFileSync(path.join(tmp, 'down.bin'))), sha(data));
    // into an existing directory, keeping the name; overwriting an existing file
    fs.mkdirSync(path.join(tmp, 'into'));
    assert.equal((await cli(['cp', u('dir/a.txt'), path.join(tmp, 'into')])).code, 0);
    assert.equal(fs.readFileSync(path.join(tmp, 'into/a.txt'), 'utf8'), 'alpha\n');
    assert.equal((await cli(['cp', u('dir/b.txt'), path.join(tmp, 'into/a.txt')])).code, 0);
    assert.equal(fs.readFileSync(path.join(tmp, 'into/a.txt'), 'utf8'), 'bravo\n');
    // NFS → NFS
    assert.equal((await cli(['cp', u('dir/a.txt'), u('dir/sub')])).code, 0);
    assert.equal(fs.readFileSync(d('dir/sub/a.txt'), 'utf8'), 'alpha\n');
  });

  it('cp -r copies trees both ways; without -r a directory is omitted, exit 1', async () => {
    const no = await cli(['cp', u('dir'), path.join(tmp, 'tree')]);
    assert.equal(no.code, 1);
    assert.equal(no.stderr, `nfs-localio: -r not specified; omitting directory '${u('dir')}'\n`);
    const r = await cli(['cp', '-r', u('dir'), path.join(tmp, 'tree')]);
    assert.equal(r.code, 0, show(r));
    assert.equal(fs.readFileSync(path.join(tmp, 'tree/sub/c.txt'), 'utf8'), 'charlie\n');
    assert.equal(fs.readFileSync(path.join(tmp, 'tree/.hidden'), 'utf8'), 'h');
    assert.equal(fs.readlinkSync(path.join(tmp, 'tree/link')), 'a.txt');
    const back = await cli(['cp', '-R', path.join(tmp, 'tree'), u('')]);
    assert.equal(back.code, 0, show(back));
    assert.equal(fs.readFileSync(d('tree/sub/c.txt'), 'utf8'), 'charlie\n');
    assert.equal(fs.readlinkSync(d('tree/link')), 'a.txt');
  });

  it('cp errors: missing source, several sources to a non-directory', async () => {
    const m = await cli(['cp', u('missing'), tmp]);
    assert.equal(m.code, 1);
    assert.equal(m.stderr, `nfs-localio: cannot stat '${u('missing')}': No such file or directory\n`);
    const n = await cli(['cp', u('dir/a.txt'), u('dir/b.txt'), u('dir/a.txt')]);
    assert.equal(n.code, 1);
    assert.equal(n.stderr, `nfs-localio: target '${u('dir/a.txt')}' is not a directory\n`);
    const one = await cli(['cp', u('dir/a.txt')]);
    assert.equal(one.code, 1);
    assert.match(one.stderr, /missing destination file operand/);
  });

  it('cp shows a progress bar on a terminal', async (ctx) => {
    if (!fs.existsSync('/usr/bin/script')) {
      ctx.skip('util-linux script(1) is not installed: no pseudo-terminal to test with');
      return;
    }
    const src = path.join(tmp, 'tty.bin');
    fs.writeFileSync(src, randomBytes(3 * 1024 * 1024));
    const cmd = [process.execPath, CLI, 'cp', src, u('tty.bin')].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = await new Promise<Run>((resolve) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (x) => (stdout += x));
      child.stderr.on('data', (x) => (stderr += x));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /tty\.bin \[.*\] 100% \| 3\.0\/3\.0 MiB/);
    assert.equal(sha(fs.readFileSync(d('tty.bin'))), sha(fs.readFileSync(src)));
  });

  it('stat prints what stat(1) prints; a missing path: cannot stat, exit 1', async () => {
    const r = await cli(['stat', u('dir/a.txt')]);
    assert.equal(r.code, 0, show(r));
    const st = fs.statSync(d('dir/a.txt'));
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `  File: ${u('dir/a.txt')}`);
    assert.match(lines[1], /^ {2}Size: 6 +\tBlocks: \d+ +IO Block: \d+ +regular file$/);
    assert.match(lines[2], new RegExp(`Inode: ${st.ino} +Links: 1$`));
    assert.match(lines[3], /^Access: \(0644\/-rw-r--r--\) {2}Uid: \( +\d+\/ *\S+\) {3}Gid: \( +\d+\/ *\S+\)$/);
    assert.match(lines[5], /^Modify: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} [+-]\d{4}$/);
    const l = await cli(['stat', u('dir/link')]);
    assert.match(l.stdout, /File: .* -> a\.txt\n.*symbolic link/);
    const m = await cli(['stat', u('dir/zz')]);
    assert.equal(m.code, 1);
    assert.equal(m.stderr, `nfs-localio: cannot stat '${u('dir/zz')}': No such file or directory\n`);
  });

  it('mkdir, mkdir -p, mkdir -m; an existing directory: File exists, exit 1', async () => {
    assert.equal((await cli(['mkdir', u('mk')])).code, 0);
    assert.ok(fs.statSync(d('mk')).isDirectory());
    const e = await cli(['mkdir', u('mk')]);
    assert.equal(e.code, 1);
    assert.equal(e.stderr, `nfs-localio: cannot create directory '${u('mk')}': File exists\n`);
    assert.equal((await cli(['mkdir', '-p', u('mk/x/y/z')])).code, 0);
    assert.equal((await cli(['mkdir', '-p', u('mk/x/y/z')])).code, 0);
    assert.ok(fs.statSync(d('mk/x/y/z')).isDirectory());
    assert.equal((await cli(['mkdir', '-m', '700', u('mk/private')])).code, 0);
    assert.equal(fs.statSync(d('mk/private')).mode & 0o777, 0o700);
    const np = await cli(['mkdir', u('mk/no/parent')]);
    assert.equal(np.code, 1);
    assert.match(np.stderr, /No such file or directory/);
  });

  it('rm, rm -r, rm -f; a directory without -r: Is a directory, exit 1', async () => {
    fs.mkdirSync(d('rmme/deep'), { recursive: true });
    fs.writeFileSync(d('rmme/deep/f'), 'x');
    fs.writeFileSync(d('rmfile'), 'x');
    assert.equal((await cli(['rm', u('rmfile')])).code, 0);
    assert.equal(fs.existsSync(d('rmfile')), false);
    const dir = await cli(['rm', u('rmme')]);
    assert.equal(dir.code, 1);
    assert.equal(dir.stderr, `nfs-localio: cannot remove '${u('rmme')}': Is a directory\n`);
    const missing = await cli(['rm', u('rmfile')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `nfs-localio: cannot remove '${u('rmfile')}': No such file or directory\n`);
    assert.equal((await cli(['rm', '-f', u('rmfile')])).code, 0);
    const r = await cli(['rm', '-r', u('rmme')]);
    assert.equal(r.code, 0, show(r));
    assert.equal(fs.existsSync(d('rmme')), false);
  });

  it('mv renames within the export, moves into a directory, and moves across to the local disk', async () => {
    fs.writeFileSync(d('m1'), 'one');
    fs.mkdirSync(d('mdir'));
    assert.equal((await cli(['mv', u('m1'), u('m2')])).code, 0);
    assert.equal(fs.readFileSync(d('m2'), 'utf8'), 'one');
    assert.equal((await cli(['mv', u('m2'), u('mdir')])).code, 0);
    assert.equal(fs.readFileSync(d('mdir/m2'), 'utf8'), 'one');
    const out = await cli(['mv', u('mdir'), path.join(tmp, 'moved')]);
    assert.equal(out.code, 0, show(out));
    assert.equal(fs.readFileSync(path.join(tmp, 'moved/m2'), 'utf8'), 'one');
    assert.equal(fs.existsSync(d('mdir')), false);
    const m = await cli(['mv', u('nope'), u('x')]);
    assert.equal(m.code, 1);
    assert.equal(m.stderr, `nfs-localio: cannot stat '${u('nope')}': No such file or directory\n`);
  });

  it('exports lists the server exports like showmount -e', async () => {
    const r = await cli(['exports', u()]);
    assert.equal(r.code, 0, show(r));
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'Export list for 127.0.0.1:');
    assert.ok(lines.some((l) => l.startsWith(t.dir) && l.trimEnd().endsWith('*')), r.stdout);
  });
});

describe('nfs-localio client commands: the NFS version', { skip: ganeshaSkip() }, () => {
  let g: Target;
  let tmp: string;
  /** A URL of nfs-ganesha (which speaks v3 and v4.0-4.2) with version= set as given, or left out. */
  const url = (rel: string, version?: string) => {
    const x = new URL(g.urlOf(rel));
    if (version === undefined) x.searchParams.delete('version');
    else x.searchParams.set('version', version);
    return x.href;
  };

  before(async () => {
    g = await startGanesha({ version: '4.1' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-cli-vers-'));
    fs.writeFileSync(path.join(tmp, 'src.txt'), 'versions\n');
  });
  after(async () => {
    await g?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('version= in the URL, else --nfs-version, else auto (4.2 first); cp -v names the version each side spoke', async () => {
    const src = path.join(tmp, 'src.txt');
    const cases: Array<[string[], string, string]> = [
      [['cp', '-v', src, url('v41.txt', '4.1')], 'v41.txt', '(NFSv4.1)'],
      [['--nfs-version', '3', 'cp', '-v', src, url('v3.txt')], 'v3.txt', '(NFSv3)'],
      [['--nfs-version', '4.1', 'cp', '-v', src, url('url-wins.txt', '3')], 'url-wins.txt', '(NFSv3)'],
      [['cp', '-v', src, url('auto.txt')], 'auto.txt', '(NFSv4.2)'],
    ];
    for (const [args, name, note] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, `'${src}' -> '${args[args.length - 1]}' ${note}\n`);
      assert.equal(fs.readFileSync(path.join(g.dir, name), 'utf8'), 'versions\n');
    }
    const both = await cli(['cp', '-v', url('v3.txt', '3'), url('copied.txt', '4.1')]);
    assert.equal(both.code, 0, show(both));
    assert.match(both.stdout, / \(NFSv3 -> NFSv4\.1\)\n$/);
    const st = await cli(['status', '--client', url('', '4.1')]);
    assert.match(st.stdout, /^ {2}protocol NFSv4\.1$/m, show(st));
    const bad = await cli(['--nfs-version', '4.0', 'ls', url('')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /3, 4, 4\.1, 4\.2 or auto/);
  });
});
