import type { FloatArray } from '../../dtype.js';
import { BINARY_OPS, UNARY_OPS, type WasmBinaryOp, type WasmUnaryOp } from './layout.js';
import { residentOf, type Resident } from './resident.js';
import { copyIn, copyInOut, copyOut, float64Out, scratchRegion, staged } from './memory.js';

/**
 * Drivers of the elementwise WebAssembly kernels (source: scripts/wasm/elementwise.ts). Each
 * gives the same bits as its TypeScript loop and returns false, having done nothing, where
 * WebAssembly SIMD is missing or the arrays do not fit its memory.
 */

/**
 * How an operand of `binaryWasm` covers its rows×n output: every element ('full'), one row
 * repeated over the rows ('row', a bias), one value per row ('column') or one value ('scalar').
 */
export type OperandLayout = 'full' | 'row' | 'column' | 'scalar';

/** Elements an operand of each layout holds, for a rows×n output. */
const operandLength = (layout: OperandLayout, rows: number, n: number): number =>
  layout === 'full' ? rows * n : layout === 'row' ? n : layout === 'column' ? rows : 1;


/**
 * out = a op b in WebAssembly over a rows×n output, each operand laid out as its layout says.
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
  const walks = (layout: OperandLayout): number => (layout === 'full' || layout === 'row' ? 1 : 0);
  const rowBytes = (layout: OperandLayout): number => (layout === 'full' ? n * size : layout === 'column' ? size : 0);
  const regions = [
    // Two vectors' room where the kernel splats the one value of a 'column' or 'scalar' row.
    float64Out(null, 8),
    copyIn(a, operandLength(aLayout, rows, n)),
    copyIn(b, operandLength(bLayout, rows, n)),
    copyOut(out, rows * n),
  ];
  return staged(f32, regions, (kernels, at) =>
    kernels.binary(BINARY_OPS.indexOf(op), at[1]!, walks(aLayout), rowBytes(aLayout), at[2]!, walks(bLayout), rowBytes(bLayout), at[3]!, n, rows, at[0]!),
  );
}

/**
 * Input elements (a's and c's rows together) one `outerWasm` call copies into WebAssembly memory
 * at most: a batch's rows go in a call at a time (64 examples of a 784-128 layer in one), and a
 * large batch in several, so the memory never grows with n.
 */
const OUTER_INPUTS = 1 << 18;

/** Examples whose rows `outerWasm` copies in at once: `OUTER_INPUTS` elements' worth, at least one. */
const outerGroup = (n: number, m: number, k: number): number => Math.max(1, Math.min(n, Math.floor(OUTER_INPUTS / (m + k))));

/** Elements of the room after an `outerWasm` result in a memory of its own (resident.ts) for its inputs: one group's rows. */
export const outerRoom = (n: number, m: number, k: number): number => outerGroup(n, m, k) * (m + k);

/**
 * out[b, i, j] = a[b, i]·c[b, j] for b < n, i < m, j < k, in WebAssembly. Where out is storage
 * in a memory of its own (resident.ts), the kernel writes it there, the rows of a and c copied
 * into the room after it a group at a time. Otherwise the rows go into the kernels' memory
 * together, a group of examples per call, and each example's m·k results are made in one
 * scratch block and copied out from there while still in cache, so the memory needed is one
 * product's results whatever n. One call per group rather than per example: the staging of
 * each call (its regions, its copies of two short rows) costs about what copying out a product
 * of a few thousand elements does.
 * @example if (!outerWasm(g, x, 64, 10, 128, out)) batchedOuterJs(g, x, 64, 10, 128, out);
 */
export function outerWasm(a: FloatArray, c: FloatArray, n: number, m: number, k: number, out: FloatArray): boolean {
  const resident = residentOf(out);
  if (resident !== undefined && outerInPlace(resident, a, c, n, m, k, out)) return true;
  const f32 = out instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const group = outerGroup(n, m, k);
  for (let first = 0; first < n; first += group) {
    const count = Math.min(group, n - first);
    const regions = [copyIn(a, count * m, first * m), copyIn(c, count * k, first * k), scratchRegion(m * k)];
    const done = staged(f32, regions, (kernels, at, all) => {
      const block = f32 ? new Float32Array(all.memory.buffer, at[2]!, m * k) : new Float64Array(all.memory.buffer, at[2]!, m * k);
      for (let b = 0; b < count; b++) {
        kernels.outer(at[0]! + b * m * size, at[1]! + b * k * size, at[2]!, m, k);
        out.set(block, (first + b) * m * k);
      }
    });
    // Every call needs no more memory than the first: only the first can fail, having written nothing.
    if (!done) return false;
  }
  return true;
}

