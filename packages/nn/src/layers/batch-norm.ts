import { ArgumentError, ShapeError, Tensor, incrementVersion, ones, zeros, type DType } from '@chainrule/autograd';
import { Module } from '../module.js';
import { formatShape } from '../format.js';

/** Options of `BatchNorm1d` (PyTorch's defaults). */
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

/**
 * Batch normalisation over [N, C] or [N, C, L] inputs: in training, normalises each feature with
 * the batch mean and biased variance and updates the running statistics (running_var from the
 * unbiased variance, as PyTorch); in evaluation, uses the running statistics. Buffers keep
 * PyTorch's names (running_mean, running_var, num_batches_tracked) so state dicts line up;
 * num_batches_tracked is int32 here (PyTorch: int64, which safetensors files hold as I64 and
 * parseSafetensors reads into int32).
 * @example const bn = new BatchNorm1d(16); bn.forward(x); bn.eval().forward(x)
 */
export class BatchNorm1d extends Module {
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

  /** @throws ArgumentError if `numFeatures` is not a positive integer, `eps` < 0, or `momentum` is outside [0, 1]. */
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new ArgumentError(`BatchNorm1d: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, dtype = 'float32' } = options;
    if (!(eps >= 0)) throw new ArgumentError(`BatchNorm1d: eps must be >= 0, got ${eps}`);
    if (momentum !== null && !(momentum >= 0 && momentum <= 1)) {
      throw new ArgumentError(`BatchNorm1d: momentum must be in [0, 1] or null, got ${momentum}`);
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

  /** The per-feature scale γ, or null. */
  get weight(): Tensor | null {
    return this.affine ? this.param('weight') : null;
  }

  /** The per-feature shift β, or null. */
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

  /** Batches seen in training, a float64 scalar (PyTorch keeps an int64; chainrule tensors are float). */
  get numBatchesTracked(): Tensor | null {
    return this.trackRunningStats ? this.buffer('num_batches_tracked') : null;
  }

  /**
   * Normalises `x` per feature (batch statistics in training, updating the running ones in place;
   * running statistics in evaluation), then scales and shifts.
   * @throws ShapeError if `x` is not [N, C] or [N, C, L] with C = numFeatures, or, in training,
   * has only one value per feature.
   */
  forward(x: Tensor): Tensor {
    const c = this.numFeatures;
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[1] !== c) {
      throw new ShapeError(`BatchNorm1d(${c}): input must be [N, ${c}] or [N, ${c}, L], got ${formatShape(x.shape)}`);
    }
    const axes = x.ndim === 2 ? [0] : [0, 2];
    // Per-feature tensors broadcast against x as [C] or [C, 1].
    const perFeature = (t: Tensor): Tensor => (x.ndim === 2 ? t : t.reshape(c, 1));
    const useBatchStats = this.training || this.runningMean === null;
    let y: Tensor;
    if (useBatchStats) {
      const n = x.size / c;
      if (this.training && n <= 1) {
        throw new ShapeError(`BatchNorm1d: expected more than 1 value per feature in training, got input ${formatShape(x.shape)}`);
      }
      const mean = x.mean(axes, true);
      const centred = x.sub(mean);
      const variance = centred.square().mean(axes, true);
      y = centred.div(variance.add(this.eps).sqrt());
      if (this.training && this.runningMean !== null) this.updateRunningStats(mean.data, variance.data, n);
    } else {
      const rm = perFeature(this.runningMean!);
      const rv = perFeature(this.runningVar!);
      y = x.sub(rm).div(rv.add(this.eps).sqrt());
    }
    const { weight, bias } = this;
    if (weight !== null) y = y.mul(perFeature(weight));
    if (bias !== null) y = y.add(perFeature(bias));
    return y;
  }

  /** Running averages, updated in place outside the graph. */
  private updateRunningStats(mean: ArrayLike<number>, biasedVar: ArrayLike<number>, n: number): void {
    const count = this.numBatchesTracked!.data;
    count[0] = count[0]! + 1;
    const m = this.momentum ?? 1 / count[0]!;
    const rm = this.runningMean!.data;
    const rv = this.runningVar!.data;
    const bessel = n / (n - 1);
    for (let f = 0; f < this.numFeatures; f++) {
      rm[f] = m * mean[f]! + (1 - m) * rm[f]!;
      rv[f] = m * biasedVar[f]! * bessel + (1 - m) * rv[f]!;
    }
    for (const t of [this.numBatchesTracked!, this.runningMean!, this.runningVar!]) incrementVersion(t);
  }

  protected override describe(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}
