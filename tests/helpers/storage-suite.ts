/**
 * The storage conformance suite: every Backend must pass it. Each test gets a
 * fresh backend from `make()`; after the test the suite calls
 * `backend.close()` and then `cleanup()`.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { MAX_NODE_KEY, type Attrs, type Backend, type Node, type Timestamp } from '../../src/storage/types.js';
import { BufferPool } from '../../src/util/bufpool.js';

const OWNER = { uid: 1234, gid: 5678 };
const processIsRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Assert the promise rejects with an Error carrying this errno code. */
async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof Error, 'rejection is an Error');
    assert.equal((e as { code?: unknown }).code, code);
    return true;
  });
}

/** A backend that cannot chown must leave the process's own ids, and only when unprivileged. */
function assertOwned(a: Attrs): void {
  if (a.uid === OWNER.uid) {
    assert.equal(a.gid, OWNER.gid);
  } else {
    assert.ok(!processIsRoot, 'a root server must give new objects the requested owner');
    assert.equal(a.uid, process.getuid!());
  }
}

function tsLess(a: Timestamp, b: Timestamp): boolean {
  return a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);
}

export function storageConformance(
  name: string,
  make: () => Promise<{ backend: Backend; cleanup(): Promise<void> }>,
): void {
  describe(`storage conformance: ${name}`, () => {
    let b: Backend;
    let cleanup: () => Promise<void>;
    let root: Node;

    beforeEach(async () => {
      const m = await make();
      b = m.backend;
      cleanup = m.cleanup;
      root = await b.root();
    });
    afterEach(async () => {
      await b.close();
      await cleanup();
    });

    const file = async (dir: Node, n: string, content?: Buffer | string): Promise<Node> => {
      const node = await b.create(dir, n, { mode: 0o644, owner: OWNER, exclusive: true });
      if (content !== undefined) {
        const data = Buffer.from(content);
        const w = await b.write(node, 0n, data, 'unstable');
        assert.equal(w.count, data.length);
      }
      return node;
    };
    const dir = (parent: Node, n: string) => b.mkdir(parent, n, 0o755, OWNER);
    const readAll = async (node: Node): Promise<Buffer> => {
      const size = Number((await b.getattr(node)).size);
      const buf = Buffer.alloc(size);
      const r = await b.read(node, 0n, buf);
      assert.equal(r.bytesRead, size);
      return buf;
    };
    const list = async (d: Node, limit = 1000) => {
      const all: { name: string; cookie: bigint; fileid: bigint }[] = [];
      let cookie = 0n;
      for (;;) {
        const p = await b.readdir(d, cookie, limit);
        all.push(...p.entries);
        if (p.eof) return all;
        assert.ok(p.entries.length > 0, 'a page that is not eof has entries');
        cookie = p.entries[p.entries.length - 1].cookie;
      }
    };

    describe('keys and identity', () => {
      it('root is a directory whose parent is itself', async () => {
        const a = await b.getattr(root);
        assert.equal(a.type, 'dir');
        assert.ok(a.fileid > 0n);
        assert.equal(root.fileid, a.fileid);
        const p = await b.parent(root);
        assert.equal(p.fileid, root.fileid);
        assert.ok(p.key.equals(root.key));
      });

      it('keys are short and round-trip for every type', async () => {
        const f = await file(root, 'f', 'x');
        const d = await dir(root, 'd');
        const l = await b.symlink(root, 'l', 'f', 0o777, OWNER);
        for (const n of [root, f, d, l]) {
          assert.ok(n.key.length > 0 && n.key.length <= MAX_NODE_KEY);
          const again = await b.fromKey(Buffer.from(n.key));
          assert.equal(again.fileid, n.fileid);
          assert.ok(again.key.equals(n.key));
          assert.equal((await b.getattr(again)).fileid, n.fileid);
        }
        const viaLookup = await b.lookup(root, 'f');
        assert.ok(viaLookup.key.equals(f.key), 'lookup gives the same key');
      });

      it('foreign or garbage keys are ESTALE', async () => {
        await rejectsWith(b.fromKey(Buffer.alloc(0)), 'ESTALE');
        await rejectsWith(b.fromKey(randomBytes(16)), 'ESTALE');
        await rejectsWith(b.fromKey(randomBytes(MAX_NODE_KEY)), 'ESTALE');
      });

      it('keys of removed objects are ESTALE', async () => {
        const f = await file(root, 'f', 'x');
        const d = await dir(root, 'd');
        await b.remove(root, 'f');
        await b.rmdir(root, 'd');
        await rejectsWith(b.fromKey(f.key), 'ESTALE');
        await rejectsWith(b.fromKey(d.key), 'ESTALE');
        await rejectsWith(b.getattr(f), 'ESTALE');
        await rejectsWith(b.read(f, 0n, Buffer.alloc(1)), 'ESTALE');
        await rejectsWith(b.lookup(d, 'x'), 'ESTALE');
      });

      it('keys survive renames of the object and of its ancestors', async () => {
        const a = await dir(root, 'a');
        const bb = await dir(a, 'b');
        const f = await file(bb, 'f', 'hello');
        await b.rename(root, 'a', root, 'z');
        await b.rename(bb, 'f', bb, 'g');
        const again = await b.fromKey(f.key);
        assert.equal((await readAll(again)).toString(), 'hello');
        assert.equal((await b.lookup(await b.lookup(await b.lookup(root, 'z'), 'b'), 'g')).fileid, f.fileid);
        const p = await b.parent(await b.fromKey(bb.key));
        assert.equal(p.fileid, a.fileid);
      });

      it('a hard-linked file stays reachable after one name goes', async () => {
        const f = await file(root, 'f', 'data');
        const d = await dir(root, 'd');
        await b.link(f, d, 'other');
        await b.remove(root, 'f');
        const again = await b.fromKey(f.key);
        assert.equal((await readAll(again)).toString(), 'data');
        assert.equal((await b.getattr(again)).nlink, 1);
      });

      it('a held file outlives its last name until the last hold goes (hold)', async (t) => {
        if (!b.hold) {
          t.skip(`the ${name} backend has no hold`);
          return;
        }
        const f = await file(root, 'f', 'held');
        const other = await file(root, 'g', 'kept');
        const first = await b.hold(f);
        const second = await b.hold(f);
        await b.remove(root, 'f');
        // Renamed over and removed: a name reusing the inode must not become this file either.
        await b.rename(root, 'g', root, 'f');
        const again = await b.fromKey(f.key);
        assert.equal((await b.getattr(again)).nlink, 0);
        assert.equal((await readAll(again)).toString(), 'held');
        await b.write(again, 4n, Buffer.from('-on'), 'file_sync');
        assert.equal((await b.setattr(again, { size: 6n, mode: 0o600 })).mode & 0o777, 0o600);
        assert.equal((await readAll(again)).toString(), 'held-o');
        assert.equal((await readAll(await b.lookup(root, 'f'))).toString(), 'kept');
        assert.equal((await b.lookup(root, 'f')).fileid, other.fileid);
        first();
        first(); // once only: the second hold still keeps it
        assert.equal((await b.getattr(f)).size, 6n);
        second();
        await rejectsWith(b.fromKey(f.key), 'ESTALE');
        await rejectsWith(b.getattr(f), 'ESTALE');
        await rejectsWith(b.read(f, 0n, Buffer.alloc(1)), 'ESTALE');
        await rejectsWith(b.hold(await dir(root, 'd')), 'EINVAL');
      });

      it('rejects bad names defensively', async () => {
        for (const bad of ['', '.', '..', 'a/b', 'a\0b']) {
          await rejectsWith(b.lookup(root, bad), 'EINVAL');
          await rejectsWith(b.create(root, bad, { mode: 0o644, owner: OWNER, exclusive: false }), 'EINVAL');
        }
      });
    });

    describe('lookup and attributes', () => {
      it('lookup errors', async () => {
        const f = await file(root, 'f');
        await rejectsWith(b.lookup(root, 'missing'), 'ENOENT');
        await rejectsWith(b.lookup(f, 'x'), 'ENOTDIR');
        await rejectsWith(b.parent(f), 'ENOTDIR');
      });

      it('getattr reports type, size, nlink, fileid and owner', async () => {
        const f = await file(root, 'f', 'abc');
        const a = await b.getattr(f);
        assert.equal(a.type, 'reg');
        assert.equal(a.size, 3n);
        assert.equal(a.nlink, 1);
        assert.equal(a.mode, 0o644);
        assert.equal(a.fileid, f.fileid);
        assert.ok(a.used >= 0n);
        assertOwned(a);
      });

      it('setattr mode, size, times', async () => {
        const f = await file(root, 'f', 'hello world');
        assert.equal((await b.setattr(f, { mode: 0o600 })).mode, 0o600);
        assert.equal((await b.setattr(f, { mode: 0o4755 })).mode, 0o4755);
        let a = await b.setattr(f, { size: 5n });
        assert.equal(a.size, 5n);
        assert.equal((await readAll(f)).toString(), 'hello');
        a = await b.setattr(f, { size: 8n });
        assert.deepEqual([...(await readAll(f))], [...Buffer.from('hello'), 0, 0, 0]);
        const atime = { sec: 1_400_000_000, nsec: 987_654_321 };
        const mtime = { sec: 1_500_000_000, nsec: 123_456_789 };
        a = await b.setattr(f, { atime, mtime });
        assert.deepEqual(a.atime, atime);
        assert.deepEqual(a.mtime, mtime);
        const mtime2 = { sec: 1_500_000_001, nsec: 5 };
        a = await b.setattr(f, { mtime: mtime2 });
        assert.deepEqual(a.atime, atime, 'atime untouched when only mtime is set');
        assert.deepEqual(a.mtime, mtime2);
        a = await b.setattr(f, { atime: 'now', mtime: 'now' });
        const now = Date.now() / 1000;
        assert.ok(Math.abs(a.mtime.sec - now) < 60 && Math.abs(a.atime.sec - now) < 60);
        assert.deepEqual(await b.getattr(f), a);
      });

      it('setattr size is only for regular files', async () => {
        const d = await dir(root, 'd');
        const l = await b.symlink(root, 'l', 'd', 0o777, OWNER);
        await rejectsWith(b.setattr(d, { size: 0n }), 'EINVAL');
        await rejectsWith(b.setattr(l, { size: 0n }), 'EINVAL');
      });

      it('setattr uid/gid', async (t) => {
        const f = await file(root, 'f');
        if (!processIsRoot && b.kind === 'posix') return t.skip('needs root');
        const a = await b.setattr(f, { uid: 4321, gid: 8765 });
        assert.equal(a.uid, 4321);
        assert.equal(a.gid, 8765);
        assert.equal((await b.setattr(f, { gid: 1 })).uid, 4321);
      });

      it('writes move mtime forward; entry changes move the directory mtime', async () => {
        const d = await dir(root, 'd');
        const f = await file(d, 'f', 'x');
        const old = { sec: 1_000_000_000, nsec: 0 };
        await b.setattr(f, { mtime: old });
        await b.setattr(d, { mtime: old });
        const before = await b.getattr(f);
        await b.write(f, 0n, Buffer.from('y'), 'unstable');
        const after = await b.getattr(f);
        assert.ok(tsLess(old, after.mtime));
        assert.ok(!tsLess(after.ctime, before.ctime));
        await file(d, 'g');
        assert.ok(tsLess(old, (await b.getattr(d)).mtime));
        await b.setattr(d, { mtime: old });
        await b.remove(d, 'g');
        assert.ok(tsLess(old, (await b.getattr(d)).mtime));
        const c0 = (await b.getattr(f)).ctime;
        await b.setattr(f, { mode: 0o600 });
        assert.ok(!tsLess((await b.getattr(f)).ctime, c0));
      });

      it('statfs is sane', async () => {
        const s = await b.statfs(root);
        assert.ok(s.totalBytes > 0n);
        assert.ok(s.freeBytes <= s.totalBytes && s.availBytes <= s.freeBytes);
        assert.ok(s.freeFiles <= s.totalFiles && s.availFiles <= s.freeFiles);
      });
    });

    describe('create, mkdir, symlink, mknod', () => {
      it('create exclusive and non-exclusive', async () => {
        const f = await b.create(root, 'f', { mode: 0o640, owner: OWNER, exclusive: true });
        const a = await b.getattr(f);
        assert.equal(a.mode, 0o640);
        assert.equal(a.size, 0n);
        assertOwned(a);
        await rejectsWith(b.create(root, 'f', { mode: 0o644, owner: OWNER, exclusive: true }), 'EEXIST');
        await b.write(f, 0n, Buffer.from('keep'), 'unstable');
        const again = await b.create(root, 'f', { mode: 0o600, owner: OWNER, exclusive: false });
        assert.equal(again.fileid, f.fileid);
        assert.equal((await b.getattr(again)).size, 4n, 'non-exclusive create does not truncate');
        await dir(root, 'd');
        await b.symlink(root, 'l', 'f', 0o777, OWNER);
        await rejectsWith(b.create(root, 'd', { mode: 0o644, owner: OWNER, exclusive: false }), 'EEXIST');
        await rejectsWith(b.create(root, 'l', { mode: 0o644, owner: OWNER, exclusive: false }), 'EEXIST');
        const m = await b.create(root, 'wide', { mode: 0o666, owner: OWNER, exclusive: false });
        assert.equal((await b.getattr(m)).mode, 0o666, 'no umask applied');
        await rejectsWith(b.create(f, 'x', { mode: 0o644, owner: OWNER, exclusive: false }), 'ENOTDIR');
      });

      it('mkdir sets mode, owner, and link counts', async () => {
        const d = await b.mkdir(root, 'd', 0o777, OWNER);
        const a = await b.getattr(d);
        assert.equal(a.type, 'dir');
        assert.equal(a.mode, 0o777);
        assert.equal(a.nlink, 2);
        assertOwned(a);
        const before = (await b.getattr(root)).nlink;
        await dir(root, 'e');
        assert.equal((await b.getattr(root)).nlink, before + 1);
        await dir(d, 'sub');
        assert.equal((await b.getattr(d)).nlink, 3);
        await b.rmdir(d, 'sub');
        assert.equal((await b.getattr(d)).nlink, 2);
        await rejectsWith(b.mkdir(root, 'd', 0o755, OWNER), 'EEXIST');
        assert.equal((await b.parent(d)).fileid, root.fileid);
      });

      it('symlinks are created and read, never followed', async () => {
        const d = await dir(root, 'd');
        await file(d, 'inside', 'x');
        const l = await b.symlink(root, 'l', 'd', 0o777, OWNER);
        const a = await b.getattr(l);
        assert.equal(a.type, 'lnk');
        assert.equal(a.size, 1n);
        assert.equal(await b.readlink(l), 'd');
        assert.equal((await b.lookup(root, 'l')).fileid, l.fileid);
        // The link is not a directory for any operation, although it points to one.
        await rejectsWith(b.lookup(l, 'inside'), 'ENOTDIR');
        await rejectsWith(b.readdir(l, 0n, 10), 'ENOTDIR');
        await rejectsWith(b.create(l, 'x', { mode: 0o644, owner: OWNER, exclusive: false }), 'ENOTDIR');
        await rejectsWith(b.mkdir(l, 'x', 0o755, OWNER), 'ENOTDIR');
        await rejectsWith(b.remove(l, 'inside'), 'ENOTDIR');
        await rejectsWith(b.readlink(d), 'EINVAL');
        await rejectsWith(b.symlink(root, 'l', 'x', 0o777, OWNER), 'EEXIST');
        // chmod of a symlink is a no-op.
        assert.equal((await b.setattr(l, { mode: 0o600 })).mode, a.mode);
        assert.equal((await b.getattr(d)).mode, 0o755);
      });

      it('symlink targets of up to 4,095 bytes are kept whole; 4,096 is ENAMETOOLONG', async () => {
        for (const n of [1100, 4095]) {
          const t = 'x'.repeat(n);
          const l = await b.symlink(root, `l${n}`, t, 0o777, OWNER);
          assert.equal(await b.readlink(l), t);
          assert.equal(await b.readlink(await b.lookup(root, `l${n}`)), t);
          assert.equal((await b.getattr(l)).size, BigInt(n));
        }
        await rejectsWith(b.symlink(root, 'l4096', 'x'.repeat(4096), 0o777, OWNER), 'ENAMETOOLONG');
      });

      it('a symlink pointing outside the root is only a link', async () => {
        const l = await b.symlink(root, 'pw', '/etc/passwd', 0o777, OWNER);
        const n = await b.lookup(root, 'pw');
        assert.equal(n.fileid, l.fileid);
        assert.equal((await b.getattr(n)).type, 'lnk');
        assert.equal(await b.readlink(n), '/etc/passwd');
        await assert.rejects(b.read(n, 0n, Buffer.alloc(100)));
        await assert.rejects(b.write(n, 0n, Buffer.from('pwned'), 'file_sync'));
        await rejectsWith(b.setattr(n, { size: 0n }), 'EINVAL');
        await assert.rejects(b.commit(n, 0n, 0));
        await b.remove(root, 'pw');
        await rejectsWith(b.lookup(root, 'pw'), 'ENOENT');
      });

      it('mknod fifo and socket', async () => {
        const fifo = await b.mknod(root, 'fifo', 'fifo', 0o640, { major: 0, minor: 0 }, OWNER);
        const sock = await b.mknod(root, 'sock', 'sock', 0o600, { major: 0, minor: 0 }, OWNER);
        const fa = await b.getattr(fifo);
        assert.equal(fa.type, 'fifo');
        assert.equal(fa.mode, 0o640);
        assertOwned(fa);
        assert.equal((await b.getattr(await b.lookup(root, 'sock'))).type, 'sock');
        assert.equal((await b.getattr(sock)).mode, 0o600);
        await rejectsWith(b.mknod(root, 'fifo', 'fifo', 0o640, { major: 0, minor: 0 }, OWNER), 'EEXIST');
        // Reading a FIFO through the backend must not hang or succeed.
        await assert.rejects(b.read(fifo, 0n, Buffer.alloc(1)));
        const names = (await list(root)).map((e) => e.name).sort();
        assert.deepEqual(names, ['fifo', 'sock']);
      });

      it('mknod devices: created with their numbers, or EPERM when unprivileged', async () => {
        const rdev = { major: 300, minor: 70_000 };
        let dev: Node;
        try {
          dev = await b.mknod(root, 'dev', 'chr', 0o600, rdev, OWNER);
        } catch (e) {
          assert.equal((e as { code?: string }).code, 'EPERM');
          assert.ok(!processIsRoot);
          return;
        }
        const a = await b.getattr(dev);
        assert.equal(a.type, 'chr');
        assert.deepEqual(a.rdev, rdev);
        const blk = await b.mknod(root, 'blk', 'blk', 0o600, { major: 7, minor: 1 }, OWNER);
        assert.equal((await b.getattr(blk)).type, 'blk');
        assert.deepEqual((await b.getattr(blk)).rdev, { major: 7, minor: 1 });
      });
    });

    describe('read, write, commit', () => {
      it('round trips data at offsets, with honest eof', async () => {
        const f = await file(root, 'f', '0123456789');
        let r = await b.read(f, 0n, Buffer.alloc(10));
        assert.deepEqual(r, { bytesRead: 10, eof: true });
        r = await b.read(f, 0n, Buffer.alloc(5));
        assert.deepEqual(r, { bytesRead: 5, eof: false });
        const buf = Buffer.alloc(20);
        r = await b.read(f, 5n, buf);
        assert.deepEqual(r, { bytesRead: 5, eof: true });
        assert.equal(buf.subarray(0, 5).toString(), '56789');
        r = await b.read(f, 100n, Buffer.alloc(10));
        assert.deepEqual(r, { bytesRead: 0, eof: true });
        r = await b.read(f, 10n, Buffer.alloc(0));
        assert.equal(r.eof, true);
        const big = randomBytes(1 << 20);
        const w = await b.write(f, 3n, big, 'unstable');
        assert.equal(w.count, big.length);
        const back = Buffer.alloc(big.length);
        r = await b.read(f, 3n, back);
        assert.equal(r.bytesRead, big.length);
        assert.ok(r.eof);
        assert.ok(back.equals(big));
        assert.equal((await b.getattr(f)).size, BigInt(3 + big.length));
      });

      it('writes past EOF leave zero-filled holes (sparse files)', async () => {
        const f = await file(root, 'f', 'abc');
        await b.write(f, 10n, Buffer.from('z'), 'unstable');
        assert.deepEqual([...(await readAll(f))], [...Buffer.from('abc'), 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('z')]);
        const s = await file(root, 'sparse');
        const off = 64n << 20n;
        await b.write(s, off, Buffer.from('end'), 'unstable');
        const a = await b.getattr(s);
        assert.equal(a.size, off + 3n);
        assert.ok(a.used < a.size / 2n, `sparse file uses ${a.used} of ${a.size}`);
        const hole = Buffer.alloc(65536, 1);
        const r = await b.read(s, 1n << 20n, hole);
        assert.deepEqual(r, { bytesRead: 65536, eof: false });
        assert.ok(hole.every((x) => x === 0));
      });

      it('stable writes report what they achieved; commit succeeds', async () => {
        const f = await file(root, 'f');
        const u = await b.write(f, 0n, Buffer.from('a'), 'unstable');
        assert.ok(['unstable', 'data_sync', 'file_sync'].includes(u.committed));
        const d = await b.write(f, 1n, Buffer.from('b'), 'data_sync');
        assert.ok(d.committed === 'data_sync' || d.committed === 'file_sync');
        const s = await b.write(f, 2n, Buffer.from('c'), 'file_sync');
        assert.equal(s.committed, 'file_sync');
        await b.commit(f, 0n, 0);
        await b.commit(f, 1n, 1);
        assert.equal((await readAll(f)).toString(), 'abc');
      });

      it('zero-copy reads (readLent, readSpliced) give the bytes and eof that read gives', async () => {
        const size = (1 << 20) + 3 * 65536 + 5;
        const content = randomBytes(size);
        const f = await file(root, 'z', content);
        const cases: Array<[number, number]> = [
          [0, 1], [0, 100], [4096, 65536 + 1], [0, 1 << 20], [65537, 1 << 20], [size - 5, 1 << 20], [size, 4096], [size + 10, 65536],
        ];
        for (const [off, count] of cases) {
          const want = Buffer.alloc(count);
          const r = await b.read(f, BigInt(off), want);
          assert.deepEqual(r, { bytesRead: Math.max(0, Math.min(count, size - off)), eof: off + count >= size });
          if (b.readLent) {
            const l = await b.readLent(f, BigInt(off), count);
            assert.ok(l.data.equals(want.subarray(0, r.bytesRead)), `readLent ${off}+${count}`);
            assert.equal(l.eof, r.eof, `readLent eof ${off}+${count}`);
            l.release();
          }
          if (b.readSpliced) {
            const sp = await b.readSpliced(f, BigInt(off), count);
            if (sp === undefined) continue; // no pipe free: allowed, callers fall back
            // A pipe may hold less than asked (it filled up): then not eof, and a prefix of the data.
            assert.ok(sp.length <= r.bytesRead && (sp.length === r.bytesRead || !sp.eof), `readSpliced length ${off}+${count}`);
            const got = Buffer.alloc(sp.length);
            assert.equal(sp.copyRest(got, 0), sp.length);
            assert.ok(got.equals(want.subarray(0, sp.length)), `readSpliced ${off}+${count}`);
            if (sp.length === r.bytesRead) assert.equal(sp.eof, r.eof, `readSpliced eof ${off}+${count}`);
            sp.release();
          }
        }
      });

      it('a sequential reader sees every byte, and a write in the middle of its run', async () => {
        const size = 5 * 262144 + 123;
        const content = randomBytes(size);
        const f = await file(root, 'seq', content);
        const step = 262144;
        const got = Buffer.alloc(size);
        for (let off = 0; off < size; off += step) {
          if (off === 2 * step) {
            // Changes what a read-ahead may already hold for the next range.
            const patch = randomBytes(step);
            await b.write(f, BigInt(off), patch, 'unstable');
            patch.copy(content, off);
          }
          const sp = b.readSpliced ? await b.readSpliced(f, BigInt(off), step) : undefined;
          if (sp !== undefined) {
            assert.equal(sp.length, Math.min(step, size - off));
            sp.copyRest(got, off);
            sp.release();
          } else if (b.readLent) {
            const l = await b.readLent(f, BigInt(off), step);
            l.data.copy(got, off);
            l.release();
          } else {
            await b.read(f, BigInt(off), got.subarray(off, Math.min(size, off + step)));
          }
        }
        assert.ok(got.equals(content));
      });

      it('large aligned writes from page-aligned memory read back like any other, mixed with small ones', async () => {
        const pool = new BufferPool(1 << 20, 2);
        const big = pool.acquire();
        randomBytes(1 << 20).copy(big);
        const f = await file(root, 'aligned', randomBytes(4096 * 3 + 17));
        const expect = Buffer.alloc(4096 + (1 << 20) + 4096);
        (await readAll(f)).copy(expect);
        // A small unaligned write, an aligned 1 MiB one over it, then small ones inside it again.
        await b.write(f, 4096n, big, 'unstable');
        big.copy(expect, 4096);
        await b.write(f, 4096n + 100n, Buffer.from('inside'), 'unstable');
        expect.write('inside', 4096 + 100);
        await b.write(f, BigInt(4096 + (1 << 20)), Buffer.alloc(4096, 7), 'file_sync');
        expect.fill(7, 4096 + (1 << 20));
        await b.write(f, 4096n * 2n, big.subarray(0, 65536 * 2), 'data_sync');
        big.copy(expect, 4096 * 2, 0, 65536 * 2);
        await b.commit(f, 0n, 0);
        assert.ok((await readAll(f)).equals(expect));
        pool.release(big);
      });

      it('data operations on directories fail with EISDIR', async () => {
        const d = await dir(root, 'd');
        await rejectsWith(b.read(d, 0n, Buffer.alloc(1)), 'EISDIR');
        await rejectsWith(b.write(d, 0n, Buffer.from('x'), 'unstable'), 'EISDIR');
        await rejectsWith(b.commit(d, 0n, 0), 'EISDIR');
      });

      it('openFd hands out a working descriptor when supported', async (t) => {
        if (!b.localFd || b.openFd === undefined) {
          assert.equal(b.openFd, undefined, 'openFd exists only when localFd');
          return t.skip('no local descriptors');
        }
        const f = await file(root, 'f', 'local');
        const h = await b.openFd(f, 'r');
        const buf = Buffer.alloc(5);
        assert.equal(fs.readSync(h.fd, buf, 0, 5, 0), 5);
        assert.equal(buf.toString(), 'local');
        await h.close();
        const w = await b.openFd(f, 'rw');
        fs.writeSync(w.fd, 'L', 0, 'utf8');
        await w.close();
        assert.equal((await readAll(f)).toString(), 'Local');
        await rejectsWith(b.openFd(await dir(root, 'd'), 'r'), 'EISDIR');
      });
    });

    describe('remove, rmdir, link', () => {
      it('remove and rmdir errors', async () => {
        await file(root, 'f');
        const d = await dir(root, 'd');
        await file(d, 'inner');
        await rejectsWith(b.remove(root, 'missing'), 'ENOENT');
        await rejectsWith(b.remove(root, 'd'), 'EISDIR');
        await rejectsWith(b.rmdir(root, 'f'), 'ENOTDIR');
        await rejectsWith(b.rmdir(root, 'd'), 'ENOTEMPTY');
        await b.remove(d, 'inner');
        await b.rmdir(root, 'd');
        await b.remove(root, 'f');
        assert.deepEqual(await list(root), []);
      });

      it('hard links share the object and count links', async () => {
        const f = await file(root, 'f', 'same');
        const d = await dir(root, 'd');
        await b.link(f, d, 'g');
        const g = await b.lookup(d, 'g');
        assert.equal(g.fileid, f.fileid);
        assert.equal((await b.getattr(f)).nlink, 2);
        await rejectsWith(b.link(f, d, 'g'), 'EEXIST');
        await rejectsWith(b.link(d, root, 'dirlink'), 'EPERM');
        await b.write(g, 0n, Buffer.from('S'), 'unstable');
        assert.equal((await readAll(f)).toString(), 'Same');
        await b.remove(root, 'f');
        assert.equal((await b.getattr(g)).nlink, 1);
      });
    });

    describe('rename', () => {
      it('moves files within and across directories, keeping identity', async () => {
        const f = await file(root, 'f', 'x');
        const d = await dir(root, 'd');
        await b.rename(root, 'f', root, 'g');
        await rejectsWith(b.lookup(root, 'f'), 'ENOENT');
        assert.equal((await b.lookup(root, 'g')).fileid, f.fileid);
        await b.rename(root, 'g', d, 'h');
        assert.equal((await b.lookup(d, 'h')).fileid, f.fileid);
        assert.equal((await b.getattr(await b.fromKey(f.key))).fileid, f.fileid);
        await rejectsWith(b.rename(root, 'missing', root, 'x'), 'ENOENT');
      });

      it('replaces files and empty directories; the replaced object goes stale', async () => {
        const a = await file(root, 'a', 'A');
        const t = await file(root, 't', 'T');
        await b.rename(root, 'a', root, 't');
        assert.equal((await b.lookup(root, 't')).fileid, a.fileid);
        assert.equal((await readAll(a)).toString(), 'A');
        await rejectsWith(b.fromKey(t.key), 'ESTALE');
        const d1 = await dir(root, 'd1');
        const d2 = await dir(root, 'd2');
        await b.rename(root, 'd1', root, 'd2');
        assert.equal((await b.lookup(root, 'd2')).fileid, d1.fileid);
        await rejectsWith(b.fromKey(d2.key), 'ESTALE');
      });

      it('follows rename(2) rules for incompatible targets', async () => {
        const d = await dir(root, 'd');
        const sub = await dir(d, 'sub');
        const full = await dir(root, 'full');
        await file(full, 'x');
        await file(root, 'f');
        await rejectsWith(b.rename(root, 'd', root, 'full'), 'ENOTEMPTY');
        await rejectsWith(b.rename(root, 'd', sub, 'inside'), 'EINVAL');
        await rejectsWith(b.rename(root, 'f', root, 'd'), 'EISDIR');
        await rejectsWith(b.rename(root, 'd', root, 'f'), 'ENOTDIR');
        // Nothing moved.
        assert.deepEqual((await list(root)).map((e) => e.name).sort(), ['d', 'f', 'full']);
      });

      it('no-ops: same name, or two links to one file', async () => {
        const f = await file(root, 'f', 'x');
        await b.rename(root, 'f', root, 'f');
        assert.equal((await b.lookup(root, 'f')).fileid, f.fileid);
        await b.link(f, root, 'g');
        await b.rename(root, 'f', root, 'g');
        assert.equal((await b.lookup(root, 'f')).fileid, f.fileid);
        assert.equal((await b.lookup(root, 'g')).fileid, f.fileid);
        assert.equal((await b.getattr(f)).nlink, 2);
      });

      it('moving a directory updates link counts and its parent', async () => {
        const p1 = await dir(root, 'p1');
        const p2 = await dir(root, 'p2');
        const c = await dir(p1, 'c');
        await file(c, 'leaf', 'deep');
        assert.equal((await b.getattr(p1)).nlink, 3);
        await b.rename(p1, 'c', p2, 'c2');
        assert.equal((await b.getattr(p1)).nlink, 2);
        assert.equal((await b.getattr(p2)).nlink, 3);
        assert.equal((await b.parent(c)).fileid, p2.fileid);
        assert.equal((await readAll(await b.lookup(c, 'leaf'))).toString(), 'deep');
        // Over an empty directory elsewhere.
        const p3 = await dir(root, 'p3');
        await dir(p3, 'slot');
        await b.rename(p2, 'c2', p3, 'slot');
        assert.equal((await b.getattr(p2)).nlink, 2);
        assert.equal((await b.getattr(p3)).nlink, 3);
      });
    });

    describe('deep trees', () => {
      it('a tree deeper than PATH_MAX works: every operation at the bottom, keys after renaming the top, removal', async () => {
        const name = 'n'.repeat(200);
        const chain: Node[] = [await dir(root, 'top')];
        for (let i = 0; i < 26; i++) chain.push(await dir(chain.at(-1)!, name)); // 5,226 bytes below the root
        const bottom = chain.at(-1)!;
        const f = await file(bottom, 'f', 'bottom');
        assert.equal((await b.setattr(f, { mode: 0o600 })).mode, 0o600);
        assert.equal((await b.setattr(f, { size: 3n })).size, 3n);
        await b.link(f, bottom, 'f2');
        await b.rename(bottom, 'f2', bottom, 'f3');
        await b.symlink(bottom, 'sl', 'f', 0o777, OWNER);
        await b.mknod(bottom, 'fifo', 'fifo', 0o644, { major: 0, minor: 0 }, OWNER);
        await dir(bottom, 'sub');
        assert.deepEqual((await list(bottom)).map((e) => e.name).sort(), ['f', 'f3', 'fifo', 'sl', 'sub']);
        // Rename the top: the bottom's keys still resolve, and the data is there.
        await b.rename(root, 'top', root, 'top2');
        const again = await b.fromKey(f.key);
        const buf = Buffer.alloc(8);
        assert.equal((await b.read(again, 0n, buf)).bytesRead, 3);
        assert.equal(buf.subarray(0, 3).toString(), 'bot');
        assert.equal((await b.fromKey(bottom.key)).fileid, bottom.fileid);
        // Remove it all from the bottom up.
        for (const n of ['f', 'f3', 'sl', 'fifo']) await b.remove(bottom, n);
        await b.rmdir(bottom, 'sub');
        for (let i = chain.length - 1; i > 0; i--) await b.rmdir(chain[i - 1], name);
        await b.rmdir(root, 'top2');
        assert.deepEqual(await list(root), []);
        await rejectsWith(b.fromKey(f.key), 'ESTALE');
      });

      it('names of NAME_MAX bytes work; longer ones are ENAMETOOLONG', async () => {
        const max = 'm'.repeat(255);
        const d = await dir(root, max);
        assert.equal((await b.lookup(root, max)).fileid, d.fileid);
        await rejectsWith(b.mkdir(root, max + 'x', 0o755, OWNER), 'ENAMETOOLONG');
        await rejectsWith(b.lookup(root, max + 'x'), 'ENAMETOOLONG');
      });
    });

    describe('readdir', () => {
      it('empty directories and non-directories', async () => {
        const d = await dir(root, 'd');
        assert.deepEqual(await b.readdir(d, 0n, 10), { entries: [], eof: true });
        const f = await file(root, 'f');
        await rejectsWith(b.readdir(f, 0n, 10), 'ENOTDIR');
      });

      it('cookies are unique, not 0/1/2, fileids match lookup, pages cover everything', async () => {
        const d = await dir(root, 'd');
        const names = Array.from({ length: 53 }, (_, i) => `entry-${i}`);
        for (const n of names) await file(d, n);
        await dir(d, 'subdir');
        names.push('subdir');
        const all = await list(d, 7);
        assert.deepEqual(all.map((e) => e.name).sort(), [...names].sort());
        const cookies = new Set(all.map((e) => e.cookie));
        assert.equal(cookies.size, all.length);
        for (const c of cookies) assert.ok(c > 2n);
        for (const e of all.slice(0, 10)) assert.equal((await b.lookup(d, e.name)).fileid, e.fileid);
        // Limit 1 pages, and the last page says eof.
        assert.equal((await list(d, 1)).length, names.length);
        const last = all[all.length - 1];
        assert.deepEqual(await b.readdir(d, last.cookie, 10), { entries: [], eof: true });
      });

      it('a listing resumed after deletions neither skips nor repeats survivors', async () => {
        const d = await dir(root, 'd');
        for (let i = 0; i < 60; i++) await file(d, `f${i}`);
        const before = new Map((await list(d)).map((e) => [e.name, e.cookie]));
        const seen: string[] = [];
        let cookie = 0n;
        for (let pageNo = 0; pageNo < 3; pageNo++) {
          const p = await b.readdir(d, cookie, 7);
          seen.push(...p.entries.map((e) => e.name));
          cookie = p.entries[p.entries.length - 1].cookie;
        }
        const unseen = [...before.keys()].filter((n) => !seen.includes(n));
        const deleted = [...seen.slice(0, 5), seen[seen.length - 1], ...unseen.slice(0, 5)];
        for (const n of deleted) await b.remove(d, n);
        await file(d, 'new-entry');
        const rest: string[] = [];
        for (;;) {
          const p = await b.readdir(d, cookie, 7);
          rest.push(...p.entries.map((e) => e.name));
          if (p.eof) break;
          cookie = p.entries[p.entries.length - 1].cookie;
        }
        const survivors = [...before.keys()].filter((n) => !deleted.includes(n));
        const got = [...seen.filter((n) => !deleted.includes(n)), ...rest.filter((n) => n !== 'new-entry')];
        assert.deepEqual([...got].sort(), [...survivors].sort(), 'every survivor exactly once');
        assert.equal(new Set(rest).size, rest.length);
        for (const n of rest) assert.ok(!seen.includes(n), `${n} repeated`);
        // Survivors keep their cookies.
        const after = new Map((await list(d)).map((e) => [e.name, e.cookie]));
        for (const n of survivors) assert.equal(after.get(n), before.get(n), `cookie of ${n} changed`);
        // Resuming from a deleted entry's cookie continues right after it.
        const gone = before.get(deleted[6])!;
        const fromGone = (await b.readdir(d, gone, 1000)).entries.map((e) => e.name).sort();
        const expected = [...after].filter(([, c]) => c > gone).map(([n]) => n).sort();
        assert.deepEqual(fromGone, expected);
      });

      it('readdirPlus, when offered, matches readdir with attributes', async (t) => {
        if (b.readdirPlus === undefined) return t.skip('not offered');
        const d = await dir(root, 'd');
        for (let i = 0; i < 12; i++) await file(d, `p${i}`, 'x'.repeat(i));
        const plain = await list(d, 5);
        const plus: { name: string; cookie: bigint }[] = [];
        let cookie = 0n;
        for (;;) {
          const p = await b.readdirPlus(d, cookie, 5);
          for (const e of p.entries) {
            assert.equal(e.attrs.fileid, e.fileid);
            assert.equal(e.node.fileid, e.fileid);
            assert.equal(e.attrs.size, BigInt(Number(e.name.slice(1))));
            assert.ok((await b.fromKey(e.node.key)).fileid === e.fileid);
          }
          plus.push(...p.entries);
          if (p.eof) break;
          cookie = p.entries[p.entries.length - 1].cookie;
        }
        assert.deepEqual(
          plus.map((e) => [e.name, e.cookie]),
          plain.map((e) => [e.name, e.cookie]),
        );
      });
    });

    describe('NFSv4.2 calls, when offered (seek, allocate, deallocate, copyRange, clone, xattrs)', () => {
      const MiB = 1 << 20;
      it('seek: data and holes, the end of the file a hole, ENXIO at or past it', async (t) => {
        if (b.seek === undefined) return t.skip('not offered');
        const f = await file(root, 'sparse');
        await b.write(f, 0n, Buffer.alloc(4096, 1), 'unstable');
        await b.write(f, BigInt(4 * MiB), Buffer.alloc(4096, 2), 'unstable');
        const size = BigInt(4 * MiB + 4096);
        assert.equal(await b.seek(f, 0n, 'data'), 0n);
        const hole = await b.seek(f, 0n, 'hole');
        assert.ok(hole >= 4096n && hole <= size, `a hole after the first data (${hole})`);
        const data2 = await b.seek(f, 8192n, 'data');
        assert.ok(data2 >= 8192n && data2 <= BigInt(4 * MiB), `data again by the second write (${data2})`);
        assert.equal(await b.seek(f, size - 1n, 'hole'), size, 'the end of the file is a hole');
        await rejectsWith(b.seek(f, size, 'data'), 'ENXIO');
        await rejectsWith(b.seek(f, size + 100n, 'hole'), 'ENXIO');
      });

      it('allocate reserves and extends; deallocate punches a hole that reads zeros, keeping the size', async (t) => {
        if (b.allocate === undefined || b.deallocate === undefined) return t.skip('not offered');
        const f = await file(root, 'alloc', Buffer.alloc(10000, 7));
        await b.allocate(f, 8192n, BigInt(MiB));
        const a = await b.getattr(f);
        assert.equal(a.size, BigInt(8192 + MiB), 'allocate past the end extends the file');
        assert.ok(a.used >= BigInt(MiB), `space is used (${a.used})`);
        const data = await readAll(f);
        assert.deepEqual(data.subarray(0, 8192), Buffer.alloc(8192, 7));
        assert.ok(data.subarray(10000).every((x) => x === 0), 'allocated space reads zeros');
        await b.deallocate(f, 100n, 9000n);
        const after = await readAll(f);
        assert.equal(after.length, 8192 + MiB, 'the size does not change');
        assert.deepEqual(after.subarray(0, 100), Buffer.alloc(100, 7));
        assert.ok(after.subarray(100, 9100).every((x) => x === 0), 'the punched range reads zeros');
        assert.deepEqual(after.subarray(9100, 10000), Buffer.alloc(900, 7));
      });

      it('copyRange copies bytes between files, to the source end with count 0, fewer past it', async (t) => {
        if (b.copyRange === undefined) return t.skip('not offered');
        const src = randomBytes(300_000);
        const s = await file(root, 'src', src);
        const d = await file(root, 'dst', Buffer.alloc(10, 9));
        assert.equal(await b.copyRange(s, 1000n, d, 5n, 50_000n), 50_000n);
        const got = await readAll(d);
        assert.deepEqual(got.subarray(0, 5), Buffer.alloc(5, 9));
        assert.deepEqual(got.subarray(5), src.subarray(1000, 51_000));
        assert.equal(await b.copyRange(s, 299_000n, d, 0n, 0n), 1000n, 'count 0: to the end of the source');
        assert.equal(await b.copyRange(s, 299_500n, d, 0n, 10_000n), 500n, 'fewer at the source end');
      });

      it('clone shares a range, or refuses as the file system does', async (t) => {
        if (b.clone === undefined) return t.skip('not offered');
        const src = randomBytes(8192);
        const s = await file(root, 'csrc', src);
        const d = await file(root, 'cdst');
        try {
          await b.clone(s, 0n, d, 0n, 8192n);
          assert.deepEqual(await readAll(d), src);
        } catch (e) {
          assert.ok(['EOPNOTSUPP', 'ENOTSUP', 'EXDEV', 'EINVAL'].includes((e as { code?: string }).code ?? ''), String(e));
        }
      });

      it('xattrs: set, get, list, replace, remove, with EEXIST and ENODATA; directories too', async (t) => {
        if (!b.getxattr || !b.setxattr || !b.listxattr || !b.removexattr) return t.skip('not offered');
        for (const node of [await file(root, 'xf', 'x'), await dir(root, 'xd')]) {
          await rejectsWith(b.getxattr(node, 'user.a'), 'ENODATA');
          await b.setxattr(node, 'user.a', Buffer.from('one'), 'create');
          await rejectsWith(b.setxattr(node, 'user.a', Buffer.from('two'), 'create'), 'EEXIST');
          await rejectsWith(b.setxattr(node, 'user.b', Buffer.from('two'), 'replace'), 'ENODATA');
          await b.setxattr(node, 'user.a', Buffer.from('two'), 'replace');
          await b.setxattr(node, 'user.b', Buffer.alloc(0), 'either');
          assert.deepEqual(await b.getxattr(node, 'user.a'), Buffer.from('two'));
          assert.deepEqual(await b.getxattr(node, 'user.b'), Buffer.alloc(0));
          assert.deepEqual((await b.listxattr(node)).filter((n) => n.startsWith('user.')).sort(), ['user.a', 'user.b']);
          await b.removexattr(node, 'user.a');
          await rejectsWith(b.removexattr(node, 'user.a'), 'ENODATA');
          assert.deepEqual((await b.listxattr(node)).filter((n) => n.startsWith('user.')), ['user.b']);
        }
      });
    });
  });
}
