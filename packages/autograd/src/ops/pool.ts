import { allocate, type FloatArray } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { axisMap, gatherPlanes, scatterPlanes, separableAdjoint, separableApply, windowMax, windowMaxDense, type AxisMap } from '../kernels/pool.js';
import { constant, expectFloat, floatInput, makeOutput, type FloatTensor, type Tensor } from '../tensor.js';
import { reshape } from './shape.js';
import { spatial, type SpatialArg } from './conv.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const MAX_POOL_OPTIONS = ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices'];
const AVG_POOL_OPTIONS = ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'];
const ADAPTIVE_MAX_POOL2D_OPTIONS = ['returnIndices'];
const INTERPOLATE_OPTIONS = ['size', 'scaleFactor', 'mode', 'alignCorners'];

// Every pooling and interpolation here reads, for each output position, a window that is the
// product of a row map and a column map (kernels/pool.ts). The averaging ones are linear maps
// whose VJP is their adjoint and the adjoint's VJP the map again; max pooling saves the
// winners' indices and its VJP is a scatter to them, whose VJP is a gather from them.

/** The linear map out = Σ wr·wc·x over rows × cols, on the last two axes of x. */
function separable(op: string, x: FloatTensor, rows: AxisMap, cols: AxisMap): Tensor {
  const h = x.shape[x.ndim - 2]!, w = x.shape[x.ndim - 1]!;
  const planes = x.size / (h * w || 1);
  const shape = [...x.shape.slice(0, x.ndim - 2), rows.size, cols.size];
  const out = allocate(x.dtype, planes * rows.size * cols.size, op, shape);
  if (h * w > 0) separableApply(x.data, planes, h, w, rows, cols, out);
  return makeOutput(op, out, shape, [x], (g) => [separableTransposed(op, expectFloat(op, g), rows, cols, h, w)], { saves: [[]], jvp: ([t]) => separable(op, expectFloat(op, t!), rows, cols) });
}

/** The adjoint of `separable`, back to planes h×w. */
function separableTransposed(op: string, g: FloatTensor, rows: AxisMap, cols: AxisMap, h: number, w: number): Tensor {
  const planes = g.size / (rows.size * cols.size || 1);
  const shape = [...g.shape.slice(0, g.ndim - 2), h, w];
  const out = allocate(g.dtype, planes * h * w, `${op}Backward`, shape);
  if (rows.size * cols.size > 0) separableAdjoint(g.data, planes, h, w, rows, cols, out);
  return makeOutput(`${op}Backward`, out, shape, [g], (gg) => [separable(op, expectFloat(op, gg), rows, cols)], { saves: [[]], jvp: ([t]) => separableTransposed(op, expectFloat(op, t!), rows, cols, h, w) });
}

/** Fills each window's maximum and its index within the h×w input plane, for `planes` planes. */
type MaxKernel = (x: FloatArray, planes: number, h: number, w: number, out: FloatArray, argmax: Int32Array) => void;

/** Windows given by a row map and a column map (any padding, dilation, adaptive windows). */
const mappedWindows = (rows: AxisMap, cols: AxisMap): MaxKernel => (x, planes, h, w, out, argmax) => windowMax(x, planes, h, w, rows, cols, out, argmax);

/** The maximum over each window and, as an int32 tensor, its index within the input plane: an oh×ow grid of windows that `kernel` fills. */
function windowMaxOp(op: string, x: FloatTensor, oh: number, ow: number, kernel: MaxKernel): [Tensor, Tensor] {
  const h = x.shape[x.ndim - 2]!, w = x.shape[x.ndim - 1]!;
  const planes = x.size / (h * w || 1);
  const shape = [...x.shape.slice(0, x.ndim - 2), oh, ow];
  const inner = oh * ow;
  const out = allocate(x.dtype, planes * inner, op, shape);
  const argmax = new Int32Array(planes * inner);
  kernel(x.data, planes, h, w, out, argmax);
  const values = makeOutput(op, out, shape, [x], (g) => [scatterToPlanes(op, expectFloat(op, g), argmax, [...x.shape])], {
    saves: [[]],
    // The tangent at each window's winner.
    jvp: ([t]) => gatherFromPlanes(op, expectFloat(op, t!), argmax, shape),
  });
  return [values, constant(argmax, shape)];
}

