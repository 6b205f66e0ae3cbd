import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, DTypeError, nanmean, nanquantile, nanstd, nansum, nanvar, quantile, ShapeError, tensor, where, type QuantileInterpolation, type Tensor,
} from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor, shapeArb } from '@chainrule/autograd/testing';
import { axisArb, distinctValuesArb, reduceRef } from './helpers/reduce-reference.js';
import { size } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

const shapes = fc.oneof({ arbitrary: shapeArb({ maxRank: 3, maxDim: 3 }), weight: 3 }, { arbitrary: shapeArb({ maxRank: 3, minDim: 0, maxDim: 3 }), weight: 1 });
/** Values with NaN now and then. */
const withNaN = fc.oneof({ arbitrary: fc.double({ min: -5, max: 5, noNaN: true }), weight: 3 }, { arbitrary: fc.constant(NaN), weight: 1 });

const finite = (v: number[]): number[] => v.filter((x) => !Number.isNaN(x));
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const nanVariance = (correction: number) => (v: number[]): number => {
  const f = finite(v);
  if (f.length - correction <= 0) return NaN;
  const mu = mean(f);
  return f.reduce((s, x) => s + (x - mu) ** 2, 0) / (f.length - correction);
};

type NanReduction = (x: Tensor, axis: number | number[] | undefined, keepdims: boolean) => Tensor;

/** `minFinite`: fewer non-NaN elements in a slice put the gradient at a kink (std of one element: √0). */
const NAN_REDUCTIONS: { name: string; op: NanReduction; ref: (v: number[]) => number; minFinite?: number }[] = [
  { name: 'nansum', op: (x, a, k) => nansum(x, a, k), ref: (v) => finite(v).reduce((s, x) => s + x, 0) },
  { name: 'nanmean', op: (x, a, k) => x.nanmean(a, k), ref: (v) => mean(finite(v)) },
  { name: 'nanvar', op: (x, a, k) => x.nanvar(a, { keepdims: k }), ref: nanVariance(0) },
  { name: 'nanvar, correction 1', op: (x, a, k) => nanvar(x, a, { keepdims: k, correction: 1 }), ref: nanVariance(1) },
  { name: 'nanstd', op: (x, a, k) => nanstd(x, a, { keepdims: k }), ref: (v) => Math.sqrt(nanVariance(0)(v)), minFinite: 2 },
];

