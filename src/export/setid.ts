/**
 * The set-user-ID / set-group-ID rules of the Linux VFS, applied by the server
 * for the caller, as pure functions.
 *
 * Why here: the server does the I/O with its own credentials (often root, which
 * has CAP_FSETID), so the host kernel never strips these bits on a client's
 * behalf, and the Linux NFS client leaves it to the server (nfs_setattr drops
 * ATTR_KILL_S*ID). knfsd gets the kernel's rules by switching its filesystem
 * credentials per request; we compute the same outcome from the attributes and
 * the squashed identity, and make it an explicit mode change before the
 * operation (knfsd's order: file_remove_privs runs before a write copies data).
 *
 * CAP_FSETID is what knfsd grants: only a caller that is root after squashing
 * has it (nfsd_setuser drops the capability set for every other uid).
 * The rules, as in Linux 6.x (fs/attr.c, fs/inode.c):
 * - write and truncate (file_remove_privs, do_truncate): a regular file loses
 *   S_ISUID, and S_ISGID when it has group-execute or the caller is not in its
 *   group (setattr_should_drop_sgid), unless the caller has CAP_FSETID — the
 *   owner included;
 * - chmod (setattr_prepare): S_ISGID is dropped from the new mode unless the
 *   caller is in the file's (new) group or has CAP_FSETID;
 * - chown of a non-directory (chown_common): S_ISUID always goes, whoever asks;
 *   S_ISGID as setattr_should_drop_sgid says; a mode sent in the same SETATTR
 *   loses them too (knfsd's nfsd_setattr);
 * - create in a set-group-ID directory (inode_init_owner, mode_strip_sgid): the
 *   new file gets the directory's group, and a requested S_ISGID | S_IXGRP is
 *   dropped unless the caller is in that group or has CAP_FSETID; new
 *   directories keep S_ISGID (the backend adds it).
 */
import type { Attrs, SetAttrs } from '../storage/types.js';
import type { Identity } from './types.js';

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_IXGRP = 0o0010;

/** CAP_FSETID, as knfsd grants it. */
function capable(id: Identity): boolean {
  return id.uid === 0;
}

function inGroupOrCapable(id: Identity, gid: number): boolean {
  return capable(id) || id.gid === gid || id.gids.includes(gid);
}

/** setattr_should_drop_sgid: S_ISGID is a real set-group-ID (group-execute set) or the caller is no member. */
function dropsSgid(mode: number, gid: number, id: Identity): boolean {
  if ((mode & S_ISGID) === 0) return false;
  return (mode & S_IXGRP) !== 0 || !inGroupOrCapable(id, gid);
}

/**
 * The mode a file must take before `id` writes to or truncates it
 * (file_remove_privs), or undefined when nothing changes.
 */
export function modeBeforeWrite(attrs: Attrs, id: Identity): number | undefined {
  if (attrs.type !== 'reg' || capable(id)) return undefined;
  let kill = attrs.mode & S_ISUID;
  if (dropsSgid(attrs.mode, attrs.gid, id)) kill |= S_ISGID;
  return kill === 0 ? undefined : attrs.mode & ~kill;
}

/** A SETATTR's changes with the set-id rules applied (chmod, chown, truncate); `set` is left alone. */
export function setidForSetattr(attrs: Attrs, set: SetAttrs, id: Identity): SetAttrs {
  const out: SetAttrs = { ...set };
  if (out.mode !== undefined && !inGroupOrCapable(id, set.gid ?? attrs.gid)) out.mode &= ~S_ISGID;
  const chown = set.uid !== undefined || set.gid !== undefined;
  if (chown && attrs.type !== 'dir' && attrs.type !== 'lnk') {
    if (out.mode !== undefined) {
      out.mode &= ~S_ISUID;
      if ((out.mode & S_IXGRP) !== 0) out.mode &= ~S_ISGID;
    } else {
      let kill = attrs.mode & S_ISUID;
      if (dropsSgid(attrs.mode, attrs.gid, id)) kill |= S_ISGID;
      if (kill !== 0) out.mode = attrs.mode & ~kill;
    }
  }
  if (set.size !== undefined && out.mode === undefined) {
    const m = modeBeforeWrite(attrs, id);
    if (m !== undefined) out.mode = m;
  }
  return out;
}

/** The mode of a new non-directory in `dirAttrs` (mode_strip_sgid). */
export function modeOnCreate(dirAttrs: Attrs, mode: number, id: Identity): number {
  if ((mode & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP)) return mode;
  if ((dirAttrs.mode & S_ISGID) === 0 || inGroupOrCapable(id, dirAttrs.gid)) return mode;
  return mode & ~S_ISGID;
}
