/**
 * client.createReadStream / client.createWriteStream against our own server
 * (a child process, as the API suite runs it), once over LOCALIO — what a
 * client gets by default with the server on this host — and once over the
 * wire (localio: false). Where fs has an answer, the same thing is done with
 * fs.createReadStream / fs.createWriteStream on the exported directory
 * itself and compared: the events in the same order, the same bytes, the
 * same error codes. Then a server that goes away mid-stream (soft mount).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connect, NfsError, type NfsClient, type ReadStream, type WriteStream } from '../../src/index.js';
import { startServer } from '../helpers/server-process.js';
import { startOurs, type Target } from './targets.js';

const WATCHDOG = { timeout: 60_000 };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Trace {
  events: string[];
  data: Buffer | string;
  chunks: number[];
  error?: NodeJS.ErrnoException;
}

/** What a stream emits until `until` ('close' unless it is to stay open): events in order, data joined. */
function trace(s: Readable | Writable, until: 'close' | 'end' | 'finish' = 'close'): Promise<Trace> {
  const events: string[] = [];
  const parts: Array<Buffer | string> = [];
  const t: Trace = { events, data: Buffer.alloc(0), chunks: [] };
  s.on('open', (fd: unknown) => events.push(`open:${typeof fd}`));
  s.on('ready', () => events.push('ready'));
  if ('read' in s) s.on('data', (d: Buffer | string) => (parts.push(d), t.chunks.push(d.length)));
  for (const e of ['end', 'finish', 'close']) s.on(e, () => events.push(e));
  s.on('error', (e: NodeJS.ErrnoException) => {
    t.error = e;
    events.push(`error:${e.code}:${e.syscall}`);
  });
  return new Promise((resolve) =>
    s.once(until, () =>
      setImmediate(() => {
        t.data = parts.length > 0 && typeof parts[0] === 'string' ? parts.join('') : Buffer.concat(parts as Buffer[]);
        resolve(t);
      }),
    ),
  );
}

/** Assert that `f` throws synchronously the way fs does for the same arguments (class and code). */
function throwsAsFs(ours: () => unknown, theirs: () => unknown): void {
  let expected: NodeJS.ErrnoException | undefined;
  try {
    theirs();
  } catch (e) {
    expected = e as NodeJS.ErrnoException;
  }
  assert.ok(expected, 'fs throws for these arguments');
  assert.throws(ours, (e: NodeJS.ErrnoException) => e.constructor === expected!.constructor && e.code === expected!.code);
}

