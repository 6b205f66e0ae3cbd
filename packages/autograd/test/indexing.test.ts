import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DTypeError, ShapeError, ArgumentError, Tensor, embedding, gather, index, indexAdd, indexSelect, maskedFill, maskedSelect, noGrad,
  nonzero, oneHot, scatter, scatterAdd, take, tensor, zeros,
} from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor, shapeArb } from '@chainrule/autograd/testing';
import { gatherRef } from './helpers/reduce-reference.js';
import { indexAddRef, indexSelectRef, indexValues, nonzeroRef, scatterRef } from './helpers/indexing-reference.js';
import { broadcastShape, messageOf, ravel, size, sourceIndex, unravel } from './helpers/reference.js';
import { f64, grad64, values } from './helpers/tensors.js';

const i32 = (v: number | number[] | number[][], shape?: number[]): Tensor => tensor(v, { dtype: 'int32', ...(shape ? { shape } : {}) });
const bool = (v: boolean[] | boolean[][]): Tensor => tensor(v);

/** A shape (rank 1..3, dims minDim..3), an axis of it and a seed. */
const caseArb = (minDim = 0) =>
  shapeArb({ minRank: 1, maxRank: 3, minDim, maxDim: 3 }).chain((shape) =>
    fc.record({ shape: fc.constant(shape), axis: fc.integer({ min: 0, max: shape.length - 1 }), seed: fc.nat(1000), m: fc.integer({ min: minDim, max: 4 }), shrink: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) }),
  );

/** An index shape for a gather/scatter along `axis` of `shape`: m along the axis, maybe smaller elsewhere. */
function indexShapeFor(shape: readonly number[], axis: number, m: number, shrink: readonly boolean[]): number[] {
  return shape.map((d, i) => (i === axis ? m : shrink[i] && d > 0 ? d - 1 : d));
}

/** Stands in for code that must not change its inputs: a copy of each tensor's values to compare after. */
function unchanged(...ts: Tensor[]): () => void {
  const before = ts.map((t) => Array.from(t.data));
  return () => ts.forEach((t, i) => expect(Array.from(t.data)).toEqual(before[i]));
}

describe('gather in the general form', () => {
  it('takes an index smaller than the input off the axis, as torch.gather', () => {
    const x = grad64([[0, 1, 2], [3, 4, 5]]);
    expect(x.gather(1, [[0, 1, 2, 0, 1]]).toArray()).toEqual([[0, 1, 2, 0, 1]]);
    expect(x.gather(0, [[1, 0]]).toArray()).toEqual([[3, 1]]);
    x.gather(1, [[2, 2]]).backward(f64([[1, 2]]));
    expect(x.grad!.toArray()).toEqual([[0, 0, 3], [0, 0, 0]]);
    expect(() => x.gather(1, [[0], [1], [0]])).toThrow('gather: index of shape [3,1] must have the rank of input [2,3] and be no larger than input off axis 1');
    expect(gather(tensor([[1, 2], [3, 4]], { dtype: 'int32' }), 1, [[1]]).toArray()).toEqual([[2]]);
    expect(gather(tensor([[true, false]]), 1, [[1, 0]]).toArray()).toEqual([[0, 1]]);
    expect(gather(f64(7), 0, 0).toArray()).toBe(7);
  });

  it('matches a plain-loop reference over random shapes, zero-size included', () => {
    fc.assert(fc.property(caseArb(0), ({ shape, axis, seed, m, shrink }) => {
      const x = seededTensor(shape, seed, { requiresGrad: false });
      const ishape = indexShapeFor(shape, axis, shape[axis] === 0 ? 0 : m, shrink);
      const idx = indexValues(size(ishape), shape[axis]!, seed);
      assertClose(x.gather(axis, i32(idx, ishape)), gatherRef(x.data, shape, axis, idx, ishape), 0, 0);
    }), { numRuns: 60 });
  });

  it('gradients pass gradcheck and gradgradcheck, repeats included', () => {
    const arb = caseArb(1).map(({ shape, axis, seed, m, shrink }) => {
      const ishape = indexShapeFor(shape, axis, m, shrink);
      return { x: seededTensor(shape, seed), axis, index: i32(indexValues(size(ishape), shape[axis]!, seed), ishape) };
    });
    fc.assert(fc.property(arb, ({ x, axis, index: idx }) => {
      const g = (t: Tensor): Tensor => t.gather(axis, idx);
      checkGradProperty(g, fc.constant([x]), { numRuns: 1 });
      checkGradGradProperty(g, fc.constant([x]), { numRuns: 1 });
    }), { numRuns: 15 });
  });
});

