/**
 * `nfs-localio cat URL...`: like cat(1), the files' bytes to stdout in
 * order (READs kept in flight ahead of the terminal or pipe). Local paths
 * work too. Errors as cat: "nfs-localio: URL: No such file or directory".
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ClientPool, complain, isNfsUrl, why } from './nfs-common.js';

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
      let src: Readable;
      try {
        if (isNfsUrl(arg)) {
          const { client, path } = await pool.get(arg);
          const st = await client.stat(path);
          if (st.isDirectory()) throw Object.assign(new Error('Is a directory'), { code: 'EISDIR' });
          const h = await client.open(path, 'r');
          src = h.createReadStream({ readAhead: 8 });
        } else {
          if (fs.statSync(arg).isDirectory()) throw Object.assign(new Error('Is a directory'), { code: 'EISDIR' });
          src = fs.createReadStream(arg);
        }
        await pipeline(src, process.stdout, { end: false });
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
