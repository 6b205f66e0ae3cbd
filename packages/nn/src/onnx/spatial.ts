// Convolutions, pooling and the normalisations of image models, as ONNX's Conv, ConvTranspose,
// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, BatchNormalization and
// InstanceNormalization. ONNX's pooling and convolution take batched [N, C, ...] inputs only, so
// an unbatched input is refused. The 1-D and 2-D layers are one operator with 1-D or 2-D attributes.
import { ShapeError } from '@chainrule/autograd';
import type { AnyModule } from '../module.js';
import { Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, type ConvNd, type ConvTransposeNd } from '../layers/conv.js';
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, type AvgPoolNd, type MaxPoolNd } from '../layers/pooling.js';
import { BatchNorm2d } from '../layers/batch-norm.js';
import { InstanceNorm2d } from '../layers/instance-norm.js';
import { GroupNorm } from '../layers/group-norm.js';
import { RMSNorm } from '../layers/rms-norm.js';
import { Dropout2d } from '../layers/dropout.js';
import type { Attribute, SymDim, SymValue } from './graph.js';
import {
  OnnxExportError, at, batchNormalization, describeModule, filled, formatDims, perChannel, register, weight, type ExportContext,
} from './layers.js';
import { reduceMean, reshape } from './shape.js';

/** Checks `x` is [N, channels, ...spatial] with `rank` spatial axes, naming the layer. */
function checkBatched(m: AnyModule, path: string, x: SymValue, rank: number, channels: number | null): void {
  const c = x.shape[1];
  if (x.shape.length !== rank + 2 || (channels !== null && typeof c === 'number' && c !== channels)) {
    const axes = rank === 1 ? 'L' : 'H, W';
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} expects [N, ${channels ?? 'C'}, ${axes}] (ONNX has no unbatched form), got shape ${formatDims(x.shape)}`);
  }
}

/**
 * Output size of a window sliding over `size` (padded by `before` + `after`), or null if `size`
 * is not known at export. In ceil mode the last window must start inside the input or the
 * leading padding, as PyTorch and ONNX (opset 19's shape rule) count.
 */
function windows(m: AnyModule, path: string, x: SymValue, size: SymDim, k: number, s: number, before: number, after: number, d: number, ceil = false): SymDim {
  if (typeof size !== 'number') return null;
  const span = d * (k - 1) + 1;
  if (span > size + before + after) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} has a window of ${span} larger than the padded input (${size} + ${before + after}) of shape ${formatDims(x.shape)}`);
  }
  let out = Math.floor((size + before + after - span + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= size + before) out--;
  return out;
}

const PAD_MODE: Readonly<Record<string, string>> = { reflect: 'reflect', replicate: 'edge', circular: 'wrap' };

function convolution(m: ConvNd, path: string, x: SymValue, ctx: ExportContext): SymValue {
  const rank = m.kernelSize.length;
  checkBatched(m, path, x, rank, m.inChannels);
  const g = ctx.graph;
  const p = m.padding;
  // PyTorch's 'same' puts the odd unit of padding after, as autograd's convolutions do.
  const total = m.kernelSize.map((k, i) => (p === 'valid' ? 0 : p === 'same' ? m.dilation[i]! * (k - 1) : 2 * p[i]!));
  let before = total.map((t) => Math.floor(t / 2));
  let after = total.map((t, i) => t - before[i]!);
  let input = x.name;
  let spatial = x.shape.slice(2);
  if (m.paddingMode !== 'zeros' && total.some((t) => t > 0)) {
    if (m.paddingMode === 'circular' && ctx.opset < 19) {
      throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} with paddingMode 'circular' needs Pad's 'wrap' mode, from opset 19 (got opset ${ctx.opset})`);
    }
    const pads = g.int64s([0, 0, ...before, 0, 0, ...after]);
    input = g.node('Pad', [x.name, pads], at(path, 'Pad'), { mode: { string: PAD_MODE[m.paddingMode]! } });
    spatial = spatial.map((s, i) => (typeof s === 'number' ? s + total[i]! : null));
    before = after = before.map(() => 0);
  }
  const out = spatial.map((s, i) => windows(m, path, x, s, m.kernelSize[i]!, m.stride[i]!, before[i]!, after[i]!, m.dilation[i]!));
  const inputs = [input, weight(ctx, path, m, 'weight', m.weight)];
  if (m.bias !== null) inputs.push(weight(ctx, path, m, 'bias', m.bias));
  const attributes: Record<string, Attribute> = {
    kernel_shape: { ints: m.kernelSize }, strides: { ints: m.stride }, pads: { ints: [...before, ...after] }, dilations: { ints: m.dilation }, group: { int: m.groups },
  };
  return { name: g.node('Conv', inputs, at(path, 'Conv'), attributes), shape: [x.shape[0]!, m.outChannels, ...out] };
}

