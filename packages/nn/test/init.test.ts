import { describe, expect, test } from 'vitest';
import { Generator, manualSeed, matmul, zeros, type Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { Linear, init } from '@chainrule/nn';

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const d = t.data;
  let s = 0, min = Infinity, max = -Infinity;
  for (const v of d) {
    s += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / d.length;
  let ss = 0;
  for (const v of d) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / d.length), min, max };
}

const w = (shape: number[]): Tensor => zeros(shape, { dtype: 'float64' });

/** Uniform on [-b, b]: all within, extremes near the bounds, std b/√3. */
function expectUniform(t: Tensor, bound: number): void {
  const s = stats(t);
  expect(s.min).toBeGreaterThanOrEqual(-bound);
  expect(s.max).toBeLessThan(bound);
  expect(s.max).toBeGreaterThan(0.995 * bound);
  expect(s.min).toBeLessThan(-0.995 * bound);
  expect(Math.abs(s.mean)).toBeLessThan(0.02 * bound);
  expect(Math.abs(s.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
}

function expectNormal(t: Tensor, std: number): void {
  const s = stats(t);
  expect(Math.abs(s.mean)).toBeLessThan(0.02 * std);
  expect(Math.abs(s.std / std - 1)).toBeLessThan(0.02);
}

describe('init', () => {
  test('calculateGain matches torch.nn.init.calculate_gain', () => {
    expect(init.calculateGain('linear')).toBe(1);
    expect(init.calculateGain('sigmoid')).toBe(1);
    expect(init.calculateGain('tanh')).toBe(5 / 3);
    expect(init.calculateGain('relu')).toBe(Math.SQRT2);
    expect(init.calculateGain('leakyRelu')).toBe(Math.sqrt(2 / (1 + 0.01 ** 2)));
    expect(init.calculateGain('leakyRelu', 0.2)).toBe(Math.sqrt(2 / 1.04));
    expect(init.calculateGain('selu')).toBe(0.75);
  });

  test('fans: [out, in, ...kernel]', () => {
    expect(init.calculateFans(w([3, 5]))).toEqual({ fanIn: 5, fanOut: 3 });
    expect(init.calculateFans(w([4, 2, 3, 3]))).toEqual({ fanIn: 18, fanOut: 36 });
    expect(() => init.calculateFans(w([5]))).toThrow('init: fan in and fan out need a tensor with at least 2 dimensions, got shape [5]');
  });

  test('uniform, normal, constants', () => {
    expectUniform(init.uniform(w([60000]), -0.3, 0.3, { seed: 1 }), 0.3);
    const u = stats(init.uniform(w([20000]), 2, 5, { seed: 2 }));
    expect(u.min).toBeGreaterThanOrEqual(2);
    expect(u.max).toBeLessThan(5);
    const n = init.normal(w([60000]), 3, 0.5, { seed: 3 });
    expect(Math.abs(stats(n).mean - 3)).toBeLessThan(0.01);
    expect(Math.abs(stats(n).std / 0.5 - 1)).toBeLessThan(0.02);
    expect(Array.from(init.ones(w([3])).data)).toEqual([1, 1, 1]);
    expect(Array.from(init.zeros(init.ones(w([2]))).data)).toEqual([0, 0]);
    expect(() => init.uniform(w([2]), 1, 0)).toThrow('init.uniform: low must be <= high, got low 1, high 0');
  });

  test('xavier: a = gain·√(6/(fan_in+fan_out)), std = gain·√(2/(fan_in+fan_out))', () => {
    expectUniform(init.xavierUniform(w([200, 300]), { seed: 4 }), Math.sqrt(6 / 500));
    expectUniform(init.xavierUniform(w([200, 300]), { gain: 5 / 3, seed: 5 }), (5 / 3) * Math.sqrt(6 / 500));
    expectNormal(init.xavierNormal(w([250, 250]), { seed: 6 }), Math.sqrt(2 / 500));
    expectNormal(init.xavierNormal(w([20, 30, 10, 10]), { gain: 2, seed: 7 }), 2 * Math.sqrt(2 / (3000 + 2000)));
  });

  test('kaiming: bound = gain·√(3/fan), std = gain/√fan, with fan modes and leaky slope', () => {
    expectUniform(init.kaimingUniform(w([300, 200]), { seed: 8 }), Math.SQRT2 * Math.sqrt(3 / 200));
    expectUniform(init.kaimingUniform(w([300, 200]), { mode: 'fanOut', seed: 9 }), Math.SQRT2 * Math.sqrt(3 / 300));
    const g = Math.sqrt(2 / (1 + 0.2 ** 2));
    expectUniform(init.kaimingUniform(w([300, 200]), { a: 0.2, seed: 10 }), g * Math.sqrt(3 / 200));
    expectUniform(init.kaimingUniform(w([300, 200]), { nonlinearity: 'tanh', seed: 11 }), (5 / 3) * Math.sqrt(3 / 200));
    expectNormal(init.kaimingNormal(w([300, 200]), { nonlinearity: 'relu', seed: 12 }), Math.SQRT2 / Math.sqrt(200));
    expectNormal(init.kaimingNormal(w([300, 200]), { mode: 'fanOut', seed: 13 }), Math.SQRT2 / Math.sqrt(300));
  });

  test("Linear's default init: weight and bias ~ U(±1/√in) (kaiming_uniform with a = √5)", () => {
    const lin = new Linear(250, 240, { dtype: 'float64', seed: 14 });
    expectUniform(lin.weight, 1 / Math.sqrt(250));
    const b = stats(lin.bias!);
    expect(b.max).toBeLessThan(1 / Math.sqrt(250));
    expect(b.min).toBeGreaterThanOrEqual(-1 / Math.sqrt(250));
    // float32 layers round the same draws
    const lin32 = new Linear(250, 240, { seed: 14 });
    expect(Array.from(lin32.weight.data)).toEqual(Array.from(Float32Array.from(lin.weight.data)));
  });

  test('seeds and generators make initialisation reproducible', () => {
    const a = init.xavierUniform(w([4, 4]), { seed: 3 });
    const b = init.xavierUniform(w([4, 4]), { seed: 3 });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const g1 = new Generator(9), g2 = new Generator(9);
    const first = init.normal(w([8]), 0, 1, { generator: g1 });
    const second = init.normal(w([8]), 0, 1, { generator: g1 });
    expect(Array.from(second.data)).not.toEqual(Array.from(first.data));
    expect(Array.from(init.normal(w([16]), 0, 1, { generator: g2 }).data)).toEqual([...first.data, ...second.data]);
    manualSeed(5);
    const c = init.uniform(w([6]));
    manualSeed(5);
    expect(Array.from(init.uniform(w([6])).data)).toEqual(Array.from(c.data));
  });
});

describe('orthogonal, truncNormal, eye', () => {
  test('orthogonal: rows orthonormal (times gain) when wide, columns when tall, as torch.nn.init.orthogonal_', () => {
    for (const shape of [[3, 5], [5, 3], [4, 2, 3], [4, 4]]) {
      const t = init.orthogonal(w(shape), { gain: 2, seed: 1 });
      const m = t.reshape(shape[0]!, -1);
      const gram = shape[0]! <= m.shape[1]! ? matmul(m, m.transpose(0, 1)) : matmul(m.transpose(0, 1), m);
      const k = gram.shape[0]!;
      assertClose(gram, Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 4 : 0)), 0, 1e-12);
    }
    expect(() => init.orthogonal(w([3]))).toThrow('init.orthogonal: needs a tensor with at least 2 dimensions, got shape [3]');
  });

  test('orthogonal: uniformly distributed, so each entry has mean 0 and variance 1/n', () => {
    const n = 6;
    const g = new Generator(5);
    let sum = 0;
    let sq = 0;
    const draws = 400;
    for (let i = 0; i < draws; i++) {
      const d = init.orthogonal(w([n, n]), { generator: g }).data;
      sum += d[0]!;
      sq += d[0]! * d[0]!;
    }
    // Without R's sign fix, Q's first entry has a biased sign; with it, mean 0 and E[q²] = 1/n.
    expect(Math.abs(sum / draws)).toBeLessThan(4 * Math.sqrt(1 / n / draws));
    expect(Math.abs(sq / draws - 1 / n)).toBeLessThan(0.04);
  });

  test('truncNormal: within [a, b], with the truncated normal\'s mean and std', () => {
    const t = init.truncNormal(w([200000]), { mean: 1, std: 2, a: -1, b: 2, seed: 3 });
    const s = stats(t);
    expect(s.min).toBeGreaterThanOrEqual(-1);
    expect(s.max).toBeLessThanOrEqual(2);
    // alpha = -1, beta = 0.5 in standard units: mean + std·(φ(α) - φ(β))/Z, the variance likewise.
    const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
    const z = 0.6914624612740131 - 0.15865525393145707;
    const m = 1 + (2 * (phi(-1) - phi(0.5))) / z;
    const v = 4 * (1 + (-1 * phi(-1) - 0.5 * phi(0.5)) / z - ((phi(-1) - phi(0.5)) / z) ** 2);
    expect(Math.abs(s.mean - m)).toBeLessThan(0.01);
    expect(Math.abs(s.std - Math.sqrt(v))).toBeLessThan(0.01);
    expect(() => init.truncNormal(w([2]), { a: 1, b: 0 })).toThrow('init.truncNormal: a must be <= b, got a 1, b 0');
  });

  test('eye: the identity of a 2-d tensor', () => {
    expect(Array.from(init.eye(w([2, 3])).data)).toEqual([1, 0, 0, 0, 1, 0]);
    expect(() => init.eye(w([2, 2, 2]))).toThrow('init.eye: needs a 2-d tensor, got shape [2,2,2]');
  });
});
