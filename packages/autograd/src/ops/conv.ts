import { allocate } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { addChannelBias, convAdjointColumns, convAdjointDirect, convDirect, convForwardColumns, convWeightGradColumns, convWeightGradDirect, im2col, col2im, type ConvGeometry } from '../kernels/conv.js';
import { expectFloat, floatInput, makeOutput, type FloatTensor, type Tensor } from '../tensor.js';
import { checkSameDType } from './operands.js';
import { sum } from './reduce.js';
import { expand, reshape } from './shape.js';
import type { JvpRule } from '../engine/forward.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
/** @internal */
export const CONV_OPTIONS: readonly string[] = ['stride', 'padding', 'dilation', 'groups'];
const CONV_TRANSPOSE_OPTIONS = ['stride', 'padding', 'outputPadding', 'dilation', 'groups'];
const UNFOLD_OPTIONS = ['dilation', 'padding', 'stride'];

/** A convolution's geometry and its group count: what the three convolution ops share. */
export interface ConvSpec extends ConvGeometry {
  readonly groups: number;
}

// The three ops below are the bilinear maps of a convolution: y = conv(x, w), its adjoint in x
// (the transposed convolution) and its adjoint in w (the weight gradient). Each one's VJP is the
// other two, so gradients of any order stay convolutions. All work on 2-D planes: 1-D
// convolutions run as 2-D ones of height 1.

// Layout: see convForwardColumns and its two adjoints (kernels/conv.ts): im2col columns and one
// gemm per group, or plain loops for narrow groups.

/**
 * Whether groups are narrow (depthwise and the like), where plain loops beat a gemm per group of
 * width og or cg (3.5× for the forward of a 64-channel 3×3 depthwise layer): the three ops below
 * then take their direct kernels.
 */
export function narrowGroups(groups: number, og: number, cg: number): boolean {
  return groups > 1 && og * cg <= 4;
}

/** y [n, o, oh, ow] = conv(x [n, c, h, w], w [o, c/groups, kh, kw]) + b[o]: im2col, then one gemm per group (plain loops for narrow groups). */
export function convForward(x: FloatTensor, w: FloatTensor, b: FloatTensor | null, s: ConvSpec): Tensor {
  const n = x.shape[0]!, o = w.shape[0]!, cg = w.shape[1]!;
  const { groups } = s, og = o / groups, p = s.oh * s.ow;
  const shape = [n, o, s.oh, s.ow];
  const y = allocate(x.dtype, n * o * p, 'conv2d', shape);
  const inputs = b === null ? [x, w] : [x, w, b];
  if (narrowGroups(groups, og, cg)) {
    convDirect(x.data, w.data, b === null ? null : b.data, n, groups, cg, og, s, y);
  } else {
    convForwardColumns(x.data, w.data, b === null ? null : b.data, n, groups, cg, og, s, y);
  }
  return makeOutput('conv2d', y, shape, inputs, (g) => convForwardVjp(x, w, b, s, expectFloat('conv2d', g)), { saves: [[1], [0], []], jvp: bilinearJvp((xt, wt) => convForward(xt, wt, null, s)) });
}

/** convForward's VJP for the gradient g at its output: the adjoint in x, in w, and the bias's sum over all but the channel axis. */
export function convForwardVjp(x: FloatTensor, w: FloatTensor, b: FloatTensor | null, s: ConvSpec, g: FloatTensor): (Tensor | null)[] {
  const grads = [x.requiresGrad ? convAdjoint(g, w, null, s) : null, w.requiresGrad ? convWeightGrad(x, g, s) : null];
  if (b !== null) grads.push(b.requiresGrad ? sum(g, [0, 2, 3]) : null);
  return grads;
}

/**
 * The JVP of a map bilinear in its operands (a, b) plus an optional per-channel bias on axis 1:
 * ȧ∘b + a∘ḃ + ḃias, each term where that input has a tangent.
 */
