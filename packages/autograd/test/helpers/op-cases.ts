/**
 * The table of differentiable ops the transform tests share, one row per op (or per form of an
 * op): a function of float64 tensors, the arbitrary of its input shapes and the values where it
 * is smooth. `test/jvp-rules.test.ts` checks each row's forward-mode rule,
 * `test/jit-grad-ops.test.ts` checks `jit(grad(f))` against `grad(f)` on each, and
 * `test/vmap-ops.test.ts` checks vmap, vmap(grad) and the Hessian (vmap of jvp of grad) on each.
 */
import fc from 'fast-check';
import * as cr from '@chainrule/autograd';
import { Tensor, tensor, type TensorLike } from '@chainrule/autograd';
import { broadcastShapesArb, shapeArb, type ShapeConstraints, type ValueConstraints } from '@chainrule/autograd/testing';

export type Fn = (...xs: Tensor[]) => Tensor;

export interface OpCase {
  name: string;
  f: Fn;
  /** Shapes of the inputs. */
  shapes: fc.Arbitrary<number[][]>;
  /** Values of each input (one for all, or one per input). */
  values?: ValueConstraints | readonly ValueConstraints[];
  /**
   * Why finite differences do not apply: the output jumps with its input (sign-ambiguous vectors,
   * a mask that moves), or the op's derivative is defined otherwise on purpose (a padding row).
   */
  noDifferences?: string;
  /** Why the double VJP does not apply: the op's VJP is not differentiable in its cotangent at 0. */
  noReference?: string;
  /** Tolerance against finite differences (default 1e-5 relative and absolute). */
  fdTol?: number;
}

const small: ShapeConstraints = { maxRank: 3, maxDim: 3 };
const one = (c: ShapeConstraints = small): fc.Arbitrary<number[][]> => shapeArb(c).map((s) => [s]);
const same = (count: number, c: ShapeConstraints = small): fc.Arbitrary<number[][]> => shapeArb(c).map((s) => Array.from({ length: count }, () => s));
const fixed = (...shapes: number[][]): fc.Arbitrary<number[][]> => fc.constant(shapes);
const atLeast = (rank: number): fc.Arbitrary<number[][]> => one({ minRank: rank, maxRank: 3, maxDim: 3 });
/** [n, n] matrices, batched or not. */
const square = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom<number[]>([], [2])).map(([n, b]) => [[...b, n, n]]);
const matrix = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([m, n]) => [[m, n]]);

const u = (name: string, f: Fn, values?: ValueConstraints): OpCase => ({ name, f, shapes: one(), values });
const b = (name: string, f: (a: TensorLike, b: TensorLike) => Tensor, values?: ValueConstraints | readonly ValueConstraints[]): OpCase => ({
  name, f: (x, y) => f(x!, y!), shapes: broadcastShapesArb(2, small), values,
});
const kinkAtZero: ValueConstraints = { avoid: [0], margin: 0.05 };
const positive: ValueConstraints = { min: 0.2, max: 2 };
const inside: ValueConstraints = { min: -0.9, max: 0.9 };
/** Values of clamp's x: outside the bounds' ranges [-1, -0.5] and [0.5, 1] by at least 0.05. */
const clampX: ValueConstraints = { avoid: [-0.75, 0.75], margin: 0.3 };
/** A symmetric positive-definite matrix from any square one. */
const spd = (a: Tensor): Tensor => a.matmul(a.transpose(-1, -2)).add(cr.eye(a.shape[a.ndim - 1]!, undefined, { dtype: 'float64' }).mul(a.shape[a.ndim - 1]!));
const sym = (a: Tensor): Tensor => a.add(a.transpose(-1, -2));
const idx = (values: number[]): Tensor => tensor(values, { dtype: 'int32' });

