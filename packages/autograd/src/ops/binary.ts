import { allocate, allocateUnset } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { broadcastShapes, formatShape, shapesEqual, sizeOf, type Shape } from '../shape.js';
import { broadcastBinary, type BinaryKind } from '../kernels/binary.js';
import { integerBinary, type IntegerBinaryKind } from '../kernels/integer.js';
import { broadcastCopy } from '../kernels/layout.js';
import { constant, isFloat, makeOutput, recordsNothing, Tensor, type OutputOptions, type TensorLike, type VJP } from '../tensor.js';
import type { JvpRule } from '../engine/forward.js';
import { expand } from './shape.js';
import { floatOperands, operands } from './operands.js';
import { where } from './where.js';
import { zerosLike } from '../creation.js';
import { primitive } from '../engine/dispatch.js';

/**
 * An elementwise op of two broadcast operands: g·∂out/∂x and g·∂out/∂y for a g of the output's
 * shape (x, y and out as the op saw them). Its VJP applies them to the output's gradient, for the
 * operands that require grad; its JVP applies them to the tangents, broadcast, and adds them: one
 * derivative serves both modes. `y` is null for an operand with no gradient.
 */
interface Partials {
  readonly x: (g: Tensor, x: Tensor, y: Tensor, out: Tensor) => Tensor;
  readonly y: ((g: Tensor, x: Tensor, y: Tensor, out: Tensor) => Tensor) | null;
}

/** An op's partials with its `saves` (one list per operand) and the VJP and JVP they give, built once. */
interface BinaryRule extends OutputOptions {
  readonly vjp: VJP;
}

function binaryRule(partials: Partials, saves: NonNullable<OutputOptions['saves']> | undefined): BinaryRule {
  const jvp: JvpRule = ([tx, ty], out, [x, y]) => {
    let sum: Tensor | null = null;
    if (tx !== null && tx !== undefined) sum = partials.x(widen(tx, out.shape), x!, y!, out);
    if (ty !== null && ty !== undefined && partials.y !== null) {
      const term = partials.y(widen(ty, out.shape), x!, y!, out);
      sum = sum === null ? term : sum.add(term);
    }
    return sum === null || shapesEqual(sum.shape, out.shape) ? sum : expand(sum, out.shape);
  };
  // One function per op, reading the operands from the node: no closure per call.
  const vjp: VJP = (g, out, inputs) => {
    const x = inputs[0]!;
    const y = inputs[1]!;
    return [x.requiresGrad ? partials.x(g, x, y, out) : null, y.requiresGrad && partials.y !== null ? partials.y(g, x, y, out) : null];
  };
  return saves === undefined ? { vjp, jvp } : { vjp, saves, jvp };
}

/** A tangent at an operand's shape, at the output's broadcast shape. */
function widen(t: Tensor, shape: Shape): Tensor {
  return shapesEqual(t.shape, shape) ? t : expand(t, shape);
}

/** The output of a two-operand elementwise op, its VJP and JVP from `rule`. */
function binaryOutput(op: string, data: Tensor['data'], shape: Shape, x: Tensor, y: Tensor, rule: BinaryRule): Tensor {
  if (recordsNothing(x, y)) return constant(data, shape);
  return makeOutput(op, data, shape, [x, y], rule.vjp, rule);
}

// Each op's derivatives, with what they read (makeOutput's `saves`: one list per operand).
const ADD = binaryRule({ x: (g) => g, y: (g) => g }, [[], []]);
const SUB = binaryRule({ x: (g) => g, y: (g) => g.neg() }, [[], []]);
const MUL = binaryRule({ x: (g, _x, y) => g.mul(y), y: (g, x) => g.mul(x) }, [[1], [0]]);
// d(x/y)/dy = -(x/y)/y
const DIV = binaryRule({ x: (g, _x, y) => g.div(y), y: (g, _x, y, out) => g.mul(out).div(y).neg() }, [[1], [1, 'output']]);
// A number exponent p (y, a 0-d tensor, holds it): the base's derivative only.
const POW_NUMBER: OutputOptions = {
  saves: [[0], []],
  jvp: ([tx], _out, [x, y]) => {
    const p = y!.item();
    return tx === null || tx === undefined || p === 0 ? null : tx.mul(x!.pow(p - 1).mul(p));
  },
};
const POW = binaryRule({
  // Where b = 0 the base gradient is 0, not 0·0^(-1) = NaN at a = 0 (PyTorch's rule, and the number path's).
  x: (g, x, y) => where(y.eq(0), 0, g.mul(y).mul(x.pow(y.sub(1)))),
  y: (g, x, y, out) => g.mul(where(x.eq(0).mul(y.ge(0)), 0, out.mul(x.log()))),
}, [[0, 1], [0, 1, 'output']]);
/**
 * Gradient routing for maximum/minimum (PyTorch's rule): each side gets the whole gradient
 * unless it strictly loses, half on a tie. Where an operand is NaN neither side loses or ties,
 * so both get it, as in PyTorch.
 */
