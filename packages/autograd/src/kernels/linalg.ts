// Dense linear algebra on one matrix at a time: row-major Float64Array work buffers the op
// layer fills (a float32 input is factored in float64 and rounded once on the way out). The
// factorisations follow LAPACK's conventions (partial pivoting, dlarfg's reflector signs) so
// results agree with PyTorch's to rounding. No kernel here throws: each reports the first
// step that failed and the op names the matrix.
import { wantsWasm } from './backend.js';
import { gemm } from './gemm.js';
import { factorWasm, type FactorSteps } from './wasm/linalg.js';

// Width below which the recursive triangular solve switches to plain loops.
const LEAF = 16;
// The leaves of the LU and Cholesky recursions where their steps are TypeScript loops (small
// matrices, or no WebAssembly): the loops' work grows with the leaf's width, a product's costs
// little beyond its arithmetic; with products in WebAssembly and leaves in TypeScript, 8
// columns beat 16 by about a sixth at n = 256.
const JS_LEAF = 8;
// The same in WebAssembly, whose leaves are vector loops (its panel solve is unrolled for this
// width: scripts/wasm/linalg.ts PANEL_WIDTH).
const WASM_LEAF = 16;
// Rows per product of the Cholesky's trailing update: only the lower triangle is wanted, so it
// is made by strips of rows, each up to its diagonal block.
const STRIP = 32;

/** Scratch for `jsSteps` and the triangular solve: packed operands and their product, sized once per call. */
interface ProductScratch {
  left: Float64Array;
  right: Float64Array;
  prod: Float64Array;
}

let cachedScratch: ProductScratch | null = null;

/**
 * Scratch for the factorisations of n×n matrices, kept between calls: a batch of factorisations
 * (or a benchmark loop) would otherwise allocate a megabyte per matrix at n = 256. Safe because
 * the kernels are synchronous and never re-entered.
 */
function productScratch(n: number): ProductScratch {
  const half = Math.ceil(n / 2) + LEAF;
  const c = cachedScratch;
  if (c !== null && c.left.length >= n * half && c.prod.length >= n * n) return c;
  cachedScratch = { left: new Float64Array(n * half), right: new Float64Array(half * n), prod: new Float64Array(n * n) };
  return cachedScratch;
}

/** Rows·cols of the largest update the factorisations here make: about n/2 square, or n rows by half the columns and a leaf. */
const largestUpdate = (n: number, leaf: number): number => n * Math.max(Math.ceil(n / 2) + leaf, STRIP);

/**
 * Runs a factorisation's `work` on `a` (n×n) with the steps of the backend that suits its size:
 * in WebAssembly memory where the gemm would be WebAssembly (factorWasm), else TypeScript loops
 * on `a` itself, whose products are packed into contiguous operands for gemm.
 */
function factorise(a: Float64Array, n: number, work: (steps: FactorSteps) => void): void {
  if (n > WASM_LEAF && wantsWasm('gemm', n * n * n) && factorWasm(a, n, largestUpdate(n, WASM_LEAF), WASM_LEAF, work)) return;
  work(jsSteps(a, n));
}

/** FactorSteps in TypeScript, on `a` in place. */
function jsSteps(a: Float64Array, n: number): FactorSteps {
  const { left, right, prod } = productScratch(n);
  const col = new Float64Array(JS_LEAF * n);
  return {
    leaf: JS_LEAF,
    update(r0, rows, k0, kk, c0, cols, transposed) {
      if (rows === 0 || cols === 0 || kk === 0) return;
      for (let i = 0; i < rows; i++) left.set(a.subarray((r0 + i) * n + k0, (r0 + i) * n + k0 + kk), i * kk);
      if (transposed) {
        for (let j = 0; j < cols; j++) for (let i = 0; i < kk; i++) right[i * cols + j] = a[(c0 + j) * n + k0 + i]!;
      } else {
        for (let i = 0; i < kk; i++) right.set(a.subarray((k0 + i) * n + c0, (k0 + i) * n + c0 + cols), i * cols);
      }
      gemm({ transA: false, transB: false, m: rows, n: cols, k: kk, a: left, b: right, c: prod });
      for (let i = 0; i < rows; i++) {
        const row = (r0 + i) * n + c0, from = i * cols;
        for (let j = 0; j < cols; j++) a[row + j]! -= prod[from + j]!;
      }
    },
    luPanel: (c0, c1, pivots) => luLeaf(a, n, c0, c1, col, pivots),
    unitLowerRows(r0, r1, c0, cols) {
      for (let i = r0 + 1; i < r1; i++) subtractCombination(a, i * n, i * n, r0, i, n, c0, c0 + cols);
    },
    choleskyLeaf(k0, k1) {
      for (let j = k0; j < k1; j++) {
        const rowJ = j * n;
        let d = a[rowJ + j]!;
        for (let p = k0; p < j; p++) d -= a[rowJ + p]! * a[rowJ + p]!;
        // NOTE: `!(d > 0)` also catches NaN, which would otherwise flow on silently.
        if (!(d > 0)) return j + 1;
        const root = Math.sqrt(d);
        a[rowJ + j] = root;
        const inv = 1 / root;
        for (let i = j + 1; i < k1; i++) {
          const rowI = i * n;
          let s = a[rowI + j]!;
          for (let p = k0; p < j; p++) s -= a[rowI + p]! * a[rowJ + p]!;
          a[rowI + j] = s * inv;
        }
      }
      return -1;
    },
    solveVector: (x) => substituteVector(a, n, x),
    lowerTransposedRows(k0, k1, r0, r1) {
      for (let i = r0; i < r1; i++) {
        const rowI = i * n;
        for (let j = k0; j < k1; j++) {
          const rowJ = j * n;
          let s = a[rowI + j]!;
          for (let p = k0; p < j; p++) s -= a[rowI + p]! * a[rowJ + p]!;
          a[rowI + j] = s / a[rowJ + j]!;
        }
      }
    },
  };
}

