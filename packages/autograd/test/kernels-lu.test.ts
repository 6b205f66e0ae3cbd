import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { luFactor, luSolve } from '../src/kernels/linalg.js';
import { wasmAvailable } from '../src/kernels/wasm/module.js';
import { withBackend } from './helpers/backend.js';

// The LU kernel runs its block updates either on a copy of the matrix in WebAssembly memory
// (products reading their blocks in place) or on packed operands through gemm: both must factor
// every size, across the leaf width and the recursion's splits, and agree on the pivots.

/** A seeded n×n matrix uniform in [-1, 1), with `zeroRow` (if ≥ 0) zeroed: singular. */
function matrix(n: number, seed: number, zeroRow = -1): Float64Array {
  const a = new Float64Array(n * n);
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  if (zeroRow >= 0) a.fill(0, zeroRow * n, zeroRow * n + n);
  return a;
}

/** The largest |(P·A - L·U)[i, j]| for the packed factors `lu` and the permutation `perm`, by plain loops. */
function residual(a: Float64Array, lu: Float64Array, perm: Int32Array, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k <= Math.min(i, j); k++) v += (k === i ? 1 : lu[i * n + k]!) * lu[k * n + j]!;
      worst = Math.max(worst, Math.abs(v - a[perm[i]! * n + j]!));
    }
  }
  return worst;
}

function factor(backend: 'js' | 'wasm', a: Float64Array, n: number): { lu: Float64Array; perm: Int32Array; zero: number } {
  const lu = a.slice();
  const perm = new Int32Array(n);
  const zero = withBackend(backend, () => luFactor(lu, n, perm));
  return { lu, perm, zero };
}

const backends = wasmAvailable() ? (['js', 'wasm'] as const) : (['js'] as const);

describe('luFactor', () => {
  it('P·A = L·U with multipliers at most 1, the same pivots on either backend, at sizes around the leaves and splits', () => {
    const sizes = [...Array.from({ length: 20 }, (_, i) => i + 1), 31, 32, 33, 47, 63, 64, 65, 100, 127, 128, 129, 140];
    for (const n of sizes) {
      const a = matrix(n, 7 * n + 1);
      const results = backends.map((b) => factor(b, a, n));
      for (const { lu, perm, zero } of results) {
        expect(zero).toBe(-1);
        expect(residual(a, lu, perm, n)).toBeLessThan(1e-13 * n);
        let largest = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) largest = Math.max(largest, Math.abs(lu[i * n + j]!));
        expect(largest).toBeLessThanOrEqual(1);
        expect([...perm].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      }
      expect([...results.at(-1)!.perm]).toEqual([...results[0]!.perm]);
    }
  });

  it('solves for one right side with the factorisation: the bits luSolve gives from the factors, and A·x = b', () => {
    for (const n of [1, 5, 16, 17, 33, 64, 100, 129]) {
      const a = matrix(n, 11 * n + 2);
      const rhs = Float64Array.from({ length: n }, (_, i) => Math.sin(i + n));
      for (const backend of backends) {
        const lu = a.slice(), perm = new Int32Array(n), x = new Float64Array(n);
        expect(withBackend(backend, () => luFactor(lu, n, perm, { b: rhs, x }))).toBe(-1);
        const later = new Float64Array(n);
        luSolve(lu, n, perm, rhs, 1, later);
        expect([...x]).toEqual([...later]);
        let worst = 0;
        for (let i = 0; i < n; i++) {
          let v = 0;
          for (let j = 0; j < n; j++) v += a[i * n + j]! * x[j]!;
          worst = Math.max(worst, Math.abs(v - rhs[i]!));
        }
        expect(worst).toBeLessThan(1e-11 * n);
      }
    }
  });

  it('reports a zero column\'s pivot wherever it falls in a panel, and factors on past it, on either backend', () => {
    for (const n of [16, 32, 48, 64, 100]) {
      for (const k of [0, 1, 7, 8, 15, 16, 17, n - 2, n - 1]) {
        if (k >= n) continue;
        const a = matrix(n, 3 * n + k);
        for (let i = 0; i < n; i++) a[i * n + k] = 0;
        for (const backend of backends) {
          const { lu, perm, zero } = factor(backend, a, n);
          // Column k stays zero below the diagonal through every update (U[p, k] = 0 above it).
          expect(zero).toBe(k);
          expect(residual(a, lu, perm, n)).toBeLessThan(1e-12 * n);
        }
      }
    }
  });

  it('reports the first zero pivot of a singular matrix, and still factors it, on either backend', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 90 }), fc.nat(), fc.integer({ min: 1, max: 2 ** 30 }), (n, row, seed) => {
      const a = matrix(n, seed, row % n);
      for (const backend of backends) {
        const { lu, perm, zero } = factor(backend, a, n);
        // A zero row leaves rank n - 1: the zero pivot is the last one.
        expect(zero).toBe(n - 1);
        expect(residual(a, lu, perm, n)).toBeLessThan(1e-12 * n);
      }
    }), { numRuns: 25 });
  });
});
