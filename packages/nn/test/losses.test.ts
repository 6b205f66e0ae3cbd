import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { gradcheck, tensor, type Tensor } from '@chainrule/autograd';
import { assertClose, checkGradProperty, tensorArb } from '@chainrule/autograd/testing';
import {
  bceLoss, bceWithLogitsLoss, cosineEmbeddingLoss, crossEntropyLoss, huberLoss, klDivLoss, l1Loss, marginRankingLoss, mseLoss, nllLoss,
  ctcLoss, gaussianNllLoss, multiMarginLoss, multilabelSoftMarginLoss, poissonNllLoss, smoothL1Loss, sseLoss, tripletMarginLoss, type Reduction,
} from '@chainrule/nn';
import { f64, grad64 } from './helpers.js';

const dim = (max = 4) => fc.integer({ min: 1, max });
const RUNS = { numRuns: 10 };
const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

describe('regression losses: hand-computed values', () => {
  const x = f64([1, 2, 3]);
  const y = f64([1.5, 1, 3]);
  test('mse, sse, l1 with each reduction', () => {
    assertClose(mseLoss(x, y).data, [1.25 / 3]);
    assertClose(mseLoss(x, y, { reduction: 'sum' }).data, [1.25]);
    assertClose(mseLoss(x, y, { reduction: 'none' }).data, [0.25, 1, 0]);
    assertClose(sseLoss(x, y).data, [1.25]);
    assertClose(sseLoss(x, y, { reduction: 'mean' }).data, [1.25 / 3]);
    assertClose(l1Loss(x, y).data, [0.5]);
    assertClose(l1Loss(x, y, { reduction: 'sum' }).data, [1.5]);
  });

  test('huber: quadratic inside delta, linear outside', () => {
    const a = f64([0, 0, 0, 0]);
    const b = f64([0.5, -2, 0, 1]);
    assertClose(huberLoss(a, b, { reduction: 'none' }).data, [0.125, 1.5, 0, 0.5]);
    assertClose(huberLoss(a, b, { delta: 0.5, reduction: 'none' }).data, [0.125, 0.5 * (2 - 0.25), 0, 0.5 * (1 - 0.25)]);
    assertClose(huberLoss(a, b).data, [(0.125 + 1.5 + 0.5) / 4]);
  });

  test('shape and dtype mismatches are errors naming the loss', () => {
    expect(() => mseLoss(tensor([[1], [2]]), tensor([1, 2]))).toThrow('mseLoss: input [2,1] and target [2] must have the same shape');
    expect(() => l1Loss(tensor([1]), f64([1]))).toThrow('l1Loss: input is float32 but target is float64');
    expect(() => mseLoss(tensor([1]), tensor([1]), { reduction: 'avg' as Reduction })).toThrow(/mseLoss: reduction must be/);
    expect(() => huberLoss(tensor([1]), tensor([1]), { delta: 0 })).toThrow('huberLoss: delta must be a positive number, got 0');
  });
});

describe('regression losses: gradcheck', () => {
  const pair = (c1 = {}, c2 = {}) => fc.tuple(dim(), dim()).chain(([a, b]) => fc.tuple(tensorArb([a, b], c1), tensorArb([a, b], c2)));
  for (const reduction of REDUCTIONS) {
    test(`mse, sse, l1, huber (${reduction})`, () => {
      checkGradProperty((a, b) => mseLoss(a!, b!, { reduction }), pair(), RUNS);
      checkGradProperty((a, b) => sseLoss(a!, b!, { reduction }), pair(), RUNS);
      // Keep x - y away from l1's kink at 0.
      checkGradProperty((a, b) => l1Loss(a!, b!, { reduction }), pair({ min: 0.1, max: 2 }, { min: -2, max: -0.1 }), RUNS);
      checkGradProperty((a, b) => huberLoss(a!, b!, { reduction, delta: 0.7 }), pair({ min: -3, max: 3 }), RUNS);
    });
  }
});

