/**
 * Restarts, crashes and retransmissions against server child processes:
 * handles survive a restart (also across an on-disk rename while the server
 * was down), committed data survives kill -9, the write verifier changes
 * with each boot, WRITE reports honest stability, and the duplicate request
 * cache replays non-idempotent replies byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import {
  NfsClient, RawConn, CRED, chownTree, buildCall, frame, parseReply, replyStatus, prng, randomBytesSeeded, nfs3StatName,
  NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc, StableHow3, CreateMode3,
} from '../helpers/nfs-raw.js';
import { Nfs3Stat, encodeRemoveArgs, encodeCreateArgs, decodeRemoveRes, decodeDirCreateRes, type WriteRes } from '../../src/nfs3/index.js';

/** A hang detector only (a hung test fails instead of blocking the run); nothing here asserts speed. */
const WATCHDOG = { timeout: 120_000 };

const S = Nfs3Stat;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Fixture {
  tmp: string;
  dir: string;
  stateDir: string;
}

function fixture(name: string): Fixture {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `nfsl-${name}-`));
  const dir = path.join(tmp, 'export');
  fs.mkdirSync(dir, { mode: 0o755 });
  return { tmp, dir, stateDir: path.join(tmp, 'state') };
}

/** Run `body` with a place to register servers and clients; all are stopped/closed afterwards whatever happens. */
async function withCleanup(f: Fixture, body: (track: { srv: (s: ServerProcess) => ServerProcess; cli: (c: NfsClient) => NfsClient }) => Promise<void>): Promise<void> {
  const servers: ServerProcess[] = [];
  const clients: NfsClient[] = [];
  try {
    await body({ srv: (s) => (servers.push(s), s), cli: (c) => (clients.push(c), c) });
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    for (const s of servers) await s.kill9();
    fs.rmSync(f.tmp, { recursive: true, force: true });
  }
}

function attrsOf(r: Awaited<ReturnType<NfsClient['getattr']>>, what: string) {
  assert.equal(r.status, 0, `GETATTR ${what}: ${nfs3StatName(r.status)}`);
  assert.ok(r.status === 0);
  return r.attrs;
}

