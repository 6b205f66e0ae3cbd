import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { seededTensor } from '@chainrule/autograd/testing';
import type { FloatArray } from '../src/dtype.js';
import { ArgumentError } from '../src/errors.js';
import { kernelBackend, setKernelBackend, type KernelBackend } from '../src/kernels/backend.js';
import { gemm } from '../src/kernels/gemm.js';
import { gemmJs, gemmJsIsMonomorphic, gemmJsShared } from '../src/kernels/gemm-js.js';
import { gemmWasm } from '../src/kernels/wasm/gemm.js';
import { wasmAvailable } from '../src/kernels/wasm/module.js';

type Gemm = typeof gemm;
type DTypeName = 'float32' | 'float64';

interface Case {
  dtype: DTypeName;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  aOffset: number;
  bOffset: number;
  cOffset: number;
  seed: number;
}

/** `size` seeded operands uniform in [-scale, scale). */
function values(seed: number, size: number, scale = 2): number[] {
  return Array.from(seededTensor([size], seed, { min: -scale, max: scale, requiresGrad: false }).data);
}

function make(dtype: DTypeName, size: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
}

/** Operands with `offset` leading elements and two trailing sentinel elements. */
function operand(dtype: DTypeName, offset: number, data: number[]): FloatArray {
  const out = make(dtype, offset + data.length + 2);
  out.fill(-777);
  out.set(data, offset);
  return out;
}

/** The plain triple loop, in float64, with Σ|a·b| per element for the error bound. */
function reference(t: Case, a: FloatArray, b: FloatArray): { value: Float64Array; magnitude: Float64Array } {
  const { transA, transB, m, n, k, aOffset, bOffset } = t;
  const value = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const x = a[aOffset + (transA ? p * m + i : i * k + p)]!;
        const y = b[bOffset + (transB ? j * k + p : p * n + j)]!;
        sum += x * y;
        abs += Math.abs(x * y);
      }
      value[i * n + j] = sum;
      magnitude[i * n + j] = abs;
    }
  }
  return { value, magnitude };
}

/** Runs `kernel` on case `t` and checks it against the triple loop; returns a failure message or ''. */
function check(kernel: Gemm, t: Case, specials = false): string {
  const { dtype, m, n, k, aOffset, bOffset, cOffset, seed } = t;
  const aData = values(seed, m * k);
  const bData = values(seed + 1, k * n);
  if (specials) {
    // Sprinkle NaN, ±Inf and zeros: NaN·x, Inf·0 and Inf − Inf must come out as in the loop.
    const pick = values(seed + 2, m * k + k * n, 1);
    const special = [NaN, Infinity, -Infinity, 0, 0];
    pick.forEach((u, i) => {
      if (Math.abs(u) < 0.08) {
        const v = special[Math.floor(Math.abs(u) * 62.5) % special.length]!;
        if (i < m * k) aData[i] = v;
        else bData[i - m * k] = v;
      }
    });
  }
  const a = operand(dtype, aOffset, aData);
  const b = operand(dtype, bOffset, bData);
  // C's region starts as NaN: gemm overwrites it, so no NaN may survive from there.
  const c = operand(dtype, cOffset, new Array<number>(m * n).fill(NaN));
  kernel({ transA: t.transA, transB: t.transB, m, n, k, a, aOffset, b, bOffset, c, cOffset });
  const { value, magnitude } = reference(t, a, b);
  const eps = dtype === 'float32' ? 2 ** -24 : 2 ** -52;
  for (let i = 0; i < m * n; i++) {
    const got = c[cOffset + i]!;
    const want = value[i]!;
    if (Number.isNaN(want) || !Number.isFinite(want)) {
      if (!Object.is(got, want) && !(Number.isNaN(got) && Number.isNaN(want))) return `C[${i}] = ${got}, loop gives ${want}`;
      continue;
    }
    // f64: 1e-12 relative to Σ|a·b|; f32: rounding of k terms and of the stored result.
    const tol = dtype === 'float64' ? 1e-12 * magnitude[i]! : 2 * (k + 2) * eps * magnitude[i]! + 1e-30;
    if (!(Math.abs(got - want) <= tol)) return `C[${i}] = ${got}, loop gives ${want} (tolerance ${tol})`;
  }
  for (let i = 0; i < cOffset; i++) if (c[i] !== -777) return `C[${i}] before the offset was written`;
  for (let i = cOffset + m * n; i < c.length; i++) if (c[i] !== -777) return `C[${i}] past the end was written`;
  return '';
}

