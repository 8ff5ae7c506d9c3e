import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ExportTable, exportIdForPath } from '../../src/export/table.js';
import { parseExports } from '../../src/export/exports-file.js';
import { encodeFh } from '../../src/export/fh.js';
import { GateError, May, type Caller, type ServerIdentity } from '../../src/export/types.js';
import type { HostResolver } from '../../src/export/match.js';
import type { Attrs, Backend, FileType, Node } from '../../src/storage/types.js';
import { storageError } from '../../src/storage/types.js';
import type { Credential } from '../../src/rpc/auth.js';
import type { Peer } from '../../src/rpc/context.js';

/** A tiny in-memory tree: just enough Backend for the gate and MOUNT. */
interface FakeObj {
  id: number;
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  children: Map<string, number>;
}
class FakeBackend implements Backend {
  readonly kind = 'fake';
  readonly persistentKeys = true;
  readonly localFd = false;
  readonly objs = new Map<number, FakeObj>();
  private next = 1;
  constructor() {
    this.add(0, '', 'dir', 0o755, 0, 0);
  }
  add(parent: number, name: string, type: FileType, mode: number, uid = 1000, gid = 100): number {
    const id = this.next++;
    this.objs.set(id, { id, type, mode, uid, gid, children: new Map() });
    if (parent) this.objs.get(parent)!.children.set(name, id);
    return id;
  }
  node(id: number): Node {
    const key = Buffer.alloc(4);
    key.writeUInt32BE(id);
    return { key, fileid: BigInt(id) };
  }
  private obj(n: Node): FakeObj {
    const o = this.objs.get(n.key.readUInt32BE(0));
    if (!o) throw storageError('ESTALE', 'gone');
    return o;
  }
  async root(): Promise<Node> {
    return this.node(1);
  }
  async fromKey(key: Buffer): Promise<Node> {
    if (key.length !== 4 || !this.objs.has(key.readUInt32BE(0))) throw storageError('ESTALE', 'no such key');
    return this.node(key.readUInt32BE(0));
  }
  async getattr(n: Node): Promise<Attrs> {
    const o = this.obj(n);
    const t = { sec: 0, nsec: 0 };
    return { type: o.type, mode: o.mode, nlink: 1, uid: o.uid, gid: o.gid, size: 0n, used: 0n, rdev: { major: 0, minor: 0 }, fsid: 77n, fileid: BigInt(o.id), atime: t, mtime: t, ctime: t };
  }
  async lookup(dir: Node, name: string): Promise<Node> {
    const d = this.obj(dir);
    if (d.type !== 'dir') throw storageError('ENOTDIR', 'not a dir');
    const id = d.children.get(name);
    if (id === undefined) throw storageError('ENOENT', `no ${name}`);
    return this.node(id);
  }
  async parent(): Promise<Node> { throw storageError('ENOTSUP', 'fake'); }
  async setattr(): Promise<Attrs> { throw storageError('ENOTSUP', 'fake'); }
  async readlink(): Promise<string> { throw storageError('ENOTSUP', 'fake'); }
  async read(): Promise<never> { throw storageError('ENOTSUP', 'fake'); }
  async write(): Promise<never> { throw storageError('ENOTSUP', 'fake'); }
  async commit(): Promise<void> { throw storageError('ENOTSUP', 'fake'); }
  async create(): Promise<Node> { throw storageError('ENOTSUP', 'fake'); }
  async mkdir(): Promise<Node> { throw storageError('ENOTSUP', 'fake'); }
  async symlink(): Promise<Node> { throw storageError('ENOTSUP', 'fake'); }
  async mknod(): Promise<Node> { throw storageError('ENOTSUP', 'fake'); }
  async remove(): Promise<void> { throw storageError('ENOTSUP', 'fake'); }
  async rmdir(): Promise<void> { throw storageError('ENOTSUP', 'fake'); }
  async rename(): Promise<void> { throw storageError('ENOTSUP', 'fake'); }
  async link(): Promise<void> { throw storageError('ENOTSUP', 'fake'); }
  async readdir(): Promise<never> { throw storageError('ENOTSUP', 'fake'); }
  async statfs(): Promise<never> { throw storageError('ENOTSUP', 'fake'); }
  async close(): Promise<void> {}
}

