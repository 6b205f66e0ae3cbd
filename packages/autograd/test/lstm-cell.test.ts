import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { DTypeError, ShapeError, Tensor, grad, lstmCell, stack, tensor, unbind, vmap } from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, shapeArb, tensorsArb } from '@chainrule/autograd/testing';
import { grad64 } from './helpers/tensors.js';

// lstmCell is the LSTM's pointwise part in one op: checked against a plain loop of its
// definition, by gradcheck (the fused backward kernel) and gradgradcheck (the gradient in Tensor
// ops, which createGraph takes) over random shapes, and the two backward paths against each other.

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** [h', c'] by a plain loop over rows of gates [rows, 4H] (i, f, g, o) and c [rows, H]. */
function reference(gates: ArrayLike<number>, c: ArrayLike<number>, hidden: number): [number[], number[]] {
  const h: number[] = [], cNew: number[] = [];
  for (let r = 0; r < c.length / hidden; r++) {
    for (let j = 0; j < hidden; j++) {
      const at = (k: number) => gates[4 * hidden * r + k * hidden + j]!;
      const cv = sig(at(1)) * c[r * hidden + j]! + sig(at(0)) * Math.tanh(at(2));
      cNew.push(cv);
      h.push(sig(at(3)) * Math.tanh(cv));
    }
  }
  return [h, cNew];
}

/** Shapes [..., 4H] and [..., H]: leading axes of rank 0-2, H in 1-3. */
const cellShapes = fc.tuple(shapeArb({ minRank: 0, maxRank: 2, maxDim: 3 }), fc.integer({ min: 1, max: 3 })).map(([lead, h]) => [[...lead, 4 * h], [...lead, h]]);
const cellInputs = tensorsArb(cellShapes, { min: -3, max: 3 });
/** h' and c' in one output, so gradcheck sees both (with random cotangents on each). */
const both = (z: Tensor, c: Tensor): Tensor => stack(lstmCell(z, c), 0);

describe('lstmCell', () => {
  test('forward matches a plain loop of its definition, in float64 and float32', () => {
    fc.assert(
      fc.property(cellInputs, ([z, c]) => {
        const hidden = c!.shape[c!.ndim - 1]!;
        const [h, cNew] = reference(z!.data, c!.data, hidden);
        const [h1, c1] = lstmCell(z!, c!);
        expect(h1.shape).toEqual(c!.shape);
        assertClose(h1.data, h, 1e-14, 1e-15);
        assertClose(c1.data, cNew, 1e-14, 1e-15);
        const [h32, c32] = lstmCell(z!.toDtype('float32'), c!.toDtype('float32'));
        expect(h32.dtype).toBe('float32');
        assertClose(h32.data, h, 1e-5, 1e-6);
        assertClose(c32.data, cNew, 1e-5, 1e-6);
      }),
      { numRuns: 40 },
    );
  });

  test('gradients pass gradcheck (fused backward) and gradgradcheck (Tensor-op backward)', () => {
    checkGradProperty((z, c) => both(z!, c!), cellInputs, { numRuns: 25 });
    checkGradProperty((z, c) => lstmCell(z!, c!)[0], cellInputs, { numRuns: 10 });
    checkGradProperty((z, c) => lstmCell(z!, c!)[1], cellInputs, { numRuns: 10 });
    checkGradGradProperty((z, c) => both(z!, c!), cellInputs, { numRuns: 10 });
  });

  test('the fused backward and the Tensor-op backward give the same gradients', () => {
    fc.assert(
      fc.property(cellInputs, ([z0, c0]) => {
        const run = (createGraph: boolean): [Tensor, Tensor] => {
          const z = z0!.detach().requiresGrad_(), c = c0!.detach().requiresGrad_();
          const [h, cNew] = lstmCell(z, c);
          h.mul(h).add(cNew.mul(3)).sum().backward({ createGraph });
          return [z.grad!, c.grad!];
        };
        const [fz, fc1] = run(false);
        const [gz, gc] = run(true);
        assertClose(fz.data, gz.data, 1e-13, 1e-15);
        assertClose(fc1.data, gc.data, 1e-13, 1e-15);
      }),
      { numRuns: 20 },
    );
  });

  test('hand-computed: zero gates halve c; the gradient of c\' in c is σ(f) = 1/2', () => {
    const z = grad64([0, 0, 0, 0]), c = grad64([2]);
    const [h, cNew] = lstmCell(z, c);
    expect(cNew.item()).toBe(1);
    expect(h.item()).toBeCloseTo(Math.tanh(1) / 2, 15);
    cNew.backward();
    // d c'/d z = [σ'(0)·tanh(0), σ'(0)·c, σ(0)·(1 - tanh²0), 0] = [0, 0.5, 0.5, 0].
    assertClose(z.grad!.data, [0, 0.5, 0.5, 0], 1e-15);
    assertClose(c.grad!.data, [0.5], 1e-15);
  });

  test('batches under vmap and differentiates inside grad', () => {
    const z = tensor([[[0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8]], [[1, 2, -1, 0, 0.5, 0.5, -2, 1]]], { dtype: 'float64' });
    const c = tensor([[[0.3, -0.4]], [[1, 2]]], { dtype: 'float64' });
    const batched = vmap((a: Tensor, b: Tensor) => lstmCell(a, b)[0])(z, c);
    const each = stack(unbind(z, 0).map((a, i) => lstmCell(a, unbind(c, 0)[i]!)[0]), 0);
    assertClose(batched, each, 1e-15);
    const g = grad((a: Tensor) => lstmCell(a, c)[0].sum())(z);
    expect(g.shape).toEqual(z.shape);
  });

  test('bad input names the op, the shapes and dtypes', () => {
    const z = grad64([[1, 2, 3, 4, 5, 6, 7, 8]]);
    expect(() => lstmCell(z, grad64([[1, 2, 3]]))).toThrow(ShapeError);
    expect(() => lstmCell(z, grad64([[1, 2, 3]]))).toThrow(/^lstmCell: gates must be \[\.\.\., 4H\] and c \[\.\.\., H\] with the same leading axes; got gates \[1,8\] and c \[1,3\]/);
    expect(() => lstmCell(z, grad64([[1, 2], [3, 4]]))).toThrow(/got gates \[1,8\] and c \[2,2\]/);
    expect(() => lstmCell(z, tensor(0, { dtype: 'float64' }))).toThrow(ShapeError);
    expect(() => lstmCell(z, tensor([[1, 2]], { dtype: 'float32' }))).toThrow(DTypeError);
    expect(() => lstmCell(z, tensor([[1, 2]], { dtype: 'float32' }))).toThrow(/lstmCell/);
  });
});
