import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, DTypeError, ShapeError, Tensor, chunk, concat, diag, diagEmbed, diagonal, flip, formatGradcheckReport, gradcheck,
  gradgradcheck, meshgrid, movedim, pad, repeat, repeatInterleave, roll, split, stack, tensor, tile, trace, tril, triu, unbind,
  type PadMode,
} from '@chainrule/autograd';
import { assertClose, seededTensor, shapeArb } from '@chainrule/autograd/testing';
import { concatRef, permuteRef, sliceRef, type Ref } from './helpers/reduce-reference.js';
import { diagEmbedRef, diagonalRef, linesRef, padLine, rotateLine, triangleRef } from './helpers/rearrange-reference.js';
import { messageOf, size } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

const pos = (axis: number, ndim: number): number => (axis < 0 ? axis + Math.max(ndim, 1) : axis);

/** A float64 tensor requiring grad of a random shape (dims 0..3, rank minRank..maxRank) with params drawn for that shape. */
function caseArb<P>(params: (shape: number[]) => fc.Arbitrary<P>, minRank = 0, maxRank = 3, minDim = 0): fc.Arbitrary<{ x: Tensor; p: P }> {
  return shapeArb({ minRank, maxRank, minDim, maxDim: 3 }).chain((shape) =>
    fc.record({ seed: fc.noShrink(fc.integer()), p: params(shape) }).map(({ seed, p }) => ({ x: seededTensor(shape, seed), p })),
  );
}

/**
 * The checks every rearrangement gets over random shapes (zero-size and 0-d included where the
 * op takes them): forward equal to the plain-loop reference (exactly: elements only move), the
 * float32 result the float32 rounding of it (within `rtol32` for an op that also adds), gradcheck
 * and gradgradcheck in float64.
 */
function checkRearrangement<P>(arb: fc.Arbitrary<{ x: Tensor; p: P }>, op: (x: Tensor, p: P) => Tensor, ref: (x: Tensor, p: P) => Ref, runs = 40, rtol32 = 0): void {
  fc.assert(
    fc.property(arb, ({ x, p }) => {
      const want = ref(x, p);
      assertClose(op(x, p), want, 0, 0);
      const x32 = new Tensor(Float32Array.from(x.data), x.shape);
      const y32 = op(x32, p);
      expect(y32.dtype).toBe('float32');
      assertClose(y32, { data: Float32Array.from(want.data), shape: want.shape }, rtol32, rtol32);
    }),
    { numRuns: runs },
  );
  fc.assert(
    fc.property(arb, ({ x, p }) => {
      for (const check of [gradcheck, (f: (t: Tensor) => Tensor, xs: Tensor[]) => gradgradcheck(f, xs)]) {
        const report = check((t: Tensor) => op(t, p), [x]);
        if (!report.ok) throw new Error(`shape ${JSON.stringify(x.shape)}, params ${JSON.stringify(p)}: ${formatGradcheckReport(report)}`);
      }
    }),
    { numRuns: Math.ceil(runs / 3) },
  );
}

/** Runs `fn`, expects it to throw `type` with a message matching `pattern`, and x's values to be unchanged. */
function expectRefusal(x: Tensor, fn: () => unknown, type: new (...args: never[]) => Error, pattern: RegExp): void {
  const before = Array.from(x.data);
  expect(fn).toThrow(type);
  expect(messageOf(fn)).toMatch(pattern);
  expect(Array.from(x.data)).toEqual(before);
}

const iota = (shape: number[]): Tensor => tensor(Array.from({ length: size(shape) }, (_, i) => i), { dtype: 'float64', shape, requiresGrad: true });

describe('flip', () => {
  it('reverses the listed axes', () => {
    const x = iota([2, 3]);
    expect(x.flip(1).toArray()).toEqual([[2, 1, 0], [5, 4, 3]]);
    expect(flip(x, [0, -1]).toArray()).toEqual([[5, 4, 3], [2, 1, 0]]);
    expect(x.flip([]).toArray()).toEqual(x.toArray());
    expect(grad64(5).flip(0).item()).toBe(5);
    x.flip(1).backward(f64([[1, 2, 3], [4, 5, 6]]));
    expect(x.grad!.toArray()).toEqual([[3, 2, 1], [6, 5, 4]]);
  });

  it('matches a plain-loop reference; gradcheck and gradgradcheck pass', () => {
    const axesArb = (shape: number[]): fc.Arbitrary<number[]> =>
      fc.shuffledSubarray(shape.map((_, i) => i)).chain((axes) => fc.constant(axes.map((a, i) => (i % 2 === 1 ? a - shape.length : a))));
    checkRearrangement(caseArb(axesArb), (x, axes) => x.flip(axes), (x, axes) =>
      axes.reduce<Ref>((r, a) => linesRef(r, pos(a, x.ndim), (l) => [...l].reverse()), { data: Array.from(x.data), shape: [...x.shape] }));
  });

  it('refuses a repeated or out-of-range axis, naming the op', () => {
    const x = iota([2, 2]);
    expectRefusal(x, () => x.flip([0, -2]), ShapeError, /^flip: axis 0 appears more than once in \[0,-2\]/);
    expectRefusal(x, () => x.flip(2), ShapeError, /^flip: axis 2 is out of range for a tensor with 2 dimension/);
  });
});

