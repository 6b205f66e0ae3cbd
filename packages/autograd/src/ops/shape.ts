import { allocate, allocateUnset } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { checkShape, formatShape, normalizeAxis, shapesEqual, sizeOf, stridesOf, type Shape } from '../shape.js';
import { broadcastCopy, concatAxis, copyAlongAxis, permute as permuteKernel, stridedMap } from '../kernels/layout.js';
import { expectTensor, makeOutput, type Tensor } from '../tensor.js';
import { promoteAll } from './operands.js';
import { takeByMap } from './index-map.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { zeros } from '../creation.js';
import { primitive } from '../engine/dispatch.js';

/**
 * Axes `startDim` through `endDim` (inclusive; negative from the end) merged into one, as
 * `torch.flatten`: by default every axis, giving a 1-D tensor (a 0-d tensor gives shape [1]).
 * A reshape, so it shares storage with x.
 * @throws ShapeError if an axis is out of range or `startDim` comes after `endDim`.
 * @example flatten(zeros([2, 3, 4]), 1).shape // [2, 12]
 */
export function flatten(input: Tensor, startDim = 0, endDim = -1): Tensor {
  const x = expectTensor('flatten', 'input', input);
  const start = normalizeAxis('flatten', startDim, x.ndim);
  const end = normalizeAxis('flatten', endDim, x.ndim);
  if (start > end) throw new ShapeError(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(x.shape)}`);
  if (x.ndim === 0) return reshape(x, [1]);
  return reshape(x, [...x.shape.slice(0, start), sizeOf(x.shape.slice(start, end + 1)), ...x.shape.slice(end + 1)]);
}

/**
 * Same elements, new shape (one dimension may be -1). The result shares storage with x, as
 * a PyTorch view does. @example reshape(x, [2, -1])
 * @throws ShapeError if the sizes do not match or more than one dimension is -1.
 */
export const reshape = primitive('reshape', { kind: 'layout', rule: 'reshape' }, function (input: Tensor, shape: Shape): Tensor {
  const x = expectTensor('reshape', 'input', input);
  const target = [...shape];
  const inferred = target.indexOf(-1);
  if (inferred >= 0) {
    if (target.indexOf(-1, inferred + 1) >= 0) {
      throw new ShapeError(`reshape: only one dimension may be -1, got ${formatShape(shape)}`);
    }
    const known = sizeOf(target.filter((_, i) => i !== inferred));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`);
    }
    target[inferred] = x.size / known;
  }
  checkShape('reshape', target);
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`);
  }
  if (shapesEqual(target, x.shape)) return x;
  return makeOutput('reshape', x.data, target, [x], (g) => [reshape(g, x.shape)], { storage: 'shared', saves: [[]], jvp: ([t]) => reshape(t!, target) });
});

/**
 * Reorders axes: out axis d is x's axis `axes[d]`.
 * @throws ShapeError unless `axes` is a permutation of the tensor's axes.
 * @example permute(x, [2, 0, 1])
 */
export const permute = primitive('permute', { kind: 'layout', rule: 'permute' }, function (input: Tensor, axes: readonly number[]): Tensor {
  const x = expectTensor('permute', 'input', input);
  if (axes.length !== x.ndim) {
    throw new ShapeError(`permute: got ${axes.length} axes ${JSON.stringify(axes)} for a tensor of shape ${formatShape(x.shape)}`);
  }
  const perm = axes.map((a) => normalizeAxis('permute', a, x.ndim));
  if (new Set(perm).size !== perm.length) {
    throw new ShapeError(`permute: axes ${JSON.stringify(axes)} repeat an axis (shape ${formatShape(x.shape)})`);
  }
  if (perm.every((p, i) => p === i)) return x;
  const out = allocate(x.dtype, x.size);
  permuteKernel(x.data, x.shape, perm, out);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return makeOutput('permute', out, perm.map((p) => x.shape[p]!), [x], (g) => [permute(g, inverse)], { saves: [[]], jvp: ([t]) => permute(t!, perm) });
});

/**
 * Swaps two axes.
 * @throws ShapeError if an axis is out of range.
 * @example transpose(x, 0, 1)
 */
export const transpose = primitive('transpose', { kind: 'layout', rule: 'transpose' }, function (x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const t = expectTensor('transpose', 'input', x);
  if (t.ndim < 2 && axis0 === -2 && axis1 === -1) return t;
  const a = normalizeAxis('transpose', axis0, t.ndim);
  const b = normalizeAxis('transpose', axis1, t.ndim);
  // An axis swapped with itself is the identity (and the only swap a 0-d tensor has).
  if (a === b) return t;
  const perm = t.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(t, perm);
});

/**
 * Elements `start` (inclusive) to `end` (exclusive) along `axis`, every `step`-th one; negative
 * bounds count from the end and bounds past the ends are clipped, as Python slices (PyTorch
 * refuses a step below 1, and so does this). @example slice(x, 1, 0, 2); slice(x, 0, 0, undefined, 2)
 * @throws ShapeError if `axis` is out of range or the tensor is 0-d.
 * @throws ArgumentError if a bound is not an integer or the step is not a positive integer.
 */
export const slice = primitive('slice', { kind: 'layout', axisArg: 1 }, function (input: Tensor, axis: number, start: number, end?: number, step = 1): Tensor {
  const x = expectTensor('slice', 'input', input);
  checkNotScalar('slice', x);
  const ax = normalizeAxis('slice', axis, x.ndim);
  const n = x.shape[ax]!;
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new ArgumentError(`slice: start and end must be integers, got ${start} and ${end}`);
  }
  if (!Number.isInteger(step) || step < 1) throw new ArgumentError(`slice: step must be a positive integer, got ${step}`);
  const clip = (v: number): number => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const lo = clip(start);
  const hi = Math.max(lo, clip(end ?? n));
  if (step === 1) return sliceRange(x, ax, lo, hi);
  const shape = [...x.shape];
  shape[ax] = Math.ceil((hi - lo) / step);
  const strides = stridesOf(x.shape);
  const base = lo * strides[ax]!;
  strides[ax]! *= step;
  return takeByMap('slice', x, stridedMap(shape, strides, base), shape);
});

/**
 * `length` elements from `start` along `axis`, as `torch.narrow`: a negative start counts from
 * the end, and unlike slice the range must lie inside the axis. @example narrow(x, 0, -2, 2)
 * @throws ShapeError if `axis` is out of range or [start, start + length) does not lie inside it.
 */
export const narrow = primitive('narrow', { kind: 'layout', axisArg: 1 }, function (input: Tensor, axis: number, start: number, length: number): Tensor {
  const x = expectTensor('narrow', 'input', input);
  checkNotScalar('narrow', x);
  const ax = normalizeAxis('narrow', axis, x.ndim);
  const n = x.shape[ax]!;
  const lo = start < 0 ? start + n : start;
  if (!Number.isInteger(start) || !Number.isInteger(length) || lo < 0 || length < 0 || lo + length > n) {
    throw new ShapeError(`narrow: start ${start} and length ${length} do not fit axis ${ax} of shape ${formatShape(x.shape)}`);
  }
  return sliceRange(x, ax, lo, lo + length);
});

/**
 * Cuts the tensor along `dim` into pieces of `splitSize` elements (the last one smaller when
 * the size does not divide), or of the sizes listed, as `torch.split`.
 * @throws ArgumentError if a size is not a non-negative integer, the listed sizes do not add up to
 * the axis size, or a size of 0 is asked of a non-empty axis.
 * @throws ShapeError if the tensor is 0-d or `dim` is out of range.
 * @example split(tensor([1, 2, 3, 4, 5]), 2) // [1, 2], [3, 4], [5]
 */
export const split = primitive('split', { kind: 'layout', rule: 'split' }, function (input: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const x = expectTensor('split', 'input', input);
  checkNotScalar('split', x);
  const ax = normalizeAxis('split', dim, x.ndim);
  const n = x.shape[ax]!;
  const list = typeof splitSizeOrSections === 'number' ? [splitSizeOrSections] : splitSizeOrSections;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
    throw new ArgumentError(`split: sizes must be non-negative integers, got ${JSON.stringify(splitSizeOrSections)}`);
  }
  let sizes: number[];
  if (typeof splitSizeOrSections === 'number') {
    const size = splitSizeOrSections;
    if (size === 0 && n > 0) throw new ArgumentError(`split: a split size of 0 needs an empty axis, but axis ${ax} of shape ${formatShape(x.shape)} has ${n} elements`);
    const count = Math.max(1, Math.ceil(n / Math.max(size, 1)));
    sizes = Array.from({ length: count }, (_, i) => Math.min(size, n - i * size));
  } else {
    sizes = [...list];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n) throw new ArgumentError(`split: sizes ${JSON.stringify(sizes)} add up to ${total}, not to the ${n} elements of axis ${ax} of shape ${formatShape(x.shape)}`);
  }
  const bounds = [0];
  for (const size of sizes) bounds.push(bounds[bounds.length - 1]! + size);
  return cut(x, ax, bounds);
});

/**
 * The pieces [bounds[i], bounds[i+1]) of x along `ax`. Each piece's gradient comes back padded
 * to the size of what it was cut from, so cutting n pieces straight from x would cost n full-size
 * tensors in backward. When a graph is recorded they are cut from halves, quarters... instead:
 * O(size · log n) in forward and backward alike.
 */
function cut(x: Tensor, ax: number, bounds: readonly number[]): Tensor[] {
  const pieces: Tensor[] = [];
  const halve = (node: Tensor, lo: number, hi: number): void => {
    const base = bounds[lo]!;
    if (hi - lo <= 2) {
      for (let i = lo; i < hi; i++) pieces.push(sliceRange(node, ax, bounds[i]! - base, bounds[i + 1]! - base));
      return;
    }
    const mid = (lo + hi) >> 1;
    halve(sliceRange(node, ax, 0, bounds[mid]! - base), lo, mid);
    halve(sliceRange(node, ax, bounds[mid]! - base, bounds[hi]! - base), mid, hi);
  };
  const n = bounds.length - 1;
  if (x.requiresGrad && isGradEnabled()) halve(x, 0, n);
  else for (let i = 0; i < n; i++) pieces.push(sliceRange(x, ax, bounds[i]!, bounds[i + 1]!));
  return pieces;
}

/**
 * Cuts the tensor along `dim` into `chunks` pieces of ceil(n / chunks) elements (the last one
 * smaller), as `torch.chunk`: fewer pieces when they run out first (6 elements in 4 chunks give 3).
 * @throws ArgumentError if `chunks` is not a positive integer.
 * @throws ShapeError if the tensor is 0-d or `dim` is out of range.
 * @example chunk(arange(6), 3) // [0, 1], [2, 3], [4, 5]
 */
export const chunk = primitive('chunk', { kind: 'layout', rule: 'split' }, function (input: Tensor, chunks: number, dim = 0): Tensor[] {
  const x = expectTensor('chunk', 'input', input);
  if (!Number.isInteger(chunks) || chunks < 1) throw new ArgumentError(`chunk: chunks must be a positive integer, got ${chunks}`);
  checkNotScalar('chunk', x);
  const n = x.shape[normalizeAxis('chunk', dim, x.ndim)]!;
  if (n === 0) return split(x, new Array<number>(chunks).fill(0), dim);
  return split(x, Math.ceil(n / chunks), dim);
});

/**
 * The slices of the tensor along `dim`, each without that axis, as `torch.unbind`.
 * @throws ShapeError if the tensor is 0-d or `dim` is out of range.
 * @example unbind(tensor([[1, 2], [3, 4]]), 1) // [1, 3], [2, 4]
 */
export const unbind = primitive('unbind', { kind: 'layout', rule: 'split' }, function (input: Tensor, dim = 0): Tensor[] {
  const x = expectTensor('unbind', 'input', input);
  checkNotScalar('unbind', x);
  const ax = normalizeAxis('unbind', dim, x.ndim);
  const shape = x.shape.filter((_, i) => i !== ax);
  return cut(x, ax, Array.from({ length: x.shape[ax]! + 1 }, (_, i) => i)).map((piece) => reshape(piece, shape));
});

/** NOTE: normalizeAxis lets a 0-d tensor take axis 0, but it has no axis to cut or join along. */
function checkNotScalar(op: string, x: Tensor): void {
  if (x.ndim === 0) throw new ShapeError(`${op}: a 0-d tensor has no axis to ${op === 'concat' ? 'join' : 'cut'} along; unsqueeze it first`);
}

/**
 * The primitive behind slice: [lo, hi) of axis `ax`, already in range. A primitive of its own
 * (as padRange), since concat's and slice's VJPs call it: transforms see it there too.
 */
const sliceRange = primitive('sliceRange', { kind: 'layout', rule: 'none' }, function (x: Tensor, ax: number, lo: number, hi: number): Tensor {
  const n = x.shape[ax]!;
  if (lo === 0 && hi === n) return x;
  const shape = [...x.shape];
  shape[ax] = hi - lo;
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  const out = allocate(x.dtype, sizeOf(shape));
  copyAlongAxis(x.data, n, lo, out, hi - lo, 0, outer, hi - lo, inner);
  return makeOutput('slice', out, shape, [x], (g) => [padRange(g, ax, lo, n)], { saves: [[]], jvp: ([t]) => sliceRange(t!, ax, lo, hi) });
});

/** The adjoint of sliceRange: g placed at [lo, lo + len) of a zero tensor with `n` along `ax`. */
const padRange = primitive('padRange', { kind: 'layout', rule: 'none' }, function (g: Tensor, ax: number, lo: number, n: number): Tensor {
  const len = g.shape[ax]!;
  const shape = [...g.shape];
  shape[ax] = n;
  const outer = sizeOf(g.shape.slice(0, ax));
  const inner = sizeOf(g.shape.slice(ax + 1));
  const out = allocate(g.dtype, sizeOf(shape));
  copyAlongAxis(g.data, len, 0, out, n, lo, outer, len, inner);
  return makeOutput('pad', out, shape, [g], (gg) => [sliceRange(gg, ax, lo, lo + len)], { saves: [[]], jvp: ([t]) => padRange(t!, ax, lo, n) });
});

/**
 * Joins tensors along an existing axis.
 * @throws ArgumentError for an empty list.
 * Dtypes combine as in `add` (an int32 or bool tensor beside a float one becomes that float, as
 * `torch.cat` promotes).
 * @throws ShapeError if the shapes differ off `axis`, the axis is out of range, or a tensor is 0-d.
 * @throws DTypeError if float32 meets float64.
 * @example concat([a, b], 0)
 */
export const concat = primitive('concat', { kind: 'layout', rule: 'concat' }, function (inputs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new ArgumentError('concat: needs a non-empty array of tensors');
  }
  // torch.cat's promotion: an int32 or bool piece beside a float one takes the float's dtype.
  const xs = promoteAll('concat', inputs.map((t, i) => expectTensor('concat', `tensors[${i}]`, t)), 'any');
  const first = xs[0]!;
  checkNotScalar('concat', first);
  const ax = normalizeAxis('concat', axis, first.ndim);
  for (const t of xs) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(
        `concat: shapes ${xs.map((u) => formatShape(u.shape)).join(', ')} differ outside axis ${ax}`,
      );
    }
  }
  const total = xs.reduce((s, t) => s + t.shape[ax]!, 0);
  const shape = [...first.shape];
  shape[ax] = total;
  const outer = sizeOf(first.shape.slice(0, ax));
  const inner = sizeOf(first.shape.slice(ax + 1));
  // Every element is written by the copy: no clearing first.
  const out = allocateUnset(first.dtype, sizeOf(shape), 'concat', shape);
  const counts = xs.map((t) => t.shape[ax]!);
  concatAxis(xs.map((t) => t.data), counts, out, outer, inner);
  const offsets: number[] = [];
  for (let i = 0, at = 0; i < counts.length; at += counts[i++]!) offsets.push(at);
  return makeOutput('concat', out, shape, xs, (g) =>
    xs.map((t, i) => (t.requiresGrad ? sliceRange(g, ax, offsets[i]!, offsets[i]! + t.shape[ax]!) : null)),
    { saves: xs.map(() => []), jvp: (ts) => concat(ts.map((t, i) => t ?? zeros(xs[i]!.shape, { dtype: first.dtype })), ax) },
  );
});

/**
 * Joins same-shape tensors along a new axis.
 * @throws ArgumentError for an empty list.
 * Dtypes combine as `concat`'s.
 * @throws ShapeError if the shapes differ or the new axis is out of range.
 * @throws DTypeError if float32 meets float64.
 * @example stack([a, b], 0)
 */
export const stack = primitive('stack', { kind: 'layout', rule: 'concat' }, function (inputs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new ArgumentError('stack: needs a non-empty array of tensors');
  }
  const xs = inputs.map((t, i) => expectTensor('stack', `tensors[${i}]`, t));
  for (const t of xs) {
    if (!shapesEqual(t.shape, xs[0]!.shape)) {
      throw new ShapeError(`stack: all tensors must have one shape, got ${xs.map((u) => formatShape(u.shape)).join(', ')}`);
    }
  }
  const ax = newAxis('stack', axis, xs[0]!.shape);
  return concat(xs.map((t) => unsqueeze(t, ax)), ax);
});

/**
 * Broadcasts x to `shape` (NumPy rules; -1 keeps a dimension). The copy is real: storage is
 * always contiguous. @example expand(bias, [batch, -1])
 * @throws ShapeError if x's shape does not broadcast to `shape`.
 */
export const expand = primitive('expand', { kind: 'layout', rule: 'expand' }, function (input: Tensor, shape: Shape): Tensor {
  const x = expectTensor('expand', 'input', input);
  const lead = shape.length - x.ndim;
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  if (lead < 0 || target.some((d, i) => i >= lead && x.shape[i - lead] !== 1 && x.shape[i - lead] !== d)) {
    throw new ShapeError(`expand: shape ${formatShape(x.shape)} cannot be broadcast to ${formatShape(shape)}`);
  }
  checkShape('expand', target);
  if (shapesEqual(target, x.shape)) return x;
  const out = allocate(x.dtype, sizeOf(target), 'expand', target);
  broadcastCopy(x.data, x.shape, out, target);
  // The engine sums the gradient back over the broadcast dimensions.
  return makeOutput('expand', out, target, [x], (g) => [g], { saves: [[]], jvp: ([t]) => expand(t!, target) });
});

/**
 * Removes size-1 axes: all of them, or only `axis`.
 * @throws ShapeError if `axis` is out of range.
 * @example squeeze(x, 0)
 */
export const squeeze = primitive('squeeze', { kind: 'layout', rule: 'squeeze' }, function (x: Tensor, axis?: number): Tensor {
  const t = expectTensor('squeeze', 'input', x);
  if (axis === undefined) return reshape(t, t.shape.filter((d) => d !== 1));
  const ax = normalizeAxis('squeeze', axis, t.ndim);
  if (t.ndim === 0 || t.shape[ax] !== 1) return t;
  return reshape(t, t.shape.filter((_, i) => i !== ax));
});

/**
 * Inserts a size-1 axis at `axis` (negative counts from the end of the result).
 * @throws ShapeError if `axis` is out of range for the result.
 * @example unsqueeze(x, 0)
 */
export const unsqueeze = primitive('unsqueeze', { kind: 'layout', rule: 'unsqueeze' }, function (x: Tensor, axis: number): Tensor {
  const t = expectTensor('unsqueeze', 'input', x);
  const ax = newAxis('unsqueeze', axis, t.shape);
  const shape = [...t.shape];
  shape.splice(ax, 0, 1);
  return reshape(t, shape);
});

/**
 * Resolves the position of a new axis inserted into `shape` (negative counts from the end of
 * the result). Not normalizeAxis against ndim + 1: its message would misstate the input's rank.
 */
function newAxis(op: string, axis: number, shape: Shape): number {
  const n = shape.length + 1;
  if (!Number.isInteger(axis) || axis < -n || axis >= n) {
    throw new ShapeError(`${op}: axis ${axis} is out of range [${-n}, ${n - 1}] for a new axis of a tensor of shape ${formatShape(shape)}`);
  }
  return axis < 0 ? axis + n : axis;
}
