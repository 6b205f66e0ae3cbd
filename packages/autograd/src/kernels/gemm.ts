import type { FloatArray } from '../dtype.js';
import { wantsWasm, wasmDeclined } from './backend.js';
import { gemmJs } from './gemm-js.js';
import { biasActivation } from './fused.js';
import { gemmBatchWasm, gemmWasm, gemmWithTangentWasm, linearBackwardWasm } from './wasm/gemm.js';

/**
 * One matrix product C = op(A)·op(B), the argument of `gemm` and of each of its backends.
 * op(A) is m×k: A is stored m×k row-major, or k×m when `transA` (read in place, never copied).
 * op(B) is k×n: B is stored k×n, or n×k when `transB`. C is m×n row-major. Each operand starts
 * at its offset (default 0), so batched products need no copies. A stored row is `lda` (`ldb`,
 * `ldc`) elements after the one before, by default as many as it holds: a larger step reads a
 * matrix that is a block of columns of a wider one (an attention head inside its projection)
 * in place; C's other columns are left as they were.
 */
export interface GemmCall {
  readonly transA: boolean;
  readonly transB: boolean;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: FloatArray;
  readonly aOffset?: number;
  readonly b: FloatArray;
  readonly bOffset?: number;
  readonly c: FloatArray;
  readonly cOffset?: number;
  /** Elements from one stored row of A to the next (default: its width, k, or m when `transA`). */
  readonly lda?: number;
  /** Elements from one stored row of B to the next (default: its width, n, or k when `transB`). */
  readonly ldb?: number;
  /** Elements from one row of C to the next (default n). */
  readonly ldc?: number;
  /** A linear layer's epilogue: n values added to every row of C, then relu when `relu`. */
  readonly bias?: FloatArray | null;
  readonly relu?: boolean;
  /** Keep the product on the calling thread, however large (never shared with the helper thread). */
  readonly alone?: boolean;
}

/**
 * C = op(A)·op(B), overwriting C (see `GemmCall`). NaN and Inf propagate as in the plain
 * triple loop: no term is ever skipped. The optional epilogue (bias, then relu) runs in the
 * same call (in WebAssembly, before C leaves its memory).
 * @example gemm({ transA: false, transB: true, m: rows, n: out, k: inF, a: x, b: w, c: y, bias, relu: true });
 */
export function gemm(call: GemmCall): void {
  const { m, n, k } = call;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    const cOffset = call.cOffset ?? 0, ldc = call.ldc ?? n;
    for (let i = 0; i < m; i++) call.c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
    epilogueJs(call);
    return;
  }
  if (wantsWasm('gemm', m * n * k)) {
    if (gemmWasm(call)) return;
    wasmDeclined('gemm');
  }
  gemmJs(call);
  epilogueJs(call);
}

/**
 * Products of the same shape and flags, one per entry of `aOffsets` (and `bOffsets`): product i
 * reads A from `a` at `aOffsets[i]` and B from `b` at `bOffsets[i]` (repeated offsets broadcast
 * an operand), and writes C at `cOffsets[i]` in `c` (default i·m·n), each with the row steps
 * of `GemmCall`. The products' results must not overlap.
 */
export interface GemmBatch extends Pick<GemmCall, 'transA' | 'transB' | 'm' | 'n' | 'k' | 'a' | 'b' | 'c' | 'lda' | 'ldb' | 'ldc'> {
  readonly aOffsets: ArrayLike<number>;
  readonly bOffsets: ArrayLike<number>;
  readonly cOffsets?: ArrayLike<number>;
}

/**
 * Every product of `batch` (see `GemmBatch`), each with the bits `gemm` gives it alone: the same
 * kernel runs each product. Where that kernel is WebAssembly, the products are staged into its
 * memory in groups, one copy in of each operand's span and one copy out per group, instead of
 * three copies per product (a batch of small products, such as attention's heads, is otherwise
 * dominated by them).
 * @example gemmBatch({ transA: false, transB: true, m, n, k, a: q, aOffsets: [0, m * k], b: key, bOffsets: [0, n * k], c: scores });
 */
