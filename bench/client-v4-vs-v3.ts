/**
 * npm run bench:client-v4 — our client over NFSv4.1 vs over NFSv3, against the
 * same server, in one run: a BENCH_SIZE_MB file (1 GiB by default) copied
 * out of the export (read) and into it (write) with `nfs-localio cp -q`,
 * the URL's version= the only difference. Against our server (a separate
 * `nfs-localio serve` process; the client's LOCALIO off, so both versions
 * go over the wire) and against nfs-ganesha. Whole commands (process start,
 * connect and session set-up included), versions alternating which goes
 * first, BENCH_RUNS times each; every copy checked by sha256 outside the
 * timed part. Reports medians and the ratios v4.1 / v3 (target: ≥ 0.9×
 * both ways, issue 14) and writes bench/results/client-v4-vs-v3.json.
 * Needs root for ganesha (FSAL VFS) and the peers; 127.0.0.1 only.
 *
 * Environment: BENCH_SIZE_MB (1024), BENCH_RUNS (6; even), BENCH_SERVERS (ours,ganesha).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, sha256, timed } from './common.js';
import { CLI, REPO, SHARED, freePort, startServer, type ServerProcess } from '../tests/helpers/server-process.js';

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 6);
const SERVERS = (process.env.BENCH_SERVERS ?? 'ours,ganesha').split(',').map((s) => s.trim());
const BYTES = SIZE_MB * 1024 * 1024;
const VERSIONS = ['3', '4.1'] as const;
type Version = (typeof VERSIONS)[number];

const mbps = (s: number) => BYTES / s / 1e6;

interface Served {
  name: string;
  /** The exported directory. */
  dir: string;
  url(rel: string, version: Version): string;
  stop(): Promise<void>;
}

async function ours(): Promise<Served> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-v4-ours-'));
  fs.chmodSync(dir, 0o777);
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-v4-ours-state-'));
  const server: ServerProcess = await startServer({ dir, stateDir: state, exportsText: `${dir} *(rw,insecure,no_root_squash)\n` });
  return {
    name: 'nfs-localio server',
    dir,
    // LOCALIO off: the comparison is of the protocols on the wire.
    url: (rel, v) => `nfs://127.0.0.1${dir}/${rel}?version=${v}&nfsport=${server.port}&mountport=${server.port}&localio=0`,
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(state, { recursive: true, force: true });
    },
  };
}