describe('scatterAdd and scatter', () => {
  it('hand-computed values and gradients with repeated indices', () => {
    const x = grad64([1, 2, 3]);
    const src = grad64([10, 20, 30, 40]);
    const y = scatterAdd(x, 0, i32([0, 2, 0, 0]), src);
    expect(y.toArray()).toEqual([81, 2, 23]);
    y.backward(f64([1, 2, 3]));
    expect(values(x.grad)).toEqual([1, 2, 3]);
    expect(values(src.grad)).toEqual([1, 3, 1, 1]);

    // Last write wins; only the winner's src element and the unwritten places get gradient.
    const a = grad64([1, 2, 3]);
    const s = grad64([10, 20, 30]);
    const z = a.scatter(0, [0, 2, 0], s);
    expect(z.toArray()).toEqual([30, 2, 20]);
    z.backward(f64([1, 2, 3]));
    expect(values(a.grad)).toEqual([0, 2, 0]);
    expect(values(s.grad)).toEqual([0, 3, 1]);
  });

  it('scatter takes a number, and reduce add or multiply as torch.scatter', () => {
    expect(scatter(zeros([2, 3]), 1, [[2], [0]], 1).toArray()).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(scatter(zeros([2]), 0, [0, 0], 2.5, { reduce: 'add' }).toArray()).toEqual([5, 0]);
    expect(scatter(f64([1, 1]), 0, [0, 0], f64([2, 3]), { reduce: 'multiply' }).toArray()).toEqual([6, 1]);
    expect(() => scatter(grad64([1, 1]), 0, [0], f64([2]), { reduce: 'multiply' })).toThrow(/^scatter: reduce 'multiply' has no gradient/);
    expect(noGrad(() => scatter(grad64([1, 1]), 0, [1], f64([2]), { reduce: 'multiply' })).toArray()).toEqual([1, 2]);
    expect(() => scatter(zeros([2]), 0, [0], f64([1]), { reduce: 'max' as never })).toThrow(ArgumentError);
    // src larger than the index: only its leading corner is read (and gets gradient).
    const src = grad64([[1, 2, 3], [4, 5, 6]]);
    const y = f64([[0, 1, 2], [3, 4, 5]]).scatterAdd(1, [[0, 0]], src);
    expect(y.toArray()).toEqual([[3, 1, 2], [3, 4, 5]]);
    y.backward(f64([[1, 2, 3], [4, 5, 6]]));
    expect(src.grad!.toArray()).toEqual([[1, 1, 0], [0, 0, 0]]);
  });

  it('work on int32 and bool as PyTorch: int32 wraps, bool adds as or', () => {
    expect(scatterAdd(i32([2147483647, 0]), 0, [0], i32([1])).toArray()).toEqual([-2147483648, 0]);
    expect(scatterAdd(tensor([true, false]), 0, [0, 0], tensor([true, true])).toArray()).toEqual([1, 0]);
    expect(scatter(i32([0, 0]), 0, [1], 7).toArray()).toEqual([0, 7]);
    expect(scatter(tensor([false, false]), 0, [1], 1).toArray()).toEqual([0, 1]);
    expect(() => scatter(i32([0, 0]), 0, [1], 2.5)).toThrow('scatter: value 2.5 is not an int32, the input\'s dtype');
  });

  it('match plain-loop references over random shapes, zero-size and repeats included', () => {
    fc.assert(fc.property(caseArb(0), ({ shape, axis, seed, m, shrink }) => {
      const x = seededTensor(shape, seed, { requiresGrad: false });
      const ishape = indexShapeFor(shape, axis, shape[axis] === 0 ? 0 : m, shrink);
      const sshape = ishape.map((d, i) => d + (shrink[i] ? 1 : 0));
      const src = seededTensor(sshape, seed + 1, { requiresGrad: false });
      const idx = indexValues(size(ishape), shape[axis]!, seed);
      const index = i32(idx, ishape);
      assertClose(x.scatterAdd(axis, index, src), scatterRef(x.data, shape, axis, idx, ishape, src.data, sshape, 'add'), 1e-15, 1e-15);
      assertClose(x.scatter(axis, index, src), scatterRef(x.data, shape, axis, idx, ishape, src.data, sshape, 'set'), 0, 0);
    }), { numRuns: 60 });
  });

  it('gradients pass gradcheck and gradgradcheck with repeated indices', () => {
    fc.assert(fc.property(caseArb(1), ({ shape, axis, seed, m, shrink }) => {
      const ishape = indexShapeFor(shape, axis, m, shrink);
      const idx = i32(indexValues(size(ishape), shape[axis]!, seed), ishape);
      const inputs = fc.constant<Tensor[]>([seededTensor(shape, seed), seededTensor(ishape, seed + 1)]);
      checkGradProperty((x, s) => x.scatterAdd(axis, idx, s), inputs, { numRuns: 1 });
      checkGradGradProperty((x, s) => x.scatterAdd(axis, idx, s), inputs, { numRuns: 1 });
      checkGradProperty((x, s) => x.scatter(axis, idx, s), inputs, { numRuns: 1 });
      checkGradGradProperty((x, s) => x.scatter(axis, idx, s).mul(x), inputs, { numRuns: 1 });
    }), { numRuns: 15 });
  });

  it('refuse bad indices, dtypes and shapes, leaving the inputs unchanged', () => {
    const x = grad64([[1, 2], [3, 4]]);
    const src = f64([[5, 6], [7, 8]]);
    const same = unchanged(x, src);
    expect(messageOf(() => x.scatterAdd(1, [[0, 2], [0, 0]], src))).toBe('scatterAdd: index 2 at position 1 is not an integer in [-2, 2) for an axis of size 2');
    expect(() => x.scatter(1, tensor([[0]]), src)).toThrow(DTypeError);
    expect(() => x.scatter(1, tensor([[0]]), src)).toThrow("scatter: index must be an int32 tensor, got float32 of shape [1,1]; convert it with toDtype('int32')");
    expect(() => x.scatterAdd(0, [[0, 0, 0]], src)).toThrow(/^scatterAdd: index of shape \[1,3\] must have the rank of input \[2,2\] and src \[2,2\]/);
    expect(() => x.scatterAdd(0, [0], src)).toThrow(ShapeError);
    expect(() => x.scatterAdd(0, [[0]], f64([[1]]).toDtype('float32'))).toThrow('scatterAdd: src must have the input\'s dtype, got input [2,2] float64 and src [1,1] float32; convert one with toDtype()');
    expect(() => x.scatter(3, [[0]], src)).toThrow(/^scatter: axis 3 is out of range/);
    // int32 index tensors, checked as the kernel runs: the first offender is named, whichever bound it breaks.
    expect(messageOf(() => x.scatterAdd(1, i32([[1, -1], [-3, 2]]), src))).toBe('scatterAdd: index -3 at position 2 is not an integer in [-2, 2) for an axis of size 2');
    expect(messageOf(() => x.scatterAdd(1, i32([[0, 2], [-3, 0]]), src))).toBe('scatterAdd: index 2 at position 1 is not an integer in [-2, 2) for an axis of size 2');
    expect(messageOf(() => x.scatterAdd(0, i32([[0, 0], [2147483647, 0]]), src))).toBe('scatterAdd: index 2147483647 at position 2 is not an integer in [-2, 2) for an axis of size 2');
    same();
  });

  it('count negative indices of an int32 tensor from the end, as a nested array', () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    const src = f64([[10, 20], [30, 40]]);
    const wrapped = x.scatterAdd(1, i32([[-1, 0], [-3, -3]]), src);
    expect(wrapped.toArray()).toEqual([[21, 2, 13], [74, 5, 6]]);
    expect(wrapped.toArray()).toEqual(x.scatterAdd(1, [[2, 0], [0, 0]], src).toArray());
  });
});

