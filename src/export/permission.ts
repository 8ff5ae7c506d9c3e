/**
 * NFS permission checks from attributes, as pure functions.
 *
 * The server checks permissions itself (rather than relying on the kernel)
 * because a privileged server opens files as root on behalf of many users,
 * and because NFSv3 is stateless: there is no open() at which the kernel
 * could check once. These follow knfsd's nfsd_permission()/nfsd_access().
 */
import type { Attrs, Owner } from '../storage/types.js';
import { May, type Identity } from './types.js';

/** ACCESS3 bits (RFC 1813 §3.3.4). */
export const Access3 = {
  READ: 0x1,
  LOOKUP: 0x2,
  MODIFY: 0x4,
  EXTEND: 0x8,
  DELETE: 0x10,
  EXECUTE: 0x20,
} as const;
export const ACCESS3_ALL = 0x3f;

const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

export function inGroup(attrs: Attrs, id: Identity): boolean {
  return id.gid === attrs.gid || id.gids.includes(attrs.gid);
}

/**
 * Plain POSIX mode check, no overrides. Exactly one class applies: the owner
 * class for the owner even when it grants less than the group class does.
 * Root may read and write anything, search any directory, and execute a
 * file only when some x bit is set (as the kernel's generic_permission).
 */
export function modeAllows(attrs: Attrs, id: Identity, may: number): boolean {
  const r = may & May.READ ? 4 : 0;
  const w = may & (May.WRITE | May.TRUNC) ? 2 : 0;
  const x = may & (May.EXEC | May.LOOKUP) ? 1 : 0;
  if (id.uid === 0) return !x || attrs.type === 'dir' || (attrs.mode & 0o111) !== 0;
  const want = r | w | x;
  const cls = id.uid === attrs.uid ? (attrs.mode >> 6) & 7 : inGroup(attrs, id) ? (attrs.mode >> 3) & 7 : attrs.mode & 7;
  return (cls & want) === want;
}

/** May.OWNER: the owner or root (chmod, chown-as-owner, arbitrary utimes). */
export function isOwner(attrs: Attrs, id: Identity): boolean {
  return id.uid === attrs.uid || id.uid === 0;
}

/**
 * Permission for an NFS operation (READ, WRITE, SETATTR, LOOKUP, ...).
 *
 * Two knfsd overrides apply to regular files, because NFS has no open():
 * - owner override: the owner may READ/WRITE/TRUNC their own file whatever
 *   the mode says. Locally the check happened at open() time, so a program
 *   that creates a file with mode 0444 and then writes to it, or does
 *   fchmod(fd, 0) and keeps using fd, works; over NFS every WRITE is checked
 *   anew and would fail without this.
 * - read-if-exec: READ is allowed when EXEC is, since a client must read a
 *   binary (mode 0711) to execute it.
 * Not used for ACCESS3 answers (see accessMask), which tell the mode's truth.
 */
export function permits(attrs: Attrs, id: Identity, may: number): boolean {
  if (may & May.OWNER && !isOwner(attrs, id)) return false;
  const rest = may & ~May.OWNER;
  if (rest === 0) return true;
  if (attrs.type === 'reg') {
    if (id.uid === attrs.uid && (rest & ~(May.READ | May.WRITE | May.TRUNC)) === 0) return true;
    if (rest === May.READ && modeAllows(attrs, id, May.EXEC)) return true;
  }
  return modeAllows(attrs, id, rest);
}

/**
 * ACCESS3: the requested bits that are granted (knfsd's nfs3_diraccess /
 * nfs3_regaccess tables). LOOKUP and DELETE only mean something for
 * directories, EXECUTE only for non-directories; changes to a directory
 * need write AND search permission; nothing that modifies is granted on a
 * read-only export.
 */
export function accessMask(attrs: Attrs, id: Identity, readOnly: boolean, requested: number): number {
  let g = 0;
  if (modeAllows(attrs, id, May.READ)) g |= Access3.READ;
  if (attrs.type === 'dir') {
    if (modeAllows(attrs, id, May.LOOKUP)) g |= Access3.LOOKUP;
    if (!readOnly && modeAllows(attrs, id, May.WRITE | May.EXEC)) g |= Access3.MODIFY | Access3.EXTEND | Access3.DELETE;
  } else {
    if (modeAllows(attrs, id, May.EXEC)) g |= Access3.EXECUTE;
    if (!readOnly && modeAllows(attrs, id, May.WRITE)) g |= Access3.MODIFY | Access3.EXTEND;
  }
  return g & requested & ACCESS3_ALL;
}

/**
 * May `id` remove (or rename away, or replace) an entry of `dirAttrs` whose
 * object is `victimAttrs`? Write and search permission on the directory, and
 * in a sticky directory (/tmp) only the owner of the entry, the owner of the
 * directory, or root. The read-only export check is the gate's.
 */
export function mayDelete(dirAttrs: Attrs, victimAttrs: Attrs, id: Identity): boolean {
  if (dirAttrs.type !== 'dir') return false;
  if (!modeAllows(dirAttrs, id, May.WRITE | May.EXEC)) return false;
  return stickyAllows(dirAttrs, victimAttrs, id);
}

/** Only the sticky-bit part of mayDelete. */
export function stickyAllows(dirAttrs: Attrs, victimAttrs: Attrs, id: Identity): boolean {
  if (!(dirAttrs.mode & S_ISVTX)) return true;
  return id.uid === 0 || id.uid === victimAttrs.uid || id.uid === dirAttrs.uid;
}

/**
 * Owner of a new object in `dirAttrs`: the caller, with the directory's group
 * when the directory is setgid (BSD group semantics, what shared project
 * directories rely on), else the caller's primary group.
 */
export function ownerFor(id: Identity, dirAttrs: Attrs): Owner {
  return { uid: id.uid, gid: dirAttrs.mode & S_ISGID ? dirAttrs.gid : id.gid };
}
