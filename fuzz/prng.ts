/**
 * A small seeded PRNG (sfc32) for the fuzzer. Every case gets its own generator, made from
 * (run seed, target name, case number) alone, so any one case can be replayed without running the
 * cases before it: `npm run fuzz -- --target T --seed S --case N`.
 */

/** murmur3's finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a name: the target's stream number. */
export function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number, stream = 0, index = 0) {
    this.a = fmix32(seed ^ 0x9e3779b9);
    this.b = fmix32((stream + this.a) >>> 0);
    this.c = fmix32((index ^ this.b) + 0x7f4a7c15);
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** A generator for one case of one target. */
  static forCase(seed: number, target: string, index: number): Rng {
    return new Rng(seed, hashName(target), index);
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** 0 ≤ n < bound (bound ≤ 2^32). */
  below(bound: number): number {
    return Math.floor((this.u32() / 0x100000000) * bound);
  }

  /** lo ≤ n ≤ hi. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() < p * 0x100000000;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** A small count, mostly 1, sometimes up to `max` (geometric, p = 1/2). */
  few(max: number): number {
    let n = 1;
    while (n < max && this.u32() < 0x80000000) n++;
    return n;
  }

  /** A length biased to small values: uniform below a random power of two up to `max`. */
  size(max: number): number {
    const bits = this.below(Math.max(1, Math.ceil(Math.log2(max + 1))) + 1);
    return Math.min(max, this.below(2 ** bits));
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** A random 32-bit run seed (when none is given). */
export function randomSeed(): number {
  return (Math.random() * 0x100000000) >>> 0;
}
