import { allocate } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, shapesEqual } from '../shape.js';
import { constant, expectTensor, floatInput, isFloat, type Tensor } from '../tensor.js';
import { headMatmul, PACKED_A, PACKED_B, PACKED_OUT } from './heads.js';
import { matmulT } from './matmul.js';
import { checkSameDType } from './operands.js';
import { untaint } from '../engine/trace-access.js';
import { dropout, type SampleOptions } from './sampling.js';
import { safeSoftmax } from './softmax.js';
import { where } from './where.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const ATTENTION_OPTIONS = ['mask', 'isCausal', 'dropout', 'scale', 'heads', 'seed', 'generator'];

/**
 * Options of `scaledDotProductAttention` and `attentionWeights`. The random source (`generator`
 * or `seed`) is used only when `dropout` > 0, as the functional `dropout` uses it.
 */
export interface AttentionOptions extends SampleOptions {
  /**
   * Broadcasts to the scores' shape [..., Lq, Lk]. A bool mask keeps the places where it is
   * true (false ones get -Infinity); a float mask (of the query's dtype) is added to the scores.
   */
  mask?: Tensor;
  /** Each query i attends to keys j ≤ i only (a lower-triangular mask aligned at the top left). Not with `mask`. */
  isCausal?: boolean;
  /** Probability of dropping each attention weight, in [0, 1] (default 0: no dropout, no draws). */
  dropout?: number;
  /** Factor on q·kᵀ (default 1/√E, E the query's last dimension, per head with `heads`). */
  scale?: number;
  /**
   * The number of heads packed side by side in the last axis of q, k and v, as a projection
   * makes them: q [..., Lq, heads·E], k [..., Lk, heads·E], v [..., Lk, heads·Ev] stand for
   * [..., heads, L, E] (head h is the h-th block of E features), the result is packed likewise
   * ([..., Lq, heads·Ev]) and the weights are [..., heads, Lq, Lk]. The same values as splitting
   * the heads out (`reshape` then `transpose`) and merging the result back, without those copies.
   * Default: none (q, k, v are [..., L, E], the heads, if any, on an axis of their own).
   */
  heads?: number;
}

const OP = 'scaledDotProductAttention';

/**
 * The attention weights softmax(q·kᵀ·scale + mask) of `scaledDotProductAttention`, dropout
 * included: q is [..., Lq, E] and k is [..., Lk, E] (leading axes broadcast), the result
 * [..., Lq, Lk]. A row whose scores are all -Infinity (every key masked) has weights 0, not
 * NaN, as PyTorch's attention does from 2.5 on; its gradient is 0 too.
 * @throws ShapeError if q or k has fewer than 2 axes, their last axes differ, their leading axes
 * do not broadcast, or the mask does not broadcast to the scores' shape.
 * @throws DTypeError if the dtypes differ or the mask is neither bool nor the query's float dtype.
 * @throws ArgumentError for both `mask` and `isCausal`, a dropout probability outside [0, 1] or a NaN scale.
 * @example attentionWeights(q, k, { isCausal: true }) // [..., Lq, Lk], rows summing to 1
 */
export function attentionWeights(query: Tensor, key: Tensor, options: AttentionOptions = {}): Tensor {
  return weightsOf('attentionWeights', query, key, options);
}

/**
 * Scaled dot-product attention, as PyTorch 2.x's `F.scaled_dot_product_attention`:
 * softmax(q·kᵀ·scale + mask)·v, with q [..., Lq, E], k [..., Lk, E] and v [..., Lk, Ev] giving
 * [..., Lq, Ev]. Leading axes (batch, heads) broadcast. A bool `mask` keeps where true, a float
 * one is added; `isCausal` keeps keys j ≤ i (top-left aligned when Lq ≠ Lk). The softmax is the
 * stable one; a fully masked query row gives 0 (PyTorch ≥ 2.5; earlier versions give NaN).
 * `dropout` drops attention weights with the given probability, drawing from `generator` or
 * `seed` (it always applies when > 0: pass 0 outside training, as PyTorch's functional form).
 * With `heads`, q, k, v and the result hold their heads packed in the last axis (see
 * `AttentionOptions.heads`). Composed of differentiable ops, so its gradient differentiates again.
 * @throws ShapeError if an operand has fewer than 2 axes, q and k differ in their last axis, k
 * and v in their key axis, the leading axes do not broadcast, or the mask does not broadcast to
 * [..., Lq, Lk]. DTypeError if the dtypes differ or the mask is neither bool nor the query's
 * float dtype. ArgumentError for both `mask` and `isCausal`, dropout outside [0, 1], a NaN scale,
 * or `heads` not a positive integer; ShapeError if a last axis does not split into the heads.
 * @example scaledDotProductAttention(q, k, v, { isCausal: true }) // q, k, v: [batch, heads, L, E]
 * @example scaledDotProductAttention(q, k, v, { heads: 4 }) // q, k, v: [batch, L, 4·E] -> [batch, L, 4·Ev]
 */
export function scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, options: AttentionOptions = {}): Tensor {
  const v = floatInput(OP, 'value', value);
  const weights = weightsOf(OP, query, key, options, v);
  const { heads } = options;
  return heads === undefined ? matmulT(weights, v, false, false) : headMatmul(weights, v, false, false, heads, PACKED_B | PACKED_OUT);
}

