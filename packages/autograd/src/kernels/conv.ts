import type { FloatArray } from '../dtype.js';
import { wantsWasm, wasmDeclined } from './backend.js';
import { gemm } from './gemm.js';
import { windowMaxDense } from './pool.js';
import { convAdjointWasm, convForwardWasm, convWeightGradWasm, type PoolEpilogue, type PooledGradient } from './wasm/conv.js';

/**
 * Everything about a 2-D convolution but its batch and channel counts: input planes h×w, kernel
 * kh×kw, output planes oh×ow, stride, the padding before each axis (the padding after is implied
 * by oh and ow, so PyTorch's asymmetric 'same' needs nothing more) and dilation. A convolution,
 * its adjoint (the transposed convolution) and its weight gradient share one geometry.
 */
export interface ConvGeometry {
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
  readonly dh: number;
  readonly dw: number;
}

/** Past this many bytes a temporary is allocated afresh rather than kept between calls. */
const SCRATCH_MAX_BYTES = 64 << 20;
const scratch32: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
const scratch64: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

/**
 * A temporary of `length` elements of `like`'s element type, kept between calls (grow-only, one
 * buffer per slot): a training step's im2col columns and channel-major gradients are then not
 * allocated, zeroed and collected again at every step. Its contents are stale: the caller must
 * write every element before reading it. The view is valid until the next call for the same
 * slot, so a caller may hold one view per slot at once and must not call back into code that
 * takes the same slot.
 */
export function convScratch(like: FloatArray, slot: 0 | 1, length: number): FloatArray {
  const f32 = like instanceof Float32Array;
  if (length * (f32 ? 4 : 8) > SCRATCH_MAX_BYTES) return f32 ? new Float32Array(length) : new Float64Array(length);
  const pool = f32 ? scratch32 : scratch64;
  let buffer = pool[slot]!;
  if (buffer.length < length) {
    buffer = f32 ? new Float32Array(length) : new Float64Array(length);
    pool[slot] = buffer;
  }
  return buffer.length === length ? buffer : buffer.subarray(0, length);
}

/**
 * The first output column ox whose tap at input column ox·sw + first is past the left padding;
 * with insideHi, the range [lo, hi) that reads the input (the rest read padding). One range per
 * kernel column, so the copy loops need no bounds test.
 */
function insideLo(first: number, sw: number, ow: number): number {
  return first >= 0 ? 0 : Math.min(ow, Math.ceil(-first / sw));
}

/** The end of the range insideLo starts: the first output column past the input's right edge. */
function insideHi(first: number, sw: number, w: number, ow: number): number {
  const hi = first > w - 1 ? 0 : Math.min(ow, Math.floor((w - 1 - first) / sw) + 1);
  return Math.max(insideLo(first, sw, ow), hi);
}

/**
 * im2col: x [n, c, h, w] to one row per kernel tap (channel, ky, kx), in that order, of one
 * column per output position: col[(ci·kh + ky)·kw + kx)·rowStride + b·batchStride + oy·ow + ox].
 * With rowStride = n·oh·ow and batchStride = oh·ow the rows of a group (cg·kh·kw of them) are one
 * [ck, n·p] matrix, so a grouped convolution is one gemm per group over the whole batch; with
 * rowStride = oh·ow and batchStride = c·kh·kw·oh·ow it is F.unfold's [n, c·kh·kw, p]. Each output
 * row is a strided run of an input row, so the inner loop is a copy. Positions in the padding read 0.
 */
