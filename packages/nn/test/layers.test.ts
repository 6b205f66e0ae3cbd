import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { gradcheck, noGrad, tensor, type Tensor } from '@chainrule/autograd';
import { assertClose, checkGradProperty, tensorArb } from '@chainrule/autograd/testing';
import {
  BatchNorm1d, Dense, Dropout, Flatten, GELU, Identity, LayerNorm, LeakyReLU, Linear, LogSoftmax, MLP, ReLU, Sigmoid,
  Softmax, Softplus, Tanh, functionalCall, type Module,
} from '@chainrule/nn';
import { f64, grad64 } from './helpers.js';

const dim = (max = 4) => fc.integer({ min: 1, max });
const RUNS = { numRuns: 12 };

/** gradcheck of a module's forward with respect to its input and the named tensors. */
function moduleFn(build: (x: Tensor, ...rest: Tensor[]) => Module, names: readonly string[]) {
  return (...t: Tensor[]): Tensor => {
    const [x, ...rest] = t as [Tensor, ...Tensor[]];
    const m = build(x, ...rest);
    return functionalCall(m, Object.fromEntries(names.map((n, i) => [n, rest[i]!])), x);
  };
}

describe('Linear', () => {
  test('y = x Wᵀ + b on a hand-computed case', () => {
    const lin = new Linear(2, 3, { dtype: 'float64' });
    lin.weight.data.set([1, 2, 3, 4, 5, 6]);
    lin.bias!.data.set([0.5, -1, 2]);
    const y = lin.forward(f64([[1, -1], [2, 0.5]]));
    expect(y.shape).toEqual([2, 3]);
    assertClose(y.data, [-1 + 0.5, -1 - 1, -1 + 2, 3 + 0.5, 8 - 1, 13 + 2]);
    expect(Dense).toBe(Linear);
  });

  test('gradients with respect to input, weight and bias pass gradcheck (float64, random sizes)', () => {
    const inputs = fc.tuple(dim(), dim(), dim()).chain(([b, i, o]) => fc.tuple(tensorArb([b, i]), tensorArb([o, i]), tensorArb([o])));
    checkGradProperty(moduleFn((x, w) => new Linear(x.shape[1]!, w!.shape[0]!, { dtype: 'float64' }), ['weight', 'bias']), inputs, RUNS);
  });

  test('without bias, and on batched 3-d inputs', () => {
    const inputs = fc.tuple(dim(3), dim(3), dim(3), dim(3)).chain(([a, b, i, o]) => fc.tuple(tensorArb([a, b, i]), tensorArb([o, i])));
    checkGradProperty(moduleFn((x, w) => new Linear(x.shape[2]!, w!.shape[0]!, { dtype: 'float64', bias: false }), ['weight']), inputs, RUNS);
  });

  test('names the layer in shape and dtype errors', () => {
    const lin = new Linear(4, 3);
    expect(() => lin.forward(tensor([[1, 2, 3]]))).toThrow('Linear(4 -> 3): input of shape [1,3] must end in 4 features');
    expect(() => lin.forward(f64([[1, 2, 3, 4]]))).toThrow(/Linear: input is float64 but the layer is float32/);
  });

  test('a seed fixes the weights; a shared generator continues its stream', () => {
    const a = new Linear(5, 4, { seed: 3 });
    const b = new Linear(5, 4, { seed: 3 });
    expect(Array.from(a.weight.data)).toEqual(Array.from(b.weight.data));
    expect(Array.from(a.bias!.data)).toEqual(Array.from(b.bias!.data));
    expect(Array.from(new Linear(5, 4, { seed: 4 }).weight.data)).not.toEqual(Array.from(a.weight.data));
  });
});

