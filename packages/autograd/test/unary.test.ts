import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  abs, ArgumentError, clamp, cos, erf, exp, expm1, gelu, isFinite, isInf, isNan, leakyRelu, log, log1p, neg, relu, reciprocal,
  sigmoid, sign, silu, sin, softplus, sqrt, square, tanh, tensor, Tensor, zeros, vjp, vmap, grad,
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  exp2,
  log2,
  log10,
  mish,
  elu,
  selu,
  celu,
  hardtanh,
  relu6,
  hardsigmoid,
  hardswish,
  logsigmoid,
  softsign,
  tanhshrink,
  floor,
  ceil,
  round,
  trunc,
  frac,
} from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, shapeArb, unaryArb, type ValueConstraints } from '@chainrule/autograd/testing';
import { expectFloat32Rounding, refErf, refMap } from './helpers/reference.js';
import { f64, grad64, values } from './helpers/tensors.js';
import { withBackend } from './helpers/backend.js';
import type { KernelBackend } from '../src/kernels/backend.js';
import { wasmAvailable } from '../src/kernels/wasm/module.js';

/** The gradient of sum(f(x)) at `xs`, i.e. f'(x) elementwise. */
function derivative(f: (x: Tensor) => Tensor, xs: number[]): number[] {
  const x = grad64(xs);
  f(x).sum().backward();
  return values(x.grad);
}

/** One float64 tensor of a random shape (rank 0..3, dims 1..4) with values as `c` says. */
const oneArb = (c: ValueConstraints = {}): fc.Arbitrary<Tensor[]> => unaryArb(shapeArb(), c);

// The standard normal density and the published values of its CDF Φ (to 21 digits).
const phi = (x: number): number => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
const PHI: Record<string, number> = {
  '-1': 0.158655253931457051415,
  '0.5': 0.691462461274013103638,
  '1': 0.841344746068542948585,
  '2': 0.977249868051820792800,
};

interface UnaryCase {
  name: string;
  op: (x: Tensor) => Tensor;
  /** The Tensor method, where there is one. */
  method?: (x: Tensor) => Tensor;
  /** The maths, on plain numbers. */
  ref: (v: number) => number;
  /** Values for the forward comparison (default [-2, 2]). */
  forward?: ValueConstraints;
  /** Absolute tolerance of the forward comparison, where the reference itself is only that good. */
  atol?: number;
  /** Values for the gradient check: in the domain, away from kinks. Null: the op has no gradient. */
  grad: ValueConstraints | null;
  /** Composed of several float32 ops, so rounded more than once (not a single rounding of float64). */
  composite?: boolean;
}

const SQRT1_2 = Math.SQRT1_2;

/** Rounding with ties to even, from the floor and the distance above it. */
function refRoundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

