import { DTypeError, Generator, ShapeError, ArgumentError, linear, zeros, type DType, type LinearActivation, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { calculateFans, kaimingUniform, uniform } from '../init.js';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';

/** Options of `Linear`. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** dtype of the weight and bias (default 'float32'). */
  dtype?: DType;
  /** Seed of the initialisation (a fresh generator). */
  seed?: number;
  /** Generator of the initialisation (takes precedence over `seed`); share one across layers of a model. */
  generator?: Generator;
}

/**
 * A fully connected layer, `y = x Wᵀ + b`, with W of shape [out, in] as PyTorch. Initialised as
 * PyTorch's default: W ~ kaiming_uniform(a = √5), i.e. U(±1/√in), and b ~ U(±1/√in).
 * @example const fc = new Linear(784, 128, { seed: 0 }); fc.forward(x) // [batch, 128]
 */
export class Linear extends Module {
  /** Size of each input sample (the last axis of `x`). */
  readonly inFeatures: number;
  /** Size of each output sample. */
  readonly outFeatures: number;
  private readonly hasBias: boolean;

  /**
   * @param inFeatures - size of each input sample.
   * @param outFeatures - size of each output sample.
   * @throws ArgumentError if either size is not a non-negative integer.
   */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`Linear: ${name} must be a non-negative integer, got ${v}`);
    }
    const { bias = true, dtype = 'float32' } = options;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    // One generator for weight then bias, so a seed fixes both.
    const generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
    this.hasBias = bias;
    this.registerParameter('weight', zeros([outFeatures, inFeatures], { dtype }));
    if (bias) this.registerParameter('bias', zeros([outFeatures], { dtype }));
    this.resetParameters(generator);
  }

  /** The [out, in] weight. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** The [out] bias, or null. */
  get bias(): Tensor | null {
    return this.hasBias ? this.param('bias') : null;
  }

  /** Re-draws the weights in place with PyTorch's default scheme (from `generator`, or the global one). @example fc.resetParameters(new Generator(1)) */
  resetParameters(generator?: Generator): void {
    resetWeightAndBias(this.weight, this.bias, generator);
  }

  /**
   * `x Wᵀ + b` over the last axis of `x` ([..., in] -> [..., out]), as one fused op.
   * @throws DTypeError if `x`'s dtype differs from the layer's (PyTorch raises too; convert with `toDtype`).
   * @throws ShapeError if `x`'s last axis is not `inFeatures`.
   */
  forward(x: Tensor): Tensor {
    return this.forwardActivated(x, 'none');
  }

  /**
   * @internal `activation(forward(x))` as one fused op (autograd's `linear`): what Sequential
   * runs for a Linear followed by a ReLU.
   */
  forwardActivated(x: Tensor, activation: LinearActivation): Tensor {
    try {
      if (x.dtype !== this.weight.dtype) {
        throw new DTypeError(
          `Linear: input is ${x.dtype} but the layer is ${this.weight.dtype}; build the layer with { dtype: '${x.dtype}' } or convert the input with toDtype('${this.weight.dtype}')`,
        );
      }
      if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
        throw new ShapeError(`Linear(${this.inFeatures} -> ${this.outFeatures}): input of shape ${formatShape(x.shape)} must end in ${this.inFeatures} features`);
      }
      return linear(x, this.weight, this.bias, activation);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Keras's name for `Linear`. @example new Dense(4, 2) */
export const Dense = Linear;
/** Keras's name for `Linear`. */
export type Dense = Linear;

/**
 * PyTorch's `reset_parameters` of Linear and the convolutions: weight ~
 * kaiming_uniform(a = √5), i.e. U(±1/√fan_in), and bias ~ U(±1/√fan_in) (0 when fan_in is 0).
 * Both draw from one generator, weight first, so a seed fixes both.
 */
export function resetWeightAndBias(weight: Tensor, bias: Tensor | null, generator?: Generator): void {
  const { fanIn } = calculateFans(weight);
  if (fanIn > 0) kaimingUniform(weight, { a: Math.sqrt(5), generator });
  if (bias !== null) {
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform(bias, -bound, bound, { generator });
  }
}