export function im2col(x: FloatArray, n: number, c: number, g: ConvGeometry, col: FloatArray, rowStride: number, batchStride: number): void {
  const { h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw } = g;
  const plane = h * w;
  for (let ci = 0, row = 0; ci < c; ci++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const first = kx * dw - pw;
        const lo = insideLo(first, sw, ow), hi = insideHi(first, sw, w, ow);
        for (let b = 0; b < n; b++) {
          const src = (b * c + ci) * plane;
          let dst = row * rowStride + b * batchStride;
          for (let oy = 0; oy < oh; oy++, dst += ow) {
            const iy = oy * sh - ph + ky * dh;
            // NOTE: plain loops, not fill(): these runs are a few elements, shorter than a builtin call costs.
            if (iy < 0 || iy >= h) {
              for (let ox = 0; ox < ow; ox++) col[dst + ox] = 0;
              continue;
            }
            for (let ox = 0; ox < lo; ox++) col[dst + ox] = 0;
            const line = src + iy * w + first;
            if (sw === 1) for (let ox = lo; ox < hi; ox++) col[dst + ox] = x[line + ox]!;
            else for (let ox = lo; ox < hi; ox++) col[dst + ox] = x[line + ox * sw]!;
            for (let ox = hi; ox < ow; ox++) col[dst + ox] = 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col (same layout arguments): adds each column entry back to the input position it was read from. x must start zeroed. */
export function col2im(col: FloatArray, n: number, c: number, g: ConvGeometry, x: FloatArray, rowStride: number, batchStride: number): void {
  const { h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw } = g;
  const plane = h * w;
  for (let ci = 0, row = 0; ci < c; ci++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const first = kx * dw - pw;
        const lo = insideLo(first, sw, ow), hi = insideHi(first, sw, w, ow);
        for (let b = 0; b < n; b++) {
          const dstPlane = (b * c + ci) * plane;
          let src = row * rowStride + b * batchStride;
          for (let oy = 0; oy < oh; oy++, src += ow) {
            const iy = oy * sh - ph + ky * dh;
            if (iy < 0 || iy >= h) continue;
            const line = dstPlane + iy * w + first;
            if (sw === 1) for (let ox = lo; ox < hi; ox++) x[line + ox]! += col[src + ox]!;
            else for (let ox = lo; ox < hi; ox++) x[line + ox * sw]! += col[src + ox]!;
          }
        }
      }
    }
  }
}

/**
 * out [b][a][p] = src [a][b][p] (+ bias[i] on every element of src's block i when given): the
 * move between a batch-major NCHW array and the channel-major [o, n·p] rows a gemm over im2col
 * columns reads and writes. Each block of p elements moves whole.
 */
export function swapLeadingAxes(src: FloatArray, a: number, b: number, p: number, bias: FloatArray | null, out: FloatArray): void {
  for (let i = 0; i < a; i++) {
    const add = bias === null ? 0 : bias[i]!;
    for (let j = 0; j < b; j++) {
      const from = (i * b + j) * p, to = (j * a + i) * p;
      if (bias === null) for (let q = 0; q < p; q++) out[to + q] = src[from + q]!;
      else for (let q = 0; q < p; q++) out[to + q] = src[from + q]! + add;
    }
  }
}

/** Adds bias[channel] to every element of each channel's plane of an NCHW array (p elements a plane). */
export function addChannelBias(y: FloatArray, n: number, c: number, p: number, bias: FloatArray): void {
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const add = bias[ch]!, base = (b * c + ch) * p;
      for (let q = 0; q < p; q++) y[base + q]! += add;
    }
  }
}

/**
 * y = conv(x, w) + bias as plain loops, for convolutions whose groups are narrow (depthwise):
 * there each group's gemm is a sliver (n = 1) that costs more in calls and copies than it computes.
 * x [n, groups·cg, h, w], w [groups·og, cg, kh, kw], y [n, groups·og, oh, ow].
 */
export function convDirect(x: FloatArray, w: FloatArray, bias: FloatArray | null, n: number, groups: number, cg: number, og: number, g: ConvGeometry, y: FloatArray): void {
  const { h, w: wd, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw } = g;
  const c = groups * cg, o = groups * og, plane = h * wd, kk = kh * kw;
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const gi = (oc / og) | 0;
      let dst = (b * o + oc) * oh * ow;
      const add = bias === null ? 0 : bias[oc]!;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let acc = 0;
          for (let ci = 0; ci < cg; ci++) {
            const src = (b * c + gi * cg + ci) * plane;
            const wBase = (oc * cg + ci) * kk;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= h) continue;
              const line = src + iy * wd;
              let ix = ox * sw - pw;
              for (let kx = 0; kx < kw; kx++, ix += dw) if (ix >= 0 && ix < wd) acc += x[line + ix]! * w[wBase + ky * kw + kx]!;
            }
          }
          y[dst++] = acc + add;
        }
      }
    }
  }
}

/**
 * The adjoint of convDirect in its input, as plain loops for narrow groups: adds
 * u[b, oc, oy, ox]·w[oc, ci, ky, kx] into x[b, group·cg + ci, iy, ix] for every tap inside the
 * input. u [n, groups·og, oh, ow], w [groups·og, cg, kh, kw]; x [n, groups·cg, h, w] must start zeroed.
 */