export const opCases: OpCase[] = [
  // Elementwise, one input: the VJP applied to the tangent.
  u('neg', cr.neg), u('exp', cr.exp), u('expm1', cr.expm1), u('log', cr.log, positive), u('log1p', cr.log1p, positive),
  u('sqrt', cr.sqrt, positive), u('abs', cr.abs, kinkAtZero), u('tanh', cr.tanh), u('sigmoid', cr.sigmoid), u('relu', cr.relu, kinkAtZero),
  u('leakyRelu', (x) => cr.leakyRelu(x!, 0.2), kinkAtZero), u('gelu', (x) => cr.gelu(x!)), u('silu', cr.silu), u('softplus', (x) => cr.softplus(x!)),
  u('sin', cr.sin), u('cos', cr.cos), u('erf', cr.erf), u('square', cr.square), u('reciprocal', cr.reciprocal, positive),
  u('clamp', (x) => cr.clamp(x!, -0.5, 0.5), { avoid: [-0.5, 0.5] }), u('tan', cr.tan, inside), u('asin', cr.asin, inside),
  u('acos', cr.acos, inside), u('atan', cr.atan), u('sinh', cr.sinh), u('cosh', cr.cosh), u('asinh', cr.asinh),
  u('acosh', cr.acosh, { min: 1.2, max: 3 }), u('atanh', cr.atanh, inside), u('exp2', cr.exp2), u('log2', cr.log2, positive),
  u('log10', cr.log10, positive), u('mish', cr.mish), u('elu', (x) => cr.elu(x!), kinkAtZero), u('selu', cr.selu, kinkAtZero),
  u('celu', (x) => cr.celu(x!, { alpha: 2 }), kinkAtZero), u('hardtanh', (x) => cr.hardtanh(x!), { avoid: [-1, 1] }),
  u('relu6', cr.relu6, { min: -1, max: 7, avoid: [0, 6] }), u('hardsigmoid', cr.hardsigmoid, { min: -4, max: 4, avoid: [-3, 3] }),
  u('hardswish', cr.hardswish, { min: -4, max: 4, avoid: [-3, 3] }), u('logsigmoid', cr.logsigmoid), u('softsign', cr.softsign),
  u('tanhshrink', cr.tanhshrink), u('floor', cr.floor, { avoid: [-2, -1, 0, 1, 2] }), u('frac', cr.frac, { avoid: [-2, -1, 0, 1, 2] }),
  u('ceil', cr.ceil, { avoid: [-2, -1, 0, 1, 2] }), u('trunc', cr.trunc, { avoid: [-2, -1, 0, 1, 2] }), u('sign', cr.sign, kinkAtZero),
  u('round', (x) => cr.round(x!), { avoid: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5] }), u('round (decimals)', (x) => cr.round(x!, { decimals: 1 }), { min: 0.01, max: 0.04 }),
  u('nanToNum', (x) => cr.nanToNum(x!)), u('clone', (x) => x!.clone()), u('toDtype', (x) => x!.toDtype('float64')),
  // Elementwise, two broadcast inputs.
  b('add', cr.add), b('sub', cr.sub), b('mul', cr.mul), b('div', cr.div, [{}, positive]), b('pow', cr.pow, [positive, {}]),
  { name: 'pow (number)', f: (x) => cr.pow(x!, 3), shapes: one() }, b('atan2', cr.atan2, positive),
  b('maximum', cr.maximum), b('minimum', cr.minimum), b('hypot', cr.hypot, positive), b('logaddexp', cr.logaddexp),
  b('xlogy', cr.xlogy, positive), b('copysign', cr.copysign, [{}, kinkAtZero]),
  b('fmod', cr.fmod, [{ min: 0.1, max: 0.4 }, { min: 1, max: 2 }]), b('remainder', cr.remainder, [{ min: 0.1, max: 0.4 }, { min: 1, max: 2 }]),
  { name: 'lerp', f: (a, e, w) => cr.lerp(a!, e!, w!), shapes: broadcastShapesArb(3, small) },
  { name: 'where', f: (x, y) => cr.where(x!.gt(0), x!, y!), shapes: broadcastShapesArb(2, small), values: kinkAtZero },
  // clamp with tensor bounds: x kept away from the bounds' ranges, so no tie moves under a difference.
  { name: 'clamp (tensor bounds)', f: (x, lo, hi) => cr.clamp(x!, lo!, hi!), shapes: broadcastShapesArb(3, small), values: [clampX, { min: -1, max: -0.5 }, { min: 0.5, max: 1 }] },
  { name: 'clamp (min > max)', f: (x, lo, hi) => cr.clamp(x!, lo!, hi!), shapes: broadcastShapesArb(3, small), values: [clampX, { min: 0.5, max: 1 }, { min: -1, max: -0.5 }] },
  { name: 'clamp (tensor min)', f: (x, lo) => x!.clamp(lo!), shapes: broadcastShapesArb(2, small), values: [clampX, { min: -1, max: -0.5 }] },
  { name: 'clamp (tensor max, number min)', f: (x, hi) => cr.clamp(x!, -1.5, hi!), shapes: broadcastShapesArb(2, small), values: [{ ...clampX, avoid: [-1.5, -0.75, 0.75] }, { min: 0.5, max: 1 }] },
  // Reductions.
  { name: 'sum', f: (x) => x!.sum(-1), shapes: atLeast(1) }, { name: 'sum (all)', f: (x) => x!.sum(), shapes: one() },
  { name: 'mean', f: (x) => x!.mean(0, true), shapes: atLeast(1) }, { name: 'max', f: (x) => cr.max(x!, -1), shapes: atLeast(1) },
  { name: 'min', f: (x) => cr.min(x!), shapes: one() }, { name: 'prod', f: (x) => cr.prod(x!, 0), shapes: atLeast(1) },
  // Zeros planted by a mask: one in a row, two in a row, and a product over both axes holding three.
  { name: 'prod (zeros)', f: (x) => cr.prod(x!.mul(tensor([[1, 0, 1], [0, 1, 0]], { dtype: 'float64' })), -1, true), shapes: fixed([2, 3]) },
  { name: 'prod (all, zeros)', f: (x) => cr.prod(x!.mul(tensor([[1, 0, 1], [0, 1, 0]], { dtype: 'float64' }))), shapes: fixed([2, 3]) },
  { name: 'prod (axes, one zero)', f: (x) => cr.prod(x!.mul(tensor([[[1, 1], [0, 1]], [[1, 1], [1, 1]]], { dtype: 'float64' })), [0, 2]), shapes: fixed([2, 2, 2]) },
  { name: 'logsumexp', f: (x) => cr.logsumexp(x!, -1), shapes: atLeast(1) },
  { name: 'variance', f: (x) => cr.variance(x!, -1, { correction: 1 }), shapes: one({ minRank: 1, maxRank: 2, minDim: 2, maxDim: 3 }) },
  { name: 'std', f: (x) => cr.std(x!), shapes: one({ minRank: 1, maxRank: 2, minDim: 2, maxDim: 3 }) },
  { name: 'vectorNorm 2', f: (x) => cr.vectorNorm(x!, 2, -1), shapes: atLeast(1) },
  { name: 'vectorNorm 3', f: (x) => cr.vectorNorm(x!, 3), shapes: one(), values: kinkAtZero },
  { name: 'vectorNorm inf', f: (x) => cr.vectorNorm(x!, Infinity, -1), shapes: atLeast(1), values: kinkAtZero },
  { name: 'matrixNorm nuc', f: (x) => cr.matrixNorm(x!, 'nuc'), shapes: matrix },
  { name: 'normalize', f: (x) => cr.normalize(x!), shapes: atLeast(2) },
  { name: 'cosineSimilarity', f: (x, y) => cr.cosineSimilarity(x!, y!, { axis: -1 }), shapes: same(2, { minRank: 1, maxRank: 2, maxDim: 3 }) },
  { name: 'cdist', f: (x, y) => cr.cdist(x!, y!), shapes: fixed([3, 2], [2, 2]), values: [{ min: -2, max: -1 }, { min: 1, max: 2 }] },
  { name: 'nansum', f: (x) => cr.nansum(x!, 0), shapes: atLeast(1) }, { name: 'nanmean', f: (x) => cr.nanmean(x!), shapes: one() },
  { name: 'quantile', f: (x) => cr.quantile(x!, 0.3, -1), shapes: atLeast(1) }, { name: 'median', f: (x) => x!.median(), shapes: one() },
  { name: 'nanquantile (1-D q)', f: (x) => cr.nanquantile(x!, tensor([0.2, 0.9], { dtype: 'float64' }), 0, { keepdims: true }), shapes: atLeast(1) },
  { name: 'nanvar', f: (x) => cr.nanvar(x!, -1, { correction: 1 }), shapes: one({ minRank: 1, maxRank: 2, minDim: 2, maxDim: 3 }) },
  { name: 'nanstd', f: (x) => cr.nanstd(x!), shapes: one({ minRank: 1, maxRank: 2, minDim: 2, maxDim: 3 }) },
  { name: 'norm', f: (x) => cr.norm(x!, 3, -1, true), shapes: atLeast(1), values: kinkAtZero },
  { name: 'pairwiseDistance', f: (x, y) => cr.pairwiseDistance(x!, y!), shapes: fixed([2, 3], [3]) },
  { name: 'minWithIndices', f: (x) => cr.minWithIndices(x!, 0, true).values, shapes: atLeast(1) },
  // Scans and order.
  { name: 'cumsum', f: (x) => cr.cumsum(x!, -1), shapes: atLeast(1) }, { name: 'cumprod', f: (x) => cr.cumprod(x!, 0), shapes: atLeast(1) },
  { name: 'cumprod (zeros)', f: (x) => cr.cumprod(x!.mul(tensor([1, 0, 1], { dtype: 'float64' })), -1), shapes: fixed([2, 3]) },
  { name: 'logcumsumexp', f: (x) => cr.logcumsumexp(x!, -1), shapes: atLeast(1), noReference: 'its VJP takes log|g|, which has no derivative at g = 0' },
  { name: 'cummax', f: (x) => cr.cummax(x!, 0).values, shapes: atLeast(1) }, { name: 'cummin', f: (x) => cr.cummin(x!, -1).values, shapes: atLeast(1) },
  { name: 'sort', f: (x) => cr.sort(x!, -1).values, shapes: atLeast(1) }, { name: 'topk', f: (x) => cr.topk(x!, 1, -1).values, shapes: atLeast(1) },
  { name: 'kthvalue', f: (x) => cr.kthvalue(x!, 1, 0).values, shapes: atLeast(1) },
  { name: 'maxWithIndices', f: (x) => cr.maxWithIndices(x!, -1).values, shapes: atLeast(1) },
  { name: 'bincount', f: (w) => cr.bincount(idx([0, 2, 2, 1]), { weights: w! }), shapes: fixed([4]) },
  // Layout.
  { name: 'reshape', f: (x) => x!.reshape([-1]), shapes: one() }, { name: 'permute', f: (x) => x!.permute([2, 0, 1]), shapes: one({ minRank: 3, maxRank: 3, maxDim: 3 }) },
  { name: 'transpose', f: (x) => x!.transpose(0, -1), shapes: atLeast(1) }, { name: 'slice', f: (x) => cr.slice(x!, -1, 0, 1), shapes: atLeast(1) },
  { name: 'concat', f: (x, y) => cr.concat([x!, y!], 0), shapes: same(2, { minRank: 1, maxRank: 3, maxDim: 3 }) },
  { name: 'stack', f: (x, y) => cr.stack([x!, y!], 0), shapes: same(2) }, { name: 'expand', f: (x) => cr.expand(x!, [2, ...x!.shape]), shapes: one() },
  { name: 'split', f: (x) => cr.split(x!, 1, -1)[0]!, shapes: atLeast(1) }, { name: 'flip', f: (x) => cr.flip(x!, 0), shapes: atLeast(1) },
  { name: 'roll', f: (x) => cr.roll(x!, 1, 0), shapes: atLeast(1) }, { name: 'pad', f: (x) => cr.pad(x!, [1, 2]), shapes: atLeast(1) },
  { name: 'pad reflect', f: (x) => cr.pad(x!, [1, 1], { mode: 'reflect' }), shapes: one({ minRank: 2, maxRank: 2, minDim: 2, maxDim: 3 }) },
  { name: 'repeat', f: (x) => cr.repeat(x!, [2, 1]), shapes: one({ minRank: 1, maxRank: 2, maxDim: 3 }) },
  { name: 'tile', f: (x) => cr.tile(x!, [2]), shapes: one() }, { name: 'repeatInterleave', f: (x) => cr.repeatInterleave(x!, 2, -1), shapes: atLeast(1) },
  { name: 'repeatInterleave (flattened, per element)', f: (x) => cr.repeatInterleave(x!, [1, 0, 2]), shapes: fixed([3]) },
  { name: 'flatten', f: (x) => cr.flatten(x!, 1), shapes: atLeast(2) }, { name: 'narrow', f: (x) => cr.narrow(x!, -1, 0, 1), shapes: atLeast(1) },
  { name: 'squeeze', f: (x) => cr.squeeze(x!), shapes: one() }, { name: 'unsqueeze', f: (x) => cr.unsqueeze(x!, -1), shapes: one() },
  { name: 'movedim', f: (x) => cr.movedim(x!, 0, -1), shapes: atLeast(1) }, { name: 'chunk', f: (x) => cr.chunk(x!, 2, -1)[0]!, shapes: atLeast(1) },
  { name: 'unbind', f: (x) => cr.unbind(x!, -1)[0]!, shapes: atLeast(1) }, { name: 'sumTo', f: (x) => cr.sumTo(x!, [1, 3]), shapes: fixed([2, 3]) },
  { name: 'meshgrid', f: (x, y) => cr.meshgrid([x!, y!], { indexing: 'xy' })[0]!.mul(cr.meshgrid([x!, y!])[1]!.transpose()), shapes: fixed([2], [3]) },
  { name: 'triu', f: (x) => cr.triu(x!, 1), shapes: atLeast(2) }, { name: 'diag', f: (x) => cr.diag(cr.diag(x!, -1)), shapes: fixed([3]) },
  { name: 'tril', f: (x) => cr.tril(x!), shapes: atLeast(2) }, { name: 'diagonal', f: (x) => cr.diagonal(x!), shapes: atLeast(2) },
  { name: 'diagEmbed', f: (x) => cr.diagEmbed(x!), shapes: atLeast(1) }, { name: 'trace', f: (x) => cr.trace(x!), shapes: fixed([3, 2]) },
  { name: 'gather', f: (x) => cr.gather(x!, 1, [[2, 0], [1, 1]]), shapes: fixed([2, 3]) },
  { name: 'indexSelect', f: (x) => cr.indexSelect(x!, 0, [1, 0, 1]), shapes: fixed([2, 3]) },
  { name: 'take', f: (x) => cr.take(x!, [5, 0, 5]), shapes: fixed([2, 3]) },
  { name: 'index (integers)', f: (x) => cr.index(x!, [[1, -1], [0, 0]]), shapes: fixed([2, 3]) },
  { name: 'index (mask)', f: (x) => cr.index(x!, x!.gt(0)), shapes: fixed([2, 3]), values: kinkAtZero },
  { name: 'embedding', f: (w) => cr.embedding(w!, [[1, 0], [1, 2]]), shapes: fixed([3, 2]) },
  { name: 'embedding (padding)', f: (w) => cr.embedding(w!, [[1, 0], [1, 2]], { paddingIdx: 0 }), shapes: fixed([3, 2]), noDifferences: 'the padding row is held constant, as its gradient is' },
  { name: 'scatter', f: (x, s) => cr.scatter(x!, 0, [[1, 0, 1]], s!), shapes: fixed([2, 3], [1, 3]) },
  { name: 'scatterAdd', f: (x, s) => cr.scatterAdd(x!, 1, [[0, 0], [2, 1]], s!), shapes: fixed([2, 3], [2, 2]) },
  { name: 'indexAdd', f: (x, s) => cr.indexAdd(x!, 0, [1, 1], s!, { alpha: 2 }), shapes: fixed([2, 3], [2, 3]) },
  { name: 'maskedFill', f: (x) => cr.maskedFill(x!, x!.gt(0), 3), shapes: one(), values: kinkAtZero },
  // Products, convolution, pooling.
  { name: 'matmul', f: (x, y) => cr.matmul(x!, y!), shapes: fixed([2, 3], [3, 2]) },
  { name: 'matmul (batched, vector)', f: (x, y) => cr.matmul(x!, y!), shapes: fixed([2, 2, 3], [3]) },
  { name: 'bmm', f: (x, y) => cr.bmm(x!, y!), shapes: fixed([2, 2, 3], [2, 3, 1]) },
  { name: 'outer', f: (x, y) => cr.outer(x!, y!), shapes: fixed([2], [3]) },
  { name: 'tensordot', f: (x, y) => cr.tensordot(x!, y!, [[0], [1]]), shapes: fixed([2, 3], [4, 2]) },
  { name: 'addmm', f: (i, x, y) => cr.addmm(i!, x!, y!, { alpha: 2, beta: 0.5 }), shapes: fixed([2], [2, 3], [3, 2]) },
  { name: 'baddbmm', f: (i, x, y) => cr.baddbmm(i!, x!, y!, { beta: -1 }), shapes: fixed([2, 1, 2], [2, 2, 3], [2, 3, 2]) },
  { name: 'scaledDotProductAttention', f: (q, k, v) => cr.scaledDotProductAttention(q!, k!, v!), shapes: fixed([2, 3, 4], [2, 2, 4], [2, 2, 3]) },
  {
    name: 'scaledDotProductAttention (causal, heads)', f: (q, k, v) => cr.scaledDotProductAttention(q!, k!, v!, { isCausal: true, heads: 2 }),
    shapes: fixed([3, 4], [3, 4], [3, 2]),
  },
  { name: 'attentionWeights (float mask)', f: (q, k, m) => cr.attentionWeights(q!, k!, { mask: m!, scale: 0.5 }), shapes: fixed([2, 3], [4, 3], [2, 4]) },
  { name: 'einsum', f: (x, y) => cr.einsum('ij,jk->ik', x!, y!), shapes: fixed([2, 3], [3, 2]) },
  { name: 'linear', f: (x, w, c) => cr.linear(x!, w!, c!), shapes: fixed([4, 3], [2, 3], [2]) },
  { name: 'linear relu', f: (x, w, c) => cr.linear(x!, w!, c!, 'relu'), shapes: fixed([4, 3], [2, 3], [2]), noDifferences: 'relu may meet its kink' },
  { name: 'conv2d', f: (x, w, c) => cr.conv2d(x!, w!, c!, { padding: 1 }), shapes: fixed([1, 2, 3, 3], [2, 2, 2, 2], [2]) },
  { name: 'convTranspose1d', f: (x, w, c) => cr.convTranspose1d(x!, w!, c!, { stride: 2, padding: 1 }), shapes: fixed([1, 2, 3], [2, 3, 2], [3]) },
  // No bias: its gradient is summed over the pooled gradient by the fused op and over the scattered
  // one by the two ops a trace records, equal only up to rounding.
  { name: 'conv2dMaxPool2d', f: (x, w) => cr.conv2dMaxPool2d(x!, w!, null, { padding: 1 }, 2), shapes: fixed([1, 2, 4, 4], [2, 2, 3, 3]) },
  { name: 'conv1d (groups)', f: (x, w) => cr.conv1d(x!, w!, null, { groups: 2, stride: 2 }), shapes: fixed([2, 2, 5], [4, 1, 2]) },
  { name: 'convTranspose2d', f: (x, w, c) => cr.convTranspose2d(x!, w!, c!, { stride: 2 }), shapes: fixed([1, 2, 2, 2], [2, 3, 2, 2], [3]) },
  { name: 'unfold', f: (x) => cr.unfold(x!, 2), shapes: fixed([1, 2, 3, 3]) },
  { name: 'fold', f: (x) => cr.fold(x!, [3, 3], 2), shapes: fixed([1, 8, 4]) },
  { name: 'maxPool2d', f: (x) => cr.maxPool2d(x!, 2), shapes: fixed([1, 2, 4, 4]) },
  { name: 'avgPool2d', f: (x) => cr.avgPool2d(x!, 2, { stride: 1 }), shapes: fixed([1, 1, 3, 3]) },
  { name: 'maxPool1d', f: (x) => cr.maxPool1d(x!, 2, { stride: 1 }), shapes: fixed([2, 4]) }, { name: 'avgPool1d', f: (x) => cr.avgPool1d(x!, 2), shapes: fixed([1, 2, 4]) },
  { name: 'adaptiveAvgPool2d', f: (x) => cr.adaptiveAvgPool2d(x!, [2, 1]), shapes: fixed([2, 3, 3]) },
  { name: 'adaptiveMaxPool2d', f: (x) => cr.adaptiveMaxPool2d(x!, 2), shapes: fixed([1, 1, 3, 3]) },
  { name: 'interpolate', f: (x) => cr.interpolate(x!, { scaleFactor: 2, mode: 'bilinear' }), shapes: fixed([1, 1, 2, 3]) },
  { name: 'interpolate linear', f: (x) => cr.interpolate(x!, { size: 5, mode: 'linear', alignCorners: true }), shapes: fixed([1, 2, 3]) },
  { name: 'pixelShuffle', f: (x) => cr.pixelShuffle(x!, 2), shapes: fixed([1, 4, 2, 1]) },
  { name: 'pixelUnshuffle', f: (x) => cr.pixelUnshuffle(x!, 2), shapes: fixed([1, 2, 4]) },
  { name: 'softmax', f: (x) => cr.softmax(x!, -1), shapes: atLeast(1) }, { name: 'logSoftmax', f: (x) => cr.logSoftmax(x!, 0), shapes: atLeast(1) },
  { name: 'lstmCell h', f: (z, c) => cr.lstmCell(z!, c!)[0], shapes: fixed([2, 8], [2, 2]) },
  { name: 'lstmCell c', f: (z, c) => cr.lstmCell(z!, c!)[1], shapes: fixed([3, 4], [3, 1]) },
  { name: 'layerNorm', f: (x, w, c) => cr.layerNorm(x!, [3], w!, c!), shapes: fixed([2, 3], [3], [3]) },
  { name: 'layerNorm (no affine)', f: (x) => cr.layerNorm(x!, [2, 2]), shapes: fixed([3, 2, 2]) },
  { name: 'softmax gradient', f: (x, w) => cr.grad((z: Tensor) => cr.softmax(z, -1).mul(w!).sum())(x!), shapes: same(2, { minRank: 1, maxRank: 3, maxDim: 3 }) },
  { name: 'crossEntropy (labels)', f: (x) => cr.crossEntropy(x!, [1, 0, 2]), shapes: fixed([3, 3]) },
  { name: 'crossEntropy (probabilities)', f: (x, p) => cr.crossEntropy(x!, p!, { reduction: 'none' }), shapes: fixed([2, 3], [2, 3]) },
  { name: 'crossEntropy (sum) gradient', f: (x) => cr.grad((z: Tensor) => cr.crossEntropy(z, [1, 2], { reduction: 'sum' }))(x!), shapes: fixed([2, 3]) },
  {
    name: 'crossEntropy (probabilities) gradients', shapes: fixed([2, 3], [2, 3]),
    f: (x, p) => cr.concat(cr.grad((z: Tensor, q: Tensor) => cr.crossEntropy(z, q), { argnums: [0, 1] })(x!, p!), 0),
  },
  {
    name: 'crossEntropy (weight, ignored target, smoothing)', shapes: fixed([3, 3]),
    f: (x) => cr.crossEntropy(x!, [1, -100, 2], { weight: tensor([0.5, 2, 1], { dtype: 'float64' }), labelSmoothing: 0.2 }),
  },
  {
    name: 'crossEntropy (probabilities, weight, smoothing)', shapes: fixed([2, 3], [2, 3]),
    f: (x, p) => cr.crossEntropy(x!, p!, { weight: tensor([0.5, 2, 1], { dtype: 'float64' }), labelSmoothing: 0.1, reduction: 'none' }),
  },
  {
    name: 'crossEntropy (weighted, ignored) gradient', shapes: fixed([3, 4]),
    f: (x) => cr.grad((z: Tensor) => cr.crossEntropy(z, [3, 0, -100], { weight: tensor([1, 2, 3, 0.5], { dtype: 'float64' }) }))(x!),
  },
  // Linear algebra.
  { name: 'solve', f: (a, y) => cr.solve(spd(a!), y!), shapes: fixed([3, 3], [3, 2]) },
  { name: 'solve (a batch of vectors)', f: (a, y) => cr.solve(spd(a!), y!), shapes: fixed([2, 3, 3], [2, 3]) },
  { name: 'inv', f: (a) => cr.inv(spd(a!)), shapes: square }, { name: 'det', f: (a) => cr.det(a!), shapes: square },
  // A singular value with a full tangent: the second column is z - detach(z), zero with z's tangent.
  {
    name: 'det (singular)', f: (a, z) => cr.det(cr.concat([a!, z!.sub(z!.detach())], 1)), shapes: fixed([2, 1], [2, 1]),
    noDifferences: 'the zero column is z - detach(z), which differences see as constant',
  },
  { name: 'slogdet', f: (a) => cr.slogdet(spd(a!)).logabsdet, shapes: square },
  { name: 'triangularSolve', f: (a, y) => cr.triangularSolve(spd(a!), y!, { upper: true }), shapes: fixed([3, 3], [3, 2]) },
  { name: 'triangularSolve (unit, right)', f: (a, y) => cr.triangularSolve(a!, y!, { upper: false, left: false, unitriangular: true }), shapes: fixed([3, 3], [2, 3]) },
  { name: 'cholesky', f: (a) => cr.cholesky(spd(a!)), shapes: square }, { name: 'cholesky upper', f: (a) => cr.cholesky(spd(a!), { upper: true }), shapes: square },
  { name: 'choleskySolve', f: (a, y) => cr.choleskySolve(y!, cr.cholesky(spd(a!))), shapes: fixed([3, 3], [3, 1]) },
  { name: 'qr (tall)', f: (a) => { const { Q, R } = cr.qr(a!); return cr.concat([Q.reshape([-1]), R.reshape([-1])], 0); }, shapes: fixed([3, 2]), noDifferences: 'signs' },
  { name: 'qr (wide)', f: (a) => { const { Q, R } = cr.qr(a!); return cr.concat([Q, R], 1); }, shapes: fixed([2, 3]), noDifferences: 'signs' },
  { name: 'qr (product)', f: (a) => { const { Q, R } = cr.qr(a!); return Q.matmul(R); }, shapes: fixed([3, 3]) },
  { name: 'eigh values', f: (a) => cr.eigh(sym(a!)).eigenvalues, shapes: square },
  { name: 'eigh vectors²', f: (a) => cr.eigh(sym(a!)).eigenvectors.square(), shapes: square },
  { name: 'svd values', f: (a) => cr.svd(a!).S, shapes: matrix }, { name: 'svdvals', f: (a) => cr.svdvals(a!), shapes: matrix },
  { name: 'svd (reduced)', f: (a) => { const { U, S, Vh } = cr.svd(a!, { fullMatrices: false }); return cr.concat([U.square().reshape([-1]), S, Vh.square().reshape([-1])], 0); }, shapes: matrix },
  { name: 'svd (full) vectors', f: (a) => { const { U, Vh } = cr.svd(a!); return cr.concat([U.reshape([-1]), Vh.reshape([-1])], 0); }, shapes: matrix, noDifferences: 'signs' },
  { name: 'pinv', f: (a) => cr.pinv(a!), shapes: matrix }, { name: 'lstsq', f: (a, y) => cr.lstsq(a!, y!).solution, shapes: fixed([3, 2], [3, 1]) },
  { name: 'matrixExp', f: (a) => cr.matrixExp(a!.mul(0.5)), shapes: square }, { name: 'matrixPower', f: (a) => cr.matrixPower(spd(a!), -2), shapes: square },
];
