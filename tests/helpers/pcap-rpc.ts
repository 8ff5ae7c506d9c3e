/**
 * ONC RPC records out of a capture: tshark's "follow,tcp,raw" gives each TCP
 * stream's bytes per direction, and record marking (RFC 5531 §11) splits
 * them into records. Used to turn a capture of real traffic into fixtures
 * (tests/fixtures/nfs4/*.json) the codec tests decode.
 *
 *   node dist/tests/helpers/pcap-rpc.js CAPTURE OUT.json "what this is"
 * keeps the NFSv4 COMPOUND calls (program 100003 version 4 procedure 1)
 * and their replies, in capture order per connection.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface RpcRecord {
  /** Which end sent it: the connection's initiator (client) or the other end. */
  from: 'client' | 'server';
  stream: number;
  record: Buffer;
}

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Split a byte stream into records (fragments joined); a partial record at the end is dropped. */
export function splitRecords(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let parts: Buffer[] = [];
  let off = 0;
  while (off + 4 <= stream.length) {
    const mark = stream.readUInt32BE(off);
    const len = mark & 0x7fffffff;
    if (off + 4 + len > stream.length) break;
    parts.push(stream.subarray(off + 4, off + 4 + len));
    off += 4 + len;
    if (mark & 0x80000000) {
      out.push(Buffer.concat(parts));
      parts = [];
    }
  }
  return out;
}

/** Every RPC record of every TCP stream of `file`, client's and server's, stream by stream. */
export function rpcRecords(file: string): RpcRecord[] {
  const streams = [...new Set(tshark(['-r', file, '-T', 'fields', '-e', 'tcp.stream']).split('\n').filter(Boolean).map(Number))].sort((a, b) => a - b);
  const out: RpcRecord[] = [];
  for (const stream of streams) {
    const text = tshark(['-r', file, '-q', '-z', `follow,tcp,raw,${stream}`]);
    const client: Buffer[] = [];
    const server: Buffer[] = [];
    for (const line of text.split('\n')) {
      if (/^\t[0-9a-f]+$/.test(line)) server.push(Buffer.from(line.slice(1), 'hex'));
      else if (/^[0-9a-f]+$/.test(line)) client.push(Buffer.from(line, 'hex'));
    }
    for (const record of splitRecords(Buffer.concat(client))) out.push({ from: 'client', stream, record });
    for (const record of splitRecords(Buffer.concat(server))) out.push({ from: 'server', stream, record });
  }
  return out;
}

/** The NFSv4 COMPOUND calls and the replies with their xids, as fixture entries. */
export function compoundRecords(records: RpcRecord[]): { from: 'client' | 'server'; hex: string }[] {
  const xids = new Set<string>();
  const keep: { from: 'client' | 'server'; hex: string }[] = [];
  for (const r of records) {
    const b = r.record;
    if (b.length < 24) continue;
    const key = `${r.stream}:${b.readUInt32BE(0)}`;
    const isCall = r.from === 'client' && b.readUInt32BE(4) === 0 && b.readUInt32BE(12) === 100003 && b.readUInt32BE(16) === 4 && b.readUInt32BE(20) === 1;
    if (isCall) xids.add(key);
    else if (!(r.from === 'server' && b.readUInt32BE(4) === 1 && xids.has(key))) continue;
    keep.push({ from: r.from, hex: b.toString('hex') });
  }
  return keep;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, out, source] = [process.argv[2], process.argv[3], process.argv[4] ?? ''];
  const records = compoundRecords(rpcRecords(file));
  fs.writeFileSync(out, JSON.stringify({ source, records }, null, 1) + '\n');
  console.log(`${out}: ${records.filter((r) => r.from === 'client').length} calls, ${records.filter((r) => r.from === 'server').length} replies`);
}
