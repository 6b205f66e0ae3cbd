import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { arange, customOp, gradcheck, gradgradcheck, gradients, randn, type Tensor, type TensorFunction } from '@chainrule/autograd';
import { broadcastShapesArb, checkGradGradProperty, shapeArb, tensorArb, tensorsArb, unaryArb, type ValueConstraints } from '@chainrule/autograd/testing';

const small = { maxRank: 2, maxDim: 3 };
const one = (c: ValueConstraints = {}): fc.Arbitrary<Tensor[]> => unaryArb(shapeArb(small), c);
const pair = (c: ValueConstraints = {}): fc.Arbitrary<Tensor[]> => tensorsArb(broadcastShapesArb(2, small), c);

describe('gradgradcheck over every op with a non-zero second derivative', () => {
  const binary: [string, TensorFunction, ValueConstraints][] = [
    ['mul', (a, b) => a.mul(b), {}],
    ['div', (a, b) => a.div(b), { min: 0.5, max: 2 }],
    ['pow', (a, b) => a.pow(b), { min: 0.5, max: 2 }],
  ];
  for (const [name, f, c] of binary) test(name, () => checkGradGradProperty(f, pair(c), { numRuns: 12 }));

  const unary: [string, TensorFunction, ValueConstraints][] = [
    ['exp', (x) => x.exp(), {}],
    ['log', (x) => x.log(), { min: 0.2, max: 3 }],
    ['log1p', (x) => x.log1p(), { min: -0.5, max: 3 }],
    ['sqrt', (x) => x.sqrt(), { min: 0.2, max: 3 }],
    ['tanh', (x) => x.tanh(), {}],
    ['sigmoid', (x) => x.sigmoid(), {}],
    ['gelu', (x) => x.gelu(), {}],
    ['softplus', (x) => x.softplus(), {}],
    ['sin', (x) => x.sin(), {}],
    ['cos', (x) => x.cos(), {}],
    ['erf', (x) => x.erf(), {}],
    ['square', (x) => x.square(), {}],
    ['reciprocal', (x) => x.reciprocal(), { min: 0.3, max: 3 }],
    ['pow(number)', (x) => x.pow(3), {}],
    ['prod (no zeros)', (x) => x.prod(-1), { avoid: [0], margin: 0.2 }],
  ];
  for (const [name, f, c] of unary) test(name, () => checkGradGradProperty(f, one(c), { numRuns: 12 }));

  const composites: [string, TensorFunction][] = [
    ['softmax', (x) => x.softmax(-1)],
    ['logSoftmax', (x) => x.logSoftmax(-1)],
    ['logsumexp', (x) => x.logsumexp(-1)],
    ['var', (x) => x.var(-1)],
    // std's derivative blows up at zero spread, so the inputs ride on a ramp that keeps them apart.
    ['std', (x) => x.mul(0.1).add(arange(x.size, undefined, 1, { dtype: 'float64' }).reshape(x.shape)).std(-1, { correction: 1 })],
  ];
  for (const [name, f] of composites) test(name, () => checkGradGradProperty(f, shapeArb({ minRank: 1, ...small, minDim: 2 }).chain((s) => tensorArb(s).map((t) => [t])), { numRuns: 12 }));

  test('matmul chains with broadcast batches', () => {
    const shapes = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }));
    checkGradGradProperty(
      (a, b, c) => a.matmul(b).tanh().matmul(c),
      shapes.chain(([m, k, n, batch]) => fc.tuple(tensorArb([batch, m, k]), tensorArb([k, n]), tensorArb([1, n, 2]))),
      { numRuns: 12 },
    );
  });
});

describe('second-order uses', () => {
  test('a gradient penalty (norm of a gradient, differentiated with respect to weights) passes gradcheck', () => {
    const x = randn([5, 3], { dtype: 'float64', seed: 1, requiresGrad: true });
    const w = randn([3, 2], { dtype: 'float64', seed: 2, requiresGrad: true });
    const penalty = (weights: Tensor, inputs: Tensor): Tensor => {
      const out = inputs.matmul(weights).tanh().sum();
      const [gx] = gradients([out], [inputs], { createGraph: true });
      return gx!.square().sum().sqrt();
    };
    const report = gradcheck(penalty, [w, x]);
    expect(report.ok).toBe(true);
    expect(report.maxAbsError).toBeLessThan(1e-6);
  });

  test('gradgradcheck catches a VJP that is right to first order but not differentiable', () => {
    const x = randn([4], { dtype: 'float64', seed: 3, requiresGrad: true });
    // exp's VJP is g·y; with y detached, the first derivative is right and the second is lost.
    const expDetached = customOp({ name: 'expDetached', forward: (t) => t.exp(), backward: (g, { output }) => g.mul(output.detach()) });
    expect(gradcheck((t) => expDetached(t), [x]).ok).toBe(true);
    const report = gradgradcheck((t) => expDetached(t), [x]);
    expect(report.ok).toBe(false);
    expect(report.worst!.input).toBe(0);
  });
});
