import type { FloatArray, TensorData } from '../dtype.js';
import { kernelBackend, wantsWasm, wasmDeclined } from './backend.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { addRowsWasm, chunkRows, gatherWasm, scatterAddWasm, selectRowsWasm, type Chunks, type IndexedRows, type WasmIndexing } from './wasm/indexing.js';

// Loops of the indexing ops (gather, scatter, indexSelect, indexAdd, nonzero). Indices arrive
// checked and made non-negative by the caller (gather's and scatter's may not: they check them
// as they go); shapes are plain arrays, 0-d passed as [1]. Float loops past a size run in
// WebAssembly (kernels/wasm/indexing.ts), with the same bits.

/**
 * The offset into an array of `shape` of the start of each row (every dimension but the last)
 * of a `rowShape` no larger than `shape`, with `axis`'s coordinate counted as 0: the part of an
 * element's address that does not depend on its index value or its position in the row.
 */
function rowBases(rowShape: readonly number[], shape: readonly number[], axis: number): Int32Array | Float64Array {
  const nd = rowShape.length;
  const strides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    strides[d] = d === axis ? 0 : s;
    s *= shape[d]!;
  }
  let rows = 1;
  for (let d = 0; d < nd - 1; d++) rows *= rowShape[d]!;
  // Integer offsets keep the kernels' address arithmetic in integers; an array past 2^31
  // elements takes doubles.
  const bases = s < 2 ** 31 ? scratchInt32(rows) : new Float64Array(rows);
  if (nd === 2) {
    // Matrices, the usual case: one stride, without the odometer below (a tenth of a gather's time).
    const s0 = strides[0]!;
    for (let r = 0; r < rows; r++) bases[r] = r * s0;
    return bases;
  }
  const at = new Array<number>(nd).fill(0);
  let base = 0;
  for (let r = 0; r < rows; r++) {
    bases[r] = base;
    for (let d = nd - 2; d >= 0; d--) {
      base += strides[d]!;
      if (++at[d]! < rowShape[d]!) break;
      base -= strides[d]! * rowShape[d]!;
      at[d] = 0;
    }
  }
  return bases;
}

/**
 * `n` int32 elements of scratch, reused by every call: a kernel's row bases live only while it
 * runs (nothing here calls out), and fresh memory for them cost as much as building them.
 */
function scratchInt32(n: number): Int32Array {
  if (scratch.length < n) scratch = new Int32Array(Math.max(n, 2 * scratch.length));
  return scratch.subarray(0, n);
}
let scratch = new Int32Array(0);

/** The stride of `axis` in a row-major array of `shape`. */
function axisStride(shape: readonly number[], axis: number): number {
  let s = 1;
  for (let d = shape.length - 1; d > axis; d--) s *= shape[d]!;
  return s;
}

/** How a scatter combines a source element with the destination's. */
export type ScatterMode = 'set' | 'add' | 'or' | 'multiply';

/**
 * The loops, made by a factory so each dtype runs its own copy (kernels/monomorphic.ts): one
 * loop reading both float widths runs at about half speed. Self-contained: no outside names.
 */