const cases: UnaryCase[] = [
  { name: 'neg', op: neg, method: (x) => x.neg(), ref: (v) => -v, forward: { min: -1e6, max: 1e6 }, grad: {} },
  { name: 'exp', op: exp, method: (x) => x.exp(), ref: Math.exp, forward: { min: -30, max: 30 }, grad: {} },
  { name: 'log', op: log, method: (x) => x.log(), ref: Math.log, forward: { min: 1e-3, max: 100 }, grad: { min: 0.1, max: 3 } },
  { name: 'expm1', op: expm1, method: (x) => x.expm1(), ref: Math.expm1, forward: { min: -30, max: 30 }, grad: {} },
  { name: 'log1p', op: log1p, method: (x) => x.log1p(), ref: Math.log1p, forward: { min: -0.99, max: 10 }, grad: { min: -0.8, max: 3 } },
  { name: 'sqrt', op: sqrt, method: (x) => x.sqrt(), ref: Math.sqrt, forward: { min: 0, max: 100 }, grad: { min: 0.1, max: 3 } },
  { name: 'abs', op: abs, method: (x) => x.abs(), ref: Math.abs, grad: { avoid: [0] } },
  { name: 'tanh', op: tanh, method: (x) => x.tanh(), ref: Math.tanh, forward: { min: -10, max: 10 }, grad: {} },
  { name: 'sigmoid', op: sigmoid, method: (x) => x.sigmoid(), ref: (v) => 1 / (1 + Math.exp(-v)), forward: { min: -30, max: 30 }, grad: { min: -5, max: 5 } },
  { name: 'relu', op: relu, method: (x) => x.relu(), ref: (v) => (v > 0 ? v : 0), grad: { avoid: [0] } },
  { name: 'leakyRelu', op: (x) => leakyRelu(x, 0.2), method: (x) => x.leakyRelu(0.2), ref: (v) => (v > 0 ? v : 0.2 * v), grad: { avoid: [0] } },
  {
    name: 'gelu', op: gelu, method: (x) => x.gelu(), ref: (v) => v * 0.5 * (1 + refErf(v * SQRT1_2)),
    atol: 1e-15, grad: { min: -3, max: 3 }, composite: true,
  },
  {
    // F.gelu(x, approximate='tanh').
    name: 'gelu', op: (x) => gelu(x, { approximate: 'tanh' }), method: (x) => x.gelu({ approximate: 'tanh' }),
    ref: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))), atol: 1e-15, grad: { min: -3, max: 3 }, composite: true,
  },
  { name: 'silu', op: silu, method: (x) => x.silu(), ref: (v) => v / (1 + Math.exp(-v)), forward: { min: -30, max: 30 }, grad: { min: -5, max: 5 } },
  { name: 'softplus', op: softplus, method: (x) => x.softplus(), ref: (v) => Math.log1p(Math.exp(v)), forward: { min: -20, max: 20 }, grad: { min: -5, max: 5 } },
  {
    // F.softplus(x, beta=2), exact (no threshold).
    name: 'softplus', op: (x) => softplus(x, { beta: 2 }), method: (x) => x.softplus({ beta: 2 }), ref: (v) => Math.log1p(Math.exp(2 * v)) / 2,
    forward: { min: -10, max: 10 }, grad: { min: -3, max: 3 }, composite: true,
  },
  { name: 'sin', op: sin, method: (x) => x.sin(), ref: Math.sin, forward: { min: -10, max: 10 }, grad: { min: -4, max: 4 } },
  { name: 'cos', op: cos, method: (x) => x.cos(), ref: Math.cos, forward: { min: -10, max: 10 }, grad: { min: -4, max: 4 } },
  { name: 'erf', op: erf, method: (x) => x.erf(), ref: refErf, atol: 1e-15, grad: { min: -3, max: 3 } },
  {
    name: 'clamp', op: (x) => clamp(x, -0.5, 0.8), method: (x) => x.clamp(-0.5, 0.8), ref: (v) => Math.min(Math.max(v, -0.5), 0.8),
    grad: { avoid: [-0.5, 0.8] },
  },
  { name: 'square', op: square, method: (x) => x.square(), ref: (v) => v * v, forward: { min: -1e3, max: 1e3 }, grad: {} },
  { name: 'reciprocal', op: reciprocal, method: (x) => x.reciprocal(), ref: (v) => 1 / v, grad: { avoid: [0], margin: 0.3 } },
  { name: 'tan', op: tan, method: (x) => x.tan(), ref: Math.tan, forward: { min: -1.5, max: 1.5 }, grad: { min: -1.2, max: 1.2 } },
  { name: 'asin', op: asin, method: (x) => x.asin(), ref: Math.asin, forward: { min: -1, max: 1 }, grad: { min: -0.9, max: 0.9 } },
  { name: 'acos', op: acos, method: (x) => x.acos(), ref: Math.acos, forward: { min: -1, max: 1 }, grad: { min: -0.9, max: 0.9 } },
  { name: 'atan', op: atan, method: (x) => x.atan(), ref: Math.atan, forward: { min: -50, max: 50 }, grad: {} },
  { name: 'sinh', op: sinh, method: (x) => x.sinh(), ref: Math.sinh, forward: { min: -20, max: 20 }, grad: {} },
  { name: 'cosh', op: cosh, method: (x) => x.cosh(), ref: Math.cosh, forward: { min: -20, max: 20 }, grad: {} },
  { name: 'asinh', op: asinh, method: (x) => x.asinh(), ref: Math.asinh, forward: { min: -1e3, max: 1e3 }, grad: {} },
  { name: 'acosh', op: acosh, method: (x) => x.acosh(), ref: Math.acosh, forward: { min: 1, max: 1e3 }, grad: { min: 1.1, max: 4 } },
  { name: 'atanh', op: atanh, method: (x) => x.atanh(), ref: Math.atanh, forward: { min: -0.999, max: 0.999 }, grad: { min: -0.9, max: 0.9 } },
  { name: 'exp2', op: exp2, method: (x) => x.exp2(), ref: (v) => 2 ** v, forward: { min: -40, max: 40 }, grad: {} },
  { name: 'log2', op: log2, method: (x) => x.log2(), ref: Math.log2, forward: { min: 1e-3, max: 100 }, grad: { min: 0.1, max: 3 } },
  { name: 'log10', op: log10, method: (x) => x.log10(), ref: Math.log10, forward: { min: 1e-3, max: 100 }, grad: { min: 0.1, max: 3 } },
  { name: 'mish', op: mish, method: (x) => x.mish(), ref: (v) => v * Math.tanh(Math.log1p(Math.exp(v))), forward: { min: -20, max: 20 }, grad: { min: -5, max: 5 } },
  { name: 'elu', op: (x) => elu(x), method: (x) => x.elu(), ref: (v) => (v > 0 ? v : Math.expm1(v)), forward: { min: -30, max: 30 }, grad: { avoid: [0] } },
  { name: 'elu', op: (x) => elu(x, { alpha: 0.3 }), method: (x) => x.elu({ alpha: 0.3 }), ref: (v) => (v > 0 ? v : 0.3 * Math.expm1(v)), composite: true, grad: { avoid: [0] } },
  { name: 'selu', op: selu, method: (x) => x.selu(), ref: (v) => (v > 0 ? 1.0507009873554805 * v : 1.6732632423543772 * 1.0507009873554805 * Math.expm1(v)), composite: true, grad: { avoid: [0] } },
  { name: 'celu', op: (x) => celu(x), method: (x) => x.celu(), ref: (v) => (v > 0 ? v : Math.expm1(v)), forward: { min: -30, max: 30 }, grad: { avoid: [0] } },
  { name: 'celu', op: (x) => celu(x, { alpha: 2 }), method: (x) => x.celu({ alpha: 2 }), ref: (v) => (v > 0 ? v : 2 * Math.expm1(v * 0.5)), composite: true, grad: { avoid: [0] } },
  { name: 'hardtanh', op: (x) => hardtanh(x), method: (x) => x.hardtanh(), ref: (v) => Math.min(Math.max(v, -1), 1), grad: { avoid: [-1, 1] } },
  { name: 'hardtanh', op: (x) => hardtanh(x, { minVal: -0.5, maxVal: 2 }), method: (x) => x.hardtanh({ minVal: -0.5, maxVal: 2 }), ref: (v) => Math.min(Math.max(v, -0.5), 2), forward: { min: -3, max: 3 }, grad: { min: -3, max: 3, avoid: [-0.5, 2] } },
  { name: 'relu6', op: relu6, method: (x) => x.relu6(), ref: (v) => Math.min(Math.max(v, 0), 6), forward: { min: -8, max: 8 }, grad: { min: -8, max: 8, avoid: [0, 6] } },
  { name: 'hardsigmoid', op: hardsigmoid, method: (x) => x.hardsigmoid(), ref: (v) => Math.min(Math.max(v + 3, 0), 6) / 6, forward: { min: -5, max: 5 }, grad: { min: -5, max: 5, avoid: [-3, 3] } },
  { name: 'hardswish', op: hardswish, method: (x) => x.hardswish(), ref: (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6, forward: { min: -5, max: 5 }, grad: { min: -5, max: 5, avoid: [-3, 3] } },
  { name: 'logsigmoid', op: logsigmoid, method: (x) => x.logsigmoid(), ref: (v) => -Math.log1p(Math.exp(-v)), forward: { min: -30, max: 30 }, grad: { min: -5, max: 5 } },
  { name: 'softsign', op: softsign, method: (x) => x.softsign(), ref: (v) => v / (1 + Math.abs(v)), forward: { min: -50, max: 50 }, composite: true, grad: { avoid: [0] } },
  { name: 'tanhshrink', op: tanhshrink, method: (x) => x.tanhshrink(), ref: (v) => v - Math.tanh(v), forward: { min: -20, max: 20 }, composite: true, grad: {} },
  { name: 'floor', op: floor, method: (x) => x.floor(), ref: Math.floor, forward: { min: -10, max: 10 }, grad: { avoid: [-2, -1, 0, 1, 2] } },
  { name: 'ceil', op: ceil, method: (x) => x.ceil(), ref: Math.ceil, forward: { min: -10, max: 10 }, grad: { avoid: [-2, -1, 0, 1, 2] } },
  { name: 'round', op: round, method: (x) => x.round(), ref: refRoundHalfEven, forward: { min: -10, max: 10 }, grad: { avoid: [-1.5, -0.5, 0.5, 1.5] } },
  { name: 'trunc', op: trunc, method: (x) => x.trunc(), ref: Math.trunc, forward: { min: -10, max: 10 }, grad: { avoid: [-2, -1, 0, 1, 2] } },
  { name: 'frac', op: frac, method: (x) => x.frac(), ref: (v) => v - Math.trunc(v), forward: { min: -10, max: 10 }, grad: { avoid: [-2, -1, 0, 1, 2] } },
  { name: 'sign', op: sign, method: (x) => x.sign(), ref: Math.sign, grad: { avoid: [0] } },
];

