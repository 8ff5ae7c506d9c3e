import type { ProcedureDef } from '../../rpc/program.js';
import type { MountDeps } from '../env.js';
import type { ExportNode } from '../types.js';
import { encodeExports } from '../codec.js';
import { MNTNAMLEN, MNTPATHLEN } from '../constants.js';

/**
 * MOUNTPROC3_EXPORT: exports (void) = 5. Every export with its host
 * patterns as groups (what showmount -e prints), like rpc.mountd. Items that
 * would break the XDR bounds are left out rather than sent malformed.
 */
export function exportProcedure(deps: MountDeps): ProcedureDef<void, ExportNode[]> {
  return {
    name: 'EXPORT',
    decode: () => undefined,
    handle() {
      const out: ExportNode[] = [];
      for (const exp of deps.exports.list()) {
        if (Buffer.byteLength(exp.path) > MNTPATHLEN) continue;
        const groups = exp.entry.clients.map((c) => c.host).filter((h) => Buffer.byteLength(h) <= MNTNAMLEN);
        out.push({ dir: exp.path, groups });
      }
      return out;
    },
    encode: encodeExports,
    cache: 'none',
  };
}
