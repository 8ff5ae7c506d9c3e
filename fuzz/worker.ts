/** A worker thread running one target's cases (run.ts watches its heartbeat for hangs). */
import { parentPort, workerData } from 'node:worker_threads';
import { allTargets, donorsOf } from './targets.js';
import { runTarget } from './engine.js';

export interface WorkerJob {
  target: string;
  seed: number;
  start: number;
  count: number;
  caseBudgetMs: number;
  maxFailures: number;
  leakBytes: number;
  /** Int32Array: [0] the case index running now. */
  heartbeat: SharedArrayBuffer;
}

const job = workerData as WorkerJob;
// Half the time of a rejected case is the decoder's XdrError capturing its stack: skip that here.
// A failure prints its replay command, and the replay (run.ts --case) shows the full stack.
Error.stackTraceLimit = 0;
const all = allTargets();
const t = all.find((x) => x.name === job.target);
if (!t) throw new Error(`no target ${job.target}`);
const beat = new Int32Array(job.heartbeat);
const stats = runTarget(t, {
  seed: job.seed,
  start: job.start,
  count: job.count,
  donors: donorsOf(all),
  caseBudgetMs: job.caseBudgetMs,
  maxFailures: job.maxFailures,
  leakBytes: job.leakBytes,
  onCase: (i) => Atomics.store(beat, 0, i),
});
parentPort!.postMessage(stats);