test('handles taken before a restart work after it, also across an on-disk rename; a file deleted meanwhile is STALE', WATCHDOG, async () => {
  const f = fixture('restart-handles');
  const content = randomBytesSeeded(prng(7), 70_000);
  fs.mkdirSync(path.join(f.dir, 'top/mid/leaf'), { recursive: true });
  fs.writeFileSync(path.join(f.dir, 'top/mid/leaf/file.bin'), content);
  fs.writeFileSync(path.join(f.dir, 'top/mid/gone.txt'), 'soon gone');
  chownTree(f.dir);
  await withCleanup(f, async (track) => {
    // First boot: take handles.
    let srv = track.srv(await startServer({ dir: f.dir, stateDir: f.stateDir }));
    const port = srv.port;
    let c = track.cli(await NfsClient.connect(port));
    const root = await c.mount(f.dir);
    const leafFh = await c.walk(root, 'top/mid/leaf');
    const fileFh = await c.walk(leafFh, 'file.bin');
    const goneFh = await c.walk(root, 'top/mid/gone.txt');
    const fileId = attrsOf(await c.getattr(fileFh), 'file').fileid;
    const leafId = attrsOf(await c.getattr(leafFh), 'leaf').fileid;
    const rootId = attrsOf(await c.getattr(root), 'root').fileid;
    assert.equal(sha(await c.readAll(fileFh)), sha(content));
    await c.close();

    // Clean restart (SIGTERM) on the same port and state dir.
    assert.equal(await srv.stop(), 0, `clean exit on SIGTERM:\n${srv.output()}`);
    srv = track.srv(await startServer({ dir: f.dir, stateDir: f.stateDir, port }));
    c = track.cli(await NfsClient.connect(port));
    assert.equal(attrsOf(await c.getattr(fileFh), 'file after restart').fileid, fileId);
    assert.equal(attrsOf(await c.getattr(leafFh), 'leaf after restart').fileid, leafId);
    assert.equal(attrsOf(await c.getattr(root), 'root after restart').fileid, rootId);
    assert.equal(sha(await c.readAll(fileFh)), sha(content), 'READ with the old handle after restart');
    const again = await c.lookup(leafFh, 'file.bin');
    assert.equal(again.status === 0 && again.objAttrs?.fileid, fileId, 'LOOKUP in an old directory handle');
    // The same export root handle comes back from MNT.
    assert.deepEqual(await c.mount(f.dir), root);
    await c.close();

    // Down: rename the file's parent (and grandparent) on disk, delete another file.
    assert.equal(await srv.stop(), 0);
    fs.renameSync(path.join(f.dir, 'top/mid/leaf'), path.join(f.dir, 'top/mid/leaf-renamed'));
    fs.renameSync(path.join(f.dir, 'top/mid'), path.join(f.dir, 'top/mid2'));
    fs.unlinkSync(path.join(f.dir, 'top/mid2/gone.txt'));
    srv = track.srv(await startServer({ dir: f.dir, stateDir: f.stateDir, port }));
    c = track.cli(await NfsClient.connect(port));
    const after = await c.getattr(fileFh);
    assert.equal(attrsOf(after, 'file after rename while down').fileid, fileId);
    assert.equal(sha(await c.readAll(fileFh)), sha(content), 'READ after its directories were renamed while down');
    assert.equal(attrsOf(await c.getattr(leafFh), 'renamed leaf').fileid, leafId);
    const g = await c.getattr(goneFh);
    assert.equal(g.status, S.STALE, `file deleted while down: ${nfs3StatName(g.status)}`);
    const r = await c.read(goneFh, 0, 10);
    assert.equal(r.status, S.STALE, `READ of a file deleted while down: ${nfs3StatName(r.status)}`);
    // The new names resolve to the same objects.
    const viaNewPath = await c.walk(root, 'top/mid2/leaf-renamed/file.bin');
    assert.equal(attrsOf(await c.getattr(viaNewPath), 'new path').fileid, fileId);
    await c.close();
    assert.equal(await srv.stop(), 0);
  });
});

test('durability: UNSTABLE writes + COMMIT survive kill -9; the write verifier changes with the boot', WATCHDOG, async () => {
  const f = fixture('restart-durable');
  chownTree(f.dir);
  const data = randomBytesSeeded(prng(99), 1024 * 1024 + 12_345);
  const CHUNK = 64 * 1024;
  await withCleanup(f, async (track) => {
    let srv = track.srv(await startServer({ dir: f.dir, stateDir: f.stateDir }));
    const port = srv.port;
    let c = track.cli(await NfsClient.connect(port));
    const root = await c.mount(f.dir);
    const cr = await c.create(root, 'durable.bin', CreateMode3.GUARDED);
    assert.equal(cr.status, 0, `CREATE: ${nfs3StatName(cr.status)}`);
    assert.ok(cr.status === 0 && cr.obj);
    const fh = cr.obj;
    // Chunks in a scrambled order, several in flight at once.
    const offsets: number[] = [];
    for (let off = 0; off < data.length; off += CHUNK) offsets.push(off);
    const rand = prng(5);
    for (let i = offsets.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [offsets[i], offsets[j]] = [offsets[j]!, offsets[i]!];
    }
    const results: WriteRes[] = await Promise.all(offsets.map((off) => c.write(fh, off, data.subarray(off, off + CHUNK), StableHow3.UNSTABLE)));
    const verfs = new Set<string>();
    for (const [i, w] of results.entries()) {
      assert.equal(w.status, 0, `WRITE at ${offsets[i]}: ${nfs3StatName(w.status)}`);
      assert.ok(w.status === 0);
      assert.equal(w.count, Math.min(CHUNK, data.length - offsets[i]!));
      verfs.add(w.verf.toString('hex'));
    }
    assert.equal(verfs.size, 1, 'every WRITE of one boot returns the same verifier');
    const bootVerf = [...verfs][0]!;
    const cm = await c.commit(fh, 0, 0);
    assert.equal(cm.status, 0, `COMMIT: ${nfs3StatName(cm.status)}`);
    assert.ok(cm.status === 0);
    assert.equal(cm.verf.toString('hex'), bootVerf, 'COMMIT verifier equals the WRITE verifiers');

    // Crash.
    await srv.kill9();
    assert.equal(srv.child.signalCode, 'SIGKILL');
    srv = track.srv(await startServer({ dir: f.dir, stateDir: f.stateDir, port }));
    c = track.cli(await NfsClient.connect(port));
    // The old handle still works after a crash (no clean shutdown saved any state).
    assert.equal(sha(await c.readAll(fh)), sha(data), 'READ back after kill -9 (old handle)');
    const root2 = await c.mount(f.dir);
    const fh2 = await c.walk(root2, 'durable.bin');
    assert.equal(sha(await c.readAll(fh2)), sha(data), 'READ back after kill -9 (new lookup)');
    assert.equal(fs.readFileSync(path.join(f.dir, 'durable.bin')).equals(data), true, 'bytes on disk');
    // A new boot, a new verifier: the client would know to resend uncommitted writes.
    const w2 = await c.write(fh, data.length, Buffer.from('tail'), StableHow3.UNSTABLE);
    assert.equal(w2.status, 0);
    assert.ok(w2.status === 0);
    assert.notEqual(w2.verf.toString('hex'), bootVerf, 'write verifier after restart');
    const cm2 = await c.commit(fh);
    assert.ok(cm2.status === 0);
    assert.equal(cm2.verf.toString('hex'), w2.verf.toString('hex'));
    await c.close();
    assert.equal(await srv.stop(), 0);
  });
});