function extremumRule(op: 'maximum' | 'minimum'): BinaryRule {
  const shared = (g: Tensor, x: Tensor, y: Tensor): Tensor => where(x.eq(y), g.mul(0.5), g);
  return binaryRule({
    x: (g, x, y) => where(op === 'maximum' ? x.lt(y) : x.gt(y), 0, shared(g, x, y)),
    y: (g, x, y) => where(op === 'maximum' ? x.gt(y) : x.lt(y), 0, shared(g, x, y)),
  }, [[0, 1], [0, 1]]);
}
const MAXIMUM = extremumRule('maximum');
const MINIMUM = extremumRule('minimum');
const ATAN2 = binaryRule({
  x: (g, x, y) => g.mul(y).mul(x.square().add(y.square()).reciprocal()),
  y: (g, x, y) => g.mul(x.neg()).mul(x.square().add(y.square()).reciprocal()),
}, [[0, 1], [0, 1]]);
const HYPOT = binaryRule({ x: (g, x, _y, h) => g.mul(x).div(h), y: (g, _x, y, h) => g.mul(y).div(h) }, undefined);
const LOGADDEXP = binaryRule({
  x: (g, x, y) => g.div(y.sub(x).exp().add(1)),
  y: (g, x, y) => g.div(x.sub(y).exp().add(1)),
}, undefined);
const XLOGY = binaryRule({
  x: (g, x, y) => where(x.eq(0).mul(y.le(0)), 0, xlogy(g, y)),
  y: (g, x, y) => g.mul(x).div(y),
}, undefined);
const COPYSIGN = binaryRule({ x: (g, x, _y, out) => g.mul(where(x.eq(0), 0, out.div(x))), y: (g) => zerosLike(g) }, undefined);
const FMOD = binaryRule({ x: (g) => g, y: (g, x, y) => g.mul(x.div(y).trunc()).neg() }, undefined);
const REMAINDER = binaryRule({ x: (g) => g, y: (g, x, y) => g.mul(floorDivide(x, y)).neg() }, undefined);

/**
 * Runs a broadcasting binary kernel on operands of one dtype (see `operands`); the result has no
 * graph yet. int32 operands run the integer kernels, which only the ops of IntegerBinaryKind reach.
 */
export function binaryForward(op: string, kind: BinaryKind, a: Tensor, b: Tensor): { data: Tensor['data']; shape: Shape } {
  // Where the result has an operand's shape (the same shapes, or a 0-d operand such as a number)
  // it shares that operand's array, as a unary op's result shares its input's: shapes are never
  // written.
  const shape = b.shape.length === 0 || shapesEqual(a.shape, b.shape) ? a.shape : a.shape.length === 0 ? b.shape : broadcastShapes(op, a.shape, b.shape);
  if (isFloat(a) && isFloat(b)) {
    // The kernel writes every element.
    const data = allocateUnset(a.dtype, sizeOf(shape), op, shape);
    broadcastBinary(kind, a.data, a.shape, b.data, b.shape, data, shape);
    return { data, shape };
  }
  return { data: integerForward(op, kind as IntegerBinaryKind, a, b, shape), shape };
}

