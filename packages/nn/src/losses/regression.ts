/**
 * Regression losses. Input and target must have the same shape and dtype: PyTorch broadcasts a
 * mismatch with a warning, which turns an [N, 1] prediction against an [N] target into an [N, N]
 * loss; here that is an error naming the loss and both shapes.
 */
import { ArgumentError, where, type Tensor } from '@chainrule/autograd';
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