const dim = fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 16, 17));
const caseArb: fc.Arbitrary<Case> = fc.record({
  dtype: fc.constantFrom<DTypeName>('float32', 'float64'),
  transA: fc.boolean(),
  transB: fc.boolean(),
  m: dim,
  n: dim,
  k: dim,
  aOffset: fc.integer({ min: 0, max: 5 }),
  bOffset: fc.integer({ min: 0, max: 5 }),
  cOffset: fc.integer({ min: 0, max: 5 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

function agrees(kernel: Gemm, specials = false, numRuns = 150): void {
  fc.assert(
    fc.property(caseArb, (t) => {
      const failure = check(kernel, t, specials);
      if (failure !== '') throw new Error(failure);
    }),
    { numRuns },
  );
}

/** Shapes past the blocking: k > KC (accumulating slices), m > MC, n > NC, all edges ragged. */
const bigCases: [number, number, number][] = [
  [133, 37, 300],
  [130, 9, 520],
  [5, 2100, 3],
  [2, 1030, 257],
  [67, 70, 1],
];

function agreesOnBigShapes(kernel: Gemm): void {
  let seed = 11;
  for (const [m, n, k] of bigCases) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const t: Case = { dtype, transA, transB, m, n, k, aOffset: 3, bOffset: 1, cOffset: 2, seed: seed++ };
        expect(check(kernel, t), JSON.stringify(t)).toBe('');
      }
    }
  }
}

const withBackend = (backend: KernelBackend): Gemm => (call) => {
  setKernelBackend(backend);
  gemm(call);
};

const original = kernelBackend();
afterEach(() => setKernelBackend(original));

describe('gemm kernels agree with the plain triple loop', () => {
  it('this runtime has WebAssembly SIMD and clones the TypeScript kernel per dtype', () => {
    expect(wasmAvailable()).toBe(true);
    expect(gemmJsIsMonomorphic()).toBe(true);
  });

  const kernels: [string, Gemm][] = [
    ["gemm, backend forced to 'js'", withBackend('js')],
    ["gemm, backend forced to 'wasm'", withBackend('wasm')],
    ["gemm, backend 'auto'", withBackend('auto')],
    ['TypeScript tiled kernel (per-dtype clone)', gemmJs],
    ['TypeScript tiled kernel (shared fallback)', gemmJsShared],
    ['WebAssembly kernel', (call) => expect(gemmWasm(call)).toBe(true)],
  ];
  for (const [name, kernel] of kernels) {
    it(`${name}: random shapes, offsets, transposes, dtypes`, () => agrees(kernel));
    it(`${name}: NaN and ±Inf propagate as in the loop`, () => agrees(kernel, true, 100));
    it(`${name}: shapes past the cache blocking`, () => agreesOnBigShapes(kernel));
  }

  it('k = 0 gives zeros and an empty C is left alone', () => {
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      const c = new Float32Array([5, 5, 5, 5, 5]);
      gemm({ transA: false, transB: false, m: 2, n: 2, k: 0, a: new Float32Array(0), b: new Float32Array(0), c, cOffset: 1 });
      expect([...c]).toEqual([5, 0, 0, 0, 0]);
      gemm({ transA: true, transB: true, m: 0, n: 3, k: 4, a: new Float64Array(12), b: new Float64Array(12), c: new Float64Array(0) });
    }
  });

  it('Inf·0 is NaN and NaN in one row spoils only that row', () => {
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      const a = new Float64Array([Infinity, 1, NaN, 2, 3, 4]); // 3×2
      const b = new Float64Array([0, 1, 5, 6]); // 2×2
      const c = new Float64Array(6);
      gemm({ transA: false, transB: false, m: 3, n: 2, k: 2, a, b, c });
      expect([...c]).toEqual([NaN, Infinity, NaN, NaN, 20, 27]);
    }
  });
});

describe('the relaxed-SIMD (fused multiply-add) build', () => {
  // Browsers load this build; Node 20 validates it only with --experimental-wasm-relaxed-simd,
  // which V8 also takes at run time. Only modules compiled afterwards see the flag, so a fresh
  // copy of the loader picks the relaxed build while the one above keeps plain SIMD128.
  it('agrees with the plain triple loop too', async () => {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    vi.resetModules();
    try {
      const fresh = await import('../src/kernels/wasm/settings.js');
      const { gemmWasm: freshGemmWasm } = await import('../src/kernels/wasm/gemm.js');
      expect(fresh.wasmGemmFlavour()).toBe('relaxed-simd');
      const kernel: Gemm = (call) => expect(freshGemmWasm(call)).toBe(true);
      agrees(kernel);
      agrees(kernel, true, 100);
      agreesOnBigShapes(kernel);
    } finally {
      vi.resetModules();
    }
  });
});

describe('kernel backend switch', () => {
  it('setKernelBackend sets what kernelBackend reports, and rejects other names', () => {
    setKernelBackend('js');
    expect(kernelBackend()).toBe('js');
    setKernelBackend('wasm');
    expect(kernelBackend()).toBe('wasm');
    expect(() => setKernelBackend('gpu' as KernelBackend)).toThrow(/setKernelBackend: expected 'js', 'wasm' or 'auto', got gpu/);
    expect(() => setKernelBackend('gpu' as KernelBackend)).toThrow(ArgumentError);
    expect(kernelBackend()).toBe('wasm');
  });

  it('CHAINRULE_KERNELS is read once at load', async () => {
    try {
      vi.stubEnv('CHAINRULE_KERNELS', 'js');
      vi.resetModules();
      const fresh = await import('../src/kernels/backend.js');
      expect(fresh.kernelBackend()).toBe('js');
      vi.stubEnv('CHAINRULE_KERNELS', 'wasm');
      expect(fresh.kernelBackend()).toBe('js');
      vi.stubEnv('CHAINRULE_KERNELS', 'fast');
      vi.resetModules();
      await expect(import('../src/kernels/backend.js')).rejects.toThrow(/CHAINRULE_KERNELS: expected 'js', 'wasm' or 'auto', got 'fast'/);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
