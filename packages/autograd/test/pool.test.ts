import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, ShapeError, Tensor, grad, adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool1d, avgPool2d, fold, interpolate, maxPool1d, maxPool2d, pixelShuffle, pixelUnshuffle, unfold,
} from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import { avgPool2dRef, maxPool2dRef, pooledLengthRef } from './helpers/conv-reference.js';
import { f64, grad64, values } from './helpers/tensors.js';

/** A random pooling window whose padding is at most half the kernel and whose output is not empty. */
const poolCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    extraH: fc.integer({ min: 0, max: 5 }),
    extraW: fc.integer({ min: 0, max: 5 }),
    ceil: fc.boolean(),
    includePad: fc.boolean(),
    seed: fc.integer(),
  })
  .chain((r) => fc.record({ ph: fc.integer({ min: 0, max: Math.floor(r.kh / 2) }), pw: fc.integer({ min: 0, max: Math.floor(r.kw / 2) }) }).map((p) => ({ ...r, ...p })))
  .map((r) => ({ ...r, h: Math.max(1, r.dh * (r.kh - 1) + 1 - 2 * r.ph) + r.extraH, w: Math.max(1, r.dw * (r.kw - 1) + 1 - 2 * r.pw) + r.extraW }));

describe('maxPool2d', () => {
  it('a hand-computed 2×2 pool with indices', () => {
    const x = f64([1, 5, 2, 0, 3, 4, 8, 7, 9, 1, 0, 2, 6, 2, 3, 11], [1, 1, 4, 4]);
    const [y, idx] = maxPool2d(x, 2, { returnIndices: true });
    expect(values(y)).toEqual([5, 8, 9, 11]);
    expect(idx.dtype).toBe('int32');
    expect(Array.from(idx.data)).toEqual([1, 6, 8, 15]);
  });

  it('matches the plain-loop reference (values and indices) over random windows', () => {
    fc.assert(fc.property(poolCase, (r) => {
      const x = seededTensor([r.n, r.c, r.h, r.w], r.seed, { requiresGrad: false });
      const ref = maxPool2dRef(x.data as Float64Array, [...x.shape], [r.kh, r.kw], [r.sh, r.sw], [r.ph, r.pw], [r.dh, r.dw], r.ceil);
      const f = () => maxPool2d(x, [r.kh, r.kw], { stride: [r.sh, r.sw], padding: [r.ph, r.pw], dilation: [r.dh, r.dw], ceilMode: r.ceil, returnIndices: true });
      if (ref.indices.includes(-1)) {
        // A dilated window that reads only padding has no maximum.
        expect(f).toThrow(/maxPool2d: .* reads only padding/);
        return;
      }
      const [y, idx] = f();
      expect(y.shape).toEqual(ref.shape);
      assertClose(y, ref.data, 0);
      expect(Array.from(idx.data)).toEqual(ref.indices);
    }), { numRuns: 80 });
  });

  it('without padding or dilation (the direct-loop path) matches the reference with ties, NaN and −∞, ceil mode included', () => {
    const pick = [-Infinity, -1, 0, 0, 1, 1, 2, Number.NaN];
    const denseCase = fc.record({
      n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 2 }),
      kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 4 }), sw: fc.integer({ min: 1, max: 4 }),
      extraH: fc.integer({ min: 0, max: 6 }), extraW: fc.integer({ min: 0, max: 6 }),
      ceil: fc.boolean(), rank: fc.constantFrom(1, 2),
    }).chain((r) => {
      const h = r.rank === 1 ? 1 : r.kh + r.extraH, w = r.kw + r.extraW;
      return fc.array(fc.integer({ min: 0, max: pick.length - 1 }), { minLength: r.n * r.c * h * w, maxLength: r.n * r.c * h * w }).map((v) => ({ ...r, h, w, v }));
    });
    fc.assert(fc.property(denseCase, (r) => {
      const data = Float64Array.from(r.v, (i) => pick[i]!);
      const kh = r.rank === 1 ? 1 : r.kh, sh = r.rank === 1 ? 1 : r.sh;
      const ref = maxPool2dRef(data, [r.n, r.c, r.h, r.w], [kh, r.kw], [sh, r.sw], [0, 0], [1, 1], r.ceil);
      const x = f64([...data], [r.n, r.c, r.h, r.w]);
      const [y, idx] = r.rank === 1
        ? maxPool1d(x.reshape([r.n, r.c, r.w]), r.kw, { stride: r.sw, ceilMode: r.ceil, returnIndices: true })
        : maxPool2d(x, [r.kh, r.kw], { stride: [r.sh, r.sw], ceilMode: r.ceil, returnIndices: true });
      expect(y.size).toBe(ref.data.length);
      expect(Array.from(y.data)).toEqual(Array.from(ref.data));
      expect(Array.from(idx.data)).toEqual(ref.indices);
    }), { numRuns: 200 });
  });

  it('propagates NaN and sends the gradient to the first of equal maxima', () => {
    const x = grad64([1, NaN, 4, 3, 4, 4, 0, 4], [1, 1, 2, 4]);
    const y = maxPool2d(x, 2);
    expect(Number.isNaN(y.data[0]!)).toBe(true);
    expect(y.data[1]).toBe(4);
    y.sum().backward();
    expect(values(x.grad)).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('gradcheck and gradgradcheck over random windows', () => {
    fc.assert(fc.property(poolCase, (r) => {
      fc.pre(!maxPool2dRef(new Float64Array(r.h * r.w), [1, 1, r.h, r.w], [r.kh, r.kw], [r.sh, r.sw], [r.ph, r.pw], [r.dh, r.dw], r.ceil).indices.includes(-1));
      const f = (x: Tensor) => maxPool2d(x, [r.kh, r.kw], { stride: [r.sh, r.sw], padding: [r.ph, r.pw], dilation: [r.dh, r.dw], ceilMode: r.ceil }).square();
      const x = [seededTensor([r.n, r.c, r.h, r.w], r.seed)];
      checkGradProperty(f, fc.constant(x), { numRuns: 1 });
      checkGradGradProperty(f, fc.constant(x), { numRuns: 1 });
    }), { numRuns: 15 });
  });

  it('maxPool1d is the 1-D case', () => {
    const x = seededTensor([2, 3, 9], 4, { requiresGrad: false });
    const [y, idx] = maxPool1d(x, 3, { stride: 2, padding: 1, ceilMode: true, returnIndices: true });
    const [y2, idx2] = maxPool2d(x.reshape([2, 3, 1, 9]), [1, 3], { stride: [1, 2], padding: [0, 1], ceilMode: true, returnIndices: true });
    expect(y.shape).toEqual([2, 3, 5]);
    assertClose(y, y2.reshape([2, 3, 5]), 0);
    expect(Array.from(idx.data)).toEqual(Array.from(idx2.data));
  });
});

