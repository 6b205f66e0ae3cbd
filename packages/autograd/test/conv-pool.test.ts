import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2d, conv2dMaxPool2d, gradients, jvp, maxPool2d, type Tensor } from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import { withBackend } from './helpers/backend.js';

// conv2dMaxPool2d against the two ops it fuses: the same bits forward and backward (the fused
// VJP is the same scatter and the same convolution adjoints, made image by image in WebAssembly
// memory there) but for the bias's sum, on both kernel backends, over random convolutions
// (strides, paddings, dilations, groups) and pooling windows (ceil mode, overlapping).

const fusedCase = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.integer({ min: 1, max: 3 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 2 }),
    sw: fc.integer({ min: 1, max: 2 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    extraH: fc.integer({ min: 0, max: 9 }),
    extraW: fc.integer({ min: 0, max: 12 }),
    pk: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    ps: fc.option(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), { nil: undefined }),
    ceilMode: fc.boolean(),
    bias: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1 << 20 }),
  })
  .map((r) => {
    const h = Math.max(1, r.dh * (r.kh - 1) + 1 - 2 * r.ph) + r.extraH;
    const w = Math.max(1, r.dw * (r.kw - 1) + 1 - 2 * r.pw) + r.extraW;
    const oh = Math.floor((h + 2 * r.ph - r.dh * (r.kh - 1) - 1) / r.sh) + 1;
    const ow = Math.floor((w + 2 * r.pw - r.dw * (r.kw - 1) - 1) / r.sw) + 1;
    // A window that fits the convolution's output.
    const pool: [number, number] = [Math.min(r.pk[0], oh), Math.min(r.pk[1], ow)];
    return { ...r, h, w, c: r.groups * r.cg, o: r.groups * r.og, pool };
  });

type FusedCase = typeof fusedCase extends fc.Arbitrary<infer T> ? T : never;

const convOptions = (r: FusedCase) => ({ stride: [r.sh, r.sw], padding: [r.ph, r.pw], dilation: [r.dh, r.dw], groups: r.groups });
const poolOptions = (r: FusedCase) => ({ stride: r.ps, ceilMode: r.ceilMode });

function operands(r: FusedCase, dtype: 'float32' | 'float64'): Tensor[] {
  const list = [seededTensor([r.n, r.c, r.h, r.w], r.seed, { dtype }), seededTensor([r.o, r.cg, r.kh, r.kw], r.seed + 1, { dtype })];
  if (r.bias) list.push(seededTensor([r.o], r.seed + 2, { dtype }));
  return list;
}

const bits = (t: Tensor | null): number[] => Array.from(t!.data);

/**
 * The input's and weight's gradients to the bit; the bias's to rounding, as it sums the pooled
 * gradient where the two ops sum the scattered one (the same values among zeros, in another order).
 */
function sameGradients(fused: (Tensor | null)[], composed: (Tensor | null)[], dtype: 'float32' | 'float64'): void {
  expect(bits(fused[0]!)).toEqual(bits(composed[0]!));
  expect(bits(fused[1]!)).toEqual(bits(composed[1]!));
  if (fused.length > 2) assertClose(fused[2]!, composed[2]!, dtype === 'float32' ? 1e-5 : 1e-13, dtype === 'float32' ? 1e-5 : 1e-13);
}

