import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError, Tensor, tensor, type NestedArray } from '@chainrule/autograd';
import { assertClose, checkGradProperty, shapeArb, tensorArb } from '@chainrule/autograd/testing';
import { axisArb, distinctValuesArb, folds, reduceRef, resolveAxes } from './helpers/reduce-reference.js';
import { size } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

type Axis = number | number[] | undefined;

/** Runs backward of `out` (with ones for a non-scalar output) and returns x.grad as nested arrays. */
function gradOf(x: Tensor, out: Tensor): NestedArray {
  out.backward(out.size === 1 ? undefined : tensor(new Float64Array(out.size).fill(1), { shape: out.shape }));
  return x.grad!.toArray();
}

const ops = {
  sum: (x: Tensor, axis: Axis, keepdims: boolean) => x.sum(axis, keepdims),
  mean: (x: Tensor, axis: Axis, keepdims: boolean) => x.mean(axis, keepdims),
  max: (x: Tensor, axis: Axis, keepdims: boolean) => x.max(axis, keepdims),
  min: (x: Tensor, axis: Axis, keepdims: boolean) => x.min(axis, keepdims),
  prod: (x: Tensor, axis: Axis, keepdims: boolean) => x.prod(axis, keepdims),
  logsumexp: (x: Tensor, axis: Axis, keepdims: boolean) => x.logsumexp(axis, keepdims),
  var: (x: Tensor, axis: Axis, keepdims: boolean) => x.var(axis, { keepdims }),
  std: (x: Tensor, axis: Axis, keepdims: boolean) => x.std(axis, { keepdims }),
};
type OpName = keyof typeof ops;

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

  it('refuse a correction that leaves no degrees of freedom', () => {
    const x = grad64([[1, 2, 3]]);
    expect(() => x.var(0, { correction: 1 })).toThrow(ArgumentError);
    expect(() => x.var(0, { correction: 1 })).toThrow(/^var: 1 element\(s\) with correction 1/);
    expect(() => x.std(0, { correction: 1 })).toThrow(/^std: /);
  });
});

describe('axis errors name the op', () => {
  const x = grad64([[1, 2, 3], [4, 5, 6]]);
  for (const name of Object.keys(ops) as OpName[]) {
    it(name, () => {
      const op = ops[name];
      expect(() => op(x, 2, false)).toThrow(ShapeError);
      expect(() => op(x, 2, false)).toThrow(new RegExp(`^${name}: axis 2 is out of range for a tensor with 2 dimension\\(s\\)`));
      expect(() => op(x, -3, false)).toThrow(new RegExp(`^${name}: axis -3 is out of range`));
      expect(() => op(x, 0.5, false)).toThrow(new RegExp(`^${name}: axis 0.5 is out of range`));
      expect(() => op(x, [0, -2], false)).toThrow(new RegExp(`^${name}: axis 0 appears more than once in \\[0,-2\\]`));
      expect(() => op(grad64(1), 1, false)).toThrow(new RegExp(`^${name}: axis 1 is out of range for a tensor with 0 dimension\\(s\\)`));
    });
  }
});

/** A random shape, a valid axis argument for it, and keepdims. */
const caseArb = (maxRank = 3): fc.Arbitrary<{ shape: number[]; axis: Axis; keepdims: boolean }> =>
  shapeArb({ maxRank, maxDim: 3 }).chain((shape) =>
    fc.record({ shape: fc.constant(shape), axis: axisArb(shape.length), keepdims: fc.boolean() }),
  );

function valuesFor(name: OpName, n: number): fc.Arbitrary<number[]> {
  if (name === 'max' || name === 'min') return fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }); // ties on purpose
  if (name === 'prod') return fc.array(fc.constantFrom(0, -1.5, -0.5, 0.75, 1.25, 2), { minLength: n, maxLength: n });
  return fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n, maxLength: n });
}

