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

/** PyTorch's pooled length along one axis (pooling_output_shape), written out for the references. */
export function pooledLengthRef(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const num = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

/** Max pooling element by element: each output scans its dilated window, skipping the padding; NaN wins. */
export function maxPool2dRef(x: Float64Array, xs: number[], k: [number, number], s: [number, number], p: [number, number], d: [number, number], ceil: boolean): { data: Float64Array; indices: number[]; shape: number[] } {
  const [n, c, h, w] = xs as [number, number, number, number];
  const oh = pooledLengthRef(h, k[0], s[0], p[0], d[0], ceil), ow = pooledLengthRef(w, k[1], s[1], p[1], d[1], ceil);
  const data = new Float64Array(n * c * oh * ow);
  const indices: number[] = [];
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let best = -Infinity, at = -1;
    for (let a = 0; a < k[0]; a++) for (let b = 0; b < k[1]; b++) {
      const y = i * s[0] - p[0] + a * d[0], xx = j * s[1] - p[1] + b * d[1];
      if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
      const v = x[plane * h * w + y * w + xx]!;
      if (at < 0 || v > best || (Number.isNaN(v) && !Number.isNaN(best))) (best = v), (at = y * w + xx);
    }
    data[o++] = best;
    indices.push(at);
  }
  return { data, indices, shape: [n, c, oh, ow] };
}

/** Average pooling element by element, with PyTorch's divisor rules. */
export function avgPool2dRef(x: Float64Array, xs: number[], k: [number, number], s: [number, number], p: [number, number], ceil: boolean, includePad: boolean, override: number | null): { data: Float64Array; shape: number[] } {
  const [n, c, h, w] = xs as [number, number, number, number];
  const oh = pooledLengthRef(h, k[0], s[0], p[0], 1, ceil), ow = pooledLengthRef(w, k[1], s[1], p[1], 1, ceil);
  const data = new Float64Array(n * c * oh * ow);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    const y0 = i * s[0] - p[0], x0 = j * s[1] - p[1];
    const y1 = Math.min(y0 + k[0], h + p[0]), x1 = Math.min(x0 + k[1], w + p[1]);
    let acc = 0, count = 0;
    for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) {
      if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
      acc += x[plane * h * w + y * w + xx]!;
      count++;
    }
    data[o++] = acc / (override ?? (includePad ? (y1 - y0) * (x1 - x0) : count));
  }
  return { data, shape: [n, c, oh, ow] };
}
