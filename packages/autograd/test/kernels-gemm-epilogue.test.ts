import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { FloatArray } from '../src/dtype.js';
import { kernelBackend, setKernelBackend, type KernelBackend } from '../src/kernels/backend.js';
import { gemm } from '../src/kernels/gemm.js';

// gemm's optional epilogue (a linear layer's bias, then relu) on each backend: the WebAssembly
// one runs it on C in WebAssembly memory, in vectors and then scalars for the last columns.

const original = kernelBackend();
afterEach(() => setKernelBackend(original));

const BACKENDS: KernelBackend[] = ['js', 'wasm', 'auto'];

function make(dtype: 'float32' | 'float64', values: number[]): FloatArray {
  return dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
}

/** relu(op(A)·op(B) + bias), in float64 from the stored operands. */
function reference(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: FloatArray, b: FloatArray, bias: FloatArray | null, relu: boolean,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[transA ? p * m + i : i * k + p]! * b[transB ? j * k + p : p * n + j]!;
      if (bias !== null) s += bias[j]!;
      out[i * n + j] = relu ? Math.max(s, 0) : s;
    }
  }
  return out;
}

describe('gemm with a bias and relu epilogue', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: matches the loop over shapes whose rows end in partial vectors`, () => {
      setKernelBackend(backend);
      fc.assert(
        fc.property(
          fc.record({
            m: fc.integer({ min: 1, max: 9 }),
            n: fc.integer({ min: 1, max: 19 }),
            k: fc.integer({ min: 1, max: 40 }),
            transA: fc.boolean(),
            transB: fc.boolean(),
            bias: fc.boolean(),
            relu: fc.boolean(),
            dtype: fc.constantFrom('float32' as const, 'float64' as const),
            seed: fc.integer({ min: 1, max: 1e6 }),
          }),
          ({ m, n, k, transA, transB, bias, relu, dtype, seed }) => {
            const rnd = (i: number): number => Math.sin(seed * 7.1 + i * 1.3);
            const a = make(dtype, Array.from({ length: m * k }, (_, i) => rnd(i)));
            const b = make(dtype, Array.from({ length: k * n }, (_, i) => rnd(i + 1000)));
            const bv = bias ? make(dtype, Array.from({ length: n }, (_, i) => rnd(i + 2000))) : null;
            const c = make(dtype, Array(m * n).fill(7));
            gemm({ transA, transB, m, n, k, a, b, c, bias: bv, relu });
            const want = reference(transA, transB, m, n, k, a, b, bv, relu);
            const tol = dtype === 'float32' ? 1e-5 * k : 1e-13 * k;
            for (let i = 0; i < want.length; i++) {
              if (!(Math.abs(c[i]! - want[i]!) <= tol)) throw new Error(`element ${i}: ${c[i]} vs ${want[i]}`);
              if (relu && c[i]! < 0) throw new Error(`element ${i} is negative after relu`);
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it(`${backend}: relu keeps NaN and maps ±Inf; k = 0 still adds the bias`, () => {
      setKernelBackend(backend);
      for (const dtype of ['float32', 'float64'] as const) {
        // C = A·[1]: a column holding the values themselves.
        const values = [NaN, -0, -2, 3, -Infinity, Infinity];
        const a = make(dtype, values);
        const id = make(dtype, [1]);
        const c = make(dtype, Array(6).fill(9));
        gemm({ transA: false, transB: false, m: 6, n: 1, k: 1, a, b: id, c, relu: true });
        expect(Number.isNaN(c[0]!)).toBe(true);
        expect(Object.is(c[1], 0)).toBe(true);
        expect(Array.from(c.subarray(2))).toEqual([0, 3, 0, Infinity]);
        const empty = make(dtype, Array(6).fill(9));
        gemm({ transA: false, transB: false, m: 2, n: 3, k: 0, a: make(dtype, []), b: make(dtype, []), c: empty, bias: make(dtype, [1, -1, 2]), relu: true });
        expect(Array.from(empty)).toEqual([1, 0, 2, 1, 0, 2]);
      }
    });
  }

  it('an offset C: only its m·n elements take the epilogue', () => {
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      const c = new Float64Array([5, 5, 5, 5, 5, 5]);
      gemm({ transA: false, transB: false, m: 2, n: 2, k: 1, a: new Float64Array([1, -1]), b: new Float64Array([1, 2]), c, cOffset: 1, bias: new Float64Array([10, 20]), relu: true });
      expect(Array.from(c)).toEqual([5, 11, 22, 9, 18, 5]);
    }
  });
});
