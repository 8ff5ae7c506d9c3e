/**
 * The optional fd-passing addon (native/fdpass.c) through its typed wrapper:
 * SEQPACKET channels, SCM_RIGHTS descriptors (also into a child process),
 * errors, and descriptor hygiene (no leaks, no double close).
 *
 * Without the addon these tests are skipped loudly, except in CI (CI=true),
 * where the addon must have been built by `npm install`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  loadFdPass,
  SeqpacketChannel,
  SeqpacketListener,
  type FdPassNative,
} from '../../src/localio/native.js';

const loaded = loadFdPass();
const skipReason = loaded.native ? false : `native fd-passing addon not available: ${loaded.reason}`;
if (skipReason) {
  // CI must build the addon; only an explicit NFS_LOCALIO_NO_NATIVE=1 may turn these tests off there.
  if (process.env.CI === 'true' && process.env.NFS_LOCALIO_NO_NATIVE !== '1') {
    test('fd-passing addon is built (required in CI)', () => assert.fail(skipReason));
  } else {
    console.warn(`\n!!!!! SKIPPING localio-native tests — ${skipReason}\n!!!!! (run \`npm install\` with a C toolchain)\n`);
  }
}

function ntest(name: string, fn: (native: FdPassNative) => Promise<void> | void): void {
  test(name, { skip: skipReason }, () => fn(loaded.native!));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfs-fdpass-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const sockPath = () => path.join(tmp, `s${++seq}.sock`);
const openFds = () => fs.readdirSync('/proc/self/fd').length;
const hasCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The native watchers are unref'd: a ref'd timer keeps the loop alive while we wait (and bounds the wait). */
function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let t: NodeJS.Timeout;
  const timeout = new Promise<never>((_, rej) => {
    t = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** Records a channel's messages and close events; awaitable. */
class Probe {
  readonly messages: { data: Buffer; fds: number[] }[] = [];
  readonly closes: (string | null)[] = [];
  #wake: (() => void) | undefined;
  constructor(readonly ch: SeqpacketChannel, maxBytes?: number) {
    ch.onMessage = (data, fds) => {
      this.messages.push({ data, fds });
      this.#wake?.();
    };
    ch.onClose = (err) => {
      this.closes.push(err);
      this.#wake?.();
    };
    ch.start(maxBytes);
  }
  async #until(cond: () => boolean, what: string): Promise<void> {
    while (!cond()) await within(new Promise<void>((r) => (this.#wake = r)), what);
  }
  async message(): Promise<{ data: Buffer; fds: number[] }> {
    await this.#until(() => this.messages.length > 0, 'a message');
    return this.messages.shift()!;
  }
  async closed(): Promise<string | null> {
    await this.#until(() => this.closes.length > 0, 'onClose');
    return this.closes[0]!;
  }
}

/** A listener plus one connected pair of (not yet started) channels. */
async function pair(native: FdPassNative) {
  const p = sockPath();
  let accepted: (ch: SeqpacketChannel) => void = () => {};
  const got = new Promise<SeqpacketChannel>((r) => (accepted = r));
  const listener = SeqpacketListener.listen(native, p, (ch) => accepted(ch));
  const client = SeqpacketChannel.connect(native, p, 2000);
  const server = await within(got, 'accept');
  return { path: p, listener, client, server };
}

async function closeListener(l: SeqpacketListener): Promise<string | null> {
  const done = new Promise<string | null>((r) => (l.onClose = r));
  l.close();
  return within(done, 'listener close');
}

async function settleFds(expected: number): Promise<number> {
  for (let i = 0; i < 50 && openFds() !== expected; i++) await sleep(20);
  return openFds();
}

ntest('listen / connect / send / receive in both directions', async (native) => {
  const { listener, client, server } = await pair(native);
  const s = new Probe(server);
  const c = new Probe(client);
  client.send(Buffer.from('hello'));
  const m = await s.message();
  assert.equal(m.data.toString(), 'hello');
  assert.deepEqual(m.fds, []);
  server.send(Buffer.from('world'));
  assert.equal((await c.message()).data.toString(), 'world');
  client.close();
  assert.equal(await c.closed(), null);
  assert.equal(await s.closed(), null);
  assert.equal(await closeListener(listener), null);
});

ntest('a file descriptor passes from one end to the other and reads the file', async (native) => {
  const file = path.join(tmp, 'payload.txt');
  fs.writeFileSync(file, 'payload through SCM_RIGHTS');
  const { listener, client, server } = await pair(native);
  const s = new Probe(server);
  const fd = fs.openSync(file, 'r');
  const devnull = fs.openSync('/dev/null', 'r');
  client.send(Buffer.from('take these'), [fd, devnull]);
  fs.closeSync(fd); // the receiver holds its own duplicate
  fs.closeSync(devnull);
  const m = await s.message();
  assert.equal(m.data.toString(), 'take these');
  assert.equal(m.fds.length, 2);
  const buf = Buffer.alloc(64);
  const n = fs.readSync(m.fds[0]!, buf, 0, buf.length, 0);
  assert.equal(buf.subarray(0, n).toString(), 'payload through SCM_RIGHTS');
  assert.equal(fs.fstatSync(m.fds[0]!).ino, fs.statSync(file).ino);
  assert.equal(fs.fstatSync(m.fds[1]!).rdev, fs.statSync('/dev/null').rdev);
  for (const f of m.fds) fs.closeSync(f);
  client.close();
  await s.closed();
  await closeListener(listener);
});

ntest('message boundaries are kept (two sends, two messages)', async (native) => {
  const { listener, client, server } = await pair(native);
  client.send(Buffer.alloc(10, 'a'));
  client.send(Buffer.alloc(20, 'b'));
  const s = new Probe(server); // started after both sends: they are queued separately
  const m1 = await s.message();
  const m2 = await s.message();
  assert.deepEqual([m1.data.toString(), m2.data.toString()], ['a'.repeat(10), 'b'.repeat(20)]);
  server.close();
  client.close();
  await s.closed();
  await closeListener(listener);
});

ntest('peerCred reports this process on both ends', async (native) => {
  const { listener, client, server } = await pair(native);
  for (const ch of [client, server]) {
    assert.equal(ch.peer.pid, process.pid);
    assert.equal(ch.peer.uid, process.getuid!());
    assert.equal(ch.peer.gid, process.getgid!());
  }
  client.close();
  server.close();
  await closeListener(listener);
});

ntest('closing one end fires onClose on the other exactly once; send after close throws ECHANNELCLOSED', async (native) => {
  const { listener, client, server } = await pair(native);
  const s = new Probe(server);
  const c = new Probe(client);
  client.close();
  client.close(); // idempotent
  assert.equal(client.closed, true);
  assert.equal(await s.closed(), null);
  assert.equal(await c.closed(), null);
  await sleep(50);
  assert.deepEqual(s.closes, [null]);
  assert.deepEqual(c.closes, [null]);
  assert.equal(server.closed, true);
  assert.throws(() => client.send(Buffer.from('x')), hasCode('ECHANNELCLOSED'));
  assert.throws(() => server.send(Buffer.from('x')), hasCode('ECHANNELCLOSED'));
  server.close(); // no-op, no second onClose
  await sleep(20);
  assert.deepEqual(s.closes, [null]);
  // A channel never started closes its fd at once; onClose still fires once.
  const p2 = await pair(native);
  const closes: (string | null)[] = [];
  p2.client.onClose = (e) => closes.push(e);
  p2.client.close();
  p2.client.close();
  await sleep(10);
  assert.deepEqual(closes, [null]);
  const s2 = new Probe(p2.server);
  assert.equal(await s2.closed(), null);
  await closeListener(p2.listener);
  await closeListener(listener);
});

ntest('errors carry errno names: ENOENT, ECONNREFUSED (stale socket), EADDRINUSE, ENAMETOOLONG', async (native) => {
  const missing = path.join(tmp, 'nothing-here.sock');
  assert.throws(
    () => SeqpacketChannel.connect(native, missing, 500),
    (e: unknown) => hasCode('ENOENT')(e) && (e as { errno?: number }).errno! < 0,
  );
  const p = sockPath();
  const listener = SeqpacketListener.listen(native, p, (ch) => ch.close());
  assert.throws(() => SeqpacketListener.listen(native, p, () => {}), hasCode('EADDRINUSE'));
  assert.equal(await closeListener(listener), null);
  assert.ok(fs.existsSync(p), 'close() leaves the socket path for the caller to unlink');
  assert.throws(() => SeqpacketChannel.connect(native, p, 500), hasCode('ECONNREFUSED'));
  fs.unlinkSync(p);
  const long = path.join(tmp, 'x'.repeat(120));
  assert.throws(() => SeqpacketChannel.connect(native, long, 500), hasCode('ENAMETOOLONG'));
  assert.throws(() => native.listen(long, 1), hasCode('ENAMETOOLONG'));
  // Multi-byte characters must not be silently truncated into a shorter path.
  assert.throws(() => native.listen(path.join(tmp, 'é'.repeat(60)), 1), hasCode('ENAMETOOLONG'));
  assert.throws(() => native.close(1 << 20), hasCode('EBADF'));
});

ntest('connect times out with ETIMEDOUT when the accept backlog stays full', async (native) => {
  const p = sockPath();
  const lfd = native.listen(p, 0); // nobody accepts
  const fds: number[] = [];
  let err: unknown;
  try {
    for (let i = 0; i < 16 && !err; i++) {
      try {
        fds.push(native.connect(p, 50));
      } catch (e) {
        err = e;
      }
    }
  } finally {
    for (const fd of fds) native.close(fd);
    native.close(lfd);
  }
  assert.ok(hasCode('ETIMEDOUT')(err), `expected ETIMEDOUT, got ${String(err)}`);
});

ntest('send validates its arguments', async (native) => {
  const { listener, client, server } = await pair(native);
  assert.throws(() => client.send(Buffer.alloc(0)), RangeError);
  assert.throws(() => client.send(Buffer.from('x'), new Array(9).fill(0)), RangeError);
  assert.throws(() => native.send(12345, Buffer.from('x')), hasCode('EBADF'));
  client.close();
  server.close();
  await closeListener(listener);
});

ntest('an over-long message ends the channel with EMSGSIZE and leaks no descriptor', async (native) => {
  const before = openFds();
  const { listener, client, server } = await pair(native);
  const s = new Probe(server, 16);
  const c = new Probe(client);
  const fd = fs.openSync('/dev/null', 'r');
  client.send(Buffer.alloc(100, 'z'), [fd]);
  fs.closeSync(fd);
  assert.equal(await s.closed(), 'EMSGSIZE');
  assert.equal(s.messages.length, 0);
  assert.equal(await c.closed(), null); // the server's socket was closed: EOF for the client
  await closeListener(listener);
  assert.equal(await settleFds(before), before);
});

ntest('a descriptor passes into a child process', async (native) => {
  const file = path.join(tmp, 'for-child.txt');
  fs.writeFileSync(file, 'hello from the parent');
  const p = sockPath();
  const moduleUrl = new URL('../../src/localio/native.js', import.meta.url).href;
  const script = `
    import { readSync, closeSync } from 'node:fs';
    import { loadFdPass, SeqpacketChannel } from ${JSON.stringify(moduleUrl)};
    const guard = setTimeout(() => { console.error('child timed out'); process.exit(3); }, 10000);
    const { native, reason } = loadFdPass();
    if (!native) { console.error(reason); process.exit(2); }
    const ch = SeqpacketChannel.connect(native, ${JSON.stringify(p)}, 2000);
    ch.onMessage = (data, fds) => {
      const buf = Buffer.alloc(256);
      const n = readSync(fds[0], buf, 0, buf.length, 0);
      for (const fd of fds) closeSync(fd);
      process.stdout.write(data.toString() + ':' + buf.subarray(0, n).toString() + ':' + ch.peer.pid);
      ch.close();
    };
    ch.onClose = () => clearTimeout(guard);
    ch.start();
  `;
  const serverSide: Promise<SeqpacketChannel> = new Promise((resolve) => {
    const listener = SeqpacketListener.listen(native, p, (ch) => {
      resolve(ch);
      void closeListener(listener);
    });
  });
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errOut = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', r));

  const ch = await within(serverSide, 'the child to connect', 10000);
  assert.equal(ch.peer.pid, child.pid);
  const s = new Probe(ch);
  const fd = fs.openSync(file, 'r');
  ch.send(Buffer.from('file'), [fd]);
  fs.closeSync(fd);
  const code = await within(exited, 'the child to exit', 15000);
  assert.equal(code, 0, errOut);
  assert.equal(out, `file:hello from the parent:${process.pid}`);
  assert.equal(await s.closed(), null);
  fs.unlinkSync(p);
});

ntest('splice: a file range through a pipe into a socket, byte for byte; errors are errno-coded', async (native) => {
  const file = path.join(tmp, 'splice.bin');
  const content = Buffer.alloc(300000);
  for (let i = 0; i < content.length; i++) content[i] = (i * 13) & 0xff;
  fs.writeFileSync(file, content);
  const fd = fs.openSync(file, 'r');
  const [r, w, cap] = native.pipeOpen!(256 * 1024);
  assert.ok(cap >= 256 * 1024, `pipe of ${cap} bytes`);
  const srv = net.createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const peer = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const accepted: net.Socket = await new Promise((res) => srv.once('connection', res));
  try {
    // Past the end: a short read, and the size tells the caller it reached the end.
    const got = await native.spliceIn!(fd, 200000, 150000, w);
    assert.deepEqual(got, { bytes: 100000, size: 300000 });
    const received: Buffer[] = [];
    peer.on('data', (b: Buffer) => received.push(b));
    const sockFd = (accepted as unknown as { _handle: { fd: number } })._handle.fd;
    const sent = native.spliceOut!(sockFd, Buffer.from('head'), r, 100000, Buffer.from('tail'));
    assert.equal(sent, 4 + 100000 + 4);
    while (Buffer.concat(received).length < sent) await sleep(5);
    const all = Buffer.concat(received);
    assert.equal(all.subarray(0, 4).toString(), 'head');
    assert.ok(all.subarray(4, 100004).equals(content.subarray(200000)));
    assert.equal(all.subarray(100004).toString(), 'tail');
    await assert.rejects(native.spliceIn!(9999, 0, 10, w), { code: 'EBADF' });
    assert.throws(() => native.spliceOut!(fd, Buffer.alloc(4), r, 0, Buffer.alloc(0)), { code: 'ENOTSOCK' });
  } finally {
    peer.destroy();
    accepted.destroy();
    srv.close();
    fs.closeSync(fd);
    fs.closeSync(r);
    fs.closeSync(w);
  }
});

ntest('tcpCongestion: reads and sets a TCP socket\'s congestion control; refusals are errno-coded', async (native) => {
  const systemDefault = fs.readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim();
  const srv = net.createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const peer = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const accepted: net.Socket = await new Promise((res) => srv.once('connection', res));
  const file = fs.openSync(path.join(tmp, 'not-a-socket'), 'w');
  try {
    const fd = (accepted as unknown as { _handle: { fd: number } })._handle.fd;
    assert.equal(native.tcpCongestion!(fd), systemDefault);
    assert.equal(native.tcpCongestion!(fd, 'reno'), 'reno');
    assert.equal(native.tcpCongestion!(fd), 'reno');
    assert.throws(() => native.tcpCongestion!(fd, 'no-such-cc'), { code: 'ENOENT', syscall: 'setsockopt' });
    assert.throws(() => native.tcpCongestion!(fd, 'x'.repeat(16)), { code: 'EINVAL', syscall: 'setsockopt' });
    assert.throws(() => native.tcpCongestion!(fd, ''), { code: 'EINVAL', syscall: 'setsockopt' });
    assert.equal(native.tcpCongestion!(fd), 'reno', 'a refused name changes nothing');
    assert.throws(() => native.tcpCongestion!(file), { code: 'ENOTSOCK', syscall: 'getsockopt' });
    assert.throws(() => native.tcpCongestion!(fd, 7 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  } finally {
    fs.closeSync(file);
    peer.destroy();
    accepted.destroy();
    srv.close();
  }
});

ntest('statMany: many names statted on the thread pool, each as statAt gives it; its arguments are checked', async (native) => {
  const dir = fs.mkdtempSync(path.join(tmp, 'many-'));
  const names = ['a', 'bé', 'c'.repeat(200), 'missing'];
  for (const n of names.slice(0, 3)) fs.writeFileSync(path.join(dir, n), n);
  const dirFd = fs.openSync(dir, 'r');
  try {
    const out = new BigInt64Array(17 * names.length);
    const status = new Int32Array(names.length);
    const blob = Buffer.from(`${names.join('\0')}\0`);
    const done = native.statMany!(dirFd, blob, out, status);
    fs.closeSync(fs.openSync(dir, 'r')); // the call copied what it needs: the caller's buffers and descriptor are free
    await done;
    const one = new BigInt64Array(17);
    for (let i = 0; i < 3; i++) {
      assert.equal(status[i], 0);
      assert.equal(native.statAt!(dirFd, names[i], one), 0);
      assert.deepEqual([...out.subarray(17 * i, 17 * i + 17)].slice(0, 9), [...one].slice(0, 9), names[i]);
    }
    assert.equal(status[3], -2, 'ENOENT for the missing name');
    assert.throws(() => native.statMany!(dirFd, Buffer.from('a\0b\0'), out, new Int32Array(3)), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => native.statMany!(dirFd, Buffer.from('a\0\0'), out, new Int32Array(2)), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => native.statMany!(dirFd, Buffer.from('a'), out, new Int32Array(1)), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => native.statMany!(dirFd, blob, new BigInt64Array(17), status), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => native.statMany!(9999, blob, out, status), { code: 'EBADF' });
  } finally {
    fs.closeSync(dirFd);
  }
});

ntest('after everything is closed no extra descriptors remain open', async (native) => {
  const before = openFds();
  const pairs = await Promise.all([pair(native), pair(native), pair(native)]);
  const probes: Probe[] = [];
  for (const { client, server } of pairs) {
    probes.push(new Probe(server), new Probe(client));
    const fd = fs.openSync('/dev/null', 'r');
    client.send(Buffer.from('fd'), [fd]);
    fs.closeSync(fd);
  }
  for (let i = 0; i < pairs.length; i++) {
    const m = await probes[2 * i]!.message();
    for (const f of m.fds) fs.closeSync(f);
  }
  // A started channel without a handler: received descriptors are closed for us.
  const extra = await pair(native);
  const closed = new Promise<string | null>((r) => (extra.server.onClose = r));
  extra.server.start();
  const fd = fs.openSync('/dev/null', 'r');
  extra.client.send(Buffer.from('nobody listens'), [fd, fd]);
  fs.closeSync(fd);
  await sleep(50);
  extra.client.close();
  assert.equal(await within(closed, 'unhandled channel close'), null);

  for (const { client } of pairs) client.close();
  for (const pr of probes) assert.equal(await pr.closed(), null);
  for (const { listener } of [...pairs, extra]) await closeListener(listener);
  assert.equal(await settleFds(before), before);
});