export function gemmBatch(batch: GemmBatch): void {
  const { m, n, k } = batch;
  const count = batch.aOffsets.length;
  const done = count > 1 && m > 0 && n > 0 && k > 0 && wantsWasm('gemm', m * n * k) ? gemmBatchWasm(batch) : 0;
  const { transA, transB, a, b, c, lda, ldb, ldc, cOffsets } = batch;
  const steps = { ...(lda === undefined ? {} : { lda }), ...(ldb === undefined ? {} : { ldb }), ...(ldc === undefined ? {} : { ldc }) };
  for (let i = done; i < count; i++) {
    gemm({ transA, transB, m, n, k, a, aOffset: batch.aOffsets[i]!, b, bOffset: batch.bOffsets[i]!, c, cOffset: cOffsets === undefined ? i * m * n : cOffsets[i]!, ...steps });
  }
}

/**
 * The tangents of a linear layer's operands along which `gemmWithTangent` makes the tangent of
 * its product: of A (the input, laid out as A), of B (the weights, as B) and of the bias (n
 * values), each null where it has none; A's or B's is non-null.
 */
export interface GemmTangents {
  readonly a: FloatArray | null;
  readonly b: FloatArray | null;
  readonly bias: FloatArray | null;
}

/**
 * A linear layer's product C (as `gemm`, with its epilogue) and, in the same pass, its tangent
 * T = (op(A)·op(TB) + tBias) + op(TA)·op(B) along `tangents` (terms without a tangent left out),
 * masked by [C > 0] when the epilogue applies relu: forward mode's products sharing their
 * operands, each staged once. T has the bits of those products, the bias, the elementwise add
 * and the mask made one by one in that order, as linear's JVP rule in Tensor ops makes them.
 * Returns false, having done nothing, where the products would not run in WebAssembly: the
 * caller then makes them apart.
 * @example if (!gemmWithTangent({ transA: false, transB: true, m, n, k, a: x, b: w, c: y, bias: b, relu: true }, { a: tx, b: tw, bias: tb }, ty)) gemm(...);
 */
export function gemmWithTangent(call: GemmCall, tangents: GemmTangents, t: FloatArray): boolean {
  const { m, n, k } = call;
  if (m === 0 || n === 0 || k === 0 || (tangents.a === null && tangents.b === null)) return false;
  return wantsWasm('gemm', m * n * k) && gemmWithTangentWasm(call, tangents, t);
}

/**
 * A linear layer's VJP, y = act(x·Wᵀ + b) with x [rows, inF] and W [outF, inF]: from the output's
 * gradient g (and, for relu, the output y; null without), dH = g·[y > 0], dX = dH·W into `dx`,
 * dW = dHᵀ·X into `dw` and db = Σ_rows dH into `db` (each null where not wanted; x may then be
 * null too for dw). The arguments of `linearBackward`.
 */
export interface LinearBackward {
  readonly g: FloatArray;
  readonly y: FloatArray | null;
  readonly w: FloatArray;
  readonly x: FloatArray | null;
  readonly rows: number;
  readonly inF: number;
  readonly outF: number;
  readonly dx: FloatArray | null;
  readonly dw: FloatArray | null;
  readonly db: FloatArray | null;
}

/**
 * A linear layer's whole VJP (see `LinearBackward`) in one WebAssembly staging, where its
 * products run in WebAssembly: dH is made and read in place instead of crossing into WebAssembly
 * memory once per product and once for the bias. The bits of the separate kernels (the relu mask,
 * gemm, the float64 column sums). Returns false, having done nothing, elsewhere: the caller then
 * takes the separate ops.
 * @example if (!linearBackward({ g, y: null, w, x, rows, inF, outF, dx, dw, db })) ...;
 */
export function linearBackward(v: LinearBackward): boolean {
  const { rows, inF, outF } = v;
  if (rows === 0 || inF === 0 || outF === 0 || (v.dw !== null && v.x === null)) return false;
  return wantsWasm('gemm', rows * inF * outF) && linearBackwardWasm(v);
}

function epilogueJs({ m, n, c, cOffset = 0, ldc = n, bias = null, relu = false }: GemmCall): void {
  if (bias === null && !relu) return;
  if (ldc === n) biasActivation(cOffset === 0 && c.length === m * n ? c : c.subarray(cOffset, cOffset + m * n), m, n, bias, relu);
  else for (let i = 0; i < m; i++) biasActivation(c.subarray(cOffset + i * ldc, cOffset + i * ldc + n), 1, n, bias, relu);
}
