/**
 * Targets that fail on purpose, to check the harness catches each kind of failure (only with
 * FUZZ_SELFTEST=1):  npm run fuzz -- --mode decoders --target 'selftest.*' --cases 20000
 * Each misbehaves on about one case in 5,000, decided by the case's own PRNG (so a replay, or the
 * second timing of a slow case, misbehaves again).
 */
import type { Target } from './target.js';
import type { Rng } from './prng.js';

const kept: Buffer[] = [];

function selftest(name: string, bad: (input: Buffer) => void): Target {
  return {
    name: `selftest.${name}`,
    seeds: [Buffer.alloc(16)],
    expected: () => false,
    run: (input: Buffer, rng: Rng) => {
      if (rng.below(5000) === 0) bad(input);
    },
  };
}

export function selftestTargets(): Target[] {
  return [
    selftest('crash', () => void ((undefined as unknown as { x: number }).x = 1)),
    selftest('hang', () => {
      for (;;);
    }),
    selftest('slow', () => {
      const until = Date.now() + 400;
      while (Date.now() < until);
    }),
    selftest('alloc', () => void Buffer.alloc(1 << 20)),
    { ...selftest('leak', () => undefined), run: (b: Buffer) => void kept.push(Buffer.from(b), Buffer.from(b)) },
  ];
}
