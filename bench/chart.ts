/**
 * Charts for docs/benchmarks.md, generated from the benchmarks' JSON output
 * (bench/results/*.json) — never drawn by hand. Every `npm run bench…` ends by
 * running this; `npm run bench:chart` redraws from the stored results, and
 * tests/unit/bench-charts.test.ts checks the committed SVGs are exactly what
 * the stored JSON gives. Plain SVG, no dependency: a row of panels, each a
 * small bar chart with its own scale and the values written on the bars.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from '../tests/helpers/server-process.js';

export interface Bar {
  label: string;
  value: number;
  color: string;
}

export interface Panel {
  title: string;
  unit: string;
  bars: Bar[];
  /** A caption under the panel (e.g. the ratio and its target). */
  note?: string;
}

export interface Chart {
  file: string;
  title: string;
  subtitle: string;
  panels: Panel[];
}

const COLORS = { ours: '#2b6cb0', peer: '#a0aec0', local: '#2f855a', wire: '#c05621', raw: '#718096' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function renderSvg(c: Chart): string {
  const pw = 190;
  const ph = 230;
  const top = 64;
  const w = c.panels.length * pw + 20;
  const h = top + ph + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`);
  out.push(`<rect width="${w}" height="${h}" fill="#ffffff"/>`);
  out.push(`<text x="10" y="22" font-size="15" font-weight="bold">${esc(c.title)}</text>`);
  out.push(`<text x="10" y="42" font-size="11" fill="#4a5568">${esc(c.subtitle)}</text>`);
  c.panels.forEach((p, i) => {
    const x0 = 10 + i * pw;
    const max = Math.max(...p.bars.map((b) => b.value), 1e-9);
    const plotH = ph - 70;
    const base = top + 30 + plotH;
    const bw = Math.min(44, (pw - 30) / p.bars.length - 8);
    out.push(`<text x="${x0 + pw / 2 - 5}" y="${top + 8}" font-size="12" font-weight="bold" text-anchor="middle">${esc(p.title)}</text>`);
    out.push(`<text x="${x0 + pw / 2 - 5}" y="${top + 22}" font-size="10" fill="#4a5568" text-anchor="middle">${esc(p.unit)}</text>`);
    out.push(`<line x1="${x0 + 8}" y1="${base}" x2="${x0 + pw - 18}" y2="${base}" stroke="#2d3748"/>`);
    p.bars.forEach((b, j) => {
      const bh = Math.max(1, (b.value / max) * (plotH - 14));
      const bx = x0 + 14 + j * (bw + 8);
      out.push(`<rect x="${bx}" y="${(base - bh).toFixed(1)}" width="${bw}" height="${bh.toFixed(1)}" fill="${b.color}"/>`);
      out.push(`<text x="${bx + bw / 2}" y="${(base - bh - 3).toFixed(1)}" font-size="9" text-anchor="middle">${esc(fmt(b.value))}</text>`);
      out.push(`<text x="${bx + bw / 2}" y="${base + 12}" font-size="9" text-anchor="middle">${esc(b.label)}</text>`);
    });
    if (p.note) out.push(`<text x="${x0 + pw / 2 - 5}" y="${base + 28}" font-size="9" text-anchor="middle" fill="#2d3748">${esc(p.note)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

const mark = (ok: boolean) => (ok ? '✓' : '✗');

/* eslint-disable @typescript-eslint/no-explicit-any */
export function chartsFrom(results: Record<string, any>): Chart[] {
  const charts: Chart[] = [];
  const sv = results['server-vs-ganesha'];
  if (sv) {
    const m = sv.medians;
    const r = sv.ratios;
    charts.push({
      file: 'server-vs-ganesha.svg',
      title: 'Our server vs nfs-ganesha, libnfs nfs-cp / nfs-ls (npm run bench)',
      subtitle: `${sv.date.slice(0, 10)}, ${sv.machine}, ${sv.sizeMiB} MiB file, ${sv.entries} entries, median of ${sv.runs}`,
      panels: [
        { title: 'read', unit: 'MB/s (higher is better)', bars: [{ label: 'ours', value: m['nfs-localio'].readMBps, color: COLORS.ours }, { label: 'ganesha', value: m.ganesha.readMBps, color: COLORS.peer }], note: `${r.read.toFixed(2)}× (target ≥ 1.0×) ${mark(r.read >= 1)}` },
        { title: 'write', unit: 'MB/s (higher is better)', bars: [{ label: 'ours', value: m['nfs-localio'].writeMBps, color: COLORS.ours }, { label: 'ganesha', value: m.ganesha.writeMBps, color: COLORS.peer }], note: `${r.write.toFixed(2)}× (target ≥ 1.5×) ${mark(r.write >= 1.5)}` },
        { title: 'list 10k', unit: 'seconds (lower is better)', bars: [{ label: 'ours', value: m['nfs-localio'].listSeconds, color: COLORS.ours }, { label: 'ganesha', value: m.ganesha.listSeconds, color: COLORS.peer }], note: `time ${r.listTime.toFixed(2)}× (target ≤ 1.0×) ${mark(r.listTime <= 1)}` },
      ],
    });
  }
  const cl = results['client-vs-libnfs'];
  if (cl) {
    const ours = cl['nfs-localio'];
    const lib = cl['libnfs nfs-cp'];
    charts.push({
      file: 'client-vs-libnfs.svg',
      title: 'Our client vs libnfs nfs-cp, against nfs-ganesha (npm run bench:client)',
      subtitle: `${cl.date.slice(0, 10)}, ${cl.cpus} cores, ${Math.round(cl.sizeBytes / 2 ** 20)} MiB, median of ${cl.runs}`,
      panels: [
        { title: 'read', unit: 'MB/s (higher is better)', bars: [{ label: 'ours', value: ours.readMBps, color: COLORS.ours }, { label: 'libnfs', value: lib.readMBps, color: COLORS.peer }], note: `${cl.ratios.read.toFixed(2)}× (target ≥ 0.8×) ${mark(cl.ratios.read >= 0.8)}` },
        { title: 'write', unit: 'MB/s (higher is better)', bars: [{ label: 'ours', value: ours.writeMBps, color: COLORS.ours }, { label: 'libnfs', value: lib.writeMBps, color: COLORS.peer }], note: `${cl.ratios.write.toFixed(2)}× (target ≥ 1.0×) ${mark(cl.ratios.write >= 1)}` },
      ],
    });
  }
  for (const key of ['localio', 'localio-v4.1', 'localio-v4.2']) {
    const lo = results[key];
    if (!lo) continue;
    const targets: any[] = lo.targets ?? [];
    const note = (k: string) =>
      targets
        .filter((t) => t.workload === k)
        .map((t) => `${t.ratio.startsWith('LOCALIO/wire') ? 'vs wire' : 'vs raw'} ${t.value.toFixed(1)}× ${mark(t.pass)}`)
        .join(', ');
    charts.push({
      file: `${key}.svg`,
      title: `LOCALIO vs the wire vs raw fs${key === 'localio' ? '' : `, NFSv${lo.version}`}, one client and server, two processes (npm run bench:localio)`,
      subtitle: `${lo.date.slice(0, 10)}, ${lo.machine.cores} × ${lo.machine.cpu}, Linux ${lo.machine.kernel}, ${lo.params.fileMiB} MiB file, median of ${lo.params.runs}`,
      panels: Object.entries<any>(lo.workloads).map(([k, w]) => ({
        title: w.label.replace(' random', '').replace(' sequential', ' seq.'),
        unit: 'ops/s (higher is better)',
        bars: [
          { label: 'wire', value: w.medians.wire.opsPerSec, color: COLORS.wire },
          { label: 'LOCALIO', value: w.medians.localio.opsPerSec, color: COLORS.local },
          { label: 'raw fs', value: w.medians.raw.opsPerSec, color: COLORS.raw },
        ],
        note: note(k),
      })),
    });
  }
  const v4 = results['client-v4-vs-v3'];
  if (v4) {
    const panels = Object.values<any>(v4.results).flatMap((r) => [
      { title: `${r.server} read`, unit: 'MB/s (higher is better)', bars: [{ label: 'NFSv3', value: r.v3.readMBps, color: COLORS.wire }, { label: 'NFSv4.1', value: r['v4.1'].readMBps, color: COLORS.ours }], note: `${r.ratios.read.toFixed(2)}× (target ≥ 0.9×) ${mark(r.targets.readMet)}` },
      { title: `${r.server} write`, unit: 'MB/s (higher is better)', bars: [{ label: 'NFSv3', value: r.v3.writeMBps, color: COLORS.wire }, { label: 'NFSv4.1', value: r['v4.1'].writeMBps, color: COLORS.ours }], note: `${r.ratios.write.toFixed(2)}× (target ≥ 0.9×) ${mark(r.targets.writeMet)}` },
    ]);
    charts.push({
      file: 'client-v4-vs-v3.svg',
      title: 'Our client over NFSv4.1 vs over NFSv3, same server (npm run bench:client-v4)',
      subtitle: `${v4.date.slice(0, 10)}, ${v4.cpus} cores, ${Math.round(v4.sizeBytes / 2 ** 20)} MiB cp in and out, median of ${v4.runs}`,
      panels,
    });
  }
  return charts;
}

export function loadResults(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of ['server-vs-ganesha', 'client-vs-libnfs', 'localio', 'localio-v4.1', 'localio-v4.2', 'client-v4-vs-v3']) {
    const p = path.join(dir, `${name}.json`);
    if (fs.existsSync(p)) out[name] = JSON.parse(fs.readFileSync(p, 'utf8'));
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const outDir = path.join(REPO, 'docs/img');
  fs.mkdirSync(outDir, { recursive: true });
  for (const c of chartsFrom(loadResults(path.join(REPO, 'bench/results')))) {
    fs.writeFileSync(path.join(outDir, c.file), renderSvg(c));
    process.stdout.write(`chart: docs/img/${c.file}\n`);
  }
}
