import { allocate, isDType, type DType, type FloatArray } from './dtype.js';
import { ArgumentError, DTypeError, ShapeError } from './errors.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';
import { Tensor, type NestedArray } from './tensor.js';
import { resolveGenerator, type Generator } from './random.js';

/** Typed arrays `tensor` copies from: floats, and the integer arrays labels come in. */
export type NumericArray = FloatArray | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Element type; float32 unless said otherwise. */
  dtype?: DType;
  /** Make the new tensor a leaf that collects gradients. */
  requiresGrad?: boolean;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** A seed for a fresh generator. */
  seed?: number;
  /** A generator to draw from (takes precedence over `seed`). */
  generator?: Generator;
}

function resolveDType(op: string, dtype: DType | undefined, fallback: DType = 'float32'): DType {
  if (dtype === undefined) return fallback;
  if (!isDType(dtype)) throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype)} (use 'float32' or 'float64')`);
  return dtype;
}

function finish(data: FloatArray, shape: Shape, options: CreateOptions): Tensor {
  return new Tensor(data, [...shape], { requiresGrad: options.requiresGrad ?? false });
}

function inferShape(value: NestedArray): number[] {
  if (!Array.isArray(value)) return [];
  if (value.length === 0) return [0];
  return [value.length, ...inferShape(value[0]!)];
}

function fill(op: string, value: NestedArray, shape: Shape, dim: number, out: FloatArray, offset: number, path: number[]): number {
  if (dim === shape.length) {
    if (typeof value !== 'number') {
      throw new ShapeError(`${op}: ragged nested array at [${path.join(',')}]: expected a number, got ${Array.isArray(value) ? 'an array' : typeof value}`);
    }
    out[offset] = value;
    return offset + 1;
  }
  if (!Array.isArray(value) || value.length !== shape[dim]) {
    const got = Array.isArray(value) ? `length ${value.length}` : typeof value;
    throw new ShapeError(`${op}: ragged nested array at [${path.join(',')}]: expected length ${shape[dim]}, got ${got}`);
  }
  for (let i = 0; i < value.length; i++) offset = fill(op, value[i]!, shape, dim + 1, out, offset, [...path, i]);
  return offset;
}

/**
 * A tensor from nested arrays, a flat typed array or number array (with `shape`), or a number.
 * The data is copied. A Float64Array gives float64 unless `dtype` says otherwise; integer
 * arrays (class labels) give float32. (`torch.tensor` infers int64 from integers; chainrule's
 * dtypes are float32 and float64.)
 * @throws ShapeError for a ragged nested array, or a `shape` whose size differs from the data's.
 * @throws DTypeError for an unknown dtype.
 *
 * @example tensor([[1, 2], [3, 4]], { requiresGrad: true })
 * @example tensor(new Float32Array(6), { shape: [2, 3] })
 */
export function tensor(
  value: NestedArray | NumericArray | readonly number[],
  options: CreateOptions & { shape?: Shape } = {},
): Tensor {
  if (ArrayBuffer.isView(value)) {
    const dtype = resolveDType('tensor', options.dtype, value instanceof Float64Array ? 'float64' : 'float32');
    const shape = options.shape ?? [value.length];
    checkShape('tensor', shape);
    if (sizeOf(shape) !== value.length) {
      throw new ShapeError(`tensor: ${value.length} elements cannot take shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
    }
    const data = allocate(dtype, value.length, 'tensor', shape);
    data.set(value);
    return finish(data, shape, options);
  }
  const dtype = resolveDType('tensor', options.dtype);
  const inferred = inferShape(value as NestedArray);
  const data = allocate(dtype, sizeOf(inferred), 'tensor', inferred);
  fill('tensor', value as NestedArray, inferred, 0, data, 0, []);
  if (options.shape !== undefined) {
    checkShape('tensor', options.shape);
    if (sizeOf(options.shape) !== data.length) {
      throw new ShapeError(`tensor: ${data.length} elements cannot take shape ${formatShape(options.shape)} (${sizeOf(options.shape)} elements)`);
    }
    return finish(data, options.shape, options);
  }
  return finish(data, inferred, options);
}

