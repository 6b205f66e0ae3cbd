import { ArgumentError, ShapeError, ones, zeros, type DType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { formatShape } from '../format.js';

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a per-element scale (ones) and shift (zeros) (default true). */
  elementwiseAffine?: boolean;
  /** Learn the shift when elementwiseAffine (default true). */
  bias?: boolean;
  /** dtype of the affine parameters (default 'float32'). */
  dtype?: DType;
}

/**
 * Normalises over the last dimensions (`normalizedShape`) of each sample with the biased
 * variance, then applies an optional per-element scale and shift, as PyTorch.
 * @example new LayerNorm(64).forward(x) // x: [batch, 64]
 */
export class LayerNorm extends Module {
  /** The trailing shape normalised over. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before the square root. */
  readonly eps: number;
  private readonly affine: boolean;
  private readonly hasBias: boolean;

  /** @throws ArgumentError if `normalizedShape` is empty or not positive integers, or `eps` < 0. */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ArgumentError(`LayerNorm: normalizedShape must be positive integers, got ${JSON.stringify(normalizedShape)}`);
    }
    const { eps = 1e-5, elementwiseAffine = true, bias = true, dtype = 'float32' } = options;
    if (!(eps >= 0)) throw new ArgumentError(`LayerNorm: eps must be >= 0, got ${eps}`);
    this.normalizedShape = shape;
    this.eps = eps;
    this.affine = elementwiseAffine;
    this.hasBias = elementwiseAffine && bias;
    if (this.affine) this.registerParameter('weight', ones(shape, { dtype }));
    if (this.hasBias) this.registerParameter('bias', zeros(shape, { dtype }));
  }

  /** The per-element scale, or null. */
  get weight(): Tensor | null {
    return this.affine ? this.param('weight') : null;
  }

  /** The per-element shift, or null. */
  get bias(): Tensor | null {
    return this.hasBias ? this.param('bias') : null;
  }

  /**
   * `(x - mean) / √(var + eps) · weight + bias` over the trailing `normalizedShape` axes.
   * @throws ShapeError if `x`'s shape does not end in `normalizedShape`.
   */
  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.ndim - k);
    if (x.ndim < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new ShapeError(`LayerNorm: input of shape ${formatShape(x.shape)} must end in ${formatShape(this.normalizedShape)}`);
    }
    const axes = Array.from({ length: k }, (_, i) => x.ndim - k + i);
    const centred = x.sub(x.mean(axes, true));
    const variance = centred.square().mean(axes, true);
    let y = centred.div(variance.add(this.eps).sqrt());
    const { weight, bias } = this;
    if (weight !== null) y = y.mul(weight);
    if (bias !== null) y = y.add(bias);
    return y;
  }

  protected override describe(): string {
    return `${formatShape(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.affine}`;
  }
}