describe('hand-computed values and derivatives', () => {
  test('neg, exp, log, log1p', () => {
    expect(values(neg(f64([1, -2, 0.5])))).toEqual([-1, 2, -0.5]);
    expect(derivative(neg, [1, -2])).toEqual([-1, -1]);

    expect(values(exp(f64([0, 1, -1])))).toEqual([1, Math.E, 1 / Math.E]);
    expect(derivative(exp, [0, 1])).toEqual([1, Math.E]);

    expect(values(log(f64([1, Math.E, 0.5])))).toEqual([0, 1, -Math.LN2]);
    expect(derivative(log, [1, 4, 0.5])).toEqual([1, 0.25, 2]);

    // log1p keeps the digits log(1 + x) loses near 0.
    expect(values(log1p(f64([0, 1e-20, 1])))).toEqual([0, 1e-20, Math.LN2]);
    expect(derivative(log1p, [0, 1, -0.5])).toEqual([1, 0.5, 2]);
  });

  test('sqrt, abs, square, reciprocal', () => {
    expect(values(sqrt(f64([4, 9, 0, 2])))).toEqual([2, 3, 0, Math.SQRT2]);
    expect(derivative(sqrt, [4, 9])).toEqual([0.25, 1 / 6]);

    expect(values(abs(f64([-3, 2, 0])))).toEqual([3, 2, 0]);
    expect(derivative(abs, [-3, 2])).toEqual([-1, 1]);

    expect(values(square(f64([-3, 0.5])))).toEqual([9, 0.25]);
    expect(derivative(square, [-3, 0.5])).toEqual([-6, 1]);

    expect(values(reciprocal(f64([2, -4, 0.5])))).toEqual([0.5, -0.25, 2]);
    expect(derivative(reciprocal, [2, -4])).toEqual([-0.25, -1 / 16]);
  });

  test('tanh against (e^2x - 1)/(e^2x + 1), derivative 1 - tanh²', () => {
    const xs = [-1, 0, 0.5, 2];
    const want = xs.map((x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1));
    assertClose(tanh(f64(xs)).data, want, 1e-15);
    assertClose(derivative(tanh, xs), want.map((t) => 1 - t * t), 1e-14);
  });

  test('sigmoid: σ(0) = 1/2, σ(±ln 3) = 3/4 and 1/4, σ′ = σ(1 - σ)', () => {
    assertClose(sigmoid(f64([0, Math.log(3), -Math.log(3)])).data, [0.5, 0.75, 0.25], 1e-15);
    assertClose(derivative(sigmoid, [0, Math.log(3), -Math.log(3)]), [0.25, 0.1875, 0.1875], 1e-15);
  });

  test('relu and leakyRelu', () => {
    expect(values(relu(f64([-1, 0, 2])))).toEqual([0, 0, 2]);
    expect(derivative(relu, [-1, 2])).toEqual([0, 1]);
    expect(values(leakyRelu(f64([-2, 0, 3]), 0.1))).toEqual([-0.2, 0, 3]);
    expect(derivative((x) => leakyRelu(x, 0.1), [-2, 3])).toEqual([0.1, 1]);
    // The default slope is PyTorch's 0.01.
    expect(values(leakyRelu(f64([-1, 1])))).toEqual([-0.01, 1]);
    expect(values(f64([-1]).leakyRelu())).toEqual([-0.01]);
  });

  test('gelu is x·Φ(x): published values of the normal CDF; derivative Φ(x) + x·φ(x)', () => {
    const xs = [0, 1, -1, 2, 0.5];
    const want = [0, PHI['1']!, -PHI['-1']!, 2 * PHI['2']!, 0.5 * PHI['0.5']!];
    assertClose(gelu(f64(xs)).data, want, 1e-15, 1e-16);
    const dwant = [0.5, PHI['1']! + phi(1), PHI['-1']! - phi(-1), PHI['2']! + 2 * phi(2), PHI['0.5']! + 0.5 * phi(0.5)];
    assertClose(derivative(gelu, xs), dwant, 1e-14);
  });

  test('softplus: log 2 at 0, log 4 at log 3; derivative σ(x)', () => {
    assertClose(softplus(f64([0, Math.log(3)])).data, [Math.LN2, 2 * Math.LN2], 1e-15);
    assertClose(derivative(softplus, [0, Math.log(3)]), [0.5, 0.75], 1e-15);
  });

  test('sin and cos at multiples of π/6; derivatives cos and -sin', () => {
    const xs = [0, Math.PI / 6, Math.PI / 2, Math.PI];
    assertClose(sin(f64(xs)).data, [0, 0.5, 1, 0], 1e-15, 1e-15);
    assertClose(cos(f64(xs)).data, [1, Math.sqrt(3) / 2, 0, -1], 1e-15, 1e-15);
    assertClose(derivative(sin, xs), [1, Math.sqrt(3) / 2, 0, -1], 1e-15, 1e-15);
    assertClose(derivative(cos, xs), [-0, -0.5, -1, -0], 1e-15, 1e-15);
  });

  test('erf: 0 at 0, odd, derivative 2/√π·e^(-x²)', () => {
    expect(values(erf(f64([0])))).toEqual([0]);
    assertClose(derivative(erf, [0, 1, -2]), [2 / Math.sqrt(Math.PI), 2 / Math.sqrt(Math.PI) / Math.E, (2 / Math.sqrt(Math.PI)) * Math.exp(-4)], 1e-15);
  });

  test('clamp with both bounds, only a minimum, only a maximum; derivative 1 inside, 0 outside', () => {
    expect(values(clamp(f64([-2, 0.3, 5]), -1, 1))).toEqual([-1, 0.3, 1]);
    expect(derivative((x) => clamp(x, -1, 1), [-2, 0.3, 5])).toEqual([0, 1, 0]);
    expect(values(clamp(f64([-2, 0.3, 5]), 0))).toEqual([0, 0.3, 5]);
    expect(derivative((x) => x.clamp(0), [-2, 5])).toEqual([0, 1]);
    expect(values(clamp(f64([-2, 0.3, 5]), undefined, 1))).toEqual([-2, 0.3, 1]);
    expect(derivative((x) => x.clamp(undefined, 1), [-2, 5])).toEqual([1, 0]);
  });

  test('isFinite, isNan and isInf: bool tensors, true where the class holds; integer tensors are finite', () => {
    const x = grad64([1, Infinity, -Infinity, NaN, -0]);
    for (const [op, want] of [[isFinite, [1, 0, 0, 0, 1]], [isNan, [0, 0, 0, 1, 0]], [isInf, [0, 1, 1, 0, 0]]] as const) {
      const y = op(x);
      expect(y.dtype, op.name).toBe('bool');
      expect(values(y), op.name).toEqual(want);
      expect(y.requiresGrad).toBe(false);
      expect(values(op(x.toDtype('float32'))), `${op.name} float32`).toEqual(want);
    }
    expect(values(x.isNan())).toEqual([0, 0, 0, 1, 0]);
    const ints = tensor([5, -7], { dtype: 'int32' });
    expect(values(isFinite(ints))).toEqual([1, 1]);
    expect(values(isNan(ints))).toEqual([0, 0]);
    expect(values(isInf(tensor([true, false])))).toEqual([0, 0]);
    expect(isFinite(zeros([2, 0])).shape).toEqual([2, 0]);
  });

  test('sign: values, and a zero gradient (a graph node, as PyTorch: sign alone still backpropagates)', () => {
    expect(values(sign(f64([-2, 0, 3, NaN])))).toEqual([-1, 0, 1, NaN]);
    const x = grad64([-2, 3]);
    expect(sign(x).requiresGrad).toBe(true);
    x.mul(sign(x)).sum().backward(); // |x| written with sign: d/dx = sign(x)
    expect(values(x.grad)).toEqual([-1, 1]);
    const y = grad64([-2, 0, 3]);
    sign(y).sum().backward();
    expect(values(y.grad)).toEqual([0, 0, 0]);
  });
});

