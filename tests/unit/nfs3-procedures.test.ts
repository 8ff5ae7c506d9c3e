/**
 * NFSv3 procedures end to end below the transport: arguments are encoded,
 * then each procedure's decode → handle → encode runs with a fake
 * CallContext, and the reply bytes are decoded again. Real ExportTable (the
 * gate) and MemoryBackend underneath.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { ExportTable } from '../../src/export/table.js';
import { defaultExportOptions } from '../../src/export/exports-file.js';
import type { Export, ExportOptions } from '../../src/export/types.js';
import { MemoryBackend } from '../../src/storage/memory.js';
import { WriteBehindBackend } from '../../src/storage/write-behind.js';
import { storageError, type Node, type StableHow, type WriteResult } from '../../src/storage/types.js';
import type { CallContext } from '../../src/rpc/context.js';
import type { ProcedureDef } from '../../src/rpc/program.js';
import * as C from '../../src/nfs3/codec.js';
import type * as T from '../../src/nfs3/types.js';
import { Access3, CreateMode3, Ftype3, Nfs3Proc as P, Nfs3Stat as S, StableHow3, nfs3StatName } from '../../src/nfs3/constants.js';
import { createNfs3Procedures, createNfs3Program } from '../../src/nfs3/program.js';
import type { Nfs3Env } from '../../src/nfs3/env.js';
import { replyBytes } from '../helpers/nfs-raw.js';
import type { AheadStats } from '../../src/nfs3/procedures/readdirplus.js';

// ---- fixture -------------------------------------------------------------

/** MemoryBackend with switches for failure paths. */
class TestBackend extends MemoryBackend {
  failCommit = false;
  lazyWrites = false;
  ghosts = new Set<string>();
  override async commit(node: Node, offset: bigint, count: number): Promise<void> {
    if (this.failCommit) throw storageError('EIO', 'fsync failed');
    return super.commit(node, offset, count);
  }
  override async write(node: Node, offset: bigint, data: Buffer, stable: StableHow): Promise<WriteResult> {
    return super.write(node, offset, data, this.lazyWrites ? 'unstable' : stable);
  }
  override async lookup(dir: Node, name: string): Promise<Node> {
    if (this.ghosts.has(name)) throw storageError('ENOENT', 'vanished');
    return super.lookup(dir, name);
  }
}

interface Who { uid: number; gid: number; gids?: number[] }
const ROOT: Who = { uid: 0, gid: 0 };
const ALICE: Who = { uid: 1000, gid: 1000, gids: [1000, 50] };
const BOB: Who = { uid: 1001, gid: 1001 };

function ctx(who: Who): CallContext {
  return {
    xid: 1,
    prog: 100003,
    vers: 3,
    proc: 0,
    cred: { flavor: 'sys', stamp: 0, machine: 'test', uid: who.uid, gid: who.gid, gids: who.gids ?? [] },
    peer: { address: '127.0.0.1', port: 800, family: 'IPv4' },
    local: { address: '127.0.0.1', port: 2049 },
    connectionId: 1,
  };
}

let table: ExportTable;
let env: Nfs3Env;
let procs: ProcedureDef[];
let verifier = randomBytes(8);
let resets = 0;
let mainExp: Export;
let roExp: Export;
let asyncExp: Export;
let tExp: Export;
let tBackend: TestBackend;
let fullExp: Export;
let root: Buffer; // handle of the main export's root
let pub: Buffer; // /pub, mode 0777
let roRoot: Buffer;
let asyncRoot: Buffer;
let tRoot: Buffer;
let fullRoot: Buffer;
let wbRoot: Buffer; // an export behind write-behind, every UNSTABLE write queued (minBytes 1)

function options(o: Partial<ExportOptions>): ExportOptions {
  return { ...defaultExportOptions(), secure: false, squash: 'none', readOnly: false, sync: true, ...o };
}

before(async () => {
  table = new ExportTable({ secret: Buffer.alloc(32, 9), server: { privileged: true, uid: 0, gid: 0, gids: [] } });
  const add = (path: string, b: MemoryBackend, o: Partial<ExportOptions> = {}) =>
    table.add({ path, clients: [{ host: '*', options: options(o) }] }, b);
  mainExp = await add('/main', new MemoryBackend());
  roExp = await add('/ro', new MemoryBackend(), { readOnly: true });
  asyncExp = await add('/async', new MemoryBackend(), { sync: false });
  tBackend = new TestBackend();
  tExp = await add('/t', tBackend);
  fullExp = await add('/full', new MemoryBackend({ capacityBytes: 8192 }));
  const wbExp = await table.add({ path: '/wb', clients: [{ host: '*', options: options({}) }] }, new WriteBehindBackend(new MemoryBackend(), { minBytes: 1 }));
  env = {
    gate: table,
    exports: table,
    writeVerifier: () => verifier,
    resetWriteVerifier: () => {
      verifier = randomBytes(8);
      resets++;
    },
    rtmax: 1 << 20,
    wtmax: 1 << 20,
    dtpref: 65536,
    // How old a READDIRPLUS page computed ahead may be is one test's subject; no other may see a
    // page recomputed for being slow (this machine may be busy).
    readdirplusAheadMs: 60_000,
  };
  procs = createNfs3Procedures(env);
  const rootOf = async (e: Export) => table.compose(e, await e.backend.root());
  root = await rootOf(mainExp);
  roRoot = await rootOf(roExp);
  asyncRoot = await rootOf(asyncExp);
  tRoot = await rootOf(tExp);
  fullRoot = await rootOf(fullExp);
  wbRoot = await rootOf(wbExp);
  for (const r of [root, asyncRoot, tRoot, fullRoot]) {
    const res = await mkdir(r, 'pub', { mode: 0o777 }, ROOT);
    assert.equal(res.status, 0);
  }
  pub = await lookupFh(root, 'pub');
  // A file on the read-only export, made behind NFS's back.
  const rb = roExp.backend;
  const f = await rb.create(await rb.root(), 'file', { mode: 0o644, owner: { uid: 1000, gid: 1000 }, exclusive: true });
  await rb.write(f, 0n, Buffer.from('read only'), 'file_sync');
});

// ---- calling helpers -------------------------------------------------------

/** Each other environment's procedure table, made once (READDIRPLUS keeps pages computed ahead). */
const otherProcs = new WeakMap<Nfs3Env, ProcedureDef[]>();
function procsOf(e: Nfs3Env): ProcedureDef[] {
  let p = otherProcs.get(e);
  if (p === undefined) otherProcs.set(e, (p = createNfs3Procedures(e)));
  return p;
}

