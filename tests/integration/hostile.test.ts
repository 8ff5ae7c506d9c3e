/**
 * Hostile and broken peers against a server child process: framing abuse,
 * garbage, malformed calls and credentials, forged and stale handles, path
 * tricks, abandoned connections. After each, the process must still serve
 * correct answers; at the end its memory must not grow with the number of
 * bad records it was sent.
 *
 * No timing is asserted; waits end on events, bounded polls end on counts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import {
  RawConn, NfsClient, CRED, chownTree, buildCall, frame, fragment, parseReply, replyStatus, prng, randomBytesSeeded,
  rssOf, fdCountOf, sleep, NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc, MOUNT_PROGRAM, MOUNT_V3, MountProc, nfs3StatName,
  StableHow3, CreateMode3,
} from '../helpers/nfs-raw.js';
import { XdrWriter } from '../../src/xdr/index.js';
import { recordMark } from '../../src/rpc/record.js';
import { AuthFlavor } from '../../src/rpc/auth.js';
import {
  Nfs3Stat, Ftype3, decodeGetattrRes, decodeReadRes, encodeGetattrArgs, encodeReadArgs, encodeWriteArgs,
} from '../../src/nfs3/index.js';
import { MountStat } from '../../src/mount/index.js';
import { NfsServer, defaultExportEntry } from '../../src/server/index.js';
import { setLogLevel } from '../../src/util/log.js';

setLogLevel('error'); // the in-process "other server" below logs through this process

/** A hang detector only (a hung test fails instead of blocking the run); nothing here asserts speed. */
const WATCHDOG = { timeout: 120_000 };

const S = Nfs3Stat;
const MAX_RECORD = 1024 * 1024 + 64 * 1024; // wtmax (1 MiB) + 64 KiB headroom
const DATA = randomBytesSeeded(prng(1), 300 * 1024);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let tmp: string;
let dir: string;
let srv: ServerProcess;
let c: NfsClient;
let root: Buffer;
let dataFh: Buffer;
let dataFileid: bigint;
let fuzzFh: Buffer;
let nextXid = 0x40000000;
const xid = () => nextXid++;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-hostile-'));
  dir = path.join(tmp, 'export');
  fs.mkdirSync(path.join(dir, 'fuzz'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'a/b'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data.bin'), DATA);
  fs.writeFileSync(path.join(dir, 'a/b/nested.txt'), 'nested\n');
  fs.writeFileSync(path.join(dir, 'victim.bin'), Buffer.alloc(64 * 1024, 0x11));
  fs.symlinkSync('/etc', path.join(dir, 'etc-link'));
  fs.chmodSync(dir, 0o755);
  chownTree(dir);
  srv = await startServer({ dir, stateDir: path.join(tmp, 'state') });
  c = await NfsClient.connect(srv.port);
  root = await c.mount(dir);
  dataFh = await c.walk(root, 'data.bin');
  const ga = await c.getattr(dataFh);
  assert.equal(ga.status, 0);
  if (ga.status === 0) dataFileid = ga.attrs.fileid;
  fuzzFh = await c.walk(root, 'fuzz');
});

