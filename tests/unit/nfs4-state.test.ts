/**
 * NFSv4 state alone (src/nfs4/state), no wire: share reservations, OPEN_DOWNGRADE, CLOSE and
 * stateid seqids against a small reference model over random sequences from two clients; the
 * slot table's retransmission rules; EXCHANGE_ID's cases; CREATE_SESSION's sequence; bounds;
 * courtesy; expiry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Nfs4Stat, nfs4StatName } from '../../src/nfs4/constants.js';
import { Nfs4State, RANGE_END, type ClientRecord } from '../../src/nfs4/state/index.js';
import { SlotTable, type Slot } from '../../src/nfs4/state/slots.js';
import type { ChannelAttrs4, Stateid4 } from '../../src/nfs4/types.js';

const CHAN: ChannelAttrs4 = { headerPadSize: 0, maxRequestSize: 1 << 20, maxResponseSize: 1 << 20, maxResponseSizeCached: 4096, maxOperations: 16, maxRequests: 8 };

function newState(o: { clock?: () => number; limits?: object } = {}): Nfs4State {
  return new Nfs4State({ epoch: 7, bounds: { maxRequest: 1 << 20, maxResponse: 1 << 20 }, clock: o.clock, limits: o.limits });
}

function client(st: Nfs4State, name: string, principal = 'sys:0'): ClientRecord {
  const r = st.clients.exchangeId({ ownerId: Buffer.from(name), verifier: Buffer.alloc(8, 1), principal, update: false, address: '127.0.0.1' });
  assert.equal(r.status, 0);
  const c = (r as { client: ClientRecord }).client;
  const s = st.clients.createSession({ clientid: c.id, sequence: 1, flags: 0, fore: CHAN, back: { ...CHAN, maxOperations: 2 }, cbProgram: 1, principal, connection: 1 });
  assert.equal(s.status, 0, nfs4StatName(s.status));
  return c;
}

// ---- reference model of share reservations, downgrades, closes and seqids ----

interface ModelOpen {
  modes: Set<number>;
  seqid: number;
  locked: boolean;
}

const FILES = ['f1', 'f2'];
const CLIENTS = ['c1', 'c2'];
const OWNERS = ['o1', 'o2'];

class Model {
  opens = new Map<string, ModelOpen>();

  static k(c: string, o: string, f: string): string {
    return `${c}/${o}/${f}`;
  }

  private union(m: Set<number>): [number, number] {
    let a = 0;
    let d = 0;
    for (const x of m) {
      a |= x & 3;
      d |= x >> 2;
    }
    return [a, d];
  }

  open(c: string, o: string, f: string, a: number, d: number): number {
    for (const [k, v] of this.opens) {
      const [kc, ko, kf] = k.split('/');
      if (kf !== f || (kc === c && ko === o)) continue;
      const [va, vd] = this.union(v.modes);
      if (vd & a || va & d) return Nfs4Stat.SHARE_DENIED;
    }
    const k = Model.k(c, o, f);
    const e = this.opens.get(k);
    if (e) {
      e.modes.add(a | (d << 2));
      e.seqid++;
    } else this.opens.set(k, { modes: new Set([a | (d << 2)]), seqid: 1, locked: false });
    return 0;
  }

  /** Some subset of the OPENs has exactly this union (brute force over subsets). */
  downgrade(k: string, a: number, d: number): number {
    const e = this.opens.get(k)!;
    const m = [...e.modes];
    let found = false;
    for (let bits = 1; bits < 1 << m.length && !found; bits++) {
      let ua = 0;
      let ud = 0;
      m.forEach((x, i) => {
        if (bits & (1 << i)) {
          ua |= x & 3;
          ud |= x >> 2;
        }
      });
      found = ua === a && ud === d;
    }
    if (!found) return Nfs4Stat.INVAL;
    e.modes = new Set([a | (d << 2)]);
    e.seqid++;
    return 0;
  }
}

const act = fc.record({
  what: fc.constantFrom('open', 'open', 'downgrade', 'close', 'lock', 'unlock', 'oldseq'),
  c: fc.constantFrom(...CLIENTS),
  o: fc.constantFrom(...OWNERS),
  f: fc.constantFrom(...FILES),
  a: fc.integer({ min: 1, max: 3 }),
  d: fc.integer({ min: 0, max: 3 }),
});

