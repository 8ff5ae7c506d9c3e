/**
 * Checks that a decoder allocates no more than its input permits and returns only what it read.
 *
 * - Allocation: Buffer.alloc / allocUnsafe / allocUnsafeSlow / from / concat are wrapped while a
 *   case runs (`arm`); the largest single Buffer allocated and the total are recorded, and the
 *   engine fails a case whose largest allocation is over the target's limit (by default the
 *   input's own length: every length from the wire must be bounded by the bytes present before
 *   anything that size is allocated). Buffer.concat allocates through allocUnsafe, so it is seen.
 * - Shape: `checkShape` walks a decoded value: no Buffer, string or array may be longer than the
 *   input, no more elements than 4-byte words, and a Buffer that views the input must lie within
 *   the bytes the reader consumed.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

let armed = false;
let largest = 0;
let total = 0;
let installed = false;

function note(n: number): void {
  if (!armed) return;
  if (n > largest) largest = n;
  total += n;
}

/** Wrap Buffer's allocators (once per thread). */
export function installAllocGuard(): void {
  if (installed) return;
  installed = true;
  const B = Buffer as unknown as Record<string, (...a: unknown[]) => Buffer>;
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const orig = B[name];
    B[name] = function (this: unknown, ...a: unknown[]): Buffer {
      note(typeof a[0] === 'number' ? a[0] : 0);
      return orig.apply(Buffer, a);
    };
  }
  const from = B.from;
  B.from = function (this: unknown, ...a: unknown[]): Buffer {
    const b = from.apply(Buffer, a);
    // A view of an ArrayBuffer is not an allocation; anything else (copy of bytes, a string) is.
    if (!(a[0] instanceof ArrayBuffer) && !(a[0] instanceof SharedArrayBuffer)) note(b.length);
    return b;
  };
}

export function arm(): void {
  armed = true;
  largest = 0;
  total = 0;
}

/** Run `f` with the guard off: the harness's own work inside a case (re-encoding for a round trip). */
export function unguarded<T>(f: () => T): T {
  const was = armed;
  armed = false;
  try {
    return f();
  } finally {
    armed = was;
  }
}

export function disarm(): { largest: number; total: number } {
  armed = false;
  return { largest, total };
}

/**
 * Walk a decoded value. `consumedEnd`: where (in the input) the decoder's reader stopped; views of
 * the input must end at or before it.
 */
export function checkShape(v: unknown, input: Buffer, consumedEnd = input.length): void {
  let nodes = 0;
  const maxNodes = input.length + 16;
  const walk = (x: unknown, depth: number): void => {
    if (++nodes > maxNodes) throw new InvariantError(`decoded value has over ${maxNodes} nodes for ${input.length} input bytes`);
    if (depth > 64) throw new InvariantError('decoded value nested over 64 deep');
    if (x === null || x === undefined) return;
    if (typeof x === 'string') {
      if (x.length > input.length) throw new InvariantError(`string of ${x.length} from ${input.length} bytes`);
      return;
    }
    if (typeof x !== 'object') return;
    if (Buffer.isBuffer(x)) {
      if (x.length > input.length) throw new InvariantError(`buffer of ${x.length} from ${input.length} bytes`);
      // A view of the input lies inside it (small copies may sit next to it in Node's shared pool slab).
      if (x.buffer === input.buffer) {
        const start = x.byteOffset - input.byteOffset;
        if (start >= 0 && start + x.length <= input.length && start + x.length > consumedEnd) {
          throw new InvariantError(`a view [${start}, ${start + x.length}) reaches past the ${consumedEnd} bytes the decoder consumed`);
        }
      }
      return;
    }
    if (Array.isArray(x)) {
      if (x.length > input.length / 4 + 1) throw new InvariantError(`array of ${x.length} from ${input.length} bytes`);
      for (const e of x) walk(e, depth + 1);
      return;
    }
    for (const k of Object.keys(x)) walk((x as Record<string, unknown>)[k], depth + 1);
  };
  walk(v, 0);
}

let gcFn: (() => void) | undefined;

/** A full GC, with or without --expose-gc. */
export function collect(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** `n` record-marking fragments of `len` bytes, none of them the last. */
function fragments(n: number, len: number): Buffer {
  const b = Buffer.alloc(n * (4 + len), 0x61);
  for (let i = 0; i < n; i++) b.writeUInt32BE(len, i * (4 + len));
  return b;
}

/**
 * What a record reader holds for an unfinished record must be about its bytes: feed a million
 * empty fragments and 200,000 1-byte ones (none the last), and the JS heap may not grow by more
 * than a few MiB (a Buffer object per fragment is ~100 bytes: 20 MiB here, and without bound for
 * the empty ones). Run once per target, after its cases.
 */
export function checkHeldMemory(what: string, feed: (wire: Buffer) => void, reset: () => void): void {
  const wire = Buffer.concat([fragments(1_000_000, 0), fragments(200_000, 1)]);
  collect();
  const h0 = process.memoryUsage().heapUsed;
  feed(wire);
  collect();
  const grew = process.memoryUsage().heapUsed - h0;
  reset();
  if (grew > 8 << 20) throw new InvariantError(`${what}: holding an unfinished record of 200,000 bytes in 1,200,000 fragments grew the heap by ${grew} bytes`);
}