after(async () => {
  await c?.close();
  const code = await srv?.stop();
  if (code !== 0 && code !== null) process.stderr.write(`server exited ${code}:\n${srv.output()}\n`);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The process is alive and a fresh connection gets a correct NULL reply and GETATTR. */
async function assertServing(what: string): Promise<void> {
  assert.equal(srv.child.exitCode, null, `server exited after ${what}:\n${srv.output()}`);
  assert.equal(srv.child.signalCode, null, `server killed after ${what}`);
  const conn = await RawConn.connect(srv.port);
  try {
    const x = xid();
    const rep = parseReply(await conn.call({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.NULL }));
    assert.equal(rep.xid, x);
    assert.equal(replyStatus(rep.header), 'SUCCESS', `NULL after ${what}`);
  } finally {
    conn.destroy();
  }
  const ga = await c.getattr(dataFh);
  assert.equal(ga.status, 0, `GETATTR after ${what}: ${nfs3StatName(ga.status)}`);
  if (ga.status === 0) {
    assert.equal(ga.attrs.fileid, dataFileid);
    assert.equal(ga.attrs.size, BigInt(DATA.length));
  }
}

/** Send one framed call on a fresh connection and return the parsed reply. */
async function oneCall(spec: Parameters<typeof buildCall>[0]): Promise<ReturnType<typeof parseReply>> {
  const conn = await RawConn.connect(srv.port);
  try {
    const rep = parseReply(await conn.call(spec));
    assert.equal(rep.xid, spec.xid);
    return rep;
  } finally {
    conn.destroy();
  }
}

const nfsCall = (proc: number, args: Buffer | ((w: XdrWriter) => void), extra: Partial<Parameters<typeof buildCall>[0]> = {}) =>
  oneCall({ xid: xid(), prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc, cred: CRED, args, ...extra });

/** An AUTH_SYS body encoded by hand (no client-side clamping). */
function authSysBody(machine: Buffer, gids: number[], pad = 0): Buffer {
  const w = new XdrWriter(512);
  w.uint32(0).opaque(machine).uint32(1000).uint32(1000).uint32(gids.length);
  for (const g of gids) w.uint32(g);
  return Buffer.concat([w.finish(), Buffer.alloc(pad)]);
}

/** An opaque_auth whose body length word says `body.length`, bypassing any writer bound. */
function rawOpaqueAuth(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  return Buffer.concat([len, padded]);
}

// ------------------------------------------------------------------ framing

test('truncated records: a header promising more than is sent, then close', WATCHDOG, async () => {
  const rand = prng(2);
  for (let i = 0; i < 30; i++) {
    const conn = await RawConn.connect(srv.port);
    const promised = 16 + Math.floor(rand() * 60_000);
    const sent = Math.floor(rand() * promised);
    if (i % 3 === 0) {
      // only part of a header
      await conn.write(recordMark(promised).subarray(0, 1 + (i % 3)));
    } else if (i % 3 === 1) {
      // a complete non-last fragment, then a truncated one
      const first = Buffer.alloc(4);
      first.writeUInt32BE(12, 0);
      await conn.write(Buffer.concat([first, Buffer.alloc(12, 7), recordMark(promised), randomBytesSeeded(rand, sent)]));
    } else {
      await conn.write(Buffer.concat([recordMark(promised), randomBytesSeeded(rand, sent)]));
    }
    if (i % 2 === 0) {
      // half-close: the server must close its side too, not wait for the rest forever
      await conn.end();
    } else {
      conn.destroy();
    }
  }
  await assertServing('truncated records');
});

test('an oversized record header closes that connection; the process keeps serving', WATCHDOG, async () => {
  for (const len of [MAX_RECORD + 1, MAX_RECORD + 64 * 1024, 0x7fffffff]) {
    const conn = await RawConn.connect(srv.port);
    await conn.write(recordMark(len)).catch(() => {});
    await conn.closed; // closed by the server as soon as the header arrives
    assert.ok(conn.isClosed);
  }
  // Over the cap only by the sum of fragments: 700 KiB non-last + 700 KiB.
  {
    const conn = await RawConn.connect(srv.port);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(700 * 1024, 0);
    await conn.write(Buffer.concat([h, Buffer.alloc(700 * 1024, 1)])).catch(() => {});
    await conn.write(recordMark(700 * 1024)).catch(() => {});
    await conn.closed;
  }
  // A record exactly at the cap is not refused for its size (it is answered: garbage args of GETATTR).
  {
    const conn = await RawConn.connect(srv.port);
    const x = xid();
    const head = buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.GETATTR, cred: CRED });
    const body = Buffer.concat([head, Buffer.alloc(MAX_RECORD - head.length, 0xff)]);
    const p = conn.expectXid(x);
    await conn.write(frame(body));
    assert.equal(replyStatus(parseReply(await p).header), 'GARBAGE_ARGS');
    conn.destroy();
  }
  await assertServing('oversized records');
});

test('random garbage (seeded): framed random records, mutated calls, unframed streams', WATCHDOG, async () => {
  const rand = prng(0xbadc0de);
  // 1. Framed records of random bytes, pipelined on one connection.
  {
    const conn = await RawConn.connect(srv.port);
    const recs: Buffer[] = [];
    for (let i = 0; i < 600; i++) recs.push(frame(randomBytesSeeded(rand, Math.floor(rand() * 400))));
    await conn.write(Buffer.concat(recs));
    const x = 0x7ee70001;
    const rep = parseReply(await conn.call({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.NULL }));
    assert.equal(replyStatus(rep.header), 'SUCCESS');
    conn.destroy();
  }
  // 2. Valid calls with random flips, truncations and tails: every reply must be a well-formed reply to a sent xid.
  {
    const conn = await RawConn.connect(srv.port);
    const sentXids = new Set<number>();
    const recs: Buffer[] = [];
    for (let i = 0; i < 800; i++) {
      const x = 0x30000000 + i;
      let body = buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.GETATTR, cred: CRED, args: (w) => encodeGetattrArgs(w, { object: fuzzFh }) });
      const kind = i % 4;
      if (kind === 0 || kind === 3) {
        body = Buffer.from(body);
        const flips = 1 + Math.floor(rand() * 4);
        for (let k = 0; k < flips; k++) body[4 + Math.floor(rand() * (body.length - 4))] = Math.floor(rand() * 256);
      }
      if (kind === 1 || kind === 3) body = body.subarray(0, Math.floor(rand() * body.length));
      if (kind === 2) body = Buffer.concat([body, randomBytesSeeded(rand, Math.floor(rand() * 64))]);
      if (body.length >= 4) sentXids.add(body.readUInt32BE(0));
      recs.push(frame(body));
    }
    await conn.write(Buffer.concat(recs));
    const x = 0x7ee70002;
    const p = conn.expectXid(x);
    await conn.write(frame(buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.NULL })));
    assert.equal(replyStatus(parseReply(await p).header), 'SUCCESS');
    // Replies to the mutated calls may still be in flight (handlers are async): collect them with a NULL barrier each
    // time, bounded.
    for (let round = 0; round < 3; round++) {
      const bx = 0x7ee70010 + round;
      const bp = conn.expectXid(bx);
      await conn.write(frame(buildCall({ xid: bx, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.NULL })));
      await bp;
    }
    let replies = 0;
    for (const next of conn.drain()) {
      const rep = parseReply(next); // throws if malformed
      assert.ok(sentXids.has(rep.xid), `reply to an xid never sent: ${rep.xid}`);
      replies++;
    }
    assert.ok(replies > 0, 'some mutated calls (e.g. the appended-tail ones) must be answered');
    conn.destroy();
  }
  // 3. Unframed random streams: whatever the server makes of them, it closes or waits; never dies.
  for (let i = 0; i < 25; i++) {
    const conn = await RawConn.connect(srv.port);
    await conn.write(randomBytesSeeded(rand, 1 + Math.floor(rand() * 4000))).catch(() => {});
    conn.destroy();
  }
  await assertServing('random garbage');
});