/** The split of [from, to) for a recursion ending in leaves of `leaf`: the first part a whole number of leaves, about half. */
const split = (from: number, to: number, leaf: number): number => from + Math.ceil((to - from) / 2 / leaf) * leaf;

/**
 * LU factorisation with partial pivoting, in place: on return `a` holds U on and above the
 * diagonal and the multipliers of the unit lower L below it, and row i of P·A is row perm[i]
 * of A. Returns the first column whose pivot is exactly zero (the matrix is singular), or -1;
 * as LAPACK's getrf it goes on past a zero pivot, so the factors stay defined. Recursive over
 * columns (Toledo 1997): factor the left half, solve for the top of the right half, update the
 * rest of it by one gemm, factor that; nearly all the work is in the gemm calls. Where the
 * gemm is WebAssembly, the whole factorisation runs on a copy of `a` in its memory, so the
 * products read their blocks in place (factorWasm). With `rhs`, also solves for that one right side.
 */
export function luFactor(a: Float64Array, n: number, perm: Int32Array, rhs?: VectorSolve): number {
  for (let i = 0; i < n; i++) perm[i] = i;
  let zero = -1;
  factorise(a, n, (steps) => {
    zero = luColumns(steps, n, 0, n, perm, new Int32Array(steps.leaf));
    if (rhs === undefined || zero >= 0) return;
    for (let i = 0; i < n; i++) rhs.x[i] = rhs.b[perm[i]!]!;
    steps.solveVector(rhs.x);
  });
  return zero;
}

/**
 * One right side for `luFactor` to solve for while the factors are at hand (in WebAssembly memory,
 * where it factors there): `x` (n values) receives A⁻¹·b, as `luSolve` would give it, unless A
 * is singular (then `x` is left as it was).
 */
export interface VectorSolve {
  readonly b: Float64Array;
  readonly x: Float64Array;
}

/** Factors columns c0..c1 (rows c0..n), whose Schur complement is up to date; see luFactor. */
function luColumns(steps: FactorSteps, n: number, c0: number, c1: number, perm: Int32Array, pivots: Int32Array): number {
  if (c1 - c0 <= steps.leaf) {
    const zero = steps.luPanel(c0, c1, pivots);
    for (let c = 0; c < c1 - c0; c++) {
      const p = pivots[c]!;
      const t = perm[c0 + c]!;
      perm[c0 + c] = perm[p]!;
      perm[p] = t;
    }
    return zero;
  }
  const mid = split(c0, c1, steps.leaf);
  const left = luColumns(steps, n, c0, mid, perm, pivots);
  // U12 = L11⁻¹·A12, then A22 -= L21·U12.
  unitLowerSolve(steps, c0, mid, mid, c1 - mid);
  steps.update(mid, n - mid, c0, mid - c0, mid, c1 - mid, false);
  const right = luColumns(steps, n, mid, c1, perm, pivots);
  return left >= 0 ? left : right;
}

/**
 * Solves L·X = B in place for the unit lower L = a[r0:r1, r0:r1] and B = a[r0:r1, c0:c0+cols],
 * recursively: the off-diagonal block's product is one gemm.
 */
function unitLowerSolve(steps: FactorSteps, r0: number, r1: number, c0: number, cols: number): void {
  if (r1 - r0 <= steps.leaf) {
    steps.unitLowerRows(r0, r1, c0, cols);
    return;
  }
  const mid = split(r0, r1, steps.leaf);
  unitLowerSolve(steps, r0, mid, c0, cols);
  steps.update(mid, r1 - mid, r0, mid - r0, c0, cols, false);
  unitLowerSolve(steps, mid, r1, c0, cols);
}

/**
 * The TypeScript leaf of luColumns: columns c0..c1 (at most JS_LEAF) of rows c0..n, factored
 * column-major in `col` (contiguous pivot searches and updates), with its row swaps applied to
 * the rest of each row of `a`; pivots[c] is the row swapped with row c0 + c.
 */
