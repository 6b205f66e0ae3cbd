import type { FloatArray } from '../../dtype.js';
import type { AdamStep } from '../adam.js';
import { environmentVariable, nodeBuiltin } from '../environment.js';
import { WASM_GEMM_BLOCKING as GEMM_WASM_BLOCKING, WASM_KERNELS_RELAXED as GEMM_WASM_RELAXED, WASM_KERNELS_SIMD128 as GEMM_WASM_SIMD128 } from './kernels.generated.js';
import {
  BINARY_OPS, dataStart, JOB, JOB_BYTES, JOB_STATE, MAX_PAGES, scratchAddress, scratchLayout, UNARY_OPS,
  type WasmBinaryOp, type WasmUnaryOp,
} from './layout.js';

/**
 * Loader and driver of the WebAssembly SIMD gemm (source: scripts/wasm/). The module is
 * a few kilobytes, so it compiles synchronously (`new WebAssembly.Module`) on first use and
 * `gemm` stays synchronous. Operands are copied into its memory (O(mk + kn + mn) against
 * O(mnk) work), which is why `gemm` only takes this path above a size threshold.
 *
 * Large products are shared with one helper thread (Node's worker_threads) working in the same
 * shared memory: see `gemmThreads`.
 */

interface GemmExports {
  readonly gemm_f32: GemmEntry;
  readonly gemm_f64: GemmEntry;
  readonly bias_act_f32: EpilogueEntry;
  readonly bias_act_f64: EpilogueEntry;
  readonly relu_backward_f32: ReluBackwardEntry;
  readonly relu_backward_f64: ReluBackwardEntry;
  readonly axpy_f32: AxpyEntry;
  readonly axpy_f64: AxpyEntry;
  readonly binary_f32: BinaryEntry;
  readonly binary_f64: BinaryEntry;
  readonly unary_f32: UnaryEntry;
  readonly unary_f64: UnaryEntry;
  readonly column_sums_f32: ColumnSumsEntry;
  readonly column_sums_f64: ColumnSumsEntry;
  readonly adam_f32: AdamEntry;
  readonly adam_f64: AdamEntry;
}

/** One Adam step in place over n elements at byte addresses x, g, m, v (see `adamWasm`). */
type AdamEntry = (
  x: number, g: number, m: number, v: number, n: number,
  b1: number, c1: number, b2: number, c2: number, stepSize: number, bc2: number, eps: number, decay: number, sign: number,
) => void;

/** For each of `outer` blocks of rows×n elements at x, the n column sums into f64 values at acc. */
type ColumnSumsEntry = (x: number, outer: number, rows: number, n: number, acc: number) => void;

/**
 * out = a op b over rows×n elements; sa, sb: 1 to walk the row, 0 for one value per row
 * (splatted at slot, slot + 16); ra, rb: bytes from one row of the operand to the next.
 */
type BinaryEntry = (op: number, a: number, sa: number, ra: number, b: number, sb: number, rb: number, out: number, n: number, rows: number, slot: number) => void;

/** out = f(x) over n elements. */
type UnaryEntry = (op: number, x: number, out: number, n: number) => void;

/** g ← g·[y > 0] in place over rows×n; flags bit 0 also sums columns into n f64 at acc. */
type ReluBackwardEntry = (g: number, y: number, rows: number, n: number, acc: number, flags: number) => void;

/** y ← β·y + α·x over n elements at byte addresses y and x. */
type AxpyEntry = (y: number, x: number, n: number, alpha: number, beta: number) => void;

/** C[r, j] = act(C[r, j] + bias[j]) in place; flags: 1 adds the bias, 2 applies relu. */
type EpilogueEntry = (c: number, m: number, n: number, bias: number, flags: number) => void;

/** Does slabs of the job at byte address `job` with the scratch area at `scratch` until none is left. */
type GemmEntry = (job: number, scratch: number) => void;

/** Which build was loaded: relaxed-SIMD FMA where the runtime validates it, else SIMD128. */
export type WasmGemmFlavour = 'relaxed-simd' | 'simd128';

interface Loaded {
  readonly exports: GemmExports;
  readonly flavour: WasmGemmFlavour;
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  /** Whether the memory is shared, so a helper thread can work in it. */
  readonly shared: boolean;
}

