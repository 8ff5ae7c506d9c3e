/**
 * Small helpers shared by the backends: name checks, error normalisation,
 * timestamps, and the sorted-by-cookie directory listing used for paging.
 */
import { StorageError, storageError, type Timestamp } from './types.js';

/** Longest single name component in bytes (Linux NAME_MAX). */
export const NAME_MAX = 255;

/**
 * The caller already rejects bad names; we check again because a name with
 * "/" or ".." would let a client walk out of the exported tree.
 */
export function assertName(name: string): void {
  if (
    typeof name !== 'string' ||
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('\0')
  ) {
    throw storageError('EINVAL', `invalid name component ${JSON.stringify(name)}`);
  }
  if (Buffer.byteLength(name, 'utf8') > NAME_MAX) throw storageError('ENAMETOOLONG', 'name too long');
}

/** Turn anything thrown by `fs` (or us) into a StorageError with an errno code. */
export function toStorageError(e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return storageError(code, msg);
  // Node argument validation errors (e.g. NUL in a symlink target).
  if (typeof code === 'string' && code.startsWith('ERR_INVALID_ARG')) return storageError('EINVAL', msg);
  if (typeof code === 'string' && code === 'ERR_OUT_OF_RANGE') return storageError('EINVAL', msg);
  return storageError('EIO', msg);
}

export const NS_PER_SEC = 1_000_000_000n;

export function nsToTimestamp(ns: bigint): Timestamp {
  let sec = ns / NS_PER_SEC;
  let nsec = ns % NS_PER_SEC;
  if (nsec < 0n) {
    // BigInt division truncates toward zero; timestamps want floor.
    nsec += NS_PER_SEC;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

export function timestampToNs(t: Timestamp): bigint {
  if (!Number.isInteger(t.sec) || !Number.isInteger(t.nsec) || t.nsec < 0 || t.nsec >= 1e9) {
    throw storageError('EINVAL', 'invalid timestamp');
  }
  return BigInt(t.sec) * NS_PER_SEC + BigInt(t.nsec);
}

/** Wall-clock now in ns (ms resolution: Date is the only realtime clock Node has). */
export function wallNowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Largest offset we accept into a file (JS numbers stay exact below 2^53). */
export const MAX_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A directory listing in cookie order. `cookies` is strictly increasing, so
 * resuming after a cookie is a binary search, and a cookie whose entry was
 * deleted still resumes at the right place: nothing skipped, nothing repeated.
 */
export interface Listing {
  names: string[];
  cookies: bigint[];
}

/** Index of the first entry whose cookie is greater than `cookie`. */
export function indexAfter(cookies: readonly bigint[], cookie: bigint): number {
  let lo = 0;
  let hi = cookies.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cookies[mid] <= cookie) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Cookies 0 (start), 1 and 2 are avoided: some clients treat them specially. */
export const FIRST_COOKIE = 3n;

/**
 * FNV-1a 64 of the name's UTF-8 bytes, computed on two 32-bit halves because
 * BigInt arithmetic per byte is ~10x slower. Returns [hi (31 bits), lo].
 * Prime 2^40 + 0x1b3: h*p = h*0x1b3 + (h << 40), and h << 40 only touches hi.
 */
function fnv1a63(name: string): [number, number] {
  const bytes = Buffer.from(name, 'utf8');
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo ^= bytes[i];
    lo >>>= 0;
    const l = lo * 0x1b3;
    const newLo = l >>> 0;
    const carry = Math.floor(l / 0x100000000);
    hi = (hi * 0x1b3 + carry + lo * 0x100) >>> 0;
    lo = newLo;
  }
  return [hi & 0x7fffffff, lo];
}

/**
 * Hash-based cookies: a name's cookie depends only on the name, so it is
 * stable while the entry exists no matter what else is added or removed.
 * Collisions (2^-63 per pair) are resolved by bumping to previous+1, which
 * keeps cookies unique and sorted; only then could a cookie move.
 * `placed(k, i)`, when given, learns that names[i] went to position k (to carry
 * data kept beside the names, such as inode numbers, into cookie order).
 */
export function hashListing(names: string[], placed?: (k: number, i: number) => void): Listing {
  const n = names.length;
  const hi = new Array<number>(n);
  const lo = new Array<number>(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const h = fnv1a63(names[i]);
    hi[i] = h[0];
    lo[i] = h[1];
    order[i] = i;
  }
  order.sort((a, b) => hi[a] - hi[b] || lo[a] - lo[b] || (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
  const out: Listing = { names: new Array<string>(n), cookies: new Array<bigint>(n) };
  let prev = FIRST_COOKIE - 1n;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    let c = (BigInt(hi[i]) << 32n) | BigInt(lo[i]);
    if (c <= prev) c = prev + 1n;
    out.names[k] = names[i];
    out.cookies[k] = c;
    placed?.(k, i);
    prev = c;
  }
  return out;
}