function luLeaf(a: Float64Array, n: number, c0: number, c1: number, col: Float64Array, pivots: Int32Array): number {
  const rows = n - c0, h = c1 - c0;
  for (let r = 0; r < rows; r++) {
    const row = (c0 + r) * n + c0;
    for (let c = 0; c < h; c++) col[c * rows + r] = a[row + c]!;
  }
  const zero = luPanel(col, rows, h, pivots);
  for (let c = 0; c < h; c++) {
    const p = pivots[c]!;
    pivots[c] = c0 + p;
    if (p === c) continue;
    const rowK = (c0 + c) * n, rowP = (c0 + p) * n;
    for (let j = 0; j < n; j++) {
      if (j === c0) j = c1;
      if (j >= n) break;
      const t = a[rowK + j]!;
      a[rowK + j] = a[rowP + j]!;
      a[rowP + j] = t;
    }
  }
  for (let r = 0; r < rows; r++) {
    const row = (c0 + r) * n + c0;
    for (let c = 0; c < h; c++) a[row + c] = col[c * rows + r]!;
  }
  return zero >= 0 ? c0 + zero : -1;
}

/**
 * y[r] -= Σ_{j0 ≤ j < j1} u[j]·x_j[r] for lo ≤ r < hi, where y[r] is a[at + r], u[j] is
 * a[coef + j] and x_j[r] is a[j·stride + r]: the vector update of a left-looking factorisation
 * (a column of the panel) and of a triangular solve (a row of the right-hand sides). Eight
 * terms at a time, so each element of y is loaded and stored once per eight multiply-adds; the
 * terms are subtracted one by one, in order, so the result has the bits of the plain loop.
 */
function subtractCombination(a: Float64Array, at: number, coef: number, j0: number, j1: number, stride: number, lo: number, hi: number): void {
  let j = j0;
  for (; j + 8 <= j1; j += 8) {
    const o0 = j * stride, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride, o4 = o3 + stride, o5 = o4 + stride, o6 = o5 + stride, o7 = o6 + stride;
    const u0 = a[coef + j]!, u1 = a[coef + j + 1]!, u2 = a[coef + j + 2]!, u3 = a[coef + j + 3]!;
    const u4 = a[coef + j + 4]!, u5 = a[coef + j + 5]!, u6 = a[coef + j + 6]!, u7 = a[coef + j + 7]!;
    for (let r = lo; r < hi; r++) {
      a[at + r] = a[at + r]! - a[o0 + r]! * u0 - a[o1 + r]! * u1 - a[o2 + r]! * u2 - a[o3 + r]! * u3
        - a[o4 + r]! * u4 - a[o5 + r]! * u5 - a[o6 + r]! * u6 - a[o7 + r]! * u7;
    }
  }
  for (; j + 4 <= j1; j += 4) {
    const o0 = j * stride, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride;
    const u0 = a[coef + j]!, u1 = a[coef + j + 1]!, u2 = a[coef + j + 2]!, u3 = a[coef + j + 3]!;
    for (let r = lo; r < hi; r++) a[at + r] = a[at + r]! - a[o0 + r]! * u0 - a[o1 + r]! * u1 - a[o2 + r]! * u2 - a[o3 + r]! * u3;
  }
  for (; j < j1; j++) {
    const o = j * stride, u = a[coef + j]!;
    for (let r = lo; r < hi; r++) a[at + r]! -= a[o + r]! * u;
  }
}

/**
 * LU with partial pivoting of a column-major rows×h panel, left-looking: each column first takes
 * the updates of all columns before it (subtractCombination), then is pivoted and scaled. pivots[c] is the row swapped with
 * row c. Returns the first column with an exactly zero pivot, or -1.
 */
function luPanel(col: Float64Array, rows: number, h: number, pivots: Int32Array): number {
  let zero = -1;
  for (let c = 0; c < h; c++) {
    const at = c * rows;
    // Rows above the diagonal: a unit lower triangular solve with the columns before.
    for (let r = 1; r < c; r++) {
      let s = col[at + r]!;
      for (let j = 0; j < r; j++) s -= col[j * rows + r]! * col[at + j]!;
      col[at + r] = s;
    }
    // Rows from the diagonal down: col_c -= L[:, 0:c]·U[0:c, c].
    subtractCombination(col, at, at, 0, c, rows, c, rows);
    let p = c;
    let best = Math.abs(col[at + c]!);
    for (let r = c + 1; r < rows; r++) {
      const v = Math.abs(col[at + r]!);
      if (v > best) {
        best = v;
        p = r;
      }
    }
    pivots[c] = p;
    if (p !== c) {
      for (let cc = 0; cc < h; cc++) {
        const t = col[cc * rows + c]!;
        col[cc * rows + c] = col[cc * rows + p]!;
        col[cc * rows + p] = t;
      }
    }
    const pivot = col[at + c]!;
    if (pivot === 0) {
      if (zero < 0) zero = c;
      continue;
    }
    const inv = 1 / pivot;
    for (let r = c + 1; r < rows; r++) col[at + r]! *= inv;
  }
  return zero;
}

