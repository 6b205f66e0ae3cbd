import { ArgumentError, ShapeError, Tensor, incrementVersion, ones, zeros, type DType } from '@chainrule/autograd';
import { Module } from '../module.js';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';

/** Options of `BatchNorm1d` and `BatchNorm2d` (PyTorch's defaults). */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running averages (default 0.1); null for a cumulative average. */
  momentum?: number | null;
  /** Learn a per-feature scale and shift (default true). */
  affine?: boolean;
  /** Keep running mean and variance for evaluation (default true); if false, batch statistics are always used. */
  trackRunningStats?: boolean;
  /** dtype of parameters and running statistics (default 'float32'). */
  dtype?: DType;
}

/** The options `NormBase` takes, each resolved to a value by the subclass's defaults. */
export interface NormBaseOptions {
  /** Added to the variance. */
  eps: number;
  /** Weight of each new batch in the running averages; null for a cumulative average. */
  momentum: number | null;
  /** Learn a per-channel scale and shift. */
  affine: boolean;
  /** Keep running mean and variance for evaluation. */
  trackRunningStats: boolean;
  /** dtype of parameters and running statistics. */
  dtype: DType;
}

/**
 * What BatchNorm1d, BatchNorm2d and InstanceNorm2d share, as PyTorch's `_NormBase`: a per-channel
 * scale `weight` (ones) and shift `bias` (zeros) when affine, and, when tracking, the buffers
 * running_mean, running_var and num_batches_tracked under PyTorch's names, so state dicts line up
 * (num_batches_tracked is int32 here; PyTorch's int64 reads from safetensors into int32).
 * Channels are axis 1 of the input.
 */
export abstract class NormBase extends Module {
  /** C, the size of axis 1 of the input. */
  readonly numFeatures: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Weight of each new batch in the running averages; null for a cumulative average. */
  readonly momentum: number | null;
  /** Whether the layer learns weight and bias. */
  readonly affine: boolean;
  /** Whether the layer keeps running statistics for evaluation. */
  readonly trackRunningStats: boolean;

