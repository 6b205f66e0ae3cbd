import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { tensor, type Tensor } from '@chainrule/autograd';

// The PyTorch fixture (scripts/torch-reference.py writes it), shared by the test files that
// check one section each.

/** A number as the fixture writes it: JSON has no NaN, infinities or -0, so those are strings. */
export type Encoded = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

export function decode(v: Encoded): number {
  return typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : -0;
}

/** The fixture, typed by the sections a test reads. */
export function torchFixture<T extends object>(): { torch: string } & T {
  return JSON.parse(readFileSync(new URL('../fixtures/torch-reference.json', import.meta.url), 'utf8')) as { torch: string } & T;
}

/**
 * Σ_k <outputs[k], upstream[k]> over the outputs that have an upstream gradient: one backward of
 * it reaches every input once, with PyTorch's gradients for those upstreams.
 */
export function upstreamTotal(outputs: readonly Tensor[], upstream: readonly (readonly Encoded[] | null | undefined)[]): Tensor {
  return outputs
    .flatMap((y, k) => {
      const g = upstream[k];
      return g === null || g === undefined ? [] : [y.mul(tensor(Float64Array.from(g, decode), { shape: y.shape })).sum()];
    })
    .reduce((a, b) => a.add(b));
}

/**
 * Each element equal to PyTorch's within rtol·|want| + atol (NaN where it has NaN, infinities
 * exactly). `atol` covers results that are exactly 0 in one and rounding noise in the other.
 */
export function expectMatches(what: string, got: ArrayLike<number>, want: readonly Encoded[], rtol: number, atol = 1e-300): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = decode(want[i]!);
    const g = got[i]!;
    const where = `${what}, element ${i}: got ${g}, PyTorch ${w}`;
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(Object.is(g, w) || g === w, where).toBe(true);
    else expect(Math.abs(g - w) <= rtol * Math.abs(w) + atol, where).toBe(true);
  }
}

/**
 * A second-order case of the fixture: the forward, the gradient of <f(x), upstream> and the
 * gradient of <that gradient, direction>, in float64 and float32.
 */
export interface SecondOrderCase {
  title: string;
  inputs: { shape: number[]; values: Encoded[] }[];
  upstream: Encoded[];
  direction: Encoded[][];
  forward64: Encoded[];
  grads64: Encoded[][];
  gradgrads64: Encoded[][];
  forward32: Encoded[];
  grads32: Encoded[][];
  gradgrads32: Encoded[][];
}