test('opens, downgrades, closes and seqids = the reference model over random sequences', () => {
  fc.assert(
    fc.property(fc.array(act, { maxLength: 50 }), (acts) => {
      const st = newState();
      const cl = new Map(CLIENTS.map((n) => [n, client(st, n)]));
      const m = new Model();
      const sids = new Map<string, Stateid4>();
      const lockSids = new Map<string, Stateid4>();
      for (const x of acts) {
        const c = cl.get(x.c)!;
        const k = Model.k(x.c, x.o, x.f);
        const have = m.opens.get(k);
        const why = JSON.stringify(x);
        if (x.what === 'open') {
          const want = m.open(x.c, x.o, x.f, x.a, x.d);
          const r = st.files.open(c, Buffer.from(x.o), x.f, Buffer.from(x.f), x.a, x.d);
          assert.equal(r.status, want, `${why}: ${nfs4StatName(r.status)}`);
          if (r.status === 0) {
            assert.equal(r.state.seqid, m.opens.get(k)!.seqid, 'the open seqid moves by one per OPEN');
            sids.set(k, { seqid: r.state.seqid, other: r.state.other });
          }
        } else if (!have) {
          continue;
        } else if (x.what === 'downgrade') {
          const want = m.downgrade(k, x.a, x.d);
          const r = st.files.downgrade(c, sids.get(k)!, x.f, x.a, x.d);
          assert.equal(r.status, want, why);
          if (r.status === 0) sids.set(k, { seqid: r.state.seqid, other: r.state.other });
        } else if (x.what === 'oldseq') {
          const s = sids.get(k)!;
          const r = st.files.find(c, { seqid: s.seqid + 1, other: s.other });
          assert.equal(r.status, Nfs4Stat.BAD_STATEID, 'a seqid never issued');
          if (s.seqid > 1) assert.equal(st.files.find(c, { seqid: s.seqid - 1, other: s.other }).status, Nfs4Stat.OLD_STATEID);
          assert.equal(st.files.find(c, { seqid: 0, other: s.other }).status, 0, 'seqid 0 is the current one');
          const other = cl.get(x.c === 'c1' ? 'c2' : 'c1')!;
          assert.equal(st.files.find(other, s).status, Nfs4Stat.BAD_STATEID, "another client's stateid");
        } else if (x.what === 'lock') {
          const write = x.a & 2 ? 'write' : 'read';
          const cur = [...have.modes].reduce((a, b) => a | (b & 3), 0);
          const ls = lockSids.get(k);
          const r = st.files.lock(c, x.f, write, 0n, RANGE_END, ls ? { lock: ls } : { open: sids.get(k)!, owner: Buffer.from(`L${x.o}`) });
          if (!(cur & (write === 'write' ? 2 : 1))) {
            assert.equal(r.status, Nfs4Stat.OPENMODE, why);
          } else if (r.status === 0) {
            have.locked = true;
            lockSids.set(k, { seqid: r.state.seqid, other: r.state.other });
          } else {
            assert.equal(r.status, Nfs4Stat.DENIED, why);
          }
        } else if (x.what === 'unlock') {
          const ls = lockSids.get(k);
          if (!ls) continue;
          const r = st.files.unlock(c, x.f, ls, 0n, RANGE_END);
          assert.equal(r.status, 0, why);
          lockSids.set(k, { seqid: r.state.seqid, other: r.state.other });
          have.locked = false;
        } else {
          const r = st.files.close(c, sids.get(k)!, x.f);
          assert.equal(r, have.locked ? Nfs4Stat.LOCKS_HELD : 0, why);
          if (r === 0) {
            m.opens.delete(k);
            sids.delete(k);
            lockSids.delete(k);
          }
        }
      }
      // Everything the model has open, the state has, and no more.
      assert.equal(st.files.counts().opens, m.opens.size);
    }),
    { numRuns: 300 },
  );
});

test('slot table: new request, retransmission from the cache, DELAY while running, false retry, misordered', () => {
  const t = new SlotTable(2);
  const first = t.use(0, 1, 'fp1');
  assert.equal(first.kind, 'new');
  assert.deepEqual(t.use(0, 1, 'fp1'), { kind: 'error', status: Nfs4Stat.DELAY });
  t.finish((first as { slot: Slot }).slot, Buffer.from('reply1'));
  assert.deepEqual(t.use(0, 1, 'fp1'), { kind: 'replay', reply: Buffer.from('reply1') });
  assert.deepEqual(t.use(0, 1, 'other'), { kind: 'error', status: Nfs4Stat.SEQ_FALSE_RETRY });
  assert.deepEqual(t.use(0, 3, 'fp3'), { kind: 'error', status: Nfs4Stat.SEQ_MISORDERED });
  assert.deepEqual(t.use(2, 1, 'fp'), { kind: 'error', status: Nfs4Stat.BADSLOT });
  const second = t.use(0, 2, 'fp2');
  assert.equal(second.kind, 'new');
  t.finish((second as { slot: Slot }).slot, 'uncached');
  assert.deepEqual(t.use(0, 2, 'fp2'), { kind: 'error', status: Nfs4Stat.RETRY_UNCACHED_REP });
  assert.deepEqual(t.use(1, 0, 'x'), { kind: 'error', status: Nfs4Stat.SEQ_MISORDERED }, 'an unused slot has no request 0');
});

