import type { FloatArray } from '../dtype.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';

/** The running reductions the scan kernel knows. */
export type ScanKind = 'sum' | 'prod' | 'logsumexp';

interface ScanKernels {
  scanAxis(kind: ScanKind, x: FloatArray, outer: number, n: number, inner: number, reverse: boolean, out: FloatArray): void;
  cumprodGrad(x: FloatArray, g: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void;
  cumulativeArgExtremum(x: FloatArray, outer: number, n: number, inner: number, max: boolean, out: Int32Array): void;
}

/**
 * The scan kernels, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function scanKernels(): ScanKernels {
  // log(e^p + e^q) as max + log1p(e^-|p - q|): never overflows; equal infinities give themselves.
  const logaddexp = (p: number, q: number): number =>
    p === q && (p === Infinity || p === -Infinity) ? p : (p > q || p !== p ? p : q) + Math.log1p(Math.exp(-Math.abs(p - q)));

  /**
   * Running reduction along the middle axis of [outer, n, inner] (from the end when `reverse`).
   * The running value is a float64 JS number whatever the storage, as PyTorch accumulates
   * float32 scans in double on the CPU.
   */
  function scanAxis(kind: ScanKind, x: FloatArray, outer: number, n: number, inner: number, reverse: boolean, out: FloatArray): void {
    const first = reverse ? n - 1 : 0;
    const step = reverse ? -inner : inner;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let at = o * n * inner + first * inner + j;
        switch (kind) {
          case 'sum': {
            let acc = 0;
            for (let k = 0; k < n; k++, at += step) out[at] = acc += x[at]!;
            break;
          }
          case 'prod': {
            let acc = 1;
            for (let k = 0; k < n; k++, at += step) out[at] = acc *= x[at]!;
            break;
          }
          case 'logsumexp': {
            let acc = -Infinity;
            for (let k = 0; k < n; k++, at += step) out[at] = acc = logaddexp(acc, x[at]!);
            break;
          }
          default: {
            const missing: never = kind;
            throw new Error(`scanAxis: no loop for kind ${String(missing)}`);
          }
        }
      }
    }
  }

  /**
   * The gradient of cumprod along the middle axis of [outer, n, inner] for upstream gradient g:
   * out_i = Σ_{j≥i} g_j Π_{m≤j, m≠i} x_m, computed as (Π_{m<i} x_m) · s_i with
   * s_i = g_i + x_{i+1} s_{i+1}: no division, so exact where x holds zeros.
   */
  function cumprodGrad(x: FloatArray, g: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * n * inner + j;
        let s = 0;
        for (let k = n - 1; k >= 0; k--) {
          const at = base + k * inner;
          s = g[at]! + (k + 1 < n ? x[at + inner]! * s : 0);
          out[at] = s;
        }
        let prefix = 1;
        for (let k = 0; k < n; k++) {
          const at = base + k * inner;
          out[at] = prefix * out[at]!;
          prefix *= x[at]!;
        }
      }
    }
  }
  /**
   * For each position along the middle axis of [outer, n, inner], the index (along that axis) of
   * the running maximum (`max`) or minimum so far, as torch.cummax/cummin: a later tie takes
   * over, and NaN wins (the latest NaN) once seen.
   */
  function cumulativeArgExtremum(x: FloatArray, outer: number, n: number, inner: number, max: boolean, out: Int32Array): void {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * n * inner + j;
        let acc = max ? -Infinity : Infinity;
        let best = 0;
        for (let k = 0; k < n; k++) {
          const v = x[base + k * inner]!;
          if (v !== v || (max ? v >= acc : v <= acc)) {
            acc = v;
            best = k;
          }
          out[base + k * inner] = best;
        }
      }
    }
  }
  return { scanAxis, cumprodGrad, cumulativeArgExtremum };
}

const kernels = perDtype(scanKernels, [], (k: ScanKernels, make: Allocator) => {
  const x = make(4), g = make(4), out = make(4);
  x.set([1, 2, 0, 4]);
  k.scanAxis('sum', x, 1, 2, 2, false, out);
  if (!holds(out, [1, 2, 1, 6])) return false;
  k.scanAxis('prod', x, 1, 4, 1, true, out);
  if (!holds(out, [0, 0, 0, 4])) return false;
  g.set([1, 1, 1, 1]);
  k.cumprodGrad(x, g, 1, 4, 1, out);
  if (!holds(out, [3, 1, 10, 0])) return false;
  const at = new Int32Array(4);
  k.cumulativeArgExtremum(x, 1, 4, 1, false, at);
  return at[0] === 0 && at[1] === 0 && at[2] === 2 && at[3] === 2;
});

/**
 * Running sum, product or log-sum-exp along the middle axis of x seen as [outer, n, inner],
 * from the start (or the end when `reverse`), accumulated in float64.
 */
export function scanAxis(kind: ScanKind, x: FloatArray, outer: number, n: number, inner: number, reverse: boolean, out: FloatArray): void {
  kernels(x).scanAxis(kind, x, outer, n, inner, reverse, out);
}

/** The gradient of cumprod along the middle axis of [outer, n, inner], exact through zeros. */
export function cumprodGrad(x: FloatArray, g: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
  kernels(x).cumprodGrad(x, g, outer, n, inner, out);
}

/** Indices (along the middle axis of [outer, n, inner]) of the running maximum or minimum, ties to the latest, NaN winning. */
export function cumulativeArgExtremum(x: FloatArray, outer: number, n: number, inner: number, max: boolean, out: Int32Array): void {
  kernels(x).cumulativeArgExtremum(x, outer, n, inner, max, out);
}
