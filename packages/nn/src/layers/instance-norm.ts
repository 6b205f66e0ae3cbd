import { ArgumentError, ShapeError, type DType, type Tensor } from '@chainrule/autograd';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';
import { NormBase } from './batch-norm.js';

/** Options of `InstanceNorm2d` (PyTorch's defaults, which differ from BatchNorm's). */
export interface InstanceNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of each new batch in the running averages (default 0.1). */
  momentum?: number;
  /** Learn a per-channel scale and shift (default false). */
  affine?: boolean;
  /** Keep running statistics and use them in evaluation (default false). */
  trackRunningStats?: boolean;
  /** dtype of parameters and running statistics (default 'float32'). */
  dtype?: DType;
}

/**
 * Instance normalisation over [N, C, H, W] or unbatched [C, H, W] inputs, as PyTorch's
 * `nn.InstanceNorm2d`: each sample's each channel is normalised with its own mean and biased
 * variance over H and W. With trackRunningStats, training also updates running statistics (the
 * batch's average of the instances' statistics; num_batches_tracked stays 0, as PyTorch's) and
 * evaluation uses them. Parameters and buffers as `NormBase`. Unlike PyTorch, which only warns,
 * an input whose channels are not numFeatures is an error even without affine or running statistics.
 * @example new InstanceNorm2d(3, { affine: true }).forward(images)
 */
export class InstanceNorm2d extends NormBase {
  /** @throws ArgumentError if `numFeatures` is not a positive integer, `eps` < 0, or `momentum` is not a number in [0, 1]. */
  constructor(numFeatures: number, options: InstanceNormOptions = {}) {
    const { eps = 1e-5, momentum = 0.1, affine = false, trackRunningStats = false, dtype = 'float32' } = options;
    // A cumulative average would need a batch count, which InstanceNorm does not keep.
    if (typeof momentum !== 'number') throw new ArgumentError(`InstanceNorm2d: momentum must be a number in [0, 1], got ${String(momentum)}`);
    super('InstanceNorm2d', numFeatures, { eps, momentum, affine, trackRunningStats, dtype });
  }

  /**
   * Normalises each instance's channels over H and W (or with the running statistics in
   * evaluation when tracking), then scales and shifts when affine.
   * @throws ShapeError if `x` is not [N, C, H, W] or [C, H, W] with C = numFeatures, or, when
   * normalising with its own statistics in training, has a single spatial element.
   */
  forward(x: Tensor): Tensor {
    try {
      return this.normalize(x);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  /** `forward` before its errors are located. */
  private normalize(x: Tensor): Tensor {
    const c = this.numFeatures;
    const batched = x.ndim === 4;
    if ((x.ndim !== 3 && x.ndim !== 4) || x.shape[x.ndim - 3] !== c) {
      throw new ShapeError(`InstanceNorm2d(${c}): input must be [N, ${c}, H, W] or [${c}, H, W], got ${formatShape(x.shape)}`);
    }
    const x4 = batched ? x : x.reshape(1, ...x.shape);
    const [n, , h, w] = x4.shape as [number, number, number, number];
    const useRunning = !this.training && this.trackRunningStats;
    if (this.training && h * w <= 1) {
      throw new ShapeError(`InstanceNorm2d(${c}): expected more than 1 spatial element in training, got input ${formatShape(x.shape)}`);
    }
    const { y, mean, variance } = this.standardize(x4, [2, 3], useRunning);
    if (this.training && this.trackRunningStats) {
      // PyTorch updates one running entry per instance, then averages them over the batch.
      const avg = (t: Tensor): Float64Array => {
        const out = new Float64Array(c);
        for (let i = 0; i < n * c; i++) out[i % c] = out[i % c]! + t.data[i]! / n;
        return out;
      };
      this.updateRunningStats(avg(mean!), avg(variance!), h * w, false);
    }
    const out = this.scaleAndShift(y);
    return batched ? out : out.reshape(...x.shape);
  }
}
