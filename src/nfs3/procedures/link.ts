import type { ProcedureDef } from '../../rpc/program.js';
import type { Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { LinkArgs, LinkRes } from '../types.js';
import { decodeLinkArgs } from '../codec/args.js';
import { encodeLinkRes } from '../codec/results.js';
import { EMPTY_WCC, postOpAttr, toFattr3, wccAfter } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { refuse, toNfsStat } from '../status.js';
import { checkNewName, verifyParent } from '../create-common.js';

/**
 * NFSPROC3_LINK (3.3.15): a hard link to a non-directory (a directory is
 * ISDIR), in a directory of the same export (XDEV otherwise). "." and ".."
 * exist, so EXIST.
 */
export function linkProcedure(env: Nfs3Env): ProcedureDef<LinkArgs, LinkRes> {
  return {
    name: 'LINK',
    decode: decodeLinkArgs,
    async handle(args, ctx) {
      let file: Verified | undefined;
      let dir: Verified | undefined;
      try {
        file = await env.gate.verify(args.file, callerOf(ctx), { type: 'notdir' });
        dir = await verifyParent(env, ctx, args.link.dir);
        checkNewName(args.link.name);
        if (file.export.id !== dir.export.id) refuse('EXDEV', 'link across exports');
        await dir.export.backend.link(file.node, dir.node, args.link.name);
        const [fileAttrs, linkDirWcc] = await Promise.all([
          postOpAttr(file.export, file.node),
          wccAfter(dir.export, dir.node, dir.attrs),
        ]);
        return { status: 0, fileAttrs, linkDirWcc };
      } catch (e) {
        if (!file) file = await reachableAfterRefusal(env.gate, args.file, ctx, e);
        else if (!dir) dir = await reachableAfterRefusal(env.gate, args.link.dir, ctx, e);
        const status = toNfsStat(e);
        const fileAttrs = file && toFattr3(file.attrs, file.export);
        const linkDirWcc = dir ? await wccAfter(dir.export, dir.node, dir.attrs) : EMPTY_WCC;
        return { status, fileAttrs, linkDirWcc };
      }
    },
    encode: encodeLinkRes,
    cache: 'reply',
  };
}