/** Full pipeline: encode args → decode → handle → encode → decode result. */
async function call<R>(proc: number, encodeArgs: (w: XdrWriter, a: any) => void, args: unknown, decodeRes: (r: XdrReader) => R, who: Who = ROOT, e: Nfs3Env = env): Promise<R> {
  const p = e === env ? procs[proc] : procsOf(e)[proc];
  const w = new XdrWriter();
  encodeArgs(w, args);
  const a = p.decode(new XdrReader(Buffer.from(w.finish())));
  const res = await p.handle(a, { ...ctx(who), proc });
  const out = new XdrWriter();
  const bytes = replyBytes(out, p.encode(out, res));
  const r = new XdrReader(bytes);
  const decoded = decodeRes(r);
  assert.equal(r.remaining, 0, 'reply fully consumed');
  return decoded;
}

function ok<R extends { status: number }>(res: R): asserts res is R & { status: 0 } {
  assert.equal(res.status, 0, `expected NFS3_OK, got ${nfs3StatName(res.status)}`);
}

function st(res: { status: number }, expected: number): void {
  assert.equal(res.status, expected, `expected ${nfs3StatName(expected)}, got ${nfs3StatName(res.status)}`);
}

const getattr = (fh: Buffer, who = ROOT) => call(P.GETATTR, C.encodeGetattrArgs, { object: fh }, C.decodeGetattrRes, who);
const lookup = (dir: Buffer, name: string, who = ROOT) => call(P.LOOKUP, C.encodeLookupArgs, { what: { dir, name } }, C.decodeLookupRes, who);
const mkdir = (dir: Buffer, name: string, attrs: T.Sattr3, who = ROOT) => call(P.MKDIR, C.encodeMkdirArgs, { where: { dir, name }, attrs }, C.decodeDirCreateRes, who);
const create = (dir: Buffer, name: string, how: T.CreateHow3, who = ROOT) => call(P.CREATE, C.encodeCreateArgs, { where: { dir, name }, how }, C.decodeDirCreateRes, who);
const setattr = (object: Buffer, attrs: T.Sattr3, who = ROOT, guard?: T.Nfstime3) => call(P.SETATTR, C.encodeSetattrArgs, guard ? { object, attrs, guard } : { object, attrs }, C.decodeSetattrRes, who);
const write = (file: Buffer, offset: bigint, data: Buffer, stable: 0 | 1 | 2 = StableHow3.UNSTABLE, who = ROOT) =>
  call(P.WRITE, C.encodeWriteArgs, { file, offset, count: data.length, stable, data }, C.decodeWriteRes, who);
const read = (file: Buffer, offset: bigint, count: number, who = ROOT, e = env) =>
  call(P.READ, C.encodeReadArgs, { file, offset, count }, (r) => C.decodeReadRes(r, 1 << 21), who, e);
const remove = (dir: Buffer, name: string, who = ROOT) => call(P.REMOVE, C.encodeRemoveArgs, { object: { dir, name } }, C.decodeRemoveRes, who);
const rmdir = (dir: Buffer, name: string, who = ROOT) => call(P.RMDIR, C.encodeRmdirArgs, { object: { dir, name } }, C.decodeRmdirRes, who);
const readdir = (dir: Buffer, cookie: bigint, count: number, cookieverf = Buffer.alloc(8)) =>
  call(P.READDIR, C.encodeReaddirArgs, { dir, cookie, cookieverf, count }, C.decodeReaddirRes);
const readdirplus = (dir: Buffer, cookie: bigint, dircount: number, maxcount: number, e = env) =>
  call(P.READDIRPLUS, C.encodeReaddirplusArgs, { dir, cookie, cookieverf: Buffer.alloc(8), dircount, maxcount }, C.decodeReaddirplusRes, ROOT, e);

async function lookupFh(dir: Buffer, name: string): Promise<Buffer> {
  const r = await lookup(dir, name);
  ok(r);
  return r.object;
}

async function newFile(dir: Buffer, name: string, who: Who = ROOT, mode = 0o644): Promise<Buffer> {
  const r = await create(dir, name, { mode: CreateMode3.GUARDED, attrs: { mode } }, who);
  ok(r);
  assert.ok(r.obj);
  return r.obj;
}

let seq = 0;
const uniq = (p: string) => `${p}-${++seq}`;

/** Raw reply size of a handler result, for the byte-budget checks. */
function encodedSize(proc: number, res: unknown): number {
  const w = new XdrWriter();
  procs[proc].encode(w, res);
  return w.length;
}

// ---- the table -------------------------------------------------------------

test('table: 22 procedures, cache exactly on the non-idempotent ones', () => {
  const prog = createNfs3Program(env);
  assert.equal(prog.number, 100003);
  const v3 = prog.versions.get(3)!;
  assert.equal(v3.length, 22);
  const cached = v3.filter((p) => p!.cache === 'reply').map((p) => p!.name).sort();
  assert.deepEqual(cached, ['CREATE', 'LINK', 'MKDIR', 'MKNOD', 'REMOVE', 'RENAME', 'RMDIR', 'SETATTR', 'SYMLINK', 'WRITE']);
  const names = v3.map((p) => p!.name);
  assert.deepEqual(names.slice(0, 4), ['NULL', 'GETATTR', 'SETATTR', 'LOOKUP']);
  assert.equal(names[21], 'COMMIT');
});

test('NULL: no arguments, no result', async () => {
  const p = procs[P.NULL];
  const w = new XdrWriter();
  assert.equal(p.encode(w, await p.handle(p.decode(new XdrReader(Buffer.alloc(0))), ctx(ROOT))), undefined);
  assert.equal(w.length, 0);
});

// ---- GETATTR / LOOKUP / ACCESS / READLINK ---------------------------------

test('GETATTR: root attributes, fsid = export id, dir nlink >= 2', async () => {
  const r = await getattr(root);
  ok(r);
  assert.equal(r.attrs.type, Ftype3.DIR);
  assert.equal(r.attrs.fsid, BigInt(mainExp.id));
  assert.ok(r.attrs.nlink >= 2);
});

test('GETATTR: forged handle → BADHANDLE, removed file → STALE', async () => {
  st(await getattr(randomBytes(24)), S.BADHANDLE);
  const name = uniq('gone');
  const fh = await newFile(pub, name);
  ok(await remove(pub, name));
  st(await getattr(fh), S.STALE);
});

