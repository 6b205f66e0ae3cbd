import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assertClose, broadcastShapesArb, seededTensor } from '@chainrule/autograd/testing';
import { binaryKernelsAreMonomorphic, broadcastBinary, type BinaryKind } from '../src/kernels/binary.js';
import { mapUnary, unaryKernelsAreMonomorphic } from '../src/kernels/unary.js';
import { reduceAxis, reduceKernelsAreMonomorphic } from '../src/kernels/reduce.js';
import { monomorphic } from '../src/kernels/monomorphic.js';
import { reluBackward, reluBackwardJs } from '../src/kernels/fused.js';
import { binaryWasm, columnSumsWasm, reluBackwardWasm, softmaxBackwardWasm, softmaxWasm, unaryWasm, type OperandLayout } from '../src/kernels/wasm/elementwise.js';
import { softmaxBackward, softmaxForward } from '../src/kernels/softmax.js';
import { Generator } from '../src/random.js';
import { BINARY_OPS, UNARY_OPS } from '../src/kernels/wasm/layout.js';
import { expectFloat32Rounding, refBroadcast } from './helpers/reference.js';
import { withBackend } from './helpers/backend.js';

// The elementwise kernels take one of several paths by the operands' shapes (same shape, a
// scalar on either side, a row repeated over leading dimensions, a general broadcast) and run
// in a per-dtype copy. Each path is checked here against the plain index-mapping reference.

const KINDS: Record<BinaryKind, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.pow(a, b),
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  atan2: (a, b) => Math.atan2(a, b),
  hypot: (a, b) => Math.sqrt(a * a + b * b),
  // This file checks the loops' indexing, exactly: the stable form the kernel rounds (the maths is
  // checked in binary.test.ts and against PyTorch).
  logaddexp: (a, b) => Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b))),
  xlogy: (a, b) => (Number.isNaN(b) ? NaN : a === 0 ? 0 : a * Math.log(b)),
  copysign: (a, b) => (b < 0 || Object.is(b, -0) ? -Math.abs(a) : Math.abs(a)),
  fmod: (a, b) => a % b,
  remainder: (a, b) => {
    const m = a % b;
    return m !== 0 && m < 0 !== b < 0 ? m + b : m;
  },
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
};

/** Values on a coarse grid, so the comparisons see ties, and positive bases for pow. */
function operand(shape: readonly number[], seed: number, dtype: 'float32' | 'float64'): { data: Float32Array | Float64Array; shape: readonly number[] } {
  const t = seededTensor(shape, seed, { min: 0.25, max: 2, dtype, requiresGrad: false });
  for (let i = 0; i < t.size; i++) t.data[i] = Math.round(t.data[i]! * 4) / 4;
  return { data: t.data, shape };
}

function run(kind: BinaryKind, a: ReturnType<typeof operand>, b: ReturnType<typeof operand>, dtype: 'float32' | 'float64') {
  const expected = refBroadcast([a, b], KINDS[kind]);
  const out = dtype === 'float32' ? new Float32Array(expected.data.length) : new Float64Array(expected.data.length);
  broadcastBinary(kind, a.data, a.shape, b.data, b.shape, out, expected.shape);
  return { out, expected: expected.data };
}

