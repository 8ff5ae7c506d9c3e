/**
 * A server that goes away mid-stream, in a soft mount: the stream emits
 * 'error' (ETIMEDOUT, the client's typed error) then 'close', and the file
 * is released — over LOCALIO (which first notices the server is gone; its
 * descriptors alone would go on reading and writing) and over the wire.
 * Each case runs its own server, killed with SIGKILL part-way.
 */
import { it, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, NfsError, type ReadStream, type WriteStream } from '../../src/index.js';
import { startServer } from '../helpers/server-process.js';
import { WATCHDOG, trace, type Trace } from './stream-env.js';

describe('a server gone mid-stream (soft mount)', () => {
  for (const localio of [true, false]) {
    for (const kind of ['read', 'write'] as const) {
      it(`${kind} over ${localio ? 'LOCALIO' : 'the wire'}: error, then close, the file released`, WATCHDOG, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-streams-gone-'));
        fs.writeFileSync(path.join(dir, 'big'), randomBytes(24 * 1024 * 1024));
        const server = await startServer({ dir, exportsText: `${dir} *(rw,insecure,no_root_squash)\n` });
        const c = await connect(`${server.url()}&soft&timeo=300&retrans=2`, { localio });
        try {
          await c.localio.settled();
          assert.equal(c.localio.isLocal, localio);
          let s: ReadStream | WriteStream;
          let tr: Promise<Trace>;
          // the server dies with the stream open and part of the file through it
          if (kind === 'read') {
            const r = c.createReadStream('/big');
            s = r;
            tr = trace(r);
            // paused from its first chunk on (no 'readable' listener: removing one resumes a stream with 'data' listeners)
            await new Promise<void>((resolve) => r.once('data', () => (r.pause(), resolve())));
          } else {
            const w = c.createWriteStream('/out');
            s = w;
            tr = trace(w);
            await new Promise<void>((resolve, reject) => w.write(randomBytes(2 * 1024 * 1024), (e) => (e ? reject(e) : resolve())));
          }
          await server.kill9();
          // LOCALIO notices the server is gone (its descriptors would still read and write), then goes over the wire
          while (c.localio.isLocal) await new Promise((resolve) => setTimeout(resolve, 20));
          if (kind === 'read') (s as ReadStream).resume();
          else {
            (s as WriteStream).write(randomBytes(4 * 1024 * 1024));
            (s as WriteStream).end(randomBytes(1024));
          }
          const r = await tr;
          assert.deepEqual(r.events, ['open:number', 'ready', `error:ETIMEDOUT:${kind}`, 'close'], JSON.stringify({ bytes: kind === 'read' ? (s as ReadStream).bytesRead : (s as WriteStream).bytesWritten, localio: c.localio.status(), transports: c.stats().transports }));
          assert.ok(r.error instanceof NfsError);
          assert.equal(s.handle!.isClosed, true);
          assert.equal(c.stats().openFiles, 0);
        } finally {
          c.destroy();
          await server.stop();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  }
});
