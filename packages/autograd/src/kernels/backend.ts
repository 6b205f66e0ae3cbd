import { ArgumentError } from '../errors.js';
import { environmentVariable } from './environment.js';
import { wasmAvailable } from './wasm/module.js';

/**
 * Which implementation the kernels use: 'js' forces the pure TypeScript kernels, 'wasm' the
 * WebAssembly SIMD ones at every size (an error where WebAssembly SIMD is missing), 'auto'
 * (the default) takes WebAssembly where it is available and the problem is big enough to pay
 * for copying the operands into its memory.
 */
export type KernelBackend = 'js' | 'wasm' | 'auto';

function isKernelBackend(x: unknown): x is KernelBackend {
  return x === 'js' || x === 'wasm' || x === 'auto';
}

/** `CHAINRULE_KERNELS=js|wasm|auto`, read once at load; there is no `process` in a browser. */
function fromEnvironment(): KernelBackend {
  const value = environmentVariable('CHAINRULE_KERNELS');
  if (value === undefined || value === '') return 'auto';
  if (!isKernelBackend(value)) {
    throw new ArgumentError(`CHAINRULE_KERNELS: expected 'js', 'wasm' or 'auto', got '${value}'`);
  }
  return value;
}

let current: KernelBackend = fromEnvironment();

/**
 * Chooses the kernel implementation for every later call.
 * @throws ArgumentError for another name, or for 'wasm' where WebAssembly SIMD is missing.
 * @example setKernelBackend('js'); // pure TypeScript kernels only
 */
export function setKernelBackend(backend: KernelBackend): void {
  if (!isKernelBackend(backend)) {
    throw new ArgumentError(`setKernelBackend: expected 'js', 'wasm' or 'auto', got ${String(backend)}`);
  }
  if (backend === 'wasm' && !wasmAvailable()) {
    throw new ArgumentError("setKernelBackend: 'wasm' needs WebAssembly with SIMD128, which this runtime lacks");
  }
  current = backend;
}

/**
 * The kernel implementation in force: 'js', 'wasm' or 'auto'.
 * @example kernelBackend(); // 'auto'
 */
export function kernelBackend(): KernelBackend {
  return current;
}

/**
 * Where each kernel's WebAssembly path pays under 'auto': from `min` (multiply-adds for gemm,
 * elements of the output or updated array for the others) and, for the loops that only stream
 * memory, up to `maxBytes` per array. Below `min` the copies into WebAssembly memory and the
 * call cost more than the vector loop saves; past `maxBytes` the copies in and out triple the
 * memory traffic of a loop that is bound by it. Measured alternating against the TypeScript
 * kernels (figures: bench/README.md).
 */
export const WASM_THRESHOLDS = {
  /** A call costs about 0.25 µs of fixed overhead, which 6³–8³ products and up earn back. */
  gemm: { min: 512 },
  /**
   * Multiply-adds of one image's product in a convolution (its taps × output channels × output
   * positions): past a small gemm's size, the columns built in WebAssembly memory save a copy.
   */
  conv: { min: 512 },
  /** Output elements of a dense max pooling: its loop branches on the data in TypeScript, not in WebAssembly. */
  maxPool: { min: 256 },
  /** Two divisions and a square root per element: the vector loop pays early. */
  adam: { min: 256 },
  axpy: { min: 1024 },
  /** A layer's [batch, features] gradient is well past it. */
  reluBackward: { min: 2048 },
  /**
   * Elements of a softmax (or its VJP) over contiguous rows: each takes a Math.exp call in
   * TypeScript (about 10 ns) against two float64 lanes of the same arithmetic in WebAssembly, so
   * a few rows pay for the call. Staged a chunk of rows at a time, so no size is too large.
   */
  softmax: { min: 256 },
  /** Elements of a layer norm (forward or backward): its loops are float64 arithmetic that runs in lanes there. */
  layerNorm: { min: 1024 },
  binary: { min: 1024, maxBytes: 4 << 20 },
  /**
   * Elements of one outer product of a batch: only its results cross into WebAssembly memory,
   * a product at a time, so no size is too large.
   */
  outer: { min: 1024 },
  unary: { min: 1024, maxBytes: 4 << 20 },
  /**
   * Elements of a fused float32 group run as a generated WebAssembly function (jit): it works a
   * chunk at a time in cache, so no size is too large. The benchmark's 10-op chain, against the
   * generated JavaScript loop (bench/micro/jit-fused-sizes.ts, CPU time, noisy): even at 16 and
   * 64 elements, 1.4× faster at 256, 2× at 1024.
   */
  fused: { min: 256 },
  /**
   * Elements a gather or scatter-add along an axis, or a whole-row select or add (indexSelect,
   * embedding and their gradients), moves (float storage): a gather of 64·64 broke even, of
   * 256·64 took 0.7 of the TypeScript loop's time. A gather's loops run a chunk of rows at a time,
   * so no size is too large; how much of the indexed array they copy in is weighed in
   * kernels/indexing.ts.
   */
  indexing: { min: 4096 },
  /** Sums over an axis that is not the last. */
  columnSums: { min: 1024, maxBytes: 4 << 20 },
  /**
   * Multiply-adds from which a compiled program's (jit's) 2-D product is shared with the helper
   * thread; below, it runs on the calling thread alone (eager products share from 64³,
   * helper-thread.ts). A program's products come back to back, each a few tens of µs at 64³,
   * and sharing one costs a hand-over and the helper's polling: on the PINN step (products of
   * 256·32·32 = 64³), one thread took half the CPU time and less wall time
   * (bench/micro/compiled-ab.ts with this at 2¹⁸ and 2¹⁹, noisy loaded machine).
   */
  compiledShared: { min: 1 << 19 },
} as const satisfies Record<string, { readonly min: number; readonly maxBytes?: number }>;

const SMALLEST_MIN = Math.min(...Object.values(WASM_THRESHOLDS).map((t) => t.min));

/** A kernel with a WebAssembly path. */
export type WasmKernel = keyof typeof WASM_THRESHOLDS;

/**
 * What a kernel does when its WebAssembly path declined (returned false): nothing where the
 * operands only did not fit WebAssembly memory (the TypeScript kernel takes them), but an
 * error naming the kernel when 'wasm' was chosen and this runtime has no WebAssembly SIMD.
 */
export function wasmDeclined(kernel: WasmKernel): void {
  if (current === 'wasm' && !wasmAvailable()) {
    throw new Error(`${kernel}: kernel backend 'wasm' was chosen, but this runtime lacks WebAssembly SIMD128`);
  }
}

/**
 * Whether `kernel` takes its WebAssembly path for a problem of `size` (as WASM_THRESHOLDS
 * counts it) whose largest array is `bytes` long: always under 'wasm', never under 'js', and
 * under 'auto' within the kernel's thresholds.
 * @example if (wantsWasm('unary', out.length, out.byteLength) && unaryWasm(op, x, out)) return;
 */
export function wantsWasm(kernel: WasmKernel, size: number, bytes = 0): boolean {
  if (current !== 'auto') return current === 'wasm';
  // Small problems (every op of a scalar-sized graph) answer before the table lookup.
  if (size < SMALLEST_MIN) return false;
  const limits: { readonly min: number; readonly maxBytes?: number } = WASM_THRESHOLDS[kernel];
  return size >= limits.min && (limits.maxBytes === undefined || bytes <= limits.maxBytes);
}