function integerForward(op: string, kind: IntegerBinaryKind, a: Tensor, b: Tensor, shape: Shape): Int32Array {
  const x = broadcastInt(a, shape);
  const y = broadcastInt(b, shape);
  const out = allocate('int32', sizeOf(shape), op, shape);
  const at = integerBinary(kind, x, y, out);
  if (at >= 0) {
    const what = kind === 'pow' ? `a negative exponent (${y[at]})` : 'integer division by zero';
    throw new ArgumentError(
      `${op}: ${what} at element ${at} of the result (${x[at]} and ${y[at]}), int32 operands of shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}; convert to float with toDtype() for a float result`,
    );
  }
  return out;
}

/** An int32 operand's elements broadcast to `shape`. */
function broadcastInt(t: Tensor, shape: Shape): Int32Array {
  if (!(t.data instanceof Int32Array)) throw new Error(`internal: integer kernel given ${t.dtype}`);
  if (shapesEqual(t.shape, shape)) return t.data;
  const out = new Int32Array(sizeOf(shape));
  broadcastCopy(t.data, t.shape, out, shape);
  return out;
}

/**
 * Elementwise `a + b` with broadcasting.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example add(x, 1)
 */
export const add = primitive('add', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('add', a, b);
  const { data, shape } = binaryForward('add', 'add', x, y);
  return binaryOutput('add', data, shape, x, y, ADD);
});

/**
 * Elementwise `a - b` with broadcasting.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example sub(x, y)
 */
export const sub = primitive('sub', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('sub', a, b);
  const { data, shape } = binaryForward('sub', 'sub', x, y);
  return binaryOutput('sub', data, shape, x, y, SUB);
});

/**
 * Elementwise `a * b` with broadcasting.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example mul(x, 2)
 */
export const mul = primitive('mul', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('mul', a, b);
  const { data, shape } = binaryForward('mul', 'mul', x, y);
  return binaryOutput('mul', data, shape, x, y, MUL);
});

/**
 * Elementwise `a / b` with broadcasting.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example div(x, y)
 */
export const div = primitive('div', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = floatOperands('div', a, b);
  const { data, shape } = binaryForward('div', 'div', x, y);
  return binaryOutput('div', data, shape, x, y, DIV);
});

/**
 * Elementwise `a ** b` with broadcasting. A number exponent takes a path without the
 * exponent's gradient. As in PyTorch, the exponent's gradient is 0 where a = 0 and b ≥ 0.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example pow(x, 3)
 */
export const pow = primitive('pow', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('pow', a, b);
  const { data, shape } = binaryForward('pow', 'pow', x, y);
  if (typeof b === 'number') {
    const p = b;
    return makeOutput('pow', data, shape, [x, y], (g) => [
      // x⁰ is constant: zeros, as PyTorch, not g·0 (which is NaN where g is ±Inf or NaN).
      x.requiresGrad ? (p === 0 ? zerosLike(x) : g.mul(x.pow(p - 1).mul(p))) : null,
      null,
    ], POW_NUMBER);
  }
  return binaryOutput('pow', data, shape, x, y, POW);
});

/** maximum or minimum, its gradient routed as `extremumRule` says. */
function extremum(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(op, a, b);
  const { data, shape } = binaryForward(op, op, x, y);
  return binaryOutput(op, data, shape, x, y, op === 'maximum' ? MAXIMUM : MINIMUM);
}

/**
 * Elementwise `atan2(a, b)`, the angle of the point (b, a) in [-π, π], with broadcasting, as
 * `torch.atan2`. Gradients b/(a² + b²) and -a/(a² + b²), in PyTorch's form (NaN at (0, 0),
 * as PyTorch).
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example atan2(y, x)
 */
export const atan2 = primitive('atan2', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = floatOperands('atan2', a, b);
  const { data, shape } = binaryForward('atan2', 'atan2', x, y);
  return binaryOutput('atan2', data, shape, x, y, ATAN2);
});

/**
 * Elementwise `√(a² + b²)` without overflow or underflow in the squares, with broadcasting, as
 * torch.hypot (Infinity if either is infinite, even beside NaN). Gradients a/h and b/h, PyTorch's
 * form (NaN at (0, 0), as PyTorch).
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example hypot(x, y)
 */
