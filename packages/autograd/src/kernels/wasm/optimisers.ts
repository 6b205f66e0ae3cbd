import type { FloatArray } from '../../dtype.js';
import type { AdamStep } from '../adam.js';
import { copyIn, copyInOut, staged } from './memory.js';

/**
 * Drivers of the optimiser-step WebAssembly kernels (source: scripts/wasm/optimisers.ts). Each
 * updates its arrays in place with the same bits as its TypeScript loop and returns false,
 * having done nothing, where WebAssembly SIMD is missing or the arrays do not fit its memory.
 */

/**
 * y ← β·y + α·x in WebAssembly (y and x of one dtype and length), computed in float64 and
 * rounded once per element.
 * @example if (!axpyWasm(w, -lr, g)) axpyJs(w, -lr, g);
 */
export function axpyWasm(y: FloatArray, alpha: number, x: FloatArray, beta = 1): boolean {
  const n = y.length;
  return staged(y instanceof Float32Array, [copyInOut(y, n), copyIn(x, n)], (kernels, at) =>
    kernels.axpy(at[0]!, at[1]!, n, alpha, beta),
  );
}

/**
 * One Adam step in place over x (the parameter), m and v (the moment averages) from g, in
 * WebAssembly. Also false for a step with an L2 term, which the WebAssembly loop lacks.
 * @example if (!adamWasm(x, g, m, v, step)) adamJs(x, g, m, v, null, step);
 */
export function adamWasm(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, step: AdamStep): boolean {
  if (step.l2 !== 0) return false;
  const n = x.length;
  const regions = [copyInOut(x, n), copyIn(g, n), copyInOut(m, n), copyInOut(v, n)];
  const { beta1, beta2, stepSize, biasCorrection2Sqrt, eps, decay, maximize } = step;
  return staged(x instanceof Float32Array, regions, (kernels, at) =>
    kernels.adam(at[0]!, at[1]!, at[2]!, at[3]!, n, beta1, 1 - beta1, beta2, 1 - beta2, stepSize, biasCorrection2Sqrt, eps, decay, maximize ? -1 : 1),
  );
}
