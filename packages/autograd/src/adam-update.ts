import { ArgumentError, DTypeError, ShapeError } from './errors.js';
import type { FloatArray } from './dtype.js';
import { adamKernel, type AdamStep } from './kernels/adam.js';
import { bumpVersion } from './engine/versions.js';

export type { AdamStep };

/**
 * One Adam step in place over a parameter's storage `x`, its moment averages `m` and `v` and,
 * for amsgrad, the running maximum `vMax` of v, from the gradient `g` (all of one dtype and
 * length): x ← x·decay; g' = ∓g + l2·x (− with maximize); m ← β1·m + (1−β1)·g';
 * v ← β2·v + (1−β2)·g'²; v̂ = v, or vMax ← max(vMax, v) and v̂ = vMax;
 * x ← x − stepSize·m / (√v̂ / biasCorrection2Sqrt + eps). That is torch.optim.Adam's update
 * (AdamW's decoupled decay is `decay` = 1 − lr·λ with l2 = 0), with stepSize = lr / (1 − β1ᵗ)
 * and biasCorrection2Sqrt = √(1 − β2ᵗ). Each value is computed in float64 and rounded once to
 * the dtype; the same bits on every kernel backend. Long arrays without amsgrad or an L2 term
 * take a WebAssembly vector loop. Bumps the versions of the storages it writes (x, m, v, vMax),
 * so a backward that needs x's old values refuses to run (see `Tensor.version`).
 * @throws DTypeError unless every array is float storage of x's dtype.
 * @throws ShapeError if an array's length differs from x's.
 * @throws ArgumentError if a step field is not a finite number, or `maximize` not a boolean.
 * @example adamUpdate(p.data, p.grad!.data, m, v, { beta1: 0.9, beta2: 0.999, stepSize, biasCorrection2Sqrt, eps: 1e-8, decay: 1, l2: 0, maximize: false })
 */
export function adamUpdate(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, step: AdamStep, vMax: FloatArray | null = null): void {
  const arrays = vMax === null ? { x, g, m, v } : { x, g, m, v, vMax };
  const is32 = x instanceof Float32Array;
  for (const [name, a] of Object.entries(arrays)) {
    if (!(a instanceof Float32Array || a instanceof Float64Array)) {
      throw new DTypeError(`adamUpdate: ${name} must be a Float32Array or Float64Array (a tensor's .data)`);
    }
    if (a instanceof Float32Array !== is32) {
      throw new DTypeError(`adamUpdate: x is ${is32 ? 'float32' : 'float64'} but ${name} is ${is32 ? 'float64' : 'float32'}`);
    }
    if (a.length !== x.length) throw new ShapeError(`adamUpdate: x holds ${x.length} elements but ${name} holds ${a.length}`);
  }
  for (const key of ['beta1', 'beta2', 'stepSize', 'biasCorrection2Sqrt', 'eps', 'decay', 'l2'] as const) {
    const value: unknown = step?.[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ArgumentError(`adamUpdate: step.${key} must be a finite number, got ${String(value)}`);
    }
  }
  if (typeof step.maximize !== 'boolean') throw new ArgumentError(`adamUpdate: step.maximize must be a boolean, got ${String(step.maximize)}`);
  adamKernel(x, g, m, v, vMax, step);
  bumpVersion(x);
  bumpVersion(m);
  bumpVersion(v);
  if (vMax !== null) bumpVersion(vMax);
}
