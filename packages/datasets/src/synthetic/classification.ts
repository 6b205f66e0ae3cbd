import { ArgumentError } from '../errors.js';
import { allocFloat } from '../internal/arrays.js';
import { checkDType, checkFinite, checkInt } from '../internal/check.js';
import { classification, classCount, sampled, shuffleRows, type Sampled, type SampledOptions } from './common.js';
import type { ClassificationDataset, FloatArrayOf, FloatDType } from '../types.js';

/** Options of {@link xor}. */
export interface XorOptions<D extends FloatDType = 'float32'> extends SampledOptions<D> {
  /**
   * Number of noisy samples drawn from the four corners. Left out, `xor` returns the exact
   * 4-row truth table and `noise`, `seed` and `shuffle` must be left out too.
   */
  readonly n?: number;
  /** Whether to append a constant-1 third feature (a bias input). Default true. */
  readonly bias?: boolean;
}

/**
 * XOR. With no `n`, the exact truth table [[0,0,1],[0,1,1],[1,0,1],[1,1,1]] -> [0,1,1,0]
 * (third column a constant bias input); with `n`, corners drawn uniformly plus Gaussian `noise`.
 * @throws ArgumentError if noise, seed or shuffle is given without `n`, or an option is out of
 * range (n not a non-negative integer, negative noise, a seed that is not a safe integer, an unknown dtype).
 * @example xor().y // Uint8Array [0, 1, 1, 0]; xor({ n: 200, noise: 0.1, seed: 1 })
 */
export function xor<D extends FloatDType = 'float32'>(options: XorOptions<D> = {}): ClassificationDataset<FloatArrayOf<D>> {
  const bias = options.bias ?? true;
  const cols = bias ? 3 : 2;
  if (options.n === undefined) {
    if (options.noise !== undefined || options.seed !== undefined || options.shuffle !== undefined) {
      throw new ArgumentError('xor: noise, seed and shuffle apply to the sampled variant; pass n too');
    }
    const dtype = (options.dtype ?? 'float32') as D;
    checkDType('xor', dtype);
    const x = allocFloat(dtype, 4 * cols);
    const y = new Uint8Array(4);
    for (let i = 0; i < 4; i++) {
      const a = i >> 1;
      const b = i & 1;
      x[i * cols] = a;
      x[i * cols + 1] = b;
      if (bias) x[i * cols + 2] = 1;
      y[i] = a ^ b;
    }
    return classification(x, cols, y);
  }
  const { n, noise, rng, dtype } = sampled('xor', options, 0);
  const x = allocFloat(dtype, n * cols);
  const y = new Uint8Array(n);
  // Corners are drawn independently, so the rows are already in random order.
  for (let i = 0; i < n; i++) {
    const a = rng.int(2);
    const b = rng.int(2);
    x[i * cols] = a + noise * rng.normal();
    x[i * cols + 1] = b + noise * rng.normal();
    if (bias) x[i * cols + 2] = 1;
    y[i] = a ^ b;
  }
  return classification(x, cols, y);
}

/** Options of {@link spirals}. */
export interface SpiralsOptions<D extends FloatDType = 'float32'> extends SampledOptions<D> {
  /** Number of interleaved arms, one class each (2..256). Default 2. */
  readonly classes?: number;
  /** Full turns each arm makes from the centre to radius 1. Default 1. */
  readonly turns?: number;
}

/**
 * Interleaved spiral arms in 2-D, one class per arm (the classic non-linear toy problem):
 * point i of arm c has radius r = i/(m-1) and angle 2π(c/classes + turns·r), plus Gaussian noise.
 * @throws ArgumentError if `classes` is not an integer in [2, 256], `turns` is not finite, or a
 * shared option is out of range (see `xor`).
 * @example spirals({ n: 300, classes: 3, noise: 0.05, seed: 0 }).shape // [300, 2]
 */
