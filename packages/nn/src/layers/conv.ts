import {
  ArgumentError, Generator, conv1d, conv2d, conv2dMaxPool2d, convTranspose1d, convTranspose2d, pad, zeros,
  type ConvOptions, type DType, type PadMode, type SpatialArg, type Tensor,
} from '@chainrule/autograd';
import { Module } from '../module.js';
import { asLayer, spatialList } from '../format.js';
import { resetWeightAndBias } from './linear.js';
import type { MaxPool2d } from './pooling.js';

/** How a convolution pads its input: with zeros (the default) or as `pad`'s other modes. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Options of `Conv1d` and `Conv2d` (PyTorch's defaults). */
export interface ConvLayerOptions {
  /** Step between windows, one per spatial axis or one for all (default 1). */
  stride?: SpatialArg;
  /**
   * Padding added on both sides of each spatial axis (default 0), or 'valid' (none), or 'same'
   * (an output as large as the input; stride 1 only).
   */
  padding?: SpatialArg | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: SpatialArg;
  /** Channel groups; both channel counts must divide by it (default 1; depthwise = inChannels). */
  groups?: number;
  /** Learn an additive per-channel bias (default true). */
  bias?: boolean;
  /** What the padding holds: 'zeros' (default), 'reflect', 'replicate' or 'circular'. */
  paddingMode?: PaddingMode;
  /** dtype of the weight and bias (default 'float32'). */
  dtype?: DType;
  /** Seed of the initialisation (a fresh generator). */
  seed?: number;
  /** Generator of the initialisation (takes precedence over `seed`); share one across layers of a model. */
  generator?: Generator;
}

/** Options of `ConvTranspose2d` (PyTorch's defaults). */
export interface ConvTransposeLayerOptions {
  /** The stride of the convolution this one is the adjoint of (default 1). */
  stride?: SpatialArg;
  /** That convolution's padding: removed from both sides of the output (default 0). */
  padding?: SpatialArg;
  /** Extra size on one side of each output axis, smaller than the stride or the dilation (default 0). */
  outputPadding?: SpatialArg;
  /** Spacing between kernel taps (default 1). */
  dilation?: SpatialArg;
  /** Channel groups; both channel counts must divide by it (default 1). */
  groups?: number;
  /** Learn an additive per-channel bias (default true). */
  bias?: boolean;
  /** dtype of the weight and bias (default 'float32'). */
  dtype?: DType;
  /** Seed of the initialisation (a fresh generator). */
  seed?: number;
  /** Generator of the initialisation (takes precedence over `seed`). */
  generator?: Generator;
}

/** A convolution layer's checked arguments. */
interface ConvConfig {
  kernelSize: number[];
  stride: number[];
  padding: number[] | 'same' | 'valid';
  dilation: number[];
  groups: number;
  bias: boolean;
}

const PADDING_MODES: readonly string[] = ['zeros', 'reflect', 'replicate', 'circular'];

/** Checks what PyTorch's _ConvNd checks at construction, naming the layer. */
function convConfig(layer: string, rank: number, inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions): ConvConfig {
  for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new ArgumentError(`${layer}: ${name} must be a positive integer, got ${v}`);
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups <= 0) throw new ArgumentError(`${layer}: groups must be a positive integer, got ${groups}`);
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new ArgumentError(`${layer}: groups=${groups} must divide inChannels=${inChannels} and outChannels=${outChannels}`);
  }
  const stride = spatialList(`${layer}: stride`, options.stride ?? 1, rank, 1);
  const dilation = spatialList(`${layer}: dilation`, options.dilation ?? 1, rank, 1);
  const given = options.padding ?? 0;
  let padding: ConvConfig['padding'];
  if (given === 'same' || given === 'valid') {
    if (given === 'same' && stride.some((s) => s !== 1)) {
      throw new ArgumentError(`${layer}: padding='same' is not supported for strided convolutions (stride=${JSON.stringify(options.stride)})`);
    }
    padding = given;
  } else {
    padding = spatialList(`${layer}: padding`, given, rank, 0);
  }
  return { kernelSize: spatialList(`${layer}: kernelSize`, kernelSize, rank, 1), stride, padding, dilation, groups, bias: options.bias ?? true };
}