test('LOOKUP: ".", ".." at the export root stays at the root, ".." of a subdir is its parent', async () => {
  const dot = await lookup(root, '.');
  ok(dot);
  assert.deepEqual(dot.object, root);
  const up = await lookup(root, '..');
  ok(up);
  assert.deepEqual(up.object, root, 'nothing above the export root is reachable');
  const d = uniq('sub');
  ok(await mkdir(pub, d, { mode: 0o755 }));
  const sub = await lookupFh(pub, d);
  const parent = await lookup(sub, '..');
  ok(parent);
  assert.deepEqual(parent.object, pub);
  assert.ok(parent.dirAttrs && parent.objAttrs);
});

test('LOOKUP: missing name → NOENT with dir attributes; file as dir → NOTDIR; no search permission → ACCES', async () => {
  const r = await lookup(pub, 'does-not-exist');
  st(r, S.NOENT);
  assert.ok(r.dirAttrs, 'failure arm carries the directory attributes');
  const f = await newFile(pub, uniq('f'));
  st(await lookup(f, 'x'), S.NOTDIR);
  const d = uniq('private');
  ok(await mkdir(pub, d, { mode: 0o700 }));
  const priv = await lookupFh(pub, d);
  await newFile(priv, 'secret');
  st(await lookup(priv, 'secret', ALICE), S.ACCES);
  ok(await lookup(priv, 'secret', ROOT));
});

test('ACCESS: bits per caller; nothing modifying on a read-only export', async () => {
  const f = await newFile(pub, uniq('acc'), ALICE, 0o640);
  const all = 0x3f;
  const mine = await call(P.ACCESS, C.encodeAccessArgs, { object: f, access: all }, C.decodeAccessRes, ALICE);
  ok(mine);
  assert.equal(mine.access, Access3.READ | Access3.MODIFY | Access3.EXTEND);
  assert.ok(mine.objAttrs);
  const theirs = await call(P.ACCESS, C.encodeAccessArgs, { object: f, access: all }, C.decodeAccessRes, BOB);
  ok(theirs);
  assert.equal(theirs.access, 0);
  const roFile = await lookupFh(roRoot, 'file');
  const ro = await call(P.ACCESS, C.encodeAccessArgs, { object: roFile, access: all }, C.decodeAccessRes, ALICE);
  ok(ro);
  assert.equal(ro.access & (Access3.MODIFY | Access3.EXTEND | Access3.DELETE), 0);
  assert.equal(ro.access & Access3.READ, Access3.READ);
});

test('SYMLINK + READLINK; READLINK of a file → INVAL; empty target → INVAL', async () => {
  const name = uniq('ln');
  const s = await call(P.SYMLINK, C.encodeSymlinkArgs, { where: { dir: pub, name }, attrs: {}, target: Buffer.from('../some/where') }, C.decodeDirCreateRes);
  ok(s);
  assert.equal(s.objAttrs?.type, Ftype3.LNK);
  const rl = await call(P.READLINK, C.encodeReadlinkArgs, { symlink: s.obj! }, C.decodeReadlinkRes);
  ok(rl);
  assert.equal(rl.data, '../some/where');
  // LOOKUP never follows it.
  const lk = await lookup(pub, name);
  ok(lk);
  assert.equal(lk.objAttrs?.type, Ftype3.LNK);
  const f = await newFile(pub, uniq('notlink'));
  const bad = await call(P.READLINK, C.encodeReadlinkArgs, { symlink: f }, C.decodeReadlinkRes);
  st(bad, S.INVAL);
  assert.ok(bad.attrs);
  const empty = await call(P.SYMLINK, C.encodeSymlinkArgs, { where: { dir: pub, name: uniq('e') }, attrs: {}, target: Buffer.alloc(0) }, C.decodeDirCreateRes);
  st(empty, S.INVAL);
  assert.ok(empty.dirWcc.before && empty.dirWcc.after);
  const dot = await call(P.SYMLINK, C.encodeSymlinkArgs, { where: { dir: pub, name: '.' }, attrs: {}, target: Buffer.from('x') }, C.decodeDirCreateRes);
  st(dot, S.EXIST);
});

// ---- READ / WRITE / COMMIT -------------------------------------------------

test('WRITE then READ: data, count, eof; READ past the end; READ of a directory → ISDIR', async () => {
  const f = await newFile(pub, uniq('data'));
  const w = await write(f, 0n, Buffer.from('hello world'), StableHow3.FILE_SYNC);
  ok(w);
  assert.equal(w.count, 11);
  assert.deepEqual(w.verf, verifier);
  assert.equal(w.wcc.after?.size, 11n);
  assert.equal(w.wcc.before?.size, 0n);
  const r = await read(f, 6n, 100);
  ok(r);
  assert.equal(r.data.toString(), 'world');
  assert.equal(r.count, 5);
  assert.equal(r.eof, true);
  const mid = await read(f, 0n, 5);
  ok(mid);
  assert.equal(mid.data.toString(), 'hello');
  assert.equal(mid.eof, false);
  const past = await read(f, 1000n, 10);
  ok(past);
  assert.equal(past.count, 0);
  assert.equal(past.eof, true);
  const dir = await read(pub, 0n, 10);
  st(dir, S.ISDIR);
  assert.ok(dir.attrs, 'attributes even when the type is wrong (as knfsd)');
});

test('WRITE behind (queued UNSTABLE): answered with the pre-op attributes only; GETATTR, READ and COMMIT see the data', async () => {
  const f = await newFile(wbRoot, uniq('wb'));
  const first = await write(f, 0n, Buffer.from('first '));
  ok(first);
  assert.equal(first.wcc.after?.size, 6n, 'a file\'s first write goes through and has post-op attributes');
  const queued = await write(f, 6n, Buffer.from('second'));
  ok(queued);
  assert.equal(queued.count, 6);
  assert.equal(queued.committed, StableHow3.UNSTABLE);
  assert.equal(queued.wcc.before?.size, 6n);
  assert.equal(queued.wcc.after, undefined, 'no guessed post-op attributes');
  const a = await getattr(f);
  ok(a);
  assert.equal(a.attrs.size, 12n);
  const r = await read(f, 0n, 100);
  ok(r);
  assert.equal(r.data.toString(), 'first second');
  ok(await call(P.COMMIT, C.encodeCommitArgs, { file: f, offset: 0n, count: 0 }, C.decodeCommitRes));
  const sync = await write(f, 12n, Buffer.from('!'), StableHow3.FILE_SYNC);
  ok(sync);
  assert.equal(sync.wcc.after?.size, 13n, 'a stable write is never queued');
});