/** Adds each element of g into its plane of `shape` at the index idx gives it. */
export function scatterToPlanes(op: string, g: FloatTensor, idx: Int32Array, shape: number[]): Tensor {
  const outer = shape[shape.length - 2]! * shape[shape.length - 1]!;
  const inner = g.shape[g.ndim - 2]! * g.shape[g.ndim - 1]!;
  const planes = g.size / (inner || 1);
  const out = allocate(g.dtype, planes * outer, `${op}Backward`, shape);
  scatterPlanes(g.data, idx, planes, inner, outer, out);
  return makeOutput(`${op}Backward`, out, shape, [g], (gg) => [gatherFromPlanes(op, expectFloat(op, gg), idx, [...g.shape])], { saves: [[]], jvp: ([t]) => scatterToPlanes(op, expectFloat(op, t!), idx, shape) });
}

/** The adjoint of scatterToPlanes: each output element read from its plane at its index. */
export function gatherFromPlanes(op: string, x: FloatTensor, idx: Int32Array, shape: number[]): Tensor {
  const outer = x.shape[x.ndim - 2]! * x.shape[x.ndim - 1]!;
  const inner = shape[shape.length - 2]! * shape[shape.length - 1]!;
  const planes = x.size / (outer || 1);
  const out = allocate(x.dtype, planes * inner, op, shape);
  gatherPlanes(x.data, idx, planes, inner, outer, out);
  return makeOutput(op, out, shape, [x], (g) => [scatterToPlanes(op, expectFloat(op, g), idx, [...x.shape])], { saves: [[]], jvp: ([t]) => gatherFromPlanes(op, expectFloat(op, t!), idx, shape) });
}

/** The input as [..., h, w] with 2 + the spatial rank checked (1-D ops get a height of 1). */
function planesOf(op: string, input: Tensor, rank: number): { x: FloatTensor; spatialShape: number[] } {
  const x = floatInput(op, 'input', input);
  if (x.ndim !== rank + 1 && x.ndim !== rank + 2) {
    throw new ShapeError(`${op}: input must be ${rank + 1}-D or ${rank + 2}-D, got ${formatShape(x.shape)}`);
  }
  const spatialShape = x.shape.slice(x.ndim - rank);
  if (spatialShape.some((s) => s === 0)) throw new ShapeError(`${op}: input ${formatShape(x.shape)} has an empty spatial axis`);
  const lifted = rank === 1 ? reshape(x, [...x.shape.slice(0, x.ndim - 1), 1, x.shape[x.ndim - 1]!]) : x;
  return { x: expectFloat(op, lifted), spatialShape };
}

/** The result of a lifted 1-D op back without its unit height. */
function lowered(y: Tensor, rank: number): Tensor {
  return rank === 1 ? reshape(y, [...y.shape.slice(0, y.ndim - 2), y.shape[y.ndim - 1]!]) : y;
}

const UNIT: AxisMap = axisMap([[[0, 1]]]);

/** Output length of a pooling window along one axis, as PyTorch's pooling_output_shape. */
function pooledLength(size: number, k: number, s: number, p: number, d: number, ceilMode: boolean): number {
  const span = d * (k - 1) + 1;
  let out = Math.floor((size + 2 * p - span + (ceilMode ? s - 1 : 0)) / s) + 1;
  // The last window must start inside the input or its left padding.
  if (ceilMode && (out - 1) * s >= size + p) out--;
  return out;
}

export interface PoolGeometry {
  kernel: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  out: number[];
}

