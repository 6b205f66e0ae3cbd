/**
 * The memory layout the WebAssembly gemm module and its loader agree on (both import this
 * file: scripts/wasm/ bakes the addresses into the module, the loader writes to them).
 *
 *   [0, JOB_BYTES)                       the job record: one product split into chunks, or a convolution's images;
 *                                        at CALLER_JOB_AT, the caller's own product record
 *   [JOB_BYTES, + THREADS·scratch bytes) one scratch area per thread: edge tile, packed A, packed B
 *   [dataStart, ...)                     operands, copied in per call
 */

/** Element type of one kernel. */
export type WasmDType = 'f32' | 'f64';

/** Blocking parameters of one kernel (elements, not bytes). */
export interface GemmBlocking {
  /** Rows of the register tile. */
  readonly mr: number;
  /** Columns of the register tile (a multiple of the vector width). */
  readonly nr: number;
  /** Depth of a packed slice: a KC×NR panel of B stays in L1. */
  readonly kc: number;
  /** Rows of a packed block of A (a multiple of mr): an MC×KC block stays in L2. */
  readonly mc: number;
  /** Columns of a packed block of B (a multiple of nr). */
  readonly nc: number;
}

/**
 * Word (i32) indices of the job record. A product C = op(A)·op(B) is cut into `chunks` slabs of
 * `width` rows of C (axis 0) or columns (axis 1); every thread takes the next slab with an
 * atomic add on `counter` until none is left. Operands are byte addresses with byte strides:
 * op(A)(i, p) at a + i·rsa + p·csa, op(B)(p, j) at b + p·rsb + j·csb, C(i, j) at c + i·ldc + j·size.
 */
export const JOB = {
  state: 0,
  counter: 1,
  chunks: 2,
  axis: 3,
  width: 4,
  m: 5,
  n: 6,
  k: 7,
  a: 8,
  rsa: 9,
  csa: 10,
  b: 11,
  rsb: 12,
  csb: 13,
  c: 14,
  ldc: 15,
  /** 0: float32, 1: float64 (the helper thread picks the kernel from it). */
  dtype: 16,
  /** Set to 1 by the helper thread once it is ready to take jobs. */
  ready: 17,
  /** What the job is (JOB_KIND): a product's slabs, or one of a convolution's three products over its images. */
  kind: 18,
} as const;

/** The job's `kind` word: a product (the fields above), or a convolution over images (CONV_JOB's fields). */
export const JOB_KIND = { product: 0, convForward: 1, convAdjoint: 2, convWeightGrad: 3 } as const;

/**
 * Word indices of a convolution job, past the product's: images [first, first + chunks) of a
 * batch, which every thread takes one at a time with an atomic add on the job's `counter` and
 * carries through all of that image's kernels with its own work area. Addresses are bytes.
 * `input` is x (forward, weight gradient) or the output gradient u (adjoint); `out` is y (or,
 * pooled, the pooled maxima), the input gradient, or the weight gradient; `weight` is w;
 * `grad` is u for the weight gradient. A pooled gradient (`pooled` = 1 on a backward job) is
 * given as its pooled values (at `input` or `grad`, `inner` a plane) and their `argmax` indices; a pooled forward
 * writes the maxima at `out` and their indices at `argmax`. `bias` is 0 for none (the job record
 * lives at 0). Each image's weight-gradient product goes to its own `parts` slot (image 0's to
 * `out`), summed in image order afterwards. Thread t's work area (im2col columns, then one
 * image's output block) is at work + t·workStride, its block at `block` bytes in.
 */
