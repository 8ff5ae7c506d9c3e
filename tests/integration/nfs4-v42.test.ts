/**
 * NFSv4.2 over the wire against the server in this process (POSIX backend with the addon, as
 * served): SEEK over a sparse file, ALLOCATE and DEALLOCATE, COPY, CLONE, READ_PLUS rebuilt
 * byte for byte from its segments, and user.* extended attributes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Nfs4Op as P, Nfs4Stat, nfs4StatName } from '../../src/nfs4/constants.js';
import { storageCalls } from '../../src/localio/native.js';
import type { Stateid4 } from '../../src/nfs4/types.js';
import { V4Session, describeRes, ok, resOf } from '../helpers/nfs4-test-client.js';
import { withServer } from '../helpers/nfs4-server.js';

const native = storageCalls().v42 !== undefined;
const MiB = 1 << 20;

test('SEEK, ALLOCATE, DEALLOCATE, READ_PLUS and COPY on a sparse file', { skip: !native && 'needs the native addon' }, async () => {
  await withServer(async ({ exp, conn }) => {
    const p = path.join(exp, 'sparse');
    const head = randomBytes(8192);
    const tail = randomBytes(5000);
    fs.writeFileSync(p, head);
    const fd = fs.openSync(p, 'r+');
    fs.writeSync(fd, tail, 0, tail.length, 3 * MiB);
    fs.closeSync(fd);
    const size = 3 * MiB + 5000;
    const s = await V4Session.create(conn, 2);
    const dir = await s.lookup(exp);
    const o = await s.open(dir, 'sparse', { access: 3 });
    assert.ok(o.stateid, describeRes(o.res));
    const fh = o.fh!;
    const sid = o.stateid!;
    const seek = async (offset: bigint, what: number) => resOf(await s.run([{ op: P.PUTFH, args: { object: fh } }, { op: P.SEEK, args: { stateid: sid, offset, what } }]), P.SEEK);
    assert.deepEqual(await seek(0n, 0), { status: 0, eof: false, offset: 0n });
    const hole = await seek(0n, 1);
    assert.equal(hole.status, 0);
    assert.ok((hole as { offset: bigint }).offset >= 8192n && (hole as { offset: bigint }).offset < BigInt(3 * MiB));
    const data = await seek(16384n, 0);
    assert.equal((data as { offset: bigint }).offset, BigInt(3 * MiB));
    assert.deepEqual(await seek(BigInt(3 * MiB), 1), { status: 0, eof: true, offset: BigInt(size) });
    assert.equal((await seek(BigInt(size), 0)).status, Nfs4Stat.NXIO);

    // READ_PLUS over everything: data and hole segments that rebuild the file exactly.
    const rebuilt = Buffer.alloc(size);
    let pos = 0n;
    let eof = false;
    let holes = 0;
    while (!eof) {
      const r = ok(await s.run([{ op: P.PUTFH, args: { object: fh } }, { op: P.READ_PLUS, args: { stateid: sid, offset: pos, count: MiB } }]), P.READ_PLUS);
      assert.ok(r.contents.length > 0);
      for (const seg of r.contents) {
        assert.equal(seg.offset, pos, 'segments are contiguous');
        if (seg.type === 0) {
          seg.data.copy(rebuilt, Number(seg.offset));
          pos += BigInt(seg.data.length);
        } else {
          holes++;
          pos += (seg as { length: bigint }).length;
        }
      }
      eof = r.eof;
    }
    assert.equal(pos, BigInt(size));
    assert.ok(holes > 0, 'the hole came as a hole');
    assert.deepEqual(rebuilt, fs.readFileSync(p));

    // DEALLOCATE punches the head; ALLOCATE past the end extends.
    ok(await s.run([{ op: P.PUTFH, args: { object: fh } }, { op: P.DEALLOCATE, args: { stateid: sid, offset: 0n, length: 4096n } }]), P.DEALLOCATE);
    const now = fs.readFileSync(p);
    assert.ok(now.subarray(0, 4096).every((x) => x === 0));
    assert.deepEqual(now.subarray(4096, 8192), head.subarray(4096));
    ok(await s.run([{ op: P.PUTFH, args: { object: fh } }, { op: P.ALLOCATE, args: { stateid: sid, offset: BigInt(size), length: 4096n } }]), P.ALLOCATE);
    assert.equal(fs.statSync(p).size, size + 4096);

    // COPY into a new file, synchronous, UNSTABLE with the write verifier.
    const d = await s.open(dir, 'copy', { create: true, owner: 'o2' });
    const cp = ok(await s.run([
      { op: P.PUTFH, args: { object: fh } },
      { op: P.SAVEFH, args: undefined },
      { op: P.PUTFH, args: { object: d.fh! } },
      { op: P.COPY, args: { srcStateid: sid, dstStateid: d.stateid!, srcOffset: BigInt(3 * MiB), dstOffset: 0n, count: 5000n, consecutive: true, synchronous: true, sourceServers: [] } },
    ]), P.COPY);
    assert.equal(cp.response.count, 5000n);
    assert.deepEqual(cp.requirements, { consecutive: true, synchronous: true });
    assert.deepEqual(fs.readFileSync(path.join(exp, 'copy')), tail);
    // Overlapping ranges of one file are INVAL; CLONE works or is NOTSUPP where the file system cannot reflink.
    const same = resOf(await s.run([
      { op: P.PUTFH, args: { object: fh } }, { op: P.SAVEFH, args: undefined },
      { op: P.COPY, args: { srcStateid: sid, dstStateid: sid, srcOffset: 0n, dstOffset: 100n, count: 1000n, consecutive: true, synchronous: true, sourceServers: [] } },
    ]), P.COPY);
    assert.equal(same.status, Nfs4Stat.INVAL);
    const cl = resOf(await s.run([
      { op: P.PUTFH, args: { object: fh } }, { op: P.SAVEFH, args: undefined }, { op: P.PUTFH, args: { object: d.fh! } },
      { op: P.CLONE, args: { srcStateid: sid, dstStateid: d.stateid!, srcOffset: 0n, dstOffset: 0n, count: 4096n } },
    ]), P.CLONE);
    assert.ok(cl.status === 0 || cl.status === Nfs4Stat.NOTSUPP, nfs4StatName(cl.status));
  });
});

test('user.* extended attributes: set, get, list, replace, remove', { skip: !native && 'needs the native addon' }, async () => {
  await withServer(async ({ exp, conn }) => {
    fs.writeFileSync(path.join(exp, 'x'), 'x');
    const s = await V4Session.create(conn, 2);
    const fh = await s.lookup(path.join(exp, 'x'));
    const run = (...ops: Parameters<V4Session['run']>[0]) => s.run([{ op: P.PUTFH, args: { object: fh } }, ...ops]);
    assert.equal(resOf(await run({ op: P.GETXATTR, args: { name: 'comment' } }), P.GETXATTR).status, Nfs4Stat.NOXATTR);
    ok(await run({ op: P.SETXATTR, args: { option: 1, key: 'comment', value: Buffer.from('hello') } }), P.SETXATTR);
    assert.equal(resOf(await run({ op: P.SETXATTR, args: { option: 1, key: 'comment', value: Buffer.from('again') } }), P.SETXATTR).status, Nfs4Stat.EXIST);
    assert.equal(resOf(await run({ op: P.SETXATTR, args: { option: 2, key: 'other', value: Buffer.from('v') } }), P.SETXATTR).status, Nfs4Stat.NOXATTR);
    ok(await run({ op: P.SETXATTR, args: { option: 0, key: 'other', value: Buffer.from('v') } }), P.SETXATTR);
    assert.deepEqual(ok(await run({ op: P.GETXATTR, args: { name: 'comment' } }), P.GETXATTR).value, Buffer.from('hello'));
    const list = ok(await run({ op: P.LISTXATTRS, args: { cookie: 0n, maxcount: 4096 } }), P.LISTXATTRS);
    assert.deepEqual(list.names, ['comment', 'other']);
    assert.equal(list.eof, true);
    const one = ok(await run({ op: P.LISTXATTRS, args: { cookie: 0n, maxcount: 16 + 12 } }), P.LISTXATTRS);
    assert.deepEqual([one.names, one.eof], [['comment'], false]);
    assert.equal(resOf(await run({ op: P.LISTXATTRS, args: { cookie: 0n, maxcount: 8 } }), P.LISTXATTRS).status, Nfs4Stat.TOOSMALL);
    ok(await run({ op: P.REMOVEXATTR, args: { name: 'comment' } }), P.REMOVEXATTR);
    assert.equal(resOf(await run({ op: P.REMOVEXATTR, args: { name: 'comment' } }), P.REMOVEXATTR).status, Nfs4Stat.NOXATTR);
  });
});

test('4.2 operations are OP_ILLEGAL in a 4.1 COMPOUND', async () => {
  await withServer(async ({ conn }) => {
    const s = await V4Session.create(conn, 1);
    const r = await s.run([{ op: P.PUTROOTFH, args: undefined }, { op: P.SEEK, args: { stateid: { seqid: 0, other: Buffer.alloc(12) } as Stateid4, offset: 0n, what: 0 } }]);
    assert.equal(r.status, Nfs4Stat.OP_ILLEGAL);
  });
});
