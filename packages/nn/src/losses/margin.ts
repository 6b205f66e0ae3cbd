/**
 * Margin and embedding losses, as torch.nn.functional's: inputs and targets of one shape and dtype
 * (PyTorch broadcasts them; here a mismatch is a ShapeError naming the loss, as every loss here).
 * Targets of ±1 are float tensors of the input's dtype, as PyTorch takes them.
 */
import { ArgumentError, ShapeError, Tensor, pairwiseDistance, where } from '@chainrule/autograd';
import { formatShape } from '../format.js';
import { checkPair, reduce } from './reduction.js';
import type { ReductionOptions } from './regression.js';

/** Options of the losses with a margin. */
export interface MarginOptions extends ReductionOptions {
  /** The margin (default 0 for marginRankingLoss and cosineEmbeddingLoss, 1 for hingeEmbeddingLoss and tripletMarginLoss). */
  margin?: number;
}

function checkMargin(op: string, margin: number): void {
  if (!Number.isFinite(margin)) throw new ArgumentError(`${op}: margin must be a finite number, got ${margin}`);
}

/**
 * max(0, -y·(x1 - x2) + margin) per element, as PyTorch's margin_ranking_loss: y = 1 says x1 should
 * rank higher than x2, y = -1 the reverse.
 * @throws ShapeError if x1, x2 and target differ in shape; DTypeError if they differ in dtype.
 * @throws ArgumentError for a margin that is not finite or an unknown reduction.
 * @example marginRankingLoss(scoreA, scoreB, tensor([1, -1, 1]), { margin: 0.1 })
 */
export function marginRankingLoss(input1: Tensor, input2: Tensor, target: Tensor, options: MarginOptions = {}): Tensor {
  const op = 'marginRankingLoss';
  const { margin = 0, reduction = 'mean' } = options;
  checkPair(op, input1, input2);
  checkPair(op, input1, target);
  checkMargin(op, margin);
  return reduce(op, target.neg().mul(input1.sub(input2)).add(margin).relu(), reduction);
}

/**
 * x where y = 1 and max(0, margin - x) where y = -1 (x is usually a distance), as PyTorch's
 * hinge_embedding_loss; as there, a target other than ±1 adds both terms.
 * @throws ShapeError if input and target differ in shape; DTypeError if they differ in dtype.
 * @throws ArgumentError for a margin that is not finite or an unknown reduction.
 * @example hingeEmbeddingLoss(distances, tensor([1, -1, -1]))
 */
export function hingeEmbeddingLoss(input: Tensor, target: Tensor, options: MarginOptions = {}): Tensor {
  const op = 'hingeEmbeddingLoss';
  const { margin = 1, reduction = 'mean' } = options;
  checkPair(op, input, target);
  checkMargin(op, margin);
  const dissimilar = where(target.ne(1), input.neg().add(margin).relu(), 0);
  const similar = where(target.ne(-1), input, 0);
  return reduce(op, dissimilar.add(similar), reduction);
}

/**
 * log(1 + exp(-y·x)) per element (stable for any x), as PyTorch's soft_margin_loss.
 * @throws ShapeError if input and target differ in shape; DTypeError if they differ in dtype.
 * @throws ArgumentError for an unknown reduction.
 * @example softMarginLoss(scores, tensor([1, -1]))
 */
export function softMarginLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkPair('softMarginLoss', input, target);
  return reduce('softMarginLoss', target.neg().mul(input).softplus(), options.reduction ?? 'mean');
}

/**
 * 1 - cos(x1, x2) where y = 1 and max(0, cos(x1, x2) - margin) where y = -1, for vectors x1, x2 of
 * shape [N, D] (target [N]) or one pair [D] (target 0-d), as PyTorch's cosine_embedding_loss. The
 * cosine is PyTorch's own: Σx1·x2 / √((Σx1² + 1e-12)·(Σx2² + 1e-12)).
 * @throws ShapeError if x1 and x2 differ in shape or are not 1-d or 2-d, or the target is not [N] (0-d for one pair).
 * @throws DTypeError if the dtypes differ; ArgumentError for a margin that is not finite or an unknown reduction.
 * @example cosineEmbeddingLoss(a, b, tensor([1, -1, 1]), { margin: 0.2 })
 */
export function cosineEmbeddingLoss(input1: Tensor, input2: Tensor, target: Tensor, options: MarginOptions = {}): Tensor {
  const op = 'cosineEmbeddingLoss';
  const { margin = 0, reduction = 'mean' } = options;
  checkPair(op, input1, input2);
  checkMargin(op, margin);
  if (input1.ndim < 1 || input1.ndim > 2) throw new ShapeError(`${op}: inputs must be [N, D] or [D], got ${formatShape(input1.shape)}`);
  const axis = input1.ndim - 1;
  checkPair(op, input1.sum(axis), target);
  const EPS = 1e-12;
  const dot = input1.mul(input2).sum(axis);
  const norms = input1.square().sum(axis).add(EPS).mul(input2.square().sum(axis).add(EPS)).sqrt();
  const cos = dot.div(norms);
  const similar = where(target.eq(1), cos.neg().add(1), 0);
  const dissimilar = where(target.eq(-1), cos.sub(margin).relu(), 0);
  return reduce(op, similar.add(dissimilar), reduction);
}

/** Options of `tripletMarginLoss`. */
export interface TripletMarginOptions extends MarginOptions {
  /** The norm's order of the distances (default 2). */
  p?: number;
  /** Added to each difference before its norm (default 1e-6), as pairwise_distance. */
  eps?: number;
  /** Use the positive-negative distance when it is the smaller one (default false), as PyTorch's swap. */
  swap?: boolean;
}

/**
 * max(d(a, p) - d(a, n) + margin, 0) per triplet, d = ‖x - y + eps‖_p over the last axis (autograd's
 * pairwiseDistance), as PyTorch's triplet_margin_loss; with `swap`, d(a, n) becomes min(d(a, n), d(p, n)).
 * @throws ShapeError if anchor, positive and negative differ in shape; DTypeError if they differ in dtype.
 * @throws ArgumentError for a margin that is not finite, p <= 0, or an unknown reduction.
 * @example tripletMarginLoss(anchor, positive, negative, { margin: 1 })
 */
export function tripletMarginLoss(anchor: Tensor, positive: Tensor, negative: Tensor, options: TripletMarginOptions = {}): Tensor {
  const op = 'tripletMarginLoss';
  const { margin = 1, p = 2, eps = 1e-6, swap = false, reduction = 'mean' } = options;
  checkPair(op, anchor, positive);
  checkPair(op, anchor, negative);
  checkMargin(op, margin);
  if (!(p > 0)) throw new ArgumentError(`${op}: p must be > 0, got ${p}`);
  if (anchor.ndim < 1) throw new ShapeError(`${op}: inputs must have at least one axis (the vectors' last), got ${formatShape(anchor.shape)}`);
  const dPos = pairwiseDistance(anchor, positive, { p, eps });
  let dNeg = pairwiseDistance(anchor, negative, { p, eps });
  if (swap) {
    const dSwap = pairwiseDistance(positive, negative, { p, eps });
    dNeg = dNeg.minimum(dSwap);
  }
  return reduce(op, dPos.sub(dNeg).add(margin).relu(), reduction);
}