/** +1 or -1: the sign of the permutation `perm` (its parity, counted by cycles). */
export function permutationSign(perm: Int32Array, n: number): number {
  let sign = 1;
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (seen[i] === 1) continue;
    let length = 0;
    for (let j = i; seen[j] === 0; j = perm[j]!) {
      seen[j] = 1;
      length++;
    }
    if (length % 2 === 0) sign = -sign;
  }
  return sign;
}

/**
 * Solves A·X = B from the LU factors of A (`luFactor`): B is n×k row-major and `x` (n×k)
 * receives X: the permuted B, then L's and U's triangular solves.
 */
export function luSolve(lu: Float64Array, n: number, perm: Int32Array, b: Float64Array, k: number, x: Float64Array): void {
  if (k === 1) {
    luSolveVector(lu, n, perm, b, x);
    return;
  }
  for (let i = 0; i < n; i++) x.set(b.subarray(perm[i]! * k, perm[i]! * k + k), i * k);
  triangularSolveInPlace(lu, n, x, k, false, true);
  triangularSolveInPlace(lu, n, x, k, true, false);
}

/** luSolve for one right side: the permuted b, then `substituteVector`. */
function luSolveVector(lu: Float64Array, n: number, perm: Int32Array, b: Float64Array, x: Float64Array): void {
  for (let i = 0; i < n; i++) x[i] = b[perm[i]!]!;
  substituteVector(lu, n, x);
}

/**
 * x ← U⁻¹·L⁻¹·x in place from the LU factors in `lu`: forward substitution with the unit lower
 * L, then back substitution with U, by dot products along their contiguous rows. WebAssembly's
 * `lu_solve_vector_f64` has the same arithmetic.
 */
function substituteVector(lu: Float64Array, n: number, x: Float64Array): void {
  for (let i = 0; i < n; i++) x[i] = x[i]! - rowDot(lu, i * n, x, 0, i);
  for (let i = n - 1; i >= 0; i--) x[i] = (x[i]! - rowDot(lu, i * n, x, i + 1, n)) / lu[i * n + i]!;
}

/**
 * Σ_{j0 ≤ j < j1} a[row + j]·x[j] in four partial sums (terms j0 + 4m + 0, 1, 2, 3), combined as
 * (s0 + s2) + (s1 + s3), then the fewer than four terms left, summed on their own, added: one
 * running sum would wait on each addition before the next. The order of two f64x2 lanes in
 * WebAssembly (scripts/wasm/linalg.ts rowDot), so both give the same bits.
 */
function rowDot(a: Float64Array, row: number, x: Float64Array, j0: number, j1: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    s0 += a[row + j]! * x[j]!;
    s1 += a[row + j + 1]! * x[j + 1]!;
    s2 += a[row + j + 2]! * x[j + 2]!;
    s3 += a[row + j + 3]! * x[j + 3]!;
  }
  let t = 0;
  for (; j < j1; j++) t += a[row + j]! * x[j]!;
  return ((s0 + s2) + (s1 + s3)) + t;
}

/**
 * Cholesky factorisation A = L·Lᵀ in place, reading only the lower triangle of `a`: on return
 * `a` holds L with zeros above the diagonal. Returns -1, or the order (1-based) of the first
 * leading minor that is not positive-definite, as LAPACK's potrf; `a` is then partly written.
 * Recursive (Gustavson 1997; Ahmed & Pingali 2000): factor the leading half, solve for the
 * panel below it, update the trailing half's lower triangle, factor that; the solve is
 * recursive too, so nearly all the work is in block products (on a copy of `a` in WebAssembly
 * memory where the gemm is WebAssembly, see factorWasm).
 */
export function choleskyLower(a: Float64Array, n: number): number {
  let order = -1;
  factorise(a, n, (steps) => {
    order = choleskyBlock(steps, 0, n);
  });
  if (order > 0) return order;
  for (let i = 0; i < n; i++) a.fill(0, i * n + i + 1, i * n + n);
  return -1;
}

/** The Cholesky factor of the diagonal block k0..k1, whose updates are applied; see choleskyLower. */
function choleskyBlock(steps: FactorSteps, k0: number, k1: number): number {
  if (k1 - k0 <= steps.leaf) return steps.choleskyLeaf(k0, k1);
  const mid = split(k0, k1, steps.leaf);
  const first = choleskyBlock(steps, k0, mid);
  if (first > 0) return first;
  lowerTransposedSolve(steps, k0, mid, mid, k1);
  // The trailing block's lower triangle -= L21·L21ᵀ, a strip of rows at a time, each up to the
  // end of its diagonal block (the entries above the diagonal are written, never read).
  for (let s = mid; s < k1; s += STRIP) {
    const t = Math.min(k1, s + STRIP);
    steps.update(s, t - s, k0, mid - k0, mid, t - mid, true);
  }
  return choleskyBlock(steps, mid, k1);
}

