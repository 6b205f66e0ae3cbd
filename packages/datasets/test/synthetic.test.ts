import { describe, expect, it } from 'vitest';
import { ArgumentError, circles, linearRegression, moons, sine, spirals, xor } from '../src/index.js';

function counts(labels: Uint8Array, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (const l of labels) c[l] = (c[l] as number) + 1;
  return c;
}

describe('xor', () => {
  it('is exactly the 4-row truth table with a bias column', () => {
    const ds = xor();
    expect(ds.shape).toEqual([4, 3]);
    expect(ds.yShape).toEqual([4]);
    expect(Array.from(ds.x)).toEqual([0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1]);
    expect(Array.from(ds.y)).toEqual([0, 1, 1, 0]);
    expect(ds.x).toBeInstanceOf(Float32Array);
    expect(ds.y).toBeInstanceOf(Uint8Array);
  });

  it('drops the bias column and switches dtype on request', () => {
    const ds = xor({ bias: false, dtype: 'float64' });
    expect(ds.shape).toEqual([4, 2]);
    expect(ds.x).toBeInstanceOf(Float64Array);
    expect(Array.from(ds.x)).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
  });

  it('samples noisy corners whose labels are the XOR of the nearest corner', () => {
    const ds = xor({ n: 500, noise: 0.05, seed: 3 });
    expect(ds.shape).toEqual([500, 3]);
    const c = counts(ds.y, 2);
    // Both labels appear about equally (binomial, 500 draws).
    expect(c[0]).toBeGreaterThan(180);
    expect(c[1]).toBeGreaterThan(180);
    let offCorner = 0;
    for (let i = 0; i < 500; i++) {
      const a = Math.round(ds.x[i * 3] as number);
      const b = Math.round(ds.x[i * 3 + 1] as number);
      expect(ds.y[i]).toBe(a ^ b);
      expect(ds.x[i * 3 + 2]).toBe(1);
      if (a !== ds.x[i * 3] || b !== ds.x[i * 3 + 1]) offCorner++;
    }
    expect(offCorner).toBe(500);
    expect(xor({ n: 500, noise: 0.05, seed: 3 })).toEqual(ds);
    expect(xor({ n: 500, noise: 0.05, seed: 4 }).x).not.toEqual(ds.x);
  });

  it('rejects sampling options without n', () => {
    expect(() => xor({ noise: 0.1 })).toThrow(ArgumentError);
    expect(() => xor({ noise: 0.1 })).toThrow(/^xor: /);
  });
});

describe('spirals', () => {
  it('puts noise-free points on their arm and splits n over the classes', () => {
    const classes = 3;
    const turns = 1.5;
    const ds = spirals({ n: 301, classes, turns, seed: 0 });
    expect(ds.shape).toEqual([301, 2]);
    expect(counts(ds.y, classes)).toEqual([101, 100, 100]);
    for (let i = 0; i < 301; i++) {
      const px = ds.x[i * 2] as number;
      const py = ds.x[i * 2 + 1] as number;
      const r = Math.hypot(px, py);
      expect(r).toBeLessThanOrEqual(1 + 1e-6);
      if (r < 1e-3) continue;
      const angle = 2 * Math.PI * ((ds.y[i] as number) / classes + turns * r);
      expect(px / r).toBeCloseTo(Math.cos(angle), 3);
      expect(py / r).toBeCloseTo(Math.sin(angle), 3);
    }
  });

  it('is deterministic for a seed and shuffled across classes', () => {
    const a = spirals({ n: 200, noise: 0.1, seed: 7 });
    expect(spirals({ n: 200, noise: 0.1, seed: 7 })).toEqual(a);
    expect(spirals({ n: 200, noise: 0.1, seed: 8 }).x).not.toEqual(a.x);
    // Shuffled: the first 100 rows are not all class 0.
    expect(new Set(a.y.subarray(0, 100)).size).toBe(2);
    const grouped = spirals({ n: 200, shuffle: false });
    expect(Array.from(grouped.y.subarray(0, 100)).every((l) => l === 0)).toBe(true);
  });

  it('rejects bad class counts naming the function', () => {
    expect(() => spirals({ classes: 1 })).toThrow(/^spirals: classes must be an integer >= 2, got 1/);
    expect(() => spirals({ classes: 300 })).toThrow(ArgumentError);
    expect(() => spirals({ n: -1 })).toThrow(/^spirals: n must be/);
    expect(() => spirals({ seed: 0.5 })).toThrow(/^spirals: seed must be a safe integer/);
  });
});

