import type { FloatArray } from '../../dtype.js';
import { copyIn, copyInOut, copyOut, int32In, staged, type Region } from './memory.js';

/**
 * Drivers of the indexing WebAssembly kernels (source: scripts/wasm/indexing.ts). Gather and
 * scatter-add along an axis, as kernels/indexing.ts's loops over `rows` rows of `last` indices
 * whose elements lie at bases[r] + j·inner + index·sa, go a chunk of rows at a time, each
 * chunk's stretch of the indexed array copied in (and, for a scatter, out) while in cache:
 * copying the whole array in and then gathering from it cost about 15% more (bench/README.md).
 * Whole-row select and add (indexSelect, embedding and their gradients) stage the table whole.
 * Each returns 'done', 'bad index' (the kernel met an index outside [0, n) and stopped: the
 * output holds garbage) or 'declined' (nothing done: no WebAssembly SIMD, or the operands do not
 * fit its memory).
 */
export type WasmIndexing = 'done' | 'bad index' | 'declined';

/** The layout both kernels read their operands in (see kernels/indexing.ts's rowBases). */
export interface IndexedRows {
  /** Element offset of each row's start in the indexed array (non-decreasing). */
  readonly bases: Int32Array;
  readonly last: number;
  readonly inner: number;
  readonly sa: number;
  readonly index: Int32Array;
  /** Size of the indexed axis: the indices must lie in [0, n). */
  readonly n: number;
}

/** Bytes of the indexed array's stretch per chunk: with its indices and results, well inside L2. */
const CHUNK_BYTES = 256 << 10;

/** Elements from a row's base to past the last element it can reach. */
const spanOf = (rows: IndexedRows): number => (rows.last - 1) * rows.inner + (rows.n - 1) * rows.sa + 1;

/**
 * How the drivers cut `rows` into chunks: rows [cuts[c], cuts[c + 1]) per chunk, and how many
 * elements of the indexed array the chunks copy in (what staging costs beside the indices, for
 * a caller weighing it against its TypeScript loop).
 */
export interface Chunks {
  readonly cuts: readonly number[];
  readonly staged: number;
}

/**
 * The chunks of `rows` for storage of `size` bytes per element: cut only where the next row's
 * elements all lie past the previous row's (so chunks of a scatter never write the same
 * element), and once a chunk's stretch passes CHUNK_BYTES. An index whose rows all overlap (a
 * gather along the first axis of a matrix) is one chunk.
 */
export function chunkRows(rows: IndexedRows, size: number): Chunks {
  const { bases } = rows;
  const span = spanOf(rows);
  const count = bases.length;
  const cuts = [0];
  let start = 0;
  let candidate = 0;
  for (let r = 1; r <= count; r++) {
    if (r < count && bases[r]! < bases[r - 1]! + span) continue;
    if ((bases[r - 1]! + span - bases[start]!) * size > CHUNK_BYTES && candidate > start) {
      cuts.push(candidate);
      start = candidate;
    }
    candidate = r;
  }
  cuts.push(count);
  let staged = 0;
  for (let c = 0; c + 1 < cuts.length; c++) staged += bases[cuts[c + 1]! - 1]! + span - bases[cuts[c]!]!;
  return { cuts, staged };
}

/**
 * out[p] = x[bases[r] + j·inner + index[p]·sa] in WebAssembly, out of the index's size.
 * @example if (gatherWasm(x, rows, chunkRows(rows, 4), out) === 'declined') gatherJs(...);
 */
export function gatherWasm(x: FloatArray, rows: IndexedRows, { cuts }: Chunks, out: FloatArray): WasmIndexing {
  const f32 = out instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const span = spanOf(rows);
  const { bases, last, inner, sa, index, n } = rows;
  let bad = false;
  for (let c = 0; c + 1 < cuts.length && !bad; c++) {
    const r0 = cuts[c]!;
    const r1 = cuts[c + 1]!;
    const lo = bases[r0]!;
    const hi = bases[r1 - 1]! + span;
    const regions: Region[] = [copyIn(x, hi - lo, lo), int32In(bases, r1 - r0, r0), int32In(index, (r1 - r0) * last, r0 * last), copyOut(out, (r1 - r0) * last, r0 * last)];
    const done = staged(f32, regions, (kernels, at) => {
      try {
        bad = kernels.gatherRows(at[0]! - lo * size, at[1]!, r1 - r0, last, inner, sa, at[2]!, n, at[3]!) < 0;
      } catch (e) {
        // The kernel checks its indices after reading them: one far out of range reads past the memory and traps.
        if (!(e instanceof WebAssembly.RuntimeError)) throw e;
        bad = true;
      }
    });
    // A later chunk that does not fit (larger than the first) leaves garbage the caller's
    // TypeScript loop overwrites whole.
    if (!done) return 'declined';
  }
  return bad ? 'bad index' : 'done';
}

