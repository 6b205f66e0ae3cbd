import { allocate, type FloatArray } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { reluBackward, tanhBackward } from '../kernels/fused.js';
import { broadcastShapes, formatShape, shapesEqual } from '../shape.js';
import { noGrad } from '../engine/grad-mode.js';
import { clamp as clampKernel, classify, insideMask, leakyRelu as leakyReluKernel, mapUnary, nanToNum as nanToNumKernel, type ClassifyKind, type UnaryKind } from '../kernels/unary.js';
import { integerClamp, integerUnary, type IntegerUnaryKind } from '../kernels/integer.js';
import { constant, expectFloat, expectTensor, floatInput, isFloat, makeOutput, recordsNothing, scalarTensor, type FloatTensor, type OutputOptions, Tensor, type TensorLike } from '../tensor.js';
import { asDType, numberDType, promoteAll } from './operands.js';
import { where } from './where.js';
import { zerosLike } from '../creation.js';
import { currentInterpreter, primitive } from '../engine/dispatch.js';
import { isTracing } from '../engine/trace-access.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const GELU_OPTIONS = ['approximate'];
const SOFTPLUS_OPTIONS = ['beta'];
const ELU_OPTIONS = ['alpha'];
const HARDTANH_OPTIONS = ['minVal', 'maxVal'];
const ROUND_OPTIONS = ['decimals'];
const NAN_TO_NUM_OPTIONS = ['nan', 'posinf', 'neginf'];

function run(kind: UnaryKind, x: FloatTensor): FloatArray {
  const out = allocate(x.dtype, x.size);
  mapUnary(kind, x.data, out);
  return out;
}

// What a unary VJP reads: nothing (only g), its input x, or its output y.
// Each is elementwise: its Jacobian is diagonal, so its JVP is its VJP applied to the tangent.
const READS_NOTHING: OutputOptions = { saves: [[]], jvp: 'elementwise' };
const READS_X: OutputOptions = { saves: [[0]], jvp: 'elementwise' };
const READS_Y: OutputOptions = { saves: [['output']], jvp: 'elementwise' };
const READS_ALL: OutputOptions = { jvp: 'elementwise' };

/**
 * A unary op: kernel `kind` forward, `vjp` backward (written in Tensor ops, so differentiable);
 * `reads` says which of x and y its VJP reads.
 */
function unaryOp(op: string, kind: UnaryKind, input: Tensor, reads: OutputOptions, vjp: (g: Tensor, x: FloatTensor, y: Tensor) => Tensor): Tensor {
  // The usual argument, a float tensor, is checked once; anything else goes through the checks
  // and conversions of `unaryArgument` first.
  const x = input instanceof Tensor && isFloat(input) ? input : unaryArgument(op, kind, input);
  if (!isFloat(x)) return x;
  if (recordsNothing(x)) return constant(run(kind, x), x.shape);
  return makeOutput(op, run(kind, x), x.shape, [x], (g, y) => [vjp(g, x, y)], reads);
}

/**
 * A unary op's argument that is not a float tensor: the op's integer result when it has one
 * (returned as is, not float), else the argument converted to float32.
 */
function unaryArgument(op: string, kind: UnaryKind, input: unknown): Tensor {
  const t = expectTensor(op, 'input', input);
  const integer = isFloat(t) ? undefined : INTEGER_KINDS[kind];
  if (integer !== undefined) return integerUnaryOp(integer, t);
  return floatInput(op, 'input', t);
}

// The unary ops PyTorch defines on integer tensors with an integer result (rounding leaves an
// integer as it is); every other unary op computes an int32 or bool input in float32.
const INTEGER_KINDS: Partial<Record<UnaryKind, IntegerUnaryKind>> = {
  identity: 'identity', neg: 'neg', abs: 'abs', sign: 'sign', square: 'square',
  floor: 'identity', ceil: 'identity', round: 'identity', trunc: 'identity',
};

/** An integer op on an int32 or bool tensor: int32 (a copy of a bool stays bool). No gradient. */
function integerUnaryOp(kind: IntegerUnaryKind, t: Tensor): Tensor {
  if (kind === 'identity' && t.dtype === 'bool') return constant(t.data.slice(), t.shape);
  const x = asDType(t, 'int32').data as Int32Array;
  const out = allocate('int32', x.length);
  integerUnary(kind, x, out);
  return constant(out, t.shape);
}

/**
 * A 0/1 mask of where `x > 0`, outside the graph. A primitive of its own (kernel kind 'step'),
 * so that transforms see it inside the VJPs that read it (jit records and fuses it).
 */
const positive = primitive('step', { kind: 'unary' }, function (x: FloatTensor): Tensor {
  return constant(run('step', x), x.shape);
});

/** 1 where lo ≤ x ≤ hi, else 0, outside the graph: where clamp passes gradient through (a primitive, as `positive`). */
const insideBounds = primitive('clampMask', { kind: 'unary' }, function (x: FloatTensor, lo: number, hi: number): Tensor {
  const mask = allocate(x.dtype, x.size);
  insideMask(x.data, lo, hi, mask);
  return constant(mask, x.shape);
});

