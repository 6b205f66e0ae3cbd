import type { FloatArray } from '../../dtype.js';
import { JOB_BYTES, MAX_PAGES } from './layout.js';
import { DATA_START, type DtypeKernels, type Kernels, loadKernels } from './module.js';

/**
 * The kernels' linear memory seen from TypeScript, and the one shape every WebAssembly kernel
 * call takes: copy the operands in, call, copy the results out (`staged`). The copies cost
 * O(size) against the kernel's own O(size) or O(mnk) work, which is why each kernel takes
 * this path only within the sizes of WASM_THRESHOLDS (kernels/backend.ts).
 */

let f32View = new Float32Array(0);
let f64View = new Float64Array(0);
/** The job record's words (see layout.ts). */
let jobWords = new Int32Array(0);

/** Largest linear memory asked for: byte addresses are i32, kept below 2 GiB. */
const MAX_BYTES = MAX_PAGES * 65536;

/** Rounds up to a cache line (arithmetic, not bit masks: sizes may pass 2³¹ before the check). */
const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/**
 * The kernels with their memory at least `end` bytes, or null where WebAssembly SIMD is missing
 * or the memory cannot grow that far (the caller then takes its TypeScript kernel). The views
 * here are valid until the next call that grows the memory.
 */
export function kernelsWithMemory(end = DATA_START): Kernels | null {
  const kernels = loadKernels();
  return kernels !== null && reserve(kernels.memory, end) ? kernels : null;
}

/**
 * Makes the memory at least `end` bytes; false if it cannot (over 2 GiB, or out of memory).
 * Grow-only: the memory keeps its largest size for later calls. Only this code grows it (the
 * module has no memory.grow), so the views stay valid until the next grow here.
 */
function reserve(memory: WebAssembly.Memory, end: number): boolean {
  if (end > MAX_BYTES) return false;
  if (end <= f32View.byteLength) return true;
  try {
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  } catch {
    return false;
  }
  f32View = new Float32Array(memory.buffer);
  f64View = new Float64Array(memory.buffer);
  jobWords = new Int32Array(memory.buffer, 0, JOB_BYTES / 4);
  return true;
}

/** The job record's words; empty until the kernels have been loaded by a call here. */
export function jobRecord(): Int32Array {
  return jobWords;
}

/** One array's place in WebAssembly memory for a `staged` call. */
export interface Region {
  /** Elements it holds: of the call's dtype, or float64 when `float64` is set. */
  readonly length: number;
  /** Copied in before the call: `length` elements from `inputOffset` (default 0). */
  readonly input?: FloatArray | null;
  readonly inputOffset?: number;
  /** Receives the region's `length` elements after the call, from `outputOffset` on (default 0). */
  readonly output?: FloatArray | null;
  readonly outputOffset?: number;
  /** Float64 whatever the call's dtype: sums the kernels accumulate in float64. */
  readonly float64?: boolean;
}

/**
 * Runs one WebAssembly kernel call: places `regions` one after another from the first free
 * byte (each on a cache line), copies their inputs in, calls `run` with the kernels of the
 * dtype (`f32` or float64) and each region's byte address, then copies the outputs out
 * (float64 regions into an output of either dtype: one rounding each, as a TypeScript
 * kernel's `set`). Returns false, having done nothing, where WebAssembly SIMD is missing or
 * the regions do not fit its memory: the caller then takes its TypeScript kernel.
 * @example staged(true, [{ length: n, input: x }, { length: n, output: out }], (k, at) => k.unary(op, at[0]!, at[1]!, n));
 */
export function staged(
  f32: boolean,
  regions: readonly Region[],
  run: (dtype: DtypeKernels, at: readonly number[], kernels: Kernels) => void,
): boolean {
  const size = f32 ? 4 : 8;
  const at: number[] = [];
  let end = DATA_START;
  for (const region of regions) {
    end = align(end);
    at.push(end);
    end += region.length * (region.float64 === true ? 8 : size);
  }
  const kernels = kernelsWithMemory(end);
  if (kernels === null) return false;
  for (let i = 0; i < regions.length; i++) {
    const { input, length, inputOffset = 0, float64 } = regions[i]!;
    if (input === undefined || input === null) continue;
    // NOTE: subarray makes a view, not a copy; `set` then copies with memcpy.
    const source = inputOffset === 0 && input.length === length ? input : input.subarray(inputOffset, inputOffset + length);
    if (f32 && float64 !== true) f32View.set(source, at[i]! / 4);
    else f64View.set(source, at[i]! / 8);
  }
  run(f32 ? kernels.f32 : kernels.f64, at, kernels);
  for (let i = 0; i < regions.length; i++) {
    const { output, length, outputOffset = 0, float64 } = regions[i]!;
    if (output === undefined || output === null) continue;
    const start = at[i]! / (f32 && float64 !== true ? 4 : 8);
    output.set((f32 && float64 !== true ? f32View : f64View).subarray(start, start + length), outputOffset);
  }
  return true;
}
