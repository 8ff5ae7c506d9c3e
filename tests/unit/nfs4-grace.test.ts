/**
 * The grace period's rules (src/nfs4/state/grace.ts, recovery.ts) on the state alone, with the
 * clock driven by the test and the real record store on a temp directory: one instance writes
 * records, the next reads them back and lets exactly those clients reclaim; when it ends (every
 * previous client finished or was found gone, or the time is up — a late reclaim extends it by a
 * second, at most by a lease); who gets NFS4ERR_NO_GRACE; special stateids in grace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Nfs4Stat, nfs4StatName } from '../../src/nfs4/constants.js';
import { Nfs4State, ANONYMOUS_STATEID, type ClientRecord, type StableClient } from '../../src/nfs4/state/index.js';
import { ClientRecordStore } from '../../src/nfs4/state/stable-store.js';
import type { ChannelAttrs4 } from '../../src/nfs4/types.js';

const CHAN: ChannelAttrs4 = { headerPadSize: 0, maxRequestSize: 1 << 20, maxResponseSize: 1 << 20, maxResponseSizeCached: 4096, maxOperations: 16, maxRequests: 8 };
const LEASE = 90;

class Clock {
  t = 1_000_000;
  now = () => this.t;
}

/** One server instance over `dir`'s records: what the last one left may reclaim. */
async function instance(dir: string, clock: Clock, epoch: number, graceSeconds?: number): Promise<{ st: Nfs4State; store: ClientRecordStore; previous: StableClient[] }> {
  const { store, loaded } = await ClientRecordStore.open(dir);
  const st = new Nfs4State({ epoch, bounds: { maxRequest: 1 << 20, maxResponse: 1 << 20 }, clock: clock.now, leaseSeconds: LEASE, graceSeconds, previous: loaded.records, records: store });
  return { st, store, previous: loaded.records };
}

function join(st: Nfs4State, name: string, o: { verifier?: number; principal?: string } = {}): ClientRecord {
  const principal = o.principal ?? 'sys:0';
  const r = st.clients.exchangeId({ ownerId: Buffer.from(name), verifier: Buffer.alloc(8, o.verifier ?? 1), principal, update: false, address: '127.0.0.1' });
  assert.equal(r.status, 0);
  const c = (r as { client: ClientRecord }).client;
  const s = st.clients.createSession({ clientid: c.id, sequence: 1, flags: 0, fore: CHAN, back: { ...CHAN, maxOperations: 2 }, cbProgram: 1, principal, connection: 1 });
  assert.equal(s.status, 0, nfs4StatName(s.status));
  return c;
}

async function complete(st: Nfs4State, c: ClientRecord): Promise<void> {
  c.reclaimComplete = true;
  await st.recovery.complete(c);
}

function owners(recs: StableClient[]): string[] {
  return recs.map((r) => r.ownerId.toString()).sort();
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-grace-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a first start has no grace period; a client\'s record is written at its RECLAIM_COMPLETE and goes with it', async () => {
  await withDir(async (dir) => {
    const clock = new Clock();
    const { st, store } = await instance(dir, clock, 5);
    assert.equal(st.inGrace(), false);
    assert.equal(st.recovery.grace.status().endedBecause, 'no previous clients');
    const a = join(st, 'a');
    const b = join(st, 'b');
    assert.equal(st.recovery.grace.mayReclaim(a), Nfs4Stat.NO_GRACE, 'nothing to reclaim on a first start');
    await complete(st, a);
    await complete(st, b);
    assert.equal(store.stats.records, 2);
    // An unconfirmed record of the same owner going leaves a's record alone; DESTROY_CLIENTID takes b's.
    assert.equal(st.clients.exchangeId({ ownerId: Buffer.from('a'), verifier: Buffer.alloc(8, 2), principal: 'sys:0', update: false, address: '' }).status, 0);
    assert.equal(st.clients.exchangeId({ ownerId: Buffer.from('a'), verifier: Buffer.alloc(8, 3), principal: 'sys:0', update: false, address: '' }).status, 0);
    for (const s of [...b.sessions.values()]) st.clients.destroySession(s.id);
    assert.equal(st.clients.destroyClientid(b.id), 0);
    await st.recovery.idle();
    assert.deepEqual(owners((await ClientRecordStore.open(dir)).loaded.records), ['a']);
  });
});

