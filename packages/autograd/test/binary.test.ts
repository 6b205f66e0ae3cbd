import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { add, atan2, div, maximum, minimum, mul, pow, sub, tensor, hypot, logaddexp, xlogy, copysign, fmod, remainder } from '@chainrule/autograd';
import { assertClose, checkGradProperty, shapeArb, tensorArb, type ValueConstraints } from '@chainrule/autograd/testing';
import { describeBinaryTable, type BinaryCase } from './helpers/binary-table.js';
import { f64, grad64, values } from './helpers/tensors.js';

/** A double as an exact integer times a power of two. */
function exact(v: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  const m = biased === 0 ? frac : frac | (1n << 52n);
  return { m: v < 0 ? -m : m, e: (biased === 0 ? 1 : biased) - 1075 };
}

/** C fmod from the exact integers of both operands (BigInt % truncates, as fmod does). */
function refFmod(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || !Number.isFinite(a) || b === 0) return NaN;
  if (!Number.isFinite(b) || a === 0) return a;
  const x = exact(a);
  const y = exact(b);
  const e = Math.min(x.e, y.e);
  const r = (x.m << BigInt(x.e - e)) % (y.m << BigInt(y.e - e));
  return r === 0n ? (a < 0 ? -0 : 0) : Number(r) * 2 ** e;
}

