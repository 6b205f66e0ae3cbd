import { ArgumentError, ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';
import { expectTensor, type Tensor } from '../tensor.js';
import { onesLike } from '../creation.js';
import { operands, promoteAll } from './operands.js';
import { matmul, matmulT } from './matmul.js';
import { permute, reshape } from './shape.js';
import { where } from './where.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const ADDMM_OPTIONS = ['beta', 'alpha'];

/**
 * The outer product of two vectors: out[i, j] = a[i]·b[j] (`torch.outer`).
 * @throws ShapeError if an operand is not 1-D; DTypeError if float32 meets float64 (integer vectors give an integer product).
 * @example outer(u, v) // [n] and [m] -> [n, m]
 */
export const outer = primitive('outer', { kind: 'contraction', rule: 'outer' }, function (input: Tensor, vec2: Tensor): Tensor {
  const [a, b] = operands('outer', expectTensor('outer', 'input', input), expectTensor('outer', 'vec2', vec2));
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new ShapeError(`outer: both operands must be 1-D, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  return reshape(a, [a.size, 1]).mul(reshape(b, [1, b.size]));
});

/**
 * Sums products over axes of a and b paired in order (`torch.tensordot`): `dims` as a number d
 * pairs the last d axes of a with the first d of b; as two lists, `[axesOfA, axesOfB]`. The
 * result has a's remaining axes, then b's. Runs as one matmul over the flattened axes.
 * @throws ArgumentError if dims is neither a non-negative integer nor two lists of one length.
 * @throws ShapeError if an axis is out of range or repeated, d exceeds a rank, or paired axes differ in size.
 * @throws DTypeError if float32 meets float64 (int32 and bool operands are computed in float).
 * @example tensordot(a, b, 1) // a matrix product for 2-D a and b
 * @example tensordot(a, b, [[1, 0], [0, 1]])
 */
export const tensordot = primitive('tensordot', { kind: 'contraction', rule: 'tensordot' }, function (a: Tensor, b: Tensor, dims: number | readonly [readonly number[], readonly number[]] = 2): Tensor {
  const [x, y] = promoteAll('tensordot', [expectTensor('tensordot', 'a', a), expectTensor('tensordot', 'b', b)], 'float') as [Tensor, Tensor];
  let axesA: number[], axesB: number[];
  if (typeof dims === 'number') {
    if (!Number.isInteger(dims) || dims < 0) throw new ArgumentError(`tensordot: dims must be a non-negative integer or two lists of axes, got ${dims}`);
    if (dims > x.ndim || dims > y.ndim) {
      throw new ShapeError(`tensordot: cannot contract ${dims} axes of shapes ${formatShape(x.shape)} and ${formatShape(y.shape)}`);
    }
    axesA = Array.from({ length: dims }, (_, i) => x.ndim - dims + i);
    axesB = Array.from({ length: dims }, (_, i) => i);
  } else {
    if (!Array.isArray(dims) || dims.length !== 2 || !Array.isArray(dims[0]) || !Array.isArray(dims[1]) || dims[0].length !== dims[1].length) {
      throw new ArgumentError(`tensordot: dims must be a non-negative integer or two lists of axes of one length, got ${JSON.stringify(dims)}`);
    }
    axesA = dims[0].map((d) => normalizeAxis('tensordot', d, x.ndim));
    axesB = dims[1].map((d) => normalizeAxis('tensordot', d, y.ndim));
  }
  for (const [axes, t] of [[axesA, x], [axesB, y]] as const) {
    if (new Set(axes).size !== axes.length) {
      throw new ShapeError(`tensordot: axes ${JSON.stringify(axes)} repeat an axis of shape ${formatShape(t.shape)}`);
    }
  }
  axesA.forEach((d, i) => {
    if (x.shape[d] !== y.shape[axesB[i]!]) {
      throw new ShapeError(
        `tensordot: axis ${d} of a ${formatShape(x.shape)} has size ${x.shape[d]} but axis ${axesB[i]} of b ${formatShape(y.shape)} has size ${y.shape[axesB[i]!]}`,
      );
    }
  });
  const freeA = x.shape.map((_, i) => i).filter((i) => !axesA.includes(i));
  const freeB = y.shape.map((_, i) => i).filter((i) => !axesB.includes(i));
  const k = sizeOf(axesA.map((d) => x.shape[d]!));
  const outShape = [...freeA.map((d) => x.shape[d]!), ...freeB.map((d) => y.shape[d]!)];
  const m = sizeOf(freeA.map((d) => x.shape[d]!));
  const n = sizeOf(freeB.map((d) => y.shape[d]!));
  const xm = reshape(permute(x, [...freeA, ...axesA]), [m, k]);
  const ym = reshape(permute(y, [...axesB, ...freeB]), [k, n]);
  return reshape(matmulT(xm, ym, false, false), outShape);
});

/**
 * Batched matrix product of two 3-D tensors with one batch size, [b, n, m]·[b, m, p] -> [b, n, p]
 * (`torch.bmm`; no broadcasting: `matmul` broadcasts).
 * @throws ShapeError if an operand is not 3-D, the batch sizes differ or the inner sizes do not match.
 * @throws DTypeError if float32 meets float64 (int32 and bool operands are computed in float).
 * @example bmm(q, k.transpose(1, 2))
 */
export const bmm = primitive('bmm', { kind: 'contraction', rule: 'bmm' }, function (input: Tensor, mat2: Tensor): Tensor {
  const [a, b] = promoteAll('bmm', [expectTensor('bmm', 'input', input), expectTensor('bmm', 'mat2', mat2)], 'float') as [Tensor, Tensor];
  checkBatchedPair('bmm', a, b, 3);
  return matmulT(a, b, false, false);
});

function checkBatchedPair(op: string, a: Tensor, b: Tensor, rank: number): void {
  if (a.ndim !== rank || b.ndim !== rank) {
    throw new ShapeError(`${op}: both operands must be ${rank}-D, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  if (rank === 3 && a.shape[0] !== b.shape[0]) {
    throw new ShapeError(`${op}: batch sizes differ: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  if (a.shape[rank - 1] !== b.shape[rank - 2]) {
    throw new ShapeError(`${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} are not aligned (${a.shape[rank - 1]} != ${b.shape[rank - 2]})`);
  }
}

/** Scales of `addmm` and `baddbmm`. */
export interface AddmmOptions {
  /** Multiplies the added input (default 1); with 0 the input is ignored, NaN and Inf included, as in PyTorch. */
  beta?: number;
  /** Multiplies the product (default 1). */
  alpha?: number;
}

/**
 * `beta·input + alpha·(mat1·mat2)` for 2-D mat1 and mat2, input broadcast to the product's shape
 * (`torch.addmm`). With beta 0 the input is not read (NaN in it does not propagate) and its
 * gradient is 0.
 * @throws ShapeError if mat1 or mat2 is not 2-D, they do not align, or input does not broadcast to the product.
 * @throws DTypeError if the dtypes differ; ArgumentError if beta or alpha is not a number.
 * @example addmm(bias, x, w)
 */
export const addmm = primitive('addmm', { kind: 'contraction', rule: 'addmm' }, function (input: Tensor, mat1: Tensor, mat2: Tensor, options: AddmmOptions = {}): Tensor {
  return addProduct('addmm', 2, input, mat1, mat2, options);
});

/**
 * `beta·input + alpha·bmm(batch1, batch2)` for 3-D batches, input broadcast to the product's
 * shape (`torch.baddbmm`); beta 0 ignores the input, as `addmm`.
 * @throws As `addmm`, for 3-D operands with one batch size.
 * @example baddbmm(mask, q, kT, { alpha: 1 / Math.sqrt(d) })
 */
export const baddbmm = primitive('baddbmm', { kind: 'contraction', rule: 'addmm' }, function (input: Tensor, batch1: Tensor, batch2: Tensor, options: AddmmOptions = {}): Tensor {
  return addProduct('baddbmm', 3, input, batch1, batch2, options);
});

function addProduct(op: string, rank: number, input: Tensor, m1: Tensor, m2: Tensor, options: AddmmOptions): Tensor {
  checkOptions(op, options, ADDMM_OPTIONS);
  const given = [expectTensor(op, 'input', input), expectTensor(op, rank === 2 ? 'mat1' : 'batch1', m1), expectTensor(op, rank === 2 ? 'mat2' : 'batch2', m2)];
  const [c, a, b] = promoteAll(op, given, 'float') as [Tensor, Tensor, Tensor];
  const { beta = 1, alpha = 1 } = options;
  if (typeof beta !== 'number' || typeof alpha !== 'number') {
    throw new ArgumentError(`${op}: beta and alpha must be numbers, got ${typeof beta} and ${typeof alpha}`);
  }
  checkBatchedPair(op, a, b, rank);
  const productShape = rank === 2 ? [a.shape[0]!, b.shape[1]!] : [a.shape[0]!, a.shape[1]!, b.shape[2]!];
  let ok: boolean;
  try {
    ok = shapesEqual(broadcastShapes(op, c.shape, productShape), productShape);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new ShapeError(`${op}: input ${formatShape(c.shape)} does not broadcast to the product's shape ${formatShape(productShape)} (operands ${formatShape(a.shape)} and ${formatShape(b.shape)})`);
  }
  const product = matmul(a, b);
  const scaled = alpha === 1 ? product : product.mul(alpha);
  // beta 0 must not read the input: where() passes it a zero gradient and takes none of its values.
  const added = beta === 0 ? where(onesLike(c), 0, c) : beta === 1 ? c : c.mul(beta);
  return scaled.add(added);
}
