/** Any typed array of plain numbers (no BigInt arrays). */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** Floating-point typed arrays, the kind features are stored in. */
export type FloatArray = Float32Array | Float64Array;

/** Names of the float dtypes a synthetic set can be generated in. */
export type FloatDType = 'float32' | 'float64';

/** The typed array that holds a given float dtype. */
export type FloatArrayOf<D extends FloatDType> = D extends 'float64' ? Float64Array : Float32Array;

/**
 * Samples along the first axis: `x` holds `shape` in row-major order (`shape[0]` samples),
 * `y` holds `yShape` (also `yShape[0]` samples). Pass to a Tensor as `tensor(ds.x, { shape: ds.shape })`.
 */
export interface Dataset<X extends NumericArray = NumericArray, Y extends NumericArray = NumericArray> {
  /** Features, row-major. */
  readonly x: X;
  /** Shape of `x`; `shape[0]` is the number of samples. */
  readonly shape: number[];
  /** Labels (integer classes) or targets. */
  readonly y: Y;
  /** Shape of `y`: `[n]` for class labels, `[n, 1]` or `[n, k]` for regression targets. */
  readonly yShape: number[];
}

/** A dataset as accepted by the utilities: `yShape` may be left out when `y` has one value per sample. */
export interface DatasetLike<X extends NumericArray = NumericArray, Y extends NumericArray = NumericArray> {
  /** Features, row-major. */
  readonly x: X;
  /** Shape of `x`; `shape[0]` is the number of samples. */
  readonly shape: readonly number[];
  /** Labels or targets. */
  readonly y: Y;
  /** Shape of `y`; defaults to `[n]`, or `[n, y.length / n]` when `y` has several values per sample. */
  readonly yShape?: readonly number[];
}

/** A classification set: float features and integer class labels of shape `[n]`. */
export type ClassificationDataset<X extends FloatArray = Float32Array> = Dataset<X, Uint8Array>;

/** A regression set: float features and float targets (shape `[n, 1]` unless stated). */
export type RegressionDataset<X extends FloatArray = Float32Array> = Dataset<X, X>;
