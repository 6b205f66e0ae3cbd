import { describe, expect, it, test } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError, arange, DTypeError, eye, full, Generator, linspace, manualSeed, ones, onesLike, rand, randn, ShapeError,
  tensor, Tensor, toDtype, zeros, zerosLike, type NestedArray,
} from '@chainrule/autograd';
import { shapeArb } from '@chainrule/autograd/testing';
import { values } from './helpers/tensors.js';

/** Nested arrays of `shape` holding `flat` in row-major order. */
function nest(flat: readonly number[], shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0]!;
  const [n, ...rest] = shape as [number, ...number[]];
  const inner = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => nest(flat.slice(i * inner, (i + 1) * inner), rest));
}

describe('tensor', () => {
  test('nested arrays: shape from the nesting, row-major data, float32 by default', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(values(t)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensor([[[1], [2]], [[3], [4]]]).shape).toEqual([2, 2, 1]);
  });

  test('a number gives a 0-d tensor; empty arrays give size-0 dimensions', () => {
    const s = tensor(3);
    expect(s.shape).toEqual([]);
    expect(s.ndim).toBe(0);
    expect(s.size).toBe(1);
    expect(s.item()).toBe(3);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([[], []]).size).toBe(0);
  });

  test('float32 storage rounds: 0.1 is stored as fround(0.1); float64 keeps it', () => {
    expect(tensor([0.1]).data[0]).toBe(Math.fround(0.1));
    expect(tensor([0.1], { dtype: 'float64' }).data[0]).toBe(0.1);
  });

  test('typed arrays: Float64Array gives float64, Float32Array float32, unless dtype says otherwise', () => {
    expect(tensor(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(tensor(new Float32Array([1, 2])).dtype).toBe('float32');
    const narrowed = tensor(new Float64Array([0.1]), { dtype: 'float32' });
    expect(narrowed.dtype).toBe('float32');
    expect(narrowed.data[0]).toBe(Math.fround(0.1));
    expect(tensor(new Float32Array([0.5]), { dtype: 'float64' }).dtype).toBe('float64');
  });

  test('a flat typed array or number array takes `shape`; without it a typed array is 1-D', () => {
    const t = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    expect(t.shape).toEqual([2, 3]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor(new Float64Array(4)).shape).toEqual([4]);
    expect(tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor(new Float32Array([7]), { shape: [] }).shape).toEqual([]);
  });

  test('the data is copied: changing the source afterwards does not change the tensor', () => {
    const src = new Float64Array([1, 2]);
    const t = tensor(src);
    src[0] = 99;
    expect(values(t)).toEqual([1, 2]);
    const nested = [[1, 2]];
    const u = tensor(nested);
    nested[0]![0] = 99;
    expect(values(u)).toEqual([1, 2]);
  });

  test('requiresGrad makes a leaf that collects gradients', () => {
    const t = tensor([1, 2], { requiresGrad: true });
    expect(t.requiresGrad).toBe(true);
    expect(t.isLeaf).toBe(true);
    expect(tensor([1, 2]).requiresGrad).toBe(false);
  });

  test('property: nested arrays of any shape round-trip through tensor and toArray', () => {
    fc.assert(
      fc.property(
        shapeArb({ minDim: 0, maxRank: 4 }).chain((shape) =>
          fc.tuple(fc.constant(shape), fc.array(fc.double({ noNaN: true }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })),
        ),
        ([shape, flat]) => {
          const nested = nest(flat, shape);
          const t = tensor(nested, { dtype: 'float64' });
          // An empty dimension hides the ones after it: [] cannot say what its elements would hold.
          const zero = shape.indexOf(0);
          expect(t.shape).toEqual(zero < 0 ? shape : shape.slice(0, zero + 1));
          expect(values(t)).toEqual(flat);
          expect(t.toArray()).toEqual(nested);
          expect(t.size).toBe(flat.length);
          expect(t.ndim).toBe(t.shape.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('ragged nested arrays are a ShapeError that says where', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow('tensor: ragged nested array at [1]: expected length 2, got length 1');
    expect(() => tensor([1, [2]])).toThrow('tensor: ragged nested array at [1]: expected a number, got an array');
    expect(() => tensor([[1], 2])).toThrow('tensor: ragged nested array at [1]: expected length 1, got number');
    expect(() => tensor([[[1, 2]], [[3, 4], [5, 6]]])).toThrow(/at \[1\]: expected length 1, got length 2/);
    expect(() => tensor(['a'] as unknown as number[])).toThrow(ShapeError);
  });

  test('a shape that does not fit the data, or is not a shape, is a ShapeError; an unknown dtype a DTypeError', () => {
    expect(() => tensor(new Float32Array(5), { shape: [2, 3] })).toThrow(ShapeError);
    expect(() => tensor(new Float32Array(5), { shape: [2, 3] })).toThrow('tensor: 5 elements cannot take shape [2,3] (6 elements)');
    expect(() => tensor([1, 2, 3], { shape: [2] })).toThrow(ShapeError);
    expect(() => tensor(new Float32Array(2), { shape: [-1, -2] })).toThrow(/tensor: invalid shape \[-1,-2\]/);
    expect(() => tensor(new Float32Array(2), { shape: [2.5] })).toThrow(ShapeError);
    expect(() => tensor([1], { dtype: 'int64' as never })).toThrow(DTypeError);
    expect(() => tensor([1], { dtype: 'int64' as never })).toThrow(/tensor: unknown dtype "int64" \(use 'float32', 'float64', 'int32' or 'bool'\)/);
  });

  test('the Tensor constructor checks that the data fits the shape', () => {
    expect(() => new Tensor(new Float64Array(3), [2, 2])).toThrow(ShapeError);
    expect(new Tensor(new Float64Array(4), [2, 2]).dtype).toBe('float64');
  });
});

describe('zeros, ones, full, zerosLike, onesLike', () => {
  test('values, shapes (0-d and empty included) and dtypes', () => {
    expect(values(zeros([2, 3]))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(zeros([2, 3]).dtype).toBe('float32');
    expect(values(ones([2]))).toEqual([1, 1]);
    expect(ones([], { dtype: 'float64' }).shape).toEqual([]);
    expect(ones([], { dtype: 'float64' }).item()).toBe(1);
    expect(zeros([3, 0]).size).toBe(0);
    expect(values(full([2, 2], 7))).toEqual([7, 7, 7, 7]);
    expect(full([1], 0.1, { dtype: 'float64' }).data[0]).toBe(0.1);
    expect(full([1], 0.1).data[0]).toBe(Math.fround(0.1));
    expect(values(full([2], Infinity))).toEqual([Infinity, Infinity]);
    expect(Number.isNaN(full([1], NaN).item())).toBe(true);
    expect(zeros([2], { requiresGrad: true }).requiresGrad).toBe(true);
  });

  test('full keeps the sign of -0 (1 / full(-0) is -Infinity, as in PyTorch)', () => {
    expect(Object.is(full([2], -0).data[0], -0)).toBe(true);
    expect(Object.is(full([2], 0).data[0], 0)).toBe(true);
  });

  test('zerosLike and onesLike copy shape and dtype, not data or requiresGrad', () => {
    const x = tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2], requiresGrad: true });
    const z = zerosLike(x);
    expect(z.shape).toEqual([2, 2]);
    expect(z.dtype).toBe('float64');
    expect(z.requiresGrad).toBe(false);
    expect(values(z)).toEqual([0, 0, 0, 0]);
    expect(values(onesLike(x))).toEqual([1, 1, 1, 1]);
    expect(onesLike(x, { requiresGrad: true }).requiresGrad).toBe(true);
  });

  test('invalid shapes are ShapeErrors naming the function', () => {
    expect(() => zeros([-1])).toThrow(/^zeros: invalid shape \[-1\]/);
    expect(() => ones([1.5])).toThrow(ShapeError);
    expect(() => full([NaN], 1)).toThrow(/^full: /);
  });
});

describe('arange and linspace', () => {
  test('arange(n), arange(start, end), arange(start, end, step) as torch.arange', () => {
    expect(values(arange(5))).toEqual([0, 1, 2, 3, 4]);
    expect(values(arange(1, 4))).toEqual([1, 2, 3]);
    expect(values(arange(0, 1, 0.25))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(values(arange(5, 0, -2))).toEqual([5, 3, 1]);
    expect(arange(3).dtype).toBe('float32');
    expect(arange(0, 3, 1, { dtype: 'float64' }).dtype).toBe('float64');
    // ceil((end - start) / step) elements, each start + i·step (no accumulated rounding).
    const tenths = arange(0, 1, 0.1, { dtype: 'float64' });
    expect(tenths.size).toBe(10);
    expect(values(tenths)).toEqual(Array.from({ length: 10 }, (_, i) => i * 0.1));
    expect(values(arange(0, 2.5, 1))).toEqual([0, 1, 2]);
  });

  test('arange with an end on the wrong side of start is empty (as NumPy)', () => {
    expect(arange(1, 0).shape).toEqual([0]);
    expect(arange(0).shape).toEqual([0]);
  });

  test('arange: a zero or non-finite step, start or end is an ArgumentError', () => {
    expect(() => arange(0, 1, 0)).toThrow(ArgumentError);
    expect(() => arange(0, 1, 0)).toThrow(/^arange: /);
    expect(() => arange(0, Infinity)).toThrow(ArgumentError);
    expect(() => arange(NaN)).toThrow(ArgumentError);
  });

  test('linspace: `steps` evenly spaced values with both ends exact', () => {
    expect(values(linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(values(linspace(-1, 1, 3))).toEqual([-1, 0, 1]);
    expect(linspace(0, 0.3, 4, { dtype: 'float64' }).data[3]).toBe(0.3);
    expect(values(linspace(2, 5, 1))).toEqual([2]);
    expect(linspace(0, 1, 0).shape).toEqual([0]);
    expect(linspace(0, 1, 3).dtype).toBe('float32');
    expect(values(linspace(1, 0, 3))).toEqual([1, 0.5, 0]);
  });

  test('linspace: a negative or fractional number of steps is an ArgumentError', () => {
    expect(() => linspace(0, 1, -1)).toThrow(ArgumentError);
    expect(() => linspace(0, 1, 2.5)).toThrow(/^linspace: steps must be a non-negative integer/);
  });
});

describe('eye', () => {
  test('square and rectangular identities', () => {
    expect(eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(eye(3, 2).toArray()).toEqual([[1, 0], [0, 1], [0, 0]]);
    expect(eye(0).shape).toEqual([0, 0]);
    expect(eye(2).dtype).toBe('float32');
    expect(eye(2, 2, { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => eye(-1)).toThrow(ShapeError);
  });
});

/**
 * An independent model of the documented generator, from the published definitions:
 * - splitmix32: a Weyl sequence with the 32-bit golden-ratio increment 0x9E3779B9, each state
 *   passed through MurmurHash3's fmix32 finalizer (xor-shift 16, ×0x85EBCA6B, xor-shift 13,
 *   ×0xC2B2AE35, xor-shift 16); its first four outputs are xoshiro's state s[0..3];
 * - xoshiro128** (Blackman & Vigna): result = rotl(s1·5, 7)·9, then the xor/shift/rotate update;
 * - a 53-bit uniform from two outputs, (a >> 5)·2^26 + (b >> 6), over 2^53 (genrand_res53);
 * - normals by Marsaglia's polar method, u·f first and v·f next.
 * Written with BigInt and explicit masks, unlike the library's Math.imul, so they share no code.
 */
class ModelGenerator {
  private static readonly MASK = 0xffffffffn;
  private s: bigint[];
  private spare: number | null = null;

  constructor(seed: number) {
    let x = BigInt(seed) & ModelGenerator.MASK;
    const splitmix32 = (): bigint => {
      x = (x + 0x9e3779b9n) & ModelGenerator.MASK;
      let z = x;
      z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & ModelGenerator.MASK;
      z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & ModelGenerator.MASK;
      return z ^ (z >> 16n);
    };
    this.s = [splitmix32(), splitmix32(), splitmix32(), splitmix32()];
  }

  private static rotl(v: bigint, k: bigint): bigint {
    return ((v << k) | (v >> (32n - k))) & ModelGenerator.MASK;
  }

  nextUint32(): number {
    const M = ModelGenerator.MASK;
    const s = this.s;
    const result = (ModelGenerator.rotl((s[1]! * 5n) & M, 7n) * 9n) & M;
    const t = (s[1]! << 9n) & M;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = ModelGenerator.rotl(s[3]!, 11n);
    return Number(result);
  }

  uniform(): number {
    const a = Math.floor(this.nextUint32() / 32); // top 27 bits
    const b = Math.floor(this.nextUint32() / 64); // top 26 bits
    return (a * 2 ** 26 + b) / 2 ** 53;
  }

  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        return u * f;
      }
    }
  }
}

describe('Generator, rand and randn', () => {
  test('frozen values: new Generator(0) follows splitmix32-seeded xoshiro128** (an independent model)', () => {
    const g = new Generator(0);
    const m = new ModelGenerator(0);
    const ints = Array.from({ length: 8 }, () => g.nextUint32());
    expect(ints).toEqual(Array.from({ length: 8 }, () => m.nextUint32()));
    for (const v of ints) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
    expect(new Set(ints).size).toBe(8);
    const g2 = new Generator(0);
    const m2 = new ModelGenerator(0);
    expect(Array.from({ length: 6 }, () => g2.uniform())).toEqual(Array.from({ length: 6 }, () => m2.uniform()));
    expect(Array.from({ length: 5 }, () => g2.normal())).toEqual(Array.from({ length: 5 }, () => m2.normal()));
  });

  test('frozen values: rand and randn with seed 0 draw the model\'s uniforms and normals, in row-major order', () => {
    const mu = new ModelGenerator(0);
    expect(values(rand([2, 3], { seed: 0, dtype: 'float64' }))).toEqual(Array.from({ length: 6 }, () => mu.uniform()));
    const mn = new ModelGenerator(0);
    expect(values(randn([5], { seed: 0, dtype: 'float64' }))).toEqual(Array.from({ length: 5 }, () => mn.normal()));
    // float32 storage rounds the float64 draws.
    const m32 = new ModelGenerator(0);
    expect(values(randn([4], { seed: 0 }))).toEqual(Array.from({ length: 4 }, () => Math.fround(m32.normal())));
  });

  test('the model agrees for other seeds too, including ones past 2^32 and negative ones', () => {
    for (const seed of [1, 42, 123456789, 2 ** 32 - 1]) {
      const g = new Generator(seed);
      const m = new ModelGenerator(seed);
      expect(Array.from({ length: 4 }, () => g.nextUint32()), `seed ${seed}`).toEqual(Array.from({ length: 4 }, () => m.nextUint32()));
    }
    // A seed is used by its integer part mod 2^32.
    const first = (seed: number): number[] => values(rand([3], { seed, dtype: 'float64' }));
    expect(first(2 ** 32 + 5)).toEqual(first(5));
    expect(first(5.9)).toEqual(first(5));
    expect(first(-1)).toEqual(first(2 ** 32 - 1));
  });

  test('same seed, same numbers; different seeds, different numbers', () => {
    expect(values(randn([10], { seed: 3 }))).toEqual(values(randn([10], { seed: 3 })));
    expect(values(rand([10], { seed: 3 }))).toEqual(values(rand([10], { seed: 3 })));
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) seen.add(JSON.stringify(values(rand([4], { seed }))));
    expect(seen.size).toBe(20);
    expect(values(randn([4], { seed: 1 }))).not.toEqual(values(randn([4], { seed: 2 })));
  });

  test('a generator option is drawn from in sequence and wins over seed', () => {
    const g = new Generator(7);
    const a = rand([3], { generator: g, seed: 0, dtype: 'float64' });
    const b = rand([3], { generator: g, dtype: 'float64' });
    const m = new ModelGenerator(7);
    expect([...values(a), ...values(b)]).toEqual(Array.from({ length: 6 }, () => m.uniform()));
    expect(g.seed(7).uniform()).toBe(a.data[0]);
  });

  test('manualSeed restarts the global generator used without seed or generator', () => {
    manualSeed(11);
    const a = values(randn([3]));
    const b = values(randn([3]));
    manualSeed(11);
    expect(values(randn([3]))).toEqual(a);
    expect(values(randn([3]))).toEqual(b);
    expect(a).not.toEqual(b);
  });

  test('rand is in [0, 1), randn looks standard normal; shapes, dtypes and requiresGrad', () => {
    const u = rand([100, 100], { seed: 5, dtype: 'float64' });
    expect(u.shape).toEqual([100, 100]);
    let sum = 0;
    for (const v of u.data) {
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
    }
    expect(Math.abs(sum / u.size - 0.5)).toBeLessThan(0.01); // sd of the mean ≈ 0.003
    const n = randn([20000], { seed: 5, dtype: 'float64' });
    let s1 = 0, s2 = 0;
    for (const v of n.data) {
      s1 += v;
      s2 += v * v;
    }
    expect(Math.abs(s1 / n.size)).toBeLessThan(0.03); // sd of the mean ≈ 0.007
    expect(Math.abs(s2 / n.size - 1)).toBeLessThan(0.05); // sd of the variance ≈ 0.01
    expect(rand([2]).dtype).toBe('float32');
    expect(randn([2], { seed: 0 }).dtype).toBe('float32');
    expect(randn([], { seed: 0 }).shape).toEqual([]);
    expect(randn([2], { seed: 0, requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => rand([-2])).toThrow(ShapeError);
  });

  test('float32 rand stays below 1 even for a draw that float32 would round up to 1', () => {
    class NearlyOne extends Generator {
      override uniform(): number {
        return 1 - 2 ** -53; // the largest value uniform() can return
      }
    }
    expect(Math.fround(1 - 2 ** -53)).toBe(1);
    const u32 = rand([3], { generator: new NearlyOne() });
    expect(values(u32)).toEqual([1 - 2 ** -24, 1 - 2 ** -24, 1 - 2 ** -24]); // the largest float32 below 1
    expect(rand([1], { generator: new NearlyOne(), dtype: 'float64' }).item()).toBe(1 - 2 ** -53);
    // Draws float32 can hold below 1 are untouched.
    const m = new ModelGenerator(9);
    expect(values(rand([50], { seed: 9 }))).toEqual(Array.from({ length: 50 }, () => Math.fround(m.uniform())));
  });

  test('Generator.int is uniform in [0, n); bad n and bad seeds are ArgumentErrors', () => {
    const g = new Generator(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[g.int(3)]! += 1;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    expect(() => g.int(0)).toThrow(ArgumentError);
    expect(() => g.int(1.5)).toThrow(ArgumentError);
    expect(() => new Generator(NaN)).toThrow(ArgumentError);
    expect(() => rand([1], { seed: Infinity })).toThrow(/seed must be a finite number/);
  });
});

describe('toDtype', () => {
  test('float32 → float64 keeps values; float64 → float32 rounds them', () => {
    const x = tensor([0.1, 2]);
    const y = x.toDtype('float64');
    expect(y.dtype).toBe('float64');
    expect(values(y)).toEqual([Math.fround(0.1), 2]);
    const z = toDtype(tensor([0.1, 1e300], { dtype: 'float64' }), 'float32');
    expect(z.dtype).toBe('float32');
    expect(values(z)).toEqual([Math.fround(0.1), Infinity]);
  });

  test('the same dtype returns the tensor itself; the result has its own storage otherwise', () => {
    const x = tensor([1, 2]);
    expect(x.toDtype('float32')).toBe(x);
    const y = x.toDtype('float64');
    y.data[0] = 5;
    expect(values(x)).toEqual([1, 2]);
  });

  test('the gradient flows back through the cast, in the input\'s dtype', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.toDtype('float64').mul(tensor([0.1, 3], { dtype: 'float64' })).sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(values(x.grad)).toEqual([Math.fround(0.1), 3]);
  });

  test('an unknown dtype is a DTypeError; a non-Tensor an ArgumentError', () => {
    expect(() => tensor([1]).toDtype('int8' as never)).toThrow(DTypeError);
    expect(() => tensor([1]).toDtype('int8' as never)).toThrow(/^toDtype: unknown dtype "int8"/);
    expect(() => toDtype([1] as unknown as Tensor, 'float64')).toThrow(ArgumentError);
  });
});

describe('toArray, item, shape, size, ndim', () => {
  test('toArray gives nested arrays, a number for 0-d, and keeps empty dimensions', () => {
    expect(tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor(5).toArray()).toBe(5);
    expect(tensor(new Float32Array(0), { shape: [2, 0] }).toArray()).toEqual([[], []]);
    expect(tensor(new Float32Array(0), { shape: [0, 2] }).toArray()).toEqual([]);
    expect(tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 1, 2] }).toArray()).toEqual([[[1, 2]], [[3, 4]], [[5, 6]]]);
  });

  test('item works on any one-element tensor and is a ShapeError otherwise', () => {
    expect(tensor([[3]]).item()).toBe(3);
    expect(tensor(new Float64Array([0.1])).item()).toBe(0.1);
    expect(() => tensor([1, 2]).item()).toThrow(ShapeError);
    expect(() => tensor([1, 2]).item()).toThrow('item: only a one-element tensor converts to a number, got shape [2]');
    expect(() => tensor([]).item()).toThrow(ShapeError);
  });

  test('shape, size and ndim', () => {
    const t = zeros([2, 3, 4]);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.size).toBe(24);
    expect(t.ndim).toBe(3);
    expect(zeros([]).size).toBe(1);
    expect(zeros([]).ndim).toBe(0);
    expect(zeros([2, 0]).size).toBe(0);
    expect(zeros([2, 0]).ndim).toBe(2);
  });

  test('dtype rules: float32 unless told, for every creation function', () => {
    const made = [tensor([1]), zeros([1]), ones([1]), full([1], 2), arange(2), linspace(0, 1, 2), eye(1), rand([1]), randn([1])];
    for (const t of made) expect(t.dtype).toBe('float32');
    const opts = { dtype: 'float64' as const };
    const made64 = [tensor([1], opts), zeros([1], opts), ones([1], opts), full([1], 2, opts), arange(0, 2, 1, opts), linspace(0, 1, 2, opts), eye(1, 1, opts), rand([1], opts), randn([1], opts)];
    for (const t of made64) {
      expect(t.dtype).toBe('float64');
      expect(t.data).toBeInstanceOf(Float64Array);
    }
    expect(() => zeros([1], { dtype: 'float16' as never })).toThrow(/^zeros: unknown dtype "float16"/);
  });
});

describe('Generator state', () => {
  it('getState/setState resumes the stream exactly, including a cached normal', () => {
    const g = new Generator(7);
    g.normal(); // leaves the pair's second value cached
    const saved = JSON.parse(JSON.stringify(g.getState())) as ReturnType<Generator['getState']>;
    const expected = [g.normal(), g.uniform(), g.nextUint32(), g.normal()];
    const h = new Generator(123).setState(saved);
    expect([h.normal(), h.uniform(), h.nextUint32(), h.normal()]).toEqual(expected);
  });

  it('setState rejects what getState cannot have produced', () => {
    expect(() => new Generator().setState({ s: [1, 2, 3], spare: null })).toThrow(/Generator.setState/);
    expect(() => new Generator().setState({ s: [1, 2, 3, -1], spare: null })).toThrow(/Generator.setState/);
  });
});

describe('tensor from integer arrays', () => {
  it('keeps an integer typed array integer (int32), as torch.tensor keeps the kind of a NumPy array', () => {
    const t = tensor(new Uint8Array([0, 3, 255]));
    expect(t.dtype).toBe('int32');
    expect(Array.from(t.data)).toEqual([0, 3, 255]);
    expect(tensor(new Int16Array([-5, 9])).dtype).toBe('int32');
    expect(tensor(new Int32Array([-2147483648, 2147483647])).toArray()).toEqual([-2147483648, 2147483647]);
    expect(tensor(new Float32Array([0.5])).dtype).toBe('float32');
    expect(tensor(new Uint8Array([1, 2]), { dtype: 'float32' }).dtype).toBe('float32');
    const big = new Uint32Array([1, 2 ** 31]);
    expect(() => tensor(big)).toThrow(/tensor.*2147483648/);
    expect(Array.from(big)).toEqual([1, 2 ** 31]);
    expect(tensor(new Int32Array([-2, 7]), { dtype: 'float64', shape: [2, 1] }).toArray()).toEqual([[-2], [7]]);
  });
});

describe('int32 ranges (torch.arange and torch.linspace with dtype=torch.int32)', () => {
  test('linspace: each point truncated toward zero, the first half counted from the start and the second from the end', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 30 }), (a, b, steps) => {
        const got = linspace(a, b, steps, { dtype: 'int32' });
        expect(got.dtype).toBe('int32');
        const step = steps > 1 ? (b - a) / (steps - 1) : 0;
        const want = Array.from({ length: steps }, (_, i) => (steps === 1 ? a : Math.trunc(i < Math.floor(steps / 2) ? a + step * i : b - step * (steps - i - 1)) + 0));
        expect(values(got)).toEqual(want);
        if (steps > 1) expect([got.data[0], got.data[steps - 1]]).toEqual([a, b]);
      }),
    );
    expect(values(linspace(0, 10, 4, { dtype: 'int32' }))).toEqual([0, 3, 6, 10]);
  });

  test('integer start, end (linspace) and start, step (arange) are required: PyTorch would truncate them', () => {
    expect(() => linspace(0.5, 3, 4, { dtype: 'int32' })).toThrow(ArgumentError);
    expect(() => linspace(0.5, 3, 4, { dtype: 'int32' })).toThrow(/^linspace: an int32 range needs integer start and end in int32's range \(PyTorch would truncate them toward zero\), got start 0.5, end 3/);
    expect(() => linspace(0, 2 ** 31, 3, { dtype: 'int32' })).toThrow(/^linspace: an int32 range/);
    expect(() => linspace(0, 1, 3, { dtype: 'bool' })).toThrow(DTypeError);
    expect(() => linspace(0, 1, 3, { dtype: 'int32', requiresGrad: true })).toThrow(DTypeError);
    expect(() => arange(0, 5, 1.5, { dtype: 'int32' })).toThrow(/^arange: an int32 range needs an integer start and step \(PyTorch would truncate them toward zero\), got start 0, step 1.5/);
    expect(() => arange(0.5, 4, 1, { dtype: 'int32' })).toThrow(ArgumentError);
    expect(values(arange(0, 4.5, 1, { dtype: 'int32' }))).toEqual([0, 1, 2, 3, 4]); // a fractional end is fine, as PyTorch
    expect(arange(10, 0, -3, { dtype: 'int32' }).dtype).toBe('int32');
  });
});