function checkPaddingMode(layer: string, mode: PaddingMode): PaddingMode {
  if (!PADDING_MODES.includes(mode)) {
    throw new ArgumentError(`${layer}: paddingMode must be one of ${PADDING_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  }
  return mode;
}

/**
 * What the convolution layers share, as PyTorch's `_ConvNd`: channel counts, the checked kernel
 * size, stride, padding, dilation and groups, the weight and bias, and PyTorch's initialisation
 * (weight kaiming_uniform(a = √5), bias U(±1/√fan_in) with fan_in from the weight's axis 1 and
 * kernel). Subclasses give the rank, the weight's layout and `forward`.
 */
export abstract class ConvNd extends Module {
  /** C of the input. */
  readonly inChannels: number;
  /** C of the output. */
  readonly outChannels: number;
  /** Kernel size per spatial axis. */
  readonly kernelSize: readonly number[];
  /** Step between windows per spatial axis. */
  readonly stride: readonly number[];
  /** Padding per spatial axis, or 'same' / 'valid'. */
  readonly padding: readonly number[] | 'same' | 'valid';
  /** Spacing between kernel taps per spatial axis. */
  readonly dilation: readonly number[];
  /** Channel groups. */
  readonly groups: number;
  /** What the padding holds ('zeros' for transposed convolutions). */
  readonly paddingMode: PaddingMode;
  private readonly hasBias: boolean;

  /**
   * @param layer - the class's name, for messages.
   * @param rank - the number of spatial axes.
   * @param transposed - whether the weight is [in, out/groups, ...kernel] (else [out, in/groups, ...kernel]).
   * @throws ArgumentError for channels that are not positive or do not divide by groups, sizes out
   * of range, an unknown paddingMode, or padding 'same' with a stride.
   */
  protected constructor(layer: string, rank: number, transposed: boolean, inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions) {
    super();
    const c = convConfig(layer, rank, inChannels, outChannels, kernelSize, options);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = c.kernelSize;
    this.stride = c.stride;
    this.padding = c.padding;
    this.dilation = c.dilation;
    this.groups = c.groups;
    this.hasBias = c.bias;
    this.paddingMode = checkPaddingMode(layer, options.paddingMode ?? 'zeros');
    const dtype = options.dtype ?? 'float32';
    const channels = transposed ? [inChannels, outChannels / c.groups] : [outChannels, inChannels / c.groups];
    this.registerParameter('weight', zeros([...channels, ...c.kernelSize], { dtype }));
    if (c.bias) this.registerParameter('bias', zeros([outChannels], { dtype }));
    this.resetParameters(options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed)));
  }

  /** The weight: [outChannels, inChannels/groups, ...kernel], or [inChannels, outChannels/groups, ...kernel] when transposed. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** The [outChannels] bias, or null. */
  get bias(): Tensor | null {
    return this.hasBias ? this.param('bias') : null;
  }

  /** Re-draws weight and bias in place with PyTorch's default scheme (from `generator`, or the global one). @example conv.resetParameters(new Generator(1)) */
  resetParameters(generator?: Generator): void {
    resetWeightAndBias(this.weight, this.bias, generator);
  }

  /** The input padded explicitly for a non-zero paddingMode (as PyTorch: F.pad, then a convolution without padding), and the padding left for the convolution. */
  protected padded(x: Tensor): {
    /** The input, padded when paddingMode is not 'zeros'. */
    input: Tensor;
    /** The padding the convolution still adds. */
    padding: ConvOptions['padding'];
  } {
    const p = this.padding;
    if (this.paddingMode === 'zeros' || p === 'valid') return { input: x, padding: p };
    const amounts: number[] = [];
    for (let i = this.kernelSize.length - 1; i >= 0; i--) {
      if (p === 'same') {
        const total = this.dilation[i]! * (this.kernelSize[i]! - 1);
        amounts.push(Math.floor(total / 2), total - Math.floor(total / 2));
      } else {
        amounts.push(p[i]!, p[i]!);
      }
    }
    return { input: pad(x, amounts, { mode: this.paddingMode as PadMode }), padding: 0 };
  }

  /** Arguments a subclass adds to the description, after the dilation. */
  protected describeExtra(): string[] {
    return [];
  }

  /** The non-default arguments, as PyTorch's repr shows them. */
  protected override describe(): string {
    const list = (v: readonly number[]): string => `[${v.join(', ')}]`;
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize=${list(this.kernelSize)}`, `stride=${list(this.stride)}`];
    const p = this.padding;
    if (typeof p === 'string') parts.push(`padding='${p}'`);
    else if (p.some((v) => v !== 0)) parts.push(`padding=${list(p)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${list(this.dilation)}`);
    parts.push(...this.describeExtra());
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.hasBias) parts.push('bias=false');
    if (this.paddingMode !== 'zeros') parts.push(`paddingMode='${this.paddingMode}'`);
    return parts.join(', ');
  }
}

