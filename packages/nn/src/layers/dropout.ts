import { ArgumentError, Generator, ShapeError, Tensor, dropout, ones } from '@chainrule/autograd';
import { formatShape } from '../format.js';
import { Module } from '../module.js';
import { locateError } from '../locate.js';

/** Options of `Dropout`. */
export interface DropoutOptions {
  /** Seed of the layer's own generator. */
  seed?: number;
  /** Generator to draw masks from (takes precedence over `seed`). */
  generator?: Generator;
}

/**
 * Inverted dropout: in training, zeroes each element with probability `p` and scales the rest by
 * 1/(1-p), so evaluation (where it is the identity) needs no rescaling. Masks come from the
 * layer's generator (`seed`/`generator`) or else the global one, never from `Math.random`.
 * @example const drop = new Dropout(0.5, { seed: 0 }); drop.forward(x); drop.eval().forward(x) === x
 */
export class Dropout extends Module {
  /** Probability of zeroing an element. */
  readonly p: number;
  private readonly generator: Generator | undefined;

  /** @throws ArgumentError if `p` is not in [0, 1]. */
  constructor(p = 0.5, options: DropoutOptions = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: p must be in [0, 1], got ${p}`);
    this.p = p;
    // A seed gives the layer its own stream, created once so each call draws a new mask.
    this.generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
  }

  /** In training, `x` times a fresh random mask of 0 and 1/(1-p) (the functional `dropout`); in evaluation, `x` itself. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }

  protected override describe(): string {
    return `p=${this.p}`;
  }
}

/**
 * Channel dropout over [N, C, H, W] inputs, as PyTorch's `nn.Dropout2d`: in training, each whole
 * channel of each sample (an H×W plane) is zeroed with probability `p` and the others are scaled
 * by 1/(1-p); in evaluation it is the identity. Adjacent pixels of a feature map are strongly
 * correlated, so dropping single ones barely regularises a convolution; dropping planes does.
 * A 3-D input is refused: PyTorch reads one as [N, C, L] today and means to read it as
 * unbatched [C, H, W] in future, so either guess could be wrong (add the batch axis with
 * `unsqueeze(0)`).
 * @example const drop = new Dropout2d(0.2, { seed: 0 }); drop.forward(features)
 */
export class Dropout2d extends Module {
  /** Probability of zeroing a channel. */
  readonly p: number;
  private readonly generator: Generator | undefined;

  /** @throws ArgumentError if `p` is not in [0, 1]. */
  constructor(p = 0.5, options: DropoutOptions = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout2d: p must be in [0, 1], got ${p}`);
    this.p = p;
    this.generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
  }

  /**
   * In training, `x` times a fresh [N, C, 1, 1] mask of 0 and 1/(1-p); in evaluation, `x` itself.
   * @throws ShapeError if `x` is not 4-D.
   */
  forward(x: Tensor): Tensor {
    try {
      if (x.ndim !== 4) throw new ShapeError(`Dropout2d(p=${this.p}): input must be [N, C, H, W], got ${formatShape(x.shape)}`);
      if (!this.training || this.p === 0) return x;
      // The functional dropout of a ones tensor is the mask, scaling included.
      const mask = dropout(ones([x.shape[0]!, x.shape[1]!, 1, 1], { dtype: x.dtype }), this.p, { generator: this.generator });
      return x.mul(mask);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `p=${this.p}`;
  }
}
