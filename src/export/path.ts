/**
 * Export path normalisation, shared by the exports(5) parser and MOUNT so
 * that "/srv//data/" in the file and "/srv/data" on the wire name the same
 * export. Kept apart so both agree on exactly one set of rules.
 */

/** MNTPATHLEN (RFC 1813): a MOUNT dirpath is at most 1024 bytes. */
export const MAX_PATH = 1024;
/** NAME_MAX on Linux; a longer component can never exist on disk. */
export const MAX_COMPONENT = 255;

export class PathError extends Error {
  /** EINVAL (not absolute, "..", NUL) or ENAMETOOLONG. */
  readonly code: 'EINVAL' | 'ENAMETOOLONG';
  constructor(code: 'EINVAL' | 'ENAMETOOLONG', message: string) {
    super(message);
    this.name = 'PathError';
    this.code = code;
  }
}

/**
 * Split an absolute path into its components.
 * - Empty components ("//", trailing "/") and "." are dropped: they name the
 *   same directory, and clients (and admins) do write them.
 * - ".." is rejected rather than resolved: resolving it lexically would be
 *   wrong across symlinks and it has no business in an export path; refusing
 *   it means no path can climb out of an export.
 * - NUL is rejected (it cannot be in a POSIX path; it would truncate in C).
 */
export function splitPath(path: string): string[] {
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH) throw new PathError('ENAMETOOLONG', `path longer than ${MAX_PATH} bytes`);
  if (!path.startsWith('/')) throw new PathError('EINVAL', `path is not absolute: ${JSON.stringify(path)}`);
  if (path.includes('\0')) throw new PathError('EINVAL', 'path contains NUL');
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new PathError('EINVAL', `".." not allowed in ${JSON.stringify(path)}`);
    if (Buffer.byteLength(c, 'utf8') > MAX_COMPONENT) throw new PathError('ENAMETOOLONG', `path component longer than ${MAX_COMPONENT} bytes`);
    out.push(c);
  }
  return out;
}

/** The canonical spelling of a path: "/" + components joined by "/". */
export function normalizePath(path: string): string {
  return '/' + splitPath(path).join('/');
}
