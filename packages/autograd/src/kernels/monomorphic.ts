import type { FloatArray } from '../dtype.js';

/**
 * Per-dtype copies of kernels. V8 keeps type feedback per function, and closures made from one
 * function literal share it: a loop fed both Float32Array and Float64Array goes polymorphic and
 * runs at about half speed (bench/README.md). So each dtype gets a private copy of the kernel,
 * compiled from the kernel's own source text.
 *
 * NOTE: a function cloned this way must be self-contained: no imports, no module constants, no
 * helpers outside its own text (a factory takes what it needs as arguments instead).
 */

/**
 * A private copy of `fn`, or `fn` itself where the copy cannot be made or fails `works`: where
 * code generation is not allowed (a browser CSP without 'unsafe-eval') or the source text is
 * not self-contained (an instrumenting coverage tool). Correct everywhere, only slower when
 * one function serves both dtypes.
 * @example const f32Kernel = monomorphic(kernel, (k) => k(1, 2) === 3);
 */
export function monomorphic<F extends (...args: never[]) => unknown>(fn: F, works: (clone: F) => boolean): F {
  try {
    const clone = new Function(`return (${fn.toString()});`)() as F;
    return works(clone) ? clone : fn;
  } catch {
    return fn;
  }
}

/** Allocates storage of one dtype; what the self-tests of per-dtype kernels build their inputs with. */
export type Allocator = (size: number) => FloatArray;

const makeF32: Allocator = (size) => new Float32Array(size);
const makeF64: Allocator = (size) => new Float64Array(size);

/**
 * The kernels a `factory` makes, one copy of the factory per dtype, built on first use. `works`
 * runs a small case through a copy's kernels (inputs made with `make`) and says whether the
 * results are right; a copy that fails or throws is replaced by the shared factory.
 * @example const kernels = perDtype(binaryKernels, [], check); kernels(out).zip('add', ...)
 */
export function perDtype<K, D extends readonly unknown[]>(
  factory: (...deps: D) => K,
  deps: D,
  works: (kernels: K, make: Allocator) => boolean,
): { (data: FloatArray): K; isMonomorphic(): boolean } {
  let f32: K | undefined;
  let f64: K | undefined;
  let shared = false;
  const build = (make: Allocator): K => {
    const chosen = monomorphic(factory, (clone) => works(clone(...deps), make));
    if (chosen === factory) shared = true;
    return chosen(...deps);
  };
  const forData = (data: FloatArray): K => (data instanceof Float32Array ? (f32 ??= build(makeF32)) : (f64 ??= build(makeF64)));
  forData.isMonomorphic = (): boolean => {
    f32 ??= build(makeF32);
    f64 ??= build(makeF64);
    return !shared;
  };
  return forData;
}

/** Whether `actual` holds exactly `expected`: for the self-tests of per-dtype kernels. */
export function holds(actual: FloatArray, expected: readonly number[]): boolean {
  if (actual.length < expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) return false;
  return true;
}
