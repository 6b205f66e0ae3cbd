import { describe, expect, test } from 'vitest';
import {
  adaptiveMaxPool2d, addmm, arange, argsort, ArgumentError, attentionWeights, avgPool1d, avgPool2d, baddbmm, bernoulli, bincount,
  categorical, cdist, celu, conv1d, conv2d, conv2dMaxPool2d, convTranspose1d, convTranspose2d, cosineSimilarity, crossEntropy,
  dropout, elu, embedding, eye, fold, full, gelu, hardtanh, indexAdd, interpolate, jit, linspace, maxPool1d, maxPool2d, meshgrid,
  multinomial, nanquantile, nanstd, nanToNum, nanvar, nonzero, normal, normalize, ones, onesLike, pad, pairwiseDistance, quantile,
  rand, randint, randn, randperm, round, scaledDotProductAttention, scatter, searchsorted, softplus, sort, std, tensor, topk,
  uniform, unfold, unique, variance, vmap, zeros, zerosLike, formatTensor, tensorToHtml, treeFlatten, treeLeaves, treeStructure,
  treeBroadcastPrefix, taylorTest, solve, triangularSolve, cholesky, choleskySolve, qr, eigh, svd, pinv, lstsq, type Tensor,
} from '@chainrule/autograd';

// Every public op that takes an options object, with options it accepts, and the PyTorch spelling
// (or near miss) of one of its keys with the key to use instead. A new op with options gets a row.
type Options = Record<string, unknown>;
interface Row {
  /** The op's name as its errors give it. */
  readonly op: string;
  /** Calls the op with `options` as its options object. */
  readonly run: (options: Options) => unknown;
  /** Options the op accepts: the call must succeed with them. */
  readonly valid: Options;
  /** A PyTorch-spelled or mistyped key, and the key the error says to use. */
  readonly torch: readonly [key: string, use: string];
}

const x = (...shape: number[]): Tensor => arange(0, shape.reduce((a, b) => a * b, 1)).reshape(shape).div(10);
const q = x(1, 2, 3);
const probs = tensor([0.25, 0.75]);
const ints = tensor([0, 1, 1], { dtype: 'int32' });
const spd = tensor([[4, 1], [1, 3]]);

