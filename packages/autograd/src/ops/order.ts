import { allocate, isFloatDType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxis, sizeOf, type Shape } from '../shape.js';
import { argExtremumAxis, argsortAxis, binCount, firstUnsorted, searchSortedRows, uniqueRows } from '../kernels/order.js';
import { constant, expectFloat, expectTensor, isFloat, makeOutput, scalarTensor, Tensor, type NestedArray, type TensorLike } from '../tensor.js';
import { gather, toIndex } from './gather.js';
import { permute, reshape } from './shape.js';
import { where } from './where.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const SORT_OPTIONS = ['descending'];
const TOPK_OPTIONS = ['largest', 'sorted'];
const UNIQUE_OPTIONS = ['sorted', 'returnInverse', 'returnCounts', 'axis'];
const SEARCHSORTED_OPTIONS = ['right', 'side', 'sorter'];
const BINCOUNT_OPTIONS = ['weights', 'minlength'];

// Selection and order. Indices are int32 tensors off the graph; every differentiable value is
// gathered from the input at its indices, so its gradient is gather's: a scatter-add to the
// selected places, itself differentiable again.

/** Values picked from a tensor and where they were along the axis (int32), as PyTorch's named tuples. */
export interface ValuesIndices {
  /** The selected values, differentiable: their gradient goes to the selected places. */
  values: Tensor;
  /** Their positions along the axis, an int32 tensor of the same shape. */
  indices: Tensor;
}

/** An axis of x as [outer, n, inner] (a 0-d tensor is one element along its one axis). */
function lanes(op: string, x: Tensor, axis: number): { ax: number; outer: number; n: number; inner: number } {
  const ax = normalizeAxis(op, axis, x.ndim);
  if (x.ndim === 0) return { ax, outer: 1, n: 1, inner: 1 };
  return { ax, outer: sizeOf(x.shape.slice(0, ax)), n: x.shape[ax]!, inner: sizeOf(x.shape.slice(ax + 1)) };
}

/** x's shape with axis `ax` of size `m` (a 0-d shape stays 0-d). */
function withAxis(shape: Shape, ax: number, m: number): number[] {
  return shape.length === 0 ? [] : shape.map((d, i) => (i === ax ? m : d));
}

function dropAxis(shape: Shape, ax: number): number[] {
  return shape.filter((_, i) => i !== ax);
}

function indexTensor(data: Int32Array, shape: Shape): Tensor {
  return constant(data, shape);
}

function checkNotEmpty(op: string, what: string, x: Tensor, ax: number, n: number): void {
  if (n === 0) throw new ShapeError(`${op}: axis ${ax} of the input of shape ${formatShape(x.shape)} is empty, so it has no ${what}`);
}

function checkInteger(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ArgumentError(`${op}: ${name} must be an integer, got ${String(v)}`);
  return v;
}

function argExtremum(op: string, input: Tensor, axis: number | undefined, keepdims: boolean, largest: boolean): Tensor {
  const x0 = expectTensor(op, 'input', input);
  if (axis === undefined) {
    // Over all elements, as over the flattened tensor; keepdims keeps every axis as size 1.
    if (x0.size === 0) throw new ShapeError(`${op}: the input of shape ${formatShape(x0.shape)} is empty, so it has no ${largest ? 'maximum' : 'minimum'}`);
    const out = new Int32Array(1);
    argExtremumAxis(x0.data, 1, x0.size, 1, largest, out);
    return indexTensor(out, keepdims ? x0.shape.map(() => 1) : []);
  }
  const { ax, outer, n, inner } = lanes(op, x0, axis);
  checkNotEmpty(op, largest ? 'maximum' : 'minimum', x0, ax, n);
  const out = new Int32Array(outer * inner);
  argExtremumAxis(x0.data, outer, n, inner, largest, out);
  return indexTensor(out, keepdims ? withAxis(x0.shape, ax, 1) : dropAxis(x0.shape, ax));
}

