import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { embedding, gather, indexAdd, indexSelect, scatterAdd, tensor, type Tensor } from '@chainrule/autograd';
import { seededTensor } from '@chainrule/autograd/testing';
import { withBackend } from './helpers/backend.js';
import { indexValues } from './helpers/indexing-reference.js';
import { messageOf } from './helpers/reference.js';

// gather and scatterAdd, indexSelect, indexAdd and embedding by each kernel backend: the
// WebAssembly loops (operands staged in its memory, a gather's and scatter's a chunk of rows at a
// time) must give the TypeScript loops' bits, values and gradients, whatever the shape, axis and
// index (negative indices included, which the gather and scatter kernels hand back to be
// wrapped), and fail on a bad index as they do. The TypeScript loops are checked against
// plain-loop references in indexing.test.ts.

/** The first index where x and y differ (Object.is: -0 differs from 0), or -1; equal lengths assumed. */
function firstDifference(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

/** gather's and scatterAdd's values and gradients (for x and src), in one array each. */
function run(shape: number[], axis: number, ishape: number[], seed: number, dtype: 'float32' | 'float64'): Float64Array[] {
  const n = shape[axis]!;
  const count = ishape.reduce((a, b) => a * b, 1);
  const index = tensor(indexValues(count, n, seed), { dtype: 'int32', shape: ishape });
  const x = seededTensor(shape, seed, { dtype });
  const src = seededTensor(ishape, seed + 1, { dtype });
  const g = seededTensor(ishape, seed + 2, { dtype, requiresGrad: false });
  const gathered = gather(x, axis, index);
  gathered.backward(g);
  const gx = x.grad!;
  x.grad = null;
  const added = scatterAdd(x, axis, index, src);
  added.backward(seededTensor(shape, seed + 3, { dtype, requiresGrad: false }));
  return [gathered, gx, added, x.grad!, src.grad!].map((t: Tensor) => Float64Array.from(t.data));
}

const cases = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
    seed: fc.nat(1000),
    m: fc.integer({ min: 1, max: 9 }),
    shrink: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    dtype: fc.constantFrom('float32' as const, 'float64' as const),
  })
  .chain((c) => fc.record({ c: fc.constant(c), axis: fc.integer({ min: 0, max: c.shape.length - 1 }) }));

const indexShape = (shape: number[], axis: number, m: number, shrink: boolean[]): number[] =>
  shape.map((d, i) => (i === axis ? m : shrink[i] && d > 1 ? d - 1 : d));

