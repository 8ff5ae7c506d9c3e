/**
 * Hostile input over NFSv4 against a server child process: truncated and oversized COMPOUNDs, a
 * 10,000-op COMPOUND, huge bitmaps and owner strings, random bytes after a valid header, slot and
 * session misuse. After each the server still answers a normal session; at the end its memory has
 * not grown with the number of bad COMPOUNDs. (Bounds on clients and sessions are exhausted
 * in-process with small limits: the last test.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { prng, randomBytesSeeded, rssOf, sleep } from '../helpers/nfs-raw.js';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { readReplyBody, writeCallHeader } from '../../src/rpc/message.js';
import { AUTH_NONE_VERF, AuthFlavor, encodeAuthSys } from '../../src/rpc/auth.js';
import { recordMark } from '../../src/rpc/record.js';
import { Attr4 as A, NFS4_PROGRAM, Nfs4Op as P, Nfs4Stat, nfs4StatName } from '../../src/nfs4/constants.js';
import { decodeCompoundRes, encodeCompoundArgs } from '../../src/nfs4/codec/compound.js';
import { nfs4Limits } from '../../src/nfs4/codec/limits.js';
import { bitmap4 } from '../../src/nfs4/codec/bitmap.js';
import { V4Conn, V4Session, ok, resOf } from '../helpers/nfs4-test-client.js';
import { withServer } from '../helpers/nfs4-server.js';

const WATCHDOG = { timeout: 180_000 };
const CRED = { flavor: AuthFlavor.SYS, body: encodeAuthSys({ machine: 'hostile4', uid: 0, gid: 0, gids: [] }) };
const lim = nfs4Limits({ maxOps: 200 });

let tmp: string;
let dir: string;
let srv: ServerProcess;
let conn: V4Conn;
let sess: V4Session;
let xid = 0x51000000;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-hostile4-'));
  dir = path.join(tmp, 'export');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'data'), 'data\n');
  fs.mkdirSync(path.join(tmp, 'state'));
  srv = await startServer({ dir, stateDir: path.join(tmp, 'state'), exportsText: `${dir} 127.0.0.1(rw,insecure,no_root_squash)\n` });
  conn = await V4Conn.connect(srv.port);
  sess = await V4Session.create(conn, 1);
});

after(async () => {
  conn?.destroy();
  const code = await srv?.stop();
  if (code !== 0 && code !== null) process.stderr.write(`server exited ${code}:\n${srv.output()}\n`);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The RPC call header of a COMPOUND (program 100003 v4), followed by `body` (the COMPOUND4args bytes). */
function call(id: number, body: Buffer): Buffer {
  const w = new XdrWriter(256);
  writeCallHeader(w, { xid: id, prog: NFS4_PROGRAM, vers: 4, proc: 1, cred: CRED, verf: AUTH_NONE_VERF });
  return Buffer.concat([w.finish(), body]);
}

/** A COMPOUND's arguments as the codec encodes them. */
function args(minor: number, ops: Parameters<typeof encodeCompoundArgs>[1]['ops'], tag = ''): Buffer {
  const w = new XdrWriter(256);
  const chunks = encodeCompoundArgs(w, { tag: Buffer.from(tag), minorversion: minor, ops });
  return Buffer.concat([w.finish(), ...(chunks ?? [])]);
}

type Answer = { rpc: string } | { status: number; results: number[] };

/** Send one raw record on `c` and read what comes back: the RPC status, or the COMPOUND's status and result statuses. */
async function send(c: V4Conn, id: number, body: Buffer): Promise<Answer> {
  const rec = await c.sendRaw(id, [call(id, body)]);
  const r = new XdrReader(rec);
  r.uint32();
  r.uint32();
  const h = readReplyBody(r, id);
  if (h.kind !== 'accepted' || h.stat !== 'SUCCESS') return { rpc: h.kind === 'accepted' ? h.stat : h.kind };
  const res = decodeCompoundRes(r, lim);
  return { status: res.status, results: res.results.map((x) => x.res.status) };
}

/** A normal session still gets correct answers (on slot 0, which the hostile requests never use). */
async function assertServing(after: string): Promise<void> {
  const res = await sess.run([{ op: P.PUTROOTFH, args: undefined }, { op: P.GETATTR, args: { attrRequest: bitmap4(A.TYPE) } }]);
  assert.equal(ok(res, P.GETATTR).attrs.values.type, 2, `after ${after}`);
}

test('a COMPOUND cut at every byte: GARGAGE_ARGS or a decode status, never a crash', WATCHDOG, async () => {
  const full = args(1, [sess.seq(1), { op: P.PUTROOTFH, args: undefined }, { op: P.LOOKUP, args: { objname: 'tmp' } }, { op: P.GETATTR, args: { attrRequest: bitmap4(A.TYPE, A.SIZE) } }], 'cut');
  const seen = new Set<string>();
  for (let cut = 0; cut < full.length; cut++) {
    const a = await send(conn, xid++, full.subarray(0, cut));
    seen.add('rpc' in a ? a.rpc : nfs4StatName(a.status));
    if (!('rpc' in a)) assert.notEqual(a.status, 0, `cut at ${cut} cannot succeed`);
  }
  assert.ok(seen.has('GARBAGE_ARGS'), [...seen].join(' '));
  await assertServing('every truncation');
});