/**
 * The position (int32) of the largest element along `axis`, or of the flattened tensor when
 * `axis` is left out; the first one on ties, and the first NaN if there is one (NaN is the
 * maximum), as `torch.argmax`.
 * @throws ShapeError if the axis is out of range or empty (there is no maximum of nothing).
 * @example argmax(logits, 1) // predicted classes
 */
export const argmax = primitive('argmax', { kind: 'reduction', axisArg: 1, absent: 'flatten' }, function (x: Tensor, axis?: number, keepdims = false): Tensor {
  return argExtremum('argmax', x, axis, keepdims, true);
});

/**
 * The position (int32) of the smallest element along `axis` (all elements when left out); the
 * first one on ties, and the first NaN if there is one, as `torch.argmin`.
 * @throws ShapeError if the axis is out of range or empty.
 * @example argmin(distances, -1)
 */
export const argmin = primitive('argmin', { kind: 'reduction', axisArg: 1, absent: 'flatten' }, function (x: Tensor, axis?: number, keepdims = false): Tensor {
  return argExtremum('argmin', x, axis, keepdims, false);
});

/** Values of x at `indices` (x's rank, size-1 or k along ax), the axis dropped unless `keepdims`. */
function pick(x: Tensor, ax: number, indices: Tensor, keepdims: boolean): ValuesIndices {
  const values = gather(x, ax, indices);
  if (keepdims || x.ndim === 0) return { values, indices };
  const shape = dropAxis(x.shape, ax);
  return { values: reshape(values, shape), indices: reshape(indices, shape) };
}

/**
 * The maximum along `axis` with its position, as PyTorch's `torch.max(x, dim)`: the first
 * maximum on ties (the first NaN if any), and the gradient goes to that one element only.
 * (`max(x, axis)` returns the values alone and shares the gradient among ties, as `torch.amax`.)
 * @throws ShapeError if the axis is out of range or empty.
 * @example const { values, indices } = maxWithIndices(scores, 1)
 */
export const maxWithIndices = primitive('maxWithIndices', { kind: 'reduction', axisArg: 1 }, function (x: Tensor, axis: number, keepdims = false): ValuesIndices {
  const t = expectTensor('maxWithIndices', 'input', x);
  const ax = normalizeAxis('maxWithIndices', axis, t.ndim);
  return pick(t, ax, argExtremum('maxWithIndices', t, axis, true, true), keepdims);
});

/**
 * The minimum along `axis` with its position, as `torch.min(x, dim)`; see `maxWithIndices`.
 * @throws ShapeError if the axis is out of range or empty.
 * @example minWithIndices(distances, -1).indices
 */
export const minWithIndices = primitive('minWithIndices', { kind: 'reduction', axisArg: 1 }, function (x: Tensor, axis: number, keepdims = false): ValuesIndices {
  const t = expectTensor('minWithIndices', 'input', x);
  const ax = normalizeAxis('minWithIndices', axis, t.ndim);
  return pick(t, ax, argExtremum('minWithIndices', t, axis, true, false), keepdims);
});

/** Options of `sort` and `argsort`. */
export interface SortOptions {
  /** Largest first (default false). NaN counts as the largest value either way. */
  descending?: boolean;
}

function sortIndices(op: string, x: Tensor, axis: number, descending: boolean): { ax: number; indices: Int32Array } {
  const { ax, outer, n, inner } = lanes(op, x, axis);
  const indices = new Int32Array(x.size);
  argsortAxis(x.data, outer, n, inner, descending, indices);
  return { ax, indices };
}

/**
 * Sorts along `axis` (the last by default), stably: equal elements keep their order. NaN sorts
 * last ascending and first descending, as `torch.sort(stable=True)`. The values are
 * differentiable (the gradient goes back to where each value came from); the indices are int32.
 * @throws ShapeError if the axis is out of range.
 * @example const { values, indices } = sort(x, -1, { descending: true })
 */
