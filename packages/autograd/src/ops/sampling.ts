import { allocate, isFloatDType, type FloatDType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { broadcastShapes, checkShape, formatShape, sizeOf, type Shape } from '../shape.js';
import { resolveGenerator, type Generator } from '../random.js';
import { constant, expectTensor, floatInput, isFloat, scalarTensor, type FloatTensor, type Tensor, type TensorLike } from '../tensor.js';
import { floatOperands } from './operands.js';
import { expand } from './shape.js';
import { primitive } from '../engine/dispatch.js';
import { rand } from '../creation.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const SAMPLE_OPTIONS = ['seed', 'generator'];
const PARAMETER_SAMPLE_OPTIONS = ['seed', 'generator', 'dtype'];
const BERNOULLI_OPTIONS = ['seed', 'generator', 'dtype', 'shape'];
const MULTINOMIAL_OPTIONS = ['seed', 'generator', 'replacement'];
const DROPOUT_OPTIONS = ['seed', 'generator', 'training'];

// Random draws on the seeded Generator. Integer results (randint, randperm, multinomial) come
// from the generator's integer draws only, so a seed gives the same numbers on every machine.
// Draws are made in row-major order of the result, one (or, for a normal, a pair's half) each.

/** Where a random function draws from: a fresh generator for `seed`, `generator`, or the global one (`manualSeed`). */
export interface SampleOptions {
  /** A seed for a fresh generator. */
  seed?: number;
  /** A generator to draw from (takes precedence over `seed`). */
  generator?: Generator;
}

/** Options of the draws whose parameters may all be numbers, so the result's dtype must be said. */
export interface ParameterSampleOptions extends SampleOptions {
  /** The dtype when every parameter is a number (default float32); otherwise the parameters'. */
  dtype?: FloatDType;
}

function int32Bound(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < -2147483648 || v > 2147483648) {
    throw new ArgumentError(`${op}: ${name} must be an integer in [-2^31, 2^31], got ${v}`);
  }
}

/**
 * Integers drawn uniformly from [low, high), an int32 tensor of `shape`, as `torch.randint`.
 * Each element is one `generator.int(high - low)` draw (rejection sampling: no modulo bias).
 * @throws ArgumentError unless low < high are integers within int32's range (high up to 2^31).
 * @throws ShapeError for a bad shape.
 * @example randint(0, 10, [3], { seed: 0 })
 */
export const randint = primitive('randint', { kind: 'random' }, function (low: number, high: number, shape: Shape, options: SampleOptions = {}): Tensor {
  checkOptions('randint', options, SAMPLE_OPTIONS);
  int32Bound('randint', 'low', low);
  int32Bound('randint', 'high', high);
  if (!(low < high)) throw new ArgumentError(`randint: low must be below high, got low ${low} and high ${high}`);
  checkShape('randint', shape);
  const g = resolveGenerator(options);
  const out = allocate('int32', sizeOf(shape), 'randint', shape);
  const n = high - low;
  for (let i = 0; i < out.length; i++) out[i] = low + g.int(n);
  return constant(out, [...shape]);
});

/**
 * A random permutation of 0..n-1 (int32), as `torch.randperm`: a Fisher-Yates shuffle, every
 * order equally likely.
 * @throws ArgumentError unless n is a non-negative integer up to 2^31 - 1.
 * @example randperm(5, { seed: 1 })
 */
export const randperm = primitive('randperm', { kind: 'random' }, function (n: number, options: SampleOptions = {}): Tensor {
  checkOptions('randperm', options, SAMPLE_OPTIONS);
  if (!Number.isInteger(n) || n < 0 || n > 2147483647) throw new ArgumentError(`randperm: n must be a non-negative integer up to 2^31 - 1, got ${n}`);
  const g = resolveGenerator(options);
  const out = allocate('int32', n, 'randperm', [n]);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return constant(out, [n]);
});

/** The probabilities of `bernoulli` as a float tensor, checked to lie in [0, 1]. */
function probabilities(op: string, p: TensorLike, options: { shape?: Shape; dtype?: FloatDType }): FloatTensor {
  if (typeof p === 'number') {
    const shape = options.shape ?? [];
    checkShape(op, shape);
    return expand(scalarTensor(p, options.dtype ?? 'float32'), shape) as FloatTensor;
  }
  if (options.shape !== undefined) throw new ArgumentError(`${op}: shape is taken from p when p is a tensor; pass a number p to give a shape`);
  return floatInput(op, 'p', p);
}

