import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, lerp, nanToNum, ShapeError, tensor, where, type Tensor } from '@chainrule/autograd';
import { assertClose, broadcastShapesArb, checkGradGradProperty, checkGradProperty, seededTensor, shapeArb, tensorsArb } from '@chainrule/autograd/testing';
import { refBroadcast, size } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

/** PyTorch's lerp: from the start below weight 0.5, from the end above it. */
const lerpRef = (a: number, b: number, w: number): number => (w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w));

describe('lerp', () => {
  it('matches PyTorch’s formula over broadcast shapes (zero-size, 0-d), tensor or number weights', () => {
    const cases = fc.tuple(broadcastShapesArb(3, { minDim: 0, maxDim: 3 }), fc.noShrink(fc.integer()), fc.option(fc.double({ min: -1, max: 2, noNaN: true })));
    fc.assert(
      fc.property(cases, ([shapes, seed, number]) => {
        const [a, b, w] = shapes.map((s, i) => seededTensor(s, seed + i, { min: -1, max: 2, requiresGrad: false })) as [Tensor, Tensor, Tensor];
        const weight = number === null ? w : number;
        const want = refBroadcast(number === null ? [a, b, w] : [a, b], (x, y, z) => lerpRef(x, y, z ?? number!));
        assertClose(lerp(a, b, weight), want, 1e-15, 1e-15);
      }),
      { numRuns: 150 },
    );
    expect(lerp(f64([1, 2]), f64([3, 7]), 1).toArray()).toEqual([3, 7]); // the end, exactly
    expect(f64([1, 2]).lerp(f64([3, 7]), 0).toArray()).toEqual([1, 2]);
    expect(lerp(tensor([1]), tensor([3]), 0.5).dtype).toBe('float32');
  });

  it('passes gradcheck and gradgradcheck for start, end and weight (float64)', () => {
    const three = tensorsArb(broadcastShapesArb(3, { maxDim: 3 }));
    checkGradProperty((a, b, w) => lerp(a!, b!, w!), three);
    checkGradGradProperty((a, b, w) => lerp(a!, b!, w!), three);
    checkGradProperty((a, b) => lerp(a!, b!, 0.7), tensorsArb(broadcastShapesArb(2, { maxDim: 3 })), { numRuns: 10 });
    const a = grad64([1, 2]), b = grad64([5, 10]), w = grad64([0.25, 0.75]);
    lerp(a, b, w).sum().backward();
    expect(Array.from(a.grad!.data)).toEqual([0.75, 0.25]);
    expect(Array.from(b.grad!.data)).toEqual([0.25, 0.75]);
    expect(Array.from(w.grad!.data)).toEqual([4, 8]);
  });

  it('names the op, shapes and dtypes in its errors', () => {
    expect(() => lerp(f64([1, 2]), f64([1, 2, 3]), 0.5)).toThrow(/^lerp: input \[2\], end \[3\] and weight \[\] cannot be broadcast together/);
    expect(() => lerp(f64([1, 2]), f64([1, 2]), f64([1, 2, 3]))).toThrow(ShapeError);
    expect(() => lerp(f64([1]), tensor([1]), 0.5)).toThrow(DTypeError);
    expect(() => lerp(f64([1]), f64([1]), tensor([0.5]))).toThrow(/^lerp: dtypes differ/);
  });
});

const special = fc.oneof({ arbitrary: fc.double({ min: -5, max: 5, noNaN: true }), weight: 3 }, { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity), weight: 2 });

describe('nanToNum', () => {
  it('replaces NaN and infinities over random shapes, by default with 0 and the dtype’s extremes', () => {
    const cases = shapeArb({ maxRank: 3, minDim: 0, maxDim: 3 }).chain((shape) => fc.tuple(fc.constant(shape), fc.array(special, { minLength: size(shape), maxLength: size(shape) }), fc.option(fc.tuple(fc.double({ noNaN: true }), fc.double({ noNaN: true }), fc.double({ noNaN: true })))));
    fc.assert(
      fc.property(cases, ([shape, values, given]) => {
        const x = tensor(values, { dtype: 'float64', shape });
        const [nan, posinf, neginf] = given ?? [0, Number.MAX_VALUE, -Number.MAX_VALUE];
        const want = values.map((v) => (Number.isNaN(v) ? nan : v === Infinity ? posinf : v === -Infinity ? neginf : v));
        const got = given === null ? nanToNum(x) : x.nanToNum({ nan, posinf, neginf });
        assertClose(got, { data: want, shape }, 0, 0);
        expect(Array.from(x.data)).toEqual(values);
      }),
    );
    const f32 = nanToNum(tensor([Infinity, -Infinity, NaN]));
    expect(f32.dtype).toBe('float32');
    expect(Array.from(f32.data)).toEqual([3.4028234663852886e38, -3.4028234663852886e38, 0]);
  });

  it('passes the gradient where the value was finite and 0 where it was replaced', () => {
    const x = grad64([1, NaN, Infinity, -Infinity, -2]);
    nanToNum(x).mul(f64([1, 2, 3, 4, 5])).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 0, 0, 0, 5]);
    // gradcheck on finite inputs, with non-finite values written in inside the function.
    const inputs = fc.tuple(shapeArb({ maxRank: 3, maxDim: 3 }), fc.noShrink(fc.integer())).map(([shape, seed]) => [seededTensor(shape, seed)]);
    const f = (t: Tensor): Tensor => nanToNum(where(t.gt(1.5), Infinity, where(t.lt(-1.5), NaN, t)), { posinf: 3 });
    checkGradProperty((t) => f(t!), inputs);
    checkGradGradProperty((t) => f(t!), inputs);
  });

  it('refuses a replacement that is not a number', () => {
    expect(() => nanToNum(f64([1]), { nan: '0' as unknown as number })).toThrow(ArgumentError);
    expect(() => nanToNum(f64([1]), { nan: '0' as unknown as number })).toThrow(/^nanToNum: nan must be a number, got string \(input float64 \[1\]\)/);
  });
});

describe('integer and bool inputs', () => {
  it('lerp promotes as a float op; nanToNum copies an integer tensor', () => {
    const out = lerp(tensor([0, 10], { dtype: 'int32' }), f64([10, 20]), 0.5);
    expect(out.dtype).toBe('float64');
    expect(out.toArray()).toEqual([5, 15]);
    expect(lerp(tensor([0, 10], { dtype: 'int32' }), tensor([10, 20], { dtype: 'int32' }), 0.25).dtype).toBe('float32');
    const i = tensor([1, -2], { dtype: 'int32' });
    const copy = nanToNum(i);
    expect(copy.dtype).toBe('int32');
    expect(copy.toArray()).toEqual([1, -2]);
    expect(copy.data).not.toBe(i.data);
  });
});
