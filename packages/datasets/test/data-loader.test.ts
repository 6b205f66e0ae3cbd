import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, DataLoader, xor, type Batch, type DatasetLike } from '../src/index.js';

const ROW = 3;

/** A dataset whose rows say which sample they are: x[i] = [i, i + 0.25, i + 0.5], y[i] = i. */
function indexed(n: number): DatasetLike<Float64Array, Uint32Array> {
  const x = new Float64Array(n * ROW);
  for (let i = 0; i < n; i++) for (let k = 0; k < ROW; k++) x[i * ROW + k] = i + k / 4;
  return { x, shape: [n, ROW], y: Uint32Array.from({ length: n }, (_, i) => i) };
}

function epochIndices(loader: DataLoader, epoch: number): number[][] {
  return Array.from(loader.epoch(epoch), (b) => Array.from(b.indices));
}

const settings = fc.record({
  n: fc.integer({ min: 0, max: 120 }),
  batchSize: fc.integer({ min: 1, max: 40 }),
  shuffle: fc.boolean(),
  dropLast: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
  epoch: fc.integer({ min: 0, max: 1000 }),
});

describe('DataLoader', () => {
  it('visits every sample exactly once per epoch (at most once with dropLast) in batches of the right size', () => {
    fc.assert(
      fc.property(settings, ({ n, batchSize, shuffle, dropLast, seed, epoch }) => {
        const loader = new DataLoader(indexed(n), { batchSize, shuffle, dropLast, seed });
        const batches = [...loader.epoch(epoch)];
        const expectedBatches = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
        expect(batches.length).toBe(expectedBatches);
        expect(loader.length).toBe(expectedBatches);
        const seen = new Array<number>(n).fill(0);
        batches.forEach((b, k) => {
          const m = b.indices.length;
          const last = k === batches.length - 1;
          expect(m).toBe(last && !dropLast ? n - batchSize * (batches.length - 1) : batchSize);
          expect(b.shape).toEqual([m, ROW]);
          expect(b.yShape).toEqual([m]);
          let wrongRows = 0;
          b.indices.forEach((i, r) => {
            seen[i] = (seen[i] as number) + 1;
            if (b.y[r] !== i || b.x[r * ROW] !== i || b.x[r * ROW + 1] !== i + 0.25 || b.x[r * ROW + 2] !== i + 0.5) wrongRows++;
          });
          expect(wrongRows).toBe(0);
        });
        const used = batches.length * batchSize;
        if (dropLast) {
          expect(seen.every((c) => c <= 1)).toBe(true);
          expect(seen.reduce((a, c) => a + c, 0)).toBe(Math.min(used, n));
        } else {
          expect(seen.every((c) => c === 1)).toBe(true);
        }
        if (!shuffle) expect(batches.flatMap((b) => Array.from(b.indices))).toEqual(seen.map((_, i) => i).slice(0, Math.min(used, n)));
      }),
    );
  });

  it('gives the same order for the same seed and epoch', () => {
    fc.assert(
      fc.property(settings, ({ n, batchSize, dropLast, seed, epoch }) => {
        const a = new DataLoader(indexed(n), { batchSize, shuffle: true, dropLast, seed });
        const b = new DataLoader(indexed(n), { batchSize, shuffle: true, dropLast, seed });
        expect(epochIndices(a, epoch)).toEqual(epochIndices(b, epoch));
      }),
    );
  });

  it('reshuffles: different epochs give different orders', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 150 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 500 }),
        (n, batchSize, seed, e, gap) => {
          const loader = new DataLoader(indexed(n), { batchSize, shuffle: true, seed });
          expect(Array.from(loader.order(e))).not.toEqual(Array.from(loader.order(e + gap)));
        },
      ),
    );
  });

  it('runs epoch 0, 1, 2... on successive for...of loops', () => {
    const loader = new DataLoader(indexed(30), { batchSize: 7, shuffle: true, seed: 11 });
    const reference = new DataLoader(indexed(30), { batchSize: 7, shuffle: true, seed: 11 });
    for (let e = 0; e < 3; e++) {
      const order: number[][] = [];
      for (const batch of loader) order.push(Array.from(batch.indices));
      expect(order).toEqual(epochIndices(reference, e));
    }
    expect(loader.epochsStarted).toBe(3);
  });

  it('carries multi-value targets along with their rows', () => {
    const n = 10;
    const x = Float32Array.from({ length: n * 2 }, (_, j) => j);
    const y = Float32Array.from({ length: n * 2 }, (_, j) => 100 + j);
    const loader = new DataLoader({ x, shape: [n, 2], y, yShape: [n, 2] }, { batchSize: 4, shuffle: true, seed: 1 });
    for (const b of loader) {
      expect(b.yShape).toEqual([b.indices.length, 2]);
      expect(b.x).toBeInstanceOf(Float32Array);
      b.indices.forEach((i, r) => {
        expect([b.y[2 * r], b.y[2 * r + 1]]).toEqual([100 + 2 * i, 101 + 2 * i]);
      });
    }
  });

  it('keeps the element types of the dataset in its batches', () => {
    const batches: Batch<Float32Array, Uint8Array>[] = [...new DataLoader(xor({ dtype: 'float32' }), { batchSize: 3 })];
    expect(batches.map((b) => b.x.constructor)).toEqual([Float32Array, Float32Array]);
    expect(batches.map((b) => b.y.constructor)).toEqual([Uint8Array, Uint8Array]);
    expect(Array.from(batches[1]!.y)).toEqual([0]);
  });

  it('keeps image axes in the batch shape and infers yShape', () => {
    const n = 5;
    const ds = { x: new Uint8Array(n * 2 * 3), shape: [n, 2, 3], y: new Float64Array(n * 4) };
    const [first] = new DataLoader(ds, { batchSize: 2 });
    expect(first?.shape).toEqual([2, 2, 3]);
    expect(first?.yShape).toEqual([2, 4]);
  });

  it('rejects bad options and inconsistent datasets, naming DataLoader', () => {
    expect(() => new DataLoader(indexed(4), { batchSize: 0 })).toThrow(ArgumentError);
    expect(() => new DataLoader(indexed(4), { batchSize: 0 })).toThrow(/^DataLoader: batchSize must be an integer >= 1, got 0/);
    expect(() => new DataLoader({ x: new Float32Array(5), shape: [2, 3], y: new Uint8Array(2) })).toThrow(
      /^DataLoader: dataset x has 5 values but shape \[2,3\] needs 6/,
    );
    expect(() => new DataLoader({ x: new Float32Array(6), shape: [2, 3], y: new Uint8Array(3) })).toThrow(/^DataLoader: dataset y has 3 values/);
  });
});