export const sort = primitive('sort', { kind: 'axis', axisArg: 1, absent: -1 }, function (x: Tensor, axis = -1, options: SortOptions = {}): ValuesIndices {
  checkOptions('sort', options, SORT_OPTIONS);
  const t = expectTensor('sort', 'input', x);
  const { ax, indices } = sortIndices('sort', t, axis, options.descending ?? false);
  const idx = indexTensor(indices, t.shape);
  return { values: gather(t, ax, idx), indices: idx };
});

/**
 * The positions (int32) that sort x along `axis`: `sort(x, axis, options).indices`.
 * @throws ShapeError if the axis is out of range.
 * @example argsort(scores, -1, { descending: true })
 */
export const argsort = primitive('argsort', { kind: 'axis', axisArg: 1, absent: -1 }, function (x: Tensor, axis = -1, options: SortOptions = {}): Tensor {
  checkOptions('argsort', options, SORT_OPTIONS);
  const t = expectTensor('argsort', 'input', x);
  return indexTensor(sortIndices('argsort', t, axis, options.descending ?? false).indices, t.shape);
});

/** Options of `topk`. */
export interface TopkOptions {
  /** The k largest (default) or, when false, the k smallest. */
  largest?: boolean;
  /**
   * Return them in order, largest first (smallest first when `largest` is false). PyTorch leaves
   * the order unspecified when false; chainrule returns them in order either way.
   */
  sorted?: boolean;
}

/**
 * The `k` largest (or smallest) elements along `axis` (the last by default) and their int32
 * positions, as `torch.topk`. NaN counts as the largest value; among equal values the earlier
 * position comes first. The values' gradient goes to the selected places.
 * @throws ArgumentError if k is not an integer in [0, size of the axis].
 * @throws ShapeError if the axis is out of range.
 * @example const { values, indices } = topk(logits, 5)
 */
export const topk = primitive('topk', { kind: 'axis', axisArg: 2, absent: -1 }, function (x: Tensor, k: number, axis = -1, options: TopkOptions = {}): ValuesIndices {
  checkOptions('topk', options, TOPK_OPTIONS);
  const t = expectTensor('topk', 'input', x);
  const { largest = true } = options;
  const { ax, outer, n, inner } = lanes('topk', t, axis);
  checkInteger('topk', 'k', k);
  if (k < (t.ndim === 0 ? 1 : 0) || k > n) {
    throw new ArgumentError(`topk: k = ${k} is out of range for axis ${ax} of size ${n} (input shape ${formatShape(t.shape)})`);
  }
  const all = new Int32Array(t.size);
  argsortAxis(t.data, outer, n, inner, largest, all);
  const first = new Int32Array(outer * k * inner);
  for (let o = 0; o < outer; o++) first.set(all.subarray(o * n * inner, (o * n + k) * inner), o * k * inner);
  const indices = indexTensor(first, withAxis(t.shape, ax, k));
  return { values: gather(t, ax, indices), indices };
});

/** Sorted positions of each lane, and the position in sorted order chosen for each lane. */
function selectInLanes(op: string, t: Tensor, axis: number, choose: (sortedLane: (r: number) => number, n: number) => number): { ax: number; indices: Tensor } {
  const { ax, outer, n, inner } = lanes(op, t, axis);
  const sorted = new Int32Array(t.size);
  argsortAxis(t.data, outer, n, inner, false, sorted);
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      const r = choose((q) => t.data[base + sorted[base + q * inner]! * inner]!, n);
      out[o * inner + j] = sorted[base + r * inner]!;
    }
  }
  return { ax, indices: indexTensor(out, withAxis(t.shape, ax, 1)) };
}

