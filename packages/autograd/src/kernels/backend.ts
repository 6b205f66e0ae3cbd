import { environmentVariable } from './environment.js';
import { wasmGemmAvailable } from './wasm/gemm-wasm.js';

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
    throw new RangeError(`CHAINRULE_KERNELS: expected 'js', 'wasm' or 'auto', got '${value}'`);
  }
  return value;
}

let current: KernelBackend = fromEnvironment();

/**
 * Chooses the kernel implementation for every later call.
 * @example setKernelBackend('js'); // pure TypeScript kernels only
 */
export function setKernelBackend(backend: KernelBackend): void {
  if (!isKernelBackend(backend)) {
    throw new RangeError(`setKernelBackend: expected 'js', 'wasm' or 'auto', got ${String(backend)}`);
  }
  if (backend === 'wasm' && !wasmGemmAvailable()) {
    throw new RangeError("setKernelBackend: 'wasm' needs WebAssembly with SIMD128, which this runtime lacks");
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
 * Whether a kernel over `length` elements takes its WebAssembly path: always under 'wasm'; under
 * 'auto' from `minLength` on (below it the copies into WebAssembly memory cost more than the
 * vector loop saves) up to `maxLength` (past it, for loops that only stream memory, the copies
 * cost more again); never under 'js'.
 */
export function wantsWasm(length: number, minLength: number, maxLength = Infinity): boolean {
  return current === 'wasm' || (current === 'auto' && length >= minLength && length <= maxLength);
}
