import type { FloatArray } from '../dtype.js';
import { wantsWasm, wasmDeclined } from './backend.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { axpyWasm } from './wasm/optimisers.js';

interface AxpyKernels {
  axpy(y: FloatArray, alpha: number, x: FloatArray, beta: number): void;
}

/**
 * The TypeScript axpby, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function axpyKernels(): AxpyKernels {
  /** y[i] = beta·y[i] + alpha·x[i], four elements per iteration (independent updates, fewer checks). */
  function axpy(y: FloatArray, alpha: number, x: FloatArray, beta: number): void {
    const n = y.length;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const y0 = beta * y[i]! + alpha * x[i]!;
      const y1 = beta * y[i + 1]! + alpha * x[i + 1]!;
      const y2 = beta * y[i + 2]! + alpha * x[i + 2]!;
      const y3 = beta * y[i + 3]! + alpha * x[i + 3]!;
      y[i] = y0;
      y[i + 1] = y1;
      y[i + 2] = y2;
      y[i + 3] = y3;
    }
    for (; i < n; i++) y[i] = beta * y[i]! + alpha * x[i]!;
  }
  return { axpy };
}

const kernels = perDtype(axpyKernels, [], (k: AxpyKernels, make: Allocator) => {
  const y = make(5), x = make(5);
  y.set([1, 2, 3, 4, 5]);
  x.set([1, 1, 2, 2, 4]);
  k.axpy(y, -0.5, x, 1);
  if (!holds(y, [0.5, 1.5, 2, 3, 3])) return false;
  k.axpy(y, 1, x, 2);
  return holds(y, [2, 4, 6, 8, 10]);
});

/** The TypeScript kernel alone, whatever the backend (for tests and the micro-benchmarks). */
export function axpyJs(y: FloatArray, alpha: number, x: FloatArray, beta = 1): void {
  kernels(y).axpy(y, alpha, x, beta);
}

/**
 * y ← β·y + α·x in place (BLAS axpby; β = 1 is axpy) over y and x of one dtype and length; each
 * element is computed in float64 and rounded once (β·y is exact for β = 1), the same bits on
 * every backend. Long arrays take the WebAssembly vector loop where it is available.
 */
export function axpyKernel(y: FloatArray, alpha: number, x: FloatArray, beta = 1): void {
  if (wantsWasm('axpy', y.length)) {
    if (axpyWasm(y, alpha, x, beta)) return;
    wasmDeclined('axpy');
  }
  axpyJs(y, alpha, x, beta);
}
