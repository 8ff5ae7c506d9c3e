import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/tests/...). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(REPO, 'bin/nfs-localio.js');
/**
 * The server tests start: this tree's, or another build's CLI named by NFS_LOCALIO_TEST_SERVER_CLI
 * (to show a test failing on an earlier build of the server before the fix it checks).
 */
export const SERVER_CLI = process.env.NFS_LOCALIO_TEST_SERVER_CLI || CLI;
/** shared/ beside the checkout (as on the developers' machines and in CI). */
export const SHARED = process.env.NFS_LOCALIO_SHARED ?? path.resolve(REPO, '../shared');

/** A free TCP port on 127.0.0.1 (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  port: number;
  child: ChildProcess;
  /** stdout+stderr so far. */
  output(): string;
  /** libnfs URL for a path inside the export. */
  url(rel?: string): string;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

export interface StartOptions {
  /** Directory to export with the default export, or use `exportsText`. */
  dir: string;
  exportsText?: string;
  port?: number;
  stateDir?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** --log-level of the server; default $NFS_LOCALIO_TEST_LOG, else warn. */
  logLevel?: string;
}

/** Start `nfs-localio serve` as a child process on a free port and wait until it accepts connections. */
export async function startServer(o: StartOptions): Promise<ServerProcess> {
  const port = o.port ?? (await freePort());
  const stateDir = o.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-state-'));
  const args = [SERVER_CLI, '--log-level', o.logLevel ?? process.env.NFS_LOCALIO_TEST_LOG ?? 'warn', 'serve', '--port', String(port), '--state-dir', stateDir];
  if (o.exportsText !== undefined) {
    const f = path.join(stateDir, 'exports');
    fs.writeFileSync(f, o.exportsText);
    args.push('--exports', f);
  } else args.push(o.dir);
  args.push(...(o.extraArgs ?? []));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start listening on ${port}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const exportPath = o.exportsText !== undefined ? o.exportsText.trim().split(/\s+/)[0] : path.resolve(o.dir);
  return {
    port,
    child,
    output: () => out,
    url: (rel = '') => `nfs://127.0.0.1${exportPath}${rel ? '/' + rel.replace(/^\//, '') : ''}?version=3&nfsport=${port}&mountport=${port}`,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** `nfs-localio status --state-dir D --port P --json`: the running server's view, read over its control socket by a separate process. */
export function statusJson<T>(stateDir: string, port: number): T {
  const r = spawnSync(process.execPath, [CLI, '--log-level', 'error', 'status', '--state-dir', stateDir, '--port', String(port), '--json'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `status failed: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** True in CI, where every peer must be present: a missing peer is a failure, never a skip. */
export const IN_CI = process.env.CI === 'true';

/** Skip reason when a peer command is missing on a developer machine; throws in CI. */
export function needCommand(cmd: string): string | false {
  const found = (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));
  if (found) return false;
  if (IN_CI) throw new Error(`peer '${cmd}' is missing in CI: .ci/run must install it`);
  const msg = `!!! SKIPPING: '${cmd}' is not installed (run ../shared/peers/install.sh); interop not tested here !!!`;
  process.stderr.write(msg + '\n');
  return msg;
}