describe('indexSelect, indexAdd, take and index', () => {
  it('hand-computed values and gradients', () => {
    const x = grad64([[1, 2, 3], [4, 5, 6]]);
    const y = x.indexSelect(1, [2, 0, 2]);
    expect(y.toArray()).toEqual([[3, 1, 3], [6, 4, 6]]);
    y.backward(f64([[1, 2, 3], [4, 5, 6]]));
    expect(x.grad!.toArray()).toEqual([[2, 0, 4], [5, 0, 10]]);
    expect(indexSelect(x, 0, 1).toArray()).toEqual([[4, 5, 6]]);
    expect(indexSelect(x, -1, i32([-1])).toArray()).toEqual([[3], [6]]);

    const a = grad64([[1, 1], [1, 1], [1, 1]]);
    const src = grad64([[1, 2], [3, 4]]);
    const z = indexAdd(a, 0, [2, 2], src, { alpha: -2 });
    expect(z.toArray()).toEqual([[1, 1], [1, 1], [-7, -11]]);
    z.backward(f64([[1, 2], [3, 4], [5, 6]]));
    expect(a.grad!.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(src.grad!.toArray()).toEqual([[-10, -12], [-10, -12]]);
    expect(indexAdd(i32([1, 2]), 0, [0, 0], i32([3, 4]), { alpha: 2 }).toArray()).toEqual([15, 2]);
    expect(indexAdd(tensor([true, false]), 0, [0, 0], tensor([true, true])).toArray()).toEqual([1, 0]);

    const t = grad64([[1, 2], [3, 4]]);
    const picked = take(t, [[3, -4], [3, 1]]);
    expect(picked.toArray()).toEqual([[4, 1], [4, 2]]);
    picked.backward(f64([[1, 1], [1, 1]]));
    expect(t.grad!.toArray()).toEqual([[1, 1], [0, 2]]);
    expect(take(i32([5, 6]), 1).toArray()).toBe(6);

    // x[idx] for an integer tensor: idx.shape + x.shape[1:]; a bool mask over leading axes.
    const w = grad64([[0, 1, 2], [3, 4, 5]]);
    expect(w.index(i32([[1, 0, 1]])).shape).toEqual([1, 3, 3]);
    expect(index(w, [-1, 0]).toArray()).toEqual([[3, 4, 5], [0, 1, 2]]);
    expect(index(w, 1).toArray()).toEqual([3, 4, 5]);
    expect(w.index(bool([true, false])).toArray()).toEqual([[0, 1, 2]]);
    expect(w.index(bool([[true, false, true], [false, false, true]])).toArray()).toEqual([0, 2, 5]);
    expect(index(w, [false, true]).toArray()).toEqual([[3, 4, 5]]);
    expect(index(f64(5), tensor(true)).toArray()).toEqual([5]);
    const sel = w.index([1, 1]);
    sel.sum().backward();
    expect(w.grad!.toArray()).toEqual([[0, 0, 0], [2, 2, 2]]);
  });

  it('match plain-loop references over random shapes, zero-size and repeats included', () => {
    fc.assert(fc.property(caseArb(0), ({ shape, axis, seed, m }) => {
      const x = seededTensor(shape, seed, { requiresGrad: false });
      const n = shape[axis]!;
      const idx = indexValues(n === 0 ? 0 : m, n, seed);
      assertClose(x.indexSelect(axis, idx), indexSelectRef(x.data, shape, axis, idx), 0, 0);
      const srcShape = shape.map((d, i) => (i === axis ? idx.length : d));
      const src = seededTensor(srcShape, seed + 1, { requiresGrad: false });
      assertClose(x.indexAdd(axis, idx, src, { alpha: 0.5 }), indexAddRef(x.data, shape, axis, idx, src.data, 0.5), 1e-15, 1e-15);
      const flat = indexValues(x.size === 0 ? 0 : m, x.size, seed);
      assertClose(x.take(flat), { data: flat.map((k) => x.data[k < 0 ? k + x.size : k]!), shape: [flat.length] }, 0, 0);
      if (shape[0]! > 0) {
        const lead = indexValues(m, shape[0]!, seed);
        assertClose(x.index(i32(lead)), indexSelectRef(x.data, shape, 0, lead), 0, 0);
      }
    }), { numRuns: 60 });
  });

  it('gradients pass gradcheck and gradgradcheck with repeated indices', () => {
    fc.assert(fc.property(caseArb(1), ({ shape, axis, seed, m }) => {
      const idx = indexValues(m, shape[axis]!, seed);
      const srcShape = shape.map((d, i) => (i === axis ? m : d));
      const x = fc.constant<Tensor[]>([seededTensor(shape, seed)]);
      const xs = fc.constant<Tensor[]>([seededTensor(shape, seed), seededTensor(srcShape, seed + 1)]);
      checkGradProperty((t) => t.indexSelect(axis, idx), x, { numRuns: 1 });
      checkGradGradProperty((t) => t.indexSelect(axis, idx).square(), x, { numRuns: 1 });
      checkGradProperty((t, s) => t.indexAdd(axis, idx, s, { alpha: 1.5 }), xs, { numRuns: 1 });
      checkGradGradProperty((t, s) => t.indexAdd(axis, idx, s, { alpha: 1.5 }).mul(t), xs, { numRuns: 1 });
      const flat = indexValues(m + 1, size(shape), seed);
      checkGradProperty((t) => t.take(i32(flat, [1, m + 1])), x, { numRuns: 1 });
      const lead = i32(indexValues(m, shape[0]!, seed));
      checkGradGradProperty((t) => t.index(lead).square(), x, { numRuns: 1 });
    }), { numRuns: 15 });
  });

  it('refuse bad indices and shapes, leaving the inputs unchanged', () => {
    const x = grad64([[1, 2], [3, 4]]);
    const same = unchanged(x);
    expect(messageOf(() => x.indexSelect(0, [0, 5]))).toBe('indexSelect: index 5 at position 1 is not an integer in [-2, 2) for an axis of size 2');
    expect(() => x.indexSelect(0, [[0]])).toThrow('indexSelect: index must be 0-d or 1-D, got shape [1,1]');
    expect(() => x.indexSelect(0, tensor([0.0]))).toThrow(DTypeError);
    expect(() => x.indexAdd(0, [0], f64([[1, 2], [3, 4]]))).toThrow(/^indexAdd: src of shape \[2,2\] must be \[1,2\]/);
    expect(() => i32([1]).indexAdd(0, [0], i32([1]), { alpha: 0.5 })).toThrow(/^indexAdd: alpha 0.5 does not suit a int32 input/);
    expect(messageOf(() => x.take([4]))).toBe('take: index 4 at position 0 is not an integer in [-4, 4) for an axis of size 4');
    // int32 index tensors: the first offender is named, whichever bound it breaks.
    expect(messageOf(() => x.gather(1, i32([[1, -1], [-3, 2]])))).toBe('gather: index -3 at position 2 is not an integer in [-2, 2) for an axis of size 2');
    expect(messageOf(() => x.gather(1, i32([[0, 2], [-3, 0]])))).toBe('gather: index 2 at position 1 is not an integer in [-2, 2) for an axis of size 2');
    expect(() => x.index(bool([true]))).toThrow('index: a bool mask of shape [1] must match the leading axes of input [2,2]');
    expect(() => f64(1).index([0])).toThrow('index: a 0-d tensor has no axis to index with integers');
    expect(() => x.index(tensor([1.0]))).toThrow(DTypeError);
    same();
  });
});

describe('embedding', () => {
  it('looks rows up, and scatter-adds the gradient into them (none for paddingIdx)', () => {
    const w = grad64([[0, 1], [2, 3], [4, 5]]);
    const ids = i32([[2, 0], [2, 2]]);
    const y = embedding(w, ids, { paddingIdx: 0 });
    expect(y.toArray()).toEqual([[[4, 5], [0, 1]], [[4, 5], [4, 5]]]);
    y.backward(f64([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]));
    expect(w.grad!.toArray()).toEqual([[0, 0], [0, 0], [13, 16]]);
    const v = grad64([[0, 1], [2, 3], [4, 5]]);
    embedding(v, [1, -1], { paddingIdx: -1 }).sum().backward();
    expect(v.grad!.toArray()).toEqual([[0, 0], [1, 1], [0, 0]]);
    expect(embedding(f64([[1, 2]]), i32(0)).toArray()).toEqual([1, 2]);
    expect(embedding(f64([[1, 2]]), i32([], [0, 3])).shape).toEqual([0, 3, 2]);
  });

  it('rows of any width, short or long, match a plain-loop reference forward and backward', () => {
    // Widths past 64 copy rows as blocks and sum gradients four at a time with a remainder.
    fc.assert(fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 12 }), fc.nat(100), (dim, n, count, seed) => {
      const ids = indexValues(count, n, seed);
      const w = seededTensor([n, dim], seed);
      const g = seededTensor([count, dim], seed + 1, { requiresGrad: false });
      const want: number[] = [];
      const grad = new Array<number>(n * dim).fill(0);
      ids.forEach((k, r) => {
        const row = k < 0 ? k + n : k;
        for (let j = 0; j < dim; j++) {
          want.push(w.data[row * dim + j]!);
          grad[row * dim + j]! += g.data[r * dim + j]!;
        }
      });
      const y = embedding(w, i32(ids, [count]));
      assertClose(y, { data: want, shape: [count, dim] }, 0, 0);
      y.backward(g);
      assertClose(w.grad!, { data: grad, shape: [n, dim] }, 0, 0);
    }), { numRuns: 40 });
  });

  it('matches indexSelect of rows and passes gradcheck and gradgradcheck over random shapes', () => {
    fc.assert(fc.property(shapeArb({ minRank: 0, maxRank: 2, maxDim: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.nat(100), fc.boolean(), (ishape, n, dim, seed, padded) => {
      const ids = indexValues(size(ishape), n, seed);
      const w = seededTensor([n, dim], seed);
      const want: number[] = [];
      for (const k of ids) for (let j = 0; j < dim; j++) want.push(w.data[(k < 0 ? k + n : k) * dim + j]!);
      const options = padded ? { paddingIdx: 0 } : {};
      assertClose(embedding(w, i32(ids, ishape), options), { data: want, shape: [...ishape, dim] }, 0, 0);
      if (!padded) {
        checkGradProperty((t) => embedding(t, i32(ids, ishape)), fc.constant([w]), { numRuns: 1 });
        checkGradGradProperty((t) => embedding(t, i32(ids, ishape)).square(), fc.constant([w]), { numRuns: 1 });
        return;
      }
      // paddingIdx: by definition not the derivative, so no gradcheck; the unpadded gradient
      // with row 0 zeroed, as PyTorch gives it.
      const g = seededTensor([...ishape, dim], seed + 1, { requiresGrad: false });
      embedding(w, i32(ids, ishape), options).backward(g);
      const free = seededTensor([n, dim], seed);
      embedding(free, i32(ids, ishape)).backward(g);
      const expected = Array.from(free.grad?.data ?? new Float64Array(n * dim));
      expected.fill(0, 0, dim);
      expect(Array.from(w.grad?.data ?? new Float64Array(n * dim))).toEqual(expected);
    }), { numRuns: 20 });
  });

  it('refuses a weight that is not 2-D, bad indices and paddingIdx', () => {
    const w = grad64([[0, 1], [2, 3]]);
    const same = unchanged(w);
    expect(() => embedding(f64([1, 2]), [0])).toThrow('embedding: weight must be 2-D [numEmbeddings, dim], got shape [2]');
    expect(messageOf(() => embedding(w, [0, 2]))).toBe('embedding: index 2 at position 1 is not an integer in [-2, 2) for an axis of size 2');
    expect(() => embedding(w, tensor([0]))).toThrow(DTypeError);
    expect(() => embedding(w, [0], { paddingIdx: 2 })).toThrow('embedding: paddingIdx 2 is not an integer in [-2, 2) for weight of shape [2,2]');
    same();
  });
});

