import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArgumentError } from '../src/errors.js';
import { convAdjointColumns, convForwardColumns, convWeightGradColumns, type ConvGeometry } from '../src/kernels/conv.js';
import { gemmWasm } from '../src/kernels/wasm/gemm.js';
import { helperThreadReady, kernelThreads, lastGemmThreads, setKernelThreads, splitProduct } from '../src/kernels/wasm/helper-thread.js';
import { WASM_GEMM_BLOCKING } from '../src/kernels/wasm/kernels.generated.js';
import { seededTensor } from '@chainrule/autograd/testing';
import { withBackend } from './helpers/backend.js';

type DTypeName = 'float32' | 'float64';

/** size seeded values in [-0.5, 0.5) of `dtype`. */
function filled(dtype: DTypeName, size: number, seed: number): Float32Array | Float64Array {
  return seededTensor([size], seed, { min: -0.5, max: 0.5, dtype, requiresGrad: false }).data;
}

interface Product {
  dtype: DTypeName;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  seed: number;
  /** A linear layer's epilogue: a bias of n values, then relu. */
  bias?: boolean;
  relu?: boolean;
}

/** C of `p` computed with `threads` threads (C starts as NaN, so every element must be written). */
function product(p: Product, threads: 1 | 2): Float32Array | Float64Array {
  setKernelThreads(threads);
  const a = filled(p.dtype, p.m * p.k, p.seed);
  const b = filled(p.dtype, p.k * p.n, p.seed + 1);
  const c = p.dtype === 'float32' ? new Float32Array(p.m * p.n) : new Float64Array(p.m * p.n);
  c.fill(NaN);
  const bias = p.bias === true ? filled(p.dtype, p.n, p.seed + 2) : null;
  expect(gemmWasm({ transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.k, a, b, c, bias, relu: p.relu === true })).toBe(true);
  return c;
}

/** The first element where x and y differ in bits, or -1. */
function firstDifference(x: Float32Array | Float64Array, y: Float32Array | Float64Array): number {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

/** Products big enough to be shared: 1-row and 1-column edges, ragged tiles, k past the blocking. */
const productArb: fc.Arbitrary<Product> = fc
  .record({
    dtype: fc.constantFrom<DTypeName>('float32', 'float64'),
    transA: fc.boolean(),
    transB: fc.boolean(),
    m: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1, 2, 3, 5)),
    n: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1, 2, 7, 9)),
    k: fc.integer({ min: 1, max: 600 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    bias: fc.boolean(),
    relu: fc.boolean(),
  })
  .filter((p) => p.m * p.n * p.k >= 1 << 18);

describe('gemm on two threads', () => {
  beforeAll(async () => {
    setKernelThreads(2);
    expect(await helperThreadReady()).toBe(true);
  });
  afterAll(() => setKernelThreads(2));

  it('has a helper thread ready in Node on this machine', () => {
    setKernelThreads(2);
    expect(kernelThreads()).toBe(2);
    setKernelThreads(1);
    expect(kernelThreads()).toBe(1);
  });

  it('shares a large product with the helper', () => {
    // Tens of milliseconds of work: time enough for even a sleeping helper to wake and join.
    const p: Product = { dtype: 'float32', transA: false, transB: false, m: 1024, n: 1024, k: 256, seed: 5, bias: true, relu: true };
    const one = product(p, 1);
    expect(lastGemmThreads()).toBe(1);
    const two = product(p, 2);
    expect(lastGemmThreads()).toBe(2);
    expect(firstDifference(one, two)).toBe(-1);
  });

  it('keeps a product asked to run alone on the calling thread', () => {
    setKernelThreads(2);
    const m = 1024, n = 1024, k = 256;
    const a = filled('float32', m * k, 7), b = filled('float32', k * n, 8);
    const c = new Float32Array(m * n).fill(NaN);
    expect(gemmWasm({ transA: false, transB: false, m, n, k, a, b, c, alone: true })).toBe(true);
    expect(lastGemmThreads()).toBe(1);
    expect(firstDifference(c, product({ dtype: 'float32', transA: false, transB: false, m, n, k, seed: 7 }, 1))).toBe(-1);
  });

  it('gives the same bits as one thread on random shared products', () => {
    fc.assert(
      fc.property(productArb, (p) => {
        const one = product(p, 1);
        // (The helper may miss a small product that the caller finishes first: still correct.)
        const two = product(p, 2);
        const at = firstDifference(one, two);
        if (at >= 0) throw new Error(`C[${at}]: one thread ${one[at]}, two threads ${two[at]}`);
      }),
      { numRuns: 40 },
    );
  });

  it('gives the same bits on square products cut along either side, past every blocking size', () => {
    for (const [m, n, k] of [[300, 300, 300], [1030, 40, 70], [40, 2100, 9], [9, 17, 5000]] as const) {
      for (const dtype of ['float32', 'float64'] as const) {
        const p: Product = { dtype, transA: m % 2 === 0, transB: n % 2 === 1, m, n, k, seed: m + n + k, bias: true, relu: dtype === 'float32' };
        expect(splitProduct(m, n, k, dtype === 'float32', 2).chunks).toBeGreaterThan(1);
        expect(firstDifference(product(p, 1), product(p, 2)), JSON.stringify(p)).toBe(-1);
      }
    }
  });
});