test('WRITE reports its stability: FILE_SYNC → FILE_SYNC, DATA_SYNC → DATA_SYNC or FILE_SYNC, UNSTABLE → UNSTABLE', WATCHDOG, async () => {
  const f = fixture('restart-stable');
  chownTree(f.dir);
  await withCleanup(f, async (track) => {
    const srv = track.srv(await startServer({ dir: f.dir, stateDir: f.stateDir }));
    const c = track.cli(await NfsClient.connect(srv.port));
    const root = await c.mount(f.dir);
    const cr = await c.create(root, 'stable.bin', CreateMode3.GUARDED);
    assert.ok(cr.status === 0 && cr.obj);
    const fh = cr.obj;
    const payload = Buffer.alloc(8192, 0x5a);
    for (let round = 0; round < 3; round++) {
      const fsync = await c.write(fh, round * 3 * 8192, payload, StableHow3.FILE_SYNC);
      assert.ok(fsync.status === 0, `FILE_SYNC WRITE: ${nfs3StatName(fsync.status)}`);
      assert.equal(fsync.committed, StableHow3.FILE_SYNC, 'FILE_SYNC write committed');
      const dsync = await c.write(fh, (round * 3 + 1) * 8192, payload, StableHow3.DATA_SYNC);
      assert.ok(dsync.status === 0);
      assert.ok(dsync.committed === StableHow3.DATA_SYNC || dsync.committed === StableHow3.FILE_SYNC, `DATA_SYNC write committed ${dsync.committed}`);
      const unst = await c.write(fh, (round * 3 + 2) * 8192, payload, StableHow3.UNSTABLE);
      assert.ok(unst.status === 0);
      assert.equal(unst.committed, StableHow3.UNSTABLE, 'UNSTABLE write committed');
      assert.equal(unst.count, payload.length);
      assert.deepEqual(unst.verf, fsync.verf);
    }
    assert.ok((await c.commit(fh)).status === 0);
    assert.equal(fs.statSync(path.join(f.dir, 'stable.bin')).size, 9 * 8192);
    await c.close();
    assert.equal(await srv.stop(), 0);
  });
});

