import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RpcServer } from '../../src/rpc/server.js';
import { RpcClient, RpcCallError, authSys, AUTH_NONE } from '../../src/rpc/client.js';
import { RpcAcceptError } from '../../src/rpc/errors.js';
import { LAST_FRAGMENT, PAYLOAD_ALIGN, RecordReader } from '../../src/rpc/record.js';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { alignedTo } from '../../src/util/bufpool.js';
import { PipePool, spliceRead } from '../../src/storage/splice.js';
import type { SplicedRead } from '../../src/storage/types.js';
import { spliceCalls } from '../helpers/native.js';
import { frame } from '../helpers/nfs-raw.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProcedureDef, RpcProgram } from '../../src/rpc/program.js';
import { setLogLevel } from '../../src/util/log.js';

setLogLevel('silent');
const PROG = 0x20000099;
let executions = 0;

const echo: ProcedureDef<number, number> = { name: 'ECHO', cache: 'none', decode: (r) => r.uint32(), handle: (x) => x + 1, encode: (w, x) => void w.uint32(x) };
const counted: ProcedureDef<number, number> = {
  name: 'COUNTED',
  cache: 'reply',
  decode: (r) => r.uint32(),
  handle: async (x) => {
    await new Promise((r) => setTimeout(r, 20));
    return ++executions * 1000 + x;
  },
  encode: (w, x) => void w.uint32(x),
};
const boom: ProcedureDef<void, void> = { name: 'BOOM', cache: 'none', decode: () => undefined, handle: () => { throw new Error('bug'); }, encode: () => {} };
const refuse: ProcedureDef<void, void> = { name: 'REFUSE', cache: 'none', decode: () => undefined, handle: () => { throw new RpcAcceptError('SYSTEM_ERR'); }, encode: () => {} };
const whoami: ProcedureDef<void, string> = {
  name: 'WHOAMI',
  cache: 'none',
  decode: () => undefined,
  handle: (_a, ctx) => (ctx.cred.flavor === 'sys' ? `${ctx.cred.uid}:${ctx.cred.gid}:${ctx.cred.gids.join(',')}` : 'none'),
  encode: (w, s) => void w.string(s),
};
const slow: ProcedureDef<number, number> = {
  name: 'SLOW',
  cache: 'none',
  decode: (r) => r.uint32(),
  handle: (ms) => new Promise((r) => setTimeout(() => r(ms), ms)),
  encode: (w, x) => void w.uint32(x),
};
const program: RpcProgram = { number: PROG, name: 'test', versions: new Map([[2, [echo, counted, boom, refuse, whoami, slow]], [4, [echo]]]) };

let server: RpcServer;
let port: number;
let client: RpcClient;

before(async () => {
  server = new RpcServer([program], { maxRecord: 64 * 1024, maxInFlight: 4 });
  port = (await server.listen(0, '127.0.0.1')).port;
  client = await RpcClient.connect(port);
});
after(async () => {
  await client.close();
  await server.close();
});

const u32 = (x: number) => (w: XdrWriter) => void w.uint32(x);

async function status(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'SUCCESS';
  } catch (e) {
    return (e as RpcCallError).code;
  }
}

test('a call succeeds and its result decodes', async () => {
  const { reader } = await client.call(PROG, 2, 0, u32(41));
  assert.equal(reader.uint32(), 42);
});

test('exact RPC statuses: PROG_UNAVAIL, PROG_MISMATCH with range, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR', async () => {
  assert.equal(await status(client.call(PROG + 1, 2, 0)), 'PROG_UNAVAIL');
  const mm = await client.call(PROG, 3, 0).catch((e: RpcCallError) => e.reply);
  assert.deepEqual((mm as any).mismatch, { low: 2, high: 4 });
  assert.equal(await status(client.call(PROG, 2, 99)), 'PROC_UNAVAIL');
  assert.equal(await status(client.call(PROG, 2, 0)), 'GARBAGE_ARGS'); // no argument
  assert.equal(await status(client.call(PROG, 2, 2)), 'SYSTEM_ERR'); // handler bug
  assert.equal(await status(client.call(PROG, 2, 3)), 'SYSTEM_ERR'); // explicit
});

test('AUTH_SYS credentials reach the handler; unknown flavors get AUTH_ERROR', async () => {
  const { reader } = await client.call(PROG, 2, 4, undefined, authSys(1000, 100, [5, 6]));
  assert.equal(reader.string(100), '1000:100:5,6');
  assert.equal(await status(client.call(PROG, 2, 4, undefined, { flavor: 6, body: Buffer.alloc(8) })), 'AUTH_BADCRED');
  assert.equal(await status(client.call(PROG, 2, 4, undefined, { flavor: 1, body: Buffer.from([0, 0, 0, 1]) })), 'AUTH_BADCRED');
  const none = await client.call(PROG, 2, 4, undefined, AUTH_NONE);
  assert.equal(none.reader.string(100), 'none');
});