export const CONV_JOB = {
  first: 32,
  groups: 33,
  cg: 34,
  og: 35,
  // The geometry, in ConvGeometry's order.
  h: 36,
  w: 37,
  kh: 38,
  kw: 39,
  oh: 40,
  ow: 41,
  sh: 42,
  sw: 43,
  ph: 44,
  pw: 45,
  dh: 46,
  dw: 47,
  input: 48,
  weight: 49,
  grad: 50,
  bias: 51,
  out: 52,
  argmax: 53,
  parts: 54,
  work: 55,
  workStride: 56,
  block: 57,
  pooled: 58,
  // The pooling windows (a forward's, or those a pooled gradient came through).
  poolKh: 59,
  poolKw: 60,
  poolSh: 61,
  poolSw: 62,
  poolOh: 63,
  poolOw: 64,
  /** Pooled values per plane: poolOh·poolOw for a forward, a pooled gradient's count per plane. */
  inner: 65,
} as const;

/**
 * The job's `state` word: the main thread posts (idle → posted); the helper takes it
 * (posted → taken) and finishes it (taken → finished), or traps in a slab and stops for good
 * (taken → failed); the main thread, done with its own slabs, either withdraws a job nobody
 * took (posted → idle) or waits for finished or failed, then resets it to idle. The
 * compare-and-swaps make "taken" and "withdrawn" exclusive.
 */
export const JOB_STATE = { idle: 0, posted: 1, taken: 2, finished: 3, failed: 4 } as const;

export const JOB_BYTES = 384;

/**
 * Byte address of a second product record (room for every JOB word) in the job area's last 96
 * bytes, past CONV_JOB's words: the caller's own product, made while the helper works on the one
 * posted at 0 (`runProductPair`). Only the caller reads it.
 */
export const CALLER_JOB_AT = JOB_BYTES - 96;

/** Pages of the largest memory the module accepts: byte addresses are i32, kept below 2 GiB. */
export const MAX_PAGES = 32767;

/** Threads that may work on one product: the caller and one helper (the machines aimed at have 2+ cores). */
export const GEMM_THREADS = 2;

export interface ScratchLayout {
  /** Byte offsets inside one thread's scratch area. */
  readonly tile: number;
  readonly packA: number;
  readonly packB: number;
  /** Size of one thread's area (a multiple of 64). */
  readonly bytes: number;
}

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Scratch big enough for either dtype's blocking: edge tile, MC×KC of A, KC×NC of B. */
export function scratchLayout(blocking: Readonly<Record<WasmDType, GemmBlocking>>): ScratchLayout {
  const size: Record<WasmDType, number> = { f32: 4, f64: 8 };
  const most = (f: (b: GemmBlocking, s: number) => number): number =>
    Math.max(...(['f32', 'f64'] as const).map((t) => align64(f(blocking[t], size[t]))));
  const tile = 0;
  const packA = most((b, s) => b.mr * b.nr * s);
  const packB = packA + most((b, s) => b.mc * b.kc * s);
  const bytes = packB + most((b, s) => b.kc * b.nc * s);
  return { tile, packA, packB, bytes };
}

/** Byte address of thread t's scratch area. */
export function scratchAddress(layout: ScratchLayout, thread: number): number {
  return JOB_BYTES + thread * layout.bytes;
}

/** First byte free for operands. */
export function dataStart(layout: ScratchLayout): number {
  return JOB_BYTES + GEMM_THREADS * layout.bytes;
}

/** The elementwise ops of the module's `binary_<t>`, in the order of its `op` argument. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div'] as const;
export type WasmBinaryOp = (typeof BINARY_OPS)[number];

/** Whether the module's `binary_<t>` has op `kind`. */
export const isWasmBinaryOp = (kind: string): kind is WasmBinaryOp => (BINARY_OPS as readonly string[]).includes(kind);

/** The elementwise ops of the module's `unary_<t>`, in the order of its `op` argument. */
export const UNARY_OPS = ['neg', 'abs', 'sqrt', 'relu', 'square'] as const;
export type WasmUnaryOp = (typeof UNARY_OPS)[number];

/** Whether the module's `unary_<t>` has op `kind`. */
export const isWasmUnaryOp = (kind: string): kind is WasmUnaryOp => (UNARY_OPS as readonly string[]).includes(kind);