test('READ: count is capped at rtmax', async () => {
  const f = await newFile(pub, uniq('big'));
  ok(await write(f, 0n, Buffer.alloc(100, 0x61)));
  const small = { ...env, rtmax: 16 };
  const r = await read(f, 0n, 100, ROOT, small);
  ok(r);
  assert.equal(r.count, 16);
  assert.equal(r.eof, false);
});

test('READ/WRITE permission: others cannot read 0600 or write 0644; read-only export → ROFS', async () => {
  const f = await newFile(pub, uniq('mine'), ALICE, 0o600);
  ok(await write(f, 0n, Buffer.from('x'), 0, ALICE));
  st(await read(f, 0n, 1, BOB), S.ACCES);
  const g = await newFile(pub, uniq('shared'), ALICE, 0o644);
  const denied = await write(g, 0n, Buffer.from('x'), 0, BOB);
  st(denied, S.ACCES);
  const roFile = await lookupFh(roRoot, 'file');
  st(await write(roFile, 0n, Buffer.from('x')), S.ROFS);
  const r = await read(roFile, 0n, 100);
  ok(r);
  assert.equal(r.data.toString(), 'read only');
});

test('WRITE committed honesty: sync export passes stable_how through; async export answers UNSTABLE; a lazy backend is reported as it is', async () => {
  const f = await newFile(pub, uniq('sync'));
  const fs = await write(f, 0n, Buffer.from('a'), StableHow3.FILE_SYNC);
  ok(fs);
  assert.equal(fs.committed, StableHow3.FILE_SYNC);
  const us = await write(f, 0n, Buffer.from('a'), StableHow3.UNSTABLE);
  ok(us);
  assert.equal(us.committed, StableHow3.UNSTABLE);

  const pubAsync = await lookupFh(asyncRoot, 'pub');
  const af = await newFile(pubAsync, uniq('async'));
  const aw = await write(af, 0n, Buffer.from('a'), StableHow3.FILE_SYNC);
  ok(aw);
  assert.equal(aw.committed, StableHow3.UNSTABLE, 'async export must not claim FILE_SYNC');

  const pubT = await lookupFh(tRoot, 'pub');
  const tf = await newFile(pubT, uniq('lazy'));
  tBackend.lazyWrites = true;
  try {
    const lw = await write(tf, 0n, Buffer.from('a'), StableHow3.DATA_SYNC);
    ok(lw);
    assert.equal(lw.committed, StableHow3.UNSTABLE);
  } finally {
    tBackend.lazyWrites = false;
  }
});

test('WRITE failure (ENOSPC) → NOSPC with wcc, and the write verifier changes', async () => {
  const pubFull = await lookupFh(fullRoot, 'pub');
  const f = await newFile(pubFull, uniq('full'));
  const before = Buffer.from(verifier);
  const n = resets;
  const w = await write(f, 0n, Buffer.alloc(16384));
  st(w, S.NOSPC);
  assert.ok(w.wcc.before && w.wcc.after, 'failure arm carries wcc_data');
  assert.equal(resets, n + 1);
  assert.notDeepEqual(verifier, before);
  // A permission refusal says nothing about storage: no reset.
  st(await write(f, 0n, Buffer.from('x'), 0, BOB), S.ACCES);
  assert.equal(resets, n + 1);
});

test('WRITE beyond the largest offset → FBIG', async () => {
  const f = await newFile(pub, uniq('fbig'));
  const w = await write(f, (1n << 63n) - 2n, Buffer.from('abc'));
  st(w, S.FBIG);
  assert.ok(w.wcc.before);
});

test('COMMIT: verifier on success; fsync failure → IO with wcc and a new verifier', async () => {
  const pubT = await lookupFh(tRoot, 'pub');
  const f = await newFile(pubT, uniq('commit'));
  ok(await write(f, 0n, Buffer.from('data')));
  const c = await call(P.COMMIT, C.encodeCommitArgs, { file: f, offset: 0n, count: 0 }, C.decodeCommitRes);
  ok(c);
  assert.deepEqual(c.verf, verifier);
  assert.equal(c.wcc.after?.size, 4n);
  const n = resets;
  const old = Buffer.from(verifier);
  tBackend.failCommit = true;
  try {
    const bad = await call(P.COMMIT, C.encodeCommitArgs, { file: f, offset: 0n, count: 0 }, C.decodeCommitRes);
    st(bad, S.IO);
    assert.ok(bad.wcc.before && bad.wcc.after);
  } finally {
    tBackend.failCommit = false;
  }
  assert.equal(resets, n + 1);
  const again = await call(P.COMMIT, C.encodeCommitArgs, { file: f, offset: 0n, count: 0 }, C.decodeCommitRes);
  ok(again);
  assert.notDeepEqual(again.verf, old, 'client sees a new verifier and resends');
  st(await call(P.COMMIT, C.encodeCommitArgs, { file: pubT, offset: 0n, count: 0 }, C.decodeCommitRes), S.ISDIR);
});

// ---- CREATE / SETATTR ------------------------------------------------------

test('CREATE UNCHECKED reuses an existing file and applies the size; GUARDED → EXIST; "." → EXIST', async () => {
  const name = uniq('u');
  const f = await newFile(pub, name);
  ok(await write(f, 0n, Buffer.from('0123456789')));
  const again = await create(pub, name, { mode: CreateMode3.UNCHECKED, attrs: { size: 0n, mode: 0o600 } });
  ok(again);
  assert.deepEqual(again.obj, f);
  assert.equal(again.objAttrs?.size, 0n);
  assert.equal(again.objAttrs?.mode, 0o644, 'only the size applies to an existing file (knfsd)');
  const g = await create(pub, name, { mode: CreateMode3.GUARDED, attrs: {} });
  st(g, S.EXIST);
  assert.ok(g.dirWcc.before && g.dirWcc.after);
  // Someone who may not write the file cannot truncate it through CREATE.
  const theirs = uniq('theirs');
  const tf = await newFile(pub, theirs, ALICE, 0o644);
  ok(await write(tf, 0n, Buffer.from('keep'), 0, ALICE));
  st(await create(pub, theirs, { mode: CreateMode3.UNCHECKED, attrs: { size: 0n } }, BOB), S.ACCES);
  const kept = await create(pub, theirs, { mode: CreateMode3.UNCHECKED, attrs: { mode: 0o600 } }, BOB);
  ok(kept);
  assert.equal(kept.objAttrs?.size, 4n);
  st(await create(pub, '.', { mode: CreateMode3.UNCHECKED, attrs: {} }), S.EXIST);
  st(await create(pub, '..', { mode: CreateMode3.GUARDED, attrs: {} }), S.EXIST);
  const d = uniq('dir');
  ok(await mkdir(pub, d, {}));
  st(await create(pub, d, { mode: CreateMode3.UNCHECKED, attrs: {} }), S.EXIST);
});

