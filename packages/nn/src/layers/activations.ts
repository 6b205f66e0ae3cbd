import { ArgumentError, ShapeError, full, where, type DType, type Tensor } from '@chainrule/autograd';
import { formatShape } from '../format.js';
import { Module } from '../module.js';
import { locateError } from '../locate.js';

/** `max(x, 0)`, elementwise (gradient 0 at 0, as PyTorch). @example new ReLU().forward(x) */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** `x` where positive, `negativeSlope·x` elsewhere (default slope 0.01). @example new LeakyReLU(0.2) */
export class LeakyReLU extends Module {
  /**
   * @param negativeSlope - slope for x < 0 (default 0.01); readable afterwards.
   * @throws ArgumentError if `negativeSlope` is not finite.
   */
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (!Number.isFinite(negativeSlope)) throw new ArgumentError(`LeakyReLU: negativeSlope must be finite, got ${negativeSlope}`);
  }

  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }

  protected override describe(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** Logistic sigmoid, `1 / (1 + e^{-x})`, elementwise. @example new Sigmoid().forward(logits) */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** Hyperbolic tangent, elementwise. @example new Tanh() */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** Options of `GELU`. */
export interface GELUOptions {
  /** 'none' (default): exact, x·Φ(x); 'tanh': the tanh approximation, as PyTorch. */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit, exact or tanh-approximated. @example new GELU({ approximate: 'tanh' }) */
export class GELU extends Module {
  /** 'none' (exact) or 'tanh'. */
  readonly approximate: 'none' | 'tanh';

  /** @throws ArgumentError if `approximate` is neither 'none' nor 'tanh'. */
  constructor(options: GELUOptions = {}) {
    super();
    const { approximate = 'none' } = options;
    if (approximate !== 'none' && approximate !== 'tanh') {
      throw new ArgumentError(`GELU: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
    }
    this.approximate = approximate;
  }

  forward(x: Tensor): Tensor {
    return x.gelu({ approximate: this.approximate });
  }

  protected override describe(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** Options of `Softplus`. */
export interface SoftplusOptions {
  /** Sharpness β (default 1): `log(1 + e^{βx}) / β`. */
  beta?: number;
  /** Above βx > threshold the result is x itself (default 20), as PyTorch. */
  threshold?: number;
}

/** Smooth relu, `log(1 + e^{βx}) / β`, linear above the threshold. @example new Softplus({ beta: 2 }) */
export class Softplus extends Module {
  /** Sharpness β. */
  readonly beta: number;
  /** βx above which the output is x. */
  readonly threshold: number;

  /** @throws ArgumentError if `beta` is not a positive finite number or `threshold` is NaN. */
  constructor(options: SoftplusOptions = {}) {
    super();
    const { beta = 1, threshold = 20 } = options;
    if (!(Number.isFinite(beta) && beta > 0)) throw new ArgumentError(`Softplus: beta must be a positive number, got ${beta}`);
    if (Number.isNaN(threshold)) throw new ArgumentError(`Softplus: threshold must be a number, got ${threshold}`);
    this.beta = beta;
    this.threshold = threshold;
  }

  forward(x: Tensor): Tensor {
    return where(x.mul(this.beta).gt(this.threshold), x, x.softplus({ beta: this.beta }));
  }

  protected override describe(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/**
 * Softmax along `axis` (default -1, the features of a [batch, classes] input). PyTorch's
 * `nn.Softmax` has no default dim; here it is the last axis. An axis out of range throws when
 * `forward` runs, as `Tensor.softmax`.
 * @example new Softmax(1)
 */
export class Softmax extends Module {
  /**
   * Softmax over `axis`.
   * @param axis - the axis that sums to 1 (negative counts from the end); readable afterwards.
   */
  constructor(readonly axis = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return x.softmax(this.axis);
  }

  protected override describe(): string {
    return `axis=${this.axis}`;
  }
}

/**
 * Log-softmax along `axis` (default -1), computed stably (x - logsumexp). An axis out of range
 * throws when `forward` runs, as `Tensor.logSoftmax`.
 * @example new LogSoftmax(1)
 */
export class LogSoftmax extends Module {
  /**
   * Log-softmax over `axis`.
   * @param axis - the normalised axis (negative counts from the end); readable afterwards.
   */
  constructor(readonly axis = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return x.logSoftmax(this.axis);
  }

  protected override describe(): string {
    return `axis=${this.axis}`;
  }
}

/** Returns its input: a placeholder where a layer is optional. @example new Identity() */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * Flattens the axes from `startDim` to `endDim` (both included; negative count from the end) into
 * one, as PyTorch's `nn.Flatten` (defaults start 1, end -1: [batch, ...] -> [batch, features]).
 * A 0-d or 1-d input is returned as it is (PyTorch raises for one with the default startDim).
 * @example new Flatten().forward(images) // [N, C, H, W] -> [N, C·H·W]
 */
export class Flatten extends Module {
  /**
   * @param startDim - first axis flattened (default 1).
   * @param endDim - last axis flattened (default -1).
   * @throws ArgumentError if either is not an integer.
   */
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
    if (!Number.isInteger(startDim) || !Number.isInteger(endDim)) {
      throw new ArgumentError(`Flatten: startDim and endDim must be integers, got ${startDim} and ${endDim}`);
    }
  }

  /**
   * The input with axes startDim..endDim merged.
   * @throws ShapeError if an axis is out of range for the input or startDim comes after endDim.
   */
  forward(x: Tensor): Tensor {
    try {
      if (x.ndim <= 1) return x;
      const axis = (d: number): number => (d < 0 ? d + x.ndim : d);
      const start = axis(this.startDim), end = axis(this.endDim);
      if (start < 0 || start >= x.ndim || end < 0 || end >= x.ndim || start > end) {
        throw new ShapeError(`Flatten(startDim=${this.startDim}, endDim=${this.endDim}): input ${formatShape(x.shape)} has no axes ${this.startDim} to ${this.endDim} in order`);
      }
      const merged = x.shape.slice(start, end + 1).reduce((a, b) => a * b, 1);
      return x.reshape(...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1));
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/**
 * Splits axis `dim` into `unflattenedSize`, as PyTorch's `nn.Unflatten` (the inverse of Flatten):
 * [N, 784] with `new Unflatten(1, [1, 28, 28])` becomes [N, 1, 28, 28]. One size may be -1, inferred.
 * @example new Unflatten(1, [16, 4, 4]).forward(x) // [N, 256] -> [N, 16, 4, 4]
 */
export class Unflatten extends Module {
  /** The axis split (negative counts from the end). */
  readonly dim: number;
  /** The sizes it is split into. */
  readonly unflattenedSize: readonly number[];

  /** @throws ArgumentError if `dim` is not an integer, or the sizes are not positive integers with at most one -1. */
  constructor(dim: number, unflattenedSize: readonly number[]) {
    super();
    if (!Number.isInteger(dim)) throw new ArgumentError(`Unflatten: dim must be an integer, got ${dim}`);
    const sizes = Array.isArray(unflattenedSize) ? [...(unflattenedSize as number[])] : [];
    if (sizes.length === 0 || !sizes.every((d) => Number.isInteger(d) && (d >= 0 || d === -1)) || sizes.filter((d) => d === -1).length > 1) {
      throw new ArgumentError(`Unflatten: unflattenedSize must be non-negative integers with at most one -1, got ${JSON.stringify(unflattenedSize)}`);
    }
    this.dim = dim;
    this.unflattenedSize = sizes;
  }

  /**
   * The input with axis `dim` split.
   * @throws ShapeError if `dim` is out of range or the sizes' product is not that axis's size.
   */
  forward(x: Tensor): Tensor {
    try {
      const d = this.dim < 0 ? this.dim + x.ndim : this.dim;
      const label = `Unflatten(dim=${this.dim}, unflattenedSize=${formatShape(this.unflattenedSize)})`;
      if (d < 0 || d >= x.ndim) throw new ShapeError(`${label}: input ${formatShape(x.shape)} has no axis ${this.dim}`);
      const n = x.shape[d]!;
      const known = this.unflattenedSize.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
      const inferred = this.unflattenedSize.includes(-1);
      if (inferred ? known === 0 || n % known !== 0 : known !== n) {
        throw new ShapeError(`${label}: axis ${this.dim} of input ${formatShape(x.shape)} has size ${n}, which does not split into ${formatShape(this.unflattenedSize)}`);
      }
      const sizes = this.unflattenedSize.map((s) => (s === -1 ? n / known : s));
      return x.reshape(...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1));
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `dim=${this.dim}, unflattenedSize=${formatShape(this.unflattenedSize)}`;
  }
}

/** x·sigmoid(x) (swish), elementwise, as PyTorch's `nn.SiLU`. @example new SiLU().forward(x) */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}

/** x·tanh(softplus(x)), elementwise, as PyTorch's `nn.Mish`. @example new Mish().forward(x) */
export class Mish extends Module {
  forward(x: Tensor): Tensor {
    return x.mish();
  }
}

/** min(max(x, 0), 6), elementwise, as PyTorch's `nn.ReLU6`. @example new ReLU6().forward(x) */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return x.relu6();
  }
}

/** Scaled ELU with PyTorch's fixed constants (`nn.SELU`). @example new SELU().forward(x) */
export class SELU extends Module {
  forward(x: Tensor): Tensor {
    return x.selu();
  }
}

/** log(sigmoid(x)), stable for any x, as PyTorch's `nn.LogSigmoid`. @example new LogSigmoid().forward(x) */
export class LogSigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.logsigmoid();
  }
}

/** x / (1 + |x|), elementwise, as PyTorch's `nn.Softsign`. @example new Softsign().forward(x) */
export class Softsign extends Module {
  forward(x: Tensor): Tensor {
    return x.softsign();
  }
}

/** relu6(x + 3)/6, as PyTorch's `nn.Hardsigmoid`. @example new Hardsigmoid().forward(x) */
export class Hardsigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.hardsigmoid();
  }
}

/** x·relu6(x + 3)/6, as PyTorch's `nn.Hardswish`. @example new Hardswish().forward(x) */
export class Hardswish extends Module {
  forward(x: Tensor): Tensor {
    return x.hardswish();
  }
}

/** x - tanh(x), elementwise, as PyTorch's `nn.Tanhshrink`. @example new Tanhshrink().forward(x) */
export class Tanhshrink extends Module {
  forward(x: Tensor): Tensor {
    return x.tanhshrink();
  }
}

/** `x` where positive, `alpha·(e^x - 1)` elsewhere (default alpha 1), as PyTorch's `nn.ELU`. @example new ELU(0.5) */
export class ELU extends Module {
  /**
   * @param alpha - the negative part's scale (default 1); readable afterwards.
   * @throws ArgumentError if `alpha` is not finite.
   */
  constructor(readonly alpha = 1) {
    super();
    if (!Number.isFinite(alpha)) throw new ArgumentError(`ELU: alpha must be finite, got ${alpha}`);
  }

  forward(x: Tensor): Tensor {
    return x.elu({ alpha: this.alpha });
  }

  protected override describe(): string {
    return `alpha=${this.alpha}`;
  }
}

/** `x` where positive, `alpha·(e^{x/alpha} - 1)` elsewhere (default alpha 1), as PyTorch's `nn.CELU`. @example new CELU(0.5) */
export class CELU extends Module {
  /**
   * @param alpha - the negative part's scale (default 1); readable afterwards.
   * @throws ArgumentError if `alpha` is not finite and nonzero.
   */
  constructor(readonly alpha = 1) {
    super();
    if (!(Number.isFinite(alpha) && alpha !== 0)) throw new ArgumentError(`CELU: alpha must be finite and nonzero, got ${alpha}`);
  }

  forward(x: Tensor): Tensor {
    return x.celu({ alpha: this.alpha });
  }

  protected override describe(): string {
    return `alpha=${this.alpha}`;
  }
}

/** x clamped to [minVal, maxVal] (default [-1, 1]), as PyTorch's `nn.Hardtanh`. @example new Hardtanh(-2, 2) */
export class Hardtanh extends Module {
  /**
   * @param minVal - lower limit (default -1); readable afterwards.
   * @param maxVal - upper limit (default 1); readable afterwards.
   * @throws ArgumentError if a limit is not finite or minVal > maxVal.
   */
  constructor(readonly minVal = -1, readonly maxVal = 1) {
    super();
    if (!(Number.isFinite(minVal) && Number.isFinite(maxVal) && minVal <= maxVal)) {
      throw new ArgumentError(`Hardtanh: minVal and maxVal must be finite with minVal <= maxVal, got ${minVal}, ${maxVal}`);
    }
  }

  forward(x: Tensor): Tensor {
    return x.hardtanh({ minVal: this.minVal, maxVal: this.maxVal });
  }

  protected override describe(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}

/** Options of `PReLU`. */
export interface PReLUOptions {
  /** Slopes to learn: 1 (default, shared) or one per channel (axis 1 of the input, which must then have 2 or more axes). */
  numParameters?: number;
  /** The slopes' starting value (default 0.25). */
  init?: number;
  /** dtype of the slopes (default 'float32'). */
  dtype?: DType;
}

/**
 * `x` where positive, `a·x` elsewhere with learned slopes `a` (parameter 'weight' of shape
 * [numParameters], starting at 0.25), as PyTorch's `nn.PReLU`.
 * @example new PReLU({ numParameters: 16 }).forward(x) // one slope per channel of [N, 16, H, W]
 */
export class PReLU extends Module {
  /** Number of slopes (PyTorch's num_parameters; `numParameters()` counts a module's parameter elements). */
  readonly numSlopes: number;

  /** @throws ArgumentError if numParameters is not a positive integer or init is not finite. */
  constructor(options: PReLUOptions = {}) {
    super();
    const { numParameters = 1, init = 0.25, dtype = 'float32' } = options;
    if (!(Number.isInteger(numParameters) && numParameters >= 1)) throw new ArgumentError(`PReLU: numParameters must be a positive integer, got ${numParameters}`);
    if (!Number.isFinite(init)) throw new ArgumentError(`PReLU: init must be finite, got ${init}`);
    this.numSlopes = numParameters;
    this.registerParameter('weight', full([numParameters], init, { dtype }));
  }

  /**
   * The activation.
   * @throws ShapeError if there is more than one slope and the input's channel axis (1) has
   * another size; an input of fewer than 2 axes has one channel, as PyTorch's.
   */
  forward(x: Tensor): Tensor {
    const w = this.param('weight');
    const n = this.numSlopes;
    if (n === 1) return where(x.gt(0), x, x.mul(w));
    if (x.ndim < 2 || x.shape[1] !== n) {
      throw new ShapeError(`PReLU(numParameters=${n}): input ${formatShape(x.shape)} must have ${n} channels on axis 1`);
    }
    const slopes = w.reshape([n, ...new Array<number>(x.ndim - 2).fill(1)]);
    return where(x.gt(0), x, x.mul(slopes));
  }

  protected override describe(): string {
    return `numParameters=${this.numSlopes}`;
  }
}
