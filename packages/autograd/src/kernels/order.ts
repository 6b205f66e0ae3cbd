import type { TensorData } from '../dtype.js';

// Ordering kernels over arrays seen as [outer, n, inner], the axis in the middle. NaN orders
// above every number (PyTorch's rule for sort, topk, argmax and kthvalue); -0 equals 0.

/** -1, 0 or 1: a before, equal to, or after b in ascending order, NaN last. */
function compareValues(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const na = a !== a;
  const nb = b !== b;
  return na === nb ? 0 : na ? 1 : -1;
}

/**
 * Sorts `index[0..n)` (positions into `keys`) by key, ascending or descending, ties by position:
 * a stable merge sort, `scratch` of length n as its buffer.
 */
function sortIndices(keys: Float64Array, index: Int32Array, scratch: Int32Array, n: number, descending: boolean): void {
  let src = index;
  let dst = scratch;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const c = compareValues(keys[src[i]!]!, keys[src[j]!]!);
        // Equal keys take the left run first: runs hold positions in increasing order.
        const takeRight = descending ? c < 0 : c > 0;
        dst[k++] = takeRight ? src[j++]! : src[i++]!;
      }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== index) index.set(src.subarray(0, n));
}

/**
 * out[o, r, j] = the position along the axis of the r-th smallest (or largest) x[o, :, j]; ties
 * keep their order (a stable sort), NaN last ascending and first descending.
 */
export function argsortAxis(x: TensorData, outer: number, n: number, inner: number, descending: boolean, out: Int32Array): void {
  const keys = new Float64Array(n);
  const index = new Int32Array(n);
  const scratch = new Int32Array(n);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      for (let k = 0; k < n; k++) {
        keys[k] = x[base + k * inner]!;
        index[k] = k;
      }
      sortIndices(keys, index, scratch, n, descending);
      for (let k = 0; k < n; k++) out[base + k * inner] = index[k]!;
    }
  }
}

/**
 * out[o, j] = the position of the first maximum (or minimum) of x[o, :, j] over n >= 1
 * elements; the first NaN wins either way, as a NaN maximum or minimum propagates.
 */
export function argExtremumAxis(x: TensorData, outer: number, n: number, inner: number, largest: boolean, out: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let best = x[base]!;
      let at = 0;
      for (let k = 1; k < n && best === best; k++) {
        const v = x[base + k * inner]!;
        if (v !== v || (largest ? v > best : v < best)) {
          best = v;
          at = k;
        }
      }
      out[o * inner + j] = at;
    }
  }
}

/**
 * For each of the `m` values of row o, the number of elements of sorted row o of `seq` (n long)
 * that come before it: those < v (left) or <= v (right). The comparisons are PyTorch's, so a NaN
 * value goes after every element, and NaNs at the end of a row are never passed over by a number.
 */
export function searchSortedRows(seq: TensorData, n: number, values: TensorData, m: number, rows: number, right: boolean, out: Int32Array): void {
  for (let o = 0; o < rows; o++) {
    const s = o * n;
    for (let i = 0; i < m; i++) {
      const v = values[o * m + i]!;
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const e = seq[s + mid]!;
        // Negated comparisons, as PyTorch's: a NaN on either side moves the search right.
        if (right ? !(e > v) : !(e >= v)) lo = mid + 1;
        else hi = mid;
      }
      out[o * m + i] = lo;
    }
  }
}

/** The first place (row-major) where a row of `seq` (rows × n) goes down (NaN counts as largest), or -1 when every row ascends. */
export function firstUnsorted(seq: TensorData, n: number, rows: number): number {
  for (let o = 0; o < rows; o++) {
    for (let k = 1; k < n; k++) {
      if (compareValues(seq[o * n + k - 1]!, seq[o * n + k]!) > 0) return o * n + k;
    }
  }
  return -1;
}

/**
 * The distinct values of x in ascending order (NaNs as one value, last), with for each element
 * the position of its value (`inverse`) and how often each value occurs (`counts`).
 */
export function uniqueSorted(x: TensorData): { order: Int32Array; firsts: number[]; inverse: Int32Array; counts: number[] } {
  const n = x.length;
  const keys = Float64Array.from(x);
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  sortIndices(keys, order, new Int32Array(n), n, false);
  const inverse = new Int32Array(n);
  const firsts: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < n; k++) {
    const at = order[k]!;
    if (k === 0 || compareValues(keys[order[k - 1]!]!, keys[at]!) !== 0) {
      firsts.push(at);
      counts.push(0);
    }
    inverse[at] = firsts.length - 1;
    counts[counts.length - 1]!++;
  }
  return { order, firsts, inverse, counts };
}

/** out[x[i]] += w[i] (or 1 without weights); indices checked by the caller. */
export function binCount(x: Int32Array, weights: TensorData | null, out: TensorData): void {
  for (let i = 0; i < x.length; i++) out[x[i]!]! += weights === null ? 1 : weights[i]!;
}
