import { ArgumentError, where, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';

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
    if (this.approximate === 'none') return x.gelu();
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(inner.tanh().add(1));
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
    const bx = this.beta === 1 ? x : x.mul(this.beta);
    const soft = this.beta === 1 ? bx.softplus() : bx.softplus().div(this.beta);
    return where(bx.gt(this.threshold), x, soft);
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
 * Flattens all axes after the first into one: [batch, ...] -> [batch, features] (PyTorch's
 * defaults start_dim=1, end_dim=-1); a 0-d or 1-d input is returned as it is.
 * @example new Flatten().forward(images) */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    if (x.ndim <= 1) return x;
    return x.reshape(x.shape[0]!, -1);
  }
}