export function bilinearJvp(apply: (a: FloatTensor, b: FloatTensor) => Tensor): JvpRule {
  return ([ta, tb, tbias], out, [a, b]) => {
    const terms: Tensor[] = [];
    if (ta !== null && ta !== undefined) terms.push(apply(expectFloat(out.gradFn?.op ?? 'conv', ta), b as FloatTensor));
    if (tb !== null && tb !== undefined) terms.push(apply(a as FloatTensor, expectFloat(out.gradFn?.op ?? 'conv', tb)));
    if (tbias !== null && tbias !== undefined) terms.push(reshape(tbias, [1, tbias.size, 1, 1]));
    const total = terms.reduce((acc, t) => acc.add(t));
    return total.size === out.size ? reshape(total, out.shape) : expand(total, out.shape);
  };
}

/**
 * The adjoint of convForward in its input: u [n, o, oh, ow] to [n, c, h, w] (+ b[c]), which is
 * PyTorch's transposed convolution with weight w [o, c/groups, kh, kw].
 */
function convAdjoint(u: FloatTensor, w: FloatTensor, b: FloatTensor | null, s: ConvSpec): Tensor {
  const n = u.shape[0]!, o = w.shape[0]!, cg = w.shape[1]!;
  const { groups } = s, og = o / groups, c = groups * cg;
  const shape = [n, c, s.h, s.w];
  const x = allocate(u.dtype, n * c * s.h * s.w, 'convTranspose2d', shape);
  if (narrowGroups(groups, og, cg)) {
    convAdjointDirect(u.data, w.data, n, groups, cg, og, s, x);
    if (b !== null) addChannelBias(x, n, c, s.h * s.w, b.data);
  } else {
    convAdjointColumns(u.data, w.data, b === null ? null : b.data, n, groups, cg, og, s, x);
  }
  const inputs = b === null ? [u, w] : [u, w, b];
  return makeOutput('convTranspose2d', x, shape, inputs, (g) => {
    const gf = expectFloat('convTranspose2d', g);
    const grads = [u.requiresGrad ? convForward(gf, w, null, s) : null, w.requiresGrad ? convWeightGrad(gf, u, s) : null];
    if (b !== null) grads.push(b.requiresGrad ? sum(g, [0, 2, 3]) : null);
    return grads;
  }, { saves: [[1], [0], []], jvp: bilinearJvp((ut, wt) => convAdjoint(ut, wt, null, s)) });
}

/**
 * The adjoint of convForward in its weight: dW [o, c/groups, kh, kw] = Σ over the batch and
 * output positions of u times the input patch, one gemm per group reading the im2col rows transposed.
 */
function convWeightGrad(x: FloatTensor, u: FloatTensor, s: ConvSpec): Tensor {
  const n = x.shape[0]!, c = x.shape[1]!, o = u.shape[1]!;
  const { groups } = s, og = o / groups, cg = c / groups, ck = cg * s.kh * s.kw;
  const shape = [o, cg, s.kh, s.kw];
  const dw = allocate(x.dtype, o * ck, 'conv2d', shape);
  if (narrowGroups(groups, og, cg)) {
    convWeightGradDirect(x.data, u.data, n, groups, cg, og, s, dw);
  } else {
    convWeightGradColumns(x.data, u.data, n, groups, cg, og, s, dw);
  }
  return makeOutput('convWeightGrad', dw, shape, [x, u], (g) => {
    const gf = expectFloat('convWeightGrad', g);
    return [x.requiresGrad ? convAdjoint(u, gf, null, s) : null, u.requiresGrad ? convForward(x, gf, null, s) : null];
  }, { saves: [[1], [0]], jvp: bilinearJvp((xt, ut) => convWeightGrad(xt, ut, s)) });
}

/** A size per spatial axis, or one number for all of them. */
export type SpatialArg = number | readonly number[];