test('EXCHANGE_ID cases (RFC 8881 18.35.4) and CREATE_SESSION sequence ids', () => {
  const st = newState();
  const x = (owner: string, verf: number, principal: string, update = false) =>
    st.clients.exchangeId({ ownerId: Buffer.from(owner), verifier: Buffer.alloc(8, verf), principal, update, address: 'a' });
  const id = (r: ReturnType<typeof x>) => (r as { client: ClientRecord }).client;
  // 1: new owner → unconfirmed; update without a confirmed record → NOENT.
  const a = id(x('A', 1, 'p'));
  assert.equal(a.confirmed, false);
  assert.equal(x('A', 1, 'p', true).status, Nfs4Stat.NOENT);
  // Unconfirmed replaced by a new unconfirmed record with another id.
  const a2 = id(x('A', 1, 'p'));
  assert.notEqual(a2.id, a.id);
  assert.equal(st.clients.createSession({ clientid: a.id, sequence: 1, flags: 0, fore: CHAN, back: CHAN, cbProgram: 0, principal: 'p', connection: 1 }).status, Nfs4Stat.STALE_CLIENTID);
  const cs = st.clients.createSession({ clientid: a2.id, sequence: 1, flags: 0, fore: CHAN, back: CHAN, cbProgram: 0, principal: 'p', connection: 1 });
  assert.equal(cs.status, 0);
  // A retransmitted CREATE_SESSION gets the same session; a skipped sequence id is misordered.
  const again = st.clients.createSession({ clientid: a2.id, sequence: 1, flags: 0, fore: CHAN, back: CHAN, cbProgram: 0, principal: 'p', connection: 1 });
  assert.deepEqual(again, cs);
  assert.equal(st.clients.createSession({ clientid: a2.id, sequence: 3, flags: 0, fore: CHAN, back: CHAN, cbProgram: 0, principal: 'p', connection: 1 }).status, Nfs4Stat.SEQ_MISORDERED);
  assert.equal(a2.confirmed, true);
  // 2: the same again → the confirmed record; 6: update with the same verifier → it.
  assert.equal(id(x('A', 1, 'p')).id, a2.id);
  assert.equal(id(x('A', 1, 'p', true)).id, a2.id);
  // 7, 8: update with another verifier / principal.
  assert.equal(x('A', 2, 'p', true).status, Nfs4Stat.NOT_SAME);
  assert.equal(x('A', 1, 'q', true).status, Nfs4Stat.PERM);
  // 3: collision: another principal while the client has state (a session).
  assert.equal(x('A', 1, 'q').status, Nfs4Stat.CLID_INUSE);
  // 5: client restart (new verifier): a new unconfirmed record; the old one goes when it is confirmed.
  const r = id(x('A', 9, 'p'));
  assert.notEqual(r.id, a2.id);
  assert.ok(st.client(a2.id));
  st.clients.createSession({ clientid: r.id, sequence: 1, flags: 0, fore: CHAN, back: CHAN, cbProgram: 0, principal: 'p', connection: 2 });
  assert.equal(st.client(a2.id), undefined, 'the old incarnation is gone with its sessions');
  assert.equal(st.clients.sessions.size, 1);
});

test('bounds: clients, sessions per client and slots are cut or refused', () => {
  const st = newState({ limits: { clients: 2, sessionsPerClient: 1, slots: 4 } });
  const c = client(st, 'one');
  client(st, 'two');
  assert.equal(st.clients.exchangeId({ ownerId: Buffer.from('three'), verifier: Buffer.alloc(8), principal: 'p', update: false, address: 'a' }).status, Nfs4Stat.RESOURCE);
  const more = st.clients.createSession({ clientid: c.id, sequence: 2, flags: 0, fore: CHAN, back: CHAN, cbProgram: 0, principal: 'sys:0', connection: 1 });
  assert.equal(more.status, Nfs4Stat.RESOURCE);
  const s = [...c.sessions.values()][0];
  assert.equal(s.fore.maxRequests, 4, 'slots cut to the bound');
});

test('courtesy: an expired client keeps its open until another client needs it; expiry removes everything', () => {
  let now = 1_000_000;
  const st = newState({ clock: () => now });
  const a = client(st, 'a');
  const b = client(st, 'b');
  assert.equal(st.files.open(a, Buffer.from('o'), 'f', Buffer.from('f'), 3, 3).status, 0);
  assert.equal(st.files.open(b, Buffer.from('o'), 'f', Buffer.from('f'), 1, 0).status, Nfs4Stat.SHARE_DENIED);
  now += st.leaseMs + 1;
  b.renewed = now;
  assert.equal(st.files.open(b, Buffer.from('o'), 'f', Buffer.from('f'), 1, 0).status, 0, 'the courtesy client gave way');
  assert.equal(st.client(a.id), undefined);
  // An unconfirmed record goes with its lease; CREATE_SESSION on it is then STALE_CLIENTID.
  const u = (st.clients.exchangeId({ ownerId: Buffer.from('u'), verifier: Buffer.alloc(8), principal: 'p', update: false, address: 'a' }) as { client: ClientRecord }).client;
  now += st.leaseMs + 1;
  b.renewed = now;
  assert.equal(st.clients.createSession({ clientid: u.id, sequence: 1, flags: 0, fore: CHAN, back: CHAN, cbProgram: 0, principal: 'p', connection: 1 }, st.leaseMs).status, Nfs4Stat.STALE_CLIENTID);
  now += st.leaseMs + st.courtesyMs + 1;
  assert.deepEqual(st.expire().map((c) => c.id), [b.id]);
  assert.deepEqual(st.counts(), { clients: 0, sessions: 0, opens: 0, lockStates: 0, locks: 0, cachedBytes: 0 });
});
