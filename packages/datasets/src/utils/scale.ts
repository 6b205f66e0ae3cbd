import { ArgumentError } from '../errors.js';
import { emptyLike } from '../internal/arrays.js';
import { checkShape, fmtShape, rowSize, shapeSize } from '../internal/check.js';
import type { FloatArray } from '../types.js';

/** Anything with float features laid out as [n, ...]: a dataset, a batch, or just `{ x, shape }`. */
export interface Features<X extends FloatArray = FloatArray> {
  /** Features, row-major. */
  readonly x: X;
  /** Shape of `x`; statistics are taken per column over the first axis. */
  readonly shape: readonly number[];
}

/** Result of {@link standardize}: scaled copies and the statistics, fitted on train. */
export interface Standardized<T, U> {
  /** Train set with x scaled. */
  readonly train: T;
  /** Test set with x scaled by the train statistics (undefined when none was given). */
  readonly test: U;
  /** Per-column mean of the train features. */
  readonly mean: Float64Array;
  /** Per-column population standard deviation of the train features (0 where constant). */
  readonly std: Float64Array;
  /** Applies the same scaling to another set, e.g. new data at inference time. */
  readonly transform: (data: T) => T;
}

/** Result of {@link minMaxScale}: scaled copies and the per-column ranges, fitted on train. */
export interface MinMaxScaled<T, U> {
  /** Train set with x mapped into `range`. */
  readonly train: T;
  /** Test set scaled with the train ranges (it may fall outside `range`). */
  readonly test: U;
  /** Per-column minimum of the train features. */
  readonly min: Float64Array;
  /** Per-column maximum of the train features. */
  readonly max: Float64Array;
  /** Applies the same scaling to another set. */
  readonly transform: (data: T) => T;
}

/** Options of {@link minMaxScale}. */
export interface MinMaxOptions {
  /** Target interval. Default [0, 1]. */
  readonly range?: readonly [number, number];
}

function columnsOf(caller: string, what: string, data: Features): number {
  if (!(data.x instanceof Float32Array || data.x instanceof Float64Array)) {
    throw new TypeError(`${caller}: ${what}.x must be a Float32Array or Float64Array (scaled values are fractional)`);
  }
  checkShape(caller, `${what}.shape`, data.shape);
  if (data.x.length !== shapeSize(data.shape)) {
    throw new ArgumentError(`${caller}: ${what}.x has ${data.x.length} values but shape ${fmtShape(data.shape)} needs ${shapeSize(data.shape)}`);
  }
  return rowSize(data.shape);
}

/** Throws, naming the first one, if the set a scaling is fitted on holds NaN or an infinity. */
function checkFinite(caller: string, x: FloatArray, cols: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (v - v !== 0) {
      throw new ArgumentError(`${caller}: train.x holds ${v} at row ${Math.floor(i / cols)}, column ${i % cols}; the statistics need finite values`);
    }
  }
}

/** The error for a column whose statistics do not fit in float64 although its values do. */
function overflow(caller: string, column: number, min: number, max: number): ArgumentError {
  return new ArgumentError(
    `${caller}: column ${column} of train spans ${min} to ${max}, wider than float64 can hold as one number; scale it down first`,
  );
}

/** The smallest and largest value of column `j`. */
function columnRange(x: FloatArray, cols: number, j: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = j; i < x.length; i += cols) {
    lo = Math.min(lo, x[i] as number);
    hi = Math.max(hi, x[i] as number);
  }
  return [lo, hi];
}

/** A copy of `data` with x[i, j] replaced by (x[i, j] - shift[j]) * factor[j]. */
function affine<T extends Features>(caller: string, what: string, data: T, shift: Float64Array, factor: Float64Array, offset: number): T {
  const cols = columnsOf(caller, what, data);
  if (cols !== shift.length) {
    throw new ArgumentError(`${caller}: ${what} has ${cols} columns per sample but the scaling was fitted on ${shift.length}`);
  }
  const src = data.x;
  const out = emptyLike(src, src.length);
  for (let i = 0; i < src.length; i += cols) {
    for (let j = 0; j < cols; j++) {
      out[i + j] = ((src[i + j] as number) - (shift[j] as number)) * (factor[j] as number) + offset;
    }
  }
  // The copy keeps every other field (y, yShape, names) of the caller's object.
  return { ...data, x: out };
}

/**
 * Scales every feature column to mean 0 and standard deviation 1, with statistics taken from
 * `train` only (so nothing of the test set leaks into training). Constant columns are only
 * centred. Returns new arrays; the inputs are not changed. The standard deviation is the
 * population one (divided by n), as scikit-learn's StandardScaler.
 * @throws ArgumentError where train holds NaN or an infinity (naming row and column), has no
 * samples, a column's mean or spread would overflow float64, x does not match its shape, or test
 * has another number of columns.
 * @throws TypeError if an x is not a Float32Array or Float64Array.
 * @example const { train: tr, test: te, mean, std } = standardize(train, test);
 */
