/**
 * The NFSv4 client's plain data structures: the slot table (calls bounded by
 * the slots, lowest slot first, the server's limits, a new session) and the
 * lock ranges a lock owner holds (against a byte model, with fast-check).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SlotTable } from '../../src/client/v4/slots.js';
import { LockRanges, rangeEnd, rangeLength } from '../../src/client/v4/locks.js';
import { NFS4_UINT64_MAX } from '../../src/nfs4/constants.js';

describe('SlotTable', () => {
  it('hands out the lowest free slot, and makes callers wait when every usable slot is busy', async () => {
    const t = new SlotTable(3);
    const a = await t.acquire();
    const b = await t.acquire();
    const c = await t.acquire();
    assert.deepEqual([a.id, b.id, c.id], [0, 1, 2]);
    assert.equal(t.highestSlotid, 2);
    let got: number | undefined;
    const waiting = t.acquire().then((s) => (got = s.id));
    await Promise.resolve();
    assert.equal(got, undefined, 'no slot free: the caller waits');
    t.release(b);
    await waiting;
    assert.equal(got, 1);
    t.release(a);
    assert.equal(t.highestSlotid, 2);
    t.release(c);
    assert.equal(t.inUse, 1);
  });

  it('follows the server: target_highest_slotid caps the slots used, BADSLOT shrinks them', async () => {
    const t = new SlotTable(8);
    t.serverLimits(7, 1); // use slots 0 and 1 only
    const x = await t.acquire();
    const y = await t.acquire();
    let third = false;
    const p = t.acquire().then(() => (third = true));
    await Promise.resolve();
    assert.equal(third, false);
    t.serverLimits(7, 2); // the target rises: slot 2 is usable
    await p;
    assert.equal(third, true);
    t.shrinkBelow(1);
    t.release(x);
    t.release(y);
    const z = await t.acquire();
    assert.equal(z.id, 0);
    let fourth: number | undefined;
    const q = t.acquire().then((s) => (fourth = s.id));
    await Promise.resolve();
    assert.equal(fourth, undefined, 'only slot 0 after BADSLOT on 1');
    t.release(z);
    await q;
    assert.equal(fourth, 0);
  });

  it('a new session: fresh slots with sequence ids from 0; slots of the old table are not its own; close fails waiters', async () => {
    const t = new SlotTable(1);
    const old = await t.acquire();
    old.seq = 41;
    let woke: { id: number; seq: number } | undefined;
    const p = t.acquire().then((s) => (woke = s));
    t.reset(2);
    await p;
    assert.deepEqual([woke!.id, woke!.seq], [0, 0]);
    assert.equal(t.owns(old), false);
    t.release(old); // ignored
    assert.equal(t.inUse, 1);
    await t.acquire(); // slot 1
    const r = t.acquire();
    t.close(new Error('closed'));
    await assert.rejects(r, /closed/);
    await assert.rejects(t.acquire(), /closed/);
  });
});

describe('LockRanges', () => {
  it('splits, replaces and merges like the server under POSIX rules', () => {
    const l = new LockRanges();
    l.add(0n, 100n, true);
    l.add(40n, 60n, false); // a downgrade in the middle splits the write lock
    assert.deepEqual(l.held, [
      { start: 0n, end: 40n, exclusive: true },
      { start: 40n, end: 60n, exclusive: false },
      { start: 60n, end: 100n, exclusive: true },
    ]);
    l.add(40n, 60n, true); // upgraded back: one range again
    assert.deepEqual(l.held, [{ start: 0n, end: 100n, exclusive: true }]);
    l.remove(10n, 20n);
    assert.deepEqual(l.held.map((r) => [r.start, r.end]), [[0n, 10n], [20n, 100n]]);
    l.add(50n, NFS4_UINT64_MAX, true);
    assert.deepEqual(l.held.map((r) => [r.start, r.end]), [[0n, 10n], [20n, NFS4_UINT64_MAX]]);
    assert.equal(rangeLength(l.held[1]), NFS4_UINT64_MAX, 'to EOF is length all-ones again');
    assert.equal(rangeEnd(5n, NFS4_UINT64_MAX), NFS4_UINT64_MAX);
    l.clear();
    assert.equal(l.empty, true);
  });

  it('agrees with a byte model over random locks and unlocks', () => {
    const N = 64;
    const op = fc.record({ lock: fc.boolean(), start: fc.integer({ min: 0, max: N - 1 }), len: fc.integer({ min: 1, max: N }), exclusive: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const model: Array<0 | 1 | 2> = new Array(N).fill(0);
        const l = new LockRanges();
        for (const o of ops) {
          const end = Math.min(N, o.start + o.len);
          for (let i = o.start; i < end; i++) model[i] = o.lock ? (o.exclusive ? 2 : 1) : 0;
          if (o.lock) l.add(BigInt(o.start), BigInt(end), o.exclusive);
          else l.remove(BigInt(o.start), BigInt(end));
        }
        const got: Array<0 | 1 | 2> = new Array(N).fill(0);
        let prev: { end: bigint; exclusive: boolean } | undefined;
        for (const r of l.held) {
          assert.ok(r.start < r.end, 'no empty range');
          if (prev) {
            assert.ok(prev.end <= r.start, 'sorted, not overlapping');
            assert.ok(!(prev.end === r.start && prev.exclusive === r.exclusive), 'adjacent ranges of one type are merged');
          }
          for (let i = Number(r.start); i < Number(r.end); i++) got[i] = r.exclusive ? 2 : 1;
          prev = r;
        }
        assert.deepEqual(got, model);
      }),
      { numRuns: 300 },
    );
  });
});
