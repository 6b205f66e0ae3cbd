import { ArgumentError, ShapeError, ones, zeros, type DType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';

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
    const shape = checkNormalizedShape('LayerNorm', normalizedShape);
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
    try {
      return this.normalize(x);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  /** `forward` before its errors are located. */
  private normalize(x: Tensor): Tensor {
    const axes = trailingAxes('LayerNorm', x, this.normalizedShape);
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

/** `normalizedShape` as a list of positive integers (LayerNorm and RMSNorm). */
export function checkNormalizedShape(layer: string, normalizedShape: number | readonly number[]): number[] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : Array.isArray(normalizedShape) ? [...(normalizedShape as number[])] : [];
  if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ArgumentError(`${layer}: normalizedShape must be positive integers, got ${JSON.stringify(normalizedShape)}`);
  }
  return shape;
}

/** The last `normalizedShape.length` axes of x, which must have those sizes (LayerNorm and RMSNorm). */
export function trailingAxes(layer: string, x: Tensor, normalizedShape: readonly number[]): number[] {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (x.ndim < k || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(`${layer}: input of shape ${formatShape(x.shape)} must end in ${formatShape(normalizedShape)}`);
  }
  return Array.from({ length: k }, (_, i) => x.ndim - k + i);
}
