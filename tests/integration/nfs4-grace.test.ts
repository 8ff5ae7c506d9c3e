/**
 * Restart and grace over the wire (docs/nfs4.md, "Restart and grace"): a server stopped and
 * started again on the same state directory lets the clients it had reclaim — OPEN with
 * CLAIM_PREVIOUS on the handle, LOCK with reclaim — and nothing else until they have: a new
 * OPEN, LOCK, LOCKT or I/O with a special stateid is NFS4ERR_GRACE, READ and WRITE with
 * reclaimed stateids work. A client without a record, or after its RECLAIM_COMPLETE, or after the
 * grace period: NFS4ERR_NO_GRACE; a delegation reclaim NFS4ERR_RECLAIM_BAD; a reclaim that
 * conflicts with another's NFS4ERR_RECLAIM_CONFLICT. EXCHANGE_ID, SEQUENCE, the write verifier,
 * status and metrics say what RFC 8881 and docs/operations.md say. (kill -9 restarts are
 * tests/client/restart4.test.ts's and the kernel client's, tests/interop/kernel-nfs4-restart.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Nfs4Op as P, Nfs4Stat } from '../../src/nfs4/constants.js';
import { ExchgId4Flag, Seq4Status } from '../../src/nfs4/flags.js';
import type { Nfs4ArgOp, Stateid4 } from '../../src/nfs4/types.js';
import { NfsServer } from '../../src/server/index.js';
import { formatServerStatus } from '../../src/cli/status.js';
import { V4Conn, V4Session, describeRes, ok, resOf } from '../helpers/nfs4-test-client.js';

const ANON: Stateid4 = { seqid: 0, other: Buffer.alloc(12) };
const VERF_A = Buffer.alloc(8, 0xa);
const VERF_B = Buffer.alloc(8, 0xb);

function reclaimOpen(s: V4Session, fh: Buffer, owner: string, access: number, o: { deny?: number; delegateType?: number; create?: boolean } = {}): Nfs4ArgOp[] {
  return [
    { op: P.PUTFH, args: { object: fh } },
    {
      op: P.OPEN,
      args: {
        seqid: 0,
        shareAccess: access,
        shareDeny: o.deny ?? 0,
        owner: { clientid: s.clientid, owner: Buffer.from(owner) },
        openhow: o.create ? { opentype: 1, how: { mode: 0, createattrs: { mask: [], values: {} } } } : { opentype: 0 },
        claim: { claim: 1, delegateType: o.delegateType ?? 0 },
      },
    },
  ];
}

function lock(s: V4Session, fh: Buffer, open: Stateid4, owner: string, o: { reclaim: boolean; start?: bigint; length?: bigint }): Nfs4ArgOp[] {
  return [
    { op: P.PUTFH, args: { object: fh } },
    {
      op: P.LOCK,
      args: { locktype: 2, reclaim: o.reclaim, offset: o.start ?? 0n, length: o.length ?? 10n, locker: { newLockOwner: true, openSeqid: 0, openStateid: open, lockSeqid: 0, lockOwner: { clientid: s.clientid, owner: Buffer.from(owner) } } },
    },
  ];
}

const write = (fh: Buffer, stateid: Stateid4, data: string, stable: 0 | 2 = 2): Nfs4ArgOp[] => [
  { op: P.PUTFH, args: { object: fh } },
  { op: P.WRITE, args: { stateid, offset: 0n, stable, data: Buffer.from(data) } },
];

async function metricsText(server: NfsServer): Promise<string> {
  const a = server.metricsAddress!;
  return (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
}

test('after a restart the previous clients reclaim their opens and locks in the grace period; nothing else opens, locks or writes with special stateids until they have', async () => {
  const exp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-grace-exp-'));
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-grace-state-'));
  const start = () => NfsServer.start({ exports: { text: `${exp} 127.0.0.1(rw,insecure,no_root_squash)\n` }, port: 0, stateDir: state, control: false, localio: false, graceTime: 60, metrics: '0' });
  let server = await start();
  const conns: V4Conn[] = [];
  const connect = async () => {
    const c = await V4Conn.connect(server.port);
    conns.push(c);
    return c;
  };
  try {
    // ---- the first instance: A holds f (write lock on 0..10) and g (read, deny write); B holds f open.
    const a1 = await V4Session.create(await connect(), 1, { owner: 'client A', verifier: VERF_A });
    const b1 = await V4Session.create(await connect(), 1, { owner: 'client B', verifier: VERF_B });
    const dir = await a1.lookup(exp);
    const fa = await a1.open(dir, 'f', { create: true, owner: 'oa' });
    const ga = await a1.open(dir, 'g', { create: true, owner: 'og', access: 1, deny: 2 });
    const fb = await b1.open(dir, 'f', { owner: 'ob' });
    assert.ok(fa.stateid && ga.stateid && fb.stateid);
    ok(await a1.run(lock(a1, fa.fh!, fa.stateid!, 'la', { reclaim: false })), P.LOCK);
    const verf1 = ok(await a1.run(write(fa.fh!, fa.stateid!, 'before', 0)), P.WRITE).writeverf;
    assert.equal(server.nfs4!.graceStatus().records, 2, 'A and B have records');
    // ---- a clean restart on the same state directory.
    await server.close();
    server = await start();
    let g = server.nfs4!.graceStatus();
    assert.equal(g.active, true);
    assert.equal(g.pendingCount, 2);
    assert.deepEqual(g.pending.map((p) => `${p.owner}:${p.state}`).sort(), ['client A:waiting', 'client B:waiting']);
    assert.match(await metricsText(server), /^nfslocalio_nfs4_grace_active 1$/m);
    assert.match(await metricsText(server), /^nfslocalio_nfs4_grace_clients_pending 2$/m);
    const shown = formatServerStatus(server.status());
    assert.match(shown, /grace period: \d+s of 60s left; 2 of 2 previous clients still to reclaim/);
    assert.match(shown, /not back yet client A\n/);

    // The old session and client are gone; A's EXCHANGE_ID gets a new, unconfirmed client id.
    const old = await (await connect()).compound(1, [{ op: P.SEQUENCE, args: { sessionid: a1.sessionid, sequenceid: 99, slotid: 0, highestSlotid: 0, cachethis: false } }]);
    assert.equal(old.status, Nfs4Stat.BADSESSION);
    const cs = await (await connect()).compound(1, [{ op: P.CREATE_SESSION, args: { clientid: a1.clientid, sequence: 2, flags: 0, foreChanAttrs: { headerPadSize: 0, maxRequestSize: 8192, maxResponseSize: 8192, maxResponseSizeCached: 2048, maxOperations: 8, maxRequests: 4 }, backChanAttrs: { headerPadSize: 0, maxRequestSize: 4096, maxResponseSize: 4096, maxResponseSizeCached: 0, maxOperations: 2, maxRequests: 1 }, cbProgram: 1, secParms: [{ flavor: 0 }] } }]);
    assert.equal(cs.status, Nfs4Stat.STALE_CLIENTID);
    const a = await V4Session.create(await connect(), 1, { owner: 'client A', verifier: VERF_A, reclaimComplete: false });
    assert.equal(a.exchangeFlags & ExchgId4Flag.CONFIRMED_R, 0, 'a new client id: the client knows it must reclaim');
    const seq = resOf(await a.run([]), P.SEQUENCE);
    assert.equal(seq.status, 0);
    assert.equal((seq as { statusFlags: number }).statusFlags & Seq4Status.RESTART_RECLAIM_NEEDED, 0, 'never set: our sessions do not survive a restart (docs/nfs4.md)');

    // A new client (no record) and a completed one are held off; special stateids too.
    const c = await V4Session.create(await connect(), 1, { owner: 'client C' });
    assert.equal(resOf((await c.open(dir, 'new', { create: true, owner: 'oc' })).res, P.OPEN).status, Nfs4Stat.GRACE);
    assert.equal(resOf(await c.run(reclaimOpen(c, fa.fh!, 'oc', 3)), P.OPEN).status, Nfs4Stat.NO_GRACE, 'no record: nothing to reclaim');
    assert.equal(resOf(await c.run(write(fa.fh!, ANON, 'anon')), P.WRITE).status, Nfs4Stat.GRACE);
    assert.equal(resOf(await c.run([{ op: P.PUTFH, args: { object: fa.fh! } }, { op: P.LOCKT, args: { locktype: 2, offset: 0n, length: 1n, owner: { clientid: c.clientid, owner: Buffer.from('t') } } }]), P.LOCKT).status, Nfs4Stat.GRACE);

    // A reclaims: the open of f, its lock, the open of g (its deny mode); a delegation it never had is RECLAIM_BAD.
    assert.equal(resOf(await a.run(reclaimOpen(a, fa.fh!, 'oa', 3, { delegateType: 1 })), P.OPEN).status, Nfs4Stat.RECLAIM_BAD);
    assert.equal(resOf(await a.run(reclaimOpen(a, fa.fh!, 'oa', 3, { create: true })), P.OPEN).status, Nfs4Stat.INVAL);
    assert.equal(resOf(await a.run(reclaimOpen(a, dir, 'oa', 3)), P.OPEN).status, Nfs4Stat.ISDIR);
    const fr = ok(await a.run(reclaimOpen(a, fa.fh!, 'oa', 3)), P.OPEN).stateid;
    assert.equal(resOf(await a.run(lock(a, fa.fh!, fr, 'la2', { reclaim: false })), P.LOCK).status, Nfs4Stat.GRACE, 'a new lock before its RECLAIM_COMPLETE');
    const lr = ok(await a.run(lock(a, fa.fh!, fr, 'la', { reclaim: true })), P.LOCK).lockStateid;
    ok(await a.run(reclaimOpen(a, ga.fh!, 'og', 1, { deny: 2 })), P.OPEN);
    // Its reclaimed stateids read and write.
    ok(await a.run(write(fa.fh!, lr, 'after1')), P.WRITE);
    const verf2 = ok(await a.run(write(fa.fh!, fr, 'after2', 0)), P.WRITE).writeverf;
    assert.notDeepEqual(verf2, verf1, 'a new write verifier: unstable data is sent again');
    const rd = ok(await a.run([{ op: P.PUTFH, args: { object: fa.fh! } }, { op: P.READ, args: { stateid: fr, offset: 0n, count: 6 } }]), P.READ);
    assert.equal(Buffer.from(rd.data as Buffer).toString(), 'after2');

    // B comes back: f reclaims; a write lock over A's, and g with write access over A's deny, conflict.
    const b = await V4Session.create(await connect(), 1, { owner: 'client B', verifier: VERF_B, reclaimComplete: false });
    const fbr = ok(await b.run(reclaimOpen(b, fa.fh!, 'ob', 3)), P.OPEN).stateid;
    assert.equal(resOf(await b.run(lock(b, fa.fh!, fbr, 'lb', { reclaim: true, start: 5n })), P.LOCK).status, Nfs4Stat.RECLAIM_CONFLICT);
    assert.equal(resOf(await b.run(reclaimOpen(b, ga.fh!, 'ogb', 3)), P.OPEN).status, Nfs4Stat.RECLAIM_CONFLICT);
    g = server.nfs4!.graceStatus();
    assert.deepEqual([g.active, g.reclaimedOpens, g.reclaimedLocks], [true, 3, 1]);
    assert.deepEqual(g.pending.map((p) => p.state).sort(), ['reclaiming', 'reclaiming']);

    // A finishes; the grace period lasts while B has not.
    ok(await a.run([{ op: P.RECLAIM_COMPLETE, args: { oneFs: false } }]), P.RECLAIM_COMPLETE);
    assert.equal(resOf(await a.run(reclaimOpen(a, fa.fh!, 'oa', 3)), P.OPEN).status, Nfs4Stat.NO_GRACE, 'after its RECLAIM_COMPLETE');
    assert.equal(resOf((await a.open(dir, 'h', { create: true, owner: 'oh' })).res, P.OPEN).status, Nfs4Stat.GRACE, 'B is still to reclaim');
    ok(await b.run([{ op: P.RECLAIM_COMPLETE, args: { oneFs: false } }]), P.RECLAIM_COMPLETE);
    g = server.nfs4!.graceStatus();
    assert.deepEqual([g.active, g.endedBecause, g.pendingCount], [false, 'all reclaimed', 0]);
    assert.match(await metricsText(server), /^nfslocalio_nfs4_grace_active 0$/m);
    assert.match(formatServerStatus(server.status()), /grace period: over \(every previous client reclaimed\); 3 opens and 1 locks reclaimed; 3 client records on disk/);
    assert.match(await metricsText(server), /^nfslocalio_nfs4_reclaims_total\{kind="open"\} 3$/m);

    // Out of grace: new opens and locks work, and A's reclaimed lock holds against them.
    const cn = await c.open(dir, 'f', { owner: 'oc' });
    assert.ok(cn.stateid, describeRes(cn.res));
    const denied = await c.run(lock(c, fa.fh!, cn.stateid!, 'lc', { reclaim: false, start: 3n, length: 1n }));
    assert.equal(resOf(denied, P.LOCK).status, Nfs4Stat.DENIED, 'A\'s reclaimed lock is A\'s');
    assert.equal(resOf(await c.run(reclaimOpen(c, fa.fh!, 'oc', 3)), P.OPEN).status, Nfs4Stat.NO_GRACE);
    assert.equal(resOf(await c.run(write(ga.fh!, ANON, 'x')), P.WRITE).status, Nfs4Stat.LOCKED, 'an anonymous write meets A\'s reclaimed deny mode, not GRACE');
    assert.equal(server.nfs4!.graceStatus().records, 3, 'A, B and C');
  } finally {
    for (const c of conns) c.destroy();
    await server.close();
    fs.rmSync(exp, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
});

test('a state directory where the client records cannot live: the server serves, and after a restart it has nothing to wait for', async () => {
  const exp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-grace-exp-'));
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-grace-state-'));
  fs.writeFileSync(path.join(state, 'nfs4-clients'), 'not a directory');
  const start = () => NfsServer.start({ exports: { text: `${exp} 127.0.0.1(rw,insecure,no_root_squash)\n` }, port: 0, stateDir: state, control: false, localio: false });
  let server = await start();
  let conn = await V4Conn.connect(server.port);
  try {
    const a = await V4Session.create(conn, 1, { owner: 'client A', verifier: VERF_A });
    const o = await a.open(await a.lookup(exp), 'f', { create: true, owner: 'oa' });
    assert.ok(o.stateid, describeRes(o.res));
    assert.equal(server.nfs4!.graceStatus().records, 0);
    conn.destroy();
    await server.close();
    server = await start();
    conn = await V4Conn.connect(server.port);
    assert.equal(server.nfs4!.graceStatus().active, false, 'no records, no grace period');
    const back = await V4Session.create(conn, 1, { owner: 'client A', verifier: VERF_A, reclaimComplete: false });
    assert.equal(resOf(await back.run(reclaimOpen(back, o.fh!, 'oa', 3)), P.OPEN).status, Nfs4Stat.NO_GRACE);
  } finally {
    conn.destroy();
    await server.close();
    fs.rmSync(exp, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
});
