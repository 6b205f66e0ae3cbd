// NOTE: the same generator as @chainrule/autograd's Generator (xoshiro128**, seeded through
// splitmix32), with the same method names. It is written again here on purpose: datasets
// depends on no other package of the workspace. examples/test/generators.test.ts checks that
// Rng(seed, stream) draws exactly what Generator(streamSeed(seed, stream)) draws; keep the two
// in step.
import { ArgumentError } from './errors.js';

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** Murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Throws unless `seed` is a safe integer (so that it maps to one generator state, with no rounding). */
export function checkSeed(caller: string, seed: number, what = 'seed'): void {
  if (!Number.isSafeInteger(seed)) {
    throw new ArgumentError(`${caller}: ${what} must be a safe integer, got ${String(seed)}`);
  }
}

/**
 * The 32-bit word a (seed, stream) pair seeds the generator with: both words of each 53-bit
 * number go in, so seeds 1 and 2**32 + 1 differ.
 */
export function streamSeed(seed: number, stream: number): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ (Math.floor(seed / TWO_POW_32) >>> 0) ^ 0x85ebca6b);
  h = fmix32(h ^ (stream >>> 0) ^ 0xc2b2ae35);
  return fmix32(h ^ (Math.floor(stream / TWO_POW_32) >>> 0) ^ 0x27d4eb2f);
}

/**
 * Seeded xoshiro128** generator: 32-bit integer arithmetic only (Math.imul), so the same
 * seed gives the same numbers on every JavaScript engine. `stream` picks an independent
 * sequence for the same seed (the DataLoader uses the epoch number).
 * @example const rng = new Rng(42); rng.uniform(); rng.normal(); rng.int(10);
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  // Box-Muller makes normals in pairs; the second waits here for the next call.
  private spare = Number.NaN;

  /**
   * @param seed - any safe integer (default 0).
   * @param stream - picks an independent sequence for the same seed (default 0).
   * @throws ArgumentError if `seed` or `stream` is not a safe integer.
   */
  constructor(seed = 0, stream = 0) {
    checkSeed('Rng', seed);
    checkSeed('Rng', stream, 'stream');
    // splitmix32: the state words are fmix32 of four steps of a golden-ratio Weyl sequence.
    // NOTE: xoshiro must never hold an all-zero state (it would only ever return 0); fmix32 is
    // a bijection and the four inputs differ, so at most one word can be 0.
    let x = streamSeed(seed, stream);
    x = (x + 0x9e3779b9) >>> 0;
    this.s0 = fmix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s1 = fmix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s2 = fmix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s3 = fmix32(x);
  }

  /** Next unsigned 32-bit integer. @example new Rng(0).nextUint32() */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Uniform float in [low, high), by default [0, 1) with 53 random bits (the defaults add
   * nothing: the same bits as the bare draw). @example new Rng(0).uniform(-1, 1)
   */
  uniform(low = 0, high = 1): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return low + (high - low) * ((hi * 67108864 + lo) / TWO_POW_53);
  }

  /** Standard normal draw (Box-Muller). @example new Rng(0).normal() */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return z;
    }
    // 1 - uniform() lies in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /**
   * Uniform integer in [0, n), without modulo bias.
   * @throws ArgumentError unless `n` is an integer in [1, 2**32].
   * @example new Rng(0).int(6)
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new ArgumentError(`Rng.int: n must be an integer in [1, 2**32], got ${n}`);
    }
    // Reject the top sliver of the 32-bit range that would favour small results.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let r = this.nextUint32();
    while (r >= limit) r = this.nextUint32();
    return r % n;
  }

  /** Shuffles `a` in place (Fisher-Yates) and returns it. @example new Rng(0).shuffle(Uint32Array.of(1, 2, 3)) */
  shuffle<T extends {
    /** Number of elements. */
    length: number;
    [i: number]: number;
  }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j]!;
      a[j] = tmp!;
    }
    return a;
  }

  /**
   * A random permutation of 0..n-1.
   * @throws RangeError (from Uint32Array) if `n` is negative or not an integer.
   * @example new Rng(0).permutation(5)
   */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
