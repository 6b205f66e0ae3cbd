import { allocate } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxis, sizeOf } from '../shape.js';
import { gatherAxis, scatterAddAxis } from '../kernels/layout.js';
import { expectFloat, expectTensor, makeOutput, Tensor, type FloatTensor, type NestedArray } from '../tensor.js';
import { tensor } from '../creation.js';

/**
 * Integer indices with their shape, checked against the size of the gathered axis: an int32
 * tensor (as PyTorch takes int64 ones), or nested arrays of integers.
 */
export function toIndex(op: string, index: Tensor | NestedArray, n: number): { values: Int32Array; shape: readonly number[] } {
  if (index instanceof Tensor && index.dtype !== 'int32') {
    throw new DTypeError(`${op}: index must be an int32 tensor, got ${index.dtype} of shape ${formatShape(index.shape)}; convert it with toDtype('int32')`);
  }
  const t = index instanceof Tensor ? index : tensor(index, { dtype: 'float64' });
  const values = new Int32Array(t.size);
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i]!;
    if (!Number.isInteger(v) || v < -n || v >= n) {
      throw new ShapeError(`${op}: index ${v} at position ${i} is not an integer in [${-n}, ${n}) for an axis of size ${n}`);
    }
    values[i] = v < 0 ? v + n : v;
  }
  return { values, shape: t.shape };
}

/**
 * out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis`, as `torch.gather`: `index`
 * has x's rank and matches x's shape on every other axis. Negative indices count from the end.
 * @throws ShapeError if `index` has another rank, does not match x off `axis`, or holds an index that is not an integer in [-n, n).
 * @example gather(logProbs, 1, [[2], [0]]) // picks column 2 of row 0 and column 0 of row 1
 */
export function gather(input: Tensor, axis: number, index: Tensor | NestedArray): Tensor {
  const x = expectTensor('gather', 'input', input);
  const ax = normalizeAxis('gather', axis, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[ax]!;
  const idx = toIndex('gather', index, n);
  if (idx.shape.length !== x.ndim || idx.shape.some((d, i) => i !== ax && d !== x.shape[i])) {
    throw new ShapeError(
      `gather: index of shape ${formatShape(idx.shape)} must have the rank of input ${formatShape(x.shape)} and match it outside axis ${ax}`,
    );
  }
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  const m = x.ndim === 0 ? 1 : idx.shape[ax]!;
  const out = allocate(x.dtype, idx.values.length);
  gatherAxis(x.data, n, idx.values, m, outer, inner, out);
  return makeOutput('gather', out, idx.shape, [x], (g) => [scatterAdd(expectFloat('gather', g), x.shape, idx.values, ax)], { saves: [[]] });
}

/** The adjoint of gather: zeros of `shape` with g added at the gathered places. */
function scatterAdd(g: FloatTensor, shape: readonly number[], values: Int32Array, ax: number): Tensor {
  const n = shape.length === 0 ? 1 : shape[ax]!;
  const m = g.ndim === 0 ? 1 : g.shape[ax]!;
  const outer = sizeOf(shape.slice(0, ax));
  const inner = sizeOf(shape.slice(ax + 1));
  const out = allocate(g.dtype, sizeOf(shape));
  scatterAddAxis(g.data, m, values, n, outer, inner, out);
  return makeOutput('scatterAdd', out, shape, [g], (gg) => {
    const back = allocate(gg.dtype, values.length);
    gatherAxis(gg.data, n, values, m, outer, inner, back);
    // The adjoint of scatter-add is gather again; built from raw indices to stay on the graph.
    return [makeOutput('gather', back, g.shape, [gg], (g3) => [scatterAdd(expectFloat('gather', g3), shape, values, ax)], { saves: [[]] })];
  }, { saves: [[]] });
}
