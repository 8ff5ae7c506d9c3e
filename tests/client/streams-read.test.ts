/**
 * client.createReadStream over LOCALIO and over the wire (stream-env.ts),
 * compared with fs.createReadStream on the exported directory itself: the
 * events in the same order, the same bytes, the same error codes — whole
 * files, ranges, encodings, 0 bytes, ENOENT, EISDIR, EACCES, a FileHandle
 * as `fd`, and the arguments fs refuses.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { connect, NfsError } from '../../src/index.js';
import { WATCHDOG, sha, streamSuites, throwsAsFs, trace } from './stream-env.js';

streamSuites('client.createReadStream', (env) => {
  const { local, fresh, io, noOpenFiles, mode } = env;

  it('reads a whole file: the events and bytes of fs.createReadStream', WATCHDOG, async () => {
    const { c } = env;
    const d = fresh();
    const data = randomBytes(3 * 1024 * 1024 + 4321);
    fs.writeFileSync(local(`${d}/f`), data);
    const before = io();
    const s = c.createReadStream(`${d}/f`);
    assert.equal(s.pending, true, 'pending until open');
    assert.equal(s.path, `${d}/f`);
    const ours = await trace(s);
    const theirs = await trace(fs.createReadStream(local(`${d}/f`)));
    assert.deepEqual(ours.events, theirs.events);
    assert.deepEqual(ours.events, ['open:number', 'ready', 'end', 'close']);
    assert.equal(sha(ours.data as Buffer), sha(data));
    assert.equal(s.bytesRead, data.length);
    assert.ok(ours.chunks.every((len) => len <= c.rsize), 'chunks of at most highWaterMark (rsize by default)');
    assert.equal(s.readableHighWaterMark, c.rsize);
    assert.equal(s.pending, true, 'fd is null again once closed, as fs');
    assert.equal(s.handle?.isClosed, true);
    const after = io();
    assert.ok(after.reads > before.reads && after.bytesRead - before.bytesRead >= data.length, `READs went ${mode}: ${JSON.stringify({ before, after })}`);
    noOpenFiles();
  });

  it('start / end ranges (end inclusive) and highWaterMark, as fs', WATCHDOG, async () => {
    const { c } = env;
    const d = fresh();
    const size = 2 * 1024 * 1024 + 99;
    fs.writeFileSync(local(`${d}/f`), randomBytes(size));
    const ranges = [
      { start: 0, end: 0 },
      { start: 5, end: 1024 * 1024 + 4 },
      { start: 1024 * 1024, end: 2 * 1024 * 1024 - 1 },
      { start: 100 },
      { end: 99 },
      { start: size - 1 },
      { start: size + 10 },
      { start: 10, end: size * 2 },
      { start: 3, end: 70_000, highWaterMark: 1000 },
    ];
    for (const r of ranges) {
      const ours = await trace(c.createReadStream(`${d}/f`, r));
      const theirs = await trace(fs.createReadStream(local(`${d}/f`), r));
      assert.deepEqual(ours.events, theirs.events, JSON.stringify(r));
      assert.ok((ours.data as Buffer).equals(theirs.data as Buffer), `same bytes for ${JSON.stringify(r)}`);
      if (r.highWaterMark) assert.ok(ours.chunks.every((len) => len <= r.highWaterMark), 'no chunk over highWaterMark');
    }
    noOpenFiles();
  });

  it('encoding: strings as fs gives them, multi-byte characters cut across chunks', WATCHDOG, async () => {
    const { c, t } = env;
    const d = fresh();
    fs.writeFileSync(local(`${d}/t.txt`), 'héllo ✓ wörld 🙂\n'.repeat(500));
    for (const o of [{ encoding: 'utf8' as const, highWaterMark: 7 }, 'hex' as const, { encoding: 'base64' as const, start: 3, end: 4000 }]) {
      const ours = await trace(c.createReadStream(`${d}/t.txt`, o));
      const theirs = await trace(fs.createReadStream(local(`${d}/t.txt`), o));
      assert.equal(typeof ours.data, 'string');
      assert.equal(ours.data, theirs.data, JSON.stringify(o));
      assert.deepEqual(ours.events, theirs.events);
    }
    noOpenFiles();
  });

  it('a 0-byte file: open, ready, end, close and no data', WATCHDOG, async () => {
    const { c } = env;
    const d = fresh();
    fs.writeFileSync(local(`${d}/empty`), '');
    const ours = await trace(c.createReadStream(`${d}/empty`));
    const theirs = await trace(fs.createReadStream(local(`${d}/empty`)));
    assert.deepEqual(ours.events, theirs.events);
    assert.deepEqual(ours.chunks, []);
    noOpenFiles();
  });

  it('a missing path: ENOENT, then close, and no open', WATCHDOG, async () => {
    const { c } = env;
    const d = fresh();
    const ours = await trace(c.createReadStream(`${d}/nope`));
    const theirs = await trace(fs.createReadStream(local(`${d}/nope`)));
    assert.deepEqual(ours.events, theirs.events);
    assert.deepEqual(ours.events, ['error:ENOENT:open', 'close']);
    const e = ours.error as NfsError;
    assert.ok(e instanceof NfsError);
    assert.equal(e.errno, theirs.error!.errno);
    assert.equal(e.path, `${d}/nope`);
    assert.equal(e.message, theirs.error!.message.replace(local(`${d}/nope`), `${d}/nope`));
    // a write stream into a directory that is not there
    const w = c.createWriteStream(`${d}/no/such`);
    const ft = fs.createWriteStream(local(`${d}/no/such`));
    const [wt, ftt] = await Promise.all([trace(w), trace(ft), w.end('x'), ft.end('x')]);
    assert.deepEqual(wt.events, ftt.events);
    assert.deepEqual(wt.events, ['error:ENOENT:open', 'close']);
    noOpenFiles();
  });

  it('a directory: EISDIR, reading (after open) and writing (at open), as fs', WATCHDOG, async () => {
    const { c } = env;
    const d = fresh();
    fs.mkdirSync(local(`${d}/sub`));
    const ours = await trace(c.createReadStream(`${d}/sub`));
    const theirs = await trace(fs.createReadStream(local(`${d}/sub`)));
    assert.deepEqual(ours.events, theirs.events);
    assert.deepEqual(ours.events, ['open:number', 'ready', 'error:EISDIR:read', 'close']);
    const w = c.createWriteStream(`${d}/sub`);
    const ft = fs.createWriteStream(local(`${d}/sub`));
    const [wt, ftt] = await Promise.all([trace(w), trace(ft), w.end('x'), ft.end('x')]);
    assert.deepEqual(wt.events, ftt.events);
    assert.deepEqual(wt.events, ['error:EISDIR:open', 'close']);
    noOpenFiles();
  });

  it('EACCES where the mount user may not read or write', WATCHDOG, async () => {
    const { c, t } = env;
    const d = fresh();
    fs.writeFileSync(local(`${d}/secret`), 's', { mode: 0o600 });
    fs.chmodSync(local(d), 0o777);
    const u = await connect(`${t.url}&uid=1234&gid=1234`, { localio: mode === 'LOCALIO' });
    try {
      const r = await trace(u.createReadStream(`${d}/secret`));
      assert.deepEqual(r.events, ['error:EACCES:open', 'close']);
      assert.equal(r.error!.errno, -13);
      const w = u.createWriteStream(`${d}/secret`, { flags: 'r+' });
      w.end('x');
      assert.deepEqual((await trace(w)).events, ['error:EACCES:open', 'close']);
      assert.equal(u.stats().openFiles, 0);
    } finally {
      await u.close();
    }
  });

  it('fd: a FileHandle is used from its position, not opened again, and closed at the end — as fs with its FileHandle', WATCHDOG, async () => {
    const { c } = env;
    const d = fresh();
    fs.writeFileSync(local(`${d}/f`), 'hello world\n');
    const h = await c.open(`${d}/f`);
    const lh = await fsp.open(local(`${d}/f`));
    await h.read(Buffer.alloc(3), 0, 3, null);
    await lh.read(Buffer.alloc(3), 0, 3, null);
    const s = c.createReadStream('', { fd: h, encoding: 'utf8' });
    assert.equal(s.pending, false);
    assert.equal(s.fd, h.fd);
    assert.equal(s.path, undefined);
    const ours = await trace(s);
    const theirs = await trace(fs.createReadStream('', { fd: lh, encoding: 'utf8' }));
    assert.deepEqual(ours.events, theirs.events);
    assert.deepEqual(ours.events, ['end', 'close']);
    assert.equal(ours.data, 'lo world\n');
    assert.equal(ours.data, theirs.data);
    assert.equal(h.isClosed, true);
    const wh = await c.open(`${d}/w`, 'w');
    const ws = c.createWriteStream('', { fd: wh });
    ws.end('via a handle');
    assert.deepEqual((await trace(ws)).events, ['finish', 'close']);
    assert.equal(fs.readFileSync(local(`${d}/w`), 'utf8'), 'via a handle');
    assert.equal(wh.isClosed, true);
    // a FileHandle's own streams are the same classes
    const fh = await c.open(`${d}/f`);
    const viaHandle = fh.createReadStream({ start: 6 });
    assert.equal(viaHandle.constructor, s.constructor);
    assert.equal(((await trace(viaHandle)).data as Buffer).toString(), 'world\n');
    assert.equal(fh.isClosed, true);
    // a descriptor number means nothing to an NFS client
    assert.throws(() => c.createReadStream('', { fd: 3 as never }), { code: 'ERR_INVALID_ARG_TYPE' });
    noOpenFiles();
  });

  it('arguments are checked as fs checks them', () => {
    const { c } = env;
    throwsAsFs(
      () => c.createReadStream('/f', { start: 5, end: 2 }),
      () => fs.createReadStream('/f', { start: 5, end: 2 }),
    );
    throwsAsFs(
      () => c.createReadStream('/f', { start: -1 }),
      () => fs.createReadStream('/f', { start: -1 }),
    );
    throwsAsFs(
      () => c.createReadStream('/f', { end: 'x' as never }),
      () => fs.createReadStream('/f', { end: 'x' as never }),
    );
    throwsAsFs(
      () => c.createWriteStream('/f', { start: 1.5 }),
      () => fs.createWriteStream('/f', { start: 1.5 }),
    );
    throwsAsFs(
      () => c.createWriteStream(undefined as never),
      () => fs.createWriteStream(undefined as never),
    );
    throwsAsFs(
      () => c.createWriteStream('/f', { flush: 1 as never }),
      () => fs.createWriteStream('/f', { flush: 1 as never }),
    );
  });
});
