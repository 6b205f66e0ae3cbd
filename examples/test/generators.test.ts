// autograd's Generator and datasets' Rng are one generator written twice (datasets depends on
// nothing of ours): xoshiro128** seeded through splitmix32, with the same method names. This
// holds them to it, draw for draw; each package's own tests pin its stream to the reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator } from '@chainrule/autograd';
import { Rng } from '@chainrule/datasets';
import { streamSeed } from '../../packages/datasets/src/random.js';

const seed = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(0, 1, 2 ** 32 + 1, -1));
const stream = fc.oneof(fc.nat(), fc.constantFrom(0, 1, 2 ** 40));

describe('Rng(seed, stream) and Generator(streamSeed(seed, stream))', () => {
  it('draw the same 32-bit words, uniforms and bounded integers, in any interleaving', () => {
    const draw = fc.constantFrom('nextUint32', 'uniform', 'range', 'int');
    fc.assert(
      fc.property(seed, stream, fc.array(fc.tuple(draw, fc.integer({ min: 1, max: 2 ** 32 })), { minLength: 1, maxLength: 40 }), (s, t, draws) => {
        const rng = new Rng(s, t);
        const generator = new Generator(streamSeed(s, t));
        for (const [kind, n] of draws) {
          const [a, b] =
            kind === 'nextUint32' ? [rng.nextUint32(), generator.nextUint32()]
            : kind === 'uniform' ? [rng.uniform(), generator.uniform()]
            : kind === 'range' ? [rng.uniform(-n, n), generator.uniform(-n, n)]
            : [rng.int(n), generator.int(n)];
          expect(Object.is(a, b), `${kind}(${n})`).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('uniform() with no bounds is the bare 53-bit draw in both', () => {
    for (const [draws, words] of [[new Rng(3), new Rng(3)], [new Generator(3), new Generator(3)]] as const) {
      for (let i = 0; i < 100; i++) {
        const hi = words.nextUint32() >>> 5;
        const lo = words.nextUint32() >>> 6;
        expect(draws.uniform()).toBe((hi * 67108864 + lo) / 2 ** 53);
      }
    }
  });
});
