import type { FloatArray } from '../dtype.js';
import { wantsWasm, wasmDeclined } from './backend.js';
import { outerRoom, outerWasm } from './wasm/elementwise.js';
import { RESIDENT_MIN_BYTES, residentStorage } from './wasm/resident.js';

/**
 * out[b, i, j] = a[b, i]·c[b, j] for b < n, i < m, j < k: one outer product per batch entry,
 * written once into `out` (n·m·k elements, every one written, so it need not be zeroed first);
 * a, c and out of one dtype.
 * Both backends give the same bits: each element is one correctly rounded product.
 * @example batchedOuter(x, g, batch, inFeatures, outFeatures, perExampleWeightGrads);
 */
export function batchedOuter(a: FloatArray, c: FloatArray, n: number, m: number, k: number, out: FloatArray): void {
  if (n === 0 || m === 0 || k === 0) return;
  if (wantsWasm('outer', m * k)) {
    if (outerWasm(a, c, n, m, k, out)) return;
    wasmDeclined('outer');
  }
  batchedOuterJs(a, c, n, m, k, out);
}

/**
 * Storage for `batchedOuter`'s n·m·k results (float32 where `f32`) that its WebAssembly kernel
 * writes where it stays (kernels/wasm/resident.ts), instead of making them in its own memory and
 * copying them out, which takes longer than making them; for large results under the
 * WebAssembly kernels only, else null (the caller then takes ordinary storage).
 * @example const out = allocateUnset('float32', n * m * k, 'matmul', [n, m, k], () => outerResultStorage(true, n, m, k));
 */
export function outerResultStorage(f32: boolean, n: number, m: number, k: number): FloatArray | null {
  const length = n * m * k;
  if (length * (f32 ? 4 : 8) < RESIDENT_MIN_BYTES || !wantsWasm('outer', m * k)) return null;
  return residentStorage(f32, length, outerRoom(n, m, k));
}

/** The TypeScript `batchedOuter`. */
export function batchedOuterJs(a: FloatArray, c: FloatArray, n: number, m: number, k: number, out: FloatArray): void {
  // The loop only streams stores: unrolled by 8 so the store of each product is most of the work.
  const whole = k & ~7;
  for (let b = 0; b < n; b++) {
    const cb = b * k;
    const ab = b * m;
    let o = ab * k;
    for (let i = 0; i < m; i++, o += k) {
      const s = a[ab + i]!;
      let j = 0;
      for (; j < whole; j += 8) {
        const p = o + j;
        const q = cb + j;
        out[p] = s * c[q]!;
        out[p + 1] = s * c[q + 1]!;
        out[p + 2] = s * c[q + 2]!;
        out[p + 3] = s * c[q + 3]!;
        out[p + 4] = s * c[q + 4]!;
        out[p + 5] = s * c[q + 5]!;
        out[p + 6] = s * c[q + 6]!;
        out[p + 7] = s * c[q + 7]!;
      }
      for (; j < k; j++) out[o + j] = s * c[cb + j]!;
    }
  }
}