test('RPC_MISMATCH for rpcvers other than 2', async () => {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  const w = new XdrWriter();
  w.uint32(7).uint32(0).uint32(3).uint32(PROG).uint32(2).uint32(0).uint32(0).uint32(0).uint32(0).uint32(0);
  const body = w.finish();
  const h = Buffer.alloc(4);
  h.writeUInt32BE((LAST_FRAGMENT | body.length) >>> 0);
  s.write(Buffer.concat([h, body]));
  const reply: Buffer = await new Promise((r) => s.once('data', r));
  // xid, REPLY, MSG_DENIED, RPC_MISMATCH, low 2, high 2
  assert.deepEqual([...Array(6).keys()].map((i) => reply.readUInt32BE(4 + i * 4)), [7, 1, 1, 0, 2, 2]);
  s.destroy();
});

test('duplicate request cache replays the exact reply of a retransmitted non-idempotent call', async () => {
  const xid = 0x5eed;
  const first = client.call(PROG, 2, 1, u32(7), AUTH_NONE, xid);
  // A retransmission (here from another connection of the same host) that
  // arrives while the original is still running is dropped: its reply is
  // the original's. Once the original has finished, a retransmission is
  // answered from the cache with the same bytes, without running again.
  const other = await RpcClient.connect(port);
  void other.call(PROG, 2, 1, u32(7), AUTH_NONE, xid); // dropped, never answered
  const a = (await first).reader.uint32();
  const b = (await other.call(PROG, 2, 1, u32(7), AUTH_NONE, xid)).reader.uint32();
  assert.equal(a, b);
  assert.equal(executions, 1);
  assert.equal(server.drc.stats.inProgressDrops, 1);
  assert.equal(server.drc.stats.hits, 1);
  // A different call under the same xid is not a duplicate.
  const c = (await other.call(PROG, 2, 1, u32(8), AUTH_NONE, xid)).reader.uint32();
  assert.notEqual(c, a);
  assert.equal(executions, 2);
  await other.close();
});

test('many calls in flight on one connection complete out of order, matched by xid', async () => {
  const delays = [80, 10, 50, 5, 30, 1, 60, 20, 40, 15];
  const results = await Promise.all(delays.map((d) => client.call(PROG, 2, 5, u32(d)).then((r) => r.reader.uint32())));
  assert.deepEqual(results, delays);
});

test('a record over the cap closes that connection only', async () => {
  const bad = await RpcClient.connect(port);
  const h = Buffer.alloc(4);
  h.writeUInt32BE((LAST_FRAGMENT | 0x7fffff00) >>> 0);
  bad.writeRaw(h);
  await assert.rejects(bad.call(PROG, 2, 0, u32(1)), { code: 'RPC_CONNECTION_CLOSED' });
  const { reader } = await client.call(PROG, 2, 0, u32(1));
  assert.equal(reader.uint32(), 2);
});

test('keepArgs: a handler that keeps its argument bytes holds the pooled record until it lets go', async () => {
  let held: { data: Buffer; release: () => void } | undefined;
  const keepIt: ProcedureDef<Buffer, number> = {
    name: 'KEEP',
    cache: 'none',
    decode: (r) => r.opaque(1 << 20),
    handle: (data, ctx) => {
      held = { data, release: ctx.keepArgs!() };
      return data.length;
    },
    encode: (w, n) => void w.uint32(n),
  };
  const big = new RpcServer([{ number: PROG, name: 'keep', versions: new Map([[2, [keepIt]]]) }], { maxRecord: 1 << 21 });
  const p = (await big.listen(0, '127.0.0.1')).port;
  const c = await RpcClient.connect(p);
  try {
    // Large enough to arrive in several reads, so it is assembled in a pooled buffer.
    const payload = Buffer.alloc(600 * 1024, 0x5c);
    const r = await c.call(PROG, 2, 0, (w) => void w.opaque(payload));
    assert.equal(r.reader.uint32(), payload.length);
    assert.equal(big.recordPool.idle, 0, 'the record is still out after the reply');
    assert.ok(held!.data.equals(payload), 'the kept bytes are intact');
    held!.release();
    held!.release(); // once only
    assert.equal(big.recordPool.idle, 1, 'back in the pool once released');
  } finally {
    await c.close();
    await big.close();
  }
});

test('seekPayload: a large call is placed so its payload lands page-aligned (what direct I/O needs)', async () => {
  const aligned: ProcedureDef<Buffer, number> = {
    name: 'ALIGNED',
    cache: 'none',
    decode: (r) => {
      r.uint32(); // a leading word, so the payload does not start where the record does
      return r.opaque(1 << 20);
    },
    seekPayload: (r) => {
      r.uint32();
      r.uint32(); // the payload's length
    },
    handle: (data) => (alignedTo(data, PAYLOAD_ALIGN) ? 1 : 0) + (data.every((x) => x === 0x3c) ? 2 : 0),
    encode: (w, n) => void w.uint32(n),
  };
  const big = new RpcServer([{ number: PROG, name: 'aligned', versions: new Map([[2, [aligned]]]) }], { maxRecord: 1 << 21 });
  const p = (await big.listen(0, '127.0.0.1')).port;
  const c = await RpcClient.connect(p);
  try {
    for (const size of [700 * 1024, 1 << 20]) {
      const payload = Buffer.alloc(size, 0x3c);
      const r = await c.call(PROG, 2, 0, (w) => void w.uint32(9).opaque(payload), authSys(1000, 1000, [1, 2, 3]));
      assert.equal(r.reader.uint32(), 3, `${size}: aligned and intact`);
    }
  } finally {
    await c.close();
    await big.close();
  }
});

