/**
 * Weight initialisation, as `torch.nn.init`: every function fills a tensor in place (outside the
 * graph) and returns it. Randomness comes from `seed` (a fresh generator) or `generator` (shared,
 * so consecutive calls draw consecutive numbers); with neither, from the global generator that
 * `manualSeed` reseeds. Unlike PyTorch's, these functions take camelCase names (`xavierUniform` for
 * `xavier_uniform_`) and draw their numbers from chainrule's generator, so a seed does not
 * reproduce PyTorch's values.
 */
import { ArgumentError, incrementVersion, qr, rand, randn, type Generator, type Tensor } from '@chainrule/autograd';
import { formatShape } from './format.js';

/** Where random numbers come from. */
export interface RandomSource {
  /** A seed for a fresh generator. */
  seed?: number;
  /** A generator to draw from (takes precedence over `seed`). */
  generator?: Generator;
}

/** Non-linearities `calculateGain` knows. */
export type Nonlinearity =
  | 'linear' | 'identity' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

/** Fan used by the Kaiming initialisers. */
export type FanMode = 'fanIn' | 'fanOut';

/**
 * The recommended gain for a non-linearity, as `torch.nn.init.calculate_gain`: 1 for linear and
 * sigmoid, 5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for leaky relu (slope 0.01 by
 * default), 3/4 for selu.
 * @throws ArgumentError for an unknown nonlinearity or a non-finite leaky relu slope.
 * @example init.calculateGain('relu') // Math.SQRT2
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'identity':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope)) throw new ArgumentError(`calculateGain: negative slope must be a finite number, got ${slope}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ArgumentError(`calculateGain: unknown nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/**
 * fan_in and fan_out of a weight, as PyTorch: for shape [out, in, ...kernel], fan_in = in·∏kernel
 * and fan_out = out·∏kernel.
 * @throws ArgumentError if the tensor has fewer than 2 dimensions.
 * @example init.calculateFans(w) // { fanIn: 3, fanOut: 2 }
 */
export function calculateFans(tensor: Tensor): {
  /** in·∏kernel: inputs feeding each output. */
  fanIn: number;
  /** out·∏kernel: outputs each input feeds. */
  fanOut: number;
} {
  if (tensor.ndim < 2) {
    throw new ArgumentError(`init: fan in and fan out need a tensor with at least 2 dimensions, got shape ${formatShape(tensor.shape)}`);
  }
  let receptive = 1;
  for (let i = 2; i < tensor.ndim; i++) receptive *= tensor.shape[i]!;
  return { fanIn: tensor.shape[1]! * receptive, fanOut: tensor.shape[0]! * receptive };
}

function fillUniform(tensor: Tensor, low: number, high: number, source: RandomSource): Tensor {
  const u = rand([tensor.size], { dtype: 'float64', seed: source.seed, generator: source.generator }).data;
  const span = high - low;
  for (let i = 0; i < u.length; i++) tensor.data[i] = low + span * u[i]!;
  incrementVersion(tensor);
  return tensor;
}

function fillNormal(tensor: Tensor, mean: number, std: number, source: RandomSource): Tensor {
  const z = randn([tensor.size], { dtype: 'float64', seed: source.seed, generator: source.generator }).data;
  for (let i = 0; i < z.length; i++) tensor.data[i] = mean + std * z[i]!;
  incrementVersion(tensor);
  return tensor;
}

function checkFinite(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isFinite(v)) throw new ArgumentError(`init.${op}: ${name} must be a finite number, got ${v}`);
  }
}

/**
 * Fills with U(low, high), in place, and returns the tensor.
 * @throws ArgumentError if low or high is not finite, or low > high.
 * @example init.uniform(w, -0.1, 0.1, { seed: 0 })
 */
export function uniform(tensor: Tensor, low = 0, high = 1, source: RandomSource = {}): Tensor {
  checkFinite('uniform', { low, high });
  if (!(low <= high)) throw new ArgumentError(`init.uniform: low must be <= high, got low ${low}, high ${high}`);
  return fillUniform(tensor, low, high, source);
}

/**
 * Fills with N(mean, std²), in place, and returns the tensor.
 * @throws ArgumentError if mean or std is not finite, or std < 0.
 * @example init.normal(w, 0, 0.02, { seed: 0 })
 */
