import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError, DTypeError, eq, ge, gt, jit, le, lt, ne, nonzero, ShapeError, tensor, Tensor, TraceError, vmap, where,
} from '@chainrule/autograd';
import {
  assertClose, broadcastShapesArb, checkGradGradProperty, checkGradProperty, tensorArb, type ValueConstraints,
} from '@chainrule/autograd/testing';
import { describeBinaryTable, type BinaryCase } from './helpers/binary-table.js';
import { refBroadcast, size, sourceIndex, unravel } from './helpers/reference.js';
import { f64, grad64, values } from './helpers/tensors.js';

/** A 0/1 condition: 1 where the value is positive. */
const mask = (t: Tensor): Tensor => new Tensor(Float64Array.from(t.data, (v) => (v > 0 ? 1 : 0)), t.shape);

/** Broadcast-compatible tensors, one per constraint set. */
function tensorsOf(...cs: ValueConstraints[]): fc.Arbitrary<Tensor[]> {
  return broadcastShapesArb(cs.length).chain((shapes) => fc.tuple(...shapes.map((s, i) => tensorArb(s, cs[i]))));
}

/** A comparison is exact: true (1) where the relation holds, else false (0), a bool tensor. */
const comparisons: BinaryCase[] = [
  { name: 'eq', op: eq, method: (a, b) => a.eq(b), ref: (a, b) => +(a === b), rtol: 0, grad: null, result: 'bool' },
  { name: 'ne', op: ne, method: (a, b) => a.ne(b), ref: (a, b) => +(a !== b), rtol: 0, grad: null, result: 'bool' },
  { name: 'gt', op: gt, method: (a, b) => a.gt(b), ref: (a, b) => +(a > b), rtol: 0, grad: null, result: 'bool' },
  { name: 'ge', op: ge, method: (a, b) => a.ge(b), ref: (a, b) => +(a >= b), rtol: 0, grad: null, result: 'bool' },
  { name: 'lt', op: lt, method: (a, b) => a.lt(b), ref: (a, b) => +(a < b), rtol: 0, grad: null, result: 'bool' },
  { name: 'le', op: le, method: (a, b) => a.le(b), ref: (a, b) => +(a <= b), rtol: 0, grad: null, result: 'bool' },
];

describe('comparisons: the table', () => {
  describeBinaryTable(comparisons);
});

describe('comparisons', () => {
  test('hand-computed: [1, 2, 3] against 2', () => {
    const x = f64([1, 2, 3]);
    expect(values(eq(x, 2))).toEqual([0, 1, 0]);
    expect(values(ne(x, 2))).toEqual([1, 0, 1]);
    expect(values(gt(x, 2))).toEqual([0, 0, 1]);
    expect(values(ge(x, 2))).toEqual([0, 1, 1]);
    expect(values(lt(x, 2))).toEqual([1, 0, 0]);
    expect(values(le(x, 2))).toEqual([1, 1, 0]);
    // A number on the left: 2 > x is x < 2.
    expect(values(gt(2, x))).toEqual([1, 0, 0]);
  });

  test('hand-computed broadcast: a column against a row', () => {
    const col = f64([1, 2], [2, 1]);
    const row = f64([0, 1, 2], [3]);
    const y = ge(col, row);
    expect(y.shape).toEqual([2, 3]);
    expect(values(y)).toEqual([1, 1, 0, 1, 1, 1]);
  });

  test('comparisons give bool tensors; a number beside float32 is rounded to float32 first (0.1f == 0.1)', () => {
    const x = tensor([0.1, 0.2]);
    const y = eq(x, 0.1);
    expect(y.dtype).toBe('bool');
    expect(y.data).toBeInstanceOf(Uint8Array);
    expect(values(y)).toEqual([1, 0]);
  });

  test('int32 and bool operands compare exactly, also beside floats (PyTorch promotes the integer)', () => {
    const big = tensor([2147483647, -2147483648, 16777217], { dtype: 'int32' });
    // 16777217 has no float32; beside an int32 it compares exactly.
    expect(values(eq(big, tensor([2147483647, -2147483648, 16777216], { dtype: 'int32' })))).toEqual([1, 1, 0]);
    expect(values(gt(big, 16777216))).toEqual([1, 0, 1]);
    // Beside a float32 tensor the integer is promoted to float32, as torch does: 16777217 rounds to 16777216.
    expect(values(eq(big, tensor([0, 0, 16777216])))).toEqual([0, 0, 1]);
    expect(values(lt(tensor([true, false]), tensor([1, 1], { dtype: 'int32' })))).toEqual([0, 1]);
    expect(eq(big, 0.5).dtype).toBe('bool');
  });

  test('NaN: unequal to everything, itself included; every ordering is false', () => {
    const x = f64([NaN, NaN, 1]);
    const y = f64([NaN, 1, NaN]);
    expect(values(eq(x, y))).toEqual([0, 0, 0]);
    expect(values(ne(x, y))).toEqual([1, 1, 1]);
    for (const op of [gt, ge, lt, le]) expect(values(op(x, y))).toEqual([0, 0, 0]);
  });

  test('±0 are equal; infinities compare as numbers', () => {
    expect(values(eq(f64([0]), f64([-0])))).toEqual([1]);
    expect(values(lt(f64([-Infinity, 1]), f64([1, Infinity])))).toEqual([1, 1]);
  });
});