test('CREATE: new files belong to the caller, or to the setgid directory\'s group; read-only export → ROFS', async () => {
  const r = await create(pub, uniq('owned'), { mode: CreateMode3.GUARDED, attrs: { mode: 0o640 } }, ALICE);
  ok(r);
  assert.equal(r.objAttrs?.uid, 1000);
  assert.equal(r.objAttrs?.gid, 1000);
  assert.equal(r.objAttrs?.mode, 0o640);
  const d = uniq('sgid');
  ok(await mkdir(pub, d, { mode: 0o2777, gid: 50 }));
  const sg = await lookupFh(pub, d);
  const inSg = await create(sg, 'f', { mode: CreateMode3.GUARDED, attrs: { mode: 0o644 } }, BOB);
  ok(inSg);
  assert.equal(inSg.objAttrs?.uid, 1001);
  assert.equal(inSg.objAttrs?.gid, 50);
  const ro = await create(roRoot, 'x', { mode: CreateMode3.GUARDED, attrs: {} });
  st(ro, S.ROFS);
  st(await create(root, uniq('noperm'), { mode: CreateMode3.GUARDED, attrs: {} }, ALICE), S.ACCES);
});

test('CREATE EXCLUSIVE: verifier in the times; a retransmission succeeds with the same file; another verifier → EXIST', async () => {
  const name = uniq('excl');
  const verf = Buffer.from('0102030405060708', 'hex');
  const first = await create(pub, name, { mode: CreateMode3.EXCLUSIVE, verf }, ALICE);
  ok(first);
  assert.equal(first.objAttrs?.atime.seconds, 0x01020304);
  assert.equal(first.objAttrs?.mtime.seconds, 0x05060708);
  const retry = await create(pub, name, { mode: CreateMode3.EXCLUSIVE, verf }, ALICE);
  ok(retry);
  assert.deepEqual(retry.obj, first.obj);
  const other = await create(pub, name, { mode: CreateMode3.EXCLUSIVE, verf: Buffer.from('0102030405060709', 'hex') }, ALICE);
  st(other, S.EXIST);
  // After the client's follow-up SETATTR the times no longer hold the verifier.
  ok(await setattr(first.obj!, { mode: 0o644, atime: 'server', mtime: 'server' }, ALICE));
  st(await create(pub, name, { mode: CreateMode3.EXCLUSIVE, verf }, ALICE), S.EXIST);
});

test('SETATTR: guard mismatch → NOT_SYNC (nothing changed); matching guard applies', async () => {
  const f = await newFile(pub, uniq('guard'), ALICE);
  const a = await getattr(f);
  ok(a);
  const wrong = { seconds: a.attrs.ctime.seconds - 1, nseconds: a.attrs.ctime.nseconds };
  const bad = await setattr(f, { mode: 0o600 }, ALICE, wrong);
  st(bad, S.NOT_SYNC);
  assert.ok(bad.wcc.before && bad.wcc.after);
  assert.equal(bad.wcc.after.mode, 0o644);
  const good = await setattr(f, { mode: 0o600 }, ALICE, a.attrs.ctime);
  ok(good);
  assert.equal(good.wcc.after?.mode, 0o600);
  assert.ok(good.wcc.before);
});

test('SETATTR permissions: chmod owner only, chown root only, chgrp to own groups, touch with write permission, size on a dir → ISDIR', async () => {
  const f = await newFile(pub, uniq('perm'), ALICE, 0o666);
  st(await setattr(f, { mode: 0o777 }, BOB), S.PERM);
  ok(await setattr(f, { mode: 0o666 }, ALICE));
  st(await setattr(f, { uid: 1001 }, ALICE), S.PERM);
  ok(await setattr(f, { uid: 1000 }, ALICE), );
  st(await setattr(f, { gid: 1001 }, ALICE), S.PERM);
  const g = await setattr(f, { gid: 50 }, ALICE);
  ok(g);
  assert.equal(g.wcc.after?.gid, 50);
  const chown = await setattr(f, { uid: 1001, gid: 1001 }, ROOT);
  ok(chown);
  assert.equal(chown.wcc.after?.uid, 1001);
  // Bob now owns it; Alice can write (0666) so she may touch it to now, but not set explicit times.
  ok(await setattr(f, { atime: 'server', mtime: 'server' }, ALICE));
  st(await setattr(f, { mtime: { seconds: 1, nseconds: 0 } }, ALICE), S.PERM);
  const t = await setattr(f, { mtime: { seconds: 1234567890, nseconds: 5 } }, BOB);
  ok(t);
  assert.deepEqual(t.wcc.after?.mtime, { seconds: 1234567890, nseconds: 5 });
  const trunc = await setattr(f, { size: 3n }, ALICE);
  ok(trunc);
  assert.equal(trunc.wcc.after?.size, 3n);
  st(await setattr(pub, { size: 0n }), S.ISDIR);
  st(await setattr(f, { mtime: { seconds: 1, nseconds: 1_000_000_000 } }, BOB), S.INVAL);
  const roFile = await lookupFh(roRoot, 'file');
  st(await setattr(roFile, {}), S.ROFS);
});

// ---- MKDIR / MKNOD / REMOVE / RMDIR / RENAME / LINK -------------------------

test('MKDIR: new directory with nlink >= 2; existing → EXIST; ".." → EXIST', async () => {
  const name = uniq('d');
  const r = await mkdir(pub, name, { mode: 0o750 }, ALICE);
  ok(r);
  assert.equal(r.objAttrs?.type, Ftype3.DIR);
  assert.ok((r.objAttrs?.nlink ?? 0) >= 2);
  assert.equal(r.objAttrs?.mode, 0o750);
  assert.ok(r.dirWcc.before && r.dirWcc.after);
  st(await mkdir(pub, name, {}), S.EXIST);
  st(await mkdir(pub, '..', {}), S.EXIST);
});