/**
 * a[r0:r1, k0:k1] ← a[r0:r1, k0:k1]·L⁻ᵀ for the lower L = a[k0:k1, k0:k1], recursively over
 * L's columns: the second half's right side less the first half's solution times its block of L.
 */
function lowerTransposedSolve(steps: FactorSteps, k0: number, k1: number, r0: number, r1: number): void {
  if (k1 - k0 <= steps.leaf) {
    steps.lowerTransposedRows(k0, k1, r0, r1);
    return;
  }
  const mid = split(k0, k1, steps.leaf);
  lowerTransposedSolve(steps, k0, mid, r0, r1);
  steps.update(r0, r1 - r0, k0, mid - k0, mid, k1 - mid, true);
  lowerTransposedSolve(steps, mid, k1, r0, r1);
}

/**
 * Solves T·X = B in place of B (n×k row-major) for a triangular T (n×n), reading only its
 * `upper` or lower triangle, and taking its diagonal as ones when `unit`. Returns the first
 * zero diagonal element's index (T is singular; B is untouched), or -1. Recursive over row
 * blocks: solve one half, subtract its contribution to the other half in one gemm, solve that.
 */
export function triangularSolveInPlace(t: Float64Array, n: number, b: Float64Array, k: number, upper: boolean, unit: boolean): number {
  if (!unit) {
    for (let i = 0; i < n; i++) if (t[i * n + i] === 0) return i;
  }
  if (k === 0) return -1;
  const scratch = productScratch(n);
  const prod = scratch.prod.length >= n * k ? scratch.prod : new Float64Array(n * k);
  triangularRows(t, n, b, k, upper, unit, 0, n, scratch.left, prod);
  return -1;
}

/** Rows r0..r1 of triangularSolveInPlace, whose contributions from the other rows are applied. */
function triangularRows(t: Float64Array, n: number, b: Float64Array, k: number, upper: boolean, unit: boolean, r0: number, r1: number, left: Float64Array, prod: Float64Array): void {
  if (r1 - r0 <= LEAF) {
    for (let step = 0; step < r1 - r0; step++) {
      const i = upper ? r1 - 1 - step : r0 + step;
      const row = i * k;
      const from = upper ? i + 1 : r0, to = upper ? r1 : i;
      for (let j = from; j < to; j++) {
        const l = t[i * n + j]!;
        const other = j * k;
        for (let c = 0; c < k; c++) b[row + c]! -= l * b[other + c]!;
      }
      if (!unit) {
        const inv = 1 / t[i * n + i]!;
        for (let c = 0; c < k; c++) b[row + c]! *= inv;
      }
    }
    return;
  }
  const mid = r0 + Math.ceil((r1 - r0) / 2 / LEAF) * LEAF;
  // Lower: solve the top rows first, then B[bottom] -= T[bottom, top]·X[top]; upper: the reverse.
  const [first0, first1, second0, second1] = upper ? [mid, r1, r0, mid] : [r0, mid, mid, r1];
  triangularRows(t, n, b, k, upper, unit, first0, first1, left, prod);
  const rows = second1 - second0, kk = first1 - first0;
  for (let i = 0; i < rows; i++) left.set(t.subarray((second0 + i) * n + first0, (second0 + i) * n + first1), i * kk);
  gemm({ transA: false, transB: false, m: rows, n: k, k: kk, a: left, b, bOffset: first0 * k, c: prod });
  for (let i = 0, at = second0 * k; i < rows * k; i++) b[at + i]! -= prod[i]!;
  triangularRows(t, n, b, k, upper, unit, second0, second1, left, prod);
}

/**
 * Householder QR of an m×n matrix (destroyed): `q` receives Q (m×qc, with qc = min(m, n), or m
 * when `complete`) and `r` receives R (qc×n, zeros below the diagonal). Reflectors follow
 * LAPACK's dlarfg (β = -sign(α)·‖x‖, no reflection for a column already zero below the
 * diagonal), so Q and R carry the signs of LAPACK's geqrf/orgqr, hence PyTorch's.
 */
