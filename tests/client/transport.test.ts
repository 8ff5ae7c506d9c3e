/**
 * The client's RPC transport against scripted fake servers (exact control
 * over what is answered and when), and URL parsing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RpcTransport, XidSource } from '../../src/client/transport.js';
import { parseNfsUrl } from '../../src/client/options.js';
import { NfsError } from '../../src/client/errors.js';
import { AUTH_NONE_VERF } from '../../src/rpc/auth.js';
import { RecordReader } from '../../src/rpc/record.js';

/** A fake RPC server: hands every call record (and its socket) to `onCall`. */
async function fakeServer(onCall: (rec: Buffer, sock: net.Socket, conn: number) => void): Promise<{ port: number; close(): Promise<void>; connections: number }> {
  const socks = new Set<net.Socket>();
  const state = { connections: 0 };
  const srv = net.createServer((sock) => {
    const conn = ++state.connections;
    socks.add(sock);
    sock.on('error', () => undefined);
    const rr = new RecordReader(1 << 20, (rec) => onCall(Buffer.from(rec), sock, conn));
    sock.on('data', (d) => rr.push(d));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: async () => {
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/** An accepted SUCCESS reply with `body` as the result. */
function reply(xid: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(4 + 24);
  h.writeUInt32BE((0x80000000 | (24 + body.length)) >>> 0, 0);
  h.writeUInt32BE(xid, 4);
  h.writeUInt32BE(1, 8); // REPLY
  h.writeUInt32BE(0, 12); // MSG_ACCEPTED
  h.writeUInt32BE(0, 16); // verf flavor
  h.writeUInt32BE(0, 20); // verf length
  h.writeUInt32BE(0, 24); // SUCCESS
  return Buffer.concat([h, body]);
}

function transport(port: number, o: Partial<{ mode: 'hard' | 'soft'; timeout: number; retrans: number; maxInFlight: number; disconnectOnTimeout: boolean }> = {}): RpcTransport {
  return new RpcTransport({
    host: '127.0.0.1',
    port,
    mode: o.mode ?? 'hard',
    timeout: o.timeout ?? 200,
    retrans: o.retrans ?? 3,
    connectTimeout: 5000,
    maxInFlight: o.maxInFlight ?? 8,
    maxRecord: 1 << 20,
    xids: new XidSource(),
    label: 'test',
    disconnectOnTimeout: o.disconnectOnTimeout,
  });
}

describe('client RPC transport', () => {
  it('NFSv4 mode: a timeout never retransmits on the same connection — a new one carries it, after the reconnect hook\'s call', async () => {
    const seen: Array<{ conn: number; rec: string; proc: number }> = [];
    const srv = await fakeServer((rec, sock, conn) => {
      const proc = rec.readUInt32BE(20);
      seen.push({ conn, rec: rec.toString('hex'), proc });
      if (conn === 1) return; // never answered: the client times out
      sock.write(reply(rec.readUInt32BE(0), Buffer.from([0, 0, 0, proc])));
    });
    const t = transport(srv.port, { timeout: 150, disconnectOnTimeout: true });
    const order: string[] = [];
    // What an NFSv4.1 session does: bind the new connection (BIND_CONN_TO_SESSION) before anything is sent again.
    t.onConnectHook = async () => {
      order.push('hook');
      const r = await t.call(100003, 4, 9, AUTH_NONE_VERF, undefined, 0, 'bind', 2000, true);
      order.push(`hook answered ${r.reader.uint32()}`);
    };
    try {
      await t.connect();
      const p = t.call(100003, 4, 1, AUTH_NONE_VERF, (w) => void w.uint32(7)).then((r) => (order.push('call answered'), r.reader.uint32()));
      assert.equal(await p, 1);
      assert.deepEqual(order, ['hook', 'hook answered 9', 'call answered']);
      const calls = seen.filter((x) => x.proc === 1);
      assert.deepEqual(calls.map((x) => x.conn), [1, 2], 'sent once on the first connection, again only on the second');
      assert.equal(calls[0].rec, calls[1].rec, 'the same bytes (xid included)');
      const second = seen.filter((x) => x.conn === 2).map((x) => x.proc);
      assert.deepEqual(second, [9, 1], 'the hook\'s call first on the new connection');
      assert.ok(t.stats.timeouts >= 1 && t.stats.reconnects >= 1);
    } finally {
      t.close();
      await srv.close();
    }
  });

  it('retransmits with the same xid and bytes after the connection drops, and takes the reply from the new connection', async () => {
    const seen: Array<{ conn: number; rec: string; xid: number }> = [];
    const srv = await fakeServer((rec, sock, conn) => {
      seen.push({ conn, rec: rec.toString('hex'), xid: rec.readUInt32BE(0) });
      if (conn === 1) sock.destroy(); // the reply is lost with the connection
      else sock.write(reply(rec.readUInt32BE(0), Buffer.from([0, 0, 0, 42])));
    });
    const t = transport(srv.port, { timeout: 60_000 });
    try {
      await t.connect();
      const r = await t.call(100003, 3, 0, AUTH_NONE_VERF, (w) => void w.uint32(7));
      assert.equal(r.reader.uint32(), 42);
      assert.equal(seen.length, 2);
      assert.deepEqual(seen.map((x) => x.conn), [1, 2]);
      assert.equal(seen[0].xid, seen[1].xid);
      assert.equal(seen[0].rec, seen[1].rec);
      assert.equal(t.stats.reconnects, 1);
    } finally {
      t.close();
      await srv.close();
    }
  });

  it('hard mode: retransmits on timeout (same xid) until answered', async () => {
    const xids: number[] = [];
    const srv = await fakeServer((rec, sock) => {
      xids.push(rec.readUInt32BE(0));
      if (xids.length === 3) sock.write(reply(rec.readUInt32BE(0)));
    });
    const t = transport(srv.port, { mode: 'hard', timeout: 100, retrans: 1 });
    try {
      await t.connect();
      await t.call(100003, 3, 0, AUTH_NONE_VERF);
      assert.equal(xids.length, 3);
      assert.equal(new Set(xids).size, 1, 'one xid for all transmissions');
      assert.equal(t.stats.timeouts, 2);
    } finally {
      t.close();
      await srv.close();
    }
  });

  it('soft mode: ETIMEDOUT after retrans tries, each a transmission of the same call', async () => {
    const xids: number[] = [];
    const srv = await fakeServer((rec) => xids.push(rec.readUInt32BE(0)));
    const t = transport(srv.port, { mode: 'soft', timeout: 100, retrans: 3 });
    try {
      await t.connect();
      await assert.rejects(t.call(100003, 3, 1, AUTH_NONE_VERF), (e: NfsError) => {
        assert.ok(e instanceof NfsError);
        assert.equal(e.code, 'ETIMEDOUT');
        assert.equal(e.errno, -110);
        return true;
      });
      assert.equal(xids.length, 3);
      assert.equal(new Set(xids).size, 1);
    } finally {
      t.close();
      await srv.close();
    }
  });

  it('bounds the calls in flight; replies are matched by xid in any order', async () => {
    let max = 0;
    const held: Array<{ xid: number; sock: net.Socket }> = [];
    const srv = await fakeServer((rec, sock) => {
      held.push({ xid: rec.readUInt32BE(0), sock });
      max = Math.max(max, held.length);
      if (held.length === 4) {
        // answer newest first
        for (const h of held.splice(0).reverse()) h.sock.write(reply(h.xid, Buffer.from([0, 0, 0, h.xid & 0xff])));
      }
    });
    const t = transport(srv.port, { maxInFlight: 4, timeout: 60_000 });
    try {
      await t.connect();
      const calls = Array.from({ length: 16 }, () => t.call(100003, 3, 0, AUTH_NONE_VERF));
      const replies = await Promise.all(calls);
      assert.equal(replies.length, 16);
      assert.equal(max, 4, 'never more than maxInFlight calls on the wire');
    } finally {
      t.close();
      await srv.close();
    }
  });

  it('lent chunks go out uncopied after the encoded arguments; a reply that beats their write waits for it', async () => {
    // Far more than loopback socket buffers hold while the server reads nothing: the client's write is
    // still queued when the reply arrives, and the chunk must stay the transport's until it is written.
    const lent = Buffer.alloc(128 << 20);
    for (let i = 0; i < lent.length; i += 4096) lent.writeUInt32BE(i, i);
    let got = Buffer.alloc(0);
    let total = -1;
    let replied = false;
    const socks = new Set<net.Socket>();
    const srv = net.createServer((sock) => {
      socks.add(sock);
      sock.on('error', () => undefined);
      const parts: Buffer[] = [];
      let have = 0;
      sock.on('data', (d: Buffer) => {
        parts.push(d);
        have += d.length;
        if (total < 0 && have >= 8) {
          const head = Buffer.concat(parts);
          total = 4 + (head.readUInt32BE(0) & 0x7fffffff);
          // Answer at once, then stop reading for a while: the reply arrives long before the write ends.
          sock.write(reply(head.readUInt32BE(4)), () => (replied = true));
          sock.pause();
          setTimeout(() => sock.resume(), 300);
        }
        if (have === total) got = Buffer.concat(parts);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const t = transport((srv.address() as net.AddressInfo).port, { timeout: 60_000 });
    const queued = () => (t as unknown as { socket: net.Socket }).socket.writableLength;
    try {
      await t.connect();
      const call = t.call(100003, 3, 7, AUTH_NONE_VERF, (w) => {
        w.uint32(lent.length);
        return [lent, Buffer.alloc(0)];
      });
      assert.ok(queued() > 0, 'the lent chunk is queued on the socket');
      await call;
      assert.ok(replied, 'the reply was sent while the server read nothing');
      assert.equal(queued(), 0, 'the call resolved only once the socket had written every byte of the chunk');
      while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
      // The record: mark, the call header and our uint32, then the lent bytes exactly.
      assert.equal(got.length, total);
      assert.equal(got.readUInt32BE(got.length - lent.length - 4), lent.length);
      assert.ok(got.subarray(got.length - lent.length).equals(lent));
    } finally {
      t.close();
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('fails fast when the first connection is refused; close() rejects outstanding calls', async () => {
    const port = await new Promise<number>((r) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const t = transport(port);
    await assert.rejects(t.connect(), (e: NfsError) => e.code === 'ECONNREFUSED');
    t.close();
    const srv = await fakeServer(() => undefined);
    const t2 = transport(srv.port, { timeout: 60_000 });
    await t2.connect();
    const p = t2.call(100003, 3, 0, AUTH_NONE_VERF);
    t2.close();
    await assert.rejects(p, (e: NfsError) => e.code === 'ECONNABORTED');
    await srv.close();
  });
});

describe('nfs:// URLs', () => {
  it('libnfs form with ports and credentials', () => {
    const u = parseNfsUrl('nfs://127.0.0.1/export/dir/file%20x?version=3&nfsport=2049&mountport=20048&uid=1000&gid=100');
    assert.equal(u.host, '127.0.0.1');
    assert.equal(u.path, '/export/dir/file x');
    assert.equal(u.nfsPort, 2049);
    assert.equal(u.mountPort, 20048);
    assert.equal(u.uid, 1000);
    assert.equal(u.gid, 100);
    assert.equal(u.urlPort, undefined);
  });

  it('HOST:PORT and bracketed IPv6 literals', () => {
    const a = parseNfsUrl('nfs://server.example:2049/srv/x');
    assert.equal(a.host, 'server.example');
    assert.equal(a.urlPort, 2049);
    assert.equal(a.path, '/srv/x');
    const b = parseNfsUrl('nfs://[::1]:12049/export?nfsport=1&mountport=2');
    assert.equal(b.host, '::1');
    assert.equal(b.urlPort, 12049);
    const c = parseNfsUrl('nfs://[fe80::1]/e');
    assert.equal(c.host, 'fe80::1');
    assert.equal(c.path, '/e');
    assert.equal(parseNfsUrl('nfs://h').path, '/');
  });

  it('client options in the query; bad URLs rejected', () => {
    const u = parseNfsUrl('nfs://h/e?soft&timeo=500&retrans=5&nconnect=4&auth=none&gids=1,2,3&readahead=1');
    assert.equal(u.mode, 'soft');
    assert.equal(u.timeout, 500);
    assert.equal(u.retrans, 5);
    assert.equal(u.connections, 4);
    assert.equal(u.auth, 'none');
    assert.deepEqual(u.gids, [1, 2, 3]);
    assert.throws(() => parseNfsUrl('http://h/e'), /nfs:\/\//);
    assert.equal(parseNfsUrl('nfs://h/e?version=3').version, 3);
    assert.equal(parseNfsUrl('nfs://h/e?version=4').version, 4);
    assert.equal(parseNfsUrl('nfs://h/e?version=4.1').version, 4.1);
    assert.equal(parseNfsUrl('nfs://h/e?vers=4.2').version, 4.2);
    assert.equal(parseNfsUrl('nfs://h/e?version=auto').version, 'auto');
    assert.equal(parseNfsUrl('nfs://h/e').version, undefined);
    assert.throws(() => parseNfsUrl('nfs://h/e?version=4.0'), /version must be 3, 4, 4.1, 4.2 or auto/);
    assert.throws(() => parseNfsUrl('nfs://h/e?version=2'), /version must be/);
    assert.throws(() => parseNfsUrl('nfs://h/e?nfsport=x'), /not a number/);
  });
});