test('MKNOD: FIFO and socket; REG/DIR/LNK → BADTYPE; devices need root', async () => {
  const mk = (name: string, what: T.MknodData, who = ROOT) => call(P.MKNOD, C.encodeMknodArgs, { where: { dir: pub, name }, what }, C.decodeDirCreateRes, who);
  const fifo = await mk(uniq('fifo'), { type: Ftype3.FIFO, attrs: { mode: 0o600 } }, ALICE);
  ok(fifo);
  assert.equal(fifo.objAttrs?.type, Ftype3.FIFO);
  assert.equal(fifo.objAttrs?.uid, 1000);
  const sock = await mk(uniq('sock'), { type: Ftype3.SOCK, attrs: {} });
  ok(sock);
  assert.equal(sock.objAttrs?.type, Ftype3.SOCK);
  for (const type of [Ftype3.REG, Ftype3.DIR, Ftype3.LNK, 99]) {
    const r = await mk(uniq('bad'), { type });
    st(r, S.BADTYPE);
    assert.ok(r.dirWcc.before);
  }
  st(await mk(uniq('chr'), { type: Ftype3.CHR, attrs: {}, spec: { specdata1: 1, specdata2: 3 } }, ALICE), S.PERM);
  const chr = await mk(uniq('chr'), { type: Ftype3.CHR, attrs: { mode: 0o666 }, spec: { specdata1: 1, specdata2: 3 } });
  ok(chr);
  assert.equal(chr.objAttrs?.type, Ftype3.CHR);
  assert.deepEqual(chr.objAttrs?.rdev, { specdata1: 1, specdata2: 3 });
});

test('REMOVE: file gone; missing → NOENT; directory → ISDIR; "." → INVAL; sticky directory → PERM', async () => {
  const name = uniq('rm');
  await newFile(pub, name);
  const r = await remove(pub, name);
  ok(r);
  assert.ok(r.dirWcc.before && r.dirWcc.after);
  st(await lookup(pub, name), S.NOENT);
  const miss = await remove(pub, name);
  st(miss, S.NOENT);
  assert.ok(miss.dirWcc.after);
  const d = uniq('isdir');
  ok(await mkdir(pub, d, {}));
  st(await remove(pub, d), S.ISDIR);
  st(await remove(pub, '.'), S.INVAL);
  st(await remove(pub, '..'), S.INVAL);
  const sticky = uniq('tmp');
  ok(await mkdir(pub, sticky, { mode: 0o1777 }));
  const tmp = await lookupFh(pub, sticky);
  await newFile(tmp, 'alices', ALICE);
  st(await remove(tmp, 'alices', BOB), S.PERM);
  ok(await remove(tmp, 'alices', ALICE));
  st(await remove(roRoot, 'file'), S.ROFS);
});

test('RMDIR: empty dir removed; non-empty → NOTEMPTY; "." → INVAL; ".." → NOTEMPTY; file → NOTDIR', async () => {
  const d = uniq('rd');
  ok(await mkdir(pub, d, {}));
  const fh = await lookupFh(pub, d);
  await newFile(fh, 'x');
  st(await rmdir(pub, d), S.NOTEMPTY);
  ok(await remove(fh, 'x'));
  const r = await rmdir(pub, d);
  ok(r);
  assert.ok(r.dirWcc.before && r.dirWcc.after);
  st(await rmdir(pub, '.'), S.INVAL);
  st(await rmdir(pub, '..'), S.NOTEMPTY);
  const f = uniq('file');
  await newFile(pub, f);
  st(await rmdir(pub, f), S.NOTDIR);
});

test('RENAME: over an existing file; "." / ".." → INVAL; across exports → XDEV; missing source → NOENT', async () => {
  const a = uniq('a');
  const b = uniq('b');
  const fa = await newFile(pub, a);
  ok(await write(fa, 0n, Buffer.from('from a')));
  await newFile(pub, b);
  const d = uniq('dest');
  ok(await mkdir(pub, d, {}));
  const dest = await lookupFh(pub, d);
  const r = await call(P.RENAME, C.encodeRenameArgs, { from: { dir: pub, name: a }, to: { dir: pub, name: b } }, C.decodeRenameRes);
  ok(r);
  assert.ok(r.fromDirWcc.before && r.fromDirWcc.after && r.toDirWcc.before && r.toDirWcc.after);
  st(await lookup(pub, a), S.NOENT);
  const rb = await read(await lookupFh(pub, b), 0n, 100);
  ok(rb);
  assert.equal(rb.data.toString(), 'from a');
  const moved = await call(P.RENAME, C.encodeRenameArgs, { from: { dir: pub, name: b }, to: { dir: dest, name: 'moved' } }, C.decodeRenameRes);
  ok(moved);
  ok(await lookup(dest, 'moved'));
  for (const [fromName, toName] of [['.', 'x'], ['moved', '..'], ['..', 'y']]) {
    st(await call(P.RENAME, C.encodeRenameArgs, { from: { dir: dest, name: fromName }, to: { dir: dest, name: toName } }, C.decodeRenameRes), S.INVAL);
  }
  const pubT = await lookupFh(tRoot, 'pub');
  const x = await call(P.RENAME, C.encodeRenameArgs, { from: { dir: dest, name: 'moved' }, to: { dir: pubT, name: 'moved' } }, C.decodeRenameRes);
  st(x, S.XDEV);
  assert.ok(x.fromDirWcc.after && x.toDirWcc.after);
  st(await call(P.RENAME, C.encodeRenameArgs, { from: { dir: dest, name: 'nope' }, to: { dir: dest, name: 'z' } }, C.decodeRenameRes), S.NOENT);
  // A directory cannot replace a file.
  await newFile(dest, 'plain');
  ok(await mkdir(dest, 'adir', {}));
  st(await call(P.RENAME, C.encodeRenameArgs, { from: { dir: dest, name: 'adir' }, to: { dir: dest, name: 'plain' } }, C.decodeRenameRes), S.NOTDIR);
});

