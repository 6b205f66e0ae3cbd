import { ArgumentError, Generator, type DType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { locateError } from '../locate.js';
import { Linear } from './linear.js';
import { Sequential } from './sequential.js';
import { GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, LogSoftmax, Softplus, Tanh } from './activations.js';

/** Activations an MLP can be built with by name. */
export type ActivationName = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'gelu' | 'softplus' | 'softmax' | 'logSoftmax' | 'identity';

/** An activation by name, or a function building a fresh activation module. */
export type ActivationSpec = ActivationName | (() => Module);

/** Options of `MLP`. */
export interface MLPOptions {
  /** Between hidden layers (default 'relu'). */
  activation?: ActivationSpec;
  /** After the last layer (default none: the MLP outputs logits or raw values). */
  outputActivation?: ActivationSpec | null;
  /** Biases in every Linear (default true). */
  bias?: boolean;
  /** dtype of every layer (default 'float32'). */
  dtype?: DType;
  /** Seed of the initialisation: one generator drawn in layer order, so a seed fixes the whole model. */
  seed?: number;
  /** Generator of the initialisation (takes precedence over `seed`). */
  generator?: Generator;
}

/**
 * Builds an activation module from a spec: a name ('softmax' and 'logSoftmax' act on the last
 * axis; the rest use their modules' defaults) or a factory called once.
 * @throws ArgumentError for an unknown name or a factory that returns no Module.
 * @example activation('tanh')
 */
export function activation(spec: ActivationSpec): Module {
  if (typeof spec === 'function') {
    const m = spec();
    if (!(m instanceof Module)) throw new ArgumentError('activation: the factory must return a Module');
    return m;
  }
  switch (spec) {
    case 'relu': return new ReLU();
    case 'leakyRelu': return new LeakyReLU();
    case 'sigmoid': return new Sigmoid();
    case 'tanh': return new Tanh();
    case 'gelu': return new GELU();
    case 'softplus': return new Softplus();
    case 'softmax': return new Softmax(-1);
    case 'logSoftmax': return new LogSoftmax(-1);
    case 'identity': return new Identity();
    default:
      throw new ArgumentError(`activation: unknown activation ${JSON.stringify(spec)}`);
  }
}

/**
 * A multi-layer perceptron: Linear layers of `sizes` (input first, output last) with `activation`
 * between them. Its layers live in `layers` (a Sequential), so names read `layers.0.weight`,
 * `layers.2.bias` (odd indices are the activations).
 * @example const net = new MLP([2, 8, 1], { activation: 'tanh', outputActivation: 'sigmoid', seed: 0 });
 */
export class MLP extends Module {
  /** Linear layers and activations in order, registered as 'layers'. */
  readonly layers: Sequential;
  /** Layer widths, input first, output last. */
  readonly sizes: readonly number[];

  /** @throws ArgumentError if `sizes` has fewer than 2 entries or one is not a positive integer, or an activation spec is invalid. */
  constructor(sizes: readonly number[], options: MLPOptions = {}) {
    super();
    if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
      throw new ArgumentError(`MLP: sizes must list at least 2 positive integers (input, ..., output), got ${JSON.stringify(sizes)}`);
    }
    const { activation: hidden = 'relu', outputActivation = null, bias = true, dtype = 'float32' } = options;
    const generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
    this.sizes = [...sizes];
    const seq = new Sequential();
    for (let i = 0; i + 1 < sizes.length; i++) {
      seq.append(new Linear(sizes[i]!, sizes[i + 1]!, { bias, dtype, generator }));
      const last = i + 2 === sizes.length;
      if (!last) seq.append(activation(hidden));
      else if (outputActivation !== null) seq.append(activation(outputActivation));
    }
    this.layers = this.registerModule('layers', seq);
  }

  /** Runs the layers on `x` ([..., sizes[0]] -> [..., sizes.at(-1)]); errors are the Linear layers'. */
  forward(x: Tensor): Tensor {
    try {
      return this.layers.forward(x);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `sizes=[${this.sizes.join(', ')}]`;
  }
}
