import { ArgumentError, crossEntropy, DTypeError, ShapeError, Tensor } from '@chainrule/autograd';
import { formatShape, sameShape } from '../format.js';
import { checkPair, reduce, type Reduction } from './reduction.js';

/** Class indices: a Tensor holding integers, or a plain array (of shape [N]). */
export type ClassTarget = Tensor | ArrayLike<number>;

/** Options of `nllLoss`. */
export interface NLLOptions {
  /** 'mean' (default: divided by the total weight of the non-ignored targets), 'sum' or 'none'. */
  reduction?: Reduction;
  /** Targets equal to this contribute nothing (default -100, as PyTorch). */
  ignoreIndex?: number;
  /** Per-class weights of shape [C], taken as constants. */
  weight?: Tensor;
}

/** Options of `crossEntropyLoss`. */
export interface CrossEntropyOptions extends NLLOptions {
  /** Mixes the target with the uniform distribution: (1 - ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/** Scores as [M, C] rows (classes last) and the shape the per-sample losses take. */
interface Rows {
  rows: Tensor;
  classes: number;
  sampleShape: number[];
}

/**
 * [N, C, d1..dk] -> [N·d1···dk, C], so every loss below works on rows; one unbatched sample [C]
 * is one row whose per-sample loss is a scalar, as PyTorch's.
 */
function toRows(op: string, input: Tensor): Rows {
  if (!(input instanceof Tensor)) throw new ArgumentError(`${op}: input must be a Tensor`);
  if (input.ndim < 1) {
    throw new ShapeError(`${op}: input must be [C], [N, C] or [N, C, d1, ...], got ${formatShape(input.shape)}`);
  }
  if (input.ndim === 1) return { rows: input.reshape(1, input.shape[0]!), classes: input.shape[0]!, sampleShape: [] };
  const classes = input.shape[1]!;
  const sampleShape = [input.shape[0]!, ...input.shape.slice(2)];
  const moved = input.ndim === 2 ? input : input.permute([0, ...input.shape.slice(2).map((_, i) => i + 2), 1]);
  return { rows: moved.reshape(-1, classes), classes, sampleShape };
}

/** Validated class indices (ignored ones as -1), checked against the number of classes. */
function classIndices(op: string, target: ClassTarget, input: Tensor, r: Rows, ignoreIndex: number): Int32Array {
  const m = r.sampleShape.reduce((a, b) => a * b, 1);
  const isTensor = target instanceof Tensor;
  const values: ArrayLike<number> = isTensor ? target.data : target;
  const targetShape = isTensor ? formatShape(target.shape) : `[${values.length}]`;
  const shapeOk = isTensor ? sameShape(target.shape, r.sampleShape) : values.length === m && r.sampleShape.length === 1;
  if (!shapeOk) {
    throw new ShapeError(
      `${op}: target ${targetShape} does not fit input ${formatShape(input.shape)}: expected class indices of shape ${formatShape(r.sampleShape)} or probabilities of shape ${formatShape(input.shape)}`,
    );
  }
  if (isTensor && target.dtype !== 'int32') {
    throw new DTypeError(
      `${op}: class indices must be an int32 tensor (or an array of integers), got ${target.dtype} of shape ${targetShape}; a float target is read as probabilities, of the input's shape ${formatShape(input.shape)}`,
    );
  }
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const v = values[i]!;
    if (v === ignoreIndex) {
      out[i] = -1;
    } else if (!Number.isInteger(v) || v < 0 || v >= r.classes) {
      throw new ShapeError(
        `${op}: target class ${v} at position ${i} is out of range [0, ${r.classes}) (input ${formatShape(input.shape)}, target ${targetShape})`,
      );
    } else {
      out[i] = v;
    }
  }
  return out;
}

function classWeights(op: string, weight: Tensor | undefined, classes: number): Float64Array | null {
  if (weight === undefined) return null;
  if (!(weight instanceof Tensor) || weight.ndim !== 1 || weight.shape[0] !== classes) {
    throw new ShapeError(`${op}: weight must be a Tensor of shape [${classes}] (one per class), got ${weight instanceof Tensor ? formatShape(weight.shape) : typeof weight}`);
  }
  return Float64Array.from(weight.data);
}

