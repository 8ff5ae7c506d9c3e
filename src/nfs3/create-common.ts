/**
 * What CREATE, MKDIR, SYMLINK and MKNOD share: the parent check, the owner of
 * the new object, attributes applied after creation, and the reply.
 */
import type { CallContext } from '../rpc/context.js';
import { May, type Verified } from '../export/types.js';
import type { Node, Owner } from '../storage/types.js';
import { applyAfterCreate as sharedApply, newMode as sharedMode, newOwner as sharedOwner } from '../vfs/create.js';
import type { Nfs3Env } from './env.js';
import type { DirCreateRes, Sattr3 } from './types.js';
import { EMPTY_WCC, postOpAttr, wccAfter } from './attrs.js';
import { callerOf, reachableAfterRefusal } from './common.js';
import { toNfsStat } from './status.js';
import { toSetAttrs } from './sattr.js';

/** The parent directory, with write and search permission (EROFS on a read-only export). */
export function verifyParent(env: Nfs3Env, ctx: CallContext, dirFh: Buffer): Promise<Verified> {
  return env.gate.verify(dirFh, callerOf(ctx), { type: 'dir', may: May.WRITE | May.EXEC });
}

export { checkNewName } from '../vfs/create.js';

/** newOwner of vfs/create.ts for an sattr3 (only its uid and gid matter). */
export function newOwner(dir: Verified, s: Sattr3): Owner {
  return sharedOwner(dir, { uid: s.uid, gid: s.gid });
}

/** newMode of vfs/create.ts for an sattr3. */
export function newMode(s: Sattr3, dir?: Verified): number {
  return sharedMode({ mode: s.mode }, dir);
}

/** applyAfterCreate of vfs/create.ts for an sattr3 (EINVAL for an impossible time). */
export function applyAfterCreate(dir: Verified, node: Node, s: Sattr3, allowSize: boolean): Promise<void> {
  return sharedApply(dir, node, toSetAttrs(s), allowSize);
}

/** The success arm: handle, attributes and the directory's wcc. */
export async function createdRes(env: Nfs3Env, dir: Verified, node: Node): Promise<DirCreateRes> {
  const exp = dir.export;
  const [objAttrs, dirWcc] = await Promise.all([postOpAttr(exp, node), wccAfter(exp, dir.node, dir.attrs)]);
  return { status: 0, obj: env.gate.compose(exp, node), objAttrs, dirWcc };
}

/** The failure arm, with the directory's wcc when the directory was reached. */
export async function createFailRes(dir: Verified | undefined, err: unknown): Promise<DirCreateRes> {
  const status = toNfsStat(err);
  return { status, dirWcc: dir ? await wccAfter(dir.export, dir.node, dir.attrs) : EMPTY_WCC };
}

/**
 * The frame CREATE, MKDIR, SYMLINK and MKNOD share: verify the parent
 * directory, let `make` check the name and create the object, answer with its
 * handle and attributes; any failure becomes the failure arm, with the
 * directory's wcc whenever the directory was reachable.
 */
export async function createIn(
  env: Nfs3Env,
  ctx: CallContext,
  dirFh: Buffer,
  make: (dir: Verified) => Promise<Node>,
): Promise<DirCreateRes> {
  let dir: Verified | undefined;
  try {
    dir = await verifyParent(env, ctx, dirFh);
    return await createdRes(env, dir, await make(dir));
  } catch (e) {
    dir ??= await reachableAfterRefusal(env.gate, dirFh, ctx, e);
    return createFailRes(dir, e);
  }
}
