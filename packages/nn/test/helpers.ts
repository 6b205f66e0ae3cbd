import { expect } from 'vitest';
import { tensor, type NestedArray, type Tensor } from '@chainrule/autograd';

/** A float64 tensor. */
export function f64(value: NestedArray, requiresGrad = false): Tensor {
  return tensor(value, { dtype: 'float64', requiresGrad });
}

/** Asserts every element of `actual` is within `tol` of `expected` (absolute, or relative for large values). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e);
    if (!(err <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (error ${err} > ${tol})`);
    }
  }
}

/** Seeded uniform numbers in [lo, hi) without the engine (for test data). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