/** A copy of `x`, on the graph. */
export const identity = primitive('identity', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('clone', 'identity', x, READS_NOTHING, (g) => g);
});

/**
 * `-x`.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example neg(x)
 */
export const neg = primitive('neg', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('neg', 'neg', x, READS_NOTHING, (g) => g.neg());
});

/**
 * `e^x`.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example exp(x)
 */
export const exp = primitive('exp', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('exp', 'exp', x, READS_Y, (g, _x, y) => g.mul(y));
});

/**
 * `e^x - 1`, accurate for small x where `exp(x) - 1` loses its digits. Gradient e^x, taken as
 * y + 1 (PyTorch's form).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example expm1(x)
 */
export const expm1 = primitive('expm1', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('expm1', 'expm1', x, READS_Y, (g, _x, y) => g.mul(y.add(1)));
});

/**
 * Natural logarithm.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example log(x)
 */
export const log = primitive('log', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('log', 'log', x, READS_X, (g, xi) => g.div(xi));
});

/**
 * `log(1 + x)`, accurate for small x.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example log1p(x)
 */
export const log1p = primitive('log1p', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('log1p', 'log1p', x, READS_X, (g, xi) => g.div(xi.add(1)));
});

/**
 * Square root; its gradient at 0 is Inf, as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sqrt(x)
 */
export const sqrt = primitive('sqrt', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('sqrt', 'sqrt', x, READS_Y, (g, _x, y) => g.div(y.mul(2)));
});

/**
 * `|x|`, with gradient sign(x) (0 at 0).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example abs(x)
 */
export const abs = primitive('abs', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('abs', 'abs', x, READS_X, (g, xi) => g.mul(sign(xi)));
});

/**
 * -1, 0 or 1 by the sign of x. Piecewise constant: its gradient is zero (a graph node, as
 * PyTorch's, so a loss through sign alone still backpropagates, to zeros).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sign(x)
 */
export const sign = primitive('sign', { kind: 'unary' }, function (input: Tensor): Tensor {
  return unaryOp('sign', 'sign', input, READS_NOTHING, (g) => zerosLike(g));
});

/**
 * Hyperbolic tangent.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example tanh(x)
 */
export const tanh = primitive('tanh', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('tanh', 'tanh', x, READS_Y, (g, _x, y) => plainTanhGrad(g, y) ?? g.mul(y.square().neg().add(1)));
});

/**
 * tanh's VJP g·(1 − y²) in one pass of the fused kernel where its result is a plain constant, as
 * PyTorch's tanh_backward: no transform sees the ops (jit fuses the composed ones with their
 * neighbours, vmap batches them) and nothing records them (createGraph, forward mode and anomaly
 * mode take the composed ops, which differentiate again). The composed ops' bits (test/fused.test.ts).
 * Null where the composed ops must run.
 */
function plainTanhGrad(g: Tensor, y: Tensor): Tensor | null {
  if (currentInterpreter() !== null || isTracing() || !recordsNothing(g, y) || !isFloat(g) || !isFloat(y) || g.dtype !== y.dtype || g.size !== y.size) return null;
  const out = allocate(g.dtype, g.size);
  tanhBackward(g.data, y.data, out);
  return constant(out, g.shape);
}

/**
 * Logistic sigmoid, stable for large |x|.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sigmoid(x)
 */
export const sigmoid = primitive('sigmoid', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('sigmoid', 'sigmoid', x, READS_Y, (g, _x, y) => g.mul(y.mul(y.neg().add(1))));
});

/**
 * `max(x, 0)`; gradient 0 at 0, as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example relu(x)
 */
export const relu = primitive('relu', { kind: 'unary' }, function (x: Tensor): Tensor {
  // Traced (jit), the mask and product stay elementwise ops, which fuse with their neighbours;
  // eager, one pass of the fused kernel. The same bits either way.
  return unaryOp('relu', 'relu', x, READS_Y, (g, _x, y) => (isTracing() ? g.mul(positive(expectFloat('relu', y))) : reluGrad(g, y)));
});

/**
 * g·[y > 0] for relu's output y (y > 0 exactly where its input was) and g of y's shape: relu's
 * VJP in one pass of the fused kernel, the same bits as `g.mul(positive(x))` without the mask
 * tensor. y is a constant here (relu's second derivative is zero wherever it is defined), so
 * the op's own VJP is itself. A primitive, so that transforms see it inside relu's and linear's
 * VJPs; batched as an op whose arguments share their shape.
 */
export const reluGrad = primitive('reluGrad', { kind: 'other', rule: 'rowwise' }, function (g: Tensor, y: Tensor): Tensor {
  const gf = expectFloat('reluGrad', g);
  const yf = expectFloat('reluGrad', y);
  if (gf.size !== yf.size || gf.dtype !== yf.dtype) {
    throw new ShapeError(`reluGrad: gradient ${formatShape(g.shape)} ${gf.dtype} must match relu's output ${formatShape(y.shape)} ${yf.dtype}`);
  }
  const out = allocate(gf.dtype, g.size);
  reluBackward(gf.data, yf.data, 1, g.size, out);
  return makeOutput('reluGrad', out, g.shape, [g], (gg) => [reluGrad(gg, y)], { saves: [[y]], jvp: ([t]) => reluGrad(t!, y) });
});

