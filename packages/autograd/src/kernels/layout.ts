import type { FloatArray, TensorData } from '../dtype.js';
import { broadcastStrides, collapseDims } from './binary.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';

/** out = x with axes reordered by `perm` (out axis d is x axis perm[d]). */
export function permute(x: TensorData, shape: readonly number[], perm: readonly number[], out: TensorData): void {
  const nd = shape.length;
  if (x.length === 0) return;
  const inStrides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d]!;
  }
  const outShape = perm.map((p) => shape[p]!);
  const strides = perm.map((p) => inStrides[p]!);
  const inner = nd === 0 ? 1 : outShape[nd - 1]!;
  const innerStride = nd === 0 ? 0 : strides[nd - 1]!;
  const index = new Array<number>(nd).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o += inner) {
    for (let i = 0; i < inner; i++) out[o + i] = x[src + i * innerStride]!;
    for (let d = nd - 2; d >= 0; d--) {
      src += strides[d]!;
      if (++index[d]! < outShape[d]!) break;
      src -= strides[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
}

interface CopyKernels {
  copyRuns(src: TensorData, srcStride: number, srcAt: number, dst: TensorData, dstStride: number, dstAt: number, rows: number, run: number): void;
  concatRows(srcs: readonly TensorData[], runs: readonly number[], total: number, dst: TensorData, outer: number): void;
  takeFlat(x: TensorData, map: Int32Array, fill: number, out: TensorData): void;
  scatterAddFlat(g: FloatArray, map: Int32Array, out: FloatArray): void;
}

/**
 * The copy kernels, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function copyKernels(): CopyKernels {
  /**
   * `rows` runs of `run` elements: dst[dstAt + r·dstStride + k] = src[srcAt + r·srcStride + k].
   * NOTE: `set(subarray())` allocates a view per run, which costs more than copying a short run
   * element by element (a run of 4 copied that way is ~30× slower than one long copy), so runs
   * shorter than 64 elements (about where the two cross in V8) take a plain loop.
   */
  function copyRuns(src: TensorData, srcStride: number, srcAt: number, dst: TensorData, dstStride: number, dstAt: number, rows: number, run: number): void {
    if (run >= 64) {
      for (let r = 0; r < rows; r++) {
        const s = srcAt + r * srcStride;
        dst.set(src.subarray(s, s + run), dstAt + r * dstStride);
      }
    } else if (run === 1) {
      for (let r = 0; r < rows; r++) dst[dstAt + r * dstStride] = src[srcAt + r * srcStride]!;
    } else {
      for (let r = 0; r < rows; r++) {
        const s = srcAt + r * srcStride;
        const d = dstAt + r * dstStride;
        for (let k = 0; k < run; k++) dst[d + k] = src[s + k]!;
      }
    }
  }

  /**
   * Row o of dst (`total` elements) = row o of each src (runs[p] elements) in turn.
   * NOTE: short runs (thin pieces, as a concat along the last axis) are copied a block of rows at
   * a time, piece by piece, so the block of dst being filled stays in cache while each piece is
   * read front to back; runs of up to 4 elements are copied without an inner loop, whose set-up
   * per run costs more than the copy (bench/micro/concat.ts measures both).
   */
  function concatRows(srcs: readonly TensorData[], runs: readonly number[], total: number, dst: TensorData, outer: number): void {
    let shortest = Infinity;
    for (let p = 0; p < runs.length; p++) if (runs[p]! < shortest) shortest = runs[p]!;
    if (shortest >= 64) {
      for (let p = 0, at = 0; p < srcs.length; p++) {
        copyRuns(srcs[p]!, runs[p]!, 0, dst, total, at, outer, runs[p]!);
        at += runs[p]!;
      }
      return;
    }
    const block = 256;
    for (let o0 = 0; o0 < outer; o0 += block) {
      const o1 = o0 + block < outer ? o0 + block : outer;
      for (let p = 0, at = 0; p < srcs.length; p++) {
        const src = srcs[p]!;
        const run = runs[p]!;
        let s = o0 * run;
        let d = o0 * total + at;
        if (run === 1) {
          for (let o = o0; o < o1; o++, s += 1, d += total) dst[d] = src[s]!;
        } else if (run === 2) {
          for (let o = o0; o < o1; o++, s += 2, d += total) {
            dst[d] = src[s]!;
            dst[d + 1] = src[s + 1]!;
          }
        } else if (run === 3) {
          for (let o = o0; o < o1; o++, s += 3, d += total) {
            dst[d] = src[s]!;
            dst[d + 1] = src[s + 1]!;
            dst[d + 2] = src[s + 2]!;
          }
        } else if (run === 4) {
          for (let o = o0; o < o1; o++, s += 4, d += total) {
            dst[d] = src[s]!;
            dst[d + 1] = src[s + 1]!;
            dst[d + 2] = src[s + 2]!;
            dst[d + 3] = src[s + 3]!;
          }
        } else {
          for (let o = o0; o < o1; o++, s += run, d += total) for (let k = 0; k < run; k++) dst[d + k] = src[s + k]!;
        }
        at += run;
      }
    }
  }

  /** out[i] = x[map[i]], or `fill` where map[i] < 0. */
  function takeFlat(x: TensorData, map: Int32Array, fill: number, out: TensorData): void {
    for (let i = 0; i < map.length; i++) {
      const j = map[i]!;
      out[i] = j < 0 ? fill : x[j]!;
    }
  }

  /** The adjoint of takeFlat: out[map[i]] += g[i] where map[i] >= 0 (out zeroed by the caller). */
  function scatterAddFlat(g: FloatArray, map: Int32Array, out: FloatArray): void {
    for (let i = 0; i < map.length; i++) {
      const j = map[i]!;
      if (j >= 0) out[j]! += g[i]!;
    }
  }
  return { copyRuns, concatRows, takeFlat, scatterAddFlat };
}

const floatCopies = perDtype(copyKernels, [], (k: CopyKernels, make: Allocator) => {
  const x = make(6), out = make(6);
  x.set([1, 2, 3, 4, 5, 6]);
  k.copyRuns(x, 3, 1, out, 2, 0, 2, 2);
  if (!holds(out, [2, 3, 5, 6])) return false;
  k.concatRows([x.subarray(0, 2), x.subarray(2, 6)], [1, 2], 3, out, 2);
  if (!holds(out, [1, 3, 4, 2, 5, 6])) return false;
  k.concatRows([x.subarray(0, 3), x.subarray(3, 6)], [3, 3], 6, out, 1);
  if (!holds(out, [1, 2, 3, 4, 5, 6])) return false;
  k.takeFlat(x, Int32Array.of(5, -1, 0), 9, out);
  if (!holds(out, [6, 9, 1])) return false;
  out.fill(0);
  k.scatterAddFlat(x, Int32Array.of(1, -1, 1), out);
  return holds(out, [0, 4, 0]);
});

/**
 * The copy kernels for `data`'s element type.
 * NOTE: int32 and bool storage share the float64 copy: these loops only move elements, so they
 * are right for any typed array, only polymorphic (slower) in a process that moves both.
 */
function copies(data: TensorData): CopyKernels {
  return floatCopies(data as FloatArray);
}

/**
 * Copies a block along the middle axis of [outer, n, inner]-shaped arrays:
 * dst[o, dstStart + k, :] = src[o, srcStart + k, :] for k < count.
 * Slicing and its gradient are this one copy.
 */
export function copyAlongAxis(
  src: TensorData, srcN: number, srcStart: number,
  dst: TensorData, dstN: number, dstStart: number,
  outer: number, count: number, inner: number,
): void {
  if (outer === 0 || count * inner === 0) return;
  copies(dst).copyRuns(src, srcN * inner, srcStart * inner, dst, dstN * inner, dstStart * inner, outer, count * inner);
}

/**
 * Joins [outer, counts[p], inner] arrays along their middle axis into dst of [outer, Σcounts, inner],
 * one piece at a time.
 */
export function concatAxis(srcs: readonly TensorData[], counts: readonly number[], dst: TensorData, outer: number, inner: number): void {
  if (dst.length === 0) return;
  const runs = counts.map((c) => c * inner);
  copies(dst).concatRows(srcs, runs, runs.reduce((a, b) => a + b, 0), dst, outer);
}

/** out[i] = x[map[i]], or `fill` where map[i] < 0: every rearrangement of elements is one of these. */
export function takeFlat(x: TensorData, map: Int32Array, fill: number, out: TensorData): void {
  copies(out).takeFlat(x, map, fill, out);
}

/** The adjoint of takeFlat: out[map[i]] += g[i] where map[i] >= 0 (out zeroed by the caller). */
export function scatterAddFlat(g: FloatArray, map: Int32Array, out: FloatArray): void {
  copies(out).scatterAddFlat(g, map, out);
}

/**
 * The flat source index of each element of an array of `outShape`, whose coordinate along axis
 * d is `coords[d]` at its own coordinate there (-1: no source, giving -1), in an array of
 * `inShape`. Flips, rolls, pads, strided slices and repeats are all such maps.
 */
export function separableMap(inShape: readonly number[], outShape: readonly number[], coords: readonly Int32Array[]): Int32Array {
  const nd = outShape.length;
  let size = 1;
  for (const d of outShape) size *= d;
  const map = new Int32Array(size);
  if (size === 0 || nd === 0) return map; // a 0-d array's one element is element 0
  const strides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    strides[d] = s;
    s *= inShape[d]!;
  }
  const last = coords[nd - 1]!;
  const lastStride = strides[nd - 1]!;
  const inner = outShape[nd - 1]!;
  const index = new Array<number>(nd).fill(0);
  for (let o = 0; o < size; o += inner) {
    // The offset of the leading coordinates, once per innermost row.
    let base = 0;
    let none = false;
    for (let d = 0; d < nd - 1; d++) {
      const c = coords[d]![index[d]!]!;
      if (c < 0) none = true;
      base += c * strides[d]!;
    }
    for (let i = 0; i < inner; i++) {
      const c = last[i]!;
      map[o + i] = none || c < 0 ? -1 : base + c * lastStride;
    }
    for (let d = nd - 2; d >= 0; d--) {
      if (++index[d]! < outShape[d]!) break;
      index[d] = 0;
    }
  }
  return map;
}

