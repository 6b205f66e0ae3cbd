import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, Rng } from '../src/index.js';

describe('Rng', () => {
  it('steps like the reference xoshiro128** (C code by Blackman and Vigna)', () => {
    // Outputs of the reference next() from state {1, 2, 3, 4}, computed with the C original.
    const rng = new Rng(0);
    Object.assign(rng, { s0: 1, s1: 2, s2: 3, s3: 4 });
    const out = Array.from({ length: 6 }, () => rng.nextUint32());
    expect(out).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('repeats for a seed and differs between seeds and streams', () => {
    const draw = (r: Rng): number[] => Array.from({ length: 8 }, () => r.nextUint32());
    expect(draw(new Rng(42))).toEqual(draw(new Rng(42)));
    expect(draw(new Rng(42))).not.toEqual(draw(new Rng(43)));
    expect(draw(new Rng(42, 0))).not.toEqual(draw(new Rng(42, 1)));
    // The high word of a 53-bit seed counts too.
    expect(draw(new Rng(1))).not.toEqual(draw(new Rng(2 ** 32 + 1)));
  });

  it('draws floats in [0, 1) with mean 1/2 and normals with mean 0, variance 1', () => {
    const rng = new Rng(7);
    let sum = 0;
    let sumN = 0;
    let sumN2 = 0;
    let outside = 0;
    const m = 20000;
    for (let i = 0; i < m; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      const z = rng.normal();
      sumN += z;
      sumN2 += z * z;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / m - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sumN / m)).toBeLessThan(0.03);
    expect(Math.abs(sumN2 / m - 1)).toBeLessThan(0.04);
  });

  it('permutation holds every index once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), (n, seed) => {
        const p = Array.from(new Rng(seed).permutation(n)).sort((a, b) => a - b);
        expect(p).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });

  it('int stays in range and rejects bad bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer(), (n, seed) => {
        const v = new Rng(seed).int(n);
        return Number.isInteger(v) && v >= 0 && v < n;
      }),
    );
    expect(() => new Rng(0).int(0)).toThrow(ArgumentError);
    expect(() => new Rng(1.5)).toThrow(/^Rng: seed must be a safe integer, got 1.5/);
  });
});
