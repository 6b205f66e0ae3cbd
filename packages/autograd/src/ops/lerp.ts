import { ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, shapesEqual } from '../shape.js';
import { noGrad } from '../engine/grad-mode.js';
import { expectTensor, makeOutput, scalarTensor, type FloatTensor, type OutputOptions, type Tensor, type TensorLike } from '../tensor.js';
import { promoteAll } from './operands.js';
import { where } from './where.js';
import { primitive } from '../engine/dispatch.js';

/**
 * Linear interpolation `start + weight·(end - start)`, all three broadcast together
 * (`torch.lerp`). As PyTorch, a weight of 0.5 or more is computed from the end,
 * `end - (end - start)·(1 - weight)`, so weight 1 gives `end` exactly. Gradients: 1 - weight to
 * start, weight to end, end - start to a tensor weight.
 * @throws ShapeError if the three shapes do not broadcast together.
 * @throws DTypeError if float32 meets float64 (int32 and bool operands take the float's dtype, float32 among themselves).
 * @example lerp(a, b, 0.25)
 */
export const lerp = primitive('lerp', { kind: 'elementwise' }, function (start: Tensor, end: Tensor, weight: TensorLike): Tensor {
  const given = [expectTensor('lerp', 'input', start), expectTensor('lerp', 'end', end)];
  if (typeof weight !== 'number') given.push(expectTensor('lerp', 'weight', weight));
  const [a, b, w0] = promoteAll('lerp', given, 'float') as [FloatTensor, FloatTensor, FloatTensor?];
  const w = w0 ?? scalarTensor(weight as number, a.dtype);
  let shape: number[];
  try {
    shape = broadcastShapes('lerp', broadcastShapes('lerp', a.shape, b.shape), w.shape);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw new ShapeError(`lerp: input ${formatShape(a.shape)}, end ${formatShape(b.shape)} and weight ${formatShape(w.shape)} cannot be broadcast together`);
  }
  // where() allocates its result, so the data below is this op's own.
  // On detached operands: these ops' tangents would be thrown away with their graph.
  const data = noGrad(() => {
    const [a0, b0, w1] = [a.detach(), b.detach(), w.detach()];
    const diff = b0.sub(a0);
    return where(w1.lt(0.5), a0.add(w1.mul(diff)), b0.sub(diff.mul(w1.neg().add(1)))).expand(shape).data;
  });
  return makeOutput('lerp', data, shape, [a, b, w], (g) => [
    a.requiresGrad ? g.mul(w.neg().add(1)) : null,
    b.requiresGrad ? g.mul(w) : null,
    w.requiresGrad ? g.mul(b.sub(a)) : null,
  ], LERP);
});

/** What the VJP reads, and the JVP ȧ·(1 - w) + ḃ·w + ẇ·(b - a), broadcast to the output. */
const LERP: OutputOptions = {
  saves: [[2], [2], [0, 1]],
  jvp: ([ta, tb, tw], out, [a, b, w]) => {
    const terms: Tensor[] = [];
    if (ta !== null && ta !== undefined) terms.push(ta.mul(w!.neg().add(1)));
    if (tb !== null && tb !== undefined) terms.push(tb.mul(w!));
    if (tw !== null && tw !== undefined) terms.push(tw.mul(b!.sub(a!)));
    const sum = terms.reduce((acc, t) => acc.add(t));
    return shapesEqual(sum.shape, out.shape) ? sum : sum.expand(out.shape);
  },
};
