/**
 * Helpers for the interop tests against real peers (libnfs tools, the Linux
 * kernel client under qemu, tshark). Everything here talks to 127.0.0.1 only
 * and stops exactly the processes it started, by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IN_CI, REPO, SHARED, needCommand } from './server-process.js';

// ------------------------------------------------------------ processes

export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBuf: Buffer;
  /** True when the safety timeout killed the command. */
  timedOut: boolean;
  /** Wall time in ms (reported, never asserted). */
  ms: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, then stdin is closed. */
  input?: string | Buffer;
  /**
   * Safety net only (not an assertion): SIGKILL the command after this many
   * ms so a hung peer cannot hang the suite. Default 10 minutes.
   */
  timeoutMs?: number;
  /**
   * Signal for stopping the command (safety timeout, kill()); SIGKILL follows
   * 10 s later if it is still running. Default SIGKILL. Use SIGTERM for
   * wrappers like run.sh whose trap must stop their own children (qemu).
   */
  killSignal?: NodeJS.Signals;
}

export interface Running {
  child: ChildProcess;
  done: Promise<RunResult>;
  /** stdout+stderr collected so far. */
  output(): string;
  /** Stop this child (by its pid) if it is still running (killSignal, then SIGKILL), and wait. */
  kill(): Promise<RunResult>;
}

/** Start a command (no shell) and collect its output. */
export function startCommand(cmd: string, args: string[], o: RunOptions = {}): Running {
  const t0 = Date.now();
  const child = spawn(cmd, args, {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let all = '';
  child.stdout!.on('data', (d: Buffer) => (out.push(d), (all += d)));
  child.stderr!.on('data', (d: Buffer) => (err.push(d), (all += d)));
  if (o.input !== undefined) {
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(o.input);
  }
  let timedOut = false;
  let hard: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(o.killSignal ?? 'SIGKILL');
    hard ??= setTimeout(() => child.kill('SIGKILL'), 10_000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, o.timeoutMs ?? 600_000);
  const done = new Promise<RunResult>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      clearTimeout(hard);
      const stdoutBuf = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBuf.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBuf, timedOut, ms: Date.now() - t0 });
    };
    child.once('error', (e) => {
      err.push(Buffer.from(String(e)));
      finish(127, null);
    });
    child.once('close', finish);
  });
  return {
    child,
    done,
    output: () => all,
    kill: async () => {
      stop();
      return done;
    },
  };
}

/** Run a command (no shell) to completion and collect its output. */
export function runCommand(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  return startCommand(cmd, args, o).done;
}

/** One-line description of a result for assertion messages. */
export function describe(r: RunResult, max = 4000): string {
  const cut = (s: string) => (s.length > max ? '…' + s.slice(-max) : s);
  return `exit=${r.code} signal=${r.signal}${r.timedOut ? ' (killed by safety timeout)' : ''}\n--- stdout\n${cut(r.stdout)}\n--- stderr\n${cut(r.stderr)}`;
}

// ------------------------------------------------------------ files

