/**
 * nfs-ganesha with NFSv4 recovery on: a grace period after every start and
 * a short lease, so a test can kill -9 it, start it again on the same ports
 * with the same recovery directory, and watch our client reclaim its state.
 * (../shared/peers/ganesha-start.sh runs ganesha graceless, which refuses
 * every reclaim; this is the same server and config otherwise: FSAL VFS, a
 * fresh export under /srv, 127.0.0.1 only, no portmapper — the same
 * LD_PRELOAD shim makes its registration a no-op.) Stopped by pid.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server-process.js';

const SHIM = `#include <stdbool.h>
struct netconfig; struct netbuf;
bool rpcb_set(unsigned long p, unsigned long v, const struct netconfig *n, const struct netbuf *a) { (void)p; (void)v; (void)n; (void)a; return true; }
bool rpcb_unset(unsigned long p, unsigned long v, const struct netconfig *n) { (void)p; (void)v; (void)n; return true; }
`;

export interface GraceGanesha {
  /** The exported directory. */
  dir: string;
  nfsPort: number;
  mountPort: number;
  url(version: '4.1' | '4.2', query?: string): string;
  /** Start it (again): same ports, config and recovery directory. */
  start(): Promise<void>;
  /** SIGSTOP: its sockets stay open, nothing is answered. */
  freeze(): void;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

export async function startGraceGanesha(o: { lease: number; grace: number }): Promise<GraceGanesha> {
  const dir = fs.mkdtempSync('/srv/nfsl-grace-ganesha-');
  fs.chmodSync(dir, 0o755);
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-grace-ganesha-state-'));
  fs.mkdirSync(path.join(state, 'recov'));
  const nfsPort = await freePort();
  let mountPort = await freePort();
  while (mountPort === nfsPort) mountPort = await freePort();
  fs.writeFileSync(path.join(state, 'shim.c'), SHIM);
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', path.join(state, 'shim.so'), path.join(state, 'shim.c')]);
  const conf = path.join(state, 'ganesha.conf');
  fs.writeFileSync(
    conf,
    `NFS_CORE_PARAM { Bind_addr = 127.0.0.1; NFS_Port = ${nfsPort}; MNT_Port = ${mountPort}; Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; Protocols = 3, 4; mount_path_pseudo = true; }
NFS_KRB5 { Active_krb5 = false; }
NFSV4 { Graceless = false; Grace_Period = ${o.grace}; Lease_Lifetime = ${o.lease}; RecoveryRoot = "${state}/recov"; Only_Numeric_Owners = true; }
EXPORT_DEFAULTS { Access_Type = RW; }
EXPORT { Export_Id = 1; Path = "${dir}"; Pseudo = "/export"; Access_Type = RW; Squash = No_Root_Squash; SecType = sys, none; Protocols = 3, 4; Transports = TCP; Attr_Expiration_Time = 0; FSAL { Name = VFS; } }
LOG { Default_Log_Level = EVENT; }
`,
  );
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let startedAt = 0;
  const listening = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect(nfsPort, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  const g: GraceGanesha = {
    dir,
    nfsPort,
    mountPort,
    url: (version, query = '') => `nfs://127.0.0.1/export?version=${version}&nfsport=${nfsPort}&mountport=${mountPort}${query}`,
    async start() {
      // ganesha's epoch is its start time in seconds, and its client ids, session ids, stateids and write
      // verifier derive from it: started twice within one second, it hands out the ids of its previous
      // life again and keeps its write verifier. A real restart takes longer; so does this one.
      while (Math.floor(Date.now() / 1000) <= startedAt) await new Promise((r) => setTimeout(r, 20));
      const c = spawn('ganesha.nfsd', ['-F', '-f', conf, '-L', path.join(state, 'ganesha.log'), '-p', path.join(state, 'ganesha.own.pid'), '-N', 'NIV_EVENT'], {
        cwd: state,
        env: { ...process.env, LD_PRELOAD: path.join(state, 'shim.so') },
        stdio: 'ignore',
      });
      child = c;
      exited = new Promise<void>((r) => c.once('exit', () => r()));
      for (let i = 0; !(await listening()); i++) {
        if (c.exitCode !== null) throw new Error(`ganesha exited at start:\n${g.log().slice(-2000)}`);
        if (i > 300) throw new Error('ganesha did not listen within 30 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      // Its epoch is no later than now (it listens once started).
      startedAt = Math.floor(Date.now() / 1000);
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    async kill9() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const t = setTimeout(() => child?.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(state, { recursive: true, force: true });
    },
    log: () => {
      try {
        return fs.readFileSync(path.join(state, 'ganesha.log'), 'utf8');
      } catch {
        return '';
      }
    },
  };
  await g.start();
  return g;
}