  /**
   * @param layer - the class's name, for messages.
   * @throws ArgumentError if `numFeatures` is not a positive integer, `eps` < 0, or `momentum` is outside [0, 1].
   */
  protected constructor(layer: string, numFeatures: number, options: NormBaseOptions) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new ArgumentError(`${layer}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    const { eps, momentum, affine, trackRunningStats, dtype } = options;
    if (!(eps >= 0)) throw new ArgumentError(`${layer}: eps must be >= 0, got ${eps}`);
    if (momentum !== null && !(momentum >= 0 && momentum <= 1)) {
      throw new ArgumentError(`${layer}: momentum must be in [0, 1] or null, got ${momentum}`);
    }
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    if (affine) {
      this.registerParameter('weight', ones([numFeatures], { dtype }));
      this.registerParameter('bias', zeros([numFeatures], { dtype }));
    }
    if (trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures], { dtype }));
      this.registerBuffer('running_var', ones([numFeatures], { dtype }));
      this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
    }
  }

  /** The per-channel scale γ, or null. */
  get weight(): Tensor | null {
    return this.affine ? this.param('weight') : null;
  }

  /** The per-channel shift β, or null. */
  get bias(): Tensor | null {
    return this.affine ? this.param('bias') : null;
  }

  /** Running mean (buffer 'running_mean'), or null. */
  get runningMean(): Tensor | null {
    return this.trackRunningStats ? this.buffer('running_mean') : null;
  }

  /** Running unbiased variance (buffer 'running_var'), or null. */
  get runningVar(): Tensor | null {
    return this.trackRunningStats ? this.buffer('running_var') : null;
  }

  /** Batches seen in training (buffer 'num_batches_tracked', an int32 scalar), or null. */
  get numBatchesTracked(): Tensor | null {
    return this.trackRunningStats ? this.buffer('num_batches_tracked') : null;
  }

  /** A [C] tensor shaped to broadcast along axis 1 of an input of `ndim` axes. */
  protected perChannel(t: Tensor, ndim: number): Tensor {
    return ndim <= 2 ? t : t.reshape(this.numFeatures, ...Array<number>(ndim - 2).fill(1));
  }

  /**
   * `(x - mean) / √(var + eps)` with the mean and biased variance over `axes` (keeping them), or
   * with the running statistics when `useRunning`; returns the normalised input and the batch
   * statistics it used (null with the running ones).
   */
  protected standardize(x: Tensor, axes: number[], useRunning: boolean): {
    /** The normalised input. */
    y: Tensor;
    /** The batch mean over `axes` (kept), or null. */
    mean: Tensor | null;
    /** The batch's biased variance over `axes` (kept), or null. */
    variance: Tensor | null;
  } {
    if (useRunning) {
      const rm = this.perChannel(this.runningMean!, x.ndim);
      const rv = this.perChannel(this.runningVar!, x.ndim);
      return { y: x.sub(rm).div(rv.add(this.eps).sqrt()), mean: null, variance: null };
    }
    const mean = x.mean(axes, true);
    const centred = x.sub(mean);
    const variance = centred.square().mean(axes, true);
    return { y: centred.div(variance.add(this.eps).sqrt()), mean, variance };
  }

  /** `y · weight + bias` per channel when affine. */
  protected scaleAndShift(y: Tensor): Tensor {
    const { weight, bias } = this;
    let out = y;
    if (weight !== null) out = out.mul(this.perChannel(weight, y.ndim));
    if (bias !== null) out = out.add(this.perChannel(bias, y.ndim));
    return out;
  }

  /**
   * Running averages, updated in place outside the graph from a batch's per-channel mean and
   * biased variance over `n` values each (the variance enters unbiased, as PyTorch). `count`
   * says whether num_batches_tracked counts this batch (InstanceNorm's does not, as PyTorch's).
   */
  protected updateRunningStats(mean: ArrayLike<number>, biasedVar: ArrayLike<number>, n: number, count: boolean): void {
    const tracked = this.numBatchesTracked!.data;
    if (count) tracked[0] = tracked[0]! + 1;
    const m = this.momentum ?? 1 / tracked[0]!;
    const rm = this.runningMean!.data;
    const rv = this.runningVar!.data;
    const bessel = n / (n - 1);
    for (let f = 0; f < this.numFeatures; f++) {
      rm[f] = m * mean[f]! + (1 - m) * rm[f]!;
      rv[f] = m * biasedVar[f]! * bessel + (1 - m) * rv[f]!;
    }
    for (const t of [this.numBatchesTracked!, this.runningMean!, this.runningVar!]) incrementVersion(t);
  }

  /**
   * Batch normalisation of an input already checked by the subclass: in training, statistics
   * over every axis but the channel's (updating the running ones when tracking); in evaluation,
   * the running statistics when tracking, else the batch's.
   */
  protected batchNormalize(x: Tensor): Tensor {
    const axes = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
    const useRunning = !this.training && this.trackRunningStats;
    if (this.training && x.size / this.numFeatures <= 1) {
      throw new ShapeError(`${this.constructor.name}: expected more than 1 value per feature (channel) in training, got input ${formatShape(x.shape)}`);
    }
    const { y, mean, variance } = this.standardize(x, axes, useRunning);
    if (this.training && this.trackRunningStats) this.updateRunningStats(mean!.data, variance!.data, x.size / this.numFeatures, true);
    return this.scaleAndShift(y);
  }

  protected override describe(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] inputs, as PyTorch's `nn.BatchNorm1d`: in
 * training, normalises each channel with the batch's mean and biased variance and updates the
 * running statistics (running_var from the unbiased variance); in evaluation, uses the running
 * statistics. Parameters and buffers as `NormBase`.
 * @example const bn = new BatchNorm1d(16); bn.forward(x); bn.eval().forward(x)
 */
export class BatchNorm1d extends NormBase {
  /** @throws ArgumentError if `numFeatures` is not a positive integer, `eps` < 0, or `momentum` is outside [0, 1]. */
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm1d', numFeatures, batchNormDefaults(options));
  }

  /**
   * Normalises `x` per channel (batch statistics in training, updating the running ones in place;
   * running statistics in evaluation), then scales and shifts.
   * @throws ShapeError if `x` is not [N, C] or [N, C, L] with C = numFeatures, or, in training,
   * has only one value per channel.
   */
  forward(x: Tensor): Tensor {
    try {
      const c = this.numFeatures;
      if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[1] !== c) {
        throw new ShapeError(`BatchNorm1d(${c}): input must be [N, ${c}] or [N, ${c}, L], got ${formatShape(x.shape)}`);
      }
      return this.batchNormalize(x);
    } catch (e) {
      throw locateError(this, e);
    }
  }
}

/**
 * Batch normalisation over [N, C, H, W] inputs, as PyTorch's `nn.BatchNorm2d`: statistics per
 * channel over the batch and both spatial axes; otherwise as `BatchNorm1d`.
 * @example const bn = new BatchNorm2d(16); bn.forward(images); bn.eval().forward(images)
 */
export class BatchNorm2d extends NormBase {
  /** @throws ArgumentError if `numFeatures` is not a positive integer, `eps` < 0, or `momentum` is outside [0, 1]. */
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm2d', numFeatures, batchNormDefaults(options));
  }

  /**
   * Normalises `x` per channel, as `BatchNorm1d.forward`.
   * @throws ShapeError if `x` is not [N, C, H, W] with C = numFeatures, or, in training, has only
   * one value per channel.
   */
  forward(x: Tensor): Tensor {
    try {
      const c = this.numFeatures;
      if (x.ndim !== 4 || x.shape[1] !== c) {
        throw new ShapeError(`BatchNorm2d(${c}): input must be [N, ${c}, H, W], got ${formatShape(x.shape)}`);
      }
      return this.batchNormalize(x);
    } catch (e) {
      throw locateError(this, e);
    }
  }
}

function batchNormDefaults(options: BatchNormOptions): NormBaseOptions {
  const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, dtype = 'float32' } = options;
  return { eps, momentum, affine, trackRunningStats, dtype };
}