function constantLike(rows: Tensor, values: ArrayLike<number>, shape: number[]): Tensor {
  const data = rows.dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  return new Tensor(data, shape);
}

/**
 * -w[y]·logp[y] per sample from log-probability rows; returns the losses [M] and the total weight
 * of the non-ignored samples (the divisor of the mean).
 */
function pickLoss(rows: Tensor, idx: Int32Array, w: Float64Array | null): { losses: Tensor; totalWeight: number } {
  const m = idx.length;
  const safe = new Int32Array(m);
  const sampleWeights = new Float64Array(m);
  let totalWeight = 0;
  for (let i = 0; i < m; i++) {
    const c = idx[i]!;
    safe[i] = c < 0 ? 0 : c;
    sampleWeights[i] = c < 0 ? 0 : w === null ? 1 : w[c]!;
    totalWeight += sampleWeights[i]!;
  }
  const picked = rows.gather(1, new Tensor(safe, [m, 1])).reshape(m);
  return { losses: picked.mul(constantLike(rows, sampleWeights, [m])).neg(), totalWeight };
}

function finish(op: string, losses: Tensor, sampleShape: number[], reduction: Reduction, divisor: number): Tensor {
  if (reduction === 'mean') return losses.sum().div(divisor);
  if (reduction === 'none') return losses.reshape(sampleShape);
  return reduce(op, losses, reduction);
}

function checkReduction(op: string, reduction: Reduction): void {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
}

/**
 * Negative log-likelihood of class indices under log-probabilities [N, C] (or [N, C, d1, ...],
 * or one sample [C] with a 0-d target),
 * as PyTorch's nll_loss: the mean divides by the summed weight of the non-ignored targets
 * (NaN when every target is ignored, as PyTorch).
 * @throws ShapeError if input is 0-d, the target's shape does not fit, a class
 * index is out of [0, C) (and not `ignoreIndex`) or not an integer, or `weight` is not of shape [C].
 * @throws ArgumentError for an unknown reduction or a non-Tensor input.
 * @throws DTypeError if class indices are a float or bool tensor.
 * @example nllLoss(logits.logSoftmax(1), [2, 0, 1])
 */
export function nllLoss(input: Tensor, target: ClassTarget, options: NLLOptions = {}): Tensor {
  const { reduction = 'mean', ignoreIndex = -100 } = options;
  checkReduction('nllLoss', reduction);
  const r = toRows('nllLoss', input);
  const idx = classIndices('nllLoss', target, input, r, ignoreIndex);
  const { losses, totalWeight } = pickLoss(r.rows, idx, classWeights('nllLoss', options.weight, r.classes));
  return finish('nllLoss', losses, r.sampleShape, reduction, totalWeight);
}

/**
 * Cross-entropy of logits [N, C] (or [N, C, d1, ...], or one sample [C]) against class indices
 * (shape [N], [N, d1, ...], or 0-d for one sample) or class probabilities (the input's shape), as
 * PyTorch's `CrossEntropyLoss`: autograd's fused `crossEntropy` with the same options (class
 * `weight`, `ignoreIndex`, `labelSmoothing`, and 'mean' dividing by the summed weight of the
 * targets not ignored; see there for every rule and error).
 * @throws ShapeError, DTypeError, ArgumentError as `crossEntropy` (class indices, weight, options).
 * @example crossEntropyLoss(logits, [2, 0, 1], { labelSmoothing: 0.1 })
 */
export function crossEntropyLoss(input: Tensor, target: ClassTarget, options: CrossEntropyOptions = {}): Tensor {
  return crossEntropy(input, target, options);
}

/** Options of `multiMarginLoss`. */
export interface MultiMarginOptions {
  /** 'mean' over samples (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /** The exponent of each hinge, 1 (default) or 2. */
  p?: 1 | 2;
  /** The margin (default 1). */
  margin?: number;
  /** Per-class weights of shape [C], scaling each sample's loss by its target class's weight. */
  weight?: Tensor;
}

