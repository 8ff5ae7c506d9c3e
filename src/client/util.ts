/** Small conversions between fs-style arguments and NFSv3 ones. */
import { constants as C } from 'node:fs';
import type { Nfstime3, Sattr3 } from '../nfs3/types.js';

export type TimeLike = number | string | Date | bigint;

/** fs's toUnixTimestamp: Date, seconds (number or numeric string). */
export function toNfstime(t: TimeLike): Nfstime3 {
  let ms: number;
  if (t instanceof Date) ms = t.getTime();
  else if (typeof t === 'bigint') ms = Number(t) * 1000;
  else if (typeof t === 'number') ms = t * 1000;
  else {
    const n = Number(t);
    if (!Number.isFinite(n)) throw Object.assign(new TypeError(`invalid time: ${t}`), { code: 'ERR_INVALID_ARG_TYPE' });
    ms = n * 1000;
  }
  if (!Number.isFinite(ms) || ms < 0) ms = Date.now();
  const seconds = Math.floor(ms / 1000);
  const nseconds = Math.round((ms - seconds * 1000) * 1e6);
  return { seconds, nseconds: Math.min(nseconds, 999_999_999) };
}

export function toSattrTimes(atime: TimeLike, mtime: TimeLike): Sattr3 {
  return { atime: toNfstime(atime), mtime: toNfstime(mtime) };
}

export function parseMode(mode: number | string | undefined, dflt: number): number {
  if (mode === undefined) return dflt;
  if (typeof mode === 'string') {
    if (!/^[0-7]+$/.test(mode)) throw Object.assign(new TypeError(`invalid mode: ${mode}`), { code: 'ERR_INVALID_ARG_VALUE' });
    return parseInt(mode, 8);
  }
  return mode;
}

export interface OpenFlags {
  read: boolean;
  write: boolean;
  create: boolean;
  excl: boolean;
  trunc: boolean;
  append: boolean;
  sync: boolean;
  dsync: boolean;
  directory: boolean;
  nofollow: boolean;
}

const STRING_FLAGS: Record<string, number> = {
  r: C.O_RDONLY,
  rs: C.O_RDONLY | C.O_SYNC,
  sr: C.O_RDONLY | C.O_SYNC,
  'r+': C.O_RDWR,
  'rs+': C.O_RDWR | C.O_SYNC,
  'sr+': C.O_RDWR | C.O_SYNC,
  w: C.O_TRUNC | C.O_CREAT | C.O_WRONLY,
  wx: C.O_TRUNC | C.O_CREAT | C.O_WRONLY | C.O_EXCL,
  xw: C.O_TRUNC | C.O_CREAT | C.O_WRONLY | C.O_EXCL,
  'w+': C.O_TRUNC | C.O_CREAT | C.O_RDWR,
  'wx+': C.O_TRUNC | C.O_CREAT | C.O_RDWR | C.O_EXCL,
  'xw+': C.O_TRUNC | C.O_CREAT | C.O_RDWR | C.O_EXCL,
  a: C.O_APPEND | C.O_CREAT | C.O_WRONLY,
  ax: C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_EXCL,
  xa: C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_EXCL,
  as: C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_SYNC,
  sa: C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_SYNC,
  'a+': C.O_APPEND | C.O_CREAT | C.O_RDWR,
  'ax+': C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_EXCL,
  'xa+': C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_EXCL,
  'as+': C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_SYNC,
  'sa+': C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_SYNC,
};

/** fs's stringToFlags, then split into what open() needs to know. */
export function parseOpenFlags(flags: string | number | undefined): OpenFlags {
  let f: number;
  if (flags === undefined) f = C.O_RDONLY;
  else if (typeof flags === 'number') f = flags;
  else {
    const v = STRING_FLAGS[flags];
    if (v === undefined) throw Object.assign(new TypeError(`The value "${flags}" is invalid for option "flags"`), { code: 'ERR_INVALID_ARG_VALUE' });
    f = v;
  }
  const acc = f & 3;
  return {
    read: acc === C.O_RDONLY || acc === C.O_RDWR,
    write: acc === C.O_WRONLY || acc === C.O_RDWR,
    create: (f & C.O_CREAT) !== 0,
    excl: (f & C.O_EXCL) !== 0,
    trunc: (f & C.O_TRUNC) !== 0,
    append: (f & C.O_APPEND) !== 0,
    sync: (f & C.O_SYNC) === C.O_SYNC,
    dsync: (f & C.O_DSYNC) !== 0,
    directory: (f & C.O_DIRECTORY) !== 0,
    nofollow: (f & C.O_NOFOLLOW) !== 0,
  };
}

/** Split a path into components ('' and '.' dropped; '..' kept for the walker). */
export function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/** Join an absolute export path and a relative one, lexically. */
export function joinPath(base: string, rel: string): string {
  if (rel.startsWith('/')) return rel;
  if (base === '/' || base === '') return '/' + rel;
  return base.replace(/\/+$/, '') + '/' + rel;
}

/** Run `fn` over `items` with at most `limit` at once; the first error rejects (after the others settle). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: { e: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (e) {
        failed ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.e;
  return out;
}