/**
 * 1 with probability p and 0 otherwise, element by element, as `torch.bernoulli`: a tensor of
 * p's shape and float dtype (an integer p gives float32), or for a number p, of `shape` (default
 * 0-d) and `dtype` (default float32). Not differentiable: PyTorch's gradient is zero, and here the
 * result does not require grad.
 * @throws ArgumentError for a probability outside [0, 1] or NaN, naming the element.
 * @example bernoulli(tensor([0.1, 0.9]), { seed: 0 }); bernoulli(0.5, { shape: [4] })
 */
export const bernoulli = primitive('bernoulli', { kind: 'random' }, function (p: TensorLike, options: ParameterSampleOptions & { shape?: Shape } = {}): Tensor {
  checkOptions('bernoulli', options, BERNOULLI_OPTIONS);
  const probs = probabilities('bernoulli', p, options);
  const data = probs.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new ArgumentError(`bernoulli: probabilities must be in [0, 1], got ${v} at element ${i} of p of shape ${formatShape(probs.shape)}`);
    }
  }
  const g = resolveGenerator(options);
  const out = allocate(probs.dtype, probs.size, 'bernoulli', probs.shape);
  for (let i = 0; i < out.length; i++) out[i] = g.uniform() < data[i]! ? 1 : 0;
  return constant(out, probs.shape);
});

/** Options of `multinomial`. */
export interface MultinomialOptions extends SampleOptions {
  /** Draw with replacement (default false: each category at most once per row). */
  replacement?: boolean;
}

/**
 * Checks the non-negative weights of each of `rows` rows of `k` and returns their running sums
 * (float64, row by row), naming `op` and the row at fault.
 */
function cumulativeWeights(op: string, w: ArrayLike<number>, rows: number, k: number, what: string): Float64Array {
  const cum = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    let total = 0;
    for (let j = 0; j < k; j++) {
      const v = w[r * k + j]!;
      if (!(v >= 0 && v < Infinity)) {
        throw new ArgumentError(`${op}: row ${r} of ${what} has ${v} at element ${j}; probabilities must be finite and non-negative`);
      }
      total += v;
      cum[r * k + j] = total;
    }
    if (!(total > 0)) throw new ArgumentError(`${op}: row ${r} of ${what} sums to 0; each row needs a positive probability`);
  }
  return cum;
}

/**
 * The category j with cum[j - 1] <= u·total < cum[j] in the running sums cum[start..start+k):
 * categories of probability 0 have an empty interval and are never drawn.
 */
function drawCategory(cum: Float64Array, start: number, k: number, g: Generator): number {
  const total = cum[start + k - 1]!;
  const target = g.uniform() * total;
  let lo = 0;
  let hi = k - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[start + mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  // Rounding can put u·total at total itself: take the last category with a positive weight.
  while (lo > 0 && cum[start + lo]! === cum[start + lo - 1]!) lo--;
  return lo;
}

/**
 * `numSamples` category indices (int32) per row of `probs` (1-D, or 2-D for a batch of rows),
 * drawn with probability proportional to the row's entries, as `torch.multinomial`: shape
 * [numSamples] or [rows, numSamples]. Without replacement (the default) each category is drawn
 * at most once per row, the remaining ones renormalised after each draw.
 * @throws ShapeError unless probs is 1-D or 2-D with at least one category.
 * @throws ArgumentError for a negative, NaN or infinite entry, a row summing to 0, fewer non-zero
 * categories than numSamples without replacement (each naming the row), or numSamples < 1.
 * @example multinomial(tensor([0.2, 0.8]), 4, { replacement: true, seed: 0 })
 */
export const multinomial = primitive('multinomial', { kind: 'random' }, function (probs: Tensor, numSamples: number, options: MultinomialOptions = {}): Tensor {
  checkOptions('multinomial', options, MULTINOMIAL_OPTIONS);
  const p = floatInput('multinomial', 'probs', probs);
  const { replacement = false } = options;
  if (p.ndim !== 1 && p.ndim !== 2) throw new ShapeError(`multinomial: probs must be 1-D or 2-D, got shape ${formatShape(p.shape)}`);
  const k = p.shape[p.ndim - 1]!;
  const rows = p.ndim === 2 ? p.shape[0]! : 1;
  if (k === 0) throw new ShapeError(`multinomial: probs of shape ${formatShape(p.shape)} has no categories`);
  if (!Number.isInteger(numSamples) || numSamples < 1) throw new ArgumentError(`multinomial: numSamples must be a positive integer, got ${numSamples}`);
  const cum = cumulativeWeights('multinomial', p.data, rows, k, 'probs');
  if (!replacement) {
    for (let r = 0; r < rows; r++) {
      let positive = 0;
      for (let j = 0; j < k; j++) if (p.data[r * k + j]! > 0) positive++;
      if (positive < numSamples) {
        throw new ArgumentError(
          `multinomial: row ${r} of probs has ${positive} non-zero probabilities, too few to draw ${numSamples} samples without replacement`,
        );
      }
    }
  }
  const g = resolveGenerator(options);
  const out = allocate('int32', rows * numSamples, 'multinomial', [rows, numSamples]);
  const weights = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    if (replacement) {
      for (let s = 0; s < numSamples; s++) out[r * numSamples + s] = drawCategory(cum, r * k, k, g);
      continue;
    }
    for (let j = 0; j < k; j++) weights[j] = p.data[r * k + j]!;
    const running = new Float64Array(k);
    for (let s = 0; s < numSamples; s++) {
      let total = 0;
      for (let j = 0; j < k; j++) running[j] = total += weights[j]!;
      const c = drawCategory(running, 0, k, g);
      out[r * numSamples + s] = c;
      weights[c] = 0;
    }
  }
  return constant(out, p.ndim === 2 ? [rows, numSamples] : [numSamples]);
});

