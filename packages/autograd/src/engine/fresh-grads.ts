import type { Tensor } from '../tensor.js';

/**
 * Gradients that a VJP has just allocated and handed to nobody else, during the current
 * backward pass. A leaf whose `.grad` is empty may take such a tensor as its `.grad` as is,
 * instead of copying it: PyTorch's AccumulateGrad steals a gradient the same way when nothing
 * else refers to it. A tensor is fresh for the pass whose stamp its `freshStamp` holds; each
 * pass that stores into `.grad` gets a new stamp (0: none running, or a createGraph pass), so
 * marks left over from earlier passes never match.
 *
 * NOTE: only tensors marked here can be taken, and each at most once. Marking one that anything
 * else can still reach (the VJP's incoming gradient, a reshape of it, a tensor user code saw)
 * would let a later backward, which sums into `.grad` in place, change that other tensor too.
 */
let current = 0;
let issued = 0;

/**
 * @internal For VJPs: declares `t` a gradient buffer just allocated and referenced nowhere
 * else. Returns `t`. A no-op outside a backward pass that accumulates into `.grad`.
 */
export function freshGradient(t: Tensor): Tensor {
  if (current !== 0) t.freshStamp = current;
  return t;
}

/** @internal Marks `result` fresh when it is not the gradient `g` the VJP received (it is then new). */
export function freshUnless(result: Tensor, g: Tensor): Tensor {
  if (current !== 0 && result !== g) result.freshStamp = current;
  return result;
}

/** Unmarks `t` (a leaf takes it, or user code has seen it); true if it was fresh. */
export function takeFresh(t: Tensor): boolean {
  if (current === 0 || t.freshStamp !== current) return false;
  t.freshStamp = 0;
  return true;
}

/** Runs a backward pass with its own stamp for fresh gradients (none when `enabled` is false). */
export function withFreshGradients<T>(enabled: boolean, fn: () => T): T {
  const previous = current;
  current = enabled ? ++issued : 0;
  try {
    return fn();
  } finally {
    current = previous;
  }
}
