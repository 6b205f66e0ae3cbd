// Text layout of tensor elements, shared by Tensor.toString, formatTensor and tensorToHtml:
// which elements are shown (long dimensions are cut, as NumPy does) and one number style for
// all of them, so that columns line up. Works on storage and shape only, never on graphs.
import type { TensorData } from './dtype.js';
import { stridesOf, type Shape } from './shape.js';

/** Options of `formatTensor` and `tensorToHtml`. */
export interface TensorFormatOptions {
  /** Digits after the point (fixed notation) or after the first digit (scientific); default 4. */
  precision?: number;
  /** Tensors with more elements than this are summarised (default 1000, as NumPy). */
  threshold?: number;
  /** Elements kept at each end of a summarised dimension (default 3). */
  edgeItems?: number;
}

/** Marks the gap left by a cut dimension in a list of indices. */
export const GAP = -1;

/** What the shown elements look like: which indices each dimension keeps, and how one number is written. */
export interface ElementLayout {
  /** Per dimension, the indices shown in order, with GAP where a run was left out. */
  readonly kept: readonly (readonly number[])[];
  /** Row-major strides of the shape. */
  readonly strides: readonly number[];
  /** The text of one element, not padded. */
  readonly format: (v: number) => string;
  /** Width of the widest shown element, for right-aligned columns. */
  readonly width: number;
}

function keptIndices(n: number, summarise: boolean, edge: number): number[] {
  if (!summarise || n <= 2 * edge) return Array.from({ length: n }, (_, i) => i);
  const head = Array.from({ length: edge }, (_, i) => i);
  const tail = Array.from({ length: edge }, (_, i) => n - edge + i);
  return [...head, GAP, ...tail];
}

/** Flat offsets of every shown element, row-major. */
function shownOffsets(kept: readonly (readonly number[])[], strides: readonly number[]): number[] {
  let offsets = [0];
  for (let d = 0; d < kept.length; d++) {
    const next: number[] = [];
    for (const base of offsets) for (const i of kept[d]!) if (i !== GAP) next.push(base + i * strides[d]!);
    offsets = next;
  }
  return offsets;
}

function nonFinite(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf';
}

/**
 * One style for all shown values, as NumPy picks it: integers when every value is one, fixed
 * notation for moderate magnitudes, scientific when values are tiny, huge or span over 1e3.
 */
function numberStyle(values: readonly number[], precision: number): (v: number) => string {
  const finite = values.filter(Number.isFinite);
  const abs = finite.map(Math.abs).filter((a) => a > 0);
  const maxAbs = abs.length === 0 ? 0 : Math.max(...abs);
  const minAbs = abs.length === 0 ? 0 : Math.min(...abs);
  let finiteText: (v: number) => string;
  if (finite.every(Number.isInteger) && maxAbs < 1e16) {
    finiteText = (v) => (Object.is(v, -0) ? '-0' : String(v));
  } else if (maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs / minAbs > 1e3) {
    finiteText = (v) => v.toExponential(precision);
  } else {
    finiteText = (v) => v.toFixed(precision);
  }
  return (v) => (Number.isFinite(v) ? finiteText(v) : nonFinite(v));
}

/** Which elements of a tensor are shown and how each one is written. */
export function elementLayout(data: TensorData, shape: Shape, options: TensorFormatOptions = {}): ElementLayout {
  const { precision = 4, threshold = 1000, edgeItems = 3 } = options;
  const summarise = data.length > threshold;
  const kept = shape.map((n) => keptIndices(n, summarise, edgeItems));
  const strides = stridesOf(shape);
  const values = shownOffsets(kept, strides).map((o) => data[o]!);
  // A bool tensor's storage is 0/1 bytes; it reads as true/false, as PyTorch prints it.
  const format = data instanceof Uint8Array ? (v: number) => (v !== 0 ? 'true' : 'false') : numberStyle(values, precision);
  const width = values.reduce((w, v) => Math.max(w, format(v).length), 0);
  return { kept, strides, format, width };
}

/**
 * Nested-bracket text of the elements, NumPy style: one row per line, columns right-aligned,
 * a blank line between matrices of a 3-d or higher tensor, `...` where a dimension was cut.
 */
export function formatElements(data: TensorData, shape: Shape, options: TensorFormatOptions = {}): string {
  const { kept, strides, format, width } = elementLayout(data, shape, options);
  if (shape.length === 0) return format(data[0]!);
  const block = (d: number, offset: number, indent: number): string => {
    const last = d === shape.length - 1;
    const parts = kept[d]!.map((i) => {
      if (i === GAP) return last ? '...'.padStart(width) : '...';
      const at = offset + i * strides[d]!;
      return last ? format(data[at]!).padStart(width) : block(d + 1, at, indent + 1);
    });
    // Deeper blocks are separated by as many newlines as dimensions remain below them.
    const separator = last ? ', ' : `,${'\n'.repeat(shape.length - d - 1)}${' '.repeat(indent + 1)}`;
    return `[${parts.join(separator)}]`;
  };
  return block(0, 0, 0);
}

/** What a tensor's header line says about it; plain fields so this module needs no Tensor. */
export interface TensorHeader {
  readonly dtype: string;
  readonly shape: Shape;
  /** Name of the op that produced it, or null for a leaf. */
  readonly op: string | null;
  readonly requiresGrad: boolean;
}

/** `Tensor(float32 [2,3], gradFn=matmul)`: dtype, shape and where gradients come from. */
export function headerText(h: TensorHeader): string {
  const grad = h.op !== null ? `, gradFn=${h.op}` : h.requiresGrad ? ', requiresGrad' : '';
  return `Tensor(${h.dtype} [${h.shape.join(',')}]${grad})`;
}

/** Header and elements: on one line up to 1-d, the rows below the header from 2-d up. */
export function tensorText(h: TensorHeader, data: TensorData, options: TensorFormatOptions = {}): string {
  const body = formatElements(data, h.shape, options);
  return `${headerText(h)}${h.shape.length <= 1 ? ' ' : '\n'}${body}`;
}
