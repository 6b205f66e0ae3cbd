import type { FloatArray } from '../../dtype.js';
import type { ConvGeometry } from '../conv.js';
import { POSTS_JOBS } from './gemm.js';
import { runImages } from './helper-thread.js';
import { BINARY_OPS, CONV_JOB, GEMM_THREADS, JOB, JOB_KIND } from './layout.js';
import { copyIn, copyOut, float64Out, int32In, int32Out, scratchRegion, staged, type Region } from './memory.js';
import type { DtypeKernels, Kernels } from './module.js';

/**
 * The three products of a convolution (forward, adjoint in the input, adjoint in the weight) in
 * WebAssembly, as one job over the batch's images (conv_images_<t>): each thread takes an image
 * at a time and carries it through all of its kernels in its own work area, its im2col columns
 * built in linear memory (in cache) and read there by the gemm, whose result lands straight in
 * the image's NCHW block, so neither the batch's columns nor a channel-major copy of the output
 * ever exist. With the helper thread, both threads take images, and a batch wakes the helper once.
 * What crosses into WebAssembly memory is the operands and the results, once. Each returns
 * false, having done nothing, where WebAssembly SIMD is missing or the operands do not fit its
 * memory (the caller then runs the TypeScript path).
 */

const ADD = BINARY_OPS.indexOf('add');

/**
 * Elements left free after a thread's columns: im2col_<t> writes whole vectors, up to 16 bytes
 * past the columns, which must not reach the image block after them.
 */
const COLUMNS_PAD = 16;

/**
 * Bytes of the weight gradient's per-image slots a job may take (4 MiB): a batch whose slots
 * take more runs as several jobs, each summed before the next (WebAssembly memory never shrinks).
 */
const PARTS_BYTES = 1 << 22;

/** Dense windows over a convolution's output planes: kh×kw at stride sh×sw, oh×ow of them. */
export interface DenseWindows {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly oh: number;
  readonly ow: number;
}

/**
 * Dense max pooling (windowMaxDense's contract) over each image's convolution output inside the
 * forward's staging: each window's maximum into `out` and its index within its plane into `argmax`.
 */