/**
 * A 2-D convolution layer over [N, C, H, W] (or unbatched [C, H, W]) inputs, as PyTorch's
 * `nn.Conv2d`: weight [outChannels, inChannels/groups, kH, kW], bias [outChannels], initialised as
 * PyTorch (see `ConvNd`).
 * @example const conv = new Conv2d(1, 6, 5, { padding: 2, seed: 0 }); conv.forward(images) // [N, 1, 28, 28] -> [N, 6, 28, 28]
 */
export class Conv2d extends ConvNd {
  /**
   * @param kernelSize - one size for both axes, or [kH, kW].
   * @throws ArgumentError as `ConvNd`'s constructor.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions = {}) {
    super('Conv2d', 2, false, inChannels, outChannels, kernelSize, options);
  }

  /**
   * The convolution (autograd's `conv2d`, after explicit padding for a non-zero paddingMode).
   * @throws ShapeError (naming this layer, the input's and the weight's shapes) for an input that
   * is not 3-D or 4-D, has other than inChannels channels, or is smaller than the kernel.
   * @throws DTypeError if the input's dtype differs from the layer's.
   */
  forward(x: Tensor): Tensor {
    return asLayer(this, () => {
      const { input, padding } = this.padded(x);
      return conv2d(input, this.weight, this.bias, { stride: this.stride, padding, dilation: this.dilation, groups: this.groups });
    });
  }

  /**
   * @internal `pool.forward(forward(x))` as one fused op (autograd's `conv2dMaxPool2d`): what
   * Sequential runs for a Conv2d followed by a MaxPool2d.
   */
  forwardPooled(x: Tensor, pool: MaxPool2d): Tensor {
    return asLayer(this, () => {
      const { input, padding } = this.padded(x);
      const options = { stride: this.stride, padding, dilation: this.dilation, groups: this.groups };
      return conv2dMaxPool2d(input, this.weight, this.bias, options, pool.kernelSize, { stride: pool.stride, padding: pool.padding, dilation: pool.dilation, ceilMode: pool.ceilMode });
    });
  }
}

/**
 * A 1-D convolution layer over [N, C, L] (or unbatched [C, L]) inputs, as PyTorch's `nn.Conv1d`:
 * weight [outChannels, inChannels/groups, k], bias [outChannels]; initialisation, options and
 * errors as `Conv2d`.
 * @example new Conv1d(4, 8, 3, { padding: 'same' }).forward(x) // [N, 4, L] -> [N, 8, L]
 */
export class Conv1d extends ConvNd {
  /** @throws ArgumentError as `ConvNd`'s constructor. */
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions = {}) {
    super('Conv1d', 1, false, inChannels, outChannels, kernelSize, options);
  }

  /**
   * The convolution (autograd's `conv1d`).
   * @throws ShapeError or DTypeError naming this layer, as `Conv2d.forward`.
   */
  forward(x: Tensor): Tensor {
    return asLayer(this, () => {
      const { input, padding } = this.padded(x);
      return conv1d(input, this.weight, this.bias, { stride: this.stride, padding, dilation: this.dilation, groups: this.groups });
    });
  }
}