register(Conv1d, convolution);
register(Conv2d, convolution);

function transposedConvolution(m: ConvTransposeNd, path: string, x: SymValue, ctx: ExportContext): SymValue {
  checkBatched(m, path, x, m.kernelSize.length, m.inChannels);
  const p = m.padding as readonly number[];
  const out = x.shape.slice(2).map((s, i) => {
    if (typeof s !== 'number') return null;
    const size = (s - 1) * m.stride[i]! - 2 * p[i]! + m.dilation[i]! * (m.kernelSize[i]! - 1) + m.outputPadding[i]! + 1;
    if (size <= 0) throw new ShapeError(`exportOnnx: ${describeModule(path, m)}'s padding leaves no output for an input of shape ${formatDims(x.shape)}`);
    return size;
  });
  const inputs = [x.name, weight(ctx, path, m, 'weight', m.weight)];
  if (m.bias !== null) inputs.push(weight(ctx, path, m, 'bias', m.bias));
  const attributes: Record<string, Attribute> = {
    kernel_shape: { ints: m.kernelSize }, strides: { ints: m.stride }, pads: { ints: [...p, ...p] }, output_padding: { ints: m.outputPadding },
    dilations: { ints: m.dilation }, group: { int: m.groups },
  };
  return { name: ctx.graph.node('ConvTranspose', inputs, at(path, 'ConvTranspose'), attributes), shape: [x.shape[0]!, m.outChannels, ...out] };
}

register(ConvTranspose1d, transposedConvolution);
register(ConvTranspose2d, transposedConvolution);

function maxPool(m: MaxPoolNd, path: string, x: SymValue, ctx: ExportContext): SymValue {
  checkBatched(m, path, x, m.kernelSize.length, null);
  const out = x.shape.slice(2).map((s, i) => windows(m, path, x, s, m.kernelSize[i]!, m.stride[i]!, m.padding[i]!, m.padding[i]!, m.dilation[i]!, m.ceilMode));
  const attributes: Record<string, Attribute> = {
    kernel_shape: { ints: m.kernelSize }, strides: { ints: m.stride }, pads: { ints: [...m.padding, ...m.padding] }, dilations: { ints: m.dilation }, ceil_mode: { int: m.ceilMode ? 1 : 0 },
  };
  return { name: ctx.graph.node('MaxPool', [x.name], at(path, 'MaxPool'), attributes), shape: [x.shape[0]!, x.shape[1]!, ...out] };
}

register(MaxPool1d, maxPool);
register(MaxPool2d, maxPool);

