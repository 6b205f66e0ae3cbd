import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { col2im, convAdjointColumns, convAdjointDirect, convDirect, convForwardColumns, convWeightGradColumns, convWeightGradDirect, im2col, swapLeadingAxes, type ConvGeometry } from '../src/kernels/conv.js';
import { wasmAvailable } from '../src/kernels/wasm/module.js';
import { withBackend } from './helpers/backend.js';

/** A random window geometry whose dilated kernel fits the padded input, with batch and channels. */
const windowCase = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 3 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.integer({ min: 0, max: 3 }),
    pw: fc.integer({ min: 0, max: 3 }),
    dh: fc.integer({ min: 1, max: 3 }),
    dw: fc.integer({ min: 1, max: 3 }),
    extraH: fc.integer({ min: 0, max: 6 }),
    extraW: fc.integer({ min: 0, max: 6 }),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  })
  .map((r) => {
    const h = Math.max(1, r.dh * (r.kh - 1) + 1 - 2 * r.ph) + r.extraH;
    const w = Math.max(1, r.dw * (r.kw - 1) + 1 - 2 * r.pw) + r.extraW;
    const oh = Math.floor((h + 2 * r.ph - r.dh * (r.kh - 1) - 1) / r.sh) + 1;
    const ow = Math.floor((w + 2 * r.pw - r.dw * (r.kw - 1) - 1) / r.sw) + 1;
    const g: ConvGeometry = { h, w, kh: r.kh, kw: r.kw, oh, ow, sh: r.sh, sw: r.sw, ph: r.ph, pw: r.pw, dh: r.dh, dw: r.dw };
    return { ...r, g };
  });

/** Deterministic values in [-1, 1) (integers / 8, so sums are exact in float64). */
function values(length: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s >>> 24) - 128) / 128;
  });
}

/** x[b, ci, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw] or 0 in the padding, from the definition. */
function patchValue(x: Float64Array, c: number, g: ConvGeometry, b: number, ci: number, ky: number, kx: number, oy: number, ox: number): number {
  const iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
  return iy < 0 || iy >= g.h || ix < 0 || ix >= g.w ? 0 : x[((b * c + ci) * g.h + iy) * g.w + ix]!;
}

// The two layouts the ops use: a convolution's [c·kh·kw, n·p] (rows of taps over the whole batch)
// and unfold's [n, c·kh·kw, p].
const layouts = (n: number, ck: number, p: number) => [
  { name: 'batch columns', rowStride: n * p, batchStride: p },
  { name: 'unfold', rowStride: p, batchStride: ck * p },
];

describe('im2col and col2im', () => {
  it('im2col reads every tap from the definition, zeros in the padding, in both layouts', () => {
    fc.assert(fc.property(windowCase, ({ n, c, g, seed }) => {
      const x = values(n * c * g.h * g.w, seed);
      const p = g.oh * g.ow, ck = c * g.kh * g.kw;
      for (const { rowStride, batchStride } of layouts(n, ck, p)) {
        const col = new Float64Array(n * ck * p).fill(Number.NaN);
        im2col(x, n, c, g, col, rowStride, batchStride);
        for (let b = 0; b < n; b++) for (let ci = 0; ci < c; ci++) for (let ky = 0; ky < g.kh; ky++) for (let kx = 0; kx < g.kw; kx++) {
          const row = (ci * g.kh + ky) * g.kw + kx;
          for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) {
            expect(col[row * rowStride + b * batchStride + oy * g.ow + ox]).toBe(patchValue(x, c, g, b, ci, ky, kx, oy, ox));
          }
        }
      }
    }), { numRuns: 150 });
  });

  it('col2im is the adjoint of im2col: <col2im(u), x> = <u, im2col(x)>, in both layouts', () => {
    fc.assert(fc.property(windowCase, ({ n, c, g, seed }) => {
      const x = values(n * c * g.h * g.w, seed);
      const p = g.oh * g.ow, ck = c * g.kh * g.kw;
      const u = values(n * ck * p, seed + 1);
      for (const { rowStride, batchStride } of layouts(n, ck, p)) {
        const col = new Float64Array(n * ck * p);
        im2col(x, n, c, g, col, rowStride, batchStride);
        const back = new Float64Array(x.length);
        col2im(u, n, c, g, back, rowStride, batchStride);
        let lhs = 0, rhs = 0;
        for (let i = 0; i < x.length; i++) lhs += back[i]! * x[i]!;
        for (let i = 0; i < u.length; i++) rhs += u[i]! * col[i]!;
        // Values are multiples of 1/128 with few terms: both sums are exact.
        expect(lhs).toBe(rhs);
      }
    }), { numRuns: 150 });
  });

  it('col2im adds into x rather than overwriting it', () => {
    const g: ConvGeometry = { h: 3, w: 3, kh: 2, kw: 2, oh: 2, ow: 2, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 };
    const x = new Float64Array(9).fill(1);
    col2im(new Float64Array(16).fill(1), 1, 1, g, x, 4, 4);
    // The centre is read by all four windows, the corners by one.
    expect([...x]).toEqual([2, 3, 2, 3, 5, 3, 2, 3, 2]);
  });
});

