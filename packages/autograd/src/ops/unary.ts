import { allocate } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { clamp as clampKernel, insideMask, leakyRelu as leakyReluKernel, mapUnary, type UnaryKind } from '../kernels/unary.js';
import { constant, expectTensor, makeOutput, type OutputOptions, type Tensor } from '../tensor.js';

function run(kind: UnaryKind, x: Tensor): Tensor['data'] {
  const out = allocate(x.dtype, x.size);
  mapUnary(kind, x.data, out);
  return out;
}

// What a unary VJP reads: nothing (only g), its input x, or its output y.
const READS_NOTHING: OutputOptions = { saves: [[]] };
const READS_X: OutputOptions = { saves: [[0]] };
const READS_Y: OutputOptions = { saves: [['output']] };

/**
 * A unary op: kernel `kind` forward, `vjp` backward (written in Tensor ops, so differentiable);
 * `reads` says which of x and y its VJP reads.
 */
function unaryOp(op: string, kind: UnaryKind, input: Tensor, reads: OutputOptions, vjp: (g: Tensor, x: Tensor, y: Tensor) => Tensor): Tensor {
  const x = expectTensor(op, 'input', input);
  return makeOutput(op, run(kind, x), x.shape, [x], (g, y) => [vjp(g, x, y)], reads);
}

/** A 0/1 mask of where `x > 0`, outside the graph. */
function positive(x: Tensor): Tensor {
  return constant(run('step', x), x.shape);
}

/** A copy of `x`, on the graph. */
export function identity(x: Tensor): Tensor {
  return unaryOp('clone', 'identity', x, READS_NOTHING, (g) => g);
}

/**
 * `-x`.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example neg(x)
 */
export function neg(x: Tensor): Tensor {
  return unaryOp('neg', 'neg', x, READS_NOTHING, (g) => g.neg());
}

/**
 * `e^x`.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example exp(x)
 */
export function exp(x: Tensor): Tensor {
  return unaryOp('exp', 'exp', x, READS_Y, (g, _x, y) => g.mul(y));
}

/**
 * `e^x - 1`, accurate for small x where `exp(x) - 1` loses its digits. Gradient e^x, taken as
 * y + 1 (PyTorch's form).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example expm1(x)
 */
export function expm1(x: Tensor): Tensor {
  return unaryOp('expm1', 'expm1', x, READS_Y, (g, _x, y) => g.mul(y.add(1)));
}

/**
 * Natural logarithm.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example log(x)
 */
export function log(x: Tensor): Tensor {
  return unaryOp('log', 'log', x, READS_X, (g, xi) => g.div(xi));
}

/**
 * `log(1 + x)`, accurate for small x.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example log1p(x)
 */
export function log1p(x: Tensor): Tensor {
  return unaryOp('log1p', 'log1p', x, READS_X, (g, xi) => g.div(xi.add(1)));
}

/**
 * Square root; its gradient at 0 is Inf, as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sqrt(x)
 */
export function sqrt(x: Tensor): Tensor {
  return unaryOp('sqrt', 'sqrt', x, READS_Y, (g, _x, y) => g.div(y.mul(2)));
}

/**
 * `|x|`, with gradient sign(x) (0 at 0).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example abs(x)
 */
export function abs(x: Tensor): Tensor {
  return unaryOp('abs', 'abs', x, READS_X, (g, xi) => g.mul(sign(xi)));
}

/**
 * -1, 0 or 1 by the sign of x; no gradient flows.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sign(x)
 */
export function sign(x: Tensor): Tensor {
  return constant(run('sign', expectTensor('sign', 'input', x)), x.shape);
}

/**
 * Hyperbolic tangent.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example tanh(x)
 */
export function tanh(x: Tensor): Tensor {
  return unaryOp('tanh', 'tanh', x, READS_Y, (g, _x, y) => g.mul(y.square().neg().add(1)));
}

/**
 * Logistic sigmoid, stable for large |x|.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sigmoid(x)
 */
export function sigmoid(x: Tensor): Tensor {
  return unaryOp('sigmoid', 'sigmoid', x, READS_Y, (g, _x, y) => g.mul(y.mul(y.neg().add(1))));
}

/**
 * `max(x, 0)`; gradient 0 at 0, as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example relu(x)
 */
export function relu(x: Tensor): Tensor {
  return unaryOp('relu', 'relu', x, READS_X, (g, xi) => g.mul(positive(xi)));
}

