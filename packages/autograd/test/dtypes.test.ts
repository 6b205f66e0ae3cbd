import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  add, all, any, arange, ArgumentError, DTypeError, full, logicalAnd, logicalNot, logicalOr, logicalXor, mul, ones, rand,
  concat, gradcheck, numericGrad, remainder, stack, sum, tensor, Tensor, where, zeros,
} from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { values } from './helpers/tensors.js';

const i32 = (v: number[] | number[][]): Tensor => tensor(v, { dtype: 'int32' });

/** Two's-complement wrap to int32, what PyTorch's int32 kernels store. */
const wrap = (v: number): number => v | 0;
/** BigInt product wrapped to int32: the exact reference for Math.imul. */
const wrapMul = (a: number, b: number): number => Number(BigInt.asIntN(32, BigInt(a) * BigInt(b)));

const int32Arb = fc.integer({ min: -2147483648, max: 2147483647 });

describe('creating int32 and bool tensors', () => {
  test('dtype int32 and bool; booleans infer bool; storage is Int32Array and Uint8Array', () => {
    const a = i32([[1, -2], [3, 4]]);
    expect(a.dtype).toBe('int32');
    expect(a.data).toBeInstanceOf(Int32Array);
    expect(a.toArray()).toEqual([[1, -2], [3, 4]]);
    const b = tensor([true, false, true]);
    expect(b.dtype).toBe('bool');
    expect(b.data).toBeInstanceOf(Uint8Array);
    expect(values(b)).toEqual([1, 0, 1]);
    expect(tensor([2, 0, -1], { dtype: 'bool' }).toArray()).toEqual([1, 0, 1]);
    expect(tensor([true, false], { dtype: 'float64' }).toArray()).toEqual([1, 0]);
    expect(tensor(new Float64Array([1, 2]), { dtype: 'int32' }).dtype).toBe('int32');
  });

  test('arange, zeros, ones and full take integer dtypes; rand does not', () => {
    expect(arange(5, undefined, 1, { dtype: 'int32' }).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(10, 0, -3, { dtype: 'int32' }).toArray()).toEqual([10, 7, 4, 1]);
    expect(zeros([2], { dtype: 'int32' }).data).toBeInstanceOf(Int32Array);
    expect(ones([2], { dtype: 'bool' }).toArray()).toEqual([1, 1]);
    expect(full([2], -7, { dtype: 'int32' }).toArray()).toEqual([-7, -7]);
    expect(() => rand([2], { dtype: 'int32' })).toThrow("rand: dtype must be 'float32' or 'float64', got 'int32'");
  });

  test('a value int32 cannot hold exactly is an error, not a truncation', () => {
    expect(() => tensor([1, 2.5], { dtype: 'int32' })).toThrow(ArgumentError);
    expect(() => tensor([1, 2.5], { dtype: 'int32' })).toThrow('tensor: 2.5 at [1] is not an int32');
    expect(() => tensor([2 ** 31], { dtype: 'int32' })).toThrow(/tensor: 2147483648 at \[0\] is not an int32/);
    expect(() => tensor([NaN], { dtype: 'int32' })).toThrow(/tensor: NaN at \[0\]/);
    expect(() => arange(0, 1, 0.5, { dtype: 'int32' })).toThrow(/arange: an int32 range needs an integer start and step/);
    expect(() => arange(0, 2 ** 31 + 2, 2 ** 31, { dtype: 'int32' })).toThrow(/arange: 2147483648 \(element 1\) is not an int32/);
    expect(() => full([1], 0.5, { dtype: 'int32' })).toThrow(/full: 0.5 is not an int32/);
  });

  test('integer and bool tensors never require grad', () => {
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(DTypeError);
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(
      "tensor: only float32 and float64 tensors can require gradients, got a tensor of dtype int32 and shape [1]; convert it with toDtype('float32') first",
    );
    expect(() => zeros([2], { dtype: 'bool', requiresGrad: true })).toThrow(/^zeros: only float32 and float64/);
    const t = i32([1]);
    expect(() => { t.requiresGrad = true; }).toThrow(/^requiresGrad: only float32 and float64 tensors/);
    expect(t.requiresGrad).toBe(false);
  });
});