describe('conv2dMaxPool2d', () => {
  for (const backend of ['js', 'wasm'] as const) {
    it(`${backend} kernels: the bits of maxPool2d(conv2d(...)), values and gradients, either dtype`, () => {
      fc.assert(fc.property(fusedCase, fc.constantFrom('float32', 'float64'), (r, dtype) => withBackend(backend, () => {
        const [x, w, b] = operands(r, dtype);
        const fused = conv2dMaxPool2d(x!, w!, b, convOptions(r), r.pool, poolOptions(r));
        const composed = maxPool2d(conv2d(x!, w!, b, convOptions(r)), r.pool, poolOptions(r));
        expect(fused.shape).toEqual(composed.shape);
        expect(bits(fused)).toEqual(bits(composed));
        const cot = seededTensor(fused.shape, r.seed + 3, { dtype, requiresGrad: false });
        const wrt = b === undefined ? [x!, w!] : [x!, w!, b];
        const gf = gradients([fused], wrt, { gradOutputs: [cot] });
        const gc = gradients([composed], wrt, { gradOutputs: [cot] });
        sameGradients(gf, gc, dtype);
      })), { numRuns: 60 });
    });
  }

  it('the large LeNet-shaped case the WebAssembly path takes in auto mode: the same bits as the two ops', () => {
    const x = seededTensor([9, 3, 28, 27], 1, { dtype: 'float32' });
    const w = seededTensor([6, 3, 5, 5], 2, { dtype: 'float32' });
    const b = seededTensor([6], 3, { dtype: 'float32' });
    const fused = conv2dMaxPool2d(x, w, b, { padding: 2 }, 2);
    expect(fused.gradFn!.op).toBe('conv2dMaxPool2d');
    const composed = maxPool2d(conv2d(x, w, b, { padding: 2 }), 2);
    expect(bits(fused)).toEqual(bits(composed));
    const cot = seededTensor(fused.shape, 4, { dtype: 'float32', requiresGrad: false });
    const gf = gradients([fused], [x, w, b], { gradOutputs: [cot] });
    const gc = gradients([composed], [x, w, b], { gradOutputs: [cot] });
    sameGradients(gf, gc, 'float32');
  });

  it('fuses batched inputs under dense windows; unbatched inputs and padded or dilated windows run the two ops', () => {
    const x = seededTensor([2, 2, 6, 6], 5);
    const w = seededTensor([3, 2, 3, 3], 6);
    expect(conv2dMaxPool2d(x, w, null, {}, 2).gradFn!.op).toBe('conv2dMaxPool2d');
    expect(conv2dMaxPool2d(seededTensor([2, 6, 6], 8), w, null, {}, 2).gradFn!.op).not.toBe('conv2dMaxPool2d');
    expect(conv2dMaxPool2d(x, w, null, {}, 2, { padding: 1 }).gradFn!.op).toBe('maxPool2d');
    expect(conv2dMaxPool2d(x, w, null, {}, 2, { dilation: 2, stride: 1 }).gradFn!.op).toBe('maxPool2d');
  });

  it('errors are those of the two ops', () => {
    const x = seededTensor([2, 2, 6, 6], 5);
    const w = seededTensor([3, 2, 3, 3], 6);
    expect(() => conv2dMaxPool2d(x, seededTensor([3, 3, 3, 3], 7), null, {}, 2)).toThrow(/conv2d: .*weight expects 3 input channels/);
    expect(() => conv2dMaxPool2d(x, w, null, {}, 5)).toThrow(/maxPool2d: input \[2,3,4,4\]/);
    expect(() => conv2dMaxPool2d(x, w, seededTensor([2], 9), {}, 2)).toThrow(/conv2d: bias must be \[3\]/);
  });

  it('forward mode: the tangent of maxPool2d(conv2d(...)) along every input', () => {
    fc.assert(fc.property(fusedCase, (r) => {
      const primals = operands(r, 'float64');
      const tangents = primals.map((p, i) => seededTensor(p.shape, r.seed + 10 + i, { requiresGrad: false }));
      const f = (...t: Tensor[]) => conv2dMaxPool2d(t[0]!, t[1]!, t[2], convOptions(r), r.pool, poolOptions(r));
      const g = (...t: Tensor[]) => maxPool2d(conv2d(t[0]!, t[1]!, t[2], convOptions(r)), r.pool, poolOptions(r));
      const a = jvp(f, primals, tangents), c = jvp(g, primals, tangents);
      expect(bits(a.output)).toEqual(bits(c.output));
      const ta = a.tangent.data, tc = c.tangent.data;
      ta.forEach((v, i) => expect(Math.abs(v - tc[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(tc[i]!))));
    }), { numRuns: 30 });
  });

  // Second derivatives by finite differences over 12 geometries: ~20 s idle, several times that
  // on a shared machine, hence its own time limit.
  it('gradcheck and gradgradcheck over random geometries (float64)', () => {
    // Windows whose maximum is not tied within the finite-difference step: random values are.
    const inputs = fusedCase.map((r) => ({ r, list: operands(r, 'float64') }));
    fc.assert(fc.property(inputs, ({ r, list }) => {
      const f = (x: Tensor, w: Tensor, b?: Tensor) => conv2dMaxPool2d(x, w, b, convOptions(r), r.pool, poolOptions(r));
      checkGradProperty(f, fc.constant(list), { numRuns: 1 });
      checkGradGradProperty((x: Tensor, w: Tensor, b?: Tensor) => f(x, w, b).tanh(), fc.constant(list), { numRuns: 1 });
    }), { numRuns: 12 });
  }, 180_000);
});
