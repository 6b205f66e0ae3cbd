import { allocate } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, sizeOf } from '../shape.js';
import { gemmBatch } from '../kernels/gemm.js';
import { broadcastStrides } from '../kernels/binary.js';
import { expectTensor, expectFloat, isFloat, makeOutput, type OutputOptions, type Tensor } from '../tensor.js';
import { checkSameDType, promoteAll } from './operands.js';
import { reshape } from './shape.js';
import { primitive } from '../engine/dispatch.js';

/**
 * Batched product of the last two axes, op(a)·op(b), where op transposes in place when its flag
 * is set: a is [..., m, k] (or [..., k, m] when transA). Batch axes broadcast.
 * Its VJP is four more calls of itself with other flags, so backward reads transposed operands
 * in place (no transposed copies) and stays differentiable.
 */
export const matmulT = primitive('matmulT', { kind: 'contraction', rule: 'matmulT' }, function (a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const ra = a.ndim, rb = b.ndim;
  const m = a.shape[transA ? ra - 1 : ra - 2]!;
  const k = a.shape[transA ? ra - 2 : ra - 1]!;
  const kb = b.shape[transB ? rb - 1 : rb - 2]!;
  const n = b.shape[transB ? rb - 2 : rb - 1]!;
  if (k !== kb) {
    throw new ShapeError(`matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} are not aligned (${k} != ${kb})`);
  }
  const batchA = a.shape.slice(0, ra - 2);
  const batchB = b.shape.slice(0, rb - 2);
  const batch = broadcastShapes('matmul', batchA, batchB);
  const count = sizeOf(batch);
  const ad = expectFloat('matmul', a).data;
  const bd = expectFloat('matmul', b).data;
  const out = allocate(expectFloat('matmul', a).dtype, count * m * n, 'matmul', [...batch, m, n]);
  const stridesA = broadcastStrides(batchA, batch);
  const stridesB = broadcastStrides(batchB, batch);
  const matA = m * k, matB = k * n;
  const aOffsets = new Array<number>(count), bOffsets = new Array<number>(count);
  for (let bi = 0; bi < count; bi++) {
    let offA = 0, offB = 0, rest = bi;
    for (let d = batch.length - 1; d >= 0; d--) {
      const i = rest % batch[d]!;
      rest = (rest - i) / batch[d]!;
      offA += i * stridesA[d]!;
      offB += i * stridesB[d]!;
    }
    aOffsets[bi] = offA * matA;
    bOffsets[bi] = offB * matB;
  }
  gemmBatch({ transA, transB, m, n, k, a: ad, aOffsets, b: bd, bOffsets, c: out });
  // Over broadcast batches the gradients keep the output's batch axes; the engine sums them back.
  return makeOutput('matmul', out, [...batch, m, n], [a, b], (g) => [
    a.requiresGrad ? (transA ? matmulT(b, g, transB, true) : matmulT(g, b, false, !transB)) : null,
    b.requiresGrad ? (transB ? matmulT(g, a, true, transA) : matmulT(a, g, !transA, false)) : null,
  ], MATMUL_OPTIONS[(transA ? 2 : 0) + (transB ? 1 : 0)]);
});

/** Per transpose flags: what the VJP reads, and the JVP ȧ·b + a·ḃ (bilinear: the product of each tangent with the other operand). */
const MATMUL_OPTIONS: readonly OutputOptions[] = [false, true].flatMap((transA) =>
  [false, true].map((transB): OutputOptions => ({
    saves: [[1], [0]],
    jvp: ([ta, tb], _out, [a, b]) => {
      const da = ta === null || ta === undefined ? null : matmulT(ta, b!, transA, transB);
      const db = tb === null || tb === undefined ? null : matmulT(a!, tb, transA, transB);
      return da === null ? db : db === null ? da : da.add(db);
    },
  })),
);

/**
 * Matrix product with NumPy's `matmul` rules: 1-D·1-D is a dot product, a 1-D operand is
 * promoted to a matrix and its axis removed from the result, batch axes broadcast.
 * @throws ShapeError if an operand is 0-d, the inner dimensions differ, or the batch axes do not broadcast.
 * @throws DTypeError if float32 meets float64. int32 and bool operands are computed in float (as other float ops).
 * @example matmul(x, w) // [batch, in] · [in, out] -> [batch, out]
 */
export const matmul = primitive('matmul', { kind: 'contraction', rule: 'matmul' }, function (a: Tensor, b: Tensor): Tensor {
  let x = expectTensor('matmul', 'input', a);
  let y = expectTensor('matmul', 'other', b);
  if (!isFloat(x) || !isFloat(y)) [x, y] = promoteAll('matmul', [x, y], 'float') as [Tensor, Tensor];
  checkSameDType('matmul', x, y);
  if (x.ndim === 0 || y.ndim === 0) {
    throw new ShapeError(`matmul: both operands need at least one dimension, got shapes ${formatShape(x.shape)} and ${formatShape(y.shape)}`);
  }
  const kx = x.shape[x.ndim - 1]!;
  const ky = y.shape[y.ndim === 1 ? 0 : y.ndim - 2]!;
  if (kx !== ky) {
    throw new ShapeError(`matmul: shapes ${formatShape(x.shape)} and ${formatShape(y.shape)} are not aligned (${kx} != ${ky})`);
  }
  const x2 = x.ndim === 1 ? reshape(x, [1, kx]) : x;
  const y2 = y.ndim === 1 ? reshape(y, [ky, 1]) : y;
  const out = matmulT(x2, y2, false, false);
  if (x.ndim > 1 && y.ndim > 1) return out;
  const shape = out.shape.slice(0, out.ndim - 2);
  if (x.ndim > 1) shape.push(out.shape[out.ndim - 2]!);
  if (y.ndim > 1) shape.push(out.shape[out.ndim - 1]!);
  return reshape(out, shape);
});