describe('toDtype between every pair of dtypes', () => {
  test('to int32 truncates toward zero, as PyTorch; to bool is non-zero (NaN included)', () => {
    const x = tensor([-2.7, -0.5, 0, 0.5, 2.7], { dtype: 'float64' });
    expect(x.toDtype('int32').toArray()).toEqual([-2, 0, 0, 0, 2]);
    expect(tensor([-1, 0, NaN, 0.25]).toDtype('bool').toArray()).toEqual([1, 0, 1, 1]);
    expect(i32([0, 5]).toDtype('bool').toArray()).toEqual([0, 1]);
    expect(tensor([true, false]).toDtype('int32').toArray()).toEqual([1, 0]);
    expect(tensor([true, false]).toDtype('float32').toArray()).toEqual([1, 0]);
    expect(i32([-3, 16777217]).toDtype('float64').toArray()).toEqual([-3, 16777217]);
  });

  test('a float with no int32 value is an error naming the element; the input is unchanged', () => {
    const x = tensor([1, Infinity, 3]);
    expect(() => x.toDtype('int32')).toThrow(ArgumentError);
    expect(() => x.toDtype('int32')).toThrow(/^toDtype: element 1 of the float32 tensor of shape \[3\] is Infinity/);
    expect(() => tensor([3e9], { dtype: 'float64' }).toDtype('int32')).toThrow(/is 3000000000, which has no int32 value/);
    expect(values(x)).toEqual([1, Infinity, 3]);
  });

  test('the gradient flows only between float dtypes', () => {
    const x = tensor([1.5, -2], { dtype: 'float64', requiresGrad: true });
    expect(x.toDtype('int32').requiresGrad).toBe(false);
    const y = x.toDtype('float32');
    expect(y.requiresGrad).toBe(true);
    y.sum().backward();
    expect(values(x.grad)).toEqual([1, 1]);
  });
});

describe('integer arithmetic follows PyTorch int32', () => {
  test('add, sub and mul wrap modulo 2^32 (property against BigInt)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(int32Arb, int32Arb), { minLength: 1, maxLength: 8 }), (pairs) => {
        const a = i32(pairs.map((p) => p[0]));
        const b = i32(pairs.map((p) => p[1]));
        expect(a.add(b).dtype).toBe('int32');
        expect(values(a.add(b))).toEqual(pairs.map(([p, q]) => wrap(p + q)));
        expect(values(a.sub(b))).toEqual(pairs.map(([p, q]) => wrap(p - q)));
        expect(values(mul(a, b))).toEqual(pairs.map(([p, q]) => wrapMul(p, q)));
      }),
      { numRuns: 100 },
    );
  });

  test('broadcasting, numbers and the unary integer ops', () => {
    const a = i32([[1, 2, 3], [4, 5, 6]]);
    expect(add(a, i32([10, 20, 30])).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(a.mul(2).dtype).toBe('int32');
    expect(a.neg().toArray()).toEqual([[-1, -2, -3], [-4, -5, -6]]);
    expect(i32([-2147483648]).neg().item()).toBe(-2147483648); // wraps, as torch.neg on int32
    expect(i32([-3, 0, 4]).abs().toArray()).toEqual([3, 0, 4]);
    expect(i32([-3, 0, 4]).sign().toArray()).toEqual([-1, 0, 1]);
    expect(i32([46341]).square().item()).toBe(wrapMul(46341, 46341));
    expect(i32([-3, 7]).floor().dtype).toBe('int32');
    expect(i32([-3, 7]).clamp(0, 5).toArray()).toEqual([0, 5]);
    expect(i32([-3, 7]).clamp(0.5).dtype).toBe('float32');
    expect(i32([2, 3]).maximum(i32([3, 1])).toArray()).toEqual([3, 3]);
    expect(i32([2, -3]).pow(3).toArray()).toEqual([8, -27]);
    expect(i32([2]).pow(31).item()).toBe(-2147483648);
  });

  test('remainder takes the divisor\'s sign, fmod the dividend\'s; integer division by zero is an error', () => {
    expect(remainder(i32([7, -7, 7, -7]), i32([3, 3, -3, -3])).toArray()).toEqual([1, 2, -2, -1]);
    expect(i32([7, -7, 7, -7]).fmod(i32([3, 3, -3, -3])).toArray()).toEqual([1, -1, 1, -1]);
    const a = i32([1, 2]);
    expect(() => a.remainder(i32([1, 0]))).toThrow(ArgumentError);
    expect(() => a.remainder(i32([1, 0]))).toThrow(/^remainder: integer division by zero at element 1 of the result \(2 and 0\)/);
    expect(() => a.pow(-1)).toThrow(/^pow: a negative exponent \(-1\) at element 0/);
    expect(values(a)).toEqual([1, 2]);
  });

  test('true division and float math give float32 for integers', () => {
    expect(i32([1, 2]).div(i32([2, 4])).dtype).toBe('float32');
    expect(values(i32([1, 2]).div(2))).toEqual([0.5, 1]);
    expect(i32([0, 1]).exp().dtype).toBe('float32');
    expect(tensor([true, false]).sigmoid().dtype).toBe('float32');
    expect(i32([[1, 2]]).matmul(i32([[3], [4]])).toArray()).toEqual([[11]]);
    expect(i32([1, 2, 3]).mean().item()).toBe(2);
  });
});

