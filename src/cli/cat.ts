/**
 * `nfs-localio cat URL...`: like cat(1), the files' bytes to stdout in
 * order (READs kept in flight ahead of the terminal or pipe). Local paths
 * work too. Errors as cat: "nfs-localio: URL: No such file or directory".
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { FileHandle } from '../client/index.js';
import { ClientPool, complain, isNfsUrl, why } from './nfs-common.js';

/**
 * A file's bytes to stdout, piece by piece, each piece's reply buffers given back to the client
 * once stdout has taken them. Why not `createReadStream` into `pipeline`: a stream's consumer owns
 * its chunks, so every READ then needs a fresh buffer (measured here: `cat` of a cached 1 GiB file
 * over the wire spent ~0.6 s of system time, most of it faulting those buffers in).
 */
async function piecesToStdout(h: FileHandle): Promise<void> {
  // 4 READs ahead, as cp: enough to keep the server busy, few enough to stay in the CPU cache.
  for await (const p of h.pieces({ start: 0, readAhead: 4 })) {
    try {
      for (let i = 0; i < p.chunks.length; i++) {
        const last = i === p.chunks.length - 1;
        // Wait for the last chunk to be written (stdout to a file or pipe writes at once on Linux), and for
        // room when stdout asks for it: only then may the buffers be reused.
        await new Promise<void>((resolve, reject) => {
          const room = process.stdout.write(p.chunks[i], (err) => {
            if (err) reject(err);
            else if (last && room) resolve();
          });
          if (!room) process.stdout.once('drain', () => resolve());
          else if (!last) resolve();
        });
      }
    } finally {
      p.release();
    }
  }
}

export async function cat(args: string[]): Promise<number> {
  const pool = new ClientPool();
  let code = 0;
  // a closed pipe downstream (cat big | head) ends quietly, as cat does on SIGPIPE
  let epipe = false;
  const onErr = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') epipe = true;
  };
  process.stdout.on('error', onErr);
  try {
    for (const arg of args) {
      if (epipe) break;
      try {
        if (isNfsUrl(arg)) {
          const { client, path } = await pool.get(arg);
          const st = await client.stat(path);
          if (st.isDirectory()) throw Object.assign(new Error('Is a directory'), { code: 'EISDIR' });
          const h = await client.open(path, 'r');
          try {
            await piecesToStdout(h);
          } finally {
            await h.close().catch(() => undefined);
          }
        } else {
          if (fs.statSync(arg).isDirectory()) throw Object.assign(new Error('Is a directory'), { code: 'EISDIR' });
          await pipeline(fs.createReadStream(arg), process.stdout, { end: false });
        }
      } catch (e) {
        if ((e as { code?: string }).code === 'EPIPE' || epipe) {
          epipe = true;
          break;
        }
        complain(`${arg}: ${why(e)}`);
        code = 1;
      }
    }
    return code;
  } finally {
    process.stdout.off('error', onErr);
    await pool.closeAll();
  }
}
