/**
 * @chainrule/datasets/node: everything that needs the file system or Node's module loader.
 * The browser-safe API is re-exported too, so one import serves a Node script.
 * @module @chainrule/datasets/node
 */
export {
  ArgumentError,
  CSV_MAX_FIELD_LENGTH,
  CSV_MAX_RECORD_LENGTH,
  circles,
  DataFileError,
  DataFormatError,
  DataLoader,
  linearRegression,
  minMaxScale,
  moons,
  oneHot,
  parseCsv,
  parseIdx,
  Rng,
  sine,
  spirals,
  standardize,
  trainTestSplit,
  xor,
} from './index.js';
export type {
  Batch,
  CirclesOptions,
  ClassificationDataset,
  CsvOptions,
  CsvTable,
  DataLoaderOptions,
  DataLocation,
  Dataset,
  DatasetLike,
  Features,
  FloatArray,
  FloatArrayOf,
  FloatDType,
  IdxArray,
  IdxType,
  LinearRegressionDataset,
  LinearRegressionOptions,
  MinMaxOptions,
  MinMaxScaled,
  NanPolicy,
  NumericArray,
  RegressionDataset,
  SampledOptions,
  SineOptions,
  SplitOptions,
  SpiralsOptions,
  Standardized,
  XorOptions,
} from './index.js';
export { readIdx } from './node/read-idx.js';
export { fashionMnist, fashionMnistClasses } from './node/fashion-mnist.js';
export type { FashionMnist, FashionMnistOptions } from './node/fashion-mnist.js';
export { readCsv } from './node/read-csv.js';
export type { PathLike } from './node/files.js';
export { mnistDigits } from './node/mnist-digits.js';
export type { MnistDigits, MnistDigitsOptions } from './node/mnist-digits.js';
export { californiaHousing, californiaHousingFeatures } from './node/california-housing.js';
export type { CaliforniaHousing, CaliforniaHousingFeature, CaliforniaHousingOptions } from './node/california-housing.js';
