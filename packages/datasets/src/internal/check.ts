import { ArgumentError } from '../errors.js';
import type { FloatDType, NumericArray } from '../types.js';

/** Throws unless `value` is an integer >= `min`. */
export function checkInt(caller: string, name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ArgumentError(`${caller}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(caller: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new ArgumentError(`${caller}: ${name} must be a finite number >= 0, got ${String(value)}`);
  }
}

/** Throws unless `value` is a finite number. */
export function checkFinite(caller: string, name: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new ArgumentError(`${caller}: ${name} must be a finite number, got ${String(value)}`);
  }
}

/** Throws unless `dtype` is a float dtype name (JavaScript callers can pass anything). */
export function checkDType(caller: string, dtype: string): asserts dtype is FloatDType {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new ArgumentError(`${caller}: dtype must be 'float32' or 'float64', got ${JSON.stringify(dtype)}`);
  }
}

/** Formats a shape the way every message does: `[2,3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Product of the dimensions after the first: the number of values per sample. */
export function rowSize(shape: readonly number[]): number {
  let size = 1;
  for (let i = 1; i < shape.length; i++) size *= shape[i] as number;
  return size;
}

/** Number of values a shape holds. */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** Throws unless `shape` is a list of non-negative integers with at least one axis. */
export function checkShape(caller: string, name: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ArgumentError(`${caller}: ${name} must be a non-empty list of non-negative integers, got ${String(shape)}`);
  }
}

/** The layout of a dataset after checking that its arrays and shapes agree. */
export interface Layout {
  /** Number of samples. */
  n: number;
  /** Values of x per sample. */
  xRow: number;
  /** Values of y per sample. */
  yRow: number;
  /** Resolved shape of y. */
  yShape: number[];
}

/** Checks a dataset's arrays against its shapes and fills in `yShape` when it was left out. */
export function layoutOf(
  caller: string,
  ds: { readonly x: NumericArray; readonly shape: readonly number[]; readonly y: NumericArray; readonly yShape?: readonly number[] },
): Layout {
  checkShape(caller, 'dataset shape', ds.shape);
  const n = ds.shape[0] as number;
  if (ds.x.length !== shapeSize(ds.shape)) {
    throw new ArgumentError(`${caller}: dataset x has ${ds.x.length} values but shape ${fmtShape(ds.shape)} needs ${shapeSize(ds.shape)}`);
  }
  let yShape: number[];
  if (ds.yShape !== undefined) {
    checkShape(caller, 'dataset yShape', ds.yShape);
    yShape = [...ds.yShape];
  } else if (ds.y.length === n) {
    yShape = [n];
  } else if (n > 0 && ds.y.length % n === 0) {
    yShape = [n, ds.y.length / n];
  } else {
    throw new ArgumentError(`${caller}: dataset y has ${ds.y.length} values, which does not split into ${n} samples; pass yShape`);
  }
  if (yShape[0] !== n) {
    throw new ArgumentError(`${caller}: dataset x has ${n} samples (shape ${fmtShape(ds.shape)}) but y has ${String(yShape[0])} (yShape ${fmtShape(yShape)})`);
  }
  if (ds.y.length !== shapeSize(yShape)) {
    throw new ArgumentError(`${caller}: dataset y has ${ds.y.length} values but yShape ${fmtShape(yShape)} needs ${shapeSize(yShape)}`);
  }
  return { n, xRow: rowSize(ds.shape), yRow: rowSize(yShape), yShape };
}