/**
 * out = from (or zeros for null) with src[p] added at out[bases[r] + j·inner + index[p]·sa], in
 * WebAssembly. The elements no row reaches are copied (or cleared) in TypeScript. Whatever it
 * returns, out is written from `from` again by whoever runs next (out is never read): so a
 * chunk declined after others were done leaves nothing to undo.
 * @example if (scatterAddWasm(out, rows, chunkRows(rows, 4), g, null) === 'declined') scatterJs(...);
 */
export function scatterAddWasm(out: FloatArray, rows: IndexedRows, { cuts }: Chunks, src: FloatArray, from: FloatArray | null): WasmIndexing {
  const f32 = out instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const span = spanOf(rows);
  const { bases, last, inner, sa, index, n } = rows;
  // Up to where out holds its starting values (from's, or zeros): the gaps between chunks are filled as they come.
  let filled = 0;
  const fillTo = (end: number): void => {
    if (end <= filled) return;
    if (from === null) out.fill(0, filled, end);
    else out.set(from.subarray(filled, end), filled);
    filled = end;
  };
  let bad = false;
  for (let c = 0; c + 1 < cuts.length && !bad; c++) {
    const r0 = cuts[c]!;
    const r1 = cuts[c + 1]!;
    const lo = bases[r0]!;
    const hi = bases[r1 - 1]! + span;
    fillTo(lo);
    // The chunk's stretch starts as from's values (zeros where from is null), and goes out to out.
    const stretch = from === null ? copyOut(out, hi - lo, lo) : copyInOut(from, hi - lo, out, lo);
    const regions: Region[] = [stretch, int32In(bases, r1 - r0, r0), int32In(index, (r1 - r0) * last, r0 * last), copyIn(src, (r1 - r0) * last, r0 * last)];
    const done = staged(f32, regions, (kernels, at, instance) => {
      const { buffer } = instance.memory;
      if (from === null) (f32 ? new Float32Array(buffer, at[0]!, hi - lo) : new Float64Array(buffer, at[0]!, hi - lo)).fill(0);
      bad = kernels.scatterAddRows(at[0]! - lo * size, at[1]!, r1 - r0, last, inner, sa, at[2]!, n, at[3]!) < 0;
    });
    if (!done) return 'declined';
    filled = hi;
  }
  fillTo(out.length);
  return bad ? 'bad index' : 'done';
}

/**
 * out[k, :] = x[index[k], :] for the m = index.length rows of `inner` elements, in WebAssembly,
 * x ([n, inner]) staged whole: rows may be picked anywhere. Indices arrive checked; the kernel
 * checks them again only so that nothing outside the staged rows is read ('bad index' then).
 * @example if (selectRowsWasm(weight, vocab, ids, dim, out) === 'declined') selectRowsJs(...);
 */
export function selectRowsWasm(x: FloatArray, n: number, index: Int32Array, inner: number, out: FloatArray): WasmIndexing {
  const m = index.length;
  let bad = false;
  const regions = [copyIn(x, n * inner), int32In(index, m), copyOut(out, m * inner)];
  const done = staged(out instanceof Float32Array, regions, (kernels, at) => {
    bad = kernels.selectRows(at[0]!, n, at[1]!, m, inner, at[2]!) < 0;
  });
  return !done ? 'declined' : bad ? 'bad index' : 'done';
}

/**
 * out ([n, inner]) = from (or zeros for null) with src's m = index.length rows added at rows
 * index[k], in order, in WebAssembly: out staged whole. Indices arrive checked, as for
 * selectRowsWasm; on 'bad index' (and 'declined') out is to be written again from `from`.
 * @example if (addRowsWasm(dw, vocab, ids, g, dim, null) === 'declined') addRowsJs(...);
 */
export function addRowsWasm(out: FloatArray, n: number, index: Int32Array, src: FloatArray, inner: number, from: FloatArray | null): WasmIndexing {
  const m = index.length;
  const f32 = out instanceof Float32Array;
  let bad = false;
  const regions = [from === null ? copyOut(out, n * inner) : copyInOut(from, n * inner, out), int32In(index, m), copyIn(src, m * inner)];
  const done = staged(f32, regions, (kernels, at, instance) => {
    const { buffer } = instance.memory;
    if (from === null) (f32 ? new Float32Array(buffer, at[0]!, n * inner) : new Float64Array(buffer, at[0]!, n * inner)).fill(0);
    bad = kernels.addRows(at[0]!, n, at[1]!, m, inner, at[2]!) < 0;
  });
  return !done ? 'declined' : bad ? 'bad index' : 'done';
}
