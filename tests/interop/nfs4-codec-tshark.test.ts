/**
 * The NFSv4 codec's bytes against Wireshark's NFS dissector: a loopback peer
 * made of the codec alone (tests/helpers/nfs4-codec-peer.ts) sends a
 * COMPOUND per op and sample — every op of 4.0-4.2 and RFC 8276, calls and
 * replies, OK and failure arms, READ data lent as chunks — while
 * tshark-nfs.sh captures it; then 0 malformed frames, 0 expert errors, 0
 * dropped packets and every call answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { needCommand } from '../helpers/server-process.js';
import { TSHARK_NFS, analyzeCapture, describe, privateTempDir, removeDir, runCommand } from '../helpers/peers.js';
import { plans } from '../helpers/nfs4-codec-peer.js';

const PEER = fileURLToPath(new URL('../helpers/nfs4-codec-peer.js', import.meta.url));

/** A port nobody listens on now (the peer binds it right after). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

test('every op encoded by the v4 codec, both ways, decodes in Wireshark with no malformed frame', { skip: needCommand('tshark') }, async (t) => {
  const dir = privateTempDir('nfsl-nfs4-codec-');
  try {
    const port = await freePort();
    const pcap = path.join(dir, 'codec.pcapng');
    const r = await runCommand(TSHARK_NFS, ['-p', String(port), '-w', pcap, '--', process.execPath, PEER, String(port)]);
    const compounds = plans().length;
    assert.equal(r.code, 0, describe(r, 6000));
    assert.match(r.stdout, new RegExp(`nfs4-codec-peer: ${compounds} COMPOUNDs`), describe(r, 3000));
    assert.match(r.stdout, /, 0 malformed\/error frames, 0 dropped by capture;/, describe(r, 3000));
    const report = await analyzeCapture(pcap, [port]);
    t.diagnostic(`${report.rpcMessages} RPC messages for ${compounds} COMPOUNDs`);
    assert.deepEqual(report.bad, []);
    assert.deepEqual(report.unanswered, []);
    assert.equal(report.rpcMessages, 2 * compounds);
  } finally {
    removeDir(dir);
  }
});
