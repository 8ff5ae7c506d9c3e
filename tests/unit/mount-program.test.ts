/** MOUNT v3: MNT/DUMP/UMNT/UMNTALL/EXPORT over the real ExportTable and MemoryBackend. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { XdrReader, XdrWriter, XdrError } from '../../src/xdr/index.js';
import { ExportTable } from '../../src/export/table.js';
import { defaultExportOptions } from '../../src/export/exports-file.js';
import type { Export, ExportOptions } from '../../src/export/types.js';
import { MemoryBackend } from '../../src/storage/memory.js';
import type { CallContext, Peer } from '../../src/rpc/context.js';
import type { ProcedureDef, RpcProgram } from '../../src/rpc/program.js';
import { createMountProgram } from '../../src/mount/program.js';
import { MountList } from '../../src/mount/mount-list.js';
import * as M from '../../src/mount/codec.js';
import { MountProc, MountStat } from '../../src/mount/constants.js';
import type { MntRes } from '../../src/mount/types.js';
import { replyBytes } from '../helpers/nfs-raw.js';

const LOCAL: Peer = { address: '127.0.0.1', port: 700, family: 'IPv4' };
const OTHER: Peer = { address: '10.1.2.3', port: 700, family: 'IPv4' };

function ctx(peer: Peer, proc: number): CallContext {
  return {
    xid: 7,
    prog: 100005,
    vers: 3,
    proc,
    cred: { flavor: 'none' },
    peer,
    local: { address: '127.0.0.1', port: 20048 },
    connectionId: 1,
  };
}

let table: ExportTable;
let prog: RpcProgram & { mountList: MountList };
let procs: ReadonlyArray<ProcedureDef | undefined>;
let expA: Export;

const opts = (o: Partial<ExportOptions> = {}): ExportOptions => ({ ...defaultExportOptions(), secure: false, ...o });

before(async () => {
  table = new ExportTable({ secret: Buffer.alloc(32, 3), server: { privileged: true, uid: 0, gid: 0, gids: [] } });
  const a = new MemoryBackend();
  const r = await a.root();
  await a.mkdir(r, 'sub', 0o755, { uid: 0, gid: 0 });
  await a.create(r, 'file', { mode: 0o644, owner: { uid: 0, gid: 0 }, exclusive: true });
  await a.symlink(r, 'ln', 'sub', 0o777, { uid: 0, gid: 0 });
  expA = await table.add({ path: '/srv/a', clients: [{ host: '*', options: opts() }] }, a);
  await table.add({ path: '/srv/b', clients: [{ host: '10.0.0.0/8', options: opts({ readOnly: false }) }, { host: '192.168.1.5', options: opts() }] }, new MemoryBackend());
  await table.add({ path: '/srv/secure', clients: [{ host: '*', options: opts({ secure: true }) }] }, new MemoryBackend());
  prog = createMountProgram({ exports: table, gate: table });
  procs = prog.versions.get(3)!;
});

async function call<R>(proc: number, args: Buffer, peer: Peer, decode: (r: XdrReader) => R): Promise<R> {
  const p = procs[proc]!;
  const a = p.decode(new XdrReader(args));
  const res = await p.handle(a, ctx(peer, proc));
  const w = new XdrWriter();
  const r = new XdrReader(replyBytes(w, p.encode(w, res)));
  const out = decode(r);
  assert.equal(r.remaining, 0);
  return out;
}

function path(p: string): Buffer {
  const w = new XdrWriter();
  M.encodeDirpath(w, p);
  return Buffer.from(w.finish());
}
const none = Buffer.alloc(0);
const mnt = (p: string, peer: Peer = LOCAL) => call(MountProc.MNT, path(p), peer, M.decodeMntRes);
const dump = () => call(MountProc.DUMP, none, LOCAL, M.decodeMountList);

test('program: 100005 version 3 only, six procedures', () => {
  assert.equal(prog.number, 100005);
  assert.deepEqual([...prog.versions.keys()], [3]);
  assert.deepEqual(procs.map((p) => p!.name), ['NULL', 'MNT', 'DUMP', 'UMNT', 'UMNTALL', 'EXPORT']);
  assert.ok(procs.every((p) => p!.cache === 'none'));
});

test('NULL answers nothing', async () => {
  const p = procs[MountProc.NULL]!;
  const w = new XdrWriter();
  p.encode(w, await p.handle(p.decode(new XdrReader(none)), ctx(LOCAL, 0)));
  assert.equal(w.length, 0);
});

test('MNT of an export: a handle the gate accepts, flavors AUTH_SYS then AUTH_NONE', async () => {
  const r = await mnt('/srv/a');
  assert.equal(r.status, MountStat.OK);
  assert.ok(r.status === 0);
  assert.deepEqual(r.authFlavors, [1, 0]);
  assert.ok(r.fhandle.length > 0 && r.fhandle.length <= 64);
  const v = await table.verify(r.fhandle, { cred: { flavor: 'none' }, peer: LOCAL });
  assert.equal(v.export.id, expA.id);
  assert.ok(v.node.key.equals(expA.rootKey));
});

test('MNT of a directory inside an export', async () => {
  const r = await mnt('/srv/a/sub');
  assert.ok(r.status === 0);
  const v = await table.verify(r.fhandle, { cred: { flavor: 'none' }, peer: LOCAL });
  assert.equal(v.attrs.type, 'dir');
  assert.ok(!v.node.key.equals(expA.rootKey));
});

test('MNT refusals: not exported / not to you / insecure port → ACCES; missing → NOENT; file or symlink → NOTDIR', async () => {
  const cases: Array<[string, Peer, number]> = [
    ['/srv/nope', LOCAL, MountStat.ACCES],
    ['/srv/b', LOCAL, MountStat.ACCES],
    ['/srv/secure', { ...LOCAL, port: 40000 }, MountStat.ACCES],
    ['/srv/a/missing', LOCAL, MountStat.NOENT],
    ['/srv/a/file', LOCAL, MountStat.NOTDIR],
    ['/srv/a/ln', LOCAL, MountStat.NOTDIR],
  ];
  for (const [p, peer, want] of cases) {
    const r: MntRes = await mnt(p, peer);
    assert.equal(r.status, want, p);
  }
  assert.equal((await mnt('/srv/b', OTHER)).status, MountStat.OK);
  assert.equal((await mnt('/srv/secure', { ...LOCAL, port: 700 })).status, MountStat.OK);
});

test('MNT: a dirpath longer than 1024 bytes is a decode error', () => {
  const w = new XdrWriter();
  w.string('/' + 'x'.repeat(1024));
  assert.throws(() => procs[MountProc.MNT]!.decode(new XdrReader(Buffer.from(w.finish()))), XdrError);
  assert.throws(() => M.encodeDirpath(new XdrWriter(), '/' + 'x'.repeat(1024)), XdrError);
  assert.throws(() => procs[MountProc.UMNT]!.decode(new XdrReader(Buffer.from([0, 0]))), XdrError);
});

test('DUMP / UMNT / UMNTALL keep the per-client mount list', async () => {
  prog.mountList.removeHost(LOCAL.address);
  prog.mountList.removeHost(OTHER.address);
  assert.equal((await mnt('/srv/a')).status, 0);
  assert.equal((await mnt('/srv/a/sub')).status, 0);
  assert.equal((await mnt('/srv/a')).status, 0); // again: still one entry
  assert.equal((await mnt('/srv/b', OTHER)).status, 0);
  assert.equal((await mnt('/srv/nope')).status, MountStat.ACCES); // refused mounts are not recorded
  const key = (l: { hostname: string; directory: string }[]) => l.map((m) => `${m.hostname} ${m.directory}`).sort();
  assert.deepEqual(key(await dump()), ['10.1.2.3 /srv/b', '127.0.0.1 /srv/a', '127.0.0.1 /srv/a/sub']);
  await call(MountProc.UMNT, path('/srv/a/sub'), LOCAL, () => undefined);
  await call(MountProc.UMNT, path('/srv/never'), LOCAL, () => undefined); // unknown: no error
  assert.deepEqual(key(await dump()), ['10.1.2.3 /srv/b', '127.0.0.1 /srv/a']);
  await call(MountProc.UMNTALL, none, LOCAL, () => undefined);
  assert.deepEqual(key(await dump()), ['10.1.2.3 /srv/b']);
});

test('EXPORT: every export with its host patterns', async () => {
  const list = await call(MountProc.EXPORT, none, LOCAL, M.decodeExports);
  const byDir = new Map(list.map((e) => [e.dir, e.groups]));
  assert.deepEqual(byDir.get('/srv/a'), ['*']);
  assert.deepEqual(byDir.get('/srv/b'), ['10.0.0.0/8', '192.168.1.5']);
  assert.ok(byDir.has('/srv/secure'));
  assert.equal(list.length, 3);
});

test('mount list is bounded: the oldest entries go first', () => {
  const l = new MountList(3);
  for (let i = 0; i < 5; i++) l.add('h', `/p${i}`);
  assert.equal(l.size, 3);
  assert.deepEqual(l.list().map((m) => m.directory), ['/p2', '/p3', '/p4']);
  l.add('h', '/p2'); // refreshed: now the newest
  l.add('h', '/p5');
  assert.deepEqual(l.list().map((m) => m.directory), ['/p4', '/p2', '/p5']);
  assert.equal(l.removeHost('h'), 3);
  assert.equal(l.size, 0);
});

test('codec: results round-trip and truncations throw', () => {
  const enc = (f: (w: XdrWriter) => void) => {
    const w = new XdrWriter();
    f(w);
    return Buffer.from(w.finish());
  };
  const ok: MntRes = { status: 0, fhandle: Buffer.alloc(40, 1), authFlavors: [1, 0] };
  const b1 = enc((w) => M.encodeMntRes(w, ok));
  assert.deepEqual(M.decodeMntRes(new XdrReader(b1)), ok);
  assert.deepEqual(M.decodeMntRes(new XdrReader(enc((w) => M.encodeMntRes(w, { status: MountStat.ACCES })))), { status: 13 });
  const ml = [{ hostname: 'h1', directory: '/a' }, { hostname: 'h2', directory: '/b/c' }];
  const b2 = enc((w) => M.encodeMountList(w, ml));
  assert.deepEqual(M.decodeMountList(new XdrReader(b2)), ml);
  const ex = [{ dir: '/a', groups: ['*'] }, { dir: '/b', groups: [] }];
  const b3 = enc((w) => M.encodeExports(w, ex));
  assert.deepEqual(M.decodeExports(new XdrReader(b3)), ex);
  for (const [b, d] of [[b1, M.decodeMntRes], [b2, M.decodeMountList], [b3, M.decodeExports]] as const) {
    for (let n = 0; n < b.length; n++) assert.throws(() => (d as (r: XdrReader) => unknown)(new XdrReader(b.subarray(0, n))), XdrError);
  }
  // A handle longer than FHSIZE3 is refused by a reader.
  assert.throws(() => M.decodeMntRes(new XdrReader(enc((w) => M.encodeMntRes(w, { status: 0, fhandle: Buffer.alloc(65), authFlavors: [] })))), XdrError);
});
