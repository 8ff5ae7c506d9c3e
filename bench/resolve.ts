/**
 * npm run bench:resolve — how the POSIX backend finds an object from a handle,
 * against resolving by kernel file handle (open_by_handle_at, ganesha's way).
 *
 * One tree, DEPTH directories deep with FILES files at the bottom. Measured:
 * - ours, warm: fromKey + getattr of every file's key, the directory
 *   descriptors cached (a statx under the cached parent);
 * - ours, cold: the same on a fresh backend that loaded the persisted dentry
 *   table (after a restart): the first key per directory opens its chain;
 * - ours, cold with the cache bounded to fewer directories than the chain;
 * - ours without the addon (the /proc/self/fd fallback), warm;
 * - the syscalls alone (bench/c/handles.c, compiled with the system cc):
 *   fstatat under a cached directory, the DEPTH-name walk, open_by_handle_at.
 * Prints a table and writes bench/results/resolve.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PosixBackend } from '../src/storage/index.js';
import { storageCalls } from '../src/localio/native.js';
import { median } from './common.js';

const DEPTH = Number(process.env.BENCH_DEPTH ?? 8);
const FILES = Number(process.env.BENCH_FILES ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-resolve-'));
const tree = path.join(tmp, 'tree');
const state = path.join(tmp, 'state');
let bottom = tree;
for (let d = 1; d <= DEPTH; d++) bottom = path.join(bottom, `d${d}`);
fs.mkdirSync(bottom, { recursive: true });
for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(bottom, `f${i}`), '');

const at = storageCalls().at;
if (at === undefined) throw new Error('bench:resolve needs the native addon (npm install with a C toolchain)');

async function keysOf(): Promise<Buffer[]> {
  const b = new PosixBackend(tree, { at, stateDir: state });
  let n = await b.root();
  for (let d = 1; d <= DEPTH; d++) n = await b.lookup(n, `d${d}`);
  const keys: Buffer[] = [];
  for (let i = 0; i < FILES; i++) keys.push((await b.lookup(n, `f${i}`)).key);
  await b.close(); // persists the dentry table, as a server stopping does
  return keys;
}

/** ns per fromKey + getattr over all keys, on `b` as it is. */
async function pass(b: PosixBackend, keys: Buffer[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (const k of keys) await b.getattr(await b.fromKey(k));
  return Number(process.hrtime.bigint() - t0) / keys.length;
}

const keys = await keysOf();
const warm: number[] = [];
const cold: number[] = [];
const tight: number[] = [];
const proc: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const b = new PosixBackend(tree, { at, stateDir: state });
  cold.push(await pass(b, keys));
  warm.push(await pass(b, keys));
  await b.close();
  // A cache smaller than the chain: every key may have to reopen part of it.
  const s = new PosixBackend(tree, { at, stateDir: state, dirFdCacheSize: 2 });
  await pass(s, keys);
  tight.push(await pass(s, keys));
  await s.close();
  const p = new PosixBackend(tree, { stateDir: state }); // no addon: /proc/self/fd
  await pass(p, keys);
  proc.push(await pass(p, keys));
  await p.close();
}

const bin = path.join(tmp, 'handles');
execFileSync('cc', ['-O2', '-o', bin, path.join(repo, 'bench/c/handles.c')]);
const sys = Array.from({ length: RUNS }, () => JSON.parse(execFileSync(bin, [tree, String(DEPTH), String(FILES), '5'], { encoding: 'utf8' })));
const ms = (k: string) => median(sys.map((s) => s[k] as number));

const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}`,
  depth: DEPTH,
  files: FILES,
  runs: RUNS,
  oursWarmNs: median(warm),
  oursColdAfterRestartNs: median(cold),
  oursCacheOf2Ns: median(tight),
  oursWithoutAddonNs: median(proc),
  sysFstatatCachedDirNs: ms('nsCachedDir'),
  sysWalkNs: ms('nsWalk'),
  sysOpenByHandleNs: sys[0].openByHandleError ? undefined : ms('nsOpenByHandle'),
  openByHandleError: sys[0].openByHandleError || undefined,
  handleBytes: sys[0].handleBytes,
};
fs.mkdirSync(path.join(repo, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(repo, 'bench/results/resolve.json'), JSON.stringify(result, null, 2) + '\n');
const us = (n: number | undefined) => (n === undefined ? '—' : `${(n / 1000).toFixed(1)} µs`);
console.log(`resolution of ${FILES} files ${DEPTH} directories deep (median of ${RUNS} runs)`);
console.log(`  ours, directory descriptors cached      ${us(result.oursWarmNs)} per fromKey + getattr`);
console.log(`  ours, first use after a restart         ${us(result.oursColdAfterRestartNs)}`);
console.log(`  ours, cache of 2 directories            ${us(result.oursCacheOf2Ns)}`);
console.log(`  ours without the addon (/proc/self/fd)  ${us(result.oursWithoutAddonNs)}`);
console.log(`  syscalls: fstatat under a cached dir    ${us(result.sysFstatatCachedDirNs)}`);
console.log(`  syscalls: walk ${DEPTH} names + fstatat        ${us(result.sysWalkNs)}`);
console.log(`  syscalls: open_by_handle_at + fstat     ${result.openByHandleError ? `n/a (${result.openByHandleError})` : us(result.sysOpenByHandleNs)}`);
fs.rmSync(tmp, { recursive: true, force: true });