describe('binary cross-entropy', () => {
  test('bceLoss: hand-computed, with log clamped at -100', () => {
    const p = f64([0.9, 0.2, 0, 1, 0, 1]);
    const y = f64([1, 0, 1, 0, 0, 1]);
    assertClose(bceLoss(p, y, { reduction: 'none' }).data, [-Math.log(0.9), -Math.log(0.8), 100, 100, 0, 0]);
    assertClose(bceLoss(p, y).data, [(-Math.log(0.9) - Math.log(0.8) + 200) / 6]);
    const w = f64([2, 1, 1, 1, 1, 1]);
    assertClose(bceLoss(p, y, { weight: w, reduction: 'sum' }).data, [-2 * Math.log(0.9) - Math.log(0.8) + 200]);
  });

  test('bceLoss gradient stays finite at p = 0 and p = 1', () => {
    const p = grad64([0, 1, 0.5]);
    bceLoss(p, f64([0, 1, 1]), { reduction: 'sum' }).backward();
    expect(Array.from(p.grad!.data).every(Number.isFinite)).toBe(true);
    assertClose(p.grad!.data.slice(2), [-2]);
  });

  test('bceLoss rejects values outside [0, 1]', () => {
    expect(() => bceLoss(tensor([0.5, 1.5]), tensor([0, 1]))).toThrow(
      'bceLoss: input [2] must hold probabilities in [0, 1], got 1.5 at flat index 1 (use bceWithLogitsLoss for logits)',
    );
  });

  test('bceWithLogitsLoss is exact at logits ±100 and matches log-sigmoid elsewhere', () => {
    const x = grad64([100, 100, -100, -100, 0, 2.5]);
    const y = f64([1, 0, 1, 0, 0.5, 0.25]);
    const sp = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    assertClose(bceWithLogitsLoss(x, y, { reduction: 'none' }).data, [Math.exp(-100), 100, 100, Math.exp(-100), Math.LN2, sp(2.5) - 2.5 * 0.25], 1e-12, 1e-12);
    bceWithLogitsLoss(x, y, { reduction: 'sum' }).backward();
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    assertClose(x.grad!.data, [0, 1, -1, 0, 0, sig(2.5) - 0.25], 1e-12, 1e-12);
  });

  test('bceWithLogitsLoss with posWeight and weight', () => {
    const x = f64([[0.5, -1]]);
    const y = f64([[1, 0.3]]);
    const pw = f64([3, 2]);
    const sp = (v: number): number => Math.log1p(Math.exp(v));
    // -[pw·y·log σ(x) + (1-y)·log(1-σ(x))]
    const ref = [3 * sp(-0.5), 2 * 0.3 * sp(1) + 0.7 * sp(-1)];
    assertClose(bceWithLogitsLoss(x, y, { posWeight: pw, reduction: 'none' }).data, ref);
    assertClose(bceWithLogitsLoss(x, y, { posWeight: pw, weight: f64([2, 1]), reduction: 'sum' }).data, [2 * ref[0]! + ref[1]!]);
  });

  for (const reduction of REDUCTIONS) {
    test(`gradcheck (${reduction})`, () => {
      const probs = fc.tuple(dim(), dim()).chain(([a, b]) => fc.tuple(tensorArb([a, b], { min: 0.05, max: 0.95 }), tensorArb([a, b], { min: 0, max: 1 })));
      checkGradProperty((p, y) => bceLoss(p!, y!, { reduction }), probs, RUNS);
      const logits = fc.tuple(dim(), dim()).chain(([a, b]) =>
        fc.tuple(tensorArb([a, b], { min: -6, max: 6 }), tensorArb([a, b], { min: 0, max: 1 }), tensorArb([b], { min: 0.5, max: 3 })),
      );
      checkGradProperty((x, y) => bceWithLogitsLoss(x!, y!, { reduction }), logits.map(([x, y]) => [x, y]), RUNS);
      checkGradProperty((x, y, pw) => bceWithLogitsLoss(x!, y!, { reduction, posWeight: pw! }), logits, RUNS);
    });
  }
});

/** Cross-entropy computed independently with plain loops, as PyTorch documents it. */
function referenceCE(
  logits: number[][], target: number[] | number[][],
  o: { eps?: number; weight?: number[]; ignore?: number; reduction?: Reduction } = {},
): number | number[] {
  const { eps = 0, ignore = -100, reduction = 'mean' } = o;
  const c = logits[0]!.length;
  const w = o.weight ?? new Array<number>(c).fill(1);
  const losses: number[] = [];
  let denom = 0;
  logits.forEach((row, n) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    const t = target[n]!;
    if (Array.isArray(t)) {
      let l = 0;
      for (let k = 0; k < c; k++) l -= w[k]! * ((1 - eps) * t[k]! + eps / c) * logp[k]!;
      losses.push(l);
      denom += 1;
    } else if (t === ignore) {
      losses.push(0);
    } else {
      let smooth = 0;
      for (let k = 0; k < c; k++) smooth -= w[k]! * logp[k]!;
      losses.push((1 - eps) * -w[t]! * logp[t]! + (eps / c) * smooth);
      denom += w[t]!;
    }
  });
  if (reduction === 'none') return losses;
  const sum = losses.reduce((a, b) => a + b, 0);
  return reduction === 'sum' ? sum : sum / denom;
}

