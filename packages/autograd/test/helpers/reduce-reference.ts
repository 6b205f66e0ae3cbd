/**
 * Plain-loop references for reductions, matmul and shape ops, written independently of the
 * library (no kernels, no shape helpers from src/) so the tests compare against the maths.
 * Data is flat and row-major; shapes are plain arrays.
 */
import fc from 'fast-check';
import { ravel, size, unravel } from './reference.js';

/** A flat array with its shape. */
export interface Ref {
  data: number[];
  shape: number[];
}

/** Axes as given to an op (number, list, or undefined for all) to sorted non-negative axes. */
export function resolveAxes(axis: number | number[] | undefined, ndim: number): number[] {
  if (axis === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  if (ndim === 0) return [];
  return list.map((a) => (a < 0 ? a + ndim : a)).sort((a, b) => a - b);
}

/**
 * Groups the elements of x by their position outside `axes` and folds each group with `fold`.
 * Groups keep the elements' row-major order.
 */
export function reduceRef(
  data: ArrayLike<number>,
  shape: readonly number[],
  axis: number | number[] | undefined,
  keepdims: boolean,
  fold: (values: number[]) => number,
): Ref {
  const axes = resolveAxes(axis, shape.length);
  const keepShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: size(keepShape) }, () => []);
  for (let flat = 0; flat < size(shape); flat++) {
    const index = unravel(flat, shape).map((v, i) => (axes.includes(i) ? 0 : v));
    groups[ravel(index, keepShape)]!.push(data[flat]!);
  }
  const outShape = keepdims ? keepShape : shape.filter((_, i) => !axes.includes(i));
  return { data: groups.map(fold), shape: outShape };
}

export const folds = {
  sum: (v: number[]): number => v.reduce((a, b) => a + b, 0),
  mean: (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length,
  max: (v: number[]): number => Math.max(...v),
  min: (v: number[]): number => Math.min(...v),
  prod: (v: number[]): number => v.reduce((a, b) => a * b, 1),
  logsumexp: (v: number[]): number => {
    const m = Math.max(...v);
    if (!Number.isFinite(m)) return Math.log(v.reduce((a, b) => a + Math.exp(b), 0));
    return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
  },
  variance: (correction: number) => (v: number[]): number => {
    const mu = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - mu) * (b - mu), 0) / (v.length - correction);
  },
};

/**
 * NumPy matmul by its definition: 1-D operands promoted to matrices (and that axis dropped from
 * the result), batch axes broadcast, each product a triple loop.
 */
export function matmulRef(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[]): Ref {
  const a2 = aShape.length === 1 ? [1, aShape[0]!] : [...aShape];
  const b2 = bShape.length === 1 ? [bShape[0]!, 1] : [...bShape];
  const m = a2[a2.length - 2]!, k = a2[a2.length - 1]!, n = b2[b2.length - 1]!;
  const batchA = a2.slice(0, -2), batchB = b2.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const padA = [...new Array<number>(rank - batchA.length).fill(1), ...batchA];
  const padB = [...new Array<number>(rank - batchB.length).fill(1), ...batchB];
  const batch = padA.map((d, i) => Math.max(d, padB[i]!));
  const out: number[] = [];
  for (let bi = 0; bi < size(batch); bi++) {
    const idx = unravel(bi, batch);
    const offA = ravel(idx.map((v, i) => (padA[i] === 1 ? 0 : v)), padA) * m * k;
    const offB = ravel(idx.map((v, i) => (padB[i] === 1 ? 0 : v)), padB) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[offA + i * k + p]! * b[offB + p * n + j]!;
        out.push(s);
      }
    }
  }
  const shape = [...batch];
  if (aShape.length > 1) shape.push(m);
  if (bShape.length > 1) shape.push(n);
  return { data: out, shape };
}

