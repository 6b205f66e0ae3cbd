import type { FloatArrayOf, FloatDType, NumericArray } from '../types.js';

/** A zeroed float array of the given dtype. */
export function allocFloat<D extends FloatDType>(dtype: D, length: number): FloatArrayOf<D> {
  return (dtype === 'float64' ? new Float64Array(length) : new Float32Array(length)) as FloatArrayOf<D>;
}

/**
 * A zeroed array of the same element type as `a`.
 * NOTE: a Node Buffer is a Uint8Array subclass whose constructor is deprecated, so the base
 * class is chosen by instanceof instead of calling `a.constructor`.
 */
export function emptyLike<T extends NumericArray>(a: T, length: number): T {
  let out: NumericArray;
  if (a instanceof Float32Array) out = new Float32Array(length);
  else if (a instanceof Float64Array) out = new Float64Array(length);
  else if (a instanceof Uint8ClampedArray) out = new Uint8ClampedArray(length);
  else if (a instanceof Uint8Array) out = new Uint8Array(length);
  else if (a instanceof Int8Array) out = new Int8Array(length);
  else if (a instanceof Int16Array) out = new Int16Array(length);
  else if (a instanceof Uint16Array) out = new Uint16Array(length);
  else if (a instanceof Int32Array) out = new Int32Array(length);
  else out = new Uint32Array(length);
  return out as T;
}

/** Copies rows `order[start..end)` of `src` (each `row` values long) into a new array. */
export function gatherRows<T extends NumericArray>(src: T, row: number, order: Uint32Array, start: number, end: number): T {
  const out = emptyLike(src, (end - start) * row);
  let o = 0;
  for (let k = start; k < end; k++) {
    const s = (order[k] as number) * row;
    for (let j = 0; j < row; j++) out[o++] = src[s + j] as number;
  }
  return out;
}