/** out (of outShape) = x broadcast along its size-1 and missing leading dimensions. */
export function broadcastCopy(x: TensorData, xShape: readonly number[], out: TensorData, outShape: readonly number[]): void {
  if (out.length === 0) return;
  const { shape, strides } = collapseDims(outShape, [broadcastStrides(xShape, outShape)]);
  const sx = strides[0]!;
  const nd = shape.length;
  const inner = shape[nd - 1]!;
  const innerStride = sx[nd - 1]!;
  const index = new Array<number>(nd).fill(0);
  let ix = 0;
  for (let o = 0; o < out.length; o += inner) {
    if (innerStride === 0) out.fill(x[ix]!, o, o + inner);
    else out.set(x.subarray(ix, ix + inner), o);
    for (let d = nd - 2; d >= 0; d--) {
      ix += sx[d]!;
      if (++index[d]! < shape[d]!) break;
      ix -= sx[d]! * shape[d]!;
      index[d] = 0;
    }
  }
}

/**
 * The flat source index of each element of an array of `outShape` read at `base` + Σ index[d]·strides[d]
 * (any strides, negative and zero included): diagonals, strided slices and flips are such views.
 */
export function stridedMap(outShape: readonly number[], strides: readonly number[], base: number): Int32Array {
  const nd = outShape.length;
  let size = 1;
  for (const d of outShape) size *= d;
  const map = new Int32Array(size);
  if (size === 0) return map;
  if (nd === 0) {
    map[0] = base;
    return map;
  }
  const inner = outShape[nd - 1]!;
  const step = strides[nd - 1]!;
  const index = new Array<number>(nd).fill(0);
  let at = base;
  for (let o = 0; o < size; o += inner) {
    for (let i = 0; i < inner; i++) map[o + i] = at + i * step;
    for (let d = nd - 2; d >= 0; d--) {
      at += strides[d]!;
      if (++index[d]! < outShape[d]!) break;
      at -= strides[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
  return map;
}

/** For a map that reads each source element at most once: the map of `size` elements that puts them back (-1 elsewhere). */
export function inverseMap(map: Int32Array, size: number): Int32Array {
  const inverse = new Int32Array(size).fill(-1);
  for (let i = 0; i < map.length; i++) inverse[map[i]!] = i;
  return inverse;
}

/**
 * The identity map over an array of `shape` (at least 2-D) with -1 on one side of diagonal `k` of
 * the last two axes: what `tril` (`lower`: kept where column - row <= k) and `triu` (>= k) keep.
 */
export function triangleMap(shape: readonly number[], k: number, lower: boolean): Int32Array {
  const rows = shape[shape.length - 2]!;
  const cols = shape[shape.length - 1]!;
  let size = 1;
  for (const d of shape) size *= d;
  const map = new Int32Array(size);
  for (let m = 0; m < size; m += rows * cols) {
    for (let r = 0; r < rows; r++) {
      const row = m + r * cols;
      for (let c = 0; c < cols; c++) map[row + c] = (lower ? c - r <= k : c - r >= k) ? row + c : -1;
    }
  }
  return map;
}
