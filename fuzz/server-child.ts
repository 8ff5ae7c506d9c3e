/**
 * Starts the real server (`nfs-localio serve`) as a child process on a free 127.0.0.1 port, as
 * tests/helpers/server-process.ts does, and stops exactly that child, by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(REPO, 'bin/nfs-localio.js');

/** The uid/gid calls act as (a root server root-squashes uid 0; the export tree belongs to this one). */
export const FUZZ_UID = 4242;

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

export interface ServerChild {
  port: number;
  pid: number;
  /** The exported directory. */
  dir: string;
  child: ChildProcess;
  output(): string;
  alive(): boolean;
  /** The child's resident set (bytes), from /proc; 0 once it is gone. */
  rss(): number;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A fresh temporary export directory, owned by FUZZ_UID when we are root, with a few files. */
export function makeExportDir(prefix: string): { tmp: string; dir: string; stateDir: string; rendezvous: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dir = path.join(tmp, 'export');
  const stateDir = path.join(tmp, 'state');
  const rendezvous = path.join(tmp, 'rendezvous');
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  fs.mkdirSync(rendezvous, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'small.txt'), 'hello, fuzz\n');
  fs.writeFileSync(path.join(dir, 'sub', 'data.bin'), Buffer.alloc(3000, 0x5a));
  fs.symlinkSync('small.txt', path.join(dir, 'link'));
  if (process.getuid?.() === 0) {
    for (const p of [dir, path.join(dir, 'sub'), path.join(dir, 'small.txt'), path.join(dir, 'sub', 'data.bin')]) fs.chownSync(p, FUZZ_UID, FUZZ_UID);
    fs.lchownSync(path.join(dir, 'link'), FUZZ_UID, FUZZ_UID);
  }
  fs.chmodSync(dir, 0o777);
  return { tmp, dir, stateDir, rendezvous };
}

export async function startServerChild(o: { dir: string; stateDir: string; rendezvous: string; extraArgs?: string[]; nodeArgs?: string[] }): Promise<ServerChild> {
  const port = await freePort();
  const args = [...(o.nodeArgs ?? []), CLI, '--log-level', 'error', 'serve', '--host', '127.0.0.1', '--port', String(port), '--state-dir', o.stateDir, ...(o.extraArgs ?? []), o.dir];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NFS_LOCALIO_RENDEZVOUS: o.rendezvous },
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 1 << 20) out = out.slice(-(1 << 19));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
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
      throw new Error(`server did not listen on ${port}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  return {
    port,
    pid,
    dir: o.dir,
    child,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    rss: () => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : 0;
      } catch {
        return 0;
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
