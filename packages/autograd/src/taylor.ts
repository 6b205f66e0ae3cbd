import { ArgumentError } from './errors.js';
import { Tensor } from './tensor.js';
import { noGrad } from './engine/grad-mode.js';
import { gradients } from './engine/gradients.js';
import { Generator } from './random.js';
import { checkOptions } from './options.js';

/** Options of `taylorTest`. */
export interface TaylorTestOptions {
  /** Largest step (default 0.1); each following step halves it. */
  h0?: number;
  /** Number of steps (default 10). */
  steps?: number;
  /** Seed of the random direction when none is given. */
  seed?: number;
}

/** What `taylorTest` found. */
export interface TaylorTestReport {
  /** True when the verdict is 'correct'. */
  ok: boolean;
  /**
   * 'correct' (order ≈ 2), 'wrong-gradient' (order ≈ 1), or 'inconclusive' (every remainder at
   * rounding level, or no clear order).
   */
  verdict: 'correct' | 'wrong-gradient' | 'inconclusive';
  /** The steps h. */
  steps: number[];
  /** |f(x + h·d) - f(x) - h·<∇f(x), d>| per step. */
  remainders: number[];
  /** Observed order between consecutive steps (log2 of the remainder ratio); NaN where rounding noise dominates. */
  orders: number[];
  /** A plain-words conclusion. */
  message: string;
}

/**
 * The step-size-free gradient check. With a correct gradient the first-order Taylor remainder
 * shrinks as O(h²), so halving h divides it by 4 (order 2); a wrong gradient leaves an O(h) term
 * (order 1). Steps whose remainder is down at rounding level are ignored rather than misread.
 * PyTorch has no counterpart. `direction` defaults to a seeded random one.
 * @throws ArgumentError if x is not a Tensor or holds NaN or ±Inf, f does not return a
 * one-element Tensor, or `direction` has another number of elements than x.
 * @example taylorTest((x) => x.sin().sum(), x).verdict // 'correct'
 */
export function taylorTest(f: (x: Tensor) => Tensor, x: Tensor, direction?: Tensor, options: TaylorTestOptions = {}): TaylorTestReport {
  checkOptions('taylorTest', options, ['h0', 'steps', 'seed']);
  const { h0 = 0.1, steps = 10, seed = 0 } = options;
  if (!(x instanceof Tensor)) throw new ArgumentError('taylorTest: x must be a Tensor');
  for (const v of x.data) if (!Number.isFinite(v)) throw new ArgumentError(`taylorTest: x holds ${v}; the test needs a finite point`);
  const x64 = new Tensor(Float64Array.from(x.data), x.shape, { requiresGrad: true });
  const out = f(x64);
  if (!(out instanceof Tensor) || out.size !== 1) throw new ArgumentError('taylorTest: f must return a one-element Tensor');
  const f0 = out.item();
  const [g] = out.requiresGrad ? gradients([out], [x64], { allowUnused: true }) : [new Tensor(new Float64Array(x.size), x.shape)];
  let d: Float64Array;
  if (direction === undefined) {
    const rng = new Generator(seed);
    d = Float64Array.from({ length: x.size }, () => rng.normal());
  } else {
    if (direction.size !== x.size) throw new ArgumentError(`taylorTest: direction has ${direction.size} elements, x has ${x.size}`);
    d = Float64Array.from(direction.data);
  }
  let slope = 0;
  for (let i = 0; i < d.length; i++) slope += g!.data[i]! * d[i]!;
  const hs: number[] = [];
  const remainders: number[] = [];
  noGrad(() => {
    for (let k = 0; k < steps; k++) {
      const h = h0 / 2 ** k;
      const moved = new Tensor(Float64Array.from(x64.data, (v, i) => v + h * d[i]!), x.shape);
      hs.push(h);
      const out = f(moved);
      if (!(out instanceof Tensor) || out.size !== 1) throw new ArgumentError('taylorTest: f must return a one-element Tensor');
      remainders.push(Math.abs(out.item() - f0 - h * slope));
    }
  });
  // Below this, a remainder is float64 rounding of f's value, not Taylor's remainder.
  const floor = 1e-13 * (Math.abs(f0) + 1) + 1e-14 * Math.abs(slope) * h0;
  const orders = remainders.slice(1).map((r, k) => {
    const prev = remainders[k]!;
    return prev > floor * 100 && r > floor * 10 ? Math.log2(prev / r) : NaN;
  });
  const valid = orders.filter((o) => !Number.isNaN(o)).sort((a, b) => a - b);
  let verdict: TaylorTestReport['verdict'];
  let message: string;
  if (valid.length === 0) {
    const tiny = remainders.every((r) => r <= floor * 100);
    verdict = tiny ? 'correct' : 'inconclusive';
    message = tiny
      ? 'every remainder is at rounding level: f is (locally) linear along d and the gradient matches it'
      : 'no step gave a remainder above rounding noise and below the nonlinear range; try another h0';
  } else {
    const median = valid[Math.floor(valid.length / 2)]!;
    if (median >= 1.7) {
      verdict = 'correct';
      message = `remainders shrink as O(h^${median.toFixed(2)}): the gradient is correct`;
    } else if (median >= 0.7 && median <= 1.3) {
      verdict = 'wrong-gradient';
      message = `remainders shrink only as O(h^${median.toFixed(2)}): the gradient is wrong along this direction`;
    } else {
      verdict = 'inconclusive';
      message = `observed order ${median.toFixed(2)} is neither 1 (wrong gradient) nor 2 (correct); f may be non-smooth near x, or noisy`;
    }
  }
  return { ok: verdict === 'correct', verdict, steps: hs, remainders, orders, message };
}
