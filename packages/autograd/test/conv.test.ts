import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, ShapeError, avgPool2d, conv1d, conv2d, convTranspose1d, convTranspose2d, grad, maxPool2d, noGrad, tensor, zeros, type Tensor } from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import { conv2dRef, convTranspose2dRef } from './helpers/conv-reference.js';
import { f64, grad64, values } from './helpers/tensors.js';

/** A random grouped 2-D convolution problem whose kernel fits its padded input. */
const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 2 }),
    og: fc.integer({ min: 1, max: 2 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    extraH: fc.integer({ min: 0, max: 4 }),
    extraW: fc.integer({ min: 0, max: 4 }),
    bias: fc.boolean(),
    seed: fc.integer(),
  })
  .map((r) => {
    // The smallest input the dilated kernel fits in, plus a little.
    const h = Math.max(1, r.dh * (r.kh - 1) + 1 - 2 * r.ph) + r.extraH;
    const w = Math.max(1, r.dw * (r.kw - 1) + 1 - 2 * r.pw) + r.extraW;
    return { ...r, h, w, c: r.groups * r.cg, o: r.groups * r.og };
  });

type ConvCase = typeof convCase extends fc.Arbitrary<infer T> ? T : never;

const options = (r: ConvCase) => ({ stride: [r.sh, r.sw], padding: [r.ph, r.pw], dilation: [r.dh, r.dw], groups: r.groups });
const refGeometry = (r: ConvCase) => ({ stride: [r.sh, r.sw] as [number, number], padding: [r.ph, r.pw] as [number, number], dilation: [r.dh, r.dw] as [number, number], groups: r.groups });

