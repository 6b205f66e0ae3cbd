import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, crossEntropy, DTypeError, jit, ShapeError, tensor, valueAndGrad, type Tensor } from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import { f64, grad64 } from './helpers/tensors.js';

// crossEntropy's weight, ignoreIndex and labelSmoothing (F.cross_entropy's). PyTorch's own values
// are in the fixture (scripts/torch-reference.py, the crossEntropy calls); here: a plain-loop
// reference of PyTorch's formulas over random cases, float64 gradient checks, errors and jit.

type Reduction = 'mean' | 'sum' | 'none';

/** PyTorch's formulas, loop by loop: (1 - ε)·nll + ε/C·smooth, a mean over the weights of the targets not ignored. */
function reference(x: number[][], target: number[] | number[][], o: { weight?: number[]; ignoreIndex?: number; eps?: number; reduction?: Reduction }): number | number[] {
  const { weight, ignoreIndex = -100, eps = 0, reduction = 'mean' } = o;
  const C = x[0]!.length;
  const w = (c: number): number => (weight === undefined ? 1 : weight[c]!);
  const losses: number[] = [];
  let divisor = 0;
  x.forEach((row, r) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    const t = target[r]!;
    if (Array.isArray(t)) {
      // Probabilities: smoothed, weighted; the mean divides by the number of samples.
      losses.push(-logp.reduce((a, lp, c) => a + ((1 - eps) * t[c]! + eps / C) * w(c) * lp, 0));
      divisor += 1;
    } else if (t === ignoreIndex) {
      losses.push(0);
    } else {
      const smooth = -logp.reduce((a, lp, c) => a + w(c) * lp, 0);
      losses.push((1 - eps) * -w(t) * logp[t]! + (eps / C) * smooth);
      divisor += w(t);
    }
  });
  const total = losses.reduce((a, b) => a + b, 0);
  return reduction === 'none' ? losses : reduction === 'sum' ? total : total / divisor;
}

/** Random logits, labels (some ignored), class weights, smoothing and reduction. */
const casesArb = fc.record({
  n: fc.integer({ min: 1, max: 5 }),
  c: fc.integer({ min: 1, max: 5 }),
  seed: fc.noShrink(fc.integer()),
  labels: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 5, maxLength: 5 }),
  weighted: fc.boolean(),
  eps: fc.constantFrom(0, 0.1, 0.5, 1),
  reduction: fc.constantFrom<Reduction>('mean', 'sum', 'none'),
}).map(({ n, c, seed, labels, weighted, eps, reduction }) => {
  const x = seededTensor([n, c], seed, { min: -3, max: 3 });
  // About one label in four ignored, always at least one kept (so a mean is defined).
  const target = labels.slice(0, n).map((u, i) => (u < 0.25 && i > 0 ? -100 : Math.floor((u < 0.25 ? u * 4 : (u - 0.25) / 0.75) * c)));
  const weight = weighted ? seededTensor([c], seed + 1, { min: 0.2, max: 2, requiresGrad: false }) : undefined;
  const probs = seededTensor([n, c], seed + 2, { min: 0, max: 1 });
  return { x, target, weight, eps, reduction, probs };
});

const rowsOf = (t: Tensor): number[][] => t.toArray() as number[][];

