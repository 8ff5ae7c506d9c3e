/**
 * npm run bench — our server vs nfs-ganesha under the same libnfs client, in one run:
 * `nfs-cp` of a 1 GiB file out of (read) and into (write) each server, and `nfs-ls` of a
 * 10,000-entry directory. Reports medians and ratios (ours / ganesha for throughput,
 * ours / ganesha for listing time), checks sha256 on every copy, and writes JSON to
 * bench/results/. Needs root (ganesha's FSAL VFS) and the peers (../shared/peers/install.sh).
 *
 * Environment: BENCH_RUNS (8), BENCH_SIZE_MB (1024), BENCH_NFILES (10000). Eight runs, because
 * each server's first runs are cold (fresh process; V8 takes ~3 listings to optimise the listing
 * path) and on this VM a copy's time moves 2-4x with the state of the memory it writes into, so
 * with fewer runs one or two noisy runs decide the median; an even number, because the servers
 * take turns going first. Before them, BENCH_WARMUP (1) rounds that are reported but not counted:
 * each server copies out and in once and lists three times, so the runs measure servers in their
 * steady state — and the first copy after the setup (2 GiB copied into the exports, 20,000 files
 * made), slow for whichever server goes first, is nobody's result.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, sha256, timed } from './common.js';
import { startServer, freePort, SHARED, REPO } from '../tests/helpers/server-process.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
/** Listings in a warm-up round: V8 optimises the listing path only after a few thousand calls. */
const WARMUP_LISTINGS = 3;
const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const NFILES = Number(process.env.BENCH_NFILES ?? 10000);
const BYTES = SIZE_MB * 1024 * 1024;

interface Target {
  name: string;
  dir: string;
  url: (rel: string) => string;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (ganesha needs CAP_DAC_READ_SEARCH)');
  const base = '/srv/nfs-localio-bench';
  fs.rmSync(base, { recursive: true, force: true });
  const ours = path.join(base, 'ours');
  const gan = path.join(base, 'ganesha');
  for (const d of [ours, gan]) fs.mkdirSync(d, { recursive: true });
  const src = path.join(os.tmpdir(), 'nfsl-bench-src.bin');
  const dst = path.join(os.tmpdir(), 'nfsl-bench-dst.bin');
  if (!fs.existsSync(src) || fs.statSync(src).size !== BYTES) execFileSync('sh', ['-c', `head -c ${BYTES} /dev/urandom > ${src}`]);
  const sum = sha256(src);
  for (const d of [ours, gan]) {
    fs.copyFileSync(src, path.join(d, 'read.bin'));
    const ld = path.join(d, 'list');
    fs.mkdirSync(ld);
    for (let i = 0; i < NFILES; i++) fs.writeFileSync(path.join(ld, `f${i}`), '');
  }
  execFileSync('sync');

