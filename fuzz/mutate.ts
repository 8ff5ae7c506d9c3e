/**
 * The mutation engine: from a corpus message, a new input. XDR is a sequence of big-endian 32-bit
 * words in which lengths and counts sit right before what they count, so besides byte-level
 * havoc (bit flips, inserts, deletes, splices, truncation) it rewrites aligned words with the
 * values decoders get wrong: 0, off-by-one around the original and around the bytes really left,
 * the 31-bit and 32-bit extremes, the protocol's own maxima (64-byte handles, 255-byte names,
 * 400-byte auth bodies, 1024-byte paths).
 */
import type { Rng } from './prng.js';

/** 32-bit values worth trying in any length, count, enum or discriminant. */
export const INTERESTING32: readonly number[] = [
  0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 254, 255, 256, 257, 399, 400, 401, 1023,
  1024, 1025, 4095, 4096, 4097, 65535, 65536, 65537, 0x100000, 0x110000, 0x110001, 0x7ffffffc, 0x7ffffffd,
  0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0x80000004, 0xfffffffc, 0xfffffffd, 0xfffffffe, 0xffffffff,
];
const INTERESTING8 = [0, 1, 0x7f, 0x80, 0xff, 0x2f /* '/' */, 0x2e /* '.' */, 0xc3, 0xfe];

export interface MutateOptions {
  /** Inputs never grow past this many bytes. */
  maxLen: number;
  /** Other messages to splice from (any target's corpus). */
  donors: readonly Buffer[];
}

/** A new input from `seed` (never modified): 1..8 stacked mutations. */
export function mutate(rng: Rng, seed: Buffer, o: MutateOptions): Buffer {
  let b: Buffer = Buffer.from(seed);
  const n = rng.few(8);
  for (let i = 0; i < n; i++) b = mutateOnce(rng, b, o);
  return b.length > o.maxLen ? b.subarray(0, o.maxLen) : b;
}

function alignedOffset(rng: Rng, len: number): number {
  return len < 4 ? -1 : 4 * rng.below(Math.floor(len / 4));
}

function mutateOnce(rng: Rng, b: Buffer, o: MutateOptions): Buffer {
  switch (rng.below(16)) {
    case 0:
    case 1:
      return flipBits(rng, b);
    case 2:
      return setByte(rng, b);
    case 3:
    case 4:
    case 5:
      return tweakWord(rng, b);
    case 6:
    case 7:
      return tweakLength(rng, b);
    case 8:
      return insertBytes(rng, b, o.maxLen);
    case 9:
      return deleteBytes(rng, b);
    case 10:
      return duplicate(rng, b, o.maxLen);
    case 11:
      return splice(rng, b, o);
    case 12:
      return truncate(rng, b);
    case 13:
      return extend(rng, b, o.maxLen);
    case 14:
      return swapWords(rng, b);
    default:
      return overwrite(rng, b);
  }
}

function flipBits(rng: Rng, b: Buffer): Buffer {
  if (b.length === 0) return b;
  const n = rng.few(8);
  for (let i = 0; i < n; i++) b[rng.below(b.length)] ^= 1 << rng.below(8);
  return b;
}

function setByte(rng: Rng, b: Buffer): Buffer {
  if (b.length > 0) b[rng.below(b.length)] = rng.chance(0.7) ? rng.pick(INTERESTING8) : rng.below(256);
  return b;
}

/** A value for the word at `at` (holding `v`, with `rest` bytes after it). */
function wordValue(rng: Rng, v: number, rest: number): number {
  switch (rng.below(8)) {
    case 0:
      return rng.pick(INTERESTING32);
    case 1:
      return (v + rng.pick([-4, -3, -2, -1, 1, 2, 3, 4])) >>> 0;
    case 2:
      return Math.max(0, rest + rng.pick([-5, -4, -1, 0, 1, 4, 5])) >>> 0;
    case 3:
      return (v ^ 0x80000000) >>> 0;
    case 4:
      return (v * 2) >>> 0;
    case 5:
      return v >>> 1;
    case 6:
      return rng.u32();
    default:
      return rng.below(32);
  }
}

function tweakWord(rng: Rng, b: Buffer): Buffer {
  const at = alignedOffset(rng, b.length);
  if (at < 0) return setByte(rng, b);
  b.writeUInt32BE(wordValue(rng, b.readUInt32BE(at), b.length - at - 4), at);
  return b;
}

/**
 * Find a word that looks like a length (non-zero, no more than the bytes after it) and set it to
 * 0, one off either way, exactly the bytes left, just past them, or an extreme.
 */