describe('moons', () => {
  it('puts noise-free points on the two half circles', () => {
    const ds = moons({ n: 101, seed: 1 });
    expect(ds.shape).toEqual([101, 2]);
    expect(counts(ds.y, 2)).toEqual([50, 51]);
    for (let i = 0; i < 101; i++) {
      const px = ds.x[i * 2] as number;
      const py = ds.x[i * 2 + 1] as number;
      if (ds.y[i] === 0) {
        expect(Math.hypot(px, py)).toBeCloseTo(1, 5);
        expect(py).toBeGreaterThanOrEqual(-1e-6);
      } else {
        expect(Math.hypot(px - 1, py - 0.5)).toBeCloseTo(1, 5);
        expect(py).toBeLessThanOrEqual(0.5 + 1e-6);
      }
    }
    expect(moons({ n: 101, seed: 1, noise: 0.2 })).toEqual(moons({ n: 101, seed: 1, noise: 0.2 }));
  });
});

describe('circles', () => {
  it('puts noise-free points on the two circles', () => {
    const ds = circles({ n: 80, factor: 0.3, seed: 2 });
    expect(counts(ds.y, 2)).toEqual([40, 40]);
    for (let i = 0; i < 80; i++) {
      const r = Math.hypot(ds.x[i * 2] as number, ds.x[i * 2 + 1] as number);
      expect(r).toBeCloseTo(ds.y[i] === 0 ? 1 : 0.3, 5);
    }
    expect(() => circles({ factor: 1 })).toThrow(/^circles: factor must be in \(0, 1\)/);
  });
});

describe('linearRegression', () => {
  it('gives y = x·w + b exactly without noise', () => {
    const ds = linearRegression({ n: 50, weights: [2, -1, 0.5], bias: 3, dtype: 'float64', seed: 5 });
    expect(ds.shape).toEqual([50, 3]);
    expect(ds.yShape).toEqual([50, 1]);
    for (let i = 0; i < 50; i++) {
      const expected = 2 * (ds.x[i * 3] as number) - (ds.x[i * 3 + 1] as number) + 0.5 * (ds.x[i * 3 + 2] as number) + 3;
      expect(ds.y[i]).toBeCloseTo(expected, 12);
    }
  });

  it('adds noise of the requested size and reports drawn weights', () => {
    const ds = linearRegression({ n: 4000, features: 2, noise: 0.5, seed: 9, dtype: 'float64' });
    expect(ds.weights.length).toBe(2);
    let ss = 0;
    for (let i = 0; i < 4000; i++) {
      const fit = (ds.x[i * 2] as number) * (ds.weights[0] as number) + (ds.x[i * 2 + 1] as number) * (ds.weights[1] as number);
      ss += ((ds.y[i] as number) - fit) ** 2;
    }
    expect(Math.sqrt(ss / 4000)).toBeGreaterThan(0.45);
    expect(Math.sqrt(ss / 4000)).toBeLessThan(0.55);
    expect(linearRegression({ n: 10, seed: 1 })).toEqual(linearRegression({ n: 10, seed: 1 }));
    expect(() => linearRegression({ features: 3, weights: [1, 2] })).toThrow(/^linearRegression: features is 3 but weights has 2/);
  });
});

describe('sine', () => {
  it('samples sin(x) over the range, or an even grid', () => {
    const ds = sine({ n: 200, range: [0, 6], seed: 4, dtype: 'float64' });
    expect(ds.shape).toEqual([200, 1]);
    for (let i = 0; i < 200; i++) {
      expect(ds.x[i]).toBeGreaterThanOrEqual(0);
      expect(ds.x[i]).toBeLessThan(6);
      expect(ds.y[i]).toBe(Math.sin(ds.x[i] as number));
    }
    const grid = sine({ n: 5, grid: true, range: [0, 2], dtype: 'float64' });
    expect(Array.from(grid.x)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(sine({ n: 30, noise: 0.1, seed: 1 })).toEqual(sine({ n: 30, noise: 0.1, seed: 1 }));
    expect(() => sine({ range: [1, 1] })).toThrow(/^sine: range must have low < high/);
  });
});
