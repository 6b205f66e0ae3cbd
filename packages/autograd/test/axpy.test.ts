import { afterEach, describe, expect, it } from 'vitest';
import { axpby, axpy, DTypeError, kernelBackend, setKernelBackend, ShapeError, type FloatArray } from '@chainrule/autograd';
import { axpyJs } from '../src/kernels/axpy.js';
import { axpyWasm } from '../src/kernels/wasm/optimisers.js';
import { messageOf, spreadValues } from './helpers/reference.js';

const original = kernelBackend();
afterEach(() => setKernelBackend(original));

/** y[i] + alpha·x[i] in float64, rounded once to y's dtype: what every path must give, bit for bit. */
function expected(y: FloatArray, alpha: number, x: FloatArray): number[] {
  return Array.from(y, (v, i) => (y instanceof Float32Array ? Math.fround(v + alpha * x[i]!) : v + alpha * x[i]!));
}

function operands(dtype: 'float32' | 'float64', n: number, seed: number): [FloatArray, FloatArray] {
  return [spreadValues(dtype, n, seed, 1), spreadValues(dtype, n, seed, 2)];
}

describe('axpy', () => {
  const paths: [string, (y: FloatArray, alpha: number, x: FloatArray) => void][] = [
    ['axpy, backend js', (y, a, x) => (setKernelBackend('js'), axpy(y, a, x))],
    ['axpy, backend wasm', (y, a, x) => (setKernelBackend('wasm'), axpy(y, a, x))],
    ['axpy, backend auto', (y, a, x) => (setKernelBackend('auto'), axpy(y, a, x))],
    ['TypeScript kernel', axpyJs],
    ['WebAssembly kernel', (y, a, x) => expect(axpyWasm(y, a, x)).toBe(true)],
  ];
  for (const [name, run] of paths) {
    it(`${name}: the bits of y + α·x rounded once, for lengths around the vector width and the threshold`, () => {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 1023, 1024, 1025, 5000]) {
          const [y, x] = operands(dtype, n, n + 1);
          const want = expected(y, -0.0137, x);
          run(y, -0.0137, x);
          for (let i = 0; i < n; i++) {
            if (!Object.is(y[i], want[i])) throw new Error(`${dtype} n=${n} element ${i}: ${y[i]} vs ${want[i]}`);
          }
        }
      }
    });
  }

  it('NaN and ±Inf propagate as in the loop', () => {
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      const y = new Float32Array([1, NaN, 2, Infinity, 0, 1]);
      const x = new Float32Array([NaN, 1, Infinity, 1, -Infinity, 1]);
      axpy(y, -1, x);
      expect(Array.from(y)).toEqual([NaN, NaN, -Infinity, Infinity, Infinity, 0]);
    }
  });

  it('clear errors name axpy', () => {
    expect(messageOf(() => axpy(new Float32Array(2), 1, new Float64Array(2)))).toBe('axpy: y is float32 but x is float64');
    expect(messageOf(() => axpy(new Float64Array(2), 1, new Float64Array(3)))).toBe('axpy: y holds 2 elements but x holds 3');
    expect(() => axpy([1, 2] as unknown as FloatArray, 1, new Float64Array(2))).toThrow(DTypeError);
    expect(() => axpy(new Float64Array(2), 1, new Float64Array(1))).toThrow(ShapeError);
  });
});

describe('axpby', () => {
  /** α·x + β·y in float64, rounded once to y's dtype. */
  const want = (y: FloatArray, alpha: number, x: FloatArray, beta: number): number[] =>
    Array.from(y, (v, i) => (y instanceof Float32Array ? Math.fround(beta * v + alpha * x[i]!) : beta * v + alpha * x[i]!));
  const paths: [string, (y: FloatArray, alpha: number, x: FloatArray, beta: number) => void][] = [
    ['axpby, backend js', (y, a, x, b) => (setKernelBackend('js'), axpby(y, a, x, b))],
    ['axpby, backend wasm', (y, a, x, b) => (setKernelBackend('wasm'), axpby(y, a, x, b))],
    ['TypeScript kernel', axpyJs],
    ['WebAssembly kernel', (y, a, x, b) => expect(axpyWasm(y, a, x, b)).toBe(true)],
  ];
  for (const [name, run] of paths) {
    it(`${name}: the bits of α·x + β·y rounded once`, () => {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const n of [0, 1, 3, 4, 5, 1023, 1024, 1025, 3001]) {
          for (const beta of [0.9, 1, -0.3]) {
            const [y, x] = operands(dtype, n, n + 7);
            const expected = want(y, 0.27, x, beta);
            run(y, 0.27, x, beta);
            for (let i = 0; i < n; i++) {
              if (!Object.is(y[i], expected[i])) throw new Error(`${dtype} n=${n} beta=${beta} element ${i}: ${y[i]} vs ${expected[i]}`);
            }
          }
        }
      }
    });
  }

  it('clear errors name axpby', () => {
    expect(messageOf(() => axpby(new Float32Array(2), 1, new Float64Array(2), 0.5))).toBe('axpby: y is float32 but x is float64');
    expect(messageOf(() => axpby(new Float64Array(2), 1, new Float64Array(3), 0.5))).toBe('axpby: y holds 2 elements but x holds 3');
  });
});