describe('convolutions with the helper thread', () => {
  beforeAll(async () => {
    setKernelThreads(2);
    expect(await helperThreadReady()).toBe(true);
  });
  afterAll(() => setKernelThreads(2));

  it('give the same bits as one thread: both threads taking images of one job', () => {
    const geometry = fc.record({
      n: fc.integer({ min: 1, max: 5 }), groups: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 4 }), og: fc.integer({ min: 1, max: 8 }),
      k: fc.integer({ min: 1, max: 5 }), size: fc.integer({ min: 5, max: 16 }), pad: fc.integer({ min: 0, max: 2 }), dtype: fc.constantFrom<DTypeName>('float32', 'float64'), seed: fc.integer({ min: 0, max: 2 ** 30 }),
    });
    fc.assert(
      fc.property(geometry, ({ n, groups, cg, og, k, size, pad, dtype, seed }) => {
        const out = size + 2 * pad - k + 1;
        const g: ConvGeometry = { h: size, w: size, kh: k, kw: k, oh: out, ow: out, sh: 1, sw: 1, ph: pad, pw: pad, dh: 1, dw: 1 };
        const c = groups * cg, o = groups * og;
        const x = filled(dtype, n * c * size * size, seed), w = filled(dtype, o * cg * k * k, seed + 1);
        const u = filled(dtype, n * o * out * out, seed + 2), bias = filled(dtype, o, seed + 3);
        const run = (threads: 1 | 2) => {
          setKernelThreads(threads);
          return withBackend('wasm', () => {
            const y = filled(dtype, n * o * out * out, 0).fill(NaN), dx = filled(dtype, x.length, 0).fill(NaN), dw = filled(dtype, w.length, 0).fill(NaN);
            convForwardColumns(x, w, bias, n, groups, cg, og, g, y);
            convAdjointColumns(u, w, null, n, groups, cg, og, g, dx);
            convWeightGradColumns(x, u, n, groups, cg, og, g, dw);
            return [y, dx, dw];
          });
        };
        const one = run(1), two = run(2);
        one.forEach((r, i) => expect(firstDifference(r, two[i]!)).toBe(-1));
      }),
      { numRuns: 60 },
    );
  });
});