/**
 * One category index (int32) per row of `logits` (the last axis holds the categories), drawn
 * with probability softmax(logits), as `torch.distributions.Categorical(logits=...).sample()`:
 * the result has logits' shape without its last axis. -Infinity is a category of probability 0.
 * @throws ShapeError for 0-d logits or no categories.
 * @throws ArgumentError for a NaN or +Infinity logit, or a row with every logit -Infinity, naming the row.
 * @example categorical(tensor([[0, 1, 2]]), { seed: 0 })
 */
export const categorical = primitive('categorical', { kind: 'random' }, function (logits: Tensor, options: SampleOptions = {}): Tensor {
  checkOptions('categorical', options, SAMPLE_OPTIONS);
  const l = floatInput('categorical', 'logits', logits);
  if (l.ndim === 0) throw new ShapeError('categorical: logits must have at least one dimension (the categories), got a 0-d tensor');
  const k = l.shape[l.ndim - 1]!;
  if (k === 0) throw new ShapeError(`categorical: logits of shape ${formatShape(l.shape)} has no categories`);
  const rows = l.size / k;
  // Shifted by each row's maximum, so large logits do not overflow.
  const w = new Float64Array(l.size);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = l.data[r * k + j]!;
      if (v !== v || v === Infinity) throw new ArgumentError(`categorical: row ${r} of logits has ${v} at element ${j}; logits must be below +Infinity and not NaN`);
      if (v > m) m = v;
    }
    if (m === -Infinity) throw new ArgumentError(`categorical: row ${r} of logits is -Infinity everywhere; each row needs a category of positive probability`);
    for (let j = 0; j < k; j++) w[r * k + j] = Math.exp(l.data[r * k + j]! - m);
  }
  const cum = cumulativeWeights('categorical', w, rows, k, 'logits');
  const g = resolveGenerator(options);
  const out = allocate('int32', rows, 'categorical', l.shape.slice(0, -1));
  for (let r = 0; r < rows; r++) out[r] = drawCategory(cum, r * k, k, g);
  return constant(out, l.shape.slice(0, -1));
});

/**
 * Two distribution parameters as float tensors of one dtype, and the result's shape: their
 * broadcast with `shape` (which must be that broadcast's shape or broadcast to it).
 */
function parameters(op: string, a: TensorLike, b: TensorLike, shape: Shape | undefined, dtype: FloatDType | undefined): { a: FloatTensor; b: FloatTensor; shape: number[] } {
  if (dtype !== undefined && !isFloatDType(dtype)) throw new DTypeError(`${op}: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
  let ta: FloatTensor;
  let tb: FloatTensor;
  if (typeof a === 'number' && typeof b === 'number') {
    ta = scalarTensor(a, dtype ?? 'float32') as FloatTensor;
    tb = scalarTensor(b, dtype ?? 'float32') as FloatTensor;
  } else {
    if (dtype !== undefined) throw new ArgumentError(`${op}: dtype is taken from the tensor parameters; pass numbers to give a dtype`);
    [ta, tb] = floatOperands(op, a, b);
  }
  const params = broadcastShapes(op, ta.shape, tb.shape);
  if (shape === undefined) return { a: ta, b: tb, shape: params };
  checkShape(op, shape);
  const out = broadcastShapes(op, params, shape);
  if (out.length !== shape.length || out.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: parameters of shapes ${formatShape(ta.shape)} and ${formatShape(tb.shape)} do not broadcast to shape ${formatShape(shape)}`);
  }
  return { a: ta, b: tb, shape: out };
}

/**
 * Normal samples `mean + std·ε`, ε standard normal from the generator, as
 * `torch.distributions.Normal(mean, std).rsample()`: mean and std are tensors or numbers, the
 * result has their broadcast shape (or `shape`, which they must broadcast to). Reparameterised:
 * gradients flow to mean (1) and std (ε) when they require grad.
 * @throws ArgumentError for a negative or NaN std, naming the element.
 * @throws ShapeError if the parameters do not broadcast to `shape`; DTypeError for float32 beside float64.
 * @example normal(mu, sigma); normal(0, 1, [3], { seed: 0, dtype: 'float64' })
 */