export function convAdjointDirect(u: FloatArray, w: FloatArray, n: number, groups: number, cg: number, og: number, g: ConvGeometry, x: FloatArray): void {
  const { h, w: wd, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw } = g;
  const c = groups * cg, o = groups * og, plane = h * wd, kk = kh * kw;
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const gi = (oc / og) | 0;
      let src = (b * o + oc) * oh * ow;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const v = u[src++]!;
          for (let ci = 0; ci < cg; ci++) {
            const dst = (b * c + gi * cg + ci) * plane;
            const wBase = (oc * cg + ci) * kk;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= h) continue;
              const line = dst + iy * wd;
              let ix = ox * sw - pw;
              for (let kx = 0; kx < kw; kx++, ix += dw) if (ix >= 0 && ix < wd) x[line + ix]! += v * w[wBase + ky * kw + kx]!;
            }
          }
        }
      }
    }
  }
}

/**
 * The adjoint of convDirect in its weight, as plain loops for narrow groups:
 * dw[oc, ci, ky, kx] = Σ over the batch and output positions of u[b, oc, oy, ox]·x[b, group·cg + ci, iy, ix].
 * x [n, groups·cg, h, w], u [n, groups·og, oh, ow], dw [groups·og, cg, kh, kw] (overwritten).
 */
export function convWeightGradDirect(x: FloatArray, u: FloatArray, n: number, groups: number, cg: number, og: number, g: ConvGeometry, dwOut: FloatArray): void {
  const { h, w: wd, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw } = g;
  const c = groups * cg, o = groups * og, plane = h * wd, kk = kh * kw;
  for (let oc = 0; oc < o; oc++) {
    const gi = (oc / og) | 0;
    for (let ci = 0; ci < cg; ci++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          let acc = 0;
          for (let b = 0; b < n; b++) {
            const xPlane = (b * c + gi * cg + ci) * plane;
            let src = (b * o + oc) * oh * ow;
            for (let oy = 0; oy < oh; oy++, src += ow) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= h) continue;
              const line = xPlane + iy * wd;
              let ix = kx * dw - pw;
              for (let ox = 0; ox < ow; ox++, ix += sw) if (ix >= 0 && ix < wd) acc += u[src + ox]! * x[line + ix]!;
            }
          }
          dwOut[(oc * cg + ci) * kk + ky * kw + kx] = acc;
        }
      }
    }
  }
}

// The convolution's three products as im2col columns and one gemm per group. In WebAssembly
// (wasm/conv.ts) they run an image at a time on columns built in its memory. The TypeScript
// path lays the columns out as [groups][ck][n·p] (one row per kernel tap, one column per output
// position of the whole batch), so each group's product, in either direction and for the weight
// gradient, is one gemm over the batch with both operands read in place; a gemm's [o, n·p] rows
// and NCHW's [n, o, p] differ by a swap of whole p-blocks (swapLeadingAxes), skipped for a
// single image. x [n, groups·cg, h, w], w [groups·og, cg, kh, kw], y and u [n, groups·og, oh, ow].

/** Whether a convolution's products take WebAssembly: one image's product is past the threshold. */
function convWantsWasm(n: number, cg: number, og: number, g: ConvGeometry): boolean {
  return n > 0 && wantsWasm('conv', og * cg * g.kh * g.kw * g.oh * g.ow);
}

/** [n, o, p] as the gemm's [o, n·p] rows: the data itself for one image, else a swapped copy in scratch slot 0. */
function channelMajor(u: FloatArray, n: number, o: number, p: number): FloatArray {
  if (n === 1) return u;
  const rows = convScratch(u, 0, o * n * p);
  swapLeadingAxes(u, n, o, p, null, rows);
  return rows;
}

/** y = conv(x, w) + bias[channel] (y overwritten). */
export function convForwardColumns(x: FloatArray, w: FloatArray, bias: FloatArray | null, n: number, groups: number, cg: number, og: number, g: ConvGeometry, y: FloatArray): void {
  if (convWantsWasm(n, cg, og, g)) {
    if (convForwardWasm(x, w, bias, n, groups, cg, og, g, y)) return;
    wasmDeclined('conv');
  }
  const o = groups * og, p = g.oh * g.ow, ck = cg * g.kh * g.kw, np = n * p;
  // NOTE: scratch, not kept for the weight gradient, which writes them again: im2col into freshly
  // allocated memory runs ~10x slower (first-touch page faults on megabytes), more than the copy costs.
  const columns = convScratch(x, 1, groups * ck * np);
  im2col(x, n, groups * cg, g, columns, np, p);
  const rows = n === 1 ? y : convScratch(y, 0, o * np);
  for (let gi = 0; gi < groups; gi++) {
    // [og, ck]·[ck, n·p]: the group's weight rows times its im2col rows.
    gemm({ transA: false, transB: false, m: og, n: np, k: ck, a: w, aOffset: gi * og * ck, b: columns, bOffset: gi * ck * np, c: rows, cOffset: gi * og * np });
  }
  if (n !== 1) swapLeadingAxes(rows, o, n, p, bias, y);
  else if (bias !== null) addChannelBias(y, 1, o, p, bias);
}