describe('forward matches plain loops over random shapes', () => {
  for (const c of cases) {
    test(c.name, () => {
      fc.assert(
        fc.property(oneArb({ ...c.forward, requiresGrad: false }), ([x]) => {
          const before = Float64Array.from(x!.data);
          const expected = { data: refMap(x!, c.ref), shape: x!.shape };
          assertClose(c.op(x!), expected, 1e-12, c.atol ?? 0);
          if (c.method !== undefined) assertClose(c.method(x!), expected, 1e-12, c.atol ?? 0);
          expect(x!.data).toEqual(before); // inputs are read, never written
        }),
        { numRuns: 60 },
      );
    });
  }

  test('erf is odd: erf(-x) = -erf(x) exactly', () => {
    fc.assert(
      fc.property(oneArb({ min: -7, max: 7, requiresGrad: false }), ([x]) => {
        expect(values(erf(x!.neg()))).toEqual(values(erf(x!)).map((v) => -v));
      }),
      { numRuns: 40 },
    );
  });
});

describe('float32 results are the float32 rounding of the float64 result', () => {
  for (const c of cases) {
    test(c.name, () => {
      fc.assert(
        fc.property(oneArb({ ...c.forward, dtype: 'float32', requiresGrad: false }), ([x]) => {
          const out32 = c.op(x!);
          expect(out32.dtype).toBe('float32');
          const out64 = c.op(x!.toDtype('float64'));
          // gelu is composed of float32 ops, each rounding once: a few float32 ulps, not one rounding.
          if (c.composite) assertClose(out32.data, Float64Array.from(out64.data, Math.fround), 0, 5e-7);
          else expectFloat32Rounding(out32.data, out64.data);
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe('gradients pass gradcheck over random shapes (0-d and size-1 dims included)', () => {
  for (const c of cases) {
    if (c.grad === null) continue;
    const domain = c.grad;
    test(c.name, () => {
      checkGradProperty((x) => c.op(x!), oneArb(domain), { numRuns: 25 });
    });
    test(`${c.name}: second derivatives (the VJP is itself differentiable)`, () => {
      checkGradGradProperty((x) => c.op(x!), oneArb(domain), { numRuns: 8 });
    });
  }

  test('leakyRelu with other slopes, clamp with one bound', () => {
    for (const slope of [0, 0.01, -0.5, 2]) checkGradProperty((x) => leakyRelu(x!, slope), oneArb({ avoid: [0] }), { numRuns: 8 });
    checkGradProperty((x) => clamp(x!, 0.25), oneArb({ avoid: [0.25] }), { numRuns: 8 });
    checkGradProperty((x) => clamp(x!, undefined, -0.25), oneArb({ avoid: [-0.25] }), { numRuns: 8 });
  });
});

describe('edge cases', () => {
  test('sigmoid saturates to exactly 0 and 1 without overflow; its gradient there is 0, not NaN', () => {
    const x = grad64([-800, 800, -40, 40]);
    const y = sigmoid(x);
    expect(values(y)).toEqual([0, 1, Math.exp(-40) / (1 + Math.exp(-40)), 1]);
    y.sum().backward();
    expect(values(x.grad).slice(0, 2)).toEqual([0, 0]);
    expect(values(x.grad).every(Number.isFinite)).toBe(true);
    expect(values(sigmoid(tensor([-800, 800, -200, 100])))).toEqual([0, 1, 0, 1]); // float32
  });

  test('softplus(±1000) is 1000 and 0 exactly (no overflow); gradient 1 and 0', () => {
    const x = grad64([1000, -1000]);
    const y = softplus(x);
    expect(values(y)).toEqual([1000, 0]);
    y.sum().backward();
    expect(values(x.grad)).toEqual([1, 0]);
    expect(values(softplus(tensor([1000, -1000, 100])))).toEqual([1000, 0, 100]);
    // Moderate negative x: log1p(e^x) ≈ e^x to full relative precision.
    assertClose(softplus(f64([-40])).data, [Math.exp(-40)], 1e-15);
  });

  test('exp overflows to Infinity (and its gradient to Infinity), never NaN; underflows to 0', () => {
    const x = grad64([1000, -1000]);
    const y = exp(x);
    expect(values(y)).toEqual([Infinity, 0]);
    y.sum().backward();
    expect(values(x.grad)).toEqual([Infinity, 0]);
    expect(values(exp(tensor([100, -200])))).toEqual([Infinity, 0]); // float32 range
  });

  test('erf matches published high-precision values to ~1e-15, on both of its algorithms', () => {
    const published: [number, number][] = [
      [0.5, 0.5204998778130465377],
      [1, 0.8427007929497148693],
      [2, 0.9953222650189527342],
      [3, 0.9999779095030014146],
      [4, 1 - 1.541725790028001885e-8], // 1 - erfc(4)
    ];
    const xs = published.map(([x]) => x);
    const got = values(erf(f64([...xs, ...xs.map((x) => -x)])));
    assertClose(got, [...published.map(([, v]) => v), ...published.map(([, v]) => -v)], 0, 1e-15);
    expect(values(erf(f64([Infinity, -Infinity, 10, -10])))).toEqual([1, -1, 1, -1]);
    expect(Number.isNaN(erf(f64([NaN])).item())).toBe(true);
    // Tiny arguments: erf(x) ≈ 2x/√π to full relative precision.
    assertClose(erf(f64([1e-10, -1e-300])).data, [2e-10 / Math.sqrt(Math.PI), -2e-300 / Math.sqrt(Math.PI)], 1e-15);
  });

  test('relu and abs have gradient exactly 0 at 0; leakyRelu has its slope there (PyTorch conventions)', () => {
    expect(derivative(relu, [0])[0]).toBe(0);
    expect(derivative(abs, [0])[0]).toBe(0);
    expect(derivative((x) => leakyRelu(x, 0.3), [0])[0]).toBe(0.3);
  });

  test("relu's gradient is g where the input was positive and g·0 elsewhere, bit for bit, on each backend and under vmap", () => {
    const backends: KernelBackend[] = wasmAvailable() ? ['js', 'wasm'] : ['js'];
    const special = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom<'float32' | 'float64'>('float32', 'float64'), (n, seed, dtype) => {
        let state = seed;
        const next = (): number => {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          return state % 7 === 0 ? special[state % special.length]! : (state / 2 ** 31 - 1) * 3;
        };
        const xs = Array.from({ length: n }, next);
        const gs = Array.from({ length: n }, next);
        const x = tensor(xs, { dtype });
        const g = tensor(gs, { dtype });
        const round = dtype === 'float32' ? Math.fround : (v: number) => v;
        const expected = xs.map((v, i) => round(gs[i]!) * (round(v) > 0 ? 1 : 0));
        for (const backend of backends) {
          const [dx] = withBackend(backend, () => vjp(relu, x).pullback(g));
          expect(Array.from(dx.data).every((v, i) => Object.is(v, expected[i]))).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
    // Batched: per-row gradients of relu(x)·w equal the rows' own gradients.
    const x = tensor([[1, -2, 0, 3], [-1, 2, -0.5, 0.25], [0, 0, 4, -4]], { dtype: 'float64' });
    const w = tensor([0.5, -1, 2, 3], { dtype: 'float64' });
    const rowGrad = grad((xi: Tensor) => relu(xi).mul(w).sum());
    const batched = vmap(rowGrad)(x);
    for (let r = 0; r < 3; r++) expect(Array.from(batched.data.subarray(4 * r, 4 * r + 4))).toEqual(Array.from(rowGrad(x.narrow(0, r, 1).reshape([4])).data));
  });

  test('clamp passes the gradient at its bounds (inclusive, as PyTorch)', () => {
    expect(derivative((x) => clamp(x, -1, 1), [-1, 1, 1.5])).toEqual([1, 1, 0]);
  });

  test('clamp with min > max sets every element to max, as PyTorch documents', () => {
    expect(values(clamp(f64([-5, 1.5, 5]), 2, 1))).toEqual([1, 1, 1]);
    expect(derivative((x) => clamp(x, 2, 1), [-5, 1.5, 5])).toEqual([0, 0, 0]);
  });

  test('sqrt has an infinite gradient at 0 (as PyTorch); log(0) = -Infinity, log(-1) = NaN', () => {
    expect(derivative(sqrt, [0])).toEqual([Infinity]);
    expect(values(log(f64([0, -1])))).toEqual([-Infinity, NaN]);
    expect(values(reciprocal(f64([0, -0])))).toEqual([Infinity, -Infinity]);
  });

  test('tanh saturates to ±1 with gradient 0', () => {
    const x = grad64([-30, 30]);
    const y = tanh(x);
    expect(values(y)).toEqual([-1, 1]);
    y.sum().backward();
    expect(values(x.grad)).toEqual([0, 0]);
  });

  test('NaN propagates through every op', () => {
    for (const c of cases) {
      const y = c.op(f64([NaN]));
      expect(Number.isNaN(y.item()), c.name).toBe(true);
    }
  });

  test('0-d and empty tensors keep their shape', () => {
    for (const c of cases) {
      const s = c.op(tensor(0.5, { dtype: 'float64' }));
      expect(s.shape, c.name).toEqual([]);
      assertClose([s.item()], [c.ref(0.5)], 1e-12, c.atol ?? 0);
      const e = c.op(tensor(new Float64Array(0), { shape: [2, 0] }));
      expect(e.shape, c.name).toEqual([2, 0]);
    }
  });

  test('gradients of float32 inputs are float32', () => {
    for (const c of cases) {
      if (c.grad === null) continue;
      const x = tensor([0.5, 1.5], { requiresGrad: true });
      c.op(x).sum().backward();
      expect(x.grad!.dtype, c.name).toBe('float32');
    }
  });
});

describe('errors', () => {
  for (const c of cases) {
    test(`${c.name}: a non-Tensor input is an ArgumentError naming the op`, () => {
      for (const bad of [null, 2, [1, 2], { data: [1] }]) {
        expect(() => c.op(bad as unknown as Tensor), `${c.name}(${JSON.stringify(bad)})`).toThrow(ArgumentError);
        expect(() => c.op(bad as unknown as Tensor)).toThrow(new RegExp(`^${c.name}: input must be a Tensor`));
      }
    });
  }

  test('gelu: an unknown approximation, softplus: a zero or non-finite beta are ArgumentErrors', () => {
    expect(() => gelu(f64([1]), { approximate: 'erf' as 'none' })).toThrow("gelu: approximate must be 'none' or 'tanh', got erf");
    expect(() => softplus(f64([1]), { beta: 0 })).toThrow('softplus: beta must be finite and non-zero, got 0');
    expect(() => softplus(f64([1]), { beta: NaN })).toThrow(ArgumentError);
  });

  test('round: decimals must be an integer; negative decimals need a float tensor', () => {
    expect(() => round(f64([1]), { decimals: 1.5 })).toThrow('round: decimals must be an integer, got 1.5');
    expect(() => round(tensor([15], { dtype: 'int32' }), { decimals: -1 })).toThrow(/^round: decimals -1 needs a float tensor, got int32/);
    // Integers already have no decimals.
    expect(round(tensor([15], { dtype: 'int32' }), { decimals: 2 }).toArray()).toEqual([15]);
    const x = grad64([1.234, 5.678]);
    x.round({ decimals: 1 }).sum().backward();
    expect(values(x.grad)).toEqual([0, 0]);
  });

  test('leakyRelu: a non-finite slope is an ArgumentError', () => {
    const x = f64([1, -1]);
    expect(() => leakyRelu(x, NaN)).toThrow(ArgumentError);
    expect(() => leakyRelu(x, Infinity)).toThrow(/^leakyRelu: slope must be finite/);
    expect(values(x)).toEqual([1, -1]);
  });

  test('elu, celu and hardtanh options: a bad alpha or bound is an ArgumentError naming the op', () => {
    const x = f64([1, -1]);
    expect(() => elu(x, { alpha: NaN })).toThrow(/^elu: alpha must be finite/);
    expect(() => x.celu({ alpha: 0 })).toThrow(/^celu: alpha must be finite and non-zero/);
    expect(() => hardtanh(x, { minVal: 2, maxVal: 1 })).toThrow(ArgumentError);
    expect(() => x.hardtanh({ minVal: NaN })).toThrow(/^hardtanh: minVal must be at most maxVal/);
    expect(values(x)).toEqual([1, -1]);
  });

  test('clamp: no bound, or a NaN bound, is an ArgumentError', () => {
    const x = f64([1, -1]);
    expect(() => clamp(x)).toThrow(ArgumentError);
    expect(() => x.clamp(NaN, 1)).toThrow(/^clamp: /);
    expect(() => x.clamp(0, NaN)).toThrow(ArgumentError);
    expect(values(x)).toEqual([1, -1]);
  });
});