describe('roll', () => {
  it('shifts with wrap-around, flattened without dims', () => {
    const x = iota([3, 4]);
    expect(x.roll(1).toArray()).toEqual([[11, 0, 1, 2], [3, 4, 5, 6], [7, 8, 9, 10]]);
    expect(roll(x, [1, -1], [0, 1]).toArray()).toEqual([[9, 10, 11, 8], [1, 2, 3, 0], [5, 6, 7, 4]]);
    expect(x.roll([1, 1], [0, 0]).toArray()).toEqual(x.roll(2, 0).toArray());
    expect(x.roll(13, 1).toArray()).toEqual(x.roll(1, 1).toArray());
    expect(grad64(5).roll(3).item()).toBe(5);
    expect(tensor(new Float64Array(0), { shape: [0, 2] }).roll(1, 0).shape).toEqual([0, 2]);
  });

  it('matches a plain-loop reference; gradcheck and gradgradcheck pass', () => {
    const params = (shape: number[]): fc.Arbitrary<{ shifts: number[]; dims?: number[] }> =>
      fc.oneof(
        fc.integer({ min: -7, max: 7 }).map((s) => ({ shifts: [s] })),
        shape.length === 0
          ? fc.constant<{ shifts: number[]; dims?: number[] }>({ shifts: [1] })
          : fc.array(fc.tuple(fc.integer({ min: -7, max: 7 }), fc.integer({ min: -shape.length, max: shape.length - 1 })), { minLength: 1, maxLength: 3 })
            .map((pairs) => ({ shifts: pairs.map((q) => q[0]), dims: pairs.map((q) => q[1]) })),
      );
    checkRearrangement(caseArb(params), (x, p) => x.roll(p.shifts, p.dims), (x, p) => {
      if (p.dims === undefined) {
        const r = linesRef({ data: Array.from(x.data), shape: [x.size] }, 0, (l) => rotateLine(l, p.shifts[0]!));
        return { data: r.data, shape: [...x.shape] };
      }
      if (x.ndim === 0) return { data: Array.from(x.data), shape: [] };
      return p.dims.reduce<Ref>((r, d, k) => linesRef(r, pos(d, x.ndim), (l) => rotateLine(l, p.shifts[k]!)), { data: Array.from(x.data), shape: [...x.shape] });
    });
  });

  it('refuses mismatched shifts and dims and non-integer shifts', () => {
    const x = iota([2, 2]);
    expectRefusal(x, () => x.roll([1, 2]), ArgumentError, /^roll: without dims, give one shift/);
    expectRefusal(x, () => x.roll([1, 2], [0]), ArgumentError, /^roll: 2 shift\(s\) \[1,2\] for 1 dim\(s\) \[0\]/);
    expectRefusal(x, () => x.roll(0.5, 0), ArgumentError, /^roll: shifts must be integers/);
    expectRefusal(x, () => x.roll(1, 3), ShapeError, /^roll: axis 3 is out of range/);
  });
});

