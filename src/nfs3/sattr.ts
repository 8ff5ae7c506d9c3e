/**
 * sattr3 → the backend's SetAttrs, and the permission each attribute change
 * needs (knfsd's nfsd_setattr + the VFS's setattr_prepare rules).
 */
import type { Identity, Verified } from '../export/types.js';
import { May } from '../export/types.js';
import { isOwner, permits } from '../export/permission.js';
import type { SetAttrs, Timestamp } from '../storage/types.js';
import type { Nfstime3, Sattr3 } from './types.js';
import { refuse } from './status.js';

function toTimestamp(t: Nfstime3 | 'server'): Timestamp | 'now' {
  if (t === 'server') return 'now';
  if (t.nseconds >= 1_000_000_000) refuse('EINVAL', `nseconds ${t.nseconds} out of range`);
  return { sec: t.seconds, nsec: t.nseconds };
}

/** The backend's SetAttrs for an sattr3. Throws EINVAL for an impossible time. */
export function toSetAttrs(s: Sattr3): SetAttrs {
  const out: SetAttrs = {};
  if (s.mode !== undefined) out.mode = s.mode & 0o7777;
  if (s.uid !== undefined) out.uid = s.uid;
  if (s.gid !== undefined) out.gid = s.gid;
  if (s.size !== undefined) out.size = s.size;
  if (s.atime !== undefined) out.atime = toTimestamp(s.atime);
  if (s.mtime !== undefined) out.mtime = toTimestamp(s.mtime);
  return out;
}

export function isEmptySetAttrs(s: SetAttrs): boolean {
  return (
    s.mode === undefined && s.uid === undefined && s.gid === undefined && s.size === undefined &&
    s.atime === undefined && s.mtime === undefined
  );
}

/**
 * The May bits the gate can check for this change on its own: WRITE for a
 * size change, OWNER for mode and explicit times. Changes whose rule is an
 * "or" (server-time touch, chown, chgrp) are finished by checkSetattr.
 */
export function sattrMay(s: Sattr3): number {
  let may = May.NONE;
  if (s.size !== undefined) may |= May.WRITE;
  if (s.mode !== undefined) may |= May.OWNER;
  if ((s.atime !== undefined && s.atime !== 'server') || (s.mtime !== undefined && s.mtime !== 'server')) may |= May.OWNER;
  return may;
}

function memberOf(id: Identity, gid: number): boolean {
  return id.gid === gid || id.gids.includes(gid);
}

/**
 * The remaining SETATTR rules, after the gate (type, read-only, sattrMay):
 * - the export is writable at all (even an empty SETATTR is a modification
 *   request; knfsd answers ROFS with NFSD_MAY_SATTR);
 * - setting times to the server's time: the owner or anyone who may write;
 * - changing the owner: root only (an owner "changing" to itself is allowed);
 * - changing the group: root, or the owner when a member of the new group.
 */
export function checkSetattr(v: Verified, s: Sattr3): void {
  const { attrs, identity: id } = v;
  if (v.options.readOnly) refuse('EROFS', 'read-only export');
  if (s.atime === 'server' || s.mtime === 'server') {
    if (!isOwner(attrs, id) && !permits(attrs, id, May.WRITE)) refuse('EACCES', 'touch needs ownership or write permission');
  }
  if (s.uid !== undefined && id.uid !== 0) {
    if (s.uid !== attrs.uid || id.uid !== attrs.uid) refuse('EPERM', 'only root may change the owner');
  }
  if (s.gid !== undefined && id.uid !== 0) {
    if (id.uid !== attrs.uid) refuse('EPERM', 'only the owner may change the group');
    if (s.gid !== attrs.gid && !memberOf(id, s.gid)) refuse('EPERM', 'not a member of the new group');
  }
}
