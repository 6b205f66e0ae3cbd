import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  ArgumentError, bernoulli, categorical, dropout, formatGradcheckReport, Generator, gradcheck, gradgradcheck, multinomial, normal, randint, randperm,
  ShapeError, tensor, uniform, type Tensor,
} from '@chainrule/autograd';
import { values } from './helpers/tensors.js';

// Statistical checks use fixed seeds and bounds many standard errors wide: a correct sampler
// passes them for (almost) every seed, and a biased or wrongly scaled one fails them by far.

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(counts: number[], probs: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((s, c, i) => s + (c - n * probs[i]!) ** 2 / (n * probs[i]!), 0);
}

/**
 * Upper 1e-6 quantiles of chi-square with df degrees of freedom (bisection on the regularised gamma function): a correct
 * sampler exceeds them once in a million seeds.
 */
const CHI2_1E6: Record<number, number> = { 1: 23.93, 2: 27.63, 3: 30.66, 4: 33.38, 5: 35.89, 6: 38.26 };

function countsOf(xs: ArrayLike<number>, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (let i = 0; i < xs.length; i++) c[xs[i]!]!++;
  return c;
}

function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

function varianceOf(xs: ArrayLike<number>): number {
  const m = meanOf(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return s / xs.length;
}

describe('randint and randperm', () => {
  test('randint: each element is one generator.int(high - low) draw, shifted by low', () => {
    const g = new Generator(7);
    const want = Array.from({ length: 12 }, () => -3 + g.int(10));
    const got = randint(-3, 7, [3, 4], { seed: 7 });
    expect(got.dtype).toBe('int32');
    expect(got.shape).toEqual([3, 4]);
    expect(values(got)).toEqual(want);
    expect(values(randint(-3, 7, [3, 4], { generator: new Generator(7) }))).toEqual(want);
  });

  test('randint is uniform over [low, high) (chi-square, 70000 draws in 7 bins)', () => {
    const x = randint(5, 12, [70000], { seed: 1 });
    const shifted = Int32Array.from(x.data, (v) => v - 5);
    expect(Math.min(...shifted)).toBe(0);
    expect(Math.max(...shifted)).toBe(6);
    expect(chiSquare(countsOf(shifted, 7), new Array(7).fill(1 / 7))).toBeLessThan(CHI2_1E6[6]!);
    // The full int32 range is reachable without overflow.
    const wide = randint(-2147483648, 2147483648, [1000], { seed: 2 });
    expect(Math.min(...wide.data)).toBeLessThan(-1e9);
    expect(Math.max(...wide.data)).toBeGreaterThan(1e9);
  });

  test('randperm: a permutation, each element equally likely in each place (chi-square)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer(), (n, seed) => {
        const p = values(randperm(n, { seed }));
        expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
      { numRuns: 50 },
    );
    const g = new Generator(3);
    const firstPlace = new Array<number>(5).fill(0);
    const lastPlace = new Array<number>(5).fill(0);
    for (let i = 0; i < 20000; i++) {
      const p = randperm(5, { generator: g }).data;
      firstPlace[p[0]!]!++;
      lastPlace[p[4]!]!++;
    }
    expect(chiSquare(firstPlace, new Array(5).fill(0.2))).toBeLessThan(CHI2_1E6[4]!);
    expect(chiSquare(lastPlace, new Array(5).fill(0.2))).toBeLessThan(CHI2_1E6[4]!);
  });

  test('errors', () => {
    expect(() => randint(3, 3, [2])).toThrow('randint: low must be below high, got low 3 and high 3');
    expect(() => randint(0, 1.5, [2])).toThrow(ArgumentError);
    expect(() => randint(0, 2 ** 32, [2])).toThrow(/^randint: high must be an integer in \[-2\^31, 2\^31\]/);
    expect(() => randint(0, 2, [-1])).toThrow(ShapeError);
    expect(() => randperm(-1)).toThrow('randperm: n must be a non-negative integer up to 2^31 - 1, got -1');
  });
});

