import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, cdist, cosineSimilarity, DTypeError, gradients, matrixNorm, norm, normalize, pairwiseDistance, ShapeError, tensor, vectorNorm,
  zeros, type Tensor,
} from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor, shapeArb } from '@chainrule/autograd/testing';
import { axisArb, reduceRef, resolveAxes, type Ref } from './helpers/reduce-reference.js';
import { ravel, size, unravel } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

/** The vector ord-norm of a list of values, by its definition. */
function normOf(v: number[], ord: number): number {
  const a = v.map(Math.abs);
  if (ord === Infinity) return Math.max(...a);
  if (ord === -Infinity) return Math.min(...a);
  if (ord === 0) return a.filter((x) => x !== 0).length;
  return a.reduce((s, x) => s + x ** ord, 0) ** (1 / ord);
}

const ORDS = [2, 1, 0, 3, 1.5, 0.5, -1, Infinity, -Infinity];

const shapes = fc.oneof({ arbitrary: shapeArb({ maxRank: 3, maxDim: 3 }), weight: 3 }, { arbitrary: shapeArb({ maxRank: 3, minDim: 0, maxDim: 3 }), weight: 1 });
/** Values with exact zeros now and then (the norms' kinks). */
const element = fc.oneof({ arbitrary: fc.double({ min: -5, max: 5, noNaN: true }), weight: 4 }, { arbitrary: fc.constant(0), weight: 1 });

/** Values in [-2, 2] at least 0.1 from 0, requiring grad: away from every norm's kink. */
const awayFromZero = (shape: number[], seed: number): Tensor => seededTensor(shape, seed, { avoid: [0], margin: 0.1 });