test('random bytes after a valid COMPOUND header (seeded): answered, nothing else', WATCHDOG, async () => {
  const rand = prng(42);
  for (let i = 0; i < 500; i++) {
    const head = new XdrWriter(32).uint32(0).uint32(1 + (i % 2)).uint32(1 + Math.floor(rand() * 20)).finish();
    const a = await send(conn, xid++, Buffer.concat([head, randomBytesSeeded(rand, Math.floor(rand() * 300))]));
    if (!('rpc' in a)) assert.notEqual(a.status, 0);
  }
  await assertServing('random bytes');
});

test('10,000 operations in one COMPOUND: TOO_MANY_OPS from SEQUENCE, nothing run', WATCHDOG, async () => {
  const w = new XdrWriter(64 * 1024);
  w.opaque(Buffer.alloc(0)).uint32(1).uint32(10_000);
  const one = args(1, [sess.seq(2)]);
  // SEQUENCE's own bytes (past the 12-byte header), then 9,999 PUTROOTFH.
  const body = Buffer.concat([w.finish(), one.subarray(12), Buffer.alloc(9999 * 4)]);
  for (let i = 0; i < 9999; i++) body.writeUInt32BE(P.PUTROOTFH, w.length + one.length - 12 + i * 4);
  const a = await send(conn, xid++, body);
  assert.ok(!('rpc' in a));
  assert.deepEqual(a.results, [Nfs4Stat.TOO_MANY_OPS]);
  sess.seqids[2]--; // the slot was not used
  // Without a session: the first op alone is answered.
  const b = await send(conn, xid++, Buffer.concat([new XdrWriter(16).uint32(0).uint32(1).uint32(10_000).finish(), Buffer.alloc(40_000)]));
  assert.ok(!('rpc' in b) && b.results.length <= 1);
  await assertServing('10,000 ops');
});

test('huge bitmaps and owner strings: refused before anything is allocated', WATCHDOG, async () => {
  // GETATTR claiming a 2^31-word bitmap: BADXDR (decode stop) for the op.
  const head = args(1, [sess.seq(3), { op: P.PUTROOTFH, args: undefined }]);
  const huge = new XdrWriter(16).uint32(P.GETATTR).uint32(0x80000000).uint32(1).finish();
  const patched = Buffer.from(head);
  patched.writeUInt32BE(3, 8);
  let a = await send(conn, xid++, Buffer.concat([patched, huge]));
  assert.ok(!('rpc' in a));
  assert.equal(a.status, Nfs4Stat.BADXDR);
  // A bitmap of 10,000 words really sent: read past (knfsd's rule), GETATTR answered.
  const words = new XdrWriter(64 * 1024).uint32(P.GETATTR).uint32(10_000);
  words.uint32(1 << A.TYPE);
  for (let i = 1; i < 10_000; i++) words.uint32(0);
  const head2 = Buffer.from(args(1, [sess.seq(3), { op: P.PUTROOTFH, args: undefined }]));
  head2.writeUInt32BE(3, 8);
  a = await send(conn, xid++, Buffer.concat([head2, words.finish()]));
  assert.ok(!('rpc' in a));
  assert.deepEqual(a.results, [0, 0, 0]);
  // An owner string claiming 1 GiB in SETATTR's fattr4, and one of 4 KiB (over NFS4_OPAQUE_LIMIT).
  for (const len of [1 << 30, 4096]) {
    const head3 = Buffer.from(args(1, [sess.seq(3), { op: P.PUTROOTFH, args: undefined }]));
    head3.writeUInt32BE(3, 8);
    const op = new XdrWriter(8192).uint32(P.SETATTR).uint32(0).fixedOpaque(Buffer.alloc(12)).uint32(2).uint32(0).uint32(1 << (A.OWNER - 32));
    op.uint32(len + 4).uint32(len);
    if (len < 8192) op.fixedOpaque(Buffer.alloc(len, 0x41));
    a = await send(conn, xid++, Buffer.concat([head3, op.finish()]));
    assert.ok(!('rpc' in a), `owner of ${len} bytes`);
    assert.equal(a.status, Nfs4Stat.BADXDR, `owner of ${len} bytes: ${nfs4StatName(a.status)}`);
  }
  await assertServing('huge bitmaps and owners');
});

test('an oversized COMPOUND record closes only its connection', WATCHDOG, async () => {
  const bad = await V4Conn.connect(srv.port);
  bad.sock.write(Buffer.concat([recordMark(64 << 20), Buffer.alloc(1024)]));
  await bad.closed;
  await assertServing('an oversized record');
});

