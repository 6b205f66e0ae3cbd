import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { windowMaxDense, windowMaxDenseJs } from '../src/kernels/pool.js';
import { wasmAvailable } from '../src/kernels/wasm/module.js';
import { withBackend } from './helpers/backend.js';

/** A dense pooling geometry (kernel within the input, ceil mode's clipped last window allowed) and its values. */
const geometry = fc
  .record({
    planes: fc.integer({ min: 1, max: 4 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    extraH: fc.integer({ min: 0, max: 7 }),
    extraW: fc.integer({ min: 0, max: 7 }),
    ceil: fc.boolean(),
    f32: fc.boolean(),
    // Few distinct values, so ties are common; some NaN.
    pool: fc.array(fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constant(Number.NaN)), { minLength: 1, maxLength: 6 }),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  });

/** Any of these geometries, or (half the time) the common 2×2 window at stride 2 over wider planes. */
const poolCase = fc
  .oneof(geometry, geometry.map((r) => ({ ...r, kh: 2, kw: 2, sh: 2, sw: 2, extraW: r.extraW * 3 + r.extraH })))
  .map((r) => {
    const h = r.kh + r.extraH, w = r.kw + r.extraW;
    // Ceil mode keeps a last window only if it starts inside the input, as PyTorch.
    const size = (n: number, k: number, s: number) => {
      const out = (r.ceil ? Math.ceil((n - k) / s) : Math.floor((n - k) / s)) + 1;
      return (out - 1) * s >= n ? out - 1 : out;
    };
    return { ...r, h, w, oh: size(h, r.kh, r.sh), ow: size(w, r.kw, r.sw) };
  });

describe('dense max pooling in WebAssembly', () => {
  it.runIf(wasmAvailable())('gives the TypeScript loop\'s maxima and indices, ties to the first and NaN winning', () => {
    fc.assert(fc.property(poolCase, ({ planes, h, w, kh, kw, sh, sw, oh, ow, f32, pool, seed }) => {
      let s = seed >>> 0;
      const values = Array.from({ length: planes * h * w }, () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return pool[(s >>> 16) % pool.length]!;
      });
      const x = f32 ? Float32Array.from(values) : Float64Array.from(values);
      const run = (kernel: typeof windowMaxDense) => {
        const out = f32 ? new Float32Array(planes * oh * ow) : new Float64Array(planes * oh * ow);
        const argmax = new Int32Array(planes * oh * ow).fill(-7);
        kernel(x, planes, h, w, kh, kw, sh, sw, oh, ow, out, argmax);
        return { out: [...out], argmax: [...argmax] };
      };
      const js = run(windowMaxDenseJs);
      expect(withBackend('wasm', () => run(windowMaxDense))).toEqual(js);
    }), { numRuns: 300 });
  });
});
