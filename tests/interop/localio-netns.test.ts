/**
 * LOCALIO between network namespaces (issue 4, "Done means": two network
 * namespaces sharing the rendezvous directory are local; a client in a
 * private mount namespace without the shared directory is not) — over NFSv3
 * and over NFSv4.1 (issue 14; once our server speaks v4).
 *
 * The test makes two network namespaces joined by a veth pair
 * (10.231.0.1/24 ↔ 10.231.0.2/24). The server (the CLI) runs in ns A bound
 * to 10.231.0.1 — the namespace address, not loopback; clients run in ns B
 * (inline ESM script) and reach it over the veth. The rendezvous directory
 * is a host directory both see (a shared volume, as between containers).
 * A client started with `unshare -m` and a tmpfs over that directory sees
 * another directory: not local, the wire still works.
 *
 * Needs root, `ip` (iproute2) and `unshare` (util-linux): skipped loudly
 * without them outside CI, a failure in CI. The namespaces, the veth pair
 * and every process are removed at the end, also when a step fails.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setLogLevel, type LogLevel } from '../../src/util/log.js';
import { SERVER_CLI, freePort, needCommand, statusJson } from '../helpers/server-process.js';
import { describe as describeRun, needRoot, privateTempDir, removeDir, runCommand, sha256File, startCommand, tempDir, waitFor, writeRandomFile, type Running } from '../helpers/peers.js';
import { TEST_GID, TEST_UID, chownTree } from '../helpers/nfs-raw.js';
import { needAddon, runChild, startChild, type ChildSpec, type HeldChild } from '../helpers/localio-child.js';
import { oursV4Skip } from '../helpers/v4-server.js';

setLogLevel((process.env.NFS_LOCALIO_TEST_LOG as LogLevel) ?? 'warn');

const MiB = 1024 * 1024;
const skip = needRoot('the network-namespace LOCALIO test') || needCommand('ip') || needCommand('unshare') || needAddon();
const v4Skip = skip || (await oursV4Skip());

// Names unique to this run (interface names: at most 15 characters).
const tag = `${process.pid % 100000}`;
const NS_A = `nfsl-lio-a-${tag}`;
const NS_B = `nfsl-lio-b-${tag}`;
const VETH_A = `nfslA${tag}`;
const VETH_B = `nfslB${tag}`;
const ADDR_A = '10.231.0.1';
const ADDR_B = '10.231.0.2';

let exp: string;
let state: string;
let shared: string;
let port: number;
let server: Running | undefined;
let seedSum: string;
let nsDefault: string | undefined;
const held = new Set<HeldChild>();
const nsMade: string[] = [];

async function sh(cmd: string, args: string[]): Promise<void> {
  const r = await runCommand(cmd, args, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${describeRun(r)}`);
}

function spec(extra: Partial<ChildSpec> = {}, version?: 3 | 4.1): ChildSpec {
  return { connect: { host: ADDR_A, nfsPort: port, mountPort: port, path: exp, uid: TEST_UID, gid: TEST_GID, gids: [TEST_GID], localioRendezvous: shared, version }, ...extra };
}

interface ServerStatusJson {
  address: string;
  connections: { peer: { address: string }; congestion?: string }[];
  dataPath: { sameHostCongestion: string };
  localio?: { clients: { kind: string; pid?: number; address: string }[]; counters: { binds: number; misses: number } };
}

/** The server's status over its control socket (a path in the state dir: reachable from the host namespace). */
const serverStatus = () => statusJson<ServerStatusJson>(state, port);

before(async () => {
  if (skip) return;
  exp = tempDir('nfsl-lio-netns-exp-');
  state = privateTempDir('nfsl-lio-netns-state-');
  shared = privateTempDir('nfsl-lio-netns-rdv-');
  seedSum = await writeRandomFile(path.join(exp, 'seed.bin'), 3 * MiB + 5);
  chownTree(exp);
  port = await freePort(); // any port is free in the fresh namespace; this one is at least valid

  for (const ns of [NS_A, NS_B]) {
    await sh('ip', ['netns', 'add', ns]);
    nsMade.push(ns);
  }
  // The pair is created in the host namespace and each end moved; deleting the namespaces deletes it.
  await sh('ip', ['link', 'add', VETH_A, 'type', 'veth', 'peer', 'name', VETH_B]);
  await sh('ip', ['link', 'set', VETH_A, 'netns', NS_A]);
  await sh('ip', ['link', 'set', VETH_B, 'netns', NS_B]);
  await sh('ip', ['-n', NS_A, 'addr', 'add', `${ADDR_A}/24`, 'dev', VETH_A]);
  await sh('ip', ['-n', NS_B, 'addr', 'add', `${ADDR_B}/24`, 'dev', VETH_B]);
  for (const [ns, dev] of [[NS_A, VETH_A], [NS_B, VETH_B]]) {
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  }

  // Namespace A's own default TCP congestion control, one that is not reno: the server must leave it
  // on connections from netns B (another host, as far as the server can tell) and set reno only on
  // same-host ones (src/server/same-host-tcp.ts).
  const available = fs.readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8').split(/\s+/);
  nsDefault = available.find((a) => a !== '' && a !== 'reno');
  if (nsDefault) await sh('ip', ['netns', 'exec', NS_A, 'sh', '-c', `echo ${nsDefault} > /proc/sys/net/ipv4/tcp_congestion_control`]);

  // `ip netns exec` execs the command in place (no fork): the pid we hold is the server's.
  server = startCommand('ip', ['netns', 'exec', NS_A, process.execPath, SERVER_CLI, '--log-level', process.env.NFS_LOCALIO_TEST_LOG ?? 'info', 'serve', exp, '--host', ADDR_A, '--port', String(port), '--state-dir', state, '--rendezvous', shared], {
    timeoutMs: 10 * 60_000,
    killSignal: 'SIGTERM',
  });
  const srv = server;
  await waitFor(`the server in ${NS_A} to listen on ${ADDR_A}:${port}`, () => {
    if (srv.child.exitCode !== null) throw new Error(`the server exited: ${srv.output()}`);
    return srv.output().includes(`Serving ${exp} on ${ADDR_A}:${port}`);
  }, 20_000, 50);
});

