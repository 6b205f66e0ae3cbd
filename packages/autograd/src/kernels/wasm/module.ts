import { WASM_GEMM_BLOCKING, WASM_KERNELS_RELAXED, WASM_KERNELS_SIMD128 } from './kernels.generated.js';
import { CALLER_JOB_AT, dataStart, JOB_BYTES, MAX_PAGES, scratchLayout } from './layout.js';
import type { WasmGemmFlavour } from './settings.js';

/**
 * Loading the WebAssembly kernels module (source: scripts/wasm/). It is a few kilobytes, so it
 * compiles synchronously (`new WebAssembly.Module`) on first use and every kernel stays
 * synchronous. It runs as two instances of one build: the main one over shared memory, where
 * the runtime allows (the helper thread's and the arena's), and a local one over unshared memory
 * (`loadLocalKernels`), made at the first call that takes it. Nothing here copies data or runs a
 * kernel: see memory.ts for staging and for which instance a call takes, and the drivers
 * gemm.ts, elementwise.ts and optimisers.ts.
 */

/** The threads' scratch areas, as the module's gemm was built to use them. */
export const SCRATCH = scratchLayout(WASM_GEMM_BLOCKING);
/** First byte of the operands, past the job record and the threads' scratch areas. */
export const DATA_START = dataStart(SCRATCH);

/** One dtype's kernels; byte addresses into the module's memory, sizes in elements. */
export interface DtypeKernels {
  /** Does slabs of the job at byte address `job` with the scratch area at `scratch` until none is left. */
  readonly gemm: (job: number, scratch: number) => void;
  /** C[r, j] = act(C[r, j] + bias[j]) in place; flags: 1 adds the bias, 2 applies relu. */
  readonly biasActivation: (c: number, m: number, n: number, bias: number, flags: number) => void;
  /** g ← g·[y > 0] in place over rows×n; flags bit 0 also sums columns into n f64 at acc. */
  readonly reluBackward: (g: number, y: number, rows: number, n: number, acc: number, flags: number) => void;
  /** y ← β·y + α·x over n elements. */
  readonly axpy: (y: number, x: number, n: number, alpha: number, beta: number) => void;
  /**
   * out = a op b over rows×n elements; sa, sb: 1 to walk the row, 0 for one value per row
   * (splatted at slot, slot + 16); ra, rb: bytes from one row of the operand to the next.
   */
  readonly binary: (op: number, a: number, sa: number, ra: number, b: number, sb: number, rb: number, out: number, n: number, rows: number, slot: number) => void;
  /** out = f(x) over n elements. */
  readonly unary: (op: number, x: number, out: number, n: number) => void;
  /** For each of `outer` blocks of rows×n elements at x, the n column sums into f64 values at acc. */
  readonly columnSums: (x: number, outer: number, rows: number, n: number, acc: number) => void;
  /** One Adam step in place over n elements at x, g, m, v. */
  readonly adam: (
    x: number, g: number, m: number, v: number, n: number,
    b1: number, c1: number, b2: number, c2: number, stepSize: number, bc2: number, eps: number, decay: number, sign: number,
  ) => void;
  /** out[i, j] = a[i]·c[j] over rows×k elements: the rows of one outer product. */
  readonly outer: (a: number, c: number, out: number, rows: number, k: number) => void;
  /**
   * Takes images of the convolution job at byte address `job` (layout.ts's CONV_JOB) until none is
   * left, as thread `thread` (0: the caller, 1: the helper), with the scratch area at `scratch`.
   */
  readonly convImages: (job: number, scratch: number, thread: number) => void;
  /** Each kh×kw window's maximum (stride sh×sw, no padding, clipped at the edges) and its i32 index in its plane, over `planes` planes h×w. */
  readonly maxPool: (x: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, oh: number, ow: number, out: number, argmax: number) => void;
  /** Softmax of each of `rows` contiguous rows of n ≥ 1 elements at x into out; safe 1 gives a row of -Infinity 0s. */
  readonly softmax: (x: number, out: number, rows: number, n: number, safe: number) => void;
  /** out = y ⊙ (g - Σ g ⊙ y) per contiguous row of n ≥ 1 elements: softmax's VJP from its output y. */
  readonly softmaxBackward: (g: number, y: number, out: number, rows: number, n: number) => void;
  /** Layer norm of `rows` rows of d ≥ 1 at x into y, μ and 1/σ per row into f64 at stats; flags: 1 applies w, 2 adds b. */
  readonly layerNorm: (x: number, rows: number, d: number, eps: number, w: number, b: number, flags: number, y: number, stats: number) => void;
  /** Its VJP from the stats: flags 1 reads w, 2 writes dx, 4 and 8 add the rows' dw and db into f64 values. */
  readonly layerNormBackward: (x: number, g: number, rows: number, d: number, w: number, stats: number, dx: number, dw: number, db: number, flags: number) => void;
  /**
   * out[p] = x[bases[r] + j·inner + index[p]·sa] over `rows` rows of `last` (bases and index i32,
   * offsets and strides in elements, x the address of offset 0); -1 at the first index outside [0, n), else 0.
   */
  readonly gatherRows: (x: number, bases: number, rows: number, last: number, inner: number, sa: number, index: number, n: number, out: number) => number;
  /** The placement of gatherRows: x[bases[r] + j·inner + index[p]·sa] += src[p], in order; -1 at the first bad index, else 0. */
  readonly scatterAddRows: (x: number, bases: number, rows: number, last: number, inner: number, sa: number, index: number, n: number, src: number) => number;
  /** out[k, :] = x[index[k], :] for k < m over rows of `inner` elements of x's n; -1 at the first index outside [0, n), else 0. */
  readonly selectRows: (x: number, n: number, index: number, m: number, inner: number, out: number) => number;
  /** x[index[k], :] += src[k, :] for k < m in order; -1 at the first bad index (rows before it added), else 0. */
  readonly addRows: (x: number, n: number, index: number, m: number, inner: number, src: number) => number;
}