function indexingKernels() {
  return {
    /**
     * out[p] = x[bases[row] + j·inner + index[p]·sa] for the `last` elements p of each row.
     * Returns a negative number if an index lies outside [0, n) (out then holds garbage), else
     * 0 or more: the check rides along the loop (i | (n - 1 - i) is negative exactly then)
     * instead of a pass of its own over the indices.
     */
    gatherRows(x: TensorData, bases: Int32Array | Float64Array, last: number, inner: number, sa: number, index: Int32Array, n: number, out: TensorData): number {
      const top = n - 1;
      let bad = 0;
      if (inner === 0 && sa === 1) {
        // Along the last axis, the common case (picking classes, tokens): one read per element,
        // four per step (about a third faster than one: the loop's own work is most of it).
        const fours = last - (last % 4);
        for (let r = 0, p = 0; r < bases.length; r++) {
          const b = bases[r]!;
          let j = 0;
          for (; j < fours; j += 4, p += 4) {
            const i0 = index[p]!, i1 = index[p + 1]!, i2 = index[p + 2]!, i3 = index[p + 3]!;
            bad |= i0 | (top - i0) | i1 | (top - i1) | i2 | (top - i2) | i3 | (top - i3);
            out[p] = x[b + i0]!;
            out[p + 1] = x[b + i1]!;
            out[p + 2] = x[b + i2]!;
            out[p + 3] = x[b + i3]!;
          }
          for (; j < last; j++, p++) {
            const i = index[p]!;
            bad |= i | (top - i);
            out[p] = x[b + i]!;
          }
        }
        return bad;
      }
      for (let r = 0, p = 0; r < bases.length; r++) {
        const b = bases[r]!;
        for (let j = 0; j < last; j++, p++) {
          const i = index[p]!;
          bad |= i | (top - i);
          out[p] = x[b + j * inner + i * sa]!;
        }
      }
      return bad;
    },
    /**
     * The placement of gatherRows: out[...] (op)= src[p]. Returns a negative number if an index
     * lies outside [0, n) (out then holds garbage: the writes went on, some to wrong places, none
     * outside out), else 0 or more, checked along the loop as gatherRows does.
     */
    scatterRows(out: TensorData, bases: Int32Array | Float64Array, last: number, inner: number, sa: number, index: Int32Array, n: number, src: TensorData, mode: string): number {
      const top = n - 1;
      let bad = 0;
      const fours = last - (last % 4);
      for (let r = 0, p = 0; r < bases.length; r++) {
        const b = bases[r]!;
        if (mode === 'add' && inner === 0 && sa === 1) {
          // Four per step as gatherRows; each sum is its own statement, in order, so repeated
          // indices among the four still add one after another.
          let j = 0;
          for (; j < fours; j += 4, p += 4) {
            const i0 = index[p]!, i1 = index[p + 1]!, i2 = index[p + 2]!, i3 = index[p + 3]!;
            bad |= i0 | (top - i0) | i1 | (top - i1) | i2 | (top - i2) | i3 | (top - i3);
            out[b + i0]! += src[p]!;
            out[b + i1]! += src[p + 1]!;
            out[b + i2]! += src[p + 2]!;
            out[b + i3]! += src[p + 3]!;
          }
          for (; j < last; j++, p++) {
            const i = index[p]!;
            bad |= i | (top - i);
            out[b + i]! += src[p]!;
          }
          continue;
        }
        if (mode === 'set') {
          for (let j = 0; j < last; j++, p++) {
            const i = index[p]!;
            bad |= i | (top - i);
            out[b + j * inner + i * sa] = src[p]!;
          }
        } else if (mode === 'add') {
          for (let j = 0; j < last; j++, p++) {
            const i = index[p]!;
            bad |= i | (top - i);
            out[b + j * inner + i * sa]! += src[p]!;
          }
        } else if (mode === 'or') {
          for (let j = 0; j < last; j++, p++) {
            const i = index[p]!;
            bad |= i | (top - i);
            out[b + j * inner + i * sa]! |= src[p]!;
          }
        } else if (out instanceof Int32Array) {
          // NOTE: int32 products wrap as PyTorch's; a float product would round past 2^53 first.
          for (let j = 0; j < last; j++, p++) {
            const i = index[p]!;
            bad |= i | (top - i);
            const q = b + j * inner + i * sa;
            out[q] = Math.imul(out[q]!, src[p]!);
          }
        } else {
          for (let j = 0; j < last; j++, p++) {
            const i = index[p]!;
            bad |= i | (top - i);
            out[b + j * inner + i * sa]! *= src[p]!;
          }
        }
      }
      return bad;
    },
    /**
     * out[o, k, :] = x[o, index[k], :] over [outer, n, inner] x. Rows of 512 bytes and more are
     * block copies: past about that length a copy beats the loop despite the view it makes (as
     * kernels/layout.ts's copyRuns); shorter ones (a float32 embedding of 64) are copied four
     * elements per step, about a third faster than a copy each.
     */
    selectRows(x: TensorData, n: number, index: Int32Array, outer: number, inner: number, out: TensorData): void {
      const m = index.length;
      const block = inner * out.BYTES_PER_ELEMENT >= 512;
      const fours = inner - (inner % 4);
      for (let o = 0; o < outer; o++) {
        for (let k = 0; k < m; k++) {
          const s = (o * n + index[k]!) * inner;
          const d = (o * m + k) * inner;
          if (block) {
            out.set(x.subarray(s, s + inner), d);
            continue;
          }
          let j = 0;
          for (; j < fours; j += 4) {
            out[d + j] = x[s + j]!;
            out[d + j + 1] = x[s + j + 1]!;
            out[d + j + 2] = x[s + j + 2]!;
            out[d + j + 3] = x[s + j + 3]!;
          }
          for (; j < inner; j++) out[d + j] = x[s + j]!;
        }
      }
    },
    /** out[o, index[k], :] += alpha · src[o, k, :] ('or' for bool). */
    addRows(out: TensorData, n: number, index: Int32Array, src: TensorData, outer: number, inner: number, alpha: number, mode: string): void {
      const m = index.length;
      for (let o = 0; o < outer; o++) {
        for (let k = 0; k < m; k++) {
          const d = (o * n + index[k]!) * inner;
          const s = (o * m + k) * inner;
          if (mode === 'or') for (let j = 0; j < inner; j++) out[d + j]! |= src[s + j]!;
          else if (alpha === 1) {
            // Four sums per step: the same additions, in the same order per element, with a
            // quarter of the loop's overhead (an embedding gradient's rows are this loop).
            const fours = inner - (inner % 4);
            let j = 0;
            for (; j < fours; j += 4) {
              out[d + j]! += src[s + j]!;
              out[d + j + 1]! += src[s + j + 1]!;
              out[d + j + 2]! += src[s + j + 2]!;
              out[d + j + 3]! += src[s + j + 3]!;
            }
            for (; j < inner; j++) out[d + j]! += src[s + j]!;
          }
          else if (out instanceof Int32Array) for (let j = 0; j < inner; j++) out[d + j] = out[d + j]! + Math.imul(alpha, src[s + j]!);
          else for (let j = 0; j < inner; j++) out[d + j]! += alpha * src[s + j]!;
        }
      }
    },
  };
}

