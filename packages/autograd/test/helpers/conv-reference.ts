/**
 * Plain-loop references for convolutions and pooling over NCHW float64 arrays, written from the
 * definitions (one output element at a time), independent of the im2col kernels.
 */

/** Geometry of a 2-D window op in the reference: per-axis [h, w] pairs. */
export interface RefGeometry {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

/** y[b,o,i,j] = bias[o] + Σ x[b, g·cg + c, i·s − p + ky·d, j·s − p + kx·d]·w[o, c, ky, kx]. */
export function conv2dRef(x: Float64Array, xs: number[], w: Float64Array, ws: number[], bias: Float64Array | null, g: RefGeometry): { data: Float64Array; shape: number[] } {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, cg, kh, kw] = ws as [number, number, number, number];
  const oh = Math.floor((h + 2 * g.padding[0] - g.dilation[0] * (kh - 1) - 1) / g.stride[0]) + 1;
  const ow = Math.floor((wd + 2 * g.padding[1] - g.dilation[1] * (kw - 1) - 1) / g.stride[1]) + 1;
  const og = o / g.groups;
  const out = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++) for (let oc = 0; oc < o; oc++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let acc = bias === null ? 0 : bias[oc]!;
    const grp = Math.floor(oc / og);
    for (let ci = 0; ci < cg; ci++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const y = i * g.stride[0] - g.padding[0] + ky * g.dilation[0];
      const xx = j * g.stride[1] - g.padding[1] + kx * g.dilation[1];
      if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
      acc += x[((b * c + grp * cg + ci) * h + y) * wd + xx]! * w[((oc * cg + ci) * kh + ky) * kw + kx]!;
    }
    out[((b * o + oc) * oh + i) * ow + j] = acc;
  }
  return { data: out, shape: [n, o, oh, ow] };
}

/** The transposed convolution by scattering: each input element adds x·w into the output window it maps to. */
export function convTranspose2dRef(x: Float64Array, xs: number[], w: Float64Array, ws: number[], g: RefGeometry, outputPadding: [number, number]): { data: Float64Array; shape: number[] } {
  const [n, cin, h, wd] = xs as [number, number, number, number];
  const [, cgOut, kh, kw] = ws as [number, number, number, number];
  const cout = cgOut * g.groups, cgIn = cin / g.groups;
  const oh = (h - 1) * g.stride[0] - 2 * g.padding[0] + g.dilation[0] * (kh - 1) + outputPadding[0] + 1;
  const ow = (wd - 1) * g.stride[1] - 2 * g.padding[1] + g.dilation[1] * (kw - 1) + outputPadding[1] + 1;
  const out = new Float64Array(n * cout * oh * ow);
  for (let b = 0; b < n; b++) for (let ci = 0; ci < cin; ci++) for (let i = 0; i < h; i++) for (let j = 0; j < wd; j++) {
    const grp = Math.floor(ci / cgIn);
    const v = x[((b * cin + ci) * h + i) * wd + j]!;
    for (let co = 0; co < cgOut; co++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const y = i * g.stride[0] - g.padding[0] + ky * g.dilation[0];
      const xx = j * g.stride[1] - g.padding[1] + kx * g.dilation[1];
      if (y < 0 || y >= oh || xx < 0 || xx >= ow) continue;
      out[((b * cout + grp * cgOut + co) * oh + y) * ow + xx]! += v * w[((ci * cgOut + co) * kh + ky) * kw + kx]!;
    }
  }
  return { data: out, shape: [n, cout, oh, ow] };
}
