import type { FloatArray } from '../dtype.js';
import { wantsWasm } from './backend.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { columnSumsWasm } from './wasm/elementwise.js';

/** The reductions the kernel knows. */
export type ReduceKind = 'sum' | 'max' | 'min' | 'prod';

interface ReduceKernels {
  reduceAxis(kind: ReduceKind, x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void;
  reduceRun(kind: ReduceKind, x: FloatArray, start: number, n: number): number;
  productOfOthers(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void;
}

/**
 * The reduction kernels, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function reduceKernels(): ReduceKernels {
  /**
   * Reduces the middle axis of x seen as [outer, n, inner] into out of [outer, inner].
   * Sums and products accumulate in a float64 JS number whatever the storage, so float32
   * reductions lose no more precision than one final rounding. max/min propagate NaN.
   */
  function reduceAxis(kind: ReduceKind, x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
    if (inner === 1) {
      for (let o = 0; o < outer; o++) out[o] = reduceRun(kind, x, o * n, n);
      return;
    }
    // Strided: walk rows of `inner` contiguous elements, combining into an accumulator row.
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner;
      acc.fill(reduceRun(kind, x, 0, 0)); // the kind's identity: what it gives for no elements
      for (let k = 0; k < n; k++) {
        const row = base + k * inner;
        switch (kind) {
          case 'sum':
            for (let j = 0; j < inner; j++) acc[j]! += x[row + j]!;
            break;
          case 'prod':
            for (let j = 0; j < inner; j++) acc[j]! *= x[row + j]!;
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
          default: {
            const missing: never = kind;
            throw new Error(`reduceAxis: no loop for kind ${String(missing)}`);
          }
        }
      }
      out.set(acc, o * inner);
    }
  }

  /** Reduces the n contiguous elements of x starting at `start`. */
  function reduceRun(kind: ReduceKind, x: FloatArray, start: number, n: number): number {
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
      default: {
        const missing: never = kind;
        throw new Error(`reduceRun: no loop for kind ${String(missing)}`);
      }
    }
  }

  /**
   * For each run of n elements along the middle axis of [outer, n, inner]: the product of all
   * the other elements of the run (prefix × suffix products, so zeros need no division).
   */
  function productOfOthers(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
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
          out[base + k * inner]! *= suffix;
          suffix *= x[base + k * inner]!;
        }
      }
    }
  }
  return { reduceAxis, reduceRun, productOfOthers };
}

const kernels = perDtype(reduceKernels, [], (k: ReduceKernels, make: Allocator) => {
  const x = make(6), out = make(3);
  x.set([1, 2, 3, 4, 5, 6]);
  k.reduceAxis('sum', x, 1, 2, 3, out);
  if (!holds(out, [5, 7, 9])) return false;
  k.reduceAxis('max', x, 3, 2, 1, out);
  return holds(out, [2, 4, 6]) && k.reduceRun('prod', x, 1, 3) === 24;
});

/**
 * Reduces the middle axis of x seen as [outer, n, inner] into out of [outer, inner].
 * Sums and products accumulate in a float64 JS number whatever the storage, so float32
 * reductions lose no more precision than one final rounding. max/min propagate NaN.
 */
export function reduceAxis(kind: ReduceKind, x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
  if (
    kind === 'sum' &&
    inner > 1 &&
    outer * n > 0 &&
    wantsWasm('columnSums', x.length, x.byteLength) &&
    columnSumsWasm(x, outer, n, inner, out)
  ) {
    return;
  }
  kernels(x).reduceAxis(kind, x, outer, n, inner, out);
}

/** Reduces the n contiguous elements of x starting at `start`. */
export function reduceRun(kind: ReduceKind, x: FloatArray, start: number, n: number): number {
  return kernels(x).reduceRun(kind, x, start, n);
}

/**
 * For each run of n elements along the middle axis of [outer, n, inner]: the product of all
 * the other elements of the run (prefix × suffix products, so zeros need no division).
 */
export function productOfOthers(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
  kernels(x).productOfOthers(x, outer, n, inner, out);
}

/** Whether each dtype runs its own copy of the reduction kernels (for tests). */
export function reduceKernelsAreMonomorphic(): boolean {
  return kernels.isMonomorphic();
}
