import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxis, type Shape } from '../shape.js';
import { separableMap } from '../kernels/layout.js';
import { expectTensor, Tensor } from '../tensor.js';
import { arange } from '../creation.js';
import { checkMapSize, takeByMap } from './index-map.js';
import { checkSameDType } from './operands.js';
import { expand, permute, reshape } from './shape.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const PAD_OPTIONS = ['mode', 'value'];
const MESHGRID_OPTIONS = ['indexing'];

/** 0, 1, ..., n-1. */
function identityCoords(n: number): Int32Array {
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) c[i] = i;
  return c;
}

/** One axis or a list, resolved against `ndim`; a repeated axis is an error. */
function distinctAxes(op: string, dims: number | readonly number[], ndim: number): number[] {
  const list = typeof dims === 'number' ? [dims] : dims;
  if (!Array.isArray(list)) throw new ArgumentError(`${op}: dims must be a number or an array of numbers, got ${typeof dims}`);
  const axes = list.map((d) => normalizeAxis(op, d, ndim));
  const seen = new Set<number>();
  for (const a of axes) {
    if (seen.has(a)) throw new ShapeError(`${op}: axis ${a} appears more than once in ${JSON.stringify(list)}`);
    seen.add(a);
  }
  return axes;
}

function checkIntegers(op: string, name: string, values: readonly unknown[], min = -Infinity): void {
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < min)) {
    const what = min === 0 ? 'non-negative integers' : 'integers';
    throw new ArgumentError(`${op}: ${name} must be ${what}, got ${JSON.stringify(values)}`);
  }
}

/**
 * Reverses the order of elements along each axis in `dims`, as `torch.flip`.
 * @throws ShapeError if an axis is out of range or repeated.
 * @example flip(tensor([[1, 2], [3, 4]]), 1) // [[2, 1], [4, 3]]
 */
export const flip = primitive('flip', { kind: 'layout', axisArg: 1 }, function (input: Tensor, dims: number | readonly number[]): Tensor {
  const x = expectTensor('flip', 'input', input);
  const axes = distinctAxes('flip', dims, x.ndim);
  const coords = x.shape.map((n, d) => {
    const c = identityCoords(n);
    return axes.includes(d) ? c.reverse() : c;
  });
  return takeByMap('flip', x, separableMap(x.shape, x.shape, coords), x.shape);
});

/**
 * Shifts elements along `dims` by `shifts` places, wrapping around the end, as `torch.roll`:
 * out[(i + shift) mod n] = x[i]. Without `dims`, the tensor is rolled as if flattened and keeps its
 * shape. One shift per axis; an axis named twice is rolled by the sum of its shifts.
 * @throws ArgumentError if a shift is not an integer, or shifts and dims differ in number (one shift without dims).
 * @throws ShapeError if an axis is out of range.
 * @example roll(tensor([1, 2, 3, 4]), 1) // [4, 1, 2, 3]
 */
export const roll = primitive('roll', { kind: 'layout', rule: 'roll' }, function (input: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
  const x = expectTensor('roll', 'input', input);
  const shiftList = typeof shifts === 'number' ? [shifts] : shifts;
  checkIntegers('roll', 'shifts', shiftList);
  if (dims === undefined) {
    if (shiftList.length !== 1) {
      throw new ArgumentError(`roll: without dims, give one shift (the tensor rolls as if flattened), got ${JSON.stringify(shiftList)}`);
    }
    return reshape(rollAxes('roll', reshape(x, [x.size]), [shiftList[0]!], [0]), x.shape);
  }
  const dimList = typeof dims === 'number' ? [dims] : dims;
  if (shiftList.length !== dimList.length) {
    throw new ArgumentError(`roll: ${shiftList.length} shift(s) ${JSON.stringify(shiftList)} for ${dimList.length} dim(s) ${JSON.stringify(dimList)}; give one shift per dim`);
  }
  return rollAxes('roll', x, shiftList, dimList.map((d) => normalizeAxis('roll', d, x.ndim)));
});

function rollAxes(op: string, x: Tensor, shifts: readonly number[], axes: readonly number[]): Tensor {
  const total = x.shape.map(() => 0);
  axes.forEach((a, k) => (total[a]! += shifts[k]!));
  const coords = x.shape.map((n, d) => {
    const c = new Int32Array(n);
    for (let j = 0; j < n; j++) c[j] = (((j - total[d]!) % n) + n) % n;
    return c;
  });
  return takeByMap(op, x, separableMap(x.shape, x.shape, coords), x.shape);
}

