/**
 * Per-example gradients without n copies of the weights. `grad` inside `vmap` differentiates each
 * example's own copy of an unbatched argument (so gradients are never summed over the batch);
 * copying a weight matrix n times, and multiplying each example by its own copy, would cost n
 * times the memory traffic of the batch's one matrix product. So the copy is a `BroadcastLeaf`
 * (its values are made only if something reads them), and a matrix product of batched rows with
 * it runs as one product with the shared matrix; only its gradient for the weights is per
 * example (one outer product each), which is what per-example gradients are.
 */
import type { TensorData } from '../dtype.js';
import { constant, expectFloat, makeOutput, Tensor, type FloatTensor } from '../tensor.js';
import { allocate, allocateUnset } from '../dtype.js';
import { batchedOuter } from '../kernels/outer.js';
import { isGradEnabled, noGrad } from '../engine/grad-mode.js';
import { expand, reshape, unsqueeze } from '../ops/shape.js';
import { matmulT } from '../ops/matmul.js';
import { mul } from '../ops/binary.js';

/**
 * A leaf standing for `base` repeated `size` times along a new dimension 0: shape
 * [size, ...base.shape], its values made on first read.
 * @internal
 */
export class BroadcastLeaf extends Tensor {
  readonly base: Tensor;

  constructor(base: Tensor, size: number) {
    // An empty storage of the dtype, not a view of base's: base may be traced (jit), its values unreadable.
    super(allocate(base.dtype, 0), [0], { requiresGrad: true });
    this.base = base;
    (this as { shape: readonly number[] }).shape = [size, ...base.shape];
    let values: TensorData | null = null;
    Object.defineProperty(this, 'data', {
      get: () => (values ??= noGrad(() => expand(unsqueeze(base, 0), [size, ...base.shape])).data),
    });
  }

  override get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/**
 * Batched rows x [n, ..., k] times each example's copy of a matrix (`w`, a BroadcastLeaf of
 * [n, k, m], or of [n, m, k] read transposed when `transW`): one product with the shared matrix
 * forward; backward, x's gradient is one product too, and w's is each example's own.
 * @internal
 */
export function perExampleMatmul(x: Tensor, w: BroadcastLeaf, transW: boolean): Tensor {
  const n = x.shape[0]!;
  const k = x.shape[x.ndim - 1]!;
  const rows = reshape(x, [-1, k]);
  const y = noGrad(() => matmulT(rows, w.base, false, transW));
  const m = y.shape[1]!;
  const outShape = [...x.shape.slice(0, -1), m];
  return makeOutput('matmul', y.data, outShape, [x, w], (g) => {
    const g3 = reshape(g, [n, -1, m]);
    const x3 = reshape(x, [n, -1, k]);
    // Under createGraph the gradient for x must depend on w (its own second derivative), so it
    // reads w's values; otherwise the shared matrix gives the same numbers with no copy.
    const gx = x.requiresGrad
      ? isGradEnabled()
        ? reshape(matmulT(g3, w, false, !transW), x.shape)
        : reshape(matmulT(reshape(g, [-1, m]), w.base, false, !transW), x.shape)
      : null;
    // One row per example (the usual case): each gradient is an outer product, a broadcast
    // multiply written straight into the result, not n matrix products of depth 1.
    // Without createGraph, a kernel writes them at once.
    const rowsPer = g3.shape[1]!;
    const gw = rowsPer !== 1
      ? transW ? matmulT(g3, x3, true, false) : matmulT(x3, g3, true, false)
      : !isGradEnabled()
        ? outerProducts(expectFloat('matmul', g3), expectFloat('matmul', x3), transW)
        : transW ? mul(reshape(g3, [n, m, 1]), x3) : mul(reshape(x3, [n, k, 1]), g3);
    return [gx, gw];
  }, { saves: [[w.base], [0]] });
}

/** Each example's outer product of g [n, 1, m] and x [n, 1, k]: [n, m, k] (or [n, k, m] for !gFirst), outside the graph. */
function outerProducts(g: FloatTensor, x: FloatTensor, gFirst: boolean): Tensor {
  const n = g.shape[0]!;
  const m = g.shape[2]!;
  const k = x.shape[2]!;
  const [a, c, rows, cols] = gFirst ? [g, x, m, k] : [x, g, k, m];
  // Every element is written by the kernel: a result this large is not cleared first.
  const out = allocateUnset(g.dtype, n * rows * cols, 'matmul', [n, rows, cols]);
  batchedOuter(a.data, c.data, n, rows, cols, out);
  return constant(out, [n, rows, cols]);
}
