import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Node } from '../../storage/types.js';
import type { Nfs3Env } from '../env.js';
import type { LookupArgs, LookupRes } from '../types.js';
import { decodeLookupArgs } from '../codec/args.js';
import { encodeLookupRes } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal, isExportRoot } from '../common.js';
import { toNfsStat } from '../status.js';

/**
 * NFSPROC3_LOOKUP (3.3.3). Needs search permission on the directory. "."
 * is the directory; ".." its parent, except at the export root where it is
 * the root itself, so nothing outside the export is reachable. The backend
 * never follows a symlink: looking up a symlink yields the symlink.
 */
export function lookupProcedure(env: Nfs3Env): ProcedureDef<LookupArgs, LookupRes> {
  return {
    name: 'LOOKUP',
    decode: decodeLookupArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.what.dir, callerOf(ctx), { type: 'dir', may: May.EXEC });
        const b = v.export.backend;
        const name = args.what.name;
        let node: Node;
        if (name === '.') node = v.node;
        else if (name === '..') node = isExportRoot(v) ? v.node : await b.parent(v.node);
        else node = await b.lookup(v.node, name);
        const attrs = node === v.node ? v.attrs : await b.getattr(node);
        return {
          status: 0,
          object: env.gate.compose(v.export, node),
          objAttrs: toFattr3(attrs, v.export),
          dirAttrs: toFattr3(v.attrs, v.export),
        };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.what.dir, ctx, e);
        return { status: toNfsStat(e), dirAttrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeLookupRes,
    cache: 'none',
  };
}
