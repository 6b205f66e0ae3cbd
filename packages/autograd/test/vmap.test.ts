import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as cr from '@chainrule/autograd';
import { Tensor, customOp, grad, jacobian, jacrev, stack, tensor, unbind, vjp, vmap } from '@chainrule/autograd';
import { assertClose, broadcastShapesArb, seededTensor, shapeArb, type ValueConstraints } from '@chainrule/autograd/testing';
import { assertTreesClose, caseTensors, stackedReference, vmapCaseArb } from './helpers/vmap-reference.js';

/** One op (or small function) to vmap: its logical argument shapes and values. */
interface VmapCase {
  name: string;
  /** The function of one example; `u` in [0, 1) picks its axes (see `axis`). */
  f: (u: number) => (...args: Tensor[]) => unknown;
  shapes: fc.Arbitrary<number[][]>;
  values?: ValueConstraints;
}

/** An axis of a rank-n tensor picked by u: negative half the time. */
function axis(u: number, n: number): number {
  const k = Math.floor(u * 2 * n);
  return k < n ? k : k - 2 * n;
}

const one = (c: Parameters<typeof shapeArb>[0] = {}): fc.Arbitrary<number[][]> => shapeArb({ maxDim: 3, ...c }).map((s) => [s]);
const fixed = (...shapes: number[][]): fc.Arbitrary<number[][]> => fc.constant(shapes);
const positive: ValueConstraints = { min: 0.5, max: 2 };

const unaryCases: VmapCase[] = ['exp', 'tanh', 'sigmoid', 'neg', 'square', 'sin', 'gelu', 'softplus', 'silu', 'erf'].map((name) => ({
  name,
  f: () => (x: Tensor) => (x as unknown as Record<string, () => Tensor>)[name]!.call(x),
  shapes: one(),
}));

/** Elementwise ops of one input, each on the values where it is defined. */
const moreUnary = (names: readonly string[], values?: ValueConstraints): VmapCase[] =>
  names.map((name) => ({ name, f: () => (x: Tensor) => (cr as unknown as Record<string, (t: Tensor) => Tensor>)[name]!(x), shapes: one(), values }));