after(async () => {
  if (skip) return;
  for (const h of held) h.kill();
  const r = await server?.kill();
  // Always remove what we made, whatever happened above.
  for (const ns of nsMade) await runCommand('ip', ['netns', 'delete', ns], { timeoutMs: 30_000 });
  const left = await runCommand('ip', ['netns', 'list'], { timeoutMs: 30_000 });
  const link = await runCommand('ip', ['link', 'show', VETH_A], { timeoutMs: 30_000 });
  removeDir(exp);
  removeDir(state);
  removeDir(shared);
  assert.ok(!left.stdout.includes(NS_A) && !left.stdout.includes(NS_B), `namespaces left behind: ${left.stdout}`);
  assert.notEqual(link.code, 0, 'the veth pair is gone with its namespaces');
  if (r) assert.equal(r.code, 0, `server exit status: ${describeRun(r)}`);
});

for (const version of [3, 4.1] as const) acrossNamespaces(version);

function acrossNamespaces(version: 3 | 4.1): void {
test(`server in netns A (at the namespace address), client in netns B sharing the rendezvous directory, NFSv${version}: local over unix`, { skip: version === 3 ? skip : v4Skip }, async (t) => {
  const file = `/from-b-${version}.bin`;
  const h = startChild(spec({ write: { path: file, bytes: 2 * MiB + 1 }, read: ['/seed.bin', file], hold: true }, version), { prefix: ['ip', 'netns', 'exec', NS_B] });
  held.add(h);
  const r = await h.ready;
  assert.equal(r.settled.state, 'local', JSON.stringify(r.settled));
  assert.equal(r.settled.server?.channel, 'unix');
  assert.equal(r.reads[0].sha256, seedSum);
  assert.equal(r.reads[1].sha256, r.wrote!.sha256);
  assert.ok(r.final.local.reads > 0 && r.final.local.writes > 0, JSON.stringify(r.final.local));
  assert.equal(r.final.wire.reads, 0);
  assert.equal(r.final.wire.writes, 0);

  // The server saw the client at its namespace address, over the veth, and bound it over the unix channel.
  const st = serverStatus();
  assert.equal(st.address, ADDR_A);
  const b = st.localio?.clients.find((c) => c.pid === r.pid);
  assert.ok(b, `the child (pid ${r.pid}) is a LOCALIO client: ${JSON.stringify(st.localio)}`);
  assert.equal(b.kind, 'unix');
  assert.equal(b.address, ADDR_B, 'the NFS connection came from netns B, not loopback');
  t.diagnostic(`binding: ${JSON.stringify(b)}`);
  // A connection from elsewhere keeps the namespace's congestion control; reno is for same-host ones.
  const conn = st.connections.find((c) => c.peer.address === ADDR_B);
  assert.ok(conn, `the connection from ${ADDR_B}: ${JSON.stringify(st.connections)}`);
  assert.equal(st.dataPath.sameHostCongestion, 'reno');
  if (nsDefault) assert.equal(conn.congestion, nsDefault);
  else t.diagnostic('no algorithm but reno in this kernel: not checked that connections from elsewhere keep theirs');

  const done = await h.release();
  held.delete(h);
  assert.equal(done.final.state, 'local');
  assert.equal(await sha256File(path.join(exp, file)), r.wrote!.sha256);
});
}

test('client in netns B inside a private mount namespace without the shared directory: not local, the wire works', { skip }, async () => {
  const c0 = serverStatus().localio!.counters;
  // unshare -m (private propagation) then a tmpfs over the shared path: this client sees another directory.
  const r = await runChild(spec({ write: { path: '/private.bin', bytes: MiB + 3 }, read: ['/private.bin', '/seed.bin'] }), {
    prefix: ['ip', 'netns', 'exec', NS_B, 'unshare', '-m', 'sh', '-c', `mount -t tmpfs none "$0" && exec "$@"`, shared],
  });
  assert.equal(r.settled.state, 'disabled', JSON.stringify(r.settled));
  assert.match(r.settled.reason ?? '', /not local/);
  assert.equal(r.settled.server, undefined);
  assert.equal(r.reads[0].sha256, r.wrote!.sha256, 'written and read back over the wire');
  assert.equal(r.reads[1].sha256, seedSum);
  assert.deepEqual(r.final.local, { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 });
  assert.ok(r.final.wire.writes > 0 && r.final.wire.reads > 0, JSON.stringify(r.final.wire));
  assert.equal(await sha256File(path.join(exp, 'private.bin')), r.wrote!.sha256);
  const afterC = serverStatus().localio!.counters;
  assert.equal(afterC.binds, c0.binds, 'no binding');
  assert.ok(afterC.misses > c0.misses, 'the server did not find the nonce');
  assert.deepEqual(fs.readdirSync(shared), [], 'the tmpfs was private to that client: nothing leaked into the shared directory');
});
