/**
 * The table that tests every elementwise binary op (arithmetic and comparisons) from one row:
 * forward against a plain-loop reference with NumPy broadcasting (numbers on either side, 0-d,
 * size-1 and zero-size shapes, ties), float32 rounding, gradcheck and gradgradcheck in float64
 * over random broadcast shapes and values, and the errors. Hand-computed cases stay in the test
 * files beside their table.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, assertGradcheck, DTypeError, ShapeError, tensor, Tensor, type TensorLike } from '@chainrule/autograd';
import {
  assertClose, broadcastShapesArb, checkGradGradProperty, checkGradProperty, shapeArb, tensorArb, unaryArb, type ShapeConstraints,
  type ValueConstraints,
} from '@chainrule/autograd/testing';
import { expectFloat32Rounding, refBroadcast, size } from './reference.js';
import { grad64, values } from './tensors.js';

/** One binary op. */
export interface BinaryCase {
  name: string;
  op: (a: TensorLike, b: TensorLike) => Tensor;
  method: (a: Tensor, b: TensorLike) => Tensor;
  /** The maths on plain float64 numbers (a comparison gives 1 for true, 0 for false). */
  ref: (a: number, b: number) => number;
  /** Relative tolerance of the forward comparison (default 1e-12; 0 where the result must be exact). */
  rtol?: number;
  /**
   * Absolute tolerance of the forward comparison (default 0): for an op whose result can cancel
   * to near 0 from operands of order 1 (logaddexp), where a few ulps of the operands are a large
   * relative error of the result, in the op and in its reference alike.
   */
  atol?: number;
  /** Null: the op has no gradient, and its result never requires grad (comparisons). */
  grad: BinaryGrad | null;
  /** 'bool' for an op whose result is a bool tensor whatever its operands (comparisons); else the operands' dtype. */
  result?: 'bool';
}

/** Where the gradient of a binary op is checked. */
export interface BinaryGrad {
  /** Values of each operand: in the domain, away from poles (default [-2, 2] for both). */
  domain?: readonly [ValueConstraints, ValueConstraints];
  /** The op has a kink where a = b (maximum, minimum): operands are kept apart. */
  kinkAtTie?: boolean;
  /**
   * The op jumps where a/b is an integer (fmod, remainder): a is moved onto odd multiples of 1/16
   * and b onto ±0.5, ±1, ±2, so a/b stays at least 1/32 from an integer, far beyond the finite
   * differences' step. The scalar must keep that too (0.75 does, on both sides).
   */
  kinkAtMultiples?: boolean;
  /** The number in `op(x, scalar)` and `op(scalar, x)`. */
  scalar: number;
}

/** Two broadcast-compatible float64 tensors, each with its own value constraints. */
export function pairArb(ca: ValueConstraints = {}, cb: ValueConstraints = ca, shapes: ShapeConstraints = {}): fc.Arbitrary<Tensor[]> {
  return broadcastShapesArb(2, shapes).chain(([sa, sb]) => fc.tuple(tensorArb(sa!, ca), tensorArb(sb!, cb)));
}

/** The same tensor with its values rounded to integers, so that operands meet plenty of ties. */
export function rounded(t: Tensor): Tensor {
  return new Tensor(Float64Array.from(t.data, Math.round), t.shape, { requiresGrad: t.requiresGrad });
}

/**
 * Moves every value onto the grid 0.2k + offset. Two tensors snapped to offsets 0.05 and 0.15
 * are never within 0.1 of each other, which keeps maximum/minimum away from their tie kink.
 */
function snap(t: Tensor, offset: number): Tensor {
  const data = Float64Array.from(t.data, (v) => 0.2 * Math.round(v / 0.2) + offset);
  return new Tensor(data, t.shape, { requiresGrad: t.requiresGrad });
}

/** The tensor with each value moved by `f`. */
function mapValues(t: Tensor, f: (v: number) => number): Tensor {
  return new Tensor(Float64Array.from(t.data, f), t.shape, { requiresGrad: t.requiresGrad });
}

