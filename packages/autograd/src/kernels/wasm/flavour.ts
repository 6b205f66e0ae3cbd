/**
 * Which WebAssembly build runs: the one part of the loader that is public API. It lives apart from
 * module.ts so that the package's declarations never reach module.ts's `WebAssembly.Module` and
 * `WebAssembly.Memory`: a project whose `lib` has no DOM (a Node project with @types/node) has no
 * `WebAssembly` namespace, and its type-check would fail inside our .d.ts files.
 */
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
