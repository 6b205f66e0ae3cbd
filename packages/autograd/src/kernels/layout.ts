import type { TensorData } from '../dtype.js';
import { broadcastStrides, collapseDims } from './binary.js';

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

/**
 * Copies a block along the middle axis of [outer, n, inner]-shaped arrays:
 * dst[o, dstStart + k, :] = src[o, srcStart + k, :] for k < count.
 * Slicing, concatenation and their gradients are all this one copy.
 */
export function copyAlongAxis(
  src: TensorData, srcN: number, srcStart: number,
  dst: TensorData, dstN: number, dstStart: number,
  outer: number, count: number, inner: number,
): void {
  const run = count * inner;
  for (let o = 0; o < outer; o++) {
    const s = (o * srcN + srcStart) * inner;
    const d = (o * dstN + dstStart) * inner;
    dst.set(src.subarray(s, s + run), d);
  }
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