export function poolGeometry(op: string, shape: readonly number[], spatialShape: number[], kernelSize: SpatialArg, options: { stride?: SpatialArg | null; padding?: SpatialArg; dilation?: SpatialArg; ceilMode?: boolean }): PoolGeometry {
  const rank = spatialShape.length;
  const kernel = spatial(op, 'kernelSize', kernelSize, rank, 1, 1);
  const stride = options.stride === undefined || options.stride === null ? kernel : spatial(op, 'stride', options.stride, rank, 1, 1);
  const padding = spatial(op, 'padding', options.padding, rank, 0, 0);
  const dilation = spatial(op, 'dilation', options.dilation, rank, 1, 1);
  padding.forEach((p, i) => {
    if (2 * p > kernel[i]!) throw new ArgumentError(`${op}: padding ${JSON.stringify(options.padding)} must be at most half the kernel size ${JSON.stringify(kernelSize)}`);
  });
  const out = spatialShape.map((s, i) => {
    const n = pooledLength(s, kernel[i]!, stride[i]!, padding[i]!, dilation[i]!, options.ceilMode ?? false);
    if (n < 1) {
      throw new ShapeError(`${op}: input ${formatShape(shape)}: kernel ${JSON.stringify(kernelSize)} (dilation ${JSON.stringify(options.dilation ?? 1)}) is larger than the padded input (padding=${JSON.stringify(options.padding ?? 0)})`);
    }
    return n;
  });
  return { kernel, stride, padding, dilation, out };
}

/** Row or column map of a max-pooling window: the taps inside the input. */
function maxAxis(size: number, out: number, k: number, s: number, p: number, d: number): AxisMap {
  return axisMap(Array.from({ length: out }, (_, o) => {
    const taps: [number, number][] = [];
    for (let t = 0; t < k; t++) {
      const i = o * s - p + t * d;
      if (i >= 0 && i < size) taps.push([i, 1]);
    }
    return taps;
  }));
}

/** Options of `maxPool1d` and `maxPool2d` (PyTorch's defaults). */
export interface MaxPoolOptions {
  /** Step between windows (default: the kernel size). */
  readonly stride?: SpatialArg | null;
  /** Implicit −∞ added on both sides, at most half the kernel (default 0). */
  readonly padding?: SpatialArg;
  /** Spacing between window taps (default 1). */
  readonly dilation?: SpatialArg;
  /** Round the output size up, keeping a last partial window that starts inside the input or its left padding (default false). */
  readonly ceilMode?: boolean;
  /** Also return each maximum's index within its input plane (int32, PyTorch's flat per-plane index). */
  readonly returnIndices?: boolean;
}

function maxPool(op: string, rank: number, input: Tensor, kernelSize: SpatialArg, options: MaxPoolOptions): [Tensor, Tensor] {
  checkOptions(op, options, MAX_POOL_OPTIONS);
  const { x, spatialShape } = planesOf(op, input, rank);
  const g = poolGeometry(op, input.shape, spatialShape, kernelSize, options);
  if (g.padding.every((p) => p === 0) && g.dilation.every((d) => d === 1)) {
    // No padding or dilation: every window starts inside the input, and direct loops need no maps.
    const [kh, kw, sh, sw, oh, ow] = rank === 1 ? [1, g.kernel[0]!, 1, g.stride[0]!, 1, g.out[0]!] : [g.kernel[0]!, g.kernel[1]!, g.stride[0]!, g.stride[1]!, g.out[0]!, g.out[1]!];
    const [values, indices] = windowMaxOp(op, x, oh, ow, (data, planes, h, w, out, argmax) => windowMaxDense(data, planes, h, w, kh, kw, sh, sw, oh, ow, out, argmax));
    return [lowered(values, rank), lowered(indices, rank)];
  }
  const maps = spatialShape.map((s, i) => maxAxis(s, g.out[i]!, g.kernel[i]!, g.stride[i]!, g.padding[i]!, g.dilation[i]!));
  const empty = maps.findIndex((m) => m.ptr.some((p, o) => o < m.size && m.ptr[o + 1] === p));
  if (empty >= 0) {
    // Dilated taps can all fall in the padding: such a window has no maximum (PyTorch gives −∞ and an index outside it).
    throw new ShapeError(`${op}: input ${formatShape(input.shape)}: with kernel ${JSON.stringify(kernelSize)}, dilation ${JSON.stringify(options.dilation ?? 1)} and padding ${JSON.stringify(options.padding ?? 0)}, a window along spatial axis ${empty} reads only padding`);
  }
  const rows = rank === 1 ? UNIT : maps[0]!, cols = maps[rank - 1]!;
  const [values, indices] = windowMaxOp(op, x, rows.size, cols.size, mappedWindows(rows, cols));
  return [lowered(values, rank), lowered(indices, rank)];
}

