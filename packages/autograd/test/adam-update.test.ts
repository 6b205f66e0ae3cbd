import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adamUpdate, DTypeError, kernelBackend, setKernelBackend, ShapeError, type AdamStep, type FloatArray } from '@chainrule/autograd';
import { adamJs } from '../src/kernels/adam.js';
import { adamWasm } from '../src/kernels/wasm/optimisers.js';
import { messageOf, spreadValues } from './helpers/reference.js';

const original = kernelBackend();
afterEach(() => setKernelBackend(original));

/**
 * The documented step on plain numbers: every value in float64, rounded to the storage dtype
 * where it is stored, later steps reading the stored values. What every path must give, bit
 * for bit.
 */
function expected(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, s: AdamStep): { x: number[]; m: number[]; v: number[]; vMax: number[] } {
  const round = x instanceof Float32Array ? Math.fround : (a: number): number => a;
  const out = { x: [] as number[], m: [] as number[], v: [] as number[], vMax: [] as number[] };
  for (let i = 0; i < x.length; i++) {
    const xi = round(x[i]! * s.decay);
    let gi = (s.maximize ? -1 : 1) * g[i]!;
    if (s.l2 !== 0) gi += s.l2 * xi;
    const mi = round(s.beta1 * m[i]! + (1 - s.beta1) * gi);
    const vi = round(s.beta2 * v[i]! + (1 - s.beta2) * gi * gi);
    const second = vMax === null ? vi : Math.max(vMax[i]!, vi);
    out.m.push(mi);
    out.v.push(vi);
    out.vMax.push(second);
    out.x.push(round(xi - (s.stepSize * mi) / (Math.sqrt(second) / s.biasCorrection2Sqrt + s.eps)));
  }
  return out;
}

/** x, g, m, v (non-negative: second moments are squares) and a running maximum of v. */
function arrays(dtype: 'float32' | 'float64', n: number, seed: number): FloatArray[] {
  const square = (a: FloatArray): FloatArray => a.map((u) => u * u);
  return [spreadValues(dtype, n, seed, 1), spreadValues(dtype, n, seed, 2), spreadValues(dtype, n, seed, 3).map((u) => u / 10), square(spreadValues(dtype, n, seed, 4)), square(spreadValues(dtype, n, seed, 5))];
}

const plain: AdamStep[] = [
  { beta1: 0.9, beta2: 0.999, stepSize: 1e-3 / (1 - 0.9), biasCorrection2Sqrt: Math.sqrt(1 - 0.999), eps: 1e-8, decay: 1, l2: 0, maximize: false },
  { beta1: 0.8, beta2: 0.95, stepSize: 0.02, biasCorrection2Sqrt: 0.4, eps: 1e-6, decay: 1 - 0.01 * 0.1, l2: 0, maximize: true },
];
const withL2: AdamStep = { beta1: 0.9, beta2: 0.99, stepSize: 0.05, biasCorrection2Sqrt: 0.3, eps: 1e-8, decay: 1, l2: 0.1, maximize: false };

const same = (actual: FloatArray, want: number[]): boolean => actual.every((a, i) => Object.is(a, want[i]));

type Run = (x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, s: AdamStep) => void;