const PRIV: ServerIdentity = { privileged: true, uid: 0, gid: 0, gids: [] };
const resolver: HostResolver = { async namesFor(a) { return a === '10.0.0.9' ? ['trusted.lan'] : []; } };
const peer = (address: string, port = 800): Peer => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });
const sys = (uid: number, gid: number, gids: number[] = []): Credential => ({ flavor: 'sys', stamp: 0, machine: 'client', uid, gid, gids });
const caller = (cred: Credential, p: Peer = peer('10.0.0.1')): Caller => ({ cred, peer: p });

async function code(p: Promise<unknown>, c: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.equal((e as { code?: string }).code, c, String(e));
    return true;
  });
}

async function setup(exportsText: string, server = PRIV) {
  const secret = randomBytes(32);
  const table = new ExportTable({ secret, server, resolver });
  const b = new FakeBackend();
  // /srv tree: docs/ (0755 uid 1000), docs/file (0640), secret.txt (0600 uid 1000), link -> (lnk), tmp/ (1777 root)
  const docs = b.add(1, 'docs', 'dir', 0o755);
  const sub = b.add(docs, 'sub', 'dir', 0o700);
  const file = b.add(docs, 'file', 'reg', 0o640);
  const lnk = b.add(1, 'link', 'lnk', 0o777);
  const plain = b.add(1, 'plain', 'reg', 0o644);
  const rootOnly = b.add(1, 'rootonly', 'reg', 0o600, 0, 0);
  const [entry] = parseExports(exportsText);
  const exp = await table.add(entry!, b);
  const fh = (id: number) => table.compose(exp, b.node(id));
  return { table, b, exp, secret, ids: { root: 1, docs, sub, file, lnk, plain, rootOnly }, fh };
}

test('round trip: compose then verify; attrs carry the export id as fsid', async () => {
  const { table, exp, fh, ids } = await setup('/srv 10.0.0.0/8(rw)');
  assert.equal(exp.id, exportIdForPath('/srv'));
  assert.notEqual(exp.id, 0);
  assert.equal(table.byId(exp.id), exp);
  assert.deepEqual(table.list(), [exp]);
  const v = await table.verify(fh(ids.file), caller(sys(1000, 100)), { type: 'reg', may: May.READ | May.WRITE });
  assert.equal(v.node.fileid, BigInt(ids.file));
  assert.equal(v.attrs.fsid, BigInt(exp.id));
  assert.deepEqual(v.identity, { uid: 1000, gid: 100, gids: [] });
  assert.equal(v.options.readOnly, false);
  assert.equal(v.export, exp);
});

test('export id is stable across tables and secrets (restart), and collision-checked', async () => {
  const a = await setup('/srv *(rw)');
  const b = await setup('/srv *(rw)');
  assert.equal(a.exp.id, b.exp.id);
  await code(a.table.add({ path: '/srv/', clients: [] }, new FakeBackend()), 'EEXIST');
  const other = await a.table.add({ path: '/other', clients: [] }, new FakeBackend());
  assert.notEqual(other.id, a.exp.id);
});

test('bad handle → EBADHANDLE; handle of another server → EBADHANDLE', async () => {
  const { table, exp, b, ids } = await setup('/srv *(rw)');
  await code(table.verify(Buffer.alloc(20), caller(sys(1, 1))), 'EBADHANDLE');
  await code(table.verify(encodeFh(randomBytes(32), exp.id, b.node(ids.file).key), caller(sys(1, 1))), 'EBADHANDLE');
});

test('stale export and stale node → ESTALE', async () => {
  const { table, fh, ids, b } = await setup('/srv *(rw)');
  const h = fh(ids.file);
  b.objs.delete(ids.file);
  await code(table.verify(h, caller(sys(1000, 100))), 'ESTALE');
  const h2 = fh(ids.docs);
  assert.ok(table.remove('/srv//'));
  await code(table.verify(h2, caller(sys(1000, 100))), 'ESTALE');
  assert.equal(table.remove('/srv'), undefined);
});

test('refused host → EACCES; hostname match via resolver', async () => {
  const { table, fh, ids } = await setup('/srv trusted.lan(rw) 192.168.0.0/16(ro)');
  await code(table.verify(fh(ids.plain), caller(sys(1000, 100), peer('10.0.0.1'))), 'EACCES');
  const v = await table.verify(fh(ids.plain), caller(sys(1000, 100), peer('10.0.0.9')));
  assert.equal(v.options.readOnly, false);
  const v2 = await table.verify(fh(ids.plain), caller(sys(1000, 100), peer('::ffff:192.168.3.4')));
  assert.equal(v2.options.readOnly, true);
});