/** sha256 (hex) of a file, streamed. */
export async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(p, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** md5 (hex) of a file, streamed (the guest only has md5sum-compatible output we compare against). */
export async function md5File(p: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of fs.createReadStream(p, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Write `bytes` of random data to `p` and return its sha256. */
export async function writeRandomFile(p: string, bytes: number): Promise<string> {
  const h = createHash('sha256');
  const fd = fs.openSync(p, 'wx');
  try {
    const chunk = 1 << 20;
    for (let done = 0; done < bytes; ) {
      const b = randomBytes(Math.min(chunk, bytes - done));
      h.update(b);
      fs.writeSync(fd, b);
      done += b.length;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** A fresh temp dir (mode 0755, so squashed or non-root callers can traverse it). */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o755);
  return d;
}

/** A fresh private temp dir (mode 0700), e.g. a server state dir. */
export function privateTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** rm -rf, never throwing (cleanup). */
export function removeDir(d: string | undefined): void {
  if (d) fs.rmSync(d, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Wait until `cond` is true. The deadline is a safety net against a hung
 * peer, not a timing assertion: it fails loudly with `what`.
 */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, deadlineMs = 300_000, everyMs = 100): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ------------------------------------------------------------ libnfs

/**
 * libnfs URL (4.0.0 takes no host:port; both ports go in the query).
 * `extra` is appended to the query, e.g. { uid: 1000, gid: 1000 }.
 */
export function nfsUrl(port: number, exportPath: string, rel = '', extra: Record<string, string | number> = {}): string {
  const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  const q = [`version=3`, `nfsport=${port}`, `mountport=${port}`, ...Object.entries(extra).map(([k, v]) => `${k}=${v}`)].join('&');
  return `nfs://127.0.0.1${enc(exportPath)}${rel ? '/' + enc(rel.replace(/^\//, '')) : ''}?${q}`;
}

/** Names from an `nfs-ls` long listing (last field; our test names have no spaces), without . and .. */
export function lsNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/).slice(5).join(' '))
    .filter((n) => n !== '.' && n !== '..');
}

// ------------------------------------------------------------ kernel client (qemu)

export const KERNEL_CLIENT_DIR = path.join(SHARED, 'peers/kernel-client');
export const KERNEL_RUN = path.join(KERNEL_CLIENT_DIR, 'run.sh');
export const GUEST_DIR = path.join(REPO, 'tests/guest');

/** Skip reason if the kernel-client harness is missing (throws in CI, like needCommand). */
export function needKernelClient(): string | false {
  const q = needCommand('qemu-system-x86_64');
  if (q) return q;
  if (!fs.existsSync(KERNEL_RUN)) {
    if (IN_CI) throw new Error(`kernel client harness missing in CI: ${KERNEL_RUN}`);
    const msg = `!!! SKIPPING: ${KERNEL_RUN} not found; the Linux kernel client is not tested here !!!`;
    process.stderr.write(msg + '\n');
    return msg;
  }
  return false;
}

/**
 * Skip reason when the tests are not running as root (the server must be
 * root to give files to AUTH_SYS owners, chown, mknod); throws in CI.
 */
export function needRoot(what: string): string | false {
  if (process.getuid?.() === 0) return false;
  if (IN_CI) throw new Error(`${what} must run as root in CI (the server must be root for AUTH_SYS ownership)`);
  const msg = `!!! SKIPPING ${what}: not running as root, so the server cannot act as AUTH_SYS callers !!!`;
  process.stderr.write(msg + '\n');
  return msg;
}

export interface KernelClientOptions {
  port: number;
  exportPath: string;
  /** Guest script (busybox sh), absolute path. */
  script: string;
  /** Variables exported into the guest script (KVMNFS_ENV). */
  env?: Record<string, string | number>;
  /** Extra mount options (NFS_OPTS). */
  nfsOpts?: string;
  /** Directory copied into the guest as /kvmnfs/files/. */
  files?: string;
  /** Guest-side timeout in seconds (run.sh kills qemu and exits 124); default 300. */
  timeoutSec?: number;
  /** NFS version the guest mounts (NFS_VERS): 3 by default, or '4.1' / '4.2'. */
  nfsVers?: '3' | '4.1' | '4.2';
  /** Guest kernel (KVMNFS_KERNEL): '6.1' by default, or '6.12'. */
  kernel?: '6.1' | '6.12';
}

export interface GuestSummary {
  passed: number;
  failed: number;
  /** The FAIL lines. */
  failures: string[];
}

/**
 * A guest kernel reaches its /init 2–5 s after qemu starts here (TCG). One that has not after this
 * long hung in its own early boot (seen once in CI: 300 s, an empty console) — before any NFS
 * traffic, so nothing of ours is involved; it is stopped and booted again, loudly, at most twice.
 * A guest that reached its init is never retried, whatever happens to it after.
 */
const BOOT_LIMIT_MS = 90_000;
const BOOT_ATTEMPTS = 3;
const INIT_MARK = 'KVMNFS: init start';

/** The console file of the qemu that run.sh (pid) started, once it is running. */
function qemuConsole(runPid: number): string | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces, so read after the last ')'
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== runPid) continue;
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const file = cmd.map((a) => /^file:(.*console\.log)$/.exec(a)?.[1]).find(Boolean);
      if (file) return file;
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** True once the guest of this run.sh reached its init; false when it has not within BOOT_LIMIT_MS of qemu starting, or the run ended without it. */
async function reachedInit(run: Running): Promise<boolean> {
  let ended = false;
  void run.done.then(() => (ended = true));
  let since: number | undefined;
  let file: string | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    if (ended) return run.output().includes('init start');
    file ??= run.child.pid === undefined ? undefined : qemuConsole(run.child.pid);
    if (!file) continue; // still building, or qemu not started yet
    since ??= Date.now();
    try {
      if (fs.readFileSync(file, 'latin1').includes(INIT_MARK)) return true;
    } catch {
      // run.sh removed its work directory: the run is ending
    }
    if (Date.now() - since > BOOT_LIMIT_MS) return false;
  }
}

