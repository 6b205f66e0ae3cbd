import { decodeIdx, type IdxArray } from '../idx.js';
import { isGzip, maybeGunzip, pathString, readBytes, type PathLike } from './files.js';

/** readIdx with the caller's name in its messages (fashionMnist reads through this). */
export function readIdxAs(caller: string, path: PathLike): IdxArray {
  const file = pathString(path);
  const raw = readBytes(caller, file);
  const gz = isGzip(raw);
  return decodeIdx(caller, maybeGunzip(caller, file, raw), file, gz);
}

/**
 * Reads an IDX file (MNIST, Fashion-MNIST, EMNIST...), plain or gzipped (told by its first
 * bytes), into a typed array of the declared element type with its shape.
 * @throws DataFileError if the file cannot be read; DataFormatError as `parseIdx`, or for damaged gzip data.
 * @example const { data, shape } = readIdx('/data/train-images-idx3-ubyte.gz'); // Uint8Array, [60000, 28, 28]
 */
export function readIdx(path: PathLike): IdxArray {
  return readIdxAs('readIdx', path);
}
