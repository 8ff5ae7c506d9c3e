/**
 * NFSv4.1 sessions over the wire: a retransmission after a reconnect is answered from the slot's
 * cache and never executed twice (CREATE, RENAME, WRITE, LOCK), two connections share a session,
 * the back channel's status flags follow its connection, and open/lock state between clients
 * (share deny, LOCK4denied with the holder, LOCKS_HELD, TEST_STATEID, FREE_STATEID).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Attr4 as A, Nfs4Op as P, Nfs4Stat, Seq4Status } from '../../src/nfs4/constants.js';
import { bitmap4 } from '../../src/nfs4/codec/bitmap.js';
import type { Nfs4ArgOp } from '../../src/nfs4/types.js';
import { V4Conn, V4Session, describeRes, ok, resOf } from '../helpers/nfs4-test-client.js';
import { withServer } from '../helpers/nfs4-server.js';

const mkdir = (dir: Buffer, name: string): Nfs4ArgOp[] => [
  { op: P.PUTFH, args: { object: dir } },
  { op: P.CREATE, args: { objtype: { type: 2 }, objname: name, createattrs: { mask: bitmap4(A.MODE), values: { mode: 0o755 } } } },
];

test('a retransmission after a reconnect is answered from the slot cache: CREATE, RENAME, WRITE and LOCK run once', async () => {
  await withServer(async ({ server, exp, conn }) => {
    fs.writeFileSync(path.join(exp, 'from'), 'x');
    const s = await V4Session.create(conn, 1);
    const dir = await s.lookup(exp);
    const o = await s.open(dir, 'data', { create: true });
    assert.ok(o.stateid, describeRes(o.res));
    // Four non-idempotent requests on four slots; remember each reply.
    const created = await s.run(mkdir(dir, 'made'), { slot: 0, cachethis: true });
    const renamed = await s.run([{ op: P.PUTFH, args: { object: dir } }, { op: P.SAVEFH, args: undefined }, { op: P.RENAME, args: { oldname: 'from', newname: 'to' } }], { slot: 1, cachethis: true });
    const written = await s.run([{ op: P.PUTFH, args: { object: o.fh! } }, { op: P.WRITE, args: { stateid: o.stateid!, offset: 0n, stable: 2, data: Buffer.from('once') } }], { slot: 2 });
    const locked = await s.run([{ op: P.PUTFH, args: { object: o.fh! } }, {
      op: P.LOCK,
      args: { locktype: 2, reclaim: false, offset: 0n, length: 10n, locker: { newLockOwner: true, openSeqid: 0, openStateid: o.stateid!, lockSeqid: 0, lockOwner: { clientid: s.clientid, owner: Buffer.from('L') } } },
    }], { slot: 3 });
    for (const r of [created, renamed, written, locked]) assert.equal(r.status, 0, describeRes(r));
    // The connection goes; the client comes back on a new one and binds it to the session.
    conn.destroy();
    const c2 = await V4Conn.connect(server.port);
    try {
      const bind = await c2.compound(1, [{ op: P.BIND_CONN_TO_SESSION, args: { sessid: s.sessionid, dir: 3, useConnInRdmaMode: false } }]);
      assert.equal(ok(bind, P.BIND_CONN_TO_SESSION).dir, 3);
      const s2 = Object.assign(Object.create(V4Session.prototype) as V4Session, s, { conn: c2 });
      // The same slots and sequence ids again: the first replies, and nothing done twice.
      assert.deepEqual(await s2.run(mkdir(dir, 'made'), { slot: 0, retry: true, cachethis: true }), created);
      assert.deepEqual(await s2.run([{ op: P.PUTFH, args: { object: dir } }, { op: P.SAVEFH, args: undefined }, { op: P.RENAME, args: { oldname: 'from', newname: 'to' } }], { slot: 1, retry: true, cachethis: true }), renamed);
      assert.deepEqual(await s2.run([{ op: P.PUTFH, args: { object: o.fh! } }, { op: P.WRITE, args: { stateid: o.stateid!, offset: 0n, stable: 2, data: Buffer.from('once') } }], { slot: 2, retry: true }), written);
      const relock = await s2.run([{ op: P.PUTFH, args: { object: o.fh! } }, {
        op: P.LOCK,
        args: { locktype: 2, reclaim: false, offset: 0n, length: 10n, locker: { newLockOwner: true, openSeqid: 0, openStateid: o.stateid!, lockSeqid: 0, lockOwner: { clientid: s.clientid, owner: Buffer.from('L') } } },
      }], { slot: 3, retry: true });
      assert.deepEqual(relock, locked);
      assert.equal(ok(relock, P.LOCK).lockStateid.seqid, 1, 'the lock state moved once');
      assert.ok(fs.statSync(path.join(exp, 'made')).isDirectory());
      assert.ok(fs.existsSync(path.join(exp, 'to')) && !fs.existsSync(path.join(exp, 'from')));
      // A retransmission whose arguments differ is a false retry; the next sequence id runs anew.
      const fals = await s2.run(mkdir(dir, 'other'), { slot: 0, retry: true });
      assert.equal(resOf(fals, P.SEQUENCE).status, Nfs4Stat.SEQ_FALSE_RETRY);
      ok(await s2.run(mkdir(dir, 'other'), { slot: 0 }), P.CREATE);
      // A sequence id ahead of the slot is misordered.
      s2.seqids[0] += 1;
      assert.equal(resOf(await s2.run([], { slot: 0 }), P.SEQUENCE).status, Nfs4Stat.SEQ_MISORDERED);
    } finally {
      c2.destroy();
    }
  });
});

test('two connections share a session; the back channel flags follow its connection', async () => {
  await withServer(async ({ server, conn }) => {
    const s = await V4Session.create(conn, 1, { flags: 2 /* CONN_BACK_CHAN */ });
    assert.equal(ok(await s.run([]), P.SEQUENCE).statusFlags, 0, 'a back channel is bound: no flags');
    const c2 = await V4Conn.connect(server.port);
    try {
      const s2 = Object.assign(Object.create(V4Session.prototype) as V4Session, s, { conn: c2 });
      // A SEQUENCE on a new connection binds it to the fore channel (SP4_NONE).
      ok(await s2.run([{ op: P.PUTROOTFH, args: undefined }], { slot: 1 }), P.PUTROOTFH);
      ok(await s.run([{ op: P.PUTROOTFH, args: undefined }], { slot: 0 }), P.PUTROOTFH);
      // The connection carrying the back channel goes: the next SEQUENCE says the path is down.
      conn.destroy();
      await conn.closed;
      for (let i = 0; i < 50 && server.nfs4!.state.clients.session(s.sessionid)!.backConns.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      const flags = ok(await s2.run([], { slot: 1 }), P.SEQUENCE).statusFlags;
      assert.equal(flags, Seq4Status.CB_PATH_DOWN_SESSION | Seq4Status.CB_PATH_DOWN);
      assert.equal(ok(await c2.compound(1, [{ op: P.BIND_CONN_TO_SESSION, args: { sessid: s.sessionid, dir: 3, useConnInRdmaMode: false } }]), P.BIND_CONN_TO_SESSION).dir, 3);
      assert.equal(ok(await s2.run([], { slot: 1 }), P.SEQUENCE).statusFlags, 0, 'bound again');
    } finally {
      c2.destroy();
    }
  });
});

