/**
 * client.createWriteStream over LOCALIO and over the wire (stream-env.ts),
 * compared with fs.createWriteStream on the exported directory itself: the
 * events in the same order, the same bytes — COMMITted before 'finish',
 * flags a / r+ / wx, pipeline copies with either side an fs stream, destroy()
 * and an AbortSignal part-way (read streams too), autoClose / flush.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NfsError } from '../../src/index.js';
import { WATCHDOG, sha, streamSuites, trace, type Trace } from './stream-env.js';

streamSuites('client.createWriteStream', (env) => {
  const { local, fresh, io, noOpenFiles, mode } = env;

  it('writes: the events and bytes of fs.createWriteStream, COMMITted before finish', WATCHDOG, async () => {
    const { c } = env;
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
    const { c } = env;
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
    const { c } = env;
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
    const { c } = env;
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
    const { c } = env;
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

  it('autoClose: false keeps the file open (and COMMITs before finish only with flush); close(cb)', WATCHDOG, async () => {
    const { c } = env;
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

  it('unknown flags: the error comes as an event, as fs', WATCHDOG, async () => {
    const { c } = env;
    const d = fresh();
    const ours = await trace(c.createWriteStream(`${d}/x`, { flags: 'zz' }));
    const theirs = await trace(fs.createWriteStream(local(`${d}/x`), { flags: 'zz' }));
    assert.deepEqual(ours.events, theirs.events);
    assert.equal(ours.error!.code, 'ERR_INVALID_ARG_VALUE');
    noOpenFiles();
  });
});