describe('nansum, nanmean, nanvar and nanstd', () => {
  for (const c of NAN_REDUCTIONS) {
    it(`${c.name} matches a plain loop that skips NaN, over random shapes (zero-size included), axes and keepdims`, () => {
      const cases = shapes.chain((shape) => fc.record({
        shape: fc.constant(shape), axis: axisArb(shape.length), keepdims: fc.boolean(), values: fc.array(withNaN, { minLength: size(shape), maxLength: size(shape) }),
      }));
      fc.assert(
        fc.property(cases, ({ shape, axis, keepdims, values }) => {
          const x = tensor(values, { dtype: 'float64', shape });
          let got: Tensor;
          try {
            got = c.op(x, axis, keepdims);
          } catch (e) {
            // Too few elements for the correction even without NaN: an error, as variance.
            expect(e).toBeInstanceOf(ArgumentError);
            expect(c.name).toMatch(/^nan(var|std)/);
            return;
          }
          assertClose(got, reduceRef(values, shape, axis, keepdims, c.ref), 1e-12, 1e-12);
          expect(Array.from(x.data)).toEqual(values);
        }),
        { numRuns: 150 },
      );
    });

    it(`${c.name}: NaN elements get gradient 0, the others pass gradcheck and gradgradcheck`, () => {
      // NaN is written in inside the function: gradcheck perturbs only finite inputs.
      const cases = fc.tuple(shapeArb({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 3 }), fc.noShrink(fc.integer())).chain(([shape, seed]) =>
        fc.record({
          x: fc.constant(seededTensor(shape, seed)),
          nan: fc.array(fc.integer({ min: 0, max: 5 }).map((v) => (v === 0 ? 1 : 0)), { minLength: size(shape), maxLength: size(shape) }),
          axis: axisArb(shape.length),
        }),
      );
      fc.assert(
        fc.property(cases, ({ x, nan, axis }) => {
          const counts = reduceRef(nan.map((v) => 1 - v), x.shape, axis, false, (v) => v.reduce((a, b) => a + b, 0));
          fc.pre(counts.data.every((n) => n >= (c.minFinite ?? 0)));
          const mask = tensor(nan, { dtype: 'float64', shape: x.shape });
          const f = (t: Tensor): Tensor => c.op(where(mask, NaN, t), axis, false).nanToNum({ nan: 0 });
          checkGradProperty((t) => f(t!), fc.constant([x]), { numRuns: 1 });
          checkGradGradProperty((t) => f(t!), fc.constant([x]), { numRuns: 1 });
        }),
        { numRuns: 15 },
      );
    });
  }

  it('give NaN for a slice of NaN only, and name the op in their errors', () => {
    expect(Number.isNaN(nanmean(f64([NaN, NaN])).item())).toBe(true);
    expect(nansum(f64([NaN, NaN])).item()).toBe(0);
    expect(Number.isNaN(nanvar(f64([[1, NaN], [2, 3]]), 1, { correction: 1 }).data[0]!)).toBe(true);
    expect(() => nanvar(f64([1]), 0, { correction: 1 })).toThrow(/^nanvar: 1 element\(s\) with correction 1 leave no degrees of freedom/);
    expect(() => nanstd(f64([1]), 0, { correction: 1 })).toThrow(/^nanstd: /);
    // A constant slice (NaNs aside) has std 0 and gradient 0, as std's.
    const c = tensor([2, NaN, 2], { dtype: 'float64', requiresGrad: true });
    nanstd(c).backward();
    expect(Array.from(c.grad!.data)).toEqual([0, 0, 0]);
    expect(() => nansum(f64([1]), 1)).toThrow(/^nansum: axis 1 is out of range/);
    expect(() => nanmean(f64([1]), [0, 0])).toThrow(ShapeError);
  });
});

/** torch.quantile by its definition, on one slice. */
function quantileOf(v: number[], q: number, mode: QuantileInterpolation, ignoreNan: boolean): number {
  const kept = ignoreNan ? finite(v) : v;
  if (kept.some(Number.isNaN) || kept.length === 0) return NaN;
  const s = [...kept].sort((a, b) => a - b);
  const rank = q * (s.length - 1);
  const lo = Math.floor(rank), hi = Math.ceil(rank);
  switch (mode) {
    case 'lower': return s[lo]!;
    case 'higher': return s[hi]!;
    case 'nearest': {
      const r = Math.round(rank);
      return s[r - rank === 0.5 && r % 2 !== 0 ? r - 1 : r]!; // ties to even
    }
    case 'midpoint': return (s[lo]! + s[hi]!) / 2;
    case 'linear': return s[lo]! + (rank - lo) * (s[hi]! - s[lo]!);
  }
}

const MODES: QuantileInterpolation[] = ['linear', 'lower', 'higher', 'midpoint', 'nearest'];

