import { allocateUnset } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, shapesEqual, sizeOf } from '../shape.js';
import { gemmBatch } from '../kernels/gemm.js';
import { expectFloat, makeOutput, type OutputOptions, type Tensor } from '../tensor.js';
import { primitive } from '../engine/dispatch.js';
import { sumTo } from './reduce.js';

/**
 * Flags of `headMatmul`'s `packed` argument: which of a, b and the result hold their heads side
 * by side in the last axis.
 */
export const PACKED_A = 1, PACKED_B = 2, PACKED_OUT = 4;

/** One operand seen as a batch of matrices: each at its offset, rows `ld` elements apart. */
interface Operand {
  readonly batch: number[];
  /** Elements from one matrix to the next along each axis of `batch`. */
  readonly strides: number[];
  readonly rows: number;
  readonly cols: number;
  readonly ld: number;
}

/**
 * t as a batch of matrices: [..., rows, cols] (contiguous), or, packed, [..., rows, heads·cols]
 * seen as [..., heads, rows, cols] (head h is the h-th block of cols columns in every row).
 */
function operand(name: string, t: Tensor, heads: number, packed: boolean, shapes: () => string): Operand {
  if (t.ndim < 2) throw new ShapeError(`headMatmul: ${name} needs at least 2 axes; got ${shapes()}`);
  const lead = t.shape.slice(0, -2);
  const rows = t.shape[t.ndim - 2]!, last = t.shape[t.ndim - 1]!;
  if (packed && last % heads !== 0) throw new ShapeError(`headMatmul: the last axis of ${name} (${last}) does not split into ${heads} heads; got ${shapes()}`);
  const cols = packed ? last / heads : last;
  const strides = new Array<number>(lead.length + (packed ? 1 : 0));
  let step = rows * last;
  for (let d = lead.length - 1; d >= 0; d--) {
    strides[d] = step;
    step *= lead[d]!;
  }
  if (packed) strides[lead.length] = cols;
  return { batch: packed ? [...lead, heads] : lead, strides, rows, cols, ld: last };
}

/** Element offsets of each matrix of `x` over the (broadcast) batch shape, in row-major order. */
function offsetsOver(x: Operand, batch: readonly number[], count: number): number[] {
  const skip = batch.length - x.batch.length;
  const offsets = new Array<number>(count);
  for (let bi = 0; bi < count; bi++) {
    let off = 0, rest = bi;
    for (let d = batch.length - 1; d >= skip; d--) {
      const i = rest % batch[d]!;
      rest = (rest - i) / batch[d]!;
      if (x.batch[d - skip] !== 1) off += i * x.strides[d - skip]!;
    }
    offsets[bi] = off;
  }
  return offsets;
}

/**
 * Batched op(a)·op(b) over attention heads, where any of a, b and the result may hold its heads
 * packed side by side in its last axis (`packed`, PACKED_A | PACKED_B | PACKED_OUT): a packed
 * [..., L, heads·D] tensor stands for [..., heads, L, D], its split form. The value is that of
 * `matmulT` on the split forms, merged back when PACKED_OUT, but the heads are read and written
 * in place (gemm row steps): no split or merge copies, in forward or backward. Batch axes
 * broadcast as matmulT's. Its VJP is four more calls of itself, so it differentiates again.
 * @throws ShapeError if an operand has fewer than 2 axes, a packed last axis does not split into
 * the heads, the inner sizes differ, the batch axes do not broadcast, or a packed result's last
 * batch axis is not the heads.
 * @example headMatmul(q, k, false, true, 4, PACKED_A | PACKED_B) // q, k [N, L, 4·D] -> scores [N, 4, L, L]
 */
export const headMatmul = primitive('headMatmul', { kind: 'contraction', rule: 'rowwise' }, function (a: Tensor, b: Tensor, transA: boolean, transB: boolean, heads: number, packed: number): Tensor {
  const shapes = () => `a ${formatShape(a.shape)}, b ${formatShape(b.shape)} (${heads} heads, transA ${transA}, transB ${transB})`;
  const x = operand('a', a, heads, (packed & PACKED_A) !== 0, shapes);
  const y = operand('b', b, heads, (packed & PACKED_B) !== 0, shapes);
  const m = transA ? x.cols : x.rows, k = transA ? x.rows : x.cols;
  const kb = transB ? y.cols : y.rows, n = transB ? y.rows : y.cols;
  if (k !== kb) throw new ShapeError(`headMatmul: inner sizes differ (${k} != ${kb}); got ${shapes()}`);
  const batch = broadcastShapes('headMatmul', x.batch, y.batch);
  const count = sizeOf(batch);
  const ad = expectFloat('headMatmul', a).data, bd = expectFloat('headMatmul', b).data;
  const packOut = (packed & PACKED_OUT) !== 0;
  if (packOut && batch[batch.length - 1] !== heads) throw new ShapeError(`headMatmul: a packed result needs the heads (${heads}) as its last batch axis, got batch ${formatShape(batch)}; ${shapes()}`);
  const shape = packOut ? [...batch.slice(0, -1), m, heads * n] : [...batch, m, n];
  const out = allocateUnset(expectFloat('headMatmul', a).dtype, count * m * n, 'headMatmul', shape);
  const cOffsets = packOut ? Array.from({ length: count }, (_, i) => (i - (i % heads)) * m * n + (i % heads) * n) : undefined;
  gemmBatch({
    transA, transB, m, n, k,
    a: ad, aOffsets: offsetsOver(x, batch, count), lda: x.ld,
    b: bd, bOffsets: offsetsOver(y, batch, count), ldb: y.ld,
    c: out, ...(cOffsets === undefined ? {} : { cOffsets, ldc: heads * n }),
  });
  // Each gradient is the product matmulT's VJP makes, laid out as its operand.
  const pa = packed & PACKED_A ? 1 : 0, pb = packed & PACKED_B ? 1 : 0, pg = packOut ? 1 : 0;
  const flags = (first: number, second: number, result: number) => first * PACKED_A + second * PACKED_B + result * PACKED_OUT;
  // NOTE: the engine sums a broadcast operand's gradient back only where its axes line up with
  // the output's, which a packed layout's do not: these gradients are summed back here.
  const fit = (grad: Tensor, input: Tensor): Tensor => (shapesEqual(grad.shape, input.shape) ? grad : sumTo(grad, input.shape));
  return makeOutput('headMatmul', out, shape, [a, b], (g) => [
    a.requiresGrad ? fit(transA ? headMatmul(b, g, transB, true, heads, flags(pb, pg, pa)) : headMatmul(g, b, false, !transB, heads, flags(pg, pb, pa)), a) : null,
    b.requiresGrad ? fit(transB ? headMatmul(g, a, true, transA, heads, flags(pg, pa, pb)) : headMatmul(a, g, !transA, false, heads, flags(pa, pg, pb)), b) : null,
  ], {
    saves: [[1], [0]],
    jvp: ([ta, tb]) => {
      const da = ta === null || ta === undefined ? null : headMatmul(ta, b, transA, transB, heads, packed);
      const db = tb === null || tb === undefined ? null : headMatmul(a, tb, transA, transB, heads, packed);
      // Both have the output's shape (the operands' batch axes broadcast alike).
      return da === null ? db : db === null ? da : da.add(db);
    },
  } satisfies OutputOptions);
});