test('secure port: high port on a secure export → EPERM; insecure lifts it', async () => {
  const s = await setup('/srv *(rw)');
  await code(s.table.verify(s.fh(s.ids.plain), caller(sys(1000, 100), peer('10.0.0.1', 1024))), 'EPERM');
  await s.table.verify(s.fh(s.ids.plain), caller(sys(1000, 100), peer('10.0.0.1', 1023)));
  await s.table.verify(s.fh(s.ids.plain), caller(sys(1000, 100), { address: '', port: 0, family: 'unix' }));
  const i = await setup('/srv *(rw,insecure)');
  await i.table.verify(i.fh(i.ids.plain), caller(sys(1000, 100), peer('10.0.0.1', 40000)));
});

test('check order: host refusal before node lookup, secure port before staleness', async () => {
  const { table, fh, ids, b } = await setup('/srv 10.0.0.0/8(rw)');
  const h = fh(ids.file);
  b.objs.delete(ids.file);
  await code(table.verify(h, caller(sys(1000, 100), peer('192.0.2.1'))), 'EACCES');
  await code(table.verify(h, caller(sys(1000, 100), peer('10.0.0.1', 5000))), 'EPERM');
});

test('squash: root_squash root cannot read a root-only file; no_root_squash can; all_squash', async () => {
  const rs = await setup('/srv *(rw)');
  await code(rs.table.verify(rs.fh(rs.ids.rootOnly), caller(sys(0, 0)), { may: May.READ }), 'EACCES');
  const v = await rs.table.verify(rs.fh(rs.ids.plain), caller(sys(0, 0)));
  assert.deepEqual(v.identity, { uid: 65534, gid: 65534, gids: [] });
  const nrs = await setup('/srv *(rw,no_root_squash)');
  await nrs.table.verify(nrs.fh(nrs.ids.rootOnly), caller(sys(0, 0)), { may: May.READ | May.WRITE });
  const as = await setup('/srv *(rw,all_squash,anonuid=1000,anongid=100)');
  const v2 = await as.table.verify(as.fh(as.ids.plain), caller(sys(5, 5, [1, 2])), { may: May.WRITE });
  assert.deepEqual(v2.identity, { uid: 1000, gid: 100, gids: [] });
  const none = await as.table.verify(as.fh(as.ids.plain), { cred: { flavor: 'none' }, peer: peer('10.0.0.1') });
  assert.equal(none.identity.uid, 1000);
});

test('unprivileged server: everyone acts as the server user', async () => {
  const s = await setup('/srv *(rw,no_root_squash)', { privileged: false, uid: 1000, gid: 100, gids: [100] });
  const v = await s.table.verify(s.fh(s.ids.plain), caller(sys(0, 0)), { may: May.WRITE });
  assert.deepEqual(v.identity, { uid: 1000, gid: 100, gids: [100] });
  await code(s.table.verify(s.fh(s.ids.rootOnly), caller(sys(0, 0)), { may: May.READ }), 'EACCES');
});

test('read-only export: WRITE/TRUNC/OWNER → EROFS, READ and NONE fine', async () => {
  const { table, fh, ids } = await setup('/srv *(ro,no_root_squash)');
  for (const may of [May.WRITE, May.TRUNC, May.OWNER, May.READ | May.WRITE]) {
    await code(table.verify(fh(ids.plain), caller(sys(0, 0)), { may }), 'EROFS');
  }
  await table.verify(fh(ids.plain), caller(sys(0, 0)), { may: May.READ });
  await table.verify(fh(ids.plain), caller(sys(0, 0)));
});

test('permission: EACCES for mode, EPERM for owner-only operations', async () => {
  const { table, fh, ids } = await setup('/srv *(rw)');
  await code(table.verify(fh(ids.file), caller(sys(3000, 300)), { may: May.READ }), 'EACCES');
  await table.verify(fh(ids.file), caller(sys(3000, 300, [100])), { may: May.READ }); // supplementary group
  await code(table.verify(fh(ids.file), caller(sys(3000, 100)), { may: May.WRITE }), 'EACCES');
  await code(table.verify(fh(ids.file), caller(sys(3000, 100)), { may: May.OWNER }), 'EPERM');
  await table.verify(fh(ids.file), caller(sys(1000, 1)), { may: May.OWNER });
  await code(table.verify(fh(ids.sub), caller(sys(3000, 100)), { type: 'dir', may: May.LOOKUP }), 'EACCES');
});