/**
 * `x` where positive, `slope·x` elsewhere.
 * @throws ArgumentError if `slope` is not finite or the input is not a Tensor.
 * @example leakyRelu(x, 0.2)
 */
export const leakyRelu = primitive('leakyRelu', { kind: 'unary' }, function (input: Tensor, slope = 0.01): Tensor {
  const x = floatInput('leakyRelu', 'input', input);
  if (!Number.isFinite(slope)) throw new ArgumentError(`leakyRelu: slope must be finite, got ${slope}`);
  const out = allocate(x.dtype, x.size);
  leakyReluKernel(x.data, slope, out);
  return makeOutput('leakyRelu', out, x.shape, [x], (g) => {
    const m = positive(x);
    // slope + (1 - slope)·[x > 0]
    return [g.mul(m.mul(1 - slope).add(slope))];
  }, READS_X);
});

/**
 * The error function.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example erf(x)
 */
export const erf = primitive('erf', { kind: 'unary' }, function (x: Tensor): Tensor {
  // d/dx erf(x) = 2/√π · e^{-x²}
  return unaryOp('erf', 'erf', x, READS_X, (g, xi) => g.mul(xi.square().neg().exp().mul(1.1283791670955126)));
});

/** Options of `gelu`. */
export interface GeluOptions {
  /** `'none'` (default): the exact erf form; `'tanh'`: PyTorch's tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/**
 * GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))` exactly, or with `{ approximate: 'tanh' }`
 * `x/2 · (1 + tanh(√(2/π) · (x + 0.044715·x³)))`, as `F.gelu` (composed, so the gradient is
 * inherited).
 * @throws ArgumentError if the input is not a Tensor or `approximate` is neither 'none' nor 'tanh'.
 * @example gelu(x, { approximate: 'tanh' })
 */
export const gelu = primitive('gelu', { kind: 'unary' }, function (input: Tensor, options: GeluOptions = {}): Tensor {
  checkOptions('gelu', options, GELU_OPTIONS);
  // Checked here because a composite would otherwise fail inside with a message not naming gelu.
  const x = floatInput('gelu', 'input', input);
  const { approximate = 'none' } = options;
  if (approximate === 'tanh') return x.mul(0.5).mul(tanh(x.add(x.square().mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
  if (approximate !== 'none') throw new ArgumentError(`gelu: approximate must be 'none' or 'tanh', got ${String(approximate)}`);
  return x.mul(0.5).mul(erf(x.mul(Math.SQRT1_2)).add(1));
});

/**
 * SiLU (swish), `x·σ(x)`, computed as x / (1 + e^-x) as PyTorch does. Gradient
 * σ(x)·(1 + x·(1 - σ(x))), PyTorch's form.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example silu(x)
 */
export const silu = primitive('silu', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('silu', 'silu', x, READS_X, (g, xi) => {
    const s = sigmoid(xi);
    return g.mul(s.mul(xi.mul(s.neg().add(1)).add(1)));
  });
});

/**
 * `log(1 + e^x)`, computed without overflow; gradient sigmoid(x). With `{ beta }`,
 * `log(1 + e^(beta·x)) / beta`, as `F.softplus`'s beta (its threshold is not taken: the result
 * is exact everywhere).
 * @throws ArgumentError if the input is not a Tensor, or beta is 0 or not finite.
 * @example softplus(x, { beta: 2 })
 */
export const softplus = primitive('softplus', { kind: 'unary' }, function (x: Tensor, options: { beta?: number } = {}): Tensor {
  checkOptions('softplus', options, SOFTPLUS_OPTIONS);
  const { beta = 1 } = options;
  if (beta !== 1) {
    if (!Number.isFinite(beta) || beta === 0) throw new ArgumentError(`softplus: beta must be finite and non-zero, got ${beta}`);
    return softplus(floatInput('softplus', 'input', x).mul(beta)).div(beta);
  }
  return unaryOp('softplus', 'softplus', x, READS_X, (g, xi) => g.mul(sigmoid(xi)));
});

/**
 * Sine.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sin(x)
 */
export const sin = primitive('sin', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('sin', 'sin', x, READS_X, (g, xi) => g.mul(cos(xi)));
});

/**
 * Cosine.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example cos(x)
 */
export const cos = primitive('cos', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('cos', 'cos', x, READS_X, (g, xi) => g.mul(sin(xi)).neg());
});

/**
 * `x²`.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example square(x)
 */
export const square = primitive('square', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('square', 'square', x, READS_X, (g, xi) => g.mul(xi).mul(2));
});

/**
 * `1 / x`.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example reciprocal(x)
 */
export const reciprocal = primitive('reciprocal', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('reciprocal', 'reciprocal', x, READS_Y, (g, _x, y) => g.mul(y.square()).neg());
});

