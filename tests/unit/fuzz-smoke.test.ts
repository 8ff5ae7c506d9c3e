/**
 * The fuzzer itself, briefly: 2,000 cases of every target (`npm run fuzz` runs 1,000,000) from the
 * committed corpus with a fixed seed, so the harness and the corpus keep working and the decoders
 * keep passing. Replays of single cases are deterministic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allTargets, donorsOf } from '../../fuzz/targets.js';
import { runCase, runTarget } from '../../fuzz/engine.js';
import { loadCorpus } from '../../fuzz/corpus.js';

const SEED = 20261207;
const all = allTargets();
const donors = donorsOf(all);

test('the corpus covers every program and both directions', () => {
  const c = loadCorpus();
  const progs = new Set(c.filter((e) => e.kind === 'call').map((e) => e.prog));
  for (const p of [100000, 100003, 100005, 400122]) assert.ok(progs.has(p), `calls of program ${p}`);
  assert.ok(c.some((e) => e.kind === 'reply'));
  assert.ok(c.some((e) => e.kind === 'channel'));
  assert.ok(all.length >= 70, `${all.length} targets`);
  for (const t of all) assert.ok(t.seeds.length > 0, `${t.name} has seeds`);
});

test('2,000 cases of every target, seed 20261207: no failure', () => {
  const failures = [];
  let cases = 0;
  for (const t of all) {
    const s = runTarget(t, { seed: SEED, start: 0, count: 2000, donors, caseBudgetMs: 2000, maxFailures: 1, leakBytes: Infinity, memory: false });
    cases += s.cases;
    failures.push(...s.failures.map((f) => `${f.target} case ${f.index}: ${f.message} (input ${f.input})`));
  }
  assert.deepEqual(failures, []);
  assert.equal(cases, all.length * 2000);
});

test('a case is the same input every time (replayable from seed and index alone)', () => {
  const t = all.find((x) => x.name === 'nfs3.WRITE.args')!;
  for (const i of [0, 17, 123456]) {
    const a = runCase(t, i, { seed: SEED, donors, caseBudgetMs: 2000 });
    const b = runCase(t, i, { seed: SEED, donors, caseBudgetMs: 2000 });
    assert.deepEqual(a.input, b.input);
    assert.equal(a.outcome, b.outcome);
  }
});