describe('promotion: an integer or bool beside a float takes the float\'s dtype', () => {
  test('tensors and numbers', () => {
    const f64 = tensor([0.5, 1.5], { dtype: 'float64' });
    expect(f64.add(i32([1, 2])).dtype).toBe('float64');
    expect(i32([1, 2]).add(tensor([0.5, 0.5])).dtype).toBe('float32');
    expect(i32([1, 2]).add(0.5).dtype).toBe('float32');
    expect(values(i32([1, 2]).add(0.5))).toEqual([1.5, 2.5]);
    expect(tensor([true, false]).add(1).dtype).toBe('int32');
    expect(tensor([true, true]).add(tensor([true, false])).toArray()).toEqual([2, 1]);
    expect(f64.mul(tensor([true, false])).toArray()).toEqual([0.5, 0]);
  });

  test('the float operand keeps its gradient', () => {
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    x.mul(i32([3, 4])).sum().backward();
    expect(values(x.grad)).toEqual([3, 4]);
  });

  test('float32 beside float64 is still an error', () => {
    expect(() => tensor([1]).add(tensor([1], { dtype: 'float64' }))).toThrow(DTypeError);
  });

  test('concat and stack promote as torch.cat: int32 and bool pieces take the float\'s dtype', () => {
    const x = tensor([0.5], { dtype: 'float64', requiresGrad: true });
    const joined = concat([i32([1, 2]), x, tensor([true])]);
    expect(joined.dtype).toBe('float64');
    expect(joined.toArray()).toEqual([1, 2, 0.5, 1]);
    joined.mul(tensor([1, 2, 3, 4], { dtype: 'float64' })).sum().backward();
    expect(values(x.grad)).toEqual([3]);
    const ints = stack([i32([1, 2]), tensor([true, false])], 1);
    expect([ints.dtype, ints.toArray()]).toEqual(['int32', [[1, 1], [2, 0]]]);
    expect(stack([tensor([true]), tensor([false])]).dtype).toBe('bool');
    expect(() => concat([tensor([1]), tensor([1], { dtype: 'float64' })])).toThrow(/^concat: dtypes differ: \[1\] float32 and \[1\] float64/);
  });
});

