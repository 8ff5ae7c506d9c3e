/**
 * PosixBackend specifics: keys that survive a restart, inode reuse, symlinks
 * out of the export, and the descriptor cache.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PosixBackend } from '../../src/storage/index.js';
import { DirectWrites } from '../../src/storage/direct-write.js';
import type { FdEntry } from '../../src/storage/posix-fdcache.js';
import { BufferPool } from '../../src/util/bufpool.js';
import { spliceCalls, statCalls } from '../helpers/native.js';
import type { Node } from '../../src/storage/index.js';

const OWNER = { uid: 1234, gid: 5678 };
const isCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;
const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('PosixBackend', () => {
  let tmp: string;
  let root: string;
  const backends: PosixBackend[] = [];
  const open = (opts?: ConstructorParameters<typeof PosixBackend>[1]) => {
    const b = new PosixBackend(root, opts);
    backends.push(b);
    return b;
  };

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfs-posix-'));
    root = path.join(tmp, 'export');
    fs.mkdirSync(root);
  });
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function makeTree(b: PosixBackend) {
    const r = await b.root();
    const d = await b.mkdir(r, 'd', 0o755, OWNER);
    const sub = await b.mkdir(d, 'sub', 0o755, OWNER);
    const f = await b.create(sub, 'file', { mode: 0o644, owner: OWNER, exclusive: true });
    await b.write(f, 0n, Buffer.from('content'), 'file_sync');
    const gone = await b.create(r, 'gone', { mode: 0o644, owner: OWNER, exclusive: true });
    return { r, d, sub, f, gone };
  }

  async function readText(b: PosixBackend, n: Node): Promise<string> {
    const buf = Buffer.alloc(100);
    const r = await b.read(n, 0n, buf);
    return buf.subarray(0, r.bytesRead).toString();
  }

  it('a restarted backend resolves earlier keys by scanning (renamed parents, deletions)', async () => {
    const a = open();
    const t = await makeTree(a);
    await a.rename(t.r, 'd', t.r, 'renamed');
    await a.remove(t.r, 'gone');
    await a.close();

    const b = open();
    assert.equal(b.persistentKeys, true);
    // Concurrent misses share one scan, which fills the table for all of them.
    const nodes = await Promise.all([t.f, t.sub, t.d].map((n) => b.fromKey(n.key)));
    assert.deepEqual(nodes.map((n) => n.fileid), [t.f.fileid, t.sub.fileid, t.d.fileid]);
    assert.equal(b.scanCount, 1);
    const f = await b.fromKey(t.f.key);
    assert.equal(f.fileid, t.f.fileid);
    assert.equal(await readText(b, f), 'content');
    assert.equal((await b.parent(await b.fromKey(t.sub.key))).fileid, t.d.fileid);
    await assert.rejects(b.fromKey(t.gone.key), isCode('ESTALE'));
    assert.ok((await b.fromKey(t.r.key)).key.equals(t.r.key));
    assert.equal(b.scanCount, 1, 'no further scans: the first one filled the table');
  });

  it('with a state directory the dentry table is persisted and no scan is needed', async () => {
    const stateDir = path.join(tmp, 'state');
    const a = open({ stateDir });
    const t = await makeTree(a);
    await a.rename(t.d, 'sub', t.r, 'moved');
    await a.close();
    assert.equal(fs.readdirSync(stateDir).length, 1);

    const b = open({ stateDir });
    assert.equal(await readText(b, await b.fromKey(t.f.key)), 'content');
    assert.equal(b.scanCount, 0);
  });

  it('finds objects moved behind its back, and reports ESTALE for ones deleted behind its back', async () => {
    const b = open();
    const t = await makeTree(b);
    fs.renameSync(path.join(root, 'd'), path.join(root, 'elsewhere'));
    assert.equal(await readText(b, await b.fromKey(t.f.key)), 'content');
    fs.rmSync(path.join(root, 'elsewhere'), { recursive: true });
    await assert.rejects(b.fromKey(t.sub.key), isCode('ESTALE'));
    await assert.rejects(b.getattr(t.f), isCode('ESTALE'));
  });

  it('removing one name of a hard-linked file right after a scan keeps the other reachable', async () => {
    const a = open();
    const t = await makeTree(a);
    await a.link(t.f, t.r, 'alias');
    await a.close();
    const b = open();
    await b.fromKey(t.f.key); // restart: a scan fills the table
    const scans = b.scanCount;
    await b.remove(t.r, 'alias');
    await b.remove(t.sub, 'file').catch(() => undefined);
    await assert.rejects(b.fromKey(t.f.key), isCode('ESTALE'));
    // And the other way round: the recorded name goes, the other survives.
    fs.writeFileSync(path.join(root, 'c'), 'c'); // not created through b: no cached descriptor pins it
    const c = await b.lookup(t.r, 'c');
    await b.link(c, t.d, 'c2');
    await b.remove(t.r, 'c');
    assert.equal((await b.getattr(await b.fromKey(c.key))).nlink, 1);
    assert.ok(b.scanCount > scans);
  });

  it('a reused inode number does not resolve to the new file', async (t) => {
    const b = open();
    const r = await b.root();
    const old = await b.create(r, 'victim', { mode: 0o644, owner: OWNER, exclusive: true });
    await b.remove(r, 'victim');
    // Forged generation: same inode, other birth time.
    const forged = Buffer.from(old.key);
    forged[forged.length - 1] ^= 1;
    await assert.rejects(b.fromKey(forged), isCode('ESTALE'));
    // Real reuse: ext4/xfs/tmpfs hand a freed inode number out again quickly.
    let reused: Node | undefined;
    for (let i = 0; i < 50 && reused === undefined; i++) {
      const n = await b.create(r, `new${i}`, { mode: 0o644, owner: OWNER, exclusive: true });
      if (n.fileid === old.fileid) reused = n;
    }
    if (reused === undefined) return t.skip('the filesystem did not reuse the inode number');
    if (fs.lstatSync(root, { bigint: true }).birthtimeNs === 0n) {
      return t.skip('no birth time on this filesystem: reuse is undetectable');
    }
    assert.ok(!old.key.equals(reused.key), 'a new file with a reused inode number gets a new key');
    await assert.rejects(b.fromKey(old.key), isCode('ESTALE'));
    await assert.rejects(b.getattr(old), isCode('ESTALE'));
    assert.equal((await b.fromKey(reused.key)).fileid, old.fileid);
  });

  it('never follows a symlink out of the export', async () => {
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    const secret = path.join(outside, 'secret');
    fs.writeFileSync(secret, 'top secret', { mode: 0o644 });
    fs.chmodSync(secret, 0o644);
    const before = fs.lstatSync(secret, { bigint: true });

    const b = open();
    const r = await b.root();
    const etc = await b.symlink(r, 'etc', '/etc', 0o777, OWNER);
    const out = await b.symlink(r, 'out', outside, 0o777, OWNER);
    const sec = await b.symlink(r, 'sec', secret, 0o777, OWNER);

    // /etc: read-only probes only.
    assert.equal((await b.getattr(await b.lookup(r, 'etc'))).type, 'lnk');
    await assert.rejects(b.lookup(etc, 'passwd'), isCode('ENOTDIR'));
    await assert.rejects(b.readdir(etc, 0n, 10), isCode('ENOTDIR'));
    await assert.rejects(b.read(await b.lookup(r, 'etc'), 0n, Buffer.alloc(10)));

    // Mutations aimed through links at a file outside the export.
    await assert.rejects(b.read(sec, 0n, Buffer.alloc(10)));
    await assert.rejects(b.write(sec, 0n, Buffer.from('pwned'), 'unstable'));
    await assert.rejects(b.setattr(sec, { size: 0n }), isCode('EINVAL'));
    await assert.rejects(b.openFd!(sec, 'rw'));
    await b.setattr(sec, { mode: 0o600 });
    await b.setattr(sec, { mtime: { sec: 1_000_000_000, nsec: 1 }, atime: 'now' });
    await b.setattr(sec, { mtime: { sec: 1_000_000_000, nsec: 0 } });
    if (process.getuid?.() === 0) await b.setattr(sec, { uid: 4321, gid: 4321 });
    await assert.rejects(b.lookup(out, 'secret'), isCode('ENOTDIR'));
    await assert.rejects(b.create(out, 'x', { mode: 0o644, owner: OWNER, exclusive: false }), isCode('ENOTDIR'));
    await assert.rejects(b.remove(out, 'secret'), isCode('ENOTDIR'));
    await assert.rejects(b.rename(out, 'secret', r, 'stolen'), isCode('ENOTDIR'));
    await assert.rejects(b.mknod(out, 'fifo', 'fifo', 0o644, { major: 0, minor: 0 }, OWNER), isCode('ENOTDIR'));
    // A hard link to the symlink links the symlink itself.
    await b.link(sec, r, 'hardlink');
    assert.equal((await b.getattr(await b.lookup(r, 'hardlink'))).type, 'lnk');

    const after = fs.lstatSync(secret, { bigint: true });
    assert.equal(fs.readFileSync(secret, 'utf8'), 'top secret');
    assert.equal(after.mode, before.mode);
    assert.equal(after.uid, before.uid);
    assert.equal(after.mtimeNs, before.mtimeNs);
    assert.deepEqual(fs.readdirSync(outside), ['secret']);
    // The link's own times were set instead.
    assert.equal(fs.lstatSync(path.join(root, 'sec'), { bigint: true }).mtimeNs, 1_000_000_000_000_000_000n);
  });

  it('caches descriptors: repeated reads reuse one, close() releases all', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
    for (const n of names) fs.writeFileSync(path.join(root, n), Buffer.alloc(1 << 20, n));
    await fs.promises.stat(root); // any lazily opened runtime descriptors exist before counting
    const before = openFds();
    const b = open();
    const r = await b.root();
    const base = openFds(); // the backend holds its export root's descriptor
    const nodes = await Promise.all(names.map((n) => b.lookup(r, n)));
    const buf = Buffer.alloc(1 << 20);
    for (let i = 0; i < 20; i++) {
      const res = await b.read(nodes[0], 0n, buf);
      assert.deepEqual(res, { bytesRead: 1 << 20, eof: true });
    }
    assert.equal(openFds(), base + 1, 'twenty reads of one file hold one descriptor');
    for (const n of nodes) await b.read(n, 0n, buf);
    await b.write(nodes[1], 0n, Buffer.from('w'), 'unstable');
    assert.equal(openFds(), base + names.length + 1, 'one read-only per file plus one read-write');
    await b.close();
    assert.equal(openFds(), before);
    await assert.rejects(b.read(nodes[0], 0n, buf), isCode('EIO'));
  });

  it('bounds the descriptor cache', async () => {
    for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(root, `f${i}`), 'x');
    const base = openFds();
    const b = open({ fdCacheSize: 4 });
    const r = await b.root();
    for (let i = 0; i < 12; i++) {
      await b.read(await b.lookup(r, `f${i}`), 0n, Buffer.alloc(1));
      assert.ok(b.cachedFds <= 4, `cache holds ${b.cachedFds}`);
    }
    await b.close(); // awaits pending closes too
    assert.equal(openFds(), base);
  });

  it('flush-behind: a long unstable stream is flushed in the background; close waits for it and leaks nothing', async () => {
    const base = openFds();
    const b = open({ flushBehindBytes: 1024 * 1024 });
    const r = await b.root();
    const f = await b.create(r, 'stream', { mode: 0o644, owner: OWNER, exclusive: true });
    const chunk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < 20; i++) await b.write(f, BigInt(i * chunk.length), chunk.fill(i), 'unstable');
    await b.commit(f, 0n, 0);
    for (let i = 20; i < 28; i++) await b.write(f, BigInt(i * chunk.length), chunk.fill(i), 'unstable');
    await b.close(); // with background flushes possibly still running
    assert.equal(openFds(), base);
    const data = fs.readFileSync(path.join(root, 'stream'));
    assert.equal(data.length, 28 * chunk.length);
    for (let i = 0; i < 28; i++) assert.equal(data[i * chunk.length + 7], i & 0xff);
  });

  it('direct writes: large aligned writes from page-aligned memory skip the page cache, the rest does not', async (t) => {
    const base = openFds();
    const b = open();
    const r = await b.root();
    const f = await b.create(r, 'd', { mode: 0o644, owner: OWNER, exclusive: true });
    const pool = new BufferPool(1 << 20, 1);
    const big = pool.acquire().fill(0x5a);
    await b.write(f, 0n, big, 'unstable');
    if (b.direct.off !== undefined) return t.skip(`no direct I/O on ${tmp}: ${b.direct.off}`);
    assert.deepEqual(b.direct.stats, { writes: 1, bytes: 1 << 20, fallbacks: 0 }, `direct writes ${b.direct.off ?? 'on'}`);
    // Unaligned offset, too small, or memory not known to be aligned: through the page cache.
    await b.write(f, 100n, big.subarray(0, 256 * 1024), 'unstable');
    await b.write(f, 0n, big.subarray(0, 4096), 'unstable');
    await b.write(f, 1n << 20n, Buffer.alloc(256 * 1024, 0x33), 'unstable');
    assert.equal(b.direct.stats.writes, 1);
    await b.commit(f, 0n, 0);
    const back = fs.readFileSync(path.join(root, 'd'));
    assert.equal(back.length, (1 << 20) + 256 * 1024);
    assert.ok(back.subarray(0, 1 << 20).every((x) => x === 0x5a));
    assert.ok(back.subarray(1 << 20).every((x) => x === 0x33));
    pool.release(big);
    await b.close(); // the O_DIRECT descriptor goes with the file's own
    assert.equal(openFds(), base);
  });

  it('direct writes turn themselves off where files cannot be opened with O_DIRECT', async () => {
    const d = new DirectWrites(4096);
    const pool = new BufferPool(65536, 1);
    const buf = pool.acquire();
    assert.ok(d.suits(buf, 0));
    const dirFd = fs.openSync(root, 'r');
    try {
      const e: FdEntry = { fd: dirFd, ino: 1n, gen: 0n, rw: true, refs: 1, lastUse: 0, dead: false };
      assert.equal(await d.write(e, buf, 0), 0, 'nothing written directly: the caller writes it all');
      assert.match(d.off ?? '', /O_DIRECT/);
      assert.ok(!d.suits(buf, 0), 'off for good');
      assert.equal(e.direct, undefined);
    } finally {
      fs.closeSync(dirFd);
    }
    assert.match(new DirectWrites(0).off ?? '', /off/);
  });

  it('spliced reads: a pipe given back with bytes in it is never reused, and pipes are bounded and closed', async (t) => {
    const splice = spliceCalls();
    if (splice === undefined) return t.skip('no native splice');
    const base = openFds();
    fs.writeFileSync(path.join(root, 'a'), Buffer.alloc(200000, 'a'));
    fs.writeFileSync(path.join(root, 'b'), Buffer.alloc(200000, 'b'));
    const b = open({ splice, spliceBytes: 256 * 1024 });
    const r = await b.root();
    const fa = await b.lookup(r, 'a');
    const fb = await b.lookup(r, 'b');
    const first = (await b.readSpliced!(fa, 0n, 65536))!;
    assert.equal(first.length, 65536);
    first.release(); // unsent: its bytes must not turn up in another read
    const second = (await b.readSpliced!(fb, 100n, 65536))!;
    const got = Buffer.alloc(second.length);
    second.copyRest(got, 0);
    assert.ok(got.every((x) => x === 0x62), 'only b bytes');
    second.release();
    assert.equal(await b.readSpliced!(fa, 0n, 512 * 1024), undefined, 'larger than a pipe: not spliced');
    const held = [];
    for (;;) {
      const s = await b.readSpliced!(fa, 0n, 4096);
      if (s === undefined) break;
      held.push(s);
      assert.ok(held.length <= 64, 'the pipe pool is bounded');
    }
    assert.ok(held.length >= 8, `${held.length} pipes`);
    for (const s of held) {
      s.copyRest(Buffer.alloc(s.length), 0);
      s.release();
    }
    await b.close();
    assert.equal(openFds(), base, 'every pipe and descriptor closed');
  });

  /** A directory of `n` files, made long enough ago that a listing of it is kept (and stat'ed ahead). */
  const filledDir = async (name: string, n: number) => {
    fs.mkdirSync(path.join(root, name));
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(root, name, `f${i}`), 'x'.repeat(i));
    // A listing read within the clock's granularity of the directory's last change is not kept
    // (nor stat'ed ahead): let that pass.
    await new Promise((r) => setTimeout(r, 60));
  };
  /** Every page of a listing of `name`, `size` entries a page, as rows of what the stats gave; `pauseMs` between pages. */
  const pagesOf = async (be: PosixBackend, name: string, size: number, pauseMs = 0) => {
    const d = await be.lookup(await be.root(), name);
    const pages = [];
    for (let cookie = 0n; ; ) {
      const p = await be.readdirPlus(d, cookie, size);
      pages.push(p.entries.map((e) => [e.name, e.fileid, e.attrs.mode, e.attrs.size, e.attrs.mtime.sec, e.attrs.mtime.nsec]));
      if (p.eof) return pages;
      cookie = p.entries.at(-1)!.cookie;
      // by the wall clock: a timer alone may fire early by Date.now() (libuv counts from its cached loop time)
      for (const t = Date.now(); pauseMs && Date.now() - t < pauseMs; ) await new Promise((r) => setTimeout(r, 1));
    }
  };

  it('stat-ahead: pages take the stats made ahead for them, equal to stats made then, never older than a change', async (t) => {
    const native = statCalls();
    if (native === undefined) return t.skip('no native statMany');
    await filledDir('many', 300);
    // How old stats may be is the next test's subject: here no page may miss them for being slow.
    const b = open({ ...native, statAheadMs: 60_000 });
    const plain = open(); // stats every entry as it is served
    assert.deepEqual(await pagesOf(b, 'many', 40), await pagesOf(plain, 'many', 40));
    assert.ok(b.statAheadStats.served >= 200, `served ${JSON.stringify(b.statAheadStats)}`);
    // A change through the backend between pages: the page showing it takes no stat from before it.
    const d = await b.lookup(await b.root(), 'many');
    const p1 = await b.readdirPlus(d, 0n, 40);
    const p2 = await b.readdirPlus(d, p1.entries.at(-1)!.cookie, 40); // stats for pages 3 and 4 are under way
    const all = await plain.readdirPlus(await plain.lookup(await plain.root(), 'many'), 0n, 1000);
    const victim = all.entries[100]; // on page 3
    await b.setattr(await b.lookup(d, victim.name), { mode: 0o600 });
    const served = b.statAheadStats.served;
    const p3 = await b.readdirPlus(d, p2.entries.at(-1)!.cookie, 40);
    const seen = p3.entries.find((e) => e.name === victim.name);
    assert.ok(seen, 'the changed entry is on page 3');
    assert.equal(seen.attrs.mode, 0o600);
    assert.equal(b.statAheadStats.served, served, 'nothing from before the change was served');
  });

  it('stat-ahead: stats older than statAheadMs are not used; the page stats its entries then', async (t) => {
    const native = statCalls();
    if (native === undefined) return t.skip('no native statMany');
    await filledDir('aged', 120);
    const b = open({ ...native, statAheadMs: 0 });
    const plain = open();
    // 2 ms between pages: every batch taken ahead (stamped when it started, before its page returned) is then older than 0 ms
    assert.deepEqual(await pagesOf(b, 'aged', 20, 2), await pagesOf(plain, 'aged', 20));
    assert.ok(b.statAheadStats.batches >= 1, `stats were taken ahead: ${JSON.stringify(b.statAheadStats)}`);
    assert.equal(b.statAheadStats.served, 0, 'none of them was used');
  });

  it('sees files created behind its back and lists a large directory page by page', async () => {
    const big = path.join(root, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < 500; i++) fs.writeFileSync(path.join(big, `n${i}`), '');
    const b = open();
    const d = await b.lookup(await b.root(), 'big');
    const names = new Set<string>();
    let cookie = 0n;
    for (;;) {
      const p = await b.readdir(d, cookie, 23);
      for (const e of p.entries) {
        assert.ok(!names.has(e.name));
        names.add(e.name);
      }
      if (p.eof) break;
      cookie = p.entries[p.entries.length - 1].cookie;
    }
    assert.equal(names.size, 500);
    const n = await b.lookup(d, 'n42');
    assert.equal(n.fileid, fs.lstatSync(path.join(big, 'n42'), { bigint: true }).ino);
  });

  it('reports rdev and fileid from lstat', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root for device nodes');
    const b = open();
    const dev = await b.mknod(await b.root(), 'null', 'chr', 0o666, { major: 1, minor: 3 }, OWNER);
    const st = fs.lstatSync(path.join(root, 'null'), { bigint: true });
    const a = await b.getattr(dev);
    assert.deepEqual(a.rdev, { major: 1, minor: 3 });
    assert.equal(a.fileid, st.ino);
    assert.equal(a.uid, OWNER.uid);
    // Never opened: reading a device through the backend is refused.
    await assert.rejects(b.read(dev, 0n, Buffer.alloc(1)), isCode('EINVAL'));
  });
});