const floatKernels = perDtype(indexingKernels, [], (k, make: Allocator) => {
  const x = make(6);
  const out = make(4);
  x.set([1, 2, 3, 4, 5, 6]);
  if (k.gatherRows(x, Int32Array.of(0, 3), 2, 0, 1, Int32Array.of(2, 0, 1, 1), 3, out) < 0 || !holds(out, [3, 1, 5, 5])) return false;
  out.fill(0);
  if (k.scatterRows(out, Int32Array.of(0, 2), 2, 0, 1, Int32Array.of(1, 1, 0, 1), 2, x, 'add') < 0 || !holds(out, [0, 3, 3, 4])) return false;
  k.selectRows(x, 3, Int32Array.of(2, 2), 2, 1, out);
  if (!holds(out, [3, 3, 6, 6])) return false;
  out.fill(1);
  k.addRows(out, 2, Int32Array.of(1, 1), x, 1, 2, 2, 'add');
  return holds(out, [1, 1, 9, 13]);
});

/**
 * The kernels for `data`'s element type.
 * NOTE: int32 and bool storage share the float64 copy: right for any typed array, only
 * polymorphic (slower) in a process that indexes both.
 */
function kernels(data: TensorData): ReturnType<typeof indexingKernels> {
  return floatKernels(data as FloatArray);
}