describe('swapLeadingAxes', () => {
  it('moves [a][b][p] to [b][a][p], adding bias[i] to block i', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 5 }), fc.boolean(), (a, b, p, withBias) => {
      const src = values(a * b * p, a * 31 + b * 7 + p);
      const bias = withBias ? values(a, 5) : null;
      const out = new Float64Array(src.length);
      swapLeadingAxes(src, a, b, p, bias, out);
      for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let q = 0; q < p; q++) {
        expect(out[(j * a + i) * p + q]).toBe(src[(i * b + j) * p + q]! + (bias === null ? 0 : bias[i]!));
      }
    }));
  });
});

describe('direct kernels for narrow groups', () => {
  const dot = (a: Float64Array, b: Float64Array): number => a.reduce((acc, v, i) => acc + v * b[i]!, 0);
  const narrow = fc.record({ groups: fc.integer({ min: 1, max: 4 }), cg: fc.integer({ min: 1, max: 2 }), og: fc.integer({ min: 1, max: 2 }) });

  it('the input and weight adjoints of convDirect: <adjoint(u), x> = <u, conv(x, w)> = <weightGrad(x, u), w>', () => {
    fc.assert(fc.property(windowCase, narrow, ({ n, g, seed }, { groups, cg, og }) => {
      const c = groups * cg, o = groups * og, p = g.oh * g.ow;
      const x = values(n * c * g.h * g.w, seed);
      const w = values(o * cg * g.kh * g.kw, seed + 1);
      const u = values(n * o * p, seed + 2);
      const y = new Float64Array(n * o * p);
      convDirect(x, w, null, n, groups, cg, og, g, y);
      const dx = new Float64Array(x.length);
      convAdjointDirect(u, w, n, groups, cg, og, g, dx);
      const dw = new Float64Array(w.length).fill(Number.NaN);
      convWeightGradDirect(x, u, n, groups, cg, og, g, dw);
      // Multiples of 2⁻¹⁴ well inside float64's range: every sum is exact, whatever its order.
      const uy = dot(u, y);
      expect(dot(dx, x)).toBe(uy);
      expect(dot(dw, w)).toBe(uy);
    }), { numRuns: 150 });
  });
});