describe('avgPool2d', () => {
  it('matches the plain-loop reference over random windows, padding counts and ceil mode', () => {
    fc.assert(fc.property(poolCase, fc.option(fc.integer({ min: 1, max: 5 })), (r, override) => {
      const x = seededTensor([r.n, r.c, r.h, r.w], r.seed, { requiresGrad: false });
      const y = avgPool2d(x, [r.kh, r.kw], { stride: [r.sh, r.sw], padding: [r.ph, r.pw], ceilMode: r.ceil, countIncludePad: r.includePad, divisorOverride: override });
      const ref = avgPool2dRef(x.data as Float64Array, [...x.shape], [r.kh, r.kw], [r.sh, r.sw], [r.ph, r.pw], r.ceil, r.includePad, override);
      expect(y.shape).toEqual(ref.shape);
      assertClose(y, ref.data, 1e-12, 1e-14);
    }), { numRuns: 80 });
  });

  it('gradcheck and gradgradcheck over random windows', () => {
    fc.assert(fc.property(poolCase, (r) => {
      const f = (x: Tensor) => avgPool2d(x, [r.kh, r.kw], { stride: [r.sh, r.sw], padding: [r.ph, r.pw], ceilMode: r.ceil, countIncludePad: r.includePad }).square();
      const x = [seededTensor([r.n, r.c, r.h, r.w], r.seed)];
      checkGradProperty(f, fc.constant(x), { numRuns: 1 });
      checkGradGradProperty(f, fc.constant(x), { numRuns: 1 });
    }), { numRuns: 15 });
  });

  it('avgPool1d of [1, 2, 3, 4, 5] with kernel 2, padding 1, not counting the padding', () => {
    expect(values(avgPool1d(f64([1, 2, 3, 4, 5], [1, 1, 5]), 2, { padding: 1, countIncludePad: false }))).toEqual([1, 2.5, 4.5]);
  });
});