test('slot and session misuse: bad slots, misordered and false retries, unknown and destroyed sessions', WATCHDOG, async () => {
  const s2 = await V4Session.create(conn, 1, { owner: 'misuse' });
  const bogus = Buffer.alloc(16, 0xee);
  const answers = [
    resOf(await conn.compound(1, [{ op: P.SEQUENCE, args: { sessionid: s2.sessionid, sequenceid: 1, slotid: 1000, highestSlotid: 1000, cachethis: false } }]), P.SEQUENCE).status,
    resOf(await conn.compound(1, [{ op: P.SEQUENCE, args: { sessionid: s2.sessionid, sequenceid: 77, slotid: 0, highestSlotid: 0, cachethis: false } }]), P.SEQUENCE).status,
    resOf(await conn.compound(1, [{ op: P.SEQUENCE, args: { sessionid: bogus, sequenceid: 1, slotid: 0, highestSlotid: 0, cachethis: false } }]), P.SEQUENCE).status,
  ];
  assert.deepEqual(answers, [Nfs4Stat.BADSLOT, Nfs4Stat.SEQ_MISORDERED, Nfs4Stat.BADSESSION]);
  await s2.destroy();
  const gone = await conn.compound(1, [{ op: P.SEQUENCE, args: { sessionid: s2.sessionid, sequenceid: 2, slotid: 0, highestSlotid: 0, cachethis: false } }]);
  assert.equal(resOf(gone, P.SEQUENCE).status, Nfs4Stat.BADSESSION);
  await assertServing('slot misuse');
});

test('memory does not grow with the number of bad COMPOUNDs', WATCHDOG, async (t) => {
  const pid = srv.child.pid!;
  const rand = prng(0x4444);
  const flood = async (count: number) => {
    const c = await V4Conn.connect(srv.port);
    const s = await V4Session.create(c, 1, { owner: `flood-${count}-${rand()}` });
    for (let i = 0; i < count; i++) {
      const kind = i % 4;
      let body: Buffer;
      if (kind === 0) body = Buffer.concat([new XdrWriter(16).uint32(0).uint32(1).uint32(5).finish(), randomBytesSeeded(rand, 2048)]);
      else if (kind === 1) body = args(1, [s.seq(), { op: P.PUTFH, args: { object: randomBytesSeeded(rand, 24) } }]);
      else if (kind === 2) body = args(1, [s.seq(), { op: P.PUTROOTFH, args: undefined }, { op: P.LOOKUP, args: { objname: `nope${i}` } }]);
      else body = args(0, [{ op: P.PUTROOTFH, args: undefined }]);
      await send(c, xid++, body);
    }
    await s.destroy();
    c.destroy();
  };
  await flood(2000);
  await sleep(200);
  const rss0 = rssOf(pid);
  await flood(20_000);
  await sleep(200);
  const rss1 = rssOf(pid);
  t.diagnostic(`RSS ${(rss0 / 2 ** 20).toFixed(1)} MiB → ${(rss1 / 2 ** 20).toFixed(1)} MiB after 20,000 bad COMPOUNDs`);
  assert.ok(rss1 - rss0 < 32 * 2 ** 20, `RSS grew by ${((rss1 - rss0) / 2 ** 20).toFixed(1)} MiB`);
  await assertServing('the flood');
});

test('bounds: clients and sessions past the limits are NFS4ERR_RESOURCE; slots are cut; others keep working', WATCHDOG, async () => {
  await withServer(async ({ server, conn: c }) => {
    const a = await V4Session.create(c, 1, { owner: 'a', channel: { maxRequests: 500 } });
    assert.equal(a.seqids.length, 4, 'slots cut to the bound');
    await V4Session.create(c, 1, { owner: 'b' });
    const r = await c.compound(1, [{ op: P.EXCHANGE_ID, args: { clientowner: { verifier: Buffer.alloc(8), ownerid: Buffer.from('c') }, flags: 0, stateProtect: { how: 0 } } }]);
    assert.equal(resOf(r, P.EXCHANGE_ID).status, Nfs4Stat.RESOURCE);
    const more = await c.compound(1, [{ op: P.CREATE_SESSION, args: { clientid: a.clientid, sequence: 2, flags: 0, foreChanAttrs: { headerPadSize: 0, maxRequestSize: 8192, maxResponseSize: 8192, maxResponseSizeCached: 1024, maxOperations: 8, maxRequests: 2 }, backChanAttrs: { headerPadSize: 0, maxRequestSize: 4096, maxResponseSize: 4096, maxResponseSizeCached: 0, maxOperations: 2, maxRequests: 1 }, cbProgram: 1, secParms: [{ flavor: 0 }] } }]);
    assert.equal(resOf(more, P.CREATE_SESSION).status, Nfs4Stat.RESOURCE);
    ok(await a.run([{ op: P.PUTROOTFH, args: undefined }]), P.PUTROOTFH);
    assert.equal(server.nfs4!.state.counts().clients, 2);
  }, { server: { nfs4Limits: { clients: 2, sessionsPerClient: 1, slots: 4 } } });
});
