import type { Tensor } from '../tensor.js';

/**
 * Gradients that a VJP has just allocated and handed to nobody else, during the current
 * backward pass (null outside a pass, and during a createGraph pass). A leaf whose `.grad` is
 * empty may take such a tensor as its `.grad` as is, instead of copying it: PyTorch's
 * AccumulateGrad steals a gradient the same way when nothing else refers to it.
 *
 * NOTE: only tensors marked here can be taken, and each at most once. Marking one that anything
 * else can still reach (the VJP's incoming gradient, a reshape of it, a tensor user code saw)
 * would let a later backward, which sums into `.grad` in place, change that other tensor too.
 */
let fresh: Set<Tensor> | null = null;

/**
 * @internal For VJPs: declares `t` a gradient buffer just allocated and referenced nowhere
 * else. Returns `t`. A no-op outside a backward pass that accumulates into `.grad`.
 */
export function freshGradient(t: Tensor): Tensor {
  fresh?.add(t);
  return t;
}

/** @internal Marks `result` fresh when it is not the gradient `g` the VJP received (it is then new). */
export function freshUnless(result: Tensor, g: Tensor): Tensor {
  if (result !== g) fresh?.add(result);
  return result;
}

/** Removes `t` from the fresh set (user code has seen it); true if it was there. */
export function takeFresh(t: Tensor): boolean {
  return fresh !== null && fresh.delete(t);
}

/** Runs a backward pass with its own set of fresh gradients (none when `enabled` is false). */
export function withFreshGradients<T>(enabled: boolean, fn: () => T): T {
  const previous = fresh;
  fresh = enabled ? new Set() : null;
  try {
    return fn();
  } finally {
    fresh = previous;
  }
}