/** Options of `conv1d` and `conv2d` (PyTorch's defaults: stride 1, padding 0, dilation 1, groups 1). */
export interface ConvOptions {
  /** Step between windows, per spatial axis or one for all (default 1). */
  readonly stride?: SpatialArg;
  /**
   * Zeros added on both sides of each spatial axis, or 'valid' (none), or 'same' (an output as
   * large as the input, stride 1 only; an odd total puts the extra zero after, as PyTorch).
   */
  readonly padding?: SpatialArg | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: SpatialArg;
  /** Channel groups: input and output channels split into this many independent convolutions (default 1; depthwise = in channels). */
  readonly groups?: number;
}

/** Options of `convTranspose1d` and `convTranspose2d`. */
export interface ConvTransposeOptions {
  /** The stride of the convolution this one is the adjoint of (default 1). */
  readonly stride?: SpatialArg;
  /** That convolution's padding: removed from both sides of the output (default 0). */
  readonly padding?: SpatialArg;
  /** Extra size added on one side of each output axis, smaller than the stride or the dilation (default 0). */
  readonly outputPadding?: SpatialArg;
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: SpatialArg;
  /** Channel groups (default 1). */
  readonly groups?: number;
}

/** One value per spatial axis from a number or a list of that length, each an integer ≥ min. */
export function spatial(op: string, name: string, value: SpatialArg | undefined, rank: number, fallback: number, min: number): number[] {
  const list = value === undefined ? Array<number>(rank).fill(fallback) : typeof value === 'number' ? Array<number>(rank).fill(value) : [...value];
  if (list.length !== rank || !list.every((v) => Number.isInteger(v) && v >= min)) {
    throw new ArgumentError(`${op}: ${name} must be ${rank === 1 ? 'an integer' : `an integer or ${rank} integers`} >= ${min}, got ${JSON.stringify(value)}`);
  }
  return list;
}

function groupCount(op: string, groups: number | undefined): number {
  const g = groups ?? 1;
  if (!Number.isInteger(g) || g < 1) throw new ArgumentError(`${op}: groups must be a positive integer, got ${String(groups)}`);
  return g;
}

/** The input and weight as 4-D (1-D convolutions get a height of 1), checking ranks and dtypes; batched says whether x had its batch axis. */
function convOperands(op: string, rank: number, input: Tensor, weight: Tensor, bias: Tensor | null | undefined) {
  const x = floatInput(op, 'input', input);
  const w = floatInput(op, 'weight', weight);
  const b = bias === undefined || bias === null ? null : floatInput(op, 'bias', bias);
  if (b === null) checkSameDType(op, x, w);
  else checkSameDType(op, x, w, b);
  if (w.ndim !== rank + 2) {
    throw new ShapeError(`${op}: weight must be ${rank + 2}-D, got ${formatShape(w.shape)} (input ${formatShape(x.shape)})`);
  }
  if (x.ndim !== rank + 2 && x.ndim !== rank + 1) {
    throw new ShapeError(`${op}: input must be ${rank + 2}-D (batched) or ${rank + 1}-D, got ${formatShape(x.shape)} (weight ${formatShape(w.shape)})`);
  }
  const batched = x.ndim === rank + 2;
  const x4 = batched ? x : reshape(x, [1, ...x.shape]);
  const lift = (t: Tensor): FloatTensor => expectFloat(op, rank === 1 ? reshape(t, [t.shape[0]!, t.shape[1]!, 1, t.shape[2]!]) : t);
  return { x: lift(x4), w: lift(w), b, batched, xShape: x.shape, wShape: w.shape };
}

/** The result back in the caller's rank: a 1-D convolution's height of 1 and an unbatched input's batch removed. */
function lower(y: Tensor, rank: number, batched: boolean): Tensor {
  const shape = rank === 1 ? [y.shape[0]!, y.shape[1]!, y.shape[3]!] : [...y.shape];
  return reshape(y, batched ? shape : shape.slice(1));
}

function convolve(op: string, rank: number, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions): Tensor {
  checkOptions(op, options, CONV_OPTIONS);
  const { x, w, b, batched, spec } = convPlan(op, rank, input, weight, bias, options);
  return lower(convForward(x, w, b, spec), rank, batched);
}

