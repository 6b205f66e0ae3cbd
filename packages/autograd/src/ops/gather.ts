import { allocateUnset, type TensorData } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxis } from '../shape.js';
import { gatherAlong, scatterAlong } from '../kernels/indexing.js';
import { expectFloat, expectTensor, makeOutput, Tensor, type FloatTensor, type NestedArray } from '../tensor.js';
import { tensor } from '../creation.js';
import { primitive } from '../engine/dispatch.js';

/**
 * Integer indices with their shape, checked against the size of the gathered axis: an int32
 * tensor (as PyTorch takes int64 ones), or nested arrays of integers. Negative indices count
 * from the end. NOTE: `values` may be the index tensor's own storage: read it, never write it.
 * With `check` false, an int32 tensor's values are passed as they are, for a kernel that checks
 * them itself (`wrapIndices` then, if it finds one outside [0, n)).
 */
export function toIndex(op: string, index: Tensor | NestedArray, n: number, check = true): { values: Int32Array; shape: readonly number[] } {
  if (index instanceof Tensor && index.dtype !== 'int32') {
    throw new DTypeError(`${op}: index must be an int32 tensor, got ${index.dtype} of shape ${formatShape(index.shape)}; convert it with toDtype('int32')`);
  }
  if (index instanceof Tensor) return { values: check ? wrapIndices(op, index.data as Int32Array, n) : (index.data as Int32Array), shape: index.shape };
  const t = tensor(index, { dtype: 'float64' });
  const data = t.data as Float64Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isInteger(v) || v < -n || v >= n) throw outOfRange(op, v, i, n);
  }
  return { values: wrapIndices(op, Int32Array.from(data), n), shape: t.shape };
}

/**
 * int32 `src` checked to lie in [-n, n), with negative indices counted from the end: `src`
 * itself when none is negative (callers only read it), else a copy.
 */
function wrapIndices(op: string, src: Int32Array, n: number): Int32Array {
  // One pass with no early exit: the smallest and largest index decide; only a bad index makes a
  // second pass, to name the first offender.
  let lo = 0;
  let hi = -1;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if (lo < -n || hi >= n) {
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v < -n || v >= n) throw outOfRange(op, v, i, n);
    }
  }
  if (lo >= 0) return src;
  const values = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    values[i] = v < 0 ? v + n : v;
  }
  return values;
}

function outOfRange(op: string, v: number, i: number, n: number): ShapeError {
  return new ShapeError(`${op}: index ${v} at position ${i} is not an integer in [${-n}, ${n}) for an axis of size ${n}`);
}

/** Checked indices along one axis: the axis, its values and shape (0-d taken as [1] by the kernels). */
export interface AxisIndex {
  readonly axis: number;
  readonly values: Int32Array;
  readonly shape: readonly number[];
}

/**
 * The index of a gather or scatter along `axis` of `shape`: of the same rank, and no larger than
 * `shape` on every other axis (and than `src`'s on every axis, for a scatter), as PyTorch checks.
 * `check` as `toIndex`'s.
 */
export function axisIndex(op: string, shape: readonly number[], axis: number, index: Tensor | NestedArray, src?: readonly number[], check = true): AxisIndex {
  const ax = normalizeAxis(op, axis, shape.length);
  const n = shape.length === 0 ? 1 : shape[ax]!;
  const idx = toIndex(op, index, n, check);
  const fits = idx.shape.length === shape.length
    && idx.shape.every((d, i) => (i === ax || d <= shape[i]!) && (src === undefined || d <= src[i]!));
  if (!fits || (src !== undefined && src.length !== shape.length)) {
    const srcText = src === undefined ? '' : ` and src ${formatShape(src)}`;
    throw new ShapeError(
      `${op}: index of shape ${formatShape(idx.shape)} must have the rank of input ${formatShape(shape)}${srcText} and be no larger than input off axis ${ax}${src === undefined ? '' : ' and than src on every axis'}`,
    );
  }
  return { axis: ax, values: idx.values, shape: idx.shape };
}

