import { allocate, allocateUnset, type FloatArray } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, sizeOf } from '../shape.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { forwardActive } from '../engine/forward.js';
import { opsRunEagerly, primitive } from '../engine/dispatch.js';
import { layerNormBackward, layerNormForward } from '../kernels/layer-norm.js';
import { constant, expectFloat, floatInput, makeOutput, type FloatTensor, type SavedRef, type Tensor } from '../tensor.js';
import { checkSameDType } from './operands.js';

/**
 * Layer normalisation, as PyTorch's `F.layer_norm`: over the trailing axes `normalizedShape`,
 * y = (x - mean) / √(var + eps) · weight + bias, the variance biased (divided by the count);
 * weight and bias (each `normalizedShape`, or null) are optional. One pass of a fused kernel per
 * row forward, and backward too when no graph is being built; under `createGraph`, forward mode
 * or a transform the gradient is the same formula in Tensor ops, so it differentiates again.
 * @throws ShapeError if the input's shape does not end in `normalizedShape`, or weight or bias is not that shape.
 * @throws ArgumentError if `normalizedShape` is not non-negative integers or eps is negative or NaN.
 * @throws DTypeError if the dtypes differ.
 * @example layerNorm(x, [128], weight, bias) // x [batch, seq, 128]
 */
export const layerNorm = primitive('layerNorm', { kind: 'other', rule: 'layerNorm' }, function (
  input: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5,
): Tensor {
  const x = floatInput('layerNorm', 'input', input);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : Array.isArray(normalizedShape) ? [...(normalizedShape as number[])] : null;
  if (shape === null || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError(`layerNorm: normalizedShape must be non-negative integers, got ${JSON.stringify(normalizedShape)}`);
  }
  if (typeof eps !== 'number' || !(eps >= 0)) throw new ArgumentError(`layerNorm: eps must be a number >= 0, got ${String(eps)}`);
  const k = shape.length;
  if (x.ndim < k || x.shape.slice(x.ndim - k).some((d, i) => d !== shape[i])) {
    throw new ShapeError(`layerNorm: input of shape ${formatShape(x.shape)} must end in normalizedShape ${formatShape(shape)}`);
  }
  const w = weight === null ? null : floatInput('layerNorm', 'weight', weight);
  const b = bias === null ? null : floatInput('layerNorm', 'bias', bias);
  for (const [name, t] of [['weight', w], ['bias', b]] as const) {
    if (t !== null && (t.ndim !== k || t.shape.some((d, i) => d !== shape[i]))) {
      throw new ShapeError(`layerNorm: ${name} must have normalizedShape ${formatShape(shape)}, got ${formatShape(t.shape)} (input ${formatShape(x.shape)})`);
    }
  }
  checkSameDType('layerNorm', ...[x, w, b].filter((t): t is FloatTensor => t !== null));
  const axes = Array.from({ length: k }, (_, i) => i - k);
  const d = sizeOf(shape);
  const rows = d === 0 ? 0 : x.size / d;
  const y = allocateUnset(x.dtype, x.size, 'layerNorm', x.shape);
  const stats = new Float64Array(2 * rows);
  layerNormForward(x.data, rows, d, eps, w === null ? null : w.data, b === null ? null : b.data, y, stats);
  const inputs: Tensor[] = [x];
  // x's gradient reads x and the weight; the weight's reads x; the bias's nothing.
  const saves: SavedRef[][] = [w === null ? [0] : [0, 1]];
  if (w !== null) {
    inputs.push(w);
    saves.push([0]);
  }
  if (b !== null) {
    inputs.push(b);
    saves.push([]);
  }
  return makeOutput('layerNorm', y, x.shape, inputs, (g) => {
    let grads: (Tensor | null)[];
    if (opsRunEagerly() && !isGradEnabled() && !forwardActive()) {
      // No graph to build, no tangent to carry, no transform but jit's recording to see the ops: the fused kernel.
      const dx = x.requiresGrad ? allocateUnset(x.dtype, x.size) : null;
      const dw = w !== null && w.requiresGrad ? new Float64Array(d) : null;
      const db = b !== null && b.requiresGrad ? new Float64Array(d) : null;
      layerNormBackward(x.data, expectFloat('layerNorm', g).data, rows, d, w === null ? null : w.data, stats, dx, dw, db);
      const rounded = (sums: Float64Array | null): Tensor | null => {
        if (sums === null) return null;
        const out: FloatArray = allocate(x.dtype, d);
        out.set(sums);
        return constant(out, shape);
      };
      grads = [dx === null ? null : constant(dx, x.shape), rounded(dw), rounded(db)];
    } else {
      const { xhat, rstd } = normalized(x, axes, eps);
      grads = [
        x.requiresGrad ? normalizedVjp(w === null ? g : g.mul(w), xhat, rstd, axes) : null,
        // At the output's shape: the engine sums them back to normalizedShape.
        w !== null && w.requiresGrad ? g.mul(xhat) : null,
        b !== null && b.requiresGrad ? g : null,
      ];
    }
    return w === null ? [grads[0]!, ...(b === null ? [] : [grads[2]!])] : b === null ? grads.slice(0, 2) : grads;
  }, {
    saves,
    // ẏ = x̂'(ẋ)·w + x̂·ẇ + ḃ, with x̂' the normalisation's Jacobian (symmetric: its VJP's formula).
    jvp: (tangents) => {
      const [tx = null, tw = null, tb = null] = w === null ? [tangents[0], null, tangents[1]] : tangents;
      const { xhat, rstd } = normalized(x, axes, eps);
      const terms: Tensor[] = [];
      if (tx !== null) terms.push(w === null ? normalizedVjp(tx, xhat, rstd, axes) : normalizedVjp(tx, xhat, rstd, axes).mul(w));
      if (tw !== null) terms.push(xhat.mul(tw));
      if (tb !== null) terms.push(tb.expand(x.shape));
      return terms.length === 0 ? null : terms.reduce((a, t) => a.add(t));
    },
  });
});

/** x̂ = (x - mean)·r and r = 1/√(var + eps) over `axes` (kept), in Tensor ops. */
function normalized(x: Tensor, axes: number[], eps: number): { xhat: Tensor; rstd: Tensor } {
  const centred = x.sub(x.mean(axes, true));
  const rstd = centred.square().mean(axes, true).add(eps).sqrt().reciprocal();
  return { xhat: centred.mul(rstd), rstd };
}

/** r·(u - mean(u) - x̂·mean(u⊙x̂)): the normalisation's VJP (and JVP) applied to u, in Tensor ops. */
function normalizedVjp(u: Tensor, xhat: Tensor, rstd: Tensor, axes: number[]): Tensor {
  return rstd.mul(u.sub(u.mean(axes, true)).sub(xhat.mul(u.mul(xhat).mean(axes, true))));
}

/**
 * layerNorm in Tensor ops (`axes` negative, the trailing ones): what vmap runs when the weight or
 * bias is batched, each op batched by its own rule.
 */
export function layerNormComposed(x: Tensor, axes: number[], weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  let y = normalized(x, axes, eps).xhat;
  if (weight !== null) y = y.mul(weight);
  if (bias !== null) y = y.add(bias);
  return y;
}