describe('vectorNorm', () => {
  it('matches the definition over random shapes (zero-size, 0-d), axes, keepdims and orders', () => {
    const cases = shapes.chain((shape) => fc.record({
      shape: fc.constant(shape), axis: axisArb(shape.length), keepdims: fc.boolean(), ord: fc.constantFrom(...ORDS),
      values: fc.array(element, { minLength: size(shape), maxLength: size(shape) }),
    }));
    fc.assert(
      fc.property(cases, ({ shape, axis, keepdims, ord, values }) => {
        const x = tensor(values, { dtype: 'float64', shape });
        const count = size(resolveAxes(axis, shape.length).map((a) => shape[a]!));
        if (count === 0 && (ord < 0 || ord === Infinity)) {
          expect(() => vectorNorm(x, ord, axis, keepdims)).toThrow(ArgumentError);
          expect(() => vectorNorm(x, ord, axis, keepdims)).toThrow(/^vectorNorm: the .*-norm of no elements has no value \(input \[/);
          return;
        }
        assertClose(vectorNorm(x, ord, axis, keepdims), reduceRef(values, shape, axis, keepdims, (v) => normOf(v, ord)), 1e-12, 1e-300);
        expect(Array.from(x.data)).toEqual(values);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps float32 within float32 rounding of the float64 result', () => {
    const x = seededTensor([3, 5], 3, { requiresGrad: false });
    for (const ord of ORDS) assertClose(vectorNorm(x.toDtype('float32'), ord, 1), vectorNorm(x, ord, 1), 3e-6, 1e-7);
    expect(vectorNorm(x.toDtype('float32')).dtype).toBe('float32');
  });

  it('passes gradcheck and gradgradcheck for every order over random shapes and axes (float64)', () => {
    for (const ord of ORDS) {
      const inputs = fc.tuple(shapeArb({ maxRank: 3, maxDim: 3 }), fc.noShrink(fc.integer())).chain(([shape, seed]) =>
        axisArb(shape.length).map((axis) => ({ x: awayFromZero(shape, seed), axis })),
      );
      fc.assert(
        fc.property(inputs, fc.boolean(), ({ x, axis }, keepdims) => {
          checkGradProperty((t) => vectorNorm(t!, ord, axis, keepdims), fc.constant([x]), { numRuns: 1 });
          checkGradGradProperty((t) => vectorNorm(t!, ord, axis, keepdims), fc.constant([x]), { numRuns: 1 });
        }),
        { numRuns: 12 },
      );
    }
  });

  it('has gradient 0 at the zero vector, never NaN, and so has its second derivative (ord 2)', () => {
    for (const ord of [2, 1, 3, 1.5, Infinity, -Infinity, 0]) {
      const x = grad64([[0, 0, 0], [3, -4, 0]]);
      const n = vectorNorm(x, ord, 1);
      n.sum().backward();
      const g = Array.from(x.grad!.data);
      expect(g.slice(0, 3), `ord ${ord}`).toEqual([0, 0, 0]);
      expect(g.every(Number.isFinite), `ord ${ord}`).toBe(true);
    }
    expect(Array.from(gradOf((x) => vectorNorm(x, 2, 1), [[0, 0, 0], [3, -4, 0]]))).toEqual([0, 0, 0, 0.6, -0.8, 0]);
    // d/dx of v·∇‖x‖ at x = 0: PyTorch's masked gradient gives 0 there too.
    const x = grad64([0, 0, 0]);
    const [g] = gradients([vectorNorm(x)], [x], { createGraph: true });
    g!.mul(f64([1, 2, 3])).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0]);
  });

  it('splits the ∞-norm gradient among tied extremes', () => {
    expect(Array.from(gradOf((x) => vectorNorm(x, Infinity), [3, -3, 1]))).toEqual([0.5, -0.5, 0]);
    expect(Array.from(gradOf((x) => vectorNorm(x, -Infinity), [3, -1, 1]))).toEqual([0, -0.5, 0.5]);
  });

  it('names the op, shape and dtype in its errors', () => {
    const x = f64([[1, 2], [3, 4]]);
    expect(() => vectorNorm(x, NaN)).toThrow(/^vectorNorm: ord must be a number .* \(input \[2,2\] float64\)/);
    expect(() => vectorNorm(x, 'fro' as unknown as number)).toThrow(ArgumentError);
    expect(() => vectorNorm(x, 2, 2)).toThrow(ShapeError);
    expect(() => vectorNorm(x, 2, [0, 0])).toThrow(/^vectorNorm: axis 0 appears more than once/);
  });
});

/** ∂(sum f(x))/∂x for x built from `v`. */
function gradOf(f: (x: Tensor) => Tensor, v: number[] | number[][]): Float64Array {
  const x = grad64(v);
  f(x).sum().backward();
  return x.grad!.data as Float64Array;
}

/** matrix norms by their definitions, for [..., m, n] over the last two axes. */
function matrixNormRef(x: Tensor, ord: 'fro' | number): Ref {
  const [m, n] = x.shape.slice(-2) as [number, number];
  const batch = x.shape.slice(0, -2);
  const data: number[] = [];
  for (let b = 0; b < size(batch); b++) {
    const at = (i: number, j: number): number => x.data[b * m * n + i * n + j]!;
    const cols = Array.from({ length: n }, (_, j) => Array.from({ length: m }, (_, i) => Math.abs(at(i, j))).reduce((s, v) => s + v, 0));
    const rows = Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => Math.abs(at(i, j))).reduce((s, v) => s + v, 0));
    if (ord === 'fro') data.push(Math.sqrt(Array.from(x.data.slice(b * m * n, (b + 1) * m * n)).reduce((s, v) => s + v * v, 0)));
    else if (ord === 1) data.push(Math.max(...cols));
    else if (ord === -1) data.push(Math.min(...cols));
    else if (ord === Infinity) data.push(Math.max(...rows));
    else data.push(Math.min(...rows));
  }
  return { data, shape: batch };
}

describe('matrixNorm and norm', () => {
  it('match the definitions over random batches of matrices, with gradients', () => {
    const cases = fc.tuple(shapeArb({ minRank: 2, maxRank: 4, maxDim: 3 }), fc.constantFrom('fro' as const, 1 as const, -1 as const, Infinity, -Infinity), fc.noShrink(fc.integer()));
    fc.assert(
      fc.property(cases, ([shape, ord, seed]) => {
        const x = awayFromZero(shape, seed);
        assertClose(matrixNorm(x, ord), matrixNormRef(x, ord), 1e-13);
        expect(matrixNorm(x, ord, [-2, -1], true).shape).toEqual([...shape.slice(0, -2), 1, 1]);
        checkGradProperty((t) => matrixNorm(t!, ord), fc.constant([x]), { numRuns: 1 });
        checkGradGradProperty((t) => matrixNorm(t!, ord), fc.constant([x]), { numRuns: 1 });
      }),
      { numRuns: 30 },
    );
  });

  it('takes the matrix axes anywhere, in either order', () => {
    const x = seededTensor([3, 2, 4], 5, { requiresGrad: false });
    assertClose(matrixNorm(x, 1, [0, 2]), matrixNormRef(x.permute(1, 0, 2), 1), 1e-13);
    assertClose(matrixNorm(x, 1, [2, 0]), matrixNormRef(x.permute(1, 2, 0), 1), 1e-13);
  });

  it("norm is the vector p-norm for a number and √Σx² for 'fro'", () => {
    const x = seededTensor([2, 3], 6, { requiresGrad: false });
    assertClose(norm(x), vectorNorm(x), 1e-15);
    assertClose(x.norm('fro', 1), vectorNorm(x, 2, 1), 1e-15);
    assertClose(x.norm(3, [0, 1], true), vectorNorm(x, 3, [0, 1], true), 1e-15);
  });

  it("'nuc', 2 and -2: the sum, largest and smallest singular value, over any two axes, with gradients", () => {
    // [[3, 0], [4, 5]] has singular values 3√5 and √5 (AᵀA has eigenvalues 45 and 5).
    const x = f64([[3, 0], [4, 5]]);
    assertClose(matrixNorm(x, 'nuc'), [4 * Math.sqrt(5)], 1e-15);
    assertClose(matrixNorm(x, 2), [3 * Math.sqrt(5)], 1e-15);
    assertClose(matrixNorm(x, -2), [Math.sqrt(5)], 1e-15);
    assertClose(norm(x, 'nuc'), [4 * Math.sqrt(5)], 1e-15);
    const y = seededTensor([3, 2, 4], 9, { requiresGrad: false });
    // Axes (0, 2) of y are the matrices y[:, j, :]; keepdims keeps both as size 1.
    const moved = y.permute(1, 0, 2);
    for (const ord of ['nuc', 2, -2] as const) {
      const byAxes = matrixNorm(y, ord, [0, 2], true);
      expect(byAxes.shape).toEqual([1, 2, 1]);
      assertClose(byAxes.reshape(2), matrixNorm(moved, ord), 1e-15);
      // Away from repeated singular values: seeded values have distinct ones almost surely.
      checkGradProperty((t) => matrixNorm(t!, ord), fc.constant([seededTensor([2, 3, 4], 12)]), { numRuns: 1 });
      checkGradGradProperty((t) => matrixNorm(t!, ord), fc.constant([seededTensor([3, 2], 13)]), { numRuns: 1 });
    }
    expect(matrixNorm(zeros([0, 2], { dtype: 'float64' }), 'nuc').item()).toBe(0);
    expect(() => matrixNorm(zeros([0, 2], { dtype: 'float64' }), 2)).toThrow(/^matrixNorm: the 2-norm of an empty matrix/);
    expect(() => norm(seededTensor([2, 2, 2], 1), 'nuc')).toThrow(/^norm: p 'nuc' needs a 2-D input or two axes/);
  });

  it('refuses other orders and bad axes', () => {
    const x = f64([[1, 2], [3, 4]]);
    expect(() => matrixNorm(x, 3 as 1)).toThrow(/^matrixNorm: ord must be 'fro', 'nuc', 1, -1, 2, -2, Infinity or -Infinity, got 3/);
    expect(() => matrixNorm(f64([1, 2]))).toThrow(/^matrixNorm: needs a tensor of at least 2 dimensions, got shape \[2\] float64/);
    expect(() => matrixNorm(x, 'fro', [0, 0] as [number, number])).toThrow(/^matrixNorm: the two axes must differ/);
    expect(() => matrixNorm(zeros([0, 2], { dtype: 'float64' }), 1)).toThrow(/^matrixNorm: the 1-norm of an empty matrix/);
    expect(() => norm(x, 'max' as 'fro')).toThrow(/^norm: p 'max' is not computed here; p is a number, 'fro' or 'nuc'/);
  });
});

describe('normalize, cosineSimilarity and pairwiseDistance', () => {
  it('normalize divides each vector by max(‖x‖_p, eps), leaving a zero vector at zero', () => {
    const cases = fc.tuple(shapeArb({ minRank: 1, maxRank: 3, minDim: 0, maxDim: 3 }), fc.constantFrom(1, 2, 3, Infinity), fc.noShrink(fc.integer()));
    fc.assert(
      fc.property(cases, ([shape, p, seed]) => {
        const x = seededTensor(shape, seed, { requiresGrad: false });
        const axis = shape.length - 1;
        if (shape[axis] === 0 && p === Infinity) {
          expect(() => normalize(x, { p, axis: -1 })).toThrow(/^normalize: the Infinity-norm of no elements has no value/);
          return;
        }
        const norms = reduceRef(x.data, shape, axis, true, (v) => Math.max(normOf(v, p), 1e-12));
        const want = Array.from(x.data, (v, i) => {
          const index = unravel(i, shape);
          index[axis] = 0;
          return v / norms.data[ravel(index, norms.shape)]!;
        });
        assertClose(normalize(x, { p, axis: -1 }), { data: want, shape }, 1e-14, 1e-15);
      }),
    );
    expect(normalize(f64([[0, 0], [3, 4]])).toArray()).toEqual([[0, 0], [0.6, 0.8]]);
    checkGradProperty((t) => normalize(t!, { axis: -1 }), fc.tuple(shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }), fc.noShrink(fc.integer())).map(([s, seed]) => [awayFromZero(s, seed)]), { numRuns: 15 });
    checkGradGradProperty((t) => normalize(t!, { p: 3, axis: 0 }), fc.tuple(shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }), fc.noShrink(fc.integer())).map(([s, seed]) => [awayFromZero(s, seed)]), { numRuns: 8 });
  });

  it('cosineSimilarity is Σxy / (max(‖x‖, eps)·max(‖y‖, eps)) with broadcasting', () => {
    const cases = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.noShrink(fc.integer()));
    fc.assert(
      fc.property(cases, ([n, k, d, broadcast, seed]) => {
        const a = seededTensor([n, k, d], seed, { requiresGrad: false });
        const b = seededTensor(broadcast ? [k, d] : [n, k, d], seed + 1, { requiresGrad: false });
        const want: number[] = [];
        for (let i = 0; i < n * k; i++) {
          const u = Array.from(a.data.slice(i * d, (i + 1) * d));
          const j = broadcast ? i % k : i;
          const v = Array.from(b.data.slice(j * d, (j + 1) * d));
          const dot = u.reduce((s, x, t) => s + x * v[t]!, 0);
          want.push(dot / (Math.max(normOf(u, 2), 1e-8) * Math.max(normOf(v, 2), 1e-8)));
        }
        assertClose(cosineSimilarity(a, b, { axis: -1 }), { data: want, shape: [n, k] }, 1e-13, 1e-15);
      }),
    );
    const zero = grad64([[0, 0, 0]]);
    const y = f64([[1, 2, 2]]);
    cosineSimilarity(zero, y).sum().backward();
    assertClose(zero.grad!, { data: [1 / 3e-8, 2 / 3e-8, 2 / 3e-8], shape: [1, 3] }, 1e-12); // y/(‖y‖·eps): finite, as PyTorch
    const pairs = fc.tuple(shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }), fc.noShrink(fc.integer())).map(([s, seed]) => [awayFromZero(s, seed), awayFromZero(s, seed + 1)]);
    checkGradProperty((a, b) => cosineSimilarity(a!, b!, { axis: 0 }), pairs, { numRuns: 15 });
    checkGradGradProperty((a, b) => cosineSimilarity(a!, b!, { axis: -1 }), pairs, { numRuns: 8 });
  });

  it('pairwiseDistance is ‖x1 - x2 + eps‖_p over the last axis', () => {
    const cases = fc.tuple(shapeArb({ minRank: 1, maxRank: 3, minDim: 1, maxDim: 3 }), fc.constantFrom(1, 2, 3, Infinity), fc.noShrink(fc.integer()));
    fc.assert(
      fc.property(cases, ([shape, p, seed]) => {
        const a = seededTensor(shape, seed, { requiresGrad: false }), b = seededTensor(shape, seed + 1, { requiresGrad: false });
        const diff = Array.from(a.data, (v, i) => v - b.data[i]! + 1e-6);
        assertClose(pairwiseDistance(a, b, { p }), reduceRef(diff, shape, -1, false, (v) => normOf(v, p)), 1e-13, 1e-15);
      }),
    );
    const pairs = fc.tuple(shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }), fc.noShrink(fc.integer())).map(([s, seed]) => [awayFromZero(s, seed), awayFromZero(s, seed + 1)]);
    checkGradProperty((a, b) => pairwiseDistance(a!, b!, { keepdims: true }), pairs, { numRuns: 15 });
    checkGradGradProperty((a, b) => pairwiseDistance(a!, b!, { p: 3 }), pairs, { numRuns: 8 });
  });

  it('name the op, shapes and dtypes in their errors', () => {
    expect(() => cosineSimilarity(f64([[1, 2]]), f64([[1, 2, 3]]))).toThrow(/^cosineSimilarity: shapes \[1,2\] and \[1,3\] cannot be broadcast together/);
    expect(() => cosineSimilarity(f64([[1, 2]]), tensor([[1, 2]]))).toThrow(DTypeError);
    expect(() => cosineSimilarity(f64([[1, 2]]), f64([[1, 2]]), { eps: -1 })).toThrow(/^cosineSimilarity: eps must be a number ≥ 0, got -1/);
    expect(() => normalize(f64([1, 2]))).toThrow(/^normalize: axis 1 is out of range for a tensor with 1 dimension/);
    expect(() => pairwiseDistance(f64([1, 2]), f64([1, 2, 3]))).toThrow(/^pairwiseDistance: shapes \[2\] and \[3\]/);
  });
});