describe('client.createReadStream / createWriteStream', () => {
  let t: Target;
  let n = 0;
  const local = (p: string) => path.join(t.dir, p);
  /** A fresh directory per test, with an export path and a local path. */
  const fresh = (): string => {
    const d = `/s${++n}`;
    fs.mkdirSync(local(d));
    return d;
  };

  before(async () => {
    t = await startOurs();
  });
  after(async () => {
    await t?.stop();
  });

  for (const mode of ['LOCALIO', 'wire'] as const) {
    describe(`over ${mode}`, () => {
      let c: NfsClient;
      /** READs and WRITEs on the path this mode is about: local ones for LOCALIO, RPCs for the wire. */
      const io = () => (mode === 'LOCALIO' ? c.localio.status().local : c.localio.status().wire);
      /** Every file a test opened is closed again. */
      const noOpenFiles = () => assert.equal(c.stats().openFiles, 0, 'every FileHandle the streams opened is closed');

      before(async () => {
        c = await connect(t.url, { localio: mode === 'LOCALIO' });
        await c.localio.settled();
        assert.equal(c.localio.isLocal, mode === 'LOCALIO', c.localio.status().reason);
      });
      after(async () => {
        await c?.close();
      });

      it('reads a whole file: the events and bytes of fs.createReadStream', WATCHDOG, async () => {
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
        const d = fresh();
        fs.writeFileSync(local(`${d}/empty`), '');
        const ours = await trace(c.createReadStream(`${d}/empty`));
        const theirs = await trace(fs.createReadStream(local(`${d}/empty`)));
        assert.deepEqual(ours.events, theirs.events);
        assert.deepEqual(ours.chunks, []);
        noOpenFiles();
      });

      it('a missing path: ENOENT, then close, and no open', WATCHDOG, async () => {
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

      it('writes: the events and bytes of fs.createWriteStream, COMMITted before finish', WATCHDOG, async () => {
        const d = fresh();
        const parts = [Buffer.from('first '), 'second ✓ ', randomBytes(2 * 1024 * 1024 + 5), 'last\n'];
        const commits = c.stats().io.commits;
        const before = io();
        const s = c.createWriteStream(`${d}/w`);
        assert.equal(s.pending, true);
        let atFinish: { uncommitted: number; bytesWritten: number; closed: boolean } | undefined;
        s.on('finish', () => (atFinish = { uncommitted: s.handle!.uncommittedBytes, bytesWritten: s.bytesWritten, closed: s.handle!.isClosed }));
        const f = fs.createWriteStream(local(`${d}/fs-w`));
        for (const p of parts) {
          s.write(p);
          f.write(p);
        }
        s.end();
        f.end();
        const [ours, theirs] = await Promise.all([trace(s), trace(f)]);
        assert.deepEqual(ours.events, theirs.events);
        assert.deepEqual(ours.events, ['open:number', 'ready', 'finish', 'close']);
        const want = fs.readFileSync(local(`${d}/fs-w`));
        assert.equal(sha(fs.readFileSync(local(`${d}/w`))), sha(want));
        assert.equal(s.bytesWritten, want.length);
        assert.equal(s.bytesWritten, f.bytesWritten);
        assert.deepEqual(atFinish, { uncommitted: 0, bytesWritten: want.length, closed: false }, "durable at 'finish', the file closed after it (as fs)");
        assert.ok(c.stats().io.commits > commits, 'a COMMIT was sent');
        assert.equal(s.handle!.isClosed, true);
        const after = io();
        assert.ok(after.bytesWritten - before.bytesWritten >= want.length, `WRITEs went ${mode}: ${JSON.stringify({ before, after })}`);
        // the encoding option decodes written strings
        const hex = c.createWriteStream(`${d}/hex`, { encoding: 'hex' });
        hex.end('414243');
        await trace(hex);
        assert.equal(fs.readFileSync(local(`${d}/hex`), 'utf8'), 'ABC');
        noOpenFiles();
      });

      it("flags: 'a' appends, 'r+' with start overwrites in place, 'wx' on an existing file is EEXIST — as fs", WATCHDOG, async () => {
        const d = fresh();
        for (const who of ['ours', 'fs']) fs.writeFileSync(local(`${d}/${who}`), 'hello world\n');
        const run = async (o: { flags: string; start?: number }, text: string): Promise<{ ours: Trace; theirs: Trace }> => {
          const s = c.createWriteStream(`${d}/ours`, o);
          const f = fs.createWriteStream(local(`${d}/fs`), o);
          const [ours, theirs] = await Promise.all([trace(s), trace(f), s.end(text), f.end(text)]);
          return { ours, theirs };
        };
        for (const [o, text] of [
          [{ flags: 'a' }, 'appended\n'],
          [{ flags: 'a' }, 'and again\n'],
          [{ flags: 'r+', start: 6 }, 'WORLD'],
          [{ flags: 'wx' }, 'never'],
        ] as const) {
          const { ours, theirs } = await run(o, text);
          assert.deepEqual(ours.events, theirs.events, JSON.stringify(o));
          assert.equal(fs.readFileSync(local(`${d}/ours`), 'utf8'), fs.readFileSync(local(`${d}/fs`), 'utf8'), JSON.stringify(o));
          if (o.flags === 'wx') {
            assert.deepEqual(ours.events, ['error:EEXIST:open', 'close']);
            assert.ok(ours.error instanceof NfsError);
          }
        }
        assert.equal(fs.readFileSync(local(`${d}/ours`), 'utf8'), 'hello WORLD\nappended\nand again\n');
        noOpenFiles();
      });

      it('pipeline(createReadStream, createWriteStream) copies a few MiB, sha256 equal; and to and from fs streams', WATCHDOG, async () => {
        const d = fresh();
        const data = randomBytes(6 * 1024 * 1024 + 777);
        fs.writeFileSync(local(`${d}/src`), data);
        const before = io();
        await pipeline(c.createReadStream(`${d}/src`), c.createWriteStream(`${d}/copy`));
        assert.equal(sha(fs.readFileSync(local(`${d}/copy`))), sha(data));
        const after = io();
        assert.ok(after.bytesRead - before.bytesRead >= data.length && after.bytesWritten - before.bytesWritten >= data.length, `the copy went ${mode}: ${JSON.stringify({ before, after })}`);
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-streams-'));
        try {
          await pipeline(c.createReadStream(`${d}/copy`), fs.createWriteStream(path.join(tmp, 'out')));
          assert.equal(sha(fs.readFileSync(path.join(tmp, 'out'))), sha(data));
          await pipeline(fs.createReadStream(path.join(tmp, 'out')), c.createWriteStream(`${d}/back`));
          assert.equal(sha(fs.readFileSync(local(`${d}/back`))), sha(data));
        } finally {
          fs.rmSync(tmp, { recursive: true, force: true });
        }
        noOpenFiles();
      });

      it('destroy() mid-way closes the file: close without end or finish, as fs', WATCHDOG, async () => {
        const d = fresh();
        fs.writeFileSync(local(`${d}/big`), randomBytes(16 * 1024 * 1024));
        const readAndDestroy = (s: Readable) => {
          s.once('data', () => s.destroy());
          return trace(s);
        };
        const s = c.createReadStream(`${d}/big`, { highWaterMark: 64 * 1024 });
        const ours = await readAndDestroy(s);
        const theirs = await readAndDestroy(fs.createReadStream(local(`${d}/big`), { highWaterMark: 64 * 1024 }));
        assert.deepEqual(ours.events, theirs.events);
        assert.deepEqual(ours.events, ['open:number', 'ready', 'close']);
        assert.ok(s.bytesRead < 16 * 1024 * 1024);
        assert.equal(s.handle!.isClosed, true);
        noOpenFiles();
        // destroyed before the file is even open: opened, then closed (as fs)
        const early = c.createReadStream(`${d}/big`);
        const fe = fs.createReadStream(local(`${d}/big`));
        const [et, fet] = await Promise.all([trace(early), trace(fe), early.destroy(), fe.destroy()]);
        assert.deepEqual(et.events, fet.events);
        noOpenFiles();
        // a write stream destroyed with WRITEs behind it
        const writeAndDestroy = async (w: Writable) => {
          const tr = trace(w);
          await new Promise<void>((resolve, reject) => w.write(randomBytes(3 * 1024 * 1024), (e) => (e ? reject(e) : resolve())));
          w.destroy();
          return tr;
        };
        const w = c.createWriteStream(`${d}/w`);
        const wt = await writeAndDestroy(w);
        assert.deepEqual(wt.events, (await writeAndDestroy(fs.createWriteStream(local(`${d}/fs-w`)))).events);
        assert.deepEqual(wt.events, ['open:number', 'ready', 'close']);
        assert.equal(w.handle!.isClosed, true);
        noOpenFiles();
      });

      it('an AbortSignal: AbortError then close, the file closed — as fs', WATCHDOG, async () => {
        const d = fresh();
        fs.writeFileSync(local(`${d}/f`), randomBytes(4 * 1024 * 1024));
        const abortOnOpen = (make: (signal: AbortSignal) => Readable | Writable) => {
          const ac = new AbortController();
          const s = make(ac.signal);
          s.on('ready', () => ac.abort());
          if (!('read' in s)) s.write(randomBytes(100_000));
          return trace(s);
        };
        const r = await abortOnOpen((signal) => c.createReadStream(`${d}/f`, { signal }));
        assert.deepEqual(r.events, (await abortOnOpen((signal) => fs.createReadStream(local(`${d}/f`), { signal }))).events);
        assert.deepEqual(r.events, ['open:number', 'ready', 'error:ABORT_ERR:undefined', 'close']);
        assert.equal(r.error!.name, 'AbortError');
        const w = await abortOnOpen((signal) => c.createWriteStream(`${d}/w`, { signal }));
        assert.deepEqual(w.events, (await abortOnOpen((signal) => fs.createWriteStream(local(`${d}/fs-w`), { signal }))).events);
        noOpenFiles();
        // aborted beforehand: nothing is opened (fs opens the file after 'close' and never closes it)
        for (const make of [(signal: AbortSignal) => c.createReadStream(`${d}/f`, { signal }), (signal: AbortSignal) => c.createWriteStream(`${d}/w2`, { signal })]) {
          const s = make(AbortSignal.abort());
          assert.deepEqual((await trace(s)).events, ['error:ABORT_ERR:undefined', 'close']);
          await new Promise((resolve) => setTimeout(resolve, 50));
          assert.equal(s.handle, undefined);
        }
        assert.equal(fs.existsSync(local(`${d}/w2`)), false);
        noOpenFiles();
      });

      it('fd: a FileHandle is used from its position, not opened again, and closed at the end — as fs with its FileHandle', WATCHDOG, async () => {
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

      it('autoClose: false keeps the file open (and COMMITs before finish only with flush); close(cb)', WATCHDOG, async () => {
        const d = fresh();
        fs.writeFileSync(local(`${d}/f`), 'abc');
        const r = c.createReadStream(`${d}/f`, { autoClose: false });
        const rt = await trace(r, 'end');
        const ft = fs.createReadStream(local(`${d}/f`), { autoClose: false });
        const fst = await trace(ft, 'end');
        assert.deepEqual(rt.events, fst.events);
        assert.deepEqual(rt.events, ['open:number', 'ready', 'end']);
        assert.equal(r.handle!.isClosed, false);
        assert.equal(c.stats().openFiles, 1);
        // close(cb): destroys, and closes the file whatever autoClose says (as fs)
        const err = await new Promise<Error | null | undefined>((resolve) => r.close(resolve));
        assert.equal(err, undefined, 'ended before close');
        assert.equal(r.handle!.isClosed, true);
        ft.close();
        for (const flush of [false, true]) {
          const w = c.createWriteStream(`${d}/w${flush}`, { autoClose: false, flush });
          w.end(randomBytes(100_000));
          await trace(w, 'finish');
          const h = w.handle!;
          assert.equal(h.isClosed, false);
          if (flush) assert.equal(h.uncommittedBytes, 0, 'flush: durable at finish');
          await h.close();
        }
        // WriteStream.close(cb): end, then close
        const w = c.createWriteStream(`${d}/c`);
        w.write('closing');
        await new Promise<void>((resolve) => w.close(() => resolve()));
        assert.equal(w.closed, true);
        assert.equal(fs.readFileSync(local(`${d}/c`), 'utf8'), 'closing');
        noOpenFiles();
      });

      it('arguments are checked as fs checks them', () => {
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

      it('unknown flags: the error comes as an event, as fs', WATCHDOG, async () => {
        const d = fresh();
        const ours = await trace(c.createWriteStream(`${d}/x`, { flags: 'zz' }));
        const theirs = await trace(fs.createWriteStream(local(`${d}/x`), { flags: 'zz' }));
        assert.deepEqual(ours.events, theirs.events);
        assert.equal(ours.error!.code, 'ERR_INVALID_ARG_VALUE');
        noOpenFiles();
      });
    });
  }
});

describe('a server gone mid-stream (soft mount)', () => {
  for (const localio of [true, false]) {
    for (const kind of ['read', 'write'] as const) {
      it(`${kind} over ${localio ? 'LOCALIO' : 'the wire'}: error, then close, the file released`, WATCHDOG, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-streams-gone-'));
        fs.writeFileSync(path.join(dir, 'big'), randomBytes(24 * 1024 * 1024));
        const server = await startServer({ dir, exportsText: `${dir} *(rw,insecure,no_root_squash)\n` });
        const c = await connect(`${server.url()}&soft&timeo=300&retrans=2`, { localio });
        try {
          await c.localio.settled();
          assert.equal(c.localio.isLocal, localio);
          let s: ReadStream | WriteStream;
          let tr: Promise<Trace>;
          // the server dies with the stream open and part of the file through it
          if (kind === 'read') {
            const r = c.createReadStream('/big');
            s = r;
            tr = trace(r);
            // paused from its first chunk on (no 'readable' listener: removing one resumes a stream with 'data' listeners)
            await new Promise<void>((resolve) => r.once('data', () => (r.pause(), resolve())));
          } else {
            const w = c.createWriteStream('/out');
            s = w;
            tr = trace(w);
            await new Promise<void>((resolve, reject) => w.write(randomBytes(2 * 1024 * 1024), (e) => (e ? reject(e) : resolve())));
          }
          await server.kill9();
          // LOCALIO notices the server is gone (its descriptors would still read and write), then goes over the wire
          while (c.localio.isLocal) await new Promise((resolve) => setTimeout(resolve, 20));
          if (kind === 'read') (s as ReadStream).resume();
          else {
            (s as WriteStream).write(randomBytes(4 * 1024 * 1024));
            (s as WriteStream).end(randomBytes(1024));
          }
          const r = await tr;
          assert.deepEqual(r.events, ['open:number', 'ready', `error:ETIMEDOUT:${kind}`, 'close'], JSON.stringify({ bytes: kind === 'read' ? (s as ReadStream).bytesRead : (s as WriteStream).bytesWritten, localio: c.localio.status(), transports: c.stats().transports }));
          assert.ok(r.error instanceof NfsError);
          assert.equal(s.handle!.isClosed, true);
          assert.equal(c.stats().openFiles, 0);
        } finally {
          c.destroy();
          await server.stop();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  }
});
