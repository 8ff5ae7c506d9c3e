/**
 * npm run bench:client — our client's `nfs-localio cp` vs libnfs's `nfs-cp`,
 * both against the same nfs-ganesha, in one run: a BENCH_SIZE_MB file (1 GiB
 * by default) copied out of the export (read) and into it (write). Both are
 * whole commands (process start included), run alternately, BENCH_RUNS
 * times each; every copy is checked by sha256 outside the timed part.
 * Reports medians and ratios (ours / libnfs throughput; targets: ≥ 0.8×
 * reading, ≥ 1.0× writing) and writes JSON to
 * bench/results/client-vs-libnfs.json. Needs root (ganesha's FSAL VFS) and
 * the peers (../shared/peers/install.sh). Everything stays on 127.0.0.1.
 *
 * Environment: BENCH_SIZE_MB (1024), BENCH_RUNS (6; even, so each tool goes first equally often).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, sha256, timed } from './common.js';
import { CLI, REPO, SHARED, freePort } from '../tests/helpers/server-process.js';

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 6);
const BYTES = SIZE_MB * 1024 * 1024;

const mbps = (s: number) => BYTES / s / 1e6;

function version(pkg: string): string {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (ganesha needs CAP_DAC_READ_SEARCH)');
  for (const c of ['nfs-cp', 'ganesha.nfsd']) {
    if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) throw new Error(`${c} not installed (../shared/peers/install.sh)`);
  }
  const exp = fs.mkdtempSync('/srv/nfsl-bench-client-');
  fs.chmodSync(exp, 0o755);
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-client-ganesha-'));
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-client-local-'));
  const src = path.join(os.tmpdir(), `nfsl-bench-client-src-${SIZE_MB}.bin`);
  if (!fs.existsSync(src) || fs.statSync(src).size !== BYTES) execFileSync('sh', ['-c', `head -c ${BYTES} /dev/urandom > ${src}`]);
  const sum = sha256(src);
  fs.copyFileSync(src, path.join(exp, 'read.bin'));
  execFileSync('sync');

  const nfsport = await freePort();
  let mountport = await freePort();
  while (mountport === nfsport) mountport = await freePort();
  const env = { ...process.env, GANESHA_EXPORT_DIR: exp, GANESHA_NFS_PORT: String(nfsport), GANESHA_MNT_PORT: String(mountport), GANESHA_STATE_DIR: state };
  const url = (rel: string) => `nfs://127.0.0.1/export/${rel}?version=3&nfsport=${nfsport}&mountport=${mountport}`;
  execFileSync('bash', [path.join(SHARED, 'peers/ganesha-start.sh')], { env, stdio: ['ignore', 'ignore', 'inherit'] });

  const tools = {
    'nfs-localio': (a: string, b: string) => timed(process.execPath, [CLI, 'cp', '-q', a, b]),
    'libnfs nfs-cp': (a: string, b: string) => timed('nfs-cp', [a, b]),
  };
  type Tool = keyof typeof tools;
  const res: Record<Tool, { read: number[]; write: number[] }> = { 'nfs-localio': { read: [], write: [] }, 'libnfs nfs-cp': { read: [], write: [] } };
  try {
    // one untimed warm-up each way per tool (first-touch costs of a fresh VM page cache land here, not in a sample)
    for (const tool of Object.keys(tools) as Tool[]) {
      const dst = path.join(local, 'warm.bin');
      tools[tool](url('read.bin'), dst);
      fs.rmSync(dst);
      tools[tool](src, url('warm.bin'));
      fs.rmSync(path.join(exp, 'warm.bin'));
    }
    // Phases, not interleaved: measured here, the first read after a burst of writes ran 2-4x slower
    // for either tool (ganesha/page-cache settling), so each phase starts with an untimed copy of its own kind.
    const order = (run: number) => (run % 2 === 0 ? ['nfs-localio', 'libnfs nfs-cp'] : ['libnfs nfs-cp', 'nfs-localio']) as Tool[];
    const settle = path.join(local, 'settle.bin');
    tools['libnfs nfs-cp'](url('read.bin'), settle);
    fs.rmSync(settle);
    for (let run = 0; run < RUNS; run++) {
      for (const tool of order(run)) {
        const dst = path.join(local, `r${run}.bin`);
        const s = tools[tool](url('read.bin'), dst);
        if (sha256(dst) !== sum) throw new Error(`${tool} read: sha256 mismatch`);
        fs.rmSync(dst);
        res[tool].read.push(s);
        process.stderr.write(`run ${run + 1}/${RUNS} ${tool} read  ${s.toFixed(2)} s  ${mbps(s).toFixed(0)} MB/s\n`);
      }
    }
    tools['libnfs nfs-cp'](src, url('settle.bin'));
    fs.rmSync(path.join(exp, 'settle.bin'));
    for (let run = 0; run < RUNS; run++) {
      for (const tool of order(run)) {
        const name = `w-${tool.replace(/\W+/g, '')}-${run}.bin`;
        const s = tools[tool](src, url(name));
        if (sha256(path.join(exp, name)) !== sum) throw new Error(`${tool} write: sha256 mismatch`);
        fs.rmSync(path.join(exp, name));
        res[tool].write.push(s);
        process.stderr.write(`run ${run + 1}/${RUNS} ${tool} write ${s.toFixed(2)} s  ${mbps(s).toFixed(0)} MB/s\n`);
      }
    }
  } finally {
    execFileSync('bash', [path.join(SHARED, 'peers/ganesha-stop.sh')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    fs.rmSync(exp, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
    fs.rmSync(local, { recursive: true, force: true });
  }
  const summary = (tool: Tool) => ({
    readSeconds: res[tool].read,
    writeSeconds: res[tool].write,
    readMedianS: median(res[tool].read),
    writeMedianS: median(res[tool].write),
    readMBps: mbps(median(res[tool].read)),
    writeMBps: mbps(median(res[tool].write)),
  });
  const ours = summary('nfs-localio');
  const libnfs = summary('libnfs nfs-cp');
  const ratios = { read: ours.readMBps / libnfs.readMBps, write: ours.writeMBps / libnfs.writeMBps };
  const out = {
    bench: 'client-vs-libnfs',
    date: new Date().toISOString(),
    server: `nfs-ganesha ${version('nfs-ganesha')} (FSAL VFS) on 127.0.0.1`,
    libnfs: version('libnfs-utils'),
    node: process.version,
    cpus: os.cpus().length,
    sizeBytes: BYTES,
    runs: RUNS,
    method: 'whole commands timed (process start included); all reads, then all writes, alternating which tool goes first; sync before each; untimed warm-ups; sha256 verified after every copy; MB/s = 10^6 bytes/s of the median',
    commands: { ours: 'nfs-localio cp -q SRC DST', libnfs: 'nfs-cp SRC DST' },
    'nfs-localio': ours,
    'libnfs nfs-cp': libnfs,
    ratios,
    targets: { read: 0.8, write: 1.0, readMet: ratios.read >= 0.8, writeMet: ratios.write >= 1.0 },
  };
  const dir = path.join(REPO, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'client-vs-libnfs.json'), JSON.stringify(out, null, 2) + '\n');
  const row = (n: string, s: ReturnType<typeof summary>) =>
    `${n.padEnd(14)} read ${s.readMedianS.toFixed(2)} s (${s.readMBps.toFixed(0)} MB/s)   write ${s.writeMedianS.toFixed(2)} s (${s.writeMBps.toFixed(0)} MB/s)`;
  process.stdout.write(
    [
      `${SIZE_MB} MiB, ${RUNS} runs each, medians, against ${out.server}`,
      row('nfs-localio', ours),
      row('libnfs nfs-cp', libnfs),
      `ratio ours/libnfs: read ${ratios.read.toFixed(2)}× (target ≥ 0.8)   write ${ratios.write.toFixed(2)}× (target ≥ 1.0)`,
      `results: bench/results/client-vs-libnfs.json`,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
