/**
 * The TCP congestion control of same-host connections (src/server/same-host-tcp.ts): the server
 * sets `reno` on connections from this host by default, leaves them to the system with `false`,
 * and a name the kernel refuses turns the setting off loudly without refusing a connection.
 * Connections from another host keep the system's choice: tests/interop/localio-netns.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NfsServer, defaultExportEntry, type NfsServerOptions } from '../../src/server/server.js';
import { RpcClient } from '../../src/rpc/client.js';
import { NFS3_PROGRAM, NFS3_VERSION } from '../../src/nfs3/constants.js';
import { loadFdPass } from '../../src/localio/native.js';
import { setLogLevel } from '../../src/util/log.js';

setLogLevel('silent');
const loaded = loadFdPass();
const skip = loaded.native?.tcpCongestion ? false : `no native addon with tcpCongestion (${loaded.native ? 'rebuild it' : loaded.reason})`;
if (skip) {
  if (process.env.CI === 'true') test('the addon sets TCP congestion control (required in CI)', () => assert.fail(skip));
  else console.warn(`\n!!!!! SKIPPING same-host TCP congestion tests — ${skip}\n`);
}
const systemDefault = fs.readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-cc-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A server with `opts`, one client connection to it, a NULL call answered; what status says. */
async function connectionOf(opts: Partial<NfsServerOptions>): Promise<{ congestion?: string; state: string }> {
  const server = await NfsServer.start({ exports: [defaultExportEntry(dir)], port: 0, stateDir: path.join(dir, '.state'), control: false, ...opts });
  try {
    const c = await RpcClient.connect(server.port);
    try {
      await c.call(NFS3_PROGRAM, NFS3_VERSION, 0); // rejects unless answered with SUCCESS
      const conns = server.status().connections;
      assert.equal(conns.length, 1);
      return { congestion: conns[0].congestion, state: server.dataPath().sameHostCongestion };
    } finally {
      await c.close();
    }
  } finally {
    await server.close();
  }
}

test('a connection from this host uses reno by default, and status says so', { skip }, async () => {
  assert.deepEqual(await connectionOf({}), { congestion: 'reno', state: 'reno' });
});

test('another algorithm by name, or none (the system default)', { skip }, async () => {
  const other = systemDefault === 'cubic' ? 'reno' : 'cubic';
  // cubic needs privilege unless the system allows it to everyone.
  const allowed = process.getuid?.() === 0 || fs.readFileSync('/proc/sys/net/ipv4/tcp_allowed_congestion_control', 'utf8').split(/\s+/).includes(other);
  if (allowed) assert.deepEqual(await connectionOf({ sameHostCongestion: other }), { congestion: other, state: other });
  assert.deepEqual(await connectionOf({ sameHostCongestion: false }), { congestion: systemDefault, state: 'off: disabled' });
});

test('a name the kernel refuses: the setting is off, says why, and connections keep the default', { skip }, async () => {
  const got = await connectionOf({ sameHostCongestion: 'no-such-cc' });
  assert.equal(got.congestion, systemDefault);
  assert.equal(got.state, 'off: the kernel refused no-such-cc (ENOENT)');
  const long = await connectionOf({ sameHostCongestion: 'x'.repeat(16) });
  assert.equal(long.congestion, systemDefault);
  assert.match(long.state, /\(EINVAL\)$/);
});
