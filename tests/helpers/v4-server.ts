/**
 * Our server over NFSv4, for the tests that need it: whether this build's
 * server speaks v4 (a skip reason until it does), and the NfsServer class an
 * in-process test should run — this tree's, or another build's named by
 * NFS_LOCALIO_TEST_SERVER_MODULE (its dist/src/index.js), as
 * NFS_LOCALIO_TEST_SERVER_CLI names another build's CLI for the tests that
 * run the server as a process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RpcTransport, XidSource } from '../../src/client/transport.js';
import { AUTH_NONE_VERF } from '../../src/rpc/auth.js';
import { NfsServer as OwnServer } from '../../src/index.js';
import { startServer } from './server-process.js';

let probed: Promise<string | false> | undefined;

/**
 * Skip reason for suites that need our server to speak NFSv4 (a NULL call to program 100003 version 4
 * on a server of this build), false when it does. The v4 server is built on its own branch: until it
 * is merged, those suites say loudly that they did not run.
 */
export function oursV4Skip(): Promise<string | false> {
  probed ??= probe();
  return probed;
}

/** A NULL call to program 100003 version 4 on `port`: false when it is answered, else a loud skip reason. */
async function speaksV4(port: number, who: string): Promise<string | false> {
  const t = new RpcTransport({ host: '127.0.0.1', port, mode: 'soft', timeout: 5000, retrans: 1, connectTimeout: 5000, maxInFlight: 1, maxRecord: 1 << 20, xids: new XidSource(), label: 'probe' });
  try {
    await t.connect();
    await t.call(100003, 4, 0, AUTH_NONE_VERF);
    return false;
  } catch (e) {
    const msg = `!!! SKIPPING: ${who} does not speak NFSv4 (${(e as Error).message}); the v4 tests with it did not run !!!`;
    process.stderr.write(msg + '\n');
    return msg;
  } finally {
    t.close();
  }
}

async function probe(): Promise<string | false> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-v4probe-'));
  const server = await startServer({ dir, exportsText: `${dir} *(rw,insecure,no_root_squash)\n` });
  try {
    return await speaksV4(server.port, "this build's server");
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The NfsServer class of the server under test (see the top of this file). */
export async function serverClass(): Promise<typeof OwnServer> {
  const m = process.env.NFS_LOCALIO_TEST_SERVER_MODULE;
  if (!m) return OwnServer;
  return ((await import(pathToFileURL(m).href)) as { NfsServer: typeof OwnServer }).NfsServer;
}

/** Skip reason for in-process tests that need the server class to speak NFSv4, false when it does. */
export async function inProcessV4Skip(): Promise<string | false> {
  const Server = await serverClass();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-v4probe-'));
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-v4probe-state-'));
  const server = await Server.start({ exports: { text: `${dir} *(rw,insecure,no_root_squash)\n` }, port: 0, stateDir: state });
  try {
    return await speaksV4(server.port, 'the in-process server');
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
}