test('a record split into 1-byte writes and many fragments is answered correctly', WATCHDOG, async () => {
  // GETATTR: fragments of 1, 0, 2, 3, 1, 5, 0, 7 bytes, every byte in its own write.
  {
    const conn = await RawConn.connect(srv.port);
    const x = xid();
    const body = buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.GETATTR, cred: CRED, args: (w) => encodeGetattrArgs(w, { object: dataFh }) });
    const p = conn.expectXid(x);
    await conn.writeByteByByte(fragment(body, [1, 0, 2, 3, 1, 5, 0, 7]));
    const rep = parseReply(await p);
    assert.equal(replyStatus(rep.header), 'SUCCESS');
    const res = decodeGetattrRes(rep.reader);
    assert.equal(res.status, 0);
    if (res.status === 0) {
      assert.equal(res.attrs.fileid, dataFileid);
      assert.equal(res.attrs.size, BigInt(DATA.length));
      assert.equal(res.attrs.type, Ftype3.REG);
    }
    conn.destroy();
  }
  // READ: one byte per fragment, two calls back to back in the same byte-wise stream.
  {
    const conn = await RawConn.connect(srv.port);
    const x1 = xid();
    const x2 = xid();
    const b1 = buildCall({ xid: x1, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.READ, cred: CRED, args: (w) => encodeReadArgs(w, { file: dataFh, offset: 1000n, count: 333 }) });
    const b2 = buildCall({ xid: x2, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.READ, cred: CRED, args: (w) => encodeReadArgs(w, { file: dataFh, offset: 200_000n, count: 4096 }) });
    const p1 = conn.expectXid(x1);
    const p2 = conn.expectXid(x2);
    await conn.writeByteByByte(Buffer.concat([fragment(b1, [1]), fragment(b2, [1, 2])]));
    for (const [p, off, n] of [[p1, 1000, 333], [p2, 200_000, 4096]] as const) {
      const rep = parseReply(await p);
      assert.equal(replyStatus(rep.header), 'SUCCESS');
      const res = decodeReadRes(rep.reader, n);
      assert.equal(res.status, 0);
      if (res.status === 0) assert.deepEqual(res.data, DATA.subarray(off, off + n));
    }
    conn.destroy();
  }
});

// ------------------------------------------------------------------ RPC-level refusals

test('valid header, garbage arguments → GARBAGE_ARGS', WATCHDOG, async () => {
  const cases: Array<[string, number, number, Buffer | ((w: XdrWriter) => void)]> = [
    ['GETATTR with 3 bytes', NFS3_PROGRAM, Nfs3Proc.GETATTR, Buffer.from([1, 2, 3])],
    ['GETATTR with no args', NFS3_PROGRAM, Nfs3Proc.GETATTR, Buffer.alloc(0)],
    ['LOOKUP name length 2^32-1', NFS3_PROGRAM, Nfs3Proc.LOOKUP, (w) => void w.opaque(root).uint32(0xffffffff)],
    ['READ truncated offset', NFS3_PROGRAM, Nfs3Proc.READ, (w) => void w.opaque(dataFh).uint32(0)],
    ['WRITE count ≠ data length', NFS3_PROGRAM, Nfs3Proc.WRITE, (w) => void w.opaque(dataFh).uint64(0n).uint32(10).uint32(2).opaque(Buffer.alloc(4))],
    ['WRITE bad stable_how', NFS3_PROGRAM, Nfs3Proc.WRITE, (w) => void w.opaque(dataFh).uint64(0n).uint32(4).uint32(7).opaque(Buffer.alloc(4))],
    ['CREATE bad createmode', NFS3_PROGRAM, Nfs3Proc.CREATE, (w) => void w.opaque(fuzzFh).string('x').uint32(9)],
    ['MNT dirpath over 1024 bytes', MOUNT_PROGRAM, MountProc.MNT, (w) => void w.string('/' + 'a'.repeat(1100))],
  ];
  for (const [what, prog, proc, args] of cases) {
    const vers = prog === MOUNT_PROGRAM ? MOUNT_V3 : NFS3_VERSION;
    const rep = await oneCall({ xid: xid(), prog, vers, proc, cred: CRED, args });
    assert.equal(replyStatus(rep.header), 'GARBAGE_ARGS', what);
  }
  // The file was not touched by the garbage WRITEs.
  assert.equal(sha(await c.readAll(dataFh)), sha(DATA));
});

