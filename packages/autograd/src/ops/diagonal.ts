import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxis, sizeOf, stridesOf } from '../shape.js';
import { inverseMap, stridedMap, triangleMap } from '../kernels/layout.js';
import { expectTensor, type Tensor } from '../tensor.js';
import { checkMapSize, takeByMap } from './index-map.js';
import { sum } from './reduce.js';
import { primitive } from '../engine/dispatch.js';

function checkOffset(op: string, name: string, k: number): void {
  if (typeof k !== 'number' || !Number.isInteger(k)) throw new ArgumentError(`${op}: ${name} must be an integer, got ${String(k)}`);
}

function triangle(op: 'tril' | 'triu', input: Tensor, diagonal: number): Tensor {
  const x = expectTensor(op, 'input', input);
  checkOffset(op, 'diagonal', diagonal);
  if (x.ndim < 2) throw new ShapeError(`${op}: input must have at least 2 dimensions (a batch of matrices), got shape ${formatShape(x.shape)}`);
  return takeByMap(op, x, triangleMap(x.shape, diagonal, op === 'tril'), x.shape);
}

/**
 * The lower triangle of each matrix of the last two axes (batched over the others): elements with
 * column - row <= `diagonal` are kept, the rest are 0, as `torch.tril`. `diagonal` 0 is the main
 * diagonal, positive ones are above it. @example tril(ones([3, 3])) // causal mask
 * @throws ShapeError if the input has fewer than 2 dimensions.
 * @throws ArgumentError if `diagonal` is not an integer.
 */
export const tril = primitive('tril', { kind: 'layout', rule: 'matrix' }, function (input: Tensor, diagonal = 0): Tensor {
  return triangle('tril', input, diagonal);
});

/**
 * The upper triangle of each matrix of the last two axes: elements with column - row >= `diagonal`
 * kept, the rest 0, as `torch.triu`. @example triu(ones([3, 3]), 1) // strictly upper
 * @throws ShapeError if the input has fewer than 2 dimensions.
 * @throws ArgumentError if `diagonal` is not an integer.
 */
export const triu = primitive('triu', { kind: 'layout', rule: 'matrix' }, function (input: Tensor, diagonal = 0): Tensor {
  return triangle('triu', input, diagonal);
});

/** Shape, strides and start of the diagonal view of x (its axes a and b dropped, the diagonal last). */
function diagonalView(shape: readonly number[], offset: number, a: number, b: number): { outShape: number[]; strides: number[]; base: number } {
  const strides = stridesOf(shape);
  const row0 = Math.max(0, -offset);
  const col0 = Math.max(0, offset);
  const length = Math.max(0, Math.min(shape[a]! - row0, shape[b]! - col0));
  const keep = shape.map((_, i) => i).filter((i) => i !== a && i !== b);
  return {
    outShape: [...keep.map((i) => shape[i]!), length],
    strides: [...keep.map((i) => strides[i]!), strides[a]! + strides[b]!],
    base: length === 0 ? 0 : row0 * strides[a]! + col0 * strides[b]!,
  };
}

function checkTwoAxes(op: string, dim1: number, dim2: number, ndim: number, shape: readonly number[]): [number, number] {
  const a = normalizeAxis(op, dim1, ndim);
  const b = normalizeAxis(op, dim2, ndim);
  if (a === b) throw new ShapeError(`${op}: dim1 and dim2 are both axis ${a} of shape ${formatShape(shape)}; they must differ`);
  return [a, b];
}

/**
 * The diagonal at `offset` (above the main one when positive) of the matrices spanned by axes
 * `dim1` and `dim2`, as `torch.diagonal`: those axes are removed and the diagonal becomes the last
 * axis. An offset past the edge gives an empty diagonal.
 * @throws ShapeError if the input has fewer than 2 dimensions, or the axes are out of range or equal.
 * @throws ArgumentError if `offset` is not an integer.
 * @example diagonal(x, 0, -2, -1) // the main diagonals of a batch of matrices
 */
export const diagonal = primitive('diagonal', { kind: 'layout', rule: 'diag' }, function (input: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor {
  const x = expectTensor('diagonal', 'input', input);
  checkOffset('diagonal', 'offset', offset);
  if (x.ndim < 2) throw new ShapeError(`diagonal: input must have at least 2 dimensions, got shape ${formatShape(x.shape)}`);
  const [a, b] = checkTwoAxes('diagonal', dim1, dim2, x.ndim, x.shape);
  const view = diagonalView(x.shape, offset, a, b);
  return takeByMap('diagonal', x, stridedMap(view.outShape, view.strides, view.base), view.outShape);
});

/**
 * Matrices with the last axis of the input on their diagonal at `offset`, zeros elsewhere, as
 * `torch.diag_embed`: the result has one more axis; its axes `dim1` and `dim2` (of the result)
 * span the n+|offset| square matrices, and the input's other axes fill the rest in order.
 * @throws ShapeError if the input is 0-d, or the axes are out of range or equal.
 * @throws ArgumentError if `offset` is not an integer.
 * @example diagEmbed(tensor([1, 2])) // [[1, 0], [0, 2]]
 */
export const diagEmbed = primitive('diagEmbed', { kind: 'layout', rule: 'diag' }, function (input: Tensor, offset = 0, dim1 = -2, dim2 = -1): Tensor {
  const x = expectTensor('diagEmbed', 'input', input);
  checkOffset('diagEmbed', 'offset', offset);
  if (x.ndim === 0) throw new ShapeError('diagEmbed: input must have at least 1 dimension, got shape []');
  const [a, b] = checkTwoAxes('diagEmbed', dim1, dim2, x.ndim + 1, [...x.shape]);
  const m = x.shape[x.ndim - 1]! + Math.abs(offset);
  const batch = x.shape.slice(0, -1);
  const outShape: number[] = [];
  for (let d = 0, k = 0; d <= x.ndim; d++) outShape.push(d === a || d === b ? m : batch[k++]!);
  checkMapSize('diagEmbed', outShape);
  // The output's diagonal view lists its diagonal elements in the input's order.
  const view = diagonalView(outShape, offset, a, b);
  const map = inverseMap(stridedMap(view.outShape, view.strides, view.base), sizeOf(outShape));
  return takeByMap('diagEmbed', x, map, outShape);
});

/**
 * As `torch.diag`: of a 1-D tensor, the square matrix with it on diagonal `offset`; of a 2-D
 * tensor, its diagonal at `offset` as a 1-D tensor.
 * @throws ShapeError if the input is neither 1-D nor 2-D.
 * @throws ArgumentError if `offset` is not an integer.
 * @example diag(tensor([1, 2]), 1) // [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
 */
export const diag = primitive('diag', { kind: 'layout', rule: 'diag' }, function (input: Tensor, offset = 0): Tensor {
  const x = expectTensor('diag', 'input', input);
  if (x.ndim === 1) return diagEmbed(x, offset, 0, 1);
  if (x.ndim === 2) return diagonal(x, offset, 0, 1);
  throw new ShapeError(`diag: input must be 1-D or 2-D, got shape ${formatShape(x.shape)}`);
});

/**
 * The sum of the main diagonal of a 2-D tensor, as `torch.trace`.
 * @throws ShapeError if the input is not 2-D.
 * @example trace(eye(3)) // 3
 */
export const trace = primitive('trace', { kind: 'layout', rule: 'diag' }, function (input: Tensor): Tensor {
  const x = expectTensor('trace', 'input', input);
  if (x.ndim !== 2) throw new ShapeError(`trace: input must be 2-D, got shape ${formatShape(x.shape)}`);
  return sum(diagonal(x));
});
