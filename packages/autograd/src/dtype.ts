import { ShapeError } from './errors.js';
import { formatShape, type Shape } from './shape.js';
import { unclearedAllocator } from './kernels/environment.js';
import { adoptBuffer, POOL_MIN_BYTES, takeBuffer } from './storage-pool.js';

/**
 * Element types a Tensor can hold: floating point (which can carry gradients), 32-bit signed
 * integers (indices, class labels) and booleans (masks, stored as 0/1 bytes).
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** The floating-point dtypes: the only ones gradients flow through. */
export type FloatDType = 'float32' | 'float64';

/** The storage of a floating-point Tensor. */
export type FloatArray = Float32Array | Float64Array;

/**
 * The storage behind a Tensor: one contiguous row-major typed array, Float32Array, Float64Array,
 * Int32Array (int32) or Uint8Array holding 0 and 1 (bool).
 */
export type TensorData = FloatArray | Int32Array | Uint8Array;

/** The storage type of each dtype. */
export interface DTypeStorage {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/**
 * Allocates zeroed storage of `size` elements for `dtype`: from the pool of freed storage
 * (storage-pool.ts), cleared, when it holds a buffer of that byte size, else new. A size that is
 * not a non-negative integer, or more than the JavaScript engine can allocate, is a ShapeError
 * naming `op`, the `shape` (when given) and the bytes it would need, instead of the engine's bare
 * "Invalid typed array length".
 */
export function allocate<D extends DType>(dtype: D, size: number, op = 'allocate', shape?: Shape): DTypeStorage[D] {
  // The usual case, a small float buffer, as two plain constructions the caller can inline.
  if (size <= SMALL && size >= 0 && Math.floor(size) === size) {
    if (dtype === 'float32') return new Float32Array(size) as DTypeStorage[D];
    if (dtype === 'float64') return new Float64Array(size) as DTypeStorage[D];
  }
  return allocateChecked(dtype, size, op, shape);
}

/** `allocate` past its small-float case, apart so that `allocate` stays small enough to inline. */
function allocateChecked<D extends DType>(dtype: D, size: number, op: string, shape: Shape | undefined): DTypeStorage[D] {
  if (!Number.isSafeInteger(size) || size < 0) {
    const why = Number.isInteger(size) && size > 0 ? 'is more than this JavaScript engine can allocate' : 'is not a valid number of elements';
    throw sizeError(op, dtype, size, shape, why);
  }
  const bytes = size * bytesPerElement(dtype);
  if (bytes >= POOL_MIN_BYTES) {
    const reused = takeBuffer(bytes);
    if (reused !== undefined) return viewOf(dtype, reused, size).fill(0) as DTypeStorage[D];
  }
  let made: DTypeStorage[D];
  try {
    made = newStorage(dtype, size);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw sizeError(op, dtype, size, shape, 'is more than this JavaScript engine can allocate');
  }
  if (bytes >= POOL_MIN_BYTES) adoptBuffer(made.buffer as ArrayBuffer);
  return made;
}

const EMPTY: { readonly [D in DType]: DTypeStorage[D] } = {
  float32: new Float32Array(0),
  float64: new Float64Array(0),
  int32: new Int32Array(0),
  bool: new Uint8Array(0),
};

/**
 * One empty storage of `dtype`, shared by every caller: for a tensor whose values live elsewhere
 * (a vmap batch, a lazy copy) and that must never read or write its own. Each typed array is an
 * ArrayBuffer the garbage collector tracks, and such tensors are made for every op inside vmap.
 */
export function emptyStorage<D extends DType>(dtype: D): DTypeStorage[D] {
  return EMPTY[dtype];
}

/**
 * Up to this many elements allocation is taken to succeed, and no size is large enough for the
 * pool of freed storage (16 KiB of float64): a plain construction the caller can inline.
 */
const SMALL = POOL_MIN_BYTES / 8 - 1;

/**
 * Storage of `size` elements of `dtype` whose values are left unset, for a kernel that
 * then writes every one of them (a result would otherwise be written twice: cleared, then
 * computed): from the pool of freed storage as it was left, when it holds that byte size. Where Node's Buffer is at hand and the storage is large, it is memory the
 * allocator does not clear (`Buffer.allocUnsafeSlow`, its own ArrayBuffer): a recycled block
 * is then not swept once more, nor a fresh one faulted in by the clearing. Elsewhere, and for
 * small sizes (where clearing costs less than the call), it is `allocate`'s zeroed storage.
 * A caller with storage of its own making (`make`, asked only when the pool has none; null for
 * none) takes it before either. Errors as `allocate`'s.
 */
export function allocateUnset<D extends DType>(dtype: D, size: number, op = 'allocate', shape?: Shape, make?: () => DTypeStorage[D] | null): DTypeStorage[D] {
  const bytes = size * bytesPerElement(dtype);
  if (bytes >= POOL_MIN_BYTES && Number.isSafeInteger(size)) {
    const reused = takeBuffer(bytes);
    if (reused !== undefined) return viewOf(dtype, reused, size);
    const made = make?.();
    if (made !== null && made !== undefined) return made;
  }
  const unsafe = bytes >= UNSET_MIN_BYTES && Number.isSafeInteger(size) ? unclearedAllocator() : undefined;
  if (unsafe === undefined) return allocate(dtype, size, op, shape);
  let raw: Uint8Array;
  try {
    raw = unsafe(bytes);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw sizeError(op, dtype, size, shape, 'is more than this JavaScript engine can allocate');
  }
  // A Buffer this size has an ArrayBuffer of its own, from its start (no pool, no offset).
  if (raw.byteOffset !== 0 || raw.byteLength !== bytes || raw.buffer.byteLength !== bytes) return allocate(dtype, size, op, shape);
  adoptBuffer(raw.buffer as ArrayBuffer);
  return viewOf(dtype, raw.buffer as ArrayBuffer, size);
}

/** Below this, `allocateUnset` takes zeroed storage: clearing 64 KiB costs about what the Buffer call does. */
const UNSET_MIN_BYTES = 1 << 16;

/** `size` elements of `dtype` over the whole of `buffer`. */
function viewOf<D extends DType>(dtype: D, buffer: ArrayBuffer, size: number): DTypeStorage[D] {
  const made: TensorData =
    dtype === 'float32'
      ? new Float32Array(buffer, 0, size)
      : dtype === 'float64'
        ? new Float64Array(buffer, 0, size)
        : dtype === 'int32'
          ? new Int32Array(buffer, 0, size)
          : new Uint8Array(buffer, 0, size);
  return made as DTypeStorage[D];
}

function newStorage<D extends DType>(dtype: D, size: number): DTypeStorage[D] {
  const made: TensorData =
    dtype === 'float32' ? new Float32Array(size) : dtype === 'float64' ? new Float64Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
  return made as DTypeStorage[D];
}

/** The dtype a storage array holds, or undefined for an array no Tensor can wrap. */
export function dtypeOfStorage(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  return undefined;
}

/** Bytes per element. */
export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}

function sizeError(op: string, dtype: DType, size: number, shape: Shape | undefined, why: string): ShapeError {
  const bytes = size * bytesPerElement(dtype);
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

/** Whether `x` names a dtype. */
export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64' || x === 'int32' || x === 'bool';
}

/** Whether `dtype` is floating point (can carry gradients). */
export function isFloatDType(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

/** The names of the dtypes, for error messages. */
export const DTYPE_NAMES = "'float32', 'float64', 'int32' or 'bool'";
