/** An in-process server with one temp export for the NFSv4 tests, and a connection to it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NfsServer, type NfsServerOptions } from '../../src/server/index.js';
import { V4Conn } from './nfs4-test-client.js';

export interface Fixture {
  server: NfsServer;
  exp: string;
  state: string;
  conn: V4Conn;
}

export async function withServer(fn: (f: Fixture) => Promise<void>, opts: { exportsText?: (exp: string) => string; server?: Partial<NfsServerOptions>; prepare?: (exp: string) => void } = {}): Promise<void> {
  const exp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-v4-exp-'));
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-v4-state-'));
  opts.prepare?.(exp);
  const server = await NfsServer.start({
    exports: { text: opts.exportsText?.(exp) ?? `${exp} 127.0.0.1(rw,insecure,no_root_squash)\n` },
    port: 0,
    stateDir: state,
    control: false,
    localio: false,
    ...opts.server,
  });
  const conn = await V4Conn.connect(server.port);
  try {
    await fn({ server, exp, state, conn });
  } finally {
    conn.destroy();
    await server.close();
    fs.rmSync(exp, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
}

