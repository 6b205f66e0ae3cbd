import type { FloatArray } from '../dtype.js';
import { kernelBackend, wantsWasm } from './backend.js';
import { gemmJs } from './gemm-js.js';
import { biasActivation } from './fused.js';
import { gemmWasm, wasmGemmAvailable } from './wasm/gemm-wasm.js';

/**
 * Below this many multiply-adds (m·n·k) the 'auto' backend stays in TypeScript: a call into
 * WebAssembly costs about 0.25 µs of fixed overhead (copies, views, the call itself), which
 * only the 6³–8³ products and up earn back (`node scripts/run.mjs bench/micro/gemm.ts --small`).
 */
const WASM_MIN_WORK = 512;

/**
 * C = op(A) · op(B), overwriting C. op(A) is m×k: A is stored m×k row-major, or k×m when
 * `transA` (read in place, never copied). op(B) is k×n: B is n×k when `transB`.
 * Operands start at the given offsets, so batched products need no copies.
 * NaN and Inf propagate as in the plain triple loop: no term is ever skipped.
 * The optional epilogue is a linear layer's: `bias` (n values) is added to every row of C, then
 * relu applied, in the same call (in WebAssembly, before C leaves its memory).
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOffset: number,
  b: FloatArray,
  bOffset: number,
  c: FloatArray,
  cOffset: number,
  bias: FloatArray | null = null,
  relu = false,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    c.fill(0, cOffset, cOffset + m * n);
    epilogueJs(m, n, c, cOffset, bias, relu);
    return;
  }
  if (wantsWasm(m * n * k, WASM_MIN_WORK)) {
    // gemmWasm declines (returns false) where WebAssembly SIMD is missing or the operands
    // would not fit its 2 GiB of memory; only the former is an error when 'wasm' is forced.
    if (gemmWasm(transA, transB, m, n, k, a, aOffset, b, bOffset, c, cOffset, bias, relu)) return;
    if (kernelBackend() === 'wasm' && !wasmGemmAvailable()) {
      throw new Error("gemm: kernel backend 'wasm' was chosen, but this runtime lacks WebAssembly SIMD128");
    }
  }
  gemmJs(transA, transB, m, n, k, a, aOffset, b, bOffset, c, cOffset);
  epilogueJs(m, n, c, cOffset, bias, relu);
}

function epilogueJs(m: number, n: number, c: FloatArray, cOffset: number, bias: FloatArray | null, relu: boolean): void {
  if (bias === null && !relu) return;
  biasActivation(cOffset === 0 && c.length === m * n ? c : c.subarray(cOffset, cOffset + m * n), m, n, bias, relu);
}
