import { allocate, DTYPE_NAMES, isDType, isFloatDType, type DType, type FloatArray, type FloatDType, type TensorData } from './dtype.js';
import { ArgumentError, DTypeError, ShapeError } from './errors.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';
import { noGradError, Tensor, type NestedArray } from './tensor.js';
import { resolveGenerator, type Generator } from './random.js';
import { primitive } from './engine/dispatch.js';
import { fromUserValues, untaint } from './engine/trace-access.js';
import { checkOptions } from './options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const CREATE_OPTIONS = ['dtype', 'requiresGrad'];
const RANDOM_OPTIONS = ['dtype', 'requiresGrad', 'seed', 'generator'];
const TENSOR_OPTIONS = ['dtype', 'requiresGrad', 'shape'];
const ZEROS_LIKE_OPTIONS = ['requiresGrad'];

/** Typed arrays `tensor` copies from: floats, and the integer arrays labels come in. */
export type NumericArray = FloatArray | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Nested arrays of booleans: `tensor` makes a bool tensor of them. */
export type NestedBooleans = boolean | NestedBooleans[];

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
  if (!isDType(dtype)) throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype)} (use ${DTYPE_NAMES})`);
  return dtype;
}

/** A dtype for a function that only makes sense in floating point (random draws, linspace). */
function resolveFloatDType(op: string, dtype: DType | undefined): FloatDType {
  const d = resolveDType(op, dtype);
  if (!isFloatDType(d)) throw new DTypeError(`${op}: dtype must be 'float32' or 'float64', got '${d}'`);
  return d;
}

function finish(op: string, data: TensorData, shape: Shape, options: CreateOptions): Tensor {
  const requiresGrad = options.requiresGrad ?? false;
  const dtype = data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'bool';
  if (requiresGrad && !isFloatDType(dtype)) throw noGradError(op, dtype, shape);
  return new Tensor(data, [...shape], { requiresGrad });
}

/**
 * Stores `value` at out[offset] as its dtype holds it: a boolean as 1 or 0; into bool, non-zero
 * as 1; into int32, only an integer in range (a fraction would be cut silently).
 */
function store(op: string, out: TensorData, offset: number, value: number | boolean, where: () => string): void {
  if (typeof value === 'boolean') {
    out[offset] = value ? 1 : 0;
  } else if (out instanceof Uint8Array) {
    out[offset] = value !== 0 ? 1 : 0;
  } else if (out instanceof Int32Array) {
    if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
      throw new ArgumentError(`${op}: ${value}${where()} is not an int32 (an integer in [-2147483648, 2147483647])`);
    }
    out[offset] = value;
  } else {
    out[offset] = value;
  }
}

function inferShape(value: NestedArray | NestedBooleans): number[] {
  if (!Array.isArray(value)) return [];
  if (value.length === 0) return [0];
  return [value.length, ...inferShape(value[0]!)];
}

function fill(op: string, value: NestedArray | NestedBooleans, shape: Shape, dim: number, out: TensorData, offset: number, path: number[]): number {
  if (dim === shape.length) {
    if (typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ShapeError(`${op}: ragged nested array at [${path.join(',')}]: expected a number, got ${Array.isArray(value) ? 'an array' : typeof value}`);
    }
    store(op, out, offset, value, () => ` at [${path.join(',')}]`);
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
 * The data is copied. Numbers give float32 and booleans give bool unless `dtype` says otherwise
 * (`torch.tensor` infers int64 from integers; pass `{ dtype: 'int32' }` for indices and labels).
 * A Float64Array gives float64, a Float32Array float32 and an integer typed array (Int32Array,
 * Uint8Array, ...) int32, as `torch.tensor` keeps a NumPy array's kind; a Uint32Array value
 * beyond int32's range is an error, never wrapped. `dtype` overrides the inference.
 * @throws ShapeError for a ragged nested array, or a `shape` whose size differs from the data's.
 * @throws DTypeError for an unknown dtype, or requiresGrad on an int32 or bool tensor.
 * @throws ArgumentError for a value int32 cannot hold exactly (a fraction, out of range, NaN).
 *
 * @example tensor([[1, 2], [3, 4]], { requiresGrad: true })
 * @example tensor([2, 0, 1], { dtype: 'int32' })
 * @example tensor([true, false])
 * @example tensor(new Float32Array(6), { shape: [2, 3] })
 */
export function tensor(
  value: NestedArray | NestedBooleans | NumericArray | readonly number[] | readonly boolean[],
  options: CreateOptions & { shape?: Shape } = {},
): Tensor {
  checkOptions('tensor', options, TENSOR_OPTIONS);
  if (ArrayBuffer.isView(value)) {
    const dtype = resolveDType('tensor', options.dtype, value instanceof Float64Array ? 'float64' : value instanceof Float32Array ? 'float32' : 'int32');
    const shape = options.shape ?? [value.length];
    checkShape('tensor', shape);
    if (sizeOf(shape) !== value.length) {
      throw new ShapeError(`tensor: ${value.length} elements cannot take shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
    }
    const data = allocate(dtype, value.length, 'tensor', shape);
    if (isFloatDType(dtype)) data.set(value);
    else for (let i = 0; i < value.length; i++) store('tensor', data, i, value[i]!, () => ` at index ${i}`);
    return fromUserValues(finish('tensor', data, shape, options));
  }
  const nested = value as NestedArray | NestedBooleans;
  const dtype = resolveDType('tensor', options.dtype, firstLeaf(nested) === 'boolean' ? 'bool' : 'float32');
  const inferred = inferShape(nested);
  const data = allocate(dtype, sizeOf(inferred), 'tensor', inferred);
  fill('tensor', nested, inferred, 0, data, 0, []);
  if (options.shape !== undefined) {
    checkShape('tensor', options.shape);
    if (sizeOf(options.shape) !== data.length) {
      throw new ShapeError(`tensor: ${data.length} elements cannot take shape ${formatShape(options.shape)} (${sizeOf(options.shape)} elements)`);
    }
    return fromUserValues(finish('tensor', data, options.shape, options));
  }
  return fromUserValues(finish('tensor', data, inferred, options));
}