describe('pad', () => {
  it('pads the last axes, last axis first, in each mode (values from PyTorch)', () => {
    const x = iota([1, 3, 4]);
    expect(pad(x, [2, 1], { mode: 'reflect' }).toArray()).toEqual([[[2, 1, 0, 1, 2, 3, 2], [6, 5, 4, 5, 6, 7, 6], [10, 9, 8, 9, 10, 11, 10]]]);
    expect(pad(x, [-1, 1], { mode: 'reflect' }).toArray()).toEqual([[[1, 2, 3, 2], [5, 6, 7, 6], [9, 10, 11, 10]]]);
    expect(pad(x, [-1, 1], { mode: 'circular' }).toArray()).toEqual([[[1, 2, 3, 1], [5, 6, 7, 5], [9, 10, 11, 9]]]);
    expect(pad(iota([4]), [1, -1], { mode: 'circular' }).toArray()).toEqual([2, 0, 1, 2]);
    expect(pad(x, [-1, 1], { mode: 'replicate' }).toArray()).toEqual([[[1, 2, 3, 3], [5, 6, 7, 7], [9, 10, 11, 11]]]);
    expect((pad(x, [4, 0], { mode: 'circular' }).toArray() as number[][][])[0]).toEqual([[0, 1, 2, 3, 0, 1, 2, 3], [4, 5, 6, 7, 4, 5, 6, 7], [8, 9, 10, 11, 8, 9, 10, 11]]);
    expect(pad(iota([1, 2]), [1, 1, 1, 0], { value: 9 }).toArray()).toEqual([[9, 9, 9, 9], [9, 0, 1, 9]]);
    expect(pad(iota([4]), [-3, -1]).shape).toEqual([0]);
    const y = iota([3]);
    y.pad([2, 2], { mode: 'replicate' }).backward(f64([1, 2, 3, 4, 5, 6, 7]));
    expect(y.grad!.toArray()).toEqual([6, 4, 18]);
  });

  it('matches a plain-loop reference in every mode; gradcheck and gradgradcheck pass', () => {
    const params = (shape: number[]): fc.Arbitrary<{ padding: number[]; mode: PadMode; value?: number }> =>
      fc.constantFrom<PadMode>('constant', 'reflect', 'replicate', 'circular').chain((mode) =>
        fc.integer({ min: 0, max: shape.length }).chain((k) => {
          // Amounts each mode accepts for the padded axes (last first).
          const amount = (n: number): fc.Arbitrary<number> =>
            mode === 'constant' ? fc.integer({ min: -n, max: 3 }) :
            mode === 'reflect' ? fc.integer({ min: -Math.max(n - 1, 0), max: Math.max(n - 1, 0) }) :
            mode === 'circular' ? fc.integer({ min: -n, max: n }) :
            n === 0 ? fc.constant(0) : fc.integer({ min: -n, max: 3 });
          const axes = Array.from({ length: k }, (_, i) => shape[shape.length - 1 - i]!);
          const fits = (n: number, b: number, a: number): boolean =>
            n + b + a >= 0 && (mode !== 'circular' || Math.max(b, a) <= n - Math.max(-b, 0) - Math.max(-a, 0));
          return fc.tuple(...axes.map((n) => fc.tuple(amount(n), amount(n)).filter(([b, a]) => fits(n, b, a))))
            .map((pairs) => pairs.flat())
            .chain((padding) => (mode === 'constant' ? fc.option(fc.constantFrom(0.5, -2), { nil: undefined }) : fc.constant(undefined)).map((value) => ({ padding, mode, ...(value === undefined ? {} : { value }) })));
        }),
      );
    checkRearrangement(caseArb(params, 1), (x, p) => x.pad(p.padding, { mode: p.mode, ...(p.value === undefined ? {} : { value: p.value }) }), (x, p) => {
      let r: Ref = { data: Array.from(x.data), shape: [...x.shape] };
      for (let k = 0; k < p.padding.length / 2; k++) r = linesRef(r, x.ndim - 1 - k, (l) => padLine(l, p.padding[2 * k]!, p.padding[2 * k + 1]!, p.mode, p.value ?? 0));
      return r;
    }, 60);
  });

  it('refuses what does not fit the mode, naming the op, axis and shape', () => {
    const x = iota([2, 3]);
    expectRefusal(x, () => x.pad([1]), ArgumentError, /^pad: padding \[1\] must hold a \(before, after\) pair for each of at most 2 last axes of a tensor of shape \[2,3\]/);
    expectRefusal(x, () => x.pad([1, 1, 1, 1, 1, 1]), ArgumentError, /^pad: padding/);
    expectRefusal(x, () => x.pad([3, 0], { mode: 'reflect' }), ShapeError, /^pad: padding \(3, 0\) of axis 1 of shape \[2,3\] needs amounts below the axis size 3 in reflect mode/);
    expectRefusal(x, () => x.pad([4, 0], { mode: 'circular' }), ShapeError, /^pad: padding \(4, 0\) of axis 1 of shape \[2,3\] may not exceed the 3 element\(s\) left after cropping/);
    expectRefusal(x, () => x.pad([2, -2], { mode: 'circular' }), ShapeError, /^pad: padding \(2, -2\) of axis 1 of shape \[2,3\] may not exceed the 1 element\(s\) left/);
    expectRefusal(x, () => x.pad([-2, -2]), ShapeError, /^pad: padding \(-2, -2\) of axis 1 of shape \[2,3\] leaves a negative size/);
    expectRefusal(x, () => x.pad([1, 1], { mode: 'reflect', value: 1 }), ArgumentError, /^pad: mode 'reflect' takes no value/);
    expectRefusal(x, () => x.pad([1, 1], { mode: 'wrap' as PadMode }), ArgumentError, /^pad: unknown mode 'wrap'/);
    expectRefusal(x, () => x.pad([0.5, 1]), ArgumentError, /^pad: padding must be integers/);
    const empty = tensor(new Float64Array(0), { shape: [2, 0] });
    expect(() => empty.pad([1, 0], { mode: 'replicate' })).toThrow(/^pad: padding \(1, 0\) of axis 1 of shape \[2,0\] has no edge element/);
  });
});

