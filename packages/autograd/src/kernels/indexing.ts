import type { TensorData } from '../dtype.js';

// Loops of the indexing ops (gather, scatter, indexSelect, indexAdd, nonzero). Indices arrive
// checked and made non-negative by the caller; shapes are plain arrays, 0-d passed as [1].

/**
 * The offset into an array of `shape` of the start of each row (every dimension but the last)
 * of a `rowShape` no larger than `shape`, with `axis`'s coordinate counted as 0: the part of an
 * element's address that does not depend on its index value or its position in the row.
 */
function rowBases(rowShape: readonly number[], shape: readonly number[], axis: number): Float64Array {
  const nd = rowShape.length;
  const strides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    strides[d] = d === axis ? 0 : s;
    s *= shape[d]!;
  }
  let rows = 1;
  for (let d = 0; d < nd - 1; d++) rows *= rowShape[d]!;
  const bases = new Float64Array(rows);
  const at = new Array<number>(nd).fill(0);
  let base = 0;
  for (let r = 0; r < rows; r++) {
    bases[r] = base;
    for (let d = nd - 2; d >= 0; d--) {
      base += strides[d]!;
      if (++at[d]! < rowShape[d]!) break;
      base -= strides[d]! * rowShape[d]!;
      at[d] = 0;
    }
  }
  return bases;
}

/** The stride of `axis` in a row-major array of `shape`. */
function axisStride(shape: readonly number[], axis: number): number {
  let s = 1;
  for (let d = shape.length - 1; d > axis; d--) s *= shape[d]!;
  return s;
}

/**
 * torch.gather in its general form: out[p] = x[p with coordinate `axis` replaced by index[p]],
 * for p over `indexShape`, which is no larger than `xShape` off the axis.
 */
export function gatherAlong(x: TensorData, xShape: readonly number[], axis: number, index: Int32Array, indexShape: readonly number[], out: TensorData): void {
  const nd = indexShape.length;
  const last = indexShape[nd - 1]!;
  if (index.length === 0) return;
  const bases = rowBases(indexShape, xShape, axis);
  const sa = axisStride(xShape, axis);
  if (axis === nd - 1) {
    for (let r = 0, p = 0; r < bases.length; r++) {
      const b = bases[r]!;
      for (let j = 0; j < last; j++, p++) out[p] = x[b + index[p]!]!;
    }
  } else {
    for (let r = 0, p = 0; r < bases.length; r++) {
      const b = bases[r]!;
      for (let j = 0; j < last; j++, p++) out[p] = x[b + j + index[p]! * sa]!;
    }
  }
}

/** How a scatter combines a source element with the destination's. */
export type ScatterMode = 'set' | 'add' | 'or' | 'multiply';

/**
 * The adjoint placement of gatherAlong: out[p with coordinate `axis` replaced by index[p]]
 * (op)= src[p], p over `indexShape` in row-major order (so with 'set' the last write wins).
 * `src` has `indexShape`; 'or' is bool addition.
 */
export function scatterAlong(
  out: TensorData, outShape: readonly number[], axis: number, index: Int32Array, indexShape: readonly number[], src: TensorData, mode: ScatterMode,
): void {
  const nd = indexShape.length;
  const last = indexShape[nd - 1]!;
  if (index.length === 0) return;
  const bases = rowBases(indexShape, outShape, axis);
  const sa = axisStride(outShape, axis);
  const inner = axis === nd - 1 ? 0 : 1;
  for (let r = 0, p = 0; r < bases.length; r++) {
    const b = bases[r]!;
    switch (mode) {
      case 'set':
        for (let j = 0; j < last; j++, p++) out[b + j * inner + index[p]! * sa] = src[p]!;
        break;
      case 'add':
        for (let j = 0; j < last; j++, p++) out[b + j * inner + index[p]! * sa]! += src[p]!;
        break;
      case 'or':
        for (let j = 0; j < last; j++, p++) out[b + j * inner + index[p]! * sa]! |= src[p]!;
        break;
      case 'multiply':
        // NOTE: int32 products wrap as PyTorch's; a float product would round past 2^53 first.
        if (out instanceof Int32Array) for (let j = 0; j < last; j++, p++) out[b + j * inner + index[p]! * sa] = Math.imul(out[b + j * inner + index[p]! * sa]!, src[p]!);
        else for (let j = 0; j < last; j++, p++) out[b + j * inner + index[p]! * sa]! *= src[p]!;
        break;
    }
  }
}

/**
 * torch.index_select over [outer, n, inner] x: out[o, k, :] = x[o, index[k], :] for the
 * [outer, index.length, inner] out.
 */
export function indexSelectRows(x: TensorData, n: number, index: Int32Array, outer: number, inner: number, out: TensorData): void {
  const m = index.length;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const xo = o * n;
      const oo = o * m;
      for (let k = 0; k < m; k++) out[oo + k] = x[xo + index[k]!]!;
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const s = (o * n + index[k]!) * inner;
      const d = (o * m + k) * inner;
      // NOTE: short rows copy faster element by element than through subarray().set().
      if (inner < 64) for (let j = 0; j < inner; j++) out[d + j] = x[s + j]!;
      else out.set(x.subarray(s, s + inner), d);
    }
  }
}

/**
 * torch.index_add over [outer, n, inner] out and [outer, index.length, inner] src:
 * out[o, index[k], :] += alpha · src[o, k, :] ('or' for bool: alpha is then ignored).
 */
export function indexAddRows(out: TensorData, n: number, index: Int32Array, src: TensorData, outer: number, inner: number, alpha: number, mode: 'add' | 'or'): void {
  const m = index.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const d = (o * n + index[k]!) * inner;
      const s = (o * m + k) * inner;
      if (mode === 'or') for (let j = 0; j < inner; j++) out[d + j]! |= src[s + j]!;
      else if (alpha === 1) for (let j = 0; j < inner; j++) out[d + j]! += src[s + j]!;
      else if (out instanceof Int32Array) for (let j = 0; j < inner; j++) out[d + j] = out[d + j]! + Math.imul(alpha, src[s + j]!);
      else for (let j = 0; j < inner; j++) out[d + j]! += alpha * src[s + j]!;
    }
  }
}

/** The flat positions of the non-zero elements of x, in order; `count` of them. */
export function nonzeroPositions(x: TensorData): Int32Array {
  let count = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) count++;
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < x.length; i++) if (x[i] !== 0) out[k++] = i;
  return out;
}

/** out[k, d] = coordinate d of flat position `positions[k]` in `shape`: nonzero's [n, ndim] layout. */
export function unravelPositions(positions: Int32Array, shape: readonly number[], out: Int32Array): void {
  const nd = shape.length;
  for (let k = 0; k < positions.length; k++) {
    let rest = positions[k]!;
    for (let d = nd - 1; d >= 0; d--) {
      const n = shape[d]!;
      out[k * nd + d] = rest % n;
      rest = Math.floor(rest / n);
    }
  }
}