const LAYOUT = scratchLayout(GEMM_WASM_BLOCKING);
/** First byte of the operands, past the job record and the threads' scratch areas. */
const DATA = dataStart(LAYOUT);

/** undefined: not tried yet; null: unavailable. */
let loaded: Loaded | null | undefined;
let f32View = new Float32Array(0);
let f64View = new Float64Array(0);
/** The job record's words. */
let jobWords = new Int32Array(0);

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
  throw new Error('gemm: the WebAssembly module has no shared memory import to clear');
}

/** A memory big enough for the job record and scratch; shared where the runtime allows. */
function newMemory(): { memory: WebAssembly.Memory; shared: boolean } {
  const initial = Math.ceil(DATA / 65536);
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

function load(): Loaded | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
  try {
    const { memory, shared } = newMemory();
    for (const [flavour, text] of [['relaxed-simd', GEMM_WASM_RELAXED], ['simd128', GEMM_WASM_SIMD128]] as const) {
      const bytes = shared ? decodeBase64(text) : unsharedModuleBytes(decodeBase64(text));
      if (!WebAssembly.validate(bytes)) continue;
      const module = new WebAssembly.Module(bytes);
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      loaded = { exports: instance.exports as unknown as GemmExports, flavour, module, memory, shared };
      refreshViews(memory);
      break;
    }
  } catch {
    // A runtime that validates the module but refuses to compile it (e.g. a CSP without
    // 'wasm-unsafe-eval'): the TypeScript kernels take over.
    loaded = null;
  }
  return loaded;
}

function refreshViews(memory: WebAssembly.Memory): void {
  f32View = new Float32Array(memory.buffer);
  f64View = new Float64Array(memory.buffer);
  jobWords = new Int32Array(memory.buffer, 0, JOB_BYTES / 4);
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
const MAX_BYTES = MAX_PAGES * 65536;

// ---------------------------------------------------------------------------------------------
// The helper thread.

/**
 * Below this many multiply-adds (m·n·k, here 64³) a product stays on the calling thread: it
 * takes about 25 µs, too little to share (`node scripts/run.mjs bench/micro/gemm.ts`).
 */
const THREAD_MIN_WORK = 1 << 18;

/**
 * Multiply-adds per slab a shared product is cut into (2 to MAX_SLABS slabs). More slabs than
 * threads, so a thread slowed by other work on its core leaves slabs to the other instead of
 * holding it up; not many more, since every slab packs the operand it shares in full again.
 */
const SLAB_WORK = 1 << 22;
const MAX_SLABS = 8;

/** Polls of the job state the caller makes before it sleeps waiting for the helper. */
const MAIN_SPINS = 1 << 18;

/**
 * The helper's whole program (a CommonJS worker): instantiate the same module over the same
 * memory, say it is ready, then serve jobs until the process ends. Should a slab trap, the job
 * is marked failed, so the caller (blocked on the job's state, where it cannot see the worker's
 * 'error' event) stops waiting and redoes the product alone.
 */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, scratch, ready } = workerData;