describe('reductions of integer and bool tensors', () => {
  test('sum, max, min, prod stay integer; sums of bools count', () => {
    const a = i32([[1, -2, 3], [4, 5, -6]]);
    expect(sum(a).dtype).toBe('int32');
    expect(sum(a).item()).toBe(5);
    expect(a.sum(1).toArray()).toEqual([2, 3]);
    expect(a.max(0).toArray()).toEqual([4, 5, 3]);
    expect(a.min().item()).toBe(-6);
    expect(a.prod(1).toArray()).toEqual([-6, -120]);
    expect(tensor([true, true, false]).sum().item()).toBe(2);
    expect(tensor([true, false]).max().dtype).toBe('bool');
  });

  test('a sum outside int32 is an error, never a wrapped number (PyTorch would use int64)', () => {
    const big = full([3], 2 ** 30, { dtype: 'int32' });
    expect(() => big.sum()).toThrow(ArgumentError);
    expect(() => big.sum()).toThrow(/^sum: the sum of the int32 tensor of shape \[3\] is 3221225472 at element 0 of the result, outside int32's range/);
  });
});

describe('logic: bool results of any operands read as non-zero', () => {
  test('and, or, xor, not with broadcasting and numbers', () => {
    const a = tensor([true, true, false, false]);
    const b = tensor([true, false, true, false]);
    expect(logicalAnd(a, b).toArray()).toEqual([1, 0, 0, 0]);
    expect(logicalOr(a, b).toArray()).toEqual([1, 1, 1, 0]);
    expect(logicalXor(a, b).toArray()).toEqual([0, 1, 1, 0]);
    expect(logicalNot(a).toArray()).toEqual([0, 0, 1, 1]);
    expect(logicalAnd(tensor([[0.5], [0]]), i32([2, 0])).toArray()).toEqual([[1, 0], [0, 0]]);
    expect(tensor([NaN, 0]).logicalOr(0).toArray()).toEqual([1, 0]);
    expect(a.logicalAnd(b).dtype).toBe('bool');
  });

  test('any and all over axes; empty reductions are false and true', () => {
    const m = tensor([[true, false], [false, false]]);
    expect(any(m).item()).toBe(1);
    expect(all(m).item()).toBe(0);
    expect(m.any(1).toArray()).toEqual([1, 0]);
    expect(m.all(0, true).toArray()).toEqual([[0, 0]]);
    expect(any(zeros([0])).item()).toBe(0);
    expect(all(zeros([0])).item()).toBe(1);
    expect(any(zeros([2, 0]), 1).toArray()).toEqual([0, 0]);
    expect(tensor([1, 2]).gt(0).all().dtype).toBe('bool');
  });

  test('where takes a bool mask and keeps integer branches integer', () => {
    const mask = tensor([true, false, true]);
    expect(where(mask, i32([1, 2, 3]), i32([-1, -2, -3])).toArray()).toEqual([1, -2, 3]);
    expect(where(mask, i32([1, 2, 3]), -1).dtype).toBe('int32');
  });
});

describe('int32 and bool tensors elsewhere in the library', () => {
  test('they print as integers and as true/false', () => {
    expect(String(tensor([[true, false]]))).toBe('Tensor(bool [1,2])\n[[ true, false]]');
    expect(String(i32([1, -20, 300]))).toBe('Tensor(int32 [3]) [  1, -20, 300]');
  });

  test('gradcheck and numericGrad pass integer inputs through untouched and give them no gradient', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const idx = i32([2, 0, 2]);
    const f = (a: Tensor, i: Tensor): Tensor => a.gather(0, i).mul(a).sum();
    expect(gradcheck(f, [x, idx]).ok).toBe(true);
    const [dx, di] = numericGrad(f, [x, idx]);
    // f = a2·a0 + a0·a1 + a2·a2 for i = [2, 0, 2]: df/da = [a2 + a1, a0, a0 + 2·a2] at a = [1, 2, 3].
    assertClose(dx!, [5, 1, 7], 1e-6);
    expect(values(di!)).toEqual([0, 0, 0]);
    expect(values(idx)).toEqual([2, 0, 2]);
  });
});
