/**
 * Testing helpers: fast-check arbitraries for shapes, broadcast-compatible shapes and tensors;
 * `checkGradProperty` and `checkGradGradProperty`, which run `gradcheck` and `gradgradcheck` over
 * them and let fast-check shrink a failure to the smallest shape; and `assertClose`, the
 * elementwise comparison of results. Needs the `fast-check` package.
 * @module @chainrule/autograd/testing
 */
import type { Arbitrary } from 'fast-check';
import { fc } from './fast-check-peer.js';
import type { DType } from './dtype.js';
import { Tensor, type FloatTensor } from './tensor.js';
import { Generator } from './random.js';
import { formatShape, shapesEqual } from './shape.js';
import { formatGradcheckReport, gradcheck, gradgradcheck, type GradcheckOptions, type GradcheckReport, type TensorFunction } from './gradcheck.js';

/** Limits of generated shapes. */
export interface ShapeConstraints {
  /** Fewest dimensions (default 0: scalars included). */
  minRank?: number;
  /** Most dimensions (default 3). */
  maxRank?: number;
  /** Smallest size of a dimension (default 1; 0 allows empty tensors). */
  minDim?: number;
  /** Largest size of a dimension (default 4). */
  maxDim?: number;
}

/** Shapes of rank minRank..maxRank (default 0..3) with dimensions minDim..maxDim (default 1..4). @example fc.sample(shapeArb(), 3) */
export function shapeArb(c: ShapeConstraints = {}): Arbitrary<number[]> {
  const { minRank = 0, maxRank = 3, minDim = 1, maxDim = 4 } = c;
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/**
 * `count` shapes that broadcast together: each drops some leading dimensions of a common shape
 * and sets some others to 1. Built with `map` only, so fast-check shrinks every part.
 * @example broadcastShapesArb(2) // e.g. [[3,1,2],[4,2]]
 */
export function broadcastShapesArb(count = 2, c: ShapeConstraints = {}): Arbitrary<number[][]> {
  const maxRank = c.maxRank ?? 3;
  const variant = fc.tuple(fc.integer({ min: 0, max: maxRank }), fc.array(fc.boolean(), { minLength: maxRank, maxLength: maxRank }));
  return fc.tuple(shapeArb(c), fc.array(variant, { minLength: count, maxLength: count })).map(([full, variants]) =>
    variants.map(([drop, ones]) => {
      const d = Math.min(drop, full.length);
      return full.slice(d).map((n, i) => (ones[i + d] ? 1 : n));
    }),
  );
}

/** Where generated values may lie. */
export interface ValueConstraints {
  /** Smallest value (default -2). */
  min?: number;
  /** Largest value (default 2). */
  max?: number;
  /** Points to keep away from (kinks such as 0 for relu and abs, or poles). */
  avoid?: readonly number[];
  /** Minimum distance from each point in `avoid` (default 0.05). */
  margin?: number;
  /** Element type (default 'float64', the precision gradcheck needs). */
  dtype?: DType;
  /** Whether the tensors require grad (default true). */
  requiresGrad?: boolean;
}

/** One number in [min, max], at least `margin` from every point in `avoid`. */
export function valueArb(c: ValueConstraints = {}): Arbitrary<number> {
  const { min = -2, max = 2, avoid = [], margin = 0.05 } = c;
  return fc
    .double({ min, max, noNaN: true, noDefaultInfinity: true })
    .filter((v) => avoid.every((k) => Math.abs(v - k) >= margin));
}

/**
 * A tensor of `shape` filled from `seed` with values as `c` says (float64, requiring grad by
 * default). NOTE: values come from a seed that does not shrink, so a failing case shrinks its
 * shapes, not its values toward 0 (where a wrong gradient can hide under the tolerance).
 */
export function seededTensor(shape: readonly number[], seed: number, c: ValueConstraints = {}): FloatTensor {
  const { min = -2, max = 2, avoid = [], margin = 0.05, dtype = 'float64', requiresGrad = true } = c;
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new Generator(seed);
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    let tries = 0;
    do v = min + (max - min) * rng.uniform();
    while (avoid.some((k) => Math.abs(v - k) < margin) && ++tries < 1000);
    data[i] = v;
  }
  return new Tensor(data, [...shape], { requiresGrad }) as FloatTensor;
}

/** A tensor of the given shape with values as `c` says (float64 and requiring grad by default). @example tensorArb([2, 3], { min: 0.1 }) */
export function tensorArb(shape: readonly number[], c: ValueConstraints = {}): Arbitrary<Tensor> {
  return fc.noShrink(fc.integer()).map((seed) => seededTensor(shape, seed, c));
}

/** Tensors for each shape of a shape-list arbitrary; the shapes shrink, the values do not. @example tensorsArb(broadcastShapesArb(2)) */
export function tensorsArb(shapes: Arbitrary<number[][]>, c: ValueConstraints = {}): Arbitrary<Tensor[]> {
  return fc.tuple(shapes, fc.noShrink(fc.integer())).map(([list, seed]) => list.map((s, i) => seededTensor(s, seed + i * 7919, c)));
}