/**
 * The k-th smallest element (k from 1) along `axis` (the last by default) and its int32
 * position, as `torch.kthvalue`; NaN counts as the largest value. Among equal values the
 * earliest position is taken (PyTorch does not say which). The value's gradient goes to it.
 * @throws ArgumentError if k is not an integer in [1, size of the axis].
 * @throws ShapeError if the axis is out of range.
 * @example kthvalue(x, 2, 0)
 */
export const kthvalue = primitive('kthvalue', { kind: 'reduction', axisArg: 2, absent: -1 }, function (x: Tensor, k: number, axis = -1, keepdims = false): ValuesIndices {
  const t = expectTensor('kthvalue', 'input', x);
  const { ax, n } = lanes('kthvalue', t, axis);
  checkInteger('kthvalue', 'k', k);
  if (k < 1 || k > n) {
    throw new ArgumentError(`kthvalue: k = ${k} is out of range for axis ${ax} of size ${n} (input shape ${formatShape(t.shape)}); k counts from 1`);
  }
  return pick(t, ax, selectInLanes('kthvalue', t, axis, () => k - 1).indices, keepdims);
});

/** Position in sorted order of a lane's median: the lower middle, or the first NaN (NaN propagates). */
function medianRank(sortedValue: (r: number) => number, n: number): number {
  if (sortedValue(n - 1) === sortedValue(n - 1)) return (n - 1) >> 1;
  let r = n - 1;
  while (r > 0 && sortedValue(r - 1) !== sortedValue(r - 1)) r--;
  return r;
}

/**
 * The median: the lower of the two middle values for an even count (not their mean), as
 * `torch.median`; NaN if there is a NaN. Without `axis`, over all elements, a 0-d tensor whose
 * gradient is shared evenly among the elements equal to it (PyTorch's rule). With `axis`,
 * the values and int32 positions along it (the first NaN's when there is one); the gradient goes
 * to that position.
 * @throws ShapeError if the axis is out of range or empty.
 * @example median(x); median(x, 1).values
 */
export const median = primitive('median', { kind: 'reduction', axisArg: 1, absent: 'flatten' }, medianImpl);
function medianImpl(x: Tensor): Tensor;
function medianImpl(x: Tensor, axis: number, keepdims?: boolean): ValuesIndices;
function medianImpl(x: Tensor, axis?: number, keepdims = false): Tensor | ValuesIndices {
  const t = expectTensor('median', 'input', x);
  if (axis !== undefined) {
    const { ax, n } = lanes('median', t, axis);
    checkNotEmpty('median', 'median', t, ax, n);
    return pick(t, ax, selectInLanes('median', t, axis, medianRank).indices, keepdims);
  }
  if (t.size === 0) return scalarTensor(NaN, isFloat(t) ? t.dtype : 'float32');
  const flat = reshape(t.detach(), [t.size]);
  const at = selectInLanes('median', flat, 0, medianRank).indices.data[0]!;
  const value = t.data[at]!;
  const out = allocate(t.dtype, 1);
  out[0] = value;
  if (!isFloat(t)) return constant(out, []);
  // Ties (or NaNs, for a NaN median) share the gradient: a fixed mask, so the VJP is linear in g.
  const mask = allocate('bool', t.size);
  let count = 0;
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i]!;
    if (v === value || (v !== v && value !== value)) {
      mask[i] = 1;
      count++;
    }
  }
  const share = constant(mask, t.shape);
  return makeOutput('median', out, [], [t], (g) => [where(share, expectFloat('median', g).div(count), 0)], {
    saves: [[]],
    jvp: ([dt]) => where(share, dt!, 0).sum().div(count),
  });
}

/** Options of `unique`. */
export interface UniqueOptions {
  /** Ascending order; the only order computed (PyTorch's CPU result is sorted either way). */
  sorted?: boolean;
  /** Also return, for each element of x, the position of its value in `values`. */
  returnInverse?: boolean;
  /** Also return how often each value occurs. */
  returnCounts?: boolean;
  /** Unique slices along this axis (PyTorch's `dim`) instead of unique elements of the flattened tensor. */
  axis?: number;
}

