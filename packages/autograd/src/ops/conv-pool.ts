import { allocate } from '../dtype.js';
import { convBackwardPooled, convForwardPooled } from '../kernels/conv.js';
import type { DenseWindows } from '../kernels/conv.js';
import { constant, expectFloat, makeOutput, type FloatTensor, type Tensor } from '../tensor.js';
import { currentInterpreter, opsRunEagerly } from '../engine/dispatch.js';
import { forwardActive } from '../engine/forward.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { sum } from './reduce.js';
import { CONV_OPTIONS, bilinearJvp, conv2d, convForward, convForwardVjp, convPlan, narrowGroups, type ConvOptions, type ConvSpec, type SpatialArg } from './conv.js';
import { gatherFromPlanes, maxPool2d, poolGeometry, scatterToPlanes, type MaxPoolOptions } from './pool.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const CONV2D_MAX_POOL2D_OPTIONS = ['stride', 'padding', 'dilation', 'ceilMode'];

/**
 * maxPool2d(conv2d(x, w, b, s), windows) as one op: the convolution's output is never an array
 * of its own (in WebAssembly it stays one image's block in linear memory), and the VJP is the
 * convolution's, of the pooled gradient scattered back to each window's winner, all in Tensor
 * ops so that it differentiates again.
 */
function convMaxPool(x: FloatTensor, w: FloatTensor, b: FloatTensor | null, s: ConvSpec, windows: DenseWindows): Tensor {
  const n = x.shape[0]!, o = w.shape[0]!, cg = w.shape[1]!;
  const og = o / s.groups, inner = windows.oh * windows.ow;
  const shape = [n, o, windows.oh, windows.ow];
  const out = allocate(x.dtype, n * o * inner, 'conv2dMaxPool2d', shape);
  const argmax = new Int32Array(n * o * inner);
  convForwardPooled(x.data, w.data, b === null ? null : b.data, n, s.groups, cg, og, s, { ...windows, out, argmax });
  const convShape = [n, o, s.oh, s.ow];
  return makeOutput('conv2dMaxPool2d', out, shape, b === null ? [x, w] : [x, w, b], (g) => {
    const gf = expectFloat('conv2dMaxPool2d', g);
    const grads = pooledBackward(x, w, s, gf, argmax, inner) ?? convForwardVjp(x, w, null, s, expectFloat('conv2dMaxPool2d', scatterToPlanes('maxPool2d', gf, argmax, convShape)));
    // The bias's gradient sums the pooled gradient: the scattered one holds the same values and zeros.
    if (b !== null) grads.push(b.requiresGrad ? sum(gf, [0, 2, 3]) : null);
    return grads;
  }, {
    saves: [[1], [0], []],
    // The convolution's tangent at each window's winner (a bias tangent is the same at every position of its channel).
    jvp: bilinearJvp((xt, wt) => gatherFromPlanes('maxPool2d', expectFloat('conv2dMaxPool2d', convForward(xt, wt, null, s)), argmax, shape)),
  });
}

/**
 * The input and weight gradients of convMaxPool from the pooled gradient g in one kernel call per
 * gradient (`convBackwardPooled`, each image's scattered gradient made where the products read
 * it) when no graph is built, no tangent carried and no transform sees the ops: the values of the
 * Tensor-op VJP, to the bit. Null where that kernel does not take the call.
 */
function pooledBackward(x: FloatTensor, w: FloatTensor, s: ConvSpec, g: FloatTensor, argmax: Int32Array, inner: number): (Tensor | null)[] | null {
  if (!opsRunEagerly() || isGradEnabled() || forwardActive()) return null;
  const n = x.shape[0]!, o = w.shape[0]!, cg = w.shape[1]!;
  const dx = x.requiresGrad ? allocate(x.dtype, x.size) : null;
  const dw = w.requiresGrad ? allocate(w.dtype, w.size) : null;
  if (!convBackwardPooled(x.data, w.data, { g: g.data, argmax, inner }, n, s.groups, cg, o / s.groups, s, dx, dw)) return null;
  return [dx === null ? null : constant(dx, x.shape), dw === null ? null : constant(dw, w.shape)];
}

/** Options of `conv2dMaxPool2d`'s pooling: maxPool2d's, without the indices. */
export type ConvMaxPoolOptions = Omit<MaxPoolOptions, 'returnIndices'>;

/**
 * `maxPool2d(conv2d(input, weight, bias, convOptions), kernelSize, poolOptions)` in one pass, the
 * same values and gradients: the convolution's output, four times the pooled size for 2×2
 * windows, is never written out (where WebAssembly runs the convolution it is pooled image by
 * image in linear memory). Batched 4-D inputs under pooling without padding or dilation take the
 * fused path; everything else (and any transform: vmap, jit) runs the two ops.
 * @throws as `conv2d` for the convolution's arguments and as `maxPool2d` for the pooling's.
 * @example conv2dMaxPool2d(x, w, b, { padding: 2 }, 2) // x [64, 1, 28, 28], w [6, 1, 5, 5] -> [64, 6, 14, 14]
 */
export function conv2dMaxPool2d(input: Tensor, weight: Tensor, bias: Tensor | null | undefined, convOptions: ConvOptions, kernelSize: SpatialArg, poolOptions: ConvMaxPoolOptions = {}): Tensor {
  checkOptions('conv2dMaxPool2d', convOptions, CONV_OPTIONS);
  checkOptions('conv2dMaxPool2d', poolOptions, CONV2D_MAX_POOL2D_OPTIONS);
  const composed = (): Tensor => maxPool2d(conv2d(input, weight, bias, convOptions), kernelSize, poolOptions);
  // A transform (jit's recording included) sees the two primitives: this op is not one of its own.
  if (currentInterpreter() !== null || input.ndim !== 4) return composed();
  const { x, w, b, spec } = convPlan('conv2d', 2, input, weight, bias, convOptions);
  const og = w.shape[0]! / spec.groups;
  if (narrowGroups(spec.groups, og, w.shape[1]!)) return composed();
  const convShape = [x.shape[0]!, w.shape[0]!, spec.oh, spec.ow];
  const g = poolGeometry('maxPool2d', convShape, [spec.oh, spec.ow], kernelSize, poolOptions);
  if (g.padding.some((p) => p !== 0) || g.dilation.some((d) => d !== 1)) return composed();
  const [kh, kw] = g.kernel as [number, number];
  const [sh, sw] = g.stride as [number, number];
  const [oh, ow] = g.out as [number, number];
  return convMaxPool(x, w, b, spec, { kh, kw, sh, sw, oh, ow });
}
