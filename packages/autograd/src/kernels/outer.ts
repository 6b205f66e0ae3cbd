import type { FloatArray } from '../dtype.js';

/** out[b, i, j] = a[b, i] · c[b, j] for b < n, i < m, j < k: one outer product per batch entry. */
export function batchedOuter(a: FloatArray, c: FloatArray, n: number, m: number, k: number, out: FloatArray): void {
  let o = 0;
  for (let b = 0; b < n; b++) {
    const cb = b * k;
    for (let i = 0; i < m; i++) {
      const s = a[b * m + i]!;
      for (let j = 0; j < k; j++) out[o++] = s * c[cb + j]!;
    }
  }
}
