import type { FloatArray } from '../../dtype.js';
import type { ConvGeometry } from '../conv.js';
import { beginProduct, endProduct, POSTS_PRODUCTS } from './gemm.js';
import { BINARY_OPS } from './layout.js';
import { copyIn, copyOut, float64Out, scratchRegion, staged, type Region } from './memory.js';
import type { Kernels } from './module.js';

/**
 * The three products of a convolution (forward, adjoint in the input, adjoint in the weight) in
 * WebAssembly, one image at a time: the image's im2col columns are built in linear memory
 * (im2col_<t>, in cache) and read there by the gemm, whose result lands straight in the image's
 * NCHW block, so neither the batch's columns nor a channel-major copy of the output ever exist.
 * What crosses into WebAssembly memory is the operands and the result, once. Each returns
 * false, having done nothing, where WebAssembly SIMD is missing or the operands do not fit its
 * memory (the caller then runs the TypeScript path).
 */

const ADD = BINARY_OPS.indexOf('add');

/**
 * Elements left free after each column buffer: im2col_<t> writes whole vectors, up to 16 bytes
 * past the columns, which must not reach the other buffer (the helper may be reading it). Each
 * buffer is followed by other regions, so its reads past the input stay inside the memory.
 */
const COLUMNS_PAD = 16;

/** The geometry as the kernels take it, after the channel count. */
const geometryArgs = (g: ConvGeometry): number[] => [g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw];

/**
 * Dense max pooling (windowMaxDense's contract) over each image's convolution output inside the
 * forward's staging: kh×kw windows at stride sh×sw giving oh×ow planes, each maximum into `out`
 * and its index within its plane into `argmax`.
 */
export interface PoolEpilogue {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly oh: number;
  readonly ow: number;
  readonly out: FloatArray;
  readonly argmax: Int32Array;
}

/**
 * y = conv(x, w) + bias: x [n, groups·cg, h, w], w [groups·og, cg, kh, kw], y [n, groups·og, oh, ow];
 * per image and group, y's block = w's rows · the image's columns, then bias[channel] on each plane.
 * Each element gets the arithmetic of the whole-batch gemm: its own sum over the taps, plus the bias.
 * With the helper thread, an image's products run there while this thread builds the next
 * image's columns (two column buffers). With `pool`, y (null then) is only ever one image's
 * block in linear memory: each image's output is max-pooled there (max_pool_<t>, the bits of
 * windowMaxDense) and only the pooled planes and their indices come out.
 */
export function convForwardWasm(x: FloatArray, w: FloatArray, bias: FloatArray | null, n: number, groups: number, cg: number, og: number, g: ConvGeometry, y: FloatArray | null, pool: PoolEpilogue | null = null): boolean {
  const f32 = x instanceof Float32Array, size = f32 ? 4 : 8;
  const c = groups * cg, o = groups * og, plane = g.h * g.w, p = g.oh * g.ow, ck = cg * g.kh * g.kw, cols = groups * ck * p + COLUMNS_PAD;
  const pooled = pool === null ? 0 : pool.oh * pool.ow, count = n * o * pooled;
  const output = y !== null ? copyOut(y, n * o * p) : scratchRegion(o * p);
  const regions = [copyIn(x, n * c * plane), copyIn(w, o * ck), copyIn(bias, bias === null ? 0 : o), output, scratchRegion(2 * cols), float64Out(null, 8)];
  // The pooled maxima, and their indices as i32 in a temporary of as many bytes.
  if (pool !== null) regions.push(copyOut(pool.out, count), scratchRegion(f32 ? count : Math.ceil(count / 2)));
  const shape = { transA: false, transB: false, m: og, n: p, k: ck };
  const geometry = geometryArgs(g);
  return staged(f32, regions, (kernels, at, all) => {
    const [xAt, wAt, biasAt, yAt, colAt, slot, outAt, argmaxAt] = at as [number, number, number, number, number, number, number, number];
    const columns = (b: number): number => colAt + (b & 1) * cols * size;
    kernels.im2col(xAt, c, ...geometry, columns(0));
    for (let b = 0; b < n; b++) {
      const yb = pool === null ? yAt + b * o * p * size : yAt;
      for (let gi = 0; gi < groups; gi++) {
        const posted = beginProduct(shape, f32, wAt + gi * og * ck * size, columns(b) + gi * ck * p * size, yb + gi * og * p * size, all, kernels);
        if (gi === groups - 1 && b + 1 < n) kernels.im2col(xAt + (b + 1) * c * plane * size, c, ...geometry, columns(b + 1));
        endProduct(posted, kernels);
      }
      // One bias value per row (channel) of the image's [o, p] block.
      if (bias !== null) kernels.binary(ADD, yb, 1, p * size, biasAt, 0, size, yb, p, o, slot);
      if (pool !== null) kernels.maxPool(yb, o, g.oh, g.ow, pool.kh, pool.kw, pool.sh, pool.sw, pool.oh, pool.ow, outAt + b * o * pooled * size, argmaxAt + b * o * pooled * 4);
    }
    if (pool !== null) pool.argmax.set(new Int32Array(all.memory.buffer, argmaxAt, count));
  }, POSTS_PRODUCTS);
}

