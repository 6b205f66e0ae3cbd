import type { FloatArray } from '../../dtype.js';
import { GEMM_WASM_BLOCKING, GEMM_WASM_RELAXED, GEMM_WASM_SIMD128 } from './gemm-wasm.generated.js';

/**
 * Loader and driver of the WebAssembly SIMD gemm (source: scripts/gemm-wat.ts). The module is
 * a few kilobytes, so it compiles synchronously (`new WebAssembly.Module`) on first use and
 * `gemm` stays synchronous. Operands are copied into its memory (O(mk + kn + mn) against
 * O(mnk) work), which is why `gemm` only takes this path above a size threshold.
 */

interface GemmExports {
  readonly memory: WebAssembly.Memory;
  readonly gemm_f32: GemmEntry;
  readonly gemm_f64: GemmEntry;
  readonly bias_act_f32: EpilogueEntry;
  readonly bias_act_f64: EpilogueEntry;
  readonly relu_backward_f32: ReluBackwardEntry;
  readonly relu_backward_f64: ReluBackwardEntry;
  readonly axpy_f32: AxpyEntry;
  readonly axpy_f64: AxpyEntry;
}

/** g ← g·[y > 0] in place over rows×n; flags bit 0 also sums columns into n f64 at acc. */
type ReluBackwardEntry = (g: number, y: number, rows: number, n: number, acc: number, flags: number) => void;

/** y ← y + α·x over n elements at byte addresses y and x. */
type AxpyEntry = (y: number, x: number, n: number, alpha: number) => void;

/** C[r, j] = act(C[r, j] + bias[j]) in place; flags: 1 adds the bias, 2 applies relu. */
type EpilogueEntry = (c: number, m: number, n: number, bias: number, flags: number) => void;

type GemmEntry = (
  transA: number, transB: number, m: number, n: number, k: number,
  a: number, b: number, c: number, packA: number, packB: number, tile: number,
) => void;

/** Which build was loaded: relaxed-SIMD FMA where the runtime validates it, else SIMD128. */
export type WasmGemmFlavour = 'relaxed-simd' | 'simd128';

interface Loaded {
  readonly exports: GemmExports;
  readonly flavour: WasmGemmFlavour;
}

/** undefined: not tried yet; null: unavailable. */
let loaded: Loaded | null | undefined;
let f32View = new Float32Array(0);
let f64View = new Float64Array(0);

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function load(): Loaded | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
  try {
    for (const [flavour, text] of [['relaxed-simd', GEMM_WASM_RELAXED], ['simd128', GEMM_WASM_SIMD128]] as const) {
      const bytes = decodeBase64(text);
      if (!WebAssembly.validate(bytes)) continue;
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      loaded = { exports: instance.exports as unknown as GemmExports, flavour };
      break;
    }
  } catch {
    // A runtime that validates the module but refuses to compile it (e.g. a CSP without
    // 'wasm-unsafe-eval'): the TypeScript kernels take over.
    loaded = null;
  }
  return loaded;
}

/**
 * Whether the WebAssembly SIMD gemm can run here (compiles it on first call).
 * @example if (wasmGemmAvailable()) setKernelBackend('wasm');
 */
export function wasmGemmAvailable(): boolean {
  return load() !== null;
}

/**
 * The build in use, or null where WebAssembly SIMD is missing.
 * @example wasmGemmFlavour(); // 'simd128' in Node 20 without --experimental-wasm-relaxed-simd
 */
export function wasmGemmFlavour(): WasmGemmFlavour | null {
  return load()?.flavour ?? null;
}

/** Rounds up to a cache line (arithmetic, not bit masks: sizes may pass 2³¹ before the check). */
const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Largest linear memory the driver asks for: byte addresses are i32, kept below 2 GiB. */
const MAX_BYTES = 2 ** 31 - 65536;

/**
 * C = op(A)·op(B) in WebAssembly; same contract as `gemm`, m, n, k ≥ 1, including the optional
 * epilogue (a bias of n values added to every row, then relu), applied while C is still in
 * WebAssembly memory. Returns false, having done nothing, where WebAssembly SIMD is missing or
 * the operands do not fit its memory.
 * @example if (!gemmWasm(false, false, 2, 2, 2, a, 0, b, 0, c, 0)) gemmJs(...);
 */