/**
 * Multi-class hinge loss of scores [N, C] (or one sample [C]) against class indices, as
 * PyTorch's multi_margin_loss: per sample, w[y]·Σ_{i≠y} max(0, margin - x[y] + x[i])^p / C.
 * @throws ShapeError as `nllLoss` (class indices, weight shape), or for input of more than 2 axes.
 * @throws ArgumentError if p is not 1 or 2, the margin is not finite, or for an unknown reduction.
 * @example multiMarginLoss(scores, [2, 0, 1])
 */
export function multiMarginLoss(input: Tensor, target: ClassTarget, options: MultiMarginOptions = {}): Tensor {
  const op = 'multiMarginLoss';
  const { reduction = 'mean', p = 1, margin = 1 } = options;
  checkReduction(op, reduction);
  if (p !== 1 && p !== 2) throw new ArgumentError(`${op}: p must be 1 or 2, got ${String(p)}`);
  if (!Number.isFinite(margin)) throw new ArgumentError(`${op}: margin must be a finite number, got ${margin}`);
  if (input instanceof Tensor && input.ndim > 2) throw new ShapeError(`${op}: input must be [N, C] or [C], got ${formatShape(input.shape)}`);
  const r = toRows(op, input);
  // No ignoreIndex in PyTorch's multi_margin_loss: every index must be a class.
  const idx = classIndices(op, target, input, r, Number.NaN);
  const w = classWeights(op, options.weight, r.classes);
  const m = idx.length;
  const others = new Float64Array(m * r.classes).fill(1);
  for (let i = 0; i < m; i++) others[i * r.classes + idx[i]!] = 0;
  const picked = r.rows.gather(1, new Tensor(Int32Array.from(idx), [m, 1]));
  let hinge = r.rows.sub(picked).add(margin).relu();
  if (p === 2) hinge = hinge.square();
  let losses = hinge.mul(constantLike(r.rows, others, [m, r.classes])).sum(1).div(r.classes);
  if (w !== null) losses = losses.mul(constantLike(r.rows, Array.from(idx, (c) => w[c]!), [m]));
  return finish(op, losses, r.sampleShape, reduction, m);
}

/** Options of `multilabelSoftMarginLoss`. */
export interface MultilabelSoftMarginOptions {
  /** 'mean' over samples (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /** Per-class weights of shape [C]. */
  weight?: Tensor;
}

/**
 * Multi-label one-versus-all loss of logits [N, C] (or [C]) against 0/1 targets of the same
 * shape, as PyTorch's multilabel_soft_margin_loss: per sample, the mean over classes of
 * -w_c·(y·log σ(x) + (1 - y)·log σ(-x)), computed stably through softplus.
 * @throws ShapeError if input and target differ in shape, the input has more than 2 axes, or weight is not [C].
 * @throws DTypeError if they differ in dtype; ArgumentError for an unknown reduction.
 * @example multilabelSoftMarginLoss(logits, labels)
 */
export function multilabelSoftMarginLoss(input: Tensor, target: Tensor, options: MultilabelSoftMarginOptions = {}): Tensor {
  const op = 'multilabelSoftMarginLoss';
  const { reduction = 'mean' } = options;
  checkReduction(op, reduction);
  checkPair(op, input, target);
  if (input.ndim < 1 || input.ndim > 2) throw new ShapeError(`${op}: input must be [N, C] or [C], got ${formatShape(input.shape)}`);
  const classes = input.shape[input.ndim - 1]!;
  const w = classWeights(op, options.weight, classes);
  // -(y·log σ(x) + (1 - y)·log σ(-x)) = y·softplus(-x) + (1 - y)·softplus(x).
  let terms = target.mul(input.neg().softplus()).add(target.neg().add(1).mul(input.softplus()));
  if (w !== null) terms = terms.mul(constantLike(input, w, [classes]));
  const losses = terms.sum(-1).div(classes);
  return finish(op, losses, losses.shape.slice(), reduction, losses.size);
}