async function ganesha(): Promise<Served> {
  const dir = fs.mkdtempSync('/srv/nfsl-bench-v4-');
  fs.chmodSync(dir, 0o755);
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-v4-ganesha-'));
  const nfsport = await freePort();
  let mountport = await freePort();
  while (mountport === nfsport) mountport = await freePort();
  const env = { ...process.env, GANESHA_EXPORT_DIR: dir, GANESHA_NFS_PORT: String(nfsport), GANESHA_MNT_PORT: String(mountport), GANESHA_STATE_DIR: state };
  execFileSync('bash', [path.join(SHARED, 'peers/ganesha-start.sh')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    name: 'nfs-ganesha',
    dir,
    url: (rel, v) => `nfs://127.0.0.1/export/${rel}?version=${v}&nfsport=${nfsport}&mountport=${mountport}`,
    stop: async () => {
      execFileSync('bash', [path.join(SHARED, 'peers/ganesha-stop.sh')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(state, { recursive: true, force: true });
    },
  };
}

const cp = (a: string, b: string) => timed(process.execPath, [CLI, 'cp', '-q', a, b]);

/** Reads, then writes, of the file through each version (alternating which goes first); seconds per copy. */
function measure(s: Served, src: string, sum: string, local: string): Record<Version, { read: number[]; write: number[] }> {
  const res = { '3': { read: [] as number[], write: [] as number[] }, '4.1': { read: [] as number[], write: [] as number[] } };
  const order = (run: number): Version[] => (run % 2 === 0 ? ['3', '4.1'] : ['4.1', '3']);
  fs.copyFileSync(src, path.join(s.dir, 'read.bin'));
  execFileSync('sync');
  // One untimed copy each way per version: first-touch costs land here, not in a sample.
  for (const v of VERSIONS) {
    cp(s.url('read.bin', v), path.join(local, 'warm.bin'));
    fs.rmSync(path.join(local, 'warm.bin'));
    cp(src, s.url(`warm-${v}.bin`, v));
    fs.rmSync(path.join(s.dir, `warm-${v}.bin`));
  }
  // Phases, as bench:client does: all reads, then all writes.
  for (let run = 0; run < RUNS; run++) {
    for (const v of order(run)) {
      const dst = path.join(local, `r${run}.bin`);
      const t = cp(s.url('read.bin', v), dst);
      if (sha256(dst) !== sum) throw new Error(`${s.name} NFSv${v} read: sha256 mismatch`);
      fs.rmSync(dst);
      res[v].read.push(t);
      process.stderr.write(`${s.name} run ${run + 1}/${RUNS} NFSv${v.padEnd(3)} read  ${t.toFixed(2)} s  ${mbps(t).toFixed(0)} MB/s\n`);
    }
  }
  for (let run = 0; run < RUNS; run++) {
    for (const v of order(run)) {
      const name = `w-${v}-${run}.bin`;
      const t = cp(src, s.url(name, v));
      if (sha256(path.join(s.dir, name)) !== sum) throw new Error(`${s.name} NFSv${v} write: sha256 mismatch`);
      fs.rmSync(path.join(s.dir, name));
      res[v].write.push(t);
      process.stderr.write(`${s.name} run ${run + 1}/${RUNS} NFSv${v.padEnd(3)} write ${t.toFixed(2)} s  ${mbps(t).toFixed(0)} MB/s\n`);
    }
  }
  return res;
}

async function main(): Promise<void> {
  if (SERVERS.includes('ganesha') && process.getuid?.() !== 0) throw new Error('run as root (ganesha needs CAP_DAC_READ_SEARCH), or BENCH_SERVERS=ours');
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-v4-local-'));
  const src = path.join(os.tmpdir(), `nfsl-bench-client-src-${SIZE_MB}.bin`);
  if (!fs.existsSync(src) || fs.statSync(src).size !== BYTES) execFileSync('sh', ['-c', `head -c ${BYTES} /dev/urandom > ${src}`]);
  const sum = sha256(src);
  const results: Record<string, unknown> = {};
  const lines: string[] = [`${SIZE_MB} MiB, ${RUNS} runs each, medians; nfs-localio cp -q with version=3 and version=4.1`];
  try {
    for (const which of SERVERS) {
      const s = which === 'ganesha' ? await ganesha() : await ours();
      try {
        const probe = spawnSync(process.execPath, [CLI, 'ls', s.url('', '4.1')], { encoding: 'utf8' });
        if (probe.status !== 0) throw new Error(`${s.name} does not answer NFSv4.1: ${probe.stderr}`);
        const res = measure(s, src, sum, local);
        const m = (v: Version) => ({ readMBps: mbps(median(res[v].read)), writeMBps: mbps(median(res[v].write)), readSeconds: res[v].read, writeSeconds: res[v].write });
        const v3 = m('3');
        const v41 = m('4.1');
        const ratios = { read: v41.readMBps / v3.readMBps, write: v41.writeMBps / v3.writeMBps };
        results[which] = { server: s.name, v3, 'v4.1': v41, ratios, targets: { read: 0.9, write: 0.9, readMet: ratios.read >= 0.9, writeMet: ratios.write >= 0.9 } };
        lines.push(
          `${s.name}: NFSv3 read ${v3.readMBps.toFixed(0)} MB/s, write ${v3.writeMBps.toFixed(0)} MB/s; NFSv4.1 read ${v41.readMBps.toFixed(0)} MB/s, write ${v41.writeMBps.toFixed(0)} MB/s; ` +
            `v4.1/v3 read ${ratios.read.toFixed(2)}× write ${ratios.write.toFixed(2)}× (target ≥ 0.9×)`,
        );
      } finally {
        await s.stop();
      }
    }
  } finally {
    fs.rmSync(local, { recursive: true, force: true });
  }
  const out = {
    bench: 'client-v4-vs-v3',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    sizeBytes: BYTES,
    runs: RUNS,
    method: 'nfs-localio cp -q, whole commands timed (process start and session set-up included); reads then writes, alternating which version goes first; sync before each; untimed warm-ups; sha256 verified after every copy; our server with the client\'s LOCALIO off; MB/s = 10^6 bytes/s of the median',
    results,
  };
  const dir = path.join(REPO, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'client-v4-vs-v3.json'), JSON.stringify(out, null, 2) + '\n');
  process.stdout.write([...lines, 'results: bench/results/client-v4-vs-v3.json', ''].join('\n'));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
