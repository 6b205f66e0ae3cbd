import { allocate, type FloatArray } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { formatShape, normalizeAxes, reducedShape, shapesEqual, sizeOf, type Shape } from '../shape.js';
import { productOfOthers, reduceAxis, reduceRun, type ReduceKind } from '../kernels/reduce.js';
import { permute as permuteKernel } from '../kernels/layout.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { forwardActive } from '../engine/forward.js';
import { constant, expectTensor, isFloat, makeOutput, type FloatTensor, type SavedRef, type Tensor } from '../tensor.js';
import { toDtype } from './cast.js';
import { expand, permute, reshape } from './shape.js';
import { flip, pad } from './rearrange.js';
import { cumprod } from './scan.js';
import { any } from './compare.js';
import { where } from './where.js';
import { isFinite, sqrt } from './unary.js';
import { primitive } from '../engine/dispatch.js';
import { isTracing } from '../engine/trace-access.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const VARIANCE_OPTIONS = ['keepdims', 'correction'];

type Axis = number | readonly number[] | undefined;

/**
 * Reduces `axes` (sorted, distinct) of x with the kernel, keeping them as size-1 dimensions.
 * Neighbouring axes are merged into one pass.
 */
function reduceData(kind: ReduceKind, data: FloatArray, shape: Shape, axes: readonly number[]): FloatArray {
  if (axes.length === shape.length && axes.length > 0) {
    const out = allocate(data instanceof Float32Array ? 'float32' : 'float64', 1);
    out[0] = reduceRun(kind, data, 0, data.length);
    return out;
  }
  let current = data;
  const dims = [...shape];
  // From the innermost group outwards, so earlier indices stay valid.
  let i = axes.length - 1;
  while (i >= 0) {
    let start = i;
    while (start > 0 && axes[start - 1] === axes[start]! - 1) start--;
    const first = axes[start]!;
    const last = axes[i]!;
    const outer = sizeOf(dims.slice(0, first));
    const n = sizeOf(dims.slice(first, last + 1));
    const inner = sizeOf(dims.slice(last + 1));
    const out = allocate(data instanceof Float32Array ? 'float32' : 'float64', outer * inner);
    reduceAxis(kind, current, outer, n, inner, out);
    current = out;
    for (let d = first; d <= last; d++) dims[d] = 1;
    i = start - 1;
  }
  return current === data ? data.slice() : current;
}

/**
 * `saves`: which of x and the output the VJP reads the values of. `jvp` maps x's tangent to the
 * output's, with the reduced axes kept as size 1, as `vjp` takes the gradient.
 */
function reduction(
  op: string, kind: ReduceKind, input: Tensor, axis: Axis, keepdims: boolean, saves: readonly SavedRef[],
  vjp: (gKeep: Tensor, x: FloatTensor, outKeep: Tensor, axes: number[]) => Tensor,
  jvp: (t: Tensor, x: FloatTensor, outKeep: Tensor, axes: number[]) => Tensor,
): Tensor {
  const t = expectTensor(op, 'input', input);
  const axes = normalizeAxes(op, axis, t.ndim);
  if (!isFloat(t)) return integerReduction(op, kind, t, axes, keepdims);
  const x = t;
  const keepShape = reducedShape(x.shape, axes, true);
  const data = reduceData(kind, x.data, x.shape, axes);
  const shape = keepdims ? keepShape : reducedShape(x.shape, axes, false);
  return makeOutput(op, data, shape, [x], (g, out) => [vjp(reshape(g, keepShape), x, reshape(out, keepShape), axes)], {
    saves: [saves],
    jvp: ([t], out) => reshape(jvp(t!, x, reshape(out, keepShape), axes), shape),
  });
}

/**
 * A reduction of an int32 or bool tensor: int32 (the max or min of bools stays bool), computed
 * exactly in float64. PyTorch sums integers into int64; chainrule has no int64, so a sum or
 * product outside int32's range is an error rather than a wrapped number.
 */