export function normal(tensor: Tensor, mean = 0, std = 1, source: RandomSource = {}): Tensor {
  checkFinite('normal', { mean, std });
  if (std < 0) throw new ArgumentError(`init.normal: std must be >= 0, got ${std}`);
  return fillNormal(tensor, mean, std, source);
}

/** Fills with `value`, in place (outside the graph), and returns the tensor. @example init.constant(b, 0.1) */
export function constant(tensor: Tensor, value: number): Tensor {
  tensor.data.fill(value);
  incrementVersion(tensor);
  return tensor;
}

/** Fills with zeros, in place. @example init.zeros(b) */
export function zeros(tensor: Tensor): Tensor {
  return constant(tensor, 0);
}

/** Fills with ones, in place. @example init.ones(gamma) */
export function ones(tensor: Tensor): Tensor {
  return constant(tensor, 1);
}

/** Options of the Xavier initialisers. */
export interface XavierOptions extends RandomSource {
  /** Scale factor (default 1); see `calculateGain`. */
  gain?: number;
}

/**
 * Glorot/Xavier uniform, in place: U(-a, a) with a = gain·√(6 / (fan_in + fan_out)).
 * @throws ArgumentError if the tensor has fewer than 2 dimensions.
 * @example init.xavierUniform(w, { gain: init.calculateGain('tanh'), seed: 0 })
 */
export function xavierUniform(tensor: Tensor, options: XavierOptions = {}): Tensor {
  const { gain = 1 } = options;
  const { fanIn, fanOut } = calculateFans(tensor);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return fillUniform(tensor, -a, a, options);
}

/**
 * Glorot/Xavier normal, in place: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).
 * @throws ArgumentError if the tensor has fewer than 2 dimensions.
 * @example init.xavierNormal(w, { seed: 0 })
 */
export function xavierNormal(tensor: Tensor, options: XavierOptions = {}): Tensor {
  const { gain = 1 } = options;
  const { fanIn, fanOut } = calculateFans(tensor);
  return fillNormal(tensor, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), options);
}