/** A convolution's operands as 4-D (see convOperands) and its spec, every argument checked. */
export function convPlan(op: string, rank: number, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions): { x: FloatTensor; w: FloatTensor; b: FloatTensor | null; batched: boolean; spec: ConvSpec } {
  const { x, w, b, batched, xShape, wShape } = convOperands(op, rank, input, weight, bias);
  const shapes = `input ${formatShape(xShape)} and weight ${formatShape(wShape)}`;
  const groups = groupCount(op, options.groups);
  const c = x.shape[1]!, o = w.shape[0]!;
  if (c % groups !== 0 || o % groups !== 0) {
    throw new ShapeError(`${op}: ${shapes}: groups=${groups} must divide the ${c} input channels and the ${o} output channels`);
  }
  if (w.shape[1]! * groups !== c) {
    throw new ShapeError(`${op}: ${shapes}: weight expects ${w.shape[1]! * groups} input channels (${w.shape[1]} per group × groups=${groups}), input has ${c}`);
  }
  if (b !== null && (b.ndim !== 1 || b.shape[0] !== o)) {
    throw new ShapeError(`${op}: bias must be [${o}] for ${shapes}, got ${formatShape(b.shape)}`);
  }
  const stride = spatial(op, 'stride', options.stride, rank, 1, 1);
  const dilation = spatial(op, 'dilation', options.dilation, rank, 1, 1);
  const kernel = wShape.slice(2);
  const size = xShape.slice(xShape.length - rank);
  const padding = options.padding ?? 0;
  let before: number[], after: number[];
  if (padding === 'valid') {
    before = after = Array<number>(rank).fill(0);
  } else if (padding === 'same') {
    if (stride.some((v) => v !== 1)) throw new ArgumentError(`${op}: padding='same' needs stride 1, got stride=${JSON.stringify(options.stride)}`);
    before = kernel.map((k, i) => Math.floor((dilation[i]! * (k - 1)) / 2));
    after = kernel.map((k, i) => dilation[i]! * (k - 1) - before[i]!);
  } else {
    before = after = spatial(op, 'padding', padding, rank, 0, 0);
  }
  const out = size.map((s, i) => {
    const span = dilation[i]! * (kernel[i]! - 1) + 1;
    const padded = s + before[i]! + after[i]!;
    if (span > padded) {
      throw new ShapeError(`${op}: ${shapes}: kernel of size ${span} (dilation ${dilation[i]}) is larger than the padded input ${padded} (padding=${JSON.stringify(options.padding ?? 0)})`);
    }
    return Math.floor((padded - span) / stride[i]!) + 1;
  });
  const spec = geometry([x.shape[2]!, x.shape[3]!], w, groups, out, stride, before, dilation);
  return { x, w, b, batched, spec };
}

/** The 2-D spec of a convolution of x [n, c, h, w] by w [o, cg, kh, kw]; 1-D lists gain a unit height. */
function geometry(input: readonly number[], w: Tensor, groups: number, out: number[], stride: number[], before: number[], dilation: number[]): ConvSpec {
  const two = (list: number[], unit: number): number[] => (list.length === 1 ? [unit, list[0]!] : list);
  const [oh, ow] = two(out, 1) as [number, number];
  const [sh, sw] = two(stride, 1) as [number, number];
  const [ph, pw] = two(before, 0) as [number, number];
  const [dh, dw] = two(dilation, 1) as [number, number];
  return { h: input[0]!, w: input[1]!, kh: w.shape[2]!, kw: w.shape[3]!, oh, ow, sh, sw, ph, pw, dh, dw, groups };
}

