/**
 * What CREATE, MKDIR, SYMLINK and MKNOD share: the parent check, the owner of
 * the new object, attributes applied after creation, and the reply.
 */
import type { CallContext } from '../rpc/context.js';
import { May, type Verified } from '../export/types.js';
import { ownerFor } from '../export/permission.js';
import { modeOnCreate } from '../export/setid.js';
import type { Node, Owner, SetAttrs } from '../storage/types.js';
import type { Nfs3Env } from './env.js';
import type { DirCreateRes, Sattr3 } from './types.js';
import { EMPTY_WCC, postOpAttr, wccAfter } from './attrs.js';
import { callerOf, isDotName, reachableAfterRefusal } from './common.js';
import { refuse, toNfsStat } from './status.js';
import { toSetAttrs } from './sattr.js';

/** The parent directory, with write and search permission (EROFS on a read-only export). */
export function verifyParent(env: Nfs3Env, ctx: CallContext, dirFh: Buffer): Promise<Verified> {
  return env.gate.verify(dirFh, callerOf(ctx), { type: 'dir', may: May.WRITE | May.EXEC });
}

/** "." and ".." always exist, so creating them is EXIST (as knfsd answers). */
export function checkNewName(name: string): void {
  if (isDotName(name)) refuse('EEXIST', `"${name}" exists`);
}

/**
 * Owner of a new object: ownerFor (caller, or the directory's group when it
 * is setgid). Only root may choose other ids through sattr3, as knfsd only
 * applies uid/gid after create when the caller is root.
 */
export function newOwner(dir: Verified, s: Sattr3): Owner {
  const o = ownerFor(dir.identity, dir.attrs);
  if (dir.identity.uid !== 0) return o;
  return { uid: s.uid ?? o.uid, gid: s.gid ?? o.gid };
}

/**
 * Mode of a new object: knfsd uses 0 when the client sends none (clients always send one in
 * practice). A non-directory in a set-group-ID directory loses S_ISGID the caller could not set
 * (setid.ts modeOnCreate); a directory keeps it (the backend adds the parent's).
 */
export function newMode(s: Sattr3, dir?: Verified): number {
  const mode = (s.mode ?? 0) & 0o7777;
  return dir === undefined ? mode : modeOnCreate(dir.attrs, mode, dir.identity);
}

/**
 * Attributes the create call itself could not set (times; size for regular
 * files), applied like knfsd's nfsd_create_setattr. Mode and owner were
 * given to the backend at creation.
 */
export async function applyAfterCreate(dir: Verified, node: Node, s: Sattr3, allowSize: boolean): Promise<void> {
  const all = toSetAttrs(s);
  const rest: SetAttrs = {};
  if (all.atime !== undefined) rest.atime = all.atime;
  if (all.mtime !== undefined) rest.mtime = all.mtime;
  if (allowSize && all.size !== undefined) rest.size = all.size;
  if (rest.atime === undefined && rest.mtime === undefined && rest.size === undefined) return;
  await dir.export.backend.setattr(node, rest);
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
