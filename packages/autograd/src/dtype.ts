import { ShapeError } from './errors.js';
import { formatShape, type Shape } from './shape.js';

/** Element types a Tensor can hold. */
export type DType = 'float32' | 'float64';

/** The storage behind a Tensor: one contiguous row-major typed array. */
export type FloatArray = Float32Array | Float64Array;

/**
 * Allocates zeroed storage of `size` elements for `dtype`. A size that is not a non-negative
 * integer, or more than the JavaScript engine can allocate, is a ShapeError naming `op`, the
 * `shape` (when given) and the bytes it would need, instead of the engine's bare
 * "Invalid typed array length".
 */
export function allocate(dtype: DType, size: number, op = 'allocate', shape?: Shape): FloatArray {
  if (!Number.isSafeInteger(size) || size < 0) {
    const why = Number.isInteger(size) && size > 0 ? 'is more than this JavaScript engine can allocate' : 'is not a valid number of elements';
    throw sizeError(op, dtype, size, shape, why);
  }
  try {
    return dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw sizeError(op, dtype, size, shape, 'is more than this JavaScript engine can allocate');
  }
}

function sizeError(op: string, dtype: DType, size: number, shape: Shape | undefined, why: string): ShapeError {
  const bytes = size * (dtype === 'float32' ? 4 : 8);
  const what = shape === undefined ? `${size} ${dtype} elements` : `shape ${formatShape(shape)} (${size} ${dtype} elements)`;
  const need = Number.isFinite(bytes) && bytes >= 0 ? `, ${formatBytes(bytes)},` : '';
  return new ShapeError(`${op}: ${what}${need} ${why}`);
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v.toPrecision(3)} ${units[u]} (${bytes.toExponential(2)} bytes)`;
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64';
}
