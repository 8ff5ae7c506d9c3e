/**
 * npm run bench:localio — LOCALIO vs the wire path of the same client and server vs raw `fs`, in one
 * run on one file.
 *
 * The server runs as its own process (`nfs-localio serve DIR --port N --state-dir D`), so LOCALIO goes
 * through the Unix rendezvous channel with descriptors passed by SCM_RIGHTS — the two-process deployment.
 * Three paths do the same I/O on the same files:
 *   - wire:    our client with `localio: false` (READ/WRITE/COMMIT over TCP to the server process);
 *   - LOCALIO: our client with LOCALIO, checked to be bound ('local', channel 'unix') before anything
 *              runs — the bench aborts otherwise;
 *   - raw fs:  `fs.promises.open` FileHandles on the same files (the physical limit).
 * Workloads, each on all three paths with the same seeded offsets:
 *   - 4 KiB random reads at queue depth 1 and 16 (aligned offsets);
 *   - 1 MiB sequential reads, queue depth 1, through the file (wrapping at its end);
 *   - 4 KiB random writes with commit: batches of 64 writes at random aligned offsets, one sync() per
 *     batch (raw fs: write + datasync per 64);
 *   - 1 MiB sequential writes with commit: sync() after every 16 MiB (raw fs: datasync).
 * Reads use read.bin, writes a scratch file of the same size; both are warm in the page cache. In each
 * run, each path gets BENCH_SECONDS per workload, cut into BENCH_SLICES slices that alternate between the
 * paths (path order rotated per run), so the VM's slow drifts hit all three alike; each path first does
 * an untimed warm-up of the workload. Reports medians over runs of ops/s and MB/s (10^6 bytes/s), the
 * ratios LOCALIO/wire and LOCALIO/raw against the targets of issue 4, the CPU seconds of client and
 * server, and writes bench/results/localio.json. Data read through every path is compared with the file
 * before and after.
 *
 * The whole comparison runs once per NFS version (BENCH_VERSIONS, default "3,4.1"): over NFSv4 the
 * OPEN goes over the wire and READ/WRITE/COMMIT local, against the same targets as v3's. Results:
 * bench/results/localio.json (v3) and localio-v4.1.json (v4.1; localio-v4.2.json ...).
 *
 * Environment: BENCH_FILE_MB (256), BENCH_RUNS (3), BENCH_SECONDS (2), BENCH_SLICES (4), BENCH_SEED,
 * BENCH_VERSIONS (3,4.1).
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from './common.js';
// The same seeded PRNG (mulberry32) the tests use: the same offsets on every path and every run.
import { prng as mulberry32 } from '../tests/helpers/nfs-raw.js';
import { REPO, startServer } from '../tests/helpers/server-process.js';
import { connect } from '../src/client/connect.js';
import type { NfsClient } from '../src/client/client.js';
import { parseVersion, type NfsVersion } from '../src/client/options.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 256);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const SEED = Number(process.env.BENCH_SEED ?? 0x10ca1);
const SIZE = FILE_MB * MiB;
const WARM_SECONDS = 0.2;
/** Each path's BENCH_SECONDS per workload and run is cut into this many slices, alternating between the paths. */
const SLICES = Math.max(1, Number(process.env.BENCH_SLICES ?? 4));
/** The NFS versions the comparison runs over, one after the other. */
const VERSIONS = (process.env.BENCH_VERSIONS ?? '3,4.1').split(',').map((v) => {
  const x = parseVersion(v.trim());
  if (x !== 3 && x !== 4.1 && x !== 4.2) throw new Error(`BENCH_VERSIONS: ${v} is not 3, 4.1 or 4.2`);
  return x as NfsVersion;
});

type PathName = 'wire' | 'localio' | 'raw';
const PATHS: PathName[] = ['wire', 'localio', 'raw'];
const PATH_LABEL: Record<PathName, string> = { wire: 'wire', localio: 'LOCALIO', raw: 'raw fs' };