test('wrong rpcvers → RPC_MISMATCH (2..2)', WATCHDOG, async () => {
  for (const rpcvers of [0, 1, 3, 0xffffffff]) {
    const rep = await oneCall({ xid: xid(), rpcvers, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.NULL });
    assert.equal(rep.header.kind, 'rpc_mismatch', `rpcvers ${rpcvers}`);
    if (rep.header.kind === 'rpc_mismatch') {
      assert.equal(rep.header.low, 2);
      assert.equal(rep.header.high, 2);
    }
  }
});

test('unknown program → PROG_UNAVAIL; NFS v2 → PROG_MISMATCH 3..4; unknown procedure → PROC_UNAVAIL', WATCHDOG, async () => {
  for (const prog of [123456, 100004, 0, 0xffffffff]) {
    const rep = await oneCall({ xid: xid(), prog, vers: 1, proc: 0 });
    assert.equal(replyStatus(rep.header), 'PROG_UNAVAIL', `prog ${prog}`);
  }
  for (const vers of [2, 5, 0, 1000]) {
    const rep = await oneCall({ xid: xid(), prog: NFS3_PROGRAM, vers, proc: 0 });
    assert.equal(replyStatus(rep.header), 'PROG_MISMATCH', `NFS v${vers}`);
    if (rep.header.kind === 'accepted') assert.deepEqual(rep.header.mismatch, { low: 3, high: 4 });
  }
  assert.equal(replyStatus((await oneCall({ xid: xid(), prog: NFS3_PROGRAM, vers: 4, proc: 0 })).header), 'SUCCESS', 'NFSv4 NULL');
  {
    const rep = await oneCall({ xid: xid(), prog: MOUNT_PROGRAM, vers: 1, proc: 0 });
    assert.equal(replyStatus(rep.header), 'PROG_MISMATCH');
    if (rep.header.kind === 'accepted') assert.deepEqual(rep.header.mismatch, { low: 3, high: 3 });
  }
  for (const [prog, vers, proc] of [[NFS3_PROGRAM, 3, 22], [NFS3_PROGRAM, 3, 1000], [NFS3_PROGRAM, 3, 0xffffffff], [MOUNT_PROGRAM, 3, 6]]) {
    const rep = await oneCall({ xid: xid(), prog: prog!, vers: vers!, proc: proc!, cred: CRED });
    assert.equal(replyStatus(rep.header), 'PROC_UNAVAIL', `proc ${proc} of ${prog}`);
  }
});

test('AUTH_SYS: more than 16 gids → AUTH_BADCRED', WATCHDOG, async () => {
  const gids = Array.from({ length: 17 }, (_, i) => 100 + i);
  const rep = await nfsCall(Nfs3Proc.NULL, Buffer.alloc(0), { cred: { flavor: AuthFlavor.SYS, body: authSysBody(Buffer.from('host'), gids) } });
  assert.equal(rep.header.kind, 'auth_error');
  assert.equal(replyStatus(rep.header), 'AUTH_BADCRED');
  // 16 is fine.
  const ok = await nfsCall(Nfs3Proc.NULL, Buffer.alloc(0), { cred: { flavor: AuthFlavor.SYS, body: authSysBody(Buffer.from('host'), gids.slice(0, 16)) } });
  assert.equal(replyStatus(ok.header), 'SUCCESS');
});

test('AUTH_SYS: a 300-byte machine name → AUTH_BADCRED', WATCHDOG, async () => {
  const rep = await nfsCall(Nfs3Proc.GETATTR, (w) => encodeGetattrArgs(w, { object: dataFh }), {
    cred: { flavor: AuthFlavor.SYS, body: authSysBody(Buffer.alloc(300, 0x61), [1]) },
  });
  assert.equal(rep.header.kind, 'auth_error');
  assert.equal(replyStatus(rep.header), 'AUTH_BADCRED');
});

test('AUTH_SYS: a credential body over 400 bytes → AUTH_BADCRED', WATCHDOG, async () => {
  // A well-formed authsys_parms padded past the RFC 5531 opaque_auth bound of 400 bytes.
  for (const size of [404, 500, 4096]) {
    const body = authSysBody(Buffer.from('host'), [1]);
    const big = Buffer.concat([body, Buffer.alloc(size - body.length)]);
    const rep = await nfsCall(Nfs3Proc.NULL, Buffer.alloc(0), { rawCred: { flavor: AuthFlavor.SYS, bytes: rawOpaqueAuth(big) } });
    assert.equal(rep.header.kind, 'auth_error', `body of ${size} bytes: got ${replyStatus(rep.header)}`);
    assert.equal(replyStatus(rep.header), 'AUTH_BADCRED', `body of ${size} bytes`);
  }
});

