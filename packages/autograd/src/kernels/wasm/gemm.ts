import type { FloatArray } from '../../dtype.js';
import type { GemmBatch, GemmCall, GemmTangents, LinearBackward } from '../gemm.js';
import type { DtypeKernels, Kernels } from './module.js';
import { runProduct, runProductPair } from './helper-thread.js';
import { BINARY_OPS, JOB } from './layout.js';
import { copyIn, copyInLate, copyInNow, copyInOut, copyOut, float64Out, scratchRegion, staged } from './memory.js';

/**
 * C = op(A)·op(B) in WebAssembly; same contract as `gemm`, m, n, k ≥ 1, including the optional
 * epilogue (a bias of n values added to every row, then relu), applied while C is still in
 * WebAssembly memory. Large products are shared with the helper thread (helper-thread.ts).
 * Returns false, having done nothing, where WebAssembly SIMD is missing or the operands do not
 * fit its memory.
 * @example if (!gemmWasm({ transA: false, transB: false, m: 2, n: 2, k: 2, a, b, c })) gemmJs(...);
 */
export function gemmWasm(call: GemmCall): boolean {
  const { m, n, c, bias = null, relu = false } = call;
  const f32 = c instanceof Float32Array;
  const { aSpan, bSpan, cSpan, ldc } = spans(call);
  // A C whose rows are apart is copied in too, so that the columns between them come back unchanged.
  const cRegion = ldc === n ? copyOut(c, cSpan, call.cOffset) : copyInOut(c, cSpan, c, call.cOffset);
  const regions = [copyIn(call.a, aSpan, call.aOffset), copyIn(call.b, bSpan, call.bOffset), cRegion, copyIn(bias, bias === null ? 0 : n)];
  return staged(f32, regions, (kernels, at, all) => {
    product(call, f32, at[0]!, at[1]!, at[2]!, all, kernels);
    if (bias === null && !relu) return;
    const flags = (bias === null ? 0 : 1) | (relu ? 2 : 0);
    if (ldc === n) kernels.biasActivation(at[2]!, m, n, at[3]!, flags);
    else for (let i = 0; i < m; i++) kernels.biasActivation(at[2]! + i * ldc * (f32 ? 4 : 8), 1, n, at[3]!, flags);
  }, m * n * call.k);
}

/** Elements each operand of a product spans from its first (the last row ends at its width), and C's row step. */
function spans({ transA, transB, m, n, k, lda, ldb, ldc = n }: Pick<GemmCall, 'transA' | 'transB' | 'm' | 'n' | 'k' | 'lda' | 'ldb' | 'ldc'>): { aSpan: number; bSpan: number; cSpan: number; ldc: number } {
  const [rowsA, colsA] = transA ? [k, m] : [m, k];
  const [rowsB, colsB] = transB ? [n, k] : [k, n];
  return {
    aSpan: (rowsA - 1) * (lda ?? colsA) + colsA,
    bSpan: (rowsB - 1) * (ldb ?? colsB) + colsB,
    cSpan: (m - 1) * ldc + n,
    ldc,
  };
}

/**
 * A linear layer's output and its tangent in one staging: C = op(A)·op(B) with `call`'s
 * epilogue, and T along the tangents of A, B and the bias (see `GemmTangents`), masked by
 * [C > 0] when the epilogue applies relu (relu's JVP). A and B are copied into WebAssembly
 * memory once for every product that reads them, and the products sharing an operand are one
 * product where the layout allows: A·[B; TB] (each row of the result C's row then op(A)·op(TB)'s),
 * or [A; TA]·B without TB. Each step has the bits of the one it stands for (`gemmWasm`'s
 * products, the bias, the elementwise add, the mask), in the same order.
 * Returns false, having done nothing, where `gemmWasm` would, and for a call with row steps (`lda`, `ldb`, `ldc`).
 * @example if (!gemmWithTangentWasm({ transA: false, transB: true, m, n, k, a: x, b: w, c: y, bias: b, relu: true }, { a: null, b: tw, bias: tb }, ty)) ...;
 */
export function gemmWithTangentWasm(call: GemmCall, tangents: GemmTangents, t: FloatArray): boolean {
  // Operands whose rows are apart (see GemmCall) take the products apart.
  if (call.lda !== undefined || call.ldb !== undefined || call.ldc !== undefined) return false;
  return tangents.b === null ? alongInput(call, tangents, t) : alongWeights(call, tangents, t);
}

