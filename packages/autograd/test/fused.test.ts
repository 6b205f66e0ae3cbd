import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError, crossEntropy, DTypeError, gradcheck, gradgradcheck, gradients, linear, ShapeError, tensor, Tensor,
  type LinearActivation,
} from '@chainrule/autograd';
import { assertClose, seededTensor } from '@chainrule/autograd/testing';
import { messageOf } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';
import { withBackend } from './helpers/backend.js';
import type { KernelBackend } from '../src/kernels/backend.js';

// The fused ops compute in one op what a chain of primitives computes; each is checked against
// that chain (forward and gradients, to rounding in float64), by gradcheck and gradgradcheck
// over random shapes, and on hand-computed cases.

/** The composed form of linear: x·Wᵀ + b, then relu. */
function composedLinear(x: Tensor, w: Tensor, b: Tensor | null, activation: LinearActivation): Tensor {
  const y = x.matmul(w.transpose());
  const z = b === null ? y : y.add(b);
  return activation === 'relu' ? z.relu() : z;
}

/** The composed form of crossEntropy: -Σ target·logSoftmax per row, then the reduction. */
function composedCrossEntropy(x: Tensor, target: Tensor, reduction: 'mean' | 'sum' | 'none'): Tensor {
  const losses = x.logSoftmax(1).mul(target).sum(1).neg();
  return reduction === 'none' ? losses : reduction === 'sum' ? losses.sum() : losses.mean();
}

function oneHot(labels: readonly number[], classes: number): Tensor {
  const data = new Float64Array(labels.length * classes);
  labels.forEach((c, r) => (data[r * classes + c] = 1));
  return new Tensor(data, [labels.length, classes]);
}

/**
 * Gradients of `out` (against a seeded cotangent) with respect to `wrt`, computed both ways: by
 * the fused VJP, and by its differentiable Tensor-op form (createGraph), which must agree.
 */
function gradsOf(out: Tensor, wrt: Tensor[], seed: number): Tensor[] {
  const cot = seededTensor(out.shape, seed, { requiresGrad: false });
  const plain = gradients([out], wrt, { gradOutputs: [cot], allowUnused: true, retainGraph: true });
  const recorded = gradients([out], wrt, { gradOutputs: [cot], allowUnused: true, createGraph: true });
  plain.forEach((g, i) => assertClose(g.data, recorded[i]!.data, 1e-13, 1e-15));
  return plain;
}

interface LinearCase {
  x: Tensor;
  w: Tensor;
  b: Tensor | null;
  activation: LinearActivation;
}

/**
 * Random linear inputs: x of rank 1 to 3 ending in `in` features, W [out, in], an optional bias.
 * With relu, pre-activations are kept away from the kink, where differences are not derivatives.
 */
const linearCaseArb: fc.Arbitrary<LinearCase> = fc
  .record({
    lead: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    inF: fc.integer({ min: 1, max: 4 }),
    outF: fc.integer({ min: 1, max: 4 }),
    bias: fc.boolean(),
    relu: fc.boolean(),
    seed: fc.noShrink(fc.integer()),
  })
  .map(({ lead, inF, outF, bias, relu, seed }): LinearCase => ({
    x: seededTensor([...lead, inF], seed),
    w: seededTensor([outF, inF], seed + 1),
    b: bias ? seededTensor([outF], seed + 2) : null,
    activation: relu ? 'relu' : 'none',
  }))
  .filter(({ x, w, b, activation }) => {
    if (activation === 'none') return true;
    const pre = composedLinear(x.detach(), w.detach(), b?.detach() ?? null, 'none');
    return pre.data.every((v) => Math.abs(v) > 1e-3);
  });

const linearArgs = (c: LinearCase): Tensor[] => (c.b === null ? [c.x, c.w] : [c.x, c.w, c.b]);
const linearFn = (c: LinearCase) => (x: Tensor, w: Tensor, b?: Tensor): Tensor => linear(x, w, b ?? null, c.activation);