describe('cross-entropy and nll', () => {
  test('stable for logits 1000 and 1001', () => {
    assertClose(crossEntropyLoss(f64([[1000, 1001]]), [1]).data, [Math.log1p(Math.exp(-1))]);
    assertClose(crossEntropyLoss(f64([[1000, 1001]]), [0]).data, [1 + Math.log1p(Math.exp(-1))]);
    const logits = grad64([[1000, 1001], [-1000, 1000]]);
    crossEntropyLoss(logits, tensor([1, 0], { dtype: 'int32' })).backward();
    const s = 1 / (1 + Math.E);
    assertClose(logits.grad!.data, [s / 2, -s / 2, -0.5, 0.5]);
  });

  const logits = [[1, 2, 3], [0.5, -1, 2], [3, 0, -2], [0, 0, 0]];
  const target = [0, 2, 1, 2];
  test('class indices: each reduction, label smoothing, ignoreIndex, class weights', () => {
    const x = f64(logits);
    for (const reduction of REDUCTIONS) {
      const ref = referenceCE(logits, target, { reduction });
      assertClose(crossEntropyLoss(x, target, { reduction }).data, typeof ref === 'number' ? [ref] : ref);
      const refS = referenceCE(logits, target, { reduction, eps: 0.1 });
      assertClose(crossEntropyLoss(x, target, { reduction, labelSmoothing: 0.1 }).data, typeof refS === 'number' ? [refS] : refS);
    }
    const ignored = [0, -100, 1, -100];
    assertClose(crossEntropyLoss(x, ignored).data, [referenceCE(logits, ignored) as number]);
    // ignored samples count in neither term of the smoothed loss, nor in the mean's divisor
    assertClose(crossEntropyLoss(x, ignored, { labelSmoothing: 0.2 }).data, [referenceCE(logits, ignored, { eps: 0.2 }) as number]);
    assertClose(crossEntropyLoss(x, [0, 5, 1, 5], { ignoreIndex: 5 }).data, [referenceCE(logits, [0, 5, 1, 5], { ignore: 5 }) as number]);
    const weight = [0.5, 2, 1];
    const refW = referenceCE(logits, ignored, { eps: 0.3, weight }) as number;
    assertClose(crossEntropyLoss(x, ignored, { labelSmoothing: 0.3, weight: f64(weight) }).data, [refW]);
    // a hand-checked number for one case: -log softmax([1,2,3])[0]
    assertClose(crossEntropyLoss(f64([[1, 2, 3]]), [0]).data, [-1 + Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))]);
  });

  test('probability targets, with smoothing and weights', () => {
    const probs = [[0.2, 0.3, 0.5], [1, 0, 0], [0, 0.5, 0.5], [0.1, 0.1, 0.8]];
    const x = f64(logits);
    for (const reduction of REDUCTIONS) {
      const ref = referenceCE(logits, probs, { reduction, eps: 0.1, weight: [1, 2, 3] });
      assertClose(crossEntropyLoss(x, f64(probs), { reduction, labelSmoothing: 0.1, weight: f64([1, 2, 3]) }).data, typeof ref === 'number' ? [ref] : ref);
    }
    // one-hot probabilities equal class indices
    const onehot = target.map((t) => [0, 1, 2].map((k) => (k === t ? 1 : 0)));
    assertClose(crossEntropyLoss(x, f64(onehot)).data, crossEntropyLoss(x, target).data);
  });

  test('nllLoss on log-probabilities, with weights; K-dimensional inputs', () => {
    const logp = f64(logits).logSoftmax(1);
    assertClose(nllLoss(logp, target).data, crossEntropyLoss(f64(logits), target).data);
    const weight = [3, 1, 0.5];
    let num = 0, den = 0;
    target.forEach((t, n) => {
      num -= weight[t]! * logp.data[n * 3 + t]!;
      den += weight[t]!;
    });
    assertClose(nllLoss(logp, tensor(target, { dtype: 'int32' }), { weight: f64(weight) }).data, [num / den]);
    // [N, C, L] logits against [N, L] targets equal the flattened [N·L, C] case
    const x3 = f64([[[1, 0.5], [2, -1], [3, 2]], [[3, 0], [0, 0], [-2, 0]]]); // N=2, C=3, L=2
    const rows = [[1, 2, 3], [0.5, -1, 2], [3, 0, -2], [0, 0, 0]];
    const t3 = tensor([[0, 2], [1, 2]], { dtype: 'int32' });
    assertClose(crossEntropyLoss(x3, t3).data, [referenceCE(rows, [0, 2, 1, 2]) as number]);
    const none = crossEntropyLoss(x3, t3, { reduction: 'none' });
    expect(none.shape).toEqual([2, 2]);
    assertClose(none.data, referenceCE(rows, [0, 2, 1, 2], { reduction: 'none' }) as number[]);
  });

  test('errors name the op (crossEntropyLoss is autograd’s crossEntropy) and the shapes', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(() => crossEntropyLoss(x, [0, 3])).toThrow('crossEntropy: target class 3 at position 1 is out of range [0, 3) for logits [2,3]');
    expect(() => crossEntropyLoss(x, [0, 1.5])).toThrow(/target class 1.5 at position 1 is out of range/);
    expect(() => crossEntropyLoss(x, tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(
      'crossEntropy: target must be 2 class indices (shape [2]) or probabilities of shape [2,3], got [3]',
    );
    const floatLabels = tensor([0, 1]);
    expect(() => crossEntropyLoss(x, floatLabels)).toThrow(
      'crossEntropy: class indices must be an int32 tensor (or an array of integers), got float32 of shape [2]; a float target is read as probabilities, of the logits\' shape [2,3]',
    );
    expect(() => nllLoss(x, tensor([true, false]))).toThrow(/nllLoss: class indices must be an int32 tensor.*got bool/);
    expect(Array.from(floatLabels.data)).toEqual([0, 1]);
    expect(() => nllLoss(tensor(1), [0])).toThrow('nllLoss: input must be [C], [N, C] or [N, C, d1, ...], got []');
    expect(() => nllLoss(tensor([1, 2]), [0])).toThrow('nllLoss: target [1] does not fit input [2]: expected class indices of shape [] or probabilities of shape [2]');
    expect(() => crossEntropyLoss(x, [0, 1], { weight: tensor([1, 2]) })).toThrow(/weight must be a Tensor of shape \[3\]/);
    expect(() => crossEntropyLoss(x, [0, 1], { labelSmoothing: 2 })).toThrow('crossEntropy: labelSmoothing must be in [0, 1], got 2');
  });

  for (const reduction of REDUCTIONS) {
    test(`gradcheck over random batch and class counts (${reduction})`, () => {
      const cases = fc.tuple(dim(5), fc.integer({ min: 2, max: 5 })).chain(([n, c]) =>
        fc.tuple(tensorArb([n, c], { min: -4, max: 4 }), fc.array(fc.integer({ min: -1, max: c - 1 }), { minLength: n, maxLength: n }), tensorArb([n, c], { min: 0, max: 1 })),
      );
      fc.assert(
        fc.property(cases, ([x, rawTarget, probs]) => {
          // -1 marks an ignored sample; keep at least one real target so the mean is defined.
          const t = rawTarget.map((v, i) => (v < 0 && i > 0 ? -100 : Math.max(v, 0)));
          const opts = { reduction, labelSmoothing: 0.15, weight: tensor(Array.from({ length: x.shape[1]! }, (_, k) => 1 + k / 2), { dtype: 'float64' }) };
          const checks: [(...a: Tensor[]) => Tensor, Tensor[]][] = [
            [(a) => crossEntropyLoss(a!, t, { reduction }), [x]],
            [(a) => crossEntropyLoss(a!, t, opts), [x]],
            [(a) => nllLoss(a!.logSoftmax(1), t, { reduction }), [x]],
            [(a, p) => crossEntropyLoss(a!, p!, opts), [x, probs]],
          ];
          for (const [f, inputs] of checks) expect(gradcheck(f, inputs).ok).toBe(true);
        }),
        { numRuns: 8 },
      );
    });
  }
});

