/**
 * Runs cases of one target: makes each input (from the case's own PRNG), runs it with the
 * allocation guard armed, and classifies the outcome. A failure is any throw the target does not
 * document as its "bad input" error, an invariant broken, a Buffer allocated over the target's
 * limit, or a case slower than the per-case budget. (A case that never returns is caught by the
 * watchdog in run.ts, which runs targets in worker threads.)
 */
import { Rng } from './prng.js';
import { mutate, randomBytes, randomWords } from './mutate.js';
import { arm, collect, disarm, installAllocGuard } from './guard.js';
import type { Target } from './target.js';

export interface Failure {
  target: string;
  seed: number;
  index: number;
  kind: 'crash' | 'invariant' | 'alloc' | 'slow' | 'hang' | 'memory';
  message: string;
  stack?: string;
  input?: string;
}

export interface CaseOutcome {
  outcome: 'ok' | 'rejected' | 'fail';
  input: Buffer;
  ms: number;
  largestAlloc: number;
  failure?: Failure;
}

export interface MemorySample {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

export interface TargetStats {
  target: string;
  seed: number;
  cases: number;
  ok: number;
  rejected: number;
  seeds: number;
  ms: number;
  slowestMs: number;
  largestAlloc: number;
  /** After GC: before the first case, after 10% of them, after the last. */
  memory: { before: MemorySample; warm: MemorySample; after: MemorySample };
  failures: Failure[];
}

/** The input of case `index`: a corpus seed, mutated (mostly), or random bytes / words. */
export function makeInput(t: Target, rng: Rng, donors: readonly Buffer[]): Buffer {
  const maxLen = t.maxLen ?? 4096;
  const k = rng.below(100);
  if (k < 3 || t.seeds.length === 0) return randomBytes(rng, Math.min(maxLen, 1024));
  if (k < 6) return randomWords(rng, Math.min(maxLen, 1024));
  const seed = t.seeds[rng.below(t.seeds.length)];
  if (k < 8) return Buffer.from(seed);
  if (t.mutate && k < 35) {
    const m = t.mutate(rng, seed);
    return rng.chance(0.3) ? mutate(rng, m, { maxLen, donors }) : m;
  }
  return mutate(rng, seed, { maxLen, donors });
}

function describe(e: unknown): { message: string; stack?: string; name: string } {
  if (e instanceof Error) return { name: e.name, message: `${e.name}${(e as { code?: string }).code ? ` [${(e as { code?: string }).code}]` : ''}: ${e.message}`, stack: e.stack };
  return { name: typeof e, message: `non-Error thrown: ${String(e)}` };
}

export interface CaseOptions {
  seed: number;
  donors: readonly Buffer[];
  caseBudgetMs: number;
  /** Set when a slow case is being timed a second time. */
  retrying?: boolean;
}

export function runCase(t: Target, index: number, o: CaseOptions): CaseOutcome {
  const rng = Rng.forCase(o.seed, t.name, index);
  const input = makeInput(t, rng, o.donors);
  let outcome: CaseOutcome['outcome'] = 'ok';
  let failure: Failure | undefined;
  const t0 = performance.now();
  arm();
  try {
    outcome = t.run(input, rng) === 'rejected' ? 'rejected' : 'ok';
  } catch (e) {
    if (t.expected(e)) outcome = 'rejected';
    else {
      const d = describe(e);
      failure = { target: t.name, seed: o.seed, index, kind: d.name === 'InvariantError' ? 'invariant' : 'crash', message: d.message, stack: d.stack };
    }
  }
  const alloc = disarm();
  const ms = performance.now() - t0;
  if (!failure) {
    const limit = t.allocLimit ? t.allocLimit(input) : Math.max(64, input.length);
    if (alloc.largest > limit) {
      failure = { target: t.name, seed: o.seed, index, kind: 'alloc', message: `allocated a ${alloc.largest}-byte Buffer for a ${input.length}-byte input (limit ${limit})` };
    } else if (ms > o.caseBudgetMs && !o.retrying) {
      // A pause of the whole process (GC, another job on the machine) is not the case's doing: time it again.
      const again = runCase(t, index, { ...o, retrying: true });
      if (again.ms > o.caseBudgetMs) {
        failure = { target: t.name, seed: o.seed, index, kind: 'slow', message: `case took ${ms.toFixed(1)} ms, then ${again.ms.toFixed(1)} ms (budget ${o.caseBudgetMs} ms)` };
      }
    }
  }
  if (failure) {
    failure.input = input.toString('hex');
    outcome = 'fail';
  }
  return { outcome, input, ms, largestAlloc: alloc.largest, failure };
}

const NO_SAMPLE: MemorySample = { heapUsed: 0, external: 0, arrayBuffers: 0, rss: 0 };

function sample(on = true): MemorySample {
  if (!on) return NO_SAMPLE;
  collect();
  collect();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

export interface RunOptions extends CaseOptions {
  start: number;
  count: number;
  /** Stop the target after this many failures (they are usually one bug). */
  maxFailures: number;
  /** Heap (+external) growth from the 10% mark to the end that counts as a leak. */
  leakBytes: number;
  /** Sample memory after full GCs (before, at 10%, after) and check for a leak; default true. */
  memory?: boolean;
  /** Called with the case index before each case (the watchdog's heartbeat). */
  onCase?: (index: number) => void;
}

export function runTarget(t: Target, o: RunOptions): TargetStats {
  installAllocGuard();
  const stats: TargetStats = {
    target: t.name, seed: o.seed, cases: 0, ok: 0, rejected: 0, seeds: t.seeds.length, ms: 0, slowestMs: 0, largestAlloc: 0,
    memory: { before: sample(o.memory), warm: NO_SAMPLE, after: NO_SAMPLE }, failures: [],
  };
  const warmAt = o.start + Math.floor(o.count / 10);
  const t0 = performance.now();
  for (let i = o.start; i < o.start + o.count; i++) {
    if (i === warmAt) stats.memory.warm = sample(o.memory);
    o.onCase?.(i);
    const c = runCase(t, i, o);
    stats.cases++;
    if (c.ms > stats.slowestMs) stats.slowestMs = c.ms;
    if (c.largestAlloc > stats.largestAlloc) stats.largestAlloc = c.largestAlloc;
    if (c.outcome === 'ok') stats.ok++;
    else if (c.outcome === 'rejected') stats.rejected++;
    else {
      stats.failures.push(c.failure!);
      if (stats.failures.length >= o.maxFailures) break;
    }
  }
  stats.ms = performance.now() - t0;
  try {
    t.finish?.();
  } catch (e) {
    stats.failures.push({ target: t.name, seed: o.seed, index: -1, kind: 'memory', message: describe(e).message });
  }
  stats.memory.after = sample(o.memory);
  const grew = (m: MemorySample) => m.heapUsed + m.external;
  const growth = grew(stats.memory.after) - grew(stats.memory.warm);
  if (o.memory !== false && stats.cases === o.count && growth > o.leakBytes) {
    stats.failures.push({ target: t.name, seed: o.seed, index: -1, kind: 'memory', message: `heap+external grew ${growth} bytes from case ${warmAt} to the end (limit ${o.leakBytes})` });
  }
  return stats;
}