test('DRC: a REMOVE or CREATE GUARDED retransmitted on a new connection gets the original reply bytes', WATCHDOG, async () => {
  const f = fixture('restart-drc');
  fs.writeFileSync(path.join(f.dir, 'victim.txt'), 'remove me');
  chownTree(f.dir);
  await withCleanup(f, async (track) => {
    const srv = track.srv(await startServer({ dir: f.dir, stateDir: f.stateDir }));
    const c = track.cli(await NfsClient.connect(srv.port));
    const root = await c.mount(f.dir);

    const removeCall = (xid: number) => buildCall({ xid, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.REMOVE, cred: CRED, args: (w) => encodeRemoveArgs(w, { object: { dir: root, name: 'victim.txt' } }) });
    const createCall = (xid: number) => buildCall({ xid, prog: NFS3_PROGRAM, vers: NFS3_VERSION, proc: Nfs3Proc.CREATE, cred: CRED, args: (w) => encodeCreateArgs(w, { where: { dir: root, name: 'guarded.txt' }, how: { mode: CreateMode3.GUARDED, attrs: { mode: 0o644 } } }) });
    const viaNewConnection = async (body: Buffer): Promise<Buffer> => {
      const conn = await RawConn.connect(srv.port);
      try {
        const xid = body.readUInt32BE(0);
        const p = conn.expectXid(xid);
        await conn.write(frame(body));
        return await p;
      } finally {
        conn.destroy();
      }
    };

    // REMOVE: first execution, then the retransmission from a new connection (new source port, same address).
    const rx = 0x1234abcd;
    const first = await viaNewConnection(removeCall(rx));
    const p1 = parseReply(first);
    assert.equal(replyStatus(p1.header), 'SUCCESS');
    assert.equal(decodeRemoveRes(p1.reader).status, 0, 'first REMOVE');
    assert.equal(fs.existsSync(path.join(f.dir, 'victim.txt')), false);
    const replay = await viaNewConnection(removeCall(rx));
    assert.ok(replay.equals(first), `retransmitted REMOVE: reply bytes differ\nfirst  ${first.toString('hex')}\nreplay ${replay.toString('hex')}`);
    assert.equal(decodeRemoveRes(parseReply(replay).reader).status, 0, 'retransmitted REMOVE is NFS3_OK, not NOENT');
    // Control: the same REMOVE under a new xid is a new request, and it is NOENT now.
    const fresh = await viaNewConnection(removeCall(rx + 1));
    assert.equal(decodeRemoveRes(parseReply(fresh).reader).status, S.NOENT, 'a new REMOVE of the removed file');

    // CREATE GUARDED.
    const cx = 0x2345bcde;
    const cfirst = await viaNewConnection(createCall(cx));
    const c1 = decodeDirCreateRes(parseReply(cfirst).reader);
    assert.equal(c1.status, 0, `first CREATE GUARDED: ${nfs3StatName(c1.status)}`);
    const creplay = await viaNewConnection(createCall(cx));
    const c2 = decodeDirCreateRes(parseReply(creplay).reader);
    assert.equal(c2.status, 0, `retransmitted CREATE GUARDED: ${nfs3StatName(c2.status)} (want NFS3_OK, not EXIST)`);
    assert.ok(creplay.equals(cfirst), 'retransmitted CREATE: same reply bytes');
    // Retransmitted twice on one connection (a client that did not reconnect): the same bytes each time.
    {
      const conn = await RawConn.connect(srv.port);
      try {
        for (let i = 0; i < 2; i++) {
          const p = conn.expectXid(cx);
          await conn.write(frame(createCall(cx)));
          assert.ok((await p).equals(cfirst), `CREATE retransmission #${i + 2} on one connection`);
        }
      } finally {
        conn.destroy();
      }
    }
    const cfresh = await viaNewConnection(createCall(cx + 1));
    assert.equal(decodeDirCreateRes(parseReply(cfresh).reader).status, S.EXIST, 'a new CREATE GUARDED of the existing file');
    await c.close();
    assert.equal(await srv.stop(), 0);
  });
});