test('RPCSEC_GSS (and other unsupported flavors) → AUTH_ERROR', WATCHDOG, async () => {
  // rpc_gss_cred_vers_1_t: version 1, RPCSEC_GSS_INIT, seq 0, service none, empty handle.
  const gss = new XdrWriter(32).uint32(1).uint32(1).uint32(0).uint32(1).opaque(Buffer.alloc(0)).finish();
  for (const flavor of [AuthFlavor.RPCSEC_GSS, AuthFlavor.DH, AuthFlavor.SHORT, 390003 /* krb5 pseudo-flavor */]) {
    const rep = await nfsCall(Nfs3Proc.NULL, Buffer.alloc(0), { cred: { flavor, body: Buffer.from(gss) } });
    assert.equal(rep.header.kind, 'auth_error', `flavor ${flavor}: got ${replyStatus(rep.header)}`);
  }
  // RPCSEC_GSS on MOUNT too.
  const rep = await oneCall({ xid: xid(), prog: MOUNT_PROGRAM, vers: MOUNT_V3, proc: MountProc.MNT, cred: { flavor: AuthFlavor.RPCSEC_GSS, body: Buffer.from(gss) }, args: (w) => void w.string(dir) });
  assert.equal(rep.header.kind, 'auth_error');
});

// ------------------------------------------------------------------ handles

test('bad handles: empty, 65 bytes, random 32 bytes, every single-bit flip', WATCHDOG, async () => {
  const getattrRaw = (fh: Buffer) => nfsCall(Nfs3Proc.GETATTR, (w) => void w.opaque(fh));
  {
    const rep = await getattrRaw(Buffer.alloc(0));
    const st = replyStatus(rep.header);
    if (st === 'SUCCESS') assert.equal(decodeGetattrRes(rep.reader).status, S.BADHANDLE, 'empty handle');
    else assert.equal(st, 'GARBAGE_ARGS', 'empty handle');
  }
  {
    const rep = await getattrRaw(Buffer.alloc(65, 1));
    assert.equal(replyStatus(rep.header), 'GARBAGE_ARGS', '65-byte handle (over NFS3_FHSIZE)');
  }
  const rand = prng(32);
  for (let i = 0; i < 20; i++) {
    const r = await c.getattr(randomBytesSeeded(rand, 32));
    assert.equal(r.status, S.BADHANDLE, 'random 32-byte handle');
  }
  // A valid handle with one bit flipped, for every bit: GETATTR, READ and LOOKUP must all refuse it.
  const base = dataFh;
  const calls: Array<Promise<void>> = [];
  for (let bit = 0; bit < base.length * 8; bit++) {
    const fh = Buffer.from(base);
    fh[bit >> 3]! ^= 1 << (bit & 7);
    calls.push(
      (async () => {
        const g = await c.getattr(fh);
        assert.equal(g.status, S.BADHANDLE, `GETATTR, bit ${bit} flipped: ${nfs3StatName(g.status)}`);
        const r = await c.read(fh, 0, 16);
        assert.equal(r.status, S.BADHANDLE, `READ, bit ${bit} flipped: ${nfs3StatName(r.status)}`);
      })(),
    );
  }
  const rootCalls = [];
  for (let bit = 0; bit < root.length * 8; bit++) {
    const fh = Buffer.from(root);
    fh[bit >> 3]! ^= 1 << (bit & 7);
    rootCalls.push(c.lookup(fh, 'data.bin').then((l) => assert.equal(l.status, S.BADHANDLE, `LOOKUP in root, bit ${bit} flipped`)));
  }
  await Promise.all([...calls, ...rootCalls]);
  // The original still works.
  assert.equal((await c.getattr(base)).status, 0);
});

test('a handle of a deleted file → NFS3ERR_STALE (deleted over NFS, on disk, and replaced by a new file)', WATCHDOG, async () => {
  // Over NFS.
  const cr = await c.create(fuzzFh, 'doomed', CreateMode3.GUARDED);
  assert.equal(cr.status, 0);
  const doomed = cr.status === 0 ? cr.obj! : Buffer.alloc(0);
  assert.equal((await c.write(doomed, 0, Buffer.from('bye'))).status, 0);
  assert.equal((await c.remove(fuzzFh, 'doomed')).status, 0);
  assert.equal((await c.getattr(doomed)).status, S.STALE);
  assert.equal((await c.read(doomed, 0, 10)).status, S.STALE);
  // On disk behind the server's back, after the server has read it (descriptor caches).
  fs.writeFileSync(path.join(dir, 'fuzz', 'ondisk'), 'x'.repeat(1000));
  chownTree(path.join(dir, 'fuzz', 'ondisk'));
  const od = await c.walk(fuzzFh, 'ondisk');
  assert.equal((await c.read(od, 0, 10)).status, 0);
  const odAttrs = await c.getattr(od);
  fs.unlinkSync(path.join(dir, 'fuzz', 'ondisk'));
  const g = await c.getattr(od);
  assert.equal(g.status, S.STALE, `GETATTR of a file unlinked on disk: ${nfs3StatName(g.status)}`);
  const rd = await c.read(od, 0, 10);
  assert.equal(rd.status, S.STALE, `READ of a file unlinked on disk: ${nfs3StatName(rd.status)}`);
  // Replaced by a new file under the same name: the old handle must not reach the new file.
  fs.writeFileSync(path.join(dir, 'fuzz', 'ondisk'), 'new');
  chownTree(path.join(dir, 'fuzz', 'ondisk'));
  const g2 = await c.getattr(od);
  assert.equal(g2.status, S.STALE, `old handle after the name was reused: ${nfs3StatName(g2.status)}`);
  const fresh = await c.walk(fuzzFh, 'ondisk');
  const fa = await c.getattr(fresh);
  assert.equal(fa.status, 0);
  if (fa.status === 0 && odAttrs.status === 0) assert.equal(fa.attrs.size, 3n);
  fs.unlinkSync(path.join(dir, 'fuzz', 'ondisk'));
});