describe('linear', () => {
  test('hand-computed: relu(x·Wᵀ + b) and its gradients', () => {
    const x = grad64([[1, 2], [-1, 0]]);
    const w = grad64([[1, 0], [0, 1], [1, 1]]);
    const b = grad64([0, -1, 0.5]);
    const y = linear(x, w, b, 'relu');
    // pre-activations [[1, 1, 3.5], [-1, -1, -0.5]]
    expect(y.toArray()).toEqual([[1, 1, 3.5], [0, 0, 0]]);
    y.sum().backward();
    expect(b.grad!.toArray()).toEqual([1, 1, 1]);
    expect(w.grad!.toArray()).toEqual([[1, 2], [1, 2], [1, 2]]);
    expect(x.grad!.toArray()).toEqual([[2, 2], [0, 0]]);
  });

  test('matches x·Wᵀ + b (and relu) in value and gradients, to rounding, over random shapes', () => {
    fc.assert(
      fc.property(linearCaseArb, fc.integer(), (c, seed) => {
        const args = linearArgs(c);
        const fused = linearFn(c)(...(args as [Tensor, Tensor, Tensor?]));
        const composed = composedLinear(c.x, c.w, c.b, c.activation);
        expect(fused.shape).toEqual(composed.shape);
        assertClose(fused.data, composed.data, 1e-14, 1e-15);
        const gf = gradsOf(fused, args, seed);
        const gc = gradsOf(composed, args, seed);
        gf.forEach((g, i) => assertClose(g.data, gc[i]!.data, 1e-14, 1e-15));
      }),
      { numRuns: 40 },
    );
  });

  test('passes gradcheck over random shapes, with and without bias and relu', () => {
    fc.assert(
      fc.property(linearCaseArb, (c) => {
        const report = gradcheck(linearFn(c), linearArgs(c));
        if (!report.ok) throw new Error(`${JSON.stringify(c.x.shape)} ${c.activation}: ${JSON.stringify(report.worst)}`);
      }),
      { numRuns: 30 },
    );
  });

  test('passes gradgradcheck: under createGraph its VJP is differentiable Tensor ops', () => {
    fc.assert(
      fc.property(linearCaseArb, (c) => {
        const report = gradgradcheck(linearFn(c), linearArgs(c));
        if (!report.ok) throw new Error(`${JSON.stringify(c.x.shape)} ${c.activation}: ${JSON.stringify(report.worst)}`);
      }),
      { numRuns: 12 },
    );
  });

  test('edge shapes: a 1-D input, no rows, no input features, no outputs', () => {
    const w = grad64([[1, 2], [3, 4]]);
    expect(linear(f64([1, 1]), w).toArray()).toEqual([3, 7]);
    const empty = linear(new Tensor(new Float64Array(0), [0, 2], { requiresGrad: true }), w, grad64([1, 1]));
    expect(empty.shape).toEqual([0, 2]);
    const noIn = new Tensor(new Float64Array(0), [3, 0]);
    const wNoIn = new Tensor(new Float64Array(0), [2, 0], { requiresGrad: true });
    expect(linear(noIn, wNoIn, f64([1, -1]), 'relu').toArray()).toEqual([[1, 0], [1, 0], [1, 0]]);
    const noOut = linear(grad64([[1, 2]]), new Tensor(new Float64Array(0), [0, 2], { requiresGrad: true }));
    expect(noOut.shape).toEqual([1, 0]);
    noOut.sum().backward();
  });

  test('gradients accumulate, and only inputs that require them get one', () => {
    const x = f64([[1, -2]]);
    const w = grad64([[0.5, 1]]);
    const b = f64([2]);
    linear(x, w, b).sum().backward();
    linear(x, w, b).sum().backward();
    expect(w.grad!.toArray()).toEqual([[2, -4]]);
    expect(b.grad).toBeNull();
    expect(x.grad).toBeNull();
  });

  test('float32: the same as the composed ops to float32 rounding', () => {
    const x = seededTensor([5, 7], 1, { dtype: 'float32' });
    const w = seededTensor([3, 7], 2, { dtype: 'float32' });
    const b = seededTensor([3], 3, { dtype: 'float32' });
    const fused = linear(x, w, b, 'relu');
    expect(fused.dtype).toBe('float32');
    assertClose(fused.data, composedLinear(x, w, b, 'relu').data, 1e-6, 1e-6);
  });

  test('clear errors name linear and the shapes', () => {
    const w = f64([[1, 2]]);
    expect(messageOf(() => linear(f64([[1, 2, 3]]), w))).toBe('linear: input [1,3] must end in 2 features to match weight [1,2]');
    expect(messageOf(() => linear(f64([[1, 2]]), f64([1, 2])))).toBe('linear: weight must be [out, in], got [2]');
    expect(messageOf(() => linear(f64([[1, 2]]), w, f64([1, 2])))).toBe('linear: bias must be [1] to match weight [1,2], got [2]');
    expect(() => linear(tensor([[1, 2]]), w)).toThrow(DTypeError);
    expect(() => linear(f64([[1, 2]]), w, null, 'tanh' as LinearActivation)).toThrow(ArgumentError);
    expect(() => linear(f64(1), w)).toThrow(ShapeError);
  });
});

interface CrossEntropyCase {
  x: Tensor;
  labels: number[];
  probs: Tensor;
}

