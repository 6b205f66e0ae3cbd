import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, DTypeError, ShapeError, Tensor, concat, flatten, gather, logSoftmax, narrow, softmax, stack, tensor,
} from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, shapeArb, tensorArb, tensorsArb } from '@chainrule/autograd/testing';
import { safeSoftmax, softmaxGrad } from '../src/ops/softmax.js';
import { alongAxisRef, concatRef, expandRef, gatherRef, logSoftmaxLine, permuteRef, reduceRef, sliceRef, softmaxLine } from './helpers/reduce-reference.js';
import { messageOf, size } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

/** 0, 1, 2, ... laid out in `shape` (float64, requiring grad). */
const iota = (shape: number[]): Tensor =>
  tensor(Array.from({ length: size(shape) }, (_, i) => i), { dtype: 'float64', shape, requiresGrad: true });

/** A tensor of a random shape (rank minRank..maxRank, dims 1..3) and a valid axis of it, maybe negative. */
const withAxisArb = (minRank = 1, maxRank = 3): fc.Arbitrary<{ x: Tensor; axis: number }> =>
  shapeArb({ minRank, maxRank, maxDim: 3 }).chain((shape) =>
    fc.record({ x: tensorArb(shape), axis: fc.integer({ min: -shape.length, max: shape.length - 1 }) }),
  );
const pos = (axis: number, ndim: number): number => (axis < 0 ? axis + ndim : axis);
const one = (shapes: fc.Arbitrary<number[]>): fc.Arbitrary<Tensor[]> => shapes.chain((s) => tensorArb(s).map((t) => [t]));

