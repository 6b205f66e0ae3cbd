import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { choleskyLower } from '../src/kernels/linalg.js';
import { wasmAvailable } from '../src/kernels/wasm/module.js';
import { withBackend } from './helpers/backend.js';

// The Cholesky kernel recurses into block products and leaves that run either as TypeScript
// loops or in WebAssembly memory (with a panel solve unrolled for the leaf width): both must
// factor every size across the leaves and splits, read only the lower triangle, and name the
// first leading minor that is not positive.

/** A seeded symmetric positive-definite n×n matrix, M·Mᵀ/n + I for M uniform in [-1, 1). */
function spd(n: number, seed: number): Float64Array {
  const m = new Float64Array(n * n);
  let s = seed >>> 0;
  for (let i = 0; i < m.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    m[i] = s / 2 ** 31 - 1;
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += m[i * n + k]! * m[j * n + k]!;
      a[i * n + j] = v / n + (i === j ? 1 : 0);
    }
  }
  return a;
}

/** The largest |(L·Lᵀ - A)[i, j]| over the lower triangle, by plain loops. */
function residual(a: Float64Array, l: Float64Array, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let v = 0;
      for (let k = 0; k <= j; k++) v += l[i * n + k]! * l[j * n + k]!;
      worst = Math.max(worst, Math.abs(v - a[i * n + j]!));
    }
  }
  return worst;
}

const backends = wasmAvailable() ? (['js', 'wasm'] as const) : (['js'] as const);

function factor(backend: 'js' | 'wasm', a: Float64Array, n: number): { l: Float64Array; order: number } {
  const l = a.slice();
  const order = withBackend(backend, () => choleskyLower(l, n));
  return { l, order };
}

describe('choleskyLower', () => {
  it('A = L·Lᵀ with zeros above the diagonal on either backend, at sizes around the leaves and splits, reading only the lower triangle', () => {
    const sizes = [...Array.from({ length: 20 }, (_, i) => i + 1), 31, 32, 33, 47, 48, 63, 64, 65, 100, 127, 128, 129, 140];
    for (const n of sizes) {
      const a = spd(n, 5 * n + 3);
      // The same matrix with NaN above the diagonal: never read, so the same factor to the bit.
      const dirty = a.slice();
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) dirty[i * n + j] = NaN;
      for (const backend of backends) {
        const { l, order } = factor(backend, a, n);
        expect(order).toBe(-1);
        expect(residual(a, l, n)).toBeLessThan(1e-13 * n);
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
        const fromDirty = factor(backend, dirty, n);
        expect(fromDirty.order).toBe(-1);
        expect([...fromDirty.l]).toEqual([...l]);
      }
    }
  });

  it('names the first leading minor that is not positive, on either backend', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 90 }), fc.nat(), fc.integer({ min: 1, max: 2 ** 30 }), (n, at, seed) => {
      const k = at % n;
      const a = spd(n, seed);
      // The minors before k are untouched; the one of order k + 1 has the Schur complement
      // -1 - (something ≥ 0) < 0 at its last diagonal.
      a[k * n + k] = -1;
      for (const backend of backends) expect(factor(backend, a, n).order).toBe(k + 1);
    }), { numRuns: 25 });
  });
});
