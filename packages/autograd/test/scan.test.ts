import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError, Tensor, cummax, cummin, cumprod, cumsum, flip, formatGradcheckReport, grad, gradcheck, gradgradcheck, hessian, jit, jvp, logcumsumexp, stack, tensor, vmap } from '@chainrule/autograd';
import { cumsumReverse, logcumsumexpReverse } from '../src/ops/scan.js';
import { assertClose, seededTensor, shapeArb } from '@chainrule/autograd/testing';
import { alongAxisRef } from './helpers/reduce-reference.js';
import { logSumExpRef, prefixLine } from './helpers/rearrange-reference.js';
import { messageOf } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

const pos = (axis: number, ndim: number): number => (axis < 0 ? axis + Math.max(ndim, 1) : axis);

/** A random shape (dims 0..4, 0-d included) with an axis of it, and seeded values in [min, max]. */
function scanCaseArb(min = -2, max = 2, zeros = false): fc.Arbitrary<{ x: Tensor; dim: number }> {
  return shapeArb({ maxRank: 3, minDim: 0, maxDim: 4 }).chain((shape) =>
    fc.record({
      dim: fc.integer({ min: -Math.max(shape.length, 1), max: Math.max(shape.length, 1) - 1 }),
      seed: fc.noShrink(fc.integer()),
      zeroAt: fc.array(fc.nat(), { maxLength: zeros ? 3 : 0 }),
    }).map(({ dim, seed, zeroAt }) => {
      const x = seededTensor(shape, seed, { min, max });
      // Exact zeros: where cumprod's gradient may not divide by x.
      for (const k of zeroAt) if (x.size > 0) x.data[k % x.size] = 0;
      return { x, dim };
    }),
  );
}

const sumOf = (v: number[]): number => v.reduce((a, b) => a + b, 0);
const productOf = (v: number[]): number => v.reduce((a, b) => a * b, 1);

const line = (x: Tensor, dim: number, fold: (prefix: number[]) => number): { data: number[]; shape: number[] } =>
  x.ndim === 0 ? { data: [fold([x.data[0]!])], shape: [] } : alongAxisRef(x.data, x.shape, pos(dim, x.ndim), (l) => prefixLine(l, fold));

interface ScanSpec {
  name: string;
  op: (x: Tensor, dim: number) => Tensor;
  fold: (prefix: number[]) => number;
  arb: fc.Arbitrary<{ x: Tensor; dim: number }>;
}

const specs: ScanSpec[] = [
  { name: 'cumsum', op: (x, d) => x.cumsum(d), fold: sumOf, arb: scanCaseArb() },
  { name: 'cumprod', op: (x, d) => x.cumprod(d), fold: productOf, arb: scanCaseArb(-2, 2, true) },
  { name: 'logcumsumexp', op: (x, d) => x.logcumsumexp(d), fold: logSumExpRef, arb: scanCaseArb(-30, 30) },
];