/** Options of the Kaiming initialisers (PyTorch's defaults). */
export interface KaimingOptions extends RandomSource {
  /** Negative slope of the leaky relu that follows (default 0); used when nonlinearity is 'leakyRelu'. */
  a?: number;
  /** 'fanIn' (default) preserves the forward variance, 'fanOut' the backward one. */
  mode?: FanMode;
  /** Default 'leakyRelu' (with a = 0 that is plain relu's gain √2), as PyTorch. */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, tensor: Tensor, options: KaimingOptions): number {
  const { a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu' } = options;
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new ArgumentError(`init.${op}: mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  const fans = calculateFans(tensor);
  const fan = mode === 'fanIn' ? fans.fanIn : fans.fanOut;
  if (fan === 0) throw new ArgumentError(`init.${op}: cannot initialise a tensor with zero ${mode} (shape ${formatShape(tensor.shape)})`);
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/**
 * He/Kaiming uniform, in place: U(-b, b) with b = gain·√(3 / fan), gain = calculateGain(nonlinearity, a).
 * @throws ArgumentError if the tensor has fewer than 2 dimensions, the chosen fan is 0, or `mode`
 * or `nonlinearity` is unknown.
 * @example init.kaimingUniform(w, { nonlinearity: 'relu', seed: 0 })
 */
export function kaimingUniform(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform', tensor, options);
  return fillUniform(tensor, -bound, bound, options);
}

/**
 * He/Kaiming normal, in place: N(0, std²) with std = gain / √fan.
 * @throws ArgumentError as `kaimingUniform`.
 * @example init.kaimingNormal(w, { mode: 'fanOut', seed: 0 })
 */
export function kaimingNormal(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  return fillNormal(tensor, 0, kaimingStd('kaimingNormal', tensor, options), options);
}

/** Options of `orthogonal`. */
export interface OrthogonalOptions extends RandomSource {
  /** Scale of the (semi-)orthogonal matrix (default 1). */
  gain?: number;
}

/**
 * Fills with a random (semi-)orthogonal matrix times `gain`, in place, as
 * `torch.nn.init.orthogonal_` (Saxe et al. 2013): the tensor is viewed as [rows, rest], a
 * standard normal matrix of that shape (transposed when wider than tall) is decomposed as Q·R,
 * and Q with each column's sign set by R's diagonal (so Q is uniformly distributed) fills it.
 * Rows are orthonormal when rows <= rest, columns otherwise.
 * @throws ArgumentError if the tensor has fewer than 2 dimensions or gain is not finite.
 * @example init.orthogonal(rnn.param('weight_hh_l0'), { gain: 1, seed: 0 })
 */
export function orthogonal(tensor: Tensor, options: OrthogonalOptions = {}): Tensor {
  const { gain = 1 } = options;
  checkFinite('orthogonal', { gain });
  if (tensor.ndim < 2) {
    throw new ArgumentError(`init.orthogonal: needs a tensor with at least 2 dimensions, got shape ${formatShape(tensor.shape)}`);
  }
  const rows = tensor.shape[0]!;
  const cols = tensor.size / rows;
  if (tensor.size === 0) return tensor;
  const wide = rows < cols;
  const a = randn(wide ? [cols, rows] : [rows, cols], { dtype: 'float64', seed: options.seed, generator: options.generator });
  const { Q, R } = qr(a);
  const k = Math.min(rows, cols);
  const q = Q.data;
  const signs = Array.from({ length: k }, (_, j) => Math.sign(R.data[j * k + j]!) || 1);
  // Q is [tall, k]; the tensor takes Q (or Qᵀ when wide) with column j scaled by signs[j]·gain.
  for (let i = 0; i < (wide ? cols : rows); i++) {
    for (let j = 0; j < k; j++) {
      const v = q[i * k + j]! * signs[j]! * gain;
      if (wide) tensor.data[j * cols + i] = v;
      else tensor.data[i * cols + j] = v;
    }
  }
  incrementVersion(tensor);
  return tensor;
}

/** Options of `truncNormal`. */
export interface TruncNormalOptions extends RandomSource {
  /** Mean of the normal distribution before truncation (default 0). */
  mean?: number;
  /** Standard deviation of the normal distribution before truncation (default 1). */
  std?: number;
  /** Lowest value (default -2, in absolute terms as PyTorch's, not in standard deviations). */
  a?: number;
  /** Highest value (default 2). */
  b?: number;
}

/**
 * Fills with N(mean, std²) truncated to [a, b], in place, as `torch.nn.init.trunc_normal_`: a
 * uniform draw between the normal CDF at a and at b, mapped back through the inverse CDF.
 * @throws ArgumentError if an option is not finite, std < 0, or a > b.
 * @example init.truncNormal(w, { std: 0.02, seed: 0 })
 */
export function truncNormal(tensor: Tensor, options: TruncNormalOptions = {}): Tensor {
  const { mean = 0, std = 1, a = -2, b = 2 } = options;
  checkFinite('truncNormal', { mean, std, a, b });
  if (std < 0) throw new ArgumentError(`init.truncNormal: std must be >= 0, got ${std}`);
  if (!(a <= b)) throw new ArgumentError(`init.truncNormal: a must be <= b, got a ${a}, b ${b}`);
  const u = rand([tensor.size], { dtype: 'float64', seed: options.seed, generator: options.generator }).data;
  if (std === 0) return constant(tensor, Math.min(b, Math.max(a, mean)));
  const lo = normalCdf((a - mean) / std);
  const hi = normalCdf((b - mean) / std);
  for (let i = 0; i < u.length; i++) {
    const p = lo + (hi - lo) * u[i]!;
    tensor.data[i] = Math.min(b, Math.max(a, mean + std * normalQuantile(p)));
  }
  incrementVersion(tensor);
  return tensor;
}

function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** erfc by Numerical Recipes' Chebyshev fit (erfcc; relative error < 1.2e-7, far below what a random draw notices). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number =>
    (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) /
    (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
}

/**
 * Fills a 2-d tensor with the identity (ones on the diagonal, zeros elsewhere), in place, as
 * `torch.nn.init.eye_`: a Linear layer then passes its input through (its first min(out, in) features).
 * @throws ArgumentError if the tensor is not 2-d.
 * @example init.eye(linear.weight)
 */
export function eye(tensor: Tensor): Tensor {
  if (tensor.ndim !== 2) throw new ArgumentError(`init.eye: needs a 2-d tensor, got shape ${formatShape(tensor.shape)}`);
  const [rows, cols] = tensor.shape as [number, number];
  tensor.data.fill(0);
  for (let i = 0; i < Math.min(rows, cols); i++) tensor.data[i * cols + i] = 1;
  incrementVersion(tensor);
  return tensor;
}
