import { ArgumentError, adaptiveAvgPool2d, avgPool2d, maxPool2d, type AdaptiveSize, type SpatialArg, type Tensor } from '@chainrule/autograd';
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
 * Max pooling over the last two axes of [N, C, H, W] or [C, H, W], as PyTorch's `nn.MaxPool2d`
 * (autograd's `maxPool2d`; for the indices PyTorch's `return_indices` gives, call
 * `maxPool2d(x, k, { returnIndices: true })`). The gradient flows to each window's maximum.
 * @example new MaxPool2d(2).forward(x) // [N, 6, 24, 24] -> [N, 6, 12, 12]
 */
export class MaxPool2d extends Module {
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
  constructor(kernelSize: SpatialArg, options: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = spatialList('MaxPool2d: kernelSize', kernelSize, 2, 1);
    this.stride = options.stride === undefined || options.stride === null ? this.kernelSize : spatialList('MaxPool2d: stride', options.stride, 2, 1);
    this.padding = spatialList('MaxPool2d: padding', options.padding ?? 0, 2, 0);
    this.dilation = spatialList('MaxPool2d: dilation', options.dilation ?? 1, 2, 1);
    this.ceilMode = options.ceilMode ?? false;
    checkHalfKernel('MaxPool2d', this.padding, this.kernelSize);
  }

  /**
   * The pooled input.
   * @throws ShapeError naming this layer and the input's shape for an input that is not 3-D or 4-D or is smaller than the window.
   */
  forward(x: Tensor): Tensor {
    return asLayer(this, () => maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode }));
  }

  protected override describe(): string {
    return `kernelSize=${list(this.kernelSize)}, stride=${list(this.stride)}, padding=${list(this.padding)}, dilation=${list(this.dilation)}, ceilMode=${this.ceilMode}`;
  }
}

/** PyTorch checks this at construction; a layer that can never run should not be built. */
function checkHalfKernel(layer: string, padding: readonly number[], kernel: readonly number[]): void {
  if (padding.some((p, i) => 2 * p > kernel[i]!)) {
    throw new ArgumentError(`${layer}: padding ${list(padding)} must be at most half the kernel size ${list(kernel)}`);
  }
}

/**
 * Average pooling over the last two axes of [N, C, H, W] or [C, H, W], as PyTorch's
 * `nn.AvgPool2d` (autograd's `avgPool2d`).
 * @example new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false })
 */
export class AvgPool2d extends Module {
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
  constructor(kernelSize: SpatialArg, options: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = spatialList('AvgPool2d: kernelSize', kernelSize, 2, 1);
    this.stride = options.stride === undefined || options.stride === null ? this.kernelSize : spatialList('AvgPool2d: stride', options.stride, 2, 1);
    this.padding = spatialList('AvgPool2d: padding', options.padding ?? 0, 2, 0);
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    this.divisorOverride = options.divisorOverride ?? null;
    checkHalfKernel('AvgPool2d', this.padding, this.kernelSize);
    if (this.divisorOverride !== null && !(Number.isFinite(this.divisorOverride) && this.divisorOverride !== 0)) {
      throw new ArgumentError(`AvgPool2d: divisorOverride must be a nonzero number, got ${this.divisorOverride}`);
    }
  }

  /**
   * The pooled input.
   * @throws ShapeError naming this layer and the input's shape for an input that is not 3-D or 4-D or is smaller than the window.
   */
  forward(x: Tensor): Tensor {
    const { stride, padding, ceilMode, countIncludePad, divisorOverride } = this;
    return asLayer(this, () => avgPool2d(x, this.kernelSize, { stride, padding, ceilMode, countIncludePad, divisorOverride }));
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
    const pair = typeof outputSize === 'number' ? [outputSize] : Array.isArray(outputSize) && outputSize.length === 2 ? outputSize : [NaN];
    if (!pair.every((v) => v === null || (Number.isInteger(v) && v >= 1))) {
      throw new ArgumentError(`AdaptiveAvgPool2d: outputSize must be a positive integer or a pair of them (null keeps the input's size), got ${JSON.stringify(outputSize)}`);
    }
    this.outputSize = typeof outputSize === 'number' ? outputSize : [outputSize[0], outputSize[1]];
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