describe('conv2d', () => {
  it('a hand-computed 3×3 by 2×2 convolution with bias', () => {
    const x = f64([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const w = f64([1, 0, 0, -1], [1, 1, 2, 2]);
    const y = conv2d(x, w, f64([10]));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    // Each output is x[i][j] − x[i+1][j+1] + 10 = −4 + 10.
    expect(values(y)).toEqual([6, 6, 6, 6]);
  });

  it('matches the plain-loop reference over random shapes, strides, paddings, dilations and groups', () => {
    fc.assert(fc.property(convCase, (r) => {
      const x = seededTensor([r.n, r.c, r.h, r.w], r.seed, { requiresGrad: false });
      const w = seededTensor([r.o, r.cg, r.kh, r.kw], r.seed + 1, { requiresGrad: false });
      const b = r.bias ? seededTensor([r.o], r.seed + 2, { requiresGrad: false }) : null;
      const y = conv2d(x, w, b, options(r));
      const ref = conv2dRef(x.data as Float64Array, [...x.shape], w.data as Float64Array, [...w.shape], b === null ? null : (b.data as Float64Array), refGeometry(r));
      expect(y.shape).toEqual(ref.shape);
      assertClose(y, ref.data, 1e-12, 1e-12);
    }), { numRuns: 60 });
  });

  it('float32 agrees with float64 to float32 rounding', () => {
    const x = seededTensor([2, 4, 7, 6], 3, { requiresGrad: false });
    const w = seededTensor([6, 2, 3, 3], 4, { requiresGrad: false });
    const y64 = conv2d(x, w, null, { groups: 2, padding: 1, stride: 2 });
    const y32 = conv2d(x.toDtype('float32'), w.toDtype('float32'), null, { groups: 2, padding: 1, stride: 2 });
    expect(y32.dtype).toBe('float32');
    assertClose(y32, y64, 1e-5, 1e-5);
  });

  it("padding 'same' keeps the size (extra zero after for an even kernel) and 'valid' adds none", () => {
    const x = seededTensor([1, 2, 5, 6], 7, { requiresGrad: false });
    const w = seededTensor([3, 2, 2, 4], 8, { requiresGrad: false });
    const same = conv2d(x, w, null, { padding: 'same', dilation: [1, 2] });
    expect(same.shape).toEqual([1, 3, 5, 6]);
    // Totals: height 1 → 0 before, 1 after; width 2·3 = 6 → 3 before, 3 after. Cropping a
    // symmetric padding of the larger side gives the same windows.
    const padded = conv2d(x, w, null, { padding: [1, 3], dilation: [1, 2] });
    assertClose(same, padded.slice(2, 1, 6), 1e-12);
    expect(conv2d(x, w, null, { padding: 'valid' }).shape).toEqual([1, 3, 4, 3]);
  });

  it('an unbatched [c, h, w] input gives [o, oh, ow]', () => {
    const x = seededTensor([2, 4, 4], 1, { requiresGrad: false });
    const w = seededTensor([3, 2, 3, 3], 2, { requiresGrad: false });
    const y = conv2d(x, w);
    expect(y.shape).toEqual([3, 2, 2]);
    assertClose(y, conv2d(x.reshape([1, 2, 4, 4]), w).reshape([3, 2, 2]), 0);
  });

  it('gradcheck over random geometries (float64)', () => {
    const inputs = convCase.map((r) => {
      const list = [seededTensor([r.n, r.c, r.h, r.w], r.seed), seededTensor([r.o, r.cg, r.kh, r.kw], r.seed + 1)];
      if (r.bias) list.push(seededTensor([r.o], r.seed + 2));
      return { r, list };
    });
    fc.assert(fc.property(inputs, ({ r, list }) => {
      checkGradProperty((x: Tensor, w: Tensor, b?: Tensor) => conv2d(x, w, b, options(r)), fc.constant(list), { numRuns: 1 });
    }), { numRuns: 25 });
  });

  it('gradgradcheck over random geometries (float64): the VJPs are convolutions again', () => {
    const inputs = convCase.map((r) => ({ r, list: [seededTensor([r.n, r.c, r.h, r.w], r.seed), seededTensor([r.o, r.cg, r.kh, r.kw], r.seed + 1), seededTensor([r.o], r.seed + 2)] }));
    fc.assert(fc.property(inputs, ({ r, list }) => {
      checkGradGradProperty((x: Tensor, w: Tensor, b: Tensor) => conv2d(x, w, b, options(r)).tanh(), fc.constant(list), { numRuns: 1 });
    }), { numRuns: 10 });
  });

  it('depthwise: groups equal to the channels', () => {
    const x = seededTensor([2, 3, 5, 5], 11, { requiresGrad: false });
    const w = seededTensor([6, 1, 3, 3], 12, { requiresGrad: false });
    const y = conv2d(x, w, null, { groups: 3, padding: 1 });
    const ref = conv2dRef(x.data as Float64Array, [2, 3, 5, 5], w.data as Float64Array, [6, 1, 3, 3], null, { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 3 });
    assertClose(y, ref.data, 1e-12, 1e-12);
  });
});

describe('conv1d', () => {
  it('is conv2d on planes of height 1, with its own options', () => {
    const x = seededTensor([2, 4, 9], 1, { requiresGrad: false });
    const w = seededTensor([6, 2, 3], 2, { requiresGrad: false });
    const y = conv1d(x, w, null, { stride: 2, padding: 2, dilation: 2, groups: 2 });
    const ref = conv2d(x.reshape([2, 4, 1, 9]), w.reshape([6, 2, 1, 3]), null, { stride: [1, 2], padding: [0, 2], dilation: [1, 2], groups: 2 });
    expect(y.shape).toEqual([2, 6, 5]);
    assertClose(y, ref.reshape([2, 6, 5]), 0);
  });

  it("'same' pads the even total's extra zero after", () => {
    const x = f64([1, 2, 3, 4], [1, 1, 4]);
    const w = f64([1, 10], [1, 1, 2]);
    // Total padding 1, all after: y[i] = x[i] + 10·x[i+1].
    expect(values(conv1d(x, w, null, { padding: 'same' }))).toEqual([21, 32, 43, 4]);
  });

  it('gradcheck and gradgradcheck with stride, padding, dilation and groups', () => {
    const x = seededTensor([2, 4, 7], 5);
    const w = seededTensor([2, 2, 3], 6);
    const b = seededTensor([2], 7);
    const f = (a: Tensor, k: Tensor, c: Tensor) => conv1d(a, k, c, { stride: 2, padding: 1, dilation: 2, groups: 2 });
    checkGradProperty(f, fc.constant([x, w, b]), { numRuns: 1 });
    checkGradGradProperty(f, fc.constant([x, w, b]), { numRuns: 1 });
  });
});

describe('convTranspose2d', () => {
  const transposeCase = convCase.chain((r) => fc.record({ oph: fc.integer({ min: 0, max: Math.max(r.sh, r.dh) - 1 }), opw: fc.integer({ min: 0, max: Math.max(r.sw, r.dw) - 1 }) }).map((e) => ({ ...r, ...e })))
    // The transpose's output must be positive.
    .filter((r) => (r.h - 1) * r.sh - 2 * r.ph + r.dh * (r.kh - 1) + r.oph + 1 > 0 && (r.w - 1) * r.sw - 2 * r.pw + r.dw * (r.kw - 1) + r.opw + 1 > 0);

  it('matches the scatter reference over random geometries', () => {
    fc.assert(fc.property(transposeCase, (r) => {
      const x = seededTensor([r.n, r.c, r.h, r.w], r.seed, { requiresGrad: false });
      const w = seededTensor([r.c, r.og, r.kh, r.kw], r.seed + 1, { requiresGrad: false });
      const y = convTranspose2d(x, w, null, { ...options(r), outputPadding: [r.oph, r.opw] });
      const ref = convTranspose2dRef(x.data as Float64Array, [...x.shape], w.data as Float64Array, [...w.shape], refGeometry(r), [r.oph, r.opw]);
      expect(y.shape).toEqual(ref.shape);
      assertClose(y, ref.data, 1e-12, 1e-12);
    }), { numRuns: 60 });
  });

  it('gradcheck and gradgradcheck over random geometries', () => {
    fc.assert(fc.property(transposeCase, (r) => {
      const list = [seededTensor([r.n, r.c, r.h, r.w], r.seed), seededTensor([r.c, r.og, r.kh, r.kw], r.seed + 1), seededTensor([r.og * r.groups], r.seed + 2)];
      const f = (x: Tensor, w: Tensor, b: Tensor) => convTranspose2d(x, w, b, { ...options(r), outputPadding: [r.oph, r.opw] }).tanh();
      checkGradProperty(f, fc.constant(list), { numRuns: 1 });
      checkGradGradProperty(f, fc.constant(list), { numRuns: 1 });
    }), { numRuns: 10 });
  });

  it('convTranspose1d is the 1-D case', () => {
    const x = seededTensor([2, 4, 5], 1, { requiresGrad: false });
    const w = seededTensor([4, 3, 3], 2, { requiresGrad: false });
    const y = convTranspose1d(x, w, null, { stride: 2, padding: 1, outputPadding: 1, groups: 2 });
    const ref = convTranspose2d(x.reshape([2, 4, 1, 5]), w.reshape([4, 3, 1, 3]), null, { stride: [1, 2], padding: [0, 1], outputPadding: [0, 1], groups: 2 });
    expect(y.shape).toEqual([2, 6, 10]);
    assertClose(y, ref.reshape([2, 6, 10]), 0);
  });
});

describe('convolution errors', () => {
  const x = f64(new Array(2 * 4 * 5 * 5).fill(1), [2, 4, 5, 5]);
  const before = values(x);
  it.each([
    ['channels not divisible by groups', () => conv2d(x, f64(new Array(3 * 2 * 9).fill(1), [3, 2, 3, 3]), null, { groups: 3 }), ShapeError, /conv2d: input \[2,4,5,5\] and weight \[3,2,3,3\]: groups=3/],
    ['weight channels that do not match the input', () => conv2d(x, f64(new Array(3 * 3 * 9).fill(1), [3, 3, 3, 3])), ShapeError, /conv2d: input \[2,4,5,5\] and weight \[3,3,3,3\]: weight expects 3 input channels/],
    ['a kernel larger than the padded input', () => conv2d(x, f64(new Array(2 * 4 * 49).fill(1), [2, 4, 7, 7]), null, { padding: 0 }), ShapeError, /conv2d: input \[2,4,5,5\] and weight \[2,4,7,7\]: kernel of size 7 .* larger than the padded input 5 \(padding=0\)/],
    ['a wrong input rank', () => conv2d(f64([1, 2, 3]), f64([1], [1, 1, 1, 1])), ShapeError, /conv2d: input must be 4-D .* got \[3\] \(weight \[1,1,1,1\]\)/],
    ['a wrong weight rank', () => conv1d(x, f64([1], [1, 1, 1, 1])), ShapeError, /conv1d: weight must be 3-D, got \[1,1,1,1\]/],
    ["'same' with a stride", () => conv2d(x, f64(new Array(4 * 9).fill(1), [1, 4, 3, 3]), null, { padding: 'same', stride: 2 }), ArgumentError, /conv2d: padding='same' needs stride 1/],
    ['a negative padding', () => conv2d(x, f64(new Array(4 * 9).fill(1), [1, 4, 3, 3]), null, { padding: -1 }), ArgumentError, /conv2d: padding must be/],
    ['a bias of the wrong shape', () => conv2d(x, f64(new Array(4 * 9).fill(1), [1, 4, 3, 3]), f64([1, 2])), ShapeError, /conv2d: bias must be \[1\]/],
    ['mixed dtypes', () => conv2d(x, tensor(new Array(4 * 9).fill(1), { shape: [1, 4, 3, 3] })), DTypeError, /conv2d/],
    ['transposed: outputPadding not below stride or dilation', () => convTranspose2d(x, f64(new Array(4 * 9).fill(1), [4, 1, 3, 3]), null, { stride: 2, outputPadding: 2 }), ArgumentError, /convTranspose2d: outputPadding 2 must be smaller/],
    ['transposed: input channels that do not match the weight', () => convTranspose2d(x, f64(new Array(3 * 9).fill(1), [3, 1, 3, 3])), ShapeError, /convTranspose2d: input \[2,4,5,5\] and weight \[3,1,3,3\]/],
  ])('%s is a clear error and leaves the input unchanged', (_, f, type, message) => {
    expect(f).toThrow(type);
    expect(f).toThrow(message);
    expect(values(x)).toEqual(before);
  });
});

describe('convolution gradients by hand', () => {
  it('dW of a 1×1 convolution is Σ g·x and dX is Σ g·w', () => {
    const x = grad64([1, 2, 3, 4], [1, 1, 2, 2]);
    const w = grad64([2, -1], [2, 1, 1, 1]);
    conv2d(x, w).sum().backward();
    expect(values(w.grad)).toEqual([10, 10]);
    expect(values(x.grad)).toEqual([1, 1, 1, 1]);
  });
});

describe('temporaries kept between calls', () => {
  it('outputs and gradients are unchanged by other convolutions run between forward and backward, with and without grad', () => {
    const x = seededTensor([3, 2, 6, 5], 21);
    const w = seededTensor([4, 2, 3, 3], 22);
    const g = seededTensor([3, 4, 4, 3], 23, { requiresGrad: false });
    const [dx, dw] = grad((a: Tensor, b: Tensor) => conv2d(a, b).mul(g).sum(), { argnums: [0, 1] })(x, w);
    const y = conv2d(x, w);
    // Larger and smaller convolutions, with and without a graph, between the forward and its backward.
    conv2d(seededTensor([2, 3, 9, 9], 24), seededTensor([5, 3, 3, 3], 25)).sum().backward();
    noGrad(() => conv2d(seededTensor([1, 1, 4, 4], 26, { requiresGrad: false }), seededTensor([2, 1, 2, 2], 27, { requiresGrad: false })));
    convTranspose2d(seededTensor([2, 4, 5, 5], 28), seededTensor([4, 2, 3, 3], 29)).sum().backward();
    y.mul(g).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual(Array.from(dx.data));
    expect(Array.from(w.grad!.data)).toEqual(Array.from(dw.data));
    const ref = conv2dRef(x.data as Float64Array, [3, 2, 6, 5], w.data as Float64Array, [4, 2, 3, 3], null, { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
    assertClose(y, ref.data, 1e-12, 1e-12);
    expect(noGrad(() => Array.from(conv2d(x, w).data))).toEqual(Array.from(y.data));
  });
});

describe('empty batches', () => {
  it('convolutions and pooling of a zero-size batch keep their shapes and give zero weight gradients', () => {
    const x = zeros([0, 2, 5, 5], { dtype: 'float64', requiresGrad: true });
    const w = grad64(new Array(3 * 2 * 9).fill(1), [3, 2, 3, 3]);
    const y = conv2d(x, w);
    expect(y.shape).toEqual([0, 3, 3, 3]);
    y.sum().backward();
    expect(values(w.grad)).toEqual(new Array(54).fill(0));
    expect(maxPool2d(x, 2).shape).toEqual([0, 2, 2, 2]);
    expect(avgPool2d(x, 2).shape).toEqual([0, 2, 2, 2]);
    expect(convTranspose2d(zeros([0, 3, 3, 3], { dtype: 'float64' }), w).shape).toEqual([0, 2, 5, 5]);
  });
});