test('LINK: second name, nlink 2; directory → ISDIR; existing name → EXIST; across exports → XDEV', async () => {
  const name = uniq('orig');
  const f = await newFile(pub, name);
  const l = await call(P.LINK, C.encodeLinkArgs, { file: f, link: { dir: pub, name: uniq('hard') } }, C.decodeLinkRes);
  ok(l);
  assert.equal(l.fileAttrs?.nlink, 2);
  assert.ok(l.linkDirWcc.before && l.linkDirWcc.after);
  const dl = await call(P.LINK, C.encodeLinkArgs, { file: pub, link: { dir: pub, name: uniq('dirlink') } }, C.decodeLinkRes);
  st(dl, S.ISDIR);
  const ex = await call(P.LINK, C.encodeLinkArgs, { file: f, link: { dir: pub, name } }, C.decodeLinkRes);
  st(ex, S.EXIST);
  assert.ok(ex.fileAttrs && ex.linkDirWcc.after);
  st(await call(P.LINK, C.encodeLinkArgs, { file: f, link: { dir: pub, name: '.' } }, C.decodeLinkRes), S.EXIST);
  const pubT = await lookupFh(tRoot, 'pub');
  st(await call(P.LINK, C.encodeLinkArgs, { file: f, link: { dir: pubT, name: 'x' } }, C.decodeLinkRes), S.XDEV);
});

// ---- READDIR / READDIRPLUS -------------------------------------------------

let bigDir: Buffer;
const BIG = 1000;
async function big(): Promise<Buffer> {
  if (bigDir) return bigDir;
  const name = uniq('big');
  ok(await mkdir(pub, name, { mode: 0o755 }));
  const fh = await lookupFh(pub, name);
  const b = mainExp.backend;
  const node = await b.fromKey((await table.verify(fh, { cred: ctx(ROOT).cred, peer: ctx(ROOT).peer })).node.key);
  for (let i = 0; i < BIG; i++) await b.create(node, `entry-${String(i).padStart(4, '0')}${'x'.repeat(i % 17)}`, { mode: 0o644, owner: { uid: 0, gid: 0 }, exclusive: true });
  bigDir = fh;
  return fh;
}

test('READDIR: tiny count over 1000 entries gives every name exactly once, within count, eof only at the end', async () => {
  const dir = await big();
  const seen = new Set<string>();
  let cookie = 0n;
  let calls = 0;
  const count = 300;
  for (;;) {
    const verf = Buffer.from('cafebabedeadbeef', 'hex');
    const r = await readdir(dir, cookie, count, verf);
    ok(r);
    calls++;
    assert.deepEqual(r.cookieverf, verf, 'cookie verifier echoed');
    assert.ok(encodedSize(P.READDIR, r) - 4 <= count, 'READDIR3resok within count');
    assert.ok(r.entries.length > 0 || r.eof);
    for (const e of r.entries) {
      assert.ok(!seen.has(e.name), `duplicate ${e.name}`);
      seen.add(e.name);
      assert.notEqual(e.cookie, 0n);
    }
    if (r.eof) break;
    assert.ok(calls < 1000, 'terminates');
    cookie = r.entries[r.entries.length - 1].cookie;
  }
  // Every entry once, plus "." and ".." (cookies 1 and 2) as knfsd lists them.
  assert.equal(seen.size, BIG + 2);
  assert.ok(seen.has('.') && seen.has('..'));
  assert.ok(calls > 10, 'the tiny count forced paging');
  const all = await readdir(dir, 0n, 1 << 20);
  ok(all);
  assert.equal(all.entries.length, BIG + 2);
  assert.deepEqual(all.entries.slice(0, 2).map((e) => [e.name, e.cookie]), [['.', 1n], ['..', 2n]]);
  assert.equal(all.eof, true);
});

test('READDIR: TOOSMALL when no entry fits; empty directory is fine with a small count; file → NOTDIR', async () => {
  const dir = await big();
  const small = await readdir(dir, 0n, 110);
  st(small, S.TOOSMALL);
  assert.ok(small.dirAttrs);
  const e = uniq('empty');
  ok(await mkdir(pub, e, {}));
  const emptyFh = await lookupFh(pub, e);
  const empty = await readdir(emptyFh, 0n, 4096);
  ok(empty);
  assert.deepEqual(empty.entries.map((x) => x.name), ['.', '..']);
  assert.equal(empty.eof, true);
  // Resuming after ".." of an empty directory: nothing more, eof, even with a small count.
  const rest = await readdir(emptyFh, 2n, 110);
  ok(rest);
  assert.equal(rest.entries.length, 0);
  assert.equal(rest.eof, true);
  st(await readdir(emptyFh, 0n, 50), S.TOOSMALL);
  const f = await newFile(pub, uniq('f'));
  st(await readdir(f, 0n, 4096), S.NOTDIR);
});

test('READDIRPLUS: maxcount and dircount respected, every name once, attributes and working handles', async () => {
  const dir = await big();
  for (const [dircount, maxcount] of [[200, 100000], [100000, 1500], [512, 4096]]) {
    const seen = new Set<string>();
    let cookie = 0n;
    for (let calls = 0; ; calls++) {
      assert.ok(calls < 2000);
      const r = await readdirplus(dir, cookie, dircount, maxcount);
      ok(r);
      assert.ok(encodedSize(P.READDIRPLUS, r) - 4 <= maxcount, 'within maxcount');
      const dirBytes = r.entries.reduce((n, e) => n + C.dirInfoSize(Buffer.byteLength(e.name)), 0);
      assert.ok(dirBytes <= dircount, `dir info ${dirBytes} within dircount ${dircount}`);
      for (const e of r.entries) {
        assert.ok(!seen.has(e.name));
        seen.add(e.name);
        assert.ok(e.attrs && e.handle, 'attributes and handle for every live entry');
        assert.equal(e.attrs.fileid, e.fileid);
      }
      if (r.eof) break;
      cookie = r.entries[r.entries.length - 1].cookie;
    }
    assert.equal(seen.size, BIG + 2, `dircount ${dircount} maxcount ${maxcount}`);
  }
  const one = await readdirplus(dir, 0n, 4096, 4096);
  ok(one);
  const viaHandle = await getattr(one.entries[0].handle!);
  ok(viaHandle);
  assert.equal(viaHandle.attrs.fileid, one.entries[0].fileid);
  st(await readdirplus(dir, 0n, 8, 100000), S.TOOSMALL);
  st(await readdirplus(dir, 0n, 100000, 150), S.TOOSMALL);
});

