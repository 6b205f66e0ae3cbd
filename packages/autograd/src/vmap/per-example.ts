/**
 * Per-example gradients without n copies of the weights. `grad` inside `vmap` differentiates each
 * example's own copy of an unbatched argument (so gradients are never summed over the batch);
 * copying a weight matrix n times, and multiplying each example by its own copy, would cost n
 * times the memory traffic of the batch's one matrix product. So the copy is a `BroadcastLeaf`
 * (its values are made only if something reads them), and a matrix product of batched rows with
 * it runs as one product with the shared matrix; only its gradient for the weights is per
 * example (one outer product each), which is what per-example gradients are.
 */
import type { FloatArray, TensorData } from '../dtype.js';
import { constant, expectFloat, makeOutput, Tensor, type FloatTensor } from '../tensor.js';
import { allocateUnset, emptyStorage } from '../dtype.js';
import { sizeOf } from '../shape.js';
import { batchedOuter, outerResultStorage } from '../kernels/outer.js';
import { isGradEnabled, noGrad } from '../engine/grad-mode.js';
import { expand, reshape, unsqueeze } from '../ops/shape.js';
import { matmulT } from '../ops/matmul.js';
import { add, mul, sub } from '../ops/binary.js';
import { sumTo } from '../ops/reduce.js';

/**
 * A leaf standing for `base` repeated `size` times along a new dimension 0: shape
 * [size, ...base.shape], its values made on first read.
 * @internal
 */
export class BroadcastLeaf extends Tensor {
  readonly base: Tensor;

  constructor(base: Tensor, size: number) {
    // An empty storage of the dtype, not a view of base's: base may be traced (jit), its values unreadable.
    super(emptyStorage(base.dtype), [0], { requiresGrad: true });
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
  const rows = reshape(x, [sizeOf(x.shape.slice(0, -1)), k]);
  const y = noGrad(() => matmulT(rows, w.base, false, transW));
  const m = y.shape[1]!;
  const outShape = [...x.shape.slice(0, -1), m];
  return makeOutput('matmul', y.data, outShape, [x, w], (g) => {
    // Sizes written out, never -1: a zero-size dimension leaves -1 undetermined.
    const per = sizeOf(x.shape.slice(1, -1));
    const g3 = reshape(g, [n, per, m]);
    const x3 = reshape(x, [n, per, k]);
    // Under createGraph the gradient for x must depend on w (its own second derivative), so it
    // reads w's values; otherwise the shared matrix gives the same numbers with no copy.
    const gx = x.requiresGrad
      ? isGradEnabled()
        ? reshape(matmulT(g3, w, false, !transW), x.shape)
        : reshape(matmulT(reshape(g, [n * per, m]), w.base, false, !transW), x.shape)
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

/**
 * Batched x [n, ...] plus or minus each example's copy of a shared tensor (`w`, a BroadcastLeaf,
 * on the side `wFirst` says), as the elementwise rule lines them up (`rank` dimensions after the
 * batch): one op with the shared tensor, broadcast over the batch, forward, so the copies are
 * never made; backward, w's gradient is each example's own sum of g over the dimensions w was
 * broadcast across (a bias's gradient per example). Null where w's copies would set the batch
 * (x has fewer elements per batch than the result), or the dtypes differ: the general rule then.
 * @internal
 */
export function perExampleSum(op: 'add' | 'sub', x: Tensor, w: BroadcastLeaf, wFirst: boolean, rank: number): Tensor | null {
  const n = x.shape[0]!;
  const base = w.base;
  if (x.dtype !== base.dtype || x.ndim !== rank + 1 || base.ndim > rank) return null;
  const wShape = [n, ...Array<number>(rank - base.ndim).fill(1), ...base.shape];
  const shared = reshape(base, [1, ...wShape.slice(1)]);
  const y = noGrad(() => (op === 'add' ? add(wFirst ? shared : x, wFirst ? x : shared) : sub(wFirst ? shared : x, wFirst ? x : shared)));
  if (y.shape[0] !== n) return null;
  // Signs of each side's gradient: sub negates its second operand's.
  const negate = (first: boolean): boolean => op === 'sub' && !first;
  const signed = (g: Tensor, first: boolean): Tensor => (negate(first) ? g.neg() : g);
  const gradOf = (g: Tensor, shape: readonly number[]): Tensor => (g.ndim === shape.length && g.shape.every((d, i) => d === shape[i]) ? g : sumTo(g, shape));
  return makeOutput(op, y.data, y.shape, wFirst ? [w, x] : [x, w], (g) => {
    const gx = x.requiresGrad ? signed(gradOf(g, x.shape), !wFirst) : null;
    const gw = signed(reshape(gradOf(g, wShape), w.shape), wFirst);
    return wFirst ? [gw, gx] : [gx, gw];
  }, {
    saves: [[], []],
    jvp: (tangents, out) => {
      let sum: Tensor | null = null;
      tangents.forEach((t, i) => {
        if (t === null || t === undefined) return;
        const term = signed(t.ndim === out.ndim ? t : reshape(t, wShape), i === 0);
        sum = sum === null ? term : add(sum, term);
      });
      return sum === null ? null : expand(sum, out.shape);
    },
  });
}

/** Each example's outer product of g [n, 1, m] and x [n, 1, k]: [n, m, k] (or [n, k, m] for !gFirst), outside the graph. */
function outerProducts(g: FloatTensor, x: FloatTensor, gFirst: boolean): Tensor {
  const n = g.shape[0]!;
  const m = g.shape[2]!;
  const k = x.shape[2]!;
  const [a, c, rows, cols] = gFirst ? [g, x, m, k] : [x, g, k, m];
  // Every element is written by the kernel: a result this large is not cleared first; a large
  // one is made where it stays, when the pool has none of its size to make it in.
  const out = allocateUnset(g.dtype, n * rows * cols, 'matmul', [n, rows, cols], () => outerResultStorage(g.dtype === 'float32', n, rows, cols)) as FloatArray;
  batchedOuter(a.data, c.data, n, rows, cols, out);
  return constant(out, [n, rows, cols]);
}