describe('adaptive pooling', () => {
  it("windows [⌊i·h/oh⌋, ⌈(i+1)·h/oh⌉): 5 → 3 reads [0,2), [1,4), [3,5)", () => {
    const x = f64([1, 2, 3, 4, 5], [1, 1, 5, 1]);
    expect(values(adaptiveAvgPool2d(x, [3, 1]))).toEqual([1.5, 3, 4.5]);
    const [m, idx] = adaptiveMaxPool2d(x, [3, 1], { returnIndices: true });
    expect(values(m)).toEqual([2, 4, 5]);
    expect(Array.from(idx.data)).toEqual([1, 3, 4]);
  });

  it('global pooling equals the mean and max over the plane; null keeps an axis', () => {
    const x = seededTensor([2, 3, 5, 4], 9, { requiresGrad: false });
    assertClose(adaptiveAvgPool2d(x, 1), x.mean([2, 3], true), 1e-14);
    assertClose(adaptiveMaxPool2d(x, 1), x.max([2, 3], true), 0);
    expect(adaptiveAvgPool2d(x, [null, 2]).shape).toEqual([2, 3, 5, 2]);
  });

  it('gradcheck and gradgradcheck', () => {
    const x = [seededTensor([2, 2, 7, 5], 3)];
    for (const f of [(t: Tensor) => adaptiveAvgPool2d(t, [3, 2]).square(), (t: Tensor) => adaptiveMaxPool2d(t, [4, 3]).square()]) {
      checkGradProperty(f, fc.constant(x), { numRuns: 1 });
      checkGradGradProperty(f, fc.constant(x), { numRuns: 1 });
    }
  });
});