function filled(op: string, shape: Shape, value: number, options: CreateOptions): Tensor {
  checkShape(op, shape);
  const data = allocate(resolveDType(op, options.dtype), sizeOf(shape), op, shape);
  // Fresh storage is +0 already; -0 (=== 0) must still be written, or 1/x flips sign.
  if (!Object.is(value, 0)) data.fill(value);
  return finish(data, shape, options);
}

/**
 * A tensor of zeros (float32 unless `dtype` says otherwise).
 * @throws ShapeError if `shape` holds a negative or non-integer size; DTypeError for an unknown dtype.
 * @example zeros([2, 3], { dtype: 'float64' })
 */
export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return filled('zeros', shape, 0, options);
}

/** A tensor of ones. @throws as `zeros`. @example ones([3]) */
export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return filled('ones', shape, 1, options);
}

/** A tensor with every element `value`. @throws as `zeros`. @example full([2, 2], 7) */
export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  return filled('full', shape, value, options);
}

/** Zeros with the shape and dtype of `t`. @example zerosLike(x) */
export function zerosLike(t: Tensor, options: { requiresGrad?: boolean } = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, ...options });
}

/** Ones with the shape and dtype of `t`. @example onesLike(x) */
export function onesLike(t: Tensor, options: { requiresGrad?: boolean } = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, ...options });
}

/**
 * Evenly spaced values in [start, end) with `step`, as `torch.arange`; `arange(n)` is 0..n-1.
 * @throws ArgumentError if start, end or step is not finite, or step is 0.
 * @example arange(0, 1, 0.25) // [0, 0.25, 0.5, 0.75]
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    throw new ArgumentError(`arange: start, end and step must be finite and step non-zero, got (${start}, ${end}, ${step})`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = allocate(resolveDType('arange', options.dtype), n, 'arange', [n]);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(data, [n], options);
}

/**
 * `steps` values from `start` to `end` inclusive, as `torch.linspace`.
 * @throws ArgumentError if `steps` is not a non-negative integer.
 * @example linspace(0, 1, 5)
 */
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new ArgumentError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const data = allocate(resolveDType('linspace', options.dtype), steps, 'linspace', [steps]);
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) data[i] = i === steps - 1 && steps > 1 ? end : start + i * delta;
  return finish(data, [steps], options);
}

/** An n×m matrix with ones on the diagonal (m defaults to n). @example eye(3) */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  checkShape('eye', [n, m]);
  const data = allocate(resolveDType('eye', options.dtype), n * m, 'eye', [n, m]);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return finish(data, [n, m], options);
}

/**
 * Uniform samples in [0, 1), from `seed`, `generator` or the global generator (`manualSeed`).
 * chainrule's generator is its own: a seed does not give PyTorch's numbers.
 * @throws ShapeError for a bad shape; DTypeError for an unknown dtype; ArgumentError for a non-finite seed.
 * @example rand([2, 3], { seed: 0 })
 */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('rand', shape);
  const g = resolveGenerator(options);
  const dtype = resolveDType('rand', options.dtype);
  const data = allocate(dtype, sizeOf(shape), 'rand', shape);
  // NOTE: float32 storage rounds a draw within 2^-25 of 1 up to 1; capping at the largest
  // float32 below 1 keeps the range [0, 1) and leaves every other draw as it was.
  const top = dtype === 'float32' ? 1 - 2 ** -24 : 1;
  for (let i = 0; i < data.length; i++) data[i] = Math.min(g.uniform(), top);
  return finish(data, shape, options);
}

/**
 * Standard normal samples (Box-Muller), drawn as `rand` draws.
 * @throws as `rand`.
 * @example randn([784, 128], { seed: 0, requiresGrad: true })
 */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('randn', shape);
  const g = resolveGenerator(options);
  const data = allocate(resolveDType('randn', options.dtype), sizeOf(shape), 'randn', shape);
  for (let i = 0; i < data.length; i++) data[i] = g.normal();
  return finish(data, shape, options);
}
