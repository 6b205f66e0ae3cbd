import type { FloatArray } from '../dtype.js';
import { wantsWasm } from './backend.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { adamWasm } from './wasm/optimisers.js';

/** The numbers of one Adam step (see `adamUpdate`). */
export interface AdamStep {
  /** Decay rate β1 of the first-moment average. */
  readonly beta1: number;
  /** Decay rate β2 of the second-moment average. */
  readonly beta2: number;
  /** lr / (1 − β1ᵗ). */
  readonly stepSize: number;
  /** √(1 − β2ᵗ). */
  readonly biasCorrection2Sqrt: number;
  /** Added to the denominator after the bias-corrected square root. */
  readonly eps: number;
  /** θ's factor before the step: 1, or AdamW's 1 − lr·λ. */
  readonly decay: number;
  /** Adam's L2 penalty λ, added to the gradient as λ·θ (0: none). */
  readonly l2: number;
  /** Ascend: the gradient's sign flipped. */
  readonly maximize: boolean;
}

interface AdamKernels {
  adam(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, step: AdamStep): void;
}

/**
 * The TypeScript step, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function adamKernels(): AdamKernels {
  function adam(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, step: AdamStep): void {
    const { beta1: b1, beta2: b2, stepSize, biasCorrection2Sqrt: bc2, eps, decay, l2 } = step;
    const sign = step.maximize ? -1 : 1;
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const n = x.length;
    // A pass of its own: the decayed θ is rounded to the storage dtype before the step reads it.
    if (decay !== 1) for (let i = 0; i < n; i++) x[i] = x[i]! * decay;
    for (let i = 0; i < n; i++) {
      let gi = sign * g[i]!;
      if (l2 !== 0) gi += l2 * x[i]!;
      m[i] = b1 * m[i]! + c1 * gi;
      v[i] = b2 * v[i]! + c2 * gi * gi;
      // The moments are read back, so float32 storage steps with exactly the stored state.
      let second = v[i]!;
      if (vMax !== null) {
        if (second > vMax[i]!) vMax[i] = second;
        second = vMax[i]!;
      }
      x[i] = x[i]! - (stepSize * m[i]!) / (Math.sqrt(second) / bc2 + eps);
    }
  }
  return { adam };
}

const kernels = perDtype(adamKernels, [], (k: AdamKernels, make: Allocator) => {
  const x = make(2), g = make(2), m = make(2), v = make(2);
  x.set([1, -1]);
  g.set([2, -2]);
  k.adam(x, g, m, v, null, { beta1: 0.5, beta2: 0.75, stepSize: 1, biasCorrection2Sqrt: 1, eps: 0, decay: 1, l2: 0, maximize: false });
  // m = ±1, v = 1: x moves by ∓1.
  return holds(m, [1, -1]) && holds(v, [1, 1]) && holds(x, [0, 0]);
});

/** The TypeScript step alone, whatever the backend (for tests). */
export function adamJs(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, step: AdamStep): void {
  kernels(x).adam(x, g, m, v, vMax, step);
}

/**
 * One Adam step in place (see `adamUpdate`). Long arrays take the WebAssembly loop, which has
 * the common case only: no amsgrad maximum, no L2 term.
 */
export function adamKernel(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null, step: AdamStep): void {
  if (vMax === null && wantsWasm('adam', x.length) && adamWasm(x, g, m, v, step)) return;
  adamJs(x, g, m, v, vMax, step);
}
