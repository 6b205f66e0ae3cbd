import { ArgumentError } from '../errors.js';
import { gatherRows } from '../internal/arrays.js';
import { layoutOf } from '../internal/check.js';
import { checkSeed, Rng } from '../random.js';
import type { Dataset, DatasetLike, NumericArray } from '../types.js';

/** Options of {@link trainTestSplit}. */
export interface SplitOptions {
  /** Share of the samples that go to the test set, in [0, 1]; the count rounds up. Default 0.2. */
  readonly testFraction?: number;
  /** Seed of the shuffle. Default 0. */
  readonly seed?: number;
  /** Shuffle before splitting (otherwise the test set is the tail). Default true. */
  readonly shuffle?: boolean;
}

/**
 * Splits a dataset into disjoint train and test sets; ceil(testFraction·n) samples go to test,
 * as in scikit-learn's train_test_split. The inputs are not changed; both parts are copies.
 * @throws ArgumentError if `testFraction` is outside [0, 1], `seed` is not a safe integer, or the
 * dataset's arrays do not match its shapes.
 * @example const { train, test } = trainTestSplit(ds, { testFraction: 0.25, seed: 0 });
 */
export function trainTestSplit<X extends NumericArray, Y extends NumericArray>(
  dataset: DatasetLike<X, Y>,
  options: SplitOptions = {},
): {
  /** The other n - ceil(testFraction·n) samples. */
  train: Dataset<X, Y>;
  /** ceil(testFraction·n) samples. */
  test: Dataset<X, Y>;
} {
  const { testFraction = 0.2, seed = 0, shuffle = true } = options;
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new ArgumentError(`trainTestSplit: testFraction must be in [0, 1], got ${String(testFraction)}`);
  }
  checkSeed('trainTestSplit', seed);
  const { n, xRow, yRow, yShape } = layoutOf('trainTestSplit', dataset);
  // A relative slack keeps 0.3 * 10 (3.0000000000000004 in floating point) at 3.
  const exact = testFraction * n;
  const nTest = Math.min(n, Math.ceil(exact - 1e-12 * Math.max(1, exact)));
  const nTrain = n - nTest;
  let order: Uint32Array;
  if (shuffle) {
    order = new Rng(seed).permutation(n);
  } else {
    order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  const tail = dataset.shape.slice(1);
  const yTail = yShape.slice(1);
  const part = (start: number, end: number): Dataset<X, Y> => ({
    x: gatherRows(dataset.x, xRow, order, start, end),
    shape: [end - start, ...tail],
    y: gatherRows(dataset.y, yRow, order, start, end),
    yShape: [end - start, ...yTail],
  });
  return { train: part(0, nTrain), test: part(nTrain, n) };
}
