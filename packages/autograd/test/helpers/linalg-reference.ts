/**
 * Plain-loop references for the linear-algebra tests: matrices as flat row-major arrays, one at
 * a time, written from the definitions (cofactor expansion, the exponential series), never from
 * the library's kernels.
 */
import type { Tensor } from '@chainrule/autograd';

/** Matrix `index` (rows × cols) of a batch tensor, as a plain array. */
export function matrixAt(t: Tensor, index: number): number[] {
  const rows = t.shape[t.ndim - 2]!, cols = t.shape[t.ndim - 1]!;
  return Array.from(t.data.subarray(index * rows * cols, (index + 1) * rows * cols));
}

/** How many matrices a batch tensor holds. */
export function batchCount(t: Tensor): number {
  return t.shape.slice(0, -2).reduce((a, b) => a * b, 1);
}

/** a (m×k) · b (k×n). */
export function mm(a: readonly number[], b: readonly number[], m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j]! += a[i * k + p]! * b[p * n + j]!;
  return out;
}

/** The transpose of an m×n matrix. */
export function tr(a: readonly number[], m: number, n: number): number[] {
  const out = new Array<number>(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

/** The n×n identity. */
export function identity(n: number): number[] {
  const out = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** The determinant by cofactor expansion along the first row (n ≤ 6 or so). */
export function cofactorDet(a: readonly number[], n: number): number {
  if (n === 0) return 1;
  if (n === 1) return a[0]!;
  let total = 0;
  for (let j = 0; j < n; j++) {
    const minor: number[] = [];
    for (let i = 1; i < n; i++) for (let c = 0; c < n; c++) if (c !== j) minor.push(a[i * n + c]!);
    total += (j % 2 === 0 ? 1 : -1) * a[j]! * cofactorDet(minor, n - 1);
  }
  return total;
}

/** e^A by its Taylor series Σ Aᵏ/k!, summed until the terms vanish (for modest ‖A‖). */
export function expSeries(a: readonly number[], n: number): number[] {
  let term = identity(n);
  const sum = identity(n);
  for (let k = 1; k < 200; k++) {
    term = mm(term, a, n, n, n).map((v) => v / k);
    let big = 0;
    for (let i = 0; i < n * n; i++) {
      sum[i]! += term[i]!;
      big = Math.max(big, Math.abs(term[i]!));
    }
    if (big === 0 || big < 1e-18 * Math.max(1, ...sum.map(Math.abs))) break;
  }
  return sum;
}

/** max |a - b| over the elements. */
export function maxDiff(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}
