import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, ShapeError, Tensor, matmul, randn, tensor } from '@chainrule/autograd';
import { assertClose, broadcastShapesArb, checkGradProperty, tensorArb } from '@chainrule/autograd/testing';
import { matmulRef, permuteRef } from './helpers/reduce-reference.js';
import { messageOf } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

describe('matmul: hand-computed cases', () => {
  it('1-D · 1-D is a dot product', () => {
    const a = grad64([1, 2, 3]);
    const b = grad64([4, 5, 6]);
    const out = a.matmul(b);
    expect(out.shape).toEqual([]);
    expect(out.item()).toBe(32);
    out.backward();
    expect(a.grad!.toArray()).toEqual([4, 5, 6]);
    expect(b.grad!.toArray()).toEqual([1, 2, 3]);
  });

  it('1-D · 2-D treats the vector as a row and drops that axis', () => {
    const a = grad64([1, 2]);
    const b = grad64([[1, 2, 3], [4, 5, 6]]);
    const out = a.matmul(b);
    expect(out.shape).toEqual([3]);
    expect(out.toArray()).toEqual([9, 12, 15]);
    out.sum().backward();
    expect(a.grad!.toArray()).toEqual([6, 15]);
    expect(b.grad!.toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
  });

  it('2-D · 1-D treats the vector as a column and drops that axis', () => {
    const a = grad64([[1, 2], [3, 4]]);
    const b = grad64([5, 6]);
    const out = matmul(a, b);
    expect(out.shape).toEqual([2]);
    expect(out.toArray()).toEqual([17, 39]);
    out.sum().backward();
    expect(a.grad!.toArray()).toEqual([[5, 6], [5, 6]]);
    expect(b.grad!.toArray()).toEqual([4, 6]);
  });

  it('2-D · 2-D, with gradients G·Bᵀ and Aᵀ·G', () => {
    const a = grad64([[1, 2], [3, 4]]);
    const b = grad64([[5, 6], [7, 8]]);
    const out = a.matmul(b);
    expect(out.toArray()).toEqual([[19, 22], [43, 50]]);
    out.backward(f64([[1, 0], [0, 2]]));
    // G·Bᵀ = [[1,0],[0,2]]·[[5,7],[6,8]]; Aᵀ·G = [[1,3],[2,4]]·[[1,0],[0,2]]
    expect(a.grad!.toArray()).toEqual([[5, 7], [12, 16]]);
    expect(b.grad!.toArray()).toEqual([[1, 6], [2, 8]]);
  });

  it('broadcasts batch axes and sums the gradient of a broadcast operand over them', () => {
    const a = grad64([[[1, 2]], [[3, 4]]]); // [2,1,2]
    const b = grad64([[1, 0], [0, 2]]); // [2,2], shared by both batches
    const out = a.matmul(b);
    expect(out.shape).toEqual([2, 1, 2]);
    expect(out.toArray()).toEqual([[[1, 4]], [[3, 8]]]);
    out.sum().backward();
    expect(a.grad!.toArray()).toEqual([[[1, 2]], [[1, 2]]]);
    expect(b.grad!.toArray()).toEqual([[4, 4], [6, 6]]);
  });

  it('batched with a 1-D operand on either side', () => {
    const batch = grad64([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]); // [2,2,2]
    expect(batch.matmul(f64([1, -1])).toArray()).toEqual([[-1, -1], [-1, -1]]);
    expect(f64([1, -1]).matmul(batch).toArray()).toEqual([[-2, -2], [-2, -2]]);
    const v = grad64([1, 1]);
    const w = grad64([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    v.matmul(w).sum().backward();
    // d/dv of Σ_b Σ_j Σ_i v_i W[b,i,j] = Σ_b Σ_j W[b,i,j]
    expect(v.grad!.toArray()).toEqual([14, 22]);
  });

  it('an empty inner dimension gives zeros, and empty gradients', () => {
    const a = tensor(new Float64Array(0), { shape: [2, 0], requiresGrad: true });
    const b = tensor(new Float64Array(0), { shape: [0, 3], requiresGrad: true });
    const out = a.matmul(b);
    expect(out.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    out.sum().backward();
    expect(a.grad!.shape).toEqual([2, 0]);
    expect(b.grad!.shape).toEqual([0, 3]);
    expect(f64([]).matmul(f64([])).item()).toBe(0);
  });

  it('computes only the gradient that is needed', () => {
    const a = grad64([[1, 2], [3, 4]]);
    const b = f64([[5, 6], [7, 8]]);
    a.matmul(b).sum().backward();
    expect(a.grad!.toArray()).toEqual([[11, 15], [11, 15]]);
    expect(b.grad).toBeNull();
  });
});

describe('matmul: errors', () => {
  it('names the op and both shapes when the inner dimensions differ', () => {
    const a = tensor(new Float32Array(6), { shape: [2, 3] });
    const b = tensor(new Float32Array(20), { shape: [4, 5] });
    expect(() => a.matmul(b)).toThrow(ShapeError);
    expect(messageOf(() => a.matmul(b))).toBe('matmul: shapes [2,3] and [4,5] are not aligned (3 != 4)');
    expect(messageOf(() => tensor([1, 2]).matmul(tensor([1, 2, 3])))).toBe('matmul: shapes [2] and [3] are not aligned (2 != 3)');
    expect(messageOf(() => tensor([1, 2]).matmul(tensor([[1, 2]])))).toBe('matmul: shapes [2] and [1,2] are not aligned (2 != 1)');
    expect(messageOf(() => tensor(new Float32Array(12), { shape: [2, 2, 3] }).matmul(tensor([1, 2])))).toBe(
      'matmul: shapes [2,2,3] and [2] are not aligned (3 != 2)',
    );
  });

  it('refuses batch axes that do not broadcast, 0-d operands, mixed dtypes and non-tensors', () => {
    const a = tensor(new Float32Array(12), { shape: [2, 2, 3] });
    const b = tensor(new Float32Array(18), { shape: [3, 3, 2] });
    expect(() => a.matmul(b)).toThrow(ShapeError);
    expect(() => a.matmul(b)).toThrow(/^matmul: shapes \[2\] and \[3\] cannot be broadcast together/);
    expect(() => tensor(2).matmul(tensor([1]))).toThrow(/^matmul: both operands need at least one dimension, got shapes \[\] and \[1\]/);
    expect(() => tensor([1, 2]).matmul(tensor([1, 2], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => tensor([1, 2]).matmul(tensor([1, 2], { dtype: 'float64' }))).toThrow(/^matmul: dtypes differ/);
    expect(() => matmul(tensor([1]), [1] as unknown as Tensor)).toThrow(ArgumentError);
    expect(() => matmul(tensor([1]), [1] as unknown as Tensor)).toThrow(/^matmul: other must be a Tensor/);
  });
});

/** Shapes for every matmul rule: 1-D and 2-D operands, and batches that broadcast. */
const shapePairArb: fc.Arbitrary<[number[], number[]]> = fc
  .record({
    kind: fc.constantFrom('1x1', '1x2', '2x1', '2x2', '1xN', 'Nx1', 'NxN'),
    m: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 4 }),
    n: fc.integer({ min: 1, max: 4 }),
    batches: broadcastShapesArb(2, { maxRank: 2, maxDim: 3 }),
  })
  .map(({ kind, m, k, n, batches: [ba, bb] }): [number[], number[]] => {
    switch (kind) {
      case '1x1': return [[k], [k]];
      case '1x2': return [[k], [k, n]];
      case '2x1': return [[m, k], [k]];
      case '2x2': return [[m, k], [k, n]];
      case '1xN': return [[k], [...bb!, k, n]];
      case 'Nx1': return [[...ba!, m, k], [k]];
      default: return [[...ba!, m, k], [...bb!, k, n]];
    }
  });

const operandsArb = (dtype: 'float32' | 'float64' = 'float64'): fc.Arbitrary<Tensor[]> =>
  shapePairArb.chain(([sa, sb]) => fc.tuple(tensorArb(sa, { dtype }), tensorArb(sb, { dtype })));

describe('matmul: properties', () => {
  it('forward matches a triple-loop reference for every rule (float64)', () => {
    fc.assert(
      fc.property(operandsArb(), ([a, b]) => {
        assertClose(a!.matmul(b!), matmulRef(a!.data, a!.shape, b!.data, b!.shape), 1e-12, 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it('forward matches the reference in float32 to float32 precision', () => {
    fc.assert(
      fc.property(operandsArb('float32'), ([a, b]) => {
        const out = a!.matmul(b!);
        expect(out.dtype).toBe('float32');
        assertClose(out, matmulRef(a!.data, a!.shape, b!.data, b!.shape), 1e-5, 1e-5);
      }),
      { numRuns: 30 },
    );
  });

  it('gradients pass gradcheck for every rule (float64)', () => {
    checkGradProperty((a, b) => a.matmul(b), operandsArb(), { numRuns: 30 });
  });

  it('gradients pass gradcheck when only one operand requires grad', () => {
    const arb = operandsArb().map(([a, b]) => [a!, b!.detach()]);
    checkGradProperty((a, b) => a.matmul(b), arb, { numRuns: 10 });
  });
});

describe('matmul: sizes past the blocked and WebAssembly kernels', () => {
  /** Reference gradients of sum(G ⊙ A·B) for 2-D operands: G·Bᵀ and Aᵀ·G. */
  function referenceGrads(a: Tensor, b: Tensor, g: Tensor): [number[], number[]] {
    const bT = permuteRef(b.data, b.shape, [1, 0]);
    const aT = permuteRef(a.data, a.shape, [1, 0]);
    return [matmulRef(g.data, g.shape, bT.data, bT.shape).data, matmulRef(aT.data, aT.shape, g.data, g.shape).data];
  }

  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: a [33,65]·[65,17] product and its gradients match the reference`, () => {
      const tol = dtype === 'float64' ? 1e-12 : 1e-4;
      const a = randn([33, 65], { dtype, seed: 1, requiresGrad: true });
      const b = randn([65, 17], { dtype, seed: 2, requiresGrad: true });
      const g = randn([33, 17], { dtype, seed: 3 });
      const out = a.matmul(b);
      assertClose(out, matmulRef(a.data, a.shape, b.data, b.shape), tol, tol);
      out.backward(g);
      const [ga, gb] = referenceGrads(a, b, g);
      expect(a.grad!.dtype).toBe(dtype);
      assertClose(a.grad!.data, ga, tol, tol);
      assertClose(b.grad!.data, gb, tol, tol);
    });
  }

  it('a broadcast batch of medium products matches the reference', () => {
    const a = randn([3, 1, 20, 30], { dtype: 'float64', seed: 4 });
    const b = randn([2, 30, 25], { dtype: 'float64', seed: 5 });
    assertClose(a.matmul(b), matmulRef(a.data, a.shape, b.data, b.shape), 1e-12, 1e-12);
  });
});
