import { allocateUnset } from '../dtype.js';
import { expectFloat, floatInput, makeOutput, type Tensor } from '../tensor.js';
import { normalizeAxis, sizeOf, type Shape } from '../shape.js';
import { softmaxBackward, softmaxForward } from '../kernels/softmax.js';
import { stableShift, sum } from './reduce.js';
import { primitive } from '../engine/dispatch.js';

/**
 * Log-softmax along `axis`: (x - max) - log Σ exp(x - max), stable for logits like 1000 and 1001.
 * @throws ShapeError if `axis` is out of range.
 * @example logSoftmax(logits, 1)
 */
export const logSoftmax = primitive('logSoftmax', { kind: 'axis', axisArg: 1, absent: -1 }, function (x: Tensor, axis = -1): Tensor {
  const t = floatInput('logSoftmax', 'input', x);
  const ax = normalizeAxis('logSoftmax', axis, t.ndim);
  // NOTE: not x - logsumexp(x): that rounds logsumexp at the logits' magnitude, 3e-5 off near
  // 1000 in float32. Shifting first, as PyTorch does, leaves only small numbers to round.
  const shifted = t.sub(stableShift(t, [ax]));
  return shifted.sub(sum(shifted.exp(), ax, true).log());
});

/**
 * Softmax along `axis`: exp(x - max) / Σ exp(x - max), so it never overflows. One pass of a
 * fused kernel per slice; its VJP y ⊙ (g - Σ g ⊙ y) is one op too (`softmaxGrad`), whose own
 * VJP is written in Tensor ops, so the gradient differentiates again. A slice of -Infinity only
 * gives NaN, as PyTorch's.
 * @throws ShapeError if `axis` is out of range.
 * @example softmax(logits, -1)
 */
export const softmax = primitive('softmax', { kind: 'axis', axisArg: 1, absent: -1 }, function (x: Tensor, axis = -1): Tensor {
  return softmaxAs('softmax', x, axis, false);
});

/**
 * `softmax`, except that a slice whose every value is -Infinity gives 0s (and a zero gradient)
 * instead of NaN: PyTorch's `_safe_softmax`, what attention applies to fully masked rows.
 */
export const safeSoftmax = primitive('safeSoftmax', { kind: 'axis', axisArg: 1, absent: -1 }, function (x: Tensor, axis = -1): Tensor {
  return softmaxAs('safeSoftmax', x, axis, true);
});

/** [outer, n, inner]: the sizes before, along and after `axis`. */
function around(shape: Shape, axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

function softmaxAs(op: string, x: Tensor, axis: number, safe: boolean): Tensor {
  const t = floatInput(op, 'input', x);
  const ax = normalizeAxis(op, axis, t.ndim);
  const [outer, n, inner] = around(t.shape, ax);
  const out = allocateUnset(t.dtype, t.size, op, t.shape);
  softmaxForward(t.data, outer, n, inner, safe, out);
  // The Jacobian diag(y) - y·yᵀ is symmetric: the JVP is the VJP applied to the tangent.
  return makeOutput(op, out, t.shape, [t], (g, y) => [softmaxGrad(g, y, ax)], { saves: [['output']], jvp: ([tx], y) => softmaxGrad(tx!, y, ax) });
}

/**
 * y ⊙ (g - Σ_axis g ⊙ y): softmax's VJP from its output y (g and y of one shape, axis
 * non-negative), in one pass of the fused kernel. A primitive, so transforms see it inside
 * softmax's VJP; its own VJP and JVP are Tensor ops: for a cotangent u, ∂/∂g = softmaxGrad(u, y)
 * and ∂/∂y = u ⊙ (g - Σ g ⊙ y) - g ⊙ Σ u ⊙ y.
 */
export const softmaxGrad = primitive('softmaxGrad', { kind: 'other', rule: 'softmaxGrad' }, function (g: Tensor, y: Tensor, axis: number): Tensor {
  const gf = expectFloat('softmaxGrad', g);
  const yf = expectFloat('softmaxGrad', y);
  const [outer, n, inner] = around(y.shape, axis);
  const out = allocateUnset(yf.dtype, y.size, 'softmaxGrad', y.shape);
  softmaxBackward(gf.data, yf.data, outer, n, inner, out);
  return makeOutput('softmaxGrad', out, y.shape, [g, y], (u) => [
    g.requiresGrad ? softmaxGrad(u, y, axis) : null,
    y.requiresGrad ? u.mul(g.sub(sum(g.mul(y), axis, true))).sub(g.mul(sum(u.mul(y), axis, true))) : null,
  ], {
    saves: [[1], [0, 1]],
    jvp: ([tg, ty]) => {
      const dg = tg === null || tg === undefined ? null : softmaxGrad(tg, y, axis);
      if (ty === null || ty === undefined) return dg;
      const dy = ty.mul(g.sub(sum(g.mul(y), axis, true))).sub(y.mul(sum(g.mul(ty), axis, true)));
      return dg === null ? dy : dg.add(dy);
    },
  });
});
