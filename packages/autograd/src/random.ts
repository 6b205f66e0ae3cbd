import { ArgumentError } from './errors.js';

/**
 * A seeded pseudo-random generator (xoshiro128**, seeded through splitmix32). Integer
 * arithmetic only, so a seed gives the same stream on every machine.
 * NOTE: @chainrule/datasets writes the same generator again as `Rng` (it depends on nothing of
 * ours), with the same method names; examples/test/generators.test.ts checks that both draw
 * the same stream. Only `normal` differs: Marsaglia's polar method here, Box-Muller there.
 *
 * @example const g = new Generator(42); g.uniform(); g.normal();
 */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /** @throws ArgumentError if `seed` is not finite. */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /**
   * Restarts the stream from `seed` (any finite number; its integer part, mod 2^32, is used).
   * @throws ArgumentError if `seed` is not finite.
   */
  seed(seed: number): this {
    if (!Number.isFinite(seed)) throw new ArgumentError(`Generator: seed must be a finite number, got ${seed}`);
    let x = Math.trunc(seed) >>> 0;
    const next = (): number => {
      // splitmix32: spreads a small seed over the 128-bit state.
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    this.spare = null;
    return this;
  }

  /** The generator's full state, to resume the stream later with `setState`. @example const s = g.getState() */
  getState(): GeneratorState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.spare };
  }

  /**
   * Restores a state from `getState`: the stream continues exactly where it was.
   * @throws ArgumentError if `state` is not `{ s: four unsigned 32-bit integers, spare: number | null }`.
   * @example g.setState(s)
   */
  setState(state: GeneratorState): this {
    const words = state?.s;
    if (!Array.isArray(words) || words.length !== 4 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new ArgumentError('Generator.setState: expected { s: four unsigned 32-bit integers, spare } from getState()');
    }
    if (state.spare !== null && typeof state.spare !== 'number') {
      throw new ArgumentError('Generator.setState: spare must be a number or null');
    }
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w | 0) as [number, number, number, number];
    this.spare = state.spare;
    return this;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * A uniform number in [low, high), by default [0, 1) with 53 random bits (the defaults add
   * nothing: the same bits as the bare draw).
   */
  uniform(low = 0, high = 1): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return low + (high - low) * ((hi * 67108864 + lo) / 9007199254740992);
  }

  /** A standard normal number (Marsaglia's polar method: only log and sqrt, no trigonometry). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new ArgumentError(`Generator.int: n must be an integer in [1, 2^32], got ${n}`);
    // Rejection sampling removes the modulo bias.
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A Generator's complete state: plain data, safe to serialise as JSON. */
export interface GeneratorState {
  /** The four 32-bit words of xoshiro128**'s state. */
  s: number[];
  /** The second normal of the last Box-Muller pair, waiting for the next `normal()`, or null. */
  spare: number | null;
}

const globalGenerator = new Generator(0);

/**
 * Reseeds the generator used when no `seed` or `generator` is given, as `torch.manual_seed`.
 * @throws ArgumentError if `seed` is not finite.
 * @example manualSeed(0); randn([2])
 */
export function manualSeed(seed: number): void {
  globalGenerator.seed(seed);
}

/** The generator random functions use when given neither `seed` nor `generator` (`manualSeed` reseeds it). */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/** Where random functions draw from: a fresh generator for `seed`, the given one, or the global one. */
export function resolveGenerator(options: { seed?: number; generator?: Generator }): Generator {
  if (options.generator !== undefined) return options.generator;
  if (options.seed !== undefined) return new Generator(options.seed);
  return globalGenerator;
}