/**
 * 2-D max pooling (PyTorch's F.max_pool2d) over input [n, c, h, w] or [c, h, w], in one pass that
 * also records where each maximum was; the gradient flows to those positions only (the first
 * of equal maxima; NaN propagates). With `returnIndices`, returns [values, indices], the
 * indices int32 and flat within each h×w plane (what PyTorch's max_unpool2d takes).
 * @throws ShapeError for a wrong rank or a window larger than the padded input.
 * @throws ArgumentError for a kernel, stride or dilation below 1 or padding over half the kernel.
 * @example maxPool2d(x, 2) // [64, 6, 24, 24] -> [64, 6, 12, 12]
 */
export const maxPool2d = primitive('maxPool2d', { kind: 'other', rule: 'pool' }, maxPool2dImpl);
function maxPool2dImpl(input: Tensor, kernelSize: SpatialArg, options: MaxPoolOptions & { readonly returnIndices: true }): [Tensor, Tensor];
function maxPool2dImpl(input: Tensor, kernelSize: SpatialArg, options?: MaxPoolOptions): Tensor;
function maxPool2dImpl(input: Tensor, kernelSize: SpatialArg, options: MaxPoolOptions = {}): Tensor | [Tensor, Tensor] {
  const result = maxPool('maxPool2d', 2, input, kernelSize, options);
  return options.returnIndices === true ? result : result[0];
}

/**
 * 1-D max pooling (PyTorch's F.max_pool1d) over input [n, c, l] or [c, l]; options, indices and errors as `maxPool2d`.
 * @example maxPool1d(x, 3, { stride: 2, padding: 1 })
 */
export const maxPool1d = primitive('maxPool1d', { kind: 'other', rule: 'pool' }, maxPool1dImpl);
function maxPool1dImpl(input: Tensor, kernelSize: SpatialArg, options: MaxPoolOptions & { readonly returnIndices: true }): [Tensor, Tensor];
function maxPool1dImpl(input: Tensor, kernelSize: SpatialArg, options?: MaxPoolOptions): Tensor;
function maxPool1dImpl(input: Tensor, kernelSize: SpatialArg, options: MaxPoolOptions = {}): Tensor | [Tensor, Tensor] {
  const result = maxPool('maxPool1d', 1, input, kernelSize, options);
  return options.returnIndices === true ? result : result[0];
}

/** Options of `avgPool1d` and `avgPool2d` (PyTorch's defaults). */
export interface AvgPoolOptions {
  /** Step between windows (default: the kernel size). */
  readonly stride?: SpatialArg | null;
  /** Zeros added on both sides, at most half the kernel (default 0). */
  readonly padding?: SpatialArg;
  /** Round the output size up (default false). */
  readonly ceilMode?: boolean;
  /** Count the padding's zeros in each window's divisor (default true); the part of a ceil-mode window past the padding never counts. */
  readonly countIncludePad?: boolean;
  /** Divide every window's sum by this instead (2-D only, as PyTorch). */
  readonly divisorOverride?: number | null;
}

