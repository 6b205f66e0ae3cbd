import { allocate, isDType, type DType } from '../dtype.js';
import { DTypeError } from '../errors.js';
import { expectTensor, makeOutput, type Tensor } from '../tensor.js';

/**
 * The same values in another dtype; the gradient is cast back.
 * @throws DTypeError for an unknown dtype.
 * @example toDtype(x, 'float64')
 */
export function toDtype(input: Tensor, dtype: DType): Tensor {
  const x = expectTensor('toDtype', 'input', input);
  if (!isDType(dtype)) throw new DTypeError(`toDtype: unknown dtype ${JSON.stringify(dtype)} (use 'float32' or 'float64')`);
  if (dtype === x.dtype) return x;
  const out = allocate(dtype, x.size);
  out.set(x.data);
  return makeOutput('toDtype', out, x.shape, [x], (g) => [toDtype(g, x.dtype)], { saves: [[]] });
}
