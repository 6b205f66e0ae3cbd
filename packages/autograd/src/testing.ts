/**
 * Property-testing helpers for gradients: fast-check arbitraries for shapes, broadcast-compatible
 * shapes and tensors, and `checkGradProperty`, which runs `gradcheck` over them and lets
 * fast-check shrink a failure to the smallest shape. Needs the `fast-check` package.
 */
import fc from 'fast-check';
import type { DType } from './dtype.js';
import { Tensor } from './tensor.js';
import { formatGradcheckReport, gradcheck, type GradcheckOptions, type TensorFunction } from './gradcheck.js';

/** Limits of generated shapes. */
export interface ShapeConstraints {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
}

/** Shapes of rank minRank..maxRank (default 0..3) with dimensions minDim..maxDim (default 1..4). @example fc.sample(shapeArb(), 3) */
export function shapeArb(c: ShapeConstraints = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 3, minDim = 1, maxDim = 4 } = c;
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/**
 * `count` shapes that broadcast together: each drops some leading dimensions of a common shape
 * and sets some others to 1. @example broadcastShapesArb(2) // e.g. [[3,1,2],[4,2]]
 */
export function broadcastShapesArb(count = 2, c: ShapeConstraints = {}): fc.Arbitrary<number[][]> {
  return shapeArb(c).chain((full) =>
    fc.tuple(
      ...Array.from({ length: count }, () =>
        fc.tuple(fc.integer({ min: 0, max: full.length }), fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length })).map(
          ([drop, ones]) => full.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
        ),
      ),
    ),
  );
}

/** Where generated values may lie. */
export interface ValueConstraints {
  min?: number;
  max?: number;
  /** Points to keep away from (kinks such as 0 for relu and abs, or poles). */
  avoid?: readonly number[];
  /** Minimum distance from each point in `avoid` (default 0.05). */
  margin?: number;
  dtype?: DType;
  requiresGrad?: boolean;
}

/** One number in [min, max], at least `margin` from every point in `avoid`. */
export function valueArb(c: ValueConstraints = {}): fc.Arbitrary<number> {
  const { min = -2, max = 2, avoid = [], margin = 0.05 } = c;
  return fc
    .double({ min, max, noNaN: true, noDefaultInfinity: true })
    .filter((v) => avoid.every((k) => Math.abs(v - k) >= margin));
}

/** A tensor of the given shape with values as `c` says (float64 and requiring grad by default). @example tensorArb([2, 3], { min: 0.1 }) */
export function tensorArb(shape: readonly number[], c: ValueConstraints = {}): fc.Arbitrary<Tensor> {
  const n = shape.reduce((a, b) => a * b, 1);
  const { dtype = 'float64', requiresGrad = true } = c;
  return fc.array(valueArb(c), { minLength: n, maxLength: n }).map((values) => {
    const data = dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
    return new Tensor(data, [...shape], { requiresGrad });
  });
}

/** Tensors for each shape of a shape-list arbitrary. @example tensorsArb(broadcastShapesArb(2)) */
export function tensorsArb(shapes: fc.Arbitrary<number[][]>, c: ValueConstraints = {}): fc.Arbitrary<Tensor[]> {
  return shapes.chain((list) => fc.tuple(...list.map((s) => tensorArb(s, c))));
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
export function checkGradProperty(f: TensorFunction, inputs: fc.Arbitrary<Tensor[]>, options: GradPropertyOptions = {}): void {
  const { numRuns = 30, propertySeed, ...gradcheckOptions } = options;
  fc.assert(
    fc.property(inputs, (xs) => {
      const report = gradcheck(f, xs, gradcheckOptions);
      if (!report.ok) {
        throw new Error(`shapes ${xs.map((x) => JSON.stringify(x.shape)).join(', ')}: ${formatGradcheckReport(report)}`);
      }
    }),
    { numRuns, ...(propertySeed === undefined ? {} : { seed: propertySeed }) },
  );
}
