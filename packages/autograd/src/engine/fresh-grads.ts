import type { Tensor } from '../tensor.js';

/**
 * Gradients made during the current backward pass in storage nothing else holds. A leaf whose
 * `.grad` is empty may take such a tensor as its `.grad` as is, instead of copying it: PyTorch's
 * AccumulateGrad steals a gradient the same way when nothing else refers to it. A tensor is fresh
 * for the pass whose stamp its `freshStamp` holds; each pass that stores into `.grad` gets a new
 * stamp (0: none running, or a createGraph pass), so marks left over from earlier passes never
 * match.
 *
 * No VJP marks anything. Ownership is declared where storage is made: `makeOutput` and
 * `constant` mark every op result with new storage that no graph records (during such a pass
 * that is every intermediate of a VJP), a view (reshape) is never marked, and the engine marks
 * the gradients it sums back to an input's shape. What user code sees (a hook's gradient, what a
 * custom op's backward receives or returns) is unmarked, since user code may keep it.
 *
 * A `jvp` pass has a stamp of its own too: the tangents its ops made fresh are the ones it may
 * give to the storage pool once its level closes (functional.ts); a custom op's jvp unmarks the
 * tangents user code sees.
 *
 * NOTE: only marked tensors can be taken, and each at most once. A marked tensor that something
 * outside the pass could still reach would let a later backward, which sums into `.grad` in
 * place, change that other tensor too.
 */
let current = 0;
let issued = 0;

/** @internal Marks `t`, whose storage was just allocated for it, fresh for the running pass. */
export function markFresh(t: Tensor): void {
  if (current !== 0) t.freshStamp = current;
}

/** Unmarks `t` (a leaf takes it, or user code has seen it); true if it was fresh. */
export function takeFresh(t: Tensor): boolean {
  if (current === 0 || t.freshStamp !== current) return false;
  t.freshStamp = 0;
  return true;
}

/** Whether `t` is fresh for the running pass (without unmarking it). */
export function isFresh(t: Tensor): boolean {
  return current !== 0 && t.freshStamp === current;
}

/** Runs a backward (or `jvp`) pass with its own stamp for fresh results (none when `enabled` is false). */
export function withFreshGradients<T>(enabled: boolean, fn: () => T): T {
  const previous = current;
  current = enabled ? ++issued : 0;
  try {
    return fn();
  } finally {
    current = previous;
  }
}
