import { floatInput, type Tensor } from '../tensor.js';
import { normalizeAxis } from '../shape.js';
import { stableShift, sum } from './reduce.js';
import { primitive } from '../engine/dispatch.js';

/**
 * Log-softmax along `axis`: (x - max) - log Σ exp(x - max), stable for logits like 1000 and 1001.
 * @throws ShapeError if `axis` is out of range.
 * @example logSoftmax(logits, 1)
 */
export const logSoftmax = primitive('logSoftmax', { kind: 'axis', axisArg: 1, absent: -1 }, function (x: Tensor, axis = -1): Tensor {
  const t = floatInput('logSoftmax', 'input', x);
  const ax = normalizeAxis('logSoftmax', axis, t.ndim);
  // NOTE: not x - logsumexp(x): that rounds logsumexp at the logits' magnitude, 3e-5 off near
  // 1000 in float32. Shifting first, as PyTorch does, leaves only small numbers to round.
  const shifted = t.sub(stableShift(t, [ax]));
  return shifted.sub(sum(shifted.exp(), ax, true).log());
});

/**
 * Softmax along `axis`, computed as exp(logSoftmax) so it never overflows.
 * @throws ShapeError if `axis` is out of range.
 * @example softmax(logits, -1)
 */
export const softmax = primitive('softmax', { kind: 'axis', axisArg: 1, absent: -1 }, function (x: Tensor, axis = -1): Tensor {
  const t = floatInput('softmax', 'input', x);
  normalizeAxis('softmax', axis, t.ndim); // so a bad axis is reported as softmax's, not logSoftmax's
  return logSoftmax(t, axis).exp();
});
