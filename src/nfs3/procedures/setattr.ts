import type { ProcedureDef } from '../../rpc/program.js';
import type { Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { SetattrArgs, SetattrRes } from '../types.js';
import { decodeSetattrArgs } from '../codec/args.js';
import { encodeSetattrRes } from '../codec/results.js';
import { EMPTY_WCC, toNfstime, toWccAttr, toFattr3, wccAfter } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { Nfs3Stat } from '../constants.js';
import { toNfsStat } from '../status.js';
import { checkSetattr, isEmptySetAttrs, sattrMay, toSetAttrs } from '../sattr.js';
import { setidForSetattr } from '../../export/setid.js';

/**
 * NFSPROC3_SETATTR (3.3.2). The gate checks type (a size change needs a
 * regular file: EISDIR / INVAL otherwise), read-only and the plain May bits;
 * checkSetattr the "or" rules. The guard compares the client's ctime with the
 * object's before anything changes (NOT_SYNC on mismatch).
 */
export function setattrProcedure(env: Nfs3Env): ProcedureDef<SetattrArgs, SetattrRes> {
  return {
    name: 'SETATTR',
    decode: decodeSetattrArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        const s = args.attrs;
        v = await env.gate.verify(args.object, callerOf(ctx), {
          type: s.size !== undefined ? 'reg' : 'any',
          may: sattrMay(s),
        });
        if (args.guard) {
          const now = toNfstime(v.attrs.ctime);
          if (now.seconds !== args.guard.seconds || now.nseconds !== args.guard.nseconds) {
            const unchanged = toFattr3(v.attrs, v.export);
            return { status: Nfs3Stat.NOT_SYNC, wcc: { before: toWccAttr(v.attrs), after: unchanged } };
          }
        }
        const asked = toSetAttrs(s);
        checkSetattr(v, asked);
        // Linux ignores mode changes on symlinks (knfsd drops ATTR_MODE for them).
        if (v.attrs.type === 'lnk') delete asked.mode;
        // The VFS's set-id rules for this caller: chmod, chown and truncate may drop S_ISUID/S_ISGID.
        const set = setidForSetattr(v.attrs, asked, v.identity);
        if (!isEmptySetAttrs(set)) {
          const after = await v.export.backend.setattr(v.node, set);
          return { status: 0, wcc: { before: toWccAttr(v.attrs), after: toFattr3(after, v.export) } };
        }
        return { status: 0, wcc: await wccAfter(v.export, v.node, v.attrs) };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.object, ctx, e);
        const status = toNfsStat(e);
        return { status, wcc: v ? await wccAfter(v.export, v.node, v.attrs) : EMPTY_WCC };
      }
    },
    encode: encodeSetattrRes,
    cache: 'reply',
  };
}