/** Python's modulo: the exact fmod, moved into the divisor's sign where it is non-zero. */
function refRemainder(a: number, b: number): number {
  const r = refFmod(a, b);
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

const cases: BinaryCase[] = [
  { name: 'add', op: add, method: (a, b) => a.add(b), ref: (a, b) => a + b, grad: { scalar: 1.5 } },
  { name: 'sub', op: sub, method: (a, b) => a.sub(b), ref: (a, b) => a - b, grad: { scalar: -0.7 } },
  { name: 'mul', op: mul, method: (a, b) => a.mul(b), ref: (a, b) => a * b, grad: { scalar: 2.5 } },
  { name: 'div', op: div, method: (a, b) => a.div(b), ref: (a, b) => a / b, grad: { domain: [{}, { avoid: [0], margin: 0.3 }], scalar: 1.7 } },
  // Tensor exponent: the base stays positive so the exponent's gradient (out·log a) is real.
  { name: 'pow', op: pow, method: (a, b) => a.pow(b), ref: Math.pow, grad: { domain: [{ min: 0.2, max: 2 }, {}], scalar: 1.7 } },
  // The angle jumps from π to -π across a = 0 for b < 0: a stays away from 0.
  { name: 'atan2', op: atan2, method: (a, b) => a.atan2(b), ref: Math.atan2, grad: { domain: [{ avoid: [0], margin: 0.3 }, {}], scalar: 0.8 } },
  { name: 'hypot', op: hypot, method: (a, b) => a.hypot(b), ref: (a, b) => Math.sqrt(a * a + b * b), grad: { domain: [{ avoid: [0], margin: 0.3 }, {}], scalar: 0.8 } },
  { name: 'logaddexp', op: logaddexp, method: (a, b) => a.logaddexp(b), ref: (a, b) => Math.log(Math.exp(a) + Math.exp(b)), atol: 1e-15, grad: { scalar: 0.8 } },
  { name: 'xlogy', op: xlogy, method: (a, b) => a.xlogy(b), ref: (a, b) => (a === 0 ? 0 : a * Math.log(b)), grad: { domain: [{}, { min: 0.2, max: 3 }], scalar: 0.8 } },
  { name: 'copysign', op: copysign, method: (a, b) => a.copysign(b), ref: (a, b) => (b < 0 || Object.is(b, -0) ? -Math.abs(a) : Math.abs(a)), grad: { domain: [{ avoid: [0] }, { avoid: [0] }], scalar: -0.8 } },
  { name: 'fmod', op: fmod, method: (a, b) => a.fmod(b), ref: refFmod, rtol: 0, grad: { domain: [{}, { min: 0.3, max: 2 }], kinkAtMultiples: true, scalar: 0.75 } },
  { name: 'remainder', op: remainder, method: (a, b) => a.remainder(b), ref: refRemainder, rtol: 0, grad: { domain: [{}, { min: 0.3, max: 2 }], kinkAtMultiples: true, scalar: 0.75 } },
  { name: 'maximum', op: maximum, method: (a, b) => a.maximum(b), ref: Math.max, grad: { kinkAtTie: true, scalar: 0.3 } },
  { name: 'minimum', op: minimum, method: (a, b) => a.minimum(b), ref: Math.min, grad: { kinkAtTie: true, scalar: 0.3 } },
];

describeBinaryTable(cases);

describe('hand-computed values and gradients', () => {
  test('add broadcasts a row over a matrix; the row gradient sums over the broadcast axis', () => {
    const a = grad64([1, 2, 3, 4], [2, 2]);
    const b = grad64([10, 20]);
    const y = add(a, b);
    expect(y.shape).toEqual([2, 2]);
    expect(values(y)).toEqual([11, 22, 13, 24]);
    y.sum().backward();
    expect(values(a.grad)).toEqual([1, 1, 1, 1]);
    expect(values(b.grad)).toEqual([2, 2]);
  });

  test('sub: 5 - x and x - y, with the gradient of the subtrahend negated and summed', () => {
    const x = grad64([1, 2, 3]);
    expect(values(sub(5, x))).toEqual([4, 3, 2]);
    const y = grad64([0.5], [1, 1]);
    const z = sub(x, y);
    expect(z.shape).toEqual([1, 3]);
    expect(values(z)).toEqual([0.5, 1.5, 2.5]);
    z.sum().backward();
    expect(values(x.grad)).toEqual([1, 1, 1]);
    expect(values(y.grad)).toEqual([-3]);
  });

  test('mul: each gradient is the other operand', () => {
    const a = grad64([1, 2, 3]);
    const b = grad64([4, 5, 6]);
    const y = mul(a, b);
    expect(values(y)).toEqual([4, 10, 18]);
    y.sum().backward();
    expect(values(a.grad)).toEqual([4, 5, 6]);
    expect(values(b.grad)).toEqual([1, 2, 3]);
  });

  test('div: d(a/b)/da = 1/b and d(a/b)/db = -a/b²', () => {
    const a = grad64([1, 2, 3]);
    const b = grad64([2, 4, 8]);
    const y = div(a, b);
    expect(values(y)).toEqual([0.5, 0.5, 0.375]);
    y.sum().backward();
    expect(values(a.grad)).toEqual([0.5, 0.25, 0.125]);
    expect(values(b.grad)).toEqual([-0.25, -0.125, -3 / 64]);
    expect(values(div(1, f64([4, -0.5])))).toEqual([0.25, -2]);
  });

  test('pow with a tensor exponent: d/da = b·a^(b-1), d/db = a^b·ln a', () => {
    const a = grad64([2, 3]);
    const b = grad64([3, 2]);
    const y = pow(a, b);
    expect(values(y)).toEqual([8, 9]);
    y.sum().backward();
    expect(values(a.grad)).toEqual([12, 6]);
    assertClose(b.grad!.data, [8 * Math.LN2, 9 * Math.log(3)], 1e-15);
  });

  test('pow with a number exponent: d/dx xᵖ = p·x^(p-1) for integer, fractional and negative p', () => {
    const cube = grad64([1, -2, 0.5]);
    const y = pow(cube, 3);
    expect(values(y)).toEqual([1, -8, 0.125]);
    y.sum().backward();
    expect(values(cube.grad)).toEqual([3, 12, 0.75]);

    const root = grad64([4, 9]);
    expect(values(root.pow(0.5))).toEqual([2, 3]);
    root.pow(0.5).sum().backward();
    expect(values(root.grad)).toEqual([0.25, 1 / 6]);

    const inv = grad64([2, -4]);
    expect(values(inv.pow(-1))).toEqual([0.5, -0.25]);
    inv.pow(-1).sum().backward();
    expect(values(inv.grad)).toEqual([-0.25, -1 / 16]);
  });

  test('pow with a number base: d/dx cˣ = cˣ·ln c', () => {
    const x = grad64([0, 1, 3]);
    const y = pow(2, x);
    expect(values(y)).toEqual([1, 2, 8]);
    y.sum().backward();
    assertClose(x.grad!.data, [Math.LN2, 2 * Math.LN2, 8 * Math.LN2], 1e-15);
  });

  test('maximum and minimum send the whole gradient to the winner', () => {
    const a = grad64([1, 5, -3]);
    const b = grad64([4, 2, -7]);
    const hi = maximum(a, b);
    expect(values(hi)).toEqual([4, 5, -3]);
    hi.sum().backward();
    expect(values(a.grad)).toEqual([0, 1, 1]);
    expect(values(b.grad)).toEqual([1, 0, 0]);

    const c = grad64([1, 5, -3]);
    const d = grad64([4, 2, -7]);
    const lo = minimum(c, d);
    expect(values(lo)).toEqual([1, 2, -7]);
    lo.sum().backward();
    expect(values(c.grad)).toEqual([1, 0, 0]);
    expect(values(d.grad)).toEqual([0, 1, 1]);
  });

  test('maximum(x, 0) is relu; minimum(x, 0) its mirror', () => {
    expect(values(maximum(f64([-2, 0.5, 3]), 0))).toEqual([0, 0.5, 3]);
    expect(values(minimum(0, f64([-2, 0.5, 3])))).toEqual([-2, 0, 0]);
  });
});

describe('gradients of pow with a number exponent', () => {
  test('gradcheck over integer, fractional, negative and zero exponents', () => {
    for (const p of [2, 3, -1, -2, 0.5, 1.5, 1, 0]) {
      // Integer exponents take any base (away from 0 when negative); fractional ones need a positive base.
      const domain: ValueConstraints = Number.isInteger(p) ? { avoid: [0], margin: 0.2 } : { min: 0.2, max: 2 };
      checkGradProperty((x) => x!.pow(p), shapeArb().chain((s) => fc.tuple(tensorArb(s, domain))), { numRuns: 8 });
    }
  });
});

describe('edge cases', () => {
  test('maximum and minimum split a tie evenly, as PyTorch does', () => {
    const a = grad64([2, 1, 3]);
    const b = grad64([2, 0, 3]);
    maximum(a, b).sum().backward();
    expect(values(a.grad)).toEqual([0.5, 1, 0.5]);
    expect(values(b.grad)).toEqual([0.5, 0, 0.5]);

    const c = grad64([2, 1]);
    const d = grad64([2, 0]);
    minimum(c, d).sum().backward();
    expect(values(c.grad)).toEqual([0.5, 0]);
    expect(values(d.grad)).toEqual([0.5, 1]);
  });

  test('a broadcast scalar tied with three elements collects half of each', () => {
    const x = grad64([2, 2, 5]);
    const s = grad64([2], []);
    maximum(x, s).sum().backward();
    expect(values(x.grad)).toEqual([0.5, 0.5, 1]);
    expect(s.grad!.item()).toBe(1);
  });

  test('f(a, a) accumulates both gradients: add → 2, mul → 2a, maximum → 1 (two halves)', () => {
    const a = grad64([1.5, -2]);
    add(a, a).sum().backward();
    expect(values(a.grad)).toEqual([2, 2]);
    const b = grad64([1.5, -2]);
    mul(b, b).sum().backward();
    expect(values(b.grad)).toEqual([3, -4]);
    const c = grad64([1.5, -2]);
    maximum(c, c).sum().backward();
    expect(values(c.grad)).toEqual([1, 1]);
    const d = grad64([1.5, -2]);
    sub(d, d).sum().backward();
    expect(values(d.grad)).toEqual([0, 0]);
  });

  test('pow: zero exponent gives a zero base gradient, also at base 0 (PyTorch), with a number or a tensor exponent', () => {
    const x = grad64([0, 2, -3]);
    const y = pow(x, 0);
    expect(values(y)).toEqual([1, 1, 1]);
    y.sum().backward();
    expect(values(x.grad)).toEqual([0, 0, 0]);

    // Regression: the tensor-exponent path gave 0·0^(-1) = NaN at base 0, exponent 0.
    const a = grad64([0, 2]);
    const e = grad64([0, 0]);
    pow(a, e).sum().backward();
    expect(values(a.grad)).toEqual([0, 0]);
    expect(values(e.grad)).toEqual([0, Math.LN2]);
  });

  test('pow: the exponent gradient is 0 at base 0 with exponent ≥ 0 (not 0·log 0 = NaN), as in PyTorch', () => {
    const a = grad64([0, 0]);
    const e = grad64([2, 0.5]);
    const y = pow(a, e);
    expect(values(y)).toEqual([0, 0]);
    y.sum().backward();
    expect(values(e.grad)).toEqual([0, 0]);
    expect(values(a.grad)).toEqual([0, Infinity]); // d/da a^0.5 at 0
  });

  test('pow: the base gradient of x² at 0 is exactly 0 on both paths', () => {
    const x = grad64([0]);
    x.pow(2).backward(f64([1]));
    expect(x.grad!.item()).toBe(0);
    const z = grad64([0]);
    z.pow(f64([2])).backward(f64([1]));
    expect(z.grad!.item()).toBe(0);
  });

  test('IEEE semantics: division by zero gives ±Infinity and 0/0 NaN; pow of a negative base to a fraction is NaN', () => {
    expect(values(div(f64([1, -1, 0]), 0))).toEqual([Infinity, -Infinity, NaN]);
    expect(Number.isNaN(pow(f64([-8]), 1 / 3).item())).toBe(true);
    expect(values(pow(f64([-2]), 3))).toEqual([-8]);
  });

  test('pow follows C (and PyTorch): 1^y = 1 even for NaN and ±Infinity, (-1)^±Infinity = 1, x^0 = 1 even for NaN', () => {
    expect(values(pow(f64([1, 1, 1, -1, -1, NaN, Infinity]), f64([NaN, Infinity, -Infinity, Infinity, -Infinity, 0, 0])))).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(values(pow(f64([1]), NaN))).toEqual([1]);
    expect(values(pow(NaN, f64([0])))).toEqual([1]);
    expect(values(pow(f64([-1, 2]), f64([3, NaN])))).toEqual([-1, NaN]);
  });

  test('maximum and minimum propagate NaN from either side, as NumPy and PyTorch do', () => {
    for (const op of [maximum, minimum]) {
      expect(values(op(f64([NaN, 1, NaN]), f64([1, NaN, NaN]))).every(Number.isNaN)).toBe(true);
    }
  });

  test('pow(x, 0) has a zero gradient even where the incoming gradient is Inf or NaN (PyTorch)', () => {
    const x = grad64([2, -3, 0], [3]);
    pow(x, 0).backward(f64([Infinity, NaN, 1]));
    expect(values(x.grad!)).toEqual([0, 0, 0]);
  });

  test('where an operand of maximum or minimum is NaN, both sides get the whole gradient (PyTorch)', () => {
    // torch.maximum(a, b).backward(g): where(a == b, g/2, g) masked to 0 where a < b, and the
    // mirror for b; NaN is neither less, greater nor equal, so both keep g.
    for (const op of [maximum, minimum]) {
      const a = grad64([NaN, 1, NaN, 2], [4]);
      const b = grad64([1, NaN, NaN, 2], [4]);
      op(a, b).backward(f64([3, 5, 7, 11]));
      expect(values(a.grad!)).toEqual([3, 5, 7, 5.5]);
      expect(values(b.grad!)).toEqual([3, 5, 7, 5.5]);
    }
  });

  test('float32 scalars are rounded to float32 before the op (as a 0-d float32 tensor)', () => {
    const x = tensor([1]);
    expect(add(x, 0.1).item()).toBe(Math.fround(1 + Math.fround(0.1)));
  });

  test('gradients of float32 inputs are float32 and of the input shape', () => {
    const a = tensor([[1, 2, 3]], { requiresGrad: true });
    const b = tensor([[2], [4]], { requiresGrad: true });
    div(a, b).sum().backward();
    expect(a.grad!.dtype).toBe('float32');
    expect(a.grad!.shape).toEqual([1, 3]);
    expect(b.grad!.shape).toEqual([2, 1]);
    assertClose(a.grad!.data, [0.75, 0.75, 0.75], 1e-7);
    assertClose(b.grad!.data, [-6 / 4, -6 / 16], 1e-7);
  });
});
