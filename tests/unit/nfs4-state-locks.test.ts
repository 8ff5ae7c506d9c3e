/**
 * The POSIX byte-range lock table (src/nfs4/state/ranges.ts) against a reference model that
 * holds, for every byte of a small file, which owners lock it and how: random sequences of lock
 * and unlock requests from three owners give the same conflicts and the same coverage, and the
 * table stays sorted and merged after every step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RangeLocks, RANGE_END, rangeOf, lengthOf, type LockKind } from '../../src/nfs4/state/ranges.js';

/** Requests start below SIZE and are at most SIZE long; the model tracks 2 × SIZE bytes and one more
 * cell for everything past them, which only "to the end of the file" reaches. */
const SIZE = 48;
const CELLS = 2 * SIZE + 1;
const OWNERS = ['a', 'b', 'c'];

class Model {
  /** Per byte: owner → kind. */
  cells: Array<Map<string, LockKind>> = Array.from({ length: CELLS }, () => new Map());

  private span(start: number, end: number): number[] {
    const out: number[] = [];
    for (let i = start; i < Math.min(end, CELLS); i++) out.push(i);
    return out;
  }

  conflict(owner: string, kind: LockKind, start: number, end: number): boolean {
    return this.span(start, end).some((i) => [...this.cells[i]].some(([o, k]) => o !== owner && (kind === 'write' || k === 'write')));
  }

  lock(owner: string, kind: LockKind, start: number, end: number): void {
    for (const i of this.span(start, end)) this.cells[i].set(owner, kind);
  }

  unlock(owner: string, start: number, end: number): void {
    for (const i of this.span(start, end)) this.cells[i].delete(owner);
  }
}

/** The table's coverage as the model's cells. */
function cellsOf(t: RangeLocks): Array<Map<string, LockKind>> {
  const cells = Array.from({ length: CELLS }, () => new Map<string, LockKind>());
  for (const l of t.all()) {
    const end = l.end === RANGE_END ? CELLS : Number(l.end);
    for (let i = Number(l.start); i < Math.min(end, CELLS); i++) {
      assert.ok(!cells[i].has(l.owner), `owner ${l.owner} has two locks over byte ${i}`);
      cells[i].set(l.owner, l.kind);
    }
  }
  return cells;
}

function checkShape(t: RangeLocks): void {
  const all = t.all();
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].start <= all[i].start, 'sorted by start');
  for (const o of OWNERS) {
    const mine = all.filter((l) => l.owner === o);
    for (let i = 1; i < mine.length; i++) {
      const p = mine[i - 1];
      const q = mine[i];
      assert.ok(p.end <= q.start, `owner ${o}: locks do not overlap`);
      assert.ok(!(p.end === q.start && p.kind === q.kind), `owner ${o}: touching locks of one kind are merged`);
    }
  }
}

const action = fc.record({
  what: fc.constantFrom('lock', 'unlock'),
  owner: fc.constantFrom(...OWNERS),
  kind: fc.constantFrom<LockKind>('read', 'write'),
  start: fc.integer({ min: 0, max: SIZE - 1 }),
  len: fc.oneof(fc.integer({ min: 1, max: SIZE }), fc.constant(-1)),
});

test('lock table = byte model over random lock/unlock sequences', () => {
  fc.assert(
    fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
      const t = new RangeLocks();
      const m = new Model();
      for (const a of actions) {
        const start = BigInt(a.start);
        const end = a.len < 0 ? RANGE_END : start + BigInt(a.len);
        const mend = a.len < 0 ? CELLS : a.start + a.len;
        if (a.what === 'lock') {
          const c = t.conflict(a.owner, a.kind, start, end);
          assert.equal(c !== undefined, m.conflict(a.owner, a.kind, a.start, mend), `conflict of ${JSON.stringify(a)}`);
          if (c) {
            assert.notEqual(c.owner, a.owner);
            assert.ok(c.start < end && start < c.end && (a.kind === 'write' || c.kind === 'write'), 'the conflicting lock really conflicts');
          } else {
            t.lock(a.owner, a.kind, start, end);
            m.lock(a.owner, a.kind, a.start, mend);
          }
        } else {
          t.unlock(a.owner, start, end);
          m.unlock(a.owner, a.start, mend);
        }
        checkShape(t);
        assert.deepEqual(cellsOf(t).map((c) => [...c].sort()), m.cells.map((c) => [...c].sort()));
      }
    }),
    { numRuns: 400 },
  );
});

test('ranges: length 0 and offset + length past 2^64 are invalid; all ones means to the end', () => {
  assert.equal(rangeOf(5n, 0n), undefined);
  assert.deepEqual(rangeOf(5n, 0xffffffffffffffffn), { start: 5n, end: RANGE_END });
  assert.deepEqual(rangeOf(0xfffffffffffffff0n, 0x10n), { start: 0xfffffffffffffff0n, end: RANGE_END });
  assert.equal(rangeOf(0xfffffffffffffff0n, 0x11n), undefined);
  assert.equal(lengthOf({ start: 3n, end: RANGE_END }), 0xffffffffffffffffn);
  assert.equal(lengthOf({ start: 3n, end: 10n }), 7n);
});

test('an upgrade inside a read lock splits it; a downgrade merges with a neighbour', () => {
  const t = new RangeLocks();
  t.lock('a', 'read', 0n, 100n);
  t.lock('a', 'write', 40n, 60n);
  assert.deepEqual(t.all().map((l) => [l.kind, l.start, l.end]), [['read', 0n, 40n], ['write', 40n, 60n], ['read', 60n, 100n]]);
  t.lock('a', 'read', 40n, 60n);
  assert.deepEqual(t.all().map((l) => [l.kind, l.start, l.end]), [['read', 0n, 100n]]);
  t.unlock('a', 10n, 20n);
  assert.deepEqual(t.all().map((l) => [l.start, l.end]), [[0n, 10n], [20n, 100n]]);
});