export function householderQr(a: Float64Array, m: number, n: number, complete: boolean, q: Float64Array, r: Float64Array): void {
  const kk = Math.min(m, n);
  const qc = complete ? m : kk;
  const taus = new Float64Array(kk);
  const w = new Float64Array(Math.max(n, qc));
  for (let j = 0; j < kk; j++) {
    const alpha = a[j * n + j]!;
    let tail = 0;
    for (let i = j + 1; i < m; i++) tail = Math.hypot(tail, a[i * n + j]!);
    if (tail === 0) continue; // tau = 0: H = I
    const beta = (alpha >= 0 ? -1 : 1) * Math.hypot(alpha, tail);
    const tau = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    for (let i = j + 1; i < m; i++) a[i * n + j]! *= scale;
    a[j * n + j] = beta;
    taus[j] = tau;
    applyReflector(a, n, j, m, j + 1, n, a, n, j, tau, w);
  }
  q.fill(0);
  for (let i = 0; i < qc; i++) q[i * qc + i] = 1;
  for (let j = kk - 1; j >= 0; j--) {
    if (taus[j] === 0) continue;
    applyReflector(q, qc, j, m, 0, qc, a, n, j, taus[j]!, w);
  }
  r.fill(0);
  for (let i = 0; i < qc; i++) for (let j = i; j < n; j++) if (i < m) r[i * n + j] = a[i * n + j]!;
}

/**
 * x[r0:m, c0:c1] ← (I - τ·v·vᵀ)·x[r0:m, c0:c1] with v = (1, h[r0+1, hc], ..., h[m-1, hc]):
 * the Householder vector stored below the diagonal of column hc of h (row length hn).
 */
function applyReflector(x: Float64Array, xn: number, r0: number, m: number, c0: number, c1: number, h: Float64Array, hn: number, hc: number, tau: number, w: Float64Array): void {
  for (let c = c0; c < c1; c++) w[c] = x[r0 * xn + c]!;
  for (let i = r0 + 1; i < m; i++) {
    const v = h[i * hn + hc]!;
    const row = i * xn;
    for (let c = c0; c < c1; c++) w[c]! += v * x[row + c]!;
  }
  for (let c = c0; c < c1; c++) x[r0 * xn + c]! -= tau * w[c]!;
  for (let i = r0 + 1; i < m; i++) {
    const tv = tau * h[i * hn + hc]!;
    const row = i * xn;
    for (let c = c0; c < c1; c++) x[row + c]! -= tv * w[c]!;
  }
}

const EPS = 2.220446049250313e-16;
const MAX_SWEEPS = 60;

/**
 * Eigenvalues (ascending, into `w`) and orthonormal eigenvectors (the columns of `v`, n×n) of a
 * symmetric matrix: Householder reduction to tridiagonal form, then the implicit QL method
 * (EISPACK's tred2 and tql2, as in JAMA), the route of LAPACK's syev, about 9n³ flops against
 * the 30n³ of Jacobi sweeps. `a` must hold the whole symmetric matrix; it is not changed.
 * A non-finite input gives NaN everywhere. Returns false when an eigenvalue did not converge in
 * 60 QL iterations (LAPACK's info > 0), leaving `w` and `v` unreliable.
 */
export function symmetricEigen(a: Float64Array, n: number, w: Float64Array, v: Float64Array): boolean {
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(a[i]!)) {
      w.fill(NaN, 0, n);
      v.fill(NaN, 0, n * n);
      return true;
    }
  }
  if (n === 0) return true;
  const V = Float64Array.from(a.subarray(0, n * n));
  const d = new Float64Array(n), e = new Float64Array(n);
  tridiagonalize(V, n, d, e);
  // tql2 rotates pairs of columns of V: work on its transpose, whose rows they are.
  const vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vt[j * n + i] = V[i * n + j]!;
  const converged = tridiagonalQl(d, e, vt, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i]! - d[j]!);
  for (let j = 0; j < n; j++) {
    const from = order[j]!;
    w[j] = d[from]!;
    for (let i = 0; i < n; i++) v[i * n + j] = vt[from * n + i]!;
  }
  return converged;
}

/** tred2: V ← the orthogonal Q with Qᵀ·A·Q tridiagonal (diagonal d, subdiagonal e[1..n-1]). */
function tridiagonalize(V: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * d[k]!;
          e[k]! += V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k * n + j]! -= f * e[k]! + g * d[k]!;
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * tql2: the eigenvalues of the symmetric tridiagonal (d, e) into d by implicit QL with Wilkinson
 * shifts, each rotation applied to the rows of `vt` (the eigenvectors, as rows). False when an
 * eigenvalue took more than 60 iterations.
 */
function tridiagonalQl(d: Float64Array, e: Float64Array, vt: Float64Array, n: number): boolean {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > EPS * tst1) m++;
    if (m > l) {
      let iter = 0;
      for (; iter < 60; iter++) {
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1, c2 = c, c3 = c, s = 0, s2 = 0;
        const el1 = e[l + 1]!;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          const ri = i * n, rj = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const x = vt[rj + k]!, y = vt[ri + k]!;
            vt[rj + k] = s * y + c * x;
            vt[ri + k] = c * y - s * x;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!(Math.abs(e[l]!) > EPS * tst1)) break;
      }
      if (iter === 60) return false;
    }
    d[l]! += f;
    e[l] = 0;
  }
  return true;
}

