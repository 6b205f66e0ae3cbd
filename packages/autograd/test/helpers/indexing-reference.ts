/**
 * Plain-loop references for the indexing ops, written from PyTorch's definitions with
 * multi-indices (no strides, no kernels from src/). Data is flat and row-major; indices are
 * non-negative or count from the end.
 */
import { ravel, size, unravel } from './reference.js';
import type { Ref } from './reduce-reference.js';

const wrapIndex = (k: number, n: number): number => (k < 0 ? k + n : k);

/**
 * torch.scatter / scatter_add: a copy of x with src[p] written ('set': in row-major order of the
 * index, so the last write wins) or added ('add') at p with coordinate `axis` replaced by index[p].
 */
export function scatterRef(
  x: ArrayLike<number>, shape: readonly number[], axis: number, index: readonly number[], indexShape: readonly number[],
  src: ArrayLike<number>, srcShape: readonly number[], mode: 'set' | 'add',
): Ref {
  const out = Array.from(x);
  for (let p = 0; p < size(indexShape); p++) {
    const at = unravel(p, indexShape);
    const v = src[ravel(at, srcShape)]!;
    at[axis] = wrapIndex(index[p]!, shape[axis]!);
    const q = ravel(at, shape);
    out[q] = mode === 'set' ? v : out[q]! + v;
  }
  return { data: out, shape: [...shape] };
}

/** torch.index_select: out[.., k, ..] = x[.., index[k], ..] along `axis`. */
export function indexSelectRef(x: ArrayLike<number>, shape: readonly number[], axis: number, index: readonly number[]): Ref {
  const outShape = shape.map((d, i) => (i === axis ? index.length : d));
  const out: number[] = [];
  for (let flat = 0; flat < size(outShape); flat++) {
    const at = unravel(flat, outShape);
    at[axis] = wrapIndex(index[at[axis]!]!, shape[axis]!);
    out.push(x[ravel(at, shape)]!);
  }
  return { data: out, shape: outShape };
}

/** torch.index_add: x with alpha·src[.., k, ..] added at [.., index[k], ..] along `axis`. */
export function indexAddRef(x: ArrayLike<number>, shape: readonly number[], axis: number, index: readonly number[], src: ArrayLike<number>, alpha: number): Ref {
  const out = Array.from(x);
  const srcShape = shape.map((d, i) => (i === axis ? index.length : d));
  for (let flat = 0; flat < size(srcShape); flat++) {
    const at = unravel(flat, srcShape);
    at[axis] = wrapIndex(index[at[axis]!]!, shape[axis]!);
    const q = ravel(at, shape);
    out[q] = out[q]! + alpha * src[flat]!;
  }
  return { data: out, shape: [...shape] };
}

/** Coordinates of the non-zero elements in row-major order, [n, ndim] flattened. */
export function nonzeroRef(x: ArrayLike<number>, shape: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let flat = 0; flat < size(shape); flat++) if (x[flat] !== 0) out.push(unravel(flat, shape));
  return out;
}

/** Index values for an axis of size n: `count` of them in [-n, n) from a seed, repeats likely. */
export function indexValues(count: number, n: number, seed: number): number[] {
  return Array.from({ length: count }, (_, i) => ((i * 7 + seed * 3 + ((i * i) % 5)) % (2 * n)) - n);
}
