// The op functions, for callers who prefer `add(a, b)` to `a.add(b)`.
export { add, sub, mul, div, pow, maximum, minimum } from './binary.js';
export { neg, exp, log, log1p, sqrt, abs, sign, tanh, sigmoid, relu, leakyRelu, gelu, softplus, sin, cos, erf, square, reciprocal, clamp, isFinite } from './unary.js';
export { sum, mean, max, min, prod, logsumexp, variance, std, sumTo } from './reduce.js';
export { reshape, permute, transpose, slice, narrow, concat, stack, expand, squeeze, unsqueeze } from './shape.js';
export { matmul } from './matmul.js';
export { linear, type LinearActivation } from './linear.js';
export { crossEntropy, type CrossEntropyOpOptions, type CrossEntropyReduction } from './cross-entropy.js';
export { softmax, logSoftmax } from './softmax.js';
export { gather } from './gather.js';
export { where } from './where.js';
export { eq, ne, lt, le, gt, ge } from './compare.js';
export { toDtype } from './cast.js';