/** Options that ask `unique` for the inverse. */
export interface WithInverse {
  /** Asked for. */
  returnInverse: true;
}

/** Options that ask `unique` for the counts. */
export interface WithCounts {
  /** Asked for. */
  returnCounts: true;
}

/** The distinct values `unique` returns. */
export interface UniqueValues {
  /** The distinct values, ascending (x's dtype). */
  values: Tensor;
}

/** The inverse `unique` returns when asked. */
export interface UniqueInverse {
  /** For each element of x (x's shape, int32), the position of its value in `values`. */
  inverse: Tensor;
}

/** The counts `unique` returns when asked. */
export interface UniqueCounts {
  /** How often each value occurs (int32, one per value). */
  counts: Tensor;
}

/** What `unique` returns when asked for the inverse or the counts: those fields asked for are present. */
export type UniqueResult<O extends UniqueOptions> = UniqueValues & (O extends WithInverse ? UniqueInverse : unknown) & (O extends WithCounts ? UniqueCounts : unknown);

/**
 * The distinct elements of x, flattened, in ascending order, as `torch.unique`; with
 * `returnInverse`, an int32 tensor of x's shape giving each element's position in `values`;
 * with `returnCounts`, int32 counts. NaNs count as one value, sorted last (NumPy's
 * `equal_nan`; PyTorch's CPU result for NaN is not consistent). With `axis`, the distinct
 * slices along it, in lexicographic order, and inverse and counts per slice. Not differentiable
 * (nor in PyTorch).
 * @throws ShapeError if the axis is out of range or x is 0-d with an axis.
 * @example unique(labels); unique(x, { returnCounts: true }).counts; unique(rows, { axis: 0 })
 */
export const unique = primitive('unique', { kind: 'other', rule: 'none' }, uniqueImpl);
function uniqueImpl(x: Tensor): Tensor;
function uniqueImpl<O extends UniqueOptions>(x: Tensor, options: O): O extends WithInverse | WithCounts ? UniqueResult<O> : Tensor;
function uniqueImpl(x: Tensor, options: UniqueOptions = {}): Tensor | { values: Tensor; inverse?: Tensor; counts?: Tensor } {
  checkOptions('unique', options, UNIQUE_OPTIONS);
  const t = expectTensor('unique', 'input', x);
  let values: Tensor;
  let found: { firsts: number[]; inverse: Int32Array; counts: number[] };
  if (options.axis === undefined) {
    found = uniqueRows(t.data, t.size, 1);
    const data = allocate(t.dtype, found.firsts.length);
    for (let i = 0; i < found.firsts.length; i++) data[i] = t.data[found.firsts[i]!]!;
    values = constant(data, [found.firsts.length]);
  } else {
    if (t.ndim === 0) throw new ShapeError('unique: a 0-d tensor has no axis to take unique slices along');
    const ax = normalizeAxis('unique', options.axis, t.ndim);
    // Slices along ax as rows: ax first, the rest flattened.
    const perm = [ax, ...t.shape.map((_, i) => i).filter((i) => i !== ax)];
    const moved = permute(t.detach(), perm);
    const n = t.shape[ax]!;
    const width = n === 0 ? 0 : moved.size / n;
    found = uniqueRows(moved.data, n, width);
    const data = allocate(t.dtype, found.firsts.length * width);
    found.firsts.forEach((f, i) => data.set(moved.data.subarray(f * width, (f + 1) * width), i * width));
    const inversePerm = perm.map((_, i) => perm.indexOf(i));
    values = permute(constant(data, [found.firsts.length, ...moved.shape.slice(1)]), inversePerm);
  }
  const { inverse, counts } = found;
  if (options.returnInverse !== true && options.returnCounts !== true) return values;
  const result: { values: Tensor; inverse?: Tensor; counts?: Tensor } = { values };
  if (options.returnInverse === true) result.inverse = indexTensor(inverse, options.axis === undefined ? t.shape : [inverse.length]);
  if (options.returnCounts === true) result.counts = indexTensor(Int32Array.from(counts), [counts.length]);
  return result;
}