describe('crossEntropy with weight, ignoreIndex and labelSmoothing', () => {
  it('matches PyTorch’s formulas over random cases, class indices and probabilities', () => {
    fc.assert(
      fc.property(casesArb, ({ x, target, weight, eps, reduction, probs }) => {
        const options = { weight, labelSmoothing: eps, reduction };
        const w = weight === undefined ? undefined : Array.from(weight.data);
        const want = reference(rowsOf(x), target, { weight: w, eps, reduction });
        assertClose(crossEntropy(x, target, options), typeof want === 'number' ? [want] : want, 1e-12, 1e-13);
        const wantP = reference(rowsOf(x), rowsOf(probs), { weight: w, eps, reduction });
        assertClose(crossEntropy(x, probs, options), typeof wantP === 'number' ? [wantP] : wantP, 1e-12, 1e-13);
      }),
      { numRuns: 100 },
    );
  });

  it('passes gradcheck and gradgradcheck in float64 (logits, and probabilities through smoothing and weights)', () => {
    const labelled = casesArb.map(({ x }) => [x]);
    checkGradProperty((x) => crossEntropy(x!, [0, -100, 0, 0, 0].slice(0, x!.shape[0]), { weight: tensor(Array.from({ length: x!.shape[1]! }, (_, k) => 1 + k / 2), { dtype: 'float64' }), labelSmoothing: 0.3 }), labelled, { numRuns: 20 });
    fc.assert(
      fc.property(casesArb, ({ x, target, weight, eps, reduction, probs }) => {
        const options = { weight, labelSmoothing: eps, reduction };
        checkGradProperty((a) => crossEntropy(a!, target, options), fc.constant([x]), { numRuns: 1 });
        checkGradGradProperty((a) => crossEntropy(a!, target, options), fc.constant([x]), { numRuns: 1 });
        checkGradProperty((a, p) => crossEntropy(a!, p!, options), fc.constant([x, probs]), { numRuns: 1 });
        checkGradGradProperty((a, p) => crossEntropy(a!, p!, options), fc.constant([x, probs]), { numRuns: 1 });
      }),
      { numRuns: 15 },
    );
  });

  it('an ignored target contributes nothing and gets no gradient; every target ignored gives NaN and gradient 0, as PyTorch', () => {
    const x = grad64([[1, 2, 3], [3, -1, 0.5], [0, 0, 1]]);
    const loss = crossEntropy(x, [2, -100, 0], { weight: f64([1, 2, 4]) });
    assertClose(loss, [reference(rowsOf(x), [2, -100, 0], { weight: [1, 2, 4] }) as number], 1e-15, 0);
    loss.backward();
    expect(Array.from(x.grad!.data.slice(3, 6))).toEqual([0, 0, 0]);
    const y = grad64([[1, 2], [0, 5]]);
    const nan = crossEntropy(y, [-100, -100], { labelSmoothing: 0.2 });
    expect(Number.isNaN(nan.item())).toBe(true);
    nan.backward();
    expect(Array.from(y.grad!.data)).toEqual([0, 0, 0, 0]);
    expect(crossEntropy(f64([[1, 2], [0, 5]]), [3, 1], { ignoreIndex: 3, reduction: 'none' }).toArray()).toEqual([0, crossEntropy(f64([[0, 5]]), [1]).item()]);
  });

  it('errors name crossEntropy, the option and the shapes or dtypes', () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    expect(() => crossEntropy(x, [0, 1], { weight: f64([1, 2]) })).toThrow(ShapeError);
    expect(() => crossEntropy(x, [0, 1], { weight: f64([1, 2]) })).toThrow(/^crossEntropy: weight must be a Tensor of shape \[3\] \(one per class of logits \[2,3\]\), got \[2\]/);
    expect(() => crossEntropy(x, [0, 1], { weight: tensor([1, 2, 3]) })).toThrow(DTypeError);
    expect(() => crossEntropy(x, [0, 1], { weight: tensor([1, 2, 3]) })).toThrow(/^crossEntropy: weight is float32 but the logits \[2,3\] are float64/);
    expect(() => crossEntropy(x, [0, 1], { weight: grad64([1, 2, 3]) })).toThrow(/^crossEntropy: weight \[3\] requires grad, but the loss is not differentiable in it/);
    expect(() => crossEntropy(x, [0, 1], { labelSmoothing: -0.1 })).toThrow(ArgumentError);
    expect(() => crossEntropy(x, [0, 1], { labelSmoothing: NaN })).toThrow(/^crossEntropy: labelSmoothing must be in \[0, 1\], got NaN/);
    expect(() => crossEntropy(x, [0, 1], { ignoreIndex: 0.5 })).toThrow(/^crossEntropy: ignoreIndex must be an integer, got 0.5/);
    expect(() => crossEntropy(x, f64([[0, 1, 0], [1, 0, 0]]), { ignoreIndex: 0 })).toThrow(/^crossEntropy: ignoreIndex \(0\) applies to class indices only, not to probability targets \[2,3\]/);
    // A label that is neither a class nor ignoreIndex: -1 is out of range unless it is the ignored one.
    expect(() => crossEntropy(x, [0, -1])).toThrow(/^crossEntropy: target class -1 at position 1 is out of range \[0, 3\)/);
    expect(crossEntropy(x, [0, -1], { ignoreIndex: -1, reduction: 'sum' }).item()).toBeCloseTo(crossEntropy(f64([[1, 2, 3]]), [0]).item(), 14);
  });

  it('traces under jit with the options, forward and gradient the eager bits', () => {
    const weight = f64([0.5, 2, 1, 3]);
    const f = (x: Tensor): Tensor => crossEntropy(x.mul(1.5), [1, -100, 3, 0], { weight, labelSmoothing: 0.1 });
    const jf = jit(valueAndGrad(f));
    for (const seed of [3, 4]) {
      const x = seededTensor([4, 4], seed, { requiresGrad: false });
      const got = jf(x);
      const want = valueAndGrad(f)(x);
      expect(Array.from(got.value.data)).toEqual(Array.from(want.value.data));
      expect(Array.from(got.grads.data)).toEqual(Array.from(want.grads.data));
    }
    expect(jf.cacheSize).toBe(1);
  });
});
