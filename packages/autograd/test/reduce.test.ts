import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, grad, gradients, hessian, stack, Tensor, tensor, vmap, type NestedArray } from '@chainrule/autograd';
import { assertClose, checkGradProperty } from '@chainrule/autograd/testing';
import { folds } from './helpers/reduce-reference.js';
import { describeReductionTable, gradInputArb, type ReductionCase } from './helpers/reduction-table.js';
import { f64, grad64 } from './helpers/tensors.js';

/** Runs backward of `out` (with ones for a non-scalar output) and returns x.grad as nested arrays. */
function gradOf(x: Tensor, out: Tensor): NestedArray {
  out.backward(out.size === 1 ? undefined : tensor(new Float64Array(out.size).fill(1), { shape: out.shape }));
  return x.grad!.toArray();
}

/** Elements in -3..3: many ties. */
const ints = fc.integer({ min: -3, max: 3 });

/**
 * Several float32 ops, each rounding once, on values up to 5 in magnitude: within a few float32
 * ulps of the terms (an ulp of 5 is 4.8e-7), not one rounding of the float64 result.
 */
const COMPOSITE = { rtol: 1e-5, atol: 1e-5 };

const cases: ReductionCase[] = [
  { name: 'sum', op: (x, axis, keepdims) => x.sum(axis, keepdims), ref: folds.sum, grad: 'smooth' },
  // The sum rounded once, then divided: two float32 roundings (and 2^-149 apart among subnormals).
  { name: 'mean', op: (x, axis, keepdims) => x.mean(axis, keepdims), ref: folds.mean, grad: 'smooth', float32: { rtol: 2.5e-7, atol: 2 ** -149 } },
  // Small integers: ties on purpose, where the forward must still pick the right value.
  { name: 'max', op: (x, axis, keepdims) => x.max(axis, keepdims), ref: folds.max, values: ints, minCount: 1, grad: 'distinct' },
  { name: 'min', op: (x, axis, keepdims) => x.min(axis, keepdims), ref: folds.min, values: ints, minCount: 1, grad: 'distinct' },
  {
    // Zeros in the forward and in both derivatives (a polynomial: smooth through them).
    name: 'prod', op: (x, axis, keepdims) => x.prod(axis, keepdims), ref: folds.prod, values: fc.constantFrom(0, -1.5, -0.5, 0.75, 1.25, 2),
    grad: 'someZeros',
  },
  { name: 'logsumexp', op: (x, axis, keepdims) => x.logsumexp(axis, keepdims), ref: folds.logsumexp, grad: 'smooth', float32: COMPOSITE },
  { name: 'var', op: (x, axis, keepdims) => x.var(axis, { keepdims }), ref: folds.variance(0), minCount: 1, grad: 'smooth', float32: COMPOSITE },
  {
    name: 'var', title: 'var, correction 1', op: (x, axis, keepdims) => x.var(axis, { correction: 1, keepdims }), ref: folds.variance(1),
    minCount: 2, grad: 'smooth', float32: COMPOSITE,
  },
  // Distinct values: equal ones make a kink (gradient 0 at a constant slice; tested below).
  { name: 'std', op: (x, axis, keepdims) => x.std(axis, { keepdims }), ref: (v) => Math.sqrt(folds.variance(0)(v)), minCount: 1, grad: 'distinct', gradMinCount: 2, float32: COMPOSITE },
  {
    name: 'std', title: 'std, correction 1', op: (x, axis, keepdims) => x.std(axis, { correction: 1, keepdims }),
    ref: (v) => Math.sqrt(folds.variance(1)(v)), minCount: 2, grad: 'distinct', float32: COMPOSITE,
  },
];

describeReductionTable(cases);

