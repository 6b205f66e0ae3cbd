import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededTensor } from '@chainrule/autograd/testing';
import type { FloatArray } from '../src/dtype.js';
import type { KernelBackend } from '../src/kernels/backend.js';
import { gemm, gemmBatch } from '../src/kernels/gemm.js';
import { matmulT } from '../src/ops/matmul.js';
import { withBackend } from './helpers/backend.js';

type DTypeName = 'float32' | 'float64';
const backends: readonly KernelBackend[] = ['js', 'wasm', 'auto'];

function filled(dtype: DTypeName, size: number, seed: number): FloatArray {
  const data = seededTensor([size], seed, { requiresGrad: false }).data;
  return dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
}

/** The products one `gemm` call at a time: what `gemmBatch` must reproduce bit for bit. */
function oneByOne(transA: boolean, transB: boolean, m: number, n: number, k: number, a: FloatArray, aOffsets: number[], b: FloatArray, bOffsets: number[], c: FloatArray): void {
  aOffsets.forEach((aOffset, i) => gemm({ transA, transB, m, n, k, a, aOffset, b, bOffset: bOffsets[i]!, c, cOffset: i * m * n }));
}

function sameBits(x: FloatArray, y: FloatArray): boolean {
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}

describe('gemmBatch', () => {
  it('gives each product the bits of its own gemm call, for every backend, dtype, flags and broadcast pattern', () => {
    fc.assert(fc.property(
      fc.constantFrom(...backends), fc.constantFrom<DTypeName>('float32', 'float64'), fc.boolean(), fc.boolean(),
      fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 20 }),
      fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 0, maxLength: 7 }), fc.noShrink(fc.integer()),
      (backend, dtype, transA, transB, m, n, k, picks, seed) => {
        // Four stored slices per operand plus a lead-in; each product picks one (repeats broadcast).
        const lead = 3;
        const a = filled(dtype, lead + 4 * m * k, seed), b = filled(dtype, lead + 4 * k * n, seed + 1);
        const aOffsets = picks.map(([i]) => lead + i * m * k), bOffsets = picks.map(([, j]) => lead + j * k * n);
        const expected = filled(dtype, picks.length * m * n, seed + 2), got = expected.slice();
        withBackend(backend, () => {
          oneByOne(transA, transB, m, n, k, a, aOffsets, b, bOffsets, expected);
          gemmBatch({ transA, transB, m, n, k, a, aOffsets, b, bOffsets, c: got });
        });
        expect(sameBits(got, expected)).toBe(true);
      },
    ), { numRuns: 150 });
  });

  it('stages a batch larger than one group in several groups with the same bits', () => {
    // 64³ products: a 256 KiB group holds five in float32 and two in float64, so seven take several groups.
    const m = 64, n = 64, k = 64, count = 7;
    for (const dtype of ['float32', 'float64'] as const) {
      for (const backend of ['wasm', 'auto'] as const) {
        const a = filled(dtype, count * m * k, 11), b = filled(dtype, count * k * n, 12);
        const aOffsets = Array.from({ length: count }, (_, i) => i * m * k), bOffsets = aOffsets.map((_, i) => (count - 1 - i) * k * n);
        const expected = new (dtype === 'float32' ? Float32Array : Float64Array)(count * m * n), got = expected.slice();
        withBackend(backend, () => {
          oneByOne(false, true, m, n, k, a, aOffsets, b, bOffsets, expected);
          gemmBatch({ transA: false, transB: true, m, n, k, a, aOffsets, b, bOffsets, c: got });
        });
        expect(sameBits(got, expected)).toBe(true);
      }
    }
  });
});

describe('matmulT over batch axes', () => {
  it('equals the per-slice products, including broadcast batch axes', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const backend of backends) {
        for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
          // Attention's shape: batch × heads products of [64×32]·[32×64]; b broadcasts over the batch.
          const a = seededTensor([2, 4, transA ? 32 : 64, transA ? 64 : 32], 3, { dtype, requiresGrad: false });
          const b = seededTensor([1, 4, transB ? 64 : 32, transB ? 32 : 64], 4, { dtype, requiresGrad: false });
          withBackend(backend, () => {
            const out = matmulT(a, b, transA, transB);
            for (let i = 0; i < 2; i++) {
              for (let h = 0; h < 4; h++) {
                const slice = matmulT(a.slice(0, i, i + 1).slice(1, h, h + 1), b.slice(1, h, h + 1), transA, transB);
                expect(sameBits(out.slice(0, i, i + 1).slice(1, h, h + 1).data as FloatArray, slice.data as FloatArray)).toBe(true);
              }
            }
          });
        }
      }
    }
  });
});