/** The odd multiple of 1/16 nearest v: a dividend whose ratio to ±0.5, ±1, ±2 or 0.75 is never an integer. */
const oddSixteenth = (v: number): number => (2 * Math.round((16 * v - 1) / 2) + 1) / 16;
/** ±0.5, ±1 or ±2 by the size of v: a divisor of power-of-two size. */
const powerOfTwoDivisor = (v: number): number => (v < 0 ? -1 : 1) * (Math.abs(v) < 0.75 ? 0.5 : Math.abs(v) < 1.5 ? 1 : 2);

/** Operands for the gradient checks of a row. */
function gradPairArb(g: BinaryGrad): fc.Arbitrary<Tensor[]> {
  if (g.kinkAtTie) return pairArb().map(([a, b]) => [snap(a!, 0.05), snap(b!, 0.15)]);
  if (g.kinkAtMultiples) {
    return pairArb(g.domain?.[0], g.domain?.[1]).map(([a, b]) => [mapValues(a!, oddSixteenth), mapValues(b!, powerOfTwoDivisor)]);
  }
  return pairArb(g.domain?.[0], g.domain?.[1]);
}

/** The tensor operand of `op(x, scalar)` (side 0) and `op(scalar, x)` (side 1). */
function sideArb(g: BinaryGrad, side: 0 | 1): fc.Arbitrary<Tensor[]> {
  const xs = unaryArb(shapeArb(), sideDomain(g, side));
  if (!g.kinkAtMultiples) return xs;
  return xs.map(([x]) => [mapValues(x!, side === 0 ? oddSixteenth : powerOfTwoDivisor)]);
}

/** Values of x in `op(x, scalar)` (side 0) and `op(scalar, x)` (side 1). */
function sideDomain(g: BinaryGrad, side: 0 | 1): ValueConstraints {
  const d = g.domain?.[side] ?? {};
  return g.kinkAtTie ? { ...d, avoid: [...(d.avoid ?? []), g.scalar], margin: d.margin ?? 0.05 } : d;
}

/** Pairs whose broadcast result has no elements (a 0 in some dimension). */
const emptyPairArb = (): fc.Arbitrary<Tensor[]> =>
  broadcastShapesArb(2, { minRank: 1, minDim: 0, maxDim: 3 })
    .filter(([sa, sb]) => size(sa!) === 0 || size(sb!) === 0)
    .chain(([sa, sb]) => fc.tuple(tensorArb(sa!), tensorArb(sb!)));

