import type { FloatArray } from '../dtype.js';

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

/**
 * im2col for a grouped convolution: x is [n, groups·cg, h, w]; col gets [groups][n·oh·ow][cg·kh·kw],
 * one row per output position, so each group's product is one gemm over the whole batch.
 * Positions in the padding read 0.
 */
export function im2col(x: FloatArray, n: number, groups: number, cg: number, g: ConvGeometry, col: FloatArray): void {
  const { h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw } = g;
  const kk = kh * kw, ck = cg * kk, plane = h * w, c = groups * cg;
  let row = 0;
  for (let gi = 0; gi < groups; gi++) {
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, row += ck) {
          for (let ci = 0; ci < cg; ci++) {
            const src = (b * c + gi * cg + ci) * plane;
            let dst = row + ci * kk;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= h) {
                col.fill(0, dst, dst + kw);
                dst += kw;
                continue;
              }
              const line = src + iy * w;
              let ix = ox * sw - pw;
              for (let kx = 0; kx < kw; kx++, ix += dw) col[dst++] = ix >= 0 && ix < w ? x[line + ix]! : 0;
            }
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: adds each row of col back to the input positions it was read from. x must start zeroed. */
export function col2im(col: FloatArray, n: number, groups: number, cg: number, g: ConvGeometry, x: FloatArray): void {
  const { h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw } = g;
  const kk = kh * kw, ck = cg * kk, plane = h * w, c = groups * cg;
  let row = 0;
  for (let gi = 0; gi < groups; gi++) {
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, row += ck) {
          for (let ci = 0; ci < cg; ci++) {
            const dstPlane = (b * c + gi * cg + ci) * plane;
            let src = row + ci * kk;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= h) {
                src += kw;
                continue;
              }
              const line = dstPlane + iy * w;
              let ix = ox * sw - pw;
              for (let kx = 0; kx < kw; kx++, ix += dw, src++) if (ix >= 0 && ix < w) x[line + ix]! += col[src]!;
            }
          }
        }
      }
    }
  }
}

/**
 * [n, groups·og, p] (NCHW with p = oh·ow) to [groups][n·p][og], the row layout of im2col's products.
 */
export function toGroupRows(y: FloatArray, n: number, groups: number, og: number, p: number, out: FloatArray): void {
  const c = groups * og;
  for (let gi = 0; gi < groups; gi++) {
    for (let b = 0; b < n; b++) {
      const rowBase = (gi * n + b) * p * og;
      for (let o = 0; o < og; o++) {
        const src = (b * c + gi * og + o) * p;
        for (let q = 0; q < p; q++) out[rowBase + q * og + o] = y[src + q]!;
      }
    }
  }
}

/** The inverse of toGroupRows, adding `bias[channel]` (when given) on the way. */
export function fromGroupRows(rows: FloatArray, n: number, groups: number, og: number, p: number, bias: FloatArray | null, out: FloatArray): void {
  const c = groups * og;
  for (let gi = 0; gi < groups; gi++) {
    for (let b = 0; b < n; b++) {
      const rowBase = (gi * n + b) * p * og;
      for (let o = 0; o < og; o++) {
        const dst = (b * c + gi * og + o) * p;
        const add = bias === null ? 0 : bias[gi * og + o]!;
        for (let q = 0; q < p; q++) out[dst + q] = rows[rowBase + q * og + o]! + add;
      }
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