test("a handle from another server's state dir (different secret) never resolves", WATCHDOG, async () => {
  const otherState = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-other-state-'));
  const other = await NfsServer.start({ exports: [defaultExportEntry(dir)], port: 0, host: '127.0.0.1', stateDir: otherState });
  try {
    const oc = await NfsClient.connect(other.port);
    const oroot = await oc.mount(dir);
    const odata = await oc.walk(oroot, 'data.bin');
    const onested = await oc.walk(oroot, 'a/b/nested.txt');
    assert.equal((await oc.getattr(odata)).status, 0, 'the handle works on the server that minted it');
    await oc.close();
    for (const [what, fh] of [['root', oroot], ['data.bin', odata], ['nested', onested]] as const) {
      const g = await c.getattr(fh);
      assert.ok(g.status === S.BADHANDLE || g.status === S.STALE, `GETATTR of foreign ${what}: ${nfs3StatName(g.status)}`);
      const r = await c.read(fh, 0, 16);
      assert.ok(r.status === S.BADHANDLE || r.status === S.STALE, `READ of foreign ${what}: ${nfs3StatName(r.status)}`);
      const l = await c.lookup(fh, 'data.bin');
      assert.ok(l.status === S.BADHANDLE || l.status === S.STALE, `LOOKUP in foreign ${what}: ${nfs3StatName(l.status)}`);
    }
  } finally {
    await other.close();
    fs.rmSync(otherState, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ path tricks

test('path tricks: "..", "/" in names, a symlink to /etc, MNT outside the export, CREATE ".."', WATCHDOG, async () => {
  const rootAttrs = await c.getattr(root);
  assert.equal(rootAttrs.status, 0);
  const rootId = rootAttrs.status === 0 ? rootAttrs.attrs.fileid : -1n;
  // ".." at the export root is the root itself.
  for (const name of ['..', '.']) {
    const l = await c.lookup(root, name);
    assert.equal(l.status, 0, `LOOKUP ${name} at root`);
    if (l.status === 0) {
      assert.equal(l.objAttrs?.fileid, rootId, `LOOKUP ${name} at root gives the root`);
      const g = await c.getattr(l.object);
      assert.equal(g.status === 0 && g.attrs.fileid, rootId);
      const up = await c.lookup(l.object, '..');
      assert.equal(up.status === 0 && up.objAttrs?.fileid, rootId, '.. of .. is still the root');
    }
  }
  // ".." below the root is the real parent.
  const aFh = await c.walk(root, 'a');
  const bFh = await c.walk(aFh, 'b');
  const bUp = await c.lookup(bFh, '..');
  const aAttrs = await c.getattr(aFh);
  assert.equal(bUp.status === 0 && bUp.objAttrs?.fileid, aAttrs.status === 0 && aAttrs.attrs.fileid);

  // A name containing "/" is malformed.
  for (const name of ['a/b', '../etc', '/etc', 'a/']) {
    const rep = await nfsCall(Nfs3Proc.LOOKUP, (w) => void w.opaque(root).string(name));
    assert.equal(replyStatus(rep.header), 'GARBAGE_ARGS', `LOOKUP ${JSON.stringify(name)}`);
  }

  // A symlink to /etc is a symlink: not followed, not readable as a file, READLINK gives its text.
  const ln = await c.lookup(root, 'etc-link');
  assert.equal(ln.status, 0);
  assert.ok(ln.status === 0);
  assert.equal(ln.objAttrs?.type, Ftype3.LNK);
  const lfh = ln.object;
  const lg = await c.getattr(lfh);
  assert.equal(lg.status === 0 && lg.attrs.type, Ftype3.LNK);
  const lr = await c.read(lfh, 0, 100);
  assert.equal(lr.status, S.INVAL, `READ of a symlink: ${nfs3StatName(lr.status)}`);
  const rl = await c.readlink(lfh);
  assert.equal(rl.status, 0);
  assert.equal(rl.status === 0 && rl.data, '/etc');
  const through = await c.lookup(lfh, 'passwd');
  assert.notEqual(through.status, 0, 'LOOKUP through a symlink handle must fail');
  assert.equal(through.status, S.NOTDIR);

  // MNT outside the export: "not exported" is ACCES (or NOENT). A dirpath with a ".." component is refused
  // before any lookup (src/export/path.ts never resolves ".."), which the server answers MNT3ERR_INVAL; rpc.mountd
  // would realpath() it and answer ACCES. Either way it must never mount.
  const accesOrNoent = new Set<number>([MountStat.ACCES, MountStat.NOENT]);
  for (const p of [`${dir}/../etc`, `${dir}/a/../../`, `${dir}/../${path.basename(dir)}`, '/etc', path.dirname(dir), '/']) {
    const m = await c.mnt(p);
    assert.notEqual(m.status, 0, `MNT ${p} must fail`);
    const ok = accesOrNoent.has(m.status) || (p.split('/').includes('..') && m.status === MountStat.INVAL);
    assert.ok(ok, `MNT ${p}: mountstat3 ${m.status} (want ACCES or NOENT${p.includes('..') ? ', or INVAL for ".."' : ''})`);
  }
  const ml = await c.mnt(`${dir}/etc-link`);
  assert.notEqual(ml.status, 0, 'MNT through a symlink inside the export must fail');

  // CREATE / MKDIR named ".." or "." → EXIST; nothing appears outside.
  for (const name of ['..', '.']) {
    for (const mode of [CreateMode3.UNCHECKED, CreateMode3.GUARDED] as const) {
      const cr = await c.create(root, name, mode);
      assert.equal(cr.status, S.EXIST, `CREATE ${name} (mode ${mode}): ${nfs3StatName(cr.status)}`);
    }
    const md = await c.mkdir(fuzzFh, name);
    assert.equal(md.status, S.EXIST, `MKDIR ${name}: ${nfs3StatName(md.status)}`);
  }
  assert.deepEqual(fs.readdirSync(tmp).sort(), ['export', 'state']);
});

// ------------------------------------------------------------------ abandoned peers

test('a WRITE call cut off mid-record is never executed', WATCHDOG, async () => {
  const victim = await c.walk(root, 'victim.bin');
  const before = await c.readAll(victim);
  for (let i = 0; i < 5; i++) {
    const conn = await RawConn.connect(srv.port);
    const body = buildCall({
      xid: xid(),
      prog: NFS3_PROGRAM,
      vers: NFS3_VERSION,
      proc: Nfs3Proc.WRITE,
      cred: CRED,
      args: (w) => encodeWriteArgs(w, { file: victim, offset: 0n, count: 65536, stable: StableHow3.FILE_SYNC, data: Buffer.alloc(65536, 0xaa) }),
    });
    const rec = frame(body);
    await conn.write(rec.subarray(0, 4 + 120 + i * 10_000));
    if (i % 2) conn.socket.resetAndDestroy();
    else conn.destroy();
  }
  await assertServing('cut-off WRITEs');
  assert.equal(sha(await c.readAll(victim)), sha(before));
});

test('200 connections opened and abandoned: descriptors are released, service continues', WATCHDOG, async () => {
  const pid = srv.child.pid!;
  const baseline = fdCountOf(pid);
  const conns: RawConn[] = [];
  for (let i = 0; i < 200; i++) conns.push(await RawConn.connect(srv.port));
  for (let i = 0; i < conns.length; i++) {
    const conn = conns[i]!;
    if (i % 4 === 1) await conn.write(recordMark(1000).subarray(0, 2));
    if (i % 4 === 2) await conn.write(Buffer.concat([recordMark(5000), Buffer.alloc(100)]));
    if (i % 4 === 3) {
      const x = xid();
      await conn.write(frame(buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.GETATTR, cred: CRED, args: (w) => encodeGetattrArgs(w, { object: dataFh }) })));
    }
  }
  // The server holds them all while they are open.
  await assertServing('200 idle connections');
  for (let i = 0; i < conns.length; i++) {
    if (i % 2) conns[i]!.socket.resetAndDestroy();
    else conns[i]!.destroy();
  }
  await Promise.all(conns.map((x) => x.closed));
  // Bounded poll (not a timing assertion): the server notices the closes and releases the sockets.
  let fds = fdCountOf(pid);
  for (let i = 0; i < 400 && fds > baseline + 5; i++) {
    await sleep(25);
    fds = fdCountOf(pid);
  }
  assert.ok(fds <= baseline + 5, `server descriptors: ${fds}, baseline ${baseline}`);
  await assertServing('200 abandoned connections');
});

test('readers that vanish with large READs in flight: half-sent replies and their pipes are dropped, nothing leaks', WATCHDOG, async () => {
  const pid = srv.child.pid!;
  const big = randomBytesSeeded(prng(7), 4 * 1024 * 1024 + 70_001);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  chownTree(dir);
  const bigFh = await c.walk(root, 'big.bin');
  // One whole read first: the spliced path and its pipes exist before the baseline is taken.
  assert.equal(sha(await c.readAll(bigFh, 1024 * 1024)), sha(big));
  const baseline = fdCountOf(pid);
  for (let i = 0; i < 20; i++) {
    const conn = await RawConn.connect(srv.port);
    for (let k = 0; k < 8; k++) {
      const x = xid();
      await conn.write(frame(buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.READ, cred: CRED, args: (w) => encodeReadArgs(w, { file: bigFh, offset: BigInt(k * 524288), count: 1024 * 1024 }) })));
    }
    if (i % 2) conn.socket.resetAndDestroy();
    else conn.destroy();
    await conn.closed;
  }
  // Bounded poll (not a timing assertion). Idle pipes may stay pooled (at most 32, two descriptors each);
  // a reply's pipe with bytes left in it is closed, never pooled.
  let fds = fdCountOf(pid);
  for (let i = 0; i < 400 && fds > baseline + 2 * 32 + 5; i++) {
    await sleep(25);
    fds = fdCountOf(pid);
  }
  assert.ok(fds <= baseline + 2 * 32 + 5, `server descriptors: ${fds}, baseline ${baseline}`);
  await assertServing('readers vanishing mid-reply');
  assert.equal(sha(await c.readAll(bigFh, 1024 * 1024)), sha(big), 'a whole read afterwards is intact');
});