function averagePool(m: AvgPoolNd, path: string, x: SymValue, ctx: ExportContext): SymValue {
  checkBatched(m, path, x, m.kernelSize.length, null);
  const { kernelSize: k, stride, padding, ceilMode, divisorOverride } = m;
  const out = x.shape.slice(2).map((s, i) => windows(m, path, x, s, k[i]!, stride[i]!, padding[i]!, padding[i]!, 1, ceilMode));
  // A window's divisor is the kernel's area (counting the padding) unless a ceil-mode window runs
  // past the padding; with divisorOverride every window's sum is divided by it instead, which is
  // the average times area/divisor wherever the divisor is the area.
  const partial = out.some((o, i) => typeof o !== 'number' || (o - 1) * stride[i]! + k[i]! > (x.shape[i + 2] as number) + 2 * padding[i]!);
  if (divisorOverride !== null && ceilMode && partial) {
    throw new OnnxExportError(
      `exportOnnx: ${describeModule(path, m)} with divisorOverride and ceilMode is not supported for input ${formatDims(x.shape)}: a ceil-mode window past the padding has another divisor in ONNX's AveragePool`,
    );
  }
  const attributes: Record<string, Attribute> = {
    kernel_shape: { ints: k }, strides: { ints: stride }, pads: { ints: [...padding, ...padding] }, ceil_mode: { int: ceilMode ? 1 : 0 },
    count_include_pad: { int: m.countIncludePad || divisorOverride !== null ? 1 : 0 },
  };
  const g = ctx.graph;
  const mean = g.node('AveragePool', [x.name], at(path, 'AveragePool'), attributes);
  const shape = [x.shape[0]!, x.shape[1]!, ...out];
  if (divisorOverride === null) return { name: mean, shape };
  return { name: g.node('Mul', [mean, g.constant(k.reduce((a, b) => a * b, 1) / divisorOverride)], at(path, 'Mul')), shape };
}

// AvgPool1d has no divisorOverride, as PyTorch's.
register(AvgPool1d, averagePool);
register(AvgPool2d, averagePool);

/**
 * Adaptive pooling as ONNX's fixed pooling: the global operator to 1×1; else `window` (AveragePool
 * or MaxPool) with kernel = stride = input/output on each axis, the adaptive windows exactly when
 * each output size divides the input's (a null size keeps its axis: a window of 1).
 */
function adaptivePool(m: AdaptiveAvgPool2d | AdaptiveMaxPool2d, path: string, x: SymValue, ctx: ExportContext, global: string, window: string): SymValue {
  checkBatched(m, path, x, 2, null);
  const target = typeof m.outputSize === 'number' ? [m.outputSize, m.outputSize] : m.outputSize;
  const g = ctx.graph;
  if (target[0] === 1 && target[1] === 1) {
    return { name: g.node(global, [x.name], at(path, global)), shape: [x.shape[0]!, x.shape[1]!, 1, 1] };
  }
  // Equal windows tile the input only when each output size divides the input's.
  const kernel = target.map((o, i) => {
    const size = x.shape[i + 2]!;
    if (o === null || o === size) return 1;
    const as = `(then it is ${window === 'AveragePool' ? 'an' : 'a'} ${window})`;
    if (typeof size !== 'number') {
      throw new OnnxExportError(
        `exportOnnx: ${describeModule(path, m)} to ${JSON.stringify(m.outputSize)} needs input sizes known at export that the output divides ${as}, got the dynamic shape ${formatDims(x.shape)}`,
      );
    }
    if (size % o !== 0) {
      throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} to ${JSON.stringify(m.outputSize)} needs input sizes the output divides ${as}, got shape ${formatDims(x.shape)}`);
    }
    return size / o;
  });
  const shape = [x.shape[0]!, x.shape[1]!, ...target.map((o, i) => o ?? x.shape[i + 2]!)];
  if (kernel.every((k) => k === 1)) return { name: x.name, shape };
  return { name: g.node(window, [x.name], at(path, window), { kernel_shape: { ints: kernel }, strides: { ints: kernel } }), shape };
}

register(AdaptiveAvgPool2d, (m, path, x, ctx) => adaptivePool(m, path, x, ctx, 'GlobalAveragePool', 'AveragePool'));
register(AdaptiveMaxPool2d, (m, path, x, ctx) => adaptivePool(m, path, x, ctx, 'GlobalMaxPool', 'MaxPool'));

register(BatchNorm2d, (m, path, x, ctx) => batchNormalization(m, path, x, ctx, [4], `[N, ${m.numFeatures}, H, W]`));

register(InstanceNorm2d, (m, path, x, ctx) => {
  // With running statistics, evaluation normalises per channel with them: BatchNormalization.
  if (m.trackRunningStats) return batchNormalization(m, path, x, ctx, [4], `[N, ${m.numFeatures}, H, W] (ONNX has no unbatched form)`);
  checkBatched(m, path, x, 2, m.numFeatures);
  const c = m.numFeatures;
  const scale = m.weight === null ? filled(ctx, path, 'weight', 1, [c]) : weight(ctx, path, m, 'weight', m.weight);
  const bias = m.bias === null ? filled(ctx, path, 'bias', 0, [c]) : weight(ctx, path, m, 'bias', m.bias);
  return { name: ctx.graph.node('InstanceNormalization', [x.name, scale, bias], at(path, 'InstanceNormalization'), { epsilon: { float: m.eps } }), shape: x.shape };
});

/** (x − mean) / √(var + eps) over `axes` (biased variance), node by node, in the graph's dtype. */
function standardize(ctx: ExportContext, path: string, x: string, axes: readonly number[], eps: number): string {
  const g = ctx.graph;
  const centred = g.node('Sub', [x, reduceMean(ctx, path, x, axes)], at(path, 'Sub'));
  const variance = reduceMean(ctx, path, g.node('Mul', [centred, centred], at(path, 'Square')), axes);
  const std = g.node('Sqrt', [g.node('Add', [variance, g.constant(eps)], at(path, 'Add'))], at(path, 'Sqrt'));
  return g.node('Div', [centred, std], at(path, 'Div'));
}

// GroupNormalization is opset 18's with a per-group scale and opset 21's with a per-channel one,
// and ONNX Runtime runs it in float only: the normalisation is written out as GroupNorm.forward
// computes it, which every opset and both dtypes run.
register(GroupNorm, (m, path, x, ctx) => {
  const c = m.numChannels;
  if (x.shape.length < 2 || (typeof x.shape[1] === 'number' && x.shape[1] !== c)) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} expects [N, ${c}, ...], got shape ${formatDims(x.shape)}`);
  }
  const g = ctx.graph;
  const grouped = reshape(ctx, path, x, [{ axis: 0 }, m.numGroups, 'infer'], [x.shape[0]!, m.numGroups, null]);
  const normalised = standardize(ctx, path, grouped.name, [2], m.eps);
  let y = g.node('Reshape', [normalised, g.node('Shape', [x.name], at(path, 'Shape'))], at(path, 'Reshape'));
  const rank = x.shape.length;
  if (m.weight !== null) y = g.node('Mul', [y, perChannel(ctx, path, m, 'weight', m.weight, rank)], at(path, 'Mul'));
  if (m.bias !== null) y = g.node('Add', [y, perChannel(ctx, path, m, 'bias', m.bias, rank)], at(path, 'Add'));
  return { name: y, shape: x.shape };
});