test('after a restart only the previous clients reclaim, before their RECLAIM_COMPLETE; the grace period ends once all have finished or are found gone', async () => {
  await withDir(async (dir) => {
    const clock = new Clock();
    const one = await instance(dir, clock, 5);
    for (const n of ['a', 'b', 'c', 'd']) await complete(one.st, join(one.st, n));
    join(one.st, 'never-completed'); // no RECLAIM_COMPLETE: it could take no state, it has no record
    // kill -9: nothing more happens to the first instance.
    clock.t += 5000;
    const { st, previous } = await instance(dir, clock, 6);
    assert.deepEqual(owners(previous), ['a', 'b', 'c', 'd']);
    assert.equal(st.inGrace(), true);
    assert.equal(st.recovery.grace.status().pendingCount, 4);
    const a = join(st, 'a');
    const stranger = join(st, 'never-completed');
    const thief = join(st, 'b', { principal: 'sys:1000' }); // b's name, another principal
    assert.equal(st.recovery.grace.mayReclaim(a), 0);
    assert.equal(st.recovery.grace.mayReclaim(stranger), Nfs4Stat.NO_GRACE, 'no record: NO_GRACE');
    assert.equal(st.recovery.grace.mayReclaim(thief), Nfs4Stat.NO_GRACE, 'another principal cannot reclaim the record\'s state');
    // Special stateids wait for the end of the grace period (a deny mode may not be reclaimed yet); the READ bypass does not.
    assert.equal(st.checkIo(a, 'x', ANONYMOUS_STATEID, false), Nfs4Stat.GRACE);
    assert.equal(st.checkIo(a, 'x', { seqid: 0xffffffff, other: Buffer.alloc(12, 0xff) }, false), 0);
    assert.equal(st.checkIo(a, 'x', { seqid: 0xffffffff, other: Buffer.alloc(12, 0xff) }, true), Nfs4Stat.GRACE);
    await complete(st, a);
    assert.equal(st.recovery.grace.mayReclaim(a), Nfs4Stat.NO_GRACE, 'after its RECLAIM_COMPLETE');
    assert.equal(st.inGrace(), true, 'b, c and d have not finished');
    // c restarted meanwhile: another verifier — it holds nothing of before; its old record goes.
    join(st, 'c', { verifier: 9 });
    // d came back and went (DESTROY_CLIENTID) before it finished.
    const d = join(st, 'd');
    for (const s of [...d.sessions.values()]) st.clients.destroySession(s.id);
    assert.equal(st.clients.destroyClientid(d.id), 0);
    assert.equal(st.inGrace(), true, 'b still to come');
    assert.deepEqual(st.recovery.grace.status().pending.map((p) => `${p.owner}:${p.state}`), ['b:waiting']);
    // The thief in b's name is not b: b comes back later (after the thief's record went) and finishes.
    for (const s of [...thief.sessions.values()]) st.clients.destroySession(s.id);
    st.clients.destroyClientid(thief.id);
    const b = join(st, 'b');
    assert.equal(st.recovery.grace.mayReclaim(b), 0);
    await complete(st, b);
    assert.equal(st.inGrace(), false);
    const g = st.recovery.grace.status();
    assert.equal(g.endedBecause, 'all reclaimed');
    assert.equal(st.checkIo(a, 'x', ANONYMOUS_STATEID, true), 0, 'special stateids work again');
    await st.recovery.idle();
    assert.deepEqual(owners((await ClientRecordStore.open(dir)).loaded.records), ['a', 'b'], 'c\'s and d\'s records went');
  });
});

test('the grace period ends on time; the records of clients that never came back go then (a crash before keeps them)', async () => {
  await withDir(async (dir) => {
    const clock = new Clock();
    const one = await instance(dir, clock, 5);
    for (const n of ['a', 'b']) await complete(one.st, join(one.st, n));
    const two = await instance(dir, clock, 6, 30);
    join(two.st, 'a'); // came back, reclaims, never finishes
    clock.t += 29_000;
    assert.equal(two.st.inGrace(), true);
    // A crash here, during the grace period: the next instance still knows both.
    const three = await instance(dir, clock, 7, 30);
    assert.deepEqual(owners(three.previous), ['a', 'b']);
    const a = join(three.st, 'a');
    clock.t += 30_000;
    assert.equal(three.st.inGrace(), false);
    assert.equal(three.st.recovery.grace.status().endedBecause, 'time');
    assert.equal(three.st.recovery.grace.mayReclaim(a), Nfs4Stat.NO_GRACE, 'out of grace');
    await three.st.recovery.idle();
    assert.deepEqual(owners((await ClientRecordStore.open(dir)).loaded.records), ['a'], 'a is live (its record is its own), b never came back');
  });
});

test('a reclaim near the end extends the grace period by a second, up to a lease more', async () => {
  await withDir(async (dir) => {
    const clock = new Clock();
    const one = await instance(dir, clock, 5);
    await complete(one.st, join(one.st, 'slow'));
    const { st } = await instance(dir, clock, 6, 20);
    const slow = join(st, 'slow');
    const start = clock.t;
    clock.t = start + 19_500;
    assert.equal(st.recovery.grace.mayReclaim(slow), 0);
    st.recovery.grace.reclaimed('open');
    clock.t = start + 20_200;
    assert.equal(st.inGrace(), true, 'extended: a reclaim 0.7 s ago');
    st.recovery.grace.reclaimed('open');
    // Reclaiming every half second keeps it going, but not past the grace period plus a lease.
    for (let t = 20_500; t < 20_000 + LEASE * 1000; t += 500) {
      clock.t = start + t;
      assert.equal(st.inGrace(), true, `at ${t} ms`);
      st.recovery.grace.reclaimed('lock');
    }
    clock.t = start + 20_000 + LEASE * 1000;
    assert.equal(st.inGrace(), false);
    assert.equal(st.recovery.grace.status().reclaimedLocks, (LEASE * 1000 - 500) / 500);
  });
});

test('a client whose state was revoked before the restart reclaims nothing, and nobody waits for it', async () => {
  await withDir(async (dir) => {
    const clock = new Clock();
    const one = await instance(dir, clock, 5);
    const r = join(one.st, 'revoked');
    await complete(one.st, r);
    await complete(one.st, join(one.st, 'fine'));
    await one.st.recovery.revoked(r);
    const { st, previous } = await instance(dir, clock, 6);
    assert.equal(previous.find((p) => p.ownerId.toString() === 'revoked')!.revoked, true);
    const back = join(st, 'revoked');
    assert.equal(st.recovery.grace.mayReclaim(back), Nfs4Stat.NO_GRACE);
    await complete(st, join(st, 'fine'));
    assert.equal(st.inGrace(), false, 'only "fine" was waited for');
    // Its new RECLAIM_COMPLETE writes a fresh record: what it takes from now on is not revoked.
    await complete(st, back);
    await st.recovery.idle();
    assert.equal((await ClientRecordStore.open(dir)).loaded.records.find((p) => p.ownerId.toString() === 'revoked')!.revoked, false);
  });
});
