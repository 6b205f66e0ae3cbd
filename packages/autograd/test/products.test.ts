import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addmm, ArgumentError, baddbmm, bmm, DTypeError, outer, ShapeError, tensor, tensordot, type Tensor } from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import { einsumRef } from './helpers/einsum-reference.js';
import { matmulRef, type Ref } from './helpers/reduce-reference.js';
import { ravel, size, unravel } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

const dim = fc.integer({ min: 0, max: 3 });
const posDim = fc.integer({ min: 1, max: 3 });

/** tensordot by its definition: sum over the paired axes of a's element times b's. */
function tensordotRef(a: Tensor, b: Tensor, axesA: number[], axesB: number[]): Ref {
  const freeA = a.shape.map((_, i) => i).filter((i) => !axesA.includes(i));
  const freeB = b.shape.map((_, i) => i).filter((i) => !axesB.includes(i));
  const outShape = [...freeA.map((d) => a.shape[d]!), ...freeB.map((d) => b.shape[d]!)];
  const sumShape = axesA.map((d) => a.shape[d]!);
  const data: number[] = [];
  for (let o = 0; o < size(outShape); o++) {
    const oi = unravel(o, outShape);
    let s = 0;
    for (let k = 0; k < size(sumShape); k++) {
      const ki = unravel(k, sumShape);
      const ia = new Array<number>(a.ndim), ib = new Array<number>(b.ndim);
      freeA.forEach((d, j) => (ia[d] = oi[j]!));
      freeB.forEach((d, j) => (ib[d] = oi[freeA.length + j]!));
      axesA.forEach((d, j) => (ia[d] = ki[j]!));
      axesB.forEach((d, j) => (ib[d] = ki[j]!));
      s += a.data[ravel(ia, a.shape)]! * b.data[ravel(ib, b.shape)]!;
    }
    data.push(s);
  }
  return { data, shape: outShape };
}

/** Two shapes and a tensordot pairing of their axes (as lists), with the matching sizes. */
const tensordotCaseArb = fc
  .record({ free1: fc.array(dim, { maxLength: 2 }), free2: fc.array(dim, { maxLength: 2 }), paired: fc.array(dim, { maxLength: 2 }), p1: fc.nat(), p2: fc.nat() })
  .map(({ free1, free2, paired, p1, p2 }) => {
    // Scatter the paired axes among the free ones in an order set by p1 and p2.
    const place = (free: number[], p: number): { shape: number[]; axes: number[] } => {
      const shape = [...free];
      const axes: number[] = [];
      paired.forEach((n, j) => {
        const at = (p >> (2 * j)) % (shape.length + 1);
        shape.splice(at, 0, n);
        for (let k = 0; k < axes.length; k++) if (axes[k]! >= at) axes[k]! += 1;
        axes.push(at);
      });
      return { shape, axes };
    };
    const a = place(free1, p1), b = place(free2, p2);
    return { shapeA: a.shape, shapeB: b.shape, axesA: a.axes, axesB: b.axes };
  });

describe('tensordot', () => {
  it('matches its definition over random shapes and axis pairings (zero sizes included)', () => {
    fc.assert(
      fc.property(tensordotCaseArb, fc.noShrink(fc.integer()), ({ shapeA, shapeB, axesA, axesB }, seed) => {
        const a = seededTensor(shapeA, seed, { requiresGrad: false });
        const b = seededTensor(shapeB, seed + 1, { requiresGrad: false });
        assertClose(tensordot(a, b, [axesA, axesB]), tensordotRef(a, b, axesA, axesB), 1e-12, 1e-12);
      }),
      { numRuns: 150 },
    );
  });

  it('takes dims as a number: the last d axes of a with the first d of b', () => {
    const a = seededTensor([2, 3, 4], 1, { requiresGrad: false });
    const b = seededTensor([3, 4, 2], 2, { requiresGrad: false });
    assertClose(tensordot(a, b, 2), tensordotRef(a, b, [1, 2], [0, 1]), 1e-13);
    assertClose(tensordot(a, b), tensordotRef(a, b, [1, 2], [0, 1]), 1e-13);
    assertClose(tensordot(a, f64([1, 2]), 0), tensordotRef(a, f64([1, 2]), [], []), 1e-13);
  });

  it('passes gradcheck and gradgradcheck (float64)', () => {
    const cases = tensordotCaseArb.filter(({ shapeA, shapeB }) => !shapeA.includes(0) && !shapeB.includes(0)).chain(({ shapeA, shapeB, axesA, axesB }) =>
      fc.noShrink(fc.integer()).map((seed) => ({ inputs: [seededTensor(shapeA, seed), seededTensor(shapeB, seed + 1)], axesA, axesB })),
    );
    fc.assert(
      fc.property(cases, ({ inputs, axesA, axesB }) => {
        checkGradProperty((a, b) => tensordot(a!, b!, [axesA, axesB]), fc.constant(inputs), { numRuns: 1 });
        checkGradGradProperty((a, b) => tensordot(a!, b!, [axesA, axesB]), fc.constant(inputs), { numRuns: 1 });
      }),
      { numRuns: 20 },
    );
  });

  it('names the shapes and axes in its errors', () => {
    const a = f64([[1, 2, 3], [4, 5, 6]]);
    expect(() => tensordot(a, a, 1)).toThrow(/^tensordot: axis 1 of a \[2,3\] has size 3 but axis 0 of b \[2,3\] has size 2/);
    expect(() => tensordot(a, a, 3)).toThrow(ShapeError);
    expect(() => tensordot(a, a, -1)).toThrow(ArgumentError);
    expect(() => tensordot(a, a, [[0], [0, 1]])).toThrow(/^tensordot: dims must be/);
    expect(() => tensordot(a, a, [[0, 0], [0, 0]])).toThrow(/^tensordot: axes \[0,0\] repeat an axis of shape \[2,3\]/);
    expect(() => tensordot(a, a, [[2], [0]])).toThrow(/^tensordot: axis 2 is out of range/);
    expect(() => tensordot(a, tensor([1, 2]), 0)).toThrow(DTypeError);
  });
});