const crossEntropyCaseArb: fc.Arbitrary<CrossEntropyCase> = fc
  .record({ rows: fc.integer({ min: 1, max: 4 }), classes: fc.integer({ min: 1, max: 5 }), seed: fc.noShrink(fc.integer()) })
  .chain(({ rows, classes, seed }) =>
    fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: rows, maxLength: rows }).map((labels) => ({
      x: seededTensor([rows, classes], seed, { min: -3, max: 3 }),
      labels,
      // Probabilities of a row need not sum to 1 (label smoothing, soft targets scaled by a weight).
      probs: seededTensor([rows, classes], seed + 1, { min: 0, max: 1 }),
    })),
  );

const REDUCTIONS = ['mean', 'sum', 'none'] as const;

describe('linear backward in one kernel call', () => {
  test('gives the bits of the Tensor-op VJP (what createGraph runs), for every dtype, backend, activation and requiresGrad', () => {
    fc.assert(fc.property(
      fc.constantFrom<'float32' | 'float64'>('float32', 'float64'), fc.constantFrom<KernelBackend>('auto', 'wasm', 'js'),
      fc.constantFrom<LinearActivation>('none', 'relu'), fc.boolean(), fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 2 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.noShrink(fc.integer()),
      (dtype, backend, activation, withBias, [gx, gw, gb], lead, inF, outF, seed) => {
        fc.pre(gx || gw || (withBias && gb));
        const x = seededTensor([...lead, inF], seed, { dtype, requiresGrad: gx });
        const w = seededTensor([outF, inF], seed + 1, { dtype, requiresGrad: gw });
        const b = withBias ? seededTensor([outF], seed + 2, { dtype, requiresGrad: gb }) : null;
        const g = seededTensor([...lead, outF], seed + 3, { dtype, requiresGrad: false });
        const grads = (createGraph: boolean) => withBackend(backend, () => {
          for (const t of [x, w, b]) if (t !== null) t.grad = null;
          linear(x, w, b, activation).backward(g, { createGraph });
          return [x, w, b].map((t) => (t === null || t.grad === null ? null : Array.from(t.grad.data)));
        });
        expect(grads(false)).toEqual(grads(true));
      },
    ), { numRuns: 120 });
  });
});

