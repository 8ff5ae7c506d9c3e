/**
 * The memory backend's NFSv4.2 calls (memory.ts composes them): holes are the chunks never
 * written (SEEK data/hole at the chunk size), ALLOCATE gives chunks, DEALLOCATE drops whole
 * chunks and zeroes the partial ones at its ends, COPY and CLONE copy bytes (a clone of memory is
 * a copy: the result reads the same), extended attributes are a map per object.
 */
import { MAX_OFFSET } from './common.js';
import { storageError } from './types.js';

export const BLOCK = 4096;

/** What these calls need of a regular file of the memory backend. */
export interface MemFile {
  size: number;
  chunks?: Map<number, Buffer>;
  mtime: bigint;
  ctime: bigint;
}

/** Space accounting of the backend: `reserve` throws ENOSPC before anything is taken. */
export interface Space {
  reserve(bytes: number): void;
  release(bytes: number): void;
  now(): bigint;
}

function range(offset: bigint, length: bigint): { off: number; end: number } {
  if (offset < 0n || length < 0n || offset + length > MAX_OFFSET) throw storageError('EFBIG', 'range out of bounds');
  return { off: Number(offset), end: Number(offset + length) };
}

/** lseek(SEEK_DATA / SEEK_HOLE) at chunk granularity; the end of the file is a hole. */
export function seek(f: MemFile, offset: bigint, what: 'data' | 'hole'): bigint {
  if (offset < 0n) throw storageError('EINVAL', 'negative offset');
  if (offset >= BigInt(f.size)) throw storageError('ENXIO', 'at or past the end of the file');
  let pos = Number(offset);
  while (pos < f.size) {
    const idx = Math.floor(pos / BLOCK);
    const isData = f.chunks!.has(idx);
    if (isData === (what === 'data')) return BigInt(pos);
    pos = (idx + 1) * BLOCK;
  }
  if (what === 'hole') return BigInt(f.size);
  throw storageError('ENXIO', 'no data after the offset');
}

export function allocate(f: MemFile, offset: bigint, length: bigint, space: Space): void {
  const { off, end } = range(offset, length);
  const fresh: number[] = [];
  for (let idx = Math.floor(off / BLOCK); idx * BLOCK < end; idx++) if (!f.chunks!.has(idx)) fresh.push(idx);
  space.reserve(fresh.length * BLOCK);
  for (const idx of fresh) f.chunks!.set(idx, Buffer.alloc(BLOCK));
  if (end > f.size) f.size = end;
  f.mtime = f.ctime = space.now();
}

export function deallocate(f: MemFile, offset: bigint, length: bigint, space: Space): void {
  const { off } = range(offset, length);
  const end = Math.min(Number(offset + length), f.size);
  for (let idx = Math.floor(off / BLOCK); idx * BLOCK < end; idx++) {
    const chunk = f.chunks!.get(idx);
    if (!chunk) continue;
    const from = Math.max(off, idx * BLOCK) - idx * BLOCK;
    const to = Math.min(end, (idx + 1) * BLOCK) - idx * BLOCK;
    if (from === 0 && to === BLOCK) {
      f.chunks!.delete(idx);
      space.release(BLOCK);
    } else chunk.fill(0, from, to);
  }
  f.mtime = f.ctime = space.now();
}

/** Bytes of `src` from `srcOffset` (count 0: to its end), as a buffer; fewer at its end. */
export function readRange(src: MemFile, srcOffset: bigint, count: bigint): Buffer {
  const from = Number(srcOffset);
  const n = count === 0n ? Math.max(0, src.size - from) : Math.max(0, Math.min(Number(count), src.size - from));
  const out = Buffer.alloc(n);
  for (let done = 0; done < n; ) {
    const pos = from + done;
    const idx = Math.floor(pos / BLOCK);
    const within = pos - idx * BLOCK;
    const len = Math.min(BLOCK - within, n - done);
    src.chunks!.get(idx)?.copy(out, done, within, within + len);
    done += len;
  }
  return out;
}

/** Extended attributes of one object: the largest value Linux takes (XATTR_SIZE_MAX). */
export const XATTR_MAX = 65536;

export function setXattr(x: Map<string, Buffer>, name: string, value: Buffer, how: 'either' | 'create' | 'replace'): void {
  if (value.length > XATTR_MAX) throw storageError('E2BIG', 'value too large');
  if (how === 'create' && x.has(name)) throw storageError('EEXIST', `${name} exists`);
  if (how === 'replace' && !x.has(name)) throw storageError('ENODATA', `no ${name}`);
  x.set(name, Buffer.from(value));
}
