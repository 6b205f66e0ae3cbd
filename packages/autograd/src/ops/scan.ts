import { allocate, type FloatArray } from '../dtype.js';
import { normalizeAxis, sizeOf } from '../shape.js';
import { cumprodGrad, cumulativeArgExtremum, scanAxis, type ScanKind } from '../kernels/scan.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { forwardActive } from '../engine/forward.js';
import { constant, expectFloat, expectTensor, floatInput, makeOutput, type FloatTensor, type Tensor } from '../tensor.js';
import { eye, ones } from '../creation.js';
import { byZeros, sum } from './reduce.js';
import { movedim } from './rearrange.js';
import { triu } from './diagonal.js';
import { where } from './where.js';
import { gather } from './gather.js';
import { primitive } from '../engine/dispatch.js';

/** The running `kind` of x along `ax` (from the end when `reverse`), without graph. */
function scanData(op: string, kind: ScanKind, x: FloatTensor, ax: number, reverse: boolean): FloatArray {
  const n = x.ndim === 0 ? 1 : x.shape[ax]!;
  const out = allocate(x.dtype, x.size, op, x.shape);
  if (x.size > 0) scanAxis(kind, x.data, sizeOf(x.shape.slice(0, ax)), n, sizeOf(x.shape.slice(ax + 1)), reverse, out);
  return out;
}

/**
 * Running sum along `dim`, as `torch.cumsum`: out[i] = x[0] + ... + x[i]. Accumulates in float64
 * for either dtype. Its gradient is the running sum of the gradient from the end.
 * @throws ShapeError if `dim` is out of range.
 * @example cumsum(tensor([1, 2, 3]), 0) // [1, 3, 6]
 */
export const cumsum = primitive('cumsum', { kind: 'axis', axisArg: 1 }, function (input: Tensor, dim: number): Tensor {
  const x = floatInput('cumsum', 'input', input);
  return cumsumAlong(x, normalizeAxis('cumsum', dim, x.ndim), false);
});

/**
 * The running sum from the end along `dim`: cumsum's VJP, as cumsum is its own. A primitive, so that
 * a gradient of cumsum is an op a trace records (and differentiates again inside jit), never values
 * made outside ops. @internal
 */
export const cumsumReverse = primitive('cumsumReverse', { kind: 'axis', axisArg: 1 }, function (input: Tensor, dim: number): Tensor {
  const x = floatInput('cumsum', 'input', input);
  return cumsumAlong(x, normalizeAxis('cumsum', dim, x.ndim), true);
});

/** cumsum from the start, or from the end when `reverse` (each is the other's adjoint, through its primitive). */
function cumsumAlong(x: FloatTensor, ax: number, reverse: boolean): Tensor {
  const data = scanData('cumsum', 'sum', x, ax, reverse);
  const along = (t: Tensor, back: boolean): Tensor => (back ? cumsumReverse(t, ax) : cumsum(t, ax));
  return makeOutput(reverse ? 'cumsumReverse' : 'cumsum', data, x.shape, [x], (g) => [along(g, !reverse)], { saves: [[]], jvp: ([t]) => along(t!, reverse) });
}

/**
 * Running product along `dim`, as `torch.cumprod`: out[i] = x[0]·...·x[i]. Its gradient is exact
 * where x holds zeros (no division by x); a second derivative through zeros costs O(n²) per
 * line, as in PyTorch.
 * @throws ShapeError if `dim` is out of range.
 * @example cumprod(tensor([1, 2, 3]), 0) // [1, 2, 6]
 */
export const cumprod = primitive('cumprod', { kind: 'axis', axisArg: 1 }, function (input: Tensor, dim: number): Tensor {
  const x = floatInput('cumprod', 'input', input);
  const ax = normalizeAxis('cumprod', dim, x.ndim);
  const data = scanData('cumprod', 'prod', x, ax, false);
  return makeOutput('cumprod', data, x.shape, [x], (g, out) => [cumprodVjp(expectFloat('cumprod', g), x, out, ax)], {
    saves: [[0, 'output']],
    jvp: ([t], out) => cumprodJvp(t!, x, out, ax),
  });
});

