/**
 * Servers the client tests run against: our own (a child process on a free
 * port) and nfs-ganesha (../shared/peers/ganesha-start.sh on free ports, its
 * own state dir and a fresh export dir under /srv). Everything on
 * 127.0.0.1; each server is stopped by its own pid / stop script.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { NfsError } from '../../src/index.js';
import { IN_CI, SHARED, freePort, needCommand, startServer, type ServerProcess } from '../helpers/server-process.js';

const run = promisify(execFile);

/** The protocol a suite runs on: the `version` of its URLs. */
export type TestVersion = '3' | '4.1' | '4.2';

export interface Target {
  name: string;
  kind: 'ours' | 'ganesha';
  version: TestVersion;
  /** URL of the export root. */
  url: string;
  /** URL of a path inside the export. */
  urlOf(rel: string): string;
  /** The exported directory on this machine (to check what reached the disk). */
  dir: string;
  /** URL of a read-only export, when the server has one. */
  roUrl?: string;
  roDir?: string;
  stop(): Promise<void>;
}

const IS_ROOT = process.getuid?.() === 0;

function query(nfsport: number, mountport: number, version: TestVersion): string {
  return `?version=${version}&nfsport=${nfsport}&mountport=${mountport}`;
}

function enc(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Our server on a temp dir, root-run with no_root_squash (like the peers), plus a read-only export. */
export async function startOurs(extra: { stateDir?: string; port?: number; version?: TestVersion } = {}): Promise<Target & { server: ServerProcess }> {
  const { version = '3', ...serverExtra } = extra;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-client-exp-'));
  const roDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-client-ro-'));
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(roDir, 0o755);
  fs.writeFileSync(path.join(roDir, 'ro.txt'), 'read only\n');
  const server = await startServer({
    dir,
    exportsText: `${dir} *(rw,insecure,no_root_squash)\n${roDir} *(ro,insecure,no_root_squash)\n`,
    ...serverExtra,
  });
  const q = query(server.port, server.port, version);
  return {
    name: `nfs-localio server (NFSv${version})`,
    kind: 'ours',
    version,
    server,
    dir,
    url: `nfs://127.0.0.1${enc(dir)}${q}`,
    urlOf: (rel) => `nfs://127.0.0.1${enc(dir)}/${enc(rel.replace(/^\//, ''))}${q}`,
    roUrl: `nfs://127.0.0.1${enc(roDir)}${q}`,
    roDir,
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(roDir, { recursive: true, force: true });
    },
  };
}

/** Skip reason for ganesha (missing on a laptop, or not root); throws in CI, where it must run. */
export function ganeshaSkip(): string | false {
  const miss = needCommand('ganesha.nfsd');
  if (miss) return miss;
  if (!IS_ROOT) {
    const msg = '!!! SKIPPING: nfs-ganesha needs root (FSAL VFS uses open_by_handle_at); not tested here !!!';
    if (IN_CI) throw new Error(msg);
    process.stderr.write(msg + '\n');
    return msg;
  }
  return false;
}

/** nfs-ganesha on free ports with its own state dir and a fresh export dir under /srv. */
export async function startGanesha(o: { version?: TestVersion } = {}): Promise<Target> {
  const version = o.version ?? '3';
  const dir = fs.mkdtempSync('/srv/nfsl-client-ganesha-');
  fs.chmodSync(dir, 0o755);
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-client-ganesha-state-'));
  const nfsport = await freePort();
  let mountport = await freePort();
  while (mountport === nfsport) mountport = await freePort();
  const env = {
    ...process.env,
    GANESHA_EXPORT_DIR: dir,
    GANESHA_NFS_PORT: String(nfsport),
    GANESHA_MNT_PORT: String(mountport),
    GANESHA_STATE_DIR: state,
  };
  try {
    await run('bash', [path.join(SHARED, 'peers/ganesha-start.sh')], { env });
  } catch (e) {
    await run('bash', [path.join(SHARED, 'peers/ganesha-stop.sh')], { env }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
    throw e;
  }
  const q = query(nfsport, mountport, version);
  return {
    name: `nfs-ganesha (NFSv${version})`,
    kind: 'ganesha',
    version,
    dir,
    url: `nfs://127.0.0.1/export${q}`,
    urlOf: (rel) => `nfs://127.0.0.1/export/${enc(rel.replace(/^\//, ''))}${q}`,
    stop: async () => {
      await run('bash', [path.join(SHARED, 'peers/ganesha-stop.sh')], { env }).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(state, { recursive: true, force: true });
    },
  };
}

export { oursV4Skip } from '../helpers/v4-server.js';

/** The error `p` rejects with (an assertion failure when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<NfsError> {
  try {
    await p;
  } catch (e) {
    return e as NfsError;
  }
  assert.fail('expected a rejection');
}