test('share deny and byte-range locks between two clients', async () => {
  await withServer(async ({ server, exp, conn }) => {
    const c2 = await V4Conn.connect(server.port);
    try {
      const a = await V4Session.create(conn, 1);
      const b = await V4Session.create(c2, 2);
      const dir = await a.lookup(exp);
      const oa = await a.open(dir, 'f', { create: true, access: 3, deny: 2 });
      assert.ok(oa.stateid);
      // b may not open for writing what a denies writing to; reading is fine.
      assert.equal(resOf((await b.open(dir, 'f', { access: 2 })).res, P.OPEN).status, Nfs4Stat.SHARE_DENIED);
      const ob = await b.open(dir, 'f', { access: 1 });
      assert.ok(ob.stateid, describeRes(ob.res));
      // a write lock of a; b's read lock over it is denied with a's owner and range.
      const la = ok(await a.run([{ op: P.PUTFH, args: { object: oa.fh! } }, {
        op: P.LOCK,
        args: { locktype: 2, reclaim: false, offset: 100n, length: 50n, locker: { newLockOwner: true, openSeqid: 0, openStateid: oa.stateid!, lockSeqid: 0, lockOwner: { clientid: a.clientid, owner: Buffer.from('LA') } } },
      }]), P.LOCK);
      const lb = resOf(await b.run([{ op: P.PUTFH, args: { object: ob.fh! } }, {
        op: P.LOCK,
        args: { locktype: 1, reclaim: false, offset: 120n, length: 0xffffffffffffffffn, locker: { newLockOwner: true, openSeqid: 0, openStateid: ob.stateid!, lockSeqid: 0, lockOwner: { clientid: b.clientid, owner: Buffer.from('LB') } } },
      }]), P.LOCK);
      assert.equal(lb.status, Nfs4Stat.DENIED);
      assert.deepEqual((lb as { denied: unknown }).denied, { offset: 100n, length: 50n, locktype: 2, owner: { clientid: a.clientid, owner: Buffer.from('LA') } });
      // A write lock on a read-only open is OPENMODE; LOCKT sees a's lock too.
      const wb = resOf(await b.run([{ op: P.PUTFH, args: { object: ob.fh! } }, {
        op: P.LOCK,
        args: { locktype: 2, reclaim: false, offset: 0n, length: 1n, locker: { newLockOwner: true, openSeqid: 0, openStateid: ob.stateid!, lockSeqid: 0, lockOwner: { clientid: b.clientid, owner: Buffer.from('LB') } } },
      }]), P.LOCK);
      assert.equal(wb.status, Nfs4Stat.OPENMODE);
      const lt = resOf(await b.run([{ op: P.PUTFH, args: { object: ob.fh! } }, { op: P.LOCKT, args: { locktype: 1, offset: 149n, length: 1n, owner: { clientid: b.clientid, owner: Buffer.from('LB') } } }]), P.LOCKT);
      assert.equal(lt.status, Nfs4Stat.DENIED);
      // CLOSE while the lock is held; LOCKU; FREE_STATEID of the lock state; CLOSE.
      assert.equal(resOf(await a.run([{ op: P.PUTFH, args: { object: oa.fh! } }, { op: P.CLOSE, args: { seqid: 0, openStateid: oa.stateid! } }]), P.CLOSE).status, Nfs4Stat.LOCKS_HELD);
      const lu = ok(await a.run([{ op: P.PUTFH, args: { object: oa.fh! } }, { op: P.LOCKU, args: { locktype: 2, seqid: 0, lockStateid: la.lockStateid, offset: 0n, length: 0xffffffffffffffffn } }]), P.LOCKU);
      assert.equal(lu.lockStateid.seqid, 2);
      const tested = ok(await a.run([{ op: P.TEST_STATEID, args: { stateids: [la.lockStateid, lu.lockStateid, oa.stateid!, ob.stateid!] } }]), P.TEST_STATEID);
      assert.deepEqual(tested.statusCodes, [Nfs4Stat.OLD_STATEID, 0, 0, Nfs4Stat.BAD_STATEID]);
      ok(await a.run([{ op: P.FREE_STATEID, args: { stateid: lu.lockStateid } }]), P.FREE_STATEID);
      ok(await a.run([{ op: P.PUTFH, args: { object: oa.fh! } }, { op: P.CLOSE, args: { seqid: 0, openStateid: oa.stateid! } }]), P.CLOSE);
      // Now b may open for writing.
      assert.ok((await b.open(dir, 'f', { access: 2, owner: 'other' })).stateid);
      const st = server.nfs4!.status();
      assert.equal(st.clients.length, 2);
      assert.equal(st.counts.opens, 2);
    } finally {
      c2.destroy();
    }
  });
});
