import { allocate, type FloatArray } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxes, normalizeAxis, reducedShape } from '../shape.js';
import { quantilePositions, type QuantileInterpolation } from '../kernels/quantile.js';
import { constant, expectFloat, expectTensor, floatInput, Tensor, type FloatTensor } from '../tensor.js';
import { logicalNot } from './compare.js';
import { gather } from './gather.js';
import { lerp } from './lerp.js';
import { sqrtZeroGradAtZero, sum, varianceAxes, type VarianceOptions } from './reduce.js';
import { permute, reshape } from './shape.js';
import { where } from './where.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const VARIANCE_OPTIONS = ['keepdims', 'correction'];
const QUANTILE_OPTIONS = ['keepdims', 'interpolation'];

type Axis = number | readonly number[] | undefined;

/** True where x is NaN (outside the graph). */
function nanMask(x: Tensor): Tensor {
  return x.ne(x);
}

/** 1 where x is a number, 0 where NaN, in x's float dtype: counts that divide x's sums. */
function numbers(x: FloatTensor, mask: Tensor): Tensor {
  return logicalNot(mask).toDtype(x.dtype);
}

/**
 * Sum over `axis` (all by default) treating NaN as 0, as `torch.nansum`; a NaN element gets a
 * zero gradient.
 * @throws ShapeError if an axis is out of range or repeated.
 * @example nansum(x, 1)
 */
export const nansum = primitive('nansum', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (input: Tensor, axis?: Axis, keepdims = false): Tensor {
  const x = expectTensor('nansum', 'input', input);
  normalizeAxes('nansum', axis, x.ndim);
  return sum(where(nanMask(x), 0, x), axis, keepdims);
});

/**
 * Mean of the non-NaN elements over `axis` (all by default), as `torch.nanmean`: NaN where every
 * reduced element is NaN (or there are none). A NaN element gets a zero gradient.
 * @throws ShapeError if an axis is out of range or repeated.
 * @example nanmean(x, 0)
 */
export const nanmean = primitive('nanmean', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (input: Tensor, axis?: Axis, keepdims = false): Tensor {
  const x = floatInput('nanmean', 'input', input);
  normalizeAxes('nanmean', axis, x.ndim);
  const mask = nanMask(x);
  const count = sum(numbers(x, mask), axis, keepdims);
  const some = count.gt(0);
  // Double where: a slice without numbers divides by 1, then becomes NaN, so no 0/0 reaches a gradient.
  return where(some, sum(where(mask, 0, x), axis, keepdims).div(where(some, count, 1)), NaN);
});

/**
 * Variance of the non-NaN elements over `axis` (NumPy's `nanvar`; PyTorch has none), with the
 * same `correction` default as `variance` (0). NaN where fewer than `correction` + 1 elements
 * of a slice are not NaN; a NaN element gets a zero gradient.
 * @throws ShapeError if an axis is out of range or repeated.
 * @throws ArgumentError if the correction leaves no degrees of freedom even without NaNs.
 * @example nanvar(x, 1, { correction: 1 })
 */
export const nanvar = primitive('nanvar', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, options: VarianceOptions = {}): Tensor {
  return nanvarAs('nanvar', x, axis, options);
});

/**
 * Standard deviation of the non-NaN elements over `axis` (NumPy's `nanstd`); options and
 * errors as `nanvar`.
 * @example nanstd(x, 0)
 */
export const nanstd = primitive('nanstd', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, options: VarianceOptions = {}): Tensor {
  return sqrtZeroGradAtZero(nanvarAs('nanstd', x, axis, options));
});

function nanvarAs(op: string, input: Tensor, axis: Axis, options: VarianceOptions): Tensor {
  checkOptions(op, options, VARIANCE_OPTIONS);
  const { keepdims = false, correction = 0 } = options;
  const x = floatInput(op, 'input', input);
  const { axes } = varianceAxes(op, x, axis, correction);
  const mask = nanMask(x);
  const centred = where(mask, 0, x.sub(nanmean(x, axes, true)));
  const dof = sum(numbers(x, mask), axes, keepdims).sub(correction);
  const positive = dof.gt(0);
  // Double where: a slice without degrees of freedom divides by 1, then becomes NaN.
  return where(positive, sum(centred.square(), axes, keepdims).div(where(positive, dof, 1)), NaN);
}

/** Options of `quantile` and `nanquantile`. */
export interface QuantileOptions {
  /** Keep the reduced axis as size 1 (all axes, when none is given); default false. */
  keepdims?: boolean;
  /** How a quantile between two elements is read (default 'linear'), as PyTorch's `interpolation`. */
  interpolation?: QuantileInterpolation;
}