/** How `pad` fills the border. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Options of `pad`. */
export interface PadOptions {
  /** 'constant' (the default), 'reflect' (mirror without repeating the edge), 'replicate' (repeat the edge), 'circular' (wrap around). */
  mode?: PadMode;
  /** The fill of 'constant' mode (default 0); not allowed with the other modes. */
  value?: number;
}

/**
 * Pads (or, with negative amounts, crops) the last axes, as `torch.nn.functional.pad`: `padding`
 * lists (before, after) pairs starting from the LAST axis: `[left, right]` pads the last axis,
 * `[left, right, top, bottom]` the last two. 'reflect' needs each amount below the axis size,
 * 'circular' at most the size left after cropping (it wraps around that, as PyTorch),
 * 'replicate' a non-empty axis.
 * NOTE: unlike PyTorch 1.13, the modes other than 'constant' accept any rank and any number of
 * padded axes (PyTorch wants a batch and a channel axis in front).
 * @throws ArgumentError for an odd-length or too long padding, a non-integer amount, an unknown mode, or a value with a mode other than 'constant'.
 * @throws ShapeError when an amount does not fit the mode, or a cropped size would be negative.
 * @example pad(x, [1, 1], { mode: 'reflect' }) // [1, 2, 3] -> [2, 1, 2, 3, 2]
 */
export const pad = primitive('pad', { kind: 'layout', rule: 'pad' }, function (input: Tensor, padding: readonly number[], options: PadOptions = {}): Tensor {
  checkOptions('pad', options, PAD_OPTIONS);
  const x = expectTensor('pad', 'input', input);
  const { mode = 'constant', value } = options;
  checkIntegers('pad', 'padding', padding);
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) {
    throw new ArgumentError(
      `pad: padding ${JSON.stringify(padding)} must hold a (before, after) pair for each of at most ${x.ndim} last axes of a tensor of shape ${formatShape(x.shape)}`,
    );
  }
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) {
    throw new ArgumentError(`pad: unknown mode '${String(mode)}' (the modes are constant, reflect, replicate and circular)`);
  }
  if (value !== undefined && mode !== 'constant') throw new ArgumentError(`pad: mode '${mode}' takes no value (only 'constant' fills with one)`);
  if (value !== undefined && typeof value !== 'number') throw new ArgumentError(`pad: value must be a number, got ${typeof value}`);
  const outShape = [...x.shape];
  const coords = x.shape.map((n) => identityCoords(n));
  for (let k = 0; k < padding.length / 2; k++) {
    const d = x.ndim - 1 - k;
    const n = x.shape[d]!;
    const before = padding[2 * k]!;
    const after = padding[2 * k + 1]!;
    const m = n + before + after;
    // Circular mode wraps around what is left after cropping (PyTorch's order); the others
    // read relative to the whole axis.
    const kept = n - Math.max(-before, 0) - Math.max(-after, 0);
    const problem =
      m < 0 ? `leaves a negative size` :
      mode === 'reflect' && (before >= n || after >= n) && m > 0 ? `needs amounts below the axis size ${n} in reflect mode` :
      mode === 'circular' && (before > kept || after > kept) ? `may not exceed the ${kept} element(s) left after cropping in circular mode` :
      mode === 'replicate' && n === 0 && m > 0 ? `has no edge element to replicate on an empty axis` : null;
    if (problem !== null) {
      throw new ShapeError(`pad: padding (${before}, ${after}) of axis ${d} of shape ${formatShape(x.shape)} ${problem}`);
    }
    outShape[d] = m;
    checkMapSize('pad', outShape);
    const c = new Int32Array(m);
    if (mode === 'circular') {
      const first = Math.max(-before, 0);
      for (let j = 0; j < m; j++) c[j] = first + ((((j - Math.max(before, 0)) % kept) + kept) % kept);
    } else {
      for (let j = 0; j < m; j++) c[j] = sourceCoord(mode, j - before, n);
    }
    coords[d] = c;
  }
  return takeByMap('pad', x, separableMap(x.shape, outShape, coords), outShape, value ?? 0);
});

/** Which element of an axis of size n position i (maybe outside [0, n)) reads; -1 for the fill. */
function sourceCoord(mode: Exclude<PadMode, 'circular'>, i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'reflect':
      return i < 0 ? -i : 2 * (n - 1) - i;
    case 'replicate':
      return i < 0 ? 0 : n - 1;
  }
}