const { serve } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const job = new Int32Array(memory.buffer, 0, ${JOB_BYTES / 4});
Atomics.store(job, ready, 1);
try {
  serve(0, scratch);
} catch (error) {
  Atomics.store(job, ready, 0);
  Atomics.store(job, ${JOB.state}, ${JOB_STATE.failed});
  Atomics.notify(job, ${JOB.state});
  throw error;
}
`;

interface WorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: unknown }) => { unref(): void; on(event: 'error', listener: (error: unknown) => void): void };
}

/** 'off': never start it; 'starting': started, not ready yet; 'ready'; 'failed'. */
let helper: 'off' | 'starting' | 'ready' | 'failed' = 'off';
let threads = threadsFromEnvironment();

/** Threads a product may use where nothing says otherwise: 2 on a machine with 2+ cores that has worker_threads, else 1. */
function defaultThreads(): 1 | 2 {
  const os = nodeBuiltin<{ availableParallelism?: () => number }>('node:os');
  return nodeBuiltin<WorkerThreads>('node:worker_threads') !== undefined && (os?.availableParallelism?.() ?? 1) >= 2 ? 2 : 1;
}

/** `CHAINRULE_THREADS=1|2`, read once at load. */
function threadsFromEnvironment(): 1 | 2 {
  const value = environmentVariable('CHAINRULE_THREADS');
  if (value === undefined || value === '') return defaultThreads();
  if (value !== '1' && value !== '2') throw new RangeError(`CHAINRULE_THREADS: expected '1' or '2', got '${value}'`);
  return value === '1' ? 1 : 2;
}

/**
 * Sets how many threads a large WebAssembly product may use: 1 (the calling thread only) or 2
 * (the caller and a helper thread over shared memory; Node only, as browsers need a worker
 * script of their own). Results are the same bits either way: each element gets the same
 * arithmetic however the product is cut. The default is 2 where Node reports 2+ cores;
 * `CHAINRULE_THREADS=1|2` sets it at load.
 * @example setKernelThreads(1); // keep the second core for something else
 */
export function setKernelThreads(count: 1 | 2): void {
  if (count !== 1 && count !== 2) throw new RangeError(`setKernelThreads: expected 1 or 2, got ${String(count)}`);
  threads = count;
}

/**
 * How many threads a large product uses now: 2 once the helper (started by the first product
 * of 64³ multiply-adds or more) is running, else 1. Asking starts nothing.
 * @example kernelThreads(); // 2 in Node on a 2-core machine, after the first large product
 */
export function kernelThreads(): 1 | 2 {
  return threads === 2 && helperIsReady() ? 2 : 1;
}

/** Whether the helper can take work (reads the flag it sets once ready; never starts it). */
function helperIsReady(): boolean {
  if (helper === 'starting' && Atomics.load(jobWords, JOB.ready) === 1) helper = 'ready';
  return helper === 'ready';
}

/** Whether the helper can take work; starts it (without waiting) the first time. */
function helperReady(module: Loaded | null): boolean {
  if (helper === 'off' && module !== null && module.shared) startHelper(module);
  return helperIsReady();
}

function startHelper(module: Loaded): void {
  const workerThreads = nodeBuiltin<WorkerThreads>('node:worker_threads');
  if (workerThreads === undefined) {
    helper = 'failed';
    return;
  }
  try {
    const worker = new workerThreads.Worker(HELPER_SOURCE, {
      eval: true,
      workerData: { module: module.module, memory: module.memory, scratch: scratchAddress(LAYOUT, 1), ready: JOB.ready },
    });
    // The helper must not keep the process alive; it holds no state worth a clean shutdown.
    worker.unref();
    worker.on('error', () => {
      helper = 'failed';
    });
    helper = 'starting';
  } catch {
    helper = 'failed';
  }
}

/**
 * Resolves once the helper thread is ready, or false if it cannot run here (tests and
 * benchmarks wait for it; `gemm` never does, it works alone meanwhile).
 * @example await helperThreadReady();
 */
export async function helperThreadReady(timeoutMs = 10_000): Promise<boolean> {
  const started = Date.now();
  while (!helperReady(load())) {
    if (helper === 'failed' || !loaded?.shared || Date.now() - started > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/**
 * How many threads worked on the last product: every thread that ran the job's loop took one
 * slab number past the end before it stopped, so the counter tells.
 * @example gemm(...); lastGemmThreads(); // 2 when the helper took part
 */
export function lastGemmThreads(): number {
  return jobWords.length === 0 ? 0 : Atomics.load(jobWords, JOB.counter) - jobWords[JOB.chunks]!;
}

/** How a product is cut: `chunks` slabs of `width` rows of C (axis 0) or columns (axis 1). */
export interface GemmSplit {
  readonly axis: 0 | 1;
  readonly width: number;
  readonly chunks: number;
}

/**
 * How an m×n×k product is cut for `threads` threads: whole on one thread or below
 * THREAD_MIN_WORK; otherwise along the side with more register tiles (so slabs stay as wide as
 * the blocking likes) into whole tiles.
 * @example splitProduct(512, 512, 512, true, 2); // { axis: 0, width: 64, chunks: 8 }
 */
export function splitProduct(m: number, n: number, k: number, f32: boolean, threads: 1 | 2): GemmSplit {
  const whole = { axis: 1 as const, width: n, chunks: 1 };
  if (threads === 1 || m * n * k < THREAD_MIN_WORK) return whole;
  const { mr, nr } = f32 ? GEMM_WASM_BLOCKING.f32 : GEMM_WASM_BLOCKING.f64;
  const axis = n / nr >= m / mr ? 1 : 0;
  const extent = axis === 1 ? n : m;
  const unit = axis === 1 ? nr : mr;
  const slabs = Math.min(MAX_SLABS, Math.max(2, Math.floor((m * n * k) / SLAB_WORK)), Math.ceil(extent / unit));
  const width = roundUp(Math.ceil(extent / slabs), unit);
  const chunks = Math.ceil(extent / width);
  return chunks < 2 ? whole : { axis, width, chunks };
}

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
  const f32 = c instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const aAt = DATA;
  const bAt = aAt + align(m * k * size);
  const cAt = bAt + align(k * n * size);
  const biasAt = cAt + align(m * n * size);
  const end = biasAt + (bias === null ? 0 : n * size);
  const module = loadFor(end);
  if (module === null) return false;
  const view = f32 ? f32View : f64View;
  // NOTE: subarray makes a view, not a copy; `set` then copies with memcpy.
  view.set(aOffset === 0 && a.length === m * k ? a : a.subarray(aOffset, aOffset + m * k), aAt / size);
  view.set(bOffset === 0 && b.length === k * n ? b : b.subarray(bOffset, bOffset + k * n), bAt / size);
  const { axis, width, chunks } = splitProduct(m, n, k, f32, threads === 2 && m * n * k >= THREAD_MIN_WORK && helperReady(module) ? 2 : 1);
  const job = jobWords;
  job[JOB.counter] = 0;
  job[JOB.chunks] = chunks;
  job[JOB.axis] = axis;
  job[JOB.width] = width;
  job[JOB.m] = m;
  job[JOB.n] = n;
  job[JOB.k] = k;
  job[JOB.a] = aAt;
  job[JOB.rsa] = transA ? size : k * size;
  job[JOB.csa] = transA ? m * size : size;
  job[JOB.b] = bAt;
  job[JOB.rsb] = transB ? size : n * size;
  job[JOB.csb] = transB ? k * size : size;
  job[JOB.c] = cAt;
  job[JOB.ldc] = n * size;
  job[JOB.dtype] = f32 ? 0 : 1;
  const entry = f32 ? module.exports.gemm_f32 : module.exports.gemm_f64;
  if (chunks === 1) {
    entry(0, scratchAddress(LAYOUT, 0));
  } else {
    // The store publishes the fields written above (Atomics are sequentially consistent).
    Atomics.store(job, JOB.state, JOB_STATE.posted);
    Atomics.notify(job, JOB.state, 1);
    entry(0, scratchAddress(LAYOUT, 0));
    // Withdraw the job if the helper never took it; otherwise wait for it to finish its slab.
    if (Atomics.compareExchange(job, JOB.state, JOB_STATE.posted, JOB_STATE.idle) !== JOB_STATE.posted) {
      // Its slab ends soon: poll a while before sleeping, as waking can cost as much as a slab.
      for (let spin = 0; spin < MAIN_SPINS && Atomics.load(job, JOB.state) === JOB_STATE.taken; spin++);
      while (Atomics.load(job, JOB.state) === JOB_STATE.taken) Atomics.wait(job, JOB.state, JOB_STATE.taken);
      const failed = Atomics.load(job, JOB.state) === JOB_STATE.failed;
      Atomics.store(job, JOB.state, JOB_STATE.idle);
      if (failed) {
        // The helper trapped in a slab and has stopped. Redo the whole product on this thread
        // (were the trap ours too, it would surface here as the error it is), alone from now on.
        helper = 'failed';
        job[JOB.counter] = 0;
        job[JOB.chunks] = 1;
        job[JOB.axis] = 1;
        job[JOB.width] = n;
        entry(0, scratchAddress(LAYOUT, 0));
      }
    }
  }
  if (bias !== null || relu) {
    if (bias !== null) view.set(bias.length === n ? bias : bias.subarray(0, n), biasAt / size);
    const epilogue = f32 ? module.exports.bias_act_f32 : module.exports.bias_act_f64;
    epilogue(cAt, m, n, biasAt, (bias === null ? 0 : 1) | (relu ? 2 : 0));
  }
  c.set(view.subarray(cAt / size, cAt / size + m * n), cOffset);
  return true;
}

/**
 * The module with its memory at least `end` bytes, or null where WebAssembly SIMD is missing or
 * the memory cannot grow that far: how every kernel here starts (null: the caller takes its
 * TypeScript kernel). Views of the memory are taken after it, as growing may replace them.
 */
function loadFor(end: number): Loaded | null {
  const module = load();
  return module !== null && reserve(module, end) ? module : null;
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
  const { memory } = module;
  try {
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  } catch {
    return false;
  }
  refreshViews(memory);
  return true;
}

/**
 * y ← β·y + α·x in WebAssembly (y and x of one dtype and length), computed in float64 and
 * rounded once per element, as the TypeScript loop: the same bits. Returns false, having done
 * nothing, where WebAssembly SIMD is missing or the arrays do not fit its memory. Both are
 * copied in and y back out; the vector loop still makes it about 2.5× the speed of a scalar
 * loop for large n.
 * @example if (!axpyWasm(w, -lr, g)) axpyJs(w, -lr, g);
 */
export function axpyWasm(y: FloatArray, alpha: number, x: FloatArray, beta = 1): boolean {
  const f32 = y instanceof Float32Array;
  const n = y.length;
  const size = f32 ? 4 : 8;
  const yAt = DATA;
  const xAt = yAt + align(n * size);
  const module = loadFor(xAt + n * size);
  if (module === null) return false;
  const view = f32 ? f32View : f64View;
  view.set(y, yAt / size);
  view.set(x, xAt / size);
  (f32 ? module.exports.axpy_f32 : module.exports.axpy_f64)(yAt, xAt, n, alpha, beta);
  y.set(view.subarray(yAt / size, yAt / size + n));
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
  const f32 = out instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const length = rows * n;
  const gAt = DATA;
  const yAt = gAt + align(length * size);
  const accAt = yAt + align(length * size);
  const module = loadFor(accAt + n * 8);
  if (module === null) return false;
  const view = f32 ? f32View : f64View;
  view.set(g.length === length ? g : g.subarray(0, length), gAt / size);
  view.set(y.length === length ? y : y.subarray(0, length), yAt / size);
  (f32 ? module.exports.relu_backward_f32 : module.exports.relu_backward_f64)(gAt, yAt, rows, n, accAt, sums === null ? 0 : 1);
  out.set(view.subarray(gAt / size, gAt / size + length));
  // Float64 sums into the caller's dtype: one rounding each, as the TypeScript kernel's set().
  if (sums !== null) sums.set(f64View.subarray(accAt / 8, accAt / 8 + n));
  return true;
}

/**
 * How an operand of `binaryWasm` covers its rows×n output: every element ('full'), one row
 * repeated over the rows ('row', a bias), one value per row ('column') or one value ('scalar').
 */
export type OperandLayout = 'full' | 'row' | 'column' | 'scalar';

/** Elements an operand of each layout holds, for a rows×n output. */
const operandLength = (layout: OperandLayout, rows: number, n: number): number =>
  layout === 'full' ? rows * n : layout === 'row' ? n : layout === 'column' ? rows : 1;

/**
 * out = a op b in WebAssembly over a rows×n output, each operand laid out as its layout says:
 * the same bits as the TypeScript loop (see `binary` in scripts/wasm/elementwise.ts). Returns false,
 * having done nothing, where WebAssembly SIMD is missing or the arrays do not fit its memory.
 * @example if (!binaryWasm('add', x, 'full', bias, 'row', out, batch, features)) ...;
 */
export function binaryWasm(
  op: WasmBinaryOp,
  a: FloatArray,
  aLayout: OperandLayout,
  b: FloatArray,
  bLayout: OperandLayout,
  out: FloatArray,
  rows: number,
  n: number,
): boolean {
  const f32 = out instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const aLength = operandLength(aLayout, rows, n);
  const bLength = operandLength(bLayout, rows, n);
  // Two vectors at DATA hold the splatted value of a 'column' or 'scalar' operand's row.
  const slotAt = DATA;
  const aAt = slotAt + 64;
  const bAt = aAt + align(aLength * size);
  const outAt = bAt + align(bLength * size);
  const module = loadFor(outAt + rows * n * size);
  if (module === null) return false;
  const view = f32 ? f32View : f64View;
  view.set(a.length === aLength ? a : a.subarray(0, aLength), aAt / size);
  view.set(b.length === bLength ? b : b.subarray(0, bLength), bAt / size);
  const walks = (layout: OperandLayout): number => (layout === 'full' || layout === 'row' ? 1 : 0);
  const rowBytes = (layout: OperandLayout): number => (layout === 'full' ? n * size : layout === 'column' ? size : 0);
  (f32 ? module.exports.binary_f32 : module.exports.binary_f64)(
    BINARY_OPS.indexOf(op), aAt, walks(aLayout), rowBytes(aLayout), bAt, walks(bLayout), rowBytes(bLayout), outAt, n, rows, slotAt,
  );
  out.set(view.subarray(outAt / size, outAt / size + rows * n));
  return true;
}

/**
 * out = f(x) in WebAssembly over arrays of one dtype and length: the same bits as the
 * TypeScript loop. Returns false, having done nothing, where WebAssembly SIMD is missing or the
 * arrays do not fit its memory.
 * @example if (!unaryWasm('relu', x, out)) mapUnary('relu', x, out);
 */
export function unaryWasm(op: WasmUnaryOp, x: FloatArray, out: FloatArray): boolean {
  const f32 = out instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const n = out.length;
  const xAt = DATA;
  const outAt = xAt + align(n * size);
  const module = loadFor(outAt + n * size);
  if (module === null) return false;
  const view = f32 ? f32View : f64View;
  view.set(x, xAt / size);
  (f32 ? module.exports.unary_f32 : module.exports.unary_f64)(UNARY_OPS.indexOf(op), xAt, outAt, n);
  out.set(view.subarray(outAt / size, outAt / size + n));
  return true;
}

/**
 * Sums x, seen as [outer, rows, n], over its middle axis into out of [outer, n], in
 * WebAssembly: the same bits as the TypeScript reduction (float64 sums, row by row, one
 * rounding into out). Returns false, having done nothing, where WebAssembly SIMD is missing or
 * the arrays do not fit its memory.
 * @example if (!columnSumsWasm(g, 1, batch, features, db)) reduceAxis('sum', ...);
 */
export function columnSumsWasm(x: FloatArray, outer: number, rows: number, n: number, out: FloatArray): boolean {
  const f32 = x instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const xAt = DATA;
  const length = outer * rows * n;
  const accAt = xAt + align(length * size);
  const module = loadFor(accAt + outer * n * 8);
  if (module === null) return false;
  (f32 ? f32View : f64View).set(x.length === length ? x : x.subarray(0, length), xAt / size);
  (f32 ? module.exports.column_sums_f32 : module.exports.column_sums_f64)(xAt, outer, rows, n, accAt);
  // Float64 sums into the caller's dtype: one rounding each, as the TypeScript kernel's set().
  out.set(f64View.subarray(accAt / 8, accAt / 8 + outer * n));
  return true;
}

/**
 * One Adam step in place over x (the parameter), m and v (the moment averages) from g, in
 * WebAssembly: the same bits as the TypeScript loop (scripts/wasm/optimisers.ts, `adam`). Returns
 * false, having done nothing, for a step with an L2 term (the loop has none), or where
 * WebAssembly SIMD is missing or the arrays do not fit its memory.
 * @example if (!adamWasm(x, g, m, v, step)) adamJs(x, g, m, v, null, step);
 */
export function adamWasm(x: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, step: AdamStep): boolean {
  if (step.l2 !== 0) return false;
  const f32 = x instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const n = x.length;
  const span = align(n * size);
  const [xAt, gAt, mAt, vAt] = [0, 1, 2, 3].map((k) => DATA + k * span) as [number, number, number, number];
  const module = loadFor(vAt + n * size);
  if (module === null) return false;
  const view = f32 ? f32View : f64View;
  view.set(x, xAt / size);
  view.set(g, gAt / size);
  view.set(m, mAt / size);
  view.set(v, vAt / size);
  const { beta1, beta2, stepSize, biasCorrection2Sqrt, eps, decay, maximize } = step;
  (f32 ? module.exports.adam_f32 : module.exports.adam_f64)(
    xAt, gAt, mAt, vAt, n, beta1, 1 - beta1, beta2, 1 - beta2, stepSize, biasCorrection2Sqrt, eps, decay, maximize ? -1 : 1,
  );
  x.set(view.subarray(xAt / size, xAt / size + n));
  m.set(view.subarray(mAt / size, mAt / size + n));
  v.set(view.subarray(vAt / size, vAt / size + n));
  return true;
}

function roundUp(x: number, multiple: number): number {
  return Math.ceil(x / multiple) * multiple;
}
