import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { seededTensor } from '@chainrule/autograd/testing';
import { batchedOuter, batchedOuterJs } from '../src/kernels/outer.js';
import { allocateUnset } from '../src/dtype.js';
import { ShapeError } from '@chainrule/autograd';
import { outerWasm } from '../src/kernels/wasm/elementwise.js';
import { residentOf, residentStorage } from '../src/kernels/wasm/resident.js';
import { outerResultStorage } from '../src/kernels/outer.js';
import { withBackend } from './helpers/backend.js';

// The batched outer product (per-example weight gradients) by each backend, against the triple
// loop, element by element: every element is one product, so the bits must agree.

function reference(a: ArrayLike<number>, c: ArrayLike<number>, n: number, m: number, k: number, dtype: 'float32' | 'float64'): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(n * m * k) : new Float64Array(n * m * k);
  for (let b = 0; b < n; b++) for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) out[(b * m + i) * k + j] = a[b * m + i]! * c[b * k + j]!;
  return out;
}

/** The first index where x and y differ (Object.is, so NaN equals NaN and -0 differs from 0), or -1; equal lengths assumed. */
function firstDifference(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

const dims = fc.record({
  n: fc.integer({ min: 0, max: 5 }),
  m: fc.integer({ min: 0, max: 40 }),
  k: fc.integer({ min: 0, max: 70 }),
  seed: fc.noShrink(fc.integer()),
  dtype: fc.constantFrom('float32' as const, 'float64' as const),
});

describe('batchedOuter', () => {
  for (const backend of ['js', 'wasm', 'auto'] as const) {
    it(`equals the triple loop bit for bit over random shapes (${backend})`, () => {
      fc.assert(
        fc.property(dims, ({ n, m, k, seed, dtype }) => {
          const a = seededTensor([n * m], seed, { dtype, requiresGrad: false }).data;
          const c = seededTensor([n * k], seed + 1, { dtype, requiresGrad: false }).data;
          // Filled with NaN first: an element the kernel skipped would show.
          const out = dtype === 'float32' ? new Float32Array(n * m * k).fill(NaN) : new Float64Array(n * m * k).fill(NaN);
          withBackend(backend, () => batchedOuter(a, c, n, m, k, out));
          expect(firstDifference(out, reference(a, c, n, m, k, dtype))).toBe(-1);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('carries NaN, infinities and signed zeros as the product does', () => {
    const a = new Float32Array([NaN, Infinity, -0, 2, 0, -3]);
    const c = new Float32Array([1, -0, Infinity, 5, NaN, -2, 0, 1]);
    const [n, m, k] = [2, 3, 4];
    const expected = reference(a, c, n, m, k, 'float32');
    const js = new Float32Array(n * m * k);
    batchedOuterJs(a, c, n, m, k, js);
    expect(firstDifference(js, expected)).toBe(-1);
    const wasm = new Float32Array(n * m * k);
    if (outerWasm(a, c, n, m, k, wasm)) expect(firstDifference(wasm, expected)).toBe(-1);
  });

  it('writes only its own n·m·k elements, at any size (one 784×128 product per example, the MLP layer)', () => {
    const [n, m, k] = [3, 784, 128];
    const a = seededTensor([n * m], 1, { dtype: 'float32', requiresGrad: false }).data;
    const c = seededTensor([n * k], 2, { dtype: 'float32', requiresGrad: false }).data;
    const expected = reference(a, c, n, m, k, 'float32');
    for (const backend of ['js', 'wasm'] as const) {
      const out = new Float32Array(n * m * k + 5).fill(7);
      withBackend(backend, () => batchedOuter(a, c, n, m, k, out));
      expect(firstDifference(out.subarray(0, n * m * k), expected)).toBe(-1);
      expect([...out.subarray(n * m * k)]).toEqual([7, 7, 7, 7, 7]);
    }
  });

  it('gives the same bits when the batch goes into WebAssembly memory in several groups (rows longer than a group holds)', () => {
    // 100,003 + 3 elements per example: at most two examples' rows per call, so 5 examples take three calls.
    const [n, m, k] = [5, 100_003, 3];
    for (const dtype of ['float32', 'float64'] as const) {
      const a = seededTensor([n * m], 3, { dtype, requiresGrad: false }).data;
      const c = seededTensor([n * k], 4, { dtype, requiresGrad: false }).data;
      const out = dtype === 'float32' ? new Float32Array(n * m * k).fill(NaN) : new Float64Array(n * m * k).fill(NaN);
      if (outerWasm(a, c, n, m, k, out)) expect(firstDifference(out, reference(a, c, n, m, k, dtype))).toBe(-1);
    }
  });
});

describe('batchedOuter into storage of its own memory (resident.ts)', () => {
  it('writes the same bits in place, only its own n·m·k elements, by group when the rows outgrow the room', () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 1, max: 3 }), ({ n, m, k, seed, dtype }, roomExamples) => {
        const a = seededTensor([n * m], seed, { dtype, requiresGrad: false }).data;
        const c = seededTensor([n * k], seed + 1, { dtype, requiresGrad: false }).data;
        // Storage for a few more elements than the result, NaN after it: nothing past n·m·k is written.
        const out = residentStorage(dtype === 'float32', n * m * k + 3, roomExamples * (m + k));
        if (out === null) return; // no WebAssembly here
        expect(residentOf(out)).toBeDefined();
        out.fill(NaN);
        withBackend('wasm', () => batchedOuter(a, c, n, m, k, out));
        expect(firstDifference(out.subarray(0, n * m * k), reference(a, c, n, m, k, dtype))).toBe(-1);
        expect([...out.subarray(n * m * k)].every(Number.isNaN)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('takes the copying path for a result larger than the storage made for another (the same bits)', () => {
    const [n, m, k] = [2, 30, 40];
    const small = residentStorage(true, 10, 2 * (m + k));
    if (small === null) return;
    const a = seededTensor([n * m], 8, { dtype: 'float32', requiresGrad: false }).data as Float32Array;
    const c = seededTensor([n * k], 9, { dtype: 'float32', requiresGrad: false }).data as Float32Array;
    // A view of the whole memory: longer than the storage, the room included.
    const whole = new Float32Array(small.buffer, 0, n * m * k);
    withBackend('wasm', () => batchedOuter(a, c, n, m, k, whole));
    expect(firstDifference(whole, reference(a, c, n, m, k, 'float32'))).toBe(-1);
  });

  it('is made only for large results under the WebAssembly kernels, with room for the rows after the storage', () => {
    expect(outerResultStorage(true, 2, 30, 40)).toBeNull();
    expect(withBackend('js', () => outerResultStorage(true, 64, 784, 128))).toBeNull();
    const out = withBackend('wasm', () => outerResultStorage(true, 16, 784, 128));
    if (out === null) return;
    expect([out.length, out.byteOffset]).toEqual([16 * 784 * 128, 0]);
    expect(out.buffer.byteLength).toBeGreaterThanOrEqual(out.byteLength + 16 * (784 + 128) * 4);
  });
});

describe('allocateUnset (storage for a result its kernel writes in full)', () => {
  it('has the dtype, the length and an ArrayBuffer of its own, small or large', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const size of [0, 1, 1000, 20_000, 300_000]) {
        const a = allocateUnset(dtype, size);
        const b = allocateUnset(dtype, size);
        expect(a).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
        expect(a.length).toBe(size);
        expect([a.byteOffset, a.buffer.byteLength]).toEqual([0, size * a.BYTES_PER_ELEMENT]);
        expect(a.buffer).not.toBe(b.buffer);
      }
    }
  });

  it('refuses sizes allocate refuses, naming the op and the shape', () => {
    expect(() => allocateUnset('float32', -1, 'matmul', [-1])).toThrow(ShapeError);
    expect(() => allocateUnset('float64', 2 ** 60, 'matmul', [2 ** 30, 2 ** 30])).toThrow(/matmul: shape \[1073741824,1073741824\]/);
  });
});
