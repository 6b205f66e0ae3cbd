import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError, Tensor, cumprod, cumsum, formatGradcheckReport, gradcheck, gradgradcheck, logcumsumexp, tensor } from '@chainrule/autograd';
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

  it('scans of empty axes give empty results', () => {
    const e = tensor(new Float64Array(0), { shape: [2, 0] });
    expect(e.cumsum(1).shape).toEqual([2, 0]);
    expect(e.cumprod(0).shape).toEqual([2, 0]);
    expect(e.logcumsumexp(1).shape).toEqual([2, 0]);
  });
});