describe('margin, smooth L1 and KL losses: bad input', () => {
  test('errors name the loss and the shapes or option', () => {
    const a = f64([[1, 2], [3, 4]]);
    expect(() => smoothL1Loss(a, a, { beta: -1 })).toThrow('smoothL1Loss: beta must be a number >= 0, got -1');
    expect(() => klDivLoss(a, f64([1, 2]))).toThrow('klDivLoss: input [2,2] and target [2] must have the same shape');
    expect(() => klDivLoss(a, a, { reduction: 'avg' as Reduction })).toThrow(/klDivLoss: reduction must be/);
    expect(() => marginRankingLoss(a, a, f64([1, -1]))).toThrow('marginRankingLoss: input [2,2] and target [2] must have the same shape');
    expect(() => marginRankingLoss(a, a, a, { margin: NaN })).toThrow('marginRankingLoss: margin must be a finite number, got NaN');
    expect(() => cosineEmbeddingLoss(a, a, f64([1, -1, 1]))).toThrow('cosineEmbeddingLoss: input [2] and target [3] must have the same shape');
    expect(() => cosineEmbeddingLoss(f64([[[1]]]), f64([[[1]]]), f64([1]))).toThrow('cosineEmbeddingLoss: inputs must be [N, D] or [D], got [1,1,1]');
    expect(() => tripletMarginLoss(a, a, a, { p: 0 })).toThrow('tripletMarginLoss: p must be > 0, got 0');
    expect(() => gaussianNllLoss(a, a, f64([1, 2, 3]))).toThrow('gaussianNllLoss: variance [3] does not fit input [2,2]');
    expect(() => gaussianNllLoss(a, a, f64([[1, -1], [1, 1]]))).toThrow('gaussianNllLoss: variance must be >= 0 everywhere, got -1 at flat index 1');
    expect(() => gaussianNllLoss(a, a, tensor([[1, 1], [1, 1]]))).toThrow('gaussianNllLoss: input is float64 but variance is float32');
    expect(() => poissonNllLoss(a, a, { eps: -1 })).toThrow('poissonNllLoss: eps must be a number >= 0, got -1');
    expect(() => multiMarginLoss(a, [0, 1], { p: 3 as 1 })).toThrow('multiMarginLoss: p must be 1 or 2, got 3');
    const lp = f64([[[0, 0, 0]], [[0, 0, 0]]]); // [T 2, N 1, C 3]
    const labels = tensor([1, 2], { dtype: 'int32' });
    expect(() => ctcLoss(lp, labels, [3], [2])).toThrow('ctcLoss: inputLengths [3] exceed the input\'s 2 steps');
    expect(() => ctcLoss(lp, tensor([1, 0], { dtype: 'int32' }), [2], [2])).toThrow('ctcLoss: target label 0 is out of [0, 3) or is the blank 0');
    expect(() => ctcLoss(lp, tensor([1, 2]), [2], [2])).toThrow('ctcLoss: targets must be an int32 tensor, got float32');
    expect(() => ctcLoss(lp, labels, [2], [3])).toThrow('ctcLoss: concatenated targets [2] must hold Σ targetLengths = 3 labels');
    expect(ctcLoss(lp, tensor([1, 1], { dtype: 'int32' }), [2], [2], { reduction: 'sum' }).item()).toBe(Infinity);
    expect(() => multiMarginLoss(a, [0, -100])).toThrow(/multiMarginLoss: target class -100 at position 1 is out of range \[0, 2\)/);
    expect(() => multiMarginLoss(f64([[[1]]]), [0])).toThrow('multiMarginLoss: input must be [N, C] or [C], got [1,1,1]');
    expect(() => multilabelSoftMarginLoss(a, a, { weight: f64([1, 2, 3]) })).toThrow(/multilabelSoftMarginLoss: weight must be a Tensor of shape \[2\]/);
  });

  test('smoothL1Loss is huberLoss / beta; klDivLoss batchmean divides the sum by the batch', () => {
    const x = f64([0.1, -2, 0.5, 3]);
    const y = f64([0, 0, 1, 1]);
    assertClose(smoothL1Loss(x, y, { beta: 0.5, reduction: 'none' }).data, huberLoss(x, y, { delta: 0.5, reduction: 'none' }).div(0.5).data, 1e-15);
    const logp = f64([[Math.log(0.25), Math.log(0.75)], [Math.log(0.5), Math.log(0.5)]]);
    const q = f64([[0.5, 0.5], [0, 1]]);
    const kl = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75) + Math.log(1 / 0.5);
    assertClose(klDivLoss(logp, q, { reduction: 'batchmean' }).data, [kl / 2], 1e-14);
  });
});
