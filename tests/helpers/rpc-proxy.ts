/**
 * A TCP proxy in front of an RPC server on 127.0.0.1 that sees every call
 * and reply record, and can lose a reply: `drop(reply, conn)` true cuts the
 * connection (both sides) instead of passing it on — as a network does when
 * it fails after the server has done the work. `onCall(call, conn)` sees each
 * call record; `conn` counts the client's connections from 1.
 */
import net from 'node:net';
import { RecordReader } from '../../src/rpc/record.js';
import { freePort } from './server-process.js';

export interface RpcProxy {
  port: number;
  close(): Promise<void>;
}

export async function startRpcProxy(target: number, o: { onCall?(rec: Buffer, conn: number): void; drop?(rec: Buffer, conn: number): boolean }): Promise<RpcProxy> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let conns = 0;
  const proxy = net.createServer((down) => {
    const conn = ++conns;
    const up = net.connect(target, '127.0.0.1');
    sockets.add(down).add(up);
    const fromClient = new RecordReader(8 << 20, (rec) => o.onCall?.(rec, conn));
    const fromServer = new RecordReader(8 << 20, (rec) => {
      if (o.drop?.(rec, conn)) {
        down.destroy();
        up.destroy();
        return;
      }
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE((0x80000000 | rec.length) >>> 0);
      if (!down.destroyed) down.write(Buffer.concat([mark, rec]));
    });
    down.on('data', (d) => {
      fromClient.push(d);
      up.write(d);
    });
    up.on('data', (d) => fromServer.push(d));
    const end = () => {
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
  return {
    port,
    close: async () => {
      for (const so of sockets) so.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
    },
  };
}