// RMSNormalization arrives in opset 23, past the opsets exported: x / √(mean(x²) + eps) · weight.
register(RMSNorm, (m, path, x, ctx) => {
  const k = m.normalizedShape.length;
  const r = x.shape.length;
  if (r < k || x.shape.slice(r - k).some((d, i) => typeof d === 'number' && d !== m.normalizedShape[i])) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} normalizes [${m.normalizedShape.join(',')}] but its input has shape ${formatDims(x.shape)}`);
  }
  const g = ctx.graph;
  const eps = m.eps ?? (g.dtype === 'float32' ? 2 ** -23 : 2 ** -52);
  const meanSquare = reduceMean(ctx, path, g.node('Mul', [x.name, x.name], at(path, 'Square')), Array.from({ length: k }, (_, i) => r - k + i));
  const rms = g.node('Sqrt', [g.node('Add', [meanSquare, g.constant(eps)], at(path, 'Add'))], at(path, 'Sqrt'));
  let y = g.node('Div', [x.name, rms], at(path, 'Div'));
  if (m.weight !== null) y = g.node('Mul', [y, weight(ctx, path, m, 'weight', m.weight)], at(path, 'Mul'));
  return { name: y, shape: x.shape };
});

// Channel dropout is the identity in evaluation, as Dropout.
register(Dropout2d, (m, path, x) => {
  if (x.shape.length !== 4) throw new ShapeError(`exportOnnx: ${describeModule(path, m)} expects [N, C, H, W], got shape ${formatDims(x.shape)}`);
  return x;
});
