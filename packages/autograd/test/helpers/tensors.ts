/**
 * The vocabulary the tests share: float64 tensors from literals and their values as plain arrays.
 * Comparisons are `assertClose` from the testing entry; plain-loop references are in
 * reference.ts and reduce-reference.ts.
 */
import { tensor, type NestedArray, type Tensor } from '@chainrule/autograd';

/** A float64 tensor of `v` (reshaped to `shape` when given), not requiring grad. @example f64([1, 2, 3, 4], [2, 2]) */
export function f64(v: NestedArray, shape?: readonly number[]): Tensor {
  return tensor(v, { dtype: 'float64', ...(shape === undefined ? {} : { shape: [...shape] }) });
}

/** A float64 leaf that requires grad. @example grad64([[1, 2], [3, 4]]) */
export function grad64(v: NestedArray, shape?: readonly number[]): Tensor {
  return tensor(v, { dtype: 'float64', requiresGrad: true, ...(shape === undefined ? {} : { shape: [...shape] }) });
}

/** A tensor's (or gradient's) values as a plain array; the tensor must exist. */
export function values(t: Tensor | null): number[] {
  if (t === null) throw new Error('values: got null (no gradient reached this tensor?)');
  return Array.from(t.data);
}
