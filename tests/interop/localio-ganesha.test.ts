/**
 * Our client against nfs-ganesha, which has no LOCALIO program (issue 4:
 * "our client against nfs-ganesha (no program → stays on the wire, mount
 * not slowed)"): connect() resolves while the probe is still in flight; the
 * probe ends with PROG_UNAVAIL for 400122 and the client stays remote with
 * a reason that says so, never re-probing; file I/O goes over the wire.
 *
 * ganesha runs on free loopback ports with its own state and export
 * directories (tests/client/targets.ts), stopped by its own pid file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connect, parseNfsUrl, type NfsClient } from '../../src/index.js';
import { setLogLevel, type LogLevel } from '../../src/util/log.js';
import { RawConn, CRED, parseReply, replyStatus } from '../helpers/nfs-raw.js';
import { ganeshaSkip, startGanesha, type Target } from '../client/targets.js';

setLogLevel((process.env.NFS_LOCALIO_TEST_LOG as LogLevel) ?? 'warn');

const MiB = 1024 * 1024;
const skip = ganeshaSkip();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let g: Target;
const clients: NfsClient[] = [];

before(async () => {
  if (skip) return;
  g = await startGanesha();
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await g?.stop();
});

test('ganesha answers PROG_UNAVAIL for program 400122 (the premise)', { skip }, async () => {
  const u = parseNfsUrl(g.url);
  const conn = await RawConn.connect(u.nfsPort!);
  try {
    for (const [xid, proc, args] of [[0x4001, 0, undefined], [0x4002, 1, randomBytes(16)]] as const) {
      const rep = parseReply(await conn.call({ xid, prog: 400122, vers: 1, proc, cred: CRED, args }));
      assert.equal(replyStatus(rep.header), 'PROG_UNAVAIL', `LOCALIO proc ${proc}`);
    }
  } finally {
    conn.destroy();
  }
});

test('our client against ganesha: connect() does not wait for the probe, then disabled (no program), I/O over the wire', { skip }, async (t) => {
  const t0 = performance.now();
  const c = await connect(g.url);
  clients.push(c);
  const connectMs = performance.now() - t0;
  const s0 = c.localio.status();
  assert.equal(s0.state, 'probing', 'connect() resolved with the probe still in flight');
  await c.localio.settled();
  const settledMs = performance.now() - t0;
  t.diagnostic(`connect ${connectMs.toFixed(1)} ms, probe settled at ${settledMs.toFixed(1)} ms`);

  const s1 = c.localio.status();
  assert.equal(s1.state, 'disabled', JSON.stringify(s1));
  assert.match(s1.reason ?? '', /no LOCALIO program/, 'the reason names the missing program');
  assert.equal(s1.server, undefined);
  assert.equal(s1.probes, 1);
  assert.equal(s1.enables, 0);

  const data = randomBytes(2 * MiB + 333);
  await c.writeFile('/lio-ganesha.bin', data);
  const back = (await c.readFile('/lio-ganesha.bin')) as Buffer;
  assert.equal(sha(back), sha(data), 'written and read back through ganesha');
  assert.equal(sha(fs.readFileSync(path.join(g.dir, 'lio-ganesha.bin'))), sha(data), 'on ganesha\'s disk');

  const s2 = c.localio.status();
  assert.deepEqual(s2.local, { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 }, 'nothing local');
  assert.ok(s2.wire.writes > 0 && s2.wire.bytesWritten >= data.length, JSON.stringify(s2.wire));
  assert.ok(s2.wire.reads > 0 && s2.wire.bytesRead >= data.length, JSON.stringify(s2.wire));
  // A server without the program stays that way: no re-probe (the first backoff is 1 s).
  await new Promise((r) => setTimeout(r, 1500));
  const s3 = c.localio.status();
  assert.equal(s3.probes, 1, 'no re-probe against a server without the program');
  assert.equal(s3.state, 'disabled');
});

test('ganesha with LOCALIO off in the client: state off, no probe at all', { skip }, async () => {
  const c = await connect(g.url, { localio: false });
  clients.push(c);
  const s = c.localio.status();
  assert.equal(s.state, 'off');
  assert.equal(s.probes, 0);
  await c.localio.settled();
  assert.equal(c.localio.status().probes, 0);
  const data = randomBytes(64 * 1024);
  await c.writeFile('/lio-ganesha-off.bin', data);
  assert.equal(sha((await c.readFile('/lio-ganesha-off.bin')) as Buffer), sha(data));
});
