/**
 * UncommittedSet (the data of acknowledged UNSTABLE writes kept until a
 * matching COMMIT) against a byte-by-byte model, with fast-check: whatever
 * the sequence of writes, stable writes, truncations and COMMITs, the set
 * holds exactly the newest uncommitted bytes, in sorted disjoint ranges,
 * and a COMMIT with another verifier hands back exactly the bytes to resend.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UncommittedSet } from '../../src/client/uncommitted.js';
import { Lease } from '../../src/client/buffers.js';
import { BufferPool } from '../../src/util/bufpool.js';

type Op =
  | { k: 'add'; start: number; len: number; verf: number }
  | { k: 'stable'; start: number; len: number }
  | { k: 'truncate'; size: number }
  | { k: 'settle'; verf: number };

const SIZE = 200;
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('add' as const), start: fc.nat(SIZE - 1), len: fc.integer({ min: 1, max: 60 }), verf: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('stable' as const), start: fc.nat(SIZE - 1), len: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('truncate' as const), size: fc.nat(SIZE + 60) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('settle' as const), verf: fc.integer({ min: 1, max: 2 }) }) },
);

class CountingPool extends BufferPool {
  released = 0;
  override release(buf: Buffer): void {
    this.released++;
    super.release(buf);
  }
}

describe('UncommittedSet', () => {
  it('matches a byte model under any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const set = new UncommittedSet();
        // model: per byte, the uncommitted value, its verifier and the seq of the write that put it there
        const model = new Map<number, { v: number; verf: number; seq: number }>();
        // every other write comes with a lease (a LOCALIO copy): held once per range viewing it
        const pool = new CountingPool(8, 1000);
        const leases: Lease[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.k === 'add') {
            seq++;
            const data = Buffer.alloc(o.len, seq & 0xff);
            const lease = seq % 2 ? new Lease(pool, pool.acquire()) : undefined;
            if (lease) leases.push(lease);
            set.add({ start: o.start, end: o.start + o.len, data, lease, verf: Buffer.from([o.verf]), seq, born: seq });
            for (let i = o.start; i < o.start + o.len; i++) model.set(i, { v: seq & 0xff, verf: o.verf, seq });
          } else if (o.k === 'stable') {
            set.stable(o.start, o.start + o.len);
            for (let i = o.start; i < o.start + o.len; i++) model.delete(i);
          } else if (o.k === 'truncate') {
            set.truncate(o.size);
            for (const i of [...model.keys()]) if (i >= o.size) model.delete(i);
          } else {
            const stale = set.settle(seq, Buffer.from([o.verf]));
            const staleBytes = new Set<number>();
            for (const r of stale) for (let i = r.start; i < r.end; i++) staleBytes.add(i);
            for (const [i, b] of [...model]) {
              if (b.verf === o.verf) model.delete(i);
              else assert.ok(staleBytes.has(i), `byte ${i} under another verifier must be handed back for re-sending`);
            }
            assert.equal(staleBytes.size, model.size);
          }
          // invariants: sorted, disjoint, exact bytes, byte count
          const rs = set.all();
          let total = 0;
          for (let j = 0; j < rs.length; j++) {
            const r = rs[j];
            assert.ok(r.end > r.start);
            assert.equal(r.data.length, r.end - r.start);
            if (j > 0) assert.ok(rs[j - 1].end <= r.start, 'sorted and disjoint');
            total += r.end - r.start;
            for (let i = r.start; i < r.end; i++) {
              const m = model.get(i);
              assert.ok(m, `byte ${i} is held but the model has nothing there`);
              assert.equal(r.data[i - r.start], m.v);
              assert.equal(r.verf[0], m.verf);
            }
          }
          assert.equal(total, model.size);
          assert.equal(set.bytes, model.size);
          for (const l of leases) assert.equal(l.holders, rs.filter((r) => r.lease === l).length, 'a lease is held once per range viewing it');
          assert.equal(pool.released, leases.filter((l) => l.holders === 0).length, 'a buffer goes back to its pool once, when no range holds it');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('holds() tells whether a range is still there as given', () => {
    const set = new UncommittedSet();
    const a = { start: 0, end: 10, data: Buffer.alloc(10), verf: Buffer.from([1]), seq: 1, born: 1 };
    set.add(a);
    assert.equal(set.holds(a), true);
    set.add({ start: 5, end: 6, data: Buffer.alloc(1), verf: Buffer.from([1]), seq: 2, born: 2 });
    assert.equal(set.holds(a), false);
    assert.equal(set.size, 3);
    assert.equal(set.hasBornBy(1), true);
    assert.equal(set.hasBornBy(0), false);
  });
});
