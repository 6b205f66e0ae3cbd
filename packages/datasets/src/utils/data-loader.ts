import { gatherRows } from '../internal/arrays.js';
import { checkInt, layoutOf, type Layout } from '../internal/check.js';
import { checkSeed, Rng } from '../random.js';
import type { Dataset, DatasetLike, NumericArray } from '../types.js';

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Samples per batch. Default 1. */
  readonly batchSize?: number;
  /** Visit samples in a new random order every epoch. Default false. */
  readonly shuffle?: boolean;
  /** Seed of the shuffles; epoch e uses the stream (seed, e). Default 0. */
  readonly seed?: number;
  /** Leave out the last batch when it is smaller than batchSize. Default false. */
  readonly dropLast?: boolean;
}

/** One batch: a dataset of at most batchSize samples, plus the sample indices it was taken from. */
export interface Batch<X extends NumericArray = NumericArray, Y extends NumericArray = NumericArray> extends Dataset<X, Y> {
  /** Indices into the full dataset, in batch order. */
  readonly indices: Uint32Array;
}

/**
 * Iterates over a dataset in batches. Every `for...of` over the loader is a new epoch; with
 * `shuffle`, epoch e's order is a permutation drawn from (seed, e), so runs are reproducible.
 * Batches are copies (typed arrays plus shapes, not tensors as torch.utils.data.DataLoader gives);
 * `tensor(b.x, { shape: b.shape })` makes one.
 * @example for (const { x, shape, y } of new DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 })) { ... }
 */
export class DataLoader<X extends NumericArray = NumericArray, Y extends NumericArray = NumericArray> implements Iterable<Batch<X, Y>> {
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch visits the samples in a fresh random order. */
  readonly shuffle: boolean;
  /** Seed of the per-epoch shuffles. */
  readonly seed: number;
  /** Whether a final short batch is left out. */
  readonly dropLast: boolean;
  /** Number of batches in one epoch. */
  readonly length: number;
  private readonly dataset: DatasetLike<X, Y>;
  private readonly layout: Layout;
  private nextEpoch = 0;

  /**
   * @throws ArgumentError if `batchSize` is not an integer >= 1, `seed` is not a safe integer, or
   * the dataset's arrays do not match its shapes.
   */
  constructor(dataset: DatasetLike<X, Y>, options: DataLoaderOptions = {}) {
    const { batchSize = 1, shuffle = false, seed = 0, dropLast = false } = options;
    checkInt('DataLoader', 'batchSize', batchSize, 1);
    checkSeed('DataLoader', seed);
    this.layout = layoutOf('DataLoader', dataset);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
    const n = this.layout.n;
    this.length = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }

  /** Epochs started so far by iteration; the next `for...of` runs epoch `epochsStarted`. */
  get epochsStarted(): number {
    return this.nextEpoch;
  }

  /** Number of samples in the dataset. */
  get size(): number {
    return this.layout.n;
  }

  /**
   * The order in which epoch `e` visits the samples (0..n-1 without shuffle).
   * @throws ArgumentError if `epoch` is not a non-negative integer.
   * @example loader.order(0)
   */
  order(epoch: number): Uint32Array {
    checkInt('DataLoader.order', 'epoch', epoch, 0);
    const n = this.layout.n;
    if (this.shuffle) return new Rng(this.seed, epoch).permutation(n);
    const identity = new Uint32Array(n);
    for (let i = 0; i < n; i++) identity[i] = i;
    return identity;
  }

  /**
   * The batches of epoch `e`, independent of how many epochs ran before.
   * @throws ArgumentError as `order`.
   * @example [...loader.epoch(3)]
   */
  *epoch(epoch: number): Generator<Batch<X, Y>, void, undefined> {
    const order = this.order(epoch);
    const { xRow, yRow, yShape } = this.layout;
    const { x, y, shape } = this.dataset;
    const tail = shape.slice(1);
    const yTail = yShape.slice(1);
    for (let b = 0; b < this.length; b++) {
      const start = b * this.batchSize;
      const end = Math.min(start + this.batchSize, order.length);
      const m = end - start;
      yield {
        x: gatherRows(x, xRow, order, start, end),
        shape: [m, ...tail],
        y: gatherRows(y, yRow, order, start, end),
        yShape: [m, ...yTail],
        indices: order.slice(start, end),
      };
    }
  }

  /** Starts the next epoch: `for (const batch of loader)` runs epochs 0, 1, 2... in turn. */
  [Symbol.iterator](): Iterator<Batch<X, Y>> {
    return this.epoch(this.nextEpoch++);
  }
}