describe('activations', () => {
  const cases: [string, () => Module, number[]][] = [
    ['ReLU', () => new ReLU(), [0]],
    ['LeakyReLU', () => new LeakyReLU(0.2), [0]],
    ['Sigmoid', () => new Sigmoid(), []],
    ['Tanh', () => new Tanh(), []],
    ['GELU', () => new GELU(), []],
    ['GELU tanh', () => new GELU({ approximate: 'tanh' }), []],
    ['Softplus', () => new Softplus(), []],
    ['Softplus beta 2 threshold 1', () => new Softplus({ beta: 2, threshold: 1 }), [0.5]],
    ['Softmax', () => new Softmax(-1), []],
    ['Softmax axis 0', () => new Softmax(0), []],
    ['LogSoftmax', () => new LogSoftmax(1), []],
    ['Identity', () => new Identity(), []],
    ['Flatten', () => new Flatten(), []],
  ];
  for (const [name, build, avoid] of cases) {
    test(`${name} passes gradcheck on random shapes`, () => {
      const inputs = fc.tuple(dim(), dim(), dim(3)).chain(([a, b, c]) => fc.tuple(tensorArb([a, b, c], { avoid, margin: 0.05 })));
      checkGradProperty(moduleFn(build, []), inputs, RUNS);
    });
  }

  test('hand-computed values', () => {
    const x = f64([-2, 0, 3]);
    assertClose(new ReLU().forward(x).data, [0, 0, 3]);
    assertClose(new LeakyReLU(0.1).forward(x).data, [-0.2, 0, 3]);
    assertClose(new Sigmoid().forward(x).data, [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-3))]);
    assertClose(new Softplus({ beta: 2 }).forward(x).data, [Math.log1p(Math.exp(-4)) / 2, Math.log(2) / 2, 3 + Math.log1p(Math.exp(-6)) / 2]);
    assertClose(new Softplus({ threshold: 2 }).forward(x).data, [Math.log1p(Math.exp(-2)), Math.log(2), 3]); // linear above the threshold
    const t = Math.tanh(Math.sqrt(2 / Math.PI) * (3 + 0.044715 * 27));
    assertClose(new GELU({ approximate: 'tanh' }).forward(x).data.slice(2), [1.5 * (1 + t)]);
    assertClose(new Softmax().forward(f64([1000, 1001])).data, [1 / (1 + Math.E), Math.E / (1 + Math.E)]);
    expect(new Flatten().forward(f64([[[1, 2], [3, 4]]])).shape).toEqual([1, 4]);
  });
});

describe('Dropout', () => {
  test('zeroes about p of the elements, scales the rest by 1/(1-p), and is the identity in eval', () => {
    const drop = new Dropout(0.25, { seed: 7 });
    const x = tensor(new Float64Array(20000).fill(1));
    const y = drop.forward(x);
    const zeros = Array.from(y.data).filter((v) => v === 0).length;
    expect(zeros / 20000).toBeGreaterThan(0.23);
    expect(zeros / 20000).toBeLessThan(0.27);
    expect(Array.from(y.data).every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-15)).toBe(true);
    expect(drop.eval().forward(x)).toBe(x);
    expect(new Dropout(1, { seed: 0 }).forward(x).data.every((v) => v === 0)).toBe(true);
  });

  test('a seed gives reproducible masks, new on each call', () => {
    const x = tensor(new Float64Array(64).fill(1));
    const a = new Dropout(0.5, { seed: 1 });
    const b = new Dropout(0.5, { seed: 1 });
    const a1 = Array.from(a.forward(x).data);
    expect(Array.from(b.forward(x).data)).toEqual(a1);
    expect(Array.from(a.forward(x).data)).not.toEqual(a1);
  });

  test('passes gradcheck with a fixed mask', () => {
    const inputs = fc.tuple(dim(), dim()).chain(([a, b]) => fc.tuple(tensorArb([a, b])));
    checkGradProperty(moduleFn(() => new Dropout(0.4, { seed: 3 }), []), inputs, RUNS);
  });

  test('rejects p outside [0, 1]', () => {
    expect(() => new Dropout(1.5)).toThrow('Dropout: p must be in [0, 1], got 1.5');
  });
});

describe('LayerNorm', () => {
  test('normalises the last axis with the biased variance', () => {
    const ln = new LayerNorm(4, { dtype: 'float64' });
    const y = ln.forward(f64([[1, 2, 3, 4]]));
    const sd = Math.sqrt(1.25 + 1e-5);
    assertClose(y.data, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd]);
  });

  test('gradients w.r.t. input, weight and bias pass gradcheck ([B, F] and [B, T, F] over [T, F])', () => {
    const twoD = fc.tuple(dim(), fc.integer({ min: 2, max: 5 })).chain(([b, f]) => fc.tuple(tensorArb([b, f]), tensorArb([f]), tensorArb([f])));
    checkGradProperty(moduleFn((x) => new LayerNorm(x.shape[1]!, { dtype: 'float64' }), ['weight', 'bias']), twoD, RUNS);
    const threeD = fc.tuple(dim(3), dim(3), fc.integer({ min: 2, max: 3 })).chain(([b, t, f]) => fc.tuple(tensorArb([b, t, f]), tensorArb([t, f]), tensorArb([t, f])));
    checkGradProperty(moduleFn((x) => new LayerNorm([x.shape[1]!, x.shape[2]!], { dtype: 'float64' }), ['weight', 'bias']), threeD, RUNS);
  });

  test('without affine parameters, and shape errors', () => {
    const ln = new LayerNorm([2, 3], { elementwiseAffine: false });
    expect(ln.parameters()).toHaveLength(0);
    expect(() => ln.forward(tensor([[1, 2, 3]]))).toThrow('LayerNorm: input of shape [1,3] must end in [2,3]');
  });
});