interface IoPath {
  name: PathName;
  read(buf: Buffer, len: number, pos: number): Promise<number>;
  write(buf: Buffer, len: number, pos: number): Promise<number>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

interface Sample {
  ops: number;
  bytes: number;
  seconds: number;
  opsPerSec: number;
  MBps: number;
  /** CPU seconds of the bench process (the client) and of the server process during the measurement. */
  clientCpuS: number;
  serverCpuS: number;
}

/** A workload's state on one path across the slices of a run (offsets, file position, pending sync). */
type Cursor = (untilMs: number) => Promise<{ ops: number; bytes: number }>;

interface Workload {
  key: string;
  label: string;
  opBytes: number;
  /** A fresh cursor on `p`; each call runs the workload until `untilMs` (performance.now()), ending on a whole op / sync batch. */
  start(p: IoPath, seed: number): Cursor;
}

function randomRead(qd: number): Workload['start'] {
  return (p, seed) => {
    const rng = mulberry32(seed);
    const blocks = SIZE / (4 * KiB);
    const bufs = Array.from({ length: qd }, () => Buffer.alloc(4 * KiB));
    return async (until) => {
      let ops = 0;
      const worker = async (buf: Buffer) => {
        while (performance.now() < until) {
          const pos = Math.floor(rng() * blocks) * 4 * KiB;
          const n = await p.read(buf, 4 * KiB, pos);
          if (n !== 4 * KiB) throw new Error(`${p.name}: short 4 KiB read at ${pos}: ${n}`);
          ops++;
        }
      };
      await Promise.all(bufs.map(worker));
      return { ops, bytes: ops * 4 * KiB };
    };
  };
}

/** Sequential 1 MiB reads, QD1, going on where the last slice stopped and wrapping at the end of the file. */
const seqRead: Workload['start'] = (p) => {
  const buf = Buffer.alloc(MiB);
  let pos = 0;
  return async (until) => {
    let ops = 0;
    do {
      const n = await p.read(buf, MiB, pos);
      if (n !== MiB) throw new Error(`${p.name}: short 1 MiB read at ${pos}: ${n}`);
      ops++;
      pos = (pos + MiB) % SIZE;
    } while (performance.now() < until);
    return { ops, bytes: ops * MiB };
  };
};

/** Batches of 64 writes of 4 KiB at random aligned offsets, each batch followed by one sync(). */
const randomWrite: Workload['start'] = (p, seed) => {
  const rng = mulberry32(seed);
  const blocks = SIZE / (4 * KiB);
  const buf = randomFillSync(Buffer.alloc(4 * KiB));
  let seq = 0;
  return async (until) => {
    let ops = 0;
    do {
      for (let i = 0; i < 64; i++) {
        buf.writeUInt32LE(seq++, 0);
        const n = await p.write(buf, 4 * KiB, Math.floor(rng() * blocks) * 4 * KiB);
        if (n !== 4 * KiB) throw new Error(`${p.name}: short 4 KiB write: ${n}`);
        ops++;
      }
      await p.sync();
    } while (performance.now() < until);
    return { ops, bytes: ops * 4 * KiB };
  };
};

/** Sequential 1 MiB writes, sync() after every 16 MiB, going on where the last slice stopped (wrapping). */
const seqWrite: Workload['start'] = (p) => {
  const buf = randomFillSync(Buffer.alloc(MiB));
  let pos = 0;
  let seq = 0;
  return async (until) => {
    let ops = 0;
    do {
      for (let i = 0; i < 16; i++) {
        buf.writeUInt32LE(seq++, 0);
        const n = await p.write(buf, MiB, pos);
        if (n !== MiB) throw new Error(`${p.name}: short 1 MiB write at ${pos}: ${n}`);
        ops++;
        pos = (pos + MiB) % SIZE;
      }
      await p.sync();
    } while (performance.now() < until);
    return { ops, bytes: ops * MiB };
  };
};

const WORKLOADS: Workload[] = [
  { key: 'read4k_qd1', label: '4 KiB random read, QD1', opBytes: 4 * KiB, start: randomRead(1) },
  { key: 'read4k_qd16', label: '4 KiB random read, QD16', opBytes: 4 * KiB, start: randomRead(16) },
  { key: 'read1m_seq', label: '1 MiB sequential read', opBytes: MiB, start: seqRead },
  { key: 'write4k_commit', label: '4 KiB random write, sync/64', opBytes: 4 * KiB, start: randomWrite },
  { key: 'write1m_commit', label: '1 MiB sequential write, sync/16 MiB', opBytes: MiB, start: seqWrite },
];

/** The targets of issue 4: LOCALIO / wire on three workloads, LOCALIO / raw fs on all. */
const WIRE_TARGETS: Record<string, number> = { read4k_qd16: 10, read4k_qd1: 3, read1m_seq: 4 };
const RAW_TARGET = 0.8;

async function clientPath(name: PathName, c: NfsClient): Promise<IoPath> {
  const r = await c.open('/read.bin', 'r');
  const w = await c.open('/scratch.bin', 'r+');
  return {
    name,
    read: async (b, len, pos) => (await r.read(b, 0, len, pos)).bytesRead,
    write: async (b, len, pos) => (await w.write(b, 0, len, pos)).bytesWritten,
    sync: () => w.sync(),
    close: async () => {
      await r.close();
      await w.close();
    },
  };
}

async function rawPath(dir: string): Promise<IoPath> {
  const r = await fs.promises.open(path.join(dir, 'read.bin'), 'r');
  const w = await fs.promises.open(path.join(dir, 'scratch.bin'), 'r+');
  return {
    name: 'raw',
    read: async (b, len, pos) => (await r.read(b, 0, len, pos)).bytesRead,
    write: async (b, len, pos) => (await w.write(b, 0, len, pos)).bytesWritten,
    sync: () => w.datasync(),
    close: async () => {
      await r.close();
      await w.close();
    },
  };
}

/** utime + stime of a process, in seconds (from /proc). */
function procCpu(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // fields 14 and 15; USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

function makeFile(file: string): void {
  const fd = fs.openSync(file, 'w', 0o666);
  const buf = Buffer.allocUnsafe(4 * MiB);
  for (let off = 0; off < SIZE; off += buf.length) {
    randomFillSync(buf);
    fs.writeSync(fd, buf, 0, Math.min(buf.length, SIZE - off), off);
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.chmodSync(file, 0o666); // the default export squashes root: the bench writes as nobody
}

function warmCache(file: string): void {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(4 * MiB);
  while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  fs.closeSync(fd);
}

/** The same 4 KiB blocks of read.bin through every path must be identical to the file. */
async function compare(paths: IoPath[], raw: fs.promises.FileHandle, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  const want = Buffer.alloc(4 * KiB);
  const got = Buffer.alloc(4 * KiB);
  for (let i = 0; i < 64; i++) {
    const pos = Math.floor(rng() * (SIZE / (4 * KiB))) * 4 * KiB;
    await raw.read(want, 0, want.length, pos);
    for (const p of paths) {
      await p.read(got, got.length, pos);
      if (!got.equals(want)) throw new Error(`${p.name}: data at ${pos} of read.bin differs from the file`);
    }
  }
}

/** What the LOCALIO client itself counted: every data op local, none over the wire. */
function localioLine(st: unknown): string {
  const s = st as { local: { reads: number; writes: number; commits: number }; wire: { reads: number; writes: number; commits: number }; fallbacks: number } | undefined;
  if (!s) return 'LOCALIO client: no status';
  return `LOCALIO client counted ${s.local.reads} local READs, ${s.local.writes} WRITEs, ${s.local.commits} COMMITs; over the wire ${s.wire.reads} / ${s.wire.writes} / ${s.wire.commits}; fallbacks ${s.fallbacks}`;
}

const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
const fmtMB = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const fmtX = (x: number) => `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;

async function main(): Promise<void> {
  if (!(SIZE >= 16 * MiB) || SIZE % MiB !== 0) throw new Error('BENCH_FILE_MB must be a whole number ≥ 16');
  for (const version of VERSIONS) await benchVersion(version);
}

/** The whole comparison over one NFS version; results in localio.json (v3) or localio-v<version>.json. */
async function benchVersion(version: NfsVersion): Promise<void> {
  process.stderr.write(`==== NFSv${version}\n`);
  const t0 = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-localio-'));
  fs.chmodSync(dir, 0o777);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-localio-state-'));
  const readFile = path.join(dir, 'read.bin');
  const scratchFile = path.join(dir, 'scratch.bin');
  process.stderr.write(`creating ${FILE_MB} MiB read.bin and scratch.bin in ${dir}\n`);
  makeFile(readFile);
  makeFile(scratchFile);
  execFileSync('sync');
  warmCache(readFile);
  warmCache(scratchFile);

  const server = await startServer({ dir, stateDir }).catch((e: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
    throw e;
  });
  const serverPid = server.child.pid!;
  process.stderr.write(`server: pid ${serverPid}, port ${server.port}\n`);
  const clients: NfsClient[] = [];
  const paths: IoPath[] = [];
  const samples: Record<string, Record<PathName, Sample[]>> = {};
  let localioStatus: unknown;
  let wireStatus: unknown;
  try {
    const opts = { host: '127.0.0.1', nfsPort: server.port, mountPort: server.port, path: dir, version };
    const wireClient = await connect({ ...opts, localio: false });
    clients.push(wireClient);
    const localClient = await connect({ ...opts, localio: true });
    clients.push(localClient);
    await localClient.localio.settled();
    const st = localClient.localio.status();
    if (st.state !== 'local' || st.server?.channel !== 'unix') {
      throw new Error(
        `!!! LOCALIO is not bound through the Unix channel (state ${st.state}, channel ${st.server?.channel ?? 'none'}): ${st.reason ?? ''}` +
          `${st.crossProcessReason ? `; cross-process: ${st.crossProcessReason}` : ''} — the benchmark would measure the wire twice. Aborting. !!!`,
      );
    }
    if (wireClient.localio.status().state !== 'off') throw new Error('the wire client is not off');
    if (wireClient.version !== version || localClient.version !== version) throw new Error(`asked for NFSv${version}, got NFSv${wireClient.version}`);
    process.stderr.write(`LOCALIO: ${st.state} (${st.reason}), channel ${st.server!.channel}, server instance ${st.server!.instance}\n`);

    const byName: Record<PathName, IoPath> = {
      wire: await clientPath('wire', wireClient),
      localio: await clientPath('localio', localClient),
      raw: await rawPath(dir),
    };
    paths.push(...PATHS.map((n) => byName[n]));
    const rawRead = await fs.promises.open(readFile, 'r');
    await compare(paths, rawRead, SEED ^ 0xabcdef);

    for (const w of WORKLOADS) samples[w.key] = { wire: [], localio: [], raw: [] };
    for (let run = 0; run < RUNS; run++) {
      const order = PATHS.map((_, i) => PATHS[(i + run) % PATHS.length]);
      for (const [wi, w] of WORKLOADS.entries()) {
        const seed = SEED + run * 101 + wi;
        const acc = Object.fromEntries(PATHS.map((n) => [n, { ops: 0, bytes: 0, seconds: 0, clientCpuS: 0, serverCpuS: 0 }])) as Record<PathName, Omit<Sample, 'opsPerSec' | 'MBps'>>;
        const cursors = {} as Record<PathName, Cursor>;
        for (const name of order) {
          // untimed warm-up of this workload on this path (own offsets), then the timed cursor
          await w.start(byName[name], seed ^ 0x5eed)(performance.now() + WARM_SECONDS * 1000);
          cursors[name] = w.start(byName[name], seed);
        }
        // SLICES rounds, each giving every path SECONDS/SLICES in turn: slow drifts of this VM hit all paths alike
        for (let slice = 0; slice < SLICES; slice++) {
          for (const name of order) {
            const a = acc[name];
            const c0 = process.cpuUsage();
            const s0 = procCpu(serverPid);
            const m0 = performance.now();
            const r = await cursors[name](m0 + (SECONDS * 1000) / SLICES);
            a.seconds += (performance.now() - m0) / 1000;
            const c1 = process.cpuUsage(c0);
            a.clientCpuS += (c1.user + c1.system) / 1e6;
            a.serverCpuS += procCpu(serverPid) - s0;
            a.ops += r.ops;
            a.bytes += r.bytes;
          }
        }
        for (const name of order) {
          const a = acc[name];
          const sample: Sample = { ...a, opsPerSec: a.ops / a.seconds, MBps: a.bytes / a.seconds / 1e6 };
          samples[w.key][name].push(sample);
          process.stderr.write(
            `run ${run + 1}/${RUNS} ${w.label.padEnd(36)} ${PATH_LABEL[name].padEnd(8)} ${fmtInt(sample.opsPerSec).padStart(9)} ops/s ${fmtMB(sample.MBps).padStart(7)} MB/s` +
              `  (${a.seconds.toFixed(2)} s; cpu client ${a.clientCpuS.toFixed(2)} s, server ${a.serverCpuS.toFixed(2)} s)\n`,
          );
        }
      }
    }

    // The scratch file through every path: LOCALIO writes landed in the same file the wire and fs see.
    const check = mulberry32(SEED ^ 0x1234);
    const want = Buffer.alloc(4 * KiB);
    const got = Buffer.alloc(4 * KiB);
    const rawScratch = await fs.promises.open(scratchFile, 'r');
    const scratchHandles = [await wireClient.open('/scratch.bin', 'r'), await localClient.open('/scratch.bin', 'r')];
    for (let i = 0; i < 64; i++) {
      const pos = Math.floor(check() * (SIZE / (4 * KiB))) * 4 * KiB;
      await rawScratch.read(want, 0, want.length, pos);
      for (const h of scratchHandles) {
        await h.read(got, 0, got.length, pos);
        if (!got.equals(want)) throw new Error(`scratch.bin at ${pos}: a client reads different data than the file holds`);
      }
    }
    for (const h of scratchHandles) await h.close();
    await rawScratch.close();
    await compare(paths, rawRead, SEED ^ 0x777);
    await rawRead.close();

    const end = localClient.localio.status();
    if (end.state !== 'local') throw new Error(`LOCALIO dropped out during the bench: ${end.state} (${end.reason})`);
    if (end.wire.reads + end.wire.writes + end.wire.commits > 0) {
      process.stderr.write(`!!! the LOCALIO client sent ${end.wire.reads} READs, ${end.wire.writes} WRITEs, ${end.wire.commits} COMMITs over the wire (fallbacks ${end.fallbacks}) !!!\n`);
    }
    localioStatus = end;
    wireStatus = wireClient.localio.status();
  } finally {
    for (const p of paths) await p.close().catch(() => undefined);
    for (const c of clients) await c.close().catch(() => undefined);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  }

  // ---- summary
  const med = (k: string, p: PathName, f: 'opsPerSec' | 'MBps') => median(samples[k][p].map((s) => s[f]));
  const workloads: Record<string, unknown> = {};
  const targets: Array<{ workload: string; ratio: 'LOCALIO/wire' | 'LOCALIO/raw'; target: number; value: number; pass: boolean }> = [];
  const rows: string[] = [];
  for (const w of WORKLOADS) {
    const m = Object.fromEntries(PATHS.map((p) => [p, { opsPerSec: med(w.key, p, 'opsPerSec'), MBps: med(w.key, p, 'MBps') }])) as Record<PathName, { opsPerSec: number; MBps: number }>;
    const vsWire = m.localio.opsPerSec / m.wire.opsPerSec;
    const vsRaw = m.localio.opsPerSec / m.raw.opsPerSec;
    const perRun = samples[w.key].localio.map((s, i) => ({
      vsWire: s.opsPerSec / samples[w.key].wire[i].opsPerSec,
      vsRaw: s.opsPerSec / samples[w.key].raw[i].opsPerSec,
    }));
    const wt = WIRE_TARGETS[w.key];
    if (wt !== undefined) targets.push({ workload: w.key, ratio: 'LOCALIO/wire', target: wt, value: vsWire, pass: vsWire >= wt });
    targets.push({ workload: w.key, ratio: 'LOCALIO/raw', target: RAW_TARGET, value: vsRaw, pass: vsRaw >= RAW_TARGET });
    workloads[w.key] = {
      label: w.label,
      opBytes: w.opBytes,
      medians: m,
      ratios: { localioVsWire: vsWire, localioVsRaw: vsRaw, perRun },
      runs: samples[w.key],
    };
    const cell = (p: PathName) => `${fmtInt(m[p].opsPerSec)} ops/s (${fmtMB(m[p].MBps)} MB/s)`;
    const mark = (v: number, t: number | undefined) => (t === undefined ? fmtX(v) : `${fmtX(v)} ${v >= t ? '✓' : '✗'} (≥ ${t}×)`);
    rows.push(`| ${w.label} | ${cell('wire')} | ${cell('localio')} | ${cell('raw')} | ${mark(vsWire, wt)} | ${mark(vsRaw, RAW_TARGET)} |`);
  }
  const cpus = os.cpus();
  const out = {
    bench: 'localio',
    version,
    date: new Date().toISOString(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
    node: process.version,
    params: { fileMiB: FILE_MB, runs: RUNS, secondsPerPathPerWorkload: SECONDS, slices: SLICES, seed: SEED, warmUpSeconds: WARM_SECONDS },
    method:
      'server = separate `nfs-localio serve` process (LOCALIO over the Unix rendezvous channel, fds by SCM_RIGHTS); wire = our client with localio:false; ' +
      'raw = fs.promises FileHandle (datasync for sync); files warm in the page cache; in each run every path gets BENCH_SECONDS per workload in BENCH_SLICES slices alternating between the paths ' +
      '(order rotated per run), after an untimed warm-up; same seeded offsets on every path; ' +
      'medians over runs; MB/s = 10^6 bytes/s; ratios are of the median ops/s',
    command: `BENCH_VERSIONS=${version} npm run bench:localio`,
    workloads,
    targets,
    allTargetsMet: targets.every((t) => t.pass),
    localioClientStatus: localioStatus,
    wireClientStatus: wireStatus,
    totalSeconds: (performance.now() - t0) / 1000,
  };
  const outDir = path.join(REPO, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, version === 3 ? 'localio.json' : `localio-v${version}.json`);
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');

  const lines = [
    '',
    `NFSv${version}: ${FILE_MB} MiB file, ${RUNS} runs, medians; ${cpus.length} × ${out.machine.cpu}, Linux ${out.machine.kernel}, Node ${process.version}`,
    '',
    '| workload | wire | LOCALIO | raw fs | LOCALIO / wire | LOCALIO / raw fs |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'targets:',
    ...targets.map((t) => `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.workload.padEnd(15)} ${t.ratio.padEnd(12)} ${fmtX(t.value).padStart(7)}  (≥ ${t.target}×)`),
    localioLine(localioStatus),
    `${targets.filter((t) => t.pass).length}/${targets.length} targets met; ${out.totalSeconds.toFixed(0)} s; results: ${path.relative(REPO, file)}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