function convolveTransposed(op: string, rank: number, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvTransposeOptions): Tensor {
  checkOptions(op, options, CONV_TRANSPOSE_OPTIONS);
  const { x, w, b, batched, xShape, wShape } = convOperands(op, rank, input, weight, bias);
  const shapes = `input ${formatShape(xShape)} and weight ${formatShape(wShape)}`;
  const groups = groupCount(op, options.groups);
  const cin = x.shape[1]!, cout = w.shape[1]! * groups;
  if (w.shape[0] !== cin) {
    throw new ShapeError(`${op}: ${shapes}: weight expects ${w.shape[0]} input channels, input has ${cin}`);
  }
  if (cin % groups !== 0) {
    throw new ShapeError(`${op}: ${shapes}: groups=${groups} must divide the ${cin} input channels`);
  }
  if (b !== null && (b.ndim !== 1 || b.shape[0] !== cout)) {
    throw new ShapeError(`${op}: bias must be [${cout}] for ${shapes}, got ${formatShape(b.shape)}`);
  }
  const stride = spatial(op, 'stride', options.stride, rank, 1, 1);
  const dilation = spatial(op, 'dilation', options.dilation, rank, 1, 1);
  const padding = spatial(op, 'padding', options.padding, rank, 0, 0);
  const extra = spatial(op, 'outputPadding', options.outputPadding, rank, 0, 0);
  const kernel = wShape.slice(2);
  const size = xShape.slice(xShape.length - rank);
  extra.forEach((e, i) => {
    if (e >= stride[i]! && e >= dilation[i]!) {
      throw new ArgumentError(`${op}: outputPadding ${JSON.stringify(options.outputPadding)} must be smaller than the stride ${JSON.stringify(options.stride ?? 1)} or the dilation ${JSON.stringify(options.dilation ?? 1)}`);
    }
  });
  const out = size.map((s, i) => {
    const n = (s - 1) * stride[i]! - 2 * padding[i]! + dilation[i]! * (kernel[i]! - 1) + extra[i]! + 1;
    if (n <= 0) {
      throw new ShapeError(`${op}: ${shapes}: padding=${JSON.stringify(options.padding)} leaves an output of size ${n}`);
    }
    return n;
  });
  const two = rank === 1 ? [1, out[0]!] : out;
  const spec = geometry(two, w, groups, [x.shape[2]!, x.shape[3]!], stride, padding, dilation);
  return lower(convAdjoint(x, w, b, spec), rank, batched);
}

/**
 * 2-D convolution (cross-correlation, as PyTorch's F.conv2d) of input [n, c, h, w] (or unbatched
 * [c, h, w]) by weight [o, c/groups, kh, kw], plus bias [o] when given: the result is
 * [n, o, oh, ow] with oh = ⌊(h + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1. Runs as im2col
 * and the gemm (both threads for large products); its gradients are a transposed convolution
 * and a weight-gradient convolution, themselves differentiable.
 * @throws ShapeError for wrong ranks, channels that do not divide by groups, a weight whose
 * channels do not match the input's, a bias of the wrong shape, or a kernel larger than the padded input.
 * @throws ArgumentError for a stride, dilation, padding or groups out of range, or 'same' with a stride.
 * @throws DTypeError if the dtypes differ.
 * @example conv2d(x, w, b, { stride: 2, padding: 1 }) // x [64, 3, 32, 32], w [16, 3, 3, 3] -> [64, 16, 16, 16]
 */
export const conv2d = primitive('conv2d', { kind: 'other', rule: 'conv' }, function (input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  return convolve('conv2d', 2, input, weight, bias, options);
});

/**
 * 1-D convolution (PyTorch's F.conv1d) of input [n, c, l] (or [c, l]) by weight [o, c/groups, k],
 * plus bias [o]: the result is [n, o, ol]. Options and errors as `conv2d`.
 * @example conv1d(x, w, null, { padding: 'same' }) // x [8, 4, 100], w [6, 4, 5] -> [8, 6, 100]
 */
export const conv1d = primitive('conv1d', { kind: 'other', rule: 'conv' }, function (input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  return convolve('conv1d', 1, input, weight, bias, options);
});

/**
 * Transposed 2-D convolution (PyTorch's F.conv_transpose2d): the adjoint of `conv2d` in its
 * input, for input [n, cin, h, w] (or [cin, h, w]) and weight [cin, cout/groups, kh, kw], plus
 * bias [cout]. The result is [n, cout, oh, ow] with
 * oh = (h − 1)·stride − 2·padding + dilation·(kh − 1) + outputPadding + 1.
 * @throws ShapeError for wrong ranks, channels that do not divide by groups or do not match the
 * weight's, a bias of the wrong shape, or padding that leaves no output.
 * @throws ArgumentError for options out of range, or outputPadding not below the stride or the dilation.
 * @example convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }) // [1, 8, 4, 4] by [8, 3, 3, 3] -> [1, 3, 8, 8]
 */