describe('repeat and tile', () => {
  it('tile as PyTorch: repeat needs a repeat per axis, tile pads with leading 1s', () => {
    const x = iota([2, 3]);
    expect(x.repeat(2, 1, 2).shape).toEqual([2, 2, 6]);
    expect(x.repeat([1, 2]).toArray()).toEqual([[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]]);
    expect(x.tile(2).toArray()).toEqual([[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]]);
    expect(tile(x, [2, 1]).toArray()).toEqual([[0, 1, 2], [3, 4, 5], [0, 1, 2], [3, 4, 5]]);
    expect(grad64(2).tile([]).item()).toBe(2);
    expect(repeat(grad64(2), [3]).toArray()).toEqual([2, 2, 2]);
    expect(x.repeat(0, 1).shape).toEqual([0, 3]);
    const y = iota([2]);
    y.repeat(3).backward(f64([1, 2, 3, 4, 5, 6]));
    expect(y.grad!.toArray()).toEqual([9, 12]);
  });

  it('match a plain-loop reference; gradcheck and gradgradcheck pass', () => {
    const reps = (shape: number[]): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 0, max: 3 }), { minLength: shape.length, maxLength: shape.length + 2 });
    const tileRef = (x: Tensor, r: number[]): Ref => {
      let t: Ref = { data: Array.from(x.data), shape: [...new Array<number>(r.length - x.ndim).fill(1), ...x.shape] };
      r.forEach((k, d) => (t = linesRef(t, d, (l) => Array.from({ length: k }, () => l).flat())));
      return t;
    };
    checkRearrangement(caseArb(reps), (x, r) => x.repeat(r), tileRef);
    const tileReps = (): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 });
    checkRearrangement(caseArb(tileReps), (x, r) => x.tile(r), (x, r) => tileRef(x, [...new Array<number>(Math.max(0, x.ndim - r.length)).fill(1), ...r]), 20);
  });

  it('refuse too few or negative repeats', () => {
    const x = iota([2, 3]);
    expectRefusal(x, () => x.repeat(2), ArgumentError, /^repeat: 1 repeat\(s\) \[2\] for a tensor of shape \[2,3\]; give at least one per axis/);
    expectRefusal(x, () => x.repeat(1, -1), ArgumentError, /^repeat: repeats must be non-negative integers, got \[1,-1\]/);
    expectRefusal(x, () => x.tile(1.5), ArgumentError, /^tile: reps must be non-negative integers/);
  });
});

describe('repeatInterleave', () => {
  it('repeats each element in place, by one count or one per element (values from PyTorch)', () => {
    const x = iota([3]);
    expect(x.repeatInterleave(tensor([1, 0, 2], { dtype: 'int32' })).toArray()).toEqual([0, 2, 2]);
    expect(x.repeatInterleave([2]).toArray()).toEqual([0, 0, 1, 1, 2, 2]);
    expect(grad64(5).repeatInterleave(3).toArray()).toEqual([5, 5, 5]);
    expect(iota([2, 2]).repeatInterleave(2).toArray()).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(repeatInterleave(iota([2, 2]), [1, 2], 0).toArray()).toEqual([[0, 1], [2, 3], [2, 3]]);
    // torch.repeat_interleave(tensor([2, 0, 1])) = [0, 0, 2]: the counts alone repeat the positions.
    const alone = repeatInterleave(tensor([2, 0, 1], { dtype: 'int32' }));
    expect([alone.dtype, alone.toArray()]).toEqual(['int32', [0, 0, 2]]);
    expect(() => repeatInterleave(tensor(3, { dtype: 'int32' }))).toThrow('repeatInterleave: the counts alone must be a 1-D int32 tensor, got int32 of shape []');
    expect(() => repeatInterleave(tensor([2, 1]))).toThrow(/^repeatInterleave: repeats must be a number, an array or a 1-D int32 tensor, got float32/);
    expect(() => repeatInterleave(tensor([2, -1], { dtype: 'int32' }))).toThrow(/^repeatInterleave: /);
    const y = iota([2]);
    y.repeatInterleave([3, 1]).backward(f64([1, 2, 3, 4]));
    expect(y.grad!.toArray()).toEqual([6, 4]);
  });

  it('matches a plain-loop reference; gradcheck and gradgradcheck pass', () => {
    const params = (shape: number[]): fc.Arbitrary<{ counts: number[]; dim?: number }> =>
      shape.length === 0
        ? fc.integer({ min: 0, max: 3 }).map((c) => ({ counts: [c] }))
        : fc.integer({ min: -shape.length, max: shape.length - 1 }).chain((dim) => {
          const n = shape[pos(dim, shape.length)]!;
          return fc.oneof(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 1 }))
            .map((counts) => ({ counts, dim }));
        });
    checkRearrangement(caseArb(params), (x, p) => x.repeatInterleave(p.counts, p.dim), (x, p) => {
      const flat = p.dim === undefined || x.ndim === 0;
      const r: Ref = flat ? { data: Array.from(x.data), shape: [x.size] } : { data: Array.from(x.data), shape: [...x.shape] };
      return linesRef(r, flat ? 0 : pos(p.dim!, x.ndim), (l) => l.flatMap((v, i) => new Array<number>(p.counts.length === 1 ? p.counts[0]! : p.counts[i]!).fill(v)));
    });
  });

  it('refuses counts that are not one per element or not non-negative integers', () => {
    const x = iota([2, 3]);
    expectRefusal(x, () => x.repeatInterleave([1, 2], 1), ArgumentError, /^repeatInterleave: 2 repeats for 3 elements along axis 1 of shape \[2,3\]/);
    expectRefusal(x, () => x.repeatInterleave(-1), ArgumentError, /^repeatInterleave: repeats must be non-negative integers/);
    expectRefusal(x, () => x.repeatInterleave(tensor([[1]], { dtype: 'int32' })), ArgumentError, /^repeatInterleave: repeats must be a number, an array or a 1-D int32 tensor, got int32 of shape \[1,1\]/);
    expectRefusal(x, () => x.repeatInterleave(tensor([1, 2, 1])), DTypeError, /^repeatInterleave: repeats must be .* got float32 of shape \[3\]/);
    expectRefusal(x, () => x.repeatInterleave(1, 2), ShapeError, /^repeatInterleave: axis 2 is out of range/);
  });
});