describe('splitProduct', () => {
  it('keeps small products and one-thread products whole', () => {
    expect(splitProduct(512, 512, 512, true, 1)).toEqual({ axis: 1, width: 512, chunks: 1 });
    expect(splitProduct(60, 60, 60, true, 2)).toEqual({ axis: 1, width: 60, chunks: 1 });
  });

  it('cuts an even number of slabs where the tiles allow, so that two threads end together', () => {
    // 12.8M multiply-adds: three slabs by the work alone, which would leave one thread a third idle.
    expect(splitProduct(64, 256, 784, true, 2)).toEqual({ axis: 1, width: 64, chunks: 4 });
    expect(splitProduct(64, 128, 784, true, 2)).toEqual({ axis: 1, width: 64, chunks: 2 });
  });

  it('cuts products side by side sharing A as one of them, so A is packed no more often than for one', () => {
    // Forward mode's x·[W; dW]ᵀ: one side per thread, as x·Wᵀ alone is cut in two.
    expect(splitProduct(64, 256, 784, true, 2, 2)).toEqual({ axis: 1, width: 128, chunks: 2 });
    // Large sides are still cut finer, each slab within one side.
    expect(splitProduct(64, 2048, 784, true, 2, 2)).toEqual({ axis: 1, width: 256, chunks: 8 });
    // Cut along m, each slab packs its own rows of A and all of B: the total work decides.
    expect(splitProduct(1024, 64, 784, true, 2, 2)).toEqual(splitProduct(1024, 64, 784, true, 2));
  });

  it('cuts whole register tiles along the side with more of them, and covers it exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }), fc.boolean(), (m, n, k, f32) => {
        const split = splitProduct(m, n, k, f32, 2);
        const { mr, nr } = f32 ? WASM_GEMM_BLOCKING.f32 : WASM_GEMM_BLOCKING.f64;
        if (split.chunks === 1) return;
        expect(split.axis).toBe(n / nr >= m / mr ? 1 : 0);
        const extent = split.axis === 1 ? n : m;
        expect(split.width % (split.axis === 1 ? nr : mr)).toBe(0);
        expect((split.chunks - 1) * split.width).toBeLessThan(extent);
        expect(split.chunks * split.width).toBeGreaterThanOrEqual(extent);
        expect(split.chunks).toBeLessThanOrEqual(8);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the thread setting', () => {
  it('setKernelThreads rejects anything but 1 and 2', () => {
    expect(() => setKernelThreads(3 as 2)).toThrow(/setKernelThreads: expected 1 or 2, got 3/);
    expect(() => setKernelThreads(0 as 1)).toThrow(/setKernelThreads: expected 1 or 2, got 0/);
    expect(() => setKernelThreads(0 as 1)).toThrow(ArgumentError);
  });

  it('asking kernelThreads starts no helper; the first large product does', async () => {
    vi.resetModules();
    try {
      const fresh = await import('../src/kernels/wasm/helper-thread.js');
      const { gemmWasm: freshGemmWasm } = await import('../src/kernels/wasm/gemm.js');
      fresh.setKernelThreads(2);
      for (let i = 0; i < 3; i++) expect(fresh.kernelThreads()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(fresh.kernelThreads()).toBe(1);
      const n = 64;
      freshGemmWasm({ transA: false, transB: false, m: n, n, k: n, a: new Float32Array(n * n), b: new Float32Array(n * n), c: new Float32Array(n * n) });
      for (let waited = 0; fresh.kernelThreads() === 1 && waited < 10_000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(fresh.kernelThreads()).toBe(2);
    } finally {
      vi.resetModules();
    }
  });

  it('CHAINRULE_THREADS is read once at load, and a bad value is an error', async () => {
    try {
      vi.stubEnv('CHAINRULE_THREADS', '1');
      vi.resetModules();
      const fresh = await import('../src/kernels/wasm/helper-thread.js');
      expect(fresh.kernelThreads()).toBe(1);
      vi.stubEnv('CHAINRULE_THREADS', 'many');
      vi.resetModules();
      await expect(import('../src/kernels/wasm/helper-thread.js')).rejects.toThrow(/CHAINRULE_THREADS: expected '1' or '2', got 'many'/);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  it('a process whose helper thread is busy or asleep still exits by itself', () => {
    const run = fileURLToPath(new URL('../../../scripts/run.mjs', import.meta.url));
    const fixture = fileURLToPath(new URL('./fixtures/threaded-gemm-exit.ts', import.meta.url));
    // A process that hung would be killed at the timeout, with a null status.
    const child = spawnSync(process.execPath, [run, fixture], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('threads 2, C[0] 256');
  });

  /** Runs a fixture whose helper thread dies in its job (helper-traps.cjs preloaded) and checks what it prints. */
  const expectHelperTrapSurvived = (fixtureName: string): void => {
    const run = fileURLToPath(new URL('../../../scripts/run.mjs', import.meta.url));
    const preload = fileURLToPath(new URL('./fixtures/helper-traps.cjs', import.meta.url));
    const fixture = fileURLToPath(new URL(`./fixtures/${fixtureName}`, import.meta.url));
    // Without the failed state the caller would wait on the job for ever: killed at the timeout.
    const child = spawnSync(process.execPath, ['--require', preload, run, fixture], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('threads 2 then 1, same bits true');
  };

  it('a helper that traps in a slab leaves the caller to redo the product, not waiting forever', () => {
    expectHelperTrapSurvived('threaded-gemm-helper-fails.ts');
  });

  it('a helper that traps in the tangent\'s product of a forward-mode layer leaves the caller to redo it, not waiting forever', () => {
    expectHelperTrapSurvived('threaded-jvp-helper-fails.ts');
  });

  it('a helper that traps in a convolution\'s image leaves the caller to redo every image, not waiting forever', () => {
    expectHelperTrapSurvived('threaded-conv-helper-fails.ts');
  });
});