/**
 * Tiles the tensor `repeats[d]` times along each axis, as `Tensor.repeat` in PyTorch (NumPy's
 * `tile` when repeats has the tensor's rank): extra leading repeats add leading axes.
 * @throws ArgumentError if a repeat is not a non-negative integer, or there are fewer repeats than axes.
 * @example repeat(tensor([1, 2]), [2, 2]) // [[1, 2, 1, 2], [1, 2, 1, 2]]
 */
export const repeat = primitive('repeat', { kind: 'layout', rule: 'tile' }, function (input: Tensor, repeats: readonly number[]): Tensor {
  const x = expectTensor('repeat', 'input', input);
  checkIntegers('repeat', 'repeats', repeats, 0);
  if (repeats.length < x.ndim) {
    throw new ArgumentError(`repeat: ${repeats.length} repeat(s) ${JSON.stringify(repeats)} for a tensor of shape ${formatShape(x.shape)}; give at least one per axis`);
  }
  return tileTo('repeat', x, repeats);
});

/**
 * Tiles the tensor `reps[d]` times along each axis, as `torch.tile`: fewer reps than axes are
 * padded with leading 1s, more add leading axes.
 * @throws ArgumentError if a rep is not a non-negative integer.
 * @example tile(tensor([[1, 2]]), [2]) // [[1, 2, 1, 2]]
 */
export const tile = primitive('tile', { kind: 'layout', rule: 'tile' }, function (input: Tensor, reps: readonly number[]): Tensor {
  const x = expectTensor('tile', 'input', input);
  checkIntegers('tile', 'reps', reps, 0);
  return tileTo('tile', x, [...new Array<number>(Math.max(0, x.ndim - reps.length)).fill(1), ...reps]);
});

/** x tiled by `repeats` (at least one per axis): a broadcast of x with a size-1 axis before each. */
function tileTo(op: string, x: Tensor, repeats: readonly number[]): Tensor {
  const lead = repeats.length - x.ndim;
  const shape = [...new Array<number>(lead).fill(1), ...x.shape];
  const spread = shape.flatMap((d) => [1, d]);
  const grown = shape.flatMap((d, i) => [repeats[i]!, d]);
  checkMapSize(op, grown);
  return reshape(expand(reshape(x, spread), grown), shape.map((d, i) => d * repeats[i]!));
}

/**
 * Repeats each element `repeats` times along `dim` (each its own count when `repeats` is a list
 * or a 1-D int32 tensor, one per element, or one for all), as `torch.repeat_interleave`.
 * Without `dim` the tensor is flattened first. Without `repeats`, `input` is the counts (a 1-D
 * int32 tensor) and the result repeats each position 0, 1, ... that often, as
 * `torch.repeat_interleave(repeats)`.
 * @throws ArgumentError if a count is not a non-negative integer or there is neither one count nor one per element.
 * @throws DTypeError if `repeats` (or `input`, alone) is a tensor of another dtype than int32.
 * @throws ShapeError if `dim` is out of range.
 * @example repeatInterleave(tensor([1, 2]), [1, 2]) // [1, 2, 2]
 * @example repeatInterleave(tensor([2, 0, 1], { dtype: 'int32' })) // [0, 0, 2]
 */
