import { describe, expect, test, vi } from 'vitest';
import { jit, type Tensor } from '@chainrule/autograd';
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
          expect(runProduct, name).toHaveBeenCalledTimes(products);
          expect(gemm, name).toHaveBeenCalledTimes(viaGemm);
          for (const call of runProduct.mock.calls) expect(call[6] === true, `${name}: ${m}·${n}·${k}`).toBe(alone);
          const want = f(x, w);
          for (let i = 0; i < want.size; i++) if (!Object.is(y.data[i], want.data[i])) throw new Error(`${name}, ${m}·${n}·${k}: element ${i}: jit ${y.data[i]}, eager ${want.data[i]}`);
        }
      }
    });
  });
});
