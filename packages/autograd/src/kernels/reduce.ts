import type { FloatArray } from '../dtype.js';

/** The reductions the kernel knows. */
export type ReduceKind = 'sum' | 'max' | 'min' | 'prod';

/**
 * Reduces the middle axis of x seen as [outer, n, inner] into out of [outer, inner].
 * Sums and products accumulate in a float64 JS number whatever the storage, so float32
 * reductions lose no more precision than one final rounding. max/min propagate NaN.
 */
export function reduceAxis(kind: ReduceKind, x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) out[o] = reduceRun(kind, x, o * n, n);
    return;
  }
  // Strided: walk rows of `inner` contiguous elements, combining into an accumulator row.
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    acc.fill(kind === 'sum' ? 0 : kind === 'prod' ? 1 : kind === 'max' ? -Infinity : Infinity);
    for (let k = 0; k < n; k++) {
      const row = base + k * inner;
      switch (kind) {
        case 'sum':
          for (let j = 0; j < inner; j++) acc[j] += x[row + j]!;
          break;
        case 'prod':
          for (let j = 0; j < inner; j++) acc[j] *= x[row + j]!;
          break;
        case 'max':
          for (let j = 0; j < inner; j++) {
            const v = x[row + j]!;
            if (v > acc[j]! || v !== v) acc[j] = v;
          }
          break;
        case 'min':
          for (let j = 0; j < inner; j++) {
            const v = x[row + j]!;
            if (v < acc[j]! || v !== v) acc[j] = v;
          }
          break;
      }
    }
    out.set(acc, o * inner);
  }
}

/** Reduces the n contiguous elements of x starting at `start`. */
export function reduceRun(kind: ReduceKind, x: FloatArray, start: number, n: number): number {
  const end = start + n;
  switch (kind) {
    case 'sum': {
      let s = 0;
      for (let i = start; i < end; i++) s += x[i]!;
      return s;
    }
    case 'prod': {
      let p = 1;
      for (let i = start; i < end; i++) p *= x[i]!;
      return p;
    }
    case 'max': {
      let m = -Infinity;
      for (let i = start; i < end; i++) {
        const v = x[i]!;
        if (v > m || v !== v) m = v;
      }
      return m;
    }
    case 'min': {
      let m = Infinity;
      for (let i = start; i < end; i++) {
        const v = x[i]!;
        if (v < m || v !== v) m = v;
      }
      return m;
    }
  }
}

/**
 * For each run of n elements along the middle axis of [outer, n, inner]: the product of all
 * the other elements of the run (prefix × suffix products, so zeros need no division).
 */
export function productOfOthers(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let prefix = 1;
      for (let k = 0; k < n; k++) {
        out[base + k * inner] = prefix;
        prefix *= x[base + k * inner]!;
      }
      let suffix = 1;
      for (let k = n - 1; k >= 0; k--) {
        out[base + k * inner] *= suffix;
        suffix *= x[base + k * inner]!;
      }
    }
  }
}