function integerReduction(op: string, kind: ReduceKind, t: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const wide = toDtype(t, 'float64').data as Float64Array;
  const data = reduceData(kind, wide, t.shape, axes);
  const shape = reducedShape(t.shape, axes, keepdims);
  const keepsBool = t.dtype === 'bool' && (kind === 'max' || kind === 'min');
  const out = allocate(keepsBool ? 'bool' : 'int32', data.length, op, shape);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= -2147483648 && v <= 2147483647)) {
      throw new ArgumentError(
        `${op}: the ${kind} of the ${t.dtype} tensor of shape ${formatShape(t.shape)} is ${v} at element ${i} of the result, outside int32's range; convert to float64 first with toDtype('float64')`,
      );
    }
    out[i] = v;
  }
  return constant(out, shape);
}

/**
 * Sum over `axis` (all by default).
 * @throws ShapeError if an axis is out of range or repeated.
 * @example sum(x, 1, true)
 */
export const sum = primitive('sum', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return reduction('sum', 'sum', x, axis, keepdims, [], (g, xi) => expand(g, xi.shape), (t, _x, _out, axes) => sum(t, axes, true));
});

/**
 * Mean over `axis` (all by default); NaN over zero elements, as in PyTorch.
 * @throws ShapeError if an axis is out of range or repeated.
 * @example mean(x, 0)
 */
export const mean = primitive('mean', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, keepdims = false): Tensor {
  const t = expectTensor('mean', 'input', x);
  const axes = normalizeAxes('mean', axis, t.ndim);
  const count = sizeOf(axes.map((a) => t.shape[a]!));
  return sum(t, axis, keepdims).div(count);
});

/**
 * The elements an extremum was read from: those equal to it, or, when it is NaN, the NaNs
 * (torch.max's rule over all elements; torch.amax along an axis would give the whole slice NaN).
 */
function extremumMask(x: FloatTensor, outKeep: Tensor): Tensor {
  const out = outKeep.detach();
  return x.eq(out).logicalOr(x.isNan().logicalAnd(out.isNan()));
}

function extremumVjp(g: Tensor, x: FloatTensor, outKeep: Tensor, axes: number[]): Tensor {
  // Ties share the gradient evenly (torch.amax's rule).
  const mask = extremumMask(x, outKeep);
  return expand(g, x.shape).mul(mask).div(sum(mask, axes, true));
}

/** The same rule forward: the mean of the tangent over the tied extrema. */
function extremumJvp(t: Tensor, x: FloatTensor, outKeep: Tensor, axes: number[]): Tensor {
  const mask = extremumMask(x, outKeep);
  return sum(t.mul(mask), axes, true).div(sum(mask, axes, true));
}

/**
 * Maximum over `axis`; tied maxima share the gradient evenly (`torch.amax`). PyTorch's
 * `torch.max(x, dim)`, with indices and the gradient to one element, is `maxWithIndices`.
 * @throws ShapeError if an axis is out of range or repeated.
 * @throws ArgumentError when reducing over an empty axis (there is no maximum of nothing).
 * @example max(x, -1)
 */
export const max = primitive('max', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, keepdims = false): Tensor {
  checkNonEmpty('max', x, axis);
  return reduction('max', 'max', x, axis, keepdims, [0, 'output'], extremumVjp, extremumJvp);
});

/**
 * Minimum over `axis`; tied minima share the gradient evenly (`torch.amin`). PyTorch's
 * `torch.min(x, dim)`, with indices, is `minWithIndices`.
 * @throws ShapeError if an axis is out of range or repeated.
 * @throws ArgumentError when reducing over an empty axis (there is no maximum of nothing).
 * @example min(x, -1)
 */
export const min = primitive('min', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, keepdims = false): Tensor {
  checkNonEmpty('min', x, axis);
  return reduction('min', 'min', x, axis, keepdims, [0, 'output'], extremumVjp, extremumJvp);
});

function checkNonEmpty(op: string, x: Tensor, axis: Axis): void {
  const t = expectTensor(op, 'input', x);
  const axes = normalizeAxes(op, axis, t.ndim);
  if (axes.some((a) => t.shape[a] === 0)) {
    throw new ArgumentError(`${op}: cannot reduce over an empty axis of shape ${formatShape(t.shape)}`);
  }
}

