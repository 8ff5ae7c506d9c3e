/**
 * What a fuzz target is, and the common shape of one that decodes XDR: decode, then check what
 * came back (guard.ts), and now and then re-encode the value and decode it again, which must give
 * the same value.
 */
import { isDeepStrictEqual } from 'node:util';
import { XdrReader, XdrWriter, XdrError } from '../src/xdr/index.js';
import type { Rng } from './prng.js';
import { InvariantError, checkShape, unguarded } from './guard.js';

export interface Target {
  /** Dotted name: `nfs3.WRITE.args`, `rpc.record`, … */
  readonly name: string;
  /** Corpus inputs the cases are made from. */
  readonly seeds: readonly Buffer[];
  /** Inputs are never longer (default 4096). */
  readonly maxLen?: number;
  /**
   * One case. Returns normally when the input was decoded or rejected the documented way
   * (return 'rejected' for the latter when it is not signalled by a throw); throws otherwise.
   */
  run(input: Buffer, rng: Rng): 'ok' | 'rejected' | void;
  /** The decoder's documented "bad input" error (XdrError, …): a rejection, not a failure. */
  expected(err: unknown): boolean;
  /** Largest single Buffer allocation a case may make (default: the input's length, at least 64). */
  allocLimit?(input: Buffer): number;
  /** The target's own mutator, used for a share of the cases (framing, JSON). */
  mutate?(rng: Rng, seed: Buffer): Buffer;
  /** After the last case: checks of the target's own long-lived state (pools given back, …). */
  finish?(): void;
}

export const isXdrError = (e: unknown): boolean => e instanceof XdrError;

export interface DecoderTargetOptions<T> {
  /** Encode a decoded value back (the project's encoder), for the round-trip check. */
  encode?: (w: XdrWriter, v: T) => void;
  /** Share of accepted cases that are round-tripped (default 1/8). */
  roundtripShare?: number;
  maxLen?: number;
  expected?: (e: unknown) => boolean;
}

export function decoderTarget<T>(name: string, seeds: readonly Buffer[], decode: (r: XdrReader, rng: Rng) => T, o: DecoderTargetOptions<T> = {}): Target {
  const expected = o.expected ?? isXdrError;
  const share = o.roundtripShare ?? 1 / 8;
  return {
    name,
    seeds,
    maxLen: o.maxLen,
    expected,
    run(input, rng) {
      const r = new XdrReader(input);
      const v = decode(r, rng);
      if (r.offset > input.length || r.offset < 0) throw new InvariantError(`reader at ${r.offset} of ${input.length}`);
      checkShape(v, input, r.offset);
      if (o.encode && rng.chance(share)) unguarded(() => roundtrip(v, o.encode!, decode, rng, expected));
      return 'ok';
    },
  };
}

function roundtrip<T>(v: T, encode: (w: XdrWriter, v: T) => void, decode: (r: XdrReader, rng: Rng) => T, rng: Rng, expected: (e: unknown) => boolean): void {
  const w = new XdrWriter(256);
  try {
    encode(w, v);
  } catch (e) {
    if (expected(e)) return; // the encoder refuses what the decoder let through (e.g. a lossy string grown past its bound)
    throw e;
  }
  const bytes = w.finish();
  const r = new XdrReader(bytes);
  let again: T;
  try {
    again = decode(r, rng);
  } catch (e) {
    throw new InvariantError(`re-encoded value does not decode: ${(e as Error).message}`);
  }
  if (r.offset !== bytes.length) throw new InvariantError(`re-encoded value: decoder stopped at ${r.offset} of ${bytes.length}`);
  if (!isDeepStrictEqual(again, v)) throw new InvariantError('decode(encode(v)) differs from v');
}