describe('broadcastBinary', () => {
  const shapes: [string, number[], number[]][] = [
    ['same shape', [3, 4], [3, 4]],
    ['scalar on the right', [3, 4], []],
    ['scalar on the left', [], [2, 5]],
    ['a one-element operand of higher rank', [1, 1], [2, 3]],
    ['a row repeated over the leading dims', [2, 3, 4], [4]],
    ['a row with leading 1s', [2, 3], [1, 3]],
    ['a row on the left', [3], [5, 3]],
    ['a column', [3, 4], [3, 1]],
    ['a column on the left', [3, 1], [3, 4]],
    ['an outer product', [3, 1], [1, 4]],
    ['a middle axis', [2, 1, 3], [2, 4, 3]],
    ['empty', [0, 3], [3]],
  ];
  // 'wasm' sends every size through the WebAssembly loops where they apply (same shape, one
  // value on either side), so the table checks that dispatch too.
  for (const backend of ['auto', 'wasm'] as const) {
    for (const dtype of ['float64', 'float32'] as const) {
      for (const [name, sa, sb] of shapes) {
        it(`${backend}, ${dtype}, ${name}: every kind matches the reference`, () => {
          withBackend(backend, () => {
            for (const kind of Object.keys(KINDS) as BinaryKind[]) {
              const { out, expected } = run(kind, operand(sa, 1, dtype), operand(sb, 2, dtype), dtype);
              if (dtype === 'float64') assertClose(out, expected, 0);
              else expectFloat32Rounding(out, expected);
            }
          });
        });
      }
    }
  }

  it('random broadcast shapes: every kind matches the reference', () => {
    fc.assert(
      fc.property(broadcastShapesArb(2, { maxRank: 4 }), fc.integer(), ([sa, sb], seed) => {
        for (const kind of Object.keys(KINDS) as BinaryKind[]) {
          const { out, expected } = run(kind, operand(sa!, seed, 'float64'), operand(sb!, seed + 1, 'float64'), 'float64');
          assertClose(out, expected, 0);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('keeps the special cases of pow, maximum and minimum', () => {
    const a = new Float64Array([1, -1, NaN, 2]);
    const b = new Float64Array([NaN, Infinity, 1, NaN]);
    const out = new Float64Array(4);
    broadcastBinary('pow', a, [4], b, [4], out, [4]);
    expect(Array.from(out)).toEqual([1, 1, NaN, NaN]);
    broadcastBinary('maximum', a, [4], b, [4], out, [4]);
    expect(Array.from(out)).toEqual([NaN, Infinity, NaN, NaN]);
    broadcastBinary('minimum', a, [4], new Float64Array([0]), [], out, [4]);
    expect(Array.from(out)).toEqual([0, -1, NaN, 0]);
  });
});

/** Whether a and b hold the same values bit for bit, NaN matching any NaN (payloads may differ). */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

describe('WebAssembly elementwise loops', () => {
  // Values where IEEE arithmetic has its corners: signed zeros, infinities, NaN, subnormals of
  // both dtypes, and ordinary numbers of every size.
  const special = fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1e-310, -1e-42, 1e-45, 3.4e38, -1, 1, 0.5);
  const value = fc.oneof(special, fc.double({ noNaN: true }), fc.double({ min: -4, max: 4, noNaN: true }));
  const arrays = fc.record({
    f32: fc.boolean(),
    n: fc.integer({ min: 1, max: 70 }),
    seed: fc.array(value, { minLength: 140, maxLength: 140 }),
  });
  const make = (f32: boolean, values: number[]): Float32Array | Float64Array => (f32 ? Float32Array.from(values) : Float64Array.from(values));

  it('binary: the same bits as the TypeScript loop, for every layout of either operand', () => {
    const layouts = ['full', 'row', 'column', 'scalar'] as const;
    // The shape each layout has as an operand of a [rows, n] output.
    const shapeOf = (layout: OperandLayout, rows: number, n: number): number[] =>
      layout === 'full' ? [rows, n] : layout === 'row' ? [n] : layout === 'column' ? [rows, 1] : [];
    fc.assert(
      fc.property(
        arrays,
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(...BINARY_OPS),
        fc.constantFrom(...layouts),
        fc.constantFrom(...layouts),
        ({ f32, n, seed }, rows, op, la, lb) => {
          // Only pairs whose broadcast is the [rows, n] output, as an op's operands always are.
          fc.pre(la === 'full' || lb === 'full' || (la === 'row' && lb === 'column') || (la === 'column' && lb === 'row'));
          const pick = (layout: OperandLayout, from: number): Float32Array | Float64Array => {
            const length = shapeOf(layout, rows, n).reduce((p, d) => p * d, 1);
            return make(f32, Array.from({ length }, (_, i) => seed[(from + i) % seed.length]!));
          };
          const a = pick(la, 0);
          const b = pick(lb, 70);
          const ts = make(f32, new Array<number>(rows * n).fill(0));
          withBackend('js', () => broadcastBinary(op, a, shapeOf(la, rows, n), b, shapeOf(lb, rows, n), ts, [rows, n]));
          const wasm = make(f32, new Array<number>(rows * n).fill(7));
          expect(binaryWasm(op, a, la, b, lb, wasm, rows, n)).toBe(true);
          if (!sameBits(wasm, ts)) throw new Error(`${op} ${la}/${lb} ${rows}×${n} ${f32 ? 'f32' : 'f64'}: ${Array.from(wasm)} vs ${Array.from(ts)}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('unary: the same bits as the TypeScript loop', () => {
    fc.assert(
      fc.property(arrays, fc.constantFrom(...UNARY_OPS), ({ f32, n, seed }, op) => {
        const x = make(f32, seed.slice(0, n));
        const ts = make(f32, new Array<number>(n).fill(0));
        withBackend('js', () => mapUnary(op, x, ts));
        const wasm = make(f32, new Array<number>(n).fill(7));
        expect(unaryWasm(op, x, wasm)).toBe(true);
        if (!sameBits(wasm, ts)) throw new Error(`${op} ${f32 ? 'f32' : 'f64'}: ${Array.from(wasm)} vs ${Array.from(ts)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('column sums: the same bits as the TypeScript reduction, block by block', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 2, max: 23 }),
        fc.array(value, { minLength: 64, maxLength: 64 }),
        (f32, outer, rows, n, pool) => {
          const x = make(f32, Array.from({ length: outer * rows * n }, (_, i) => pool[(i * 7) % pool.length]!));
          const ts = make(f32, new Array<number>(outer * n).fill(0));
          withBackend('js', () => reduceAxis('sum', x, outer, rows, n, ts));
          const wasm = make(f32, new Array<number>(outer * n).fill(7));
          expect(columnSumsWasm(x, outer, rows, n, wasm)).toBe(true);
          if (!sameBits(wasm, ts)) throw new Error(`${outer}×${rows}×${n} ${f32 ? 'f32' : 'f64'}: ${Array.from(wasm)} vs ${Array.from(ts)}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tensor sums over a leading or middle axis give the same bits on either backend', () => {
    const x = seededTensor([3, 40, 37], 5, { min: -3, max: 3, dtype: 'float32', requiresGrad: false });
    for (const axis of [0, 1]) {
      const ts = withBackend('js', () => x.sum(axis));
      const wasm = withBackend('wasm', () => x.sum(axis));
      expect(sameBits(wasm.data, ts.data)).toBe(true);
    }
  });

  // Softmax's exponentials are Math.exp's arithmetic in lanes: rows whose spreads reach every
  // case of fdlibm's exp (|x| below 2⁻²⁸, k = ±1, k < -1021 near the underflow, past it).
  const softmaxRow = fc.oneof(
    fc.double({ min: -4, max: 4, noNaN: true }),
    fc.double({ min: -1e-8, max: 1e-8, noNaN: true }),
    fc.double({ min: -800, max: 10, noNaN: true }),
    fc.double({ min: -1.2, max: 1.2, noNaN: true }),
    special,
  );

  it('softmax: the same bits as the TypeScript kernel (Math.exp), safe or not', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 70 }),
        fc.array(softmaxRow, { minLength: 97, maxLength: 97 }),
        (f32, safe, rows, n, pool) => {
          const x = make(f32, Array.from({ length: rows * n }, (_, i) => pool[(i * 13) % pool.length]!));
          const ts = make(f32, new Array<number>(rows * n).fill(0));
          withBackend('js', () => softmaxForward(x, rows, n, 1, safe, ts));
          const wasm = make(f32, new Array<number>(rows * n).fill(7));
          expect(softmaxWasm(x, rows, n, safe, wasm)).toBe(true);
          if (!sameBits(wasm, ts)) throw new Error(`${rows}×${n} ${f32 ? 'f32' : 'f64'} safe ${safe}: ${Array.from(wasm)} vs ${Array.from(ts)} from ${Array.from(x)}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('softmax: the same bits as the TypeScript kernel over many random rows of every spread, and across staging chunks', () => {
    const random = new Generator(3);
    for (const f32 of [true, false]) {
      for (const spread of [1e-9, 0.7, 3, 40, 1500]) {
        const rows = 1100, n = 67;
        const x = make(f32, Array.from({ length: rows * n }, () => random.uniform(-0.5, 0.5) * spread));
        const ts = make(f32, new Array<number>(rows * n).fill(0));
        withBackend('js', () => softmaxForward(x, rows, n, 1, true, ts));
        const wasm = make(f32, new Array<number>(rows * n).fill(7));
        expect(softmaxWasm(x, rows, n, true, wasm)).toBe(true);
        expect(sameBits(wasm, ts)).toBe(true);
      }
    }
  });

  it('softmax backward: the same bits as the TypeScript kernel, across staging chunks', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom(1, 1000),
        fc.array(value, { minLength: 97, maxLength: 97 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 61, maxLength: 61 }),
        (f32, rows0, n, scale, gs, ys) => {
          const rows = rows0 * scale;
          const g = make(f32, Array.from({ length: rows * n }, (_, i) => gs[(i * 13) % gs.length]!));
          const y = make(f32, Array.from({ length: rows * n }, (_, i) => ys[(i * 7) % ys.length]!));
          const ts = make(f32, new Array<number>(rows * n).fill(0));
          withBackend('js', () => softmaxBackward(g, y, rows, n, 1, ts));
          const wasm = make(f32, new Array<number>(rows * n).fill(7));
          expect(softmaxBackwardWasm(g, y, rows, n, wasm)).toBe(true);
          if (!sameBits(wasm, ts)) throw new Error(`${rows}×${n} ${f32 ? 'f32' : 'f64'}: the kernels differ`);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('relu keeps NaN and sends -0 and negatives to +0; abs and neg act on the sign of zeros', () => {
    const x = new Float32Array([NaN, -0, 0, -3, 2, -Infinity, Infinity, -1e-45]);
    const out = new Float32Array(8);
    expect(unaryWasm('relu', x, out)).toBe(true);
    expect(Array.from(out)).toEqual([NaN, 0, 0, 0, 2, 0, Infinity, 0]);
    expect(Object.is(out[1], 0)).toBe(true);
    expect(unaryWasm('abs', x, out)).toBe(true);
    expect(Object.is(out[1], 0)).toBe(true);
    expect(unaryWasm('neg', x, out)).toBe(true);
    expect(Object.is(out[2], -0)).toBe(true);
  });
});

describe('per-dtype kernels', () => {
  it('each dtype runs its own copy of the binary, unary and reduction kernels in this runtime', () => {
    // Both dtypes in one process, as in a user's program that mixes them.
    const x32 = new Float32Array([-1, 2]), x64 = new Float64Array([-1, 2]);
    mapUnary('relu', x32, new Float32Array(2));
    mapUnary('relu', x64, new Float64Array(2));
    reduceAxis('sum', x32, 1, 2, 1, new Float32Array(1));
    reduceAxis('sum', x64, 1, 2, 1, new Float64Array(1));
    expect(binaryKernelsAreMonomorphic()).toBe(true);
    expect(unaryKernelsAreMonomorphic()).toBe(true);
    expect(reduceKernelsAreMonomorphic()).toBe(true);
  });

  it('monomorphic returns the shared function when the copy fails its check or cannot be called', () => {
    const add = (a: number, b: number): number => a + b;
    expect(monomorphic(add, (clone) => clone(1, 2) === 3)).not.toBe(add);
    expect(monomorphic(add, () => false)).toBe(add);
    // A function that refers to something outside its own text (as an instrumenting coverage
    // tool makes every function do) fails when its copy runs.
    const outside = 5;
    const usesOutside = (a: number): number => a + outside;
    expect(monomorphic(usesOutside, (clone) => clone(1) === 6)).toBe(usesOutside);
  });
});

describe('relu backward (mask and column sums)', () => {
  /** g·[y > 0] and its column sums in float64, rounded once: what every path must give, bit for bit. */
  function expected(g: ArrayLike<number>, y: ArrayLike<number>, rows: number, n: number, f32: boolean): { out: number[]; sums: number[] } {
    const round = f32 ? Math.fround : (v: number): number => v;
    const out = Array.from(g, (v, i) => round(v * +(y[i]! > 0)));
    const sums = Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let r = 0; r < rows; r++) s += out[r * n + j]!;
      return round(s);
    });
    return { out, sums };
  }

  it('the WebAssembly and TypeScript kernels give the same bits, with and without sums', () => {
    for (const f32 of [true, false]) {
      for (const [rows, n] of [[1, 1], [3, 5], [4, 8], [7, 13], [64, 128], [2, 2049]] as [number, number][]) {
        const make = (k: number): Float32Array | Float64Array => {
          const a = f32 ? new Float32Array(rows * n) : new Float64Array(rows * n);
          for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 1.7 + k) * 10 ** ((i % 5) - 2);
          return a;
        };
        const g = make(1), y = make(2);
        const want = expected(g, y, rows, n, f32);
        for (const [name, run] of [
          ['wasm', (o: Float32Array | Float64Array, s: Float32Array | Float64Array | null) => expect(reluBackwardWasm(g, y, rows, n, o, s)).toBe(true)],
          ['js', (o: Float32Array | Float64Array, s: Float32Array | Float64Array | null) => reluBackwardJs(g, y, rows, n, o, s)],
          ['dispatch', (o: Float32Array | Float64Array, s: Float32Array | Float64Array | null) => reluBackward(g, y, rows, n, o, s)],
        ] as const) {
          const out = f32 ? new Float32Array(rows * n) : new Float64Array(rows * n);
          const sums = f32 ? new Float32Array(n) : new Float64Array(n);
          run(out, sums);
          for (let i = 0; i < out.length; i++) if (!Object.is(out[i], want.out[i])) throw new Error(`${name} ${rows}×${n} out[${i}]: ${out[i]} vs ${want.out[i]}`);
          for (let j = 0; j < n; j++) if (!Object.is(sums[j], want.sums[j])) throw new Error(`${name} ${rows}×${n} sums[${j}]: ${sums[j]} vs ${want.sums[j]}`);
          const alone = f32 ? new Float32Array(rows * n) : new Float64Array(rows * n);
          run(alone, null);
          expect(Array.from(alone)).toEqual(Array.from(out));
        }
      }
    }
  });

  it('NaN in g stays NaN, and y that is NaN, -0 or 0 masks', () => {
    const g = new Float32Array([NaN, NaN, 2, 3, -4, 5, 6, 7, 8]);
    const y = new Float32Array([0, 1, NaN, -0, 0, 1e-30, -1, Infinity, -Infinity]);
    for (const kernel of [reluBackwardWasm, reluBackwardJs]) {
      const out = new Float32Array(9);
      kernel(g, y, 1, 9, out, null);
      expect(Array.from(out)).toEqual([NaN, NaN, 0, 0, -0, 5, 0, 7, 0]);
    }
  });
});
