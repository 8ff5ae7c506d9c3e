/**
 * One of our clients in another process, driven line by line over stdin so
 * a test can interleave its locks with the parent's:
 *
 *   node dist/tests/helpers/lock-child.js URL FILE
 *   stdin:  lock START LENGTH [wait] | unlock | exit
 *   stdout: one JSON line per command: {"ok":true} or {"ok":false,"code":"EAGAIN"}; first {"ready":true}
 *
 * The file is opened read-write once; every lock belongs to that handle.
 */
import readline from 'node:readline';
import { connect } from '../../src/index.js';

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
    else if (cmd === 'exit') break;
    else throw new Error(`unknown command ${cmd}`);
    say({ ok: true });
  } catch (e) {
    say({ ok: false, code: (e as { code?: string }).code, message: (e as Error).message });
  }
}
await h.close();
await c.close();
say({ closed: true });
