/**
 * bitmap4 (typedef uint32_t bitmap4<>): attribute and hint sets as an array
 * of 32-bit words, word 0 holding bits 0..31. At most maxBitmapWords words
 * are kept. A longer bitmap is still accepted when its words are really in
 * the record (a bitmap claiming 2^31 words is refused before anything is
 * read): the words past the limit are read and dropped, as knfsd's
 * nfsd4_decode_bitmap4 does — they can only name attributes nobody defines
 * (pynfs asks GETATTR for attribute 1000 and expects NFS4_OK). Where such a
 * bit matters (a fattr4's attrmask, whose values follow) the caller passes
 * `onDropped`. Bits below the limit are kept as they came: what they mean
 * is for the caller (GETATTR ignores unknown ones, SETATTR refuses them).
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import type { Bitmap4 } from '../types.js';
import { Nfs4CodecError } from './errors.js';
import type { Nfs4Limits } from './limits.js';

/** `onDropped` runs when a word past maxBitmapWords has a bit set (it may throw). */
export function readBitmap4(r: XdrReader, lim: Nfs4Limits, onDropped?: (firstBit: number) => void): Bitmap4 {
  const n = r.uint32();
  if (n * 4 > r.remaining) throw new Nfs4CodecError('NFS4_SHORT', `bitmap4 of ${n} words cannot fit in ${r.remaining} bytes`);
  const kept = Math.min(n, lim.maxBitmapWords);
  const words: Bitmap4 = new Array<number>(kept);
  for (let i = 0; i < kept; i++) words[i] = r.uint32();
  for (let i = kept; i < n; i++) {
    const word = r.uint32();
    if (word !== 0 && onDropped) onDropped(i * 32 + 31 - Math.clz32(word & -word));
  }
  return words;
}

/** The words as given (trailing zero words included): use bitmap4() to build minimal ones. */
export function writeBitmap4(w: XdrWriter, b: Bitmap4): void {
  w.uint32(b.length);
  for (const word of b) w.uint32(word);
}

/** Encoded size of a bitmap of `words` words. */
export function bitmap4Size(words: number): number {
  return 4 + 4 * words;
}

/** The bitmap with exactly these bits set, without trailing zero words. */
export function bitmap4(...bits: number[]): Bitmap4 {
  return bitmap4From(bits);
}

export function bitmap4From(bits: Iterable<number>): Bitmap4 {
  const out: Bitmap4 = [];
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0) throw new RangeError(`bad bitmap4 bit ${bit}`);
    const i = bit >>> 5;
    while (out.length <= i) out.push(0);
    out[i] = (out[i] | (1 << (bit & 31))) >>> 0;
  }
  return trimBitmap4(out);
}

export function bitmap4Has(b: Bitmap4, bit: number): boolean {
  const i = bit >>> 5;
  return i < b.length && ((b[i] >>> (bit & 31)) & 1) === 1;
}

/** The set bits, lowest first. */
export function bitmap4Bits(b: Bitmap4): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    let word = b[i] >>> 0;
    while (word !== 0) {
      const low = 31 - Math.clz32(word & -word);
      out.push(i * 32 + low);
      word = (word & ~(1 << low)) >>> 0;
    }
  }
  return out;
}

/** a ∩ b, without trailing zero words. */
export function bitmap4And(a: Bitmap4, b: Bitmap4): Bitmap4 {
  const n = Math.min(a.length, b.length);
  const out: Bitmap4 = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (a[i] & b[i]) >>> 0;
  return trimBitmap4(out);
}

/** a minus b, without trailing zero words. */
export function bitmap4Minus(a: Bitmap4, b: Bitmap4): Bitmap4 {
  const out = a.map((word, i) => (word & ~(b[i] ?? 0)) >>> 0);
  return trimBitmap4(out);
}

export function bitmap4IsEmpty(b: Bitmap4): boolean {
  return b.every((word) => word === 0);
}

function trimBitmap4(b: Bitmap4): Bitmap4 {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  b.length = n;
  return b;
}
