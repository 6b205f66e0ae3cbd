/**
 * The engine: an n-d `Tensor` (float32, float64) with NumPy broadcasting, a scalar `Value` graph on
 * the same engine, reverse-mode gradients to any order, functional transforms (`grad`, `vjp`,
 * `jvp`, `hvp`, `jacobian`, `hessian`, `jacfwd`, `linearize`; forward mode carries tangents beside primals), custom ops and gradient checking. Names and semantics
 * follow PyTorch (transforms: JAX); each item's comment says where chainrule differs.
 * Browser-safe: it imports no Node built-in.
 * @document ../README.md
 * @module @chainrule/autograd
 */
export { Tensor, isFloat, type FloatTensor, type NestedArray, type TensorLike, type GradNode, type VJP, type GradHook, type HookHandle, type ReduceOptions, type SavedRef } from './tensor.js';
export { type DType, type FloatDType, type FloatArray, type TensorData } from './dtype.js';
export { type Shape, broadcastShapes } from './shape.js';
export { ShapeError, DTypeError, GraphError, AnomalyError, ArgumentError, LinAlgError } from './errors.js';
export {
  tensor, zeros, ones, full, zerosLike, onesLike, arange, linspace, eye, rand, randn,
  type CreateOptions, type RandomOptions, type NumericArray, type NestedBooleans,
} from './creation.js';
export { Generator, manualSeed, type GeneratorState } from './random.js';
export {
  randint, randperm, bernoulli, multinomial, categorical, normal, uniform, dropout,
  type SampleOptions, type ParameterSampleOptions, type MultinomialOptions, type FunctionalDropoutOptions,
} from './ops/sampling.js';
// The op functions, for callers who prefer `add(a, b)` to `a.add(b)`.
export { add, sub, mul, div, pow, atan2, maximum, minimum, hypot, logaddexp, xlogy, copysign, fmod, remainder } from './ops/binary.js';
export { neg, exp, expm1, log, log1p, sqrt, abs, sign, tanh, sigmoid, relu, leakyRelu, gelu, silu, softplus, sin, cos, erf, square, reciprocal, clamp, isFinite, isNan, isInf, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, exp2, log2, log10, mish, elu, selu, celu, hardtanh, relu6, hardsigmoid, hardswish, logsigmoid, softsign, tanhshrink, floor, ceil, round, trunc, frac } from './ops/unary.js';
export { sum, mean, max, min, prod, logsumexp, variance, std, sumTo } from './ops/reduce.js';
export { reshape, permute, transpose, slice, narrow, concat, stack, expand, squeeze, unsqueeze } from './ops/shape.js';
export { split, chunk, unbind } from './ops/shape.js';
export { flatten } from './ops/shape.js';
export { flip, roll, pad, repeat, tile, repeatInterleave, movedim, meshgrid, type PadMode, type PadOptions, type MeshgridOptions } from './ops/rearrange.js';
export { tril, triu, diag, diagonal, diagEmbed, trace } from './ops/diagonal.js';
export { cumsum, cumprod, logcumsumexp, cummax, cummin, type ValuesAndIndices } from './ops/scan.js';
export { matmul } from './ops/matmul.js';
// Linear algebra (torch.linalg's names in camelCase).
export {
  solve, inv, det, slogdet, triangularSolve, cholesky, choleskySolve, qr, eigh, svd, svdvals, pinv, lstsq, matrixExp, matrixPower,
  type TriangularSolveOptions, type PinvOptions, type SlogdetResult, type QrResult, type EighResult, type SvdResult, type LstsqResult,
} from './ops/linalg.js';
export { linear, type LinearActivation } from './ops/linear.js';
export { crossEntropy, type CrossEntropyOpOptions, type CrossEntropyReduction } from './ops/cross-entropy.js';
export { softmax, logSoftmax } from './ops/softmax.js';

// Fused recurrent cells and normalisation.
export { lstmCell } from './ops/lstm.js';
export { layerNorm } from './ops/layer-norm.js';