describe('outer', () => {
  it('is a[i]·b[j] over random lengths (0 included), with gradients', () => {
    fc.assert(
      fc.property(dim, dim, fc.noShrink(fc.integer()), (n, m, seed) => {
        const a = seededTensor([n], seed), b = seededTensor([m], seed + 1);
        assertClose(outer(a, b), einsumRef('i,j->ij', [a, b]), 1e-15);
        expect(a.outer(b).shape).toEqual([n, m]);
      }),
    );
    checkGradProperty((a, b) => outer(a!, b!), fc.tuple(posDim, posDim).map(([n, m]) => [seededTensor([n], n), seededTensor([m], m + 7)]), { numRuns: 10 });
    checkGradGradProperty((a, b) => outer(a!, b!), fc.tuple(posDim, posDim).map(([n, m]) => [seededTensor([n], n), seededTensor([m], m + 7)]), { numRuns: 5 });
  });

  it('refuses operands that are not 1-D', () => {
    expect(() => outer(f64([[1]]), f64([1]))).toThrow(/^outer: both operands must be 1-D, got shapes \[1,1\] and \[1\]/);
    expect(() => outer(f64(1), f64([1]))).toThrow(ShapeError);
  });
});

describe('bmm, addmm and baddbmm', () => {
  const bmmCase = fc.tuple(posDim, dim, dim, dim, fc.noShrink(fc.integer())).map(([b, n, k, m, seed]) => [seededTensor([b, n, k], seed), seededTensor([b, k, m], seed + 1)]);

  it('bmm is matmul per batch element, with gradients', () => {
    fc.assert(fc.property(bmmCase, ([a, b]) => assertClose(bmm(a!, b!), matmulRef(a!.data, a!.shape, b!.data, b!.shape), 1e-13, 1e-13)));
    const nonEmpty = bmmCase.filter((xs) => xs.every((x) => x.size > 0));
    checkGradProperty((a, b) => a!.bmm(b!), nonEmpty, { numRuns: 10 });
    checkGradGradProperty((a, b) => bmm(a!, b!), nonEmpty, { numRuns: 5 });
  });

  it('addmm is beta·input + alpha·mat1·mat2 with input broadcast; beta 0 ignores the input', () => {
    const cases = fc.tuple(dim, dim, dim, fc.constantFrom(0, 1, 2), fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }), fc.noShrink(fc.integer()));
    fc.assert(
      fc.property(cases, ([n, k, m, inputRank, beta, alpha, seed]) => {
        const inputShape = [[], [m], [n, m]][inputRank]!;
        const c = seededTensor(inputShape, seed, { requiresGrad: false });
        const a = seededTensor([n, k], seed + 1, { requiresGrad: false }), b = seededTensor([k, m], seed + 2, { requiresGrad: false });
        const product = matmulRef(a.data, a.shape, b.data, b.shape);
        const want = product.data.map((p, i) => beta * c.data[inputRank === 0 ? 0 : inputRank === 1 ? i % m : i]! + alpha * p);
        assertClose(addmm(c, a, b, { beta, alpha }), { data: want, shape: [n, m] }, 1e-12, 1e-12);
      }),
    );
    const nanInput = grad64([NaN, Infinity]);
    const out = nanInput.addmm(f64([[1], [2]]), f64([[3, 4]]), { beta: 0 });
    expect(out.toArray()).toEqual([[3, 4], [6, 8]]);
    out.sum().backward();
    expect(Array.from(nanInput.grad!.data)).toEqual([0, 0]);
    const gradCase = fc.tuple(posDim, posDim, posDim, fc.noShrink(fc.integer())).map(([n, k, m, seed]) => [seededTensor([m], seed), seededTensor([n, k], seed + 1), seededTensor([k, m], seed + 2)]);
    checkGradProperty((c, a, b) => addmm(c!, a!, b!, { beta: 0.5, alpha: -1.5 }), gradCase, { numRuns: 10 });
    checkGradGradProperty((c, a, b) => addmm(c!, a!, b!, { beta: 0.5, alpha: -1.5 }), gradCase, { numRuns: 5 });
  });

  it('baddbmm is beta·input + alpha·bmm, with gradients', () => {
    const cases = fc.tuple(posDim, posDim, posDim, posDim, fc.noShrink(fc.integer())).map(([bt, n, k, m, seed]) => [seededTensor([1, n, m], seed), seededTensor([bt, n, k], seed + 1), seededTensor([bt, k, m], seed + 2)]);
    fc.assert(
      fc.property(cases, ([c, a, b]) => {
        const product = matmulRef(a!.data, a!.shape, b!.data, b!.shape);
        const per = c!.size;
        const want = product.data.map((p, i) => 2 * c!.data[i % per]! + 0.5 * p);
        assertClose(c!.baddbmm(a!, b!, { beta: 2, alpha: 0.5 }), { data: want, shape: product.shape }, 1e-12, 1e-12);
      }),
    );
    checkGradProperty((c, a, b) => baddbmm(c!, a!, b!, { beta: 2, alpha: 0.5 }), cases, { numRuns: 10 });
    checkGradGradProperty((c, a, b) => baddbmm(c!, a!, b!), cases, { numRuns: 5 });
  });

  it('name the op and every shape in their errors, leaving inputs unchanged', () => {
    const a3 = seededTensor([2, 3, 4], 1, { requiresGrad: false });
    const before = Array.from(a3.data);
    expect(() => bmm(a3, seededTensor([3, 4, 2], 2))).toThrow(/^bmm: batch sizes differ: shapes \[2,3,4\] and \[3,4,2\]/);
    expect(() => bmm(a3, seededTensor([2, 3, 2], 2))).toThrow(/^bmm: shapes \[2,3,4\] and \[2,3,2\] are not aligned \(4 != 3\)/);
    expect(() => bmm(a3, seededTensor([4, 2], 2))).toThrow(/^bmm: both operands must be 3-D/);
    expect(() => addmm(f64([1, 2, 3]), f64([[1, 2]]), f64([[1], [2]]))).toThrow(/^addmm: input \[3\] does not broadcast to the product's shape \[1,1\]/);
    expect(() => addmm(f64([1]), f64([1, 2]), f64([[1], [2]]))).toThrow(/^addmm: both operands must be 2-D/);
    expect(() => addmm(tensor([1]), f64([[1]]), f64([[1]]))).toThrow(DTypeError);
    expect(() => baddbmm(f64([1]), f64([[1]]), f64([[1]]))).toThrow(/^baddbmm: both operands must be 3-D/);
    expect(() => addmm(f64([1]), f64([[1]]), f64([[1]]), { beta: '1' as unknown as number })).toThrow(ArgumentError);
    expect(Array.from(a3.data)).toEqual(before);
  });
});

describe('integer and bool operands', () => {
  it('are computed in float by the matrix products, and outer keeps integers as PyTorch', () => {
    const i = tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    const d = f64([[1, 0], [0, 1]]);
    expect(tensordot(i, d, 1).dtype).toBe('float64'); // an integer beside float64 takes float64
    expect(tensordot(i, i, 1).toArray()).toEqual([[7, 10], [15, 22]]);
    expect(tensordot(i, i, 1).dtype).toBe('float32');
    expect(addmm(tensor([1, 1], { dtype: 'int32' }), i, d).toArray()).toEqual([[2, 3], [4, 5]]);
    expect(bmm(i.reshape(1, 2, 2), tensor([[[1], [1]]], { dtype: 'bool' })).toArray()).toEqual([[[3], [7]]]);
    const o = outer(tensor([1, 2], { dtype: 'int32' }), tensor([3, 4], { dtype: 'int32' }));
    expect(o.dtype).toBe('int32');
    expect(o.toArray()).toEqual([[3, 4], [6, 8]]);
  });
});
