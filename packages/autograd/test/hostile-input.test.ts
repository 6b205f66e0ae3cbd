import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError, DTypeError, GraphError, ShapeError, Tensor, arange, customOp, detectAnomaly, enableGrad, eye, full,
  isAnomalyEnabled, isGradEnabled, linspace, noGrad, ones, rand, randn, setGradEnabled, tensor, zeros, type NestedArray,
} from '@chainrule/autograd';

const f64 = (v: NestedArray, requiresGrad = true): Tensor => tensor(v, { dtype: 'float64', requiresGrad });

describe('sizes beyond what can be allocated', () => {
  const creators: [string, (shape: number[]) => unknown][] = [
    ['zeros', (s) => zeros(s)],
    ['ones', (s) => ones(s, { dtype: 'float64' })],
    ['full', (s) => full(s, 3)],
    ['rand', (s) => rand(s, { seed: 0 })],
    ['randn', (s) => randn(s, { seed: 0 })],
  ];

  it('names the op, the shape and the bytes instead of "Invalid typed array length"', () => {
    expect(() => zeros([1e6, 1e6])).toThrow(ShapeError);
    expect(() => zeros([1e6, 1e6])).toThrow(/^zeros: shape \[1000000,1000000\] \(1000000000000 float32 elements\), 4\.00 TB \(4\.00e\+12 bytes\), is more than/);
    expect(() => arange(1e12)).toThrow(/^arange: shape \[1000000000000\]/);
    expect(() => linspace(0, 1, 1e12)).toThrow(/^linspace: shape \[1000000000000\]/);
    expect(() => eye(1e7)).toThrow(/^eye: shape \[10000000,10000000\]/);
    expect(zeros([1e20, 0]).size).toBe(0);
    expect(() => zeros([1e6, 1]).add(zeros([1, 1e6]))).toThrow(/^add: shape \[1000000,1000000\]/);
    expect(() => zeros([1e5, 1]).matmul(zeros([1, 1e5]))).toThrow(/^matmul: shape \[100000,100000\]/);
    expect(() => zeros([1]).expand([1e7, 1e7])).toThrow(/^expand: shape \[10000000,10000000\]/);
  });

  it('refuses every hostile shape with a ShapeError naming the creator (property)', () => {
    const huge = fc.constantFrom(2 ** 33, 1e9, 1e12, 2 ** 53, 1e300);
    const dims = fc.array(fc.oneof(fc.integer({ min: 1, max: 4 }), huge), { minLength: 1, maxLength: 4 })
      .filter((s) => s.reduce((a, b) => a * b, 1) > 2 ** 33);
    const bad = fc.array(fc.oneof(fc.constantFrom(-1, 1.5, NaN, Infinity, -Infinity), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 3 })
      .filter((s) => s.some((d) => !Number.isInteger(d) || d < 0));
    fc.assert(
      fc.property(fc.oneof(dims, bad), fc.integer({ min: 0, max: creators.length - 1 }), (shape, k) => {
        const [name, create] = creators[k]!;
        let error: unknown = null;
        try {
          create(shape);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ShapeError);
        expect((error as Error).message.startsWith(`${name}: `)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('the Tensor constructor', () => {
  it('refuses storage of no dtype and shapes that are not lists of non-negative integers', () => {
    expect(() => new Tensor(new Int16Array(2) as unknown as Float32Array, [2])).toThrow(DTypeError);
    expect(() => new Tensor(new Int16Array(2) as unknown as Float32Array, [2])).toThrow(/^Tensor: storage must be a Float32Array, Float64Array, Int32Array \(int32\) or Uint8Array \(bool\), got Int16Array/);
    expect(new Tensor(new Int32Array(2), [2]).dtype).toBe('int32');
    expect(new Tensor(new Uint8Array(2), [2]).dtype).toBe('bool');
    expect(() => new Tensor([1, 2] as unknown as Float32Array, [2])).toThrow(DTypeError);
    for (const shape of [[1.5, 2], [-3], [NaN], [Infinity]]) {
      expect(() => new Tensor(new Float32Array(3), shape), String(shape)).toThrow(/^Tensor: invalid shape/);
    }
    expect(() => new Tensor(new Float32Array(3), 3 as unknown as number[])).toThrow(/^Tensor: shape must be an array/);
    expect(new Tensor(new Float64Array(6), [2, 3]).dtype).toBe('float64');
  });
});

describe('backward seeds and options', () => {
  it('takes a number as the seed gradient of a one-element tensor, as PyTorch', () => {
    const x = f64([1, 2]);
    x.square().sum().backward(5);
    expect(x.grad!.toArray()).toEqual([10, 20]);
    const y = f64(3);
    y.mul(2).backward(-0.5, { retainGraph: false });
    expect(y.grad!.item()).toBe(-1);
    expect(() => f64([1, 2]).mul(2).backward(5)).toThrow(/^backward: a number seed \(5\) needs a one-element output, got shape \[2\]/);
  });

  it('refuses misspelt or mistyped options', () => {
    expect(() => f64([1]).sum().backward({ retainGraf: true } as never)).toThrow(/^backward: unknown option 'retainGraf'/);
    expect(() => f64([1]).sum().backward({ createGraph: 'yes' } as never)).toThrow(/^backward: createGraph must be a boolean/);
  });
});

describe('scoped modes refuse async functions', () => {
  const scopes: [string, (fn: () => unknown) => unknown][] = [
    ['noGrad', noGrad],
    ['enableGrad', enableGrad],
    ['setGradEnabled', (fn) => setGradEnabled(false, fn)],
    ['detectAnomaly', detectAnomaly],
  ];

  it('refuses an async function before running it, and a returned promise after, leaving the modes as they were', async () => {
    for (const [name, scope] of scopes) {
      let ran = false;
      expect(() => scope(async () => { ran = true; }), name).toThrow(new RegExp(`^${name}: the function is async`));
      expect(ran).toBe(false);
      expect(() => scope(() => Promise.resolve(1)), name).toThrow(ArgumentError);
      expect(() => scope(() => ({ then: () => undefined })), name).toThrow(/returns a promise/);
      expect(isGradEnabled()).toBe(true);
      expect(isAnomalyEnabled()).toBe(false);
    }
    // Synchronous functions are unaffected.
    expect(noGrad(() => f64([1]).mul(2)).requiresGrad).toBe(false);
    await Promise.resolve();
  });
});

describe('user callbacks returning the wrong thing', () => {
  it('names the hook when it returns null, a number or a tensor of the wrong shape', () => {
    for (const [bad, text] of [[null, 'returned null'], [5, 'returned number'], ['x', 'returned string']] as const) {
      const x = f64([1, 2]);
      x.registerHook(() => bad as unknown as Tensor);
      expect(() => x.mul(2).sum().backward(), String(bad)).toThrow(GraphError);
      const y = f64([1, 2]);
      y.registerHook(() => bad as unknown as Tensor);
      expect(() => y.mul(2).sum().backward(), String(bad)).toThrow(new RegExp(`^registerHook: a hook \\(number 0 on a tensor of shape \\[2\\] \\(float64\\)\\) ${text}`));
    }
    const z = f64([1, 2]);
    z.registerHook(() => f64([1], false));
    expect(() => z.mul(2).sum().backward()).toThrow(/^registerHook: a hook returned a gradient of shape \[1\]/);
  });

  it('names the custom op whose forward or backward returns null, undefined, a number or a wrong shape', () => {
    const returning = (value: unknown) => customOp({ name: 'odd', forward: (x) => x.mul(2), backward: () => value as Tensor });
    for (const bad of [undefined, 5, 'g', { shape: [1] }]) {
      expect(() => returning(bad)(f64([1, 2])).sum().backward(), String(bad)).toThrow(/^odd: backward must return a Tensor, null, or an array/);
    }
    expect(() => returning([5])(f64([1, 2])).sum().backward()).toThrow(/^odd: backward returned number 5 as the gradient of input 0 \(shape \[2\]\)/);
    expect(() => returning(f64([1], false))(f64([1, 2])).sum().backward()).toThrow(/^backward of 'odd' returned a gradient of shape \[1\]/);
    // null is "no gradient", as documented.
    const none = returning(null)(f64([1, 2]));
    expect(() => none.sum().backward()).not.toThrow();
    for (const bad of [null, undefined, 3]) {
      const op = customOp({ name: 'bad', forward: () => bad as unknown as Tensor, backward: (g) => g });
      expect(() => op(f64([1])), String(bad)).toThrow(new RegExp(`^bad: forward must return a Tensor, got ${bad === 3 ? 'number 3' : String(bad)}`));
    }
  });
});