export const repeatInterleave = primitive('repeatInterleave', { kind: 'layout', axisArg: 2, absent: 'flatten' }, function (input: Tensor, repeats?: number | readonly number[] | Tensor, dim?: number): Tensor {
  let x = expectTensor('repeatInterleave', 'input', input);
  if (repeats === undefined) {
    if (dim !== undefined) throw new ArgumentError(`repeatInterleave: dim ${dim} given without repeats`);
    if (x.ndim !== 1) throw new ArgumentError(`repeatInterleave: the counts alone must be a 1-D int32 tensor, got ${x.dtype} of shape ${formatShape(x.shape)}`);
    return repeatInterleave(arange(0, x.shape[0]!, 1, { dtype: 'int32' }), x);
  }
  if (dim === undefined) x = reshape(x, [x.size]);
  const ax = normalizeAxis('repeatInterleave', dim ?? 0, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[ax]!;
  if (repeats instanceof Tensor && (repeats.ndim > 1 || repeats.dtype !== 'int32')) {
    const problem = `repeatInterleave: repeats must be a number, an array or a 1-D int32 tensor, got ${repeats.dtype} of shape ${formatShape(repeats.shape)}`;
    throw repeats.ndim > 1 ? new ArgumentError(problem) : new DTypeError(problem);
  }
  const counts = repeats instanceof Tensor ? Array.from(repeats.data) : typeof repeats === 'number' ? [repeats] : [...repeats];
  checkIntegers('repeatInterleave', 'repeats', counts, 0);
  if (counts.length !== 1 && counts.length !== n) {
    throw new ArgumentError(`repeatInterleave: ${counts.length} repeats for ${n} elements along axis ${ax} of shape ${formatShape(x.shape)}; give one, or one per element`);
  }
  const total = counts.length === 1 ? counts[0]! * n : counts.reduce((a, b) => a + b, 0);
  checkMapSize('repeatInterleave', x.ndim === 0 ? [total] : x.shape.map((d, i) => (i === ax ? total : d)));
  const source: number[] = [];
  for (let i = 0; i < n; i++) for (let r = counts.length === 1 ? counts[0]! : counts[i]!; r > 0; r--) source.push(i);
  if (x.ndim === 0) x = reshape(x, [1]);
  const outShape = [...x.shape];
  outShape[ax] = source.length;
  const coords = x.shape.map((m, d) => (d === ax ? Int32Array.from(source) : identityCoords(m)));
  return takeByMap('repeatInterleave', x, separableMap(x.shape, outShape, coords), outShape);
});

/**
 * Moves axes `source` to positions `destination`; the other axes keep their order, as `torch.movedim`.
 * @throws ShapeError if an axis is out of range or repeated, or source and destination differ in length.
 * @example movedim(x, 0, -1).shape // [2, 3, 4] -> [3, 4, 2]
 */
export const movedim = primitive('movedim', { kind: 'layout', rule: 'movedim' }, function (input: Tensor, source: number | readonly number[], destination: number | readonly number[]): Tensor {
  const x = expectTensor('movedim', 'input', input);
  const src = distinctAxes('movedim', source, x.ndim);
  const dst = distinctAxes('movedim', destination, x.ndim);
  if (src.length !== dst.length) {
    throw new ShapeError(`movedim: ${src.length} source axes ${JSON.stringify(source)} for ${dst.length} destination axes ${JSON.stringify(destination)}`);
  }
  if (x.ndim === 0) return x;
  const perm = new Array<number>(x.ndim).fill(-1);
  src.forEach((s, i) => (perm[dst[i]!] = s));
  const rest = x.shape.map((_, i) => i).filter((i) => !src.includes(i));
  for (let d = 0, k = 0; d < x.ndim; d++) if (perm[d] === -1) perm[d] = rest[k++]!;
  return permute(x, perm);
});

/** Options of `meshgrid`. */
export interface MeshgridOptions {
  /** 'ij' (matrix indexing, the default: output axis k follows input k) or 'xy' (Cartesian: the first two swapped). */
  indexing?: 'ij' | 'xy';
}

/**
 * Coordinate grids from 1-D (or 0-d) tensors, as `torch.meshgrid`: with 'ij' indexing every
 * output has shape [n0, n1, ...] and output k varies along axis k; with 'xy' the first two axes
 * are swapped ([n1, n0, ...]), as NumPy's default.
 * @throws ArgumentError for an empty list, a tensor of rank above 1 or an unknown indexing.
 * @throws DTypeError if the dtypes differ.
 * @example const [gx, gy] = meshgrid([xs, ys], { indexing: 'xy' })
 */
export const meshgrid = primitive('meshgrid', { kind: 'other', rule: 'composite' }, function (tensors: readonly Tensor[], options: MeshgridOptions = {}): Tensor[] {
  checkOptions('meshgrid', options, MESHGRID_OPTIONS);
  const { indexing = 'ij' } = options;
  if (indexing !== 'ij' && indexing !== 'xy') throw new ArgumentError(`meshgrid: indexing must be 'ij' or 'xy', got '${String(indexing)}'`);
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ArgumentError('meshgrid: needs a non-empty array of tensors');
  const xs = tensors.map((t, i) => expectTensor('meshgrid', `tensors[${i}]`, t));
  for (const t of xs) {
    if (t.ndim > 1) throw new ArgumentError(`meshgrid: every tensor must be 0-d or 1-D, got shapes ${xs.map((u) => formatShape(u.shape)).join(', ')}`);
  }
  checkSameDType('meshgrid', ...xs);
  const sizes = xs.map((t) => t.size);
  // Output axis of input k: k, except that 'xy' swaps the first two.
  const axisOf = (k: number): number => (indexing === 'xy' && xs.length > 1 && k < 2 ? 1 - k : k);
  const shape: Shape = xs.map((_, d) => sizes[xs.findIndex((__, k) => axisOf(k) === d)]!);
  return xs.map((t, k) => {
    const lined = shape.map((_, d) => (d === axisOf(k) ? t.size : 1));
    return expand(reshape(t, lined), shape);
  });
});