/**
 * convForwardColumns then windowMaxDense over its output, `pool` saying the windows and where the
 * maxima and their indices go: in WebAssembly the convolution's output is one image's block in
 * its memory, never copied out; elsewhere it is a temporary the two kernels pass between them.
 * The same bits either way.
 */
export function convForwardPooled(x: FloatArray, w: FloatArray, bias: FloatArray | null, n: number, groups: number, cg: number, og: number, g: ConvGeometry, pool: PoolEpilogue): void {
  if (convWantsWasm(n, cg, og, g)) {
    if (convForwardWasm(x, w, bias, n, groups, cg, og, g, null, pool)) return;
    wasmDeclined('conv');
  }
  const o = groups * og, length = n * o * g.oh * g.ow;
  const y = x instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
  convForwardColumns(x, w, bias, n, groups, cg, og, g, y);
  windowMaxDense(y, n * o, g.oh, g.ow, pool.kh, pool.kw, pool.sh, pool.sw, pool.oh, pool.ow, pool.out, pool.argmax);
}

/** The adjoint of convForwardColumns in its input: x = conv_transpose(u, w) + bias[channel] (x overwritten). */
export function convAdjointColumns(u: FloatArray, w: FloatArray, bias: FloatArray | null, n: number, groups: number, cg: number, og: number, g: ConvGeometry, x: FloatArray): void {
  if (convWantsWasm(n, cg, og, g)) {
    if (convAdjointWasm(u, w, bias, n, groups, cg, og, g, x)) return;
    wasmDeclined('conv');
  }
  const o = groups * og, c = groups * cg, p = g.oh * g.ow, ck = cg * g.kh * g.kw, np = n * p;
  const rows = channelMajor(u, n, o, p);
  const col = convScratch(u, 1, groups * ck * np);
  for (let gi = 0; gi < groups; gi++) {
    // [og, ck]ᵀ·[og, n·p]: the weight read transposed in place.
    gemm({ transA: true, transB: false, m: ck, n: np, k: og, a: w, aOffset: gi * og * ck, b: rows, bOffset: gi * og * np, c: col, cOffset: gi * ck * np });
  }
  x.fill(0);
  col2im(col, n, c, g, x, np, p);
  if (bias !== null) addChannelBias(x, n, c, g.h * g.w, bias);
}

/** The adjoint of convForwardColumns in its weight: dw = Σ over the batch and output positions of u times the input patch (dw overwritten). */
export function convWeightGradColumns(x: FloatArray, u: FloatArray, n: number, groups: number, cg: number, og: number, g: ConvGeometry, dw: FloatArray): void {
  if (convWantsWasm(n, cg, og, g)) {
    if (convWeightGradWasm(x, u, n, groups, cg, og, g, dw)) return;
    wasmDeclined('conv');
  }
  const o = groups * og, c = groups * cg, p = g.oh * g.ow, ck = cg * g.kh * g.kw, np = n * p;
  const col = convScratch(x, 1, groups * ck * np);
  im2col(x, n, c, g, col, np, p);
  const rows = channelMajor(u, n, o, p);
  for (let gi = 0; gi < groups; gi++) {
    // [og, n·p]·[ck, n·p]ᵀ: a sum over the whole batch in one product.
    gemm({ transA: false, transB: true, m: og, n: ck, k: np, a: rows, aOffset: gi * og * np, b: col, bOffset: gi * ck * np, c: dw, cOffset: gi * og * ck });
  }
}

/**
 * convAdjointColumns and convWeightGradColumns (into dx and dw, each where not null, no bias) for
 * an output gradient given pooled (PooledGradient), in WebAssembly, each image's gradient made in
 * its memory: the bits of the two kernels on the scattered gradient, which never exists whole.
 * False where WebAssembly does not take the call: the caller then scatters the gradient itself.
 */
export function convBackwardPooled(x: FloatArray, w: FloatArray, u: PooledGradient, n: number, groups: number, cg: number, og: number, g: ConvGeometry, dx: FloatArray | null, dw: FloatArray | null): boolean {
  if (!convWantsWasm(n, cg, og, g)) return false;
  return (dx === null || convAdjointWasm(u, w, null, n, groups, cg, og, g, dx)) && (dw === null || convWeightGradWasm(x, u, n, groups, cg, og, g, dw));
}
