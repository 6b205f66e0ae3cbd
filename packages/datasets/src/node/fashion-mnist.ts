import { join } from 'node:path';
import { DataFormatError } from '../errors.js';
import { fmtShape } from '../internal/check.js';
import type { ClassificationDataset } from '../types.js';
import { pathString, type PathLike } from './files.js';
import { readIdxAs } from './read-idx.js';

/** Fashion-MNIST class names, indexed by label. */
export const fashionMnistClasses: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Options of {@link fashionMnist}. */
export interface FashionMnistOptions {
  /** Directory holding the four standard .gz files (Debian's dataset-fashion-mnist installs them here). */
  readonly dir?: PathLike;
}

/** Fashion-MNIST: x [n, 784] float32 in [0, 1], y [n] labels 0-9 (see fashionMnistClasses). */
export interface FashionMnist {
  /** The 60,000 training images. */
  readonly train: ClassificationDataset<Float32Array>;
  /** The 10,000 test images. */
  readonly test: ClassificationDataset<Float32Array>;
}

function loadSplit(dir: string, prefix: 'train' | 't10k'): ClassificationDataset<Float32Array> {
  const imagesPath = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelsPath = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  const images = readIdxAs('fashionMnist', imagesPath);
  const labels = readIdxAs('fashionMnist', labelsPath);
  if (images.type !== 'uint8' || images.shape.length !== 3) {
    throw new DataFormatError(`fashionMnist: ${imagesPath}: expected uint8 images [n, rows, cols], got ${images.type} ${fmtShape(images.shape)}`, {
      path: imagesPath,
    });
  }
  if (labels.type !== 'uint8' || labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new DataFormatError(
      `fashionMnist: ${labelsPath}: expected ${String(images.shape[0])} uint8 labels to match the images, got ${labels.type} ${fmtShape(labels.shape)}`,
      { path: labelsPath },
    );
  }
  const n = images.shape[0] as number;
  const pixels = (images.shape[1] as number) * (images.shape[2] as number);
  const src = images.data;
  const x = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) x[i] = (src[i] as number) / 255;
  return { x, shape: [n, pixels], y: labels.data as Uint8Array, yShape: [n] };
}

/**
 * Reads Fashion-MNIST from the four standard IDX files (train-images-idx3-ubyte.gz,
 * train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz),
 * pixels scaled to [0, 1] and flattened to 784 per image.
 * @throws DataFileError if a file is missing or unreadable (for instance when the dataset is not
 * installed); DataFormatError if a file is not the IDX array it should be, or images and labels disagree.
 * @example const { train, test } = fashionMnist(); // train.shape [60000, 784]
 */
export function fashionMnist(options: FashionMnistOptions = {}): FashionMnist {
  const dir = pathString(options.dir ?? '/usr/share/datasets/fashion-mnist');
  return { train: loadSplit(dir, 'train'), test: loadSplit(dir, 't10k') };
}
