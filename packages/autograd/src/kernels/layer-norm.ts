import type { FloatArray } from '../dtype.js';
import { wantsWasm, wasmDeclined } from './backend.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { layerNormBackwardWasm, layerNormForwardWasm } from './wasm/layer-norm.js';

/**
 * Layer normalisation over rows of d elements, y = (x - μ)·r·w + b with r = 1/√(σ² + eps), in
 * one pass per row (mean and variance in float64, the variance of the centred values), and its
 * VJP in one pass per row plus the weight's and bias's column sums.
 */
interface LayerNormKernels {
  forward(x: FloatArray, rows: number, d: number, eps: number, w: FloatArray | null, b: FloatArray | null, y: FloatArray, stats: Float64Array): void;
  backward(
    x: FloatArray, g: FloatArray, rows: number, d: number, w: FloatArray | null, stats: Float64Array,
    dx: FloatArray | null, dw: Float64Array | null, db: Float64Array | null,
  ): void;
}

/**
 * The layer-norm kernels, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function layerNormKernels(): LayerNormKernels {
  /** Fills y and stats[2r] = μ, stats[2r + 1] = r for each row. */
  function forward(x: FloatArray, rows: number, d: number, eps: number, w: FloatArray | null, b: FloatArray | null, y: FloatArray, stats: Float64Array): void {
    for (let r = 0, o = 0; r < rows; r++, o += d) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[o + j]!;
      const mu = s / d;
      let v = 0;
      for (let j = 0; j < d; j++) {
        const c = x[o + j]! - mu;
        v += c * c;
      }
      const rstd = 1 / Math.sqrt(v / d + eps);
      stats[2 * r] = mu;
      stats[2 * r + 1] = rstd;
      for (let j = 0; j < d; j++) {
        const n = (x[o + j]! - mu) * rstd;
        y[o + j] = (w === null ? n : n * w[j]!) + (b === null ? 0 : b[j]!);
      }
    }
  }

  /**
   * With x̂ = (x - μ)·r and u = g⊙w: dx = r·(u - mean(u) - x̂·mean(u⊙x̂)) per row; dw += Σ_rows g⊙x̂,
   * db += Σ_rows g (each accumulated in float64; any of the three may be null: not wanted).
   */
  function backward(
    x: FloatArray, g: FloatArray, rows: number, d: number, w: FloatArray | null, stats: Float64Array,
    dx: FloatArray | null, dw: Float64Array | null, db: Float64Array | null,
  ): void {
    for (let r = 0, o = 0; r < rows; r++, o += d) {
      const mu = stats[2 * r]!, rstd = stats[2 * r + 1]!;
      let su = 0, sux = 0;
      for (let j = 0; j < d; j++) {
        const gj = g[o + j]!;
        const n = (x[o + j]! - mu) * rstd;
        const u = w === null ? gj : gj * w[j]!;
        su += u;
        sux += u * n;
        if (dw !== null) dw[j]! += gj * n;
        if (db !== null) db[j]! += gj;
      }
      if (dx === null) continue;
      const mu1 = su / d, mu2 = sux / d;
      for (let j = 0; j < d; j++) {
        const n = (x[o + j]! - mu) * rstd;
        const u = w === null ? g[o + j]! : g[o + j]! * w[j]!;
        dx[o + j] = rstd * (u - mu1 - n * mu2);
      }
    }
  }

  return { forward, backward };
}

const kernels = perDtype(layerNormKernels, [], (k: LayerNormKernels, make: Allocator) => {
  // [1, 3]: μ = 2, σ² = 1, so with eps 0 the row normalises to [-1, 1].
  const x = make(2), y = make(2), stats = new Float64Array(2);
  x.set([1, 3]);
  k.forward(x, 1, 2, 0, null, null, y, stats);
  return holds(y, [-1, 1]) && stats[0] === 2 && stats[1] === 1;
});

/**
 * y = layer norm of each of `rows` rows of d (weight and bias of d, or null); stats gets μ and 1/σ
 * per row. In WebAssembly where it pays, with the same bits.
 */
export function layerNormForward(x: FloatArray, rows: number, d: number, eps: number, w: FloatArray | null, b: FloatArray | null, y: FloatArray, stats: Float64Array): void {
  if (wantsWasm('layerNorm', rows * d)) {
    if (layerNormForwardWasm(x, rows, d, eps, w, b, y, stats)) return;
    wasmDeclined('layerNorm');
  }
  kernels(y).forward(x, rows, d, eps, w, b, y, stats);
}

/**
 * The VJP of layerNormForward from its stats: dx per row, dw and db summed over rows and added to
 * what they hold (each null if not wanted). In WebAssembly where it pays, with the same bits.
 */
export function layerNormBackward(
  x: FloatArray, g: FloatArray, rows: number, d: number, w: FloatArray | null, stats: Float64Array,
  dx: FloatArray | null, dw: Float64Array | null, db: Float64Array | null,
): void {
  if (wantsWasm('layerNorm', rows * d)) {
    if (layerNormBackwardWasm(x, g, rows, d, w, stats, dx, dw, db)) return;
    wasmDeclined('layerNorm');
  }
  kernels(x).backward(x, g, rows, d, w, stats, dx, dw, db);
}