/**
 * Product over `axis`. Its gradient is out/x where x holds no zero, else the product of the other
 * reduced elements (exclusive prefix × suffix products, as PyTorch's), so it is exact through one
 * zero, several and all; both forms are written in ops, differentiable to any order. Through
 * zeros, the gradient and the second derivative cost O(n) per slice of n elements; carrying a
 * tangent through the gradient (jvp of grad) or a third derivative goes through cumprod's
 * zero-safe derivatives, O(n²) per slice.
 * @throws ShapeError if an axis is out of range or repeated.
 * @example prod(x, 1)
 */
export const prod = primitive('prod', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return reduction('prod', 'prod', x, axis, keepdims, [0, 'output'], (g, xi, outKeep, axes) => {
    const gx = expand(g, xi.shape);
    // Over no element, or one, the product is x itself.
    if (reducedCount(xi, axes) <= 1) return gx;
    if (!isGradEnabled() && !forwardActive() && xi.data.includes(0)) {
      // No graph to build and no tangent to carry: the O(n) kernel, exact through zeros.
      return gx.mul(constant(productOfOthersAlong(xi, axes), xi.shape));
    }
    return byZeros(xi, (safe) => gx.mul(expand(outKeep, xi.shape)).div(safe), () => gx.mul(productOfOthersOps(xi, axes)));
  }, (t, xi, outKeep, axes) => {
    if (reducedCount(xi, axes) <= 1) return reshape(t, reducedShape(xi.shape, axes, true));
    return byZeros(xi, (safe) => sum(t.mul(expand(outKeep, xi.shape)).div(safe), axes, true), () => sum(t.mul(productOfOthersOps(xi, axes)), axes, true));
  });
});

/** How many elements each result element of a reduction over `axes` multiplies. */
function reducedCount(x: Tensor, axes: readonly number[]): number {
  return sizeOf(axes.map((a) => x.shape[a]!));
}

/**
 * One of two forms of a derivative: `divided` (by x) where x holds no zero, else `exact` (through
 * zeros), as eager code chooses from x's values (PyTorch's choice for prod; cumprod's too). NOTE: a program cannot
 * replay a choice made from values, so while jit traces both forms are computed and `where` picks
 * one by whether x holds a zero at each call: the eager bits either way. The division it does not
 * pick is by 1 instead of x, so that its derivative stays finite (the "double where" trap).
 */
export function byZeros(x: FloatTensor, divided: (safe: Tensor) => Tensor, exact: () => Tensor): Tensor {
  if (!isTracing()) return x.data.includes(0) ? exact() : divided(x);
  const zero = any(x.eq(0));
  return where(zero, exact(), divided(where(zero, 1, x)));
}

/**
 * For each element, the product of the others it is reduced with, in ops (so differentiable
 * again, and recorded by a trace): the reduced axes are moved last and flattened into lines, whose
 * exclusive running products from either end (a cumprod of the line shifted by one, 1 first) are
 * multiplied. Needs at least two elements per line.
 */
function productOfOthersOps(x: Tensor, axes: readonly number[]): Tensor {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const moved = perm.every((p, i) => p === i) ? x : permute(x, perm);
  const lines = reshape(moved, [...kept.map((i) => x.shape[i]!), reducedCount(x, axes)]);
  // [x0, x1, ..., x(n-1)] -> [1, x0, ..., x(n-2)]: its running product is the product before each element.
  const before = (line: Tensor): Tensor => cumprod(pad(line, [1, -1], { value: 1 }), -1);
  const others = before(lines).mul(flip(before(flip(lines, -1)), -1));
  const back = reshape(others, moved.shape);
  return moved === x ? back : permute(back, perm.map((_, i) => perm.indexOf(i)));
}

/** For each element, the product of the others it is reduced with (layout of x), by the kernel. */
function productOfOthersAlong(x: FloatTensor, axes: readonly number[]): FloatArray {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const permShape = perm.map((p) => x.shape[p]!);
  const moved = allocate(x.dtype, x.size);
  permuteKernel(x.data, x.shape, perm, moved);
  const k = sizeOf(axes.map((a) => x.shape[a]!));
  const others = allocate(x.dtype, x.size);
  productOfOthers(moved, x.size / Math.max(k, 1), k, 1, others);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const back = allocate(x.dtype, x.size);
  permuteKernel(others, permShape, inverse, back);
  return back;
}

