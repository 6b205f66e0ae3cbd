import { tensor, type NestedArray, type Tensor } from '@chainrule/autograd';

/** A float64 tensor of `v` (reshaped to `shape` when given), not requiring grad. */
export function f64(v: NestedArray, shape?: readonly number[]): Tensor {
  return tensor(v, { dtype: 'float64', ...(shape === undefined ? {} : { shape: [...shape] }) });
}

/** A float64 leaf that requires grad. */
export function grad64(v: NestedArray, shape?: readonly number[]): Tensor {
  return tensor(v, { dtype: 'float64', requiresGrad: true, ...(shape === undefined ? {} : { shape: [...shape] }) });
}

