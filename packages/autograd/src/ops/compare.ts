import { constant, type Tensor, type TensorLike } from '../tensor.js';
import type { BinaryKind } from '../kernels/binary.js';
import { binaryForward } from './binary.js';
import { operands } from './operands.js';

function comparison(kind: BinaryKind, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(kind, a, b);
  const { data, shape } = binaryForward(kind, kind, x, y);
  return constant(data, shape);
}

/**
 * 1 where `a == b`, else 0 (no gradient).
 * @throws ShapeError and DTypeError as `add`.
 * @example eq(x, 0)
 */
export function eq(a: TensorLike, b: TensorLike): Tensor { return comparison('eq', a, b); }
/**
 * 1 where `a != b`, else 0 (no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export function ne(a: TensorLike, b: TensorLike): Tensor { return comparison('ne', a, b); }
/**
 * 1 where `a < b`, else 0 (no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export function lt(a: TensorLike, b: TensorLike): Tensor { return comparison('lt', a, b); }
/**
 * 1 where `a <= b`, else 0 (no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export function le(a: TensorLike, b: TensorLike): Tensor { return comparison('le', a, b); }
/**
 * 1 where `a > b`, else 0 (no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export function gt(a: TensorLike, b: TensorLike): Tensor { return comparison('gt', a, b); }
/**
 * 1 where `a >= b`, else 0 (no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export function ge(a: TensorLike, b: TensorLike): Tensor { return comparison('ge', a, b); }