export const convTranspose2d = primitive('convTranspose2d', { kind: 'other', rule: 'conv' }, function (input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTransposeOptions = {}): Tensor {
  return convolveTransposed('convTranspose2d', 2, input, weight, bias, options);
});

/**
 * Transposed 1-D convolution (PyTorch's F.conv_transpose1d) of input [n, cin, l] (or [cin, l])
 * by weight [cin, cout/groups, k]: the result is [n, cout, ol]. Options and errors as `convTranspose2d`.
 * @example convTranspose1d(x, w, null, { stride: 2 }) // [2, 4, 10] by [4, 3, 3] -> [2, 3, 21]
 */
export const convTranspose1d = primitive('convTranspose1d', { kind: 'other', rule: 'conv' }, function (input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTransposeOptions = {}): Tensor {
  return convolveTransposed('convTranspose1d', 1, input, weight, bias, options);
});

/** im2col as an op: x [n, c, h, w] to [n, c·kh·kw, blocks]; its VJP is `foldOp`. */
function unfoldOp(x: FloatTensor, s: ConvSpec): Tensor {
  const n = x.shape[0]!, c = x.shape[1]!, ck = c * s.kh * s.kw, p = s.oh * s.ow;
  const shape = [n, ck, p];
  const out = allocate(x.dtype, n * ck * p, 'unfold', shape);
  im2col(x.data, n, c, s, out, p, ck * p);
  return makeOutput('unfold', out, shape, [x], (g) => [foldOp(expectFloat('unfold', g), c, s)], { saves: [[]], jvp: ([t]) => unfoldOp(expectFloat('unfold', t!), s) });
}

/** col2im as an op: u [n, c·kh·kw, blocks] summed back into [n, c, h, w]; its VJP is `unfoldOp`. */
function foldOp(u: FloatTensor, c: number, s: ConvSpec): Tensor {
  const n = u.shape[0]!, ck = u.shape[1]!, p = u.shape[2]!;
  const shape = [n, c, s.h, s.w];
  const x = allocate(u.dtype, n * c * s.h * s.w, 'fold', shape);
  col2im(u.data, n, c, s, x, p, ck * p);
  return makeOutput('fold', x, shape, [u], (g) => [unfoldOp(expectFloat('fold', g), s)], { saves: [[]], jvp: ([t]) => foldOp(expectFloat('fold', t!), c, s) });
}

/** Options of `unfold` and `fold` (PyTorch's defaults: dilation 1, padding 0, stride 1). */
export interface UnfoldOptions {
  /** Spacing between a block's taps (default 1). */
  readonly dilation?: SpatialArg;
  /** Zeros added on both sides of each spatial axis (default 0). */
  readonly padding?: SpatialArg;
  /** Step between blocks (default 1). */
  readonly stride?: SpatialArg;
}

function blockSpec(op: string, size: number[], kernelSize: SpatialArg, options: UnfoldOptions, shape: readonly number[]): ConvSpec {
  checkOptions(op, options, UNFOLD_OPTIONS);
  const kernel = spatial(op, 'kernelSize', kernelSize, 2, 1, 1);
  const stride = spatial(op, 'stride', options.stride, 2, 1, 1);
  const padding = spatial(op, 'padding', options.padding, 2, 0, 0);
  const dilation = spatial(op, 'dilation', options.dilation, 2, 1, 1);
  const out = size.map((s, i) => {
    const span = dilation[i]! * (kernel[i]! - 1) + 1;
    if (span > s + 2 * padding[i]!) {
      throw new ShapeError(`${op}: input ${formatShape(shape)}: kernel ${JSON.stringify(kernelSize)} (dilation ${JSON.stringify(options.dilation ?? 1)}) is larger than the padded size ${s + 2 * padding[i]!} (padding=${JSON.stringify(options.padding ?? 0)})`);
    }
    return Math.floor((s + 2 * padding[i]! - span) / stride[i]!) + 1;
  });
  const [kh, kw] = kernel as [number, number];
  return { h: size[0]!, w: size[1]!, kh, kw, oh: out[0]!, ow: out[1]!, sh: stride[0]!, sw: stride[1]!, ph: padding[0]!, pw: padding[1]!, dh: dilation[0]!, dw: dilation[1]!, groups: 1 };
}