test('READDIRPLUS reply-ahead: the next page is computed before it is asked for, and never served after a change', async () => {
  const dir = await big();
  const p = procs[P.READDIRPLUS] as ProcedureDef & { stats: AheadStats };
  const tick = () => new Promise((r) => setImmediate(r)); // the reply has gone out: the next page is computed
  const last = (r: { entries: { cookie: bigint }[] }) => r.entries[r.entries.length - 1].cookie;
  const before = { ...p.stats };
  let pages = 0;
  const names: string[] = [];
  for (let cookie = 0n; ; pages++) {
    const r = await readdirplus(dir, cookie, 4096, 4096);
    ok(r);
    names.push(...r.entries.map((e) => e.name));
    await tick();
    if (r.eof) break;
    cookie = last(r);
  }
  assert.equal(new Set(names).size, BIG + 2, 'every name once');
  assert.equal(p.stats.served - before.served, pages, 'every page after the first was computed ahead');
  // A SETATTR of an entry on the next page, between two pages: that page is computed again.
  const r1 = await readdirplus(dir, 0n, 4096, 4096);
  ok(r1);
  await tick();
  const peek = await readdirplus(dir, last(r1), 4096, 4000); // other budgets: its own computation
  ok(peek);
  const victim = peek.entries[3];
  ok(await setattr(victim.handle!, { mode: 0o600 }));
  const stale = p.stats.stale;
  const r2 = await readdirplus(dir, last(r1), 4096, 4096);
  ok(r2);
  assert.equal(p.stats.stale, stale + 1, 'the page computed before the change was not served');
  assert.equal(r2.entries.find((e) => e.name === victim.name)!.attrs!.mode, 0o600);
  // A new entry in the directory after a page went out: the next page (computed ahead) is not used.
  await tick();
  ok(await create(dir, uniq('new'), { mode: 0, attrs: { mode: 0o644 } }));
  const stale2 = p.stats.stale;
  ok(await readdirplus(dir, last(r2), 4096, 4096));
  assert.equal(p.stats.stale, stale2 + 1);
});

test('READDIRPLUS reply-ahead: a page computed longer ago than readdirplusAheadMs is computed again', async () => {
  const dir = await big();
  const aged: Nfs3Env = { ...env, readdirplusAheadMs: 0, readdirplusAhead: { started: 0, served: 0, stale: 0 } };
  const list = async (e: Nfs3Env, pause: boolean) => {
    const names: string[] = [];
    for (let cookie = 0n; ; ) {
      const r = await readdirplus(dir, cookie, 4096, 4096, e);
      ok(r);
      names.push(...r.entries.map((x) => `${x.name} ${x.attrs?.mode}`));
      if (r.eof) return names;
      cookie = r.entries[r.entries.length - 1].cookie;
      if (pause) {
        // Let the next page's computation start (it stamps its age then), then let the wall clock move
        // on: a timer alone may fire early by Date.now(), as libuv measures from the loop's cached time.
        await new Promise((res) => setImmediate(res));
        const t = Date.now();
        while (Date.now() - t < 2) await new Promise((res) => setTimeout(res, 1));
      }
    }
  };
  assert.deepEqual(await list(aged, true), await list(env, false), 'the same listing');
  const s = aged.readdirplusAhead!;
  assert.ok(s.started >= 2, JSON.stringify(s));
  assert.equal(s.served, 0, `no page older than the limit was served: ${JSON.stringify(s)}`);
  assert.equal(s.stale, s.started, JSON.stringify(s));
});

test('READDIRPLUS: an entry that vanished mid-listing gets no attributes/handle instead of failing the call', async () => {
  const pubT = await lookupFh(tRoot, 'pub');
  const d = uniq('vanish');
  ok(await mkdir(pubT, d, {}));
  const dir = await lookupFh(pubT, d);
  for (const n of ['a', 'ghost', 'z']) await newFile(dir, n);
  // Force the readdir + lookup path (no readdirPlus) with a lookup that fails for "ghost".
  const plus = MemoryBackend.prototype.readdirPlus.bind(tBackend);
  Object.defineProperty(tBackend, 'readdirPlus', { value: undefined, configurable: true });
  Object.defineProperty(tBackend, 'readdir', {
    configurable: true,
    value: async (dn: Node, cookie: bigint, limit: number) => {
      const p = await plus(dn, cookie, limit);
      return { entries: p.entries.map(({ name, fileid, cookie: c }) => ({ name, fileid, cookie: c })), eof: p.eof };
    },
  });
  tBackend.ghosts.add('ghost');
  try {
    const r = await readdirplus(dir, 0n, 4096, 8192);
    ok(r);
    assert.equal(r.eof, true);
    const byName = new Map(r.entries.map((e) => [e.name, e]));
    assert.equal(byName.size, 5); // a, ghost, z, ".", ".."

    assert.equal(byName.get('ghost')!.attrs, undefined);
    assert.equal(byName.get('ghost')!.handle, undefined);
    assert.ok(byName.get('a')!.attrs && byName.get('a')!.handle);
  } finally {
    tBackend.ghosts.clear();
    delete (tBackend as { readdirPlus?: unknown }).readdirPlus;
    delete (tBackend as { readdir?: unknown }).readdir;
  }
});

// ---- FSSTAT / FSINFO / PATHCONF --------------------------------------------

test('FSSTAT, FSINFO, PATHCONF', async () => {
  const fs = await call(P.FSSTAT, C.encodeFsstatArgs, { fsroot: root }, C.decodeFsstatRes);
  ok(fs);
  assert.ok(fs.tbytes >= fs.fbytes && fs.fbytes >= 0n);
  assert.ok(fs.attrs);
  const fi = await call(P.FSINFO, C.encodeFsinfoArgs, { fsroot: root }, C.decodeFsinfoRes);
  ok(fi);
  assert.equal(fi.rtmax, 1 << 20);
  assert.equal(fi.rtpref, 1 << 20);
  assert.equal(fi.wtmax, 1 << 20);
  assert.equal(fi.wtpref, 1 << 20);
  assert.equal(fi.rtmult, 4096);
  assert.equal(fi.dtpref, 65536);
  assert.equal(fi.maxfilesize, (1n << 63n) - 1n);
  assert.deepEqual(fi.timeDelta, { seconds: 0, nseconds: 1 });
  assert.equal(fi.properties, 0x1 | 0x2 | 0x8 | 0x10);
  const pc = await call(P.PATHCONF, C.encodePathconfArgs, { object: pub }, C.decodePathconfRes, BOB);
  ok(pc);
  assert.equal(pc.linkmax, 65000);
  assert.equal(pc.nameMax, 255);
  assert.equal(pc.noTrunc, true);
  assert.equal(pc.chownRestricted, true);
  assert.equal(pc.caseInsensitive, false);
  assert.equal(pc.casePreserving, true);
  st(await call(P.FSINFO, C.encodeFsinfoArgs, { fsroot: randomBytes(30) }, C.decodeFsinfoRes), S.BADHANDLE);
});