/**
 * The float64 factorisations' leaves (scripts/wasm/linalg.ts), on an n×n row-major matrix at
 * byte address `a`, indices in elements.
 */
export interface LinalgKernels {
  /** LU with partial pivoting of columns c0..c1 (rows c0..n), whole rows swapped; pivot rows into i32 at piv; the first zero pivot's column, or -1. */
  readonly luPanel: (a: number, n: number, c0: number, c1: number, piv: number) => number;
  /** a[r0:r1, c0:c0+cols] ← L⁻¹·a[r0:r1, c0:c0+cols] for the unit lower L = a[r0:r1, r0:r1]. */
  readonly unitLowerRows: (a: number, n: number, r0: number, r1: number, c0: number, cols: number) => void;
  /** The lower Cholesky factor of a[k0:k1, k0:k1] in place; j + 1 for the first non-positive diagonal j, or -1. */
  readonly choleskyLeaf: (a: number, n: number, k0: number, k1: number) => number;
  /** a[r0:r1, k0:k1] ← a[r0:r1, k0:k1]·L⁻ᵀ for the lower L = a[k0:k1, k0:k1]. */
  readonly lowerTransposedRows: (a: number, n: number, k0: number, k1: number, r0: number, r1: number) => void;
  /** to[i·ld + j] -= from[i·cols + j] over rows×cols (ld in bytes). */
  readonly subtractBlock: (to: number, ld: number, from: number, rows: number, cols: number) => void;
  /** x ← U⁻¹·L⁻¹·x in place (n f64 at x, already permuted) from the LU factors in the matrix. */
  readonly luSolveVector: (a: number, n: number, x: number) => void;
}

/** The instantiated module. */
export interface Kernels {
  readonly f32: DtypeKernels;
  readonly f64: DtypeKernels;
  readonly linalg: LinalgKernels;
  readonly flavour: WasmGemmFlavour;
  /** The compiled module and its memory, which the helper thread instantiates again. */
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  /** Whether the memory is shared, so a helper thread can work in it. */
  readonly shared: boolean;
  /** The job record's words (see layout.ts), at the start of the memory. */
  readonly job: () => Int32Array;
  /** The caller's own product record's words, at CALLER_JOB_AT (see `runProductPair`). */
  readonly callerJob: () => Int32Array;
}

/** undefined: not tried yet; null: unavailable. */
let loaded: Kernels | null | undefined;
let loadedLocal: Kernels | null | undefined;

const FLAVOURS = [['relaxed-simd', WASM_KERNELS_RELAXED], ['simd128', WASM_KERNELS_SIMD128]] as const;

/**
 * The kernels, compiled and instantiated on the first call over a memory shared where the
 * runtime allows (the helper thread's and the arena's); null where WebAssembly SIMD is missing
 * or refused (the TypeScript kernels take over).
 */