describe('maskedFill and maskedSelect', () => {
  it('hand-computed values and gradients, with broadcasting', () => {
    const x = grad64([[1, 2, 3], [4, 5, 6]]);
    const mask = bool([true, false, true]);
    const y = x.maskedFill(mask, -Infinity);
    expect(y.toArray()).toEqual([[-Infinity, 2, -Infinity], [-Infinity, 5, -Infinity]]);
    y.backward(f64([[1, 2, 3], [4, 5, 6]]));
    expect(x.grad!.toArray()).toEqual([[0, 2, 0], [0, 5, 0]]);
    expect(maskedFill(f64([0, 0, 0]), tensor([[true, false, false], [false, false, true]]), 1).toArray()).toEqual([[1, 0, 0], [0, 0, 1]]);
    // A 0-d tensor value gets the gradient of the filled places.
    const v = grad64(7);
    const z = maskedFill(f64([1, 2, 3]), mask, v);
    expect(z.toArray()).toEqual([7, 2, 7]);
    z.backward(f64([1, 10, 100]));
    expect(v.grad!.item()).toBe(101);
    expect(maskedFill(i32([1, 2]), bool([true, false]), -3).toArray()).toEqual([-3, 2]);
    expect(maskedFill(i32([1, 2]), bool([true, false]), -3).dtype).toBe('int32');

    const s = grad64([[1, 2, 3], [4, 5, 6]]);
    const picked = maskedSelect(s, bool([false, true, true]));
    expect(picked.toArray()).toEqual([2, 3, 5, 6]);
    picked.backward(f64([1, 2, 3, 4]));
    expect(s.grad!.toArray()).toEqual([[0, 1, 2], [0, 3, 4]]);
    const r = grad64([0, 1, 2]);
    const q = r.maskedSelect(tensor([[true, false, true], [false, false, true]]));
    expect(q.toArray()).toEqual([0, 2, 2]);
    q.backward(f64([1, 2, 3]));
    expect(values(r.grad)).toEqual([1, 0, 5]);
    expect(maskedSelect(f64(3), tensor(true)).toArray()).toEqual([3]);
    expect(maskedSelect(zeros([0, 2]), tensor([true, true])).shape).toEqual([0]);
  });

  it('match plain-loop references over random broadcast shapes', () => {
    const shapes = fc.tuple(shapeArb({ maxDim: 3, minDim: 0 }), shapeArb({ maxDim: 3 }), fc.nat(100)).filter(([a, b]) => broadcastShape(a, b) !== null);
    fc.assert(fc.property(shapes, ([xs, ms, seed]) => {
      const out = broadcastShape(xs, ms)!;
      const x = seededTensor(xs, seed, { requiresGrad: false });
      const maskValues = Array.from({ length: size(ms) }, (_, i) => (i * 5 + seed) % 3 === 0);
      const mask = tensor(new Uint8Array(maskValues.map(Number)), { shape: ms, dtype: 'bool' });
      const fill: number[] = [];
      const select: number[] = [];
      for (let flat = 0; flat < size(out); flat++) {
        const at = unravel(flat, out);
        const v = x.data[sourceIndex(at, xs)]!;
        const m = maskValues[sourceIndex(at, ms)]!;
        fill.push(m ? -1 : v);
        if (m) select.push(v);
      }
      assertClose(x.maskedFill(mask, -1), { data: fill, shape: out }, 0, 0);
      assertClose(x.maskedSelect(mask), { data: select, shape: [select.length] }, 0, 0);
      if (size(out) > 0 && size(xs) > 0) {
        checkGradProperty((t) => t.maskedFill(mask, 0.5), fc.constant([seededTensor(xs, seed)]), { numRuns: 1 });
        checkGradGradProperty((t) => t.maskedSelect(mask).square(), fc.constant([seededTensor(xs, seed)]), { numRuns: 1 });
      }
    }), { numRuns: 40 });
  });

  it('take a bool mask only, refusing others clearly and leaving the inputs unchanged', () => {
    const x = grad64([1, 2, 3]);
    const m = i32([1, 0, 1]);
    const same = unchanged(x, m);
    expect(() => x.maskedFill(m, 0)).toThrow(DTypeError);
    expect(() => x.maskedFill(m, 0)).toThrow("maskedFill: mask must be a bool tensor, got int32 of shape [3]; make one with a comparison or toDtype('bool')");
    expect(() => x.maskedSelect(f64([1, 0, 1]))).toThrow(/^maskedSelect: mask must be a bool tensor, got float64/);
    expect(() => x.maskedFill(bool([true, false]), 0)).toThrow(/^maskedFill: shapes \[3\] and \[2\] cannot be broadcast together/);
    expect(() => x.maskedSelect(bool([true, false]))).toThrow(ShapeError);
    expect(() => x.maskedFill(bool([true, false, true]), f64([1, 2]))).toThrow('maskedFill: value must be a number or a 0-d tensor, got shape [2]');
    expect(() => i32([1, 2, 3]).maskedFill(bool([true, false, true]), 0.5)).toThrow(ArgumentError);
    same();
  });
});