/**
 * `x` where positive, `slope·x` elsewhere.
 * @throws ArgumentError if `slope` is not finite or the input is not a Tensor.
 * @example leakyRelu(x, 0.2)
 */
export function leakyRelu(input: Tensor, slope = 0.01): Tensor {
  const x = expectTensor('leakyRelu', 'input', input);
  if (!Number.isFinite(slope)) throw new ArgumentError(`leakyRelu: slope must be finite, got ${slope}`);
  const out = allocate(x.dtype, x.size);
  leakyReluKernel(x.data, slope, out);
  return makeOutput('leakyRelu', out, x.shape, [x], (g) => {
    const m = positive(x);
    // slope + (1 - slope)·[x > 0]
    return [g.mul(m.mul(1 - slope).add(slope))];
  }, READS_X);
}

/**
 * The error function.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example erf(x)
 */
export function erf(x: Tensor): Tensor {
  // d/dx erf(x) = 2/√π · e^{-x²}
  return unaryOp('erf', 'erf', x, READS_X, (g, xi) => g.mul(xi.square().neg().exp().mul(1.1283791670955126)));
}

/**
 * Exact GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))` (composed, so its gradient is inherited).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example gelu(x)
 */
export function gelu(input: Tensor): Tensor {
  // Checked here because a composite would otherwise fail inside with a message not naming gelu.
  const x = expectTensor('gelu', 'input', input);
  return x.mul(0.5).mul(erf(x.mul(Math.SQRT1_2)).add(1));
}

/**
 * SiLU (swish), `x·σ(x)`, computed as x / (1 + e^-x) as PyTorch does. Gradient
 * σ(x)·(1 + x·(1 - σ(x))), PyTorch's form.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example silu(x)
 */
export function silu(x: Tensor): Tensor {
  return unaryOp('silu', 'silu', x, READS_X, (g, xi) => {
    const s = sigmoid(xi);
    return g.mul(s.mul(xi.mul(s.neg().add(1)).add(1)));
  });
}

/**
 * `log(1 + e^x)`, computed without overflow; gradient sigmoid(x).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example softplus(x)
 */
export function softplus(x: Tensor): Tensor {
  return unaryOp('softplus', 'softplus', x, READS_X, (g, xi) => g.mul(sigmoid(xi)));
}

/**
 * Sine.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sin(x)
 */
export function sin(x: Tensor): Tensor {
  return unaryOp('sin', 'sin', x, READS_X, (g, xi) => g.mul(cos(xi)));
}

/**
 * Cosine.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example cos(x)
 */
export function cos(x: Tensor): Tensor {
  return unaryOp('cos', 'cos', x, READS_X, (g, xi) => g.mul(sin(xi)).neg());
}

/**
 * `x²`.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example square(x)
 */
export function square(x: Tensor): Tensor {
  return unaryOp('square', 'square', x, READS_X, (g, xi) => g.mul(xi).mul(2));
}

/**
 * `1 / x`.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example reciprocal(x)
 */
export function reciprocal(x: Tensor): Tensor {
  return unaryOp('reciprocal', 'reciprocal', x, READS_Y, (g, _x, y) => g.mul(y.square()).neg());
}

/**
 * Limits x to [min, max] (either bound may be omitted). The gradient flows where
 * min ≤ x ≤ max, bounds included, as in PyTorch. @example clamp(p, 1e-7, 1 - 1e-7)
 * @throws ArgumentError if both bounds are missing or one is NaN (PyTorch also allows min > max; the result is then max everywhere).
 */
export function clamp(input: Tensor, min?: number, max?: number): Tensor {
  const x = expectTensor('clamp', 'input', input);
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (Number.isNaN(lo) || Number.isNaN(hi) || (min === undefined && max === undefined)) {
    throw new ArgumentError(`clamp: give at least one of min and max, and neither NaN (got min ${min}, max ${max})`);
  }
  const out = allocate(x.dtype, x.size);
  clampKernel(x.data, lo, hi, out);
  return makeOutput('clamp', out, x.shape, [x], (g) => {
    const mask = allocate(x.dtype, x.size);
    insideMask(x.data, lo, hi, mask);
    return [g.mul(constant(mask, x.shape))];
  }, READS_X);
}

/**
 * 1 where finite, 0 where NaN or ±Inf (no gradient).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example isFinite(x)
 */
export function isFinite(x: Tensor): Tensor {
  return constant(run('isfinite', expectTensor('isFinite', 'input', x)), x.shape);
}