export function gemmWasm(
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
): boolean {
  const module = load();
  if (module === null) return false;
  const f32 = c instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const blocking = f32 ? GEMM_WASM_BLOCKING.f32 : GEMM_WASM_BLOCKING.f64;
  const kc = Math.min(k, blocking.kc);
  // Layout (bytes): edge tile | packed A block | packed B block | A | B | C | bias.
  const tile = 0;
  const packA = align(blocking.mr * blocking.nr * size);
  const packB = packA + align(Math.min(roundUp(m, blocking.mr), blocking.mc) * kc * size);
  const aAt = packB + align(Math.min(roundUp(n, blocking.nr), blocking.nc) * kc * size);
  const bAt = aAt + align(m * k * size);
  const cAt = bAt + align(k * n * size);
  const biasAt = cAt + align(m * n * size);
  const end = biasAt + (bias === null ? 0 : n * size);
  if (!reserve(module, end)) return false;
  const view = f32 ? f32View : f64View;
  // NOTE: subarray makes a view, not a copy; `set` then copies with memcpy.
  view.set(aOffset === 0 && a.length === m * k ? a : a.subarray(aOffset, aOffset + m * k), aAt / size);
  view.set(bOffset === 0 && b.length === k * n ? b : b.subarray(bOffset, bOffset + k * n), bAt / size);
  const entry = f32 ? module.exports.gemm_f32 : module.exports.gemm_f64;
  entry(transA ? 1 : 0, transB ? 1 : 0, m, n, k, aAt, bAt, cAt, packA, packB, tile);
  if (bias !== null || relu) {
    if (bias !== null) view.set(bias.length === n ? bias : bias.subarray(0, n), biasAt / size);
    const epilogue = f32 ? module.exports.bias_act_f32 : module.exports.bias_act_f64;
    epilogue(cAt, m, n, biasAt, (bias === null ? 0 : 1) | (relu ? 2 : 0));
  }
  c.set(view.subarray(cAt / size, cAt / size + m * n), cOffset);
  return true;
}

/**
 * Makes the memory at least `end` bytes; false if it cannot (over 2 GiB, or out of memory: the
 * caller falls back to the TypeScript kernel). Grow-only: the memory keeps its largest size for
 * later calls. Only this code grows it (the module has no memory.grow), so the views stay valid
 * until the next grow here.
 */
function reserve(module: Loaded, end: number): boolean {
  if (end > MAX_BYTES) return false;
  if (end <= f32View.byteLength) return true;
  const { memory } = module.exports;
  try {
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  } catch {
    return false;
  }
  f32View = new Float32Array(memory.buffer);
  f64View = new Float64Array(memory.buffer);
  return true;
}

/**
 * y ← y + α·x in WebAssembly (y and x of one dtype and length), computed in float64 and rounded
 * once per element, as the TypeScript loop: the same bits. Returns false, having done nothing,
 * where WebAssembly SIMD is missing or the arrays do not fit its memory. Both are copied in and
 * y back out; the vector loop still makes it about 2.5× the speed of a scalar loop for large n.
 * @example if (!axpyWasm(w, -lr, g)) axpyJs(w, -lr, g);
 */
export function axpyWasm(y: FloatArray, alpha: number, x: FloatArray): boolean {
  const module = load();
  if (module === null) return false;
  const f32 = y instanceof Float32Array;
  const n = y.length;
  const size = f32 ? 4 : 8;
  const xAt = align(n * size);
  if (!reserve(module, xAt + n * size)) return false;
  const view = f32 ? f32View : f64View;
  view.set(y, 0);
  view.set(x, xAt / size);
  (f32 ? module.exports.axpy_f32 : module.exports.axpy_f64)(0, xAt, n, alpha);
  y.set(view.subarray(0, n));
  return true;
}

/**
 * out = g·[y > 0] over [rows, n] (relu's VJP from its output) and, when `sums` is given, its
 * column sums, in WebAssembly: the same bits as the TypeScript kernel (sums in float64, row by
 * row). Returns false, having done nothing, where WebAssembly SIMD is missing or the arrays do
 * not fit its memory.
 * @example if (!reluBackwardWasm(g, y, 64, 128, dh, db)) reluBackwardJs(...);
 */
export function reluBackwardWasm(g: FloatArray, y: FloatArray, rows: number, n: number, out: FloatArray, sums: FloatArray | null): boolean {
  const module = load();
  if (module === null) return false;
  const f32 = out instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const length = rows * n;
  const yAt = align(length * size);
  const accAt = yAt + align(length * size);
  if (!reserve(module, accAt + n * 8)) return false;
  const view = f32 ? f32View : f64View;
  view.set(g.length === length ? g : g.subarray(0, length), 0);
  view.set(y.length === length ? y : y.subarray(0, length), yAt / size);
  (f32 ? module.exports.relu_backward_f32 : module.exports.relu_backward_f64)(0, yAt, rows, n, accAt, sums === null ? 0 : 1);
  out.set(view.subarray(0, length));
  // Float64 sums into the caller's dtype: one rounding each, as the TypeScript kernel's set().
  if (sums !== null) sums.set(f64View.subarray(accAt / 8, accAt / 8 + n));
  return true;
}

function roundUp(x: number, multiple: number): number {
  return Math.ceil(x / multiple) * multiple;
}