describe('bernoulli', () => {
  test('frequency of ones matches p within 6 standard errors; dtype and shape of p', () => {
    const p = tensor([0, 0.05, 0.3, 0.5, 0.97, 1], { dtype: 'float64' });
    const n = 40000;
    const draws = bernoulli(p.reshape(1, 6).expand(n, 6), { seed: 4 });
    expect(draws.dtype).toBe('float64');
    expect(draws.shape).toEqual([n, 6]);
    for (let j = 0; j < 6; j++) {
      let ones = 0;
      for (let i = 0; i < n; i++) ones += draws.data[i * 6 + j]!;
      const q = p.data[j]!;
      const se = Math.sqrt((q * (1 - q)) / n);
      expect(Math.abs(ones / n - q)).toBeLessThanOrEqual(6 * se);
    }
    expect(new Set(draws.data)).toEqual(new Set([0, 1]));
  });

  test('a number p with a shape; float32 by default; p.bernoulli()', () => {
    const b = bernoulli(0.25, { shape: [20000], seed: 5 });
    expect(b.dtype).toBe('float32');
    expect(Math.abs(meanOf(b.data) - 0.25)).toBeLessThan(6 * Math.sqrt(0.25 * 0.75 / 20000));
    expect(bernoulli(0.5, { shape: [3], dtype: 'float64' }).dtype).toBe('float64');
    expect(tensor([0.5, 0.5]).bernoulli({ seed: 1 }).shape).toEqual([2]);
    expect(bernoulli(tensor([1, 0], { requiresGrad: true })).requiresGrad).toBe(false);
  });

  test('errors name the op and the element', () => {
    expect(() => bernoulli(tensor([0.5, -0.1]))).toThrow('bernoulli: probabilities must be in [0, 1], got -0.10000000149011612 at element 1 of p of shape [2]');
    expect(() => bernoulli(tensor([NaN]))).toThrow(/^bernoulli: probabilities must be in \[0, 1\], got NaN at element 0/);
    expect(() => bernoulli(1.5)).toThrow(ArgumentError);
    expect(() => bernoulli(tensor([0.5]), { shape: [2] })).toThrow(/^bernoulli: shape is taken from p/);
  });
});

describe('multinomial and categorical', () => {
  test('with replacement: frequencies match the probabilities (chi-square); zero never drawn', () => {
    const probs = [0.1, 0.2, 0, 0.3, 0.4];
    const draws = multinomial(tensor(probs, { dtype: 'float64' }).mul(3), 50000, { replacement: true, seed: 6 });
    expect(draws.dtype).toBe('int32');
    expect(draws.shape).toEqual([50000]);
    const c = countsOf(draws.data, 5);
    expect(c[2]).toBe(0);
    expect(chiSquare([c[0]!, c[1]!, c[3]!, c[4]!], [0.1, 0.2, 0.3, 0.4])).toBeLessThan(CHI2_1E6[3]!);
  });

  test('without replacement: distinct categories per row; the first draw follows the probabilities', () => {
    const probs = tensor([[0.5, 0.25, 0.125, 0.125], [0, 1, 1, 0]]);
    const g = new Generator(8);
    const first = new Array<number>(4).fill(0);
    for (let i = 0; i < 10000; i++) {
      const s = multinomial(probs, 2, { generator: g });
      expect(s.shape).toEqual([2, 2]);
      const [a, b, c, d] = s.data as Int32Array;
      expect(a).not.toBe(b);
      expect([c, d].sort()).toEqual([1, 2]);
      first[a!]!++;
    }
    expect(chiSquare(first, [0.5, 0.25, 0.125, 0.125])).toBeLessThan(CHI2_1E6[3]!);
    // Every category drawn once: a permutation.
    expect(values(multinomial(tensor([1, 2, 3]), 3, { seed: 9 })).sort()).toEqual([0, 1, 2]);
    expect(tensor([0, 1]).multinomial(1).item()).toBe(1);
  });

  test('categorical: one draw per row with probability softmax(logits) (chi-square)', () => {
    const logits = tensor([1000, 1001, 1002, -Infinity], { dtype: 'float64' });
    const z = Math.exp(-2) + Math.exp(-1) + 1;
    const p = [Math.exp(-2) / z, Math.exp(-1) / z, 1 / z];
    const rows = logits.reshape(1, 4).expand(30000, 4);
    const draws = categorical(rows, { seed: 10 });
    expect(draws.dtype).toBe('int32');
    expect(draws.shape).toEqual([30000]);
    const c = countsOf(draws.data, 4);
    expect(c[3]).toBe(0);
    expect(chiSquare(c.slice(0, 3), p)).toBeLessThan(CHI2_1E6[2]!);
    expect(categorical(tensor([[[0, 0]]])).shape).toEqual([1, 1]);
  });

  test('bad probabilities: clear errors naming the op and the row', () => {
    expect(() => multinomial(tensor([[0.5, 0.5], [0, 0]]), 1)).toThrow('multinomial: row 1 of probs sums to 0; each row needs a positive probability');
    expect(() => multinomial(tensor([[0.5, -0.5]]), 1)).toThrow(
      'multinomial: row 0 of probs has -0.5 at element 1; probabilities must be finite and non-negative',
    );
    expect(() => multinomial(tensor([0.5, NaN]), 1)).toThrow(/^multinomial: row 0 of probs has NaN at element 1/);
    expect(() => multinomial(tensor([0.5, Infinity]), 1)).toThrow(/^multinomial: row 0 of probs has Infinity at element 1/);
    expect(() => multinomial(tensor([[1, 1, 0]]), 3)).toThrow(
      'multinomial: row 0 of probs has 2 non-zero probabilities, too few to draw 3 samples without replacement',
    );
    expect(() => multinomial(tensor([1]), 0)).toThrow('multinomial: numSamples must be a positive integer, got 0');
    expect(() => multinomial(tensor([[[1]]]), 1)).toThrow('multinomial: probs must be 1-D or 2-D, got shape [1,1,1]');
    expect(() => categorical(tensor([[0, 1], [-Infinity, -Infinity]]))).toThrow(
      'categorical: row 1 of logits is -Infinity everywhere; each row needs a category of positive probability',
    );
    expect(() => categorical(tensor([0, NaN]))).toThrow(/^categorical: row 0 of logits has NaN at element 1/);
    expect(() => categorical(tensor(1))).toThrow(ShapeError);
  });
});