/**
 * Limits x to [min, max] (either bound may be omitted), as `torch.clamp`. A bound is a number or a
 * tensor; tensor bounds broadcast with x, and the result is `min(max(x, min), max)`, so where
 * min > max it is max, and NaN in x or in a tensor bound gives NaN. The gradient flows to x where
 * min ≤ x ≤ max, bounds included, and to a tensor bound where it was chosen (PyTorch's rule: to min
 * where x < min < max, to max where x > max or max < min; where min = max > x, to neither).
 * Dtypes combine as `add`'s operands: integer bounds keep an int32 tensor int32, a fractional
 * number or a float tensor bound makes it float.
 * @throws ArgumentError if both bounds are missing or a number bound is NaN (PyTorch also allows
 * min > max; the result is then max everywhere).
 * @throws ShapeError if a tensor bound does not broadcast with x; DTypeError if float32 meets float64.
 * @example clamp(p, 1e-7, 1 - 1e-7); clamp(x, lo, hi) // lo, hi tensors
 */
export const clamp = primitive('clamp', { kind: 'elementwise' }, function (input: Tensor, min?: TensorLike, max?: TensorLike): Tensor {
  const t = expectTensor('clamp', 'input', input);
  if ((typeof min !== 'number' && min != null) || (typeof max !== 'number' && max != null)) return clampByTensors(t, min ?? undefined, max ?? undefined);
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (Number.isNaN(lo) || Number.isNaN(hi) || (min == null && max == null)) {
    throw new ArgumentError(`clamp: give at least one of min and max, and neither NaN (got min ${min}, max ${max})`);
  }
  // Integer bounds keep an integer tensor integer, as torch.clamp; a fractional bound makes it float.
  const integral = (v: number): boolean => Number.isInteger(v) || v === Infinity || v === -Infinity;
  if (!isFloat(t) && integral(lo) && integral(hi)) {
    const xi = asDType(t, 'int32').data as Int32Array;
    const out = allocate('int32', xi.length);
    integerClamp(xi, lo, hi, out);
    return constant(out, t.shape);
  }
  const x = floatInput('clamp', 'input', t);
  const out = allocate(x.dtype, x.size);
  clampKernel(x.data, lo, hi, out);
  return makeOutput('clamp', out, x.shape, [x], (g) => [g.mul(insideBounds(x, lo, hi))], READS_X);
});

/**
 * clamp with at least one tensor bound: the operands promoted together (a number bound becomes a
 * 0-d tensor of the dtype it takes beside the tensors), the result `minimum(maximum(x, lo), hi)`,
 * and PyTorch's gradient (clamp_backward_min_max) beside it; the JVP applies the same masks to
 * the tangents.
 */
function clampByTensors(t: Tensor, min: TensorLike | undefined, max: TensorLike | undefined): Tensor {
  const given = { min, max };
  const slots = (['min', 'max'] as const).filter((name) => given[name] !== undefined);
  const bounds = slots.map((name) => {
    const v = given[name];
    if (typeof v !== 'number') return expectTensor('clamp', name, v);
    if (Number.isNaN(v)) throw new ArgumentError(`clamp: a number bound must not be NaN (got ${name} NaN, input ${t.dtype} ${formatShape(t.shape)})`);
    return v;
  });
  // The tensors decide the dtype; a number bound takes the dtype it takes beside it (a fraction
  // beside int32 makes every operand float32, as with `add`'s operands).
  const dtype = promoteAll('clamp', [t, ...bounds.filter((v): v is Tensor => typeof v !== 'number')], 'integer')[0]!.dtype;
  const operands = [t, ...bounds.map((v) => (typeof v === 'number' ? scalarTensor(v, numberDType(v, dtype)) : v))];
  const inputs = promoteAll('clamp', operands, 'integer');
  const x = inputs[0]!;
  const lo = slots[0] === 'min' ? inputs[1] : undefined;
  const hi = slots[slots.length - 1] === 'max' ? inputs[inputs.length - 1] : undefined;
  let shape: number[];
  try {
    shape = operands.reduce<number[]>((s, u) => broadcastShapes('clamp', s, u.shape), []);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const named = [`input ${formatShape(t.shape)}`];
    if (lo !== undefined) named.push(`min ${formatShape(lo.shape)}`);
    if (hi !== undefined) named.push(`max ${formatShape(hi.shape)}`);
    throw new ShapeError(`clamp: ${named.join(', ')} cannot be broadcast together`);
  }
  // On detached operands: these ops' tangents would be thrown away with their graph.
  const data = noGrad(() => {
    let y = x.detach();
    if (lo !== undefined) y = y.maximum(lo.detach());
    if (hi !== undefined) y = y.minimum(hi.detach());
    return shapesEqual(y.shape, shape) ? y.data : y.expand(shape).data;
  });
  // maximum/minimum allocate their results; an expand copies: the data is this op's own.
  if (!isFloat(x)) return constant(data, shape);
  const routed = (['x', ...slots] as const).map((of) => () => clampMask(x, lo, hi, of));
  return makeOutput('clamp', data, shape, inputs, (g) => inputs.map((u, i) => (u.requiresGrad ? where(routed[i]!(), g, 0) : null)), {
    jvp: (tangents, out) => {
      let sum: Tensor | null = null;
      tangents.forEach((ti, i) => {
        if (ti === null || ti === undefined) return;
        const term = where(routed[i]!(), ti, 0);
        sum = sum === null ? term : sum.add(term);
      });
      const total: Tensor = sum ?? zerosLike(out);
      return shapesEqual(total.shape, out.shape) ? total : total.expand(out.shape);
    },
  });
}