describe('reshape and flatten', () => {
  it('keep the row-major order and infer one -1 dimension', () => {
    const x = iota([2, 3]);
    expect(x.reshape(3, 2).toArray()).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(x.reshape([3, -1]).shape).toEqual([3, 2]);
    expect(x.reshape(-1).toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(x.reshape(1, -1, 1).shape).toEqual([1, 6, 1]);
    expect(x.flatten().shape).toEqual([6]);
    expect(grad64(7).flatten().toArray()).toEqual([7]);
    // torch.flatten(x, start_dim, end_dim): shapes as PyTorch gives them.
    const z = tensor(new Float64Array(120), { shape: [2, 3, 4, 5] });
    expect(z.flatten(1).shape).toEqual([2, 60]);
    expect(z.flatten(1, 2).shape).toEqual([2, 12, 5]);
    expect(flatten(z, -3, -2).shape).toEqual([2, 12, 5]);
    expect(z.flatten(2, 2).shape).toEqual([2, 3, 4, 5]);
    expect(flatten(grad64(7), 0, -1).shape).toEqual([1]);
    expect(() => z.flatten(2, 1)).toThrow('flatten: startDim 2 comes after endDim 1 for shape [2,3,4,5]');
    expect(() => z.flatten(4)).toThrow(ShapeError);
    expect(grad64([7]).reshape([]).shape).toEqual([]);
    expect(tensor(new Float32Array(0), { shape: [0, 3] }).reshape(-1, 3).shape).toEqual([0, 3]);
    // A view: the same storage, as in PyTorch.
    expect(x.reshape(6).data).toBe(x.data);
  });

  it('send the gradient back in the input shape', () => {
    const x = iota([2, 3]);
    x.reshape(3, 2).backward(f64([[1, 2], [3, 4], [5, 6]]));
    expect(x.grad!.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const y = iota([2, 2]);
    y.flatten().backward(f64([1, 2, 3, 4]));
    expect(y.grad!.toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('refuse two -1s, a wrong size and negative dimensions', () => {
    const x = iota([2, 2]);
    expect(() => x.reshape(-1, -1)).toThrow(ShapeError);
    expect(messageOf(() => x.reshape(-1, -1))).toBe('reshape: only one dimension may be -1, got [-1,-1]');
    expect(messageOf(() => x.reshape(3, -1))).toBe('reshape: cannot reshape [2,2] (4 elements) into [3,-1]');
    expect(messageOf(() => x.reshape(5))).toBe('reshape: cannot reshape [2,2] (4 elements) into [5]');
    expect(() => x.reshape(-2, -2)).toThrow(/^reshape: invalid shape \[-2,-2\]/);
    expect(() => x.reshape(0, -1)).toThrow(/^reshape: cannot reshape/);
  });

  it('forward keeps the data in order for any target shape, one dimension maybe -1', () => {
    const arb = shapeArb({ maxRank: 4, maxDim: 3 }).chain((shape) =>
      fc.record({
        x: tensorArb(shape),
        target: fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }),
        infer: fc.integer({ min: -1, max: shape.length - 1 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ x, target, infer }) => {
        const asked = target.map((d, i) => (i === infer ? -1 : d));
        const y = x.reshape(asked);
        expect(y.shape).toEqual(target);
        expect([...y.data]).toEqual([...x.data]);
      }),
      { numRuns: 40 },
    );
  });

  it('gradients pass gradcheck over random shapes', () => {
    const shapes = shapeArb({ maxRank: 4, maxDim: 3 });
    checkGradProperty((x) => x.reshape([...x.shape].reverse()), one(shapes), { numRuns: 15 });
    checkGradProperty((x) => x.reshape(1, -1), one(shapes), { numRuns: 10 });
    checkGradProperty((x) => x.flatten(), one(shapes), { numRuns: 10 });
  });
});

describe('transpose and permute', () => {
  it('reorder axes', () => {
    const x = iota([2, 3]);
    expect(x.transpose().toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(x.transpose(1, 0).toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    // [2,1,3] holding 3i + k at (i, 0, k); permute(2, 0, 1) puts it at (k, i, 0).
    const t = iota([2, 1, 3]);
    const p = t.permute(2, 0, 1);
    expect(p.shape).toEqual([3, 2, 1]);
    expect(p.toArray()).toEqual([[[0], [3]], [[1], [4]], [[2], [5]]]);
    expect(t.permute([-1, -3, -2]).toArray()).toEqual(p.toArray());
    expect(iota([2, 3, 4]).transpose(0, -1).shape).toEqual([4, 3, 2]);
    const s = grad64(5);
    expect(s.transpose(0, -1)).toBe(s); // the one swap a 0-d tensor has
    expect(s.permute([]).item()).toBe(5);
  });

  it('send the gradient back through the inverse permutation', () => {
    const x = iota([2, 3]);
    x.transpose().backward(f64([[1, 2], [3, 4], [5, 6]]));
    expect(x.grad!.toArray()).toEqual([[1, 3, 5], [2, 4, 6]]);
    const t = iota([2, 1, 3]);
    t.permute(2, 0, 1).backward(f64([[[1], [2]], [[3], [4]], [[5], [6]]]));
    expect(t.grad!.toArray()).toEqual([[[1, 3, 5]], [[2, 4, 6]]]);
  });

  it('refuse a wrong number of axes, a repeated axis and an axis out of range', () => {
    const x = iota([2, 2]);
    expect(messageOf(() => x.permute(0))).toBe('permute: got 1 axes [0] for a tensor of shape [2,2]');
    expect(messageOf(() => x.permute(0, -2))).toBe('permute: axes [0,-2] repeat an axis (shape [2,2])');
    expect(() => x.permute(0, 2)).toThrow(/^permute: axis 2 is out of range/);
    expect(() => x.transpose(0, 2)).toThrow(ShapeError);
    expect(() => x.transpose(0, 2)).toThrow(/^transpose: axis 2 is out of range for a tensor with 2 dimension\(s\)/);
  });

  it('forward matches a plain-loop reference over random shapes and permutations', () => {
    const arb = shapeArb({ maxRank: 4, maxDim: 3 }).chain((shape) =>
      fc.record({
        x: tensorArb(shape),
        perm: fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length }),
        negative: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ x, perm, negative }) => {
        const axes = perm.map((p, i) => (negative[i] ? p - x.ndim : p));
        assertClose(x.permute(axes), permuteRef(x.data, x.shape, perm), 0, 0);
      }),
      { numRuns: 40 },
    );
  });

  it('gradients pass gradcheck over random shapes', () => {
    const shapes = shapeArb({ minRank: 2, maxRank: 4, maxDim: 3 });
    checkGradProperty((x) => x.permute([...x.shape.keys()].reverse()), one(shapes), { numRuns: 15 });
    checkGradProperty((x) => x.transpose(0, -1), one(shapes), { numRuns: 10 });
    checkGradProperty((x) => x.transpose(), one(shapes), { numRuns: 10 });
  });
});

describe('slice and narrow', () => {
  it('slice takes Python-style bounds: negative from the end, clipped to the axis', () => {
    const x = grad64([1, 2, 3, 4, 5]);
    expect(x.slice(0, 1, 3).toArray()).toEqual([2, 3]);
    expect(x.slice(0, -3).toArray()).toEqual([3, 4, 5]);
    expect(x.slice(0, 1, -1).toArray()).toEqual([2, 3, 4]);
    expect(x.slice(0, -100, 100).toArray()).toEqual([1, 2, 3, 4, 5]);
    expect(x.slice(0, 4, 2).shape).toEqual([0]);
    expect(x.slice(0, 7).shape).toEqual([0]);
    const m = iota([2, 3]);
    expect(m.slice(1, 1).toArray()).toEqual([[1, 2], [4, 5]]);
    expect(m.slice(-2, -1).toArray()).toEqual([[3, 4, 5]]);
  });

  it('narrow takes start (negative from the end) and a length that must fit', () => {
    const x = grad64([1, 2, 3, 4, 5]);
    expect(x.narrow(0, 1, 2).toArray()).toEqual([2, 3]);
    expect(x.narrow(0, -2, 2).toArray()).toEqual([4, 5]);
    expect(narrow(x, -1, -5, 0).shape).toEqual([0]);
    expect(iota([3, 3]).narrow(1, 1, 2).toArray()).toEqual([[1, 2], [4, 5], [7, 8]]);
    expect(() => x.narrow(0, 3, 5)).toThrow(ShapeError);
    expect(messageOf(() => x.narrow(0, 3, 5))).toBe('narrow: start 3 and length 5 do not fit axis 0 of shape [5]');
    expect(() => x.narrow(0, -6, 1)).toThrow(/^narrow: start -6 and length 1/);
    expect(() => x.narrow(0, 1, -1)).toThrow(/^narrow: /);
    expect(() => x.narrow(0, 0.5, 1)).toThrow(/^narrow: /);
  });

  it('send the gradient to the sliced positions only', () => {
    const x = iota([2, 4]);
    x.slice(1, 1, 3).backward(f64([[1, 2], [3, 4]]));
    expect(x.grad!.toArray()).toEqual([[0, 1, 2, 0], [0, 3, 4, 0]]);
    const y = iota([3, 2]);
    y.narrow(0, -1, 1).sum().backward();
    expect(y.grad!.toArray()).toEqual([[0, 0], [0, 0], [1, 1]]);
  });

  it('refuse a 0-d tensor, non-integer bounds and a bad axis', () => {
    expect(() => grad64(3).slice(0, 0, 1)).toThrow(ShapeError);
    expect(() => grad64(3).slice(0, 0, 1)).toThrow(/^slice: a 0-d tensor has no axis/);
    expect(() => grad64(3).narrow(0, 0, 1)).toThrow(/^narrow: a 0-d tensor has no axis/);
    expect(() => grad64([1, 2]).slice(0, 1.5)).toThrow(ArgumentError);
    expect(() => grad64([1, 2]).slice(0, 1.5)).toThrow(/^slice: start and end must be integers/);
    expect(() => grad64([1, 2]).slice(1, 0)).toThrow(/^slice: axis 1 is out of range/);
  });

  it('forward matches a reference with Python slice semantics (narrow: torch.narrow semantics)', () => {
    const arb = withAxisArb().chain(({ x, axis }) => {
      const n = x.shape[pos(axis, x.ndim)]!;
      return fc.record({
        x: fc.constant(x),
        axis: fc.constant(axis),
        start: fc.integer({ min: -n - 2, max: n + 2 }),
        end: fc.option(fc.integer({ min: -n - 2, max: n + 2 }), { nil: undefined }),
      });
    });
    fc.assert(
      fc.property(arb, ({ x, axis, start, end }) => {
        const ax = pos(axis, x.ndim);
        const n = x.shape[ax]!;
        const bound = (v: number): number => (v < 0 ? Math.max(v + n, 0) : Math.min(v, n));
        const lo = bound(start);
        const hi = Math.max(lo, bound(end ?? n));
        assertClose(x.slice(axis, start, end), sliceRef(x.data, x.shape, ax, lo, hi), 0, 0);
        // narrow takes the same range as (start, length) and needs it inside the axis.
        const length = (end ?? n) - start;
        if (start >= -n && start <= n && length >= 0 && (start < 0 ? start + n : start) + length <= n) {
          const from = start < 0 ? start + n : start;
          assertClose(x.narrow(axis, start, length), sliceRef(x.data, x.shape, ax, from, from + length), 0, 0);
        } else {
          expect(() => x.narrow(axis, start, length)).toThrow(ShapeError);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('gradients pass gradcheck over random shapes', () => {
    const shapes = shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 });
    checkGradProperty((x) => x.slice(0, 1), one(shapes), { numRuns: 10 });
    checkGradProperty((x) => x.slice(-1, -2, -1), one(shapes), { numRuns: 10 });
    checkGradProperty((x) => x.narrow(-1, 0, 1), one(shapes), { numRuns: 10 });
  });
});

describe('concat and stack', () => {
  it('concat joins along an existing axis', () => {
    const a = grad64([[1, 2]]);
    const b = grad64([[3, 4], [5, 6]]);
    expect(concat([a, b]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(concat([grad64([[1], [2]]), grad64([[3, 4], [5, 6]])], -1).toArray()).toEqual([[1, 3, 4], [2, 5, 6]]);
    expect(concat([a]).toArray()).toEqual([[1, 2]]);
    expect(concat([grad64([1]), grad64([]), grad64([2, 3])]).toArray()).toEqual([1, 2, 3]);
    const out = concat([a, b], 0);
    out.backward(f64([[1, 2], [3, 4], [5, 6]]));
    expect(a.grad!.toArray()).toEqual([[1, 2]]);
    expect(b.grad!.toArray()).toEqual([[3, 4], [5, 6]]);
  });

  it('stack joins along a new axis', () => {
    const a = grad64([1, 2, 3]);
    const b = grad64([4, 5, 6]);
    expect(stack([a, b]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(stack([a, b], 1).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(stack([a, b], -1).shape).toEqual([3, 2]);
    expect(stack([grad64(1), grad64(2)]).toArray()).toEqual([1, 2]);
    stack([a, b], 1).backward(f64([[1, 2], [3, 4], [5, 6]]));
    expect(a.grad!.toArray()).toEqual([1, 3, 5]);
    expect(b.grad!.toArray()).toEqual([2, 4, 6]);
  });

  it('a tensor used twice gets both gradients', () => {
    const a = grad64([1, 2]);
    concat([a, a]).backward(f64([1, 2, 3, 4]));
    expect(a.grad!.toArray()).toEqual([4, 6]);
  });

  it('refuse empty lists, mismatched shapes, mixed dtypes and 0-d tensors, naming the op', () => {
    expect(() => concat([])).toThrow(ArgumentError);
    expect(() => concat([])).toThrow(/^concat: needs a non-empty array/);
    expect(messageOf(() => concat([grad64([[1, 2]]), grad64([[2, 3, 4]])], 0))).toBe('concat: shapes [1,2], [1,3] differ outside axis 0');
    expect(() => concat([grad64([[1]]), grad64([2, 3])])).toThrow(ShapeError);
    expect(() => concat([tensor([1]), grad64([2])])).toThrow(DTypeError);
    expect(() => concat([tensor([1]), grad64([2])])).toThrow(/^concat: dtypes differ: \[1\] float32 and \[1\] float64/);
    expect(() => concat([grad64(1), grad64(2)])).toThrow(ShapeError);
    expect(() => concat([grad64(1), grad64(2)])).toThrow(/^concat: a 0-d tensor has no axis to join along/);
    expect(() => stack([])).toThrow(/^stack: needs a non-empty array/);
    expect(messageOf(() => stack([grad64([1]), grad64([2, 3])]))).toBe('stack: all tensors must have one shape, got [1], [2]');
    expect(() => stack([tensor([1]), grad64([2])])).toThrow(DTypeError);
    // The axis of stack is one of the result's: [-3, 2] for 2-D inputs.
    expect(messageOf(() => stack([iota([2, 2]), iota([2, 2])], 3))).toBe(
      'stack: axis 3 is out of range [-3, 2] for a new axis of a tensor of shape [2,2]',
    );
  });

  /** 1–3 tensors of one random shape except along `axis`, where each has its own size (maybe 0). */
  const partsArb = shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }).chain((shape) =>
    fc.record({
      axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
      sizes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
    }).chain(({ axis, sizes }) => {
      const ax = pos(axis, shape.length);
      return fc.tuple(fc.constant(axis), fc.tuple(...sizes.map((n) => tensorArb(shape.map((d, i) => (i === ax ? n : d))))));
    }),
  );

  it('concat forward matches a plain-loop reference', () => {
    fc.assert(
      fc.property(partsArb, ([axis, parts]) => {
        const ax = pos(axis, parts[0]!.ndim);
        const refs = parts.map((p) => ({ data: [...p.data], shape: [...p.shape] }));
        assertClose(concat(parts, axis), concatRef(refs, ax), 0, 0);
      }),
      { numRuns: 40 },
    );
  });

  it('concat along the last axis of many rows matches the reference for every piece width', () => {
    // Widths 1-4 (unrolled copies), 5 and 63 (a loop per run), 64 (a block copy per run), mixed;
    // row counts cross the kernel's blocks of rows.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.constantFrom(0, 1, 2, 3, 4, 5, 63, 64), { minLength: 1, maxLength: 5 }),
        fc.constantFrom('float32' as const, 'float64' as const),
        (rows, widths, dtype) => {
          const parts = widths.map((w, p) => iota([rows, w]).add(1000 * p).toDtype(dtype));
          const refs = parts.map((t) => ({ data: [...t.data], shape: [...t.shape] }));
          assertClose(concat(parts, -1), concatRef(refs, 1), 0, 0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('stack forward matches concat of the inputs with a new size-1 axis', () => {
    const arb = shapeArb({ maxRank: 3, maxDim: 3 }).chain((shape) =>
      fc.record({
        xs: fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, () => tensorArb(shape)))),
        axis: fc.integer({ min: -shape.length - 1, max: shape.length }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ xs, axis }) => {
        const ax = pos(axis, xs[0]!.ndim + 1);
        const refs = xs.map((x) => ({ data: [...x.data], shape: [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)] }));
        assertClose(stack(xs, axis), concatRef(refs, ax), 0, 0);
      }),
      { numRuns: 40 },
    );
  });

  it('gradients pass gradcheck over random shapes', () => {
    // Same shapes except the last axis, whose sizes differ.
    const lastAxisParts = shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }).chain((shape) =>
      fc
        .array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 })
        .chain((sizes) => fc.tuple(...sizes.map((n) => tensorArb([...shape.slice(0, -1), n])))),
    );
    checkGradProperty((...xs) => concat(xs, -1), lastAxisParts, { numRuns: 15 });
    const same = tensorsArb(shapeArb({ maxRank: 3, maxDim: 3 }).map((s) => [s, s]));
    checkGradProperty((a, b) => stack([a, b], 0), same, { numRuns: 10 });
    checkGradProperty((a, b) => stack([a, b], -1), same, { numRuns: 10 });
    checkGradProperty((a, b) => concat([a, b, a], 0), same.filter(([a]) => a!.ndim > 0), { numRuns: 10 });
  });
});

describe('expand', () => {
  it('broadcasts size-1 and missing leading axes; -1 keeps a dimension', () => {
    expect(grad64([1, 2]).expand(3, -1).toArray()).toEqual([[1, 2], [1, 2], [1, 2]]);
    expect(grad64([[1], [2]]).expand(2, 3).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(grad64(7).expand([2, 2]).toArray()).toEqual([[7, 7], [7, 7]]);
    expect(grad64([[1, 2]]).expand(2, 1, 2).shape).toEqual([2, 1, 2]);
  });

  it('sums the gradient back over the broadcast axes', () => {
    const x = grad64([[1], [2]]);
    x.expand(2, 3).backward(f64([[1, 2, 3], [4, 5, 6]]));
    expect(x.grad!.toArray()).toEqual([[6], [15]]);
    const s = grad64(7);
    s.expand([2, 3]).sum().backward();
    expect(s.grad!.item()).toBe(6);
  });

  it('refuses shapes it cannot broadcast to', () => {
    expect(() => grad64([1, 2]).expand(3)).toThrow(ShapeError);
    expect(messageOf(() => grad64([1, 2]).expand(3))).toBe('expand: shape [2] cannot be broadcast to [3]');
    expect(() => grad64([[1, 2]]).expand(2)).toThrow(/^expand: shape \[1,2\] cannot be broadcast to \[2\]/);
    expect(() => grad64([1, 2]).expand(-1, 2)).toThrow(/^expand: invalid shape \[-1,2\]/);
  });

  /** A shape and a target it broadcasts to (some axes dropped from the front, some set to 1). */
  const expandCaseArb = shapeArb({ maxRank: 3, maxDim: 3 }).chain((target) =>
    fc
      .record({
        drop: fc.integer({ min: 0, max: target.length }),
        ones: fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }),
      })
      .chain(({ drop, ones }) => {
        const shape = target.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
        return fc.record({ x: tensorArb(shape), target: fc.constant(target) });
      }),
  );

  it('forward matches a plain-loop reference', () => {
    fc.assert(
      fc.property(expandCaseArb, ({ x, target }) => {
        assertClose(x.expand(target), expandRef(x.data, x.shape, target), 0, 0);
      }),
      { numRuns: 40 },
    );
  });

  it('gradients pass gradcheck over random shapes', () => {
    const shapes = shapeArb({ maxRank: 3, maxDim: 3 }).chain((s) =>
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((ones) => s.map((d, i) => (ones[i] ? 1 : d))),
    );
    // Size-1 axes grow to 3 and a new leading axis of 2 appears.
    checkGradProperty((x) => x.expand([2, ...x.shape.map((d) => (d === 1 ? 3 : d))]), one(shapes), { numRuns: 15 });
  });
});

describe('squeeze and unsqueeze', () => {
  it('remove and insert size-1 axes', () => {
    const x = iota([1, 2, 1, 3]);
    expect(x.squeeze().shape).toEqual([2, 3]);
    expect(x.squeeze(2).shape).toEqual([1, 2, 3]);
    expect(x.squeeze(-2).shape).toEqual([1, 2, 3]);
    expect(x.squeeze(1).shape).toEqual([1, 2, 1, 3]); // not size 1: unchanged, as in PyTorch
    expect(x.squeeze().toArray()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(grad64([[5]]).squeeze().shape).toEqual([]);
    expect(grad64(5).squeeze(0).shape).toEqual([]);
    const y = iota([2, 3]);
    expect(y.unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(y.unsqueeze(1).shape).toEqual([2, 1, 3]);
    expect(y.unsqueeze(2).shape).toEqual([2, 3, 1]);
    expect(y.unsqueeze(-1).shape).toEqual([2, 3, 1]);
    expect(y.unsqueeze(-3).shape).toEqual([1, 2, 3]);
    expect(grad64(5).unsqueeze(0).toArray()).toEqual([5]);
  });

  it('send the gradient back in the input shape', () => {
    const x = iota([1, 2, 1]);
    x.squeeze().backward(f64([1, 2]));
    expect(x.grad!.toArray()).toEqual([[[1], [2]]]);
    const y = iota([2]);
    y.unsqueeze(0).backward(f64([[3, 4]]));
    expect(y.grad!.toArray()).toEqual([3, 4]);
  });

  it('name the op and the input rank when the axis is out of range', () => {
    expect(() => iota([2, 2]).squeeze(2)).toThrow(/^squeeze: axis 2 is out of range for a tensor with 2 dimension\(s\)/);
    expect(() => iota([2, 2]).unsqueeze(3)).toThrow(ShapeError);
    expect(messageOf(() => iota([2, 2]).unsqueeze(3))).toBe('unsqueeze: axis 3 is out of range [-3, 2] for a new axis of a tensor of shape [2,2]');
    expect(() => iota([2, 2]).unsqueeze(-4)).toThrow(/^unsqueeze: axis -4 is out of range/);
  });

  it('forward keeps the data and gradients pass gradcheck over random shapes', () => {
    fc.assert(
      fc.property(
        shapeArb({ maxRank: 4, maxDim: 2 }).chain((s) => fc.record({ x: tensorArb(s), at: fc.integer({ min: -s.length - 1, max: s.length }) })),
        ({ x, at }) => {
          const u = x.unsqueeze(at);
          const ax = pos(at, x.ndim + 1);
          expect(u.shape).toEqual([...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)]);
          expect([...u.data]).toEqual([...x.data]);
          const s = x.squeeze();
          expect(s.shape).toEqual(x.shape.filter((d) => d !== 1));
          expect([...s.data]).toEqual([...x.data]);
        },
      ),
      { numRuns: 40 },
    );
    const shapes = shapeArb({ maxRank: 3, maxDim: 2 });
    checkGradProperty((x) => x.squeeze(), one(shapes), { numRuns: 10 });
    checkGradProperty((x) => x.unsqueeze(-1), one(shapes), { numRuns: 10 });
  });
});

describe('gather', () => {
  it('picks elements along an axis by integer index', () => {
    const x = grad64([[1, 2], [3, 4]]);
    expect(x.gather(1, [[0, 0], [1, 0]]).toArray()).toEqual([[1, 1], [4, 3]]);
    expect(x.gather(0, [[1, 0]]).toArray()).toEqual([[3, 2]]);
    expect(x.gather(1, [[1], [0]]).toArray()).toEqual([[2], [3]]);
    expect(x.gather(1, [[0, 0, 1], [1, 0, 0]]).shape).toEqual([2, 3]);
    expect(x.gather(-1, [[-1], [-2]]).toArray()).toEqual([[2], [3]]); // negative indices count from the end
    expect(gather(x, 1, tensor([[1], [1]], { dtype: 'int32' })).toArray()).toEqual([[2], [4]]);
    // Indices are integers: a float index tensor is refused, not truncated.
    expect(() => gather(x, 1, tensor([[1], [1]]))).toThrow("gather: index must be an int32 tensor, got float32 of shape [2,1]; convert it with toDtype('int32')");
  });

  it('adds the gradient of repeated picks together', () => {
    const x = grad64([[1, 2], [3, 4]]);
    x.gather(1, [[0, 0, 0], [1, 0, 1]]).backward(f64([[1, 2, 3], [4, 5, 6]]));
    expect(x.grad!.toArray()).toEqual([[6, 0], [5, 10]]);
  });

  it('names the op when an index is out of range, not an integer, or of the wrong shape', () => {
    const x = grad64([[1, 2], [3, 4]]);
    expect(() => x.gather(1, [[0], [2]])).toThrow(ShapeError);
    expect(messageOf(() => x.gather(1, [[0], [2]]))).toBe('gather: index 2 at position 1 is not an integer in [-2, 2) for an axis of size 2');
    expect(() => x.gather(1, [[0], [-3]])).toThrow(/^gather: index -3 at position 1/);
    expect(() => x.gather(1, [[0.5], [1]])).toThrow(/^gather: index 0.5 at position 0 is not an integer/);
    expect(() => x.gather(1, [0, 1])).toThrow(/^gather: index of shape \[2\] must have the rank of input \[2,2\]/);
    expect(() => x.gather(1, [[0], [1], [0]])).toThrow(/^gather: index of shape \[3,1\] must have the rank of input \[2,2\] and be no larger than input off axis 1/);
    expect(() => x.gather(2, [[0]])).toThrow(/^gather: axis 2 is out of range/);
  });

  /** Index values for a gather along `axis` of `shape`, m picks per line, from a seed (repeats included). */
  function indexFor(shape: readonly number[], axis: number, m: number, seed: number): { values: number[]; shape: number[] } {
    const n = shape[axis]!;
    const indexShape = shape.map((d, i) => (i === axis ? m : d));
    const values = Array.from({ length: size(indexShape) }, (_, i) => ((i * 7 + seed) % (2 * n)) - n);
    return { values, shape: indexShape };
  }

  it('forward matches a plain-loop reference', () => {
    const arb = withAxisArb().chain(({ x, axis }) => fc.record({ x: fc.constant(x), axis: fc.constant(axis), m: fc.integer({ min: 1, max: 4 }), seed: fc.nat(50) }));
    fc.assert(
      fc.property(arb, ({ x, axis, m, seed }) => {
        const ax = pos(axis, x.ndim);
        const idx = indexFor(x.shape, ax, m, seed);
        const index = tensor(idx.values, { dtype: 'int32', shape: idx.shape });
        assertClose(x.gather(axis, index), gatherRef(x.data, x.shape, ax, idx.values, idx.shape), 0, 0);
      }),
      { numRuns: 40 },
    );
  });

  it('gradients pass gradcheck over random shapes', () => {
    const shapes = shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 });
    const pick = (axis: number, m: number) => (x: Tensor): Tensor => {
      const idx = indexFor(x.shape, pos(axis, x.ndim), m, 3);
      return x.gather(axis, tensor(idx.values, { dtype: 'int32', shape: idx.shape }));
    };
    checkGradProperty(pick(-1, 4), one(shapes), { numRuns: 15 });
    checkGradProperty(pick(0, 2), one(shapes), { numRuns: 10 });
  });
});

describe('softmax and logSoftmax', () => {
  it('hand-computed values and gradients', () => {
    const x = grad64([0, Math.log(3)]);
    const p = x.softmax();
    assertClose(p.data, [0.25, 0.75], 1e-15);
    p.backward(f64([1, 0]));
    // p ⊙ (g - <p, g>) = [0.25·0.75, 0.75·(-0.25)]
    assertClose(x.grad!.data, [0.1875, -0.1875], 1e-15);
    const y = grad64([0, Math.log(3)]);
    const l = y.logSoftmax();
    assertClose(l.data, [Math.log(0.25), Math.log(0.75)], 1e-15);
    l.backward(f64([1, 0]));
    // g - p·Σg
    assertClose(y.grad!.data, [0.75, -0.75], 1e-15);
  });

  it('are stable for logits 1000 and 1001 in float64 and float32', () => {
    const q = 1 / (1 + Math.E);
    for (const dtype of ['float64', 'float32'] as const) {
      const tol = dtype === 'float64' ? 1e-14 : 1e-6;
      const x = tensor([[1000, 1001], [-1000, -1001]], { dtype });
      assertClose(x.softmax(1).data, [q, 1 - q, 1 - q, q], tol);
      const l = x.logSoftmax(-1);
      assertClose(l.data, [-Math.log1p(Math.E), -Math.log1p(Math.exp(-1)), -Math.log1p(Math.exp(-1)), -Math.log1p(Math.E)], tol);
    }
    const big = grad64([[1000, 1001]]);
    big.softmax().backward(f64([[1, 0]]));
    assertClose(big.grad!.data, [q * (1 - q), -q * (1 - q)], 1e-14);
  });

  it('work along any axis and with -Infinity logits', () => {
    const x = f64([[1, 2], [1, 4]]);
    const s0 = x.softmax(0);
    assertClose(s0.data, [0.5, 1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-2))], 1e-15);
    expect(f64([-Infinity, 0]).softmax().toArray()).toEqual([0, 1]);
    expect(f64([-Infinity, 0]).logSoftmax().toArray()).toEqual([-Infinity, 0]);
    expect(f64(3).softmax().item()).toBe(1);
    const empty = tensor(new Float64Array(0), { shape: [2, 0] });
    expect(empty.softmax(1).shape).toEqual([2, 0]);
    expect(empty.logSoftmax(0).shape).toEqual([2, 0]);
  });

  it('name the op when the axis is out of range', () => {
    expect(() => softmax(grad64([1, 2]), 1)).toThrow(ShapeError);
    expect(() => softmax(grad64([1, 2]), 1)).toThrow(/^softmax: axis 1 is out of range/);
    expect(() => logSoftmax(grad64([1, 2]), -2)).toThrow(/^logSoftmax: axis -2 is out of range/);
  });

  it('forward matches a plain-loop reference, and softmax lines sum to 1', () => {
    const arb = shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 }).chain((shape) =>
      fc.record({
        x: tensorArb(shape, { min: -30, max: 30 }),
        axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ x, axis }) => {
        const ax = pos(axis, x.ndim);
        const p = x.softmax(axis);
        assertClose(p, alongAxisRef(x.data, x.shape, ax, softmaxLine), 1e-12, 1e-15);
        assertClose(x.logSoftmax(axis), alongAxisRef(x.data, x.shape, ax, logSoftmaxLine), 1e-12, 1e-12);
        const sums = reduceRef(p.data, p.shape, ax, false, (v) => v.reduce((a, b) => a + b, 0));
        assertClose(sums.data, sums.data.map(() => 1), 0, 1e-14);
      }),
      { numRuns: 40 },
    );
  });

  it('gradients pass gradcheck over random shapes', () => {
    const shapes = shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 });
    checkGradProperty((x) => x.softmax(-1), one(shapes), { numRuns: 15 });
    checkGradProperty((x) => x.softmax(0), one(shapes), { numRuns: 10 });
    checkGradProperty((x) => x.logSoftmax(-1), one(shapes), { numRuns: 15 });
    checkGradProperty((x) => x.logSoftmax(0), one(shapes), { numRuns: 10 });
    checkGradProperty((x) => x.softmax(), one(fc.constant([])), { numRuns: 3 }); // 0-d: constant 1
  });

  it('softmax differentiates twice along any axis (its VJP is an op with a VJP of its own)', () => {
    checkGradGradProperty((x) => x.softmax(-1), one(shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 })), { numRuns: 10 });
    checkGradGradProperty((x) => x.softmax(0), one(shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 })), { numRuns: 8 });
  });

  it('softmaxGrad is y ⊙ (g - Σ g ⊙ y) by a plain loop, with gradients and second derivatives in both inputs', () => {
    const arb = shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }).chain((shape) =>
      fc.record({ gy: tensorsArb(fc.constant([shape, shape])), axis: fc.integer({ min: 0, max: shape.length - 1 }) }),
    );
    fc.assert(
      fc.property(arb, ({ gy: [g, y], axis }) => {
        // The sum along `axis` of g ⊙ y, element by element: the line through each element.
        const gyLine = alongAxisRef(g!.mul(y!).data, g!.shape, axis, (v) => v.map(() => v.reduce((a, b) => a + b, 0)));
        const expected = Array.from(y!.data, (yv, i) => yv * (g!.data[i]! - gyLine.data[i]!));
        assertClose(softmaxGrad(g!, y!, axis).data, expected, 1e-12, 1e-14);
      }),
      { numRuns: 30 },
    );
    const pairs = (axis: number) => shapeArb({ minRank: axis + 1, maxRank: 3, maxDim: 3 }).chain((s) => tensorsArb(fc.constant([s, s])));
    checkGradProperty((g, y) => softmaxGrad(g!, y!, 0), pairs(0), { numRuns: 10 });
    checkGradGradProperty((g, y) => softmaxGrad(g!, y!, 0), pairs(0), { numRuns: 6 });
    checkGradGradProperty((g, y) => softmaxGrad(g!, y!, 1), pairs(1), { numRuns: 6 });
  });

  it('float32 softmax matches the float64 reference to float32 rounding', () => {
    fc.assert(
      fc.property(withAxisArb(1, 3), ({ x, axis }) => {
        const p = x.toDtype('float32').softmax(axis);
        expect(p.dtype).toBe('float32');
        assertClose(p.data, alongAxisRef(x.data, x.shape, pos(axis, x.ndim), softmaxLine).data, 1e-6, 1e-7);
      }),
      { numRuns: 20 },
    );
  });

  it('a line of -Infinity only: NaN from softmax (as PyTorch), 0 with a zero gradient from safeSoftmax', () => {
    const rows = [[-Infinity, -Infinity, -Infinity], [1, -Infinity, 2]];
    const plain = f64(rows).softmax(-1).toArray() as number[][];
    expect(plain[0]!.every(Number.isNaN)).toBe(true);
    const x = grad64(rows);
    const s = safeSoftmax(x, -1);
    expect((s.toArray() as number[][])[0]).toEqual([0, 0, 0]);
    assertClose((s.toArray() as number[][])[1]!, plain[1]!, 1e-15);
    s.backward(f64([[1, 2, 3], [1, 2, 3]]));
    const g = x.grad!.toArray() as number[][];
    expect(g[0]).toEqual([0, 0, 0]);
    expect(g[1]!.every(Number.isFinite)).toBe(true);
    expect(() => safeSoftmax(f64([1, 2]), 1)).toThrow(/^safeSoftmax: axis 1 is out of range/);
  });
});
