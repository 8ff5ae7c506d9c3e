/**
 * LOCALIO across processes (DESIGN.md §2, issue 4): the server is the CLI in
 * a child process, the client is this test process or a third process.
 *
 * - two processes → local over the 'unix' channel, READ/WRITE on passed
 *   descriptors (the wire counters stay 0), the server's `status --json`
 *   lists this process as a unix client;
 * - a third process (inline ESM script importing dist/src/index.js) → local;
 * - stale rendezvous sockets are removed (by a new client's sweep, and by
 *   the server when its connect is refused);
 * - NFS_LOCALIO_NO_NATIVE=1 → cross-process off with a reason, the wire works;
 * - the server SIGKILLed while a client is local → the client disables,
 *   its hard-mount read completes after a restart on the same port and state
 *   dir, and it becomes local again.
 *
 * Every server runs on a free port with its own state and rendezvous
 * directories; only the pids started here are stopped.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connect, type NfsClient } from '../../src/index.js';
import { loadFdPass, SeqpacketListener } from '../../src/localio/native.js';
import { setLogLevel, type LogLevel } from '../../src/util/log.js';
import { CLI, startServer, statusJson, type ServerProcess } from '../helpers/server-process.js';
import { privateTempDir, removeDir, sha256File, tempDir, waitFor, writeRandomFile } from '../helpers/peers.js';
import { CRED, RawConn, TEST_GID, TEST_UID, chownTree, parseReply, replyStatus, sleep } from '../helpers/nfs-raw.js';
import { needAddon, runChild, startChild, type ChildSpec } from '../helpers/localio-child.js';

setLogLevel((process.env.NFS_LOCALIO_TEST_LOG as LogLevel) ?? 'warn');

const MiB = 1024 * 1024;
const skipAddon = needAddon();

let exp: string;
let state: string;
let rdv: string;
let server: ServerProcess;
/** Servers started here and not yet stopped (the restart test replaces one). */
const servers = new Set<ServerProcess>();
const clients = new Set<NfsClient>();
let seedSum: string;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function start(port?: number): Promise<ServerProcess> {
  const s = await startServer({ dir: exp, stateDir: state, port, extraArgs: ['--rendezvous', rdv] });
  servers.add(s);
  return s;
}

/** Our client in this process, as the export's owner (the default export squashes root). */
async function client(extra: { localioRendezvous?: string } = {}): Promise<NfsClient> {
  const c = await connect({ version: 3, host: '127.0.0.1', nfsPort: server.port, mountPort: server.port, path: exp, uid: TEST_UID, gid: TEST_GID, gids: [TEST_GID], localioRendezvous: rdv, ...extra });
  clients.add(c);
  return c;
}

async function closeClient(c: NfsClient): Promise<void> {
  clients.delete(c);
  await c.close();
}

function childSpec(extra: Partial<ChildSpec> = {}): ChildSpec {
  return { connect: { host: '127.0.0.1', nfsPort: server.port, mountPort: server.port, path: exp, uid: TEST_UID, gid: TEST_GID, gids: [TEST_GID], localioRendezvous: rdv }, ...extra };
}

interface ServerStatusJson {
  pid: number;
  localio?: {
    instance: string;
    crossProcess: boolean;
    clients: { kind: string; pid?: number; address: string; uid?: number }[];
    counters: { probes: number; binds: number; misses: number };
  };
}

const serverStatus = () => statusJson<ServerStatusJson>(state, server.port);

/** A Unix SEQPACKET socket file nobody listens on (a client that crashed mid-probe), optionally aged. */
async function staleSocket(dir: string, name: string, ageMs: number): Promise<string> {
  const native = loadFdPass().native!;
  const p = path.join(dir, name);
  const l = SeqpacketListener.listen(native, p, (ch) => ch.close());
  let timer: NodeJS.Timeout | undefined;
  // The accept watcher is unref'd: a ref'd timer keeps the loop alive while we wait, and bounds the wait.
  await Promise.race([
    new Promise<void>((resolve) => {
      l.onClose = () => resolve();
      l.close();
    }),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('listener did not close')), 5000))),
  ]).finally(() => clearTimeout(timer));
  assert.ok(fs.lstatSync(p).isSocket(), 'close() leaves the socket file behind');
  assert.throws(() => native.close(native.connect(p, 200)), (e: { code?: string }) => e.code === 'ECONNREFUSED', 'nobody listens on it');
  if (ageMs > 0) {
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(p, t, t);
  }
  return p;
}