/**
 * Where an operand of clamp gets the gradient, as a bool mask (PyTorch's clamp_backward_min_max):
 * x where min ≤ x ≤ max; min where x < min and, with both bounds, min < max; max where x > max
 * or, with both bounds, max < min.
 */
function clampMask(x: Tensor, lo: Tensor | undefined, hi: Tensor | undefined, of: 'x' | 'min' | 'max'): Tensor {
  const [x0, lo0, hi0] = [x.detach(), lo?.detach(), hi?.detach()];
  if (of === 'x') {
    if (lo0 === undefined) return x0.le(hi0!);
    return hi0 === undefined ? x0.ge(lo0) : x0.ge(lo0).logicalAnd(x0.le(hi0));
  }
  if (of === 'min') return hi0 === undefined ? x0.lt(lo0!) : x0.lt(lo0!).logicalAnd(lo0!.lt(hi0));
  return lo0 === undefined ? x0.gt(hi0!) : x0.gt(hi0!).logicalOr(hi0!.lt(lo0));
}

/** A bool tensor classifying each element; an int32 or bool tensor is finite everywhere. */
function classifyOp(op: string, kind: ClassifyKind, input: Tensor): Tensor {
  const t = expectTensor(op, 'input', input);
  const out = allocate('bool', t.size);
  if (isFloat(t)) classify(kind, t.data, out);
  else if (kind === 'isfinite') out.fill(1);
  return constant(out, t.shape);
}

/**
 * True where finite, false where NaN or ±Infinity (a bool tensor, no gradient), as torch.isfinite.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example isFinite(x)
 */
export const isFinite = primitive('isFinite', { kind: 'unary' }, function (x: Tensor): Tensor {
  return classifyOp('isFinite', 'isfinite', x);
});

/**
 * True where NaN (a bool tensor, no gradient), as torch.isnan.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example x.isNan().any()
 */
export const isNan = primitive('isNan', { kind: 'unary' }, function (x: Tensor): Tensor {
  return classifyOp('isNan', 'isnan', x);
});

/**
 * True where +Infinity or -Infinity (a bool tensor, no gradient), as torch.isinf.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example isInf(x)
 */
export const isInf = primitive('isInf', { kind: 'unary' }, function (x: Tensor): Tensor {
  return classifyOp('isInf', 'isinf', x);
});

/**
 * Tangent. Gradient 1 + tan²(x), taken from the result as PyTorch does.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example tan(x)
 */
export const tan = primitive('tan', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('tan', 'tan', x, READS_Y, (g, _x, y) => g.mul(y.square().add(1)));
});

/**
 * Inverse sine, in [-π/2, π/2]; NaN outside [-1, 1]. Gradient 1/√(1 - x²), infinite at ±1 as in
 * PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example asin(x)
 */
export const asin = primitive('asin', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('asin', 'asin', x, READS_X, (g, xi) => g.div(xi.square().neg().add(1).sqrt()));
});

/**
 * Inverse cosine, in [0, π]; NaN outside [-1, 1]. Gradient -1/√(1 - x²), infinite at ±1 as in
 * PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example acos(x)
 */
export const acos = primitive('acos', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('acos', 'acos', x, READS_X, (g, xi) => g.div(xi.square().neg().add(1).sqrt()).neg());
});

/**
 * Inverse tangent, in (-π/2, π/2) (±π/2 at ±Infinity). Gradient 1/(1 + x²).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example atan(x)
 */
export const atan = primitive('atan', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('atan', 'atan', x, READS_X, (g, xi) => g.div(xi.square().add(1)));
});

/**
 * Hyperbolic sine; overflows to ±Infinity past |x| ≈ 710. Gradient cosh(x).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example sinh(x)
 */
export const sinh = primitive('sinh', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('sinh', 'sinh', x, READS_X, (g, xi) => g.mul(cosh(xi)));
});

/**
 * Hyperbolic cosine; overflows to Infinity past |x| ≈ 710. Gradient sinh(x).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example cosh(x)
 */
export const cosh = primitive('cosh', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('cosh', 'cosh', x, READS_X, (g, xi) => g.mul(sinh(xi)));
});

/**
 * Inverse hyperbolic sine. Gradient 1/√(x² + 1) (0 where x² overflows, as in PyTorch).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example asinh(x)
 */
export const asinh = primitive('asinh', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('asinh', 'asinh', x, READS_X, (g, xi) => g.div(xi.square().add(1).sqrt()));
});