/**
 * Under 'auto', the most elements of the indexed array a gather or scatter-add may stage in
 * WebAssembly memory per element it moves: the stretches its rows reach are copied whole, so an
 * index far smaller than them does better in place. At 16 per element (16 picks of 256 per row)
 * the staged loops still took half and three quarters of the TypeScript loops' time (figures:
 * bench/README.md).
 */
const STAGED_PER_INDEX = 16;

/**
 * Under 'auto', the most rows of the table a whole-row loop stages (all of them: rows are
 * picked anywhere) per row it moves: selecting 1,024 rows of 8,192 staged ran no faster than
 * the TypeScript loop, of 4,096 in 0.6 of its time (bench/README.md).
 */
const ROWS_STAGED_PER_ROW = 4;

/**
 * The WebAssembly path of an indexing loop over float storage, where the backend takes it for
 * `rows` (and, under 'auto', the copies stay within STAGED_PER_INDEX): true or false as the loop
 * found the indices good, undefined where it was not taken or declined.
 */
function viaWasm(
  out: TensorData, bases: Int32Array | Float64Array, rows: Omit<IndexedRows, 'bases'>, run: (rows: IndexedRows, chunks: Chunks) => WasmIndexing,
): boolean | undefined {
  // An empty axis (every index bad) reaches no element to stage: the TypeScript loop finds that.
  if (!(out instanceof Float32Array || out instanceof Float64Array) || !(bases instanceof Int32Array) || rows.n === 0) return undefined;
  if (!wantsWasm('indexing', rows.index.length)) return undefined;
  const all: IndexedRows = { ...rows, bases };
  const chunks = chunkRows(all, out.BYTES_PER_ELEMENT);
  if (kernelBackend() === 'auto' && chunks.staged > STAGED_PER_INDEX * rows.index.length) return undefined;
  const result = run(all, chunks);
  if (result !== 'declined') return result === 'done';
  wasmDeclined('indexing');
  return undefined;
}

/**
 * torch.gather in its general form: out[p] = x[p with coordinate `axis` replaced by index[p]],
 * for p over `indexShape`, which is no larger than `xShape` off the axis. Returns false, with out
 * holding garbage, if an index lies outside [0, xShape[axis]): checked along the loop.
 */
export function gatherAlong(x: TensorData, xShape: readonly number[], axis: number, index: Int32Array, indexShape: readonly number[], out: TensorData): boolean {
  if (index.length === 0) return true;
  const nd = indexShape.length;
  const bases = rowBases(indexShape, xShape, axis);
  const last = indexShape[nd - 1]!;
  const inner = axis === nd - 1 ? 0 : 1;
  const sa = axisStride(xShape, axis);
  const n = xShape[axis]!;
  const wasm = viaWasm(out, bases, { last, inner, sa, index, n }, (rows, chunks) => gatherWasm(x as FloatArray, rows, chunks, out as FloatArray));
  if (wasm !== undefined) return wasm;
  return kernels(out).gatherRows(x, bases, last, inner, sa, index, n, out) >= 0;
}

/**
 * The adjoint placement of gatherAlong: out[p with coordinate `axis` replaced by index[p]]
 * (op)= src[p], p over `indexShape` in row-major order (so with 'set' the last write wins).
 * `src` has `indexShape`; 'or' is bool addition. `from` is what out starts as: left out, out
 * itself (updated in place); else a copy of `from` (of outShape), or zeros for null. Returns
 * false, with out holding garbage, if an index lies outside [0, outShape[axis]): the check rides
 * along the loop, so a caller may pass indices unchecked and check them only then.
 */