/** Options of `searchsorted`. */
export interface SearchSortedOptions {
  /** Return the position after equal elements instead of before them (default false). */
  right?: boolean;
  /** PyTorch's other spelling of `right`: `'right'` is `right: true` (the two must agree). */
  side?: 'left' | 'right';
  /**
   * int32 indices of sortedSequence's shape that sort each row ascending (as `argsort` gives):
   * the search runs on the sequence read in that order, which itself need not be sorted.
   */
  sorter?: Tensor | NestedArray;
}

/**
 * For each of `values`, the int32 position where it would be inserted into `sortedSequence`
 * to keep it sorted: before equal elements (after them with `right`), as `torch.searchsorted`.
 * A 1-D sequence serves every value; an n-D one is a batch of rows (its last axis), and
 * `values` then has the same leading dimensions. NaN goes after every number. With `sorter`,
 * each row is searched in the order those indices give (torch.searchsorted's `sorter`).
 * @throws ShapeError if the leading dimensions differ, the sequence is 0-d, or `sorter` has
 * another shape or an index outside the row.
 * @throws DTypeError if `sorter` is a tensor but not int32.
 * @throws ArgumentError if a row of the sequence (read through `sorter`) is not sorted ascending
 * (NaN last), naming the row, or if `side` is not 'left'/'right' or contradicts `right`.
 * @example searchsorted(tensor([1, 3, 5]), tensor([0, 3, 6])) // [0, 1, 3]
 */
export const searchsorted = primitive('searchsorted', { kind: 'other', rule: 'searchsorted' }, function (sortedSequence: Tensor, values: TensorLike, options: SearchSortedOptions = {}): Tensor {
  checkOptions('searchsorted', options, SEARCHSORTED_OPTIONS);
  const seq = expectTensor('searchsorted', 'sortedSequence', sortedSequence);
  const v = typeof values === 'number' ? scalarTensor(values, isFloatDType(seq.dtype) ? seq.dtype : 'float64') : expectTensor('searchsorted', 'values', values);
  if (seq.ndim === 0) throw new ShapeError('searchsorted: sortedSequence must have at least one dimension, got a 0-d tensor');
  const n = seq.shape[seq.ndim - 1]!;
  const rows = sizeOf(seq.shape.slice(0, -1));
  const lead = seq.shape.slice(0, -1);
  if (seq.ndim > 1 && (v.ndim !== seq.ndim || lead.some((d, i) => v.shape[i] !== d))) {
    throw new ShapeError(
      `searchsorted: values of shape ${formatShape(v.shape)} must match the leading dimensions of sortedSequence ${formatShape(seq.shape)} (all but its last)`,
    );
  }
  const { side, sorter } = options;
  if (side !== undefined && side !== 'left' && side !== 'right') throw new ArgumentError(`searchsorted: side must be 'left' or 'right', got ${String(side)}`);
  if (side === 'left' && options.right === true) throw new ArgumentError("searchsorted: side 'left' contradicts right: true");
  const right = options.right === true || side === 'right';
  const data = sorter === undefined ? seq.data : sortedBy(seq, sorter, n);
  const bad = firstUnsorted(data, n, rows);
  if (bad >= 0) {
    const row = Math.floor(bad / n);
    throw new ArgumentError(
      `searchsorted: row ${row} of sortedSequence of shape ${formatShape(seq.shape)}${sorter === undefined ? '' : ' read in the order of sorter'} is not sorted ascending: element ${bad % n} (${data[bad]}) comes after ${data[bad - 1]}`,
    );
  }
  const out = new Int32Array(v.size);
  const batched = seq.ndim > 1;
  const m = batched ? (v.ndim === 0 ? 1 : v.shape[v.ndim - 1]!) : v.size;
  searchSortedRows(data, n, v.data, m, batched ? rows : 1, right, out);
  return indexTensor(out, v.shape);
});