/** One tensor per shape drawn by `shapes`, as a one-element list: the usual input of a unary property. @example unaryArb(shapeArb(), { min: 0.1 }) */
export function unaryArb(shapes: Arbitrary<number[]> = shapeArb(), c: ValueConstraints = {}): Arbitrary<Tensor[]> {
  return tensorsArb(shapes.map((s) => [s]), c);
}

/** Options of `checkGradProperty`. */
export interface GradPropertyOptions extends GradcheckOptions {
  /** Number of random cases (default 30). */
  numRuns?: number;
  /** fast-check seed, for a reproducible run. */
  propertySeed?: number;
}

/**
 * Asserts that `f` passes gradcheck on every input list `inputs` generates. On failure fast-check
 * shrinks to the smallest failing case, and the error shows its shapes and gradcheck's report.
 * @example checkGradProperty((a, b) => a.mul(b), tensorsArb(broadcastShapesArb(2)))
 */
export function checkGradProperty(f: TensorFunction, inputs: Arbitrary<Tensor[]>, options: GradPropertyOptions = {}): void {
  checkReportProperty('checkGradProperty', (xs, o) => gradcheck(f, xs, o), inputs, options);
}

/**
 * Asserts that `f` passes gradgradcheck (second derivatives through double backward, with random
 * output cotangents) on every input list `inputs` generates; shrinks and reports as
 * `checkGradProperty`. Fewer runs by default (10): each case differentiates twice.
 * @example checkGradGradProperty((x) => x.tanh(), unaryArb())
 */
export function checkGradGradProperty(f: TensorFunction, inputs: Arbitrary<Tensor[]>, options: GradPropertyOptions = {}): void {
  checkReportProperty('checkGradGradProperty', (xs, o) => gradgradcheck(f, xs, undefined, o), inputs, { numRuns: 10, ...options });
}

function checkReportProperty(
  name: string,
  check: (xs: Tensor[], options: GradcheckOptions) => GradcheckReport,
  inputs: Arbitrary<Tensor[]>,
  options: GradPropertyOptions,
): void {
  const { numRuns = 30, propertySeed, ...gradcheckOptions } = options;
  const details = fc.check(
    fc.property(inputs, (xs) => {
      const report = check(xs, gradcheckOptions);
      if (!report.ok) {
        throw new Error(`shapes ${xs.map((x) => JSON.stringify(x.shape)).join(', ')}: ${formatGradcheckReport(report)}`);
      }
    }),
    { numRuns, ...(propertySeed === undefined ? {} : { seed: propertySeed }) },
  );
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `${name}: failed after ${details.numRuns} case(s), shrunk ${details.numShrinks} time(s) (seed ${details.seed}, path "${details.counterexamplePath}")\n  ${cause}`,
    );
  }
}

/** What `assertClose` compares: a Tensor (or anything with flat data and a shape), or plain numbers. */
export type Comparable = ArrayLike<number> | {
  /** The elements, row-major. */
  readonly data: ArrayLike<number>;
  /** Dimension sizes. */
  readonly shape: readonly number[];
};

/**
 * Asserts that `actual` equals `expected` elementwise within |a - e| <= atol + rtol·|e| (the rule
 * of `torch.testing.assert_close`); NaN matches NaN, an infinity only the same infinity. When both
 * sides have a shape, the shapes must be equal. The defaults are strict, for float64 (rtol 1e-12,
 * atol 0): pass looser tolerances for float32, and an atol where the expected values may be 0.
 * Throws an Error naming the first element outside the tolerance (its multi-index when there is
 * a shape), or the lengths or shapes that differ.
 * @example assertClose(x.grad!, [0.25, 0.75], 1e-15)
 */
export function assertClose(actual: Comparable, expected: Comparable, rtol = 1e-12, atol = 0): void {
  const sa = shapeOf(actual);
  const se = shapeOf(expected);
  if (sa !== undefined && se !== undefined && !shapesEqual(sa, se)) {
    throw new Error(`assertClose: shape ${formatShape(sa)}, expected ${formatShape(se)}`);
  }
  const a = dataOf(actual);
  const e = dataOf(expected);
  if (a.length !== e.length) throw new Error(`assertClose: ${a.length} element(s), expected ${e.length}`);
  const shape = sa ?? se;
  for (let i = 0; i < e.length; i++) {
    const got = a[i]!;
    const want = e[i]!;
    const ok = Number.isNaN(want) ? Number.isNaN(got) : !Number.isFinite(want) ? got === want : Math.abs(got - want) <= atol + rtol * Math.abs(want);
    if (!ok) {
      const where = shape === undefined ? `element ${i}` : `element ${i} (row-major) of shape ${formatShape(shape)}`;
      throw new Error(`assertClose: ${where} is ${got}, expected ${want} (|diff| ${Math.abs(got - want)}, rtol ${rtol}, atol ${atol})`);
    }
  }
}

function dataOf(c: Comparable): ArrayLike<number> {
  return 'shape' in c ? c.data : c;
}

function shapeOf(c: Comparable): readonly number[] | undefined {
  return 'shape' in c ? c.shape : undefined;
}