function weightsOf(op: string, query: Tensor, key: Tensor, options: AttentionOptions, value?: Tensor): Tensor {
  checkOptions(op, options, ATTENTION_OPTIONS);
  const q = floatInput(op, 'query', query);
  const k = floatInput(op, 'key', key);
  checkSameDType(op, ...(value === undefined ? [q, k] : [q, k, value]));
  const shapes = () => `query ${formatShape(q.shape)}, key ${formatShape(k.shape)}${value === undefined ? '' : `, value ${formatShape(value.shape)}`}`;
  for (const [name, t] of [['query', q], ['key', k], ['value', value]] as const) {
    if (t !== undefined && t.ndim < 2) throw new ShapeError(`${op}: ${name} needs at least 2 axes ([..., L, E]); got ${shapes()}`);
  }
  const { heads } = options;
  if (heads !== undefined && !(Number.isInteger(heads) && heads >= 1)) throw new ArgumentError(`${op}: heads must be a positive integer, got ${String(heads)}`);
  for (const [name, t] of [['query', q], ['key', k], ['value', value]] as const) {
    if (t !== undefined && heads !== undefined && t.shape[t.ndim - 1]! % heads !== 0) {
      throw new ShapeError(`${op}: the last axis of ${name} does not split into ${heads} heads; got ${shapes()}`);
    }
  }
  const e = q.shape[q.ndim - 1]! / (heads ?? 1), lq = q.shape[q.ndim - 2]!, lk = k.shape[k.ndim - 2]!;
  if (k.shape[k.ndim - 1] !== q.shape[q.ndim - 1]) throw new ShapeError(`${op}: query and key differ in their last axis (${e} != ${k.shape[k.ndim - 1]}); got ${shapes()}`);
  if (value !== undefined && value.shape[value.ndim - 2] !== lk) {
    throw new ShapeError(`${op}: key and value differ in their sequence axis (${lk} != ${value.shape[value.ndim - 2]}); got ${shapes()}`);
  }
  let batch: number[];
  try {
    batch = broadcastShapes(op, q.shape.slice(0, -2), k.shape.slice(0, -2));
    if (value !== undefined) batch = broadcastShapes(op, batch, value.shape.slice(0, -2));
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new ShapeError(`${op}: the leading axes do not broadcast; got ${shapes()}`);
  }
  const { mask, isCausal = false, dropout: p = 0, scale = 1 / Math.sqrt(e) } = options;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ArgumentError(`${op}: dropout must be a probability in [0, 1], got ${String(p)}`);
  if (typeof scale !== 'number' || Number.isNaN(scale)) throw new ArgumentError(`${op}: scale must be a number, got ${String(scale)}`);
  if (mask !== undefined && isCausal) throw new ArgumentError(`${op}: pass either mask or isCausal, not both (fold the causal mask into yours)`);
  const scoresShape = heads === undefined ? [...batch, lq, lk] : [...batch, heads, lq, lk];
  if (mask !== undefined) checkMask(op, mask, q, scoresShape, shapes);

  let scores = heads === undefined ? matmulT(q.mul(scale), k, false, true) : headMatmul(q.mul(scale), k, false, true, heads, PACKED_A | PACKED_B);
  if (isCausal) scores = where(causalMask(lq, lk), scores, -Infinity);
  else if (mask !== undefined) scores = mask.dtype === 'bool' ? where(mask, scores, -Infinity) : scores.add(mask);
  // NOTE: a row of -Infinity makes softmax 0/0. As PyTorch's _safe_softmax, such a row gets
  // weight 0, and so a zero gradient, never NaN.
  let weights = safeSoftmax(scores, -1);
  if (p > 0) {
    const sample = options.generator !== undefined ? { generator: options.generator } : options.seed !== undefined ? { seed: options.seed } : {};
    weights = dropout(weights, p, sample);
  }
  return weights;
}

/** Bool mask or the query's float dtype, broadcasting to the scores without enlarging them. */
function checkMask(op: string, mask: unknown, q: Tensor, scoresShape: number[], shapes: () => string): void {
  const m = expectTensor(op, 'mask', mask);
  if (m.dtype !== 'bool' && (!isFloat(m) || m.dtype !== q.dtype)) {
    throw new DTypeError(`${op}: mask must be bool (keep where true) or ${q.dtype} (added to the scores) as the query, got ${m.dtype} of shape ${formatShape(m.shape)}`);
  }
  let joint: number[] | undefined;
  try {
    joint = broadcastShapes(op, m.shape, scoresShape);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
  }
  if (joint === undefined || !shapesEqual(joint, scoresShape)) {
    throw new ShapeError(`${op}: mask of shape ${formatShape(m.shape)} does not broadcast to the attention scores [..., Lq, Lk] = ${formatShape(scoresShape)}; got ${shapes()}`);
  }
}

/**
 * Keep key j for query i where j ≤ i: torch.ones(Lq, Lk).tril(), PyTorch's causal mask. Made from
 * the shapes alone, so a jit program holds it as a constant valid for every call (`untaint`).
 */
function causalMask(lq: number, lk: number): Tensor {
  const data = allocate('bool', lq * lk);
  for (let i = 0; i < lq; i++) for (let j = 0; j <= i && j < lk; j++) data[i * lk + j] = 1;
  return untaint(constant(data, [lq, lk]));
}
