/**
 * `nfs-localio mkdir [-p] [-m MODE] [-v] URL...`: like mkdir(1).
 * "nfs-localio: cannot create directory 'URL': File exists", exit 1.
 */
import { ClientPool, complain, isNfsUrl, why } from './nfs-common.js';

export interface MkdirOptions {
  parents?: boolean;
  mode?: string;
  verbose?: boolean;
}

export async function mkdirCmd(urls: string[], o: MkdirOptions): Promise<number> {
  if (urls.length === 0) {
    complain('missing operand');
    return 1;
  }
  let mode: number | undefined;
  if (o.mode !== undefined) {
    if (!/^[0-7]{1,4}$/.test(o.mode)) {
      complain(`invalid mode '${o.mode}'`);
      return 1;
    }
    mode = parseInt(o.mode, 8);
  }
  const pool = new ClientPool();
  let code = 0;
  try {
    for (const url of urls) {
      if (!isNfsUrl(url)) {
        complain(`cannot create directory '${url}': not an nfs:// URL`);
        code = 1;
        continue;
      }
      try {
        const { client, path } = await pool.get(url);
        await client.mkdir(path, { recursive: !!o.parents, mode: mode ?? 0o777 });
        // mkdir -m sets the mode exactly, whatever the umask
        if (mode !== undefined) await client.chmod(path, mode);
        if (o.verbose) process.stdout.write(`${'nfs-localio'}: created directory '${url}'\n`);
      } catch (e) {
        complain(`cannot create directory '${url}': ${why(e)}`);
        code = 1;
      }
    }
    return code;
  } finally {
    await pool.closeAll();
  }
}