/**
 * A gradient at a convolution's output given as the gradient of its max pooling: the pooled
 * gradient g [n, o, inner] and each pooled value's winner within its plane (maxPool2d's VJP, not
 * yet applied). Each image's block of the output gradient is made in linear memory as
 * scatterPlanes makes it: zeroed, then g[j] added at argmax[j], j in order, plane by plane.
 */
export interface PooledGradient {
  readonly g: FloatArray;
  readonly argmax: Int32Array;
  readonly inner: number;
}

/**
 * The output gradient u, whole or pooled, as a `staged` region (pooled: two image blocks, made
 * one by one), and the function that gives image b's block's byte address, making a pooled
 * block first when `make` says so.
 */
function outputGradient(u: FloatArray | PooledGradient, n: number, o: number, p: number): { region: Region; block: (all: Kernels, uAt: number, b: number, make: boolean) => number } {
  if (!('argmax' in u)) return { region: copyIn(u, n * o * p), block: (_all, uAt, b) => uAt + b * o * p * u.BYTES_PER_ELEMENT };
  const { g, argmax, inner } = u, size = g.BYTES_PER_ELEMENT;
  return {
    region: scratchRegion(2 * o * p),
    block: (all, uAt, b, make) => {
      const at = uAt + (b & 1) * o * p * size;
      if (make) {
        const view = size === 4 ? new Float32Array(all.memory.buffer, at, o * p) : new Float64Array(all.memory.buffer, at, o * p);
        // The block's nonzeros are where image b − 2's gradient went (the block's last use): zero
        // those rather than the whole block (fill on a shared memory's view runs several times
        // slower than on an ordinary array). A block's first use zeroes it whole.
        if (b < 2) view.fill(0);
        else for (let ch = 0, j = (b - 2) * o * inner; ch < o; ch++) for (const plane = ch * p, end = j + inner; j < end; j++) view[plane + argmax[j]!] = 0;
        for (let ch = 0, j = b * o * inner; ch < o; ch++) {
          const plane = ch * p;
          for (const end = j + inner; j < end; j++) view[plane + argmax[j]!]! += g[j]!;
        }
      }
      return at;
    },
  };
}

/**
 * The adjoint of convForwardWasm in its input (a transposed convolution): x = col2im(wᵀ·u) + bias
 * per image, u [n, groups·og, oh, ow] (or pooled, see PooledGradient), w as there,
 * x [n, groups·cg, h, w], bias [groups·cg]. With the helper thread, an image's products run there
 * while this thread adds the previous image's columns into its input gradient (and makes the
 * next image's pooled gradient).
 */
