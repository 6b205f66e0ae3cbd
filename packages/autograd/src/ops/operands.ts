import { DTypeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { expectTensor, scalarTensor, Tensor, type TensorLike } from '../tensor.js';

/**
 * Turns a pair of operands into tensors of one dtype: a number takes the other operand's
 * dtype; two tensors of different dtypes are an error (no silent promotion).
 */
export function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number') {
    const tb = expectTensor(op, 'other', b);
    return [scalarTensor(a, tb.dtype), tb];
  }
  const ta = expectTensor(op, 'input', a);
  if (typeof b === 'number') return [ta, scalarTensor(b, ta.dtype)];
  const tb = expectTensor(op, 'other', b);
  checkSameDType(op, ta, tb);
  return [ta, tb];
}

/** Throws when tensors mix dtypes; convert with `toDtype` first. */
export function checkSameDType(op: string, ...ts: Tensor[]): void {
  const first = ts[0]!;
  for (const t of ts) {
    if (t.dtype !== first.dtype) {
      throw new DTypeError(
        `${op}: dtypes differ: ${ts.map((u) => `${formatShape(u.shape)} ${u.dtype}`).join(' and ')}; convert one with toDtype()`,
      );
    }
  }
}
