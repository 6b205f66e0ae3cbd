/** Turning datasets (plain typed arrays) into the Tensor batches `fit` and `evaluate` take. */
import { tensor, type DType, type Tensor } from '@chainrule/autograd';
import { DataLoader, type Dataset, type NumericArray } from '@chainrule/datasets';

/** A batch as nn's `fit` and `evaluate` take it. */
export interface TensorBatch {
  x: Tensor;
  y: Tensor;
}

function floats(a: NumericArray): Float32Array | Float64Array {
  return a instanceof Float32Array || a instanceof Float64Array ? a : Float64Array.from(a);
}

/**
 * The whole dataset as one pair of tensors: class labels (an integer array) become int32 class
 * indices, regression targets `dtype` values. @example const { x, y } = toTensors(test)
 */
export function toTensors(ds: Dataset, dtype: DType = 'float32'): TensorBatch {
  const labels = !(ds.y instanceof Float32Array || ds.y instanceof Float64Array);
  return { x: tensor(floats(ds.x), { shape: ds.shape, dtype }), y: labels ? tensor(ds.y, { shape: ds.yShape, dtype: 'int32' }) : tensor(ds.y, { shape: ds.yShape, dtype }) };
}

/**
 * Mini-batches for `fit`: a function giving each epoch's batches, shuffled per epoch from `seed`.
 * @example fit(model, batches(train, { batchSize: 64, seed: 0 }), { ... })
 */
export function batches(ds: Dataset, options: { batchSize: number; seed?: number; shuffle?: boolean; dtype?: DType }): () => Iterable<TensorBatch> {
  const { batchSize, seed = 0, shuffle = true, dtype = 'float32' } = options;
  const loader = new DataLoader(ds, { batchSize, shuffle, seed });
  // Each for...of over the loader is its next epoch.
  return function* epoch() {
    for (const b of loader) yield toTensors(b, dtype);
  };
}