/** Row or column map of an average-pooling window, weighted by the reciprocal of its factor of the divisor. */
function avgAxis(size: number, out: number, k: number, s: number, p: number, includePad: boolean, override: boolean): AxisMap {
  return axisMap(Array.from({ length: out }, (_, o) => {
    let start = o * s - p;
    let end = Math.min(start + k, size + p);
    const padded = end - start;
    start = Math.max(start, 0);
    end = Math.min(end, size);
    const weight = override ? 1 : 1 / (includePad ? padded : end - start);
    return Array.from({ length: Math.max(end - start, 0) }, (_, t): [number, number] => [start + t, weight]);
  }));
}

function avgPool(op: string, rank: number, input: Tensor, kernelSize: SpatialArg, options: AvgPoolOptions): Tensor {
  checkOptions(op, options, AVG_POOL_OPTIONS);
  const { x, spatialShape } = planesOf(op, input, rank);
  const g = poolGeometry(op, input.shape, spatialShape, kernelSize, options);
  const override = options.divisorOverride ?? null;
  if (override !== null && (!Number.isFinite(override) || override === 0)) {
    throw new ArgumentError(`${op}: divisorOverride must be a nonzero number, got ${String(override)}`);
  }
  const includePad = options.countIncludePad ?? true;
  const maps = spatialShape.map((s, i) => avgAxis(s, g.out[i]!, g.kernel[i]!, g.stride[i]!, g.padding[i]!, includePad, override !== null));
  let rows = rank === 1 ? UNIT : maps[0]!;
  if (override !== null) rows = { ...rows, weight: rows.weight.map((v) => v / override) };
  return lowered(separable(op, x, rows, maps[rank - 1]!), rank);
}

/**
 * 2-D average pooling (PyTorch's F.avg_pool2d) over input [n, c, h, w] or [c, h, w]: each window's
 * sum divided by its size (padding included unless countIncludePad is false), or by divisorOverride.
 * @throws ShapeError for a wrong rank or a window larger than the padded input.
 * @throws ArgumentError for a kernel or stride below 1, padding over half the kernel, or a zero divisorOverride.
 * @example avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false })
 */
export const avgPool2d = primitive('avgPool2d', { kind: 'other', rule: 'pool' }, function (input: Tensor, kernelSize: SpatialArg, options: AvgPoolOptions = {}): Tensor {
  return avgPool('avgPool2d', 2, input, kernelSize, options);
});

/**
 * 1-D average pooling (PyTorch's F.avg_pool1d) over input [n, c, l] or [c, l]; options and errors as `avgPool2d`.
 * @example avgPool1d(x, 4)
 */
export const avgPool1d = primitive('avgPool1d', { kind: 'other', rule: 'pool' }, function (input: Tensor, kernelSize: SpatialArg, options: AvgPoolOptions = {}): Tensor {
  return avgPool('avgPool1d', 1, input, kernelSize, options);
});

/** An adaptive pooling's output size per axis: a number, or a pair whose null keeps the input's size. */
export type AdaptiveSize = number | readonly [number | null, number | null];

/** PyTorch's adaptive windows: output o reads [⌊o·size/out⌋, ⌈(o + 1)·size/out⌉). */
function adaptiveAxis(size: number, out: number, average: boolean): AxisMap {
  return axisMap(Array.from({ length: out }, (_, o) => {
    const start = Math.floor((o * size) / out);
    const end = Math.ceil(((o + 1) * size) / out);
    return Array.from({ length: end - start }, (_, t): [number, number] => [start + t, average ? 1 / (end - start) : 1]);
  }));
}

function adaptiveMaps(op: string, input: Tensor, outputSize: AdaptiveSize): { x: FloatTensor; rows: AxisMap; cols: AxisMap } {
  const { x, spatialShape } = planesOf(op, input, 2);
  const pair = typeof outputSize === 'number' ? [outputSize, outputSize] : [...outputSize];
  const out = pair.map((v, i) => (v === null ? spatialShape[i]! : v));
  if (out.length !== 2 || !out.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ArgumentError(`${op}: outputSize must be a positive integer or a pair of them (null keeps the input's), got ${JSON.stringify(outputSize)} for input ${formatShape(input.shape)}`);
  }
  return { x, rows: adaptiveAxis(spatialShape[0]!, out[0]!, op === 'adaptiveAvgPool2d'), cols: adaptiveAxis(spatialShape[1]!, out[1]!, op === 'adaptiveAvgPool2d') };
}

