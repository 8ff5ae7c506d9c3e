/**
 * `nfs-localio rm [-r] [-f] [-d] [-v] URL...`: like rm(1).
 * "nfs-localio: cannot remove 'URL': No such file or directory" (silenced by -f),
 * "…: Is a directory" without -r (or -d for an empty one), exit 1 on any failure.
 */
import { ClientPool, complain, isNfsUrl, why } from './nfs-common.js';

export interface RmOptions {
  recursive?: boolean;
  force?: boolean;
  dir?: boolean;
  verbose?: boolean;
}

export async function rmCmd(urls: string[], o: RmOptions): Promise<number> {
  if (urls.length === 0) {
    if (o.force) return 0;
    complain('missing operand');
    return 1;
  }
  const pool = new ClientPool();
  let code = 0;
  try {
    for (const url of urls) {
      if (!isNfsUrl(url)) {
        complain(`cannot remove '${url}': not an nfs:// URL`);
        code = 1;
        continue;
      }
      try {
        const { client, path } = await pool.get(url);
        if (path === '/' || path === '') {
          complain(`refusing to remove '${url}': it is the root of the export`);
          code = 1;
          continue;
        }
        const st = await client.lstat(path);
        if (st.isDirectory()) {
          if (o.recursive) await client.rm(path, { recursive: true });
          else if (o.dir) await client.rmdir(path);
          else throw Object.assign(new Error('Is a directory'), { code: 'EISDIR' });
        } else await client.unlink(path);
        if (o.verbose) process.stdout.write(`removed '${url}'\n`);
      } catch (e) {
        if (o.force && (e as { code?: string }).code === 'ENOENT') continue;
        complain(`cannot remove '${url}': ${why(e)}`);
        code = 1;
      }
    }
    return code;
  } finally {
    await pool.closeAll();
  }
}
