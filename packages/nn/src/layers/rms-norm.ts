import { ArgumentError, ones, type DType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { asLayer, formatShape } from '../format.js';
import { locateError } from '../locate.js';
import { checkNormalizedShape, trailingAxes } from './layer-norm.js';

/** Options of `RMSNorm` (PyTorch 2.4's defaults). */
export interface RMSNormOptions {
  /** Added to the mean square; null (default) for the machine epsilon of the input's dtype (2⁻²³ for float32, 2⁻⁵² for float64), as PyTorch. */
  eps?: number | null;
  /** Learn a per-element scale, initialised to ones (default true). */
  elementwiseAffine?: boolean;
  /** dtype of the scale (default 'float32'). */
  dtype?: DType;
}

const MACHINE_EPSILON: Record<string, number> = { float32: 2 ** -23, float64: 2 ** -52 };

/**
 * Root-mean-square normalisation over the last dimensions (`normalizedShape`), as PyTorch 2.4's
 * `nn.RMSNorm`: `y = x / √(mean(x²) + eps) · weight`, with no centring and no bias. The state
 * dict holds `weight` only.
 * @example new RMSNorm(64).forward(x) // x: [batch, seq, 64]
 */
export class RMSNorm extends Module {
  /** The trailing shape normalised over. */
  readonly normalizedShape: readonly number[];
  /** Added to the mean square, or null for the input dtype's machine epsilon. */
  readonly eps: number | null;
  /** Whether the layer learns a per-element scale. */
  readonly elementwiseAffine: boolean;

  /** @throws ArgumentError if `normalizedShape` is empty or not positive integers, or `eps` is negative. */
  constructor(normalizedShape: number | readonly number[], options: RMSNormOptions = {}) {
    super();
    this.normalizedShape = checkNormalizedShape('RMSNorm', normalizedShape);
    const { eps = null, elementwiseAffine = true, dtype = 'float32' } = options;
    if (eps !== null && !(eps >= 0)) throw new ArgumentError(`RMSNorm: eps must be >= 0 or null, got ${eps}`);
    this.eps = eps;
    this.elementwiseAffine = elementwiseAffine;
    if (elementwiseAffine) this.registerParameter('weight', ones(this.normalizedShape, { dtype }));
  }

  /** The per-element scale, or null. */
  get weight(): Tensor | null {
    return this.elementwiseAffine ? this.param('weight') : null;
  }

  /**
   * `x / √(mean(x²) + eps) · weight` over the trailing `normalizedShape` axes.
   * @throws ShapeError if `x`'s shape does not end in `normalizedShape`.
   * @throws DTypeError if `x` is not a float tensor or its dtype differs from the weight's.
   */
  forward(x: Tensor): Tensor {
    try {
      const axes = trailingAxes('RMSNorm', x, this.normalizedShape);
      const eps = this.eps ?? MACHINE_EPSILON[x.dtype] ?? 0;
      const { weight } = this;
      return asLayer(this, () => {
        const y = x.div(x.square().mean(axes, true).add(eps).sqrt());
        return weight === null ? y : y.mul(weight);
      });
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `${formatShape(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}
