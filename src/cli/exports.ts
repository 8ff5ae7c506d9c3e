/**
 * `nfs-localio exports URL|HOST...`: the server's export list (MOUNT
 * EXPORT), formatted as `showmount -e`.
 */
import { listExports } from '../client/index.js';
import { complain, isNfsUrl, why } from './nfs-common.js';

export async function exportsCmd(targets: string[]): Promise<number> {
  if (targets.length === 0) {
    complain('exports needs a URL or host (nfs://HOST[:PORT]/?mountport=N, or HOST)');
    return 1;
  }
  let code = 0;
  for (const t of targets) {
    const url = isNfsUrl(t) ? t : `nfs://${t.includes(':') && !t.startsWith('[') ? `[${t}]` : t}/`;
    try {
      const list = await listExports(url);
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const w = Math.max(0, ...list.map((e) => e.dir.length));
      process.stdout.write(`Export list for ${host}:\n`);
      for (const e of list) process.stdout.write(`${e.dir.padEnd(w)} ${e.groups.length ? e.groups.join(',') : '(everyone)'}\n`);
    } catch (e) {
      complain(`${t}: ${why(e)}`);
      code = 1;
    }
  }
  return code;
}
