import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adamUpdate, DTypeError, kernelBackend, setKernelBackend, ShapeError, type AdamStep, type FloatArray } from '@chainrule/autograd';
import { adamJs } from '../src/kernels/adam.js';
import { adamWasm } from '../src/kernels/wasm/gemm-wasm.js';
import { messageOf } from './helpers/reference.js';

const original = kernelBackend();
afterEach(() => setKernelBackend(original));

/**
 * The documented step on plain numbers: every value in float64, rounded to the storage dtype
 * where it is stored, later steps reading the stored values. What every path must give, bit
 * for bit.
 */
function expected(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, s: AdamStep): { x: number[]; m: number[]; v: number[] } {
  const round = x instanceof Float32Array ? Math.fround : (a: number): number => a;
  const out = { x: [] as number[], m: [] as number[], v: [] as number[] };
  for (let i = 0; i < x.length; i++) {
    const xi = round(x[i]! * s.decay);
    const gi = (s.maximize ? -1 : 1) * g[i]!;
    const mi = round(s.beta1 * m[i]! + (1 - s.beta1) * gi);
    const vi = round(s.beta2 * v[i]! + (1 - s.beta2) * gi * gi);
    out.m.push(mi);
    out.v.push(vi);
    out.x.push(round(xi - (s.stepSize * mi) / (Math.sqrt(vi) / s.biasCorrection2Sqrt + s.eps)));
  }
  return out;
}

function arrays(dtype: 'float32' | 'float64', n: number, seed: number): [FloatArray, FloatArray, FloatArray, FloatArray] {
  const make = (k: number, scale: number): FloatArray => {
    const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = scale * Math.sin(seed * 3.7 + i * (k + 0.61)) * 10 ** ((i % 5) - 2);
    return a;
  };
  // Second moments are squares: non-negative.
  const v = make(4, 1).map((a) => a * a);
  return [make(1, 1), make(2, 1), make(3, 0.1), v];
}

const steps: AdamStep[] = [
  { beta1: 0.9, beta2: 0.999, stepSize: 1e-3 / (1 - 0.9), biasCorrection2Sqrt: Math.sqrt(1 - 0.999), eps: 1e-8, decay: 1, maximize: false },
  { beta1: 0.8, beta2: 0.95, stepSize: 0.02, biasCorrection2Sqrt: 0.4, eps: 1e-6, decay: 1 - 0.01 * 0.1, maximize: true },
];

const same = (actual: FloatArray, want: number[]): boolean => actual.every((a, i) => Object.is(a, want[i]));

describe('adamUpdate', () => {
  const paths: [string, (x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, s: AdamStep) => void][] = [
    ['adamUpdate, backend js', (...a) => (setKernelBackend('js'), adamUpdate(...a))],
    ['adamUpdate, backend wasm', (...a) => (setKernelBackend('wasm'), adamUpdate(...a))],
    ['adamUpdate, backend auto', (...a) => (setKernelBackend('auto'), adamUpdate(...a))],
    ['TypeScript kernel', adamJs],
    ['WebAssembly kernel', (...a) => expect(adamWasm(...a)).toBe(true)],
  ];
  for (const [name, run] of paths) {
    it(`${name}: the documented step, bit for bit, for lengths around the vector width and the threshold`, () => {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const n of [0, 1, 2, 3, 5, 255, 256, 257, 1001]) {
          for (const s of steps) {
            const [x, g, m, v] = arrays(dtype, n, n + 1);
            const want = expected(x, g, m, v, s);
            run(x, g, m, v, s);
            if (!same(x, want.x) || !same(m, want.m) || !same(v, want.v)) throw new Error(`${dtype} n=${n} maximize=${s.maximize}`);
          }
        }
      }
    });
  }

  it('the WebAssembly and TypeScript steps agree bit for bit on signed zeros, infinities, NaN and subnormals', () => {
    const value = fc.oneof(fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1e-310, 1e-45, 3e38, -1), fc.double({ noNaN: true }), fc.double({ min: -3, max: 3 }));
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.tuple(value, value, value, value), { minLength: 1, maxLength: 40 }), fc.constantFrom(...steps), (f32, rows, s) => {
        const make = (k: number): FloatArray => (f32 ? Float32Array.from(rows, (r) => r[k]!) : Float64Array.from(rows, (r) => r[k]!));
        const [x1, g, m1, v1] = [make(0), make(1), make(2), make(3)];
        const [x2, m2, v2] = [x1.slice(), m1.slice(), v1.slice()];
        adamJs(x1, g, m1, v1, s);
        expect(adamWasm(x2, g, m2, v2, s)).toBe(true);
        const bits = (a: FloatArray, b: FloatArray): boolean => a.every((u, i) => Object.is(u, b[i]) || (Number.isNaN(u) && Number.isNaN(b[i])));
        expect(bits(x1, x2) && bits(m1, m2) && bits(v1, v2)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('clear errors name adamUpdate, and leave the arrays as they were', () => {
    const x = new Float32Array([1, 2]);
    const step = steps[0]!;
    expect(messageOf(() => adamUpdate(x, new Float32Array(2), new Float64Array(2), new Float32Array(2), step))).toBe('adamUpdate: x is float32 but m is float64');
    expect(messageOf(() => adamUpdate(x, new Float32Array(3), new Float32Array(2), new Float32Array(2), step))).toBe('adamUpdate: x holds 2 elements but g holds 3');
    expect(() => adamUpdate(x, [1, 2] as unknown as FloatArray, new Float32Array(2), new Float32Array(2), step)).toThrow(DTypeError);
    expect(() => adamUpdate(x, new Float32Array(2), new Float32Array(2), new Float32Array(1), step)).toThrow(ShapeError);
    expect(messageOf(() => adamUpdate(x, new Float32Array(2), new Float32Array(2), new Float32Array(2), { ...step, eps: Number.NaN }))).toBe(
      'adamUpdate: step.eps must be a finite number, got NaN',
    );
    expect(messageOf(() => adamUpdate(x, new Float32Array(2), new Float32Array(2), new Float32Array(2), { ...step, beta1: undefined } as unknown as AdamStep))).toBe(
      'adamUpdate: step.beta1 must be a finite number, got undefined',
    );
    expect(Array.from(x)).toEqual([1, 2]);
  });
});