export const normal = primitive('normal', { kind: 'random' }, function (mean: TensorLike, std: TensorLike, shape?: Shape, options: ParameterSampleOptions = {}): Tensor {
  checkOptions('normal', options, PARAMETER_SAMPLE_OPTIONS);
  const { a: mu, b: sigma, shape: outShape } = parameters('normal', mean, std, shape, options.dtype);
  for (let i = 0; i < sigma.size; i++) {
    const s = sigma.data[i]!;
    if (!(s >= 0)) throw new ArgumentError(`normal: std must be non-negative, got ${s} at element ${i} of std of shape ${formatShape(sigma.shape)}`);
  }
  const g = resolveGenerator(options);
  const eps = allocate(mu.dtype, sizeOf(outShape), 'normal', outShape);
  for (let i = 0; i < eps.length; i++) eps[i] = g.normal();
  return mu.add(sigma.mul(constant(eps, outShape)));
});

/**
 * Uniform samples `low + (high - low)·u`, u uniform in [0, 1) from the generator, as
 * `torch.distributions.Uniform(low, high).rsample()`; low and high are tensors or numbers,
 * broadcast as `normal`'s parameters. Reparameterised: gradients flow to low (1 - u) and high (u).
 * @throws ArgumentError where low > high or either is NaN, naming the element.
 * @throws ShapeError if the parameters do not broadcast to `shape`; DTypeError for float32 beside float64.
 * @example uniform(-1, 1, [2, 2], { seed: 0 })
 */
export const uniform = primitive('uniform', { kind: 'random' }, function (low: TensorLike, high: TensorLike, shape?: Shape, options: ParameterSampleOptions = {}): Tensor {
  checkOptions('uniform', options, PARAMETER_SAMPLE_OPTIONS);
  const { a: lo, b: hi, shape: outShape } = parameters('uniform', low, high, shape, options.dtype);
  const gap = hi.detach().sub(lo.detach());
  for (let i = 0; i < gap.size; i++) {
    if (!(gap.data[i]! >= 0)) {
      throw new ArgumentError(`uniform: low must not exceed high, got low ${formatShape(lo.shape)} and high ${formatShape(hi.shape)} with high - low = ${gap.data[i]} at element ${i} of their broadcast`);
    }
  }
  const g = resolveGenerator(options);
  const u = allocate(lo.dtype, sizeOf(outShape), 'uniform', outShape);
  // NOTE: float32 storage rounds a draw within 2^-25 of 1 up to 1; capped, as `rand` caps it.
  const top = lo.dtype === 'float32' ? 1 - 2 ** -24 : 1;
  for (let i = 0; i < u.length; i++) u[i] = Math.min(g.uniform(), top);
  return lo.add(hi.sub(lo).mul(constant(u, outShape)));
});

/** Options of `dropout`. */
export interface FunctionalDropoutOptions extends SampleOptions {
  /** Drop elements (default true); when false, x is returned as it is. */
  training?: boolean;
}

/**
 * Inverted dropout, as `torch.nn.functional.dropout`: in training, each element of x is zeroed
 * with probability p and the rest are scaled by 1/(1-p); the gradient goes through the same
 * mask. One uniform draw per element decides (dropped when below p). Returns x itself when not
 * training or p = 0, and zeros when p = 1.
 * @throws ArgumentError if p is not in [0, 1].
 * @example dropout(h, 0.1, { training: model.training, generator })
 */
export const dropout = primitive('dropout', { kind: 'random' }, function (x: Tensor, p: number, options: FunctionalDropoutOptions = {}): Tensor {
  checkOptions('dropout', options, DROPOUT_OPTIONS);
  const t = expectTensor('dropout', 'input', x);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ArgumentError(`dropout: p must be a probability in [0, 1], got ${String(p)}`);
  const { training = true } = options;
  if (!training || p === 0) return t;
  const input = isFloat(t) ? t : floatInput('dropout', 'input', t);
  const g = resolveGenerator(options);
  // p = 1 drops everything (the scale would be Infinity; PyTorch returns zeros too).
  const scale = p === 1 ? 0 : 1 / (1 - p);
  // The draws are an op's result (rand in float64: the generator's numbers as they are), so a
  // jit trace records them and the gradient reads the mask the program drew at that call.
  const kept = rand(input.shape, { dtype: 'float64', generator: g }).ge(p);
  return input.mul(kept.toDtype(input.dtype).mul(scale));
});