export function loadKernels(): Kernels | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
  try {
    const { memory, shared } = newMemory();
    for (const [flavour, text] of FLAVOURS) {
      const bytes = shared ? decodeBase64(text) : unsharedModuleBytes(decodeBase64(text));
      if (!WebAssembly.validate(bytes)) continue;
      loaded = instantiate(new WebAssembly.Module(bytes), memory, flavour, shared);
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
 * A second instance of the same build (`loadKernels`'s flavour, so every kernel gives the same
 * bits) over an unshared memory of its own, for calls that hand nothing to the helper thread:
 * copies into and out of it are plain memcpy. The main kernels where their memory is unshared
 * already, or where the second instance cannot be made; null where those are.
 */
export function loadLocalKernels(): Kernels | null {
  if (loadedLocal !== undefined) return loadedLocal;
  const main = loadKernels();
  loadedLocal = main;
  if (main === null || !main.shared) return loadedLocal;
  try {
    const text = FLAVOURS.find(([flavour]) => flavour === main.flavour)![1];
    const memory = new WebAssembly.Memory({ initial: Math.ceil(DATA_START / 65536), maximum: MAX_PAGES });
    loadedLocal = instantiate(new WebAssembly.Module(unsharedModuleBytes(decodeBase64(text))), memory, main.flavour, false);
  } catch {
    // Out of memory for a second one: the main kernels serve every call, as before.
  }
  return loadedLocal;
}

/**
 * The local build's kernels over `memory`, an unshared memory of the caller's (see
 * resident.ts), or null where there are no kernels. Instantiating a compiled module costs no
 * compilation: only the instance's own records.
 */
export function kernelsOver(memory: WebAssembly.Memory): Kernels | null {
  const local = loadLocalKernels();
  if (local === null || local.shared) return null;
  return instantiate(local.module, memory, local.flavour, false);
}

function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory, flavour: WasmGemmFlavour, shared: boolean): Kernels {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  // Made again once the memory has grown, should that have detached the buffer under it (an
  // unshared memory's does: its views then read as empty).
  let job: Int32Array = new Int32Array(0);
  const jobWords = (): Int32Array => (job.length > 0 ? job : (job = new Int32Array(memory.buffer, 0, JOB_BYTES / 4)));
  let callerJob: Int32Array = new Int32Array(0);
  const callerJobWords = (): Int32Array => (callerJob.length > 0 ? callerJob : (callerJob = new Int32Array(memory.buffer, CALLER_JOB_AT, (JOB_BYTES - CALLER_JOB_AT) / 4)));
  const linalg: LinalgKernels = {
    luPanel: exports.lu_panel_f64 as LinalgKernels['luPanel'],
    unitLowerRows: exports.unit_lower_rows_f64 as LinalgKernels['unitLowerRows'],
    choleskyLeaf: exports.cholesky_leaf_f64 as LinalgKernels['choleskyLeaf'],
    lowerTransposedRows: exports.lower_transposed_rows_f64 as LinalgKernels['lowerTransposedRows'],
    subtractBlock: exports.subtract_block_f64 as LinalgKernels['subtractBlock'],
    luSolveVector: exports.lu_solve_vector_f64 as LinalgKernels['luSolveVector'],
  };
  return { f32: dtypeKernels(exports, 'f32'), f64: dtypeKernels(exports, 'f64'), linalg, flavour, module, memory, shared, job: jobWords, callerJob: callerJobWords };
}

/** The exports whose names end in `_<t>`, under the names the drivers use. */
function dtypeKernels(exports: WebAssembly.Exports, t: 'f32' | 'f64'): DtypeKernels {
  const entry = <F>(name: string): F => exports[`${name}_${t}`] as F;
  return {
    gemm: entry('gemm'),
    biasActivation: entry('bias_act'),
    reluBackward: entry('relu_backward'),
    axpy: entry('axpy'),
    binary: entry('binary'),
    unary: entry('unary'),
    columnSums: entry('column_sums'),
    adam: entry('adam'),
    maxPool: entry('max_pool'),
    outer: entry('outer'),
    convImages: entry('conv_images'),
    softmax: entry('softmax'),
    softmaxBackward: entry('softmax_backward'),
    layerNorm: entry('layer_norm'),
    layerNormBackward: entry('layer_norm_backward'),
    gatherRows: entry('gather_rows'),
    scatterAddRows: entry('scatter_add_rows'),
    selectRows: entry('select_rows'),
    addRows: entry('add_rows'),
  };
}

/**
 * Whether the WebAssembly SIMD kernels can run here (compiles them on first call).
 * @example if (wasmAvailable()) setKernelBackend('wasm');
 */
export function wasmAvailable(): boolean {
  return loadKernels() !== null;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The import of the memory in the module's bytes: "env" "memory", kind memory, limits flags. */
const MEMORY_IMPORT = [3, ...'env'.split('').map((ch) => ch.charCodeAt(0)), 6, ...'memory'.split('').map((ch) => ch.charCodeAt(0)), 2];
const SHARED_WITH_MAXIMUM = 3;
const WITH_MAXIMUM = 1;

/**
 * The same module importing an unshared memory: the limits flags after the memory import go
 * from "shared, with maximum" to "with maximum" (the only difference between the two builds;
 * a test compares this with the assembler's unshared build). For runtimes without
 * SharedArrayBuffer, such as a browser page that is not cross-origin isolated.
 */
export function unsharedModuleBytes(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const copy = bytes.slice();
  for (let i = 0; i + MEMORY_IMPORT.length < copy.length; i++) {
    if (MEMORY_IMPORT.every((byte, j) => copy[i + j] === byte) && copy[i + MEMORY_IMPORT.length] === SHARED_WITH_MAXIMUM) {
      copy[i + MEMORY_IMPORT.length] = WITH_MAXIMUM;
      return copy;
    }
  }
  throw new Error('wasm kernels: the WebAssembly module has no shared memory import to clear');
}

/** A memory big enough for the job record and scratch; shared where the runtime allows. */
function newMemory(): { memory: WebAssembly.Memory; shared: boolean } {
  const initial = Math.ceil(DATA_START / 65536);
  if (typeof SharedArrayBuffer === 'function') {
    try {
      const memory = new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true });
      if (memory.buffer instanceof SharedArrayBuffer) return { memory, shared: true };
    } catch {
      // Shared memory refused (no cross-origin isolation): fall through to an unshared one.
    }
  }
  return { memory: new WebAssembly.Memory({ initial, maximum: MAX_PAGES }), shared: false };
}