/**
 * Singular value decomposition A = U·diag(s)·Vh of an m×n matrix by one-sided Jacobi
 * (Hestenes; Demmel & Veselić 1992): columns are rotated until pairwise orthogonal to working
 * precision, which gives small singular values to high relative accuracy. `s` gets the
 * k = min(m, n) values in descending order; `u` is m×k (m×m when `full`) and `vh` k×n (n×n
 * when `full`), row-major. Singular vectors of zero singular values, and the extra columns of
 * a full decomposition, complete an orthonormal basis. A non-finite input gives NaN everywhere.
 * Returns false when the columns were still rotating after 60 sweeps (then nothing is reliable).
 */
export function jacobiSvd(a: Float64Array, m: number, n: number, full: boolean, u: Float64Array, s: Float64Array, vh: Float64Array): boolean {
  for (let i = 0; i < m * n; i++) {
    if (!Number.isFinite(a[i]!)) {
      u.fill(NaN);
      s.fill(NaN);
      vh.fill(NaN);
      return true;
    }
  }
  const tall = m >= n;
  // Work on the tall orientation: rows of `cols` are the columns of A (or of Aᵀ when wide).
  const rows = tall ? n : m;
  const len = tall ? m : n;
  const cols = new Float64Array(rows * len);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      if (tall) cols[j * len + i] = a[i * n + j]!;
      else cols[i * len + j] = a[i * n + j]!;
    }
  }
  const rot = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) rot[i * rows + i] = 1;
  // A column whose norm is at rounding level of the whole matrix's holds only noise: rotating
  // it against another never settles (each rotation makes new noise), and its singular value is
  // zero to working precision whichever way it points, so such pairs count as orthogonal.
  let frobenius2 = 0;
  for (let i = 0; i < cols.length; i++) frobenius2 += cols[i]! * cols[i]!;
  const negligible = EPS * EPS * frobenius2;
  let converged = false;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < rows - 1; p++) {
      for (let q = p + 1; q < rows; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        const op = p * len, oq = q * len;
        for (let i = 0; i < len; i++) {
          const x = cols[op + i]!, y = cols[oq + i]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta) || alpha <= negligible || beta <= negligible) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.abs(zeta) > 1e150 ? 1 / (2 * zeta) : (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const sn = c * t;
        for (let i = 0; i < len; i++) {
          const x = cols[op + i]!, y = cols[oq + i]!;
          cols[op + i] = c * x - sn * y;
          cols[oq + i] = sn * x + c * y;
        }
        const rp = p * rows, rq = q * rows;
        for (let i = 0; i < rows; i++) {
          const x = rot[rp + i]!, y = rot[rq + i]!;
          rot[rp + i] = c * x - sn * y;
          rot[rq + i] = sn * x + c * y;
        }
      }
    }
    if (!rotated) {
      converged = true;
      break;
    }
  }
  const norms = new Float64Array(rows);
  for (let j = 0; j < rows; j++) {
    let t = 0;
    for (let i = 0; i < len; i++) t = Math.hypot(t, cols[j * len + i]!);
    norms[j] = t;
  }
  const order = Array.from({ length: rows }, (_, i) => i).sort((i, j) => norms[j]! - norms[i]!);
  // Left vectors (of the tall orientation) as rows: `left` is (full ? len : rows) × len.
  const leftRows = full ? len : rows;
  const left = new Float64Array(leftRows * len);
  let valid = 0;
  for (let j = 0; j < rows; j++) {
    const from = order[j]!;
    const sigma = norms[from]!;
    s[j] = sigma;
    // A negligible column's direction is noise, never orthogonalised against the others: its
    // left vector comes from the completion, as a zero singular value's does.
    if (sigma > 0 && sigma * sigma > negligible) {
      valid = j + 1;
      for (let i = 0; i < len; i++) left[j * len + i] = cols[from * len + i]! / sigma;
    }
  }
  completeOrthonormalRows(left, leftRows, len, valid);
  // Right vectors as rows: rows × rows, already orthonormal.
  const right = new Float64Array(rows * rows);
  for (let j = 0; j < rows; j++) right.set(rot.subarray(order[j]! * rows, order[j]! * rows + rows), j * rows);
  if (tall) {
    // A = (left)ᵀ·diag(s)·right: U = leftᵀ (m×uc), Vh = right (n×n).
    const uc = leftRows;
    for (let i = 0; i < m; i++) for (let j = 0; j < uc; j++) u[i * uc + j] = left[j * len + i]!;
    vh.set(right);
  } else {
    // Aᵀ = (left)ᵀ·diag(s)·right, so A = rightᵀ·diag(s)·left: U = rightᵀ (m×m), Vh = left.
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) u[i * m + j] = right[j * m + i]!;
    vh.set(left);
  }
  return converged;
}

/**
 * Fills rows `valid..rows-1` of `q` (rows × len, the first `valid` rows orthonormal) with
 * vectors completing an orthonormal set: each time the unit vector e_i least covered by the
 * rows so far (smallest Σ_r q_ri², so its remainder 1 - Σ_r q_ri² is largest, at least the
 * average (len - filled)/len), orthogonalised twice against them (Gram–Schmidt, twice is
 * enough; Giraud et al. 2005) and normalised.
 */
