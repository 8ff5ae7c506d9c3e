/**
 * The addon's statAt (native/fdpass.c) and the PosixBackend listing path that
 * uses it: a backend given statAt must serve exactly the pages a backend
 * using lstatSync serves — names, cookies, fileids, node keys, attributes.
 *
 * Without the addon these tests are skipped loudly, except in CI (CI=true),
 * where the addon must have been built by `npm install`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadFdPass, storageCalls } from '../../src/localio/native.js';
import { PosixBackend, type DirPlusPage, type Node } from '../../src/storage/index.js';
import type { StatAt } from '../../src/storage/posix.js';
import { STAT_AT } from '../../src/storage/posix-util.js';

const loaded = loadFdPass();
const native = loaded.native;
const statAt = native?.statAt?.bind(native);
const skipReason = statAt
  ? false
  : native
    ? 'the native addon lacks statAt (rebuild it: node scripts/build-native.mjs)'
    : `native addon not available: ${loaded.reason}`;
if (skipReason) {
  // CI must build the addon; only an explicit NFS_LOCALIO_NO_NATIVE=1 may turn these tests off there.
  if (process.env.CI === 'true' && process.env.NFS_LOCALIO_NO_NATIVE !== '1') {
    it('native statAt is built (required in CI)', () => assert.fail(skipReason));
  } else {
    console.warn(`\n!!!!! SKIPPING storage-statat tests — ${skipReason}\n!!!!! (run \`npm install\` with a C toolchain)\n`);
  }
}

const { ENOENT } = os.constants.errno;
const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('native statAt', { skip: skipReason }, () => {
  let tmp: string;
  let dirFd: number;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfs-statat-'));
    fs.writeFileSync(path.join(tmp, 'f'), 'data');
    fs.symlinkSync('f', path.join(tmp, 'l'));
    dirFd = fs.openSync(tmp, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  });
  after(() => {
    fs.closeSync(dirFd);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('fills the fields lstatSync reports, without following a symlink', () => {
    const out = new BigInt64Array(STAT_AT.FIELDS);
    for (const name of ['f', 'l']) {
      assert.equal(statAt!(dirFd, name, out), 0);
      const st = fs.lstatSync(path.join(tmp, name), { bigint: true });
      assert.deepEqual(
        [out[STAT_AT.DEV], out[STAT_AT.INO], out[STAT_AT.MODE], out[STAT_AT.NLINK], out[STAT_AT.SIZE]],
        [st.dev, st.ino, st.mode, st.nlink, st.size],
      );
      assert.equal(out[STAT_AT.MTIME_SEC] * 1_000_000_000n + out[STAT_AT.MTIME_NSEC], st.mtimeNs);
      assert.equal(out[STAT_AT.BTIME_SEC] * 1_000_000_000n + out[STAT_AT.BTIME_NSEC], st.birthtimeNs);
    }
  });

  it('returns -errno for a name that does not exist', () => {
    assert.equal(statAt!(dirFd, 'missing', new BigInt64Array(STAT_AT.FIELDS)), -ENOENT);
  });

  it('throws on a short or mistyped output array and on a NUL in the name', () => {
    assert.throws(() => statAt!(dirFd, 'f', new BigInt64Array(STAT_AT.FIELDS - 1)), RangeError);
    assert.throws(() => statAt!(dirFd, 'f', new Float64Array(STAT_AT.FIELDS) as unknown as BigInt64Array), TypeError);
    assert.throws(() => statAt!(dirFd, 'f\0x', new BigInt64Array(STAT_AT.FIELDS)), TypeError);
  });
});

describe('PosixBackend listing with statAt', { skip: skipReason }, () => {
  let tmp: string;
  let root: string;
  const backends: PosixBackend[] = [];
  // With `s`, the addon's descriptor-relative calls with statAt replaced by `s`; without, the /proc fallback.
  const nativeAt = storageCalls().at;
  const open = (s?: StatAt) => {
    const b = new PosixBackend(root, { at: s ? { ...nativeAt!, statAt: s } : undefined });
    backends.push(b);
    return b;
  };

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfs-statat-'));
    root = path.join(tmp, 'export');
    const d = path.join(root, 'd');
    fs.mkdirSync(d, { recursive: true });
    for (let i = 0; i < 7; i++) fs.writeFileSync(path.join(d, `file${i}`), 'x'.repeat(i * 1000));
    fs.writeFileSync(path.join(d, 'linked'), 'two names');
    fs.linkSync(path.join(d, 'linked'), path.join(d, 'linked2')); // nlink 2
    fs.mkdirSync(path.join(d, 'sub'));
    fs.writeFileSync(path.join(d, 'sub', 'inner'), '');
    fs.symlinkSync('file1', path.join(d, 'symlink'));
    fs.symlinkSync('/nonexistent', path.join(d, 'dangling'));
    execFileSync('mkfifo', [path.join(d, 'fifo')]);
    fs.writeFileSync(path.join(d, 'ünïcødé ✓'), '');
    // A device number with major and minor above 8 bits tests the makedev packing.
    if (process.getuid?.() === 0) execFileSync('mknod', [path.join(d, 'chr'), 'c', '300', '70000']);
    fs.utimesSync(path.join(d, 'file2'), -1234.5, 4e9); // before 1970 and after 2038
  });
  after(async () => {
    for (const b of backends.splice(0)) await b.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function dirOf(b: PosixBackend): Promise<Node> {
    return b.lookup(await b.root(), 'd');
  }

  async function allPages(b: PosixBackend, limit: number): Promise<DirPlusPage[]> {
    const d = await dirOf(b);
    const pages: DirPlusPage[] = [];
    for (let cookie = 0n; ; ) {
      const p = await b.readdirPlus(d, cookie, limit);
      pages.push(p);
      if (p.eof) return pages;
      cookie = p.entries.at(-1)!.cookie;
    }
  }

  /** What a page says, with node keys as hex so deepEqual compares their bytes. */
  const view = (pages: DirPlusPage[]) =>
    pages.map((p) => ({
      eof: p.eof,
      entries: p.entries.map((e) => ({ ...e, node: { key: e.node.key.toString('hex'), fileid: e.node.fileid } })),
    }));

  it('READDIRPLUS pages are identical to the /proc fallback\'s, and statAt is what served them', async () => {
    let calls = 0;
    const fds = openFds();
    const fast = open((fd, name, out) => {
      calls++;
      return statAt!(fd, name, out);
    });
    const plain = open();
    for (const limit of [3, 100]) {
      const want = view(await allPages(plain, limit));
      const got = view(await allPages(fast, limit));
      assert.deepEqual(got, want);
      assert.equal(want.flatMap((p) => p.entries).length, fs.readdirSync(path.join(root, 'd')).length);
    }
    assert.ok(calls >= 2 * fs.readdirSync(path.join(root, 'd')).length, `statAt served the entries (${calls} calls)`);
    await fast.close();
    await plain.close();
    assert.equal(openFds(), fds, 'every descriptor was closed with its backend');
  });

  it('nodes from a statAt page resolve without a scan (the dentry table was filled)', async () => {
    const b = open(statAt);
    const [page] = await allPages(b, 1000);
    for (const e of page!.entries) assert.equal((await b.fromKey(e.node.key)).fileid, e.fileid);
    assert.equal(b.scanCount, 0);
  });

  it('plain READDIR fileids are the same with statAt', async () => {
    const fast = open(statAt);
    const plain = open();
    const got = await fast.readdir(await dirOf(fast), 0n, 1000);
    assert.deepEqual(got, await plain.readdir(await dirOf(plain), 0n, 1000));
  });

  it('an entry removed while its page is served is skipped, as on the lstat path', async () => {
    const victim = path.join(root, 'd', 'victim');
    fs.writeFileSync(victim, '');
    const b = open((fd, name, out) => {
      if (name === 'victim') fs.rmSync(victim); // after the listing was read, before its stat
      return statAt!(fd, name, out);
    });
    const names = (await allPages(b, 1000)).flatMap((p) => p.entries.map((e) => e.name));
    assert.ok(!names.includes('victim'));
    assert.equal(names.length, fs.readdirSync(path.join(root, 'd')).length);
  });
});