/**
 * Inverse hyperbolic cosine, for x ≥ 1 (NaN below; 0 at 1). Gradient 1/√(x² - 1), infinite at 1 as
 * in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example acosh(x)
 */
export const acosh = primitive('acosh', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('acosh', 'acosh', x, READS_X, (g, xi) => g.div(xi.square().sub(1).sqrt()));
});

/**
 * Inverse hyperbolic tangent, ±Infinity at ±1 and NaN beyond. Gradient 1/(1 - x²), infinite at ±1
 * as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example atanh(x)
 */
export const atanh = primitive('atanh', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('atanh', 'atanh', x, READS_X, (g, xi) => g.div(xi.square().neg().add(1)));
});

/**
 * `2^x`. Gradient 2^x·ln 2, taken from the result as PyTorch does.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example exp2(x)
 */
export const exp2 = primitive('exp2', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('exp2', 'exp2', x, READS_Y, (g, _x, y) => g.mul(y).mul(Math.LN2));
});

/**
 * Base-2 logarithm (-Infinity at ±0, NaN below 0). Gradient 1/(x·ln 2).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example log2(x)
 */
export const log2 = primitive('log2', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('log2', 'log2', x, READS_X, (g, xi) => g.div(xi.mul(Math.LN2)));
});

/**
 * Base-10 logarithm (-Infinity at ±0, NaN below 0). Gradient 1/(x·ln 10).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example log10(x)
 */
export const log10 = primitive('log10', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('log10', 'log10', x, READS_X, (g, xi) => g.div(xi.mul(Math.LN10)));
});

/**
 * Mish, `x·tanh(softplus(x))`, computed as x·tanh(log1p(e^x)) as PyTorch does. Gradient
 * t + x·σ(x)·(1 - t²) with t = tanh(log1p(e^x)), PyTorch's form (NaN at ±Infinity, as PyTorch).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example mish(x)
 */
export const mish = primitive('mish', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('mish', 'mish', x, READS_X, (g, xi) => {
    const t = xi.exp().log1p().tanh();
    return g.mul(t.add(xi.mul(sigmoid(xi)).mul(t.square().neg().add(1))));
  });
});

/**
 * `scale·x` where x > 0, else `negScale·(e^(x·inputScale) - 1)` (by expm1, exact near 0): the
 * form PyTorch's elu, selu and celu share. Gradient scale, else negScale·inputScale·e^(x·inputScale)
 * (PyTorch's form and branch test x ≤ 0, so x = 0 takes the curve and NaN the line; exact far below
 * 0, where expm1's y + 1 would give 0). Both read x where x < 0 and 0 elsewhere, so the branch not
 * taken never overflows into 0·Inf = NaN, and the curve's gradient is differentiated only where
 * x < 0: the second derivative at 0 is PyTorch's 0 (its elu_double_backward masks x < 0).
 */
function eluForm(op: string, x: FloatTensor, scale: number, negScale: number, inputScale: number): Tensor {
  const negative = (xi: Tensor): Tensor => {
    const m = where(xi.lt(0), xi, 0);
    return inputScale === 1 ? m : m.mul(inputScale);
  };
  const c = x.detach();
  const curve = negative(c).expm1();
  const y = where(c.le(0), negScale === 1 ? curve : curve.mul(negScale), scale === 1 ? c : c.mul(scale));
  return makeOutput(op, y.data, x.shape, [x], (g) => [
    g.mul(where(x.le(0), negative(x).exp().mul(negScale * inputScale), scale)),
  ], READS_ALL);
}

/**
 * ELU: `x` where x > 0, else `alpha·(e^x - 1)` (PyTorch's default alpha 1). The gradient at 0 is
 * alpha, as in PyTorch. Computed with expm1, so exact near 0.
 * @throws ArgumentError if the input is not a Tensor or alpha is not finite.
 * @example elu(x, { alpha: 0.5 })
 */
export const elu = primitive('elu', { kind: 'unary' }, function (input: Tensor, options: { alpha?: number } = {}): Tensor {
  checkOptions('elu', options, ELU_OPTIONS);
  const x = floatInput('elu', 'input', input);
  const { alpha = 1 } = options;
  if (!Number.isFinite(alpha)) throw new ArgumentError(`elu: alpha must be finite, got ${alpha}`);
  return eluForm('elu', x, 1, alpha, 1);
});

// SELU's constants, as PyTorch has them (Klambauer et al. 2017).
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/**
 * SELU: `scale·x` where x > 0, else `scale·alpha·(e^x - 1)`, with PyTorch's alpha ≈ 1.6733 and
 * scale ≈ 1.0507. The gradient at 0 is scale·alpha, as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example selu(x)
 */
export const selu = primitive('selu', { kind: 'unary' }, function (input: Tensor): Tensor {
  return eluForm('selu', floatInput('selu', 'input', input), SELU_SCALE, SELU_ALPHA * SELU_SCALE, 1);
});

/**
 * CELU: `x` where x > 0, else `alpha·(e^(x/alpha) - 1)` (PyTorch's default alpha 1). The gradient
 * at 0 is 1, as in PyTorch.
 * @throws ArgumentError if the input is not a Tensor, or alpha is 0 or not finite.
 * @example celu(x, { alpha: 2 })
 */
