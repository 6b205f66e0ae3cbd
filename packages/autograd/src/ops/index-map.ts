import { allocate } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { formatShape, sizeOf, type Shape } from '../shape.js';
import { scatterAddFlat, takeFlat } from '../kernels/layout.js';
import { expectFloat, makeOutput, type Tensor } from '../tensor.js';

/**
 * The primitive behind the ops that move elements without changing them (flip, roll, pad,
 * repeatInterleave, strided slices, tril, diagonal...): element i of the result, of `shape`,
 * is element map[i] of x's flat data, or `fill` (a constant) where map[i] < 0. Its VJP adds each gradient
 * element back to the element it came from; that scatter's own VJP is this take again, so
 * gradients of any order stay on the graph. Both are linear: a tangent moves as the values do.
 */
export function takeByMap(op: string, x: Tensor, map: Int32Array, shape: Shape, fill = 0): Tensor {
  const out = allocate(x.dtype, map.length, op, shape);
  takeFlat(x.data, map, fill, out);
  return makeOutput(op, out, shape, [x], (g) => [scatterByMap(op, g, map, x.shape)], { saves: [[]], jvp: ([t]) => takeByMap(op, t!, map, shape) });
}

/**
 * Throws a ShapeError naming `op` when a result of `shape` has more elements than an index map
 * (Int32Array) addresses: called before a map of that size is built.
 */
export function checkMapSize(op: string, shape: Shape): void {
  const size = sizeOf(shape);
  if (!(size <= 0x7fffffff)) {
    throw new ShapeError(`${op}: the result of shape ${formatShape(shape)} has ${size} elements, more than the 2^31 - 1 this op addresses`);
  }
}

/** The adjoint of takeByMap: zeros of `shape` with g[i] added at map[i]. */
function scatterByMap(op: string, grad: Tensor, map: Int32Array, shape: Shape): Tensor {
  const g = expectFloat(op, grad);
  const out = allocate(g.dtype, sizeOf(shape), op, shape);
  scatterAddFlat(g.data, map, out);
  return makeOutput(`${op}Backward`, out, shape, [g], (gg) => [takeByMap(op, gg, map, g.shape)], { saves: [[]], jvp: ([t]) => scatterByMap(op, t!, map, shape) });
}
