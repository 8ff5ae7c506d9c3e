/**
 * One of our clients in another process, driven line by line over stdin so
 * a test can interleave its locks with the parent's:
 *
 *   node dist/tests/helpers/lock-child.js URL FILE
 *   stdin:  lock START LENGTH [wait] | unlock | read | reopen | exit
 *   stdout: one JSON line per command: {"ok":true} or {"ok":false,"code":"EAGAIN"}; first {"ready":true}
 *
 * The file is opened read-write once; every lock belongs to that handle, and
 * `read` reads its first byte through it; `reopen` opens the file again (a
 * new handle), reads a byte through that one and closes it.
 */
import readline from 'node:readline';
import { connect } from '../../src/index.js';
import { clientChannel } from '../../src/client/transport.js';

// NFSL_TRACE=1: the client's session and transport events on stderr (what happened, when a test fails).
if (process.env.NFSL_TRACE) clientChannel.subscribe((m) => process.stderr.write(`lock-child ${JSON.stringify(m)}\n`));

const [url, file] = process.argv.slice(2);
const c = await connect(url);
const h = await c.open(file, 'r+');
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
say({ ready: true, version: c.version });
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [cmd, a, b, w] = line.trim().split(/\s+/);
  try {
    if (cmd === 'lock') await h.lock({ start: Number(a), length: Number(b), wait: w === 'wait' });
    else if (cmd === 'unlock') await h.unlock();
    else if (cmd === 'read') await h.read(Buffer.alloc(1), 0, 1, 0);
    else if (cmd === 'reopen') {
      const again = await c.open(file, 'r');
      await again.read(Buffer.alloc(1), 0, 1, 0);
      await again.close();
    }
    else if (cmd === 'exit') break;
    else throw new Error(`unknown command ${cmd}`);
    say({ ok: true });
  } catch (e) {
    say({ ok: false, code: (e as { code?: string }).code, nfsstat4: (e as { nfsstat4?: number }).nfsstat4, message: (e as Error).message });
  }
}
await h.close(); // a handle whose state is lost closes without a word too
await c.close();
say({ closed: true });