/** `gemmWithTangentWasm` without a tangent of B: T = op(TA)·op(B) (+ tBias), masked. */
function alongInput(call: GemmCall, { a: ta, bias: tBias }: GemmTangents, t: FloatArray): boolean {
  const { m, n, k, c, bias = null, relu = false } = call;
  const size = c instanceof Float32Array ? 4 : 8;
  const regions = [
    copyIn(call.a, m * k, call.aOffset), copyIn(ta, m * k), copyOut(c, m * n, call.cOffset), copyOut(t, m * n),
    copyIn(call.b, k * n, call.bOffset), copyIn(bias, bias === null ? 0 : n), copyIn(tBias, tBias === null ? 0 : n),
  ];
  return staged(size === 4, regions, (kernels, at, all) => {
    const aAt = at[0]!, taAt = at[1]!, cAt = at[2]!, tAt = at[3]!, bAt = at[4]!, biasAt = at[5]!, tBiasAt = at[6]!;
    // Where A and TA lie one above the other, and so do C and T (each region starts a cache
    // line, so where the sizes allow), both products are one of 2m rows: each element gets the
    // arithmetic it gets alone, and B is packed once.
    const stacked = !call.transA && taAt === aAt + m * k * size && tAt === cAt + m * n * size;
    product(stacked ? { transA: false, transB: call.transB, m: 2 * m, n, k } : call, size === 4, aAt, bAt, cAt, all, kernels);
    if (!stacked) product(call, size === 4, taAt, bAt, tAt, all, kernels);
    if (bias !== null || relu) kernels.biasActivation(cAt, m, n, biasAt, (bias === null ? 0 : 1) | (relu ? 2 : 0));
    if (tBias !== null) kernels.biasActivation(tAt, m, n, tBiasAt, 1);
    if (relu) kernels.reluBackward(tAt, cAt, m, n, 0, 0);
  }, 2 * m * n * k);
}

const ADD = BINARY_OPS.indexOf('add');

/** -0, the identity of addition (x + -0 is x, -0 included; NaN stays NaN): a copy through `binary`. */
const NEGATIVE_ZERO = { f32: new Float32Array([-0]), f64: new Float64Array([-0]) };

/**
 * `gemmWithTangentWasm` with a tangent of B. Where the helper thread takes part, the two products
 * run side by side, one per thread: op(A)·op(TB) posted to the helper as soon as A and TB are in,
 * while the caller copies B in and makes op(A)·op(B) (each thread packs A once, as for one product
 * cut in two). On one thread, op(A)·op(B) and op(A)·op(TB) are the halves of one 2n-wide block,
 * made as one product where B and TB are read transposed and lie one above the other (A packed
 * once), each half then taken out to its own contiguous result by the pass that adds its bias
 * (or -0). Either way op(TA)·op(B) is then added to T's.
 */
function alongWeights(call: GemmCall, { a: ta, b: tb, bias: tBias }: GemmTangents, t: FloatArray): boolean {
  const { m, n, k, c, bias = null, relu = false } = call;
  const f32 = c instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const regions = [
    copyIn(call.a, m * k, call.aOffset), copyInLate(call.b, k * n, call.bOffset), copyIn(tb, k * n), scratchRegion(2 * m * n),
    copyOut(c, m * n, call.cOffset), copyOut(t, m * n), copyIn(ta, ta === null ? 0 : m * k), scratchRegion(ta === null ? 0 : m * n),
    copyIn(bias ?? NEGATIVE_ZERO[f32 ? 'f32' : 'f64'], bias === null ? 1 : n), copyIn(tBias ?? NEGATIVE_ZERO[f32 ? 'f32' : 'f64'], tBias === null ? 1 : n),
    scratchRegion(32 / size),
  ];
  return staged(f32, regions, (kernels, at, all) => {
    // Read by index: destructuring goes through an iterator, garbage on every call.
    const aAt = at[0]!, bAt = at[1]!, tbAt = at[2]!, wideAt = at[3]!, cAt = at[4]!, tAt = at[5]!, taAt = at[6]!, tcAt = at[7]!, biasAt = at[8]!, tBiasAt = at[9]!, slot = at[10]!;
    writeJob(all.job(), call, f32, aAt, tbAt, tAt);
    writeJob(all.callerJob(), call, f32, aAt, bAt, cAt);
    if (runProductPair(all, kernels, m * n * k, () => copyInNow(1))) {
      // C = act(op(A)·op(B) + bias), as `gemmWasm` makes it; T = op(A)·op(TB) + tBias.
      if (bias !== null || relu) kernels.biasActivation(cAt, m, n, biasAt, (bias === null ? 0 : 1) | (relu ? 2 : 0));
      if (tBias !== null) kernels.biasActivation(tAt, m, n, tBiasAt, 1);
    } else {
      copyInNow(1);
      const row = 2 * n * size;
      // Shapes spelled out: spreading the call into a new object costs more than the rest of this step.
      const wide = { transA: call.transA, transB: call.transB, m, n, k, ldc: 2 * n };
      if (call.transB && tbAt === bAt + k * n * size) product({ transA: call.transA, transB: true, m, n: 2 * n, k, ldc: 2 * n, sideBySide: 2 }, f32, aAt, bAt, wideAt, all, kernels);
      else {
        product(wide, f32, aAt, bAt, wideAt, all, kernels);
        product(wide, f32, aAt, tbAt, wideAt + n * size, all, kernels);
      }
      // C = act(op(A)·op(B) + bias): the bias's add (or -0's, a copy) takes the half out of the block.
      kernels.binary(ADD, wideAt, 1, row, biasAt, bias === null ? 0 : 1, 0, cAt, n, m, slot);
      if (relu) kernels.biasActivation(cAt, m, n, 0, 2);
      // T = op(A)·op(TB) + tBias (-0 without: a copy out of the block).
      kernels.binary(ADD, wideAt + n * size, 1, row, tBiasAt, tBias === null ? 0 : 1, 0, tAt, n, m, slot);
    }
    // T += op(TA)·op(B), masked.
    if (ta !== null) {
      product(call, f32, taAt, bAt, tcAt, all, kernels);
      kernels.binary(ADD, tAt, 1, 0, tcAt, 1, 0, tAt, m * n, 1, slot);
    }
    if (relu) kernels.reluBackward(tAt, cAt, m, n, 0, 0);
  }, m * n * k);
}