describe('sum', () => {
  const x = (): Tensor => grad64([[1, 2, 3], [4, 5, 6]]);

  it('reduces all axes, one axis, negative axes and lists', () => {
    expect(x().sum().toArray()).toBe(21);
    expect(x().sum().shape).toEqual([]);
    expect(x().sum(0).toArray()).toEqual([5, 7, 9]);
    expect(x().sum(1).toArray()).toEqual([6, 15]);
    expect(x().sum(-1, true).toArray()).toEqual([[6], [15]]);
    expect(x().sum([0, -1]).toArray()).toBe(21);
    expect(x().sum([1, 0], true).shape).toEqual([1, 1]);
    // [2,3,4] holding 0..23: element (i,j,k) = 12i + 4j + k, so summing i and k gives 60 + 32j.
    const t = tensor(Array.from({ length: 24 }, (_, i) => i), { dtype: 'float64', shape: [2, 3, 4] });
    expect(t.sum([0, 2]).toArray()).toEqual([60, 92, 124]);
    expect(t.sum([2, 0], true).shape).toEqual([1, 3, 1]);
  });

  it('sends the incoming gradient to every reduced element', () => {
    const a = x();
    a.sum(0).backward(f64([1, 2, 3]));
    expect(a.grad!.toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    const b = x();
    b.sum(1, true).backward(f64([[10], [20]]));
    expect(b.grad!.toArray()).toEqual([[10, 10, 10], [20, 20, 20]]);
  });

  it('treats a 0-d tensor as reducing over nothing (axis 0 or -1)', () => {
    for (const axis of [undefined, 0, -1]) {
      const s = grad64(3);
      const out = s.sum(axis, true);
      expect(out.shape).toEqual([]);
      expect(out.item()).toBe(3);
      out.backward();
      expect(s.grad!.item()).toBe(1);
    }
  });

  it('keeps float32 in and out', () => {
    const a = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const out = a.sum(0);
    expect(out.dtype).toBe('float32');
    out.sum().backward();
    expect(a.grad!.dtype).toBe('float32');
  });
});

describe('mean', () => {
  it('divides the sum by the number of reduced elements', () => {
    const x = grad64([[1, 2, 3], [4, 5, 6]]);
    expect(x.mean().item()).toBe(3.5);
    expect(x.mean(1).toArray()).toEqual([2, 5]);
    expect(x.mean(0, true).toArray()).toEqual([[2.5, 3.5, 4.5]]);
    expect(x.mean([0, -1]).item()).toBe(3.5);
    expect(gradOf(x, x.mean())).toEqual([[1 / 6, 1 / 6, 1 / 6], [1 / 6, 1 / 6, 1 / 6]]);
    const y = grad64([[1, 2, 3], [4, 5, 6]]);
    expect(gradOf(y, y.mean(0))).toEqual([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]);
  });
});

describe('max and min', () => {
  it('pick the extremes along an axis and route the gradient to them', () => {
    const x = grad64([[1, 5, 3], [7, 2, 6]]);
    expect(x.max(1).toArray()).toEqual([5, 7]);
    expect(x.max(0).toArray()).toEqual([7, 5, 6]);
    expect(x.max(-1, true).shape).toEqual([2, 1]);
    expect(x.min(1).toArray()).toEqual([1, 2]);
    expect(x.min(0).toArray()).toEqual([1, 2, 3]);
    expect(x.min().item()).toBe(1);
    expect(gradOf(x, x.max(1))).toEqual([[0, 1, 0], [1, 0, 0]]);
    const y = grad64([[1, 5, 3], [7, 2, 6]]);
    expect(gradOf(y, y.min(0))).toEqual([[1, 0, 1], [0, 1, 0]]);
  });

  it('share the gradient evenly between tied extremes (torch.amax rule)', () => {
    const x = grad64([[1, 5, 5], [7, 2, 7]]);
    expect(x.max(1).toArray()).toEqual([5, 7]);
    expect(gradOf(x, x.max(1))).toEqual([[0, 0.5, 0.5], [0.5, 0, 0.5]]);
    const all = grad64([4, 4, 4, 4]);
    expect(gradOf(all, all.max())).toEqual([0.25, 0.25, 0.25, 0.25]);
    const m = grad64([[2, 0, 0], [0, 9, 0]]);
    expect(gradOf(m, m.min())).toEqual([[0, 0.25, 0.25], [0.25, 0, 0.25]]);
    // Ties across several reduced axes: the two 3s share the gradient of 6.
    const t = grad64([[[1, 3], [3, 0]], [[2, 2], [5, 2]]]);
    const out = t.max([1, 2]);
    expect(out.toArray()).toEqual([3, 5]);
    out.backward(f64([6, 1]));
    expect(t.grad!.toArray()).toEqual([[[0, 3], [3, 0]], [[0, 0], [1, 0]]]);
  });

  it('over all elements, give a NaN result and share its gradient among the NaNs (torch.max)', () => {
    const x = grad64([[1, NaN, 3], [NaN, NaN, 1]]);
    expect(Number.isNaN(x.max().item())).toBe(true);
    expect(gradOf(x, x.max())).toEqual([[0, 1 / 3, 0], [1 / 3, 1 / 3, 0]]);
    const y = grad64([2, NaN, -1]);
    expect(Number.isNaN(y.min().item())).toBe(true);
    expect(gradOf(y, y.min())).toEqual([0, 1, 0]);
    // Along an axis, a slice without NaN keeps its own rule.
    const z = grad64([[NaN, 1], [2, 2]]);
    expect(gradOf(z, z.max(1))).toEqual([[1, 0], [0.5, 0.5]]);
  });

  it('refuse an empty reduced axis, naming the op', () => {
    const e = tensor(new Float64Array(0), { shape: [2, 0] });
    expect(() => e.max(1)).toThrow(ArgumentError);
    expect(() => e.max(1)).toThrow(/^max: cannot reduce over an empty axis of shape \[2,0\]/);
    expect(() => e.min()).toThrow(/^min: /);
  });
});

describe('prod', () => {
  it('multiplies the reduced elements; its gradient is the product of the others', () => {
    const x = grad64([[1, 2, 3], [4, 5, 6]]);
    expect(x.prod(1).toArray()).toEqual([6, 120]);
    expect(x.prod(0).toArray()).toEqual([4, 10, 18]);
    expect(x.prod().item()).toBe(720);
    expect(gradOf(x, x.prod(1))).toEqual([[6, 3, 2], [30, 24, 20]]);
  });

  it('gets the gradient right with one zero and with two zeros', () => {
    const one = grad64([2, 0, 3, 4]);
    const p = one.prod();
    expect(p.item()).toBe(0);
    expect(gradOf(one, p)).toEqual([0, 24, 0, 0]);
    const two = grad64([2, 0, 3, 0]);
    expect(gradOf(two, two.prod())).toEqual([0, 0, 0, 0]);
    const only = grad64([0]);
    expect(gradOf(only, only.prod())).toEqual([1]);
  });

  it('handles zeros in some rows only, along the last and a leading axis', () => {
    const rows = grad64([[2, 0, 3], [1, 2, 3]]);
    const r = rows.prod(1);
    expect(r.toArray()).toEqual([0, 6]);
    expect(gradOf(rows, r)).toEqual([[0, 6, 0], [6, 3, 2]]);
    // Reducing axis 0 of a [3,2]: columns (2,0,3) and (1,5,2).
    const cols = grad64([[2, 1], [0, 5], [3, 2]]);
    const c = cols.prod(0);
    expect(c.toArray()).toEqual([0, 10]);
    expect(gradOf(cols, c)).toEqual([[0, 10], [6, 2], [0, 5]]);
    // A middle axis of a [2,2,2], with a zero in one of the four reduced pairs.
    const mid = grad64([[[1, 2], [3, 0]], [[4, 5], [6, 7]]]);
    const m = mid.prod(1);
    expect(m.toArray()).toEqual([[3, 0], [24, 35]]);
    expect(gradOf(mid, m)).toEqual([[[3, 0], [1, 2]], [[6, 7], [4, 5]]]);
  });

  it('differentiates again through one zero, several and all: the Hessian holds the products of the rest', () => {
    // ∂²Π/∂x_i∂x_j is the product of the elements other than i and j (0 on the diagonal).
    const h = (v: number[], axis?: number): NestedArray => (hessian((x: Tensor) => x.prod(axis).sum())(f64(v)) as Tensor).toArray();
    expect(h([1.5, 0, -2, 0])).toEqual([[0, 0, 0, 0], [0, 0, 0, -3], [0, 0, 0, 0], [0, -3, 0, 0]]);
    expect(h([2, 0, 5])).toEqual([[0, 5, 0], [5, 0, 2], [0, 2, 0]]);
    expect(h([0, 0])).toEqual([[0, 1], [1, 0]]);
    expect(h([0, 0, 0], 0)).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    // A third derivative: ∂³(x0·x1·x2)/∂x0∂x1∂x2 = 1 at 0, reached through two gradients of gradients.
    const third = grad((x: Tensor) => grad((y: Tensor) => grad((z: Tensor) => z.prod())(y).narrow(0, 0, 1).sum())(x).narrow(0, 1, 1).sum())(f64([0, 0, 0]));
    expect(third.toArray()).toEqual([0, 0, 1]);
  });

  it('batches its second derivative under vmap, examples with and without zeros side by side', () => {
    const w = f64([[0.5, -1, 1.5], [2, 0.25, -0.75]]);
    const hvpOf = (x: Tensor): Tensor => grad((u: Tensor) => grad((v: Tensor) => v.prod(-1).sum())(u).mul(w).sum())(x);
    // Rows of each example: no zero and one zero; two zeros and all zeros; no zeros at all.
    const xs = f64([[[1.5, -2, 0.5], [3, 0, -1]], [[0, 2, 0], [0, 0, 0]], [[1, 2, 3], [-1, 0.5, 2]]]);
    const batched = vmap(hvpOf)(xs) as Tensor;
    assertClose(batched, stack([0, 1, 2].map((i) => hvpOf(xs.narrow(0, i, 1).squeeze(0)))), 1e-15, 0);
    // By hand for the second example: ∂²(x0·x1·x2)/∂x_i∂x_j is the third element, so row [0, 2, 0]
    // gives [2·w2, 0, 2·w0] and the all-zero row nothing.
    expect(batched.narrow(0, 1, 1).toArray()).toEqual([[[2 * 1.5, 0, 2 * 0.5], [0, 0, 0]]]);
  });

  it('of a 0-d tensor is the tensor itself, gradient 1 (also at 0)', () => {
    for (const v of [5, 0]) {
      const s = grad64(v);
      const out = s.prod(0);
      expect(out.item()).toBe(v);
      out.backward();
      expect(s.grad!.item()).toBe(1);
    }
  });
});

describe('logsumexp', () => {
  it('matches log(sum(exp)) and its gradient is the softmax', () => {
    const x = grad64([0, Math.log(3)]);
    const out = x.logsumexp();
    expect(out.item()).toBeCloseTo(Math.log(4), 14);
    out.backward();
    assertClose(x.grad!.data, [0.25, 0.75], 1e-14);
  });

  it('is stable for logits 1000 and 1001', () => {
    // log(e^1000 + e^1001) = 1001 + log(1 + e^-1)
    const expected = 1001 + Math.log1p(Math.exp(-1));
    const x = grad64([[1000, 1001]]);
    const out = x.logsumexp(1);
    assertClose(out.data, [expected], 1e-15);
    out.backward();
    const p = 1 / (1 + Math.E);
    assertClose(x.grad!.data, [p, 1 - p], 1e-14);
    const x32 = tensor([1000, 1001], { requiresGrad: true });
    const out32 = x32.logsumexp();
    expect(out32.dtype).toBe('float32');
    expect(out32.item()).toBeCloseTo(expected, 3);
    out32.backward();
    assertClose(x32.grad!.data, [p, 1 - p], 1e-6);
  });

  it('gives -Infinity for an all -Infinity row and ignores -Infinity entries', () => {
    const x = f64([[-Infinity, -Infinity], [0, 0], [-Infinity, 2]]);
    const out = x.logsumexp(1);
    expect(out.data[0]).toBe(-Infinity);
    expect(out.data[1]).toBeCloseTo(Math.LN2, 15);
    expect(out.data[2]).toBe(2);
    expect(f64([Infinity, 0]).logsumexp().item()).toBe(Infinity);
    const y = grad64([-Infinity, 2, 2]);
    const o = y.logsumexp();
    expect(o.item()).toBeCloseTo(2 + Math.LN2, 14);
    o.backward();
    expect(y.grad!.toArray()).toEqual([0, 0.5, 0.5]);
  });

  it('over an empty axis is -Infinity (log of an empty sum), as in PyTorch', () => {
    const e = tensor(new Float64Array(0), { shape: [2, 0] });
    expect(e.logsumexp(1).toArray()).toEqual([-Infinity, -Infinity]);
    expect(e.logsumexp(0).shape).toEqual([0]);
  });

  it('keeps the reduced axes when asked', () => {
    const x = f64([[0, 0], [1, 1]]);
    const out = x.logsumexp(-1, true);
    expect(out.shape).toEqual([2, 1]);
    assertClose(out.data, [Math.LN2, 1 + Math.LN2], 1e-15);
  });
});

describe('var and std', () => {
  it('are the population statistics by default and Bessel-corrected with correction 1', () => {
    const x = grad64([1, 2, 3, 4]);
    expect(x.var().item()).toBe(1.25);
    expect(x.var(0, { correction: 1 }).item()).toBeCloseTo(5 / 3, 15);
    expect(x.std().item()).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(x.std(undefined, { correction: 1 }).item()).toBeCloseTo(Math.sqrt(5 / 3), 15);
    const m = f64([[1, 2], [3, 5]]);
    expect(m.var(0).toArray()).toEqual([1, 2.25]);
    expect(m.var(1).toArray()).toEqual([0.25, 1]);
    expect(m.var(-1, { keepdims: true }).shape).toEqual([2, 1]);
    expect(m.std([0, 1], { keepdims: true }).shape).toEqual([1, 1]);
  });

  it('have gradients 2(x - mean)/(N - correction) and (x - mean)/((N - correction)·std)', () => {
    const a = grad64([1, 2, 3, 4]);
    assertClose(gradOf(a, a.var()) as number[], [-0.75, -0.25, 0.25, 0.75], 1e-15);
    const b = grad64([1, 2, 3, 4]);
    assertClose(gradOf(b, b.var(0, { correction: 1 })) as number[], [-1, -1 / 3, 1 / 3, 1], 1e-15);
    const c = grad64([1, 2, 3, 4]);
    const s = Math.sqrt(1.25);
    assertClose(gradOf(c, c.std()) as number[], [-1.5, -0.5, 0.5, 1.5].map((d) => d / (4 * s)), 1e-15);
  });

  it('give std a gradient 0 over a constant slice, as PyTorch, to the second derivative', () => {
    const x = grad64([[3, 3, 3], [1, 2, 4]]);
    const s = x.std(1, { correction: 1 });
    expect(s.data[0]).toBe(0);
    const [g] = gradients([s.sum()], [x], { createGraph: true });
    expect(Array.from(g!.data).slice(0, 3)).toEqual([0, 0, 0]);
    expect(Array.from(g!.data).slice(3).every(Number.isFinite)).toBe(true);
    const [gg] = gradients([g!.square().sum()], [x]);
    expect((gg!.data as Float64Array).every(Number.isFinite)).toBe(true);
    expect(Number.isNaN(f64([1, NaN]).std().item())).toBe(true);
  });

  it('refuse a correction that leaves no degrees of freedom', () => {
    const x = grad64([[1, 2, 3]]);
    expect(() => x.var(0, { correction: 1 })).toThrow(ArgumentError);
    expect(() => x.var(0, { correction: 1 })).toThrow(/^var: 1 element\(s\) with correction 1/);
    expect(() => x.std(0, { correction: 1 })).toThrow(/^std: /);
  });
});

describe('prod: the gradient without zeros (the out / x path)', () => {
  it('passes gradcheck along the last axis and over all axes', () => {
    checkGradProperty((x) => x.prod(-1), gradInputArb('awayFromZero', 1), { numRuns: 10 });
    checkGradProperty((x) => x.prod(), gradInputArb('awayFromZero', 0), { numRuns: 10 });
  });
});