/**
 * A transposed convolution over the last `rank` axes (the adjoint of a convolution in its input),
 * as PyTorch's `nn.ConvTranspose1d` / `nn.ConvTranspose2d`: weight [inChannels,
 * outChannels/groups, ...kernel] and bias [outChannels], initialised as PyTorch (so fan_in =
 * outChannels/groups·∏kernel). Each output axis is (L − 1)·stride − 2·padding +
 * dilation·(k − 1) + outputPadding + 1 long.
 */
export abstract class ConvTransposeNd extends ConvNd {
  /** Extra output size on one side of each axis. */
  readonly outputPadding: readonly number[];

  /**
   * @throws ArgumentError as `ConvNd`'s constructor, for padding 'same' or 'valid', or an
   * outputPadding not smaller than the stride or the dilation.
   */
  protected constructor(layer: string, rank: number, inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions) {
    if (typeof options.padding === 'string') {
      throw new ArgumentError(`${layer}: padding must be numbers, got ${JSON.stringify(options.padding)} (transposed convolutions have no 'same' or 'valid', as in PyTorch)`);
    }
    super(layer, rank, true, inChannels, outChannels, kernelSize, options);
    const extra = spatialList(`${layer}: outputPadding`, options.outputPadding ?? 0, rank, 0);
    extra.forEach((e, i) => {
      if (e >= this.stride[i]! && e >= this.dilation[i]!) {
        throw new ArgumentError(`${layer}: outputPadding ${JSON.stringify(options.outputPadding)} must be smaller than the stride ${JSON.stringify(this.stride)} or the dilation ${JSON.stringify(this.dilation)}`);
      }
    });
    this.outputPadding = extra;
  }

  /**
   * The transposed convolution (autograd's `convTranspose1d` / `convTranspose2d`).
   * @throws ShapeError (naming this layer and both shapes) for an input of the wrong rank, with
   * other than inChannels channels, or whose padding leaves no output.
   * @throws DTypeError if the input's dtype differs from the layer's.
   */
  forward(x: Tensor): Tensor {
    const padding = this.padding as readonly number[];
    const options = { stride: this.stride, padding, outputPadding: this.outputPadding, dilation: this.dilation, groups: this.groups };
    return asLayer(this, () => (this.outputPadding.length === 1 ? convTranspose1d(x, this.weight, this.bias, options) : convTranspose2d(x, this.weight, this.bias, options)));
  }

  protected override describeExtra(): string[] {
    return this.outputPadding.some((e) => e !== 0) ? [`outputPadding=[${this.outputPadding.join(', ')}]`] : [];
  }
}

/**
 * A transposed 2-D convolution layer, as PyTorch's `nn.ConvTranspose2d` (see `ConvTransposeNd`):
 * weight [inChannels, outChannels/groups, kH, kW].
 * @example new ConvTranspose2d(16, 8, 2, { stride: 2 }).forward(x) // [N, 16, 7, 7] -> [N, 8, 14, 14]
 */
export class ConvTranspose2d extends ConvTransposeNd {
  /** @throws ArgumentError as `ConvTransposeNd`'s constructor. */
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * A transposed 1-D convolution layer over [N, C, L] (or [C, L]), as PyTorch's
 * `nn.ConvTranspose1d` (see `ConvTransposeNd`): weight [inChannels, outChannels/groups, k].
 * @example new ConvTranspose1d(4, 2, 3, { stride: 2 }).forward(x) // [N, 4, 10] -> [N, 2, 21]
 */
export class ConvTranspose1d extends ConvTransposeNd {
  /** @throws ArgumentError as `ConvTransposeNd`'s constructor. */
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose1d', 1, inChannels, outChannels, kernelSize, options);
  }
}