describe('the columns kernels in WebAssembly', () => {
  const groupCase = fc.record({ groups: fc.integer({ min: 1, max: 3 }), cg: fc.integer({ min: 1, max: 3 }), og: fc.integer({ min: 1, max: 4 }), withBias: fc.boolean(), f32: fc.boolean() });

  it.runIf(wasmAvailable())('give the TypeScript path\'s bits: forward, input adjoint and weight gradient, either dtype, any geometry', () => {
    fc.assert(fc.property(windowCase, groupCase, ({ n, g, seed }, { groups, cg, og, withBias, f32 }) => {
      const c = groups * cg, o = groups * og, p = g.oh * g.ow;
      const make = (length: number, s: number) => (f32 ? Float32Array.from(values(length, s)) : values(length, s));
      const x = make(n * c * g.h * g.w, seed), w = make(o * cg * g.kh * g.kw, seed + 1), u = make(n * o * p, seed + 2);
      const bias = withBias ? make(o, seed + 3) : null, biasIn = withBias ? make(c, seed + 4) : null;
      const run = (backend: 'js' | 'wasm') => withBackend(backend, () => {
        const y = make(n * o * p, 0).fill(Number.NaN), dx = make(x.length, 0).fill(Number.NaN), dw = make(w.length, 0).fill(Number.NaN);
        convForwardColumns(x, w, bias, n, groups, cg, og, g, y);
        convAdjointColumns(u, w, biasIn, n, groups, cg, og, g, dx);
        convWeightGradColumns(x, u, n, groups, cg, og, g, dw);
        return { y: [...y], dx: [...dx], dw: [...dw] };
      });
      const js = run('js'), wasm = run('wasm');
      expect(wasm.y).toEqual(js.y);
      expect(wasm.dx).toEqual(js.dx);
      // The weight gradient sums the batch image by image in WebAssembly, in another order: products
      // are multiples of 2⁻¹⁴ of at most 1, so float64 sums are exact; a float32 sum of t = n·p terms
      // is off by at most t roundings of a partial sum of at most t, in either order.
      if (!f32) expect(wasm.dw).toEqual(js.dw);
      else {
        const t = n * p;
        wasm.dw.forEach((v, i) => expect(Math.abs(v - js.dw[i]!)).toBeLessThanOrEqual(2 * t * t * 2 ** -24));
      }
    }), { numRuns: 150 });
  });

  it.runIf(wasmAvailable())("'same' padding at unit strides (im2col copies each tap's rows as one run): the TypeScript path's columns", () => {
    // Output rows as wide as the input, with the padding before and after each row, tall and
    // short kernels, dilation, odd sizes and a first channel whose run starts before x.
    const cases: [number, number, number, number, number, number, number, number][] = [
      // h, w, kh, kw, ph, pw, dh, dw
      [28, 28, 5, 5, 2, 2, 1, 1],
      [7, 5, 3, 3, 1, 1, 1, 1],
      [6, 9, 1, 5, 0, 4, 1, 2],
      [5, 3, 4, 3, 3, 1, 2, 1],
      [1, 7, 1, 7, 0, 3, 1, 1],
    ];
    for (const [h, w, kh, kw, ph, pw, dh, dw] of cases) {
      const oh = h + 2 * ph - dh * (kh - 1), ow = w + 2 * pw - dw * (kw - 1);
      expect(ow).toBe(w);
      const g: ConvGeometry = { h, w, kh, kw, oh, ow, sh: 1, sw: 1, ph, pw, dh, dw };
      for (const f32 of [true, false]) {
        const n = 2, c = 3, o = 2, p = oh * ow;
        const make = (length: number, seed: number) => (f32 ? Float32Array.from(values(length, seed)) : values(length, seed));
        const x = make(n * c * h * w, 1), wt = make(o * c * kh * kw, 2), u = make(n * o * p, 3);
        const run = (backend: 'js' | 'wasm') => withBackend(backend, () => {
          const y = make(n * o * p, 0).fill(Number.NaN), dwt = make(wt.length, 0).fill(Number.NaN);
          convForwardColumns(x, wt, null, n, 1, c, o, g, y);
          convWeightGradColumns(x, u, n, 1, c, o, g, dwt);
          return { y: [...y], dw: [...dwt] };
        });
        const js = run('js'), wasm = run('wasm');
        expect(wasm.y).toEqual(js.y);
        // The weight gradient's batch sum runs in another order (see above): values here are exact in float64.
        if (!f32) expect(wasm.dw).toEqual(js.dw);
        else wasm.dw.forEach((v, i) => expect(Math.abs(v - js.dw[i]!)).toBeLessThanOrEqual(2 * (n * p) ** 2 * 2 ** -24));
      }
    }
  });
});
