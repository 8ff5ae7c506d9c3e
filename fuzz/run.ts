/**
 * `npm run fuzz` — every decoder that reads untrusted bytes, 1,000,000 cases each by default, then
 * the running server over TCP (server-mode.ts). See docs/fuzzing.md.
 *
 *   npm run fuzz -- [--cases N] [--target a,b.*] [--seed S] [--jobs J] [--mode all|decoders|server]
 *                   [--records N] [--server-heap MiB] [--case-budget MS] [--hang-ms MS] [--json FILE] [--list]
 *   npm run fuzz -- --target T --seed S --case N        replay exactly one case, with its input and stack
 *
 * FUZZ_CASES, FUZZ_SEED and FUZZ_RECORDS set the defaults of --cases, --seed and --records.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import os from 'node:os';
import { allTargets, donorsOf, selectTargets } from './targets.js';
import { runCase, type Failure, type TargetStats, type MemorySample } from './engine.js';
import { randomSeed } from './prng.js';
import { installAllocGuard } from './guard.js';
import { runServerMode, type ServerModeStats } from './server-mode.js';

const { values: a } = parseArgs({
  options: {
    cases: { type: 'string' },
    target: { type: 'string' },
    seed: { type: 'string' },
    case: { type: 'string' },
    jobs: { type: 'string' },
    mode: { type: 'string' },
    records: { type: 'string' },
    json: { type: 'string' },
    list: { type: 'boolean' },
    'case-budget': { type: 'string' },
    'hang-ms': { type: 'string' },
    'server-heap': { type: 'string' },
  },
});

const num = (v: string | undefined, d: number) => (v === undefined || v === '' ? d : Number(v));
const cases = num(a.cases ?? process.env.FUZZ_CASES, 1_000_000);
const seed = num(a.seed ?? process.env.FUZZ_SEED, randomSeed()) >>> 0;
const jobs = Math.max(1, num(a.jobs, Math.min(2, os.availableParallelism())));
const mode = a.mode ?? 'all';
const caseBudgetMs = num(a['case-budget'], 250);
const hangMs = num(a['hang-ms'], 10_000);
const MB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
const out = (s: string) => process.stdout.write(s + '\n');

function printFailure(f: Failure): void {
  out(`FAIL ${f.kind} ${f.target} seed=${f.seed} case=${f.index}: ${f.message}`);
  if (f.index >= 0) out(`  replay: npm run fuzz -- --target ${f.target} --seed ${f.seed} --case ${f.index}`);
  if (f.input !== undefined) out(`  input (${f.input.length / 2} bytes): ${f.input.length > 512 ? f.input.slice(0, 512) + '…' : f.input}`);
}

function replay(): number {
  installAllocGuard();
  const all = allTargets();
  const ts = selectTargets(all, a.target);
  if (ts.length !== 1) {
    out(`--case needs exactly one --target (matched ${ts.length})`);
    return 2;
  }
  const c = runCase(ts[0], Number(a.case), { seed, donors: donorsOf(all), caseBudgetMs });
  out(`${ts[0].name} seed=${seed} case=${a.case}: ${c.outcome} in ${c.ms.toFixed(3)} ms, largest allocation ${c.largestAlloc} bytes`);
  out(`input (${c.input.length} bytes): ${c.input.toString('hex')}`);
  if (c.failure) {
    printFailure(c.failure);
    if (c.failure.stack) out(c.failure.stack);
    return 1;
  }
  return 0;
}

function runInWorker(target: string): Promise<TargetStats> {
  const heartbeat = new SharedArrayBuffer(4);
  const beat = new Int32Array(heartbeat);
  Atomics.store(beat, 0, -1);
  const w = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: { target, seed, start: 0, count: cases, caseBudgetMs, maxFailures: 5, leakBytes: 16 << 20, heartbeat },
  });
  return new Promise((resolve) => {
    let last = -1;
    let since = Date.now();
    const hang = (message: string, index: number, kind: Failure['kind'] = 'hang') => {
      clearInterval(watch);
      void w.terminate();
      const f: Failure = { target, seed, index, kind, message };
      resolve({ target, seed, cases: Math.max(0, index), ok: 0, rejected: 0, seeds: 0, ms: 0, slowestMs: 0, largestAlloc: 0, memory: undefined as never, failures: [f] });
    };
    const watch = setInterval(() => {
      const now = Atomics.load(beat, 0);
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since > (now < 0 ? 60_000 : hangMs)) hang(`no progress for ${hangMs} ms: case ${now} hangs`, now);
    }, 250);
    w.once('message', (s: TargetStats) => {
      clearInterval(watch);
      resolve(s);
    });
    w.once('error', (err) => hang(`worker died: ${err.stack || err.message}`, Atomics.load(beat, 0), 'crash'));
  });
}

function mem(): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

async function decoders(): Promise<{ stats: TargetStats[]; wallMs: number }> {
  const targets = selectTargets(allTargets(), a.target).map((t) => t.name);
  out(`fuzzing ${targets.length} targets × ${cases} cases, seed ${seed}, ${jobs} worker(s)`);
  const queue = [...targets];
  const stats: TargetStats[] = [];
  const t0 = Date.now();
  const lane = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const s = await runInWorker(name);
      stats.push(s);
      const m = s.memory;
      const heap = m ? ` heap ${MB(m.before.heapUsed)}→${MB(m.after.heapUsed)} rss ${MB(m.after.rss)}` : '';
      out(
        `${s.failures.length ? 'FAIL' : 'ok  '} ${name.padEnd(30)} ${String(s.cases).padStart(8)} cases ${(s.ms / 1000).toFixed(1).padStart(6)} s` +
          ` ${String(s.rejected).padStart(8)} rejected  slowest ${s.slowestMs.toFixed(1)} ms  max alloc ${s.largestAlloc} B${heap}`,
      );
      s.failures.forEach(printFailure);
    }
  };
  await Promise.all(Array.from({ length: jobs }, lane));
  stats.sort((x, y) => targets.indexOf(x.target) - targets.indexOf(y.target));
  return { stats, wallMs: Date.now() - t0 };
}

async function main(): Promise<number> {
  if (a.list) {
    allTargets().forEach((t) => out(`${t.name} (${t.seeds.length} seeds)`));
    return 0;
  }
  if (a.case !== undefined) return replay();
  const started = new Date();
  const before = mem();
  let dec: Awaited<ReturnType<typeof decoders>> | undefined;
  let srv: ServerModeStats | undefined;
  if (mode === 'all' || mode === 'decoders') dec = await decoders();
  if (mode === 'all' || mode === 'server') srv = await runServerMode({ seed, records: num(a.records ?? process.env.FUZZ_RECORDS, 1_000_000), heapMiB: a['server-heap'] ? Number(a['server-heap']) : undefined, log: out });
  const after = mem();
  const failures = (dec?.stats.flatMap((s) => s.failures).length ?? 0) + (srv?.failures.length ?? 0);
  out(`\nseed ${seed}; decoders: ${dec ? `${dec.stats.length} targets, ${dec.stats.reduce((n, s) => n + s.cases, 0)} cases in ${(dec.wallMs / 1000).toFixed(1)} s` : 'not run'}`);
  out(`main process after GC: heap ${MB(before.heapUsed)} → ${MB(after.heapUsed)}, rss ${MB(before.rss)} → ${MB(after.rss)}`);
  out(failures === 0 ? 'no failures' : `${failures} FAILURE(S)`);
  if (a.json) {
    const doc = { started: started.toISOString(), seed, cases, jobs, node: process.version, cpus: os.cpus().length, argv: process.argv.slice(2), before, after, decoders: dec, server: srv };
    fs.writeFileSync(a.json, JSON.stringify(doc, null, 1));
  }
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(2);
  },
);