describe('quantile and nanquantile', () => {
  for (const ignoreNan of [false, true]) {
    const name = ignoreNan ? 'nanquantile' : 'quantile';
    const op = ignoreNan ? nanquantile : quantile;
    it(`${name} matches the definition over random shapes, axes, q and interpolation modes`, () => {
      const cases = shapeArb({ maxRank: 3, maxDim: 4 }).chain((shape) => fc.record({
        shape: fc.constant(shape),
        axis: shape.length === 0 ? fc.constantFrom(undefined, 0, -1) : fc.oneof(fc.constant(undefined), fc.integer({ min: -shape.length, max: shape.length - 1 })),
        keepdims: fc.boolean(),
        qs: fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.25, 0.5, 1)), { minLength: 1, maxLength: 3 }),
        scalarQ: fc.boolean(),
        mode: fc.constantFrom(...MODES),
        values: fc.array(fc.oneof({ arbitrary: fc.integer({ min: -3, max: 3 }), weight: 4 }, { arbitrary: fc.constant(NaN), weight: 1 }), { minLength: size(shape), maxLength: size(shape) }),
      }));
      fc.assert(
        fc.property(cases, ({ shape, axis, keepdims, qs, scalarQ, mode, values }) => {
          const x = tensor(values, { dtype: 'float64', shape });
          const q = scalarQ ? qs[0]! : f64(qs);
          const got = op(x, q, axis, { keepdims, interpolation: mode });
          const parts = (scalarQ ? [qs[0]!] : qs).map((qv) => reduceRef(values, shape, axis, keepdims, (v) => quantileOf(v, qv, mode, ignoreNan)));
          const want = { data: parts.flatMap((p) => p.data), shape: scalarQ ? parts[0]!.shape : [qs.length, ...parts[0]!.shape] };
          assertClose(got, want, 1e-12, 1e-12);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('keeps float32, with ranks rounded as PyTorch rounds them', () => {
    const x = tensor([[3, 1, 2, 4, 8], [0.5, 0.25, -1, 7, 2]]);
    const out = x.quantile(0.3, 1);
    expect(out.dtype).toBe('float32');
    assertClose(out, x.toDtype('float64').quantile(0.3, 1), 1e-6);
  });

  it('send the gradient to the two neighbouring order statistics (1 - w and w)', () => {
    const x = grad64([4, 1, 3, 2]); // sorted 1, 2, 3, 4; q 0.5 -> rank 1.5 between 2 and 3
    x.quantile(0.5).backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0.5, 0.5]);
    const y = grad64([4, 1, 3, 2]);
    quantile(y, 0.4, 0, { interpolation: 'higher' }).backward(); // rank 1.2 -> 3
    expect(Array.from(y.grad!.data)).toEqual([0, 0, 1, 0]);
  });

  it('pass gradcheck and gradgradcheck over distinct values', () => {
    for (const mode of MODES) {
      const cases = fc.tuple(shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }), fc.double({ min: 0, max: 1, noNaN: true })).chain(([shape, q]) =>
        distinctValuesArb(size(shape)).map((v) => ({ x: tensor(v, { dtype: 'float64', shape, requiresGrad: true }), q, axis: shape.length - 1 })),
      );
      fc.assert(
        fc.property(cases, ({ x, q, axis }) => {
          checkGradProperty((t) => quantile(t!, q, axis, { interpolation: mode }), fc.constant([x]), { numRuns: 1 });
          checkGradGradProperty((t) => nanquantile(t!, f64([q, 1 - q]), undefined, { interpolation: mode }), fc.constant([x]), { numRuns: 1 });
        }),
        { numRuns: 10 },
      );
    }
  });

  it('name the op, shape and dtype in their errors, leaving inputs unchanged', () => {
    const x = f64([[1, 2], [3, 4]]);
    expect(() => quantile(x, 1.5)).toThrow(/^quantile: q values must lie in \[0, 1\], got 1.5 \(input \[2,2\] float64\)/);
    expect(() => nanquantile(x, NaN)).toThrow(/^nanquantile: q values must lie in \[0, 1\], got NaN/);
    expect(() => quantile(x, f64([[0.5]]))).toThrow(/^quantile: q must be a number or a 0-d or 1-D tensor, got shape \[1,1\]/);
    expect(() => quantile(x, tensor([0.5]))).toThrow(DTypeError);
    expect(() => quantile(f64([]), 0.5)).toThrow(/^quantile: the input must not be empty, got shape \[0\] float64/);
    expect(() => quantile(x, 0.5, 2)).toThrow(/^quantile: axis 2 is out of range/);
    expect(() => quantile(x, 0.5, 0, { interpolation: 'cubic' as 'linear' })).toThrow(/^quantile: interpolation must be one of linear, lower, higher, midpoint, nearest, got cubic/);
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4]);
  });
});

describe('integer inputs', () => {
  it('nansum keeps integers; the means, variances and quantiles compute in float', () => {
    const i = tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    expect(nansum(i).dtype).toBe('int32');
    expect(nansum(i).item()).toBe(10);
    expect(nanmean(i, 1).dtype).toBe('float32');
    expect(nanmean(i, 1).toArray()).toEqual([1.5, 3.5]);
    expect(nanvar(i, 1).toArray()).toEqual([0.25, 0.25]);
    expect(quantile(i, 0.5, 1).toArray()).toEqual([1.5, 3.5]);
  });
});
