import type { FloatArray } from '../dtype.js';

/**
 * C = op(A) · op(B), overwriting C. op(A) is m×k: A is stored m×k row-major, or k×m when
 * `transA` (read in place, never copied). op(B) is k×n: B is n×k when `transB`.
 * Operands start at the given offsets, so batched products need no copies.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOffset: number,
  b: FloatArray,
  bOffset: number,
  c: FloatArray,
  cOffset: number,
): void {
  c.fill(0, cOffset, cOffset + m * n);
  // i-p-j order: the inner loop walks a row of B and a row of C contiguously.
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  for (let i = 0; i < m; i++) {
    const ci = cOffset + i * n;
    for (let p = 0; p < k; p++) {
      const av = a[aOffset + i * aRow + p * aCol]!;
      const bp = bOffset + p * bRow;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j * bCol]!;
    }
  }
}
