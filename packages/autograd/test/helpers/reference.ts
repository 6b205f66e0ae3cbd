/**
 * Plain-loop references for elementwise ops. NumPy broadcasting is done by explicit index
 * mapping, written independently of the engine's kernels (no strides, no collapsed dims), so a
 * bug shared with the library cannot hide. Data is flat and row-major.
 */

/** Anything with flat data and a shape: a Tensor, or a plain reference result. */
export interface Flat {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** NumPy's rule: align shapes on the right; each pair of dims must match or one be 1. Null if not. */
export function broadcastShape(...shapes: (readonly number[])[]): number[] | null {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1; // missing leading dims count as 1
      if (d === 1) continue;
      if (dim !== 1 && dim !== d) return null;
      dim = d;
    }
    out.push(dim);
  }
  return out;
}

/** Number of elements of `shape`. */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Multi-index of flat position `flat` in a row-major array of `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return index;
}

/** Flat position of a multi-index. */
export function ravel(index: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + index[d]!;
  return flat;
}

/** The flat position, in an array of `shape`, that output multi-index `outIndex` reads when broadcast. */
export function sourceIndex(outIndex: readonly number[], shape: readonly number[]): number {
  const lead = outIndex.length - shape.length;
  let flat = 0;
  for (let d = 0; d < shape.length; d++) {
    const i = shape[d] === 1 ? 0 : outIndex[lead + d]!; // a size-1 dim repeats its one element
    flat = flat * shape[d]! + i;
  }
  return flat;
}

/** out[i] = f(inputs broadcast together, at i), in float64. Throws if the shapes do not broadcast. */
export function refBroadcast(inputs: readonly Flat[], f: (...values: number[]) => number): { data: Float64Array; shape: number[] } {
  const shape = broadcastShape(...inputs.map((t) => t.shape));
  if (shape === null) throw new Error(`reference: shapes ${JSON.stringify(inputs.map((t) => t.shape))} do not broadcast`);
  const data = new Float64Array(size(shape));
  for (let flat = 0; flat < data.length; flat++) {
    const index = unravel(flat, shape);
    data[flat] = f(...inputs.map((t) => t.data[sourceIndex(index, t.shape)]!));
  }
  return { data, shape };
}

/** out[i] = f(x[i]), in float64. */
export function refMap(x: Flat, f: (v: number) => number): Float64Array {
  return Float64Array.from(x.data, (v) => f(v));
}

/**
 * Asserts each float32 element is the float32 rounding of the float64 element (bit for bit,
 * NaN matching NaN): what computing in float64 and storing once gives.
 */
export function expectFloat32Rounding(actual32: ArrayLike<number>, exact64: ArrayLike<number>): void {
  for (let i = 0; i < exact64.length; i++) {
    const want = Math.fround(exact64[i]!);
    const got = actual32[i]!;
    if (!(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)))) {
      throw new Error(`expectFloat32Rounding: element ${i} is ${got}, expected fround(${exact64[i]}) = ${want}`);
    }
  }
}

/**
 * erf by its Maclaurin series 2/√π Σ (-1)ⁿ x^{2n+1} / (n!(2n+1)): the textbook definition,
 * deliberately not the library's algorithm. The alternating terms cancel as |x| grows, so it
 * is good to ~1e-15 absolute only for |x| ≤ 2; larger arguments are tested against published
 * values instead.
 */
export function refErf(x: number): number {
  if (Math.abs(x) > 2) throw new Error(`refErf: ${x} is outside [-2, 2], where the series is accurate`);
  let term = x; // (-1)ⁿ x^{2n+1} / n!
  let sum = x;
  for (let n = 1; n < 60; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** The message of the error `fn` throws, or '(no error)': for asserting on error texts. */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

/**
 * n deterministic values of varying sign and of magnitudes from 1e-3 to 1e3 (a different
 * sequence for each `stream`): operands of the in-place update kernels.
 */
export function spreadValues(dtype: 'float32' | 'float64', n: number, seed: number, stream: number): Float32Array | Float64Array {
  const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 3.7 + i * (stream + 0.61)) * 10 ** ((i % 7) - 3);
  return a;
}
