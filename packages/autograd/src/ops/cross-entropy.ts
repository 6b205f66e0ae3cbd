import { allocate, type FloatArray } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { crossEntropyBackward, crossEntropyForward } from '../kernels/fused.js';
import { constant, expectFloat, floatInput, makeOutput, Tensor, type FloatTensor } from '../tensor.js';
import { checkSameDType } from './operands.js';
import { logSoftmax, softmax } from './softmax.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';
import { movedim } from './rearrange.js';
import { where } from './where.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const CROSS_ENTROPY_OPTIONS = ['reduction', 'weight', 'ignoreIndex', 'labelSmoothing'];

/** How `crossEntropy` combines the per-sample losses. */
export type CrossEntropyReduction = 'mean' | 'sum' | 'none';

/** Options of `crossEntropy`. */
export interface CrossEntropyOpOptions {
  /**
   * 'mean' (default), 'sum', or 'none' (the per-sample losses). For class indices the mean divides
   * by the summed weight of the targets not ignored (their count without `weight`), so NaN when
   * every target is ignored, as PyTorch; for probabilities it divides by the number of samples.
   */
  reduction?: CrossEntropyReduction;
  /**
   * Per-class weights [C] of the logits' dtype, scaling each class's term. A constant: PyTorch's
   * nll_loss is not differentiable in it, so a weight that requires grad is an error.
   */
  weight?: Tensor;
  /** Class-index targets equal to this contribute nothing and count in no mean (default -100). */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target distribution becomes (1 - ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy of logits [N, C] against class indices (N integers in [0, C): an int32
 * Tensor of shape [N], or an array) or target probabilities (a Tensor of shape [N, C]), in one op,
 * as `F.cross_entropy`. Logits may also be [C] (one sample: a 0-d index tensor, or probabilities
 * [C]) or [N, C, d1, ...] (classes on axis 1, indices [N, d1, ...] or probabilities of the
 * logits' shape, each position a sample; 'none' returns [N, d1, ...]):
 * `-Σ_c w_c·q_c · logSoftmax(logits)_c` per sample with q the (smoothed) target, computed stably
 * (logits of 1000 are fine). PyTorch's options: `weight`, `ignoreIndex`, `labelSmoothing`
 * (ignored targets count in neither the loss nor the mean's divisor; see `CrossEntropyOpOptions`).
 * Its VJP is (softmax·Σq - q)·g in one pass; probability targets that require grad get their
 * gradient through the smoothing and weighting, -w·logSoftmax·g times (1 - ε). Each is an op on
 * the fused kernel whose own VJP is in Tensor ops, so crossEntropy differentiates again to any order.
 * @throws ShapeError if the logits are 0-d, the target fits neither form, a class index is out of
 * [0, C) (and not `ignoreIndex`), or `weight` is not [C].
 * @throws ArgumentError for an unknown reduction, `labelSmoothing` outside [0, 1], a non-integer
 * `ignoreIndex`, an `ignoreIndex` ≥ 0 with probability targets (PyTorch refuses it too), or a
 * `weight` that requires grad.
 * @throws DTypeError if probability targets or `weight` differ from the logits in dtype, or class
 * indices are a float or bool tensor (PyTorch requires an integer tensor too).
 * @example crossEntropy(logits, [2, 0, 1]); crossEntropy(logits, labels, { weight, ignoreIndex: 0, labelSmoothing: 0.1 })
 */
export const crossEntropy = primitive('crossEntropy', { kind: 'other', rule: 'crossEntropy' }, function (logits: Tensor, target: Tensor | ArrayLike<number>, options: CrossEntropyOpOptions = {}): Tensor {
  checkOptions('crossEntropy', options, CROSS_ENTROPY_OPTIONS);
  const op = 'crossEntropy';
  const x = floatInput(op, 'logits', logits);
  const { reduction = 'mean', ignoreIndex = -100, labelSmoothing = 0 } = options;
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new ArgumentError(`${op}: labelSmoothing must be in [0, 1], got ${String(labelSmoothing)}`);
  }
  if (!Number.isInteger(ignoreIndex)) throw new ArgumentError(`${op}: ignoreIndex must be an integer, got ${String(ignoreIndex)}`);
  if (x.ndim === 1 || x.ndim > 2) return classAxisForm(x, target, options);
  if (x.ndim !== 2) throw new ShapeError(`${op}: logits must be [C], [N, C] or [N, C, d1, ...], got ${formatShape(x.shape)}`);
  const [rows, classes] = x.shape as [number, number];
  const weight = classWeights(op, options.weight, x);
  const probs = target instanceof Tensor && target.ndim === 2 ? floatInput(op, 'target', target) : null;
  if (probs !== null) {
    checkSameDType(op, x, probs);
    if (probs.shape[0] !== rows || probs.shape[1] !== classes) {
      throw new ShapeError(`${op}: target probabilities ${formatShape(probs.shape)} must have the logits' shape ${formatShape(x.shape)}`);
    }
    if (ignoreIndex >= 0) throw new ArgumentError(`${op}: ignoreIndex (${ignoreIndex}) applies to class indices only, not to probability targets ${formatShape(probs.shape)}`);
    // The smoothed, weighted target in Tensor ops, so that the probabilities' gradient flows through it.
    let q: Tensor = probs;
    if (labelSmoothing > 0) q = q.mul(1 - labelSmoothing).add(labelSmoothing / classes);
    if (weight !== null) q = q.mul(weight);
    return fused(x, null, q as FloatTensor, reduction, rows, null);
  }
  const labels = classLabels(op, target, rows, classes, x.shape, ignoreIndex);
  let ignored: Uint8Array | null = null;
  for (let r = 0; r < rows; r++) if (labels[r] === -1) (ignored ??= new Uint8Array(rows))[r] = 1;
  if (weight === null && labelSmoothing === 0 && ignored === null) return fused(x, labels, null, reduction, rows, null);
  // Weights, smoothing or ignored targets: per row the target distribution q with
  // q_c = (1 - ε)·w_y·[c = y] + (ε/C)·w_c (a zero row where ignored), and the mean's divisor Σ w_y.
  const w = weight === null ? null : weight.data;
  const q = allocate(x.dtype, x.size);
  let divisor = 0;
  for (let r = 0; r < rows; r++) {
    const y = labels[r]!;
    if (y < 0) continue;
    const wy = w === null ? 1 : w[y]!;
    divisor += wy;
    if (labelSmoothing > 0) for (let c = 0; c < classes; c++) q[r * classes + c] = (labelSmoothing / classes) * (w === null ? 1 : w[c]!);
    q[r * classes + y] = (1 - labelSmoothing) * wy + (labelSmoothing / classes) * wy;
  }
  return fused(x, null, constant(q, x.shape) as FloatTensor, reduction, divisor, ignored);
});

/** The class weights: a [C] tensor of the logits' dtype that does not require grad, or null. */
function classWeights(op: string, weight: unknown, x: FloatTensor): FloatTensor | null {
  if (weight === undefined) return null;
  const classes = x.shape[1]!;
  if (!(weight instanceof Tensor) || weight.ndim !== 1 || weight.shape[0] !== classes) {
    throw new ShapeError(`${op}: weight must be a Tensor of shape [${classes}] (one per class of logits ${formatShape(x.shape)}), got ${weight instanceof Tensor ? formatShape(weight.shape) : typeof weight}`);
  }
  if (weight.dtype !== x.dtype) throw new DTypeError(`${op}: weight is ${weight.dtype} but the logits ${formatShape(x.shape)} are ${x.dtype}; convert one with toDtype()`);
  if (weight.requiresGrad) throw new ArgumentError(`${op}: weight ${formatShape(weight.shape)} requires grad, but the loss is not differentiable in it (as PyTorch's nll_loss); pass weight.detach()`);
  return weight as FloatTensor;
}

/**
 * The fused op on [N, C] logits against labels or (unnormalised) target rows: per-row losses
 * -Σ_c q_c·logSoftmax(x)_c, reduced; a mean divides by `divisor`. Rows marked `ignored` have a
 * zero target and get no gradient at all.
 */
function fused(x: FloatTensor, labels: Int32Array | null, probs: FloatTensor | null, reduction: CrossEntropyReduction, divisor: number, ignored: Uint8Array | null): Tensor {
  const op = 'crossEntropy';
  const [rows, classes] = x.shape as [number, number];
  const stats = new Float64Array(2 * rows);
  const losses = new Float64Array(rows);
  crossEntropyForward(x.data, rows, classes, labels, probs === null ? null : probs.data, stats, losses);
  let data: FloatArray;
  if (reduction === 'none') {
    data = allocate(x.dtype, rows);
    data.set(losses);
  } else {
    let total = 0;
    for (let r = 0; r < rows; r++) total += losses[r]!;
    data = allocate(x.dtype, 1);
    data[0] = reduction === 'mean' ? total / divisor : total;
  }
  const inputs = probs === null ? [x] : [x, probs];
  const keep = ignored === null ? null : constant(Uint8Array.from(ignored, (v) => 1 - v), [rows, 1]);
  return makeOutput(op, data, reduction === 'none' ? [rows] : [], inputs, (g) => {
    const target: Target = { labels, probs, stats, reduction, divisor, ignored, keep };
    const dLogits = x.requiresGrad ? logitsGrad(x, g, target) : null;
    if (probs === null) return [dLogits];
    return [dLogits, probs.requiresGrad ? probsGrad(x, g, target) : null];
  }, {
    saves: probs === null ? [[0]] : [[0, 1], [0]],
    // Per row: Σ_j ẋ_j·(s_j·Σp - p_j) - Σ_j ṗ_j·logSoftmax(x)_j, then reduced as the losses are.
    jvp: ([tx, tp]) => {
      let perRow: Tensor | null = null;
      if (tx !== null && tx !== undefined) {
        const p = probs ?? constant(oneHot(labels!, rows, classes, x.dtype), x.shape);
        const s = softmax(x, 1);
        perRow = tx.mul(probs === null ? s.sub(p) : s.mul(sum(probs, 1, true)).sub(p)).sum(1);
      }
      if (tp !== null && tp !== undefined) {
        const term = tp.mul(logSoftmax(x, 1)).sum(1).neg();
        perRow = perRow === null ? term : perRow.add(term);
      }
      const rowsTangent = perRow!;
      return reduction === 'none' ? rowsTangent : reduction === 'sum' ? rowsTangent.sum() : rowsTangent.sum().div(divisor);
    },
  });
}

/**
 * F.cross_entropy's other layouts as the [N, C] form: unbatched logits [C] (one class index, a
 * 0-d tensor, or probabilities [C]) and logits [N, C, d1, ...] with the classes on axis 1
 * (indices [N, d1, ...], or probabilities of the logits' shape), each position a row. The mean
 * is over every position, as PyTorch's; 'none' gives the losses in the target's layout.
 */
function classAxisForm(x: FloatTensor, target: Tensor | ArrayLike<number>, options: CrossEntropyOpOptions): Tensor {
  const op = 'crossEntropy';
  const classes = x.ndim === 1 ? x.shape[0]! : x.shape[1]!;
  const positions = x.ndim === 1 ? [] : [x.shape[0]!, ...x.shape.slice(2)];
  const rows = (t: Tensor): Tensor => (x.ndim === 1 ? reshape(t, [1, classes]) : reshape(movedim(t, 1, -1), [-1, classes]));
  let flatTarget: Tensor | ArrayLike<number>;
  if (target instanceof Tensor && target.ndim === x.ndim) {
    if (target.shape.some((d, i) => d !== x.shape[i])) {
      throw new ShapeError(`${op}: target probabilities ${formatShape(target.shape)} must have the logits' shape ${formatShape(x.shape)}`);
    }
    flatTarget = rows(target);
  } else if (target instanceof Tensor) {
    if (target.ndim !== positions.length || target.shape.some((d, i) => d !== positions[i])) {
      throw new ShapeError(`${op}: target must be class indices of shape ${formatShape(positions)} or probabilities of shape ${formatShape(x.shape)} for logits ${formatShape(x.shape)}, got ${formatShape(target.shape)}`);
    }
    flatTarget = reshape(target, [-1]);
  } else {
    flatTarget = target;
  }
  const out = crossEntropy(rows(x), flatTarget, options);
  return options.reduction === 'none' ? reshape(out, positions) : out;
}

/** What the gradient ops need of the forward: the target and each row's shift and log-sum. */
interface Target {
  labels: Int32Array | null;
  probs: FloatTensor | null;
  stats: Float64Array;
  reduction: CrossEntropyReduction;
  /** What a mean divides by: N, or the summed weight of the targets not ignored. */
  divisor: number;
  /** Rows whose target was ignored (scale 0), and their complement as a [N, 1] mask; null for none. */
  ignored: Uint8Array | null;
  keep: Tensor | null;
}

/** Each row's loss gradient from the output gradient g: g for a sum, g/divisor for a mean, g[r] for unreduced losses; 0 where ignored. */
function rowScale(g: Tensor, rows: number, t: Target): Float64Array {
  const scale = new Float64Array(rows);
  const gd = expectFloat('crossEntropy', g).data;
  if (t.reduction === 'none') scale.set(gd);
  else scale.fill(t.reduction === 'mean' ? gd[0]! / t.divisor : gd[0]!);
  if (t.ignored !== null) for (let r = 0; r < rows; r++) if (t.ignored[r] === 1) scale[r] = 0;
  return scale;
}

/** The same per-row scale in Tensor ops ([N, 1], or 0-d), for the gradient ops' own VJPs. */
function scaleTensor(g: Tensor, rows: number, t: Target): Tensor {
  const c = t.reduction === 'none' ? reshape(g, [rows, 1]) : t.reduction === 'mean' ? g.div(t.divisor) : g;
  return t.keep === null ? c : where(t.keep, c, 0);
}

/** The adjoint of scaleTensor: a gradient dc [N, 1] of the row scales as a gradient of g. */
function scaleAdjoint(dc: Tensor, rows: number, t: Target): Tensor {
  const kept = t.keep === null ? dc : where(t.keep, dc, 0);
  return t.reduction === 'none' ? reshape(kept, [rows]) : t.reduction === 'mean' ? kept.sum().div(t.divisor) : kept.sum();
}

/**
 * dLogits = c·(softmax(x)·Σp - p) per row (c the row's scale, p the target row: one-hot for
 * labels), in one pass of the fused kernel. An op of its own, so that the VJP of crossEntropy is
 * fast and still differentiable: its VJP below is that expression's derivative in Tensor ops.
 */
function logitsGrad(x: FloatTensor, g: Tensor, t: Target): Tensor {
  const [rows, classes] = x.shape as [number, number];
  const dx = allocate(x.dtype, x.size);
  crossEntropyBackward(x.data, rows, classes, t.labels, t.probs === null ? null : t.probs.data, t.stats, rowScale(g, rows, t), dx, null);
  const inputs = t.probs === null ? [x, g] : [x, g, t.probs];
  return makeOutput('crossEntropyGrad', dx, x.shape, inputs, (u) => {
    const s = softmax(x, 1);
    const c = scaleTensor(g, rows, t);
    const p = t.probs ?? constant(oneHot(t.labels!, rows, classes, x.dtype), x.shape);
    const total = t.probs === null ? null : sum(t.probs, 1, true);
    const us = u.mul(s).sum(1, true);
    // d/dx: c·Σp·s ⊙ (u - Σ_j u_j s_j), softmax's Jacobian applied to u.
    const dx2 = x.requiresGrad ? s.mul(u.sub(us)).mul(total === null ? c : c.mul(total)) : null;
    const dg = g.requiresGrad ? scaleAdjoint(u.mul((total === null ? s : s.mul(total)).sub(p)).sum(1, true), rows, t) : null;
    if (t.probs === null) return [dx2, dg];
    // d/dp_k: c·(Σ_j u_j s_j - u_k).
    return [dx2, dg, t.probs.requiresGrad ? us.sub(u).mul(c) : null];
    // Every gradient here reads x, g and the target probabilities.
  }, {
    saves: t.probs === null ? [[0, 1], [0, 1]] : [[0, 1, 2], [0, 1, 2], [0, 1, 2]],
    // d[c·(s·Σp - p)] = ċ·(s·Σp - p) + c·(Σp·ṡ + s·Σṗ - ṗ), with ṡ = s ⊙ (ẋ - Σ_j s_j ẋ_j).
    jvp: ([tx, tg, tp]) => {
      const s = softmax(x, 1);
      const c = scaleTensor(g, rows, t);
      const total = t.probs === null ? null : sum(t.probs, 1, true);
      const terms: Tensor[] = [];
      if (tg !== null && tg !== undefined) {
        const p = t.probs ?? constant(oneHot(t.labels!, rows, classes, x.dtype), x.shape);
        terms.push(scaleTensor(tg, rows, t).mul((total === null ? s : s.mul(total)).sub(p)));
      }
      if (tx !== null && tx !== undefined) {
        const ds = s.mul(tx.sub(tx.mul(s).sum(1, true)));
        terms.push(c.mul(total === null ? ds : ds.mul(total)));
      }
      if (tp !== null && tp !== undefined) terms.push(c.mul(s.mul(tp.sum(1, true)).sub(tp)));
      return terms.reduce((a, b) => a.add(b));
    },
  });
}

/**
 * dTarget = -c·logSoftmax(x) per row, for probability targets that require grad, from the fused
 * kernel; its VJP is that expression's derivative in Tensor ops.
 */
function probsGrad(x: FloatTensor, g: Tensor, t: Target): Tensor {
  const [rows, classes] = x.shape as [number, number];
  const dp = allocate(x.dtype, x.size);
  // The kernel fills the logits' gradient in the same pass; here it is scratch.
  const scratch = allocate(x.dtype, x.size);
  crossEntropyBackward(x.data, rows, classes, null, t.probs!.data, t.stats, rowScale(g, rows, t), scratch, dp);
  return makeOutput('crossEntropyTargetGrad', dp, x.shape, [x, g], (u) => {
    const c = scaleTensor(g, rows, t);
    // d/dx: -c·(u - softmax(x)·Σ_j u_j); d/dc: -Σ_j u_j·logSoftmax(x)_j.
    return [
      x.requiresGrad ? softmax(x, 1).mul(u.sum(1, true)).sub(u).mul(c) : null,
      g.requiresGrad ? scaleAdjoint(u.mul(logSoftmax(x, 1)).sum(1, true).neg(), rows, t) : null,
    ];
  }, {
    saves: [[0, 1], [0]],
    // d[-c·logSoftmax(x)] = -ċ·logSoftmax(x) - c·(ẋ - Σ_j s_j ẋ_j).
    jvp: ([tx, tg]) => {
      const terms: Tensor[] = [];
      if (tg !== null && tg !== undefined) terms.push(scaleTensor(tg, rows, t).mul(logSoftmax(x, 1)).neg());
      if (tx !== null && tx !== undefined) {
        const c = scaleTensor(g, rows, t);
        terms.push(c.mul(tx.sub(tx.mul(softmax(x, 1)).sum(1, true))).neg());
      }
      return terms.reduce((a, b) => a.add(b));
    },
  });
}

/** One-hot rows of class labels. */
function oneHot(labels: Int32Array, rows: number, classes: number, dtype: FloatTensor['dtype']): FloatArray {
  const out = allocate(dtype, rows * classes);
  for (let r = 0; r < rows; r++) out[r * classes + labels[r]!] = 1;
  return out;
}

/** Class labels from a [N] tensor or an array, each an integer in [0, C) or `ignoreIndex` (-1 in the result). */
function classLabels(op: string, target: Tensor | ArrayLike<number>, rows: number, classes: number, shape: readonly number[], ignoreIndex: number): Int32Array {
  const isTensor = target instanceof Tensor;
  if (isTensor ? target.ndim !== 1 || target.shape[0] !== rows : typeof target?.length !== 'number' || target.length !== rows) {
    const got = isTensor ? formatShape(target.shape) : typeof target?.length === 'number' ? `${target.length} labels` : String(target);
    throw new ShapeError(`${op}: target must be ${rows} class indices (shape [${rows}]) or probabilities of shape ${formatShape(shape)}, got ${got}`);
  }
  if (isTensor && target.dtype !== 'int32') {
    throw new DTypeError(
      `${op}: class indices must be an int32 tensor (or an array of integers), got ${target.dtype} of shape ${formatShape(target.shape)}; a float target is read as probabilities, of the logits' shape ${formatShape(shape)}`,
    );
  }
  const values: ArrayLike<number> = isTensor ? target.data : target;
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const v = values[r]!;
    if (v === ignoreIndex) {
      labels[r] = -1;
      continue;
    }
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new ShapeError(`${op}: target class ${v} at position ${r} is out of range [0, ${classes}) for logits ${formatShape(shape)}`);
    }
    labels[r] = v;
  }
  return labels;
}
