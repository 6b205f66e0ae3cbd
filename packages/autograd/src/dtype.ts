/** Element types a Tensor can hold. */
export type DType = 'float32' | 'float64';

/** The storage behind a Tensor: one contiguous row-major typed array. */
export type FloatArray = Float32Array | Float64Array;

/** Allocates zeroed storage of `size` elements for `dtype`. */
export function allocate(dtype: DType, size: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64';
}
