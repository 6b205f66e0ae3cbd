import { ArgumentError, ShapeError, ones, zeros, type DType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { asLayer, formatShape } from '../format.js';
import { locateError } from '../locate.js';

/** Options of `GroupNorm` (PyTorch's defaults). */
export interface GroupNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a per-channel scale (ones) and shift (zeros) (default true). */
  affine?: boolean;
  /** dtype of the affine parameters (default 'float32'). */
  dtype?: DType;
}

/**
 * Group normalisation over [N, C, ...] inputs, as PyTorch's `nn.GroupNorm`: the channels are split
 * into `numGroups` groups of consecutive channels, and each sample's each group is normalised
 * with its own mean and biased variance (over its channels and all the axes after them), then
 * scaled and shifted per channel. The same in training and evaluation; no running statistics.
 * @example new GroupNorm(4, 32).forward(x) // x: [N, 32, H, W]
 */
export class GroupNorm extends Module {
  /** Number of channel groups. */
  readonly numGroups: number;
  /** C, the size of axis 1 of the input. */
  readonly numChannels: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Whether the layer learns weight and bias. */
  readonly affine: boolean;

  /** @throws ArgumentError if the counts are not positive integers, `numChannels` does not divide by `numGroups`, or `eps` < 0. */
  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    for (const [name, v] of [['numGroups', numGroups], ['numChannels', numChannels]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ArgumentError(`GroupNorm: ${name} must be a positive integer, got ${v}`);
    }
    if (numChannels % numGroups !== 0) {
      throw new ArgumentError(`GroupNorm: numChannels=${numChannels} must be divisible by numGroups=${numGroups}`);
    }
    const { eps = 1e-5, affine = true, dtype = 'float32' } = options;
    if (!(eps >= 0)) throw new ArgumentError(`GroupNorm: eps must be >= 0, got ${eps}`);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = eps;
    this.affine = affine;
    if (affine) {
      this.registerParameter('weight', ones([numChannels], { dtype }));
      this.registerParameter('bias', zeros([numChannels], { dtype }));
    }
  }

  /** The per-channel scale, or null. */
  get weight(): Tensor | null {
    return this.affine ? this.param('weight') : null;
  }

  /** The per-channel shift, or null. */
  get bias(): Tensor | null {
    return this.affine ? this.param('bias') : null;
  }

  /**
   * Normalises each group of each sample, then scales and shifts per channel.
   * @throws ShapeError if `x` is not [N, C, ...] with C = numChannels.
   * @throws DTypeError if `x`'s dtype differs from the parameters'.
   */
  forward(x: Tensor): Tensor {
    try {
      const c = this.numChannels;
      if (x.ndim < 2 || x.shape[1] !== c) {
        throw new ShapeError(`GroupNorm(${this.numGroups}, ${c}): input must be [N, ${c}, ...], got ${formatShape(x.shape)}`);
      }
      const n = x.shape[0]!;
      return asLayer(this, () => {
        const grouped = x.reshape(n, this.numGroups, -1);
        const centred = grouped.sub(grouped.mean(2, true));
        const variance = centred.square().mean(2, true);
        let y = centred.div(variance.add(this.eps).sqrt()).reshape(...x.shape);
        const perChannel = (t: Tensor): Tensor => t.reshape(c, ...Array<number>(x.ndim - 2).fill(1));
        const { weight, bias } = this;
        if (weight !== null) y = y.mul(perChannel(weight));
        if (bias !== null) y = y.add(perChannel(bias));
        return y;
      });
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}