describe('normal and uniform', () => {
  test('normal: mean and variance within a few standard errors; broadcast parameters', () => {
    const n = 100000;
    const x = normal(tensor([-3, 10], { dtype: 'float64' }).reshape(1, 2), tensor([0.5, 4], { dtype: 'float64' }).reshape(1, 2), [n, 2], { seed: 11 });
    expect(x.shape).toEqual([n, 2]);
    expect(x.dtype).toBe('float64');
    const cols = [0, 1].map((j) => Float64Array.from({ length: n }, (_, i) => x.data[i * 2 + j]!));
    [[-3, 0.5], [10, 4]].forEach(([mu, sigma], j) => {
      expect(Math.abs(meanOf(cols[j]!) - mu!)).toBeLessThan(6 * sigma! / Math.sqrt(n));
      // The variance of a normal sample variance is 2σ⁴/n.
      expect(Math.abs(varianceOf(cols[j]!) - sigma! ** 2)).toBeLessThan(6 * sigma! ** 2 * Math.sqrt(2 / n));
    });
    expect(normal(0, 1, [2, 3]).dtype).toBe('float32');
    expect(normal(0, 1, undefined, { dtype: 'float64' }).shape).toEqual([]);
    expect(normal(0, tensor([0, 0])).toArray()).toEqual([0, 0]);
  });

  test('uniform: in [low, high), mean and variance within a few standard errors', () => {
    const n = 100000;
    const x = uniform(-2, 3, [n], { seed: 12, dtype: 'float64' });
    expect(Math.min(...x.data)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...x.data)).toBeLessThan(3);
    // u is uniform: its mean has variance 1/(12n), its second central moment 1/(180n).
    expect(Math.abs(meanOf(x.data) - 0.5)).toBeLessThan(6 * 5 * Math.sqrt(1 / (12 * n)));
    expect(Math.abs(varianceOf(x.data) - 25 / 12)).toBeLessThan(6 * 25 * Math.sqrt(1 / (180 * n)));
    const y = uniform(tensor([0, 10]), tensor([1, 10]), undefined, { seed: 1 });
    expect(y.data[1]).toBe(10);
  });

  test('reparameterised: the gradients are those of mean + std·ε and low + (high - low)·u', () => {
    const mu = tensor([1, -1], { dtype: 'float64', requiresGrad: true });
    const sigma = tensor([[2], [0.5], [1]], { dtype: 'float64', requiresGrad: true });
    const x = normal(mu, sigma, undefined, { seed: 13 });
    expect(x.shape).toEqual([3, 2]);
    x.sum().backward();
    expect(values(mu.grad)).toEqual([3, 3]);
    const eps = x.detach().sub(mu.detach()).div(sigma.detach());
    expect(values(sigma.grad)).toEqual(values(eps.sum(1, true)).map((v) => expect.closeTo(v, 12)) as unknown as number[]);

    const options = { seed: 14 };
    for (const [name, f] of [
      ['normal', (a: Tensor, b: Tensor) => normal(a, b, [3, 2], options).square()],
      ['uniform', (a: Tensor, b: Tensor) => uniform(a, b, [3, 2], options).square()],
    ] as const) {
      const a = tensor([-1, 0.5], { dtype: 'float64', requiresGrad: true });
      const b = tensor([[1.5], [2], [3]], { dtype: 'float64', requiresGrad: true });
      const first = gradcheck(f, [a, b]);
      expect(first.ok, `${name}: ${formatGradcheckReport(first)}`).toBe(true);
      const second = gradgradcheck(f, [a, b]);
      expect(second.ok, `${name}: ${formatGradcheckReport(second)}`).toBe(true);
    }
  });

  test('errors', () => {
    expect(() => normal(0, tensor([1, -1]))).toThrow('normal: std must be non-negative, got -1 at element 1 of std of shape [2]');
    expect(() => normal(0, NaN)).toThrow(/^normal: std must be non-negative, got NaN/);
    expect(() => normal(tensor([0, 0]), 1, [3])).toThrow(ShapeError);
    expect(() => normal(tensor([0, 0]), 1, [3, 1])).toThrow('normal: parameters of shapes [2] and [] do not broadcast to shape [3,1]');
    expect(() => normal(tensor([0]), tensor([1], { dtype: 'float64' }))).toThrow(/^normal: dtypes differ/);
    expect(() => uniform(1, 0)).toThrow(/^uniform: low must not exceed high/);
    expect(() => uniform(tensor([0]), 1, [2], { dtype: 'float64' })).toThrow(/^uniform: dtype is taken from the tensor parameters/);
  });
});

