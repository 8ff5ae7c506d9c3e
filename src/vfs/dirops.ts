/**
 * Directory changes on a caller's behalf, for any NFS version: removing an entry and renaming
 * one, with the sticky-bit and rename rules of the Linux VFS (may_delete, may_rename). The
 * directories come verified by the gate with write and search permission.
 */
import { May, type Verified } from '../export/types.js';
import { mayDelete, permits, stickyAllows } from '../export/permission.js';
import type { Attrs } from '../storage/types.js';
import { codeOf } from '../util/errno.js';
import { isDotName } from './create.js';
import { refuse } from './status.js';

/**
 * Refuse removing (or renaming away, or replacing) `victim` from the verified
 * directory (mayDelete: write+search on the directory, which the gate has
 * already checked, and the sticky bit). A sticky-bit refusal is EPERM, as
 * Linux's may_delete answers; anything else EACCES.
 */
export function checkMayDelete(dir: Verified, victim: Attrs): void {
  if (mayDelete(dir.attrs, victim, dir.identity)) return;
  if (!stickyAllows(dir.attrs, victim, dir.identity)) refuse('EPERM', 'sticky directory: not the owner of the entry or the directory');
  refuse('EACCES', 'no write and search permission on the directory');
}

/**
 * Remove `name` from `dir`. `kind` says what may be removed: 'file' (v3 REMOVE: a directory is
 * EISDIR), 'dir' (v3 RMDIR: a non-directory is ENOTDIR), 'any' (v4 REMOVE). "." is EINVAL, ".."
 * EINVAL for files and ENOTEMPTY for directories (what unlink(2) and rmdir(2) answer).
 */
export async function removeEntry(dir: Verified, name: string, kind: 'file' | 'dir' | 'any'): Promise<void> {
  if (name === '.' || (name === '..' && kind === 'file')) refuse('EINVAL', `cannot remove "${name}"`);
  if (name === '..') refuse('ENOTEMPTY', 'cannot remove ".."');
  const b = dir.export.backend;
  const victim = await b.getattr(await b.lookup(dir.node, name));
  if (kind === 'file' && victim.type === 'dir') refuse('EISDIR', `"${name}" is a directory`);
  if (kind === 'dir' && victim.type !== 'dir') refuse('ENOTDIR', `"${name}" is not a directory`);
  checkMayDelete(dir, victim);
  if (victim.type === 'dir') await b.rmdir(dir.node, name);
  else await b.remove(dir.node, name);
}

/**
 * Rename `fromName` in `from` to `toName` in `to`. "." and ".." on either side are EINVAL;
 * crossing exports is EXDEV (each export is its own file system to the client). The sticky bit
 * applies to the source and to a target being replaced; moving a directory to another parent
 * needs write permission on it (its ".." changes), as in Linux's may_rename. Replacement rules
 * (dir over non-dir etc.) are the backend's, which follows rename(2).
 */
export async function renameEntry(from: Verified, fromName: string, to: Verified, toName: string): Promise<void> {
  if (isDotName(fromName) || isDotName(toName)) refuse('EINVAL', 'cannot rename "." or ".."');
  if (from.export.id !== to.export.id) refuse('EXDEV', 'rename across exports');
  const b = from.export.backend;
  const src = await b.getattr(await b.lookup(from.node, fromName));
  checkMayDelete(from, src);
  let target: Attrs | undefined;
  try {
    target = await b.getattr(await b.lookup(to.node, toName));
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') throw e;
  }
  if (target) checkMayDelete(to, target);
  if (src.type === 'dir' && !from.node.key.equals(to.node.key) && !permits(src, from.identity, May.WRITE)) {
    refuse('EACCES', 'moving a directory to a new parent needs write permission on it');
  }
  await b.rename(from.node, fromName, to.node, toName);
}