/** The type of the first leaf of nested arrays ('number' for an empty one). */
function firstLeaf(value: NestedArray | NestedBooleans): string {
  let v: NestedArray | NestedBooleans | undefined = value;
  while (Array.isArray(v)) v = v[0];
  return v === undefined ? 'number' : typeof v;
}

function filled(op: string, shape: Shape, value: number, options: CreateOptions): Tensor {
  checkShape(op, shape);
  const data = allocate(resolveDType(op, options.dtype), sizeOf(shape), op, shape);
  if (data.length > 0) {
    store(op, data, 0, value, () => '');
    // Fresh storage is +0 already; -0 (=== 0) must still be written, or 1/x flips sign.
    if (!Object.is(value, 0)) data.fill(data[0]!);
  }
  // Made from numbers alone: a trace may hold it as a constant (see engine/trace-access.ts).
  return untaint(finish(op, data, shape, options));
}

/**
 * A tensor of zeros (float32 unless `dtype` says otherwise).
 * @throws ShapeError if `shape` holds a negative or non-integer size; DTypeError for an unknown dtype.
 * @example zeros([2, 3], { dtype: 'float64' })
 */
export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  checkOptions('zeros', options, CREATE_OPTIONS);
  return filled('zeros', shape, 0, options);
}

/** A tensor of ones. @throws as `zeros`. @example ones([3]) */
export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  checkOptions('ones', options, CREATE_OPTIONS);
  return filled('ones', shape, 1, options);
}

/** A tensor with every element `value`. @throws as `zeros`. @example full([2, 2], 7) */
export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  checkOptions('full', options, CREATE_OPTIONS);
  return filled('full', shape, value, options);
}

/** Zeros with the shape and dtype of `t`. @example zerosLike(x) */
export function zerosLike(t: Tensor, options: { requiresGrad?: boolean } = {}): Tensor {
  checkOptions('zerosLike', options, ZEROS_LIKE_OPTIONS);
  return zeros(t.shape, { dtype: t.dtype, ...options });
}

/** Ones with the shape and dtype of `t`. @example onesLike(x) */
export function onesLike(t: Tensor, options: { requiresGrad?: boolean } = {}): Tensor {
  checkOptions('onesLike', options, ZEROS_LIKE_OPTIONS);
  return ones(t.shape, { dtype: t.dtype, ...options });
}