/**
 * Adaptive 2-D average pooling (PyTorch's F.adaptive_avg_pool2d): input [n, c, h, w] or [c, h, w]
 * to outputSize, output (i, j) averaging rows [⌊i·h/oh⌋, ⌈(i+1)·h/oh⌉) and the columns likewise.
 * @throws ShapeError for a wrong rank; ArgumentError for an output size below 1.
 * @example adaptiveAvgPool2d(x, 1) // global average pooling: [n, c, h, w] -> [n, c, 1, 1]
 */
export const adaptiveAvgPool2d = primitive('adaptiveAvgPool2d', { kind: 'other', rule: 'pool' }, function (input: Tensor, outputSize: AdaptiveSize): Tensor {
  const { x, rows, cols } = adaptiveMaps('adaptiveAvgPool2d', input, outputSize);
  return separable('adaptiveAvgPool2d', x, rows, cols);
});

/**
 * Adaptive 2-D max pooling (PyTorch's F.adaptive_max_pool2d) over the windows of
 * `adaptiveAvgPool2d`; with `returnIndices`, [values, int32 indices flat within each plane].
 * @throws ShapeError for a wrong rank; ArgumentError for an output size below 1.
 * @example adaptiveMaxPool2d(x, [2, null])
 */
export const adaptiveMaxPool2d = primitive('adaptiveMaxPool2d', { kind: 'other', rule: 'pool' }, adaptiveMaxPool2dImpl);
function adaptiveMaxPool2dImpl(input: Tensor, outputSize: AdaptiveSize, options: { readonly returnIndices: true }): [Tensor, Tensor];
function adaptiveMaxPool2dImpl(input: Tensor, outputSize: AdaptiveSize, options?: { readonly returnIndices?: boolean }): Tensor;
function adaptiveMaxPool2dImpl(input: Tensor, outputSize: AdaptiveSize, options: { readonly returnIndices?: boolean } = {}): Tensor | [Tensor, Tensor] {
  checkOptions('adaptiveMaxPool2d', options, ADAPTIVE_MAX_POOL2D_OPTIONS);
  const { x, rows, cols } = adaptiveMaps('adaptiveMaxPool2d', input, outputSize);
  const result = windowMaxOp('adaptiveMaxPool2d', x, rows.size, cols.size, mappedWindows(rows, cols));
  return options.returnIndices === true ? result : result[0];
}

/** Options of `interpolate`: exactly one of size and scaleFactor. */
export interface InterpolateOptions {
  /** Output spatial size: one number for every axis, or one per axis. */
  readonly size?: SpatialArg;
  /** Multiplier of each spatial size (output = ⌊size·scale⌋); the index formulas use it as given, as PyTorch without recomputeScaleFactor. */
  readonly scaleFactor?: number | readonly number[];
  /** 'nearest' (default), 'linear' (3-D input only) or 'bilinear' (4-D input only). */
  readonly mode?: 'nearest' | 'linear' | 'bilinear';
  /** 'linear' and 'bilinear' only: map the corner pixels' centres onto each other (default false). */
  readonly alignCorners?: boolean;
}

/**
 * PyTorch's nearest source index: ⌊o·scale⌋ clamped to the input, computed in float32 as
 * PyTorch does (its scale is a C float), so indices agree where the product rounds across an integer.
 */
function nearestAxis(size: number, out: number, scale: number): AxisMap {
  const s32 = Math.fround(scale);
  return axisMap(Array.from({ length: out }, (_, o) => [[Math.min(Math.floor(Math.fround(Math.fround(o) * s32)), size - 1), 1]]));
}

