import { ArgumentError, DTypeError, ShapeError, Tensor } from '@chainrule/autograd';
import { formatShape, sameShape } from '../format.js';

/** How a loss combines per-element losses: their mean, their sum, or none (same shape as the input). */
export type Reduction = 'mean' | 'sum' | 'none';

/** A loss as `fit` and `evaluate` call it: prediction and target in, a scalar tensor out. */
export type LossFunction = (input: Tensor, target: Tensor) => Tensor;

/** Applies `reduction` to elementwise losses. */
export function reduce(op: string, losses: Tensor, reduction: Reduction): Tensor {
  switch (reduction) {
    case 'mean':
      return losses.mean();
    case 'sum':
      return losses.sum();
    case 'none':
      return losses;
    default:
      throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
}

/** Checks that a loss's input and target are Tensors of one shape and dtype, naming the loss. */
export function checkPair(op: string, input: Tensor, target: Tensor): void {
  if (!(input instanceof Tensor)) throw new ArgumentError(`${op}: input must be a Tensor`);
  if (!(target instanceof Tensor)) throw new ArgumentError(`${op}: target must be a Tensor`);
  // NOTE: PyTorch broadcasts mismatched shapes with a warning; [N, 1] against [N] then silently
  // becomes an [N, N] loss. Here that is an error.
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeError(`${op}: input ${formatShape(input.shape)} and target ${formatShape(target.shape)} must have the same shape`);
  }
  if (input.dtype !== target.dtype) {
    throw new DTypeError(`${op}: input is ${input.dtype} but target is ${target.dtype}; convert one with toDtype()`);
  }
}