describe('split, chunk and unbind', () => {
  it('cut as PyTorch does (values from PyTorch)', () => {
    const x = iota([5]);
    expect(x.split(2).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4]]);
    expect(split(x, [1, 0, 4]).map((t) => t.shape)).toEqual([[1], [0], [4]]);
    expect(x.chunk(3).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4]]);
    expect(iota([6]).chunk(4).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(tensor(new Float64Array(0), { shape: [0] }).chunk(3).length).toBe(3);
    expect(tensor(new Float64Array(0), { shape: [0] }).split(2).length).toBe(1);
    expect(tensor(new Float64Array(0), { shape: [0] }).split(0).length).toBe(1);
    expect(unbind(iota([2, 3]), 1).map((t) => t.toArray())).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(chunk(iota([2, 3]), 2, -1).map((t) => t.shape)).toEqual([[2, 2], [2, 1]]);
  });

  it('each piece equals the slice it stands for, and the pieces join back; gradients reach each part', () => {
    const arb = caseArb((shape) => fc.record({ dim: fc.integer({ min: -shape.length, max: shape.length - 1 }), size: fc.integer({ min: 1, max: 4 }), chunks: fc.integer({ min: 1, max: 4 }) }), 1);
    fc.assert(
      fc.property(arb, ({ x, p }) => {
        const ax = pos(p.dim, x.ndim);
        const n = x.shape[ax]!;
        for (const pieces of [x.split(p.size, p.dim), x.chunk(p.chunks, p.dim)]) {
          let at = 0;
          for (const piece of pieces) {
            const len = piece.shape[ax]!;
            assertClose(piece, sliceRef(x.data, x.shape, ax, at, at + len), 0, 0);
            at += len;
          }
          expect(at).toBe(n);
          if (n > 0) assertClose(concat(pieces, p.dim), x, 0, 0);
        }
        const rows = x.unbind(p.dim);
        expect(rows.length).toBe(n);
        rows.forEach((r, i) => assertClose(r, { data: sliceRef(x.data, x.shape, ax, i, i + 1).data, shape: x.shape.filter((_, d) => d !== ax) }, 0, 0));
        // Weighted so that a gradient sent to the wrong piece shows.
        const weighted = (t: Tensor): Tensor => stack(t.split(p.size, p.dim).map((q, i) => q.mul(i + 1).sum()));
        const unbound = (t: Tensor): Tensor => stack([...t.unbind(p.dim).map((q, i) => q.mul(i + 1).sum()), t.sum()]);
        for (const f of [weighted, unbound]) {
          for (const report of [gradcheck(f, [x]), gradgradcheck(f, [x])]) if (!report.ok) throw new Error(formatGradcheckReport(report));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('many pieces (cut from halves of halves when recording) keep their values and gradients', () => {
    const x = seededTensor([11, 2], 5);
    const rows = x.unbind(0);
    rows.forEach((r, i) => assertClose(r, { data: Array.from(x.data.slice(2 * i, 2 * i + 2)), shape: [2] }, 0, 0));
    const sizes = [1, 0, 3, 2, 0, 1, 1, 3];
    const weighted = (t: Tensor): Tensor => stack([...t.unbind(0).map((q, i) => q.mul(i + 1).sum()), ...t.split(sizes, 0).map((q, i) => q.mul(-i).sum())]);
    for (const report of [gradcheck(weighted, [x]), gradgradcheck(weighted, [x])]) if (!report.ok) throw new Error(formatGradcheckReport(report));
    const pieces = x.split(sizes, 0);
    expect(pieces.map((p) => p.shape[0])).toEqual(sizes);
    assertClose(concat(pieces, 0), x, 0, 0);
  });

  it('refuse sizes that do not add up, a zero size for a non-empty axis, and 0-d tensors', () => {
    const x = iota([5]);
    expectRefusal(x, () => x.split([2, 2]), ArgumentError, /^split: sizes \[2,2\] add up to 4, not to the 5 elements of axis 0 of shape \[5\]/);
    expectRefusal(x, () => x.split(0), ArgumentError, /^split: a split size of 0 needs an empty axis/);
    expectRefusal(x, () => x.split(-1), ArgumentError, /^split: sizes must be non-negative integers/);
    expectRefusal(x, () => x.chunk(0), ArgumentError, /^chunk: chunks must be a positive integer, got 0/);
    expect(() => grad64(1).unbind()).toThrow(/^unbind: a 0-d tensor has no axis to cut along/);
    expect(() => grad64(1).split(1)).toThrow(ShapeError);
  });
});

describe('tril and triu', () => {
  it('keep one side of a diagonal of each matrix of a batch', () => {
    const x = iota([3, 4]);
    expect(x.tril().toArray()).toEqual([[0, 0, 0, 0], [4, 5, 0, 0], [8, 9, 10, 0]]);
    expect(x.triu(1).toArray()).toEqual([[0, 1, 2, 3], [0, 0, 6, 7], [0, 0, 0, 11]]);
    expect(tril(x, -1).toArray()).toEqual([[0, 0, 0, 0], [4, 0, 0, 0], [8, 9, 0, 0]]);
    expect(triu(iota([2, 2, 2])).toArray()).toEqual([[[0, 1], [0, 3]], [[4, 5], [0, 7]]]);
    // Masked elements are exactly 0 even where the input is infinite (no 0·Inf).
    expect(tensor([[Infinity, Infinity], [NaN, 1]]).triu().toArray()).toEqual([[Infinity, Infinity], [0, 1]]);
  });

  it('match a plain-loop reference; gradcheck and gradgradcheck pass', () => {
    const k = (): fc.Arbitrary<number> => fc.integer({ min: -4, max: 4 });
    checkRearrangement(caseArb(k, 2, 4), (x, d) => x.tril(d), (x, d) => triangleRef(x, (c) => c <= d));
    checkRearrangement(caseArb(k, 2, 4), (x, d) => x.triu(d), (x, d) => triangleRef(x, (c) => c >= d));
  });

  it('refuse fewer than 2 dimensions and a non-integer diagonal', () => {
    const v = iota([3]);
    expectRefusal(v, () => v.tril(), ShapeError, /^tril: input must have at least 2 dimensions \(a batch of matrices\), got shape \[3\]/);
    expectRefusal(v, () => iota([2, 2]).triu(0.5), ArgumentError, /^triu: diagonal must be an integer, got 0.5/);
  });
});

describe('diag, diagonal, diagEmbed and trace', () => {
  it('hand-computed cases (values from PyTorch)', () => {
    expect(diag(iota([3]), -1).toArray()).toEqual([[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0]]);
    expect(iota([2, 3]).diag(1).toArray()).toEqual([1, 5]);
    expect(iota([2, 3]).diag(5).shape).toEqual([0]);
    expect(diagonal(iota([2, 3, 4]), 1, 0, 2).toArray()).toEqual([[1, 14], [5, 18], [9, 22]]);
    expect(diagEmbed(iota([2, 3]), 1, 0, 2).shape).toEqual([4, 2, 4]);
    expect(diagEmbed(grad64([1, 2])).toArray()).toEqual([[1, 0], [0, 2]]);
    expect(trace(iota([2, 3])).item()).toBe(4);
    const x = iota([3, 3]);
    x.trace().backward();
    expect(x.grad!.toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  });

  it('match plain-loop references; gradcheck and gradgradcheck pass', () => {
    const twoAxes = (shape: number[]): fc.Arbitrary<{ offset: number; a: number; b: number }> =>
      fc.tuple(fc.integer({ min: -4, max: 4 }), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: 2, maxLength: 2 }), fc.boolean())
        .map(([offset, [a, b], negative]) => ({ offset, a: negative ? a! - shape.length : a!, b: b! }));
    checkRearrangement(caseArb(twoAxes, 2, 4), (x, p) => x.diagonal(p.offset, p.a, p.b), (x, p) => diagonalRef(x, p.offset, pos(p.a, x.ndim), p.b));
    const embedAxes = (shape: number[]): fc.Arbitrary<{ offset: number; a: number; b: number }> => twoAxes([...shape, 0]);
    checkRearrangement(caseArb(embedAxes, 1, 3), (x, p) => x.diagEmbed(p.offset, p.a, p.b), (x, p) => diagEmbedRef(x, p.offset, pos(p.a, x.ndim + 1), p.b));
    checkRearrangement(caseArb(() => fc.integer({ min: -3, max: 3 }), 1, 2), (x, k) => x.diag(k), (x, k) =>
      x.ndim === 2 ? diagonalRef(x, k, 0, 1) : diagEmbedRef(x, k, 0, 1), 30);
    checkRearrangement(caseArb(() => fc.constant(0), 2, 2), (x) => x.trace(), (x) => {
      const d = diagonalRef(x, 0, 0, 1).data;
      return { data: [d.reduce((s, v) => s + v, 0)], shape: [] };
    }, 20, 1e-6);
  });

  it('refuse wrong ranks and equal axes', () => {
    const x = iota([2, 3, 4]);
    expectRefusal(x, () => x.diag(), ShapeError, /^diag: input must be 1-D or 2-D, got shape \[2,3,4\]/);
    expectRefusal(x, () => x.diagonal(0, 1, -2), ShapeError, /^diagonal: dim1 and dim2 are both axis 1 of shape \[2,3,4\]; they must differ/);
    expectRefusal(x, () => x.trace(), ShapeError, /^trace: input must be 2-D, got shape \[2,3,4\]/);
    expectRefusal(x, () => grad64(1).diagEmbed(), ShapeError, /^diagEmbed: input must have at least 1 dimension/);
    expectRefusal(x, () => x.diagEmbed(0, 0, 4), ShapeError, /^diagEmbed: axis 4 is out of range/);
    expectRefusal(x, () => iota([3]).diagonal(), ShapeError, /^diagonal: input must have at least 2 dimensions/);
  });
});

describe('movedim and meshgrid', () => {
  it('movedim moves the listed axes and keeps the others in order (shapes from PyTorch)', () => {
    const x = iota([2, 3, 4]);
    expect(movedim(x, [0, 1], [2, 0]).shape).toEqual([3, 4, 2]);
    expect(x.movedim(0, -1).shape).toEqual([3, 4, 2]);
    expect(x.movedim(-1, 0).toArray()).toEqual(x.permute(2, 0, 1).toArray());
    const perms = shapeArb({ minRank: 1, maxRank: 4, maxDim: 2 }).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.shuffledSubarray(shape.map((_, i) => i)), fc.shuffledSubarray(shape.map((_, i) => i)), fc.noShrink(fc.integer())));
    fc.assert(
      fc.property(perms, ([shape, src, dstAll, seed]) => {
        const dst = dstAll.slice(0, src.length);
        if (dst.length < src.length) return;
        const t = seededTensor(shape, seed);
        // PyTorch's definition: the moved axes land at their destinations, the rest fill the gaps in order.
        const perm = new Array<number>(shape.length).fill(-1);
        src.forEach((s, i) => (perm[dst[i]!] = s));
        const rest = shape.map((_, i) => i).filter((i) => !src.includes(i));
        for (let d = 0; d < perm.length; d++) if (perm[d] === -1) perm[d] = rest.shift()!;
        assertClose(t.movedim(src, dst), permuteRef(t.data, t.shape, perm), 0, 0);
        const report = gradgradcheck((u) => u.movedim(src, dst), [t]);
        if (!report.ok) throw new Error(formatGradcheckReport(report));
      }),
      { numRuns: 30 },
    );
    expectRefusal(x, () => x.movedim([0, 1], [2]), ShapeError, /^movedim: 2 source axes \[0,1\] for 1 destination axes \[2\]/);
    expectRefusal(x, () => x.movedim([0, 0], [1, 2]), ShapeError, /^movedim: axis 0 appears more than once/);
  });

  it('meshgrid gives coordinate grids in ij and xy indexing (shapes from PyTorch)', () => {
    const [a, b, c] = [iota([2]), iota([3]), iota([4])];
    expect(meshgrid([a, b, c], { indexing: 'xy' })[0]!.shape).toEqual([3, 2, 4]);
    expect(meshgrid([grad64(1), b])[0]!.shape).toEqual([1, 3]);
    const [gx, gy] = meshgrid([f64([1, 2]), f64([3, 4, 5])], { indexing: 'xy' });
    expect(gx!.toArray()).toEqual([[1, 2], [1, 2], [1, 2]]);
    expect(gy!.toArray()).toEqual([[3, 3], [4, 4], [5, 5]]);
    const [ix, iy] = meshgrid([f64([1, 2]), f64([3, 4, 5])]);
    expect(ix!.toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(iy!.toArray()).toEqual([[3, 4, 5], [3, 4, 5]]);
    const lens = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(lens, fc.constantFrom<'ij' | 'xy'>('ij', 'xy'), fc.noShrink(fc.integer()), (ns, indexing, seed) => {
        const ts = ns.map((n, i) => seededTensor([n], seed + i));
        const grids = meshgrid(ts, { indexing });
        const order = indexing === 'xy' && ns.length > 1 ? [1, 0, ...ns.slice(2).map((_, i) => i + 2)] : ns.map((_, i) => i);
        const shape = order.map((k) => ns[k]!);
        grids.forEach((g, k) => {
          const axis = order.indexOf(k);
          const want: number[] = [];
          for (let flat = 0; flat < size(shape); flat++) {
            let rem = flat;
            const index = new Array<number>(shape.length);
            for (let d = shape.length - 1; d >= 0; d--) {
              index[d] = rem % shape[d]!;
              rem = Math.floor(rem / shape[d]!);
            }
            want.push(ts[k]!.data[index[axis]!]!);
          }
          assertClose(g, { data: want, shape }, 0, 0);
        });
        const f = (...xs: Tensor[]): Tensor => stack(meshgrid(xs, { indexing }).map((g, i) => g.mul(i + 1).sum()));
        for (const report of [gradcheck(f, ts), gradgradcheck(f, ts)]) if (!report.ok) throw new Error(formatGradcheckReport(report));
      }),
      { numRuns: 20 },
    );
    expect(() => meshgrid([])).toThrow(/^meshgrid: needs a non-empty array of tensors/);
    expect(() => meshgrid([iota([2, 2])])).toThrow(/^meshgrid: every tensor must be 0-d or 1-D, got shapes \[2,2\]/);
    expect(() => meshgrid([a, tensor([1])])).toThrow(DTypeError);
    expect(() => meshgrid([a], { indexing: 'yx' as 'xy' })).toThrow(/^meshgrid: indexing must be 'ij' or 'xy'/);
  });
});

describe('strided slice', () => {
  it('takes every step-th element; step 1 is the plain slice', () => {
    const x = iota([7]);
    expect(x.slice(0, 0, undefined, 3).toArray()).toEqual([0, 3, 6]);
    expect(x.slice(0, 1, -1, 2).toArray()).toEqual([1, 3, 5]);
    expect(x.slice(0, -2, undefined, 5).toArray()).toEqual([5]);
    expect(x.slice(0, 5, 2, 2).shape).toEqual([0]);
    const m = iota([2, 5]);
    m.slice(1, 0, 5, 2).backward(f64([[1, 2, 3], [4, 5, 6]]));
    expect(m.grad!.toArray()).toEqual([[1, 0, 2, 0, 3], [4, 0, 5, 0, 6]]);
  });

  it('matches Python slicing; gradcheck and gradgradcheck pass', () => {
    const params = (shape: number[]): fc.Arbitrary<{ axis: number; start: number; end?: number; step: number }> =>
      fc.integer({ min: -shape.length, max: shape.length - 1 }).chain((axis) => {
        const n = shape[pos(axis, shape.length)]!;
        return fc.record({
          axis: fc.constant(axis),
          start: fc.integer({ min: -n - 2, max: n + 2 }),
          end: fc.option(fc.integer({ min: -n - 2, max: n + 2 }), { nil: undefined }),
          step: fc.integer({ min: 1, max: 4 }),
        });
      });
    checkRearrangement(caseArb(params, 1), (x, p) => x.slice(p.axis, p.start, p.end, p.step), (x, p) => {
      const n = x.shape[pos(p.axis, x.ndim)]!;
      const bound = (v: number): number => (v < 0 ? Math.max(v + n, 0) : Math.min(v, n));
      const lo = bound(p.start);
      const hi = bound(p.end ?? n);
      return linesRef(x, pos(p.axis, x.ndim), (l) => l.filter((_, j) => j >= lo && j < hi && (j - lo) % p.step === 0));
    });
  });

  it('refuses a step below 1', () => {
    const x = iota([4]);
    expectRefusal(x, () => x.slice(0, 0, 4, 0), ArgumentError, /^slice: step must be a positive integer, got 0/);
    expectRefusal(x, () => x.slice(0, 0, 4, -1), ArgumentError, /^slice: step must be a positive integer, got -1/);
  });
});

describe('int32 and bool tensors', () => {
  it('are moved as they are: each rearrangement keeps the dtype and the values', () => {
    const ops: [string, (t: Tensor) => Tensor][] = [
      ['flip', (t) => t.flip([0, 1])],
      ['roll', (t) => t.roll([1, -1], [0, 1])],
      ['pad constant', (t) => t.pad([1, 2, 1, 0])],
      ['pad reflect', (t) => t.pad([2, 1], { mode: 'reflect' })],
      ['pad circular', (t) => t.pad([1, 1, 1, 1], { mode: 'circular' })],
      ['repeat', (t) => t.repeat(2, 1, 2)],
      ['tile', (t) => t.tile(2)],
      ['repeatInterleave', (t) => t.repeatInterleave([2, 0, 1], 1)],
      ['tril', (t) => t.tril()],
      ['triu', (t) => t.triu(1)],
      ['diag', (t) => t.diag(1)],
      ['diagEmbed', (t) => t.diagEmbed()],
      ['movedim', (t) => t.movedim(0, 1)],
      ['slice', (t) => t.slice(1, 0, undefined, 2)],
      ['split', (t) => concat(t.split([1, 2], 1), 1)],
      ['unbind', (t) => stack(t.unbind(1), 0)],
    ];
    const values = [[1, 0, 3], [4, 5, 0]];
    for (const dtype of ['int32', 'bool'] as const) {
      const x = tensor(dtype === 'bool' ? values.map((r) => r.map((v) => (v === 0 ? 0 : 1))) : values, { dtype });
      for (const [name, f] of ops) {
        const y = f(x);
        expect(y.dtype, `${name} of ${dtype}`).toBe(dtype);
        expect(y.toArray(), `${name} of ${dtype}`).toEqual(f(x.toDtype('float64')).toArray());
      }
      const grids = meshgrid([x.slice(0, 0, 1).reshape(-1), x.slice(0, 1).reshape(-1)]);
      expect(grids.map((g) => g.dtype)).toEqual([dtype, dtype]);
    }
  });
});

describe('results too large to address', () => {
  it('are a ShapeError naming the op and the shape, before any memory is taken', () => {
    const x = iota([2, 3]);
    expectRefusal(x, () => x.pad([0, 2 ** 31]), ShapeError, /^pad: the result of shape \[2,2147483651\] has 4294967302 elements, more than the 2\^31 - 1/);
    expectRefusal(x, () => x.repeatInterleave(2 ** 30, 1), ShapeError, /^repeatInterleave: the result of shape \[2,3221225472\]/);
    expectRefusal(x, () => x.repeat(2 ** 20, 2 ** 20), ShapeError, /^repeat: the result of shape \[1048576,2,1048576,3\]/);
    expectRefusal(x, () => x.diagEmbed(2 ** 20), ShapeError, /^diagEmbed: the result of shape \[2,1048579,1048579\]/);
  });
});

describe('concat of thin and wide pieces', () => {
  it('matches a plain-loop reference for runs on both sides of the bulk-copy threshold', () => {
    const arb = fc.record({
      rows: fc.integer({ min: 0, max: 5 }),
      widths: fc.array(fc.constantFrom(0, 1, 2, 3, 63, 64, 65, 130), { minLength: 1, maxLength: 5 }),
      seed: fc.noShrink(fc.integer()),
      dtype: fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
    });
    fc.assert(
      fc.property(arb, ({ rows, widths, seed, dtype }) => {
        const parts = widths.map((w, i) => seededTensor([rows, w], seed + i, { dtype, requiresGrad: false }));
        assertClose(concat(parts, -1), concatRef(parts.map((p) => ({ data: Array.from(p.data), shape: [...p.shape] })), 1), 0, 0);
      }),
      { numRuns: 40 },
    );
  });
});
