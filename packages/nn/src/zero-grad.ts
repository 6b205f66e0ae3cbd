import { incrementVersion, zerosLike, type Tensor } from '@chainrule/autograd';

/** Options of `zeroGrad` (of optimisers and modules). */
export interface ZeroGradOptions {
  /**
   * Set gradients to null (default true). Backward then hands each parameter a gradient buffer
   * of its own without copying it. false fills the existing buffers with zeros instead, so
   * backward sums into them in place: no new buffers, one more pass over each.
   */
  setToNone?: boolean;
}

/**
 * Clears one gradient as `zeroGrad` does. NOTE: a gradient kept from a createGraph pass is part
 * of a graph and may be shared, so it is replaced by zeros rather than written into.
 */
export function clearGrad(p: Tensor, { setToNone = true }: ZeroGradOptions = {}): void {
  const g = p.grad;
  if (g === null) return;
  if (setToNone) p.grad = null;
  else if (g.requiresGrad) p.grad = zerosLike(g);
  else {
    g.data.fill(0);
    incrementVersion(g);
  }
}