before(async () => {
  exp = tempDir('nfsl-lio-proc-exp-');
  state = privateTempDir('nfsl-lio-proc-state-');
  rdv = privateTempDir('nfsl-lio-proc-rdv-'); // mode 0700, ours: a private rendezvous directory
  seedSum = await writeRandomFile(path.join(exp, 'seed.bin'), 2 * MiB + 4321);
  chownTree(exp);
  server = await start();
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  const codes: (number | null)[] = [];
  for (const s of servers) codes.push(await s.stop());
  const out = [...servers].map((s) => s.output()).join('\n');
  removeDir(exp);
  removeDir(state);
  removeDir(rdv);
  assert.ok(codes.every((c) => c === 0), `server exit status ${codes.join(',')}:\n${out}`);
});

test('two processes: local over the unix channel, 3 MiB written and read on descriptors, listed by `status --json`', { skip: skipAddon }, async (t) => {
  const c = await client();
  assert.equal(c.localio.status().state, 'probing', 'connect() resolves before the probe finishes');
  await c.localio.settled();
  const s0 = c.localio.status();
  assert.equal(s0.state, 'local', JSON.stringify(s0));
  assert.equal(s0.server?.channel, 'unix');
  assert.equal(s0.crossProcess, true);
  const wire0 = s0.wire;

  const data = randomBytes(3 * MiB);
  await c.writeFile('/three.bin', data);
  const back = (await c.readFile('/three.bin')) as Buffer;
  assert.equal(back.length, data.length);
  assert.equal(sha(back), sha(data), 'read back through LOCALIO');
  assert.equal(await sha256File(path.join(exp, 'three.bin')), sha(data), 'on the server disk');
  const seed = (await c.readFile('/seed.bin')) as Buffer;
  assert.equal(sha(seed), seedSum);

  const s1 = c.localio.status();
  t.diagnostic(`local ${JSON.stringify(s1.local)} wire ${JSON.stringify(s1.wire)}`);
  assert.equal(s1.state, 'local');
  assert.ok(s1.local.writes > 0 && s1.local.bytesWritten >= data.length, `local writes grew: ${JSON.stringify(s1.local)}`);
  assert.ok(s1.local.reads > 0 && s1.local.bytesRead >= data.length + seed.length, `local reads grew: ${JSON.stringify(s1.local)}`);
  assert.deepEqual(wire0, { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 }, 'nothing went over the wire before');
  assert.equal(s1.wire.reads, 0, 'no wire READ after the probe');
  assert.equal(s1.wire.writes, 0, 'no wire WRITE after the probe');
  assert.equal(s1.wire.commits, 0, 'no wire COMMIT after the probe');

  const st = serverStatus();
  assert.ok(st.localio, 'the server offers LOCALIO');
  assert.equal(st.localio.crossProcess, true);
  assert.equal(st.localio.instance, s1.server?.instance, 'bound to this server instance');
  const mine = st.localio.clients.filter((b) => b.pid === process.pid);
  assert.equal(mine.length, 1, `this process is listed once: ${JSON.stringify(st.localio.clients)}`);
  assert.equal(mine[0].kind, 'unix');
  assert.equal(mine[0].address, '127.0.0.1');
  assert.equal(mine[0].uid, TEST_UID, 'the binding keeps the mount credential');
  await closeClient(c);
});