/** PyTorch's linear source coordinate and its two taps. */
function linearAxis(size: number, out: number, scale: number, alignCorners: boolean): AxisMap {
  return axisMap(Array.from({ length: out }, (_, o) => {
    const src = alignCorners ? (out > 1 ? ((size - 1) / (out - 1)) * o : 0) : Math.max(scale * (o + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), size - 1);
    const i1 = i0 < size - 1 ? i0 + 1 : i0;
    const l1 = src - i0;
    return [[i0, 1 - l1], [i1, l1]];
  }));
}

/**
 * Resizes the spatial axes of input [n, c, l] or [n, c, h, w] (PyTorch's F.interpolate):
 * 'nearest' takes source index ⌊o·in/out⌋ (⌊o/scaleFactor⌋ when scaleFactor is given), 'linear'
 * (3-D) and 'bilinear' (4-D) blend the two (four) neighbours of PyTorch's source coordinate
 * (alignCorners chooses which).
 * @throws ShapeError for a wrong rank, 'linear' on a 4-D input or 'bilinear' on a 3-D one.
 * @throws ArgumentError unless exactly one of size and scaleFactor is given, positive, and gives a size ≥ 1.
 * @example interpolate(x, { scaleFactor: 2, mode: 'bilinear' }) // [1, 3, 8, 8] -> [1, 3, 16, 16]
 */
export const interpolate = primitive('interpolate', { kind: 'other', rule: 'pool' }, function (input: Tensor, options: InterpolateOptions): Tensor {
  checkOptions('interpolate', options, INTERPOLATE_OPTIONS);
  const op = 'interpolate';
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') throw new ArgumentError(`${op}: mode must be 'nearest', 'linear' or 'bilinear', got ${JSON.stringify(mode)}`);
  if (input.ndim !== 3 && input.ndim !== 4) throw new ShapeError(`${op}: input must be 3-D [n, c, l] or 4-D [n, c, h, w], got ${formatShape(input.shape)}`);
  const rank = input.ndim - 2;
  if (mode === 'bilinear' && rank !== 2) throw new ShapeError(`${op}: 'bilinear' needs a 4-D input, got ${formatShape(input.shape)}`);
  if (mode === 'linear' && rank !== 1) throw new ShapeError(`${op}: 'linear' needs a 3-D input, got ${formatShape(input.shape)}`);
  if (options.alignCorners !== undefined && mode === 'nearest') throw new ArgumentError(`${op}: alignCorners only applies to 'linear' and 'bilinear'`);
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new ArgumentError(`${op}: give exactly one of size and scaleFactor, got ${JSON.stringify({ size: options.size, scaleFactor: options.scaleFactor })}`);
  }
  const { x, spatialShape } = planesOf(op, input, rank);
  let out: number[], scales: number[];
  if (options.size !== undefined) {
    out = spatial(op, 'size', options.size, rank, 1, 1);
    scales = spatialShape.map((s, i) => s / out[i]!);
  } else {
    const sf = typeof options.scaleFactor === 'number' ? Array<number>(rank).fill(options.scaleFactor) : [...options.scaleFactor!];
    if (sf.length !== rank || !sf.every((v) => Number.isFinite(v) && v > 0)) {
      throw new ArgumentError(`${op}: scaleFactor must be ${rank} positive numbers, got ${JSON.stringify(options.scaleFactor)}`);
    }
    out = spatialShape.map((s, i) => Math.floor(s * sf[i]!));
    if (out.some((v) => v < 1)) throw new ArgumentError(`${op}: scaleFactor ${JSON.stringify(options.scaleFactor)} leaves an empty output for input ${formatShape(input.shape)}`);
    scales = sf.map((v) => 1 / v);
  }
  const maps = spatialShape.map((s, i) => (mode === 'nearest' ? nearestAxis(s, out[i]!, scales[i]!) : linearAxis(s, out[i]!, scales[i]!, options.alignCorners ?? false)));
  return lowered(separable(op, x, rank === 1 ? UNIT : maps[0]!, maps[rank - 1]!), rank);
});
