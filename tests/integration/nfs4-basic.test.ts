/**
 * NFSv4.1 / 4.2 against the server in this process: sessions, the pseudo-filesystem, files
 * created, written, read, listed and removed over COMPOUNDs, through the test client made of the
 * codec (tests/helpers/nfs4-test-client.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Attr4 as A, Nfs4Op as P, Nfs4Stat, nfs4StatName } from '../../src/nfs4/constants.js';
import { bitmap4 } from '../../src/nfs4/codec/bitmap.js';
import { V4Session, describeRes, ok, resOf } from '../helpers/nfs4-test-client.js';
import { withServer } from '../helpers/nfs4-server.js';

test('a session reaches the export through the pseudo-root and does file work', async () => {
  await withServer(async ({ exp, conn }) => {
    fs.writeFileSync(path.join(exp, 'hello.txt'), 'hello v4\n');
    const s = await V4Session.create(conn, 1);
    const dir = await s.lookup(exp);
    // GETATTR of the export root: a directory of its own fsid.
    const ga = ok(await s.run([{ op: P.PUTFH, args: { object: dir } }, { op: P.GETATTR, args: { attrRequest: bitmap4(A.TYPE, A.FSID, A.MODE, A.MOUNTED_ON_FILEID, A.FILEID) } }]), P.GETATTR);
    assert.equal(ga.attrs.values.type, 2);
    // OPEN an existing file, READ it, CLOSE.
    const o = await s.open(dir, 'hello.txt', { access: 1 });
    assert.ok(o.stateid, describeRes(o.res));
    const rd = ok(await s.run([{ op: P.PUTFH, args: { object: o.fh! } }, { op: P.READ, args: { stateid: o.stateid!, offset: 0n, count: 100 } }]), P.READ);
    assert.equal(rd.data.toString(), 'hello v4\n');
    assert.equal(rd.eof, true);
    ok(await s.run([{ op: P.PUTFH, args: { object: o.fh! } }, { op: P.CLOSE, args: { seqid: 0, openStateid: o.stateid! } }]), P.CLOSE);
    // Create, write, read back, list, remove.
    const n = await s.open(dir, 'new.bin', { create: true });
    assert.ok(n.stateid, describeRes(n.res));
    const data = Buffer.alloc(300_000, 7);
    const wr = ok(await s.run([{ op: P.PUTFH, args: { object: n.fh! } }, { op: P.WRITE, args: { stateid: n.stateid!, offset: 0n, stable: 2, data } }]), P.WRITE);
    assert.equal(wr.count, data.length);
    assert.deepEqual(fs.readFileSync(path.join(exp, 'new.bin')), data);
    // A READ of 1 MiB (the Linux 6.12 client's size) comes back whole, not cut short by the session's reply bound.
    const big = Buffer.alloc(3 << 20, 3);
    fs.writeFileSync(path.join(exp, 'big.bin'), big);
    const b = await s.open(dir, 'big.bin', { access: 1, owner: 'reader' });
    const whole = ok(await s.run([{ op: P.PUTFH, args: { object: b.fh! } }, { op: P.READ, args: { stateid: b.stateid!, offset: 1n << 20n, count: 1 << 20 } }]), P.READ);
    assert.equal(whole.data.length, 1 << 20);
    assert.equal(whole.eof, false);
    const list = ok(await s.run([{ op: P.PUTFH, args: { object: dir } }, { op: P.READDIR, args: { cookie: 0n, cookieverf: Buffer.alloc(8), dircount: 8192, maxcount: 32768, attrRequest: bitmap4(A.TYPE, A.SIZE, A.FILEID) } }]), P.READDIR);
    assert.ok(list.eof);
    assert.deepEqual(list.entries.map((e) => e.name).sort(), ['big.bin', 'hello.txt', 'new.bin']);
    ok(await s.run([{ op: P.PUTFH, args: { object: n.fh! } }, { op: P.CLOSE, args: { seqid: 0, openStateid: n.stateid! } }]), P.CLOSE);
    ok(await s.run([{ op: P.PUTFH, args: { object: dir } }, { op: P.REMOVE, args: { target: 'new.bin' } }]), P.REMOVE);
    assert.ok(!fs.existsSync(path.join(exp, 'new.bin')));
    await s.destroy();
  });
});

test('minor version 0 is NFS4ERR_MINOR_VERS_MISMATCH; an op before SEQUENCE is OP_NOT_IN_SESSION', async () => {
  await withServer(async ({ conn }) => {
    const r0 = await conn.compound(0, [{ op: P.PUTROOTFH, args: undefined }]);
    assert.equal(r0.status, Nfs4Stat.MINOR_VERS_MISMATCH, nfs4StatName(r0.status));
    assert.equal(r0.results.length, 0);
    const r1 = await conn.compound(1, [{ op: P.PUTROOTFH, args: undefined }]);
    assert.equal(resOf(r1, P.PUTROOTFH).status, Nfs4Stat.OP_NOT_IN_SESSION);
  });
});

test('metrics count each v4 operation and its errors; status lists clients with sessions, opens and locks', async () => {
  await withServer(async ({ server, exp, conn }) => {
    const s = await V4Session.create(conn, 1);
    const dir = await s.lookup(exp);
    const o = await s.open(dir, 'locked', { create: true });
    ok(await s.run([{ op: P.PUTFH, args: { object: o.fh! } }, {
      op: P.LOCK,
      args: { locktype: 2, reclaim: false, offset: 0n, length: 0xffffffffffffffffn, locker: { newLockOwner: true, openSeqid: 0, openStateid: o.stateid!, lockSeqid: 0, lockOwner: { clientid: s.clientid, owner: Buffer.from('L') } } },
    }]), P.LOCK);
    assert.equal(resOf(await s.run([{ op: P.PUTFH, args: { object: dir } }, { op: P.LOOKUP, args: { objname: 'missing' } }]), P.LOOKUP).status, Nfs4Stat.NOENT);
    const a = server.metricsAddress!;
    const text = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.ok(value('nfslocalio_rpc_calls_total{program="nfs4",procedure="SEQUENCE"}') >= 4, text.slice(0, 2000));
    assert.equal(value('nfslocalio_rpc_calls_total{program="nfs4",procedure="LOCK"}'), 1);
    assert.equal(value('nfslocalio_rpc_errors_total{program="nfs4",procedure="LOOKUP",status="NFS4ERR_NOENT"}'), 1);
    assert.ok(value('nfslocalio_rpc_calls_total{program="nfs4",procedure="COMPOUND"}') >= 5);
    assert.equal(value('nfslocalio_nfs4_clients'), 1);
    assert.equal(value('nfslocalio_nfs4_sessions'), 1);
    assert.equal(value('nfslocalio_nfs4_open_files'), 1);
    assert.equal(value('nfslocalio_nfs4_locks'), 1);
    const st = server.status();
    const { formatServerStatus } = await import('../../src/cli/status.js');
    const shown = formatServerStatus(st);
    assert.match(shown, /NFSv4\.1\/4\.2: lease 90s, owners numeric; 1 clients, 1 sessions, 1 opens, 1 locks/);
    assert.match(shown, new RegExp(`${s.clientid.toString(16)} open fh [0-9a-f]+… access both deny none, locks: write 0\\+EOF`));
    // Everything goes with the client (DESTROY_CLIENTID): the gauges return to zero.
    await s.destroy();
    assert.deepEqual(server.nfs4!.state.counts(), { clients: 0, sessions: 0, opens: 0, lockStates: 0, locks: 0, cachedBytes: 0 });
  }, { server: { metrics: '127.0.0.1:0' } });
});

test('one port: PROG_MISMATCH says 3..4; NULL of v4; LOCALIO answers on a connection that carries NFSv4', async () => {
  await withServer(async ({ conn }) => {
    const s = await V4Session.create(conn, 2);
    ok(await s.run([{ op: P.PUTROOTFH, args: undefined }]), P.PUTROOTFH);
    const mism = await conn.call(2, [], { vers: 5, proc: 0 });
    assert.equal(mism.kind, 'rpc');
    const h = (mism as { header: { stat?: string; mismatch?: unknown } }).header;
    assert.deepEqual([h.stat, h.mismatch], ['PROG_MISMATCH', { low: 3, high: 4 }]);
    const nul = await conn.call(2, [], { proc: 0 });
    assert.equal(nul.kind === 'rpc' && nul.header.kind === 'accepted' && nul.header.stat, 'SUCCESS');
    // Program 400122 version 1 NULL on the same connection (LOCALIO is on by default).
    const lio = await conn.call(2, [], { prog: 400122, vers: 1, proc: 0 });
    assert.equal(lio.kind === 'rpc' && lio.header.kind === 'accepted' && lio.header.stat, 'SUCCESS');
    // A known operation we do not implement is NOTSUPP, never OP_ILLEGAL (GET_DIR_DELEGATION, which newer Linux clients send).
    const gdd = await s.run([{ op: P.PUTROOTFH, args: undefined }, { op: P.GET_DIR_DELEGATION, args: { signalDelegAvail: false, notificationTypes: [], childAttrDelay: { seconds: 0n, nseconds: 0 }, dirAttrDelay: { seconds: 0n, nseconds: 0 }, childAttributes: [], dirAttributes: [] } }]);
    assert.equal(resOf(gdd, P.GET_DIR_DELEGATION).status, Nfs4Stat.NOTSUPP);
  }, { server: { localio: true } });
});
