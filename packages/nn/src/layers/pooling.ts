import {
  ArgumentError, adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool1d, avgPool2d, maxPool1d, maxPool2d, type AdaptiveSize, type SpatialArg, type Tensor,
} from '@chainrule/autograd';
import { Module } from '../module.js';
import { asLayer, spatialList } from '../format.js';

/** Options of `MaxPool2d` (PyTorch's defaults). */
export interface MaxPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: SpatialArg | null;
  /** Implicit −∞ added on both sides, at most half the kernel (default 0). */
  padding?: SpatialArg;
  /** Spacing between window taps (default 1). */
  dilation?: SpatialArg;
  /** Round the output size up (default false). */
  ceilMode?: boolean;
}

/** Options of `AvgPool2d` (PyTorch's defaults). */
export interface AvgPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: SpatialArg | null;
  /** Zeros added on both sides, at most half the kernel (default 0). */
  padding?: SpatialArg;
  /** Round the output size up (default false). */
  ceilMode?: boolean;
  /** Count the padding's zeros in each window's divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead (default null). */
  divisorOverride?: number | null;
}

const list = (v: readonly number[]): string => (v.every((x) => x === v[0]) ? `${v[0]}` : `[${v.join(', ')}]`);

/**
 * Max pooling over the last `rank` axes, as PyTorch's `nn.MaxPool1d` / `nn.MaxPool2d` (autograd's
 * `maxPool1d` / `maxPool2d`). The gradient flows to each window's maximum.
 */
export abstract class MaxPoolNd extends Module {
  /** Window size per axis. */
  readonly kernelSize: readonly number[];
  /** Step between windows per axis. */
  readonly stride: readonly number[];
  /** Padding per axis. */
  readonly padding: readonly number[];
  /** Spacing between taps per axis. */
  readonly dilation: readonly number[];
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;

  /** @throws ArgumentError for sizes out of range or padding over half the kernel. */
  protected constructor(private readonly layer: string, kernelSize: SpatialArg, options: MaxPool2dOptions) {
    super();
    const rank = layer === 'MaxPool1d' ? 1 : 2;
    this.kernelSize = spatialList(`${layer}: kernelSize`, kernelSize, rank, 1);
    this.stride = options.stride === undefined || options.stride === null ? this.kernelSize : spatialList(`${layer}: stride`, options.stride, rank, 1);
    this.padding = spatialList(`${layer}: padding`, options.padding ?? 0, rank, 0);
    this.dilation = spatialList(`${layer}: dilation`, options.dilation ?? 1, rank, 1);
    this.ceilMode = options.ceilMode ?? false;
    checkHalfKernel(layer, this.padding, this.kernelSize);
  }

  /**
   * The pooled input.
   * @throws ShapeError naming this layer and the input's shape for an input of the wrong rank or smaller than the window.
   */
  forward(x: Tensor): Tensor {
    const options = { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode };
    return asLayer(this, () => (this.layer === 'MaxPool1d' ? maxPool1d(x, this.kernelSize, options) : maxPool2d(x, this.kernelSize, options)));
  }

  protected override describe(): string {
    return `kernelSize=${list(this.kernelSize)}, stride=${list(this.stride)}, padding=${list(this.padding)}, dilation=${list(this.dilation)}, ceilMode=${this.ceilMode}`;
  }
}

/**
 * Max pooling over the last two axes of [N, C, H, W] or [C, H, W], as PyTorch's `nn.MaxPool2d`
 * (autograd's `maxPool2d`; for the indices PyTorch's `return_indices` gives, call
 * `maxPool2d(x, k, { returnIndices: true })`). The gradient flows to each window's maximum.
 * @example new MaxPool2d(2).forward(x) // [N, 6, 24, 24] -> [N, 6, 12, 12]
 */
export class MaxPool2d extends MaxPoolNd {
  /** @throws ArgumentError for sizes out of range or padding over half the kernel. */
  constructor(kernelSize: SpatialArg, options: MaxPool2dOptions = {}) {
    super('MaxPool2d', kernelSize, options);
  }
}