/** Reference gradients of where(c, a, b) for upstream gradient g: g where c, summed onto each input's shape. */
function whereGradRef(c: Tensor, a: Tensor, b: Tensor, g: Tensor): { ga: Float64Array; gb: Float64Array; aHit: boolean[]; bHit: boolean[] } {
  const ga = new Float64Array(a.size);
  const gb = new Float64Array(b.size);
  const aHit = new Array<boolean>(a.size).fill(false);
  const bHit = new Array<boolean>(b.size).fill(false);
  for (let flat = 0; flat < g.size; flat++) {
    const index = unravel(flat, g.shape);
    if (c.data[sourceIndex(index, c.shape)] !== 0) {
      ga[sourceIndex(index, a.shape)]! += g.data[flat]!;
      aHit[sourceIndex(index, a.shape)] = true;
    } else {
      gb[sourceIndex(index, b.shape)]! += g.data[flat]!;
      bHit[sourceIndex(index, b.shape)] = true;
    }
  }
  return { ga, gb, aHit, bHit };
}

describe('where', () => {
  test('hand-computed: picks per element; each branch gets the gradient where it was picked', () => {
    const a = grad64([1, 2, 3]);
    const b = grad64([10, 20, 30]);
    const y = where(f64([1, 0, 1]), a, b);
    expect(values(y)).toEqual([1, 20, 3]);
    y.backward(f64([5, 6, 7]));
    expect(values(a.grad)).toEqual([5, 0, 7]);
    expect(values(b.grad)).toEqual([0, 6, 0]);
  });

  test('hand-computed broadcast: a [3,1] condition over a [4] row and a 0-d other', () => {
    const c = f64([1, 0, 1], [3, 1]);
    const a = grad64([1, 2, 3, 4]);
    const b = grad64([-1], []);
    const y = where(c, a, b);
    expect(y.shape).toEqual([3, 4]);
    expect(values(y)).toEqual([1, 2, 3, 4, -1, -1, -1, -1, 1, 2, 3, 4]);
    y.sum().backward();
    expect(values(a.grad)).toEqual([2, 2, 2, 2]);
    expect(b.grad!.shape).toEqual([]);
    expect(b.grad!.item()).toBe(4);
  });

  test('any non-zero condition is true, NaN included (as bool(nan) in PyTorch)', () => {
    expect(values(where(f64([-1, 0.5, 0, NaN, -0]), f64([1, 1, 1, 1, 1]), 0))).toEqual([1, 1, 0, 1, 0]);
  });

  test('numbers for either branch take the other branch\'s dtype; two numbers take a float condition\'s', () => {
    const c = tensor([1, 0]);
    const x64 = f64([7, 8]);
    expect(where(c, 1, x64).dtype).toBe('float64');
    expect(values(where(c, 1, x64))).toEqual([1, 8]);
    expect(values(where(c, x64, 2))).toEqual([7, 2]);
    expect(where(c, 1, 2).dtype).toBe('float32');
    expect(values(where(c, 1, 2))).toEqual([1, 2]);
    // The condition's dtype does not have to match the branches'.
    expect(where(f64([1, 0]), tensor([1, 2]), tensor([3, 4])).dtype).toBe('float32');
  });

  test('a bool condition with two number branches: int32 for integers, float32 otherwise (as torch.where)', () => {
    const c = tensor([true, false]);
    expect(where(c, 1, 0).dtype).toBe('int32');
    expect(values(where(c, 1, 0))).toEqual([1, 0]);
    expect(where(c, 0.5, 0).dtype).toBe('float32');
    expect(where(c, tensor([1, 2], { dtype: 'int32' }), 0.5).dtype).toBe('float32');
    expect(where(c, tensor([true, true]), tensor([false, false])).dtype).toBe('bool');
    expect(values(where(c, tensor([1, 2], { dtype: 'int32' }), f64([5, 6])))).toEqual([1, 6]);
  });

  test('forward matches plain loops over three broadcast shapes', () => {
    fc.assert(
      fc.property(tensorsOf({ requiresGrad: false }, {}, {}), ([c, a, b]) => {
        const cond = mask(c!);
        assertClose(where(cond, a!, b!), refBroadcast([cond, a!, b!], (k, x, y) => (k !== 0 ? x : y)), 0);
      }),
      { numRuns: 60 },
    );
  });

  test('gradients: gradcheck over broadcast condition and branches', () => {
    const inputs = tensorsOf({ requiresGrad: false }, {}, {}).map(([c, a, b]) => [mask(c!), a!, b!]);
    checkGradProperty((c, a, b) => where(c!, a!, b!), inputs, { numRuns: 25 });
  });

  test('gradients: gradgradcheck (the VJP is itself differentiable)', () => {
    const inputs = tensorsOf({ requiresGrad: false }, {}, {}).map(([c, a, b]) => [mask(c!), a!, b!]);
    checkGradGradProperty((c, a, b) => where(c!, a!, b!), inputs, { numRuns: 8 });
  });

  test('float32 branches: the selected values, exactly, in float32', () => {
    fc.assert(
      fc.property(tensorsOf({ requiresGrad: false }, { dtype: 'float32' }, { dtype: 'float32' }), ([c, a, b]) => {
        const cond = mask(c!);
        const y = where(cond, a!, b!);
        expect(y.dtype).toBe('float32');
        assertClose(y, refBroadcast([cond, a!, b!], (k, x, v) => (k !== 0 ? x : v)), 0);
      }),
      { numRuns: 40 },
    );
  });

  test('zero-size operands give an empty result; the gradients are zeros of each input\'s shape', () => {
    const empty = broadcastShapesArb(3, { minRank: 1, minDim: 0, maxDim: 3 })
      .filter((list) => list.some((s) => size(s) === 0))
      .chain(([sc, sa, sb]) => fc.tuple(tensorArb(sc!, { requiresGrad: false }), tensorArb(sa!), tensorArb(sb!)));
    fc.assert(
      fc.property(empty, ([c, a, b]) => {
        const cond = mask(c!);
        const y = where(cond, a!, b!);
        assertClose(y, refBroadcast([cond, a!, b!], (k, x, v) => (k !== 0 ? x : v)), 0);
        y.sum().backward();
        for (const x of [a!, b!]) {
          expect(x.grad!.shape).toEqual(x.shape);
          expect(values(x.grad).every((v) => v === 0)).toBe(true);
        }
      }),
      { numRuns: 20 },
    );
  });

  test('gradients: the unselected branch gets exactly zero, whatever flows in', () => {
    fc.assert(
      fc.property(tensorsOf({ requiresGrad: false }, {}, {}), fc.integer(), ([c, a, b], seed) => {
        const cond = mask(c!);
        const y = where(cond, a!, b!);
        // An upstream gradient with huge, infinite and NaN entries.
        const special = [1e300, Infinity, -Infinity, NaN];
        const g = new Tensor(Float64Array.from({ length: y.size }, (_, i) => (i % 3 === 0 ? special[(seed + i) & 3]! : i - 2.5)), y.shape);
        y.backward(g);
        const ref = whereGradRef(cond, a!, b!, g);
        assertClose(a!.grad!.data, ref.ga, 1e-12);
        assertClose(b!.grad!.data, ref.gb, 1e-12);
        ref.aHit.forEach((hit, i) => !hit && expect(Object.is(a!.grad!.data[i], 0)).toBe(true));
        ref.bHit.forEach((hit, i) => !hit && expect(Object.is(b!.grad!.data[i], 0)).toBe(true));
      }),
      { numRuns: 60 },
    );
  });

  test('gradients: NaN upstream at an unselected position leaves that branch an exact 0', () => {
    const a = grad64([1, 2]);
    const b = grad64([3, 4]);
    where(f64([1, 0]), a, b).backward(f64([NaN, Infinity]));
    expect(Number.isNaN(a.grad!.data[0]!)).toBe(true);
    expect(a.grad!.data[1]).toBe(0);
    expect(b.grad!.data[0]).toBe(0);
    expect(b.grad!.data[1]).toBe(Infinity);
  });

  describe('the "double where" trap documented in ops/where.ts', () => {
    test('a NaN or -Inf in the unselected branch does not reach the forward result', () => {
      const x = grad64([-1, 0, 2]);
      const y = where(x.gt(0), x.log(), 0);
      expect(values(x.log())).toEqual([NaN, -Infinity, Math.LN2]);
      expect(values(y)).toEqual([0, 0, Math.LN2]);
    });

    test('but the branch\'s own backward can still make NaN from the zero it receives (0 · Inf)', () => {
      const x = grad64([-1, 0, 2]);
      where(x.gt(0), x.log(), 0).sum().backward();
      // log's VJP is g / x: 0 / -1 is a harmless 0 (NaN in forward, finite derivative) ...
      expect(Math.abs(x.grad!.data[0]!)).toBe(0);
      // ... but at x = 0 the derivative is infinite, and 0 / 0 is NaN.
      expect(Number.isNaN(x.grad!.data[1]!)).toBe(true);
      expect(x.grad!.data[2]).toBe(0.5);

      // The same with an overflowing exp: forward Inf is discarded, backward 0 · Inf = NaN.
      const z = grad64([1000]);
      const out = where(f64([1]), 0, z.exp());
      expect(out.item()).toBe(0);
      out.sum().backward();
      expect(Number.isNaN(z.grad!.item())).toBe(true);
    });

    test('the documented fix, making the unselected branch safe, gives finite gradients (exactly 0 where unselected)', () => {
      const x = grad64([-1, 0, 2]);
      const y = where(x.gt(0), x.clamp(1e-12).log(), 0);
      expect(values(y)).toEqual([0, 0, Math.LN2]);
      y.sum().backward();
      expect(values(x.grad)).toEqual([0, 0, 0.5]);
    });
  });

  test('errors name where and the argument: non-Tensor condition or branch, dtype mix, bad broadcast', () => {
    const a = grad64([1, 2]);
    const b = tensor([1, 2], { requiresGrad: true });
    expect(() => where([1, 0] as unknown as Tensor, a, a)).toThrow(ArgumentError);
    expect(() => where([1, 0] as unknown as Tensor, a, a)).toThrow(/^where: condition must be a Tensor/);
    expect(() => where(f64([1, 0]), 'x' as unknown as Tensor, a)).toThrow(/^where: input must be a Tensor/);
    expect(() => where(f64([1, 0]), a, [3] as unknown as Tensor)).toThrow(/^where: other must be a Tensor/);
    expect(() => where(f64([1, 0]), 1, null as unknown as Tensor)).toThrow(/^where: other must be a Tensor, got null/);
    expect(() => where(f64([1, 0]), a, b)).toThrow(DTypeError);
    expect(() => where(f64([1, 0]), a, b)).toThrow(/^where: .*\[2\] float64.*\[2\] float32/);
    expect(() => where(f64([1, 0, 1]), a, a)).toThrow(ShapeError);
    expect(() => where(f64([1, 0, 1]), a, a)).toThrow('where: condition [3], input [2] and other [2] cannot be broadcast together');
    // Every operand's own shape, not the [2,3] that condition and input broadcast to.
    expect(() => where(f64([1, 0], [2, 1]), grad64([1, 2, 3]), grad64([1, 2, 3, 4]))).toThrow(
      'where: condition [2,1], input [3] and other [4] cannot be broadcast together',
    );
    expect(values(a)).toEqual([1, 2]);
    expect(a.grad).toBeNull();
    expect(b.grad).toBeNull();
  });
});

