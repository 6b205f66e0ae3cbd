import { runProduct } from './helper-thread.js';
import { JOB } from './layout.js';
import { copyInOut, scratchRegion, staged } from './memory.js';

/**
 * The steps a blocked factorisation of an n×n row-major float64 matrix is made of, on that
 * matrix wherever it lies (in TypeScript, or in WebAssembly memory): block products and the
 * unblocked leaves between them. Indices are rows and columns of the matrix.
 */
export interface FactorSteps {
  /** Width of the leaves the recursions end in. */
  readonly leaf: number;
  /**
   * a[r0:r0+rows, c0:c0+cols] -= a[r0:r0+rows, k0:k0+kk] · B, where B is a[k0:k0+kk, c0:c0+cols],
   * or a[c0:c0+cols, k0:k0+kk]ᵀ when `transposed`: the trailing update of a blocked factorisation.
   */
  update(r0: number, rows: number, k0: number, kk: number, c0: number, cols: number, transposed: boolean): void;
  /**
   * LU with partial pivoting of columns c0..c1 of rows c0..n (their updates applied), whole rows
   * swapped; `pivots[c]` receives the row swapped with row c0 + c. Returns the first column whose
   * pivot is exactly zero, or -1.
   */
  luPanel(c0: number, c1: number, pivots: Int32Array): number;
  /** a[r0:r1, c0:c0+cols] ← L⁻¹·a[r0:r1, c0:c0+cols] for the unit lower L = a[r0:r1, r0:r1]. */
  unitLowerRows(r0: number, r1: number, c0: number, cols: number): void;
  /**
   * The lower Cholesky factor of the diagonal block a[k0:k1, k0:k1] in place (its lower
   * triangle). Returns j + 1 for the first j whose diagonal is not positive, else -1.
   */
  choleskyLeaf(k0: number, k1: number): number;
  /** a[r0:r1, k0:k1] ← a[r0:r1, k0:k1]·L⁻ᵀ for the lower L = a[k0:k1, k0:k1]. */
  lowerTransposedRows(k0: number, k1: number, r0: number, r1: number): void;
  /** x ← U⁻¹·L⁻¹·x in place (n values, the right side already permuted) from the LU factors the matrix holds. */
  solveVector(x: Float64Array): void;
}

/**
 * Runs `work` on a copy of the row-major n×n float64 matrix `a` in WebAssembly memory, with
 * steps that work there: products read their blocks in place (by the matrix's row stride), so a
 * factorisation's many block products cost neither packing nor a copy in and out each, and the
 * leaves are WebAssembly loops (scripts/wasm/linalg.ts). Products are of rows·cols at most
 * `largest` (the room set aside for them). The matrix is copied back into `a` at the end.
 * Returns false, having done nothing, where WebAssembly SIMD is missing or the matrix does not
 * fit its memory.
 * The products stay on the calling thread: at n = 256 the helper thread's share of them saved
 * less than posting and joining them cost (solve and cholesky 30-40% slower with it, measured
 * on a shared two-core machine), since they come one after another between serial leaves and
 * are a few hundred microseconds at most; the local instance's unshared memory then takes the
 * copies in and out, at memcpy speed.
 * NOTE: `work` must call no other WebAssembly kernel: staging would reuse the memory.
 * @example factorWasm(lu, n, n * n, leaf, (steps) => factor(steps));
 */
export function factorWasm(a: Float64Array, n: number, largest: number, leaf: number, work: (steps: FactorSteps) => void): boolean {
  const regions = [copyInOut(a, n * n), scratchRegion(largest), scratchRegion(Math.ceil(leaf / 2)), scratchRegion(n)];
  return staged(false, regions, (kernels, at, all) => {
    const matrixAt = at[0]!, prodAt = at[1]!, pivotsAt = at[2]!, vectorAt = at[3]!;
    const { luPanel, unitLowerRows, choleskyLeaf, lowerTransposedRows, subtractBlock, luSolveVector } = all.linalg;
    const pivotsView = new Int32Array(all.memory.buffer, pivotsAt, leaf);
    const row = n * 8;
    work({
      leaf,
      update(r0, rows, k0, kk, c0, cols, transposed) {
        if (rows === 0 || cols === 0 || kk === 0) return;
        if (rows * cols > largest) throw new Error(`factorWasm: a ${rows}×${cols} update does not fit the ${largest} elements set aside`);
        const job = all.job();
        job[JOB.m] = rows;
        job[JOB.n] = cols;
        job[JOB.k] = kk;
        job[JOB.a] = matrixAt + (r0 * n + k0) * 8;
        job[JOB.rsa] = row;
        job[JOB.csa] = 8;
        job[JOB.b] = matrixAt + (transposed ? c0 * n + k0 : k0 * n + c0) * 8;
        job[JOB.rsb] = transposed ? 8 : row;
        job[JOB.csb] = transposed ? row : 8;
        job[JOB.c] = prodAt;
        job[JOB.ldc] = cols * 8;
        job[JOB.dtype] = 1;
        runProduct(all, kernels, rows, cols, kk, true);
        subtractBlock(matrixAt + (r0 * n + c0) * 8, row, prodAt, rows, cols);
      },
      luPanel(c0, c1, pivots) {
        if (c1 - c0 > leaf) throw new Error(`factorWasm: a panel of ${c1 - c0} columns is wider than the leaf, ${leaf}`);
        const zero = luPanel(matrixAt, n, c0, c1, pivotsAt);
        for (let c = 0; c < c1 - c0; c++) pivots[c] = pivotsView[c]!;
        return zero;
      },
      unitLowerRows: (r0, r1, c0, cols) => unitLowerRows(matrixAt, n, r0, r1, c0, cols),
      choleskyLeaf: (k0, k1) => choleskyLeaf(matrixAt, n, k0, k1),
      lowerTransposedRows: (k0, k1, r0, r1) => lowerTransposedRows(matrixAt, n, k0, k1, r0, r1),
      solveVector(x) {
        const vector = new Float64Array(all.memory.buffer, vectorAt, n);
        vector.set(x);
        luSolveVector(matrixAt, n, vectorAt);
        x.set(vector);
      },
    });
  }, 0);
}
