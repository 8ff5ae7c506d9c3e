/**
 * LOCALIO on the wire (issue 4, "On the wire (tshark)"): NULL and
 * UUID_IS_LOCAL of program 400122 decode cleanly, and a local client's READ
 * and WRITE calls stop once its probe completes — over NFSv3, and over
 * NFSv4.1 (issue 14: the same probe on the v4 connection, then no COMPOUND
 * with READ or WRITE; once our server speaks v4).
 *
 * A separate client process (so its NFS traffic is loopback TCP to the CLI
 * server) connects, waits for the probe, then writes and reads a few MiB,
 * under ../shared/peers/tshark-nfs.sh. Wireshark has no dissector for
 * 400122, so its RPC layer only decodes those calls with
 * `rpc.dissect_unknown_programs` on; every check here uses it.
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { needCommand, startServer, type ServerProcess } from '../helpers/server-process.js';
import { TSHARK_NFS, decodeArgs, describe, malformedFrames, privateTempDir, removeDir, runCommand, sha256File, takeWholeCapture, tempDir, writeRandomFile } from '../helpers/peers.js';
import { TEST_GID, TEST_UID, chownTree } from '../helpers/nfs-raw.js';
import { childCommand, needAddon, parseChild } from '../helpers/localio-child.js';
import { oursV4Skip } from '../helpers/v4-server.js';

const MiB = 1024 * 1024;
const LOCALIO = 400122;
const NFS = 100003;
const skip = needCommand('tshark') || needAddon();
const v4Skip = skip || (await oursV4Skip());

let exp: string;
let local: string;
let state: string;
let rdv: string;
let server: ServerProcess;
let seedSum: string;

before(async () => {
  if (skip) return;
  exp = tempDir('nfsl-lio-tshark-exp-');
  local = tempDir('nfsl-lio-tshark-local-');
  state = privateTempDir('nfsl-lio-tshark-state-');
  rdv = privateTempDir('nfsl-lio-tshark-rdv-');
  seedSum = await writeRandomFile(path.join(exp, 'seed.bin'), 3 * MiB + 999);
  chownTree(exp);
  server = await startServer({ dir: exp, stateDir: state, extraArgs: ['--rendezvous', rdv] });
});

after(async () => {
  if (skip) return;
  const code = await server?.stop();
  removeDir(exp);
  removeDir(local);
  removeDir(state);
  removeDir(rdv);
  assert.equal(code, 0, `server exit status:\n${server?.output()}`);
});

/** One RPC message as tshark decodes it. */
interface RpcMsg {
  frame: number;
  xid: string;
  call: boolean;
  program: number;
  procedure: number;
  /** Calls: record length, credential and verifier body lengths (single-fragment records). */
  fraglen?: number;
  credLen?: number;
  verfLen?: number;
  /** Replies: reply_stat, accept_stat, and the frame of the call. */
  replyStat?: number;
  acceptStat?: number;
  callFrame?: number;
  /** The undecoded argument bytes tshark shows for an unknown program (frames holding one message only). */
  dataLen?: number;
}

type Tree = Record<string, unknown>;

