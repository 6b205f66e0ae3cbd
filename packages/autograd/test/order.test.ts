import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  argmax, argmin, argsort, ArgumentError, bincount, DTypeError, formatGradcheckReport, gradcheck, gradgradcheck, kthvalue, maxWithIndices, median, minWithIndices, searchsorted, ShapeError, sort,
  tensor, topk, unique, type Tensor,
} from '@chainrule/autograd';
import { checkGradGradProperty, checkGradProperty, seededTensor, shapeArb } from '@chainrule/autograd/testing';
import { values } from './helpers/tensors.js';

const i32 = (v: number[]): Tensor => tensor(v, { dtype: 'int32' });

/** Ascending, NaN last, -0 equal to 0: the order the ops are specified by. */
function cmp(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The lanes of x along `ax` (one lane of one element for a 0-d tensor), in row-major order of the other axes. */
function lanesOf(x: Tensor, ax: number): number[][] {
  if (x.ndim === 0) return [[x.data[0]!]];
  const n = x.shape[ax]!;
  const outer = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const lanes: number[][] = [];
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const lane: number[] = [];
      for (let k = 0; k < n; k++) lane.push(x.data[(o * n + k) * inner + j]!);
      lanes.push(lane);
    }
  }
  return lanes;
}

/** Stable argsort of a lane with the built-in (stable) Array sort. */
function refArgsort(lane: number[], descending: boolean): number[] {
  return lane.map((_, i) => i).sort((i, j) => (descending ? cmp(lane[j]!, lane[i]!) : cmp(lane[i]!, lane[j]!)));
}