/** Σ_{j≤i} ẋ_j Π_{m≤i, m≠j} x_m along `ax`: out·cumsum(ẋ/x) without zeros, else the VJP's triangle, transposed. */
function cumprodJvp(t: Tensor, x: FloatTensor, out: Tensor, ax: number): Tensor {
  const n = x.ndim === 0 ? 1 : x.shape[ax]!;
  if (n === 1) return t;
  return byZeros(x, (safe) => out.mul(cumsum(t.div(safe), ax)), () => {
    const { products, upper } = leaveOneOutProducts(x, ax, n);
    // Row j's running product at i ≥ j multiplies ẋ_j.
    const terms = where(upper, products.mul(movedim(t, ax, -1).unsqueeze(-1)), 0);
    return movedim(sum(terms, -2), -1, ax);
  });
}

/**
 * Row j of `products` (x moved to the last axis, [..., n, n]) is the running product of x with x_j
 * replaced by 1, so entry [j, i] is Π_{m≤i, m≠j} x_m; `upper` keeps i ≥ j. Differentiable, exact
 * through zeros: cumprod's JVP and VJP where x holds a zero.
 */
function leaveOneOutProducts(x: FloatTensor, ax: number, n: number): { products: Tensor; upper: Tensor } {
  const diagonal = eye(n, n, { dtype: x.dtype });
  const upper = triu(ones([n, n], { dtype: x.dtype }));
  return { products: cumprod(where(diagonal, 1, movedim(x, ax, -1).unsqueeze(-2)), -1), upper };
}

/** Σ_{j≥i} g_j Π_{m≤j, m≠i} x_m along `ax`. */
function cumprodVjp(g: FloatTensor, x: FloatTensor, out: Tensor, ax: number): Tensor {
  const n = x.ndim === 0 ? 1 : x.shape[ax]!;
  if (n === 1) return g; // out = x
  if (!isGradEnabled() && !forwardActive()) {
    // No graph to build and no tangent to carry: the O(n) kernel, exact through zeros.
    const data = allocate(x.dtype, x.size, 'cumprod', x.shape);
    if (x.size > 0) cumprodGrad(x.data, g.data, sizeOf(x.shape.slice(0, ax)), n, sizeOf(x.shape.slice(ax + 1)), data);
    return constant(data, x.shape);
  }
  return byZeros(x, (safe) => cumsumReverse(g.mul(out), ax).div(safe), () => {
    // Through zeros and differentiable again: entry [i, j ≥ i] is Π_{m≤j, m≠i} x_m, times g_j.
    const { products, upper } = leaveOneOutProducts(x, ax, n);
    const terms = where(upper, products.mul(movedim(g, ax, -1).unsqueeze(-2)), 0);
    return movedim(sum(terms, -1), -1, ax);
  });
}

/**
 * `log(Σ_{j≤i} e^{x_j})` along `dim`, computed stably (a running log-add-exp, never exponentiating
 * large values), as `torch.logcumsumexp`. Its gradient follows PyTorch's formula, which splits the
 * upstream gradient by sign so that it too stays in log space.
 * @throws ShapeError if `dim` is out of range.
 * @example logcumsumexp(tensor([0, 0]), 0) // [0, log 2]
 */
export const logcumsumexp = primitive('logcumsumexp', { kind: 'axis', axisArg: 1 }, function (input: Tensor, dim: number): Tensor {
  const x = floatInput('logcumsumexp', 'input', input);
  return logcumsumexpAlong(x, normalizeAxis('logcumsumexp', dim, x.ndim), false);
});

/**
 * `logcumsumexp` from the end along `dim`, the scan its VJP runs: a primitive, as `cumsumReverse`,
 * so that the gradient is made of ops a trace records. @internal
 */
