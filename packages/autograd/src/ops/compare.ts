import { allocate } from '../dtype.js';
import { normalizeAxes, reducedShape, sizeOf } from '../shape.js';
import type { BinaryKind } from '../kernels/binary.js';
import { nonZero } from '../kernels/integer.js';
import { constant, expectTensor, isFloat, type Tensor, type TensorLike } from '../tensor.js';
import { binaryForward } from './binary.js';
import { asDType, operands } from './operands.js';
import { max, min } from './reduce.js';
import { primitive } from '../engine/dispatch.js';

/**
 * A comparison: a bool tensor, never on the graph. Integer and bool operands compare exactly in
 * float64 (every int32 is a float64); a float operand compares in its own dtype, as PyTorch
 * promotes an integer beside a float.
 */
function comparison(kind: BinaryKind, a: TensorLike, b: TensorLike): Tensor {
  let [x, y] = operands(kind, a, b, 'any');
  if (!isFloat(x)) [x, y] = [asDType(x, 'float64'), asDType(y, 'float64')];
  const { data, shape } = binaryForward(kind, kind, x, y);
  const out = allocate('bool', data.length, kind, shape);
  nonZero(data, out);
  return constant(out, shape);
}

/**
 * True where `a == b` (a bool tensor, no gradient).
 * @throws ShapeError and DTypeError as `add`.
 * @example eq(x, 0)
 */
export const eq = primitive('eq', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return comparison('eq', a, b); });
/**
 * True where `a != b` (a bool tensor, no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export const ne = primitive('ne', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return comparison('ne', a, b); });
/**
 * True where `a < b` (a bool tensor, no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export const lt = primitive('lt', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return comparison('lt', a, b); });
/**
 * True where `a <= b` (a bool tensor, no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export const le = primitive('le', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return comparison('le', a, b); });
/**
 * True where `a > b` (a bool tensor, no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export const gt = primitive('gt', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return comparison('gt', a, b); });
/**
 * True where `a >= b` (a bool tensor, no gradient).
 * @throws ShapeError and DTypeError as `add`.
 */
export const ge = primitive('ge', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return comparison('ge', a, b); });

/** Both operands as bools (non-zero is true), broadcast, combined by `f`. */
function logical(op: string, a: TensorLike, b: TensorLike, f: (trues: number) => number): Tensor {
  const [x, y] = operands(op, a, b, 'any').map((t) => asDType(t, 'bool')) as [Tensor, Tensor];
  // Bools as int32 0/1 through the integer kernels' broadcasting: their sum counts the trues.
  const { data, shape } = binaryForward(op, 'add', asDType(x, 'int32'), asDType(y, 'int32'));
  const out = allocate('bool', data.length, op, shape);
  for (let i = 0; i < out.length; i++) out[i] = f(data[i]!);
  return constant(out, shape);
}

/**
 * Elementwise AND of `a` and `b` read as bools (non-zero is true), broadcast: a bool tensor.
 * @throws ShapeError as `add`.
 * @example logicalAnd(x.gt(0), x.lt(1))
 */
export const logicalAnd = primitive('logicalAnd', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return logical('logicalAnd', a, b, (s) => (s === 2 ? 1 : 0)); });
/**
 * Elementwise OR of `a` and `b` read as bools, broadcast: a bool tensor.
 * @throws ShapeError as `add`.
 * @example logicalOr(isNan(x), isInf(x))
 */
export const logicalOr = primitive('logicalOr', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return logical('logicalOr', a, b, (s) => (s > 0 ? 1 : 0)); });
/**
 * Elementwise XOR of `a` and `b` read as bools, broadcast: a bool tensor.
 * @throws ShapeError as `add`.
 * @example logicalXor(a, b)
 */
export const logicalXor = primitive('logicalXor', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor { return logical('logicalXor', a, b, (s) => (s === 1 ? 1 : 0)); });

/**
 * Elementwise NOT of `x` read as bools (zero is false): a bool tensor.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example logicalNot(mask)
 */
export const logicalNot = primitive('logicalNot', { kind: 'unary' }, function (x: Tensor): Tensor {
  const t = expectTensor('logicalNot', 'input', x);
  const out = allocate('bool', t.size, 'logicalNot', t.shape);
  const d = t.data;
  for (let i = 0; i < out.length; i++) out[i] = d[i] === 0 ? 1 : 0;
  return constant(out, t.shape);
});

/**
 * Whether any element over `axis` (all axes by default) is non-zero: a bool tensor, false over
 * no elements, as torch.any.
 * @throws ShapeError if an axis is out of range or repeated.
 * @example isNan(x).any().item()
 */
export const any = primitive('any', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  return boolReduce('any', x, axis, keepdims);
});

/**
 * Whether every element over `axis` (all axes by default) is non-zero: a bool tensor, true over
 * no elements, as torch.all.
 * @throws ShapeError if an axis is out of range or repeated.
 * @example x.ge(0).all().item()
 */
export const all = primitive('all', { kind: 'reduction', axisArg: 1, absent: 'all' }, function (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  return boolReduce('all', x, axis, keepdims);
});

function boolReduce(op: 'any' | 'all', x: Tensor, axis: number | readonly number[] | undefined, keepdims: boolean): Tensor {
  const t = asDType(expectTensor(op, 'input', x), 'bool');
  const axes = normalizeAxes(op, axis, t.ndim);
  const shape = reducedShape(t.shape, axes, keepdims);
  // Over no elements there is no max or min: any is false, all is true.
  if (axes.some((a) => t.shape[a] === 0)) {
    const out = allocate('bool', sizeOf(shape), op, shape);
    if (op === 'all') out.fill(1);
    return constant(out, shape);
  }
  return (op === 'any' ? max : min)(t, axes, keepdims);
}