export function completeOrthonormalRows(q: Float64Array, rows: number, len: number, valid: number): void {
  const covered = new Float64Array(len);
  for (let r = 0; r < valid; r++) for (let i = 0; i < len; i++) covered[i]! += q[r * len + i]! ** 2;
  const cand = new Float64Array(len);
  for (let filled = valid; filled < rows; filled++) {
    let e = 0;
    for (let i = 1; i < len; i++) if (covered[i]! < covered[e]!) e = i;
    cand.fill(0);
    cand[e] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (let r = 0; r < filled; r++) {
        let d = 0;
        for (let i = 0; i < len; i++) d += q[r * len + i]! * cand[i]!;
        for (let i = 0; i < len; i++) cand[i]! -= d * q[r * len + i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < len; i++) norm = Math.hypot(norm, cand[i]!);
    for (let i = 0; i < len; i++) {
      const x = cand[i]! / norm;
      q[filled * len + i] = x;
      covered[i]! += x * x;
    }
  }
}

// Higham (2005), "The scaling and squaring method for the matrix exponential revisited",
// SIAM J. Matrix Anal. Appl. 26(4): the [13/13] Padé coefficients and θ13.
const PADE13 = [
  64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000, 10559470521600, 670442572800, 33522128640,
  1323241920, 40840800, 960960, 16380, 182, 1,
];
const THETA13 = 5.371920351148152;

/**
 * e^A of an n×n matrix into `out` by scaling and squaring with the [13/13] Padé approximant
 * (Higham 2005): A is scaled by 2^-s until ‖A‖₁ ≤ θ13, the approximant r(A) = (V - U)⁻¹(V + U)
 * is solved for by LU, and squared s times. `a` is not changed. NaN or Inf in A give NaN.
 */
export function expmPade(a: Float64Array, n: number, out: Float64Array): void {
  let norm = 0;
  for (let j = 0; j < n; j++) {
    let col = 0;
    for (let i = 0; i < n; i++) col += Math.abs(a[i * n + j]!);
    if (!(col <= norm)) norm = col; // NaN propagates into the norm
  }
  if (!Number.isFinite(norm)) {
    out.fill(NaN);
    return;
  }
  const squarings = norm > THETA13 ? Math.max(0, Math.ceil(Math.log2(norm / THETA13))) : 0;
  const size = n * n;
  const x = new Float64Array(size);
  const scale = 2 ** -squarings;
  for (let i = 0; i < size; i++) x[i] = a[i]! * scale;
  const mul = (p: Float64Array, q: Float64Array, c: Float64Array): void => gemm({ transA: false, transB: false, m: n, n, k: n, a: p, b: q, c });
  const a2 = new Float64Array(size), a4 = new Float64Array(size), a6 = new Float64Array(size);
  mul(x, x, a2);
  mul(a2, a2, a4);
  mul(a4, a2, a6);
  const b = PADE13;
  const t = new Float64Array(size), uMat = new Float64Array(size), vMat = new Float64Array(size);
  // U = A·[A6·(b13·A6 + b11·A4 + b9·A2) + b7·A6 + b5·A4 + b3·A2 + b1·I]
  for (let i = 0; i < size; i++) t[i] = b[13]! * a6[i]! + b[11]! * a4[i]! + b[9]! * a2[i]!;
  mul(a6, t, uMat);
  for (let i = 0; i < size; i++) uMat[i]! += b[7]! * a6[i]! + b[5]! * a4[i]! + b[3]! * a2[i]!;
  for (let i = 0; i < n; i++) uMat[i * n + i]! += b[1]!;
  mul(x, uMat, t);
  uMat.set(t);
  // V = A6·(b12·A6 + b10·A4 + b8·A2) + b6·A6 + b4·A4 + b2·A2 + b0·I
  for (let i = 0; i < size; i++) t[i] = b[12]! * a6[i]! + b[10]! * a4[i]! + b[8]! * a2[i]!;
  mul(a6, t, vMat);
  for (let i = 0; i < size; i++) vMat[i]! += b[6]! * a6[i]! + b[4]! * a4[i]! + b[2]! * a2[i]!;
  for (let i = 0; i < n; i++) vMat[i * n + i]! += b[0]!;
  const lhs = new Float64Array(size), rhs = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    lhs[i] = vMat[i]! - uMat[i]!;
    rhs[i] = vMat[i]! + uMat[i]!;
  }
  const perm = new Int32Array(n);
  // V - U is well conditioned once ‖A‖₁ ≤ θ13 (Higham 2005, §2), so a zero pivot cannot occur.
  luFactor(lhs, n, perm);
  luSolve(lhs, n, perm, rhs, n, out);
  for (let k = 0; k < squarings; k++) {
    mul(out, out, t);
    out.set(t);
  }
}