/**
 * `log(sum(exp(x)))` over `axis`, shifted by the (detached) maximum so logits like 1000 do not
 * overflow. @example logsumexp(logits, 1)
 * @throws ShapeError if an axis is out of range or repeated.
 */
export const logsumexp = primitive('logsumexp', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, keepdims = false): Tensor {
  const t = expectTensor('logsumexp', 'input', x);
  const axes = normalizeAxes('logsumexp', axis, t.ndim);
  const m = stableShift(t, axes);
  const out = sum(t.sub(m).exp(), axes, true).log().add(m);
  return keepdims ? out : reshape(out, reducedShape(t.shape, axes, false));
});

/**
 * The shift that keeps exponentials of x in range: the maximum over `axes` (kept as size 1),
 * detached, since results shifted back do not depend on it. 0 where that maximum is ±Inf (an
 * all -Inf slice would make x - m NaN) or the slice is empty (no maximum; the sum is just 0).
 */
export function stableShift(x: Tensor, axes: readonly number[]): Tensor {
  const keepShape = reducedShape(x.shape, axes, true);
  if (axes.some((a) => x.shape[a] === 0)) return constant(allocate(x.dtype, sizeOf(keepShape)), keepShape);
  const m = max(x.detach(), axes, true);
  return where(isFinite(m), m, 0);
}

/** Options of `variance` and `std`. */
export interface VarianceOptions {
  keepdims?: boolean;
  /** Subtracted from the count: 0 (population, the default here) or 1 (Bessel's correction, PyTorch's default). */
  correction?: number;
}

/**
 * Variance over `axis`. NOTE: the default is the population variance (correction 0), unlike
 * PyTorch's default of 1; pass `{ correction: 1 }` for the sample variance. @example variance(x, 0)
 * @throws ShapeError if an axis is out of range or repeated.
 * @throws ArgumentError if the correction leaves no degrees of freedom (e.g. one element with correction 1).
 */
export const variance = primitive('variance', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, options: VarianceOptions = {}): Tensor {
  return varianceAs('var', x, axis, options);
});

/**
 * Standard deviation over `axis`; options as `variance`.
 * @throws As `variance`.
 * @example std(x, 1, { correction: 1 })
 */
export const std = primitive('std', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: Axis, options: VarianceOptions = {}): Tensor {
  return sqrtZeroGradAtZero(varianceAs('std', x, axis, options));
});

/**
 * √v whose gradient is 0 where v is 0 (a constant slice's standard deviation: PyTorch's std
 * rule, never the 0 · ∞ of sqrt's), NaN where v is NaN; twice differentiable, since the square
 * root never sees the zeros.
 */
export function sqrtZeroGradAtZero(v: Tensor): Tensor {
  const zero = v.eq(0);
  return where(zero, 0, sqrt(where(zero, 1, v)));
}

/**
 * The reduced axes of a variance and the count of elements over them, checked to leave degrees
 * of freedom after `correction`: shared by `variance` and `nanvar`.
 */
export function varianceAxes(op: string, t: Tensor, axis: Axis, correction: number): { axes: number[]; count: number } {
  const axes = normalizeAxes(op, axis, t.ndim);
  const count = sizeOf(axes.map((a) => t.shape[a]!));
  if (!(count - correction > 0)) {
    throw new ArgumentError(`${op}: ${count} element(s) with correction ${correction} leave no degrees of freedom (shape ${formatShape(t.shape)})`);
  }
  return { axes, count };
}

/** The variance, with errors naming `op` (std's errors should say std, not var). */
function varianceAs(op: string, x: Tensor, axis: Axis, options: VarianceOptions): Tensor {
  checkOptions(op, options, VARIANCE_OPTIONS);
  const { keepdims = false, correction = 0 } = options;
  const t = expectTensor(op, 'input', x);
  const { axes, count } = varianceAxes(op, t, axis, correction);
  const centred = t.sub(mean(t, axes, true));
  return sum(centred.square(), axes, keepdims).div(count - correction);
}

/**
 * Sums `g` down to `shape`, undoing a broadcast: the adjoint of `expand`. Every VJP of a
 * broadcasting op ends with it.
 */
export const sumTo = primitive('sumTo', { kind: 'other', rule: 'sumTo' }, function (g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(sum(g, axes, true), shape);
});