test('a reply whose data is in a pipe goes out intact and in order: straight from the pipe, and through the write queue when the socket is full', async (t) => {
  const splice = spliceCalls();
  if (splice === undefined) return t.skip('no native splice');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfs-rpc-tail-'));
  const file = path.join(dir, 'data');
  const content = Buffer.alloc(1 << 20);
  for (let i = 0; i < content.length; i++) content[i] = (i * 31 + (i >> 12)) & 0xff;
  fs.writeFileSync(file, content);
  const fd = fs.openSync(file, 'r');
  const pipes = new PipePool(splice, 1 << 20, 64);
  const paths = { direct: 0, copied: 0 };
  // DATA(offset, count): count bytes of the file from offset, as a spliced tail, then the count again.
  const data: ProcedureDef<[number, number], { s: SplicedRead; count: number }> = {
    name: 'DATA',
    cache: 'none',
    decode: (r) => [r.uint32(), r.uint32()],
    handle: async ([off, count]) => {
      const s = await spliceRead(pipes, fd, off, count);
      if (s === undefined) throw new Error('no pipe free');
      const watched: SplicedRead = {
        length: s.length,
        eof: s.eof,
        sendTo: (sock, head, trailer) => {
          const n = s.sendTo(sock, head, trailer);
          if (n === head.length + s.length + trailer.length) paths.direct++;
          return n;
        },
        copyRest: (into, at) => {
          paths.copied++;
          return s.copyRest(into, at);
        },
        release: () => s.release(),
      };
      return { s: watched, count };
    },
    encode: (w, res) => {
      w.uint32(res.s.length);
      const pad = (4 - (res.s.length % 4)) % 4;
      return [res.s, Buffer.from([0, 0, 0, 0, 0, 0, 0, res.count & 0xff]).subarray(4 - pad)];
    },
    release: (res) => res.s.release(),
  };
  const srv = new RpcServer([{ number: PROG, name: 'tail', versions: new Map([[2, [data, echo]]]) }], { maxInFlight: 8 });
  const p = (await srv.listen(0, '127.0.0.1')).port;
  const s = net.connect(p, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  try {
    const got: Buffer[] = [];
    const rr = new RecordReader(1 << 22, (rec) => got.push(Buffer.from(rec)));
    s.on('data', (b: Buffer) => rr.push(b));
    s.pause(); // the replies pile up until the socket is full: later tails cannot go out whole
    const calls: Array<[number, number] | 'echo'> = [];
    // 20 MiB: more than loopback's socket buffers hold (4 MiB to send, 6 MiB to receive at most).
    for (let i = 0; i < 20; i++) calls.push([(i * 4099) % 4096, (1 << 20) - 4096 - (i % 4)], 'echo');
    calls.forEach((c, xid) => {
      const body = c === 'echo' ? [xid] : c;
      const w = new XdrWriter();
      w.uint32(xid).uint32(0).uint32(2).uint32(PROG).uint32(2).uint32(c === 'echo' ? 1 : 0).uint32(0).uint32(0).uint32(0).uint32(0);
      for (const v of body) w.uint32(v);
      s.write(frame(w.finish()));
    });
    while (paths.copied === 0) await new Promise((r) => setTimeout(r, 10)); // until a reply met a full socket
    s.resume();
    while (got.length < calls.length) await new Promise((r) => setTimeout(r, 10));
    // Replies of one connection go out in the order their calls finished; match them by xid.
    const byXid = new Map(got.map((rec) => [rec.readUInt32BE(0), rec]));
    calls.forEach((c, xid) => {
      const rec = byXid.get(xid)!;
      assert.ok(rec, `reply ${xid}`);
      const r = new XdrReader(rec, 24); // xid, REPLY, MSG_ACCEPTED, verifier (flavor, length), SUCCESS
      if (c === 'echo') return assert.equal(r.uint32(), xid + 1);
      const [off, count] = c;
      const n = r.uint32();
      assert.equal(n, count);
      assert.ok(r.fixedOpaque(n).equals(content.subarray(off, off + n)), `data of reply ${xid}`);
      assert.equal(r.uint32() & 0xff, count & 0xff, 'the trailer follows the data');
      assert.equal(r.remaining, 0);
    });
    assert.ok(paths.direct > 0, 'some replies went out straight from their pipe');
    assert.ok(paths.copied > 0, 'some went through the write queue');
  } finally {
    s.destroy();
    await srv.close();
    fs.closeSync(fd);
    pipes.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