describe('forward matches a plain-loop reference over random shapes and axes', () => {
  const reference: Record<OpName, (v: number[]) => number> = {
    sum: folds.sum,
    mean: folds.mean,
    max: folds.max,
    min: folds.min,
    prod: folds.prod,
    logsumexp: folds.logsumexp,
    var: folds.variance(0),
    std: (v) => Math.sqrt(folds.variance(0)(v)),
  };
  for (const name of Object.keys(ops) as OpName[]) {
    it(name, () => {
      fc.assert(
        fc.property(
          caseArb().chain((c) => fc.record({ c: fc.constant(c), values: valuesFor(name, size(c.shape)) })),
          ({ c, values }) => {
            const x = tensor(values, { dtype: 'float64', shape: c.shape });
            assertClose(ops[name](x, c.axis, c.keepdims), reduceRef(values, c.shape, c.axis, c.keepdims, reference[name]), 1e-12, 1e-12);
          },
        ),
        { numRuns: 30 },
      );
    });
  }

  it('var with correction 1, or an error when one element is reduced', () => {
    fc.assert(
      fc.property(
        caseArb().chain((c) => fc.record({ c: fc.constant(c), values: valuesFor('var', size(c.shape)) })),
        ({ c, values }) => {
          const x = tensor(values, { dtype: 'float64', shape: c.shape });
          const count = size(resolveAxes(c.axis, c.shape.length).map((a) => c.shape[a]!));
          if (count <= 1) {
            expect(() => x.var(c.axis, { correction: 1 })).toThrow(ArgumentError);
          } else {
            assertClose(x.var(c.axis, { correction: 1, keepdims: c.keepdims }), reduceRef(values, c.shape, c.axis, c.keepdims, folds.variance(1)));
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('gradients pass gradcheck over random shapes (float64)', () => {
  const specs: { label: string; axis: Axis; keepdims: boolean; minRank: number }[] = [
    { label: 'all axes', axis: undefined, keepdims: false, minRank: 0 },
    { label: 'axis 0', axis: 0, keepdims: false, minRank: 1 },
    { label: 'axis -1, keepdims', axis: -1, keepdims: true, minRank: 1 },
    { label: 'axes [0, -1]', axis: [0, -1], keepdims: false, minRank: 2 },
    { label: 'axes [-2], keepdims', axis: [-2], keepdims: true, minRank: 2 },
  ];
  const shapes = (minRank: number, minDim = 1): fc.Arbitrary<number[]> => shapeArb({ minRank, maxRank: 3, minDim, maxDim: 3 });

  /** Distinct values: ties are kinks of max/min, and equal values make std's gradient 0/0. */
  const distinct = (minRank: number, minDim = 1): fc.Arbitrary<Tensor[]> =>
    shapes(minRank, minDim).chain((shape) =>
      distinctValuesArb(size(shape)).map((v) => [tensor(v, { dtype: 'float64', shape, requiresGrad: true })]),
    );
  const smooth = (minRank: number, minDim = 1): fc.Arbitrary<Tensor[]> =>
    shapes(minRank, minDim).chain((shape) => tensorArb(shape).map((t) => [t]));
  const valueArbAwayFromZero = fc.oneof(fc.double({ min: -1.5, max: -0.5, noNaN: true }), fc.double({ min: 0.5, max: 1.5, noNaN: true }));
  /** Values away from 0, with some elements set to exactly 0 (the prefix × suffix path). */
  const withZeros = (minRank: number): fc.Arbitrary<Tensor[]> =>
    shapes(minRank).chain((shape) =>
      fc
        .tuple(
          fc.array(valueArbAwayFromZero, { minLength: size(shape), maxLength: size(shape) }),
          fc.array(fc.boolean(), { minLength: size(shape), maxLength: size(shape) }),
        )
        .map(([v, zero]) => [tensor(v.map((e, i) => (zero[i] ? 0 : e)), { dtype: 'float64', shape, requiresGrad: true })]),
    );

  const inputs: Record<OpName, (minRank: number) => fc.Arbitrary<Tensor[]>> = {
    sum: smooth,
    mean: smooth,
    max: distinct,
    min: distinct,
    prod: withZeros,
    logsumexp: smooth,
    var: smooth,
    // At least two reduced elements (one alone has std 0 and an infinite derivative).
    std: (minRank) => distinct(Math.max(minRank, 1), 2),
  };
  for (const name of Object.keys(ops) as OpName[]) {
    for (const spec of specs) {
      it(`${name}, ${spec.label}`, () => {
        checkGradProperty((x) => ops[name](x, spec.axis, spec.keepdims), inputs[name](spec.minRank), { numRuns: 8 });
      });
    }
  }

  it('var with correction 1', () => {
    checkGradProperty((x) => x.var([0, -1], { correction: 1 }), smooth(2, 2), { numRuns: 10 });
    checkGradProperty((x) => x.std(-1, { correction: 1, keepdims: true }), distinct(1, 2), { numRuns: 10 });
  });

  it('prod without zeros (the out / x path)', () => {
    const away = shapes(0).chain((shape) =>
      fc.array(valueArbAwayFromZero, { minLength: size(shape), maxLength: size(shape) }).map((v) => [
        tensor(v, { dtype: 'float64', shape, requiresGrad: true }),
      ]),
    );
    checkGradProperty((x) => x.prod(-1), away.filter(([t]) => t!.ndim > 0), { numRuns: 10 });
    checkGradProperty((x) => x.prod(), away, { numRuns: 10 });
  });
});
