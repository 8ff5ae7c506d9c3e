/**
 * Byte-range locks (NFSv4 LOCK / LOCKU): two of our clients — in one
 * process, and in two processes — take conflicting locks against our server
 * and nfs-ganesha: denied (EAGAIN), then granted once the holder unlocks or
 * closes; shared locks coexist; a waiting lock is granted when the range is
 * free. On NFSv3 (no NLM) locks reject with ENOLCK.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, NfsClient, NfsError } from '../../src/index.js';
import { LockChild } from '../helpers/lock-child-proc.js';
import { ganeshaSkip, oursV4Skip, startGanesha, startOurs, type Target } from './targets.js';

async function rejectsCode(p: Promise<unknown>, code: string): Promise<NfsError> {
  try {
    await p;
  } catch (e) {
    assert.equal((e as NfsError).code, code, `expected ${code}, got ${(e as Error).message}`);
    return e as NfsError;
  }
  assert.fail(`expected rejection with ${code}`);
}

function lockSuite(name: string, skip: string | false, start: () => Promise<Target>): void {
  describe(`byte-range locks against ${name}`, { skip }, () => {
    let t: Target;
    let a: NfsClient;
    let b: NfsClient;
    let n = 0;
    const file = async (): Promise<string> => {
      const p = `/lock-${++n}-${Date.now().toString(36)}`;
      await a.writeFile(p, 'x'.repeat(1000));
      return p;
    };

    before(async () => {
      t = await start();
      a = await connect(t.url);
      b = await connect(t.url);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await t?.stop();
    });

    it('two clients: a conflict is EAGAIN, ranges apart coexist, a waiting lock is granted on unlock, close releases', async () => {
      const f = await file();
      const ha = await a.open(f, 'r+');
      const hb = await b.open(f, 'r+');
      await ha.lock({ start: 0, length: 100 });
      const e = await rejectsCode(hb.lock({ start: 50, length: 10 }), 'EAGAIN');
      assert.equal(e.nfsstat4, 10010, 'NFS4ERR_DENIED');
      assert.equal(e.syscall, 'fcntl');
      await hb.lock({ start: 100, length: 10 }); // adjacent: no overlap
      await rejectsCode(ha.lock({ start: 105, length: 1 }), 'EAGAIN');
      const waiting = hb.lock({ start: 0, length: 100, wait: true });
      await ha.unlock({ start: 0, length: 100 });
      await waiting;
      await rejectsCode(ha.lock({ start: 99, length: 1 }), 'EAGAIN');
      await hb.close(); // releases every lock of the handle
      await ha.lock({ start: 0, length: 0 }); // to the end of the file
      await ha.close();
    });

    it('shared locks coexist, an exclusive one conflicts with them; lock modes follow the open flags (EBADF)', async () => {
      const f = await file();
      const ra = await a.open(f, 'r');
      const rb = await b.open(f, 'r');
      await ra.lock({ exclusive: false });
      await rb.lock({ exclusive: false });
      await rejectsCode(ra.lock({ exclusive: true }), 'EBADF'); // a write lock needs a handle open for writing
      const wb = await b.open(f, 'r+');
      await rejectsCode(wb.lock({ start: 10, length: 1 }), 'EAGAIN');
      await ra.unlock();
      await rejectsCode(wb.lock({ start: 10, length: 1 }), 'EAGAIN'); // rb (another handle, another owner) still holds it
      await rb.close();
      await wb.lock({ start: 10, length: 1 });
      await Promise.all([ra.close(), wb.close()]);
    });

    it('one lock owner per FileHandle: two handles of one client conflict like two processes', async () => {
      const f = await file();
      const h1 = await a.open(f, 'r+');
      const h2 = await a.open(f, 'r+');
      await h1.lock({ start: 0, length: 10 });
      await rejectsCode(h2.lock({ start: 5, length: 1 }), 'EAGAIN');
      await h1.close();
      await h2.lock({ start: 5, length: 1 });
      await h2.close();
    });

    it('two processes: denied, then granted after the holder unlocks (both ways)', async () => {
      const f = await file();
      const child = new LockChild(t.url, f);
      try {
        const ready = await child.next();
        assert.equal(ready.ready, true);
        assert.equal(String(ready.version), t.version);
        assert.deepEqual(await child.send('lock 0 100'), { ok: true });
        const h = await a.open(f, 'r+');
        await rejectsCode(h.lock({ start: 10, length: 5 }), 'EAGAIN');
        const granted = h.lock({ start: 10, length: 5, wait: true });
        assert.deepEqual(await child.send('unlock'), { ok: true });
        await granted;
        const denied = await child.send('lock 0 100');
        assert.equal(denied.ok, false);
        assert.equal(denied.code, 'EAGAIN');
        await h.unlock();
        assert.deepEqual(await child.send('lock 0 100'), { ok: true });
        await rejectsCode(h.lock({ start: 0, length: 1 }), 'EAGAIN');
        await h.close();
      } finally {
        assert.equal(await child.exit(), 0);
      }
    });
  });
}

const v4Skip = await oursV4Skip();
lockSuite('nfs-localio server (NFSv4.1)', v4Skip, () => startOurs({ version: '4.1' }));
lockSuite('nfs-localio server (NFSv4.2)', v4Skip, () => startOurs({ version: '4.2' }));
lockSuite('nfs-ganesha (NFSv4.1)', ganeshaSkip(), () => startGanesha({ version: '4.1' }));

describe('byte-range locks on NFSv3', () => {
  it('reject with ENOLCK: NFSv3 locks would need NLM, which this client does not speak', async () => {
    const t = await startOurs();
    const c = await connect(t.url);
    try {
      await c.writeFile('/f', 'x');
      const h = await c.open('/f', 'r+');
      const e = await rejectsCode(h.lock(), 'ENOLCK');
      assert.equal(e.errno, -37);
      await rejectsCode(h.unlock(), 'ENOLCK');
      await h.close();
    } finally {
      await c.close();
      await t.stop();
    }
  });
});
