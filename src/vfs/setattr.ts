/**
 * The permission rules of an attribute change, for any NFS version: the May bits the gate can
 * check on its own, and the "or" rules it cannot (knfsd's nfsd_setattr + the VFS's
 * setattr_prepare). Versions convert their wire attributes (sattr3, fattr4) to the backend's
 * SetAttrs first; 'now' is SET_TO_SERVER_TIME.
 */
import type { Identity, Verified } from '../export/types.js';
import { May } from '../export/types.js';
import { isOwner, permits } from '../export/permission.js';
import type { SetAttrs } from '../storage/types.js';
import { refuse } from './status.js';

export function isEmptySetAttrs(s: SetAttrs): boolean {
  return (
    s.mode === undefined && s.uid === undefined && s.gid === undefined && s.size === undefined &&
    s.atime === undefined && s.mtime === undefined
  );
}

/**
 * The May bits the gate can check for this change on its own: WRITE for a size change, OWNER for
 * mode and explicit times. Changes whose rule is an "or" (server-time touch, chown, chgrp) are
 * finished by checkSetattr.
 */
export function setattrMay(s: SetAttrs): number {
  let may = May.NONE;
  if (s.size !== undefined) may |= May.WRITE;
  if (s.mode !== undefined) may |= May.OWNER;
  if ((s.atime !== undefined && s.atime !== 'now') || (s.mtime !== undefined && s.mtime !== 'now')) may |= May.OWNER;
  return may;
}

function memberOf(id: Identity, gid: number): boolean {
  return id.gid === gid || id.gids.includes(gid);
}

/**
 * The remaining SETATTR rules, after the gate (type, read-only, setattrMay):
 * - the export is writable at all (even an empty SETATTR is a modification
 *   request; knfsd answers ROFS with NFSD_MAY_SATTR);
 * - setting times to the server's time: the owner or anyone who may write;
 * - changing the owner: root only (an owner "changing" to itself is allowed);
 * - changing the group: root, or the owner when a member of the new group.
 */
export function checkSetattr(v: Verified, s: SetAttrs): void {
  const { attrs, identity: id } = v;
  if (v.options.readOnly) refuse('EROFS', 'read-only export');
  if (s.atime === 'now' || s.mtime === 'now') {
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