const ROWS: readonly Row[] = [
  // random draws
  { op: 'randint', run: (o) => randint(0, 5, [3], o), valid: { seed: 0 }, torch: ['generater', 'generator'] },
  { op: 'randperm', run: (o) => randperm(4, o), valid: { seed: 0 }, torch: ['Seed', 'seed'] },
  { op: 'bernoulli', run: (o) => bernoulli(0.5, o), valid: { seed: 0, shape: [2], dtype: 'float64' }, torch: ['generater', 'generator'] },
  { op: 'multinomial', run: (o) => multinomial(probs, 2, o), valid: { seed: 0, replacement: true }, torch: ['replacment', 'replacement'] },
  { op: 'categorical', run: (o) => categorical(probs.log(), o), valid: { seed: 0 }, torch: ['generater', 'generator'] },
  { op: 'normal', run: (o) => normal(0, 1, [2], o), valid: { seed: 0, dtype: 'float64' }, torch: ['d_type', 'dtype'] },
  { op: 'uniform', run: (o) => uniform(0, 1, [2], o), valid: { seed: 0, dtype: 'float64' }, torch: ['d_type', 'dtype'] },
  { op: 'dropout', run: (o) => dropout(x(4), 0.5, o), valid: { seed: 0, training: true }, torch: ['trainning', 'training'] },
  { op: 'rand', run: (o) => rand([2], o), valid: { seed: 0, dtype: 'float64', requiresGrad: true }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'randn', run: (o) => randn([2], o), valid: { seed: 0, dtype: 'float64', requiresGrad: true }, torch: ['requires_grad', 'requiresGrad'] },
  // creation
  { op: 'tensor', run: (o) => tensor([1, 2], o), valid: { dtype: 'float64', requiresGrad: true }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'zeros', run: (o) => zeros([2], o), valid: { dtype: 'int32' }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'ones', run: (o) => ones([2], o), valid: { dtype: 'float64' }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'full', run: (o) => full([2], 3, o), valid: { dtype: 'float64' }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'arange', run: (o) => arange(0, 3, 1, o), valid: { dtype: 'int32' }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'linspace', run: (o) => linspace(0, 1, 3, o), valid: { dtype: 'float64' }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'eye', run: (o) => eye(2, 2, o), valid: { dtype: 'float64' }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'zerosLike', run: (o) => zerosLike(q, o), valid: { requiresGrad: true }, torch: ['requires_grad', 'requiresGrad'] },
  { op: 'onesLike', run: (o) => onesLike(q, o), valid: { requiresGrad: true }, torch: ['requires_grad', 'requiresGrad'] },
  // elementwise
  { op: 'gelu', run: (o) => gelu(q, o), valid: { approximate: 'tanh' }, torch: ['aproximate', 'approximate'] },
  { op: 'softplus', run: (o) => softplus(q, o), valid: { beta: 2 }, torch: ['Beta', 'beta'] },
  { op: 'elu', run: (o) => elu(q, o), valid: { alpha: 0.5 }, torch: ['alph', 'alpha'] },
  { op: 'celu', run: (o) => celu(q, o), valid: { alpha: 0.5 }, torch: ['alph', 'alpha'] },
  { op: 'hardtanh', run: (o) => hardtanh(q, o), valid: { minVal: -0.5, maxVal: 0.5 }, torch: ['min_val', 'minVal'] },
  { op: 'round', run: (o) => round(q, o), valid: { decimals: 1 }, torch: ['decimal', 'decimals'] },
  { op: 'nanToNum', run: (o) => nanToNum(q, o), valid: { nan: 0, posinf: 1, neginf: -1 }, torch: ['posInf', 'posinf'] },
  // layout
  { op: 'pad', run: (o) => pad(x(3), [1, 1], o), valid: { mode: 'constant', value: 2 }, torch: ['Value', 'value'] },
  { op: 'meshgrid', run: (o) => meshgrid([x(2), x(3)], o), valid: { indexing: 'ij' }, torch: ['indexng', 'indexing'] },
  { op: 'scatter', run: (o) => scatter(x(3), 0, ints, 1, o), valid: { reduce: 'add' }, torch: ['reduc', 'reduce'] },
  { op: 'indexAdd', run: (o) => indexAdd(x(3), 0, ints, x(3), o), valid: { alpha: 2 }, torch: ['Alpha', 'alpha'] },
  { op: 'embedding', run: (o) => embedding(x(3, 2), ints, o), valid: { paddingIdx: 0 }, torch: ['padding_idx', 'paddingIdx'] },
  { op: 'nonzero', run: (o) => nonzero(x(3), o), valid: { asTuple: true }, torch: ['as_tuple', 'asTuple'] },
  // reductions and statistics
  { op: 'var', run: (o) => variance(x(2, 3), 1, o), valid: { keepdims: true, correction: 0 }, torch: ['keepdim', 'keepdims'] },
  { op: 'std', run: (o) => std(x(2, 3), 1, o), valid: { keepdims: true, correction: 0 }, torch: ['unbiased', 'correction'] },
  { op: 'nanvar', run: (o) => nanvar(x(2, 3), 1, o), valid: { keepdims: true, correction: 0 }, torch: ['keepdim', 'keepdims'] },
  { op: 'nanstd', run: (o) => nanstd(x(2, 3), 1, o), valid: { keepdims: true, correction: 0 }, torch: ['keepdim', 'keepdims'] },
  { op: 'quantile', run: (o) => quantile(x(2, 3), 0.5, 1, o), valid: { keepdims: true, interpolation: 'lower' }, torch: ['keepdim', 'keepdims'] },
  { op: 'nanquantile', run: (o) => nanquantile(x(2, 3), 0.5, 1, o), valid: { keepdims: true, interpolation: 'lower' }, torch: ['keepdim', 'keepdims'] },
  // order
  { op: 'sort', run: (o) => sort(x(3), -1, o), valid: { descending: true }, torch: ['Descending', 'descending'] },
  { op: 'argsort', run: (o) => argsort(x(3), -1, o), valid: { descending: true }, torch: ['Descending', 'descending'] },
  { op: 'topk', run: (o) => topk(x(3), 2, -1, o), valid: { largest: false, sorted: true }, torch: ['larger', 'largest'] },
  { op: 'unique', run: (o) => unique(ints, o), valid: { sorted: true, returnCounts: true }, torch: ['return_inverse', 'returnInverse'] },
  { op: 'searchsorted', run: (o) => searchsorted(x(4), tensor([0.15]), o), valid: { side: 'right' }, torch: ['sides', 'side'] },
  { op: 'bincount', run: (o) => bincount(ints, o), valid: { minlength: 3 }, torch: ['min_length', 'minlength'] },
  // norms and distances
  { op: 'normalize', run: (o) => normalize(x(2, 3), o), valid: { p: 1, axis: 0, eps: 1e-6 }, torch: ['dim', 'axis'] },
  { op: 'cosineSimilarity', run: (o) => cosineSimilarity(x(2, 3), x(2, 3), o), valid: { axis: 0, eps: 1e-6 }, torch: ['dim', 'axis'] },
  { op: 'pairwiseDistance', run: (o) => pairwiseDistance(x(2, 3), x(2, 3), o), valid: { p: 1, eps: 1e-6, keepdims: true }, torch: ['keepdim', 'keepdims'] },
  { op: 'cdist', run: (o) => cdist(x(2, 3), x(2, 3), o), valid: { p: 1, computeMode: 'use_mm_for_euclid_dist_if_necessary' }, torch: ['compute_mode', 'computeMode'] },
  // products, losses, attention
  { op: 'addmm', run: (o) => addmm(x(2, 2), x(2, 3), x(3, 2), o), valid: { beta: 0.5, alpha: 2 }, torch: ['Alpha', 'alpha'] },
  { op: 'baddbmm', run: (o) => baddbmm(x(1, 2, 2), x(1, 2, 3), x(1, 3, 2), o), valid: { beta: 0.5, alpha: 2 }, torch: ['Beta', 'beta'] },
  { op: 'crossEntropy', run: (o) => crossEntropy(x(2, 3), [0, 2], o), valid: { reduction: 'sum', labelSmoothing: 0.1 }, torch: ['ignore_index', 'ignoreIndex'] },
  { op: 'attentionWeights', run: (o) => attentionWeights(q, q, o), valid: { isCausal: true, scale: 0.5 }, torch: ['attn_mask', 'mask'] },
  { op: 'scaledDotProductAttention', run: (o) => scaledDotProductAttention(q, q, q, o), valid: { isCausal: true, scale: 0.5 }, torch: ['attnMask', 'mask'] },
  // convolution and pooling
  { op: 'conv1d', run: (o) => conv1d(x(1, 1, 5), x(2, 1, 3), null, o), valid: { stride: 1, padding: 1, dilation: 1, groups: 1 }, torch: ['group', 'groups'] },
  { op: 'conv2d', run: (o) => conv2d(x(1, 1, 4, 4), x(2, 1, 3, 3), null, o), valid: { stride: 1, padding: 1 }, torch: ['strides', 'stride'] },
  { op: 'convTranspose1d', run: (o) => convTranspose1d(x(1, 2, 3), x(2, 1, 3), null, o), valid: { stride: 2, outputPadding: 1 }, torch: ['output_padding', 'outputPadding'] },
  { op: 'convTranspose2d', run: (o) => convTranspose2d(x(1, 2, 3, 3), x(2, 1, 3, 3), null, o), valid: { stride: 2, outputPadding: 1 }, torch: ['output_padding', 'outputPadding'] },
  { op: 'unfold', run: (o) => unfold(x(1, 1, 4, 4), 2, o), valid: { stride: 2 }, torch: ['dilations', 'dilation'] },
  { op: 'fold', run: (o) => fold(x(1, 4, 4), [4, 4], 2, o), valid: { stride: 2 }, torch: ['dilations', 'dilation'] },
  { op: 'maxPool1d', run: (o) => maxPool1d(x(1, 1, 4), 2, o), valid: { stride: 2, ceilMode: true }, torch: ['ceil_mode', 'ceilMode'] },
  { op: 'maxPool2d', run: (o) => maxPool2d(x(1, 1, 4, 4), 2, o), valid: { returnIndices: true }, torch: ['return_indices', 'returnIndices'] },
  { op: 'avgPool1d', run: (o) => avgPool1d(x(1, 1, 4), 2, o), valid: { countIncludePad: false }, torch: ['count_include_pad', 'countIncludePad'] },
  { op: 'avgPool2d', run: (o) => avgPool2d(x(1, 1, 4, 4), 2, o), valid: { divisorOverride: 3 }, torch: ['divisor_override', 'divisorOverride'] },
  { op: 'adaptiveMaxPool2d', run: (o) => adaptiveMaxPool2d(x(1, 1, 4, 4), 2, o), valid: { returnIndices: true }, torch: ['return_indices', 'returnIndices'] },
  { op: 'interpolate', run: (o) => interpolate(x(1, 1, 2, 2), o), valid: { size: [4, 4], mode: 'bilinear', alignCorners: true }, torch: ['align_corners', 'alignCorners'] },
  { op: 'conv2dMaxPool2d', run: (o) => conv2dMaxPool2d(x(1, 1, 4, 4), x(2, 1, 3, 3), null, o, 2), valid: { padding: 1 }, torch: ['group', 'groups'] },
  { op: 'conv2dMaxPool2d', run: (o) => conv2dMaxPool2d(x(1, 1, 4, 4), x(2, 1, 3, 3), null, {}, 2, o), valid: { stride: 2 }, torch: ['ceil_mode', 'ceilMode'] },
  // inspection and structures
  { op: 'formatTensor', run: (o) => formatTensor(q, o), valid: { precision: 2, threshold: 10, edgeItems: 1 }, torch: ['edgeitems', 'edgeItems'] },
  { op: 'tensorToHtml', run: (o) => tensorToHtml(q, o), valid: { precision: 2 }, torch: ['edgeitems', 'edgeItems'] },
  { op: 'treeFlatten', run: (o) => treeFlatten({ q }, o), valid: { isLeaf: (v: unknown) => v === q }, torch: ['is_leaf', 'isLeaf'] },
  { op: 'treeLeaves', run: (o) => treeLeaves({ q }, o), valid: { isLeaf: (v: unknown) => v === q }, torch: ['is_leaf', 'isLeaf'] },
  { op: 'treeStructure', run: (o) => treeStructure({ q }, o), valid: { isLeaf: (v: unknown) => v === q }, torch: ['is_leaf', 'isLeaf'] },
  { op: 'treeBroadcastPrefix', run: (o) => treeBroadcastPrefix(0, { q }, o), valid: { name: 'f' }, torch: ['is_prefix_leaf', 'isPrefixLeaf'] },
  { op: 'taylorTest', run: (o) => taylorTest((t) => t.sin().sum(), x(3).toDtype('float64'), undefined, o), valid: { steps: 4, seed: 1 }, torch: ['Steps', 'steps'] },
  // linear algebra
  { op: 'solve', run: (o) => solve(spd, x(2, 1), o), valid: { left: true }, torch: ['Left', 'left'] },
  { op: 'triangularSolve', run: (o) => triangularSolve(spd, x(2, 1), { upper: true, ...o }), valid: { left: true, unitriangular: false }, torch: ['unit_triangular', 'unitriangular'] },
  { op: 'cholesky', run: (o) => cholesky(spd, o), valid: { upper: false }, torch: ['Upper', 'upper'] },
  { op: 'choleskySolve', run: (o) => choleskySolve(x(2, 1), cholesky(spd), o), valid: { upper: false }, torch: ['Upper', 'upper'] },
  { op: 'qr', run: (o) => qr(spd, o), valid: { mode: 'reduced' }, torch: ['Mode', 'mode'] },
  { op: 'eigh', run: (o) => eigh(spd, o), valid: { UPLO: 'L' }, torch: ['uplo', 'UPLO'] },
  { op: 'svd', run: (o) => svd(spd, o), valid: { fullMatrices: false }, torch: ['full_matrices', 'fullMatrices'] },
  { op: 'pinv', run: (o) => pinv(spd, o), valid: { rtol: 1e-10, atol: 0 }, torch: ['rtl', 'rtol'] },
  { op: 'lstsq', run: (o) => lstsq(spd, x(2, 1), o), valid: { rcond: 1e-12 }, torch: ['rcnd', 'rcond'] },
];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('every op with options refuses a key it does not know', () => {
  test.each(ROWS.map((r) => [r.op, r] as const))('%s', (_, row) => {
    expect(() => row.run(row.valid)).not.toThrow();
    const unknown = (): unknown => row.run({ ...row.valid, bogusOption: 1 });
    expect(unknown).toThrow(ArgumentError);
    expect(unknown).toThrow(new RegExp(`^${escape(row.op)}: unknown option 'bogusOption' \\(the options are [^)]+\\)$`));
    const [key, use] = row.torch;
    expect(() => row.run({ ...row.valid, [key]: row.valid[use] ?? 1 })).toThrow(
      new RegExp(`^${escape(row.op)}: unknown option '${escape(key)}' \\(the options are [^)]*\\b${use}\\b[^)]*\\); use '${use}'$`),
    );
  });
});