/** Registers the table's tests for `cases`. */
export function describeBinaryTable(cases: readonly BinaryCase[]): void {
  describe('forward matches plain loops with NumPy broadcasting', () => {
    for (const c of cases) {
      test(`${c.name}: tensor-tensor, tensor-number and number-tensor, function and method, ties included`, () => {
        fc.assert(
          fc.property(pairArb(), fc.boolean(), fc.double({ min: -2, max: 2, noNaN: true }), ([a0, b0], round, s0) => {
            const [a, b] = round ? [rounded(a0!), rounded(b0!)] : [a0!, b0!];
            const s = round ? Math.round(s0) : s0;
            const before = [Float64Array.from(a.data), Float64Array.from(b.data)];
            const rtol = c.rtol ?? 1e-12;
            const atol = c.atol ?? 0;
            const expected = refBroadcast([a, b], c.ref);
            const y = c.op(a, b);
            assertClose(y, expected, rtol, atol);
            assertClose(c.method(a, b), expected, rtol, atol);
            assertClose(c.op(a, s), refBroadcast([a, { data: [s], shape: [] }], c.ref), rtol, atol);
            assertClose(c.op(s, b), refBroadcast([{ data: [s], shape: [] }, b], c.ref), rtol, atol);
            expect(y.dtype).toBe(c.result ?? 'float64');
            // The inputs require grad; an op without a gradient gives a leaf that does not.
            expect(y.requiresGrad).toBe(c.grad !== null);
            if (c.grad === null) expect(y.isLeaf).toBe(true);
            // Inputs are read, never written.
            expect(a.data).toEqual(before[0]);
            expect(b.data).toEqual(before[1]);
          }),
          { numRuns: 60 },
        );
      });
    }

    test('higher ranks (up to 5) with many size-1 dims, where the kernel merges and splits dimensions', () => {
      const deep = pairArb({ requiresGrad: false }, { requiresGrad: false }, { maxRank: 5, maxDim: 3 });
      fc.assert(
        fc.property(deep, ([a, b]) => {
          for (const c of cases) assertClose(c.op(a!, b!), refBroadcast([a!, b!], c.ref), c.rtol ?? 1e-12, c.atol ?? 0);
        }),
        { numRuns: 60 },
      );
    });

    for (const c of cases) {
      test(`${c.name}: zero-size operands give an empty result of the broadcast shape; gradients are zeros of each input's shape`, () => {
        const check = (a: Tensor, b: Tensor): void => {
          const y = c.op(a, b);
          assertClose(y, refBroadcast([a, b], c.ref));
          if (c.grad === null) return;
          y.sum().backward();
          for (const x of [a, b]) {
            expect(x.grad!.shape).toEqual(x.shape);
            expect(values(x.grad).every((v) => v === 0)).toBe(true);
          }
        };
        check(tensor(new Float64Array(0), { shape: [0, 3], requiresGrad: true }), grad64([1, 2, 3]));
        fc.assert(
          fc.property(emptyPairArb(), ([a, b]) => check(a!, b!)),
          { numRuns: 20 },
        );
      });
    }

    test('a number operand takes the dtype of the tensor, on either side; two 0-d tensors give a 0-d result', () => {
      for (const c of cases) {
        expect(c.op(tensor([1.5, 2]), 2).dtype, c.name).toBe(c.result ?? 'float32');
        expect(c.op(2, tensor([1.5, 2], { dtype: 'float64' })).dtype, c.name).toBe(c.result ?? 'float64');
        const y = c.op(tensor(3, { dtype: 'float64' }), tensor(2, { dtype: 'float64' }));
        expect(y.shape, c.name).toEqual([]);
        expect(y.item(), c.name).toBe(c.ref(3, 2));
      }
    });
  });

  describe('float32 results are the float32 rounding of the float64 result', () => {
    for (const c of cases) {
      test(c.name, () => {
        fc.assert(
          fc.property(pairArb({ requiresGrad: false, dtype: 'float32' }), ([a, b]) => {
            const out32 = c.op(a!, b!);
            expect(out32.dtype).toBe(c.result ?? 'float32');
            const out64 = c.op(a!.toDtype('float64'), b!.toDtype('float64'));
            expectFloat32Rounding(out32.data, out64.data);
          }),
          { numRuns: 40 },
        );
      });
    }
  });

  describe('gradients pass gradcheck and gradgradcheck over random broadcast shapes (float64)', () => {
    for (const c of cases) {
      const g = c.grad;
      if (g === null) continue;
      test(`${c.name}: both operands, including size-1 dims and 0-d tensors`, () => {
        checkGradProperty((a, b) => c.op(a!, b!), gradPairArb(g), { numRuns: 25 });
      });

      test(`${c.name}: a number on either side`, () => {
        checkGradProperty((x) => c.op(x!, g.scalar), sideArb(g, 0), { numRuns: 15 });
        checkGradProperty((x) => c.op(g.scalar, x!), sideArb(g, 1), { numRuns: 15 });
      });

      test(`${c.name}: second derivatives (the VJP is itself differentiable), tensors and numbers`, () => {
        checkGradGradProperty((a, b) => c.op(a!, b!), gradPairArb(g), { numRuns: 8 });
        checkGradGradProperty((x) => c.op(x!, g.scalar), sideArb(g, 0), { numRuns: 4 });
        checkGradGradProperty((x) => c.op(g.scalar, x!), sideArb(g, 1), { numRuns: 4 });
      });

      test(`${c.name}: gradients of float32 inputs are float32 and of each input's shape`, () => {
        const a = tensor([[0.5, 1.25, 1.5]], { requiresGrad: true });
        const b = tensor([[0.75], [1.75]], { requiresGrad: true });
        c.op(a, b).sum().backward();
        expect([a.grad!.dtype, b.grad!.dtype]).toEqual(['float32', 'float32']);
        expect([a.grad!.shape, b.grad!.shape]).toEqual([[1, 3], [2, 1]]);
      });
    }

    test('fixed edge shapes: 0-d with 0-d, 0-d with a matrix, size-1 dims on both sides', () => {
      const shapes: [number[], number[]][] = [[[], []], [[], [2, 3]], [[2, 3], []], [[1], [3]], [[2, 1, 3], [4, 1]], [[3, 1], [1, 4]], [[1, 1], [1]]];
      let k = 0;
      // Values in [0.5, 1.5], distinct: inside every op's domain and never tied.
      const fill = (shape: number[]): Tensor => grad64(Array.from({ length: size(shape) }, () => 0.5 + ((k++ * 0.6180339887) % 1)), shape);
      for (const c of cases) {
        if (c.grad === null) continue;
        for (const [sa, sb] of shapes) assertGradcheck((a, b) => c.op(a!, b!), [fill(sa), fill(sb)]);
      }
    });
  });

  describe('errors', () => {
    for (const c of cases) {
      test(`${c.name}: a dtype mix is a DTypeError naming the op, both dtypes and both shapes`, () => {
        const a = tensor([1, 2], { requiresGrad: true });
        const b = tensor(new Float64Array([1, 2, 3]), { shape: [3, 1], requiresGrad: true });
        const before = [values(a), values(b)];
        expect(() => c.op(a, b)).toThrow(DTypeError);
        expect(() => c.op(a, b)).toThrow(new RegExp(`^${c.name}: .*\\[2\\] float32.*\\[3,1\\] float64`));
        expect(() => c.method(b, a)).toThrow(DTypeError);
        expect([values(a), values(b)]).toEqual(before);
        expect(a.grad).toBeNull();
        expect(b.grad).toBeNull();
      });

      test(`${c.name}: shapes that do not broadcast are a ShapeError naming the op and both shapes`, () => {
        const a = grad64([1, 2, 3, 4, 5, 6], [2, 3]);
        const b = grad64([1, 2, 3, 4]);
        expect(() => c.op(a, b)).toThrow(ShapeError);
        expect(() => c.op(a, b)).toThrow(new RegExp(`^${c.name}: .*\\[2,3\\] and \\[4\\]`));
        expect(() => c.method(b, a)).toThrow(new RegExp(`^${c.name}: .*\\[4\\] and \\[2,3\\]`));
        expect(values(a)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(values(b)).toEqual([1, 2, 3, 4]);
      });

      test(`${c.name}: a non-Tensor operand is an ArgumentError naming the op and the argument`, () => {
        const x = grad64([1, 2]);
        expect(() => c.op([1, 2] as unknown as Tensor, x)).toThrow(ArgumentError);
        expect(() => c.op([1, 2] as unknown as Tensor, x)).toThrow(`${c.name}: input must be a Tensor, got an array`);
        expect(() => c.op(undefined as unknown as Tensor, x)).toThrow(new RegExp(`^${c.name}: input must be a Tensor`));
        expect(() => c.op(x, null as unknown as Tensor)).toThrow(`${c.name}: other must be a Tensor, got null`);
        expect(() => c.op(x, '2' as unknown as Tensor)).toThrow(`${c.name}: other must be a Tensor, got string`);
        expect(() => c.op(1, 2)).toThrow(ArgumentError);
        expect(values(x)).toEqual([1, 2]);
        expect(x.grad).toBeNull();
      });
    }
  });
}
