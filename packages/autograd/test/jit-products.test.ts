import { describe, expect, test, vi } from 'vitest';
import { jit, type Tensor } from '@chainrule/autograd';
import { seededTensor } from '@chainrule/autograd/testing';
import { WASM_THRESHOLDS } from '../src/kernels/backend.js';
import * as kernels from '../src/kernels/gemm.js';

// The products a compiled program runs itself: which ones it keeps on the calling thread. The
// gemm kernel is wrapped (same results) to see the calls the executor makes.
vi.mock('../src/kernels/gemm.js', async (original) => {
  const actual = await original<typeof import('../src/kernels/gemm.js')>();
  return { ...actual, gemm: vi.fn(actual.gemm) };
});

describe("a compiled program's 2-D products", () => {
  test('run alone below WASM_THRESHOLDS.compiledShared multiply-adds, may be shared from it, and give the eager bits', () => {
    const gemm = vi.mocked(kernels.gemm);
    const min = WASM_THRESHOLDS.compiledShared.min;
    // m·n·k just below, and at, the threshold.
    for (const [m, n, k, alone] of [[min / 1024, 32, 32, false], [min / 1024 - 1, 32, 32, true], [256, 32, 32, 256 * 32 * 32 < min]] as const) {
      const x = seededTensor([m, k], 3, { dtype: 'float32', requiresGrad: false });
      const w = seededTensor([k, n], 4, { dtype: 'float32', requiresGrad: false });
      const f = jit((p: Tensor, q: Tensor) => p.matmul(q));
      gemm.mockClear();
      const y = f(x, w);
      expect(gemm).toHaveBeenCalledTimes(1);
      expect(gemm.mock.calls[0]![0].alone, `${m}·${n}·${k}`).toBe(alone);
      const want = x.matmul(w);
      for (let i = 0; i < want.size; i++) if (!Object.is(y.data[i], want.data[i])) throw new Error(`${m}·${n}·${k}: element ${i}: jit ${y.data[i]}, eager ${want.data[i]}`);
    }
  });
});