  const gport = await freePort();
  const gmport = await freePort();
  const gstate = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-ganesha-'));
  const genv = { ...process.env, GANESHA_EXPORT_DIR: gan, GANESHA_NFS_PORT: String(gport), GANESHA_MNT_PORT: String(gmport), GANESHA_STATE_DIR: gstate };
  execFileSync('bash', [path.join(SHARED, 'peers/ganesha-start.sh')], { env: genv, stdio: ['ignore', 'ignore', 'inherit'] });
  const server = await startServer({ dir: ours, exportsText: `${ours} *(rw,insecure,no_root_squash)\n` });
  const targets: Target[] = [
    { name: 'nfs-localio', dir: ours, url: (rel) => server.url(rel) },
    { name: 'ganesha', dir: gan, url: (rel) => `nfs://127.0.0.1/export/${rel}?version=3&nfsport=${gport}&mountport=${gmport}` },
  ];
  type Series = { read: number[]; write: number[]; list: number[] };
  const results: Record<string, Series> = {};
  const warmup: Record<string, Series> = {};
  try {
    for (const t of targets) {
      results[t.name] = { read: [], write: [], list: [] };
      warmup[t.name] = { read: [], write: [], list: [] };
    }
    for (let run = 1 - WARMUP; run <= RUNS; run++) {
      // Alternate who goes first: each step leaves the VM in a state (freed page cache, writeback,
      // memory handed back to the host) that the next step pays for, whichever server it is.
      for (const t of run % 2 === 1 ? targets : [...targets].reverse()) {
        const r = run >= 1 ? results[t.name] : warmup[t.name];
        fs.rmSync(dst, { force: true });
        const rs = timed('nfs-cp', [t.url('read.bin'), dst]);
        if (sha256(dst) !== sum) throw new Error(`${t.name}: read sha256 mismatch`);
        r.read.push(BYTES / 1e6 / rs);
        const wname = `write-${run}.bin`;
        const ws = timed('nfs-cp', [src, t.url(wname)]);
        if (sha256(path.join(t.dir, wname)) !== sum) throw new Error(`${t.name}: write sha256 mismatch`);
        fs.rmSync(path.join(t.dir, wname));
        r.write.push(BYTES / 1e6 / ws);
        for (let i = 0; i < (run >= 1 ? 1 : WARMUP_LISTINGS); i++) r.list.push(timed('nfs-ls', [t.url('list')]));
        const what = run >= 1 ? `run ${run}` : 'warm-up';
        const ls = run >= 1 ? `${r.list.at(-1)!.toFixed(3)} s` : `${r.list.map((x) => x.toFixed(3)).join(', ')} s`;
        console.log(`${t.name.padEnd(12)} ${what}: read ${r.read.at(-1)!.toFixed(0)} MB/s  write ${r.write.at(-1)!.toFixed(0)} MB/s  ls ${ls}`);
      }
    }
  } finally {
    await server.stop();
    spawnSync('bash', [path.join(SHARED, 'peers/ganesha-stop.sh')], { env: genv, stdio: 'ignore' });
    fs.rmSync(dst, { force: true });
    fs.rmSync(base, { recursive: true, force: true });
  }
  const m = (n: string, k: 'read' | 'write' | 'list') => median(results[n][k]);
  const summary = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}`,
    node: process.version,
    runs: RUNS,
    sizeMiB: SIZE_MB,
    entries: NFILES,
    warmupRounds: WARMUP,
    warmup,
    results,
    medians: Object.fromEntries(Object.keys(results).map((n) => [n, { readMBps: m(n, 'read'), writeMBps: m(n, 'write'), listSeconds: m(n, 'list') }])),
    ratios: {
      read: m('nfs-localio', 'read') / m('ganesha', 'read'),
      write: m('nfs-localio', 'write') / m('ganesha', 'write'),
      listTime: m('nfs-localio', 'list') / m('ganesha', 'list'),
    },
  };
  const outDir = path.join(REPO, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'server-vs-ganesha.json');
  fs.writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
  console.log(`\n| metric | nfs-localio | ganesha | ratio |\n| --- | --- | --- | --- |`);
  console.log(`| nfs-cp read ${SIZE_MB} MiB (MB/s) | ${m('nfs-localio', 'read').toFixed(0)} | ${m('ganesha', 'read').toFixed(0)} | ${summary.ratios.read.toFixed(2)}× |`);
  console.log(`| nfs-cp write ${SIZE_MB} MiB (MB/s) | ${m('nfs-localio', 'write').toFixed(0)} | ${m('ganesha', 'write').toFixed(0)} | ${summary.ratios.write.toFixed(2)}× |`);
  console.log(`| nfs-ls ${NFILES} entries (s) | ${m('nfs-localio', 'list').toFixed(3)} | ${m('ganesha', 'list').toFixed(3)} | ${summary.ratios.listTime.toFixed(2)}× time |`);
  console.log(`\nwritten ${path.relative(REPO, out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