/** out axis d is x's axis perm[d]. */
export function permuteRef(data: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Ref {
  const outShape = perm.map((p) => shape[p]!);
  const out = new Array<number>(size(shape));
  for (let flat = 0; flat < size(shape); flat++) {
    const index = unravel(flat, shape);
    out[ravel(perm.map((p) => index[p]!), outShape)] = data[flat]!;
  }
  return { data: out, shape: outShape };
}

/** Elements lo..hi-1 (already in range) along `axis`. */
export function sliceRef(data: ArrayLike<number>, shape: readonly number[], axis: number, lo: number, hi: number): Ref {
  const outShape = shape.map((d, i) => (i === axis ? hi - lo : d));
  const out: number[] = [];
  for (let flat = 0; flat < size(outShape); flat++) {
    const index = unravel(flat, outShape);
    index[axis] = index[axis]! + lo;
    out.push(data[ravel(index, shape)]!);
  }
  return { data: out, shape: outShape };
}

/** Joins along an existing axis. */
export function concatRef(parts: readonly Ref[], axis: number): Ref {
  const first = parts[0]!.shape;
  const outShape = first.map((d, i) => (i === axis ? parts.reduce((s, p) => s + p.shape[axis]!, 0) : d));
  const out: number[] = [];
  for (let flat = 0; flat < size(outShape); flat++) {
    const index = unravel(flat, outShape);
    let at = index[axis]!;
    let part = 0;
    while (at >= parts[part]!.shape[axis]!) at -= parts[part++]!.shape[axis]!;
    index[axis] = at;
    out.push(parts[part]!.data[ravel(index, parts[part]!.shape)]!);
  }
  return { data: out, shape: outShape };
}

/** NumPy broadcast of x to `target`. */
export function expandRef(data: ArrayLike<number>, shape: readonly number[], target: readonly number[]): Ref {
  const lead = target.length - shape.length;
  const out: number[] = [];
  for (let flat = 0; flat < size(target); flat++) {
    const index = unravel(flat, target).slice(lead).map((v, i) => (shape[i] === 1 ? 0 : v));
    out.push(data[ravel(index, shape)]!);
  }
  return { data: out, shape: [...target] };
}

/** torch.gather: out[..i..] = x[..index[..i..]..] along `axis`. */
export function gatherRef(data: ArrayLike<number>, shape: readonly number[], axis: number, index: readonly number[], indexShape: readonly number[]): Ref {
  const out: number[] = [];
  for (let flat = 0; flat < size(indexShape); flat++) {
    const at = unravel(flat, indexShape);
    const k = index[flat]!;
    at[axis] = k < 0 ? k + shape[axis]! : k;
    out.push(data[ravel(at, shape)]!);
  }
  return { data: out, shape: [...indexShape] };
}

/** Applies `fn` to every 1-D line along `axis` (e.g. softmax of each row). */
export function alongAxisRef(data: ArrayLike<number>, shape: readonly number[], axis: number, fn: (line: number[]) => number[]): Ref {
  const out = new Array<number>(size(shape));
  const n = shape[axis]!;
  const lineStarts = shape.map((d, i) => (i === axis ? 1 : d));
  for (let flat = 0; flat < size(lineStarts); flat++) {
    const index = unravel(flat, lineStarts);
    const positions: number[] = [];
    for (let j = 0; j < n; j++) {
      index[axis] = j;
      positions.push(ravel(index, shape));
    }
    const result = fn(positions.map((p) => data[p]!));
    positions.forEach((p, j) => (out[p] = result[j]!));
  }
  return { data: out, shape: [...shape] };
}

export function softmaxLine(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

export function logSoftmaxLine(v: number[]): number[] {
  const m = Math.max(...v);
  const lse = m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
  return v.map((x) => x - lse);
}

/**
 * An axis argument valid for rank `ndim`: undefined, one axis, or a list of distinct axes,
 * each possibly negative.
 */
export function axisArb(ndim: number): fc.Arbitrary<number | number[] | undefined> {
  if (ndim === 0) return fc.constantFrom(undefined, 0, -1);
  const all = Array.from({ length: ndim }, (_, i) => i);
  const list = fc
    .tuple(fc.shuffledSubarray(all, { minLength: 1 }), fc.array(fc.boolean(), { minLength: ndim, maxLength: ndim }))
    .map(([axes, negative]) => axes.map((a, i) => (negative[i] ? a - ndim : a)));
  return fc.oneof(fc.constant(undefined), fc.integer({ min: -ndim, max: ndim - 1 }), list);
}

/** n distinct values spaced at least `gap` apart (for max/min/std, where ties or equal values are kinks). */
export function distinctValuesArb(n: number, gap = 0.05): fc.Arbitrary<number[]> {
  return fc.uniqueArray(fc.integer({ min: -40, max: 40 }), { minLength: n, maxLength: n }).map((v) => v.map((k) => k * gap));
}