describe('unfold and fold', () => {
  it('unfold of a 3×3 image by 2×2 blocks', () => {
    const y = unfold(f64([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), 2);
    expect(y.shape).toEqual([1, 4, 4]);
    expect(y.toArray()).toEqual([[[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]]);
  });

  it('fold(unfold(x)) multiplies each pixel by the number of blocks covering it', () => {
    const x = seededTensor([2, 3, 5, 6], 2, { requiresGrad: false });
    const opts = { padding: 1, stride: 2, dilation: [1, 2] };
    const back = fold(unfold(x, [3, 2], opts), [5, 6], [3, 2], opts);
    const counts = fold(unfold(x.mul(0).add(1), [3, 2], opts), [5, 6], [3, 2], opts);
    assertClose(back, x.mul(counts), 1e-14);
  });

  it('gradcheck and gradgradcheck of both', () => {
    const opts = { padding: [1, 0], stride: [1, 2], dilation: 2 };
    checkGradGradProperty((t: Tensor) => unfold(t, 2, opts).square(), fc.constant([seededTensor([2, 2, 5, 6], 1)]), { numRuns: 1 });
    const cols = unfold(seededTensor([2, 2, 5, 6], 2, { requiresGrad: false }), 2, opts);
    checkGradGradProperty((t: Tensor) => fold(t, [5, 6], 2, opts).square(), fc.constant([seededTensor([...cols.shape], 3)]), { numRuns: 1 });
  });
});

describe('interpolate', () => {
  it("'linear' blends PyTorch's two neighbours along the one spatial axis of a 3-D input", () => {
    // Source coordinate max(scale·(o + ½) − ½, 0) with scale = in/out = 0.4: 0, 0.1, 0.5, 0.9, 1.3 (clamped to the last).
    assertClose(interpolate(f64([1, 2], [1, 1, 2]), { size: 5, mode: 'linear' }), f64([1, 1.1, 1.5, 1.9, 2], [1, 1, 5]), 1e-15, 1e-15);
    // alignCorners: o·(in − 1)/(out − 1).
    assertClose(interpolate(f64([1, 2], [1, 1, 2]), { size: 5, mode: 'linear', alignCorners: true }), f64([1, 1.25, 1.5, 1.75, 2], [1, 1, 5]), 1e-15, 1e-15);
    // With scaleFactor the formula takes 1/scaleFactor as given: (o + ½)/1.5 − ½.
    assertClose(interpolate(f64([0, 3, 6], [1, 1, 3]), { scaleFactor: 1.5, mode: 'linear' }), f64([0, 1.5, 3.5, 5.5], [1, 1, 4]), 1e-14, 1e-14);
    // It is 'bilinear' on a height of one, values and gradients, for any size and corner choice.
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.integer({ min: 0, max: 1e6 }), (l, out, alignCorners, seed) => {
      const x = seededTensor([2, 3, l], seed, { dtype: 'float64', requiresGrad: false }) as Tensor;
      const linear = (t: Tensor): Tensor => interpolate(t, { size: out, mode: 'linear', alignCorners });
      const viaBilinear = (t: Tensor): Tensor => interpolate(t.unsqueeze(2), { size: [1, out], mode: 'bilinear', alignCorners }).squeeze(2);
      assertClose(linear(x), viaBilinear(x), 1e-15, 1e-15);
      assertClose(grad((t: Tensor) => linear(t).square().sum())(x), grad((t: Tensor) => viaBilinear(t).square().sum())(x), 1e-14, 1e-14);
    }), { numRuns: 30 });
    for (const opts of [{ size: 5, mode: 'linear' as const }, { scaleFactor: 0.75, mode: 'linear' as const, alignCorners: true }]) {
      checkGradGradProperty((t: Tensor) => interpolate(t, opts).square(), fc.constant([seededTensor([1, 2, 4], 6)]), { numRuns: 1 });
    }
  });

  it("nearest: 2 → 5 picks ⌊o·2/5⌋ = [0, 0, 0, 1, 1]; scaleFactor 2 repeats", () => {
    expect(values(interpolate(f64([1, 2], [1, 1, 2]), { size: 5 }))).toEqual([1, 1, 1, 2, 2]);
    expect(values(interpolate(f64([1, 2, 3, 4], [1, 1, 2, 2]), { scaleFactor: 2 }))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('bilinear with alignCorners keeps the corners and is linear in between', () => {
    const y = interpolate(f64([0, 3, 6, 9], [1, 1, 2, 2]), { size: [3, 3], mode: 'bilinear', alignCorners: true });
    expect(values(y)).toEqual([0, 1.5, 3, 3, 4.5, 6, 6, 7.5, 9]);
  });

  it('gradcheck and gradgradcheck in both modes', () => {
    const x = [seededTensor([1, 2, 3, 4], 5)];
    for (const opts of [{ size: [5, 7] }, { scaleFactor: [1.5, 0.75] }, { size: [5, 7], mode: 'bilinear' as const }, { size: 6, mode: 'bilinear' as const, alignCorners: true }]) {
      checkGradGradProperty((t: Tensor) => interpolate(t, opts).square(), fc.constant(x), { numRuns: 1 });
    }
  });
});

describe('pixelShuffle', () => {
  it("out[k, i·r + a, j·r + b] = x[k·r² + a·r + b, i, j] and pixelUnshuffle undoes it", () => {
    const x = seededTensor([2, 8, 3, 2], 1, { requiresGrad: false });
    const y = pixelShuffle(x, 2);
    expect(y.shape).toEqual([2, 2, 6, 4]);
    const xa = x.toArray() as number[][][][], ya = y.toArray() as number[][][][];
    for (let k = 0; k < 2; k++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) expect(ya[1]![k]![2 + a]![2 + b]).toBe(xa[1]![k * 4 + a * 2 + b]![1]![1]);
    assertClose(pixelUnshuffle(y, 2), x, 0);
  });
});

describe('pooling errors', () => {
  const x = f64(new Array(2 * 3 * 4 * 4).fill(1), [2, 3, 4, 4]);
  const before = values(x);
  it.each([
    ['a wrong rank', () => maxPool2d(f64([1, 2]), 2), ShapeError, /maxPool2d: input must be 3-D or 4-D, got \[2\]/],
    ['a window larger than the padded input', () => avgPool2d(x, 6, { padding: 0 }), ShapeError, /avgPool2d: input \[2,3,4,4\]: kernel 6 .* larger than the padded input/],
    ['padding over half the kernel', () => maxPool2d(x, 2, { padding: 2 }), ArgumentError, /maxPool2d: padding 2 must be at most half the kernel size 2/],
    ['a zero stride', () => maxPool1d(f64([1, 2, 3], [1, 1, 3]), 2, { stride: 0 }), ArgumentError, /maxPool1d: stride/],
    ['an adaptive size of 0', () => adaptiveAvgPool2d(x, 0), ArgumentError, /adaptiveAvgPool2d: outputSize/],
    ['interpolate with both size and scaleFactor', () => interpolate(x, { size: 2, scaleFactor: 2 }), ArgumentError, /interpolate: give exactly one of size and scaleFactor/],
    ['bilinear on a 3-D input', () => interpolate(f64([1, 2], [1, 1, 2]), { size: 3, mode: 'bilinear' }), ShapeError, /interpolate: 'bilinear' needs a 4-D input, got \[1,1,2\]/],
    ['linear on a 4-D input', () => interpolate(f64([1, 2, 3, 4], [1, 1, 2, 2]), { size: 3, mode: 'linear' }), ShapeError, /interpolate: 'linear' needs a 3-D input, got \[1,1,2,2\]/],
    ['fold with the wrong number of blocks', () => fold(f64(new Array(4 * 5).fill(1), [1, 4, 5]), [3, 3], 2), ShapeError, /fold: input \[1,4,5\] has 5 blocks, but outputSize \[3,3\] .* holds 4/],
    ['pixelShuffle of channels not divisible by r²', () => pixelShuffle(x, 2), ShapeError, /pixelShuffle: input \[2,3,4,4\] must be \[\*, c·4, h, w\]/],
  ])('%s is a clear error and leaves the input unchanged', (_, f, type, message) => {
    expect(f).toThrow(type);
    expect(f).toThrow(message);
    expect(values(x)).toEqual(before);
  });

  it('the reference output length agrees with the ceil-mode rule that drops a window starting in the right padding', () => {
    // size 5, kernel 2, stride 2, padding 1, ceil: ⌈4/2⌉ + 1 = 3 windows; the 4th would start at 5 ≥ 5 + 1? No: kept count is 3.
    expect(pooledLengthRef(5, 2, 2, 1, 1, true)).toBe(3);
    expect(maxPool1d(f64([1, 2, 3, 4, 5], [1, 1, 5]), 2, { stride: 2, padding: 1, ceilMode: true }).shape).toEqual([1, 1, 3]);
  });
});
