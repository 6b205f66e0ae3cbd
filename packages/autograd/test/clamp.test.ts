import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, clamp, DTypeError, grad, jit, ShapeError, tensor, valueAndGrad, vmap, type Tensor } from '@chainrule/autograd';
import { assertClose, broadcastShapesArb, checkGradGradProperty, checkGradProperty, seededTensor, type ValueConstraints } from '@chainrule/autograd/testing';
import { refBroadcast } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

// clamp with tensor bounds (torch.clamp(input, min=Tensor, max=Tensor)). PyTorch's own values are
// in the fixture (scripts/torch-reference.py, 'clamp' calls); the number-bound form is in unary.test.ts.

/** PyTorch's clamp kernel: NaN if any operand is NaN, else min(max(x, lo), hi). */
const clampRef = (x: number, lo: number, hi: number): number => (Number.isNaN(lo) || Number.isNaN(hi) ? NaN : Math.min(Math.max(x, lo), hi));

/** Values of x kept 0.05 or more outside the bounds' ranges [-1, -0.5] and [0.5, 1]: no tie moves under a difference. */
const X: ValueConstraints = { avoid: [-0.75, 0.75], margin: 0.3 };
const LOW: ValueConstraints = { min: -1, max: -0.5 };
const HIGH: ValueConstraints = { min: 0.5, max: 1 };

/** Tensors of broadcasting shapes, each with its own value constraints. */
function operandsArb(values: readonly ValueConstraints[]): fc.Arbitrary<Tensor[]> {
  return fc.tuple(broadcastShapesArb(values.length, { maxDim: 3 }), fc.noShrink(fc.integer())).map(([shapes, seed]) =>
    shapes.map((s, i) => seededTensor(s, seed + i * 7919, values[i])),
  );
}