export interface PoolEpilogue extends DenseWindows {
  readonly out: FloatArray;
  readonly argmax: Int32Array;
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

/** Rounds up to a cache line. */
const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** A thread's work area: its im2col columns (COLUMNS_PAD elements free after them), then one image's [o, p] block at `block` bytes. */
interface WorkArea {
  readonly block: number;
  readonly stride: number;
}

function workArea(groups: number, ck: number, p: number, o: number, size: number): WorkArea {
  const block = align((groups * ck * p + COLUMNS_PAD) * size);
  return { block, stride: align(block + o * p * size) };
}

/** The work areas of every thread that may take images, as a `staged` region of the call's dtype. */
const workRegion = (area: WorkArea, size: number): Region => scratchRegion((GEMM_THREADS * area.stride) / size);

/** A convolution job's fields (CONV_JOB's), byte addresses inside a `staged` call; 0 where a kind has none. */
interface ImageJob {
  readonly kind: number;
  readonly groups: number;
  readonly cg: number;
  readonly og: number;
  readonly g: ConvGeometry;
  /** The pooling windows of a pooled forward; null otherwise. */
  readonly pool: DenseWindows | null;
  /** Pooled values per plane of a pooled forward or gradient; 0 for none. */
  readonly inner: number;
  readonly input: number;
  readonly weight: number;
  readonly grad: number;
  readonly bias: number;
  readonly out: number;
  readonly argmax: number;
  readonly parts: number;
  readonly work: number;
  readonly area: WorkArea;
}

/** Writes the job record for images [first, first + count) of `job` and runs them (both threads where the helper is ready). */
function runImageJob(kernels: Kernels, dtype: DtypeKernels, f32: boolean, job: ImageJob, first: number, count: number): void {
  const words = kernels.job();
  const { g, pool } = job;
  words[JOB.kind] = job.kind;
  words[JOB.dtype] = f32 ? 0 : 1;
  const fields: [keyof typeof CONV_JOB, number][] = [
    ['first', first], ['groups', job.groups], ['cg', job.cg], ['og', job.og],
    ['h', g.h], ['w', g.w], ['kh', g.kh], ['kw', g.kw], ['oh', g.oh], ['ow', g.ow], ['sh', g.sh], ['sw', g.sw], ['ph', g.ph], ['pw', g.pw], ['dh', g.dh], ['dw', g.dw],
    ['input', job.input], ['weight', job.weight], ['grad', job.grad], ['bias', job.bias], ['out', job.out], ['argmax', job.argmax], ['parts', job.parts],
    ['work', job.work], ['workStride', job.area.stride], ['block', job.area.block], ['pooled', job.inner > 0 ? 1 : 0],
    ['poolKh', pool?.kh ?? 0], ['poolKw', pool?.kw ?? 0], ['poolSh', pool?.sh ?? 0], ['poolSw', pool?.sw ?? 0], ['poolOh', pool?.oh ?? 0], ['poolOw', pool?.ow ?? 0], ['inner', job.inner],
  ];
  for (const [name, value] of fields) words[CONV_JOB[name]] = value;
  runImages(kernels, dtype, count);
}

/** The geometry's sizes: input channels, output channels, input plane, output plane, taps per group. */
function sizes(groups: number, cg: number, og: number, g: ConvGeometry): { c: number; o: number; plane: number; p: number; ck: number } {
  return { c: groups * cg, o: groups * og, plane: g.h * g.w, p: g.oh * g.ow, ck: cg * g.kh * g.kw };
}

/** The output gradient as `staged` regions, whole or pooled (its values, then their winners), and its pooled count per plane (0: whole). */
function gradientRegions(u: FloatArray | PooledGradient, n: number, o: number, p: number): { regions: Region[]; inner: number } {
  if (!('argmax' in u)) return { regions: [copyIn(u, n * o * p), scratchRegion(0)], inner: 0 };
  const count = n * o * u.inner;
  return { regions: [copyIn(u.g, count), int32In(u.argmax, count)], inner: u.inner };
}

/**
 * y = conv(x, w) + bias: x [n, groups·cg, h, w], w [groups·og, cg, kh, kw], y [n, groups·og, oh, ow];
 * per image and group, y's block = w's rows · the image's columns, then bias[channel] on each plane.
 * Each element gets the arithmetic of the whole-batch gemm: its own sum over the taps, plus the bias.
 * With `pool`, y (null then) is only ever one image's block in a thread's work area: each image's
 * output is max-pooled there (max_pool_<t>, the bits of windowMaxDense) and only the pooled planes
 * and their indices come out.
 */
export function convForwardWasm(x: FloatArray, w: FloatArray, bias: FloatArray | null, n: number, groups: number, cg: number, og: number, g: ConvGeometry, y: FloatArray | null, pool: PoolEpilogue | null = null): boolean {
  const f32 = x instanceof Float32Array, size = f32 ? 4 : 8;
  const { c, o, plane, p, ck } = sizes(groups, cg, og, g);
  const inner = pool === null ? 0 : pool.oh * pool.ow, count = n * o * inner;
  const area = workArea(groups, ck, p, o, size);
  const regions = [
    copyIn(x, n * c * plane), copyIn(w, o * ck), copyIn(bias, bias === null ? 0 : o),
    pool === null ? copyOut(y!, n * o * p) : copyOut(pool.out, count), pool === null ? scratchRegion(0) : int32Out(pool.argmax, count), workRegion(area, size),
  ];
  return staged(f32, regions, (kernels, at, all) => {
    const [xAt, wAt, biasAt, outAt, argmaxAt, workAt] = at as [number, number, number, number, number, number];
    const job = { kind: JOB_KIND.convForward, groups, cg, og, g, pool, inner, input: xAt, weight: wAt, grad: 0, bias: bias === null ? 0 : biasAt, out: outAt, argmax: argmaxAt, parts: 0, work: workAt, area };
    runImageJob(all, kernels, f32, job, 0, n);
  }, POSTS_JOBS);
}

/**
 * The adjoint of convForwardWasm in its input (a transposed convolution): x = col2im(wᵀ·u) + bias
 * per image, u [n, groups·og, oh, ow] (or pooled, see PooledGradient), w as there,
 * x [n, groups·cg, h, w], bias [groups·cg].
 */
export function convAdjointWasm(u: FloatArray | PooledGradient, w: FloatArray, bias: FloatArray | null, n: number, groups: number, cg: number, og: number, g: ConvGeometry, x: FloatArray): boolean {
  const f32 = x instanceof Float32Array, size = f32 ? 4 : 8;
  const { c, o, plane, p, ck } = sizes(groups, cg, og, g);
  const grad = gradientRegions(u, n, o, p);
  const area = workArea(groups, ck, p, o, size);
  const regions = [...grad.regions, copyIn(w, o * ck), copyIn(bias, bias === null ? 0 : c), copyOut(x, n * c * plane), workRegion(area, size)];
  return staged(f32, regions, (kernels, at, all) => {
    const [uAt, argmaxAt, wAt, biasAt, xAt, workAt] = at as [number, number, number, number, number, number];
    const job = { kind: JOB_KIND.convAdjoint, groups, cg, og, g, pool: null, inner: grad.inner, input: uAt, weight: wAt, grad: 0, bias: bias === null ? 0 : biasAt, out: xAt, argmax: argmaxAt, parts: 0, work: workAt, area };
    runImageJob(all, kernels, f32, job, 0, n);
  }, POSTS_JOBS);
}

/**
 * The adjoint of convForwardWasm in its weight: dw [groups·og, cg, kh, kw] = Σ over images of the
 * image's u block · its columnsᵀ, x as there and u as in convAdjointWasm. Each image's product
 * lands in a slot of its own (image 0's in dw), added into dw in image order once its job is
 * done, so the sum over the batch runs image by image whichever thread made each product.
 */
export function convWeightGradWasm(x: FloatArray, u: FloatArray | PooledGradient, n: number, groups: number, cg: number, og: number, g: ConvGeometry, dw: FloatArray): boolean {
  const f32 = dw instanceof Float32Array, size = f32 ? 4 : 8;
  const { c, o, plane, p, ck } = sizes(groups, cg, og, g);
  const grad = gradientRegions(u, n, o, p);
  const area = workArea(groups, ck, p, o, size);
  // Images per job: as many slots as PARTS_BYTES holds, two at least (so both threads have one).
  const chunk = Math.min(n, Math.max(2, Math.floor(PARTS_BYTES / (o * ck * size))));
  const regions = [copyIn(x, n * c * plane), ...grad.regions, copyOut(dw, o * ck), scratchRegion(chunk * o * ck), workRegion(area, size), float64Out(null, 8)];
  return staged(f32, regions, (kernels, at, all) => {
    const [xAt, uAt, argmaxAt, dwAt, partsAt, workAt, slot] = at as [number, number, number, number, number, number, number];
    const job = { kind: JOB_KIND.convWeightGrad, groups, cg, og, g, pool: null, inner: grad.inner, input: xAt, weight: 0, grad: uAt, bias: 0, out: dwAt, argmax: argmaxAt, parts: partsAt, work: workAt, area };
    for (let first = 0; first < n; first += chunk) {
      const count = Math.min(chunk, n - first);
      runImageJob(all, kernels, f32, job, first, count);
      for (let b = Math.max(first, 1); b < first + count; b++) kernels.binary(ADD, dwAt, 1, 0, partsAt + (b - first) * o * ck * size, 1, 0, dwAt, o * ck, 1, slot);
    }
  }, POSTS_JOBS);
}

/**
 * Dense max pooling (windowMaxDense's contract: kh×kw windows at stride sh×sw, no padding, clipped
 * at the edges) over `planes` planes h×w: each window's maximum into `out` and its index within
 * its plane into `argmax`.
 */
export function maxPoolWasm(x: FloatArray, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, oh: number, ow: number, out: FloatArray, argmax: Int32Array): boolean {
  const f32 = out instanceof Float32Array;
  const count = planes * oh * ow;
  const regions = [copyIn(x, planes * h * w), copyOut(out, count), int32Out(argmax, count)];
  return staged(f32, regions, (kernels, at) => kernels.maxPool(at[0]!, planes, h, w, kh, kw, sh, sw, oh, ow, at[1]!, at[2]!));
}