export function scatterAlong(
  out: TensorData, outShape: readonly number[], axis: number, index: Int32Array, indexShape: readonly number[], src: TensorData, mode: ScatterMode,
  from?: TensorData | null,
): boolean {
  if (index.length === 0) {
    if (from === null) out.fill(0);
    else if (from !== undefined) out.set(from);
    return true;
  }
  const nd = indexShape.length;
  const bases = rowBases(indexShape, outShape, axis);
  const last = indexShape[nd - 1]!;
  const inner = axis === nd - 1 ? 0 : 1;
  const sa = axisStride(outShape, axis);
  const n = outShape[axis]!;
  if (mode === 'add' && from !== undefined) {
    const run = (rows: IndexedRows, chunks: Chunks): WasmIndexing => scatterAddWasm(out as FloatArray, rows, chunks, src as FloatArray, from as FloatArray | null);
    const wasm = viaWasm(out, bases, { last, inner, sa, index, n }, run);
    if (wasm !== undefined) return wasm;
  }
  if (from === null) out.fill(0);
  else if (from !== undefined) out.set(from);
  return kernels(out).scatterRows(out, bases, last, inner, sa, index, n, src, mode) >= 0;
}

/**
 * Whether a whole-row loop over one outer slice ([n, inner] staged, m rows moved) takes its
 * WebAssembly path, and ran it (`run`): false where it was not taken or declined. Its indices
 * arrive checked, so a bad one reaching the kernel is a fault of the caller, an error here.
 */
function rowsViaWasm(op: string, out: TensorData, outer: number, n: number, m: number, inner: number, run: () => WasmIndexing): boolean {
  const float = out instanceof Float32Array || out instanceof Float64Array;
  if (outer !== 1 || !float || !wantsWasm('indexing', m * inner)) return false;
  if (kernelBackend() === 'auto' && n > ROWS_STAGED_PER_ROW * m) return false;
  const result = run();
  if (result === 'bad index') throw new RangeError(`${op}: an index outside [0, ${n}) reached the kernel unchecked`);
  if (result === 'done') return true;
  wasmDeclined('indexing');
  return false;
}

/**
 * torch.index_select over [outer, n, inner] x: out[o, k, :] = x[o, index[k], :] for the
 * [outer, index.length, inner] out.
 */
export function indexSelectRows(x: TensorData, n: number, index: Int32Array, outer: number, inner: number, out: TensorData): void {
  if (out.length === 0) return;
  if (rowsViaWasm('indexSelect', out, outer, n, index.length, inner, () => selectRowsWasm(x as FloatArray, n, index, inner, out as FloatArray))) return;
  kernels(out).selectRows(x, n, index, outer, inner, out);
}

/**
 * torch.index_add over [outer, n, inner] out and [outer, index.length, inner] src:
 * out[o, index[k], :] += alpha · src[o, k, :] ('or' for bool: alpha is then ignored). `from` is
 * what out starts as, as scatterAlong's: left out, out itself; else a copy of it, or zeros for null.
 */
export function indexAddRows(
  out: TensorData, n: number, index: Int32Array, src: TensorData, outer: number, inner: number, alpha: number, mode: 'add' | 'or', from?: TensorData | null,
): void {
  if (src.length > 0 && mode === 'add' && alpha === 1 && from !== undefined) {
    const run = (): WasmIndexing => addRowsWasm(out as FloatArray, n, index, src as FloatArray, inner, from as FloatArray | null);
    if (rowsViaWasm('indexAdd', out, outer, n, index.length, inner, run)) return;
  }
  if (from === null) out.fill(0);
  else if (from !== undefined) out.set(from);
  if (src.length === 0) return;
  kernels(out).addRows(out, n, index, src, outer, inner, alpha, mode);
}

/** The flat positions of the non-zero elements of x, in order; `count` of them. */
export function nonzeroPositions(x: TensorData): Int32Array {
  let count = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) count++;
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < x.length; i++) if (x[i] !== 0) out[k++] = i;
  return out;
}

/** out[k, d] = coordinate d of flat position `positions[k]` in `shape`: nonzero's [n, ndim] layout. */
export function unravelPositions(positions: Int32Array, shape: readonly number[], out: Int32Array): void {
  const nd = shape.length;
  for (let k = 0; k < positions.length; k++) {
    let rest = positions[k]!;
    for (let d = nd - 1; d >= 0; d--) {
      const n = shape[d]!;
      out[k * nd + d] = rest % n;
      rest = Math.floor(rest / n);
    }
  }
}
