/**
 * The WebAssembly layer's public face: which build runs, and how many threads a product uses.
 * index.ts exports these from here rather than from module.ts and helper-thread.ts so that the
 * published declarations never reach those files' `WebAssembly.Module` and `WebAssembly.Memory`:
 * a project whose `lib` has no DOM (a Node project with @types/node) has no `WebAssembly`
 * namespace, and its type-check would fail inside our .d.ts files.
 */
import { kernelThreads as threadsInUse, setKernelThreads as setThreads } from './helper-thread.js';
import { loadKernels } from './module.js';

/** Which build was loaded: relaxed-SIMD FMA where the runtime validates it, else SIMD128. */
export type WasmGemmFlavour = 'relaxed-simd' | 'simd128';

/**
 * The build in use, or null where WebAssembly SIMD is missing.
 * @example wasmGemmFlavour(); // 'simd128' in Node 20 without --experimental-wasm-relaxed-simd
 */
export function wasmGemmFlavour(): WasmGemmFlavour | null {
  return loadKernels()?.flavour ?? null;
}

/**
 * Sets how many threads a large WebAssembly product may use: 1 (the calling thread only) or 2
 * (the caller and a helper thread over shared memory; Node only, as browsers need a worker
 * script of their own). Results are the same bits either way: each element gets the same
 * arithmetic however the product is cut. The default is 2 where Node reports 2+ cores;
 * `CHAINRULE_THREADS=1|2` sets it at load.
 * @throws ArgumentError for any count but 1 or 2.
 * @example setKernelThreads(1); // keep the second core for something else
 */
export function setKernelThreads(count: 1 | 2): void {
  setThreads(count);
}

/**
 * How many threads a large product uses now: 2 once the helper (started by the first product
 * of 64³ multiply-adds or more) is running, else 1. Asking starts nothing.
 * @example kernelThreads(); // 2 in Node on a 2-core machine, after the first large product
 */
export function kernelThreads(): 1 | 2 {
  return threadsInUse();
}
