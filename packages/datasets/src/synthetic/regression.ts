import { ArgumentError } from '../errors.js';
import { allocFloat } from '../internal/arrays.js';
import { checkFinite, checkInt } from '../internal/check.js';
import { sampled, type SampledOptions } from './common.js';
import type { FloatArrayOf, FloatDType, RegressionDataset } from '../types.js';

/** Options of {@link linearRegression}. */
export interface LinearRegressionOptions<D extends FloatDType = 'float32'> extends Omit<SampledOptions<D>, 'shuffle'> {
  /** Number of features; taken from `weights` when those are given. Default 1. */
  readonly features?: number;
  /** True weights; drawn from N(0, 1) when left out. */
  readonly weights?: ArrayLike<number>;
  /** True intercept. Default 0. */
  readonly bias?: number;
}

/** A linear regression set together with the parameters that generated it. */
export interface LinearRegressionDataset<X extends Float32Array | Float64Array> extends RegressionDataset<X> {
  /** The true weights, one per feature. */
  readonly weights: Float64Array;
  /** The true intercept. */
  readonly bias: number;
}

/**
 * y = x·w + bias + noise·N(0,1) with x ~ N(0, 1): a problem whose answer is known.
 * x has shape [n, features], y shape [n, 1]; the true `weights` and `bias` come back too.
 * @throws ArgumentError if `features` disagrees with `weights`' length, a weight or `bias` is not
 * finite, or a shared option is out of range (see `xor`).
 * @example const ds = linearRegression({ n: 100, weights: [2, -1], bias: 0.5, noise: 0.1, seed: 0 });
 */
export function linearRegression<D extends FloatDType = 'float32'>(
  options: LinearRegressionOptions<D> = {},
): LinearRegressionDataset<FloatArrayOf<D>> {
  const { n, noise, rng, dtype } = sampled('linearRegression', options, 100);
  const { bias = 0 } = options;
  checkFinite('linearRegression', 'bias', bias);
  const d = options.weights?.length ?? options.features ?? 1;
  checkInt('linearRegression', 'features', d, 1);
  if (options.weights !== undefined && options.features !== undefined && options.features !== d) {
    throw new ArgumentError(`linearRegression: features is ${options.features} but weights has ${d} entries`);
  }
  const weights = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    weights[j] = options.weights === undefined ? rng.normal() : (options.weights[j] as number);
    checkFinite('linearRegression', `weights[${j}]`, weights[j] as number);
  }
  const x = allocFloat(dtype, n * d);
  const y = allocFloat(dtype, n);
  for (let i = 0; i < n; i++) {
    // The target is computed from the stored (possibly float32-rounded) features, so the
    // relation holds exactly for the numbers the caller sees.
    let target = bias;
    for (let j = 0; j < d; j++) {
      x[i * d + j] = rng.normal();
      target += (x[i * d + j] as number) * (weights[j] as number);
    }
    y[i] = target + noise * rng.normal();
  }
  return { x, shape: [n, d], y, yShape: [n, 1], weights, bias };
}

/** Options of {@link sine}. */
export interface SineOptions<D extends FloatDType = 'float32'> extends Omit<SampledOptions<D>, 'shuffle'> {
  /** Interval x is drawn from. Default [-π, π]. */
  readonly range?: readonly [number, number];
  /** Evenly spaced x over `range` (both ends included) instead of uniform draws. Default false. */
  readonly grid?: boolean;
}

/**
 * y = sin(x) + noise·N(0,1), x uniform over `range` (or an even grid): a 1-D curve-fitting set,
 * x and y both of shape [n, 1].
 * @throws ArgumentError if `range` is not finite with low < high, or a shared option is out of range (see `xor`).
 * @example sine({ n: 64, noise: 0.05, seed: 0 }); sine({ n: 100, grid: true })
 */
export function sine<D extends FloatDType = 'float32'>(options: SineOptions<D> = {}): RegressionDataset<FloatArrayOf<D>> {
  const { n, noise, rng, dtype } = sampled('sine', options, 100);
  const { range = [-Math.PI, Math.PI], grid = false } = options;
  const [low, high] = range;
  checkFinite('sine', 'range[0]', low);
  checkFinite('sine', 'range[1]', high);
  if (!(low < high)) throw new ArgumentError(`sine: range must have low < high, got [${low}, ${high}]`);
  const x = allocFloat(dtype, n);
  const y = allocFloat(dtype, n);
  for (let i = 0; i < n; i++) {
    x[i] = grid ? (n > 1 ? low + ((high - low) * i) / (n - 1) : low) : rng.uniform(low, high);
    y[i] = Math.sin(x[i] as number) + noise * rng.normal();
  }
  return { x, shape: [n, 1], y, yShape: [n, 1] };
}