/**
 * Bytes of operands and results staged at once by `gemmBatchWasm` (256 KiB): a group's copies stay in
 * cache, and a large batch does not grow the (grow-only) memory beyond what its products need.
 */
const BATCH_STAGE_BYTES = 1 << 18;

/**
 * The products of `batch` in WebAssembly (see `gemmBatch`), m, n, k ≥ 1: consecutive products
 * are grouped up to BATCH_STAGE_BYTES, and each group copies in the span of A (and of B) its
 * products read, runs them one by one exactly as `gemmWasm` would, and copies the span of C they
 * write out once (having copied it in first where they leave gaps in it, which come back as they were).
 * Returns how many products it made (all, or those before the first group that does not fit
 * WebAssembly memory, none where SIMD is missing): the caller makes the rest.
 * @example const done = gemmBatchWasm({ transA: false, transB: false, m, n, k, a, aOffsets, b, bOffsets, c });
 */
export function gemmBatchWasm(batch: GemmBatch): number {
  const { m, n, k, a, b, c, aOffsets, bOffsets, cOffsets } = batch;
  const f32 = c instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const matC = m * n;
  const { aSpan, bSpan, cSpan } = spans(batch);
  const count = aOffsets.length;
  const group = Math.max(1, Math.floor(BATCH_STAGE_BYTES / ((m * k + k * n + matC) * size)));
  const call: GemmCall = batch;
  const cAt = (i: number): number => (cOffsets === undefined ? i * matC : cOffsets[i]!);
  for (let first = 0, last = 0; first < count; first = last) {
    last = Math.min(count, first + group);
    // Results do not overlap, so they cover their span exactly when their sizes add up to it. A
    // group that would leave gaps (heads side by side, cut mid-row) ends at the last product
    // that closes them, if any, so that its C need not be copied in.
    let cLow = Infinity, cHigh = 0, closed = 0;
    for (let i = first; i < last; i++) {
      cLow = Math.min(cLow, cAt(i));
      cHigh = Math.max(cHigh, cAt(i) + cSpan);
      if ((i + 1 - first) * matC === cHigh - cLow) closed = i + 1;
    }
    if (closed > first) last = closed;
    let aLow = Infinity, aHigh = 0, bLow = Infinity, bHigh = 0;
    cLow = Infinity;
    cHigh = 0;
    for (let i = first; i < last; i++) {
      aLow = Math.min(aLow, aOffsets[i]!);
      aHigh = Math.max(aHigh, aOffsets[i]! + aSpan);
      bLow = Math.min(bLow, bOffsets[i]!);
      bHigh = Math.max(bHigh, bOffsets[i]! + bSpan);
      cLow = Math.min(cLow, cAt(i));
      cHigh = Math.max(cHigh, cAt(i) + cSpan);
    }
    const cRegion = (last - first) * matC === cHigh - cLow ? copyOut(c, cHigh - cLow, cLow) : copyInOut(c, cHigh - cLow, c, cLow);
    const regions = [copyIn(a, aHigh - aLow, aLow), copyIn(b, bHigh - bLow, bLow), cRegion];
    const ran = staged(f32, regions, (kernels, at, all) => {
      for (let i = first; i < last; i++) {
        product(call, f32, at[0]! + (aOffsets[i]! - aLow) * size, at[1]! + (bOffsets[i]! - bLow) * size, at[2]! + (cAt(i) - cLow) * size, all, kernels);
      }
    }, m * n * k);
    if (!ran) return first;
  }
  return count;
}

