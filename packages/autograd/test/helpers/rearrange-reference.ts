/**
 * Plain-loop references for the rearranging ops (flip, roll, pad, repeats, triangles,
 * diagonals) and the scans, written from their definitions with array methods and index
 * arithmetic, independently of the library's index maps and kernels.
 */
import { ravel, size, unravel } from './reference.js';
import type { Ref } from './reduce-reference.js';

/** Replaces every 1-D line along `axis` by `fn(line)`, which may change its length. */
export function linesRef(x: { data: ArrayLike<number>; shape: readonly number[] }, axis: number, fn: (line: number[]) => number[]): Ref {
  const shape = [...x.shape];
  const starts = shape.map((d, i) => (i === axis ? 1 : d));
  const lines: number[][] = [];
  for (let flat = 0; flat < size(starts); flat++) {
    const index = unravel(flat, starts);
    const line: number[] = [];
    for (let j = 0; j < shape[axis]!; j++) {
      index[axis] = j;
      line.push(x.data[ravel(index, shape)]!);
    }
    lines.push(fn(line));
  }
  const m = lines[0]?.length ?? fn(new Array<number>(shape[axis]!).fill(0)).length;
  const outShape = shape.map((d, i) => (i === axis ? m : d));
  const out = new Array<number>(size(outShape));
  const outStarts = outShape.map((d, i) => (i === axis ? 1 : d));
  for (let flat = 0; flat < size(outStarts); flat++) {
    const index = unravel(flat, outStarts);
    for (let j = 0; j < m; j++) {
      index[axis] = j;
      out[ravel(index, outShape)] = lines[flat]![j]!;
    }
  }
  return { data: out, shape: outShape };
}

/** A line rotated right by s places. */
export function rotateLine(line: number[], s: number): number[] {
  const n = line.length;
  if (n === 0) return line;
  const k = ((s % n) + n) % n;
  return [...line.slice(n - k), ...line.slice(0, n - k)];
}

/**
 * A line padded as F.pad does: pad both sides relative to the original line, then crop negative
 * amounts; except circular mode, which crops first and wraps around what is left.
 */
export function padLine(line: number[], before: number, after: number, mode: string, value: number): number[] {
  if (mode === 'circular') {
    const kept = line.slice(Math.max(-before, 0), line.length - Math.max(-after, 0));
    return padLine(kept, Math.max(before, 0), Math.max(after, 0), 'wrap', value);
  }
  const n = line.length;
  const b = Math.max(before, 0);
  const a = Math.max(after, 0);
  let left: number[];
  let right: number[];
  if (mode === 'constant') {
    left = new Array<number>(b).fill(value);
    right = new Array<number>(a).fill(value);
  } else if (mode === 'reflect') {
    left = line.slice(1, b + 1).reverse();
    right = line.slice(n - 1 - a, n - 1).reverse();
  } else if (mode === 'replicate') {
    left = new Array<number>(b).fill(line[0]!);
    right = new Array<number>(a).fill(line[n - 1]!);
  } else {
    left = line.slice(n - b);
    right = line.slice(0, a);
  }
  const full = [...left, ...line, ...right];
  return full.slice(before < 0 ? -before : 0, full.length - (after < 0 ? -after : 0));
}

/** Running fold of a line: out[i] = fold(line[0..i]). */
export function prefixLine(line: number[], fold: (prefix: number[]) => number): number[] {
  return line.map((_, i) => fold(line.slice(0, i + 1)));
}

/** log Σ e^v, shifted by the maximum (the textbook form, no running update). */
export function logSumExpRef(v: number[]): number {
  const m = Math.max(...v);
  if (!Number.isFinite(m)) return Math.log(v.reduce((s, t) => s + Math.exp(t), 0));
  return m + Math.log(v.reduce((s, t) => s + Math.exp(t - m), 0));
}

/** Keeps element [.., r, c] of the last two axes where keep(c - r), zero elsewhere. */
export function triangleRef(x: { data: ArrayLike<number>; shape: readonly number[] }, keep: (d: number) => boolean): Ref {
  const nd = x.shape.length;
  const out = Array.from(x.data, (v, flat) => {
    const index = unravel(flat, x.shape);
    return keep(index[nd - 1]! - index[nd - 2]!) ? v : 0;
  });
  return { data: out, shape: [...x.shape] };
}

/** torch.diagonal: axes a and b removed, the diagonal at `offset` appended. */
export function diagonalRef(x: { data: ArrayLike<number>; shape: readonly number[] }, offset: number, a: number, b: number): Ref {
  const rest = x.shape.map((_, i) => i).filter((i) => i !== a && i !== b);
  let length = 0;
  while (length + Math.max(0, -offset) < x.shape[a]! && length + Math.max(0, offset) < x.shape[b]!) length++;
  const outShape = [...rest.map((i) => x.shape[i]!), length];
  const out: number[] = [];
  for (let flat = 0; flat < size(outShape); flat++) {
    const o = unravel(flat, outShape);
    const index = new Array<number>(x.shape.length);
    rest.forEach((d, k) => (index[d] = o[k]!));
    const t = o[o.length - 1]!;
    index[a] = t + Math.max(0, -offset);
    index[b] = t + Math.max(0, offset);
    out.push(x.data[ravel(index, x.shape)]!);
  }
  return { data: out, shape: outShape };
}

/** torch.diag_embed: result axes a, b (of the result) hold the last axis of x on diagonal `offset`. */
export function diagEmbedRef(x: { data: ArrayLike<number>; shape: readonly number[] }, offset: number, a: number, b: number): Ref {
  const n = x.shape[x.shape.length - 1]!;
  const m = n + Math.abs(offset);
  const batch = x.shape.slice(0, -1);
  const outShape: number[] = [];
  for (let d = 0, k = 0; d <= x.shape.length; d++) outShape.push(d === a || d === b ? m : batch[k++]!);
  const out: number[] = [];
  for (let flat = 0; flat < size(outShape); flat++) {
    const o = unravel(flat, outShape);
    const r = o[a]!;
    const c = o[b]!;
    const batchIndex = o.filter((_, d) => d !== a && d !== b);
    const t = offset >= 0 ? r : c;
    out.push(c - r === offset && t < n ? x.data[ravel([...batchIndex, t], x.shape)]! : 0);
  }
  return { data: out, shape: outShape };
}
