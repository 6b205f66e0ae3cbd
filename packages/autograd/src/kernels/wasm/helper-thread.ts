import { ArgumentError } from '../../errors.js';
import { environmentVariable, nodeBuiltin } from '../environment.js';
import { WASM_GEMM_BLOCKING } from './kernels.generated.js';
import { CALLER_JOB_AT, JOB, JOB_BYTES, JOB_KIND, JOB_STATE, scratchAddress } from './layout.js';
import { type DtypeKernels, type Kernels, loadKernels, SCRATCH } from './module.js';

/**
 * The helper thread that shares large products: a Node `worker_threads` worker that
 * instantiates the same module over the same shared memory and takes slabs of each posted job
 * (the job record of layout.ts). The caller always works too, so a product never waits for
 * the helper to start, and a helper that fails leaves the caller alone, never wrong.
 */

/**
 * Below this many multiply-adds (m·n·k, here 64³) a product stays on the calling thread: it
 * takes about 25 µs, too little to share (`node scripts/run.mjs bench/micro/gemm.ts`).
 */
const THREAD_MIN_WORK = 1 << 18;

/**
 * Multiply-adds per slab a shared product is cut into (an even 2 to MAX_SLABS slabs). More slabs than
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
/** The job record the helper serves: the shared memory's (whose views never detach), once started. */
let helperJob: Int32Array = new Int32Array(0);
/** The job record of the last product run (the main or the local instance's). */
let lastJob: Int32Array = new Int32Array(0);

/** Threads a product may use where nothing says otherwise: 2 on a machine with 2+ cores that has worker_threads, else 1. */
function defaultThreads(): 1 | 2 {
  const os = nodeBuiltin<{ availableParallelism?: () => number }>('node:os');
  return nodeBuiltin<WorkerThreads>('node:worker_threads') !== undefined && (os?.availableParallelism?.() ?? 1) >= 2 ? 2 : 1;
}

/** `CHAINRULE_THREADS=1|2`, read once at load. */
function threadsFromEnvironment(): 1 | 2 {
  const value = environmentVariable('CHAINRULE_THREADS');
  if (value === undefined || value === '') return defaultThreads();
  if (value !== '1' && value !== '2') throw new ArgumentError(`CHAINRULE_THREADS: expected '1' or '2', got '${value}'`);
  return value === '1' ? 1 : 2;
}

/**
 * Sets how many threads a large WebAssembly product may use: 1 (the calling thread only) or 2
 * (the caller and a helper thread over shared memory; Node only, as browsers need a worker
 * script of their own). Results are the same bits either way: each element gets the same
 * arithmetic however the product is cut. The default is 2 where Node reports 2+ cores;
 * `CHAINRULE_THREADS=1|2` sets it at load.
 * @throws ArgumentError unless `count` is 1 or 2.
 * @example setKernelThreads(1); // keep the second core for something else
 */
export function setKernelThreads(count: 1 | 2): void {
  if (count !== 1 && count !== 2) throw new ArgumentError(`setKernelThreads: expected 1 or 2, got ${String(count)}`);
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
  if (helper === 'starting' && Atomics.load(helperJob, JOB.ready) === 1) helper = 'ready';
  return helper === 'ready';
}

/**
 * Whether the helper can take work in `kernels`' memory (only the shared one's); starts it
 * (without waiting) the first time.
 */
function helperReady(kernels: Kernels | null): boolean {
  if (kernels === null || !kernels.shared) return false;
  if (helper === 'off') startHelper(kernels);
  return helperIsReady();
}

/**
 * Whether a call whose largest product the helper could take is `work` multiply-adds (Infinity
 * for jobs posted whole, at any size) may have the helper take part: two threads, a helper
 * not failed (it may still be starting, or not started: the first such product starts it), and
 * a product worth sharing. The staging then puts the call in the memory the helper shares.
 */
export function helperMayTake(work: number): boolean {
  return threads === 2 && helper !== 'failed' && work >= THREAD_MIN_WORK;
}

function startHelper(kernels: Kernels): void {
  const workerThreads = nodeBuiltin<WorkerThreads>('node:worker_threads');
  if (workerThreads === undefined) {
    helper = 'failed';
    return;
  }
  try {
    const worker = new workerThreads.Worker(HELPER_SOURCE, {
      eval: true,
      workerData: { module: kernels.module, memory: kernels.memory, scratch: scratchAddress(SCRATCH, 1), ready: JOB.ready },
    });
    // The helper must not keep the process alive; it holds no state worth a clean shutdown.
    worker.unref();
    worker.on('error', () => {
      helper = 'failed';
    });
    helperJob = kernels.job();
    helper = 'starting';
  } catch {
    helper = 'failed';
  }
}

