/**
 * @chainrule/datasets: data as plain typed arrays plus shapes. This entry is browser-safe (it
 * imports no Node built-in); file readers, MNIST digits and California housing live in
 * '@chainrule/datasets/node'. To get a Tensor: `tensor(ds.x, { shape: ds.shape })`.
 * @document ../README.md
 * @module @chainrule/datasets
 */
export { ArgumentError, DataFileError, DataFormatError } from './errors.js';
export type { DataLocation } from './errors.js';
export { Rng } from './random.js';
export type {
  ClassificationDataset,
  Dataset,
  DatasetLike,
  FloatArray,
  FloatArrayOf,
  FloatDType,
  NumericArray,
  RegressionDataset,
} from './types.js';
export { circles, moons, spirals, xor } from './synthetic/classification.js';
export type { CirclesOptions, SpiralsOptions, XorOptions } from './synthetic/classification.js';
export type { SampledOptions } from './synthetic/common.js';
export { linearRegression, sine } from './synthetic/regression.js';
export type { LinearRegressionDataset, LinearRegressionOptions, SineOptions } from './synthetic/regression.js';
export { DataLoader } from './utils/data-loader.js';
export type { Batch, DataLoaderOptions } from './utils/data-loader.js';
export { trainTestSplit } from './utils/split.js';
export type { SplitOptions } from './utils/split.js';
export { minMaxScale, standardize } from './utils/scale.js';
export type { Features, MinMaxOptions, MinMaxScaled, Standardized } from './utils/scale.js';
export { oneHot } from './utils/one-hot.js';
export { CSV_MAX_FIELD_LENGTH, CSV_MAX_RECORD_LENGTH, parseCsv } from './csv.js';
export type { CsvOptions, CsvTable, NanPolicy } from './csv.js';
export { parseIdx } from './idx.js';
export type { IdxArray, IdxType } from './idx.js';