/** Same numbers, NaN equal to NaN and -0 to 0 (Object.is would split zeros, === would split NaNs). */
function sameValues(got: ArrayLike<number>, want: ArrayLike<number>): boolean {
  if (got.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (cmp(got[i]!, want[i]!) !== 0) return false;
  return true;
}

/** Values with many ties, NaN and signed zeros. */
const tieValue = fc.constantFrom(-2, -1, -0, 0, 0.5, 1, 2, NaN);

/** A float64 tensor of a random shape (0-d, size-1 and empty included), values with ties and NaN, and an axis of it. */
const tensorAndAxis = shapeArb({ minRank: 0, maxRank: 3, minDim: 0, maxDim: 4 }).chain((shape) => {
  const size = shape.reduce((a, b) => a * b, 1);
  const rank = Math.max(shape.length, 1);
  return fc.tuple(fc.array(tieValue, { minLength: size, maxLength: size }), fc.integer({ min: -rank, max: rank - 1 })).map(([v, axis]) => ({
    x: tensor(Float64Array.from(v), { shape }),
    axis,
    ax: axis < 0 ? axis + rank : axis,
  }));
});

function nonEmptyAlong(x: Tensor, ax: number): boolean {
  return x.ndim === 0 || x.shape[ax]! > 0;
}

describe('argmax, argmin, maxWithIndices and minWithIndices', () => {
  test('first position of the extreme; the first NaN when there is one (property against loops)', () => {
    fc.assert(
      fc.property(tensorAndAxis, ({ x, axis, ax }) => {
        fc.pre(nonEmptyAlong(x, ax));
        const lanes = lanesOf(x, ax);
        const first = (lane: number[], largest: boolean): number => {
          const nan = lane.findIndex(Number.isNaN);
          if (nan >= 0) return nan;
          let at = 0;
          for (let k = 1; k < lane.length; k++) if (largest ? lane[k]! > lane[at]! : lane[k]! < lane[at]!) at = k;
          return at;
        };
        for (const largest of [true, false]) {
          const idx = largest ? argmax(x, axis) : argmin(x, axis);
          expect(idx.dtype).toBe('int32');
          expect(values(idx)).toEqual(lanes.map((l) => first(l, largest)));
          const { values: v, indices } = largest ? maxWithIndices(x, axis) : minWithIndices(x, axis);
          expect(values(indices)).toEqual(values(idx));
          expect(sameValues(v.data, lanes.map((l) => l[first(l, largest)]!))).toBe(true);
          expect(v.shape).toEqual(idx.shape);
          expect(x.argmax(axis, true).shape).toEqual(x.ndim === 0 ? [] : x.shape.map((d, i) => (i === ax ? 1 : d)));
        }
        // Without an axis: the position in the flattened tensor.
        if (x.size > 0) {
          const flat = Array.from(x.data);
          expect(argmax(x).item()).toBe(first(flat, true));
          expect(argmin(x).shape).toEqual([]);
          expect(argmin(x, undefined, true).shape).toEqual(x.shape.map(() => 1));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('hand cases, int32 and bool inputs', () => {
    const x = tensor([[1, 5, 5], [2, 2, 0]]);
    expect(argmax(x, 1).toArray()).toEqual([1, 0]);
    expect(argmin(x, 0).toArray()).toEqual([0, 1, 1]);
    expect(argmax(x).item()).toBe(1);
    expect(argmax(tensor([1, NaN, 3, NaN])).item()).toBe(1);
    expect(argmin(tensor([1, NaN, -3])).item()).toBe(1);
    expect(argmax(i32([3, 9, 9, -1])).item()).toBe(1);
    expect(argmax(tensor([false, true, true])).item()).toBe(1);
    expect(argmax(tensor(5)).item()).toBe(0);
    const { values: v, indices } = maxWithIndices(i32([4, 7, 7]), 0);
    expect([v.dtype, v.item(), indices.item()]).toEqual(['int32', 7, 1]);
  });

  test('the gradient of maxWithIndices goes to the selected element only (torch.max(x, dim))', () => {
    const x = tensor([[1, 5, 5], [2, 2, 0]], { dtype: 'float64', requiresGrad: true });
    maxWithIndices(x, 1).values.sum().backward();
    expect(x.grad!.toArray()).toEqual([[0, 1, 0], [1, 0, 0]]);
    const y = tensor([[1, 5, 5], [2, 2, 0]], { dtype: 'float64', requiresGrad: true });
    minWithIndices(y, 0, true).values.mul(tensor([[1, 2, 3]], { dtype: 'float64' })).sum().backward();
    expect(y.grad!.toArray()).toEqual([[1, 0, 0], [0, 2, 3]]);
  });

  test('errors: an empty axis, an axis out of range', () => {
    const x = tensor([[1, 2]]);
    expect(() => argmax(tensor([], { shape: [2, 0] }), 1)).toThrow(ShapeError);
    expect(() => argmax(tensor([], { shape: [2, 0] }), 1)).toThrow('argmax: axis 1 of the input of shape [2,0] is empty, so it has no maximum');
    expect(() => argmin(tensor([]))).toThrow('argmin: the input of shape [0] is empty, so it has no minimum');
    expect(() => maxWithIndices(tensor([], { shape: [0, 3] }), 0)).toThrow(/^maxWithIndices: axis 0 of the input of shape \[0,3\] is empty/);
    expect(() => argmax(x, 2)).toThrow(/^argmax: axis 2 is out of range/);
    expect(values(x)).toEqual([1, 2]);
  });
});

describe('sort, argsort and topk', () => {
  test('stable; NaN last ascending and first descending (property against Array.prototype.sort)', () => {
    fc.assert(
      fc.property(tensorAndAxis, fc.boolean(), ({ x, axis, ax }, descending) => {
        const { values: v, indices } = sort(x, axis, { descending });
        expect(v.shape).toEqual(x.shape);
        expect(indices.dtype).toBe('int32');
        const lanes = lanesOf(x, ax);
        const want = lanes.map((l) => refArgsort(l, descending));
        expect(lanesOf(indices, ax)).toEqual(want);
        expect(lanesOf(argsort(x, axis, { descending }), ax)).toEqual(want);
        const sortedLanes = lanesOf(v, ax);
        lanes.forEach((l, i) => expect(sameValues(sortedLanes[i]!, want[i]!.map((p) => l[p]!))).toBe(true));
      }),
      { numRuns: 300 },
    );
  });

  test('topk: the first k of the stable descending (or ascending) order', () => {
    fc.assert(
      fc.property(tensorAndAxis, fc.boolean(), fc.nat(), ({ x, axis, ax }, largest, kSeed) => {
        const n = x.ndim === 0 ? 1 : x.shape[ax]!;
        const k = x.ndim === 0 ? 1 : kSeed % (n + 1);
        const { values: v, indices } = topk(x, k, axis, { largest });
        expect(indices.shape).toEqual(x.ndim === 0 ? [] : x.shape.map((d, i) => (i === ax ? k : d)));
        const lanes = lanesOf(x, ax);
        const want = lanes.map((l) => refArgsort(l, largest).slice(0, k));
        if (x.size > 0 && k > 0) {
          expect(lanesOf(indices, ax)).toEqual(want);
          const got = lanesOf(v, ax);
          lanes.forEach((l, i) => expect(sameValues(got[i]!, want[i]!.map((p) => l[p]!))).toBe(true));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('hand cases as PyTorch gives them', () => {
    const x = tensor([1, NaN, 3, NaN, 3]);
    expect(sort(x).indices.toArray()).toEqual([0, 2, 4, 1, 3]);
    expect(sort(x, 0, { descending: true }).indices.toArray()).toEqual([1, 3, 2, 4, 0]);
    expect(topk(x, 2).indices.toArray()).toEqual([1, 3]);
    expect(topk(x, 2, -1, { largest: false }).indices.toArray()).toEqual([0, 2]);
    expect(sort(tensor(3)).indices.shape).toEqual([]);
    expect(x.sort().values.dtype).toBe('float32');
    expect(sort(i32([3, -1, 2])).values.toArray()).toEqual([-1, 2, 3]);
    expect(tensor([[3, 1], [0, 2]]).topk(1, 0).values.toArray()).toEqual([[3, 2]]);
  });

  test('errors: k out of range names the op, k and the axis', () => {
    const x = tensor([1, 2]);
    expect(() => topk(x, 3)).toThrow(ArgumentError);
    expect(() => topk(x, 3)).toThrow('topk: k = 3 is out of range for axis 0 of size 2 (input shape [2])');
    expect(() => topk(x, -1)).toThrow(/^topk: k = -1 is out of range/);
    expect(() => topk(x, 1.5)).toThrow('topk: k must be an integer, got 1.5');
    expect(() => sort(x, 1)).toThrow(/^sort: axis 1 is out of range/);
  });
});

describe('kthvalue and median', () => {
  test('kthvalue: the k-th of the stable ascending order; median: the lower middle, or the first NaN', () => {
    fc.assert(
      fc.property(tensorAndAxis, fc.nat(), fc.boolean(), ({ x, axis, ax }, kSeed, keepdims) => {
        fc.pre(nonEmptyAlong(x, ax));
        const n = x.ndim === 0 ? 1 : x.shape[ax]!;
        const k = 1 + (kSeed % n);
        const lanes = lanesOf(x, ax);
        const kth = kthvalue(x, k, axis, keepdims);
        const reduced = x.ndim === 0 ? [] : keepdims ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
        expect(kth.values.shape).toEqual(reduced);
        const wantK = lanes.map((l) => refArgsort(l, false)[k - 1]!);
        expect(values(kth.indices)).toEqual(wantK);
        expect(sameValues(kth.values.data, lanes.map((l, i) => l[wantK[i]!]!))).toBe(true);

        const med = median(x, axis, keepdims);
        const wantM = lanes.map((l) => {
          const nan = l.findIndex(Number.isNaN);
          return nan >= 0 ? nan : refArgsort(l, false)[(l.length - 1) >> 1]!;
        });
        expect(values(med.indices)).toEqual(wantM);
        expect(sameValues(med.values.data, lanes.map((l, i) => l[wantM[i]!]!))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('median of all elements: the lower middle (NaN if any), a 0-d tensor; NaN for no elements', () => {
    fc.assert(
      fc.property(tensorAndAxis, ({ x }) => {
        const flat = Array.from(x.data);
        const want = flat.length === 0 ? NaN : flat.some(Number.isNaN) ? NaN : [...flat].sort(cmp)[(flat.length - 1) >> 1]!;
        const m = median(x);
        expect(m.shape).toEqual([]);
        expect(sameValues([m.item()], [want])).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(median(tensor([3, 1, 2, 4])).item()).toBe(2);
    expect(median(i32([3, 1, 2])).dtype).toBe('int32');
  });

  test('median of all elements shares the gradient among ties, as PyTorch; along an axis it goes to the index', () => {
    const x = tensor([2, 1, 2, 3, 2, 5], { dtype: 'float64', requiresGrad: true });
    median(x).backward();
    expect(values(x.grad)).toEqual([1 / 3, 0, 1 / 3, 0, 1 / 3, 0]);
    const y = tensor([[2, 1, 2, 3]], { dtype: 'float64', requiresGrad: true });
    median(y, 1).values.sum().backward();
    expect(values(y.grad)).toEqual([1, 0, 0, 0]);
  });

  test('errors: k out of range, an empty axis', () => {
    expect(() => kthvalue(tensor([1, 2]), 0)).toThrow('kthvalue: k = 0 is out of range for axis 0 of size 2 (input shape [2]); k counts from 1');
    expect(() => kthvalue(tensor([1, 2]), 3)).toThrow(ArgumentError);
    expect(() => median(tensor([], { shape: [2, 0] }), 1)).toThrow('median: axis 1 of the input of shape [2,0] is empty, so it has no median');
  });
});

describe('gradients of selected values (float64 gradcheck and gradgradcheck)', () => {
  // Continuous random values: distinct almost surely, so each selection is locally constant.
  const shapeAxis = shapeArb({ minRank: 1, maxRank: 3, minDim: 1, maxDim: 4 }).chain((shape) =>
    fc.tuple(fc.constant(shape), fc.integer({ min: -shape.length, max: shape.length - 1 }), fc.noShrink(fc.integer())),
  );
  const inputs = shapeAxis.map(([shape, axis, seed]) => ({ x: seededTensor(shape, seed), axis }));
  const cases: [string, (x: Tensor, axis: number) => Tensor][] = [
    ['sort', (x, axis) => sort(x, axis).values],
    ['sort descending', (x, axis) => sort(x, axis, { descending: true }).values],
    ['topk', (x, axis) => topk(x, Math.min(2, x.shape.at(axis)!), axis).values],
    ['topk smallest', (x, axis) => topk(x, 1, axis, { largest: false }).values],
    ['kthvalue', (x, axis) => kthvalue(x, x.shape.at(axis)!, axis).values],
    ['median', (x, axis) => median(x, axis, true).values],
    ['maxWithIndices', (x, axis) => maxWithIndices(x, axis).values],
    ['minWithIndices', (x, axis) => minWithIndices(x, axis, true).values],
    // Squared, so the second derivative is not zero by linearity alone.
    ['median of all', (x) => median(x.square())],
  ];
  for (const [name, f] of cases) {
    test(name, () => {
      fc.assert(
        fc.property(inputs, ({ x, axis }) => {
          const g = (t: Tensor): Tensor => f(t, axis).square();
          const first = gradcheck(g, [x]);
          expect(first.ok, formatGradcheckReport(first)).toBe(true);
          const second = gradgradcheck(g, [x]);
          expect(second.ok, formatGradcheckReport(second)).toBe(true);
        }),
        { numRuns: 15 },
      );
    });
  }
});

test('zero-size and 0-d inputs: gradients of the input\'s shape, in its dtype', () => {
  const empty = tensor([], { shape: [2, 0], requiresGrad: true });
  sort(empty, 1).values.sum().backward();
  expect(empty.grad!.shape).toEqual([2, 0]);
  const scalar = tensor(3, { dtype: 'float64', requiresGrad: true });
  topk(scalar, 1).values.mul(2).backward();
  expect(scalar.grad!.item()).toBe(2);
  const x = tensor([[3, 1, 2]], { requiresGrad: true });
  kthvalue(x, 2, 1).values.sum().backward();
  expect([x.grad!.dtype, values(x.grad)]).toEqual(['float32', [0, 0, 1]]);
});

describe('unique', () => {
  test('sorted distinct values, inverse and counts (property against a Map); NaNs as one value', () => {
    fc.assert(
      fc.property(tensorAndAxis, ({ x }) => {
        const flat = Array.from(x.data);
        const distinct: number[] = [];
        for (const v of [...flat].sort(cmp)) if (distinct.length === 0 || cmp(distinct.at(-1)!, v) !== 0) distinct.push(v);
        const r = unique(x, { returnInverse: true, returnCounts: true });
        expect(sameValues(r.values.data, distinct)).toBe(true);
        expect(r.values.dtype).toBe('float64');
        expect(r.inverse.shape).toEqual(x.shape);
        expect(values(r.inverse)).toEqual(flat.map((v) => distinct.findIndex((d) => cmp(d, v) === 0)));
        expect(values(r.counts)).toEqual(distinct.map((d) => flat.filter((v) => cmp(v, d) === 0).length));
        expect(sameValues(unique(x).data, distinct)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('int32 and bool; the result is a tensor unless inverse or counts are asked for', () => {
    const u: Tensor = unique(i32([3, 1, 3, -2]));
    expect(u.toArray()).toEqual([-2, 1, 3]);
    expect(u.dtype).toBe('int32');
    expect(unique(tensor([true, false, true])).toArray()).toEqual([0, 1]);
    const { values: v, counts } = unique(i32([2, 2, 0]), { returnCounts: true });
    expect([v.toArray(), counts.toArray()]).toEqual([[0, 2], [1, 2]]);
    expect(unique(tensor([]), { returnCounts: true }).counts.shape).toEqual([0]);
    expect(() => unique(tensor([1]), { dim: 0 } as never)).toThrow("unique: unknown option 'dim'");
    expect(() => unique(tensor(1), { axis: 0 })).toThrow('unique: a 0-d tensor has no axis to take unique slices along');
  });
});

describe('unique slices along an axis', () => {
  test('distinct slices in lexicographic order, inverse and counts (property against loops)', () => {
    const slices = shapeArb({ minRank: 1, maxRank: 3, minDim: 0, maxDim: 3 }).chain((shape) => {
      const size = shape.reduce((a, b) => a * b, 1);
      return fc.tuple(fc.array(fc.constantFrom(0, 1, NaN), { minLength: size, maxLength: size }), fc.integer({ min: 0, max: shape.length - 1 })).map(
        ([v, ax]) => ({ x: tensor(Float64Array.from(v), { shape }), ax }),
      );
    });
    fc.assert(
      fc.property(slices, ({ x, ax }) => {
        // Slice i along ax, as the row-major list of its elements.
        const n = x.shape[ax]!;
        const sliceAt = (t: Tensor, i: number): number[] => {
          const out: number[] = [];
          const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
          for (let e = 0; e < t.size; e++) if (Math.floor(e / strides[ax]!) % t.shape[ax]! === i) out.push(t.data[e]!);
          return out;
        };
        const lex = (a: number[], b: number[]): number => {
          for (let k = 0; k < a.length; k++) if (cmp(a[k]!, b[k]!) !== 0) return cmp(a[k]!, b[k]!);
          return 0;
        };
        const all = Array.from({ length: n }, (_, i) => sliceAt(x, i));
        const distinct: number[][] = [];
        for (const sl of [...all].sort(lex)) if (distinct.length === 0 || lex(distinct.at(-1)!, sl) !== 0) distinct.push(sl);
        const r = unique(x, { axis: ax, returnInverse: true, returnCounts: true });
        expect(r.values.shape).toEqual(x.shape.map((d, i) => (i === ax ? distinct.length : d)));
        distinct.forEach((sl, i) => expect(sameValues(sliceAt(r.values, i), sl)).toBe(true));
        expect(values(r.inverse)).toEqual(all.map((sl) => distinct.findIndex((d) => lex(d, sl) === 0)));
        expect(values(r.counts)).toEqual(distinct.map((d) => all.filter((sl) => lex(sl, d) === 0).length));
      }),
      { numRuns: 300 },
    );
  });
});

describe('searchsorted', () => {
  // NaN among the values only: with a NaN in the sequence, "comes before v" is not monotone along
  // it, and the position is wherever PyTorch's binary search ends (a hand case below).
  const sortedRow = fc.array(tieValue.filter((v) => !Number.isNaN(v)), { maxLength: 6 }).map((v) => v.sort(cmp));

  test('PyTorch\'s left and right positions (property against a linear scan)', () => {
    fc.assert(
      fc.property(sortedRow, fc.array(tieValue, { maxLength: 6 }), fc.boolean(), (seq, vals, right) => {
        const got = searchsorted(tensor(Float64Array.from(seq)), tensor(Float64Array.from(vals)), { right });
        expect(got.dtype).toBe('int32');
        // left: elements not >= v come before it; right: elements not > v (a NaN value goes last).
        const want = vals.map((v) => seq.filter((e) => (right ? !(e > v) : !(e >= v))).length);
        expect(values(got)).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  test('batched rows, numbers, int32 and hand cases as PyTorch gives them', () => {
    const seq = tensor([1, 2, 2, 3, NaN]);
    expect(searchsorted(seq, tensor([NaN, 2, 0, 5])).toArray()).toEqual([5, 1, 0, 5]);
    expect(searchsorted(seq, tensor([NaN, 2, 0, 5]), { right: true }).toArray()).toEqual([5, 5, 0, 5]);
    expect(searchsorted(tensor([[1, 3], [2, 4]]), tensor([[2.5], [2.5]])).toArray()).toEqual([[1], [1]]);
    const scalar = searchsorted(i32([1, 3]), 2);
    expect([scalar.shape, scalar.item()]).toEqual([[], 1]);
    expect(searchsorted(tensor([]), tensor([1, 2])).toArray()).toEqual([0, 0]);
  });

  test('side and sorter, as torch.searchsorted', () => {
    const seq = tensor([1, 2, 2, 3]);
    expect(searchsorted(seq, tensor([2, 0, 4]), { side: 'right' }).toArray()).toEqual([3, 0, 4]);
    expect(searchsorted(seq, tensor([2]), { side: 'left' }).toArray()).toEqual([1]);
    // torch.searchsorted(tensor([3., 1, 2, 2]), tensor([2., 2.5, 0, 9]), sorter=tensor([1, 2, 3, 0])) = [1, 3, 0, 4]
    const unsorted = tensor([3, 1, 2, 2]);
    expect(searchsorted(unsorted, tensor([2, 2.5, 0, 9]), { sorter: i32([1, 2, 3, 0]) }).toArray()).toEqual([1, 3, 0, 4]);
    expect(searchsorted(unsorted, tensor([2]), { sorter: [1, 3, 2, 0], right: true }).toArray()).toEqual([3]);
    // Batched rows, each with its own order.
    const rows = tensor([[5, 1, 3], [0, 4, 2]]);
    const order = argsort(rows, -1);
    expect(searchsorted(rows, tensor([[3], [3]]), { sorter: order }).toArray()).toEqual([[1], [2]]);
    expect(() => searchsorted(unsorted, tensor([2]), { sorter: i32([0, 1, 2, 3]) })).toThrow(
      'searchsorted: row 0 of sortedSequence of shape [4] read in the order of sorter is not sorted ascending: element 1 (1) comes after 3',
    );
    expect(() => searchsorted(unsorted, tensor([2]), { sorter: i32([1, 2, 3]) })).toThrow(/^searchsorted: sorter of shape \[3\] must have sortedSequence's shape \[4\]/);
    expect(() => searchsorted(unsorted, tensor([2]), { sorter: i32([1, 2, 3, 4]) })).toThrow(/^searchsorted: index 4 at position 3/);
    expect(() => searchsorted(unsorted, tensor([2]), { sorter: tensor([1, 2, 3, 0]) })).toThrow(DTypeError);
    expect(() => searchsorted(seq, tensor([2]), { side: 'left', right: true })).toThrow(/^searchsorted: side 'left' contradicts right: true/);
  });

  test('errors: unsorted rows, mismatched leading dimensions, 0-d sequence', () => {
    expect(() => searchsorted(tensor([[1, 2], [3, 1]]), tensor([[0], [0]]))).toThrow(
      'searchsorted: row 1 of sortedSequence of shape [2,2] is not sorted ascending: element 1 (1) comes after 3',
    );
    expect(() => searchsorted(tensor([[1, 2]]), tensor([[0], [1]]))).toThrow(ShapeError);
    expect(() => searchsorted(tensor(1), tensor([0]))).toThrow(/^searchsorted: sortedSequence must have at least one dimension/);
  });
});

describe('bincount', () => {
  test('counts and weighted sums (property against a loop)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 12 }), fc.integer({ min: 0, max: 9 }), (xs, minlength) => {
        const length = Math.max(minlength, xs.length === 0 ? 0 : Math.max(...xs) + 1);
        const counts = new Array<number>(length).fill(0);
        const sums = new Array<number>(length).fill(0);
        const w = xs.map((_, i) => 0.25 * i - 1);
        xs.forEach((v, i) => {
          counts[v]!++;
          sums[v]! += w[i]!;
        });
        const c = bincount(i32(xs), { minlength });
        expect(c.dtype).toBe('int32');
        expect(values(c)).toEqual(counts);
        const s = bincount(i32(xs), { minlength, weights: tensor(w, { dtype: 'float64' }) });
        expect(s.dtype).toBe('float64');
        expect(values(s)).toEqual(sums);
      }),
      { numRuns: 200 },
    );
    expect(bincount(i32([1, 1]), { weights: i32([2, 3]) }).dtype).toBe('float64');
    expect(i32([0, 2]).bincount().toArray()).toEqual([1, 0, 1]);
  });

  test('the weights\' gradient reads g at each value (gradcheck and gradgradcheck)', () => {
    const x = i32([3, 0, 3, 1, 5, 0]);
    const weights = fc.noShrink(fc.integer()).map((seed) => [seededTensor([6], seed)]);
    const f = (w: Tensor): Tensor => bincount(x, { weights: w }).square();
    checkGradProperty(f, weights, { numRuns: 10 });
    checkGradGradProperty(f, weights, { numRuns: 5 });
  });

  test('errors name the op and the offending value', () => {
    expect(() => bincount(tensor([1, 2]))).toThrow(DTypeError);
    expect(() => bincount(tensor([1, 2]))).toThrow('bincount: input must be an int32 tensor, got float32 of shape [2]');
    expect(() => bincount(i32([1, -2]))).toThrow('bincount: input must be non-negative, got -2 at position 1');
    expect(() => bincount(tensor([[1]], { dtype: 'int32' }))).toThrow('bincount: input must be 1-D, got shape [1,1]');
    expect(() => bincount(i32([1]), { weights: tensor([1, 2]) })).toThrow(/^bincount: weights of shape \[2\] must be 1-D/);
    expect(() => bincount(i32([1]), { minlength: -1 })).toThrow('bincount: minlength must be a non-negative integer, got -1');
  });
});
