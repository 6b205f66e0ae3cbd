import { checkDType, checkInt, checkNonNegative } from '../internal/check.js';
import { checkSeed, Rng } from '../random.js';
import type { ClassificationDataset, FloatArrayOf, FloatDType } from '../types.js';

/** Options every sampled synthetic set takes. */
export interface SampledOptions<D extends FloatDType = 'float32'> {
  /** Number of samples in all (split as evenly as possible over the classes). */
  readonly n?: number;
  /** Standard deviation of Gaussian noise added to every coordinate (0 = none). */
  readonly noise?: number;
  /** Seed of the generator; the same seed gives the same set. */
  readonly seed?: number;
  /** Whether to shuffle the samples (otherwise they come grouped by class). */
  readonly shuffle?: boolean;
  /** Element type of the features. */
  readonly dtype?: D;
}

/** Resolved sampled options, checked. */
export interface Sampled<D extends FloatDType> {
  n: number;
  noise: number;
  rng: Rng;
  shuffle: boolean;
  dtype: D;
}

/** Checks the shared options and builds the generator. */
export function sampled<D extends FloatDType>(caller: string, options: SampledOptions<D>, defaultN: number, minN = 0): Sampled<D> {
  const { n = defaultN, noise = 0, seed = 0, shuffle = true } = options;
  const dtype = (options.dtype ?? 'float32') as D;
  checkInt(caller, 'n', n, minN);
  checkNonNegative(caller, 'noise', noise);
  checkSeed(caller, seed);
  checkDType(caller, dtype);
  return { n, noise, rng: new Rng(seed), shuffle, dtype };
}

/** Number of samples class `c` gets when `n` are split over `classes`: the first `n % classes` get one more. */
export function classCount(n: number, classes: number, c: number): number {
  return Math.floor(n / classes) + (c < n % classes ? 1 : 0);
}

/** Shuffles rows of a 2-column classification set in place, keeping x and y together. */
export function shuffleRows<X extends FloatArrayOf<FloatDType>>(rng: Rng, x: X, y: Uint8Array, cols: number): void {
  for (let i = y.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const label = y[i] as number;
    y[i] = y[j] as number;
    y[j] = label;
    for (let k = 0; k < cols; k++) {
      const v = x[i * cols + k] as number;
      x[i * cols + k] = x[j * cols + k] as number;
      x[j * cols + k] = v;
    }
  }
}

/** Wraps arrays as a classification set with labels of shape [n]. */
export function classification<D extends FloatDType>(x: FloatArrayOf<D>, cols: number, y: Uint8Array): ClassificationDataset<FloatArrayOf<D>> {
  return { x, shape: [y.length, cols], y, yShape: [y.length] };
}