describe('BatchNorm1d', () => {
  test('training uses batch statistics and updates running stats with the unbiased variance', () => {
    const bn = new BatchNorm1d(2, { dtype: 'float64', momentum: 0.1 });
    const x = f64([[1, 10], [3, 20], [5, 60]]);
    const y = bn.forward(x);
    // feature 0: mean 3, biased var 8/3; feature 1: mean 30, biased var 1400/3
    const s0 = Math.sqrt(8 / 3 + 1e-5), s1 = Math.sqrt(1400 / 3 + 1e-5);
    assertClose(y.data, [-2 / s0, -20 / s1, 0, -10 / s1, 2 / s0, 30 / s1]);
    assertClose(bn.runningMean!.data, [0.3, 3]);
    assertClose(bn.runningVar!.data, [0.9 + 0.1 * 4, 0.9 + 0.1 * 700]);
    expect(bn.numBatchesTracked!.item()).toBe(1);
    bn.eval();
    const z = bn.forward(f64([[1, 10]]));
    assertClose(z.data, [(1 - 0.3) / Math.sqrt(1.3 + 1e-5), (10 - 3) / Math.sqrt(70.9 + 1e-5)]);
  });

  test('momentum null keeps a cumulative average; [N, C, L] inputs reduce over N and L', () => {
    const bn = new BatchNorm1d(1, { dtype: 'float64', momentum: null });
    bn.forward(f64([[[1, 3]], [[5, 7]]])); // mean 4, unbiased var 20/3
    bn.forward(f64([[[0, 0]], [[0, 4]]])); // mean 1, unbiased var 4
    assertClose(bn.runningMean!.data, [2.5]);
    assertClose(bn.runningVar!.data, [(20 / 3 + 4) / 2]);
  });

  test('gradients in training and eval pass gradcheck, [N, C] and [N, C, L]', () => {
    const train2 = fc.tuple(fc.integer({ min: 2, max: 5 }), dim()).chain(([n, c]) => fc.tuple(tensorArb([n, c]), tensorArb([c]), tensorArb([c])));
    checkGradProperty(moduleFn((x) => new BatchNorm1d(x.shape[1]!, { dtype: 'float64' }), ['weight', 'bias']), train2, RUNS);
    const train3 = fc.tuple(dim(3), dim(3), fc.integer({ min: 2, max: 3 })).chain(([n, c, l]) => fc.tuple(tensorArb([n, c, l]), tensorArb([c]), tensorArb([c])));
    checkGradProperty(moduleFn((x) => new BatchNorm1d(x.shape[1]!, { dtype: 'float64' }), ['weight', 'bias']), train3, RUNS);
    const evalArb = fc.tuple(dim(), dim()).chain(([n, c]) =>
      fc.tuple(tensorArb([n, c]), tensorArb([c]), tensorArb([c]), tensorArb([c]), tensorArb([c], { min: 0.5, max: 2 })),
    );
    const evalFn = moduleFn((x) => new BatchNorm1d(x.shape[1]!, { dtype: 'float64' }).eval(), ['weight', 'bias', 'running_mean', 'running_var']);
    checkGradProperty(evalFn, evalArb, RUNS);
  });

  test('errors name the layer', () => {
    const bn = new BatchNorm1d(3);
    expect(() => bn.forward(tensor([[1, 2]]))).toThrow('BatchNorm1d(3): input must be [N, 3] or [N, 3, L], got [1,2]');
    expect(() => bn.forward(tensor([[1, 2, 3]]))).toThrow(/more than 1 value per feature/);
    expect(() => new BatchNorm1d(3, { momentum: 2 })).toThrow('BatchNorm1d: momentum must be in [0, 1] or null, got 2');
  });
});

describe('MLP', () => {
  test('gradients of all parameters pass gradcheck', () => {
    const m = new MLP([3, 4, 2], { activation: 'tanh', outputActivation: 'sigmoid', dtype: 'float64', seed: 1 });
    const names = m.namedParameters().map(([n]) => n);
    const x = grad64([[0.1, -0.5, 1], [2, 0.3, -1]]);
    const params = m.parameters().map((p) => tensor(p.data, { shape: p.shape, dtype: 'float64', requiresGrad: true }));
    const f = (...t: Tensor[]): Tensor => functionalCall(m, Object.fromEntries(names.map((n, i) => [n, t[i + 1]!])), t[0]!);
    expect(gradcheck(f, [x, ...params]).ok).toBe(true);
  });

  test('same seed, same weights; custom activation factories', () => {
    const a = new MLP([2, 8, 1], { seed: 42 });
    const b = new MLP([2, 8, 1], { seed: 42 });
    a.parameters().forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(b.parameters()[i]!.data)));
    const c = new MLP([2, 3, 3, 1], { activation: () => new LeakyReLU(0.3) });
    expect(c.layers.at(1)).toBeInstanceOf(LeakyReLU);
    expect(c.layers.length).toBe(5);
    expect(() => new MLP([2])).toThrow(/at least 2 positive integers/);
  });

  test('forward under noGrad builds no graph', () => {
    const m = new MLP([2, 4, 1], { seed: 0 });
    const y = noGrad(() => m.forward(tensor([[1, 2]])));
    expect(y.requiresGrad).toBe(false);
  });
});