describe.each(specs)('$name', ({ name, op, fold, arb }) => {
  it('matches the running fold of each line (plain-loop reference), in float64 and float32', () => {
    fc.assert(
      fc.property(arb, ({ x, dim }) => {
        const want = line(x, dim, fold);
        assertClose(op(x, dim), want, 1e-13, 1e-13);
        const x32 = new Tensor(Float32Array.from(x.data), x.shape);
        const y32 = op(x32, dim);
        expect(y32.dtype).toBe('float32');
        assertClose(y32, line(x32, dim, fold), 1e-6, 1e-6);
      }),
      { numRuns: 60 },
    );
  });

  it('passes gradcheck and gradgradcheck in float64 over random shapes', () => {
    fc.assert(
      fc.property(arb, ({ x, dim }) => {
        for (const report of [gradcheck((t) => op(t, dim), [x]), gradgradcheck((t) => op(t, dim), [x])]) {
          if (!report.ok) throw new Error(`shape ${JSON.stringify(x.shape)}, dim ${dim}: ${formatGradcheckReport(report)}`);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('refuses an axis out of range, naming the op, and leaves the input unchanged', () => {
    const x = grad64([[1, 2], [3, 4]]);
    expect(() => op(x, 2)).toThrow(ShapeError);
    expect(messageOf(() => op(x, 2))).toBe(`${name}: axis 2 is out of range for a tensor with 2 dimension(s)`);
    expect(x.toArray()).toEqual([[1, 2], [3, 4]]);
  });
});

describe('hand-computed scans', () => {
  it('cumsum and its gradient (the running sum from the end)', () => {
    const x = grad64([[1, 2, 3], [4, 5, 6]]);
    expect(cumsum(x, 1).toArray()).toEqual([[1, 3, 6], [4, 9, 15]]);
    expect(x.cumsum(0).toArray()).toEqual([[1, 2, 3], [5, 7, 9]]);
    x.cumsum(1).backward(f64([[1, 2, 3], [4, 5, 6]]));
    expect(x.grad!.toArray()).toEqual([[6, 5, 3], [15, 11, 6]]);
    expect(grad64(3).cumsum(0).item()).toBe(3);
  });

  it('cumprod: the gradient through zeros is the product of the other elements, never NaN', () => {
    const x = grad64([2, 0, 3, 0, 5]);
    expect(cumprod(x, 0).toArray()).toEqual([2, 0, 0, 0, 0]);
    x.cumprod(0).backward(f64([1, 1, 1, 1, 1]));
    // d/dx0 = 1 (only out0 has a non-zero derivative: x1 = 0 kills the rest);
    // d/dx1 = Σ_{j≥1} Π_{m≤j, m≠1} x_m = 2 + 2·3 + 0 + 0 = 8; d/dx3 = 2·0·3 + ... = 0.
    expect(x.grad!.toArray()).toEqual([1, 8, 0, 0, 0]);
    // Second derivative through a zero, with createGraph: ∂²(Σ out)/∂x1∂x2 = 2 + 0 + 0.
    const y = grad64([2, 0, 3]);
    const [g] = [y].map((t) => {
      const out = t.cumprod(0).sum();
      out.backward({ createGraph: true });
      return t.grad!;
    });
    expect(g!.toArray()).toEqual([1, 8, 0]);
    const h = tensor([0, 1, 0], { dtype: 'float64' });
    const gy = g!.mul(h).sum();
    y.grad = null;
    gy.backward();
    // ∂/∂x (∂L/∂x1) where ∂L/∂x1 = x0 + x0·x2: [1 + x2, 0, x0] = [4, 0, 2].
    expect(y.grad!.toArray()).toEqual([4, 0, 2]);
  });

  it('logcumsumexp is stable for large inputs and -Infinity', () => {
    expect(logcumsumexp(f64([1000, 1000]), 0).toArray()).toEqual([1000, 1000 + Math.LN2]);
    expect(logcumsumexp(f64([-Infinity, 0]), 0).toArray()).toEqual([-Infinity, 0]);
    expect(logcumsumexp(tensor([1000, -1000], { dtype: 'float32' }), 0).toArray()).toEqual([1000, 1000]);
    const x = grad64([0, 0]);
    x.logcumsumexp(0).backward(f64([1, -1]));
    // out1 = log 2: ∂out0/∂x = [1, 0], ∂out1/∂x = [0.5, 0.5]: [1 - 0.5, -0.5].
    assertClose(x.grad!, [0.5, -0.5], 1e-15, 1e-15);
  });

  it('scans of int32 and bool tensors are float32, as other float ops of integers', () => {
    const ints = tensor([[1, 2], [3, -4]], { dtype: 'int32' });
    expect(ints.cumsum(1).dtype).toBe('float32');
    expect(ints.cumsum(1).toArray()).toEqual([[1, 3], [3, -1]]);
    expect(ints.cumprod(0).toArray()).toEqual([[1, 2], [3, -8]]);
    expect(tensor([1, 0, 1], { dtype: 'bool' }).cumsum(0).toArray()).toEqual([1, 1, 2]);
    assertClose(tensor([0, 0], { dtype: 'int32' }).logcumsumexp(0), [0, Math.LN2], 1e-7);
  });

  it('scans of empty axes give empty results', () => {
    const e = tensor(new Float64Array(0), { shape: [2, 0] });
    expect(e.cumsum(1).shape).toEqual([2, 0]);
    expect(e.cumprod(0).shape).toEqual([2, 0]);
    expect(e.logcumsumexp(1).shape).toEqual([2, 0]);
  });
});

/**
 * torch.cummax/cummin by definition, not by a running update: the index at i is the last NaN of
 * x[0..i] if there is one, else the last position of the prefix's extremum.
 */
function argExtremumRef(line: number[], max: boolean): number[] {
  return line.map((_, i) => {
    const prefix = line.slice(0, i + 1);
    const lastNaN = prefix.map((v, j) => (Number.isNaN(v) ? j : -1)).reduce((a, b) => Math.max(a, b), -1);
    if (lastNaN >= 0) return lastNaN;
    const best = max ? Math.max(...prefix) : Math.min(...prefix);
    return prefix.lastIndexOf(best);
  });
}

describe.each([
  { name: 'cummax', op: cummax, max: true },
  { name: 'cummin', op: cummin, max: false },
])('$name', ({ name, op, max }) => {
  it('hand-computed values and indices (from PyTorch): ties to the latest, NaN wins', () => {
    const r = op(f64(max ? [1, 1, 0, 1, 2, 2] : [1, 1, 2, 1, 0, 0]), 0);
    expect(r.values.toArray()).toEqual(max ? [1, 1, 1, 1, 2, 2] : [1, 1, 1, 1, 0, 0]);
    expect(r.indices.dtype).toBe('int32');
    expect(r.indices.toArray()).toEqual([0, 1, 1, 3, 4, 5]);
    const n = op(f64([1, NaN, 3, NaN, 5]), 0);
    expect(n.values.toArray()).toEqual([1, NaN, NaN, NaN, NaN]);
    expect(n.indices.toArray()).toEqual([0, 1, 1, 3, 3]);
    expect(op(f64([-Infinity, -Infinity]), 0).indices.toArray()).toEqual([0, 1]);
    expect(op(f64(2), 0).indices.toArray()).toBe(0);
    const ints = op(tensor([3, 1, 4], { dtype: 'int32' }), 0);
    expect(ints.values.dtype).toBe('int32');
    expect(ints.values.toArray()).toEqual(max ? [3, 3, 4] : [3, 1, 1]);
  });

  it('sends the gradient to the element each value came from', () => {
    const x = grad64(max ? [1, 3, 3, 2] : [3, 1, 1, 2]);
    op(x, 0).values.backward(f64([1, 2, 3, 4]));
    expect(x.grad!.toArray()).toEqual([1, 2, 7, 0]); // PyTorch's
  });

  it('matches the definition over random shapes with ties and NaN; gradcheck and gradgradcheck pass', () => {
    fc.assert(
      fc.property(scanCaseArb(-2, 2), fc.boolean(), ({ x, dim }, rounded) => {
        // Rounded values tie often; a NaN now and then.
        const t = new Tensor(Float64Array.from(x.data, (v, i) => (i % 7 === 5 ? NaN : rounded ? Math.round(v) : v)), x.shape);
        const ax = pos(dim, t.ndim);
        const { values, indices } = op(t, dim);
        const want = t.ndim === 0 ? { data: [0], shape: [] } : alongAxisRef(t.data, t.shape, ax, (l) => argExtremumRef(l, max));
        assertClose(indices, want, 0, 0);
        const picked = t.ndim === 0 ? [t.data[0]!] : alongAxisRef(t.data, t.shape, ax, (l) => argExtremumRef(l, max).map((k) => l[k]!)).data;
        assertClose(values, { data: picked, shape: [...t.shape] }, 0, 0);
      }),
      { numRuns: 60 },
    );
    fc.assert(
      fc.property(scanCaseArb(), ({ x, dim }) => {
        for (const report of [gradcheck((t) => op(t, dim).values, [x]), gradgradcheck((t) => op(t, dim).values, [x])]) {
          if (!report.ok) throw new Error(`${name}, shape ${JSON.stringify(x.shape)}, dim ${dim}: ${formatGradcheckReport(report)}`);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('refuses an axis out of range, naming the op', () => {
    const x = grad64([[1, 2], [3, 4]]);
    expect(() => op(x, -3)).toThrow(ShapeError);
    expect(messageOf(() => op(x, -3))).toBe(`${name}: axis -3 is out of range for a tensor with 2 dimension(s)`);
    expect(x.toArray()).toEqual([[1, 2], [3, 4]]);
  });
});

// The scans from the end that cumsum's and logcumsumexp's VJPs and JVP rules run are primitives
// of their own (not exported), so that a trace records those gradients as ops.
describe.each([
  { name: 'cumsumReverse', op: cumsumReverse, forward: cumsum, arb: scanCaseArb() },
  { name: 'logcumsumexpReverse', op: logcumsumexpReverse, forward: logcumsumexp, arb: scanCaseArb(-30, 30) },
])('$name', ({ name, op, forward, arb }) => {
  it('is the forward scan of the flipped line, flipped back; gradcheck, gradgradcheck, its JVP and vmap agree', () => {
    fc.assert(
      fc.property(arb, ({ x, dim }) => {
        const flipped = (t: Tensor): Tensor => (t.ndim === 0 ? forward(t, dim) : flip(forward(flip(t, [dim]), dim), [dim]));
        assertClose(op(x, dim), flipped(x), 1e-13, 1e-13);
        for (const report of [gradcheck((t) => op(t, dim), [x]), gradgradcheck((t) => op(t, dim), [x])]) {
          if (!report.ok) throw new Error(`${name}, shape ${JSON.stringify(x.shape)}, dim ${dim}: ${formatGradcheckReport(report)}`);
        }
        const v = seededTensor(x.shape, 5, { requiresGrad: false });
        assertClose(jvp((t: Tensor) => op(t, dim), [x.detach()], [v]).tangent, jvp(flipped, [x.detach()], [v]).tangent, 1e-12, 1e-12);
        // vmap over a new leading axis: each example scanned as it would be alone.
        const pair = vmap((t: Tensor) => op(t, dim))(stack([x.detach(), x.detach().mul(2)]));
        assertClose(pair, stack([op(x.detach(), dim), op(x.detach().mul(2), dim)]), 0, 0);
      }),
      { numRuns: 20 },
    );
  });
});

// Scans differentiated twice inside jit. cumsum's and logcumsumexp's gradients are ops (their
// reverse scans above), traced as they are; cumprod's has a form for x with zeros and one without,
// which the program holds both of, picking one at each call (traced where x holds a zero and run
// where it holds none, and the other way round, below); cummax's and cummin's is a scatter-add,
// recorded as the op's backward primitive, run again from the program's values at each call.
// Either way: eager's values, to rounding (each element within 1e-12 of the largest magnitude, or
// of 1), at values other than the traced ones; and the compiled jvp (two reverse passes inside
// jit) is eager forward mode's.
describe.each([
  { name: 'cumsum', op: (x: Tensor, d: number) => cumsum(x, d), arb: scanCaseArb(), asOps: true },
  { name: 'logcumsumexp', op: (x: Tensor, d: number) => logcumsumexp(x, d), arb: scanCaseArb(-3, 3), asOps: true },
  { name: 'cumprod', op: (x: Tensor, d: number) => cumprod(x, d), arb: scanCaseArb(-2, 2), asOps: false },
  { name: 'cumprod (zeros)', op: (x: Tensor, d: number) => cumprod(x, d), arb: scanCaseArb(-2, 2, true), asOps: false },
  { name: 'cummax', op: (x: Tensor, d: number) => cummax(x, d).values, arb: scanCaseArb(), asOps: false },
  { name: 'cummin', op: (x: Tensor, d: number) => cummin(x, d).values, arb: scanCaseArb(), asOps: false },
])('$name inside jit, differentiated twice', ({ name, op, arb, asOps }) => {
  const near = (actual: Tensor, expected: Tensor): void => {
    let scale = 1;
    for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
    assertClose(actual, expected, 0, 1e-12 * scale);
  };
  it('jit(grad(grad(f))), jit(hessian(f)) and jit of jvp equal eager over random shapes in float64', () => {
    fc.assert(
      fc.property(arb, fc.noShrink(fc.integer()), ({ x, dim }, seed) => {
        const x0 = x.detach();
        const x1 = x0.mul(-0.7).add(0.1);
        const w = seededTensor(x.shape, seed, { requiresGrad: false });
        const f = (t: Tensor): Tensor => op(t, dim).sin().sum();
        const gg = (t: Tensor): Tensor => grad((u: Tensor) => grad(f)(u).mul(w).sum())(t);
        const hess = (t: Tensor): Tensor => hessian(f)(t);
        const tangent = (t: Tensor, v: Tensor): Tensor => jvp((u: Tensor) => op(u, dim).sin(), [t], [v]).tangent;
        for (const [label, h] of [['grad(grad)', gg], ['hessian', hess], ['jvp', tangent]] as const) {
          const run = h as (t: Tensor, v: Tensor) => Tensor;
          // Traced where x may hold zeros and run where it holds none, and the other way round.
          for (const [first, then] of [[x0, x1], [x1, x0]] as const) {
            const compiled = jit(run);
            const traced = compiled.lower(first, w).text;
            // The VJP made of ops: no backward primitive in the program.
            if (asOps) expect(traced, `${name} ${label}`).not.toMatch(/Backward/);
            near(compiled(then, w), run(then, w));
          }
        }
      }),
      { numRuns: 8 },
    );
  });
});
