/**
 * A recording TCP proxy on 127.0.0.1: clients connect to it, it forwards every byte to the server
 * and back unchanged, and keeps each RPC record that passed (calls, and replies labelled with the
 * program/version/procedure of the call they answer). How real traffic becomes corpus.
 */
import net from 'node:net';
import { RecordReader } from '../src/rpc/record.js';
import { MsgType } from '../src/rpc/message.js';
import type { CorpusEntry } from './corpus.js';

export interface Recorder {
  port: number;
  entries: CorpusEntry[];
  close(): Promise<void>;
}

const MAX = 16 << 20;

export function startRecorder(upstreamPort: number, opts: { maxKeep?: number } = {}): Promise<Recorder> {
  const entries: CorpusEntry[] = [];
  const maxKeep = opts.maxKeep ?? 16 * 1024;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(down).add(up);
    const calls = new Map<number, [number, number, number]>();
    const fromClient = new RecordReader(MAX, (rec) => {
      if (rec.length >= 24 && rec.readUInt32BE(4) === MsgType.CALL) {
        const key: [number, number, number] = [rec.readUInt32BE(12), rec.readUInt32BE(16), rec.readUInt32BE(20)];
        calls.set(rec.readUInt32BE(0), key);
        if (rec.length <= maxKeep) entries.push({ kind: 'call', prog: key[0], vers: key[1], proc: key[2], bytes: Buffer.from(rec) });
      }
    });
    const fromServer = new RecordReader(MAX, (rec) => {
      if (rec.length < 8 || rec.readUInt32BE(4) !== MsgType.REPLY) return;
      const key = calls.get(rec.readUInt32BE(0)) ?? [0, 0, 0];
      if (rec.length <= maxKeep) entries.push({ kind: 'reply', prog: key[0], vers: key[1], proc: key[2], bytes: Buffer.from(rec) });
    });
    down.on('data', (d: Buffer) => {
      up.write(d);
      fromClient.push(d);
    });
    up.on('data', (d: Buffer) => {
      down.write(d);
      fromServer.push(d);
    });
    const end = () => {
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        entries,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