/** Each row of seq (its last axis, of size n) read in the order of `sorter`'s row, as torch.searchsorted's sorter. */
function sortedBy(seq: Tensor, sorter: Tensor | NestedArray, n: number): Tensor['data'] {
  const idx = toIndex('searchsorted', sorter, n);
  if (idx.shape.length !== seq.ndim || idx.shape.some((d, i) => d !== seq.shape[i])) {
    throw new ShapeError(`searchsorted: sorter of shape ${formatShape(idx.shape)} must have sortedSequence's shape ${formatShape(seq.shape)}`);
  }
  const out = allocate(seq.dtype, seq.size);
  for (let i = 0; i < seq.size; i++) out[i] = seq.data[i - (i % n) + idx.values[i]!]!;
  return out;
}

/** Options of `bincount`. */
export interface BincountOptions {
  /** Weights, one per element of x: the result sums them instead of counting (and is differentiable in them). */
  weights?: Tensor;
  /** The smallest length of the result (default 0). */
  minlength?: number;
}

/**
 * How often each value 0, 1, ..., max(x) occurs in the 1-D int32 tensor x, as `torch.bincount`:
 * int32 counts, or with `weights` the sum of the weights of each value (of the weights' float
 * dtype; integer weights give float64, as PyTorch). The result has max(x) + 1 elements, at least
 * `minlength`. Unlike PyTorch, the weighted result is differentiable in the weights.
 * @throws DTypeError if x is not int32. @throws ShapeError if x is not 1-D or the weights' shape differs.
 * @throws ArgumentError for a negative value in x or a bad minlength.
 * @example bincount(tensor([0, 2, 2], { dtype: 'int32' })) // [1, 0, 2]
 */
export const bincount = primitive('bincount', { kind: 'other', rule: 'bincount' }, function (x: Tensor, options: BincountOptions = {}): Tensor {
  checkOptions('bincount', options, BINCOUNT_OPTIONS);
  const t = expectTensor('bincount', 'input', x);
  const { weights, minlength = 0 } = options;
  if (t.dtype !== 'int32') throw new DTypeError(`bincount: input must be an int32 tensor, got ${t.dtype} of shape ${formatShape(t.shape)}`);
  if (t.ndim !== 1) throw new ShapeError(`bincount: input must be 1-D, got shape ${formatShape(t.shape)}`);
  if (!Number.isInteger(minlength) || minlength < 0) throw new ArgumentError(`bincount: minlength must be a non-negative integer, got ${minlength}`);
  const idx = t.data as Int32Array;
  let length = minlength;
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (v < 0) throw new ArgumentError(`bincount: input must be non-negative, got ${v} at position ${i}`);
    if (v + 1 > length) length = v + 1;
  }
  if (weights === undefined) {
    const out = allocate('int32', length, 'bincount', [length]);
    binCount(idx, null, out);
    return constant(out, [length]);
  }
  const w0 = expectTensor('bincount', 'weights', weights);
  if (w0.ndim !== 1 || w0.size !== t.size) {
    throw new ShapeError(`bincount: weights of shape ${formatShape(w0.shape)} must be 1-D with one weight per element of the input ${formatShape(t.shape)}`);
  }
  const w = isFloat(w0) ? w0 : w0.toDtype('float64');
  const sums = new Float64Array(length);
  binCount(idx, w.data, sums);
  const out = allocate(w.dtype, length, 'bincount', [length]);
  out.set(sums);
  // out[v] = Σ w[i] over x[i] = v, so w's gradient is g read at each x[i].
  return makeOutput('bincount', out, [length], [w], (g) => [gather(g, 0, t)], { saves: [[]], jvp: ([dw]) => bincount(t, { weights: dw!, minlength: length }) });
});
