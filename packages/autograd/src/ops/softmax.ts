import { expectTensor, type Tensor } from '../tensor.js';
import { normalizeAxis } from '../shape.js';
import { logsumexp } from './reduce.js';

/**
 * Log-softmax along `axis`: x - logsumexp(x), stable for logits like 1000 and 1001.
 * @example logSoftmax(logits, 1)
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const t = expectTensor('logSoftmax', 'input', x);
  const ax = normalizeAxis('logSoftmax', axis, t.ndim);
  return t.sub(logsumexp(t, ax, true));
}

/** Softmax along `axis`, computed as exp(logSoftmax) so it never overflows. @example softmax(logits, -1) */
export function softmax(x: Tensor, axis = -1): Tensor {
  return logSoftmax(expectTensor('softmax', 'input', x), axis).exp();
}
