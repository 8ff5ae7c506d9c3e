/**
 * A LOCALIO client in another process: `node --input-type=module -e SCRIPT`
 * where SCRIPT imports the compiled package (dist/src/index.js) by absolute
 * file URL, connects, waits for the probe, optionally writes and reads files,
 * and prints one `RESULT {json}` line with its LOCALIO status at each step.
 * The command can be prefixed (`ip netns exec NS`, `unshare ...`) or wrapped
 * (tshark-nfs.sh); what it does comes from the NFSL_CHILD environment
 * variable (JSON), so the script text never changes.
 *
 * Also: the skip rule for tests that need the fd-passing addon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LocalioClientStatus } from '../../src/localio/client.js';
import { loadFdPass } from '../../src/localio/native.js';
import { IN_CI, REPO } from './server-process.js';

/** The compiled package entry point, as an absolute file URL. */
export const INDEX_URL = pathToFileURL(path.join(REPO, 'dist/src/index.js')).href;

export interface ChildSpec {
  connect: {
    host: string;
    nfsPort: number;
    mountPort: number;
    path: string;
    uid?: number;
    gid?: number;
    gids?: number[];
    localio?: boolean;
    localioRendezvous?: string;
    mode?: 'hard' | 'soft';
    /** NFS version (default: connect()'s, auto). */
    version?: 3 | 4.1 | 4.2;
  };
  /** Write this many random bytes to `path` (inside the export) with writeFile. */
  write?: { path: string; bytes: number };
  /** Then read these files back with readFile. */
  read?: string[];
  /** Print `READY {json}` after the I/O and keep the client open until stdin ends. */
  hold?: boolean;
}

export interface ChildFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface ChildResult {
  pid: number;
  /** Right after connect() resolved. */
  atConnect: LocalioClientStatus;
  /** After localio.settled(). */
  settled: LocalioClientStatus;
  /** After the I/O, before close(). */
  final: LocalioClientStatus;
  wrote?: ChildFile;
  reads: ChildFile[];
}

/** The child's program (ESM, run with --input-type=module -e). */
export const CHILD_SCRIPT = `
import { connect } from ${JSON.stringify(INDEX_URL)};
import { createHash, randomBytes } from 'node:crypto';
const spec = JSON.parse(process.env.NFSL_CHILD);
const sha = (b) => createHash('sha256').update(b).digest('hex');
const out = { pid: process.pid, reads: [] };
try {
  const c = await connect(spec.connect);
  try {
    out.atConnect = c.localio.status();
    await c.localio.settled();
    out.settled = c.localio.status();
    if (spec.write) {
      const data = randomBytes(spec.write.bytes);
      await c.writeFile(spec.write.path, data);
      out.wrote = { path: spec.write.path, bytes: data.length, sha256: sha(data) };
    }
    for (const p of spec.read ?? []) {
      const b = await c.readFile(p);
      out.reads.push({ path: p, bytes: b.length, sha256: sha(b) });
    }
    out.final = c.localio.status();
    if (spec.hold) {
      process.stdout.write('READY ' + JSON.stringify(out) + '\\n');
      process.stdin.resume();
      await new Promise((resolve) => process.stdin.once('end', resolve).once('close', resolve));
    }
  } finally {
    await c.close();
  }
  process.stdout.write('RESULT ' + JSON.stringify(out) + '\\n');
} catch (e) {
  process.stdout.write('CHILD-ERROR ' + (e && e.stack ? e.stack : String(e)) + '\\n');
  process.exitCode = 1;
}
`;

/** argv (after the node binary) and env for running CHILD_SCRIPT with `spec`. */
export function childCommand(spec: ChildSpec, env: NodeJS.ProcessEnv = {}): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: ['--input-type=module', '-e', CHILD_SCRIPT],
    env: { NFS_LOCALIO_LOG_LEVEL: process.env.NFS_LOCALIO_TEST_LOG ?? 'warn', ...env, NFSL_CHILD: JSON.stringify(spec) },
  };
}

/** The RESULT (or READY) line of the child's stdout; throws with the whole output when there is none. */
export function parseChild(stdout: string, output: string, tag: 'RESULT' | 'READY' = 'RESULT'): ChildResult {
  const line = stdout.split('\n').find((l) => l.startsWith(tag + ' '));
  if (!line) throw new Error(`the child printed no ${tag} line:\n${output.slice(-6000)}`);
  return JSON.parse(line.slice(tag.length + 1)) as ChildResult;
}

export interface HeldChild {
  child: ChildProcess;
  /** Resolves with the READY line (the client is open, I/O done). */
  ready: Promise<ChildResult>;
  /** End stdin: the child closes its client and exits; resolves with RESULT. */
  release(): Promise<ChildResult>;
  /** SIGKILL by pid if still running (cleanup). */
  kill(): void;
  output(): string;
}

/**
 * Start the child: `prefix... node ARGS` (prefix e.g. ['ip', 'netns', 'exec', NS]) with stdin
 * a pipe that stays open (for `hold`). `deadlineMs` is a safety net that SIGKILLs a hung child.
 */
export function startChild(spec: ChildSpec, o: { prefix?: string[]; env?: NodeJS.ProcessEnv; deadlineMs?: number } = {}): HeldChild {
  const { args, env } = childCommand(spec, o.env);
  const argv = [...(o.prefix ?? []), process.execPath, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let all = '';
  child.stdout!.on('data', (d) => ((stdout += d), (all += d)));
  child.stderr!.on('data', (d) => (all += d));
  child.stdin!.on('error', () => undefined);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(kill, o.deadlineMs ?? 60_000);
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (e) => ((all += String(e)), resolve(127)));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const ready = new Promise<ChildResult>((resolve, reject) => {
    const check = () => {
      if (/^READY /m.test(stdout)) resolve(parseChild(stdout, all, 'READY'));
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`the child exited before READY:\n${all.slice(-6000)}`)));
  });
  ready.catch(() => undefined);
  if (!spec.hold) child.stdin!.end();
  return {
    child,
    ready,
    release: async () => {
      child.stdin!.end();
      const code = await exited;
      if (code !== 0) throw new Error(`the child exited with ${code}:\n${all.slice(-6000)}`);
      return parseChild(stdout, all);
    },
    kill,
    output: () => all,
  };
}

/** Run the child to completion (no hold) and return its RESULT. */
export async function runChild(spec: ChildSpec, o: { prefix?: string[]; env?: NodeJS.ProcessEnv; deadlineMs?: number } = {}): Promise<ChildResult> {
  return startChild({ ...spec, hold: false }, o).release();
}

/**
 * Skip reason when the fd-passing addon is not loadable here (cross-process
 * LOCALIO is then off by design). In CI the addon must be built by
 * `npm install`, so a missing addon fails there — unless the run explicitly
 * sets NFS_LOCALIO_NO_NATIVE=1.
 */
export function needAddon(): string | false {
  const l = loadFdPass();
  if (l.native) return false;
  if (IN_CI && process.env.NFS_LOCALIO_NO_NATIVE !== '1') throw new Error(`the fd-passing addon is missing in CI: ${l.reason}`);
  const msg = `!!! SKIPPING cross-process LOCALIO tests: the fd-passing addon is not available (${l.reason}); run \`npm install\` with a C toolchain !!!`;
  process.stderr.write(msg + '\n');
  return msg;
}
