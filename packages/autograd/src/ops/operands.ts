import { isFloatDType, type DType } from '../dtype.js';
import { DTypeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { expectTensor, scalarTensor, Tensor, type FloatTensor, type TensorLike } from '../tensor.js';
import { toDtype } from './cast.js';

/**
 * What an op computes in, which decides how its operands' dtypes combine:
 * - 'float': floating point only; int32 and bool operands are converted (as `torch.exp` of an
 *   integer tensor gives float32);
 * - 'integer': float, or int32 for integer operands (bool counts as int32), as `add`;
 * - 'any': every dtype, bool kept, as comparisons and `where`.
 */
export type OperandMode = 'float' | 'integer' | 'any';

/**
 * The dtype two operands combine to, PyTorch's rule without int64: a float with an int32 or bool
 * gives the float; int32 with bool gives int32; float32 with float64 is an error (chainrule never
 * promotes between float widths, so precision never changes behind the caller's back).
 */
export function resultDType(op: string, a: Tensor, b: Tensor, mode: OperandMode): DType {
  let dtype: DType;
  if (a.dtype === b.dtype) dtype = a.dtype;
  else if (isFloatDType(a.dtype) && isFloatDType(b.dtype)) throw mixedFloats(op, [a, b]);
  else if (isFloatDType(a.dtype)) dtype = a.dtype;
  else if (isFloatDType(b.dtype)) dtype = b.dtype;
  else dtype = 'int32';
  return settle(dtype, mode);
}

/** The dtype an op of `mode` computes in for operands that combine to `dtype`. */
function settle(dtype: DType, mode: OperandMode): DType {
  if (isFloatDType(dtype) || mode === 'any') return dtype;
  return mode === 'float' ? 'float32' : 'int32';
}

/**
 * The dtype a plain number takes beside a tensor of `dtype`: the tensor's own, except that a
 * number with a fraction (or NaN, ±Infinity) beside an int32 or bool tensor makes both float32,
 * as `torch.tensor([1, 2]) + 0.5` does, and an integer beside a bool tensor makes int32.
 */
export function numberDType(value: number, dtype: DType): DType {
  if (isFloatDType(dtype)) return dtype;
  if (!Number.isInteger(value)) return 'float32';
  return dtype === 'bool' ? 'int32' : dtype;
}

/** `t` in `dtype`: itself when it is already, else a converted copy (gradients flow back through floats). */
export function asDType(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : toDtype(t, dtype);
}

/**
 * Turns a pair of operands into tensors of one dtype, by `resultDType` for two tensors and
 * `numberDType` for a number beside a tensor.
 * @throws DTypeError when float32 meets float64; ArgumentError when an operand is neither a Tensor nor a number.
 */
export function operands(op: string, a: TensorLike, b: TensorLike, mode: OperandMode = 'integer'): [Tensor, Tensor] {
  if (typeof a === 'number') {
    const tb = expectTensor(op, 'other', b);
    const dtype = settle(numberDType(a, tb.dtype), mode);
    return [scalarTensor(a, dtype), asDType(tb, dtype)];
  }
  const ta = expectTensor(op, 'input', a);
  if (typeof b === 'number') {
    const dtype = settle(numberDType(b, ta.dtype), mode);
    return [asDType(ta, dtype), scalarTensor(b, dtype)];
  }
  const tb = expectTensor(op, 'other', b);
  const dtype = resultDType(op, ta, tb, mode);
  return [asDType(ta, dtype), asDType(tb, dtype)];
}

/** `operands` for an op that computes in floating point only. */
export function floatOperands(op: string, a: TensorLike, b: TensorLike): [FloatTensor, FloatTensor] {
  return operands(op, a, b, 'float') as [FloatTensor, FloatTensor];
}

/** Throws when float tensors mix widths; convert with `toDtype` first. */
export function checkSameDType(op: string, ...ts: Tensor[]): void {
  const first = ts[0]!;
  for (const t of ts) if (t.dtype !== first.dtype) throw mixedFloats(op, ts);
}

function mixedFloats(op: string, ts: readonly Tensor[]): DTypeError {
  return new DTypeError(
    `${op}: dtypes differ: ${ts.map((u) => `${formatShape(u.shape)} ${u.dtype}`).join(' and ')}; convert one with toDtype()`,
  );
}

/**
 * The tensors converted to the one dtype they combine to (`resultDType` pairwise), as
 * `torch.cat` promotes its inputs.
 * @throws DTypeError when float32 meets float64.
 */
export function promoteAll(op: string, ts: readonly Tensor[], mode: OperandMode): Tensor[] {
  if (ts.length === 0) return [];
  let dtype: DType = ts[0]!.dtype;
  for (const t of ts) {
    if (t.dtype === dtype) continue;
    if (isFloatDType(t.dtype) && isFloatDType(dtype)) throw mixedFloats(op, ts);
    if (isFloatDType(t.dtype)) dtype = t.dtype;
    else if (!isFloatDType(dtype)) dtype = 'int32';
  }
  dtype = settle(dtype, mode);
  return ts.map((t) => asDType(t, dtype));
}