describe('where(condition): the indices of the non-zero elements (torch.where with one argument)', () => {
  test('one int32 tensor per axis, row-major, as nonzero(condition, { asTuple: true }); NaN counts as non-zero', () => {
    const [rows, cols] = where(f64([[0, 1], [NaN, 0]]));
    expect(rows!.dtype).toBe('int32');
    expect(values(rows!)).toEqual([0, 1]);
    expect(values(cols!)).toEqual([1, 0]);
    expect(where(tensor(true)).map(values)).toEqual([[0]]); // a 0-d condition is taken as 1-D, as PyTorch
    expect(where(f64(0)).map((t) => t.shape)).toEqual([[0]]);
    expect(where(tensor(new Float64Array(0), { shape: [0, 3] })).map((t) => t.shape)).toEqual([[0], [0]]);
    expect(where(tensor([1, 0, 2], { dtype: 'int32' })).map(values)).toEqual([[0, 2]]);
  });

  test('equals nonzero over random shapes and masks', () => {
    fc.assert(
      fc.property(tensorArb([3, 4], { requiresGrad: false }), fc.nat(3), (x, rank) => {
        const shape = [[12], [3, 4], [2, 3, 2], [3, 2, 1, 2]][rank]!;
        const mask = x.reshape(shape).gt(0.5);
        const got = where(mask);
        const want = nonzero(mask, { asTuple: true });
        expect(got.length).toBe(shape.length);
        got.forEach((g, d) => expect(values(g)).toEqual(values(want[d]!)));
      }),
      { numRuns: 30 },
    );
  });

  test('cannot be traced by jit nor batched by vmap: errors naming where; one branch alone is an error', () => {
    const x = f64([1, -1, 2]);
    expect(() => jit((v: Tensor) => where(v.gt(0))[0]!)(x)).toThrow(TraceError);
    expect(() => jit((v: Tensor) => where(v.gt(0))[0]!)(x)).toThrow(/^jit: where\(condition\) with the condition alone \(bool \[3\]\) gives indices whose length depends on the values/);
    expect(() => vmap((v: Tensor) => where(v.gt(0))[0]!)(f64([[1, -1], [2, 3]]))).toThrow(ArgumentError);
    expect(() => vmap((v: Tensor) => where(v.gt(0))[0]!)(f64([[1, -1], [2, 3]]))).toThrow(/^vmap: 'where' has no batching rule with the condition alone/);
    expect(() => (where as unknown as (c: Tensor, a: Tensor) => Tensor)(x.gt(0), x)).toThrow(/^where: give both input and other, or neither \(got input alone, condition bool \[3\]\)/);
    // The three-argument form still traces and batches.
    expect(values(jit((v: Tensor) => where(v.gt(0), v, 0))(x))).toEqual([1, 0, 2]);
  });
});