function tweakLength(rng: Rng, b: Buffer): Buffer {
  const words = Math.floor(b.length / 4);
  if (words === 0) return setByte(rng, b);
  const start = rng.below(words);
  for (let k = 0; k < words; k++) {
    const at = ((start + k) % words) * 4;
    const v = b.readUInt32BE(at);
    const rest = b.length - at - 4;
    if (v === 0 || v > rest) continue;
    const nv = rng.pick([0, v - 1, v + 1, v + 4, rest, rest + 1, rest - 1, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff]);
    b.writeUInt32BE(Math.max(0, nv) >>> 0, at);
    return b;
  }
  return tweakWord(rng, b);
}

function insertBytes(rng: Rng, b: Buffer, maxLen: number): Buffer {
  if (b.length >= maxLen) return b;
  const aligned = rng.chance(0.5);
  const at = aligned ? 4 * rng.below(Math.floor(b.length / 4) + 1) : rng.below(b.length + 1);
  let ins: Buffer;
  if (aligned) {
    ins = Buffer.allocUnsafe(4 * rng.few(4));
    for (let i = 0; i < ins.length; i += 4) ins.writeUInt32BE(rng.chance(0.6) ? rng.pick(INTERESTING32) : rng.u32(), i);
  } else ins = rng.bytes(rng.range(1, 16));
  return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
}

function deleteBytes(rng: Rng, b: Buffer): Buffer {
  if (b.length === 0) return b;
  const aligned = rng.chance(0.5) && b.length >= 4;
  const n = aligned ? 4 * rng.few(4) : rng.range(1, Math.min(16, b.length));
  const at = aligned ? alignedOffset(rng, b.length) : rng.below(b.length);
  return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + n))]);
}

function duplicate(rng: Rng, b: Buffer, maxLen: number): Buffer {
  if (b.length === 0 || b.length >= maxLen) return b;
  const from = rng.below(b.length);
  const n = rng.range(1, Math.min(64, b.length - from));
  const at = rng.below(b.length + 1);
  const copies = rng.chance(0.1) ? rng.range(2, 64) : 1;
  const parts = [b.subarray(0, at)];
  for (let i = 0; i < copies; i++) parts.push(b.subarray(from, from + n));
  parts.push(b.subarray(at));
  return Buffer.concat(parts);
}

/** Our head, another message's tail (aligned cuts most of the time). */
function splice(rng: Rng, b: Buffer, o: MutateOptions): Buffer {
  if (o.donors.length === 0) return b;
  const d = rng.pick(o.donors);
  const cut = (len: number) => (rng.chance(0.7) ? 4 * rng.below(Math.floor(len / 4) + 1) : rng.below(len + 1));
  return Buffer.concat([b.subarray(0, cut(b.length)), d.subarray(cut(d.length))]);
}

function truncate(rng: Rng, b: Buffer): Buffer {
  if (b.length === 0) return b;
  const at = rng.chance(0.5) ? 4 * rng.below(Math.ceil(b.length / 4)) : rng.below(b.length);
  return b.subarray(0, at);
}

function extend(rng: Rng, b: Buffer, maxLen: number): Buffer {
  if (b.length >= maxLen) return b;
  const n = rng.chance(0.8) ? rng.range(1, 64) : rng.range(1, Math.min(8192, maxLen - b.length));
  return Buffer.concat([b, rng.chance(0.5) ? Buffer.alloc(n) : rng.bytes(n)]);
}

function swapWords(rng: Rng, b: Buffer): Buffer {
  const i = alignedOffset(rng, b.length);
  const j = alignedOffset(rng, b.length);
  if (i < 0 || i === j) return b;
  const t = b.readUInt32BE(i);
  b.writeUInt32BE(b.readUInt32BE(j), i);
  b.writeUInt32BE(t, j);
  return b;
}

function overwrite(rng: Rng, b: Buffer): Buffer {
  if (b.length === 0) return b;
  const at = rng.below(b.length);
  const n = rng.range(1, Math.min(32, b.length - at));
  const fill = rng.below(3);
  for (let i = 0; i < n; i++) b[at + i] = fill === 0 ? 0 : fill === 1 ? 0xff : rng.below(256);
  return b;
}

/** A random XDR-looking message: words drawn from INTERESTING32, small numbers and random bits. */
export function randomWords(rng: Rng, maxLen: number): Buffer {
  const n = Math.floor(rng.size(maxLen) / 4);
  const b = Buffer.allocUnsafe(n * 4);
  for (let i = 0; i < n; i++) {
    const k = rng.below(3);
    b.writeUInt32BE(k === 0 ? rng.pick(INTERESTING32) : k === 1 ? rng.below(8) : rng.u32(), i * 4);
  }
  return b;
}

/** Purely random bytes, mostly short. */
export function randomBytes(rng: Rng, maxLen: number): Buffer {
  return rng.bytes(rng.size(maxLen));
}
