import { describe, expect, test, vi } from 'vitest';
import fc from 'fast-check';
import { grad, jit, type Tensor } from '@chainrule/autograd';
import { seededTensor } from '@chainrule/autograd/testing';
import { WASM_THRESHOLDS } from '../src/kernels/backend.js';
import * as kernels from '../src/kernels/gemm.js';
import * as threads from '../src/kernels/wasm/helper-thread.js';
import { loadKernels, wasmAvailable } from '../src/kernels/wasm/module.js';
import { withBackend } from './helpers/backend.js';

// The products a compiled program runs itself: which ones it keeps on the calling thread. The
// WebAssembly product runner and the gemm kernel are wrapped (same results) to see the calls;
// the arena needs the kernels' memory shared.
vi.mock('../src/kernels/gemm.js', async (original) => {
  const actual = await original<typeof import('../src/kernels/gemm.js')>();
  return { ...actual, gemm: vi.fn(actual.gemm) };
});
vi.mock('../src/kernels/wasm/helper-thread.js', async (original) => {
  const actual = await original<typeof import('../src/kernels/wasm/helper-thread.js')>();
  return { ...actual, runProduct: vi.fn(actual.runProduct) };
});

describe.runIf(wasmAvailable() && loadKernels()?.shared === true)("a compiled program's 2-D products", () => {
  test('run alone below WASM_THRESHOLDS.compiledShared multiply-adds, may be shared from it, and give the eager bits', () => {
    const runProduct = vi.mocked(threads.runProduct);
    const min = WASM_THRESHOLDS.compiledShared.min;
    // A product alone (through the gemm kernel), and one whose result stays in the arena
    // (run on its address there) followed by one on the program's inputs and that result.
    const programs: [string, (p: Tensor, q: Tensor) => Tensor, number, number][] = [
      ['alone', (p, q) => p.matmul(q), 1, 1],
      ['in the arena', (p, q) => p.matmul(q).tanh().matmul(q.transpose(0, 1)), 2, 0],
    ];
    const gemm = vi.mocked(kernels.gemm);
    withBackend('wasm', () => {
      for (const [name, f, products, viaGemm] of programs) {
        // m·n·k at, and just below, the threshold.
        for (const [m, n, k, alone] of [[min / 1024, 32, 32, false], [min / 1024 - 1, 32, 32, true]] as const) {
          const x = seededTensor([m, k], 3, { dtype: 'float32', requiresGrad: false });
          const w = seededTensor([k, n], 4, { dtype: 'float32', requiresGrad: false });
          const compiled = jit(f);
          compiled(x, w);
          runProduct.mockClear();
          gemm.mockClear();
          const y = compiled(x, w);
          // In the arena, a product run alone is a function generated for its shape, not the product runner.
          expect(runProduct, name).toHaveBeenCalledTimes(name === 'in the arena' && alone ? 0 : products);
          expect(gemm, name).toHaveBeenCalledTimes(viaGemm);
          for (const call of runProduct.mock.calls) expect(call[6] === true, `${name}: ${m}·${n}·${k}`).toBe(alone);
          const want = f(x, w);
          for (let i = 0; i < want.size; i++) if (!Object.is(y.data[i], want.data[i])) throw new Error(`${name}, ${m}·${n}·${k}: element ${i}: jit ${y.data[i]}, eager ${want.data[i]}`);
        }
      }
    });
  });

  test('small enough to run alone, as wide (n) or as tall (m) as a multiple of 8, and at most 256 deep, run as a function generated for their shape, in the transposes a layer and its gradient ask for (A·B, A·Bᵀ, Aᵀ·B): the eager bits, call after call', () => {
    const runProduct = vi.mocked(threads.runProduct);
    /** Whether a rows×cols product of this depth is one the generated functions take. */
    const taken = (rows: number, cols: number, depth: number): boolean => (rows % 8 === 0 || cols % 8 === 0) && depth >= 1 && depth <= 256;
    withBackend('wasm', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 64, max: 256 }), fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 300 }), fc.nat(10_000),
          (m, n, k, seed) => {
            // m from 64: programs whose elementwise groups are large enough to run in place, so
            // that the program holds the arena, where products run on their operands' addresses.
            // y = tanh(x·w); the gradient of Σ(y·c) asks for dX = G·wᵀ (transB) and dW = xᵀ·G (transA).
            const f = (x: Tensor, w: Tensor, c: Tensor): Tensor[] => {
              const g = grad((p: Tensor, q: Tensor) => p.matmul(q).tanh().mul(c).sum(), { argnums: [0, 1] })(x, w) as Tensor[];
              return [x.matmul(w), ...g];
            };
            const compiled = jit(f);
            for (let call = 0; call < 2; call++) {
              const x = seededTensor([m, k], seed + 3 * call, { dtype: 'float32', requiresGrad: false });
              const w = seededTensor([k, n], seed + 3 * call + 1, { dtype: 'float32', requiresGrad: false });
              const c = seededTensor([m, n], seed + 3 * call + 2, { dtype: 'float32', requiresGrad: false });
              runProduct.mockClear();
              const got = compiled(x, w, c);
              // After the tracing call: the forward (m×n, k deep), dX (m×k, n deep) and dW (k×n, m deep).
              const all = taken(m, n, k) && taken(m, k, n) && taken(k, n, m);
              if (call > 0 && m * n * k < WASM_THRESHOLDS.compiledShared.min && all) expect(runProduct).not.toHaveBeenCalled();
              const want = f(x, w, c);
              got.forEach((y, r) => {
                for (let i = 0; i < y.size; i++) if (!Object.is(y.data[i], want[r]!.data[i])) throw new Error(`${m}·${n}·${k}, result ${r}, element ${i}: jit ${y.data[i]}, eager ${want[r]!.data[i]}`);
              });
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});