describe('the message', () => {
  test('names every option the op takes, and the one to use for a PyTorch spelling', () => {
    expect(() => pairwiseDistance(x(2, 3), x(2, 3), { keepdim: true } as never)).toThrow(
      "pairwiseDistance: unknown option 'keepdim' (the options are p, eps, keepdims); use 'keepdims'",
    );
    expect(() => scaledDotProductAttention(q, q, q, { attn_mask: null } as never)).toThrow(/unknown option 'attn_mask' .*; use 'mask'$/);
    expect(() => scaledDotProductAttention(q, q, q, { is_causal: true } as never)).toThrow(/; use 'isCausal'$/);
    expect(() => scaledDotProductAttention(q, q, q, { dropout_p: 0.1 } as never)).toThrow(/; use 'dropout'$/);
  });

  test('a PyTorch option with no counterpart here is refused with the list, and no guess', () => {
    expect(() => embedding(x(3, 2), ints, { maxNorm: 1 } as never)).toThrow(
      /^embedding: unknown option 'maxNorm' \(the options are paddingIdx\)$/,
    );
    expect(() => sort(x(3), -1, { stable: true } as never)).toThrow(/^sort: unknown option 'stable' \(the options are descending\)$/);
  });

  test('options that are not an object are an error naming the op', () => {
    expect(() => sort(x(3), -1, 5 as never)).toThrow(/^sort: options must be an object such as \{ descending: \.\.\. \}, got number$/);
    expect(() => zeros([2], null as never)).toThrow(/^zeros: options must be an object .*, got null$/);
  });

  test('the check also runs under vmap and jit, where the op sees the options as given', () => {
    const bad = (t: Tensor): Tensor => pairwiseDistance(t, t, { keepdim: true } as never);
    expect(() => vmap(bad)(x(2, 3))).toThrow(/^pairwiseDistance: unknown option 'keepdim'/);
    expect(() => jit(bad)(x(2, 3))).toThrow(/^pairwiseDistance: unknown option 'keepdim'/);
    expect(() => vmap((t: Tensor) => embedding(x(3, 2), t, { padding_idx: 0 } as never))(tensor([[0, 1]], { dtype: 'int32' }))).toThrow(/; use 'paddingIdx'$/);
  });
});