/**
 * Max pooling over the last axis of [N, C, L] or [C, L], as PyTorch's `nn.MaxPool1d` (autograd's
 * `maxPool1d`); options as `MaxPool2d`'s, one number each.
 * @example new MaxPool1d(3, { stride: 2 }).forward(x) // [N, C, 9] -> [N, C, 4]
 */
export class MaxPool1d extends MaxPoolNd {
  /** @throws ArgumentError for sizes out of range or padding over half the kernel. */
  constructor(kernelSize: SpatialArg, options: MaxPool2dOptions = {}) {
    super('MaxPool1d', kernelSize, options);
  }
}

/** PyTorch checks this at construction; a layer that can never run should not be built. */
function checkHalfKernel(layer: string, padding: readonly number[], kernel: readonly number[]): void {
  if (padding.some((p, i) => 2 * p > kernel[i]!)) {
    throw new ArgumentError(`${layer}: padding ${list(padding)} must be at most half the kernel size ${list(kernel)}`);
  }
}

/**
 * Average pooling over the last `rank` axes, as PyTorch's `nn.AvgPool1d` / `nn.AvgPool2d`
 * (autograd's `avgPool1d` / `avgPool2d`).
 */
export abstract class AvgPoolNd extends Module {
  /** Window size per axis. */
  readonly kernelSize: readonly number[];
  /** Step between windows per axis. */
  readonly stride: readonly number[];
  /** Padding per axis. */
  readonly padding: readonly number[];
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;
  /** Whether the padding's zeros count in each window's divisor. */
  readonly countIncludePad: boolean;
  /** The divisor of every window, or null for the window's size. */
  readonly divisorOverride: number | null;

  /** @throws ArgumentError for sizes out of range, padding over half the kernel, or a zero or non-finite divisorOverride. */
  protected constructor(private readonly layer: string, kernelSize: SpatialArg, options: AvgPool2dOptions) {
    super();
    const rank = layer === 'AvgPool1d' ? 1 : 2;
    this.kernelSize = spatialList(`${layer}: kernelSize`, kernelSize, rank, 1);
    this.stride = options.stride === undefined || options.stride === null ? this.kernelSize : spatialList(`${layer}: stride`, options.stride, rank, 1);
    this.padding = spatialList(`${layer}: padding`, options.padding ?? 0, rank, 0);
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    this.divisorOverride = options.divisorOverride ?? null;
    checkHalfKernel(layer, this.padding, this.kernelSize);
    if (this.divisorOverride !== null && !(Number.isFinite(this.divisorOverride) && this.divisorOverride !== 0)) {
      throw new ArgumentError(`${layer}: divisorOverride must be a nonzero number, got ${this.divisorOverride}`);
    }
    if (rank === 1 && this.divisorOverride !== null) {
      throw new ArgumentError(`${layer}: divisorOverride is not an option of 1-D average pooling (as PyTorch's AvgPool1d)`);
    }
  }

  /**
   * The pooled input.
   * @throws ShapeError naming this layer and the input's shape for an input of the wrong rank or smaller than the window.
   */
  forward(x: Tensor): Tensor {
    const { stride, padding, ceilMode, countIncludePad, divisorOverride } = this;
    return asLayer(this, () =>
      this.layer === 'AvgPool1d'
        ? avgPool1d(x, this.kernelSize, { stride, padding, ceilMode, countIncludePad })
        : avgPool2d(x, this.kernelSize, { stride, padding, ceilMode, countIncludePad, divisorOverride }));
  }

  protected override describe(): string {
    const parts = [`kernelSize=${list(this.kernelSize)}`, `stride=${list(this.stride)}`, `padding=${list(this.padding)}`];
    if (this.ceilMode) parts.push('ceilMode=true');
    if (!this.countIncludePad) parts.push('countIncludePad=false');
    if (this.divisorOverride !== null) parts.push(`divisorOverride=${this.divisorOverride}`);
    return parts.join(', ');
  }
}