/** `outerWasm` into out where it lies, in `resident`'s memory; false, having done nothing, where the result or one example's rows do not fit. */
function outerInPlace(resident: Resident, a: FloatArray, c: FloatArray, n: number, m: number, k: number, out: FloatArray): boolean {
  const f32 = out instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const group = Math.min(n, Math.floor(resident.roomBytes / ((m + k) * size)));
  if (n * m * k * size > resident.room || group === 0) return false;
  const { room } = resident;
  const memory = out.buffer as ArrayBuffer;
  const view = f32 ? new Float32Array(memory) : new Float64Array(memory);
  const kernels = f32 ? resident.kernels.f32 : resident.kernels.f64;
  const cAt = room + group * m * size;
  for (let first = 0; first < n; first += group) {
    const count = Math.min(group, n - first);
    view.set(a.subarray(first * m, (first + count) * m), room / size);
    view.set(c.subarray(first * k, (first + count) * k), cAt / size);
    for (let b = 0; b < count; b++) kernels.outer(room + b * m * size, cAt + b * k * size, (first + b) * m * k * size, m, k);
  }
  return true;
}

/**
 * out = f(x) in WebAssembly over arrays of one dtype and length.
 * @example if (!unaryWasm('relu', x, out)) mapUnary('relu', x, out);
 */
export function unaryWasm(op: WasmUnaryOp, x: FloatArray, out: FloatArray): boolean {
  const n = out.length;
  return staged(out instanceof Float32Array, [copyIn(x, n), copyOut(out, n)], (kernels, at) =>
    kernels.unary(UNARY_OPS.indexOf(op), at[0]!, at[1]!, n),
  );
}

/**
 * Sums x, seen as [outer, rows, n], over its middle axis into out of [outer, n], in
 * WebAssembly: float64 sums, row by row, one rounding into out, as the TypeScript reduction.
 * @example if (!columnSumsWasm(g, 1, batch, features, db)) reduceAxis('sum', ...);
 */
export function columnSumsWasm(x: FloatArray, outer: number, rows: number, n: number, out: FloatArray): boolean {
  const regions = [copyIn(x, outer * rows * n), float64Out(out, outer * n)];
  return staged(x instanceof Float32Array, regions, (kernels, at) => kernels.columnSums(at[0]!, outer, rows, n, at[1]!));
}

/**
 * out = g·[y > 0] over [rows, n] (relu's VJP from its output) and, when `sums` is given, its
 * column sums (float64, row by row), in WebAssembly.
 * @example if (!reluBackwardWasm(g, y, 64, 128, dh, db)) reluBackwardJs(...);
 */
export function reluBackwardWasm(g: FloatArray, y: FloatArray, rows: number, n: number, out: FloatArray, sums: FloatArray | null): boolean {
  const length = rows * n;
  // The product is computed over g's copy in place, then copied out to `out`.
  const regions = [copyInOut(g, length, out), copyIn(y, length), float64Out(sums, n)];
  return staged(out instanceof Float32Array, regions, (kernels, at) => kernels.reluBackward(at[0]!, at[1]!, rows, n, at[2]!, sums === null ? 0 : 1));
}

/** Bytes of input staged per call of `softmaxWasm` (256 KiB): a chunk's copies stay in cache, and the memory does not grow with the tensor. */
const SOFTMAX_STAGE_BYTES = 1 << 18;

/**
 * Softmax of each of `rows` contiguous rows of n elements of x into out, in WebAssembly, with
 * the bits of the TypeScript kernel (Math.exp's exponentials, float64 sums in index order), a
 * chunk of rows per staging. With `safe`, a row of -Infinity only gives 0s.
 * @example if (!softmaxWasm(scores, rows, n, true, out)) softmaxForwardJs(...);
 */
export function softmaxWasm(x: FloatArray, rows: number, n: number, safe: boolean, out: FloatArray): boolean {
  if (rows === 0 || n === 0) return true;
  const f32 = out instanceof Float32Array;
  const chunk = Math.max(1, Math.floor(SOFTMAX_STAGE_BYTES / (n * (f32 ? 4 : 8))));
  for (let first = 0; first < rows; first += chunk) {
    const count = Math.min(chunk, rows - first);
    const regions = [copyIn(x, count * n, first * n), copyOut(out, count * n, first * n)];
    const done = staged(f32, regions, (kernels, at) => kernels.softmax(at[0]!, at[1]!, count, n, safe ? 1 : 0));
    // Every chunk but the last needs the same memory: only the first can fail, having written nothing.
    if (!done) return false;
  }
  return true;
}

/**
 * out = y ⊙ (g - Σ g ⊙ y) per contiguous row of n elements (softmax's VJP from its output y), in
 * WebAssembly, with the bits of the TypeScript kernel (the sum in float64 in index order), a
 * chunk of rows per staging.
 * @example if (!softmaxBackwardWasm(g, y, rows, n, out)) softmaxBackwardJs(...);
 */
export function softmaxBackwardWasm(g: FloatArray, y: FloatArray, rows: number, n: number, out: FloatArray): boolean {
  if (rows === 0 || n === 0) return true;
  const f32 = out instanceof Float32Array;
  const chunk = Math.max(1, Math.floor(SOFTMAX_STAGE_BYTES / (n * (f32 ? 4 : 8))));
  for (let first = 0; first < rows; first += chunk) {
    const count = Math.min(chunk, rows - first);
    const regions = [copyIn(g, count * n, first * n), copyIn(y, count * n, first * n), copyOut(out, count * n, first * n)];
    const done = staged(f32, regions, (kernels, at) => kernels.softmaxBackward(at[0]!, at[1]!, at[2]!, count, n));
    if (!done) return false;
  }
  return true;
}
