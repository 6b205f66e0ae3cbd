import { ArgumentError, incrementVersion, type Tensor } from '@chainrule/autograd';

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or Inf instead of scaling by it (default false, as PyTorch). */
  errorIfNonfinite?: boolean;
}

/**
 * Scales the gradients of `params` in place so their combined `normType`-norm (as if all were one
 * vector; Infinity for the max norm) is at most `maxNorm`, and returns the norm before clipping.
 * As PyTorch, the scale is maxNorm / (norm + 1e-6), applied only when below 1. Parameters
 * without a gradient are skipped.
 * @throws ArgumentError if `maxNorm` < 0 or `normType` <= 0, or with `errorIfNonfinite` if the
 * norm is NaN or Inf (the gradients are then left as they were).
 * @example loss.backward(); clipGradNorm(model.parameters(), 1.0); opt.step();
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2, options: ClipGradNormOptions = {}): number {
  if (!(maxNorm >= 0)) throw new ArgumentError(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new ArgumentError(`clipGradNorm: normType must be > 0 (or Infinity), got ${normType}`);
  const gradTensors = [...params].flatMap((p) => (p.grad === null ? [] : [p.grad]));
  const grads = gradTensors.map((g) => g.data);
  let total: number;
  if (normType === Infinity) {
    total = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) total = Math.max(total, Math.abs(g[i]!));
  } else {
    let acc = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) acc += Math.abs(g[i]!) ** normType;
    total = acc ** (1 / normType);
  }
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new ArgumentError(`clipGradNorm: the total norm of order ${normType} of the gradients is ${total}; pass errorIfNonfinite: false to clip anyway`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
    for (const g of gradTensors) incrementVersion(g);
  }
  return total;
}

/**
 * Clamps every gradient element of `params` to [-clip, clip], in place (PyTorch's
 * `clip_grad_value_`); parameters without a gradient are skipped.
 * @throws ArgumentError if `clip` < 0 or NaN.
 * @example clipGradValue(model.parameters(), 0.5)
 */
export function clipGradValue(params: Iterable<Tensor>, clip: number): void {
  if (!(clip >= 0)) throw new ArgumentError(`clipGradValue: clip must be >= 0, got ${clip}`);
  for (const p of params) {
    if (p.grad === null) continue;
    const g = p.grad.data;
    for (let i = 0; i < g.length; i++) g[i] = Math.min(clip, Math.max(-clip, g[i]!));
    incrementVersion(p.grad);
  }
}