/** First value of `key` anywhere in a tshark JSON subtree (depth first). */
function find(o: unknown, key: string): string | undefined {
  if (Array.isArray(o)) {
    for (const x of o) {
      const v = find(x, key);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  if (o === null || typeof o !== 'object') return undefined;
  for (const [k, v] of Object.entries(o as Tree)) {
    if (k === key) return Array.isArray(v) ? String(v[0]) : typeof v === 'string' ? v : undefined;
  }
  for (const v of Object.values(o as Tree)) {
    const r = find(v, key);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** Our port as ONC RPC, with the programs Wireshark has no dissector for (400122) decoded too. */
const decodeUnknown = (port: number) => [...decodeArgs([port]), '-o', 'rpc.dissect_unknown_programs:TRUE'];

const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
const arr = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every RPC message of the capture, per message (a frame may carry several), with unknown programs decoded. */
async function rpcMessages(pcap: string, port: number): Promise<RpcMsg[]> {
  const r = await runCommand('tshark', ['-r', pcap, ...decodeUnknown(port), '-Y', 'rpc', '-T', 'json', '--no-duplicate-keys'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, describe(r));
  const packets = JSON.parse(r.stdout) as { _source: { layers: Tree } }[];
  const out: RpcMsg[] = [];
  for (const p of packets) {
    const L = p._source.layers;
    const frame = Number(find(L.frame, 'frame.number'));
    const rpcs = arr(L.rpc as Tree | Tree[]);
    // The argument bytes of an unknown program sit in a wrapper layer beside 'rpc' (keyed ''); unambiguous only with one message.
    const dataLen = rpcs.length === 1 ? num(find(L[''], 'data.len')) : undefined;
    for (const m of rpcs) {
      const call = m['rpc.msgtyp'] === '0';
      const msg: RpcMsg = { frame, xid: String(m['rpc.xid']), call, program: Number(m['rpc.program']), procedure: Number(arr(m['rpc.procedure'] as string | string[])[0]) };
      if (call) {
        const frags = Object.keys(m).filter((k) => k.startsWith('Fragment header'));
        if (frags.length === 1) msg.fraglen = num(find(m[frags[0]], 'rpc.fraglen'));
        msg.credLen = num(find(m.Credentials, 'rpc.auth.length'));
        msg.verfLen = num(find(m.Verifier, 'rpc.auth.length'));
        msg.dataLen = dataLen;
      } else {
        msg.replyStat = num(m['rpc.replystat'] as string | undefined);
        msg.acceptStat = num(m['rpc.state_accept'] as string | undefined);
        msg.callFrame = num(m['rpc.repframe'] as string | undefined);
      }
      out.push(msg);
    }
  }
  return out;
}

/** Bytes of procedure arguments in a call record: record − header (6 words) − credential − verifier. */
function argBytes(m: RpcMsg): number | undefined {
  if (m.fraglen === undefined || m.credLen === undefined || m.verfLen === undefined) return undefined;
  const pad = (n: number) => (n + 3) & ~3;
  return m.fraglen - 24 - (8 + pad(m.credLen)) - (8 + pad(m.verfLen));
}

/** The NFSv4 calls of the capture whose COMPOUND carries one of `ops` (their frame numbers). */
async function compoundsWith(pcap: string, port: number, ops: number[]): Promise<number[]> {
  const r = await runCommand('tshark', ['-r', pcap, ...decodeArgs([port]), '-Y', `rpc.msgtyp == 0 && rpc.program == ${NFS} && rpc.programversion == 4 && (${ops.map((o) => `nfs.opcode == ${o}`).join(' || ')})`, '-T', 'fields', '-e', 'frame.number'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, describe(r));
  return r.stdout.split('\n').filter((l) => l.trim()).map(Number);
}

for (const version of [3, 4.1] as const) handshake(version);

function handshake(version: 3 | 4.1): void {
test(`LOCALIO handshake on the wire, NFSv${version}: NULL and UUID_IS_LOCAL (16 raw bytes) answered, no READ/WRITE after the probe`, { skip: version === 3 ? skip : v4Skip }, async (t: TestContext) => {
  const pcap = path.join(local, `localio-${version}.pcapng`);
  const { args, env } = childCommand({
    connect: { host: '127.0.0.1', nfsPort: server.port, mountPort: server.port, path: exp, uid: TEST_UID, gid: TEST_GID, gids: [TEST_GID], localioRendezvous: rdv, version },
    write: { path: `/written-${version}.bin`, bytes: 4 * MiB + 7 },
    read: [`/written-${version}.bin`, '/seed.bin'],
  });
  const { out: child, report } = await takeWholeCapture((m) => t.diagnostic(m), pcap, [server.port], async () => {
    const r = await runCommand(TSHARK_NFS, ['-p', String(server.port), '-w', pcap, '--', process.execPath, ...args], { env, timeoutMs: 180_000 });
    assert.equal(r.code, 0, describe(r, 6000));
    assert.match(r.stdout, /, 0 malformed\/error frames, 0 dropped by capture;/, describe(r, 3000));
    return parseChild(r.stdout, r.stdout + r.stderr);
  });

  // The client was local and did its I/O on descriptors.
  assert.equal(child.settled.state, 'local', JSON.stringify(child.settled));
  assert.equal(child.settled.server?.channel, 'unix');
  assert.equal(child.reads[0].sha256, child.wrote!.sha256);
  assert.equal(child.reads[1].sha256, seedSum);
  assert.equal(await sha256File(path.join(exp, `written-${version}.bin`)), child.wrote!.sha256);
  assert.ok(child.final.local.bytesWritten >= 4 * MiB && child.final.local.bytesRead >= 7 * MiB, JSON.stringify(child.final.local));
  assert.equal(child.final.wire.reads + child.final.wire.writes, 0, JSON.stringify(child.final.wire));

  // 0 malformed frames, also with program 400122 decoded (and by the existing default-dissector check).
  assert.deepEqual(await malformedFrames(pcap, decodeUnknown(server.port)), [], 'malformed or expert-error frames with unknown programs decoded');
  assert.deepEqual(report.bad, []);
  assert.deepEqual(report.unanswered, [], 'every NFS/MOUNT call in the capture got a reply');

  const msgs = await rpcMessages(pcap, server.port);
  const lio = msgs.filter((m) => m.program === LOCALIO);
  t.diagnostic(`${msgs.length} RPC messages; LOCALIO: ${lio.map((m) => `frame ${m.frame} ${m.call ? 'call' : 'reply'} proc ${m.procedure}${m.call ? ` args ${argBytes(m)}B (data.len ${m.dataLen})` : ` accept_stat ${m.acceptStat}`}`).join('; ')}`);

  const calls = (proc: number) => lio.filter((m) => m.call && m.procedure === proc);
  const replyTo = (c: RpcMsg) => lio.find((m) => !m.call && m.xid === c.xid);
  const nulls = calls(0);
  const uuids = calls(1);
  assert.equal(nulls.length, 1, 'one LOCALIO NULL call');
  assert.equal(uuids.length, 1, 'one UUID_IS_LOCAL call');
  assert.deepEqual(lio.filter((m) => m.call && m.procedure > 1), [], 'no other LOCALIO procedure');
  for (const c of [...nulls, ...uuids]) {
    const rep = replyTo(c);
    assert.ok(rep, `LOCALIO proc ${c.procedure} (xid ${c.xid}) is answered`);
    assert.equal(rep.replyStat, 0, 'MSG_ACCEPTED');
    assert.equal(rep.acceptStat, 0, 'SUCCESS');
    assert.equal(rep.callFrame, c.frame, 'tshark matched the reply to the call');
    assert.ok(c.credLen !== undefined && c.credLen > 0, 'sent with the mount\'s AUTH_SYS credential');
  }
  assert.ok(nulls[0].frame < uuids[0].frame, 'NULL first, then UUID_IS_LOCAL');
  assert.equal(argBytes(nulls[0]), 0, 'NULL carries no arguments');
  const uuid = uuids[0];
  assert.equal(argBytes(uuid), 16, 'UUID_IS_LOCAL carries exactly 16 bytes (fixed opaque, no length word)');
  if (uuid.dataLen !== undefined) assert.equal(uuid.dataLen, 16, 'tshark shows 16 bytes of program data');

  const uuidReply = replyTo(uuid)!.frame;
  const nfsCalls = msgs.filter((m) => m.call && m.program === NFS);
  if (version !== 3) {
    // After the UUID_IS_LOCAL reply: no COMPOUND with READ (25) or WRITE (38) — the OPENs went over the wire, the I/O to descriptors.
    const rw = await compoundsWith(pcap, server.port, [25, 38]);
    const opens = await compoundsWith(pcap, server.port, [18]);
    t.diagnostic(`UUID_IS_LOCAL reply in frame ${uuidReply}; COMPOUNDs with READ/WRITE: ${rw.join(',') || 'none'}; with OPEN: ${opens.join(',')}`);
    assert.deepEqual(rw.filter((f) => f > uuidReply), [], 'no READ/WRITE COMPOUND on the wire after the probe');
    assert.ok(opens.some((f) => f > uuidReply), 'the OPENs went over the wire after the probe');
    return;
  }
  // After the UUID_IS_LOCAL reply: no NFS READ (6) or WRITE (7) call — the I/O of a few MiB went to descriptors.
  const rwAfter = nfsCalls.filter((m) => (m.procedure === 6 || m.procedure === 7) && m.frame > uuidReply);
  const rwBefore = nfsCalls.filter((m) => (m.procedure === 6 || m.procedure === 7) && m.frame < uuidReply);
  t.diagnostic(`UUID_IS_LOCAL reply in frame ${uuidReply}; NFS READ/WRITE calls before: ${rwBefore.length}, after: ${rwAfter.length}; NFS calls after: ${[...new Set(nfsCalls.filter((m) => m.frame > uuidReply).map((m) => m.procedure))].join(',')}`);
  assert.deepEqual(rwAfter.map((m) => `frame ${m.frame} proc ${m.procedure}`), [], 'no READ/WRITE on the wire after the probe');
  assert.ok(nfsCalls.some((m) => m.frame > uuidReply), 'the session went on over the wire (CREATE, LOOKUP, ...) after the probe');
});
}