/** A 0-d shape as [1], the form the kernels take. */
export const kernelShape = (shape: readonly number[]): readonly number[] => (shape.length === 0 ? [1] : shape);

/**
 * out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis`, as `torch.gather`: `index`
 * has x's rank and is no larger than x on every other axis (the result has index's shape).
 * Negative indices count from the end. The gradient adds g into zeros of x's shape at the
 * gathered places, repeated picks summed.
 * @throws ShapeError if `index` has another rank, is larger than x off `axis`, or holds an index that is not an integer in [-n, n).
 * @throws DTypeError if `index` is a tensor but not int32.
 * @example gather(logProbs, 1, [[2], [0]]) // picks column 2 of row 0 and column 0 of row 1
 */
export const gather = primitive('gather', { kind: 'layout', rule: 'gather' }, function (input: Tensor, axis: number, index: Tensor | NestedArray): Tensor {
  const x = expectTensor('gather', 'input', input);
  const raw = axisIndex('gather', x.shape, axis, index, undefined, false);
  const out = allocateUnset(x.dtype, raw.values.length, 'gather', raw.shape);
  const idx = runChecking('gather', raw, x.ndim === 0 ? 1 : x.shape[raw.axis]!, (i) => gatherAlong(x.data, kernelShape(x.shape), i.axis, i.values, kernelShape(i.shape), out));
  return gathered(x, idx, out);
});

/**
 * Runs a kernel that checks its indices as it reads them (returning false for one outside
 * [0, n)) on `raw`, an index not checked yet: no pass of its own over the indices first. Only if
 * the kernel finds one negative or out of range are they checked (naming the first bad one,
 * a ShapeError) and wrapped apart, and the kernel run again, over output it rewrites whole.
 * Returns the index the kernel ran with, checked.
 */
export function runChecking(op: string, raw: AxisIndex, n: number, kernel: (idx: AxisIndex) => boolean): AxisIndex {
  if (kernel(raw)) return raw;
  const idx: AxisIndex = { ...raw, values: wrapIndices(op, raw.values, n) };
  kernel(idx);
  return idx;
}

/** gather with an index already checked: what the indexing ops compose. */
export function gatherIndexed(x: Tensor, idx: AxisIndex): Tensor {
  // The kernel writes every element: no clearing first.
  const out = allocateUnset(x.dtype, idx.values.length, 'gather', idx.shape);
  gatherAlong(x.data, kernelShape(x.shape), idx.axis, idx.values, kernelShape(idx.shape), out);
  return gathered(x, idx, out);
}

/** The gather of x at `idx` (checked), whose values `out` holds. */
function gathered(x: Tensor, idx: AxisIndex, out: TensorData): Tensor {
  return makeOutput('gather', out, idx.shape, [x], (g) => [scatterAddInto(expectFloat('gather', g), x.shape, idx)], { saves: [[]], jvp: ([t]) => gatherIndexed(t!, idx) });
}

/**
 * Zeros of `shape` with g (of the index's shape) added at the indexed places: the adjoint of
 * gather, whose own adjoint is gather again.
 */
export function scatterAddInto(g: FloatTensor, shape: readonly number[], idx: AxisIndex): Tensor {
  // The kernel starts from zeros: no clearing before it.
  const out = allocateUnset(g.dtype, shape.reduce((a, b) => a * b, 1), 'scatterAdd', shape);
  scatterAlong(out, kernelShape(shape), idx.axis, idx.values, kernelShape(idx.shape), g.data, 'add', null);
  return makeOutput('scatterAdd', out, shape, [g], (gg) => [gatherIndexed(gg, idx)], { saves: [[]], jvp: ([t]) => scatterAddInto(expectFloat('scatterAdd', t!), shape, idx) });
}