// ------------------------------------------------------------------ after all of it

test('after all of it, a normal client gets correct answers', WATCHDOG, async () => {
  const fresh = await NfsClient.connect(srv.port);
  try {
    const r2 = await fresh.mount(dir);
    const fh = await fresh.walk(r2, 'data.bin');
    const g = await fresh.getattr(fh);
    assert.equal(g.status, 0);
    if (g.status === 0) {
      assert.equal(g.attrs.fileid, dataFileid);
      assert.equal(g.attrs.size, BigInt(DATA.length));
    }
    assert.equal(sha(await fresh.readAll(fh, 64 * 1024)), sha(DATA));
    const nested = await fresh.walk(r2, 'a/b/nested.txt');
    assert.equal((await fresh.readAll(nested)).toString(), 'nested\n');
    // The handle taken at the start is still the same handle.
    assert.equal(sha(await fresh.readAll(dataFh)), sha(DATA));
  } finally {
    await fresh.close();
  }
});

test('memory does not grow with the number of bad records', WATCHDOG, async (t) => {
  const pid = srv.child.pid!;
  const rand = prng(0x5eed);
  const payload = randomBytesSeeded(rand, 4096);
  const badHandle = randomBytesSeeded(rand, 32);
  const gids17 = Array.from({ length: 17 }, (_, i) => i);
  let n = 0;
  /** One bad record (about 4 KiB each), cycling through kinds. */
  const bad = (): Buffer => {
    const x = 0x50000000 + (n++ % 0x0fffffff);
    switch (n % 6) {
      case 0: // GARBAGE_ARGS: WRITE whose count disagrees with its data
        return frame(buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.WRITE, cred: CRED, args: (w) => void w.opaque(fuzzFh).uint64(0n).uint32(1).uint32(0).opaque(payload) }));
      case 1: // PROG_UNAVAIL with a big body
        return frame(buildCall({ xid: x, prog: 0x2badbad, vers: 1, proc: 1, args: payload }));
      case 2: // not a call
        return frame(Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]), payload]));
      case 3: // a well-formed WRITE with a forged handle: BADHANDLE from the handler (goes through the DRC)
        return frame(buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.WRITE, cred: CRED, args: (w) => encodeWriteArgs(w, { file: badHandle, offset: 0n, count: payload.length, stable: 0, data: payload }) }));
      case 4: // AUTH_BADCRED
        return frame(buildCall({ xid: x, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.NULL, cred: { flavor: AuthFlavor.SYS, body: authSysBody(Buffer.from('h'), gids17) }, args: payload }));
      default: // a record too short to be a call, many fragments
        return fragment(Buffer.from([1, 2, 3]), [1]);
    }
  };
  const flood = async (count: number): Promise<void> => {
    const conn = await RawConn.connect(srv.port);
    conn.discard = true;
    const BATCH = 250;
    for (let sent = 0; sent < count; sent += BATCH) {
      const recs: Buffer[] = [];
      for (let i = 0; i < Math.min(BATCH, count - sent); i++) recs.push(bad());
      await conn.write(Buffer.concat(recs));
      // Barrier: the NULL is answered after every earlier record was taken off the wire.
      const bx = 0x7ff00000 + (sent / BATCH);
      const p = conn.expectXid(bx);
      await conn.write(frame(buildCall({ xid: bx, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.NULL })));
      assert.equal(replyStatus(parseReply(await p).header), 'SUCCESS');
      // Every tenth batch, also a connection that dies holding half a record.
      if ((sent / BATCH) % 10 === 0) {
        const dead = await RawConn.connect(srv.port);
        await dead.write(Buffer.concat([recordMark(64 * 1024), payload]));
        dead.destroy();
      }
    }
    conn.destroy();
    await conn.closed;
  };
  const N = 2000;
  await flood(N); // warm-up: JIT, buffers, DRC fill
  await flood(N);
  await sleep(200);
  const rss0 = rssOf(pid);
  await flood(10 * N);
  await sleep(200);
  const rss1 = rssOf(pid);
  const growth = rss1 - rss0;
  t.diagnostic(`RSS before ${(rss0 / 2 ** 20).toFixed(1)} MiB, after ${10 * N} more bad records ${(rss1 / 2 ** 20).toFixed(1)} MiB (growth ${(growth / 2 ** 20).toFixed(1)} MiB; ${(10 * N * 4096) / 2 ** 20} MiB were sent)`);
  assert.ok(growth < 32 * 2 ** 20, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB over ${10 * N} bad records`);
  await assertServing('the flood');
});
