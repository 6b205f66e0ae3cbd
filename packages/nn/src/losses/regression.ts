/**
 * Regression losses. Input and target must have the same shape and dtype: PyTorch broadcasts a
 * mismatch with a warning, which turns an [N, 1] prediction against an [N] target into an [N, N]
 * loss; here that is an error naming the loss and both shapes.
 */
import { ArgumentError, DTypeError, ShapeError, Tensor, noGrad, where, xlogy } from '@chainrule/autograd';
import { formatShape, sameShape } from '../format.js';
import { checkPair, reduce, type Reduction } from './reduction.js';

/** Options shared by the losses. */
export interface ReductionOptions {
  /** 'mean' (default for all but sseLoss), 'sum' or 'none'. */
  reduction?: Reduction;
}

/**
 * Mean squared error, `mean((x - y)²)`, as PyTorch's `mse_loss`.
 * @throws ShapeError if input and target differ in shape (PyTorch would broadcast them).
 * @throws DTypeError if they differ in dtype.
 * @throws ArgumentError for an unknown reduction, or a non-Tensor argument.
 * @example mseLoss(pred, target)
 */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkPair('mseLoss', input, target);
  return reduce('mseLoss', input.sub(target).square(), options.reduction ?? 'mean');
}

/**
 * Sum of squared errors, `sum((x - y)²)`: mseLoss with reduction 'sum' by default (PyTorch has no
 * such function; it is `mse_loss(..., reduction='sum')`).
 * @throws ShapeError, DTypeError, ArgumentError as `mseLoss`.
 * @example sseLoss(pred, target)
 */
export function sseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkPair('sseLoss', input, target);
  return reduce('sseLoss', input.sub(target).square(), options.reduction ?? 'sum');
}

/**
 * Mean absolute error, `mean(|x - y|)` (gradient 0 where x = y, as PyTorch).
 * @throws ShapeError, DTypeError, ArgumentError as `mseLoss`.
 * @example l1Loss(pred, target)
 */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkPair('l1Loss', input, target);
  return reduce('l1Loss', input.sub(target).abs(), options.reduction ?? 'mean');
}

/** Options of `huberLoss`. */
export interface HuberOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

/**
 * Huber loss: ½d² where |d| < delta, delta·(|d| - ½delta) elsewhere, with d = x - y (PyTorch's
 * HuberLoss).
 * @throws ArgumentError if `delta` is not a positive finite number; otherwise as `mseLoss`.
 * @example huberLoss(pred, target, { delta: 0.5 })
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  const { delta = 1, reduction = 'mean' } = options;
  checkPair('huberLoss', input, target);
  if (!(Number.isFinite(delta) && delta > 0)) throw new ArgumentError(`huberLoss: delta must be a positive number, got ${delta}`);
  const d = input.sub(target);
  const a = d.abs();
  const losses = where(a.lt(delta), d.square().mul(0.5), a.sub(0.5 * delta).mul(delta));
  return reduce('huberLoss', losses, reduction);
}

/** Options of `smoothL1Loss`. */
export interface SmoothL1Options extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1; 0 gives l1Loss). */
  beta?: number;
}

/**
 * Smooth L1 loss: ½d²/beta where |d| < beta, |d| - ½beta elsewhere, with d = x - y (PyTorch's
 * smooth_l1_loss; huberLoss scaled by 1/beta). beta = 0 is the L1 loss.
 * @throws ArgumentError if `beta` is negative or not finite; otherwise as `mseLoss`.
 * @example smoothL1Loss(pred, target, { beta: 0.5 })
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  const { beta = 1, reduction = 'mean' } = options;
  checkPair('smoothL1Loss', input, target);
  if (!(Number.isFinite(beta) && beta >= 0)) throw new ArgumentError(`smoothL1Loss: beta must be a number >= 0, got ${beta}`);
  const a = input.sub(target).abs();
  if (beta === 0) return reduce('smoothL1Loss', a, reduction);
  const losses = where(a.lt(beta), a.square().mul(0.5 / beta), a.sub(0.5 * beta));
  return reduce('smoothL1Loss', losses, reduction);
}

/** Options of `klDivLoss`. */
export interface KLDivOptions {
  /**
   * 'mean' (default: over every element, as PyTorch's default, which is not the divergence),
   * 'batchmean' (the sum divided by the batch size input.shape[0]: the KL divergence per sample),
   * 'sum' or 'none'.
   */
  reduction?: Reduction | 'batchmean';
  /** The target holds log-probabilities instead of probabilities (default false). */
  logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence of the target from the model, with the input holding
 * log-probabilities, as PyTorch's kl_div: target·(log target - input) per element (0 where the
 * target is 0), or exp(target)·(target - input) with `logTarget`.
 * @throws ShapeError if input and target differ in shape (PyTorch would broadcast them).
 * @throws DTypeError if they differ in dtype.
 * @throws ArgumentError for an unknown reduction, or a non-Tensor argument.
 * @example klDivLoss(logits.logSoftmax(1), targetProbs, { reduction: 'batchmean' })
 */
