/**
 * sattr3 → the backend's SetAttrs, and the May bits a change needs (the rules themselves are
 * version-independent: vfs/setattr.ts).
 */
import { May } from '../export/types.js';
import type { SetAttrs, Timestamp } from '../storage/types.js';
import type { Nfstime3, Sattr3 } from './types.js';
import { refuse } from './status.js';

export { checkSetattr, isEmptySetAttrs } from '../vfs/setattr.js';

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

/** vfs/setattr.ts setattrMay for an sattr3, without converting its times (which may be invalid). */
export function sattrMay(s: Sattr3): number {
  let may = May.NONE;
  if (s.size !== undefined) may |= May.WRITE;
  if (s.mode !== undefined) may |= May.OWNER;
  if ((s.atime !== undefined && s.atime !== 'server') || (s.mtime !== undefined && s.mtime !== 'server')) may |= May.OWNER;
  return may;
}