export const hypot = primitive('hypot', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = floatOperands('hypot', a, b);
  const { data, shape } = binaryForward('hypot', 'hypot', x, y);
  return binaryOutput('hypot', data, shape, x, y, HYPOT);
});

/**
 * Elementwise `log(e^a + e^b)`, computed as max(a, b) + log1p(e^-|a - b|) as PyTorch does, so it
 * never overflows (logaddexp(-Infinity, -Infinity) = -Infinity). Gradients 1/(1 + e^(b - a)) and
 * 1/(1 + e^(a - b)), PyTorch's form.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example logaddexp(logP, logQ)
 */
export const logaddexp = primitive('logaddexp', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = floatOperands('logaddexp', a, b);
  const { data, shape } = binaryForward('logaddexp', 'logaddexp', x, y);
  return binaryOutput('logaddexp', data, shape, x, y, LOGADDEXP);
});

/**
 * Elementwise `a·log(b)`, 0 where a = 0 (whatever b, even 0 or Infinity) except NaN where b is NaN,
 * as torch.xlogy. Gradients xlogy(g, b), i.e. log b (0 where a = 0 and b ≤ 0, where the forward is
 * constant), and a/b: PyTorch's forms.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example xlogy(p, q)
 */
export const xlogy = primitive('xlogy', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = floatOperands('xlogy', a, b);
  const { data, shape } = binaryForward('xlogy', 'xlogy', x, y);
  return binaryOutput('xlogy', data, shape, x, y, XLOGY);
});

/**
 * Elementwise magnitude of a with the sign of b (-0 counts as negative; a NaN in b reads as
 * positive), as torch.copysign. Gradient to a: copysign(a, b)/a, 0 where a = 0 (PyTorch's form,
 * so NaN where a is infinite, as PyTorch); to b: zero.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example copysign(x, s)
 */
export const copysign = primitive('copysign', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = floatOperands('copysign', a, b);
  const { data, shape } = binaryForward('copysign', 'copysign', x, y);
  return binaryOutput('copysign', data, shape, x, y, COPYSIGN);
});

/**
 * Elementwise C fmod: `a - trunc(a/b)·b` computed exactly, with the sign of a (the dividend), as
 * torch.fmod; NaN where b = 0 or a is infinite. Gradients 1 and -trunc(a/b), PyTorch's form.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example fmod(x, 2)
 */
export const fmod = primitive('fmod', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('fmod', a, b);
  const { data, shape } = binaryForward('fmod', 'fmod', x, y);
  return binaryOutput('fmod', data, shape, x, y, FMOD);
});

/**
 * a // b as PyTorch (and Python) compute it: (a - fmod(a, b))/b, one less where fmod was moved into
 * b's sign, made integral; a/b where b = 0, NaN where a is infinite. Remainder's gradient reads it.
 */
function floorDivide(x: Tensor, y: Tensor): Tensor {
  const m = fmod(x, y);
  const moved = m.ne(0).mul(m.lt(0).ne(y.lt(0)));
  return where(y.eq(0), x.div(y), x.sub(m).div(y).sub(moved).round());
}

/**
 * Elementwise Python-style modulo `a - floor(a/b)·b`, with the sign of b (the divisor), as
 * torch.remainder; NaN where b = 0. Gradients 1 and -(a // b), PyTorch's form and floor division
 * (NaN where a is infinite).
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example remainder(x, 2)
 */
export const remainder = primitive('remainder', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('remainder', a, b);
  const { data, shape } = binaryForward('remainder', 'remainder', x, y);
  return binaryOutput('remainder', data, shape, x, y, REMAINDER);
});

/**
 * Elementwise maximum; ties split the gradient evenly.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example maximum(x, 0)
 */
export const maximum = primitive('maximum', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  return extremum('maximum', a, b);
});

/**
 * Elementwise minimum; ties split the gradient evenly.
 * @throws ShapeError if the shapes do not broadcast (NumPy rules), naming both.
 * @throws DTypeError if float32 meets float64 (PyTorch would promote); a number takes the tensor's dtype.
 * @example minimum(x, y)
 */
export const minimum = primitive('minimum', { kind: 'binary' }, function (a: TensorLike, b: TensorLike): Tensor {
  return extremum('minimum', a, b);
});