/**
 * Extracts sliding blocks (im2col, PyTorch's F.unfold): input [n, c, h, w] (or [c, h, w]) to
 * [n, c·kh·kw, L], column l holding the block at output position l in row-major order, channel
 * major within it; positions in the padding read 0. `fold` is its adjoint.
 * @throws ShapeError for a wrong rank or a kernel larger than the padded input.
 * @throws ArgumentError for a kernel, stride or dilation below 1 or a negative padding.
 * @example unfold(x, 3, { padding: 1 }) // [1, 2, 4, 4] -> [1, 18, 16]
 */
export const unfold = primitive('unfold', { kind: 'other', rule: 'conv' }, function (input: Tensor, kernelSize: SpatialArg, options: UnfoldOptions = {}): Tensor {
  const x = floatInput('unfold', 'input', input);
  if (x.ndim !== 3 && x.ndim !== 4) throw new ShapeError(`unfold: input must be 3-D or 4-D, got ${formatShape(x.shape)}`);
  const x4 = expectFloat('unfold', x.ndim === 3 ? reshape(x, [1, ...x.shape]) : x);
  const spec = blockSpec('unfold', [x4.shape[2]!, x4.shape[3]!], kernelSize, options, x.shape);
  const y = unfoldOp(x4, spec);
  return x.ndim === 3 ? reshape(y, y.shape.slice(1)) : y;
});

/**
 * Sums sliding blocks back into an image (col2im, PyTorch's F.fold): input [n, c·kh·kw, L] (or
 * [c·kh·kw, L]) to [n, c, outputSize...], overlapping blocks adding up; the adjoint of `unfold`.
 * @throws ShapeError for a wrong rank, a second axis not divisible by kh·kw, or L not the number
 * of blocks outputSize holds.
 * @example fold(cols, [4, 4], 3, { padding: 1 }) // [1, 18, 16] -> [1, 2, 4, 4]
 */
export const fold = primitive('fold', { kind: 'other', rule: 'conv' }, function (input: Tensor, outputSize: SpatialArg, kernelSize: SpatialArg, options: UnfoldOptions = {}): Tensor {
  const u = floatInput('fold', 'input', input);
  if (u.ndim !== 2 && u.ndim !== 3) throw new ShapeError(`fold: input must be 2-D or 3-D, got ${formatShape(u.shape)}`);
  const u3 = expectFloat('fold', u.ndim === 2 ? reshape(u, [1, ...u.shape]) : u);
  const size = spatial('fold', 'outputSize', outputSize, 2, 1, 1);
  const spec = blockSpec('fold', size, kernelSize, options, u.shape);
  const kk = spec.kh * spec.kw;
  if (u3.shape[1]! % kk !== 0) {
    throw new ShapeError(`fold: input ${formatShape(u.shape)}: axis of size ${u3.shape[1]} must divide by the kernel's ${kk} elements (kernelSize ${JSON.stringify(kernelSize)})`);
  }
  if (u3.shape[2] !== spec.oh * spec.ow) {
    throw new ShapeError(`fold: input ${formatShape(u.shape)} has ${u3.shape[2]} blocks, but outputSize ${JSON.stringify(outputSize)} with kernelSize ${JSON.stringify(kernelSize)} and these options holds ${spec.oh * spec.ow}`);
  }
  const y = foldOp(u3, u3.shape[1]! / kk, spec);
  return u.ndim === 2 ? reshape(y, y.shape.slice(1)) : y;
});
