/**
 * The table that tests every reduction from one row: forward against a plain-loop fold over
 * random shapes (0-d, size-1 and zero-size included), axes (single, lists, negative) and
 * keepdims; float32 rounding; NaN; gradcheck over fixed axis patterns and gradgradcheck over
 * random ones in float64; the errors. Hand-computed cases stay in reduce.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, formatGradcheckReport, gradgradcheck, ShapeError, tensor, type Tensor } from '@chainrule/autograd';
import { assertClose, checkGradProperty, shapeArb, tensorArb } from '@chainrule/autograd/testing';
import { axisArb, distinctValuesArb, reduceRef, resolveAxes } from './reduce-reference.js';
import { expectFloat32Rounding, size } from './reference.js';
import { f64, grad64 } from './tensors.js';

export type Axis = number | number[] | undefined;

/** Inputs of the gradient checks: each away from the reduction's kinks. */
export type GradInputs =
  /** values in [-2, 2] */
  | 'smooth'
  /** distinct values 0.05 apart (max/min have a kink at ties; std's gradient is 0/0 at equal values) */
  | 'distinct'
  /** values away from 0 with some set to exactly 0 (prod's product-of-others path) */
  | 'someZeros'
  /** values away from 0 (prod's out / x path) */
  | 'awayFromZero';

/** One reduction. */
export interface ReductionCase {
  /** The op's name, as its error messages spell it. */
  name: string;
  /** The test title, where one op has several rows (default `name`). */
  title?: string;
  op: (x: Tensor, axis: Axis, keepdims: boolean) => Tensor;
  /** The maths: one group of reduced elements (in row-major order) to one number. */
  ref: (values: number[]) => number;
  /** Elements for the forward checks (default doubles in [-5, 5]; small integers make ties). */
  values?: fc.Arbitrary<number>;
  /** Fewer reduced elements than this are an ArgumentError (max of nothing, var with no degrees of freedom). */
  minCount?: number;
  /** Gradient-check inputs. */
  grad: GradInputs;
  /** Reduced elements the gradient checks need (default minCount): std of one element has an infinite derivative. */
  gradMinCount?: number;
  /** Inputs of the second-derivative check, where they differ from `grad`. */
  gradgrad?: GradInputs;
  /**
   * float32 against float64 on the same inputs, over axes reduced in one pass: absent, the
   * result is the float32 rounding of the float64 result (one rounding); a composite of several
   * float32 ops gives its tolerance.
   */
  float32?: { rtol: number; atol: number };
}

/** Shapes of rank 0..3 with dimensions 1..3, or now and then 0..3. */
const shapesArb = (): fc.Arbitrary<number[]> =>
  fc.oneof({ arbitrary: shapeArb({ maxRank: 3, maxDim: 3 }), weight: 3 }, { arbitrary: shapeArb({ maxRank: 3, minDim: 0, maxDim: 3 }), weight: 1 });

/** A random shape, a valid axis argument for it, keepdims, and the elements. */
function caseArb(c: ReductionCase, shapes = shapesArb()): fc.Arbitrary<{ shape: number[]; axis: Axis; keepdims: boolean; values: number[] }> {
  const element = c.values ?? fc.double({ min: -5, max: 5, noNaN: true });
  return shapes.chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axis: axisArb(shape.length),
      keepdims: fc.boolean(),
      values: fc.array(element, { minLength: size(shape), maxLength: size(shape) }),
    }),
  );
}

/** How many elements each output element reduces. */
const reducedCount = (shape: readonly number[], axis: Axis): number => size(resolveAxes(axis, shape.length).map((a) => shape[a]!));

/** The reduced axes form one run of neighbours (or are all of them): the kernel reduces them in one pass. */
function onePass(shape: readonly number[], axis: Axis): boolean {
  const axes = resolveAxes(axis, shape.length);
  return axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
}

const valueAwayFromZero = fc.oneof(fc.double({ min: -1.5, max: -0.5, noNaN: true }), fc.double({ min: 0.5, max: 1.5, noNaN: true }));

/** One float64 tensor requiring grad, of rank ≥ minRank and dimensions ≥ minDim, with `kind` values. */
export function gradInputArb(kind: GradInputs, minRank: number, minDim = 1): fc.Arbitrary<Tensor[]> {
  return shapeArb({ minRank, maxRank: 3, minDim, maxDim: 3 }).chain((shape): fc.Arbitrary<Tensor[]> => {
    const n = size(shape);
    const make = (v: number[]): Tensor[] => [grad64(v, shape)];
    switch (kind) {
      case 'smooth':
        return tensorArb(shape).map((t) => [t]);
      case 'distinct':
        return distinctValuesArb(n).map(make);
      case 'awayFromZero':
        return fc.array(valueAwayFromZero, { minLength: n, maxLength: n }).map(make);
      case 'someZeros':
        return fc
          .tuple(fc.array(valueAwayFromZero, { minLength: n, maxLength: n }), fc.array(fc.boolean(), { minLength: n, maxLength: n }))
          .map(([v, zero]) => make(v.map((e, i) => (zero[i] ? 0 : e))));
    }
  });
}

/** Fixed axis patterns of the gradient checks, each with the rank it needs. */
const AXIS_SPECS: { label: string; axis: Axis; keepdims: boolean; minRank: number }[] = [
  { label: 'all axes', axis: undefined, keepdims: false, minRank: 0 },
  { label: 'axis 0', axis: 0, keepdims: false, minRank: 1 },
  { label: 'axis -1, keepdims', axis: -1, keepdims: true, minRank: 1 },
  { label: 'axes [0, -1]', axis: [0, -1], keepdims: false, minRank: 2 },
  { label: 'axes [-2], keepdims', axis: [-2], keepdims: true, minRank: 2 },
];

