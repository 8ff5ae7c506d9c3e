/**
 * `serve --rtmax/--wtmax`: FSINFO advertises them, READ is capped at rtmax,
 * and the record cap follows wtmax (a WRITE far over it is refused without
 * being buffered whole).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../helpers/server-process.js';
import { NfsClient, Nfs3Proc, NFS3_PROGRAM, NFS3_VERSION, CRED, chownTree } from '../helpers/nfs-raw.js';
import { encodeFsinfoArgs } from '../../src/nfs3/codec/args.js';
import { decodeFsinfoRes } from '../../src/nfs3/codec/results-decode.js';

test('rtmax/wtmax from the command line reach FSINFO, READ and the record cap', { timeout: 60_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-tsize-'));
  const dir = path.join(tmp, 'export');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'f'), Buffer.alloc(256 * 1024, 7));
  chownTree(dir);
  const srv = await startServer({ dir, stateDir: path.join(tmp, 'state'), extraArgs: ['--rtmax', '65536', '--wtmax', '32768'] });
  const c = await NfsClient.connect(srv.port);
  try {
    const root = await c.mount(dir);
    const { reader } = await c.rpc.call(NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc.FSINFO, (w) => encodeFsinfoArgs(w, { fsroot: root }), CRED);
    const info = decodeFsinfoRes(reader);
    assert.equal(info.status, 0);
    if (info.status !== 0) return;
    assert.equal(info.rtmax, 65536);
    assert.equal(info.wtmax, 32768);
    const f = await c.walk(root, 'f');
    const r = await c.read(f, 0, 1 << 20);
    assert.equal(r.status, 0);
    if (r.status === 0) {
      assert.equal(r.count, 65536);
      assert.equal(r.eof, false);
    }
    const ok = await c.write(f, 0, Buffer.alloc(32768, 1));
    assert.equal(ok.status, 0);
  } finally {
    await c.close();
  }
  // A 1 MiB WRITE is over the record cap (wtmax + 64 KiB): that connection is closed, the server keeps serving.
  const big = await NfsClient.connect(srv.port);
  const root2 = await big.mount(dir);
  const f2 = await big.walk(root2, 'f');
  // Closed mid-send: the client sees the reset or the close, depending on timing.
  await assert.rejects(big.write(f2, 0, Buffer.alloc(1 << 20, 2)), (e: { code?: string }) =>
    ['RPC_CONNECTION_CLOSED', 'ECONNRESET', 'EPIPE'].includes(e.code ?? ''),
  );
  await big.close();
  const again = await NfsClient.connect(srv.port);
  assert.equal((await again.getattr(await again.mount(dir))).status, 0);
  await again.close();
  await srv.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});