/**
 * A linear layer's VJP (see `linearBackward`) in one staging: g (and the output y, for relu's
 * mask) copied in once, masked in place into dH, which both products and the bias's column
 * sums then read where it lies. Each result has the bits of the separate kernels.
 * Returns false, having done nothing, where `gemmWasm` would.
 * @example if (!linearBackwardWasm({ g, y, w, x, rows, inF, outF, dx, dw, db })) ...;
 */
export function linearBackwardWasm(v: LinearBackward): boolean {
  const { g, y, w, x, rows, inF, outF, dx, dw, db } = v;
  if (dw !== null && x === null) return false;
  const f32 = g instanceof Float32Array;
  const regions = [
    copyIn(g, rows * outF), copyIn(y, y === null ? 0 : rows * outF), copyIn(w, dx === null ? 0 : outF * inF), copyIn(x, dw === null ? 0 : rows * inF),
    dx === null ? copyIn(null, 0) : copyOut(dx, rows * inF), dw === null ? copyIn(null, 0) : copyOut(dw, outF * inF), float64Out(db, db === null ? 0 : outF),
  ];
  return staged(f32, regions, (kernels, at, all) => {
    if (y !== null) kernels.reluBackward(at[0]!, at[1]!, rows, outF, at[6]!, db === null ? 0 : 1);
    else if (db !== null) kernels.columnSums(at[0]!, 1, rows, outF, at[6]!);
    // dX = dH·W and dW = dHᵀ·X, as linear's VJP asks matmulT for them.
    if (dx !== null) product({ transA: false, transB: false, m: rows, n: inF, k: outF }, f32, at[0]!, at[2]!, at[4]!, all, kernels);
    if (dw !== null) product({ transA: true, transB: false, m: outF, n: inF, k: rows }, f32, at[0]!, at[3]!, at[5]!, all, kernels);
  }, rows * inF * outF);
}

/**
 * op(A)·op(B) into C, the operands at these byte addresses (already in WebAssembly memory, inside
 * a `staged` call), through the job record (threads take slabs).
 */
export function product(call: ProductShape, f32: boolean, aAt: number, bAt: number, cAt: number, all: Kernels, kernels: DtypeKernels): void {
  writeJob(all.job(), call, f32, aAt, bAt, cAt);
  runProduct(all, kernels, call.m, call.n, call.k, f32, call.alone === true, call.sideBySide);
}

/**
 * A product's flags and sizes, what the job record takes besides the addresses, and how many
 * products of equal width it is side by side along n, all reading the same A (cut as one of them
 * would be: see `splitProduct`; default 1).
 */
export type ProductShape = Pick<GemmCall, 'transA' | 'transB' | 'm' | 'n' | 'k' | 'lda' | 'ldb' | 'ldc' | 'alone'> & { readonly sideBySide?: number };

/**
 * The `helperWork` a `staged` call gives when it posts a job whole (a convolution's images, which
 * both threads take one by one, at any size): the call goes where the helper can reach it.
 */
export const POSTS_JOBS = Infinity;

function writeJob(job: Int32Array, call: ProductShape, f32: boolean, aAt: number, bAt: number, cAt: number): void {
  const { transA, transB, m, n, k } = call;
  const size = f32 ? 4 : 8;
  const lda = (call.lda ?? (transA ? m : k)) * size, ldb = (call.ldb ?? (transB ? k : n)) * size;
  job[JOB.m] = m;
  job[JOB.n] = n;
  job[JOB.k] = k;
  job[JOB.a] = aAt;
  job[JOB.rsa] = transA ? size : lda;
  job[JOB.csa] = transA ? lda : size;
  job[JOB.b] = bAt;
  job[JOB.rsb] = transB ? size : ldb;
  job[JOB.csb] = transB ? ldb : size;
  job[JOB.c] = cAt;
  job[JOB.ldc] = (call.ldc ?? n) * size;
  job[JOB.dtype] = f32 ? 0 : 1;
}