export function convAdjointWasm(u: FloatArray | PooledGradient, w: FloatArray, bias: FloatArray | null, n: number, groups: number, cg: number, og: number, g: ConvGeometry, x: FloatArray): boolean {
  const f32 = x instanceof Float32Array, size = f32 ? 4 : 8;
  const c = groups * cg, o = groups * og, plane = g.h * g.w, p = g.oh * g.ow, ck = cg * g.kh * g.kw, cols = groups * ck * p;
  const grad = outputGradient(u, n, o, p);
  const regions = [grad.region, copyIn(w, o * ck), copyIn(bias, bias === null ? 0 : c), copyOut(x, n * c * plane), scratchRegion(2 * cols), float64Out(null, 8)];
  const shape = { transA: true, transB: false, m: ck, n: p, k: og };
  const geometry = geometryArgs(g);
  return staged(f32, regions, (kernels, at, all) => {
    const [uAt, wAt, biasAt, xAt, colAt, slot] = at as [number, number, number, number, number, number];
    const columns = (b: number): number => colAt + (b & 1) * cols * size;
    const fold = (b: number): void => {
      const xb = xAt + b * c * plane * size;
      kernels.col2im(columns(b), c, ...geometry, xb);
      if (bias !== null) kernels.binary(ADD, xb, 1, plane * size, biasAt, 0, size, xb, plane, c, slot);
    };
    grad.block(all, uAt, 0, true);
    for (let b = 0; b < n; b++) {
      const ub = grad.block(all, uAt, b, false);
      for (let gi = 0; gi < groups; gi++) {
        const posted = beginProduct(shape, f32, wAt + gi * og * ck * size, ub + gi * og * p * size, columns(b) + gi * ck * p * size, all, kernels);
        if (gi === 0 && b > 0) fold(b - 1);
        if (gi === 0 && b + 1 < n) grad.block(all, uAt, b + 1, true);
        endProduct(posted, kernels);
      }
    }
    fold(n - 1);
  }, POSTS_PRODUCTS);
}

/**
 * The adjoint of convForwardWasm in its weight: dw [groups·og, cg, kh, kw] = Σ over images of the
 * image's u block · its columnsᵀ, x as there and u as in convAdjointWasm. Each image's product
 * lands in a temporary added into dw, so the sum over the batch runs image by image. With the
 * helper thread, an image's products run there while this thread builds the next image's
 * columns (and makes its pooled gradient).
 */
export function convWeightGradWasm(x: FloatArray, u: FloatArray | PooledGradient, n: number, groups: number, cg: number, og: number, g: ConvGeometry, dw: FloatArray): boolean {
  const f32 = dw instanceof Float32Array, size = f32 ? 4 : 8;
  const c = groups * cg, o = groups * og, plane = g.h * g.w, p = g.oh * g.ow, ck = cg * g.kh * g.kw, cols = groups * ck * p + COLUMNS_PAD;
  const grad = outputGradient(u, n, o, p);
  const regions = [copyIn(x, n * c * plane), grad.region, copyOut(dw, o * ck), scratchRegion(2 * cols), scratchRegion(o * ck), float64Out(null, 8)];
  const shape = { transA: false, transB: true, m: og, n: ck, k: p };
  const geometry = geometryArgs(g);
  return staged(f32, regions, (kernels, at, all) => {
    const [xAt, uAt, dwAt, colAt, partAt, slot] = at as [number, number, number, number, number, number];
    const columns = (b: number): number => colAt + (b & 1) * cols * size;
    kernels.im2col(xAt, c, ...geometry, columns(0));
    grad.block(all, uAt, 0, true);
    for (let b = 0; b < n; b++) {
      const into = b === 0 ? dwAt : partAt;
      const ub = grad.block(all, uAt, b, false);
      for (let gi = 0; gi < groups; gi++) {
        const posted = beginProduct(shape, f32, ub + gi * og * p * size, columns(b) + gi * ck * p * size, into + gi * og * ck * size, all, kernels);
        if (gi === groups - 1 && b + 1 < n) {
          kernels.im2col(xAt + (b + 1) * c * plane * size, c, ...geometry, columns(b + 1));
          grad.block(all, uAt, b + 1, true);
        }
        endProduct(posted, kernels);
      }
      if (b > 0) kernels.binary(ADD, dwAt, 1, 0, partAt, 1, 0, dwAt, o * ck, 1, slot);
    }
  }, POSTS_PRODUCTS);
}

/**
 * Dense max pooling (windowMaxDense's contract: kh×kw windows at stride sh×sw, no padding, clipped
 * at the edges) over `planes` planes h×w: each window's maximum into `out` and its index within
 * its plane into `argmax`, which the kernel writes as i32 in a temporary read back as such.
 */
export function maxPoolWasm(x: FloatArray, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, oh: number, ow: number, out: FloatArray, argmax: Int32Array): boolean {
  const f32 = out instanceof Float32Array;
  const count = planes * oh * ow;
  const regions = [copyIn(x, planes * h * w), copyOut(out, count), scratchRegion(f32 ? count : Math.ceil(count / 2))];
  return staged(f32, regions, (kernels, at, all) => {
    kernels.maxPool(at[0]!, planes, h, w, kh, kw, sh, sw, oh, ow, at[1]!, at[2]!);
    argmax.set(new Int32Array(all.memory.buffer, at[2]!, count));
  });
}