/** Registers the table's tests for `cases`. */
export function describeReductionTable(cases: readonly ReductionCase[]): void {
  const titleOf = (c: ReductionCase): string => c.title ?? c.name;

  describe('forward matches a plain-loop reference over random shapes (zero-size included), axes and keepdims', () => {
    for (const c of cases) {
      it(titleOf(c), () => {
        fc.assert(
          fc.property(caseArb(c), ({ shape, axis, keepdims, values }) => {
            const x = tensor(values, { dtype: 'float64', shape });
            if (reducedCount(shape, axis) < (c.minCount ?? 0)) {
              expect(() => c.op(x, axis, keepdims)).toThrow(ArgumentError);
              expect(() => c.op(x, axis, keepdims)).toThrow(new RegExp(`^${c.name}: `));
            } else {
              assertClose(c.op(x, axis, keepdims), reduceRef(values, shape, axis, keepdims, c.ref), 1e-12, 1e-12);
            }
            expect(Array.from(x.data)).toEqual(values); // the input is read, never written
          }),
          { numRuns: 40 },
        );
      });
    }

    it('a NaN among the reduced elements gives NaN', () => {
      for (const c of cases) {
        const out = c.op(f64([[1, NaN, 2], [3, 4, 5]]), 1, false);
        expect(Number.isNaN(out.data[0]!), titleOf(c)).toBe(true);
        expect(Number.isNaN(out.data[1]!), titleOf(c)).toBe(false);
      }
    });
  });

  describe('float32 results against the float64 result, over axes reduced in one pass', () => {
    for (const c of cases) {
      it(titleOf(c), () => {
        const oneShot = caseArb(c, shapeArb({ maxRank: 3, maxDim: 3 })).filter(({ shape, axis }) => onePass(shape, axis) && reducedCount(shape, axis) >= (c.minCount ?? 0));
        fc.assert(
          fc.property(oneShot, ({ shape, axis, keepdims, values }) => {
            const x32 = tensor(values, { shape });
            const out32 = c.op(x32, axis, keepdims);
            expect(out32.dtype).toBe('float32');
            const out64 = c.op(x32.toDtype('float64'), axis, keepdims);
            if (c.float32 === undefined) expectFloat32Rounding(out32.data, out64.data);
            else assertClose(out32.data, out64.data, c.float32.rtol, c.float32.atol);
          }),
          { numRuns: 40 },
        );
      });
    }
  });

  describe('gradients pass gradcheck over random shapes (float64)', () => {
    for (const c of cases) {
      // A row that needs two reduced elements (std, correction 1) gets rank ≥ 1 and dims ≥ 2.
      const needsTwo = (c.gradMinCount ?? c.minCount ?? 0) > 1;
      for (const spec of AXIS_SPECS) {
        it(`${titleOf(c)}, ${spec.label}`, () => {
          const inputs = gradInputArb(c.grad, needsTwo ? Math.max(spec.minRank, 1) : spec.minRank, needsTwo ? 2 : 1);
          checkGradProperty((x) => c.op(x, spec.axis, spec.keepdims), inputs, { numRuns: 8 });
        });
      }

      it(`${titleOf(c)}: second derivatives over random axes and keepdims`, () => {
        const inputs = gradInputArb(c.gradgrad ?? c.grad, needsTwo ? 1 : 0, needsTwo ? 2 : 1).chain(([x]) =>
          fc.record({ x: fc.constant(x!), axis: axisArb(x!.ndim), keepdims: fc.boolean() }),
        );
        fc.assert(
          fc.property(inputs, ({ x, axis, keepdims }) => {
            const report = gradgradcheck((t) => c.op(t!, axis, keepdims), [x]);
            if (!report.ok) throw new Error(`shape ${JSON.stringify(x.shape)}, axis ${JSON.stringify(axis)}, keepdims ${keepdims}: ${formatGradcheckReport(report)}`);
          }),
          { numRuns: 10 },
        );
      });

      it(`${titleOf(c)}: zero-size inputs get a gradient of their shape and dtype`, () => {
        for (const [shape, axis] of [[[0, 3], 0], [[0, 3], 1], [[2, 0], 0], [[2, 0], undefined]] as [number[], Axis][]) {
          if (reducedCount(shape, axis) < (c.minCount ?? 0)) continue;
          const x = tensor(new Float64Array(0), { shape, requiresGrad: true });
          c.op(x, axis, false).sum().backward();
          expect(x.grad!.shape).toEqual(shape);
          expect(x.grad!.dtype).toBe('float64');
        }
      });
    }
  });

  describe('axis errors name the op', () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    for (const c of cases) {
      it(titleOf(c), () => {
        const name = c.name;
        expect(() => c.op(x, 2, false)).toThrow(ShapeError);
        expect(() => c.op(x, 2, false)).toThrow(new RegExp(`^${name}: axis 2 is out of range for a tensor with 2 dimension\\(s\\)`));
        expect(() => c.op(x, -3, false)).toThrow(new RegExp(`^${name}: axis -3 is out of range`));
        expect(() => c.op(x, 0.5, false)).toThrow(new RegExp(`^${name}: axis 0.5 is out of range`));
        expect(() => c.op(x, [0, -2], false)).toThrow(new RegExp(`^${name}: axis 0 appears more than once in \\[0,-2\\]`));
        expect(() => c.op(f64(1), 1, false)).toThrow(new RegExp(`^${name}: axis 1 is out of range for a tensor with 0 dimension\\(s\\)`));
      });
    }
  });
}