export const celu = primitive('celu', { kind: 'unary' }, function (input: Tensor, options: { alpha?: number } = {}): Tensor {
  checkOptions('celu', options, ELU_OPTIONS);
  const x = floatInput('celu', 'input', input);
  const { alpha = 1 } = options;
  if (!Number.isFinite(alpha) || alpha === 0) throw new ArgumentError(`celu: alpha must be finite and non-zero, got ${alpha}`);
  return eluForm('celu', x, 1, alpha, 1 / alpha);
});

/**
 * x limited to [lo, hi], with PyTorch's hardtanh gradient: zero at and beyond the bounds (clamp
 * passes it at the bounds), and passed through at NaN.
 */
function hardClamp(op: string, x: FloatTensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new ArgumentError(`${op}: minVal must be at most maxVal, neither NaN (got minVal ${lo}, maxVal ${hi})`);
  const out = allocate(x.dtype, x.size);
  clampKernel(x.data, lo, hi, out);
  return makeOutput(op, out, x.shape, [x], (g) => [where(x.le(lo).add(x.ge(hi)), 0, g)], READS_ALL);
}

/**
 * HardTanh: x limited to [minVal, maxVal] (PyTorch's defaults -1 and 1). The gradient is 1
 * strictly inside and 0 at and beyond the bounds, as in PyTorch (clamp passes it at the bounds).
 * @throws ArgumentError if the input is not a Tensor, or minVal > maxVal, or either is NaN.
 * @example hardtanh(x, { minVal: -2, maxVal: 2 })
 */
export const hardtanh = primitive('hardtanh', { kind: 'unary' }, function (input: Tensor, options: { minVal?: number; maxVal?: number } = {}): Tensor {
  checkOptions('hardtanh', options, HARDTANH_OPTIONS);
  const { minVal = -1, maxVal = 1 } = options;
  return hardClamp('hardtanh', floatInput('hardtanh', 'input', input), minVal, maxVal);
});

/**
 * ReLU6: x limited to [0, 6], hardtanh's gradient (0 at 0 and at 6), as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example relu6(x)
 */
export const relu6 = primitive('relu6', { kind: 'unary' }, function (input: Tensor): Tensor {
  return hardClamp('relu6', floatInput('relu6', 'input', input), 0, 6);
});

/**
 * HardSigmoid: `min(max(x + 3, 0), 6) / 6`, as PyTorch rounds it. Gradient 1/6 strictly inside
 * (-3, 3), else 0 (also at ±3 and NaN), as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example hardsigmoid(x)
 */
export const hardsigmoid = primitive('hardsigmoid', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('hardsigmoid', 'hardsigmoid', x, READS_X, (g, xi) => where(xi.gt(-3).mul(xi.lt(3)), g.div(6), 0));
});

/**
 * HardSwish: `x·min(max(x + 3, 0), 6) / 6`, as PyTorch rounds it. Gradient 0 below -3, x/3 + 1/2
 * on [-3, 3] (bounds included), 1 above and at NaN; second derivative 1/3 strictly inside (-3, 3)
 * only: PyTorch's values at its kinks.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example hardswish(x)
 */
export const hardswish = primitive('hardswish', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('hardswish', 'hardswish', x, READS_X, (g, xi) => {
    // At ±3 the slope's value is kept and its own derivative dropped (PyTorch's double backward).
    const inside = where(xi.gt(-3).logicalAnd(xi.lt(3)), xi, xi.detach());
    return where(xi.lt(-3), 0, where(xi.le(3), g.mul(inside.div(3).add(0.5)), g));
  });
});

/**
 * `log σ(x)`, computed as min(x, 0) - log1p(e^-|x|) as PyTorch does: exact for large |x| (x far
 * below 0 gives x, not -Infinity). Gradient σ(-x).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example logsigmoid(x)
 */
export const logsigmoid = primitive('logsigmoid', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('logsigmoid', 'logsigmoid', x, READS_X, (g, xi) => g.mul(sigmoid(xi.neg())));
});

/**
 * Softsign, `x / (1 + |x|)`, composed as PyTorch composes it (so NaN at ±Infinity, as PyTorch).
 * @throws ArgumentError if the argument is not a Tensor.
 * @example softsign(x)
 */
export const softsign = primitive('softsign', { kind: 'unary' }, function (input: Tensor): Tensor {
  const x = floatInput('softsign', 'input', input);
  return x.div(x.abs().add(1));
});

/**
 * Tanhshrink, `x - tanh(x)`, composed as PyTorch composes it.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example tanhshrink(x)
 */
export const tanhshrink = primitive('tanhshrink', { kind: 'unary' }, function (input: Tensor): Tensor {
  const x = floatInput('tanhshrink', 'input', input);
  return x.sub(x.tanh());
});

/**
 * The largest integer not above x. Piecewise constant, so its gradient is zero everywhere (PyTorch's choice, also at the
 * jumps). ±0, ±Infinity and NaN map to themselves.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example floor(x)
 */