describe('clamp with tensor bounds', () => {
  it('is min(max(x, min), max) over broadcast shapes (zero-size, 0-d), with NaN from any operand', () => {
    const cases = fc.tuple(broadcastShapesArb(3, { minDim: 0, maxDim: 3 }), fc.noShrink(fc.integer()), fc.constantFrom('both', 'min', 'max', 'number max'));
    fc.assert(
      fc.property(cases, ([shapes, seed, form]) => {
        const [x, lo, hi] = shapes.map((s, i) => seededTensor(s, seed + i, { requiresGrad: false })) as [Tensor, Tensor, Tensor];
        if (x.size > 0) x.data[0] = NaN;
        if (lo.size > 1) lo.data[1] = NaN;
        if (form === 'both') assertClose(clamp(x, lo, hi), refBroadcast([x, lo, hi], clampRef), 0, 0);
        if (form === 'min') assertClose(clamp(x, lo), refBroadcast([x, lo], (a, b) => clampRef(a, b, Infinity)), 0, 0);
        if (form === 'max') assertClose(x.clamp(undefined, hi), refBroadcast([x, hi], (a, c) => clampRef(a, -Infinity, c)), 0, 0);
        if (form === 'number max') assertClose(clamp(x, lo, 0.25), refBroadcast([x, lo], (a, b) => clampRef(a, b, 0.25)), 0, 0);
      }),
      { numRuns: 150 },
    );
  });

  it('routes the gradient as PyTorch: ties go to x, min > max to max, min = max > x to nobody', () => {
    // The case PyTorch 1.13 was run on (see the fixture for the same values).
    const x = grad64([-2, 0, 1, 2, 3, 5, NaN]);
    const lo = grad64([0, 0, 2, 3, 1, 6, 0]);
    const hi = grad64([1, 1, 1, 3, 3, 4, 1]);
    const y = clamp(x, lo, hi);
    expect(Array.from(y.data)).toEqual([0, 0, 1, 3, 3, 4, NaN]);
    y.backward(f64([1, 2, 3, 4, 5, 6, 7]));
    expect(Array.from(x.grad!.data)).toEqual([0, 2, 0, 0, 5, 0, 0]);
    expect(Array.from(lo.grad!.data)).toEqual([1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(hi.grad!.data)).toEqual([0, 0, 3, 0, 0, 6, 0]);
    // One bound: x at a tie keeps the gradient.
    const [gx, glo] = grad((a: Tensor, b: Tensor) => clamp(a, b).sum(), { argnums: [0, 1] })(f64([-2, 0, 1, 2, 3, 5, NaN]), f64([0, 0, 2, 3, 1, 6, 0]));
    expect(Array.from(gx.data)).toEqual([0, 1, 0, 0, 1, 0, 0]);
    expect(Array.from(glo.data)).toEqual([1, 0, 1, 1, 0, 1, 0]);
    const [hx, hhi] = grad((a: Tensor, b: Tensor) => a.clamp(undefined, b).sum(), { argnums: [0, 1] })(f64([-2, 0, 1, 2, 3, 5, NaN]), f64([1, 1, 1, 3, 3, 4, 1]));
    expect(Array.from(hx.data)).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(hhi.data)).toEqual([0, 0, 0, 0, 0, 1, 0]);
  });

  it('sums a broadcast bound’s gradient back to its shape, and f(a, a) gets both contributions', () => {
    const x = grad64([[-3, 0.5, 3], [0.2, -0.1, 4]]);
    const lo = grad64([-1]);
    const hi = grad64([[1], [0]]);
    clamp(x, lo, hi).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 1, 0, 0, 1, 0]);
    expect(Array.from(lo.grad!.data)).toEqual([1]);
    expect(Array.from(hi.grad!.data)).toEqual([1, 2]);
    const a = grad64([1, 2]);
    clamp(a, a, f64([1.5, 1.5])).sum().backward(); // x = min: the tie goes to x, none to min
    expect(Array.from(a.grad!.data)).toEqual([1, 0]);
  });

  it('passes gradcheck and gradgradcheck in float64 for x and both bounds, any form', () => {
    const forms: [string, (...t: Tensor[]) => Tensor, ValueConstraints[]][] = [
      ['both', (x, lo, hi) => clamp(x!, lo!, hi!), [X, LOW, HIGH]],
      ['min > max', (x, lo, hi) => clamp(x!, lo!, hi!), [X, HIGH, LOW]],
      ['min', (x, lo) => clamp(x!, lo!), [X, LOW]],
      ['max', (x, hi) => x!.clamp(undefined, hi!), [X, HIGH]],
      ['tensor min, number max', (x, lo) => clamp(x!, lo!, 0.75), [X, LOW]],
    ];
    for (const [, f, values] of forms) {
      checkGradProperty(f, operandsArb(values), { numRuns: 20 });
      checkGradGradProperty(f, operandsArb(values), { numRuns: 5 });
    }
  });

  it('keeps int32 for integer operands and promotes as add’s operands', () => {
    const i32 = (v: number[]): Tensor => tensor(v, { dtype: 'int32' });
    const y = clamp(i32([1, 5, -7]), i32([2, 3, 0]), i32([4]));
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([2, 4, 0]);
    expect(clamp(i32([1, 5]), tensor([1.5, 0])).dtype).toBe('float32');
    expect(clamp(tensor([1, 2]), i32([1, 3])).toArray()).toEqual([1, 3]);
    expect(clamp(i32([1, 5]), i32([2, 3]), 4.5).toArray()).toEqual([2, 4.5]);
    expect(clamp(f64([1, 5]), i32([2, 3]), 4).dtype).toBe('float64');
    expect(clamp(tensor([true, false]), tensor([false, true])).dtype).toBe('int32');
  });

  it('names the op, operands, shapes and dtypes in its errors', () => {
    expect(() => clamp(f64([1, 2]), f64([1, 2, 3]))).toThrow(ShapeError);
    expect(() => clamp(f64([1, 2]), f64([1, 2, 3]), f64([1]))).toThrow(/^clamp: input \[2\], min \[3\], max \[1\] cannot be broadcast together/);
    expect(() => clamp(f64([1, 2]), tensor([0, 1]))).toThrow(DTypeError);
    expect(() => clamp(f64([1, 2]), tensor([0, 1]))).toThrow(/^clamp: dtypes differ/);
    expect(() => clamp(f64([1, 2]), f64([0]), NaN)).toThrow(ArgumentError);
    expect(() => clamp(f64([1, 2]), f64([0]), NaN)).toThrow(/^clamp: a number bound must not be NaN \(got max NaN, input float64 \[2\]\)/);
    expect(() => clamp(f64([1, 2]), 'a' as unknown as Tensor)).toThrow(/^clamp: /);
  });

  it('traces under jit: the same bits, the gradient traced too', () => {
    const f = (x: Tensor, lo: Tensor, hi: Tensor): Tensor => clamp(x.mul(2), lo, hi).square().sum();
    const args = (seed: number): Tensor[] => [[2, 3], [3], [2, 1]].map((s, i) => seededTensor(s, seed + i, { requiresGrad: false }));
    const jf = jit(valueAndGrad(f, { argnums: [0, 1, 2] }));
    for (const seed of [1, 2]) {
      const [x, lo, hi] = args(seed) as [Tensor, Tensor, Tensor];
      const got = jf(x, lo, hi);
      const want = valueAndGrad(f, { argnums: [0, 1, 2] })(x, lo, hi);
      expect(Array.from(got.value.data)).toEqual(Array.from(want.value.data));
      got.grads.forEach((g, i) => expect(Array.from(g.data)).toEqual(Array.from(want.grads[i]!.data)));
    }
    expect(jf.cacheSize).toBe(1);
  });

  it('batches under vmap with a bound shared by the batch, and gives per-example bound gradients', () => {
    const xs = seededTensor([4, 3], 5, { requiresGrad: false });
    const los = seededTensor([4, 1], 6, { min: -1, max: 0, requiresGrad: false });
    const hi = seededTensor([3], 7, { min: 0, max: 1, requiresGrad: false });
    const got = vmap((x: Tensor, lo: Tensor) => clamp(x, lo, hi), { inAxes: [0, 0] })(xs, los);
    assertClose(got, refBroadcast([xs, los, hi], clampRef), 0, 0);
    const perExample = vmap(grad((lo: Tensor, x: Tensor) => clamp(x, lo, hi).sum()))(los, xs);
    const want = refBroadcast([xs, los, hi], (x, lo, h) => (x < lo && lo < h ? 1 : 0));
    const summed = Array.from({ length: 4 }, (_, r) => want.data.slice(3 * r, 3 * r + 3).reduce((a, b) => a + b, 0));
    expect(Array.from(perExample.data)).toEqual(summed);
  });
});
