import { ArgumentError, Generator, Tensor, dropout } from '@chainrule/autograd';
import { Module } from '../module.js';

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
