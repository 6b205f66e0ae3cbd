import type { FloatArray } from '../../dtype.js';
import { copyIn, copyOut, float64In, float64InOut, float64Out, staged } from './memory.js';

/**
 * Drivers of layer normalisation's WebAssembly kernels (source: scripts/wasm/layer-norm.ts), with
 * the bits of the TypeScript kernels (kernels/layer-norm.ts), a chunk of rows per staging. Each
 * returns false, having done nothing, where WebAssembly SIMD is missing or a chunk does not fit
 * its memory.
 */

/** Bytes of rows staged per call (256 KiB of input): a chunk's copies stay in cache, and the memory does not grow with the tensor. */
const STAGE_BYTES = 1 << 18;

/** Rows per chunk for rows of d elements of `size` bytes. */
const chunkRows = (d: number, size: number): number => Math.max(1, Math.floor(STAGE_BYTES / (d * size)));

/**
 * y = layer norm of each of `rows` rows of d elements of x (weight and bias of d, or null), μ and
 * 1/σ of row i into stats[2i], stats[2i + 1], in WebAssembly.
 * @example if (!layerNormForwardWasm(x, rows, d, 1e-5, w, b, y, stats)) ...;
 */
export function layerNormForwardWasm(x: FloatArray, rows: number, d: number, eps: number, w: FloatArray | null, b: FloatArray | null, y: FloatArray, stats: Float64Array): boolean {
  if (rows === 0 || d === 0) return true;
  const f32 = y instanceof Float32Array;
  const chunk = chunkRows(d, f32 ? 4 : 8);
  for (let first = 0; first < rows; first += chunk) {
    const count = Math.min(chunk, rows - first);
    // An absent weight or bias reads x's rows in its place (in bounds), masked out by the flags.
    const regions = [copyIn(x, count * d, first * d), copyIn(w, w === null ? 0 : d), copyIn(b, b === null ? 0 : d), copyOut(y, count * d, first * d), float64Out(stats, 2 * count, 2 * first)];
    const done = staged(f32, regions, (kernels, at) => {
      const flags = (w === null ? 0 : 1) | (b === null ? 0 : 2);
      kernels.layerNorm(at[0]!, count, d, eps, w === null ? at[0]! : at[1]!, b === null ? at[0]! : at[2]!, flags, at[3]!, at[4]!);
    });
    // Every chunk but the last needs the same memory: only the first can fail, having written nothing.
    if (!done) return false;
  }
  return true;
}

/**
 * layerNormForward's VJP from its stats, in WebAssembly: dx per row, and the rows' g⊙x̂ and g added
 * into dw and db (each null where not wanted).
 * @example if (!layerNormBackwardWasm(x, g, rows, d, w, stats, dx, dw, db)) ...;
 */
export function layerNormBackwardWasm(
  x: FloatArray, g: FloatArray, rows: number, d: number, w: FloatArray | null, stats: Float64Array,
  dx: FloatArray | null, dw: Float64Array | null, db: Float64Array | null,
): boolean {
  if (rows === 0 || d === 0) return true;
  const f32 = g instanceof Float32Array;
  const chunk = chunkRows(d, f32 ? 4 : 8);
  const flags = (w === null ? 0 : 1) | (dx === null ? 0 : 2) | (dw === null ? 0 : 4) | (db === null ? 0 : 8);
  for (let first = 0; first < rows; first += chunk) {
    const count = Math.min(chunk, rows - first);
    const regions = [
      copyIn(x, count * d, first * d), copyIn(g, count * d, first * d), copyIn(w, w === null ? 0 : d), float64In(stats, 2 * count, 2 * first),
      dx === null ? copyIn(null, 0) : copyOut(dx, count * d, first * d), dw === null ? copyIn(null, 0) : float64InOut(dw, d), db === null ? copyIn(null, 0) : float64InOut(db, d),
    ];
    const done = staged(f32, regions, (kernels, at) => kernels.layerNormBackward(at[0]!, at[1]!, count, d, w === null ? at[0]! : at[2]!, at[3]!, at[4]!, at[5]!, at[6]!, flags));
    if (!done) return false;
  }
  return true;
}