describe('crossEntropy', () => {
  test('hand-computed: equal logits give log C, and the gradient is (softmax - one-hot)/N', () => {
    const x = grad64([[0, 0, 0, 0], [Math.log(3), 0, 0, 0]]);
    const loss = crossEntropy(x, [1, 0]);
    // Row 0: log 4. Row 1: softmax [1/2, 1/6, 1/6, 1/6], loss -log(1/2).
    expect(loss.item()).toBeCloseTo((Math.log(4) + Math.log(2)) / 2, 15);
    loss.backward();
    assertClose(x.grad!.data, [0.125, -0.375, 0.125, 0.125, -0.25, 1 / 12, 1 / 12, 1 / 12], 1e-15);
  });

  test('is stable for large logits', () => {
    const loss = crossEntropy(f64([[1000, 1001], [-1000, -1001]]), [0, 1], { reduction: 'none' });
    assertClose(loss.data, [Math.log1p(Math.E), Math.log1p(Math.E)], 1e-14);
  });

  for (const reduction of REDUCTIONS) {
    test(`${reduction}: matches -Σ target·logSoftmax in value and gradients, labels and probabilities`, () => {
      fc.assert(
        fc.property(crossEntropyCaseArb, fc.integer(), ({ x, labels, probs }, seed) => {
          const classes = x.shape[1]!;
          // Labels, as an array and as a [N] tensor.
          for (const target of [labels, tensor(labels, { dtype: 'int32' })]) {
            const fused = crossEntropy(x, target, { reduction });
            const composed = composedCrossEntropy(x, oneHot(labels, classes), reduction);
            expect(fused.shape).toEqual(composed.shape);
            assertClose(fused.data, composed.data, 1e-13, 1e-15);
            assertClose(gradsOf(fused, [x], seed)[0]!.data, gradsOf(composed, [x], seed)[0]!.data, 1e-13, 1e-15);
          }
          // Probabilities, with a gradient for them too.
          const fused = crossEntropy(x, probs, { reduction });
          const composed = composedCrossEntropy(x, probs, reduction);
          assertClose(fused.data, composed.data, 1e-13, 1e-15);
          const gf = gradsOf(fused, [x, probs], seed);
          const gc = gradsOf(composed, [x, probs], seed);
          gf.forEach((g, i) => assertClose(g.data, gc[i]!.data, 1e-13, 1e-15));
        }),
        { numRuns: 30 },
      );
    });

    test(`${reduction}: passes gradcheck and gradgradcheck with labels and with probabilities`, () => {
      fc.assert(
        fc.property(crossEntropyCaseArb, ({ x, labels, probs }) => {
          const reports = [
            gradcheck((t) => crossEntropy(t, labels, { reduction }), [x]),
            gradcheck((t, p) => crossEntropy(t, p!, { reduction }), [x, probs]),
            gradgradcheck((t) => crossEntropy(t, labels, { reduction }), [x]),
            gradgradcheck((t, p) => crossEntropy(t, p!, { reduction }), [x, probs]),
          ];
          reports.forEach((r, i) => {
            if (!r.ok) throw new Error(`check ${i}, shape ${JSON.stringify(x.shape)}: ${JSON.stringify(r.worst)}`);
          });
        }),
        { numRuns: 10 },
      );
    });
  }

  test('float32: the same as the composed ops to float32 rounding', () => {
    const x = seededTensor([6, 10], 4, { dtype: 'float32', min: -5, max: 5 });
    const labels = [0, 3, 9, 2, 2, 7];
    const fused = crossEntropy(x, labels);
    expect(fused.dtype).toBe('float32');
    const composed = composedCrossEntropy(x, oneHot(labels, 10).toDtype('float32'), 'mean');
    assertClose(fused.data, composed.data, 1e-6);
    const [g] = gradients([fused], [x]);
    const [gc] = gradients([composed], [x]);
    assertClose(g!.data, gc!.data, 1e-5, 1e-7);
  });

  test('clear errors name crossEntropy, the target and the shapes', () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    expect(messageOf(() => crossEntropy(x, [0, 3]))).toBe('crossEntropy: target class 3 at position 1 is out of range [0, 3) for logits [2,3]');
    expect(messageOf(() => crossEntropy(x, [0.5, 1]))).toBe('crossEntropy: target class 0.5 at position 0 is out of range [0, 3) for logits [2,3]');
    expect(messageOf(() => crossEntropy(x, [0]))).toBe('crossEntropy: target must be 2 class indices (shape [2]) or probabilities of shape [2,3], got 1 labels');
    expect(messageOf(() => crossEntropy(x, f64([[1, 0]])))).toBe('crossEntropy: target probabilities [1,2] must have the logits\' shape [2,3]');
    expect(messageOf(() => crossEntropy(f64(1), [0]))).toBe('crossEntropy: logits must be [C], [N, C] or [N, C, d1, ...], got []');
    const image = f64([[[1, 2], [3, 4]], [[0, 1], [1, 0]]]);
    expect(messageOf(() => crossEntropy(image, tensor([1, 0], { dtype: 'int32' })))).toBe(
      'crossEntropy: target must be class indices of shape [2,2] or probabilities of shape [2,2,2] for logits [2,2,2], got [2]',
    );
    expect(messageOf(() => crossEntropy(image, f64([[[1, 0]]])))).toBe("crossEntropy: target probabilities [1,1,2] must have the logits' shape [2,2,2]");
    expect(() => crossEntropy(x, tensor([[1, 0, 0], [0, 1, 0]]))).toThrow(DTypeError);
    expect(messageOf(() => crossEntropy(x, f64([0, 1])))).toBe(
      "crossEntropy: class indices must be an int32 tensor (or an array of integers), got float64 of shape [2]; a float target is read as probabilities, of the logits' shape [2,3]",
    );
    expect(() => crossEntropy(x, [0, 1], { reduction: 'max' as 'mean' })).toThrow(ArgumentError);
  });
});

// tanh's VJP runs one fused pass where nothing records it; it must give the bits of the composed
// ops g·(1 − y²) it stands for (square, negate, add one, multiply), special values included.
describe('tanh VJP, fused', () => {
  const sameBits = (actual: ArrayLike<number>, expected: ArrayLike<number>): boolean =>
    actual.length === expected.length && Array.from(actual).every((v, i) => Object.is(v, expected[i]));
  for (const dtype of ['float32', 'float64'] as const) {
    const value = dtype === 'float32' ? fc.float() : fc.double();
    test(`${dtype}: the composed ops' bits, gradient and values random`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(value, value), { minLength: 1, maxLength: 40 }), (pairs) => {
          const Storage = dtype === 'float32' ? Float32Array : Float64Array;
          const x = tensor(Storage.from(pairs.map(([v]) => v)), { requiresGrad: true });
          const g = tensor(Storage.from(pairs.map(([, w]) => w)));
          const y = x.tanh();
          y.backward(g);
          const composed = g.mul(y.detach().square().neg().add(1));
          return sameBits(x.grad!.data, composed.data);
        }),
      );
    });
  }
  test('under createGraph the gradient stays differentiable: d²tanh/dx² = −2·y·(1 − y²)', () => {
    const x = tensor(new Float64Array([-1.5, -0.2, 0, 0.7, 3]), { requiresGrad: true });
    const [dx] = gradients([x.tanh().sum()], [x], { createGraph: true });
    const [ddx] = gradients([dx!.sum()], [x]);
    const y = Array.from(x.data, Math.tanh);
    assertClose(ddx!, tensor(new Float64Array(y.map((v) => -2 * v * (1 - v * v)))), 1e-12, 1e-14);
  });
});
