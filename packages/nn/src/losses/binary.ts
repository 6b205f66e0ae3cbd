import { ArgumentError, Tensor } from '@chainrule/autograd';
import { formatShape } from '../format.js';
import { checkPair, reduce } from './reduction.js';
import type { ReductionOptions } from './regression.js';

/** Options of the binary cross-entropy losses. */
export interface BCEOptions extends ReductionOptions {
  /** Rescales each element's loss; broadcasts against the input. */
  weight?: Tensor;
}

/** Options of `bceWithLogitsLoss`. */
export interface BCEWithLogitsOptions extends BCEOptions {
  /** Weight of positive examples, per class (broadcast along the last axis), as PyTorch's pos_weight. */
  posWeight?: Tensor;
}

// log(p) clamped at -100, as PyTorch's BCELoss: clamping p first (at e^-100) gives the same value
// while keeping the gradient finite where p is exactly 0 or 1 (log's gradient would be 0/0 there).
const LOG_FLOOR = Math.exp(-100);

function weighted(losses: Tensor, weight: Tensor | undefined): Tensor {
  return weight === undefined ? losses : losses.mul(weight);
}

/**
 * Binary cross-entropy on probabilities: -(y·log p + (1 - y)·log(1 - p)), each log clamped at -100
 * as PyTorch. Inputs outside [0, 1] are an error; prefer bceWithLogitsLoss on logits.
 * @throws ShapeError if input and target differ in shape (PyTorch would broadcast them).
 * @throws DTypeError if they differ in dtype.
 * @throws ArgumentError if an input element is outside [0, 1] (or NaN), naming its index.
 * @example bceLoss(model.forward(x).sigmoid(), y)
 */
export function bceLoss(input: Tensor, target: Tensor, options: BCEOptions = {}): Tensor {
  checkPair('bceLoss', input, target);
  for (let i = 0; i < input.size; i++) {
    const p = input.data[i]!;
    if (!(p >= 0 && p <= 1)) {
      throw new ArgumentError(`bceLoss: input ${formatShape(input.shape)} must hold probabilities in [0, 1], got ${p} at flat index ${i} (use bceWithLogitsLoss for logits)`);
    }
  }
  const logP = input.clamp(LOG_FLOOR).log();
  const log1mP = input.neg().add(1).clamp(LOG_FLOOR).log();
  const losses = target.mul(logP).add(target.neg().add(1).mul(log1mP)).neg();
  return reduce('bceLoss', weighted(losses, options.weight), options.reduction ?? 'mean');
}

/**
 * Binary cross-entropy on logits, stable for any logit (±100 included):
 * max(x, 0) - x·y + log1p(exp(-|x|)). The first and last terms are computed together as the
 * engine's softplus, which is exactly that sum with the smooth gradient sigmoid(x); composing
 * relu and abs would give a wrong gradient at x = 0, where both have a kink.
 * @throws ShapeError if input and target differ in shape (PyTorch would broadcast them).
 * @throws DTypeError if they differ in dtype.
 * @throws ArgumentError if `posWeight` is given but not a Tensor, or for an unknown reduction.
 * @example bceWithLogitsLoss(model.forward(x), y)
 */
export function bceWithLogitsLoss(input: Tensor, target: Tensor, options: BCEWithLogitsOptions = {}): Tensor {
  checkPair('bceWithLogitsLoss', input, target);
  const { posWeight } = options;
  let losses: Tensor;
  if (posWeight === undefined) {
    losses = input.softplus().sub(input.mul(target));
  } else {
    if (!(posWeight instanceof Tensor)) throw new ArgumentError('bceWithLogitsLoss: posWeight must be a Tensor');
    // (1 - y)·x + (1 + (pw - 1)·y)·softplus(-x): -[pw·y·log σ(x) + (1 - y)·log(1 - σ(x))].
    const logWeight = posWeight.sub(1).mul(target).add(1);
    losses = target.neg().add(1).mul(input).add(logWeight.mul(input.neg().softplus()));
  }
  return reduce('bceWithLogitsLoss', weighted(losses, options.weight), options.reduction ?? 'mean');
}
