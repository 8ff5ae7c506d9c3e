/**
 * Operating a server: the Prometheus endpoint, `nfs-localio status` (tables
 * and --json, server and client side), and the log lines of notable events.
 * The server runs as its own process, as an operator runs it; the client is
 * this process, so it is LOCALIO over the Unix channel when the addon is built.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer, freePort, CLI, type ServerProcess } from '../helpers/server-process.js';
import { chownTree, TEST_UID, TEST_GID } from '../helpers/nfs-raw.js';
import { nfsUrl } from '../helpers/peers.js';
import { connect, type NfsClient } from '../../src/index.js';
import { loadFdPass } from '../../src/localio/native.js';
import { setLogLevel } from '../../src/util/log.js';

setLogLevel('silent');
const run = promisify(execFile);
let dir: string;
let stateDir: string;
let rdv: string;
let srv: ServerProcess;
let metricsPort: number;
let client: NfsClient;
const cross = loadFdPass().native !== undefined;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-ops-'));
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-ops-state-'));
  rdv = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-ops-rdv-'));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hello operations\n');
  fs.mkdirSync(path.join(dir, 'many'));
  for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(dir, 'many', `f${i}`), '');
  chownTree(dir);
  metricsPort = await freePort();
  // Logging at info, as an operator runs it (the helper's default is warn).
  srv = await startServer({ dir, stateDir, logLevel: 'info', extraArgs: ['--metrics', String(metricsPort), '--rendezvous', rdv] });
  client = await connect({ version: 3, host: '127.0.0.1', nfsPort: srv.port, mountPort: srv.port, path: dir, uid: TEST_UID, gid: TEST_GID, gids: [TEST_GID], localioRendezvous: rdv });
  await client.localio.settled();
  assert.equal(String(await client.readFile('a.txt')), 'hello operations\n');
  await client.writeFile('b.bin', Buffer.alloc(1 << 20, 1));
  await client.readFile('missing.txt').catch(() => undefined); // one NFS3ERR_NOENT
});

after(async () => {
  await client?.close();
  await srv?.stop();
  for (const d of [dir, stateDir, rdv]) fs.rmSync(d, { recursive: true, force: true });
});

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  return res.text();
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  assert.ok(line, `${series} is exposed`);
  return Number(line.slice(series.length + 1));
}

test('metrics: per-procedure calls, errors by nfsstat3, latency histograms, connections, LOCALIO', async () => {
  // The client pushes its counters at most every second.
  await new Promise((r) => setTimeout(r, 1300));
  const m = await scrape();
  assert.ok(value(m, 'nfslocalio_rpc_calls_total{program="nfs3",procedure="LOOKUP"}') >= 1);
  assert.equal(value(m, 'nfslocalio_rpc_calls_total{program="localio",procedure="UUID_IS_LOCAL"}'), 1);
  assert.ok(value(m, 'nfslocalio_rpc_errors_total{program="nfs3",procedure="LOOKUP",status="NFS3ERR_NOENT"}') >= 1);
  assert.ok(value(m, 'nfslocalio_rpc_duration_seconds_count{program="nfs3",procedure="GETATTR"}') >= 1);
  assert.match(m, /nfslocalio_rpc_duration_seconds_bucket\{le="0.001",program="nfs3",procedure="LOOKUP"\} \d+/);
  assert.equal(value(m, 'nfslocalio_connections'), 1);
  assert.ok(value(m, 'nfslocalio_connections_total') >= 1);
  assert.equal(value(m, 'nfslocalio_drc_hits_total'), 0);
  assert.equal(value(m, 'nfslocalio_localio_probes_total'), 1);
  if (cross) {
    assert.equal(value(m, 'nfslocalio_localio_clients{channel="unix"}'), 1);
    assert.ok(value(m, 'nfslocalio_localio_opens_total') >= 1);
    assert.ok(value(m, 'nfslocalio_localio_bytes_total{path="local",direction="write"}') >= 1 << 20);
    assert.ok(value(m, 'nfslocalio_localio_ops_total{path="local",op="read"}') >= 1);
    assert.equal(value(m, 'nfslocalio_written_bytes_total'), 0, 'no WRITE went over the wire');
  } else {
    assert.ok(value(m, 'nfslocalio_written_bytes_total') >= 1 << 20);
  }
  const notFound = await fetch(`http://127.0.0.1:${metricsPort}/`);
  assert.equal(notFound.status, 404);
});

test('the data path in metrics and status: direct writes, spliced reads, READDIRPLUS pages computed ahead', async () => {
  // Over the wire (LOCALIO off): 2 MiB written in aligned 1 MiB WRITEs, read back, a 2,000-entry listing.
  const wire = await connect({ version: 3, host: '127.0.0.1', nfsPort: srv.port, mountPort: srv.port, path: dir, uid: TEST_UID, gid: TEST_GID, gids: [TEST_GID], localio: false });
  try {
    const data = Buffer.alloc(2 << 20);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
    await wire.writeFile('wire.bin', data);
    assert.ok(Buffer.from(await wire.readFile('wire.bin')).equals(data));
    assert.equal((await wire.readdir('many')).length, 2000);
  } finally {
    await wire.close();
  }
  const { stdout } = await run(process.execPath, [CLI, 'status', '--state-dir', stateDir, '--port', String(srv.port), '--json']);
  const dp = JSON.parse(stdout).dataPath;
  assert.equal(dp.exports.length, 1);
  const e = dp.exports[0];
  // Pages were computed ahead; whether each was still fresh (≤ 50 ms) when asked for depends on how
  // busy this machine is, so only the accounting is checked here (serving them: the unit tests).
  const ahead = dp.readdirplusAhead;
  assert.ok(ahead.started >= 1 && ahead.served + ahead.stale <= ahead.started, `pages computed ahead: ${JSON.stringify(ahead)}`);
  if (e.directWrites.state === 'on') assert.ok(e.directWrites.writes >= 2 && e.directWrites.bytes >= 2 << 20, JSON.stringify(e.directWrites));
  else assert.match(e.directWrites.state, /^off: /);
  if (cross) {
    assert.equal(e.splicedReads.state, 'on');
    assert.ok(e.splicedReads.reads >= 2, JSON.stringify(e.splicedReads));
    assert.equal(e.statAhead.state, 'on');
  }
  const m = await scrape();
  const ex = `{export="${e.path}"}`;
  assert.equal(value(m, `nfslocalio_direct_writes_total${ex}`), e.directWrites.writes);
  assert.equal(value(m, `nfslocalio_spliced_reads_total${ex}`), e.splicedReads.reads);
  assert.equal(value(m, 'nfslocalio_readdirplus_ahead_total{outcome="served"}'), ahead.served);
  assert.equal(value(m, 'nfslocalio_readdirplus_ahead_total{outcome="stale"}'), ahead.stale);
  const table = (await run(process.execPath, [CLI, 'status', '--state-dir', stateDir])).stdout;
  assert.match(table, /^Data path$/m);
  assert.match(table, /READDIRPLUS pages computed ahead: \d+ served/);
});

test('status: the server view as JSON and as tables', async () => {
  const { stdout } = await run(process.execPath, [CLI, 'status', '--state-dir', stateDir, '--port', String(srv.port), '--json']);
  const st = JSON.parse(stdout);
  assert.equal(st.port, srv.port);
  assert.equal(st.exports[0].path, fs.realpathSync(dir) === dir ? dir : st.exports[0].path);
  assert.equal(st.connections.length, 1);
  assert.equal(st.connections[0].authFlavor, 'sys');
  assert.equal(st.connections[0].uid, TEST_UID);
  if (cross) {
    // This client is on the server's host: its connection does not pace (src/server/same-host-tcp.ts).
    assert.equal(st.connections[0].congestion, 'reno');
    assert.equal(st.dataPath.sameHostCongestion, 'reno');
    assert.equal(st.localio.clients.length, 1);
    assert.equal(st.localio.clients[0].kind, 'unix');
    assert.equal(st.localio.clients[0].pid, process.pid);
    assert.ok(Date.parse(st.localio.clients[0].since) <= Date.now());
  }
  const table = (await run(process.execPath, [CLI, 'status', '--state-dir', stateDir])).stdout;
  assert.match(table, /^Exports$/m);
  assert.match(table, /^Connections$/m);
  assert.match(table, /AUTH_SYS/);
  assert.match(table, /^LOCALIO: on/m);
  if (cross) {
    assert.match(table, /\bunix\b/);
    assert.match(table, /TCP CC/);
    assert.match(table, /TCP congestion control of same-host connections: reno/);
  }
});

test('status: nothing running in a state directory is a clear error', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-ops-empty-'));
  try {
    await assert.rejects(run(process.execPath, [CLI, 'status', '--state-dir', empty]), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /no running server found/);
      return true;
    });
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test('status --client: the client side of LOCALIO, exit 0 when local', { skip: cross ? false : 'no fd-passing addon: a second process cannot be local' }, async () => {
  const url = nfsUrl(srv.port, dir, '', { uid: TEST_UID, gid: TEST_GID });
  const { stdout } = await run(process.execPath, [CLI, 'status', '--client', url, '--json'], { env: { ...process.env, NFS_LOCALIO_RENDEZVOUS: rdv } });
  const st = JSON.parse(stdout);
  assert.equal(st.state, 'local');
  assert.equal(st.server.channel, 'unix');
});

test('logs: one line per notable event — start, export, connect, LOCALIO bind', () => {
  const out = srv.output();
  for (const ev of ['export.added', 'server.started', 'client.connected', 'localio state=on']) assert.ok(out.includes(ev), `log has ${ev}`);
  if (cross) assert.match(out, /localio\.client\.bound .*kind=unix/);
  assert.ok(!/ READ | WRITE /.test(out), 'nothing per I/O at info');
});