export const floor = primitive('floor', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('floor', 'floor', x, READS_NOTHING, (g) => zerosLike(g));
});

/**
 * The smallest integer not below x. Piecewise constant, so its gradient is zero everywhere (PyTorch's choice, also at the
 * jumps). ±0, ±Infinity and NaN map to themselves.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example ceil(x)
 */
export const ceil = primitive('ceil', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('ceil', 'ceil', x, READS_NOTHING, (g) => zerosLike(g));
});

/**
 * x rounded to the nearest integer, halves to even (as torch.round and IEEE
 * roundTiesToEven; Math.round rounds halves up). Piecewise constant, so its gradient is zero everywhere (PyTorch's choice, also at the
 * jumps). ±0, ±Infinity and NaN map to themselves. With `{ decimals }`, to that many decimal
 * places (negative: to tens, hundreds, ...), computed as torch.round(x, decimals=d) does, in
 * x's dtype: round(x·10^d)/10^d, or round(x/10^-d)·10^-d for negative d.
 * @throws ArgumentError if the input is not a Tensor or decimals is not an integer.
 * @throws DTypeError for negative decimals on an int32 or bool tensor (PyTorch refuses integer inputs).
 * @example round(x, { decimals: 2 })
 */
export const round = primitive('round', { kind: 'unary' }, function (x: Tensor, options: { decimals?: number } = {}): Tensor {
  checkOptions('round', options, ROUND_OPTIONS);
  const { decimals = 0 } = options;
  if (!Number.isInteger(decimals)) throw new ArgumentError(`round: decimals must be an integer, got ${decimals}`);
  const t = expectTensor('round', 'input', x);
  if (decimals !== 0 && isFloat(t)) {
    const scale = 10 ** Math.abs(decimals);
    return decimals > 0 ? round(t.mul(scale)).div(scale) : round(t.div(scale)).mul(scale);
  }
  if (decimals < 0) throw new DTypeError(`round: decimals ${decimals} needs a float tensor, got ${t.dtype} of shape ${formatShape(t.shape)}; convert it with toDtype()`);
  return unaryOp('round', 'round', t, READS_NOTHING, (g) => zerosLike(g));
});

/**
 * x rounded toward zero. Piecewise constant, so its gradient is zero everywhere (PyTorch's choice, also at the
 * jumps). ±0, ±Infinity and NaN map to themselves.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example trunc(x)
 */
export const trunc = primitive('trunc', { kind: 'unary' }, function (x: Tensor): Tensor {
  return unaryOp('trunc', 'trunc', x, READS_NOTHING, (g) => zerosLike(g));
});

/**
 * The fractional part `x - trunc(x)`, with the sign of x, as torch.frac (NaN at ±Infinity).
 * Gradient 1, as in PyTorch.
 * @throws ArgumentError if the argument is not a Tensor.
 * @example frac(x)
 */
export const frac = primitive('frac', { kind: 'unary' }, function (input: Tensor): Tensor {
  const x = floatInput('frac', 'input', input);
  return x.sub(trunc(x));
});

/** Options of `nanToNum`: what replaces NaN, +Inf and -Inf. */
export interface NanToNumOptions {
  /** Replaces NaN (default 0). */
  nan?: number;
  /** Replaces +Inf (default the dtype's largest finite value). */
  posinf?: number;
  /** Replaces -Inf (default the dtype's most negative finite value). */
  neginf?: number;
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * x with NaN, +Inf and -Inf replaced (`torch.nan_to_num`): by default 0 and the dtype's largest
 * and most negative finite values. The gradient passes where x is finite and is 0 where a value
 * was replaced, as in PyTorch.
 * An int32 or bool input comes back as a copy of its own dtype.
 * @throws ArgumentError if the input is not a Tensor or a replacement is not a number.
 * @example nanToNum(x, { nan: 0, posinf: 1e6 })
 */
export const nanToNum = primitive('nanToNum', { kind: 'unary' }, function (input: Tensor, options: NanToNumOptions = {}): Tensor {
  checkOptions('nanToNum', options, NAN_TO_NUM_OPTIONS);
  const x = expectTensor('nanToNum', 'input', input);
  const big = x.dtype === 'float32' ? FLOAT32_MAX : Number.MAX_VALUE;
  const { nan = 0, posinf = big, neginf = -big } = options;
  for (const [name, v] of [['nan', nan], ['posinf', posinf], ['neginf', neginf]] as const) {
    if (typeof v !== 'number') throw new ArgumentError(`nanToNum: ${name} must be a number, got ${typeof v} (input ${x.dtype} [${x.shape.join(',')}])`);
  }
  // int32 and bool hold no NaN or infinity: a copy, of their dtype, as PyTorch's.
  if (!isFloat(x)) return constant(x.data.slice(), x.shape);
  const out = allocate(x.dtype, x.size);
  nanToNumKernel(x.data, nan, posinf, neginf, out);
  return makeOutput('nanToNum', out, x.shape, [x], (g) => [where(isFinite(x), g, 0)], READS_X);
});