test('a third process (inline ESM script) reads through LOCALIO; `status --client` says local', { skip: skipAddon }, async () => {
  const r = await runChild(childSpec({ read: ['/seed.bin'] }));
  assert.notEqual(r.pid, process.pid);
  assert.equal(r.settled.state, 'local', JSON.stringify(r.settled));
  assert.equal(r.settled.server?.channel, 'unix');
  assert.equal(r.reads[0].sha256, seedSum, 'the data read by the child');
  assert.ok(r.final.local.reads > 0, `the child read locally: ${JSON.stringify(r.final.local)}`);
  assert.equal(r.final.wire.reads, 0, 'no wire READ in the child');

  // The CLI's own client, rendezvous from the environment variable.
  const cli = spawnSync(process.execPath, [CLI, '--log-level', 'error', 'status', '--client', server.url(), '--json'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NFS_LOCALIO_RENDEZVOUS: rdv } });
  assert.equal(cli.status, 0, `status --client: exit ${cli.status}\n${cli.stdout}\n${cli.stderr}`);
  const st = JSON.parse(cli.stdout) as { state: string; server?: { channel: string } };
  assert.equal(st.state, 'local');
  assert.equal(st.server?.channel, 'unix');
});

test('stale rendezvous sockets: swept by a new client\'s probe (old ones only), removed by the server on ECONNREFUSED', { skip: skipAddon }, async () => {
  const hex = () => randomBytes(16).toString('hex');
  const old = await staleSocket(rdv, `${hex()}.sock`, 10 * 60_000);
  const young = await staleSocket(rdv, `${hex()}.sock`, 0);
  const foreign = await staleSocket(rdv, 'not-a-nonce.sock', 10 * 60_000);

  // A fresh process (the sweep runs at most once a minute per process): its probe sweeps the directory.
  const r = await runChild(childSpec());
  assert.equal(r.settled.state, 'local', JSON.stringify(r.settled));
  assert.equal(fs.existsSync(old), false, 'an old socket nobody listens on is swept');
  assert.equal(fs.existsSync(young), true, 'a young one is left alone (its client may still be probing)');
  assert.equal(fs.existsSync(foreign), true, 'names not of the nonce form are never touched');

  // The server, asked about the young one's nonce, connects, is refused, and removes it.
  const c0 = serverStatus().localio!.counters;
  const conn = await RawConn.connect(server.port);
  try {
    const nonce = Buffer.from(path.basename(young, '.sock'), 'hex');
    const rep = parseReply(await conn.call({ xid: 0x10ca1, prog: 400122, vers: 1, proc: 1, cred: CRED, args: nonce }));
    assert.equal(replyStatus(rep.header), 'SUCCESS', 'UUID_IS_LOCAL is void/SUCCESS whatever happened');
  } finally {
    conn.destroy();
  }
  assert.equal(fs.existsSync(young), false, 'the server removed the socket that refused its connection');
  const afterC = serverStatus().localio!.counters;
  assert.equal(afterC.probes, c0.probes + 1);
  assert.equal(afterC.misses, c0.misses + 1, 'and counted a miss, no binding');
  assert.equal(afterC.binds, c0.binds);
  fs.rmSync(foreign, { force: true });
});