/**
 * Boot the Linux NFS client under qemu: mount 127.0.0.1:PORT:EXPORT (seen
 * from the guest as 10.0.2.2), run the script, power off. stdout = the
 * script's output; exit = its status (97 = mount failed, 124 = timeout).
 * A guest hung in its own boot is booted again (see BOOT_LIMIT_MS).
 */
export function startKernelClient(o: KernelClientOptions): Running {
  const env: NodeJS.ProcessEnv = { KVMNFS_TIMEOUT: String(o.timeoutSec ?? 300) };
  if (o.env) env.KVMNFS_ENV = Object.entries(o.env).map(([k, v]) => `${k}=${v}`).join('\n');
  if (o.nfsOpts) env.NFS_OPTS = o.nfsOpts;
  if (o.files) env.KVMNFS_FILES = o.files;
  if (o.nfsVers) env.NFS_VERS = o.nfsVers;
  if (o.kernel) env.KVMNFS_KERNEL = o.kernel;
  const boot = () =>
    // run.sh's own timeout fires first; ours is only a backstop
    startCommand(KERNEL_RUN, [String(o.port), String(o.port), o.exportPath, o.script], {
      env,
      timeoutMs: ((o.timeoutSec ?? 300) + 60) * 1000,
      killSignal: 'SIGTERM', // run.sh's trap then stops its qemu by pid
    });
  let current = boot();
  let stopped = false;
  const done = (async (): Promise<RunResult> => {
    for (let attempt = 1; ; attempt++) {
      const run = current;
      if (attempt === BOOT_ATTEMPTS || (await reachedInit(run)) || stopped) return run.done;
      const r = await run.kill();
      if (stopped) return r;
      process.stderr.write(`!!! kernel client: the guest did not reach its init within ${BOOT_LIMIT_MS / 1000} s of qemu starting (a hang in its own boot, before any NFS traffic); booting it again, attempt ${attempt + 1} of ${BOOT_ATTEMPTS} !!!\n${r.stderr.slice(-1500)}\n`);
      current = boot();
    }
  })();
  return {
    get child() {
      return current.child;
    },
    done,
    output: () => current.output(),
    kill: async () => {
      stopped = true;
      await current.kill();
      return done;
    },
  };
}

export function runKernelClient(o: KernelClientOptions): Promise<RunResult> {
  return startKernelClient(o).done;
}

