import { allocate, isDType, isFloatDType, DTYPE_NAMES, type DType } from '../dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { constant, expectTensor, makeOutput, type Tensor } from '../tensor.js';
import { primitive } from '../engine/dispatch.js';

/**
 * The same values in another dtype. Between float32 and float64 the gradient is cast back.
 * To int32, values are truncated toward zero (as PyTorch); to bool, non-zero (NaN included) is
 * true. int32 and bool results carry no gradient.
 * @throws DTypeError for an unknown dtype.
 * @throws ArgumentError converting NaN, ±Infinity or a value outside int32's range to int32
 * (PyTorch leaves those undefined), naming the first such element.
 * @example toDtype(x, 'float64'); toDtype(labels, 'int32')
 */
export const toDtype = primitive('toDtype', { kind: 'unary' }, function (input: Tensor, dtype: DType): Tensor {
  const x = expectTensor('toDtype', 'input', input);
  if (!isDType(dtype)) throw new DTypeError(`toDtype: unknown dtype ${JSON.stringify(dtype)} (use ${DTYPE_NAMES})`);
  if (dtype === x.dtype) return x;
  const out = allocate(dtype, x.size, 'toDtype', x.shape);
  const src = x.data;
  if (dtype === 'bool') {
    for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0;
  } else if (dtype === 'int32' && isFloatDType(x.dtype)) {
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (!(v > -2147483649 && v < 2147483648)) {
        throw new ArgumentError(
          `toDtype: element ${i} of the ${x.dtype} tensor of shape ${formatShape(x.shape)} is ${v}, which has no int32 value (int32 holds -2147483648 to 2147483647)`,
        );
      }
      out[i] = Math.trunc(v);
    }
  } else {
    out.set(src);
  }
  if (!isFloatDType(dtype) || !isFloatDType(x.dtype)) return constant(out, x.shape);
  const from = x.dtype;
  return makeOutput('toDtype', out, x.shape, [x], (g) => [toDtype(g, from)], { saves: [[]], jvp: ([t]) => toDtype(t!, dtype) });
});
