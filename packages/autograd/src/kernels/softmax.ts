import type { FloatArray } from '../dtype.js';
import { wantsWasm, wasmDeclined } from './backend.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { softmaxBackwardWasm, softmaxWasm } from './wasm/elementwise.js';

/**
 * Softmax along one axis of data seen as [outer, n, inner] (the axis in the middle), in one pass
 * per slice instead of the max, shift, exp, sum, log and exp passes (and arrays) of the composed
 * form, and its VJP in one pass too.
 */
interface SoftmaxKernels {
  forward(x: FloatArray, outer: number, n: number, inner: number, safe: boolean, out: FloatArray): void;
  backward(g: FloatArray, y: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void;
}

/**
 * The softmax kernels, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function softmaxKernels(): SoftmaxKernels {
  /**
   * out = exp(x - m) / Σ exp(x - m) per slice, m the slice's maximum (0 where that is ±Inf, as
   * `stableShift`), summed in float64. NaN anywhere in a slice makes the slice NaN; a slice of
   * -Inf only is 0/0 = NaN (PyTorch's softmax), or 0 when `safe` (PyTorch's _safe_softmax, the
   * one attention uses for fully masked rows).
   */
  function forward(x: FloatArray, outer: number, n: number, inner: number, safe: boolean, out: FloatArray): void {
    for (let a = 0; a < outer; a++) {
      for (let b = 0; b < inner; b++) {
        const base = a * n * inner + b;
        let m = -Infinity;
        for (let j = 0, i = base; j < n; j++, i += inner) {
          const v = x[i]!;
          if (v > m || v !== v) m = v;
        }
        if (safe && m === -Infinity) {
          for (let j = 0, i = base; j < n; j++, i += inner) out[i] = 0;
          continue;
        }
        if (m === Infinity || m === -Infinity) m = 0;
        let s = 0;
        for (let j = 0, i = base; j < n; j++, i += inner) {
          const e = Math.exp(x[i]! - m);
          out[i] = e;
          s += e;
        }
        // NOTE: the quotient from the stored exponential: in float32 that rounds twice (e, then
        // e/s), well within float32's own error, and saves a second exp per element.
        const r = 1 / s;
        for (let j = 0, i = base; j < n; j++, i += inner) out[i] = out[i]! * r;
      }
    }
  }

  /** out = y ⊙ (g - Σ g ⊙ y) per slice (softmax's VJP from its output y), the sum in float64. */
  function backward(g: FloatArray, y: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
    for (let a = 0; a < outer; a++) {
      for (let b = 0; b < inner; b++) {
        const base = a * n * inner + b;
        let s = 0;
        for (let j = 0, i = base; j < n; j++, i += inner) s += g[i]! * y[i]!;
        // NOTE: + 0 turns the -0 of a zero weight under a negative g - s into 0, as the composed form gave.
        for (let j = 0, i = base; j < n; j++, i += inner) out[i] = y[i]! * (g[i]! - s) + 0;
      }
    }
  }

  return { forward, backward };
}

const kernels = perDtype(softmaxKernels, [], (k: SoftmaxKernels, make: Allocator) => {
  const x = make(2), y = make(2);
  k.forward(x, 1, 2, 1, false, y);
  if (!holds(y, [0.5, 0.5])) return false;
  const g = make(2), out = make(2);
  g.set([1, 3]);
  k.backward(g, y, 1, 2, 1, out);
  return holds(out, [-0.5, 0.5]);
});

/**
 * Softmax of x seen as [outer, n, inner] along its middle axis, into `out` (same size as x).
 * With `safe`, a slice whose every value is -Infinity gives 0s instead of NaN. Contiguous slices
 * (inner 1, the last axis) run in WebAssembly where it pays, with the same bits.
 */
export function softmaxForward(x: FloatArray, outer: number, n: number, inner: number, safe: boolean, out: FloatArray): void {
  if (inner === 1 && wantsWasm('softmax', outer * n)) {
    if (softmaxWasm(x, outer, n, safe, out)) return;
    wasmDeclined('softmax');
  }
  kernels(out).forward(x, outer, n, inner, safe, out);
}

/**
 * out = y ⊙ (g - Σ_axis g ⊙ y) over [outer, n, inner] data: softmax's VJP given its output y.
 * Contiguous slices run in WebAssembly where it pays, with the same bits.
 */
export function softmaxBackward(g: FloatArray, y: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
  if (inner === 1 && wantsWasm('softmax', outer * n)) {
    if (softmaxBackwardWasm(g, y, outer, n, out)) return;
    wasmDeclined('softmax');
  }
  kernels(out).backward(g, y, outer, n, inner, out);
}