test('NFS_LOCALIO_NO_NATIVE=1 in the client process: cross-process LOCALIO off with a reason, the wire works', async () => {
  const r = await runChild(childSpec({ write: { path: '/nonative.bin', bytes: 2 * MiB + 99 }, read: ['/nonative.bin', '/seed.bin'] }), { env: { NFS_LOCALIO_NO_NATIVE: '1' } });
  assert.equal(r.settled.crossProcess, false);
  assert.match(r.settled.crossProcessReason ?? '', /NFS_LOCALIO_NO_NATIVE/);
  assert.equal(r.settled.state, 'disabled', JSON.stringify(r.settled));
  assert.ok(r.settled.reason && r.settled.reason.length > 0, 'a reason is given');
  assert.equal(r.settled.server, undefined);
  assert.equal(r.reads[0].sha256, r.wrote!.sha256, 'written and read back over the wire');
  assert.equal(r.reads[1].sha256, seedSum);
  assert.equal(await sha256File(path.join(exp, 'nonative.bin')), r.wrote!.sha256, 'on the server disk');
  assert.deepEqual(r.final.local, { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 }, 'nothing local');
  assert.ok(r.final.wire.writes > 0 && r.final.wire.bytesWritten >= r.wrote!.bytes, JSON.stringify(r.final.wire));
  assert.ok(r.final.wire.reads > 0 && r.final.wire.bytesRead >= r.wrote!.bytes, JSON.stringify(r.final.wire));
  assert.equal(r.final.state, 'disabled', 'and it stays remote');

  // The CLI says "not local" with exit 3.
  const cli = spawnSync(process.execPath, [CLI, '--log-level', 'error', 'status', '--client', server.url(), '--json'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NFS_LOCALIO_RENDEZVOUS: rdv, NFS_LOCALIO_NO_NATIVE: '1' } });
  assert.equal(cli.status, 3, `status --client: exit ${cli.status}\n${cli.stdout}\n${cli.stderr}`);
  assert.equal((JSON.parse(cli.stdout) as { state: string }).state, 'disabled');
});

test('server SIGKILLed while a client is local: disabled, the hard read completes after a restart, local again', { skip: skipAddon }, async (t) => {
  const data = randomBytes(MiB + 17);
  const c = await client();
  await c.localio.settled();
  await c.writeFile('/survivor.bin', data);
  const s0 = c.localio.status();
  assert.equal(s0.state, 'local', JSON.stringify(s0));
  assert.equal(sha((await c.readFile('/survivor.bin')) as Buffer), sha(data));
  const oldInstance = s0.server!.instance;
  const port = server.port;

  // Every client state change, from the debug events on diagnostics_channel.
  const states: { state: string; reason?: string }[] = [];
  const onEvent = (m: unknown) => {
    const e = m as { side: string; event: string; state?: string; reason?: string; server?: string };
    if (e.side === 'client' && e.event === 'state' && e.server === `127.0.0.1:${port}`) states.push({ state: e.state!, reason: e.reason });
  };
  dc.subscribe('nfs-localio:localio', onEvent);
  t.after(() => dc.unsubscribe('nfs-localio:localio', onEvent));

  await server.kill9();
  servers.delete(server);
  await waitFor('the client to notice the server is gone', () => c.localio.status().state !== 'local', 10_000, 20);
  const s1 = c.localio.status();
  t.diagnostic(`after SIGKILL: ${s1.state} (${s1.reason})`);
  assert.ok(s1.disables >= 1, 'counted as a disable');
  assert.equal(states[0]?.state, 'disabled', `the first change after the kill: ${JSON.stringify(states)}`);
  assert.match(states[0].reason ?? '', /server gone.*channel/i, 'the reason names the server / its channel going away');

  let settled = false;
  const read = c.readFile('/survivor.bin').finally(() => (settled = true));
  await sleep(300);
  assert.equal(settled, false, 'the read waits for the server (hard mount)');

  server = await start(port);
  const got = (await read) as Buffer;
  assert.equal(sha(got), sha(data), 'the read after the crash returns the right data');

  await waitFor('the client to be local again', () => c.localio.status().state === 'local', 20_000, 50);
  t.diagnostic(`states: ${states.map((x) => `${x.state} (${x.reason})`).join(' → ')}`);
  assert.equal(states.at(-1)?.state, 'local');
  assert.ok(states.some((x) => x.state === 'probing'), 'it re-probed');
  const s2 = c.localio.status();
  assert.equal(s2.server?.channel, 'unix');
  assert.notEqual(s2.server?.instance, oldInstance, 'bound to the new server instance');
  assert.ok(s2.enables >= 2);
  const again = (await c.readFile('/survivor.bin')) as Buffer;
  assert.equal(sha(again), sha(data));
  assert.ok(c.localio.status().local.reads > s0.local.reads, 'reads are local again');
  const st = serverStatus();
  assert.ok(st.localio!.clients.some((b) => b.pid === process.pid && b.kind === 'unix'), JSON.stringify(st.localio));
  await closeClient(c);
});
