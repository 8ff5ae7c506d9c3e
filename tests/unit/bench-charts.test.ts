/**
 * The charts in docs/benchmarks.md are generated from the benchmarks' JSON
 * (bench/results), not drawn by hand: the committed SVGs must be exactly
 * what the stored results give (`npm run bench:chart` redraws them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chartsFrom, loadResults, renderSvg } from '../../bench/chart.js';
import { REPO } from '../helpers/server-process.js';

test('docs/img charts match bench/results/*.json', () => {
  const charts = chartsFrom(loadResults(path.join(REPO, 'bench/results')));
  assert.equal(charts.length, 5, 'one chart per benchmark: server, client, LOCALIO over v3 and v4.1, client over v4.1');
  const doc = fs.readFileSync(path.join(REPO, 'docs/benchmarks.md'), 'utf8');
  for (const c of charts) {
    const p = path.join(REPO, 'docs/img', c.file);
    assert.equal(fs.readFileSync(p, 'utf8'), renderSvg(c), `${c.file} is stale: run npm run bench:chart`);
    assert.ok(doc.includes(`img/${c.file}`), `docs/benchmarks.md shows ${c.file}`);
  }
});

test('a chart carries every value and target verdict of its JSON', () => {
  const charts = chartsFrom(loadResults(path.join(REPO, 'bench/results')));
  const lo = charts.find((c) => c.file === 'localio.svg')!;
  assert.equal(lo.panels.length, 5);
  for (const p of lo.panels) assert.deepEqual(p.bars.map((b) => b.label), ['wire', 'LOCALIO', 'raw fs']);
  const svg = renderSvg(lo);
  assert.match(svg, /^<svg /);
  assert.ok(!/NaN|undefined/.test(svg));
});