describe('adamUpdate', () => {
  const update: Run = (x, g, m, v, vMax, s) => adamUpdate(x, g, m, v, s, vMax);
  // [name, run, whether it takes amsgrad and L2 steps]
  const paths: [string, Run, boolean][] = [
    ['adamUpdate, backend js', (...a) => (setKernelBackend('js'), update(...a)), true],
    ['adamUpdate, backend wasm', (...a) => (setKernelBackend('wasm'), update(...a)), true],
    ['adamUpdate, backend auto', (...a) => (setKernelBackend('auto'), update(...a)), true],
    ['TypeScript kernel', adamJs, true],
    ['WebAssembly kernel', (x, g, m, v, _vMax, s) => expect(adamWasm(x, g, m, v, s)).toBe(true), false],
  ];
  for (const [name, run, general] of paths) {
    it(`${name}: the documented step, bit for bit, for lengths around the vector width and the threshold`, () => {
      const cases: [AdamStep, boolean][] = [...plain.map((s): [AdamStep, boolean] => [s, false]), ...(general ? ([[withL2, false], [plain[0]!, true], [withL2, true]] as [AdamStep, boolean][]) : [])];
      for (const dtype of ['float32', 'float64'] as const) {
        for (const n of [0, 1, 2, 3, 5, 255, 256, 257, 1001]) {
          for (const [s, amsgrad] of cases) {
            const [x, g, m, v, max] = arrays(dtype, n, n + 1) as [FloatArray, FloatArray, FloatArray, FloatArray, FloatArray];
            const vMax = amsgrad ? max : null;
            const want = expected(x, g, m, v, vMax, s);
            run(x, g, m, v, vMax, s);
            const ok = same(x, want.x) && same(m, want.m) && same(v, want.v) && (vMax === null || same(vMax, want.vMax));
            if (!ok) throw new Error(`${dtype} n=${n} l2=${s.l2} amsgrad=${amsgrad} maximize=${s.maximize}`);
          }
        }
      }
    });
  }

  it('the WebAssembly loop declines a step with an L2 term, which it does not have', () => {
    const [x, g, m, v] = arrays('float32', 4, 1) as [FloatArray, FloatArray, FloatArray, FloatArray];
    const before = Array.from(x);
    expect(adamWasm(x, g, m, v, withL2)).toBe(false);
    expect(Array.from(x)).toEqual(before);
  });

  it('the WebAssembly and TypeScript steps agree bit for bit on signed zeros, infinities, NaN and subnormals', () => {
    const value = fc.oneof(fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1e-310, 1e-45, 3e38, -1), fc.double({ noNaN: true }), fc.double({ min: -3, max: 3 }));
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.tuple(value, value, value, value), { minLength: 1, maxLength: 40 }), fc.constantFrom(...plain), (f32, rows, s) => {
        const make = (k: number): FloatArray => (f32 ? Float32Array.from(rows, (r) => r[k]!) : Float64Array.from(rows, (r) => r[k]!));
        const [x1, g, m1, v1] = [make(0), make(1), make(2), make(3)];
        const [x2, m2, v2] = [x1.slice(), m1.slice(), v1.slice()];
        adamJs(x1, g, m1, v1, null, s);
        expect(adamWasm(x2, g, m2, v2, s)).toBe(true);
        const bits = (a: FloatArray, b: FloatArray): boolean => a.every((u, i) => Object.is(u, b[i]) || (Number.isNaN(u) && Number.isNaN(b[i])));
        expect(bits(x1, x2) && bits(m1, m2) && bits(v1, v2)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('clear errors name adamUpdate, and leave the arrays as they were', () => {
    const x = new Float32Array([1, 2]);
    const step = plain[0]!;
    const f32 = (n = 2): Float32Array => new Float32Array(n);
    expect(messageOf(() => adamUpdate(x, f32(), new Float64Array(2), f32(), step))).toBe('adamUpdate: x is float32 but m is float64');
    expect(messageOf(() => adamUpdate(x, f32(3), f32(), f32(), step))).toBe('adamUpdate: x holds 2 elements but g holds 3');
    expect(messageOf(() => adamUpdate(x, f32(), f32(), f32(), step, f32(1)))).toBe('adamUpdate: x holds 2 elements but vMax holds 1');
    expect(() => adamUpdate(x, [1, 2] as unknown as FloatArray, f32(), f32(), step)).toThrow(DTypeError);
    expect(() => adamUpdate(x, f32(), f32(), f32(1), step)).toThrow(ShapeError);
    expect(messageOf(() => adamUpdate(x, f32(), f32(), f32(), { ...step, eps: Number.NaN }))).toBe('adamUpdate: step.eps must be a finite number, got NaN');
    expect(messageOf(() => adamUpdate(x, f32(), f32(), f32(), { ...step, beta1: undefined } as unknown as AdamStep))).toBe(
      'adamUpdate: step.beta1 must be a finite number, got undefined',
    );
    expect(Array.from(x)).toEqual([1, 2]);
  });
});