describe('row steps (lda, ldb, ldc)', () => {
  /** rows×cols stored with `ld` elements per row from `offset`, inside an array of sentinels. */
  function embed(dtype: DTypeName, compact: FloatArray, rows: number, cols: number, ld: number, offset: number): FloatArray {
    const out = new (dtype === 'float32' ? Float32Array : Float64Array)(offset + (rows === 0 ? 0 : (rows - 1) * ld + cols) + 2).fill(-777);
    for (let r = 0; r < rows; r++) out.set(compact.subarray(r * cols, (r + 1) * cols), offset + r * ld);
    return out;
  }

  it('read blocks of columns of wider matrices and write C between untouched columns, with the bits of compact operands', () => {
    fc.assert(fc.property(
      fc.constantFrom(...backends), fc.constantFrom<DTypeName>('float32', 'float64'), fc.boolean(), fc.boolean(),
      fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 0, max: 24 }),
      fc.tuple(fc.nat(5), fc.nat(5), fc.nat(5)), fc.nat(4), fc.noShrink(fc.integer()),
      (backend, dtype, transA, transB, m, n, k, [padA, padB, padC], offset, seed) => {
        const [rowsA, colsA] = transA ? [k, m] : [m, k];
        const [rowsB, colsB] = transB ? [n, k] : [k, n];
        const a = filled(dtype, rowsA * colsA, seed), b = filled(dtype, rowsB * colsB, seed + 1);
        const lda = colsA + padA, ldb = colsB + padB, ldc = n + padC;
        const wideA = embed(dtype, a, rowsA, colsA, lda, offset), wideB = embed(dtype, b, rowsB, colsB, ldb, offset + 1);
        const expected = filled(dtype, m * n, seed + 2);
        const before = embed(dtype, filled(dtype, m * ldc, seed + 3), m, ldc, ldc, offset);
        const got = before.slice();
        withBackend(backend, () => {
          gemm({ transA, transB, m, n, k, a, b, c: expected });
          gemm({ transA, transB, m, n, k, a: wideA, aOffset: offset, lda, b: wideB, bOffset: offset + 1, ldb, c: got, cOffset: offset, ldc });
        });
        const want = before.slice();
        for (let r = 0; r < m; r++) want.set(expected.subarray(r * n, (r + 1) * n), offset + r * ldc);
        expect(sameBits(got, want)).toBe(true);
      },
    ), { numRuns: 150 });
  });

  it('gemmBatch with heads side by side in a row (attention\'s layout) gives each product its own gemm call\'s bits', () => {
    // Two batches of 5 heads of [L, D] = [9, 3] side by side in rows of 15; the results [9, 9]
    // per head go side by side in rows of 45 (C's rows are apart, and groups leave gaps).
    const heads = 5, l = 9, d = 3, batches = 2;
    for (const dtype of ['float32', 'float64'] as const) {
      for (const backend of backends) {
        for (const [transA, transB] of [[false, true], [true, false], [false, false]] as const) {
          const a = filled(dtype, batches * l * heads * d, 21), b = filled(dtype, batches * l * heads * d, 22);
          // op(A) is [l, d] from [l, d] or, transposed, [d, l] from the same rows: m, n, k follow.
          const [m, k] = transA ? [d, l] : [l, d];
          const n = transB ? l : d;
          // Every head, and every head but one (whose columns of C must come back untouched).
          for (const skip of [-1, 2]) {
            const products = Array.from({ length: batches * heads }, (_, i) => i).filter((i) => i % heads !== skip);
            const offsets = products.map((i) => Math.floor(i / heads) * l * heads * d + (i % heads) * d);
            const cOffsets = products.map((i) => Math.floor(i / heads) * m * heads * n + (i % heads) * n);
            const expected = filled(dtype, batches * heads * m * n, 23), got = expected.slice();
            withBackend(backend, () => {
              offsets.forEach((off, i) => gemm({ transA, transB, m, n, k, a, aOffset: off, lda: heads * d, b, bOffset: off, ldb: heads * d, c: expected, cOffset: cOffsets[i]!, ldc: heads * n }));
              gemmBatch({ transA, transB, m, n, k, a, aOffsets: offsets, lda: heads * d, b, bOffsets: offsets, ldb: heads * d, c: got, cOffsets, ldc: heads * n });
            });
            expect(sameBits(got, expected)).toBe(true);
          }
        }
      }
    }
  });
});