export function spirals<D extends FloatDType = 'float32'>(options: SpiralsOptions<D> = {}): ClassificationDataset<FloatArrayOf<D>> {
  const { n, noise, rng, shuffle, dtype } = sampled('spirals', options, 200);
  const { classes = 2, turns = 1 } = options;
  checkInt('spirals', 'classes', classes, 2);
  if (classes > 256) throw new ArgumentError(`spirals: classes must be <= 256 (labels are Uint8Array), got ${classes}`);
  checkFinite('spirals', 'turns', turns);
  const x = allocFloat(dtype, n * 2);
  const y = new Uint8Array(n);
  let row = 0;
  for (let c = 0; c < classes; c++) {
    const m = classCount(n, classes, c);
    for (let i = 0; i < m; i++, row++) {
      const r = m > 1 ? i / (m - 1) : 0;
      const angle = 2 * Math.PI * (c / classes + turns * r);
      x[row * 2] = r * Math.cos(angle) + noise * rng.normal();
      x[row * 2 + 1] = r * Math.sin(angle) + noise * rng.normal();
      y[row] = c;
    }
  }
  if (shuffle) shuffleRows(rng, x, y, 2);
  return classification(x, 2, y);
}

/**
 * Two interleaving half circles, as scikit-learn's make_moons: floor(n/2) points on the
 * upper moon (label 0), the rest on the lower one (label 1), plus Gaussian noise.
 * @throws ArgumentError if an option is out of range (see `xor`).
 * @example moons({ n: 200, noise: 0.1, seed: 0 })
 */
export function moons<D extends FloatDType = 'float32'>(options: SampledOptions<D> = {}): ClassificationDataset<FloatArrayOf<D>> {
  return twoCurves(sampled('moons', options, 100), (outer, k, m) => {
    // linspace(0, π, m): both ends included.
    const t = m > 1 ? (Math.PI * k) / (m - 1) : 0;
    return outer ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
  });
}

/**
 * What moons and circles share: floor(n/2) points on the outer curve (label 0), the rest on
 * the inner one (label 1), point k of m on each given by `at`, plus Gaussian noise (x noise
 * drawn before y noise, point by point, so a seed gives the same set as before).
 */
function twoCurves<D extends FloatDType>(
  { n, noise, rng, shuffle, dtype }: Sampled<D>,
  at: (outer: boolean, k: number, m: number) => [number, number],
): ClassificationDataset<FloatArrayOf<D>> {
  const nOuter = Math.floor(n / 2);
  const x = allocFloat(dtype, n * 2);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const outer = i < nOuter;
    const [px, py] = outer ? at(true, i, nOuter) : at(false, i - nOuter, n - nOuter);
    x[i * 2] = px + noise * rng.normal();
    x[i * 2 + 1] = py + noise * rng.normal();
    y[i] = outer ? 0 : 1;
  }
  if (shuffle) shuffleRows(rng, x, y, 2);
  return classification(x, 2, y);
}

/** Options of {@link circles}. */
export interface CirclesOptions<D extends FloatDType = 'float32'> extends SampledOptions<D> {
  /** Radius of the inner circle relative to the outer one, in (0, 1). Default 0.8. */
  readonly factor?: number;
}

/**
 * A circle inside a circle, as scikit-learn's make_circles: floor(n/2) points on the unit
 * circle (label 0), the rest on a circle of radius `factor` (label 1), plus Gaussian noise.
 * @throws ArgumentError if `factor` is outside (0, 1) or a shared option is out of range (see `xor`).
 * @example circles({ n: 200, factor: 0.5, noise: 0.05, seed: 0 })
 */
export function circles<D extends FloatDType = 'float32'>(options: CirclesOptions<D> = {}): ClassificationDataset<FloatArrayOf<D>> {
  const sample = sampled('circles', options, 100);
  const { factor = 0.8 } = options;
  if (!(factor > 0 && factor < 1)) throw new ArgumentError(`circles: factor must be in (0, 1), got ${String(factor)}`);
  return twoCurves(sample, (outer, k, m) => {
    // linspace(0, 2π, m, endpoint=False): the first and last points must not coincide.
    const t = (2 * Math.PI * k) / m;
    const r = outer ? 1 : factor;
    return [r * Math.cos(t), r * Math.sin(t)];
  });
}