/**
 * Resolves once the helper thread is ready, or false if it cannot run here or products are set
 * to one thread (then nothing is started). Tests and benchmarks wait for it; `gemm` never does,
 * it works alone meanwhile.
 * @example await helperThreadReady();
 */
export async function helperThreadReady(timeoutMs = 10_000): Promise<boolean> {
  if (threads === 1) return false;
  const started = Date.now();
  while (!helperReady(loadKernels())) {
    if (helper === 'failed' || !loadKernels()?.shared || Date.now() - started > timeoutMs) return false;
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
  const job = lastJob;
  return job.length === 0 ? 0 : Atomics.load(job, JOB.counter) - job[JOB.chunks]!;
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
 * the blocking likes) into whole tiles. A product that is `sideBySide` products of equal width
 * next to each other along n, all reading the same A (forward mode's A·[B; TB]), gets as many
 * slabs as one of them would: every slab packs the whole of A it reads, so cutting by the total
 * work would pack A more often than making each of them alone does.
 * @example splitProduct(512, 512, 512, true, 2); // { axis: 0, width: 64, chunks: 8 }
 * @example splitProduct(64, 256, 784, true, 2, 2); // { axis: 1, width: 128, chunks: 2 }: one side each
 */
export function splitProduct(m: number, n: number, k: number, f32: boolean, threads: 1 | 2, sideBySide = 1): GemmSplit {
  const whole = { axis: 1 as const, width: n, chunks: 1 };
  if (threads === 1 || m * n * k < THREAD_MIN_WORK) return whole;
  const { mr, nr } = f32 ? WASM_GEMM_BLOCKING.f32 : WASM_GEMM_BLOCKING.f64;
  const axis = n / nr >= m / mr ? 1 : 0;
  const extent = axis === 1 ? n : m;
  const unit = axis === 1 ? nr : mr;
  const work = m * n * k / (axis === 1 ? sideBySide : 1);
  // An even count: two threads then end together on an idle machine (3 slabs keep one waiting a third of the time).
  const slabs = Math.min(MAX_SLABS, 2 * Math.max(1, Math.ceil(Math.floor(work / SLAB_WORK) / 2)), Math.ceil(extent / unit));
  const width = roundUp(Math.ceil(extent / slabs), unit);
  const chunks = Math.ceil(extent / width);
  return chunks < 2 ? whole : { axis, width, chunks };
}

/**
 * Runs the m×n×k product whose operands are in the job record (addresses, strides, dtype):
 * cuts it (see `splitProduct`; it is `sideBySide` products of equal width along n), posts it
 * to the helper when there is more than one slab and the helper is ready (and the caller did
 * not ask for it `alone`), works on it with the dtype's `gemm`, and returns once every slab is
 * done. Should the helper trap, the caller redoes the whole product alone and keeps to one
 * thread from then on.
 */
export function runProduct(kernels: Kernels, dtype: DtypeKernels, m: number, n: number, k: number, f32: boolean, alone = false, sideBySide = 1): void {
  const job = kernels.job();
  lastJob = job;
  const shared = !alone && threads === 2 && m * n * k >= THREAD_MIN_WORK && helperReady(kernels);
  const { axis, width, chunks } = splitProduct(m, n, k, f32, shared ? 2 : 1, sideBySide);
  job[JOB.kind] = JOB_KIND.product;
  job[JOB.counter] = 0;
  job[JOB.chunks] = chunks;
  job[JOB.axis] = axis;
  job[JOB.width] = width;
  const scratch = scratchAddress(SCRATCH, 0);
  if (chunks === 1) {
    dtype.gemm(0, scratch);
    return;
  }
  // The store publishes the fields written above (Atomics are sequentially consistent).
  Atomics.store(job, JOB.state, JOB_STATE.posted);
  Atomics.notify(job, JOB.state, 1);
  dtype.gemm(0, scratch);
  if (joinHelper(job)) redoProduct(job, dtype, scratch, n);
}

/**
 * Two products at once, one per thread: the one in the job record (`kernels.job()`), posted
 * whole to the helper, and the caller's own in the record at CALLER_JOB_AT (`kernels.callerJob()`),
 * which the caller makes once `before` has returned (the helper starts meanwhile: `before` copies
 * in what only the caller's product reads). The caller then makes the posted product itself if
 * the helper has not taken it, else waits for it, and redoes it should the helper trap. The
 * caller writes both records' operands (`m`..`ldc`, `dtype`) beforehand; each product has the
 * bits it has alone. Returns false, having done nothing (`before` not called), where the helper
 * cannot take work in `kernels`' memory (one thread, not ready, failed) or the posted product
 * (`work` multiply-adds) is too small to share: the caller then makes both its own way.
 * @example if (!runProductPair(all, kernels, m * n * k, () => copyInNow(1))) ...;
 */
export function runProductPair(kernels: Kernels, dtype: DtypeKernels, work: number, before: () => void): boolean {
  if (threads !== 2 || work < THREAD_MIN_WORK || !helperReady(kernels)) return false;
  const job = kernels.job();
  lastJob = job;
  job[JOB.kind] = JOB_KIND.product;
  whole(job);
  Atomics.store(job, JOB.state, JOB_STATE.posted);
  Atomics.notify(job, JOB.state, 1);
  const scratch = scratchAddress(SCRATCH, 0);
  try {
    before();
    const own = kernels.callerJob();
    whole(own);
    dtype.gemm(CALLER_JOB_AT, scratch);
  } finally {
    // Even should the caller's part throw, the posted job is done or withdrawn before the record
    // is written again: takes it if the helper has not (its one slab is then gone from the counter).
    dtype.gemm(0, scratch);
    if (joinHelper(job)) redoProduct(job, dtype, scratch, job[JOB.n]!);
  }
  return true;
}

/** Makes the product in record `job` one slab, for one thread. */
function whole(job: Int32Array): void {
  job[JOB.counter] = 0;
  job[JOB.chunks] = 1;
  job[JOB.axis] = 1;
  job[JOB.width] = job[JOB.n]!;
}

/**
 * Returns once the helper is done with the job the caller posted and has worked on itself:
 * withdraws the job if the helper never took it, else waits for it to finish its part. True if
 * the helper trapped (it has then stopped; were the trap ours too, it would surface as the error
 * it is when the caller redoes the job alone, as it must, alone from now on).
 */
function joinHelper(job: Int32Array): boolean {
  if (Atomics.compareExchange(job, JOB.state, JOB_STATE.posted, JOB_STATE.idle) === JOB_STATE.posted) return false;
  // Its part ends soon: poll a while before sleeping, as waking can cost as much as a slab.
  for (let spin = 0; spin < MAIN_SPINS && Atomics.load(job, JOB.state) === JOB_STATE.taken; spin++);
  while (Atomics.load(job, JOB.state) === JOB_STATE.taken) Atomics.wait(job, JOB.state, JOB_STATE.taken);
  const failed = Atomics.load(job, JOB.state) === JOB_STATE.failed;
  Atomics.store(job, JOB.state, JOB_STATE.idle);
  if (failed) helper = 'failed';
  return failed;
}

/** Redoes the whole n-column product in the job record on this thread (the helper trapped in it). */
function redoProduct(job: Int32Array, dtype: DtypeKernels, scratch: number, n: number): void {
  job[JOB.counter] = 0;
  job[JOB.chunks] = 1;
  job[JOB.axis] = 1;
  job[JOB.width] = n;
  dtype.gemm(0, scratch);
}

/**
 * Runs the convolution job in the job record (kind and CONV_JOB's fields written by the caller)
 * over `images` images: posts it to the helper when it is ready and there are two images or more,
 * takes images itself (thread 0) until none is left, and returns once every image is done. Each
 * thread takes one image at a time, so a helper slowed by other work on its core leaves the rest
 * to the caller, and a batch wakes the helper once. Should the helper trap, the caller redoes
 * every image alone (an image's outputs are written afresh, never accumulated).
 */
export function runImages(kernels: Kernels, dtype: DtypeKernels, images: number): void {
  const job = kernels.job();
  lastJob = job;
  const scratch = scratchAddress(SCRATCH, 0);
  job[JOB.counter] = 0;
  job[JOB.chunks] = images;
  if (images < 2 || threads !== 2 || !helperReady(kernels)) {
    dtype.convImages(0, scratch, 0);
    return;
  }
  Atomics.store(job, JOB.state, JOB_STATE.posted);
  Atomics.notify(job, JOB.state, 1);
  dtype.convImages(0, scratch, 0);
  if (!joinHelper(job)) return;
  job[JOB.counter] = 0;
  dtype.convImages(0, scratch, 0);
}

function roundUp(x: number, multiple: number): number {
  return Math.ceil(x / multiple) * multiple;
}