describe('dropout', () => {
  test('drops a fraction p (within 6 standard errors), scales the rest by 1/(1-p)', () => {
    const n = 50000;
    const x = tensor(new Float64Array(n).fill(2));
    const y = dropout(x, 0.3, { seed: 15 });
    let dropped = 0;
    let misscaled = 0;
    for (const v of y.data) {
      if (v === 0) dropped++;
      else if (Math.abs(v - 2 / 0.7) > 1e-14) misscaled++;
    }
    expect(misscaled).toBe(0);
    expect(Math.abs(dropped / n - 0.3)).toBeLessThan(6 * Math.sqrt(0.21 / n));
    expect(Math.abs(meanOf(y.data) - 2)).toBeLessThan(0.05);
  });

  test('the identity when not training or p = 0; zeros when p = 1; the same mask for the same seed', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    expect(dropout(x, 0.5, { training: false })).toBe(x);
    expect(dropout(x, 0)).toBe(x);
    expect(values(dropout(x, 1))).toEqual([0, 0, 0]);
    expect(values(dropout(x, 0.5, { seed: 3 }))).toEqual(values(dropout(x, 0.5, { seed: 3 })));
    // One uniform draw per element, dropped below p.
    const g = new Generator(3);
    expect(values(dropout(x, 0.5, { seed: 3 }))).toEqual([1, 2, 3].map((v) => (g.uniform() < 0.5 ? 0 : v * 2)));
  });

  test('the gradient goes through the mask (gradcheck, gradgradcheck)', () => {
    const f = (x: Tensor): Tensor => dropout(x, 0.4, { seed: 16 }).square();
    const x = tensor([[0.5, -1, 2], [1.5, 0.3, -0.7]], { dtype: 'float64', requiresGrad: true });
    expect(gradcheck(f, [x]).ok).toBe(true);
    expect(gradgradcheck(f, [x]).ok).toBe(true);
    const y = tensor([1, 1, 1, 1, 1, 1, 1, 1], { dtype: 'float64', requiresGrad: true });
    const out = dropout(y, 0.5, { seed: 17 });
    out.sum().backward();
    expect(values(y.grad)).toEqual(values(out));
  });

  test('errors', () => {
    expect(() => dropout(tensor([1]), 1.5)).toThrow('dropout: p must be a probability in [0, 1], got 1.5');
    expect(() => dropout(tensor([1]), NaN)).toThrow(ArgumentError);
  });
});