/**
 * Evenly spaced values in [start, end) with `step`, as `torch.arange`; `arange(n)` is 0..n-1.
 * With `{ dtype: 'int32' }` start and step must be integers (PyTorch truncates them toward zero,
 * so `arange(0, 5, 1.5)` would be [0, 1, 2, 3]); the end may be a fraction, as there.
 * @throws ArgumentError if start, end or step is not finite, or step is 0; for int32, if start or
 * step is not an integer or a value leaves int32's range.
 * @example arange(0, 1, 0.25) // [0, 0.25, 0.5, 0.75]
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  checkOptions('arange', options, CREATE_OPTIONS);
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    throw new ArgumentError(`arange: start, end and step must be finite and step non-zero, got (${start}, ${end}, ${step})`);
  }
  const dtype = resolveDType('arange', options.dtype);
  if (dtype === 'int32' && (!Number.isInteger(start) || !Number.isInteger(step))) {
    throw new ArgumentError(`arange: an int32 range needs an integer start and step (PyTorch would truncate them toward zero), got start ${start}, step ${step}`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = allocate(dtype, n, 'arange', [n]);
  for (let i = 0; i < n; i++) store('arange', data, i, start + i * step, () => ` (element ${i})`);
  return untaint(finish('arange', data, [n], options));
}

/**
 * `steps` values from `start` to `end` inclusive, as `torch.linspace`. With `{ dtype: 'int32' }`
 * (integer start and end) each value is PyTorch's: the float64 point, counted from the start in
 * the first half and from the end in the second, truncated toward zero (`linspace(0, 10, 4)` is
 * [0, 3, 6, 10]).
 * @throws ArgumentError if `steps` is not a non-negative integer; for int32, if start or end is
 * not an integer in int32's range. DTypeError for a bool dtype.
 * @example linspace(0, 1, 5); linspace(0, 100, 7, { dtype: 'int32' })
 */
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  checkOptions('linspace', options, CREATE_OPTIONS);
  if (!Number.isInteger(steps) || steps < 0) throw new ArgumentError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = resolveDType('linspace', options.dtype);
  if (dtype === 'int32') {
    const int32 = (v: number): boolean => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
    if (!int32(start) || !int32(end)) {
      throw new ArgumentError(`linspace: an int32 range needs integer start and end in int32's range (PyTorch would truncate them toward zero), got start ${start}, end ${end}`);
    }
    const data = allocate('int32', steps, 'linspace', [steps]);
    // NOTE: PyTorch's kernel, step in float64 and each half counted from its own end.
    const step = steps > 1 ? (end - start) / (steps - 1) : 0;
    const halfway = Math.floor(steps / 2);
    // One step is the start, as PyTorch fills it.
    for (let i = 0; i < steps; i++) data[i] = steps === 1 ? start : Math.trunc(i < halfway ? start + step * i : end - step * (steps - i - 1));
    return untaint(finish('linspace', data, [steps], options));
  }
  const data = allocate(resolveFloatDType('linspace', dtype), steps, 'linspace', [steps]);
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) data[i] = i === steps - 1 && steps > 1 ? end : start + i * delta;
  return untaint(finish('linspace', data, [steps], options));
}

/** An n×m matrix with ones on the diagonal (m defaults to n). @example eye(3) */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  checkOptions('eye', options, CREATE_OPTIONS);
  checkShape('eye', [n, m]);
  const data = allocate(resolveDType('eye', options.dtype), n * m, 'eye', [n, m]);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return untaint(finish('eye', data, [n, m], options));
}

/**
 * Uniform samples in [0, 1), from `seed`, `generator` or the global generator (`manualSeed`).
 * chainrule's generator is its own: a seed does not give PyTorch's numbers.
 * @throws ShapeError for a bad shape; DTypeError for an unknown dtype; ArgumentError for a non-finite seed.
 * @example rand([2, 3], { seed: 0 })
 */
export const rand = primitive('rand', { kind: 'random' }, function (shape: Shape, options: RandomOptions = {}): Tensor {
  checkOptions('rand', options, RANDOM_OPTIONS);
  checkShape('rand', shape);
  const g = resolveGenerator(options);
  const dtype = resolveFloatDType('rand', options.dtype);
  const data = allocate(dtype, sizeOf(shape), 'rand', shape);
  // NOTE: float32 storage rounds a draw within 2^-25 of 1 up to 1; capping at the largest
  // float32 below 1 keeps the range [0, 1) and leaves every other draw as it was.
  const top = dtype === 'float32' ? 1 - 2 ** -24 : 1;
  for (let i = 0; i < data.length; i++) data[i] = Math.min(g.uniform(), top);
  return finish('rand', data, shape, options);
});

/**
 * Standard normal samples (Box-Muller), drawn as `rand` draws.
 * @throws as `rand`.
 * @example randn([784, 128], { seed: 0, requiresGrad: true })
 */
export const randn = primitive('randn', { kind: 'random' }, function (shape: Shape, options: RandomOptions = {}): Tensor {
  checkOptions('randn', options, RANDOM_OPTIONS);
  checkShape('randn', shape);
  const g = resolveGenerator(options);
  const data = allocate(resolveFloatDType('randn', options.dtype), sizeOf(shape), 'randn', shape);
  for (let i = 0; i < data.length; i++) data[i] = g.normal();
  return finish('randn', data, shape, options);
});