test('type checks', async () => {
  const { table, fh, ids } = await setup('/srv *(rw)');
  const c = caller(sys(1000, 100));
  await code(table.verify(fh(ids.plain), c, { type: 'dir' }), 'ENOTDIR');
  await code(table.verify(fh(ids.lnk), c, { type: 'dir' }), 'ESYMLINKDIR');
  await code(table.verify(fh(ids.docs), c, { type: 'reg' }), 'EISDIR');
  await code(table.verify(fh(ids.docs), c, { type: 'notdir' }), 'EISDIR');
  await code(table.verify(fh(ids.docs), c, { type: 'lnk' }), 'EINVAL');
  await code(table.verify(fh(ids.plain), c, { type: 'lnk' }), 'EINVAL');
  await code(table.verify(fh(ids.lnk), c, { type: 'reg' }), 'ELOOP');
  await table.verify(fh(ids.lnk), c, { type: 'notdir' });
  await table.verify(fh(ids.lnk), c, { type: 'lnk' });
  await table.verify(fh(ids.docs), c, { type: 'dir' });
  await table.verify(fh(ids.docs), c, { type: 'any' });
});

test('resolveMount: export root, subdirectories, longest prefix, refusals, symlinks', async () => {
  const { table, exp, ids } = await setup('/srv 10.0.0.0/8(rw) 192.168.0.0/16(ro,insecure)');
  const p = peer('10.0.0.1');
  const r = await table.resolveMount('/srv', p);
  assert.equal(r.export, exp);
  assert.equal(r.node.fileid, 1n);
  assert.equal(r.options.readOnly, false);
  assert.equal((await table.resolveMount('//srv/./docs//', p)).node.fileid, BigInt(ids.docs));
  assert.equal((await table.resolveMount('/srv/docs/sub', p)).node.fileid, BigInt(ids.sub));
  assert.equal((await table.resolveMount('/srv/docs/sub', peer('192.168.1.1', 40000))).options.readOnly, true);
  await code(table.resolveMount('/srv/docs/nope', p), 'ENOENT');
  await code(table.resolveMount('/srv/plain', p), 'ENOTDIR');
  await code(table.resolveMount('/srv/docs/file/x', p), 'ENOTDIR');
  await code(table.resolveMount('/srv/link', p), 'ENOTDIR');
  await code(table.resolveMount('/srv/docs/../..', p), 'EINVAL');
  await code(table.resolveMount('srv', p), 'EINVAL');
  await code(table.resolveMount('/srv/' + 'x'.repeat(256), p), 'ENAMETOOLONG');
  await code(table.resolveMount('/' + 'a/'.repeat(600), p), 'ENAMETOOLONG');
  await code(table.resolveMount('/srvx', p), 'EACCES'); // component-wise, not string prefix
  await code(table.resolveMount('/', p), 'EACCES');
  await code(table.resolveMount('/srv', peer('172.16.0.1')), 'EACCES');
  await code(table.resolveMount('/srv', peer('10.0.0.1', 2000)), 'EPERM');

  // Nested export: the longest prefix wins, even when it refuses the host.
  const inner = new FakeBackend();
  inner.add(1, 'deep', 'dir', 0o755);
  const innerExp = await table.add({ path: '/srv/docs', clients: [{ host: '10.0.0.7', options: r.options }] }, inner);
  assert.equal((await table.resolveMount('/srv/docs/deep', peer('10.0.0.7'))).export, innerExp);
  await code(table.resolveMount('/srv/docs', p), 'EACCES');
  await code(table.resolveMount('/srv/plainer', p), 'ENOENT');
});

test('a handle composed for one export does not verify under another id', async () => {
  const { table, exp, b, ids, secret } = await setup('/srv *(rw)');
  const other = await table.add({ path: '/other', clients: [{ host: '*', options: (await table.optionsFor(exp, peer('1.1.1.1')))! }] }, new FakeBackend());
  const h = encodeFh(secret, other.id, b.node(ids.rootOnly).key);
  // Same key in the other backend does not exist → ESTALE, never the /srv object.
  await code(table.verify(h, caller(sys(0, 0))), 'ESTALE');
});
