import { allocate } from '../dtype.js';
import { ArgumentError, ShapeError, TraceError } from '../errors.js';
import { broadcastShapes, formatShape, shapesEqual, sizeOf } from '../shape.js';
import { broadcastWhere } from '../kernels/binary.js';
import { expectTensor, isFloat, makeOutput, scalarTensor, Tensor, type TensorLike } from '../tensor.js';
import { operands } from './operands.js';
import { primitive } from '../engine/dispatch.js';
import { isTracing } from '../engine/trace-access.js';
import { nonzero } from './indexing.js';

/**
 * `a` where `condition` is non-zero, else `b`, all broadcast together. The gradient of the
 * branch not taken is exactly zero.
 * NOTE (the "double where" trap, as in PyTorch and JAX): the unselected branch is still
 * computed. If it is NaN or Inf in forward, its own backward can still produce NaN
 * (0 · Inf), because `where` passes a zero gradient into it and the branch multiplies that zero
 * by its Inf derivative. Make the unselected branch safe instead:
 * `where(x.gt(0), x.clamp(1e-12).log(), 0)`, not `where(x.gt(0), x.log(), 0)`.
 * @throws ShapeError if condition, a and b do not broadcast together.
 * @throws DTypeError if one branch is float32 and the other float64. Otherwise branches combine
 * as `add`'s operands do (an int32 with a float gives the float), and two bool branches stay bool;
 * the condition is true where non-zero, of any dtype.
 *
 * With the condition alone, `where(condition)` is `torch.where(condition)`: the indices of its
 * non-zero elements, one 1-D int32 tensor per axis, as `nonzero(condition, { asTuple: true })`.
 * Their length depends on the values, so that form cannot be traced by jit (a `TraceError`) nor
 * batched by vmap (an `ArgumentError`).
 * @throws ArgumentError if only one of a and b is given.
 * @example where(x.gt(0), x, x.mul(0.1)); const [rows, cols] = where(mask)
 */
export const where = primitive('where', { kind: 'elementwise' }, whereImpl);
function whereImpl(condition: Tensor): Tensor[];
function whereImpl(condition: Tensor, a: TensorLike, b: TensorLike): Tensor;
function whereImpl(condition: Tensor, a?: TensorLike, b?: TensorLike): Tensor | Tensor[] {
  const cond = expectTensor('where', 'condition', condition);
  if (a === undefined && b === undefined) {
    if (isTracing()) {
      throw new TraceError(
        `jit: where(condition) with the condition alone (${cond.dtype} ${formatShape(cond.shape)}) gives indices whose length depends on the values, which a traced program cannot have; compute it outside the jitted function, or use where(condition, a, b)`,
      );
    }
    return nonzero(cond, { asTuple: true });
  }
  if (a === undefined || b === undefined) {
    throw new ArgumentError(`where: give both input and other, or neither (got ${a === undefined ? 'other' : 'input'} alone, condition ${cond.dtype} ${formatShape(cond.shape)})`);
  }
  const [x, y] = typeof a === 'number' && typeof b === 'number' ? numberBranches(cond, a, b) : operands('where', a, b, 'any');
  const shape = broadcastAll(cond, x, y);
  const data = allocate(x.dtype, sizeOf(shape), 'where', shape);
  broadcastWhere(cond.data, cond.shape, x.data, x.shape, y.data, y.shape, data, shape);
  const c = cond.detach();
  return makeOutput('where', data, shape, [x, y], (g) => [
    x.requiresGrad ? where(c, g, 0) : null,
    y.requiresGrad ? where(c, 0, g) : null,
  ], {
    saves: [[c], [c]],
    jvp: ([tx, ty], out) => {
      const t = where(c, tx ?? 0, ty ?? 0);
      return shapesEqual(t.shape, out.shape) ? t : t.expand(out.shape);
    },
  });
}

/**
 * Two number branches: the condition's dtype when it is float (so a float mask keeps its
 * width), else int32 for two integers and float32 otherwise, as torch.where(mask, 1, 0) is integer.
 */
function numberBranches(cond: Tensor, a: number, b: number): [Tensor, Tensor] {
  const dtype = isFloat(cond) ? cond.dtype : Number.isInteger(a) && Number.isInteger(b) ? 'int32' : 'float32';
  return [scalarTensor(a, dtype), scalarTensor(b, dtype)];
}

/** The shape all three operands broadcast to; an error names each operand's shape, not a partial result. */
function broadcastAll(cond: Tensor, x: Tensor, y: Tensor): number[] {
  try {
    return broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw new ShapeError(
      `where: condition ${formatShape(cond.shape)}, input ${formatShape(x.shape)} and other ${formatShape(y.shape)} cannot be broadcast together`,
    );
  }
}
