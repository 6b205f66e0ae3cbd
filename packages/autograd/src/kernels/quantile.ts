import type { FloatArray } from '../dtype.js';
import { mapUnary } from './unary.js';
import { argsortAxis } from './order.js';

/** How a quantile between two order statistics is read (PyTorch's `interpolation`). */
export type QuantileInterpolation = 'linear' | 'lower' | 'higher' | 'midpoint' | 'nearest';

/**
 * For each of `rows` rows of `n` elements (row-major in x) and each quantile in `q`: the
 * positions within the row of the order statistics below and above it, and the weight of the
 * one above, as torch.quantile computes them. NaN sorts last; a row holding one makes every
 * quantile of it NaN (its rank is the last), unless `ignoreNan`, which ranks among the non-NaN
 * elements only (and reads a NaN when there are none). Ranks are rounded to x's precision, as
 * PyTorch computes them in the input's dtype. Outputs are [rows, q.length], row-major.
 */
export function quantilePositions(
  x: FloatArray, rows: number, n: number, q: FloatArray, ignoreNan: boolean, mode: QuantileInterpolation,
  below: Int32Array, above: Int32Array, weight: FloatArray,
): void {
  const nq = q.length;
  // Stable, NaN last: ties keep their order, so a gradient goes to a predictable element.
  const sorted = new Int32Array(rows * n);
  argsortAxis(x, rows, n, 1, false, sorted);
  const ranks = x instanceof Float32Array ? new Float32Array(nq) : new Float64Array(nq);
  const rounded = x instanceof Float32Array ? new Float32Array(nq) : new Float64Array(nq);
  for (let r = 0; r < rows; r++) {
    const start = r * n;
    const order = sorted.subarray(start, start + n);
    let valid = 0;
    for (let i = 0; i < n; i++) if (x[start + i] === x[start + i]) valid++;
    for (let k = 0; k < nq; k++) {
      const qk = q[k]!;
      if (ignoreNan) ranks[k] = Math.max(qk * (valid - 1), 0);
      else ranks[k] = valid < n ? n - 1 : qk * (n - 1);
    }
    if (mode === 'lower') mapUnary('floor', ranks, rounded);
    else if (mode === 'higher') mapUnary('ceil', ranks, rounded);
    else if (mode === 'nearest') mapUnary('round', ranks, rounded);
    else rounded.set(ranks);
    for (let k = 0; k < nq; k++) {
      const rank = rounded[k]!;
      const lo = Math.floor(rank);
      const at = r * nq + k;
      below[at] = order[lo]!;
      if (mode === 'linear' || mode === 'midpoint') {
        above[at] = order[Math.ceil(rank)]!;
        weight[at] = mode === 'midpoint' ? 0.5 : rank - lo;
      } else {
        above[at] = order[lo]!;
        weight[at] = 0;
      }
    }
  }
}