/** Parse the closing "N passed, N failed" of a guest script. */
export function guestSummary(stdout: string): GuestSummary | undefined {
  const m = [...stdout.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  if (!m) return undefined;
  return { passed: Number(m[1]), failed: Number(m[2]), failures: stdout.split('\n').filter((l) => l.startsWith('FAIL')) };
}

// ------------------------------------------------------------ tshark

export const TSHARK_NFS = path.join(SHARED, 'peers/tshark-nfs.sh');

/** Decode-as arguments: every given port is ONC RPC (NFS and MOUNT share our port). */
export function decodeArgs(ports: number[]): string[] {
  return ports.flatMap((p) => ['-d', `tcp.port==${p},rpc`]);
}

/** Frames tshark flags malformed or with an expert error (frame number, xid, message), decoded with `decode` (decodeArgs, plus any -o preferences). */
export async function malformedFrames(file: string, decode: string[]): Promise<string[]> {
  const r = await runCommand('tshark', ['-r', file, ...decode, '-Y', '_ws.malformed || _ws.expert.severity >= 8388608', '-T', 'fields', '-e', 'frame.number', '-e', 'rpc.xid', '-e', '_ws.expert.message']);
  if (r.code !== 0) throw new Error(`tshark -r failed: ${describe(r)}`);
  return r.stdout.split('\n').filter((l) => l.trim());
}

export interface CaptureReport {
  /** Frames flagged malformed or with an expert error (frame number + message). */
  bad: string[];
  /** RPC messages decoded. */
  rpcMessages: number;
  /** Count of calls per "PROGRAM PROC", e.g. "NFS READ" → 12, "MOUNT MNT" → 1. */
  calls: Map<string, number>;
  /** Count of NFS replies per status (0 = NFS3_OK). */
  nfsStatus: Map<number, number>;
  /** XIDs of calls that never got a reply in the capture, other than a connection's last message. */
  unanswered: string[];
  /**
   * Calls without a reply that were the last RPC message on their connection: the client hung up
   * without waiting for the answer (libnfs's tools exit right after their last call's callback may
   * have fired for an earlier one), so no reply could be sent. Reported, not a server failure.
   */
  abandoned: string[];
  /**
   * Frames where Wireshark saw a hole in a TCP stream ("previous segment not captured", "ACKed
   * unseen segment"): the capture itself lost packets even when dumpcap's drop counter says 0, so a
   * reply may be missing from the file although the client received it.
   */
  gaps: string[];
}

const NFS3_PROCS = ['NULL', 'GETATTR', 'SETATTR', 'LOOKUP', 'ACCESS', 'READLINK', 'READ', 'WRITE', 'CREATE', 'MKDIR', 'SYMLINK', 'MKNOD', 'REMOVE', 'RMDIR', 'RENAME', 'LINK', 'READDIR', 'READDIRPLUS', 'FSSTAT', 'FSINFO', 'PATHCONF', 'COMMIT'];
const MOUNT3_PROCS = ['NULL', 'MNT', 'DUMP', 'UMNT', 'UMNTALL', 'EXPORT'];

/**
 * Run a captured session (which checks the client's own results) and analyse its capture. When the
 * capture is faulty (malformed frames or calls without a reply) *and* Wireshark saw holes in a TCP
 * stream — the kernel can lose loopback packets that dumpcap's drop counter does not report — the
 * capture, not the server, is in doubt: take it once more. The caller still fails on any fault left.
 */
export async function takeWholeCapture<T>(
  note: (msg: string) => void,
  pcap: string,
  ports: number[],
  session: () => Promise<T>,
): Promise<{ out: T; report: CaptureReport }> {
  const take = async () => {
    const out = await session();
    return { out, report: await analyzeCapture(pcap, ports) };
  };
  const first = await take();
  const { bad, unanswered, gaps } = first.report;
  if ((bad.length === 0 && unanswered.length === 0) || gaps.length === 0) return first;
  note(`capture has holes (${gaps.slice(0, 3).join('; ')}) and faults (${bad.length} bad frames; unanswered: ${unanswered.join(', ') || 'none'}): capturing the session again`);
  return take();
}

/** Analyse a capture file with tshark: malformed/expert-error frames and the procedures called. */
export async function analyzeCapture(file: string, ports: number[]): Promise<CaptureReport> {
  const d = decodeArgs(ports);
  const bad = await malformedFrames(file, d);
  const calls = await runCommand('tshark', ['-r', file, ...d, '-Y', 'rpc', '-T', 'fields', '-E', 'separator=|', '-e', 'rpc.msgtyp', '-e', 'rpc.program', '-e', 'rpc.procedure', '-e', 'nfs.status', '-e', 'rpc.xid', '-e', 'tcp.stream']);
  if (calls.code !== 0) throw new Error(`tshark -r failed: ${describe(calls)}`);
  const gaps = await runCommand('tshark', ['-r', file, ...d, '-Y', 'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment', '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.stream', '-e', '_ws.expert.message']);
  if (gaps.code !== 0) throw new Error(`tshark -r failed: ${describe(gaps)}`);
  const report: CaptureReport = { bad, rpcMessages: 0, calls: new Map(), nfsStatus: new Map(), unanswered: [], abandoned: [], gaps: [] };
  const pending = new Map<string, string>();
  const lastOfStream = new Map<string, string>();
  for (const line of calls.stdout.split('\n')) {
    if (!line.trim()) continue;
    // one frame can carry several RPC messages: fields are comma-joined
    const [types, progs, procs, statuses, xids, streams] = line.split('|').map((f) => (f ? f.split(',') : []));
    types.forEach((t, i) => {
      report.rpcMessages++;
      if (streams[0] !== undefined) lastOfStream.set(streams[0], `${t}:${xids[i]}`);
      if (t !== '0') {
        pending.delete(xids[i]);
        return;
      }
      const prog = Number(progs[i]);
      const proc = Number(procs[i]);
      const name = prog === 100003 ? `NFS ${NFS3_PROCS[proc] ?? proc}` : prog === 100005 ? `MOUNT ${MOUNT3_PROCS[proc] ?? proc}` : prog === 100227 ? `NFS_ACL ${proc}` : `${prog} ${proc}`;
      pending.set(xids[i], name);
      report.calls.set(name, (report.calls.get(name) ?? 0) + 1);
    });
    for (const s of statuses) report.nfsStatus.set(Number(s), (report.nfsStatus.get(Number(s)) ?? 0) + 1);
  }
  report.gaps = gaps.stdout.split('\n').filter((l) => l.trim());
  const lastCalls = new Set([...lastOfStream.values()].filter((v) => v.startsWith('0:')).map((v) => v.slice(2)));
  for (const [xid, name] of pending) (lastCalls.has(xid) ? report.abandoned : report.unanswered).push(`${xid} (${name})`);
  return report;
}