describe('nonzero and oneHot', () => {
  it('nonzero gives int32 coordinates [n, ndim], or one tensor per axis', () => {
    const x = tensor([[0, 1.5], [NaN, 0]]);
    const nz = nonzero(x);
    expect(nz.dtype).toBe('int32');
    expect(nz.toArray()).toEqual([[0, 1], [1, 0]]);
    expect(x.nonzero().shape).toEqual([2, 2]);
    const [rows, cols] = nonzero(x, { asTuple: true });
    expect(rows!.toArray()).toEqual([0, 1]);
    expect(cols!.toArray()).toEqual([1, 0]);
    expect(nonzero(f64(3)).shape).toEqual([1, 0]);
    expect(nonzero(f64(3), { asTuple: true }).map((t) => t.toArray())).toEqual([[0]]);
    expect(nonzero(f64(0), { asTuple: true }).map((t) => t.shape)).toEqual([[0]]);
    expect(nonzero(zeros([2, 0])).shape).toEqual([0, 2]);
    expect(nonzero(tensor([true, false, true])).toArray()).toEqual([[0], [2]]);
    expect(nonzero(i32([0, -4])).toArray()).toEqual([[1]]);
    expect(nonzero(tensor([-0, 0])).shape).toEqual([0, 1]);
  });

  it('nonzero matches a plain-loop reference over random shapes', () => {
    fc.assert(fc.property(shapeArb({ minDim: 0, maxDim: 3 }), fc.nat(100), (shape, seed) => {
      const data = Array.from({ length: size(shape) }, (_, i) => ((i * 3 + seed) % 4 === 0 ? 0 : i - 2));
      const x = tensor(data, { shape, dtype: 'int32' });
      const want = nonzeroRef(data, shape);
      expect(nonzero(x).toArray()).toEqual(shape.length === 0 && want.length === 0 ? [] : want);
      expect(nonzero(x).shape).toEqual([want.length, shape.length]);
      if (shape.length > 0) expect(nonzero(x, { asTuple: true }).map((t) => Array.from(t.data))).toEqual(shape.map((_, d) => want.map((c) => c[d])));
    }), { numRuns: 40 });
  });

  it('oneHot gives int32 [...shape, numClasses], inferring numClasses from the largest index', () => {
    const y = oneHot(i32([0, 2]));
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([[1, 0, 0], [0, 0, 1]]);
    expect(oneHot(i32(1), 3).toArray()).toEqual([0, 1, 0]);
    expect(oneHot([[1], [0]], 2).toArray()).toEqual([[[0, 1]], [[1, 0]]]);
    expect(oneHot(i32([], [0]), 4).shape).toEqual([0, 4]);
    fc.assert(fc.property(shapeArb({ maxDim: 3 }), fc.integer({ min: 1, max: 5 }), fc.nat(100), (shape, c, seed) => {
      const ids = Array.from({ length: size(shape) }, (_, i) => (i * 7 + seed) % c);
      const h = oneHot(i32(ids.length ? ids : [], shape), c);
      expect(h.shape).toEqual([...shape, c]);
      for (let flat = 0; flat < h.size; flat++) expect(h.data[flat]).toBe(flat % c === ids[Math.floor(flat / c)] ? 1 : 0);
    }), { numRuns: 30 });
  });

  it('oneHot refuses negative, too large and non-integer classes', () => {
    const ids = i32([0, -1]);
    const same = unchanged(ids);
    expect(() => oneHot(ids)).toThrow('oneHot: index -1 at position 1 is not a non-negative integer');
    expect(() => oneHot(i32([0, 3]), 3)).toThrow('oneHot: index 3 at position 1 is not below numClasses 3');
    expect(() => oneHot(i32([], [0]))).toThrow('oneHot: cannot infer numClasses from an empty input; pass it');
    expect(() => oneHot(tensor([1]))).toThrow(DTypeError);
    same();
  });
});

describe('layout ops on int32 and bool', () => {
  it('gather, indexSelect, take, index, maskedSelect and embedding keep the dtype and give no gradient', () => {
    const x = i32([[1, 2], [3, 4]]);
    for (const y of [x.gather(0, [[1, 0]]), x.indexSelect(1, [1]), x.take([3]), x.index([1]), x.maskedSelect(bool([true, false]))]) {
      expect(y.dtype).toBe('int32');
      expect(y.requiresGrad).toBe(false);
    }
    const b = tensor([[true, false], [false, true]]);
    expect(b.indexSelect(0, [1]).toArray()).toEqual([[0, 1]]);
    expect(b.indexSelect(0, [1]).dtype).toBe('bool');
    expect(ravel([1, 1], [2, 2])).toBe(3);
  });
});