const cases: VmapCase[] = [
  ...unaryCases,
  ...moreUnary(['expm1', 'abs', 'sign', 'relu', 'relu6', 'atan', 'sinh', 'cosh', 'asinh', 'exp2', 'mish', 'elu', 'selu', 'celu', 'hardtanh', 'hardsigmoid', 'hardswish', 'logsigmoid', 'softsign', 'tanhshrink', 'floor', 'ceil', 'round', 'trunc', 'frac', 'nanToNum', 'logicalNot', 'isFinite', 'isInf']),
  ...moreUnary(['log', 'log1p', 'log2', 'log10', 'sqrt', 'reciprocal'], positive),
  ...moreUnary(['tan', 'asin', 'acos', 'atanh'], { min: -0.9, max: 0.9 }),
  ...moreUnary(['acosh'], { min: 1.2, max: 3 }),
  { name: 'leakyRelu (static parameter)', f: () => (x) => cr.leakyRelu(x, 0.2), shapes: one() },
  { name: 'clamp', f: () => (x) => x.clamp(-0.5, 0.7), shapes: one() },
  { name: 'clamp with tensor bounds', f: () => (x, lo, hi) => cr.clamp(x, lo, hi), shapes: broadcastShapesArb(3, { maxDim: 3 }) },
  { name: 'clamp with a tensor max', f: () => (x, hi) => x.clamp(undefined, hi), shapes: broadcastShapesArb(2, { maxDim: 3 }) },
  { name: 'isNan (bool result)', f: () => (x) => x.log().isNan(), shapes: one() },
  { name: 'toDtype', f: () => (x) => x.toDtype('float32').toDtype('float64'), shapes: one() },
  { name: 'add (broadcasting)', f: () => (a, b) => a.add(b), shapes: broadcastShapesArb(2, { maxDim: 3 }) },
  { name: 'sub with a number', f: () => (a) => cr.sub(1.5, a), shapes: one() },
  { name: 'mul', f: () => (a, b) => a.mul(b), shapes: broadcastShapesArb(2, { maxDim: 3 }) },
  { name: 'div', f: () => (a, b) => a.div(b), shapes: broadcastShapesArb(2, { maxDim: 3 }), values: positive },
  { name: 'pow', f: () => (a, b) => a.pow(b), shapes: broadcastShapesArb(2, { maxDim: 3 }), values: positive },
  { name: 'maximum', f: () => (a, b) => cr.maximum(a, b), shapes: broadcastShapesArb(2, { maxDim: 3 }) },
  { name: 'atan2', f: () => (a, b) => cr.atan2(a, b), shapes: broadcastShapesArb(2, { maxDim: 3 }) },
  ...(['minimum', 'logaddexp', 'copysign', 'eq', 'ne', 'lt', 'le', 'ge'] as const).map((name): VmapCase => ({ name, f: () => (a, b) => cr[name](a, b), shapes: broadcastShapesArb(2, { maxDim: 3 }) })),
  ...(['hypot', 'xlogy', 'fmod', 'remainder'] as const).map((name): VmapCase => ({ name, f: () => (a, b) => cr[name](a, b), shapes: broadcastShapesArb(2, { maxDim: 3 }), values: positive })),
  ...(['logicalAnd', 'logicalOr', 'logicalXor'] as const).map((name): VmapCase => ({ name, f: () => (a, b) => cr[name](a.gt(0), b.gt(0)), shapes: broadcastShapesArb(2, { maxDim: 3 }) })),
  { name: 'gt (bool result)', f: () => (a, b) => a.gt(b), shapes: broadcastShapesArb(2, { maxDim: 3 }) },
  { name: 'where', f: () => (c, a, b) => cr.where(c.gt(0), a, b), shapes: broadcastShapesArb(3, { maxDim: 3 }) },
  { name: 'lerp', f: () => (a, b, w) => cr.lerp(a, b, w), shapes: broadcastShapesArb(3, { maxDim: 3 }) },
  { name: 'maskedFill', f: () => (x, m) => cr.maskedFill(x, m.gt(0), -1), shapes: broadcastShapesArb(2, { maxDim: 3 }) },
  { name: 'maskedFill with a 0-d tensor value', f: () => (x, m, v) => cr.maskedFill(x, m.gt(0), v), shapes: broadcastShapesArb(2, { maxDim: 3 }).map((s) => [...s, []]) },
  // Reductions: every axis, a random one, a list, keepdims.
  ...(['sum', 'mean', 'max', 'min', 'prod', 'logsumexp', 'nansum', 'nanmean'] as const).flatMap((name): VmapCase[] => [
    { name: `${name} over every axis`, f: () => (x) => cr[name](x), shapes: one() },
    { name: `${name} over one axis, keepdims`, f: (u) => (x) => cr[name](x, axis(u, x.ndim), true), shapes: one({ minRank: 1 }) },
    { name: `${name} over two axes`, f: () => (x) => cr[name](x, [0, -1]), shapes: one({ minRank: 2 }) },
  ]),
  { name: 'nanvar', f: (u) => (x) => cr.nanvar(x, axis(u, x.ndim), { correction: 1, keepdims: true }), shapes: one({ minRank: 1, minDim: 2 }) },
  { name: 'nanstd', f: () => (x) => cr.nanstd(x), shapes: one({ minRank: 1, minDim: 2 }) },
  { name: 'norm', f: (u) => (x) => cr.norm(x, 3, axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'matrixNorm', f: () => (x) => cr.matrixNorm(x, 'nuc'), shapes: one({ minRank: 2 }) },
  { name: 'matrixNorm over chosen axes', f: () => (x) => cr.matrixNorm(x, 1, [-1, 0], true), shapes: one({ minRank: 2 }) },
  { name: 'cosineSimilarity', f: () => (a, b) => cr.cosineSimilarity(a, b, { axis: -1 }), shapes: fc.constantFrom([[2, 3], [3]], [[3], [2, 3]]) },
  { name: 'variance (correction 1)', f: (u) => (x) => cr.variance(x, axis(u, x.ndim), { correction: 1 }), shapes: one({ minRank: 1, minDim: 2 }) },
  { name: 'std', f: () => (x) => cr.std(x), shapes: one({ minRank: 1, minDim: 2 }) },
  { name: 'any', f: () => (x) => x.gt(0.5).any(), shapes: one() },
  { name: 'all over an axis', f: (u) => (x) => x.gt(-1).all(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'argmax (flattened)', f: () => (x) => cr.argmax(x), shapes: one() },
  { name: 'minWithIndices', f: (u) => (x) => x.minWithIndices(axis(u, x.ndim), true), shapes: one({ minRank: 1 }) },
  { name: 'argmin over an axis', f: (u) => (x) => cr.argmin(x, axis(u, x.ndim), true), shapes: one({ minRank: 1 }) },
  { name: 'maxWithIndices', f: (u) => (x) => x.maxWithIndices(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'median (all elements)', f: () => (x) => x.median(), shapes: one() },
  { name: 'median along an axis', f: (u) => (x) => x.median(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'vectorNorm', f: (u) => (x) => cr.vectorNorm(x, 2, axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'quantile', f: () => (x) => cr.quantile(x, 0.3), shapes: one({ minRank: 1 }) },
  { name: 'quantile of a 1-D q (its axis first)', f: (u) => (x) => cr.quantile(x, tensor([0.2, 0.7], { dtype: 'float64' }), axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'quantile of a 1-D q, flattened, keepdims', f: () => (x) => cr.nanquantile(x, tensor([0.2, 0.7], { dtype: 'float64' }), undefined, { keepdims: true }), shapes: one() },
  { name: 'quantile flattened, keepdims', f: () => (x) => cr.quantile(x, 0.4, undefined, { keepdims: true, interpolation: 'midpoint' }), shapes: one() },
  // Along an axis.
  { name: 'softmax', f: (u) => (x) => x.softmax(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'logSoftmax (default axis)', f: () => (x) => x.logSoftmax(), shapes: one({ minRank: 1 }) },
  { name: 'cumsum', f: (u) => (x) => x.cumsum(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'cummax', f: (u) => (x) => x.cummax(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'cummin', f: (u) => (x) => x.cummin(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'cumprod', f: (u) => (x) => x.cumprod(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'logcumsumexp', f: (u) => (x) => x.logcumsumexp(axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'sort', f: (u) => (x) => x.sort(axis(u, x.ndim), { descending: true }), shapes: one({ minRank: 1 }) },
  { name: 'argsort', f: () => (x) => x.argsort(), shapes: one({ minRank: 1 }) },
  { name: 'topk', f: (u) => (x) => x.topk(1, axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'kthvalue', f: () => (x) => x.kthvalue(1), shapes: one({ minRank: 1 }) },
  // Layout.
  { name: 'reshape', f: () => (x) => x.reshape([-1]), shapes: one() },
  { name: 'transpose', f: () => (x) => x.transpose(), shapes: one({ minRank: 2 }) },
  { name: 'permute', f: () => (x) => x.permute(x.shape.map((_, i) => x.ndim - 1 - i)), shapes: one() },
  { name: 'squeeze (every size-1 axis)', f: () => (x) => x.squeeze(), shapes: one({ maxDim: 2 }) },
  { name: 'unsqueeze', f: (u) => (x) => x.unsqueeze(axis(u, x.ndim + 1)), shapes: one() },
  { name: 'expand', f: () => (x) => x.expand([2, ...x.shape]), shapes: one() },
  { name: 'concat', f: (u) => (a, b) => cr.concat([a, b], axis(u, a.ndim)), shapes: shapeArb({ minRank: 1, maxDim: 3 }).map((s) => [s, s]) },
  { name: 'stack', f: (u) => (a, b) => cr.stack([a, b], axis(u, a.ndim + 1)), shapes: shapeArb({ maxDim: 3 }).map((s) => [s, s]) },
  { name: 'split', f: (u) => (x) => cr.split(x, 1, axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'unbind', f: () => (x) => cr.unbind(x, -1), shapes: one({ minRank: 1 }) },
  { name: 'chunk', f: (u) => (x) => cr.chunk(x, 2, axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'flatten', f: () => (x) => x.flatten(1), shapes: one({ minRank: 2 }) },
  { name: 'flatten (all)', f: () => (x) => cr.flatten(x), shapes: one() },
  { name: 'repeat', f: () => (x) => cr.repeat(x, [2, ...x.shape.map(() => 1)]), shapes: one() },
  { name: 'repeatInterleave', f: (u) => (x) => cr.repeatInterleave(x, 2, axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'repeatInterleave (flattened)', f: () => (x) => cr.repeatInterleave(x, 2), shapes: one() },
  { name: 'narrow', f: (u) => (x) => cr.narrow(x, axis(u, x.ndim), 0, 1), shapes: one({ minRank: 1 }) },
  { name: 'slice', f: () => (x) => cr.slice(x, 0, 0, undefined, 2), shapes: one({ minRank: 1 }) },
  { name: 'flip', f: (u) => (x) => cr.flip(x, axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'roll (flattened)', f: () => (x) => cr.roll(x, 1), shapes: one() },
  { name: 'roll along an axis', f: (u) => (x) => cr.roll(x, 1, axis(u, x.ndim)), shapes: one({ minRank: 1 }) },
  { name: 'pad', f: () => (x) => cr.pad(x, [1, 0]), shapes: one({ minRank: 1 }) },
  { name: 'tile', f: () => (x) => cr.tile(x, [2, 1]), shapes: one() },
  { name: 'movedim', f: (u) => (x) => cr.movedim(x, axis(u, x.ndim), 0), shapes: one({ minRank: 1 }) },
  // A 0-d example's axis 0 (or -1) is its one element, as the ops read it.
  { name: 'transpose, movedim, roll of 0-d or 1-D examples', f: () => (x) => cr.roll(cr.movedim(cr.transpose(x, 0, -1), [0], [-1]), 1, -1), shapes: one({ maxRank: 1 }) },
  { name: 'squeeze of 0-d or 1-D examples along axis -1', f: () => (x) => cr.squeeze(x, -1), shapes: one({ maxRank: 1 }) },
  { name: 'transpose() of 0-d or 1-D examples (the tensor itself)', f: () => (x) => x.transpose(), shapes: one({ maxRank: 1 }) },
  { name: 'normalize, cosineSimilarity, pairwiseDistance of 0-d examples', f: () => (a, b) => [cr.normalize(a, { axis: 0 }), cr.cosineSimilarity(a, b, { axis: -1 }), cr.pairwiseDistance(a, b)], shapes: fixed([], []) },
  { name: 'median of empty examples', f: () => (x) => x.median(), shapes: fixed([0, 2]) },
  { name: 'diagonal', f: () => (x) => cr.diagonal(x, 0, 0, -1), shapes: one({ minRank: 2 }) },
  { name: 'diagEmbed', f: () => (x) => cr.diagEmbed(x), shapes: one({ minRank: 1 }) },
  { name: 'diag of a vector', f: () => (x) => cr.diag(x, 1), shapes: one({ minRank: 1, maxRank: 1 }) },
  { name: 'diag of a matrix', f: () => (x) => cr.diag(x), shapes: one({ minRank: 2, maxRank: 2 }) },
  { name: 'trace', f: () => (x) => cr.trace(x), shapes: one({ minRank: 2, maxRank: 2 }) },
  { name: 'tril', f: () => (x) => cr.tril(x), shapes: one({ minRank: 2 }) },
  { name: 'triu', f: () => (x) => cr.triu(x, -1), shapes: one({ minRank: 2 }) },
  { name: 'sumTo', f: () => (x) => cr.sumTo(x, x.shape.slice(1).map(() => 1)), shapes: one({ minRank: 1 }) },
  // Contractions.
  { name: 'matmul matrix·matrix', f: () => (a, b) => a.matmul(b), shapes: fixed([2, 3], [3, 2]) },
  { name: 'matmul vector·matrix', f: () => (a, b) => a.matmul(b), shapes: fixed([3], [3, 2]) },
  { name: 'matmul matrix·vector', f: () => (a, b) => a.matmul(b), shapes: fixed([2, 3], [3]) },
  { name: 'matmul vector·vector', f: () => (a, b) => a.matmul(b), shapes: fixed([3], [3]) },
  { name: 'matmul with batch dimensions', f: () => (a, b) => a.matmul(b), shapes: fixed([2, 1, 3], [2, 3, 2]) },
  { name: 'matmul matrix·batch', f: () => (a, b) => a.matmul(b), shapes: fixed([2, 3], [2, 3, 1]) },
  { name: 'bmm', f: () => (a, b) => a.bmm(b), shapes: fixed([2, 2, 3], [2, 3, 2]) },
  { name: 'outer', f: () => (a, b) => a.outer(b), shapes: fixed([2], [3]) },
  { name: 'einsum (explicit)', f: () => (a, b) => cr.einsum('ij,jk->ki', a, b), shapes: fixed([2, 3], [3, 2]) },
  { name: 'einsum (implicit, ellipsis)', f: () => (a, b) => cr.einsum('...ij,jk', a, b), shapes: fixed([2, 2, 3], [3, 2]) },
  { name: 'einsum (trace)', f: () => (a) => cr.einsum('ii', a), shapes: fixed([3, 3]) },
  { name: 'tensordot', f: () => (a, b) => cr.tensordot(a, b, 1), shapes: fixed([2, 3], [3, 2]) },
  { name: 'linear', f: () => (x, w, b) => cr.linear(x, w, b), shapes: fixed([2, 3], [4, 3], [4]) },
  { name: 'linear with relu', f: () => (x, w) => cr.linear(x, w, null, 'relu'), shapes: fixed([3], [4, 3]) },
  { name: 'addmm', f: () => (i, a, b) => cr.addmm(i, a, b, { alpha: 2, beta: 0.5 }), shapes: fixed([2], [2, 3], [3, 2]) },
  { name: 'baddbmm', f: () => (i, a, b) => cr.baddbmm(i, a, b, { beta: 0 }), shapes: fixed([2, 1, 2], [2, 2, 3], [2, 3, 2]) },
  { name: 'scaledDotProductAttention (bool mask)', f: () => (q, k, v, m) => cr.scaledDotProductAttention(q, k, v, { mask: m.gt(-0.5) }), shapes: fixed([2, 3, 4], [2, 2, 4], [2, 2, 3], [3, 2]) },
  { name: 'attentionWeights (heads)', f: () => (q, k) => cr.attentionWeights(q, k, { heads: 2 }), shapes: fixed([3, 4], [2, 4]) },
  { name: 'lstmCell', f: () => (z, c) => cr.lstmCell(z, c), shapes: fc.constantFrom([[2, 8], [2, 2]], [[8], [2]]) },
  { name: 'layerNorm', f: () => (x, w, b) => cr.layerNorm(x, [3], w, b), shapes: fixed([2, 3], [3], [3]) },
  // Indexing.
  { name: 'gather', f: () => (x, i) => cr.gather(x, 1, i.abs().mul(1.4).floor().toDtype('int32')), shapes: fixed([2, 3], [2, 2]) },
  { name: 'indexSelect', f: () => (x, i) => cr.indexSelect(x, -1, i.abs().mul(1.4).floor().toDtype('int32')), shapes: fixed([2, 3], [2]) },
  { name: 'take', f: () => (x, i) => cr.take(x, i.abs().mul(2.9).floor().toDtype('int32')), shapes: fixed([2, 3], [4]) },
  { name: 'embedding', f: () => (w, i) => cr.embedding(w, i.abs().mul(1.9).floor().toDtype('int32')), shapes: fixed([4, 3], [2]) },
  { name: 'scatterAdd', f: () => (x, i, s) => cr.scatterAdd(x, 1, i.abs().mul(1.4).floor().toDtype('int32'), s), shapes: fixed([2, 3], [2, 2], [2, 2]) },
  { name: 'scatter with a number', f: () => (x, i) => cr.scatter(x, -1, i.abs().mul(1.4).floor().toDtype('int32'), 7), shapes: fixed([2, 3], [2, 2]) },
  // Indices given as arrays, as the ops take them: the same for every example.
  { name: 'gather (index as an array)', f: () => (x) => cr.gather(x, 1, [[2, 0], [1, -1]]), shapes: fixed([2, 3]) },
  { name: 'take (index as an array)', f: () => (x) => cr.take(x, [5, 0, -2]), shapes: fixed([2, 3]) },
  { name: 'embedding (indices as an array)', f: () => (w) => cr.embedding(w, [[1, 0], [3, 1]]), shapes: fixed([4, 3]) },
  { name: 'embedding with paddingIdx (batched weight)', f: () => (w) => cr.embedding(w, [[1, 0], [3, 1]], { paddingIdx: -3 }), shapes: fixed([4, 3]) },
  { name: 'crossEntropy (targets as an array)', f: () => (l) => cr.crossEntropy(l, [2, 0, 1]), shapes: fixed([3, 4]) },
  { name: 'embedding (paddingIdx)', f: () => (w, i) => cr.embedding(w, i.sigmoid().mul(3.99).floor().toDtype('int32'), { paddingIdx: -1 }), shapes: fixed([4, 3], [2, 2]) },
  { name: 'scatter (index as an array)', f: () => (x, s) => cr.scatter(x, 0, [[1, 0, 1]], s), shapes: fixed([2, 3], [1, 3]) },
  { name: 'scatterAdd (index as an array)', f: () => (x, s) => cr.scatterAdd(x, 1, [[0, 0], [2, 1]], s), shapes: fixed([2, 3], [2, 2]) },
  { name: 'indexAdd', f: () => (x, s) => cr.indexAdd(x, 0, tensor([2, 0], { dtype: 'int32' }), s), shapes: fixed([3, 2], [2, 2]) },
  { name: 'searchsorted', f: () => (s, v) => cr.searchsorted(cr.sort(s).values, v), shapes: fixed([4], [3]) },
  { name: 'searchsorted (values of any rank)', f: () => (s, v) => cr.searchsorted(cr.sort(s).values, v, { right: true }), shapes: fc.constantFrom([[4], [2, 3]], [[3], []]) },
  { name: 'searchsorted (a number)', f: () => (s) => cr.searchsorted(cr.sort(s).values, 0.1), shapes: fixed([4]) },
  { name: 'searchsorted (rows)', f: () => (s, v) => cr.searchsorted(cr.sort(s, -1).values, v), shapes: fixed([2, 4], [2, 3]) },
  { name: 'searchsorted (sorter)', f: () => (s, v) => cr.searchsorted(s, v, { sorter: cr.argsort(s) }), shapes: fc.constantFrom([[4], [2, 3]], [[2, 4], [2, 1]]) },
  { name: 'searchsorted (sorter as an array)', f: () => (s, v) => cr.searchsorted(s.mul(0).add(tensor([4, 1, 3], { dtype: 'float64' })), v, { sorter: [1, 2, 0] }), shapes: fixed([3], [2]) },
  { name: 'index (integer array)', f: () => (x) => cr.index(x, [[1, -1], [0, 0]]), shapes: fixed([2, 3]) },
  { name: 'index (integer tensor of each example)', f: () => (x, i) => cr.index(x, i.sigmoid().mul(2.99).floor().toDtype('int32')), shapes: fc.constantFrom([[3, 2], [2, 2]], [[3], [4]], [[3, 2, 2], []]) },
  { name: 'index (bool mask array)', f: () => (x) => cr.index(x, [[true, false, true], [false, false, true]]), shapes: fc.constantFrom([[2, 3]], [[2, 3, 2]]) },
  { name: 'index (bool mask tensor shared)', f: () => (x) => cr.index(x, tensor([false, true], { dtype: 'bool' })), shapes: fixed([2, 3]) },
  { name: 'meshgrid', f: () => (a, b) => cr.meshgrid([a, b]), shapes: fixed([2], [3]) },
  { name: "meshgrid ('xy', a 0-d tensor)", f: () => (a, b, c) => cr.meshgrid([a, b, c], { indexing: 'xy' }), shapes: fixed([2], [], [3]) },
  { name: 'bincount (weights)', f: () => (w) => cr.bincount(tensor([0, 2, 2, 4], { dtype: 'int32' }), { weights: w, minlength: 6 }), shapes: fixed([4]) },
  { name: 'pairwiseDistance (broadcasting)', f: () => (a, b) => cr.pairwiseDistance(a, b, { keepdims: true, p: 3 }), shapes: fc.constantFrom([[2, 3], [3]], [[3], [2, 3]], [[3], [3]]) },
  { name: 'oneHot', f: () => (i) => cr.oneHot(i.abs().mul(1.9).floor().toDtype('int32'), 4), shapes: fixed([3]) },
  { name: 'crossEntropy', f: () => (l, t) => cr.crossEntropy(l, t.abs().mul(1.9).floor().toDtype('int32')), shapes: fixed([3, 4], [3]) },
  { name: 'crossEntropy of one example', f: () => (l, t) => cr.crossEntropy(l.reshape([1, 4]), t.abs().mul(1.9).floor().toDtype('int32').reshape([1]), { reduction: 'sum' }), shapes: fixed([4], []) },
  { name: 'crossEntropy over positions [N, C, d]', f: () => (l, t) => cr.crossEntropy(l, t.abs().mul(1.4).floor().toDtype('int32')), shapes: fixed([2, 3, 2], [2, 2]) },
  { name: 'crossEntropy over positions, probabilities, none', f: () => (l, p) => cr.crossEntropy(l, cr.softmax(p, 1), { reduction: 'none' }), shapes: fixed([2, 3, 2], [2, 3, 2]) },
  {
    name: 'crossEntropy with weight, ignored targets (-100) and smoothing: a mean per example over its own weights',
    f: () => (l, t) => cr.crossEntropy(l, cr.where(t.gt(1), -100, t.abs().mul(1.9).floor()).toDtype('int32'), { weight: tensor([0.5, 2, 1, 3], { dtype: 'float64' }), labelSmoothing: 0.1 }),
    shapes: fixed([3, 4], [3]),
  },
  {
    name: 'crossEntropy over positions [N, C, d] with weight and ignoreIndex, sum',
    f: () => (l, t) => cr.crossEntropy(l, t.abs().mul(1.4).floor().toDtype('int32'), { weight: tensor([1, 0.5, 2], { dtype: 'float64' }), ignoreIndex: 1, reduction: 'sum' }),
    shapes: fixed([2, 3, 2], [2, 2]),
  },
  { name: 'crossEntropy, probabilities with weight and smoothing', f: () => (l, p) => cr.crossEntropy(l, cr.softmax(p, 1), { weight: tensor([1, 2, 3], { dtype: 'float64' }), labelSmoothing: 0.2 }), shapes: fixed([2, 3], [2, 3]) },
  { name: 'crossEntropy (labels as an array)', f: () => (l) => cr.crossEntropy(l, [2, 0, 1], { reduction: 'sum' }), shapes: fixed([3, 4]) },
  { name: 'crossEntropy of one unbatched sample [C]', f: () => (l, t) => cr.crossEntropy(l, t.abs().mul(1.9).floor().toDtype('int32')), shapes: fixed([4], []) },
  // Convolution and pooling.
  { name: 'conv2d (batched input)', f: () => (x, w) => cr.conv2d(x, w, null, { padding: 1 }), shapes: fixed([2, 2, 4, 4], [3, 2, 3, 3]) },
  { name: 'conv2d (unbatched image)', f: () => (x, w, b) => cr.conv2d(x, w, b), shapes: fixed([2, 4, 4], [3, 2, 3, 3], [3]) },
  { name: 'conv1d with groups', f: () => (x, w) => cr.conv1d(x, w, null, { groups: 2 }), shapes: fixed([2, 4, 5], [2, 2, 3]) },
  { name: 'maxPool2d', f: () => (x) => cr.maxPool2d(x, 2), shapes: fixed([2, 4, 4]) },
  { name: 'maxPool1d (indices)', f: () => (x) => cr.maxPool1d(x, 2, { returnIndices: true }), shapes: fc.constantFrom([[2, 4]], [[1, 2, 4]]) },
  { name: 'avgPool2d', f: () => (x) => cr.avgPool2d(x, 2, { stride: 1, padding: 1, countIncludePad: false }), shapes: fixed([1, 3, 3]) },
  { name: 'adaptiveMaxPool2d', f: () => (x) => cr.adaptiveMaxPool2d(x, [2, 1]), shapes: fixed([2, 3, 3]) },
  { name: 'interpolate', f: () => (x) => cr.interpolate(x, { size: [3, 5], mode: 'bilinear', alignCorners: true }), shapes: fixed([1, 1, 2, 3]) },
  { name: 'interpolate linear', f: () => (x) => cr.interpolate(x, { scaleFactor: 1.5, mode: 'linear' }), shapes: fixed([1, 2, 3]) },
  { name: 'convTranspose2d', f: () => (x, w, b) => cr.convTranspose2d(x, w, b, { stride: 2 }), shapes: fc.constantFrom([[1, 2, 2, 2], [2, 3, 2, 2], [3]], [[2, 2, 2], [2, 3, 2, 2], [3]]) },
  { name: 'convTranspose1d', f: () => (x, w) => cr.convTranspose1d(x, w, null, { groups: 2 }), shapes: fixed([1, 2, 3], [2, 1, 2]) },
  { name: 'conv2dMaxPool2d', f: () => (x, w) => cr.conv2dMaxPool2d(x, w, null, { padding: 1 }, 2), shapes: fixed([1, 2, 4, 4], [2, 2, 3, 3]) },
  { name: 'unfold', f: () => (x) => cr.unfold(x, 2, { padding: 1 }), shapes: fc.constantFrom([[1, 2, 3, 3]], [[2, 3, 3]]) },
  { name: 'fold', f: () => (x) => cr.fold(x, [3, 3], 2), shapes: fc.constantFrom([[1, 8, 4]], [[8, 4]]) },
  { name: 'pixelUnshuffle', f: () => (x) => cr.pixelUnshuffle(x, 2), shapes: fixed([1, 4, 2]) },
  // Empty examples: the batch folds into a dimension of size 0, with sizes written out.
  { name: 'conv1d of no samples', f: () => (x, w) => cr.conv1d(x, w), shapes: fixed([0, 2, 5], [3, 2, 2]) },
  { name: 'conv2d of no samples, batched weights', f: () => (x, w) => cr.conv2d(x, w), shapes: fixed([0, 2, 3, 3], [1, 2, 2, 2]) },
  { name: 'pooling of no channels', f: () => (x) => [cr.maxPool2d(x, 2), cr.avgPool1d(x, 3)], shapes: fixed([0, 3, 3]) },
  { name: 'avgPool1d', f: () => (x) => cr.avgPool1d(x, 2), shapes: fixed([1, 2, 4]) },
  { name: 'adaptiveAvgPool2d', f: () => (x) => cr.adaptiveAvgPool2d(x, 2), shapes: fixed([2, 2, 5, 4]) },
  { name: 'pixelShuffle', f: () => (x) => cr.pixelShuffle(x, 2), shapes: fixed([4, 2, 2]) },
  // Linear algebra on well-conditioned matrices.
  { name: 'inv', f: () => (a) => cr.inv(a.add(cr.eye(3, 3, { dtype: 'float64' }).mul(4))), shapes: fixed([3, 3]) },
  { name: 'det', f: () => (a) => cr.det(a), shapes: fixed([3, 3]) },
  { name: 'cholesky', f: () => (a) => cr.cholesky(a.matmul(a.transpose()).add(cr.eye(3, 3, { dtype: 'float64' }))), shapes: fixed([3, 3]) },
  { name: 'solve (vector right-hand side)', f: () => (a, b) => cr.solve(a.add(cr.eye(3, 3, { dtype: 'float64' }).mul(4)), b), shapes: fixed([3, 3], [3]) },
  { name: 'svdvals', f: () => (a) => cr.svdvals(a), shapes: fixed([3, 2]) },
  { name: 'slogdet', f: () => (a) => cr.slogdet(a.add(cr.eye(3, 3, { dtype: 'float64' }).mul(4))), shapes: fixed([3, 3]) },
  { name: 'triangularSolve', f: () => (a, b) => cr.triangularSolve(a.add(cr.eye(3, 3, { dtype: 'float64' }).mul(4)), b, { upper: false }), shapes: fixed([3, 3], [3, 2]) },
  { name: 'choleskySolve', f: () => (a, b) => cr.choleskySolve(b, cr.cholesky(a.matmul(a.transpose()).add(cr.eye(3, 3, { dtype: 'float64' })))), shapes: fixed([3, 3], [3, 1]) },
  { name: 'lstsq', f: () => (a, b) => cr.lstsq(a, b).solution, shapes: fixed([3, 2], [3, 1]) },
  { name: 'qr (product)', f: () => (a) => { const { Q, R } = cr.qr(a); return Q.matmul(R); }, shapes: fixed([3, 2]) },
  { name: 'eigh values', f: () => (a) => cr.eigh(a.add(a.transpose())).eigenvalues, shapes: fixed([3, 3]) },
  { name: 'svd (reduced, recomposed)', f: () => (a) => { const { U, S, Vh } = cr.svd(a, { fullMatrices: false }); return U.mul(S).matmul(Vh); }, shapes: fixed([2, 3]) },
  { name: 'pinv', f: () => (a) => cr.pinv(a), shapes: fixed([3, 2]) },
  { name: 'matrixExp', f: () => (a) => cr.matrixExp(a.mul(0.5)), shapes: fixed([3, 3]) },
  { name: 'matrixPower', f: () => (a) => cr.matrixPower(a, 3), shapes: fixed([2, 2]) },
  { name: 'solve (a batch of vectors, or one vector for a batch of matrices)', f: () => (a, b) => cr.solve(a.add(cr.eye(3, 3, { dtype: 'float64' }).mul(4)), b), shapes: fc.constantFrom([[2, 3, 3], [2, 3]], [[2, 3, 3], [3]]) },
  { name: 'solve (right, vector)', f: () => (a, b) => cr.solve(a.add(cr.eye(3, 3, { dtype: 'float64' }).mul(4)), b, { left: false }), shapes: fixed([3, 3], [3]) },
  // Composites: every inner op batched by its own rule.
  { name: 'normalize', f: () => (x) => cr.normalize(x), shapes: fixed([2, 3]) },
  { name: 'cdist', f: () => (a, b) => cr.cdist(a, b), shapes: fixed([2, 3], [4, 3]) },
  { name: 'scaledDotProductAttention (causal)', f: () => (q, k, v) => cr.scaledDotProductAttention(q, k, v, { isCausal: true }), shapes: fixed([3, 4], [2, 4], [2, 2]) },
];

describe('vmap: every rule against f stacked over slices', () => {
  for (const c of cases) {
    test(c.name, () => {
      fc.assert(
        fc.property(vmapCaseArb(c.shapes), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (vc, u) => {
          const args = caseTensors(vc, c.values);
          const f = c.f(u);
          const outRank = cr.treeLeaves(stackedReference(f, args, vc.inAxes, 0))[0]!.ndim;
          const outAxis = Math.floor(vc.out * 2 * outRank) - outRank; // in [-rank, rank)
          const expected = stackedReference(f, args, vc.inAxes, outAxis);
          const actual = vmap(f, { inAxes: vc.inAxes, outAxes: outAxis })(...args);
          assertTreesClose(actual, expected);
        }),
        { numRuns: 12 },
      );
    });
  }
});

describe('vmap: structures, nesting and outputs', () => {
  test('inAxes and outAxes address structures as tree prefixes', () => {
    const p = { w: seededTensor([3, 2], 1, { requiresGrad: false }), b: seededTensor([2], 2, { requiresGrad: false }) };
    const xs = seededTensor([3, 4], 3, { requiresGrad: false }); // batch on axis 1
    const f = (q: { w: Tensor; b: Tensor }, x: Tensor): { y: Tensor; w: Tensor } => ({ y: x.matmul(q.w).add(q.b), w: q.w });
    const out = vmap(f, { inAxes: [{ w: null, b: null }, 1], outAxes: { y: -1, w: null } })(p, xs);
    const rows = unbind(xs, 1).map((x) => f(p, x).y);
    assertTreesClose(out, { y: stack(rows, -1), w: p.w });
  });

  test('an unbatched output is repeated along its out axis; axisSize batches without inputs', () => {
    const x = seededTensor([2], 4, { requiresGrad: false });
    assertTreesClose(vmap((a: Tensor) => [a, x], { inAxes: 0 })(seededTensor([3, 2], 5, { requiresGrad: false }))[1], stack([x, x, x], 0));
    assertTreesClose(vmap(() => x.mul(2), { axisSize: 2, inAxes: [] })(), stack([x.mul(2), x.mul(2)], 0));
  });

  test('vmap(vmap(f)) over two axes equals the double loop, inner in-axes independent of the outer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.noShrink(fc.integer()), (b1, b2, seed) => {
        const x = seededTensor([b1, 3, b2], seed, { requiresGrad: false });
        const y = seededTensor([b2, 3], seed + 1, { requiresGrad: false });
        const f = (a: Tensor, b: Tensor): Tensor => a.mul(b).softmax().sum(-1).add(a.max());
        const got = vmap(vmap(f, { inAxes: [-1, 0] }), { inAxes: [0, null] })(x, y);
        const expected = stack(unbind(x, 0).map((xi) => stack(unbind(xi, -1).map((a, j) => f(a, unbind(y, 0)[j]!)), 0)), 0);
        assertTreesClose(got, expected);
      }),
      { numRuns: 15 },
    );
  });
});

/** A small MLP's loss on one example: the canonical per-example-gradient use. */
function mlpLoss(p: { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }, x: Tensor, y: Tensor): Tensor {
  const h = x.matmul(p.w1).add(p.b1).tanh();
  return cr.crossEntropy(h.matmul(p.w2).add(p.b2).reshape([1, -1]), y.reshape([1]));
}

function mlpParams(seed: number): { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor } {
  const c = { requiresGrad: false, min: -1, max: 1 };
  return { w1: seededTensor([5, 4], seed, c), b1: seededTensor([4], seed + 1, c), w2: seededTensor([4, 3], seed + 2, c), b2: seededTensor([3], seed + 3, c) };
}

describe('vmap composed with grad', () => {
  test('per-example gradients of an MLP, vmap(grad(loss), { inAxes: [null, 0, 0] }), equal a loop of gradients', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.noShrink(fc.integer()), (n, seed) => {
        const p = mlpParams(seed);
        const xs = seededTensor([n, 5], seed + 9, { requiresGrad: false });
        const ys = tensor(Array.from({ length: n }, (_, i) => (seed + i) % 3 < 0 ? -((seed + i) % 3) : (seed + i) % 3), { dtype: 'int32' });
        const perExample = vmap(grad(mlpLoss), { inAxes: [null, 0, 0] })(p, xs, ys);
        const loop = unbind(xs, 0).map((x, i) => grad(mlpLoss)(p, x, unbind(ys, 0)[i]!));
        assertTreesClose(perExample, { w1: stack(loop.map((g) => g.w1), 0), b1: stack(loop.map((g) => g.b1), 0), w2: stack(loop.map((g) => g.w2), 0), b2: stack(loop.map((g) => g.b2), 0) });
        // The mean of the per-example gradients is the batch gradient.
        const batch = grad((q: typeof p) => cr.mean(vmap((x: Tensor, y: Tensor) => mlpLoss(q, x, y))(xs, ys)))(p);
        assertTreesClose(cr.mean(perExample.w1, 0), batch.w1, 1e-9, 1e-12);
      }),
      { numRuns: 10 },
    );
  });

  test('per-example gradients of tensors added to or subtracted from the batch, on either side and of either rank, equal a loop of gradients', () => {
    // A shared tensor met by add or sub is added once for the batch; its gradient must still be
    // each example's own, summed over the dimensions it was broadcast across.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 5 }), fc.noShrink(fc.integer()), (n, form, seed) => {
        const c = { requiresGrad: false, min: -1, max: 1 };
        const p: { b: Tensor; m: Tensor; s: Tensor } = { b: seededTensor([3], seed, c), m: seededTensor([2, 3], seed + 1, c), s: seededTensor([], seed + 2, c) };
        const xs = seededTensor([n, 2, 3], seed + 3, c);
        const f = (q: typeof p, x: Tensor): Tensor => {
          const forms = [
            () => x.add(q.b).tanh().mul(x).sum(),
            () => q.b.sub(x).square().sum(),
            () => x.sub(q.m).sin().sum(),
            () => q.m.add(x.sum(0)).mul(q.b).sum(),
            () => x.sum(0).add(q.s).sub(q.b).exp().sum(),
            () => q.b.add(x).sub(q.m).mul(q.m).sum(),
          ];
          return forms[form]!();
        };
        const perExample = vmap(grad(f), { inAxes: [null, 0] })(p, xs);
        const loop = unbind(xs, 0).map((x) => grad(f)(p, x));
        assertTreesClose(perExample, { b: stack(loop.map((g) => g.b), 0), m: stack(loop.map((g) => g.m), 0), s: stack(loop.map((g) => g.s), 0) });
        // Second derivatives through the same path: per-example Hessians with respect to the shared tensors.
        const h = (q: typeof p, x: Tensor): Tensor => cr.hessian((b: Tensor) => f({ ...q, b }, x))(q.b);
        assertTreesClose(vmap(h, { inAxes: [null, 0] })(p, xs), stack(unbind(xs, 0).map((x) => h(p, x)), 0));
        // And an outer gradient through the per-example gradients.
        const outer = grad((q: typeof p) => vmap(grad(f), { inAxes: [null, 0] })(q, xs).b.square().sum())(p);
        const outerLoop = grad((q: typeof p) => stack(unbind(xs, 0).map((x) => grad(f)(q, x).b), 0).square().sum())(p);
        assertTreesClose(outer, outerLoop);
      }),
      { numRuns: 25 },
    );
  });

  test('per-example gradients and tangents through ops with rules of their own (padding rows, fill values, bins, masks) equal their loops', () => {
    const f64 = { dtype: 'float64' } as const;
    const losses: [string, (w: Tensor) => Tensor][] = [
      ['embedding paddingIdx', (w) => cr.embedding(w.reshape([4, 2]), [[1, 3], [-1, 0]], { paddingIdx: 3 }).sin().sum()],
      ['maskedFill value', (w) => cr.maskedFill(w.reshape([4, 2]), tensor([true, false], { dtype: 'bool' }), w.sum()).square().sum()],
      ['bincount weights', (w) => cr.bincount(tensor([0, 2, 2, 1, 0, 5, 5, 2], { dtype: 'int32' }), { weights: w }).square().sum()],
      ['index', (w) => cr.index(w.reshape([4, 2]), [3, 1, 3]).exp().sum().add(cr.index(w.reshape([2, 4]), [false, true]).cos().sum())],
      ['meshgrid', (w) => cr.meshgrid([w.narrow(0, 0, 3), w.narrow(0, 3, 2)]).map((g, i) => g.mul(i + 1).tanh().sum()).reduce((p, q) => p.add(q))],
      ['quantile q', (w) => cr.quantile(w.reshape([2, 4]), tensor([0.3, 0.8], f64), 1).square().sum()],
      ['solve vector', (w) => cr.solve(cr.eye(2, 2, f64).mul(3).add(w.narrow(0, 0, 4).reshape([2, 2])), w.narrow(0, 4, 2)).square().sum()],
      ['pairwiseDistance', (w) => cr.pairwiseDistance(w.reshape([4, 2]), w.narrow(0, 0, 2)).sum()],
    ];
    const ws = seededTensor([3, 8], 41, { requiresGrad: false, min: 0.1, max: 1 });
    const vs = seededTensor([3, 8], 42, { requiresGrad: false });
    for (const [name, loss] of losses) {
      const rows = unbind(ws, 0);
      try {
        assertTreesClose(vmap(grad(loss))(ws), stack(rows.map((w) => grad(loss)(w)), 0));
        assertTreesClose(vmap((w: Tensor, v: Tensor) => cr.jvp(loss, [w], [v]).tangent)(ws, vs), stack(rows.map((w, i) => cr.jvp(loss, [w], [unbind(vs, 0)[i]!]).tangent), 0));
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
    }
  });

  test('jit of vmap replays rules that take arrays (a mask, a sorter, indices) as constants, on other values', () => {
    const fs: [string, (x: Tensor) => unknown][] = [
      ['index mask', (x) => cr.index(x, [true, false, true])],
      ['index integers', (x) => cr.index(x, [[2, -1]])],
      ['searchsorted sorter', (x) => cr.searchsorted(cr.flip(cr.sort(x.sum(0)).values, 0), x.sum(1), { sorter: [1, 0] })],
      ['meshgrid', (x) => cr.meshgrid([x.sum(1), x.sum(0)], { indexing: 'xy' })],
      ['embedding paddingIdx', (x) => cr.embedding(x, [[0, 2], [1, 1]], { paddingIdx: 2 })],
    ];
    const a = seededTensor([4, 3, 2], 61, { requiresGrad: false });
    const b = seededTensor([4, 3, 2], 62, { requiresGrad: false });
    for (const [name, f] of fs) {
      const compiled = cr.jit(vmap(f));
      compiled(a);
      try {
        assertTreesClose(compiled(b), vmap(f)(b));
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
    }
  });

  test('per-example gradients of products with an empty dimension (weights shared by the batch) equal their loops', () => {
    const loss = (w: Tensor, x: Tensor): Tensor => x.matmul(w).add(cr.linear(x, w.transpose())).square().sum();
    for (const [ws, xs] of [[[0, 2], [3, 0]], [[0, 2], [3, 4, 0]], [[3, 2], [2, 0, 3]]] as const) {
      const w = seededTensor(ws, 51, { requiresGrad: false });
      const x = seededTensor(xs, 52, { requiresGrad: false });
      assertTreesClose(vmap(grad(loss), { inAxes: [null, 0] })(w, x), stack(unbind(x, 0).map((r) => grad(loss)(w, r)), 0));
    }
  });

  test('per-example weight gradients too large to be cleared first (storage left unset) are every one written', () => {
    // 3 × 200 × 130 float64 gradients: 624 kB, past the size where the result is not zeroed.
    const w = seededTensor([200, 130], 21, { requiresGrad: false });
    const xs = seededTensor([3, 200], 22, { requiresGrad: false });
    const loss = (v: Tensor, x: Tensor): Tensor => x.reshape([1, -1]).matmul(v).tanh().sum();
    for (let round = 0; round < 3; round++) {
      // Freed storage of the same size, full of NaN, for the allocator to hand back.
      for (let i = 0; i < 4; i++) new Float64Array(3 * 200 * 130).fill(NaN);
      const perExample = vmap(grad(loss), { inAxes: [null, 0] })(w, xs);
      expect(perExample.data.some(Number.isNaN)).toBe(false);
      assertClose(perExample, stack(unbind(xs, 0).map((x) => grad(loss)(w, x)), 0), 1e-12, 1e-14);
    }
  });

  test('per-example weight gradients large enough to be made where they are kept: equal to the loop, their storage reused once disposed', () => {
    // 6 × 600 × 300 float32 gradients: 4.3 MB, made in place in a WebAssembly memory of their own.
    const w = seededTensor([600, 300], 23, { dtype: 'float32', requiresGrad: false });
    const xs = seededTensor([6, 600], 24, { dtype: 'float32', requiresGrad: false });
    const loss = (v: Tensor, x: Tensor): Tensor => x.reshape([1, -1]).matmul(v).tanh().sum();
    const expected = stack(unbind(xs, 0).map((x) => grad(loss)(w, x)), 0);
    const first = vmap(grad(loss), { inAxes: [null, 0] })(w, xs);
    assertClose(first, expected, 0, 0);
    const storage = first.data.buffer;
    first.dispose();
    const again = vmap(grad(loss), { inAxes: [null, 0] })(w, xs);
    assertClose(again, expected, 0, 0);
    // The pool handed the same buffer back (a memory of its own holds more than the storage).
    expect(again.data.buffer).toBe(storage);
  });

  test('per-example gradients are off the graph unless something outside differentiates through them', () => {
    const p = mlpParams(5);
    const xs = seededTensor([3, 5], 6, { requiresGrad: false });
    const ys = tensor([0, 2, 1], { dtype: 'int32' });
    const g = vmap(grad(mlpLoss), { inAxes: [null, 0, 0] })(p, xs, ys);
    for (const t of [g.w1, g.b1, g.w2, g.b2]) expect(t.requiresGrad).toBe(false);
    // f closing over a tensor an enclosing grad tracks: the inner gradients stay on its graph.
    const w = seededTensor([5], 7, { requiresGrad: false });
    const h = (v: Tensor) => (a: Tensor): Tensor => a.mul(v).sin().sum();
    const outer = grad((v: Tensor) => vmap((x: Tensor) => grad(h(v))(x))(xs).square().sum())(w);
    const loop = grad((v: Tensor) => stack(unbind(xs, 0).map((x) => grad(h(v))(x)), 0).square().sum())(w);
    assertTreesClose(outer, loop);
  });

  test('second derivatives with respect to weights shared by the batch: vmap(hessian) and vmap(grad) under an outer grad', () => {
    const w = seededTensor([3, 2], 21, { requiresGrad: false });
    const xs = seededTensor([4, 3], 22, { requiresGrad: false });
    const f = (x: Tensor) => (v: Tensor): Tensor => x.matmul(v).tanh().square().sum().add(cr.linear(x, v.transpose()).sin().sum());
    assertTreesClose(vmap((x: Tensor) => cr.hessian(f(x))(w))(xs), stack(unbind(xs, 0).map((x) => cr.hessian(f(x))(w)), 0));
    const outer = grad((v: Tensor) => vmap((x: Tensor) => grad(f(x))(v))(xs).square().sum())(w);
    const loop = grad((v: Tensor) => stack(unbind(xs, 0).map((x) => grad(f(x))(v)), 0).square().sum())(w);
    assertTreesClose(outer, loop);
  });

  test('jvp and hvp inside vmap, with tangents batched or shared, equal their loops', () => {
    const xs = seededTensor([3, 4], 31, { requiresGrad: false });
    const vs = seededTensor([3, 4], 32, { requiresGrad: false });
    const v = seededTensor([4], 33, { requiresGrad: false });
    const w = seededTensor([4, 2], 34, { requiresGrad: false });
    const f = (x: Tensor): Tensor => x.sin().mul(x.sum()).matmul(w);
    const rows = (t: Tensor): Tensor[] => unbind(t, 0);
    assertTreesClose(vmap((x: Tensor) => cr.jvp(f, [x], [v]).tangent)(xs), stack(rows(xs).map((x) => cr.jvp(f, [x], [v]).tangent), 0));
    assertTreesClose(vmap((x: Tensor, u: Tensor) => cr.jvp(f, [x], [u]).tangent)(xs, vs), stack(rows(xs).map((x, i) => cr.jvp(f, [x], [rows(vs)[i]!]).tangent), 0));
    const g = (x: Tensor): Tensor => x.pow(3).sum().mul(x.cos().sum());
    assertTreesClose(vmap((x: Tensor) => cr.hvp(g, [x], [v]).hvp[0])(xs), stack(rows(xs).map((x) => cr.hvp(g, [x], [v]).hvp[0]), 0));
  });

  test("per-example gradients through embedding's padding row are zero there, as each example's own gradient", () => {
    const ws = seededTensor([3, 4, 2], 5, { dtype: 'float64', requiresGrad: false }) as Tensor;
    const loss = (w: Tensor): Tensor => cr.embedding(w, [[1, 0], [3, 1]], { paddingIdx: 1 }).square().sum();
    const batched = vmap(grad(loss))(ws);
    const looped = stack(unbind(ws, 0).map((w) => grad(loss)(w)), 0);
    assertClose(batched, looped, 0, 0);
    // Row 1 is the padding row: never a gradient, though it is looked up twice.
    expect(Array.from(batched.narrow(1, 1, 1).data).every((v) => v === 0)).toBe(true);
  });

  test('grad of a function using vmap equals grad of the stacked loop', () => {
    const x = seededTensor([3, 4], 11, { requiresGrad: false });
    const f = (a: Tensor): Tensor => a.sin().mul(a.sum()).logsumexp();
    const viaVmap = grad((t: Tensor) => vmap(f)(t).square().sum())(x);
    const viaLoop = grad((t: Tensor) => stack(unbind(t, 0).map(f), 0).square().sum())(x);
    assertTreesClose(viaVmap, viaLoop);
  });

  test('second derivatives: vmap(grad(grad)) and grad(sum ∘ vmap(grad)) equal their loops', () => {
    const x = seededTensor([4], 12, { requiresGrad: false });
    const f = (a: Tensor): Tensor => a.pow(3).add(a.sin());
    const g2 = vmap(grad(grad(f)))(x);
    assertTreesClose(g2, stack(unbind(x, 0).map((a) => grad(grad(f))(a)), 0));
    const outer = grad((t: Tensor) => vmap(grad(f))(t).sum())(x);
    assertTreesClose(outer, g2);
  });

  test('vmap of a pullback maps batched cotangents through a graph built outside', () => {
    const x = seededTensor([3], 13, { requiresGrad: false });
    const { pullback } = vjp((a: Tensor) => a.exp().mul(a.sum()).matmul(cr.ones([3, 2], { dtype: 'float64' })), x);
    const cts = seededTensor([5, 2], 14, { requiresGrad: false });
    assertTreesClose(vmap((c: Tensor) => pullback(c)[0])(cts), stack(unbind(cts, 0).map((c) => pullback(c)[0]), 0));
  });

  test('jacrev equals jacobian, for structures and argnums, and batches under vmap', () => {
    const x = seededTensor([3], 15, { requiresGrad: false });
    const y = seededTensor([2], 16, { requiresGrad: false });
    const f = (a: Tensor, b: Tensor): { u: Tensor; v: Tensor } => ({ u: a.outer(b).tanh(), v: a.sum().mul(b) });
    assertTreesClose(jacrev(f, { argnums: [0, 1] })(x, y), jacobian(f, { argnums: [0, 1] })(x, y));
    const xs = seededTensor([4, 3], 17, { requiresGrad: false });
    assertTreesClose(vmap((a: Tensor) => jacrev((t: Tensor) => t.softmax())(a))(xs), stack(unbind(xs, 0).map((a) => jacobian((t: Tensor) => t.softmax())(a)), 0));
    // A Hessian by jacrev of grad.
    assertTreesClose(jacrev(grad((t: Tensor) => t.pow(3).sum()))(x), cr.diagEmbed(x.mul(6)));
  });
});

describe('vmap: random draws', () => {
  test("are an error by default, naming the op and the options (PyTorch's randomness='error')", () => {
    const x = seededTensor([3, 2], 1, { requiresGrad: false });
    expect(() => vmap((a: Tensor) => cr.dropout(a, 0.5))(x)).toThrow(/dropout: random draws inside vmap need vmap's randomness option/);
    expect(() => vmap((a: Tensor) => a.add(cr.randn([2])))(x)).toThrow(/randn: random draws/);
  });

  test("'different' draws each example's own numbers; 'same' one draw for all", () => {
    const x = cr.zeros([4, 50], { dtype: 'float64' });
    const diff = vmap((a: Tensor) => a.add(cr.randn([50], { seed: 3, dtype: 'float64' })), { randomness: 'different' })(x);
    expect(diff.shape).toEqual([4, 50]);
    const rows = unbind(diff, 0).map((r) => r.toArray() as number[]);
    expect(rows[0]).not.toEqual(rows[1]);
    const same = vmap((a: Tensor) => a.add(cr.randn([50], { seed: 3, dtype: 'float64' })), { randomness: 'same' })(x);
    const sameRows = unbind(same, 0).map((r) => r.toArray() as number[]);
    expect(sameRows[1]).toEqual(sameRows[0]);
    expect(sameRows[0]).toEqual(cr.randn([50], { seed: 3, dtype: 'float64' }).toArray());
    const kept = vmap((a: Tensor) => cr.dropout(a.add(1), 0.5, { seed: 1 }), { randomness: 'different' })(x);
    expect(new Set((kept.toArray() as number[][]).flat())).toEqual(new Set([0, 2]));
  });

  test("every random op: 'different' gives each example its own draws of the example's shape, 'same' one draw for all", () => {
    const f64 = { dtype: 'float64' } as const;
    // Three equal examples: rows of the result differ only by their draws.
    const xs = seededTensor([1, 40], 3, { requiresGrad: false, min: 0.2, max: 0.8 }).expand([3, 40]);
    const draws: [string, (x: Tensor) => Tensor][] = [
      ['rand', (x) => x.add(cr.rand([40], f64))], ['randn', (x) => x.add(cr.randn([40], f64))],
      ['randint', (x) => x.add(cr.randint(0, 1000, [40]))], ['randperm', (x) => x.add(cr.randperm(40))],
      ['bernoulli', (x) => x.add(cr.bernoulli(0.5, { shape: [40], dtype: 'float64' }))], ['normal', (x) => x.add(cr.normal(0, 1, [40], f64))],
      ['uniform', (x) => x.add(cr.uniform(-1, 1, [40], f64))], ['multinomial', (x) => x.add(cr.multinomial(cr.ones([5], f64), 40, { replacement: true }))],
      ['categorical', (x) => x.add(cr.categorical(cr.zeros([40, 6], f64)))], ['dropout', (x) => cr.dropout(x, 0.5)],
    ];
    for (const [name, f] of draws) {
      const same = vmap(f, { randomness: 'same' })(xs);
      expect(same.shape, name).toEqual([3, 40]);
      const sameRows = unbind(same, 0).map((r) => r.toArray());
      expect(sameRows[1], name).toEqual(sameRows[0]);
      expect(sameRows[2], name).toEqual(sameRows[0]);
      const different = vmap(f, { randomness: 'different' })(xs);
      expect(different.shape, name).toEqual([3, 40]);
      const rows = unbind(different, 0).map((r) => r.toArray());
      expect(rows[1], name).not.toEqual(rows[0]);
    }
    // Each example's own permutation.
    const perms = vmap(() => cr.randperm(40, { seed: 2 }), { randomness: 'different', axisSize: 3, inAxes: [] })();
    for (const row of perms.toArray() as number[][]) expect([...row].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(perms.dtype).toBe('int32');
    // Batched parameters draw per example under 'different'.
    const ps = vmap((p: Tensor) => cr.bernoulli(p.mul(0).add(tensor([0, 1], f64))), { randomness: 'different' })(xs.narrow(1, 0, 2));
    expect(ps.toArray()).toEqual([[0, 1], [0, 1], [0, 1]]);
  });

  test("'same' dropout of batched inputs applies one mask to every example, gradients included", () => {
    const xs = seededTensor([4, 30], 7, { requiresGrad: false, min: 0.5, max: 1 });
    const f = (a: Tensor): Tensor => cr.dropout(a, 0.4, { seed: 5 });
    assertTreesClose(vmap(f, { randomness: 'same' })(xs), stack(unbind(xs, 0).map(f), 0));
    const g = grad((a: Tensor) => f(a).mul(a).sum());
    assertTreesClose(vmap(g, { randomness: 'same' })(xs), stack(unbind(xs, 0).map(g), 0));
    // Batched parameters of other draws have no 'same' rule: an error naming the op.
    expect(() => vmap((a: Tensor) => cr.normal(a, 1), { randomness: 'same' })(xs)).toThrow(/normal: randomness 'same' is not supported for draws whose parameters are batched/);
  });
});

describe('vmap: errors', () => {
  const x = seededTensor([3, 2], 1, { requiresGrad: false });
  test('an op without a batching rule names the op, never loops', () => {
    expect(() => vmap((a: Tensor) => cr.nonzero(a.gt(0)))(x)).toThrow(/vmap: 'nonzero' has no batching rule \(its result's shape depends on each example's values\)/);
    expect(() => vmap((a: Tensor) => cr.unique(a))(x)).toThrow(/'unique' has no batching rule \(its result's shape/);
    expect(() => vmap((a: Tensor) => cr.maskedSelect(a, a.gt(0)))(x)).toThrow(/'maskedSelect' has no batching rule \(its result's shape/);
    // Results whose shape would differ between examples: a batched mask, bincount of batched values.
    expect(() => vmap((a: Tensor) => cr.index(a, a.gt(0)))(x)).toThrow(/vmap: 'index' has no batching rule for a batched bool mask \(shape \[2\]\)/);
    expect(() => vmap((a: Tensor) => cr.bincount(a.abs().floor().toDtype('int32')))(x)).toThrow(/vmap: 'bincount' has no batching rule for a batched input \(shape \[2\]\)/);
    expect(() => vmap((w: Tensor) => cr.embedding(w.reshape([2, 1]), [1], { maxNorm: 1 } as never))(x)).toThrow(/'embedding' has no batching rule for a batched weight with option 'maxNorm'/);
  });

  test("bad arguments to ops with rules of their own are the op's errors inside vmap, as outside", () => {
    const check = (f: (a: Tensor) => unknown, message: RegExp): void => {
      expect(() => f(x.narrow(0, 0, 1).squeeze(0))).toThrow(message);
      expect(() => vmap(f)(x)).toThrow(message);
    };
    check((a) => cr.index(a.sum(), [0]), /^index: a 0-d tensor has no axis to index with integers/);
    check((a) => cr.index(a.sum(), a.gt(0).toDtype('int32')), /^index: a 0-d tensor has no axis to index with integers/);
    check((a) => cr.index(a, [true]), /^index: a bool mask of shape \[1\] must match the leading axes of input \[2\]/);
    check((a) => cr.maskedFill(a, a.gt(0), a), /^maskedFill: value must be a number or a 0-d tensor, got shape \[2\]/);
    check((a) => cr.embedding(a.reshape([2, 1]), [1], { paddingIdx: 2 }), /^embedding: paddingIdx 2 is not an integer in \[-2, 2\)/);
    check((a) => cr.searchsorted(a, a, { sorter: [0] }), /^searchsorted: sorter of shape \[1\] must have sortedSequence's shape \[2\]/);
  });

  test('an index array holding something other than int32 values is an error naming the op', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
    expect(() => vmap((r: Tensor) => cr.gather(r, 0, [1.5]))(x)).toThrow(/^gather: the index 1\.5 at \[0\] is not an int32/);
    expect(() => vmap((r: Tensor) => cr.take(r, [0, 7e9]))(x)).toThrow(/^take: the index /);
  });

  test("an op's bad option is the op's own error inside vmap, never read as a default", () => {
    const bad = { reduction: 'avg' } as unknown as { reduction: 'mean' };
    expect(() => vmap((a: Tensor) => cr.crossEntropy(a.reshape([1, 2]), [1], bad))(x)).toThrow(/crossEntropy: reduction must be 'mean', 'sum' or 'none', got "avg"/);
    expect(() => vmap((a: Tensor) => cr.crossEntropy(a.reshape([1, 2]), tensor([0], { dtype: 'int32' }), bad))(x)).toThrow(/crossEntropy: reduction must be/);
  });

  test('a customOp needs a vmap rule; with one it batches', () => {
    const def = { name: 'cube', forward: (a: Tensor) => a.pow(3), backward: (g: Tensor, { inputs: [a] }: { inputs: readonly Tensor[] }) => g.mul(a!.square().mul(3)) };
    expect(() => vmap(customOp(def))(x)).toThrow(/'cube' has no batching rule \(a customOp/);
    const cube = customOp({ ...def, vmap: (inputs: Tensor[]) => cubeRuled(inputs[0]!) });
    const cubeRuled = cube;
    assertTreesClose(vmap(cube)(x), x.pow(3));
    assertTreesClose(vmap(grad((a: Tensor) => cube(a).sum()))(x), x.square().mul(3));
  });

  test('vmap inside checkpoint differentiates as without it', () => {
    const f = (a: Tensor): Tensor => a.sin().mul(a.sum()).exp();
    assertTreesClose(grad((t: Tensor) => cr.checkpoint(vmap(f))(t).sum())(x), grad((t: Tensor) => vmap(f)(t).sum())(x));
  });

  test('bad axes, sizes and options are named', () => {
    expect(() => vmap((a: Tensor, b: Tensor) => a.add(b))(x, x.narrow(0, 0, 2))).toThrow(/vmap: batch sizes differ: 3 from argument leaf 0/);
    expect(() => vmap((a: Tensor) => a, { inAxes: 2 })(x)).toThrow(/vmap: inAxes 2 of argument leaf 0: 2 is out of range for a tensor of shape \[3,2\]/);
    expect(() => vmap((a: Tensor) => a, { inAxes: [0, 0] })(x)).toThrow(/vmap: inAxes: not a prefix/);
    expect(() => vmap((a: Tensor) => ({ y: a, n: 3 }))(x)).toThrow(/^vmap: the function's output at \.n is a number \(3\); a structure holds Tensors/);
    expect(() => vmap((a: Tensor) => a, { inAxes: null })(x)).toThrow(/no argument is batched/);
    expect(() => vmap((a: Tensor) => a, { outAxes: null })(x)).toThrow(/outAxes null for output leaf 0 \(shape \[2\]\), which varies across the batch/);
    expect(() => vmap((a: Tensor) => a, { randomness: 'sometimes' as never })(x)).toThrow(/randomness must be/);
    expect(() => vmap((a: Tensor) => a, { inaxes: 0 } as never)(x)).toThrow(/unknown option 'inaxes'/);
  });

  test("reading a batched tensor's values or calling backward inside vmap is an error", () => {
    expect(() => vmap((a: Tensor) => tensor([a.sum().item()]))(x)).toThrow(/vmap: item\(\) of a batched tensor/);
    expect(() => vmap((a: Tensor) => a.data)(x)).toThrow(/vmap: data of a batched tensor/);
    expect(() => vmap((a: Tensor) => a.sum().backward())(x.detach().requiresGrad_())).toThrow(/backward: cannot be called inside vmap/);
    expect(() => vmap((a: Tensor) => cr.gradients([a.sum()], [a])[0]!)(x.detach().requiresGrad_())).toThrow(/backward: a tensor batched by vmap \(shape \[\]\) cannot be a root or an input/);
    // The caller's tensor is untouched and the next eager op runs directly.
    expect(x.shape).toEqual([3, 2]);
    expect(x.add(1).shape).toEqual([3, 2]);
  });
});