describe('gather and scatterAdd kernels', () => {
  it('give the same bits in WebAssembly as in TypeScript over random shapes, axes and indices', () => {
    fc.assert(
      fc.property(cases, ({ c: { shape, seed, m, shrink, dtype }, axis }) => {
        const ishape = indexShape(shape, axis, m, shrink);
        const js = withBackend('js', () => run(shape, axis, ishape, seed, dtype));
        const wasm = withBackend('wasm', () => run(shape, axis, ishape, seed, dtype));
        js.forEach((values, k) => expect(firstDifference(wasm[k]!, values)).toBe(-1));
      }),
      { numRuns: 80 },
    );
  });

  it('give the same bits on arrays staged in several chunks, under auto too', () => {
    // 2048·96 float32 are 768 KiB: several chunks of rows; an index smaller off the axis leaves
    // elements no row reaches (copied from the input between chunks).
    for (const [shape, axis, ishape] of [
      [[2048, 96], 1, [2048, 40]],
      [[2000, 96], 1, [1999, 40]],
      [[4, 700, 64], 1, [3, 300, 64]],
      [[4, 700, 64], 2, [4, 690, 30]],
      [[300, 64], 0, [200, 60]],
    ] as [number[], number, number[]][]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const js = withBackend('js', () => run(shape, axis, ishape, 7, dtype));
        for (const backend of ['wasm', 'auto'] as const) {
          const other = withBackend(backend, () => run(shape, axis, ishape, 7, dtype));
          js.forEach((values, k) => expect(firstDifference(other[k]!, values), `${backend} ${dtype} [${shape}] axis ${axis} output ${k}`).toBe(-1));
        }
      }
    }
  });

  it('name the first bad index in WebAssembly as in TypeScript, leaving the inputs unchanged', () => {
    const x = seededTensor([2048, 96], 3, { dtype: 'float32' });
    const src = seededTensor([2048, 40], 4, { dtype: 'float32' });
    const before = [Array.from(x.data), Array.from(src.data)];
    const values = indexValues(2048 * 40, 96, 5);
    // Far out of range (2^28), a gather's read lies past WebAssembly memory (its check comes after the reads).
    for (const [at, bad] of [[70000, 96], [81919, -97], [0, 2147483647], [40000, -2147483648], [100, 2 ** 28]] as const) {
      const index = tensor(values.map((v, i) => (i === at ? bad : v)), { dtype: 'int32', shape: [2048, 40] });
      const expected = `index ${bad} at position ${at} is not an integer in [-96, 96) for an axis of size 96`;
      for (const backend of ['js', 'wasm', 'auto'] as const) {
        expect(messageOf(() => withBackend(backend, () => gather(x, 1, index)))).toBe(`gather: ${expected}`);
        expect(messageOf(() => withBackend(backend, () => scatterAdd(x, 1, index, src)))).toBe(`scatterAdd: ${expected}`);
      }
    }
    expect([Array.from(x.data), Array.from(src.data)]).toEqual(before);
    // An empty axis: every index is out of range.
    const empty = seededTensor([3, 0], 1, { dtype: 'float32' });
    for (const backend of ['js', 'wasm'] as const) {
      expect(messageOf(() => withBackend(backend, () => gather(empty, 1, tensor([[0], [0], [0]], { dtype: 'int32' }))))).toBe('gather: index 0 at position 0 is not an integer in [0, 0) for an axis of size 0');
      expect(messageOf(() => withBackend(backend, () => scatterAdd(empty, 1, tensor([[0], [0], [0]], { dtype: 'int32' }), src)))).toBe('scatterAdd: index 0 at position 0 is not an integer in [0, 0) for an axis of size 0');
    }
  });

  it('select and add whole rows with the same bits in WebAssembly as in TypeScript', () => {
    /** indexSelect's, indexAdd's and embedding's values and gradients along `axis`, in one array each. */
    const rows = (shape: number[], axis: number, m: number, seed: number, dtype: 'float32' | 'float64'): Float64Array[] => {
      const n = shape[axis]!;
      const values = indexValues(m, n, seed);
      const x = seededTensor(shape, seed, { dtype });
      const picked = indexSelect(x, axis, values);
      picked.backward(seededTensor(picked.shape, seed + 1, { dtype, requiresGrad: false }));
      const gx = x.grad!;
      x.grad = null;
      const src = seededTensor(picked.shape, seed + 2, { dtype });
      const added = indexAdd(x, axis, values, src, { alpha: seed % 2 === 0 ? 1 : 0.5 });
      added.backward(seededTensor(shape, seed + 3, { dtype, requiresGrad: false }));
      const out = [picked, gx, added, x.grad!, src.grad!];
      if (shape.length === 2 && axis === 0) {
        x.grad = null;
        const looked = embedding(x, tensor(values, { dtype: 'int32', shape: [m] }), { paddingIdx: seed % n });
        looked.backward(seededTensor(looked.shape, seed + 4, { dtype, requiresGrad: false }));
        out.push(looked, x.grad!);
      }
      return out.map((t: Tensor) => Float64Array.from(t.data));
    };
    for (const [shape, axis, m] of [[[300, 64], 0, 500], [[1000, 7], 0, 800], [[3, 5], 0, 9], [[50, 40, 3], 1, 60], [[9, 1000], 1, 30]] as [number[], number, number][]) {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const seed of [1, 2]) {
          const js = withBackend('js', () => rows(shape, axis, m, seed, dtype));
          for (const backend of ['wasm', 'auto'] as const) {
            const other = withBackend(backend, () => rows(shape, axis, m, seed, dtype));
            js.forEach((values, k) => expect(firstDifference(other[k]!, values), `${backend} ${dtype} [${shape}] axis ${axis} output ${k}`).toBe(-1));
          }
        }
      }
    }
  });
});