/** cdist by its definition: the p-norm of each pair of rows, batch axes broadcast. */
function cdistRef(a: Tensor, b: Tensor, p: number): Ref {
  const m = a.shape[a.ndim - 1]!, P = a.shape[a.ndim - 2]!, R = b.shape[b.ndim - 2]!;
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const padA = [...new Array<number>(rank - batchA.length).fill(1), ...batchA];
  const padB = [...new Array<number>(rank - batchB.length).fill(1), ...batchB];
  const batch = padA.map((d, i) => (d === 1 ? padB[i]! : d));
  const data: number[] = [];
  for (let bi = 0; bi < size(batch); bi++) {
    const idx = unravel(bi, batch);
    const offA = ravel(idx.map((v, i) => (padA[i] === 1 ? 0 : v)), padA) * P * m;
    const offB = ravel(idx.map((v, i) => (padB[i] === 1 ? 0 : v)), padB) * R * m;
    for (let i = 0; i < P; i++) {
      for (let j = 0; j < R; j++) {
        data.push(normOf(Array.from({ length: m }, (_, t) => a.data[offA + i * m + t]! - b.data[offB + j * m + t]!), p));
      }
    }
  }
  return { data, shape: [...batch, P, R] };
}

describe('cdist', () => {
  it('matches the definition for p = 0, 1, 2, 3, ∞ over random batches (zero rows included), on both Euclidean paths', () => {
    const cases = fc.tuple(
      shapeArb({ maxRank: 2, maxDim: 2 }), fc.boolean(), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 3 }),
      fc.constantFrom(0, 1, 2, 3, Infinity), fc.constantFrom('use_mm_for_euclid_dist' as const, 'donot_use_mm_for_euclid_dist' as const), fc.noShrink(fc.integer()),
    );
    fc.assert(
      fc.property(cases, ([batch, broadcast, P, R, m, p, computeMode, seed]) => {
        const a = seededTensor([...batch, P, m], seed, { requiresGrad: false });
        const b = seededTensor([...(broadcast ? [] : batch), R, m], seed + 1, { requiresGrad: false });
        assertClose(cdist(a, b, { p, computeMode }), cdistRef(a, b, p), 1e-10, 1e-7);
      }),
      { numRuns: 200 },
    );
  });

  it('stays accurate on the matrix-product path far from the origin', () => {
    // Points near 1e6 a unit apart: without centring, ‖a‖² + ‖b‖² - 2a·b loses about 1e-4 of the squared distance.
    const a = seededTensor([30, 3], 1, { requiresGrad: false }).add(1e6);
    const b = seededTensor([4, 3], 2, { requiresGrad: false }).add(1e6);
    assertClose(cdist(a, b), cdistRef(a, b, 2), 1e-9);
  });

  it('has gradient 0 at coincident points on both paths, and passes gradcheck', () => {
    for (const computeMode of ['use_mm_for_euclid_dist', 'donot_use_mm_for_euclid_dist'] as const) {
      const a = grad64([[1, 2], [3, 4]]);
      const b = grad64([[1, 2]]);
      const d = cdist(a, b, { computeMode });
      expect(d.data[0]).toBe(0);
      d.sum().backward();
      expect(Array.from(a.grad!.data.slice(0, 2)), computeMode).toEqual([0, 0]);
      expect(Array.from(a.grad!.data).every(Number.isFinite)).toBe(true);
    }
    // x2 in [3, 5] and x1 in [-2, 2]: every distance is at least 1, so the random checks stay away
    // from the kink at coincident points (checked by hand above), where differences are noise.
    const sets = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.noShrink(fc.integer())).map(([P, R, m, seed]) => [seededTensor([P, m], seed), seededTensor([2, R, m], seed + 1, { min: 3, max: 5 })]);
    for (const p of [1, 2, 3, Infinity]) {
      checkGradProperty((a, b) => cdist(a!, b!, { p }), sets, { numRuns: 8 });
    }
    checkGradProperty((a, b) => cdist(a!, b!, { computeMode: 'use_mm_for_euclid_dist' }), sets, { numRuns: 8 });
    checkGradGradProperty((a, b) => cdist(a!, b!, { computeMode: 'use_mm_for_euclid_dist' }), sets, { numRuns: 5 });
    checkGradGradProperty((a, b) => cdist(a!, b!, { p: 3 }), sets, { numRuns: 5 });
  });

  it('names the op and shapes in its errors', () => {
    expect(() => cdist(f64([1, 2]), f64([[1, 2]]))).toThrow(/^cdist: x1 and x2 need at least 2 dimensions, got \[2\] and \[1,2\]/);
    expect(() => cdist(f64([[1, 2]]), f64([[1, 2, 3]]))).toThrow(/^cdist: x1 \[1,2\] and x2 \[1,3\] must have the same number of columns \(2 != 3\)/);
    expect(() => cdist(f64([[1, 2]]), f64([[1, 2]]), { p: -1 })).toThrow(/^cdist: p must be a number ≥ 0, got -1/);
    expect(() => cdist(f64([[[1, 2]], [[1, 2]]]), f64([[[1, 2]], [[1, 2]], [[1, 2]]]))).toThrow(/^cdist: shapes \[2\] and \[3\] cannot be broadcast/);
    expect(() => cdist(f64([[1, 2]]), tensor([[1, 2]]))).toThrow(DTypeError);
    expect(() => cdist(f64([[1, 2]]), f64([[1, 2]]), { computeMode: 'fast' as 'use_mm_for_euclid_dist' })).toThrow(/^cdist: computeMode must be one of/);
  });
});

describe('integer and bool inputs', () => {
  it('are taken as float by the norms and distances', () => {
    const i = tensor([[3, 4], [0, 0]], { dtype: 'int32' });
    expect(vectorNorm(i, 2, 1).dtype).toBe('float32');
    expect(vectorNorm(i, 2, 1).toArray()).toEqual([5, 0]);
    expect(matrixNorm(i, 1).item()).toBe(4);
    expect(normalize(i).toArray()).toEqual([[0.6, 0.8], [0, 0]].map((r) => r.map(Math.fround)));
    expect(cdist(i, f64([[0, 0]])).dtype).toBe('float64');
    expect(cdist(i, f64([[0, 0]])).toArray()).toEqual([[5], [0]]);
    expect(pairwiseDistance(tensor([[true, false]], { dtype: 'bool' }), tensor([[0, 0]]), { eps: 0 }).toArray()).toEqual([1]);
  });
});