// Attention.
export { scaledDotProductAttention, attentionWeights, type AttentionOptions } from './ops/attention.js';
export { gather } from './ops/gather.js';
export {
  take, indexSelect, index, scatter, scatterAdd, indexAdd, maskedFill, maskedSelect, nonzero, embedding, oneHot,
  type ScatterOptions, type IndexAddOptions, type EmbeddingOptions, type NonzeroOptions,
} from './ops/indexing.js';
export { where } from './ops/where.js';
export {
  argmax, argmin, maxWithIndices, minWithIndices, sort, argsort, topk, kthvalue, median, unique, searchsorted, bincount,
  type ValuesIndices, type SortOptions, type TopkOptions, type UniqueOptions, type UniqueResult, type UniqueValues, type UniqueInverse, type UniqueCounts, type WithInverse, type WithCounts, type SearchSortedOptions, type BincountOptions,
} from './ops/order.js';
export { eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor, logicalNot, any, all } from './ops/compare.js';
export { toDtype } from './ops/cast.js';
// Contractions, norms, statistics, lerp and nanToNum.
export { einsum } from './ops/einsum.js';
export { outer, tensordot, bmm, addmm, baddbmm, type AddmmOptions } from './ops/products.js';
export {
  norm, vectorNorm, matrixNorm, normalize, cosineSimilarity, pairwiseDistance, cdist,
  type VectorOrd, type MatrixOrd, type NormalizeOptions, type CosineSimilarityOptions, type PairwiseDistanceOptions, type CdistOptions, type CdistComputeMode,
} from './ops/norms.js';
export { nansum, nanmean, nanvar, nanstd, quantile, nanquantile, type QuantileOptions } from './ops/statistics.js';
export { type QuantileInterpolation } from './kernels/quantile.js';
export { lerp } from './ops/lerp.js';
export { nanToNum, type NanToNumOptions } from './ops/unary.js';
export { type GeluOptions } from './ops/unary.js';
export { noGrad, enableGrad, setGradEnabled, isGradEnabled } from './engine/grad-mode.js';
export { detectAnomaly, isAnomalyEnabled, type AnomalyOptions } from './engine/anomaly.js';
export { type BackwardOptions } from './engine/backward.js';
export { incrementVersion } from './engine/versions.js';
export { gradients, type GradientsOptions } from './engine/gradients.js';
export { Value, type ValueLike } from './value.js';
export {
  gradcheck, gradgradcheck, assertGradcheck, numericGrad, formatGradcheckReport, GradcheckError,
  type GradcheckOptions, type GradcheckReport, type GradcheckWorst, type TensorFunction,
} from './gradcheck.js';
export {
  grad, valueAndGrad, vjp, jvp, hvp, jacobian, hessian,
  type Arg, type Argnums, type ArgnumsOption, type NoArgnums, type GradsAt, type PerArgument, type ValueAndGrad, type VjpResult, type VjpAuxResult, type JvpResult, type HvpResult,
} from './functional.js';
export { checkpoint, type CheckpointOptions } from './checkpoint.js';
// Vectorising map and the transforms built on it.
export { vmap, type VmapOptions, type Axes, type Randomness } from './vmap/vmap.js';
export { jacrev } from './vmap/jacrev.js';
// Forward mode (true JVPs) beside the reverse-mode transforms.
export { linearize, jacfwd, type LinearizeResult, type LinearizeAuxResult } from './functional.js';
export { retainedBytes } from './retained.js';
// Structures of tensors (pytrees), shared by every transform.
export {
  treeFlatten, treeUnflatten, treeLeaves, treeStructure, treeMap, treeBroadcastPrefix, TreeDef,
  type Tree, type TreeKind, type TreeOptions, type Flattened, type WithLeaves,
} from './tree.js';
export { customOp, type CustomOpDefinition, type CustomOpContext } from './custom-op.js';
export { toDot } from './dot.js';
export { formatTensor, tensorToHtml, gradcheckReportToHtml, taylorTestReportToHtml } from './display.js';
export { type TensorFormatOptions } from './format.js';
export { taylorTest, type TaylorTestOptions, type TaylorTestReport } from './taylor.js';
export { setKernelBackend, kernelBackend, type KernelBackend } from './kernels/backend.js';
export { axpy, axpby } from './axpy.js';
export { adamUpdate, type AdamStep } from './adam-update.js';
export { kernelThreads, setKernelThreads, wasmGemmFlavour, type WasmGemmFlavour } from './kernels/wasm/settings.js';
export { conv1d, conv2d, convTranspose1d, convTranspose2d, unfold, fold, type ConvOptions, type ConvTransposeOptions, type UnfoldOptions, type SpatialArg } from './ops/conv.js';
export { conv2dMaxPool2d, type ConvMaxPoolOptions } from './ops/conv-pool.js';
export { maxPool1d, maxPool2d, avgPool1d, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, interpolate, type MaxPoolOptions, type AvgPoolOptions, type AdaptiveSize, type InterpolateOptions } from './ops/pool.js';
export { pixelShuffle, pixelUnshuffle } from './ops/pixel-shuffle.js';

// Compilation: jit traces a function into a program of primitive ops and runs it fused.
export { jit, type Jitted, type JitProgram } from './jit/jit.js';
export { TraceError } from './errors.js';

// Memory: explicit disposal, and the pool of freed storage it feeds.
export { dispose } from './dispose.js';
export { memoryPool, setMemoryPoolLimit, type MemoryPoolStats } from './storage-pool.js';