export function standardize<T extends Features>(train: T): Standardized<T, undefined>;
export function standardize<T extends Features>(train: T, test: T): Standardized<T, T>;
export function standardize<T extends Features>(train: T, test?: T): Standardized<T, T | undefined> {
  const cols = columnsOf('standardize', 'train', train);
  const n = train.shape[0] as number;
  if (n === 0) throw new ArgumentError('standardize: train has no samples to fit on');
  const src = train.x;
  checkFinite('standardize', src, cols);
  const mean = new Float64Array(cols);
  const std = new Float64Array(cols);
  for (let i = 0; i < src.length; i += cols) {
    for (let j = 0; j < cols; j++) mean[j] = (mean[j] as number) + (src[i + j] as number);
  }
  for (let j = 0; j < cols; j++) mean[j] = (mean[j] as number) / n;
  // Two passes: summing squared deviations is far more accurate than E[x²] - E[x]². The
  // deviations are divided by their largest magnitude before squaring (as hypot does), so
  // features around 1e-160 or 1e160 neither underflow nor overflow.
  const largest = new Float64Array(cols);
  for (let i = 0; i < src.length; i += cols) {
    for (let j = 0; j < cols; j++) {
      const d = Math.abs((src[i + j] as number) - (mean[j] as number));
      if (d > (largest[j] as number)) largest[j] = d;
    }
  }
  for (let i = 0; i < src.length; i += cols) {
    for (let j = 0; j < cols; j++) {
      const scale = largest[j] as number;
      if (scale === 0) continue;
      const d = ((src[i + j] as number) - (mean[j] as number)) / scale;
      std[j] = (std[j] as number) + d * d;
    }
  }
  const factor = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    std[j] = (largest[j] as number) * Math.sqrt((std[j] as number) / n);
    if (!Number.isFinite(mean[j]) || !Number.isFinite(std[j])) throw overflow('standardize', j, ...columnRange(src, cols, j));
    // A spread so small that its reciprocal overflows (subnormal) is treated as none at all.
    const inverse = 1 / (std[j] as number);
    factor[j] = Number.isFinite(inverse) ? inverse : 1;
  }
  const transform = (data: T): T => affine('standardize', 'data', data, mean, factor, 0);
  return {
    train: affine('standardize', 'train', train, mean, factor, 0),
    test: test === undefined ? undefined : affine('standardize', 'test', test, mean, factor, 0),
    mean,
    std,
    transform,
  };
}

/**
 * Maps every feature column linearly so that train's minimum goes to range[0] and its maximum
 * to range[1]; constant columns go to range[0]. Returns new arrays, as scikit-learn's MinMaxScaler.
 * @throws ArgumentError where train holds NaN or an infinity, has no samples, a column spans more
 * than float64 can hold (max − min overflows), `range` is not finite with low < high, x does not
 * match its shape, or test has another number of columns.
 * @throws TypeError if an x is not a Float32Array or Float64Array.
 * @example const { train: tr, test: te } = minMaxScale(train, test, { range: [-1, 1] });
 */
export function minMaxScale<T extends Features>(train: T, test?: undefined, options?: MinMaxOptions): MinMaxScaled<T, undefined>;
export function minMaxScale<T extends Features>(train: T, test: T, options?: MinMaxOptions): MinMaxScaled<T, T>;
export function minMaxScale<T extends Features>(train: T, test?: T, options: MinMaxOptions = {}): MinMaxScaled<T, T | undefined> {
  const { range = [0, 1] } = options;
  const [low, high] = range;
  if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) {
    throw new ArgumentError(`minMaxScale: range must be finite with low < high, got [${String(low)}, ${String(high)}]`);
  }
  const cols = columnsOf('minMaxScale', 'train', train);
  if (train.shape[0] === 0) throw new ArgumentError('minMaxScale: train has no samples to fit on');
  const src = train.x;
  checkFinite('minMaxScale', src, cols);
  const min = new Float64Array(cols).fill(Infinity);
  const max = new Float64Array(cols).fill(-Infinity);
  for (let i = 0; i < src.length; i += cols) {
    for (let j = 0; j < cols; j++) {
      const v = src[i + j] as number;
      if (v < (min[j] as number)) min[j] = v;
      if (v > (max[j] as number)) max[j] = v;
    }
  }
  const factor = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    const span = (max[j] as number) - (min[j] as number);
    if (span === Infinity) throw overflow('minMaxScale', j, min[j] as number, max[j] as number);
    factor[j] = span > 0 ? (high - low) / span : 0;
  }
  const transform = (data: T): T => affine('minMaxScale', 'data', data, min, factor, low);
  return {
    train: affine('minMaxScale', 'train', train, min, factor, low),
    test: test === undefined ? undefined : affine('minMaxScale', 'test', test, min, factor, low),
    min,
    max,
    transform,
  };
}