export const logcumsumexpReverse = primitive('logcumsumexpReverse', { kind: 'axis', axisArg: 1 }, function (input: Tensor, dim: number): Tensor {
  const x = floatInput('logcumsumexp', 'input', input);
  return logcumsumexpAlong(x, normalizeAxis('logcumsumexp', dim, x.ndim), true);
});

function logcumsumexpAlong(x: FloatTensor, ax: number, reverse: boolean): Tensor {
  const data = scanData('logcumsumexp', 'logsumexp', x, ax, reverse);
  const along = (t: Tensor, back: boolean): Tensor => (back ? logcumsumexpReverse(t, ax) : logcumsumexp(t, ax));
  return makeOutput(reverse ? 'logcumsumexpReverse' : 'logcumsumexp', data, x.shape, [x], (g, out) => {
    // grad_i = Σ_j g_j e^{x_i - out_j} over the j whose sums hold x_i, as exp(x_i + lcse_j(log g_j - out_j)),
    // with positive and negative g apart; the most negative finite number stands for log 0.
    const lowest = x.dtype === 'float32' ? -3.4028234663852886e38 : -Number.MAX_VALUE;
    const logAbs = g.abs().log();
    const part = (sign: Tensor): Tensor => along(where(sign, logAbs, lowest).sub(out), !reverse).add(x).exp();
    return [part(g.gt(0)).sub(part(g.lt(0)))];
  }, {
    saves: [[0, 'output']],
    // ẏ_i = Σ_j ẋ_j e^{x_j - out_i} over the j summed into out_i: positive and negative ẋ apart, in log space as above.
    jvp: ([t], out) => {
      const lowest = x.dtype === 'float32' ? -3.4028234663852886e38 : -Number.MAX_VALUE;
      const logAbs = t!.abs().log();
      const part = (sign: Tensor): Tensor => along(where(sign, logAbs, lowest).add(x), reverse).sub(out).exp();
      return part(t!.gt(0)).sub(part(t!.lt(0)));
    },
  });
}

/** What `cummax` and `cummin` return, as PyTorch's (values, indices). */
export interface ValuesAndIndices {
  /** The running extremum, in the input's dtype; differentiable. */
  values: Tensor;
  /** Where along the axis each value came from: an int32 tensor of the input's shape. */
  indices: Tensor;
}

function cumulativeExtremum(op: 'cummax' | 'cummin', input: Tensor, dim: number): ValuesAndIndices {
  const x = expectTensor(op, 'input', input);
  const ax = normalizeAxis(op, dim, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[ax]!;
  const at = allocate('int32', x.size, op, x.shape);
  if (x.size > 0) cumulativeArgExtremum(x.data, sizeOf(x.shape.slice(0, ax)), n, sizeOf(x.shape.slice(ax + 1)), op === 'cummax', at);
  const indices = constant(at, x.shape);
  // The values are x gathered at those indices: the gradient goes to the element each came from.
  return { values: gather(x, ax, indices), indices };
}

/**
 * The running maximum along `dim` and where it came from, as `torch.cummax`: `values[i]` is the
 * largest of x[0..i] and `indices[i]` (int32) its position, the latest one among ties; NaN wins
 * once seen. The gradient of `values` goes to the element each value came from.
 * @throws ShapeError if `dim` is out of range.
 * @example cummax(tensor([1, 3, 2]), 0) // { values: [1, 3, 3], indices: [0, 1, 1] }
 */
export const cummax = primitive('cummax', { kind: 'axis', axisArg: 1 }, function (input: Tensor, dim: number): ValuesAndIndices {
  return cumulativeExtremum('cummax', input, dim);
});

/**
 * The running minimum along `dim` and where it came from, as `torch.cummin` (ties to the latest
 * position, NaN winning once seen).
 * @throws ShapeError if `dim` is out of range.
 * @example cummin(tensor([2, 3, 1]), 0) // { values: [2, 2, 1], indices: [0, 0, 2] }
 */
export const cummin = primitive('cummin', { kind: 'axis', axisArg: 1 }, function (input: Tensor, dim: number): ValuesAndIndices {
  return cumulativeExtremum('cummin', input, dim);
});