export function klDivLoss(input: Tensor, target: Tensor, options: KLDivOptions = {}): Tensor {
  const { reduction = 'mean', logTarget = false } = options;
  checkPair('klDivLoss', input, target);
  const losses = logTarget ? target.exp().mul(target.sub(input)) : xlogy(target, target).sub(target.mul(input));
  if (reduction !== 'batchmean') return reduce('klDivLoss', losses, reduction);
  const sum = losses.sum();
  return input.ndim === 0 ? sum : sum.div(input.shape[0]!);
}

/** Options of `poissonNllLoss`. */
export interface PoissonNLLOptions extends ReductionOptions {
  /** The input is the log of the rate (default true): loss exp(x) - y·x; else x - y·log(x + eps). */
  logInput?: boolean;
  /** Add Stirling's approximation of log(y!), y·log y - y + ½·log(2πy), where y > 1 (default false). */
  full?: boolean;
  /** Keeps log(x + eps) finite at a rate of 0 when logInput is false (default 1e-8). */
  eps?: number;
}

/**
 * Negative log-likelihood of a Poisson-distributed target, as PyTorch's poisson_nll_loss.
 * @throws ArgumentError if eps is negative or not finite; otherwise as `mseLoss`.
 * @example poissonNllLoss(logRates, counts)
 */
export function poissonNllLoss(input: Tensor, target: Tensor, options: PoissonNLLOptions = {}): Tensor {
  const { logInput = true, full = false, eps = 1e-8, reduction = 'mean' } = options;
  checkPair('poissonNllLoss', input, target);
  if (!(Number.isFinite(eps) && eps >= 0)) throw new ArgumentError(`poissonNllLoss: eps must be a number >= 0, got ${eps}`);
  let losses = logInput ? input.exp().sub(target.mul(input)) : input.sub(target.mul(input.add(eps).log()));
  if (full) {
    const stirling = xlogy(target, target).sub(target).add(target.mul(2 * Math.PI).log().mul(0.5));
    losses = losses.add(where(target.gt(1), stirling, 0));
  }
  return reduce('poissonNllLoss', losses, reduction);
}

/** Options of `gaussianNllLoss`. */
export interface GaussianNLLOptions extends ReductionOptions {
  /** Add the constant ½·log(2π) (default false). */
  full?: boolean;
  /** The smallest variance used (default 1e-6); the clamp is outside the gradient, as PyTorch's. */
  eps?: number;
}

/**
 * Negative log-likelihood of the target under N(input, variance): ½·(log v + (x - y)²/v) per
 * element, v = max(variance, eps), as PyTorch's gaussian_nll_loss. `variance` has the input's
 * shape, or that shape with the last axis 1 (one variance per row) or without the last axis.
 * As PyTorch, the clamp at eps acts on the value only (the gradient is the unclamped one's).
 * @throws ShapeError if input and target differ in shape or variance does not fit them.
 * @throws DTypeError if input, target and variance differ in dtype.
 * @throws ArgumentError if a variance is negative, or eps is not positive.
 * @example gaussianNllLoss(mean, target, variance)
 */
export function gaussianNllLoss(input: Tensor, target: Tensor, variance: Tensor, options: GaussianNLLOptions = {}): Tensor {
  const op = 'gaussianNllLoss';
  const { full = false, eps = 1e-6, reduction = 'mean' } = options;
  checkPair(op, input, target);
  if (!(Number.isFinite(eps) && eps > 0)) throw new ArgumentError(`${op}: eps must be a number > 0, got ${eps}`);
  let v = variance;
  if (v.ndim === input.ndim - 1 && input.ndim > 0 && sameShape(v.shape, input.shape.slice(0, -1))) v = v.unsqueeze(-1);
  const fits = v.ndim === input.ndim && v.shape.every((d, i) => d === input.shape[i] || (i === input.ndim - 1 && d === 1));
  if (!fits) {
    throw new ShapeError(`${op}: variance ${formatShape(variance.shape)} does not fit input ${formatShape(input.shape)}: expected the input's shape, or it with the last axis 1 or dropped`);
  }
  if (v.dtype !== input.dtype) throw new DTypeError(`${op}: input is ${input.dtype} but variance is ${v.dtype}; convert one with toDtype()`);
  for (let i = 0; i < v.size; i++) {
    if (!(v.data[i]! >= 0)) throw new ArgumentError(`${op}: variance must be >= 0 everywhere, got ${v.data[i]} at flat index ${i}`);
  }
  const lifted = noGrad(() => v.clamp(eps).sub(v));
  const clamped = v.add(new Tensor(lifted.data, lifted.shape));
  let losses = clamped.log().add(input.sub(target).square().div(clamped)).mul(0.5);
  if (full) losses = losses.add(0.5 * Math.log(2 * Math.PI));
  return reduce(op, losses, reduction);
}