/**
 * The q-th quantiles of x along `axis` (of all elements, flattened, when it is undefined), as
 * `torch.quantile`. q is a number or a 1-D tensor of values in [0, 1]; a 1-D q puts its axis
 * first in the result. 'linear' interpolates between the two neighbouring order statistics
 * (weight rank - floor(rank), rank = q·(n - 1)), 'midpoint' takes their mean, 'lower', 'higher'
 * and 'nearest' (ties to even) pick one. The gradient flows to those one or two elements
 * (1 - weight and weight); q gets none. A slice holding NaN gives NaN.
 * @throws ArgumentError if q is outside [0, 1], not a number or tensor, or x is empty; or for an unknown interpolation.
 * @throws ShapeError if q has more than one dimension or `axis` is out of range.
 * @throws DTypeError if a tensor q has another dtype than x.
 * @example quantile(x, 0.5, 1) // the median of each row, interpolated
 */
export const quantile = primitive('quantile', { kind: 'reduction', axisArg: 2, absent: 'flatten' }, function (input: Tensor, q: number | Tensor, axis?: number, options: QuantileOptions = {}): Tensor {
  return quantileAs('quantile', false, input, q, axis, options);
});

/**
 * `quantile` ignoring NaN, as `torch.nanquantile`: each slice's quantiles are read among its
 * non-NaN elements; a slice of NaN only gives NaN.
 * @throws As `quantile`.
 * @example nanquantile(x, tensor([0.25, 0.75]), 0)
 */
export const nanquantile = primitive('nanquantile', { kind: 'reduction', axisArg: 2, absent: 'flatten' }, function (input: Tensor, q: number | Tensor, axis?: number, options: QuantileOptions = {}): Tensor {
  return quantileAs('nanquantile', true, input, q, axis, options);
});

const INTERPOLATIONS: readonly QuantileInterpolation[] = ['linear', 'lower', 'higher', 'midpoint', 'nearest'];

function quantileAs(op: string, ignoreNan: boolean, input: Tensor, qArg: number | Tensor, axis: number | undefined, options: QuantileOptions): Tensor {
  checkOptions(op, options, QUANTILE_OPTIONS);
  const x = floatInput(op, 'input', input);
  const { keepdims = false, interpolation = 'linear' } = options;
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new ArgumentError(`${op}: interpolation must be one of ${INTERPOLATIONS.join(', ')}, got ${String(interpolation)}`);
  }
  const qs = quantileValues(op, x, qArg);
  if (x.size === 0) throw new ArgumentError(`${op}: the input must not be empty, got shape ${formatShape(x.shape)} ${x.dtype}`);
  let rowsView: Tensor;
  let restShape: number[];
  if (axis === undefined) {
    rowsView = reshape(x, [1, x.size]);
    restShape = keepdims ? x.shape.map(() => 1) : [];
  } else {
    const ax = normalizeAxis(op, axis, x.ndim);
    const order = x.shape.map((_, i) => i).filter((i) => i !== ax);
    const n = x.ndim === 0 ? 1 : x.shape[ax]!;
    const moved = x.ndim === 0 ? x : permute(x, [...order, ax]);
    rowsView = reshape(moved, [-1, n]);
    restShape = reducedShape(x.shape, x.ndim === 0 ? [] : [ax], keepdims);
  }
  const rows = rowsView.shape[0]!;
  const n = rowsView.shape[1]!;
  const nq = qs.data.length;
  const below = new Int32Array(rows * nq);
  const above = new Int32Array(rows * nq);
  const weight = allocate(x.dtype, rows * nq);
  quantilePositions(expectFloat(op, rowsView).data, rows, n, qs.data, ignoreNan, interpolation, below, above, weight);
  const lo = gather(rowsView, 1, constant(below, [rows, nq]));
  const picked = interpolation === 'linear' || interpolation === 'midpoint'
    ? lerp(lo, gather(rowsView, 1, constant(above, [rows, nq])), constant(weight, [rows, nq]))
    : lo;
  // [rows, q] -> [q, ...rest]; a number q has no axis of its own.
  const out = reshape(permute(picked, [1, 0]), [nq, ...restShape]);
  return qs.scalar ? reshape(out, restShape) : out;
}

/** The quantiles asked for, checked, in x's dtype; `scalar` when q was a number or 0-d. */
function quantileValues(op: string, x: FloatTensor, q: number | Tensor): { data: FloatArray; scalar: boolean } {
  let data: FloatArray;
  let scalar: boolean;
  if (typeof q === 'number') {
    data = allocate(x.dtype, 1);
    data[0] = q;
    scalar = true;
  } else if (q instanceof Tensor) {
    if (q.ndim > 1) throw new ShapeError(`${op}: q must be a number or a 0-d or 1-D tensor, got shape ${formatShape(q.shape)}`);
    if (q.dtype !== x.dtype) throw new DTypeError(`${op}: q is ${q.dtype} but the input is ${x.dtype} ${formatShape(x.shape)}; convert one with toDtype()`);
    data = expectFloat(op, q).data;
    scalar = q.ndim === 0;
  } else {
    throw new ArgumentError(`${op}: q must be a number or a Tensor, got ${q === null ? 'null' : typeof q}`);
  }
  for (const v of data) {
    if (!(v >= 0 && v <= 1)) throw new ArgumentError(`${op}: q values must lie in [0, 1], got ${v} (input ${formatShape(x.shape)} ${x.dtype})`);
  }
  return { data, scalar };
}