/**
 * Average pooling over the last two axes of [N, C, H, W] or [C, H, W], as PyTorch's
 * `nn.AvgPool2d` (autograd's `avgPool2d`).
 * @example new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false })
 */
export class AvgPool2d extends AvgPoolNd {
  /** @throws ArgumentError for sizes out of range, padding over half the kernel, or a zero or non-finite divisorOverride. */
  constructor(kernelSize: SpatialArg, options: AvgPool2dOptions = {}) {
    super('AvgPool2d', kernelSize, options);
  }
}

/**
 * Average pooling over the last axis of [N, C, L] or [C, L], as PyTorch's `nn.AvgPool1d`
 * (autograd's `avgPool1d`); options as `AvgPool2d`'s, one number each, without divisorOverride.
 * @example new AvgPool1d(4).forward(x) // [N, C, 16] -> [N, C, 4]
 */
export class AvgPool1d extends AvgPoolNd {
  /** @throws ArgumentError as `AvgPool2d`, or for a divisorOverride. */
  constructor(kernelSize: SpatialArg, options: Omit<AvgPool2dOptions, 'divisorOverride'> = {}) {
    super('AvgPool1d', kernelSize, options);
  }
}

/**
 * Adaptive average pooling to a fixed output size over the last two axes of [N, C, H, W] or
 * [C, H, W], as PyTorch's `nn.AdaptiveAvgPool2d`: output (i, j) averages input rows
 * [⌊i·H/oh⌋, ⌈(i+1)·H/oh⌉) and the columns likewise; `new AdaptiveAvgPool2d(1)` is global
 * average pooling.
 * @example new AdaptiveAvgPool2d([7, 7]).forward(x) // [N, C, H, W] -> [N, C, 7, 7]
 */
export class AdaptiveAvgPool2d extends Module {
  /** The output size: one for both axes, or a pair whose null keeps the input's size. */
  readonly outputSize: AdaptiveSize;

  /** @throws ArgumentError for an output size that is not a positive integer (or null in a pair). */
  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = adaptiveSize('AdaptiveAvgPool2d', outputSize);
  }

  /**
   * The pooled input.
   * @throws ShapeError naming this layer and the input's shape for an input that is not 3-D or 4-D.
   */
  forward(x: Tensor): Tensor {
    return asLayer(this, () => adaptiveAvgPool2d(x, this.outputSize));
  }

  protected override describe(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}

/**
 * Adaptive max pooling to a fixed output size over the last two axes of [N, C, H, W] or
 * [C, H, W], as PyTorch's `nn.AdaptiveMaxPool2d` (the windows of `AdaptiveAvgPool2d`; for the
 * indices PyTorch's `return_indices` gives, call `adaptiveMaxPool2d(x, size, { returnIndices: true })`).
 * @example new AdaptiveMaxPool2d(1).forward(x) // [N, C, H, W] -> [N, C, 1, 1]
 */
export class AdaptiveMaxPool2d extends Module {
  /** The output size: one for both axes, or a pair whose null keeps the input's size. */
  readonly outputSize: AdaptiveSize;

  /** @throws ArgumentError for an output size that is not a positive integer (or null in a pair). */
  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = adaptiveSize('AdaptiveMaxPool2d', outputSize);
  }

  /**
   * The pooled input.
   * @throws ShapeError naming this layer and the input's shape for an input that is not 3-D or 4-D.
   */
  forward(x: Tensor): Tensor {
    return asLayer(this, () => adaptiveMaxPool2d(x, this.outputSize));
  }

  protected override describe(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}

function adaptiveSize(layer: string, outputSize: AdaptiveSize): AdaptiveSize {
  const pair = typeof outputSize === 'number' ? [outputSize] : Array.isArray(outputSize) && outputSize.length === 2 ? outputSize : [NaN];
  if (!pair.every((v) => v === null || (Number.isInteger(v) && v >= 1))) {
    throw new ArgumentError(`${layer}: outputSize must be a positive integer or a pair of them (null keeps the input's size), got ${JSON.stringify(outputSize)}`);
  }
  return typeof outputSize === 'number' ? outputSize : [outputSize[0], outputSize[1]];
}
