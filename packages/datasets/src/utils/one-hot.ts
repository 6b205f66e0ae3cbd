import { ArgumentError } from '../errors.js';
import { allocFloat } from '../internal/arrays.js';
import { checkDType, checkInt } from '../internal/check.js';
import type { FloatArrayOf, FloatDType } from '../types.js';

/**
 * One-hot encodes integer labels: a [labels.length, numClasses] row-major array with a 1 in
 * each row at the label's column (float32 unless `dtype` says 'float64'), as
 * torch.nn.functional.one_hot, which returns int64 instead.
 * @throws ArgumentError if `numClasses` is not an integer >= 1, a label is not an integer in
 * [0, numClasses) (naming its index), or `dtype` is not a float dtype.
 * @example oneHot(Uint8Array.of(2, 0), 3) // Float32Array [0,0,1, 1,0,0], shape [2, 3]
 */
export function oneHot<D extends FloatDType = 'float32'>(labels: ArrayLike<number>, numClasses: number, dtype?: D): FloatArrayOf<D> {
  checkInt('oneHot', 'numClasses', numClasses, 1);
  const kind = (dtype ?? 'float32') as D;
  checkDType('oneHot', kind);
  const n = labels.length;
  // Validate everything first so a bad label never leaves a half-filled result behind.
  for (let i = 0; i < n; i++) {
    const c = labels[i] as number;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new ArgumentError(`oneHot: labels[${i}] is ${c}, expected an integer in [0, ${numClasses})`);
    }
  }
  const out = allocFloat(kind, n * numClasses);
  for (let i = 0; i < n; i++) out[i * numClasses + (labels[i] as number)] = 1;
  return out;
}
