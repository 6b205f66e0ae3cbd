import { expectTensor, type Tensor } from '../tensor.js';
import { normalizeAxis } from '../shape.js';
import { max, sum } from './reduce.js';
import { where } from './where.js';
import { isFinite } from './unary.js';

/**
 * Log-softmax along `axis`: (x - max) - log Σ exp(x - max), stable for logits like 1000 and 1001.
 * @example logSoftmax(logits, 1)
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const t = expectTensor('logSoftmax', 'input', x);
  const ax = normalizeAxis('logSoftmax', axis, t.ndim);
  // NOTE: not x - logsumexp(x): that rounds logsumexp at the logits' magnitude, 3e-5 off near
  // 1000 in float32. Shifting first, as PyTorch does, leaves only small numbers to round.
  // The shift is detached: the result does not depend on it.
  let m = max(t.detach(), ax, true);
  // An all -Inf line would make x - m NaN; shifting by 0 there keeps the exact result.
  m = where(isFinite(m), m, 0);
  const shifted = t.sub(m);
  return shifted.sub(sum(shifted.exp(), ax, true).log());
}

/** Softmax along `axis`, computed as exp(logSoftmax) so it never overflows. @example softmax(logits, -1) */
export function softmax(x: Tensor, axis = -1): Tensor {
  const t = expectTensor('softmax', 'input', x);
  normalizeAxis('softmax', axis, t.ndim); // so a bad axis is reported as softmax's, not logSoftmax's
  return logSoftmax(t, axis).exp();
}
