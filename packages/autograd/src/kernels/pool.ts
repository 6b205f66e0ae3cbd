import type { FloatArray } from '../dtype.js';
import { wantsWasm, wasmDeclined } from './backend.js';
import { maxPoolWasm } from './wasm/conv.js';

/**
 * Which input positions along one axis each output position reads, with weights: output o reads
 * idx[ptr[o]] .. idx[ptr[o + 1] − 1]. A window (pooling, adaptive pooling) or an interpolation
 * stencil along rows or along columns; a 2-D window is the product of a row map and a column map,
 * which covers every pooling and interpolation here (their divisors and weights factor by axis).
 */
export interface AxisMap {
  readonly size: number;
  readonly ptr: Int32Array;
  readonly idx: Int32Array;
  readonly weight: Float64Array;
}

/** An AxisMap from one list of (index, weight) taps per output position. */
export function axisMap(taps: readonly (readonly (readonly [number, number])[])[]): AxisMap {
  const ptr = new Int32Array(taps.length + 1);
  taps.forEach((t, o) => (ptr[o + 1] = ptr[o]! + t.length));
  const idx = new Int32Array(ptr[taps.length]!);
  const weight = new Float64Array(idx.length);
  let k = 0;
  for (const t of taps) for (const [i, wt] of t) (idx[k] = i), (weight[k++] = wt);
  return { size: taps.length, ptr, idx, weight };
}

/** out[p, oy, ox] = Σ_r Σ_c wr·wc·x[p, r, c] over the taps of rows[oy] and cols[ox], for each of `planes` h×w planes. */
export function separableApply(x: FloatArray, planes: number, h: number, w: number, rows: AxisMap, cols: AxisMap, out: FloatArray): void {
  const oh = rows.size, ow = cols.size;
  for (let p = 0; p < planes; p++) {
    const src = p * h * w;
    let dst = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = 0;
        for (let i = rows.ptr[oy]!; i < rows.ptr[oy + 1]!; i++) {
          const line = src + rows.idx[i]! * w;
          let inner = 0;
          for (let j = cols.ptr[ox]!; j < cols.ptr[ox + 1]!; j++) inner += cols.weight[j]! * x[line + cols.idx[j]!]!;
          acc += rows.weight[i]! * inner;
        }
        out[dst++] = acc;
      }
    }
  }
}

/** The adjoint of separableApply: adds wr·wc·g[p, oy, ox] into out[p, r, c]; out must start zeroed. */
export function separableAdjoint(g: FloatArray, planes: number, h: number, w: number, rows: AxisMap, cols: AxisMap, out: FloatArray): void {
  const oh = rows.size, ow = cols.size;
  for (let p = 0; p < planes; p++) {
    const dstPlane = p * h * w;
    let src = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const v = g[src++]!;
        for (let i = rows.ptr[oy]!; i < rows.ptr[oy + 1]!; i++) {
          const line = dstPlane + rows.idx[i]! * w;
          const vr = v * rows.weight[i]!;
          for (let j = cols.ptr[ox]!; j < cols.ptr[ox + 1]!; j++) out[line + cols.idx[j]!]! += vr * cols.weight[j]!;
        }
      }
    }
  }
}

/**
 * The largest element of each window (rows[oy] × cols[ox]) and its index within its h×w plane,
 * in one pass. NaN wins, as in PyTorch; among equal maxima the first in row-major order.
 */
export function windowMax(x: FloatArray, planes: number, h: number, w: number, rows: AxisMap, cols: AxisMap, out: FloatArray, argmax: Int32Array): void {
  const oh = rows.size, ow = cols.size;
  for (let p = 0; p < planes; p++) {
    const src = p * h * w;
    let dst = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, dst++) {
        let best = -Infinity, at = -1;
        for (let i = rows.ptr[oy]!; i < rows.ptr[oy + 1]!; i++) {
          const line = rows.idx[i]! * w;
          for (let j = cols.ptr[ox]!; j < cols.ptr[ox + 1]!; j++) {
            const k = line + cols.idx[j]!;
            const v = x[src + k]!;
            if (v > best || Number.isNaN(v) || at < 0) {
              best = v;
              at = k;
              if (Number.isNaN(v)) break;
            }
          }
          if (Number.isNaN(best)) break;
        }
        out[dst] = best;
        argmax[dst] = at;
      }
    }
  }
}

/**
 * windowMax for the windows most networks pool with: kh×kw taps at stride sh×sw, no padding or
 * dilation, so loops run over the window directly instead of through axis maps. A window past
 * the bottom or right edge (ceil mode) is clipped to the input. Same ties and NaN as windowMax.
 * In WebAssembly (max_pool_<t>, branch-free) past WASM_THRESHOLDS.maxPool outputs.
 */
export function windowMaxDense(x: FloatArray, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, oh: number, ow: number, out: FloatArray, argmax: Int32Array): void {
  if (wantsWasm('maxPool', planes * oh * ow)) {
    if (maxPoolWasm(x, planes, h, w, kh, kw, sh, sw, oh, ow, out, argmax)) return;
    wasmDeclined('maxPool');
  }
  windowMaxDenseJs(x, planes, h, w, kh, kw, sh, sw, oh, ow, out, argmax);
}

/** windowMaxDense's TypeScript loops. */
export function windowMaxDenseJs(x: FloatArray, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, oh: number, ow: number, out: FloatArray, argmax: Int32Array): void {
  for (let p = 0; p < planes; p++) {
    const src = p * h * w;
    let dst = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh, y1 = Math.min(y0 + kh, h);
      for (let ox = 0; ox < ow; ox++, dst++) {
        const x0 = ox * sw, x1 = Math.min(x0 + kw, w);
        let at = y0 * w + x0;
        let best = x[src + at]!;
        // `!(v <= best)`: v is larger, or NaN, which wins and ends the search.
        search: if (best === best) {
          for (let y = y0; y < y1; y++) {
            for (let k = y * w + (y === y0 ? x0 + 1 : x0), end = y * w + x1; k < end; k++) {
              const v = x[src + k]!;
              if (!(v <= best)) {
                best = v;
                at = k;
                if (v !== v) break search;
              }
            }
          }
        }
        out[dst] = best;
        argmax[dst] = at;
      }
    }
  }
}

/** out[p, idx[p, o]] += g[p, o] for planes of `inner` outputs into planes of `outer` elements; out must start zeroed. */
export function scatterPlanes(g: FloatArray, idx: Int32Array, planes: number, inner: number, outer: number, out: FloatArray): void {
  for (let p = 0; p < planes; p++) {
    const base = p * outer;
    for (let o = p * inner, end = o + inner; o < end; o++) out[base + idx[o]!]! += g[o]!;
  }
}

/** out[p, o] = x[p, idx[p, o]]: the adjoint of scatterPlanes. */
export function gatherPlanes(x: FloatArray, idx: Int32Array, planes: number, inner: number, outer: number, out: FloatArray): void {
  for (let p = 0; p < planes; p++) {
    const base = p * outer;
    for (let o = p * inner, end = o + inner; o < end; o++) out[o] = x[base + idx[o]!]!;
  }
}
