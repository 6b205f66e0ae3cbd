import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, DTypeError, ShapeError, Tensor, layerNorm, stack, tensor, unbind, vmap } from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, shapeArb, tensorsArb } from '@chainrule/autograd/testing';
import { grad64 } from './helpers/tensors.js';
import { withBackend } from './helpers/backend.js';
import { layerNormBackward, layerNormForward } from '../src/kernels/layer-norm.js';
import { layerNormBackwardWasm, layerNormForwardWasm } from '../src/kernels/wasm/layer-norm.js';

// layerNorm in one op: against a plain loop of its definition, by gradcheck (the fused backward
// kernel) and gradgradcheck (the gradient in Tensor ops, which createGraph takes) over random
// shapes, and the two backward paths against each other.

/** y by a plain loop: rows of d = size of the trailing normalized axes. */
function reference(x: ArrayLike<number>, d: number, w: ArrayLike<number> | null, b: ArrayLike<number> | null, eps: number): number[] {
  const y: number[] = [];
  for (let o = 0; o < x.length; o += d) {
    const row = Array.from({ length: d }, (_, j) => x[o + j]!);
    const mean = row.reduce((a, v) => a + v, 0) / d;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / d;
    row.forEach((v, j) => y.push(((v - mean) / Math.sqrt(variance + eps)) * (w === null ? 1 : w[j]!) + (b === null ? 0 : b[j]!)));
  }
  return y;
}

/** An input of rank 1-3 normalised over its last 1 or 2 axes, with a weight and bias of those. */
const normInputs = shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 }).chain((shape) =>
  fc.integer({ min: 1, max: Math.min(2, shape.length) }).chain((k) => {
    const tail = shape.slice(shape.length - k);
    return fc.record({ xs: tensorsArb(fc.constant([shape, tail, tail])), k: fc.constant(k), affine: fc.boolean() });
  }),
);
const apply = (k: number, affine: boolean) => (x: Tensor, w: Tensor, b: Tensor): Tensor =>
  layerNorm(x, x.shape.slice(x.ndim - k), affine ? w : null, affine ? b : null);

describe('layerNorm', () => {
  test('forward matches a plain loop of its definition, in float64 and float32', () => {
    fc.assert(
      fc.property(normInputs, ({ xs: [x, w, b], k, affine }) => {
        const d = w!.size;
        const expected = reference(x!.data, d, affine ? w!.data : null, affine ? b!.data : null, 1e-5);
        assertClose(apply(k, affine)(x!, w!, b!).data, expected, 1e-12, 1e-12);
        const y32 = apply(k, affine)(x!.toDtype('float32'), w!.toDtype('float32'), b!.toDtype('float32'));
        expect(y32.dtype).toBe('float32');
        assertClose(y32.data, expected, 1e-4, 1e-5);
      }),
      { numRuns: 40 },
    );
  });

  test('gradients pass gradcheck (fused backward) and gradgradcheck (Tensor-op backward)', () => {
    for (const affine of [true, false]) {
      const inputs = normInputs.filter((c) => c.affine === affine && c.xs[1]!.size > 1).map((c) => ({ ...c, xs: affine ? c.xs : [c.xs[0]!] }));
      checkGradProperty((...xs) => apply(1, affine)(xs[0]!, xs[1] ?? xs[0]!, xs[2] ?? xs[0]!), inputs.filter((c) => c.k === 1).map((c) => c.xs), { numRuns: 15 });
      checkGradProperty((...xs) => apply(2, affine)(xs[0]!, xs[1] ?? xs[0]!, xs[2] ?? xs[0]!), inputs.filter((c) => c.k === 2).map((c) => c.xs), { numRuns: 10 });
      checkGradGradProperty((...xs) => apply(1, affine)(xs[0]!, xs[1] ?? xs[0]!, xs[2] ?? xs[0]!), inputs.filter((c) => c.k === 1).map((c) => c.xs), { numRuns: 8 });
    }
    // The bias alone (no weight).
    checkGradProperty((x, b) => layerNorm(x!, [x!.shape[x!.ndim - 1]!], null, b!), tensorsArb(fc.constantFrom([[3, 4], [4]], [[2, 3], [3]])), { numRuns: 4 });
  });

  test('the fused backward and the Tensor-op backward give the same gradients', () => {
    fc.assert(
      fc.property(normInputs, ({ xs, k, affine }) => {
        const run = (createGraph: boolean): Tensor[] => {
          const [x, w, b] = xs.map((t) => t.detach().requiresGrad_()) as [Tensor, Tensor, Tensor];
          apply(k, affine)(x, w, b).square().sum().backward({ createGraph });
          return affine ? [x.grad!, w.grad!, b.grad!] : [x.grad!];
        };
        const fused = run(false), composed = run(true);
        fused.forEach((g, i) => assertClose(g.data, composed[i]!.data, 1e-10, 1e-12));
      }),
      { numRuns: 20 },
    );
  });

  test('hand-computed: [1, 3] normalises to [-1, 1] (eps 0); a constant row gives the bias', () => {
    assertClose(layerNorm(grad64([1, 3]), 2, null, null, 0).data, [-1, 1], 1e-15);
    assertClose(layerNorm(grad64([[5, 5]]), [2], grad64([2, 3]), grad64([0.5, -1])).data, [0.5, -1], 1e-15);
  });

  test('batches under vmap, with the input batched alone or the weight too', () => {
    const x = tensor([[[1, 2, 4], [0, -1, 3]], [[2, 2, 1], [5, 0, 1]]], { dtype: 'float64' });
    const w = tensor([[1, 2, 3], [0.5, -1, 2]], { dtype: 'float64' });
    const b = tensor([0.1, 0.2, 0.3], { dtype: 'float64' });
    const inputOnly = vmap((a: Tensor) => layerNorm(a, 3, unbind(w, 0)[0]!, b))(x);
    assertClose(inputOnly, stack(unbind(x, 0).map((a) => layerNorm(a, 3, unbind(w, 0)[0]!, b)), 0), 1e-15);
    const both = vmap((a: Tensor, v: Tensor) => layerNorm(a, 3, v, b))(x, w);
    assertClose(both, stack(unbind(x, 0).map((a, i) => layerNorm(a, 3, unbind(w, 0)[i]!, b)), 0), 1e-14);
  });

  test('the WebAssembly kernels give the bits of the TypeScript ones, forward and backward, across staging chunks', () => {
    const value = fc.oneof(fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0, -0, 1e-42, 3));
    const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => Array.from(a).every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i])));
    fc.assert(
      fc.property(
        fc.boolean(), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(),
        fc.array(value, { minLength: 101, maxLength: 101 }), fc.constantFrom(1, 700),
        (f32, rows0, d, hasW, hasB, wantDx, wantDw, pool, scale) => {
          // Some cases of 700 rows span several staging chunks of 256 KiB.
          const rows = rows0 * scale;
          const make = (n: number, from: number) => {
            const values = Array.from({ length: n }, (_, i) => pool[(from + i * 7) % pool.length]!);
            return f32 ? Float32Array.from(values) : Float64Array.from(values);
          };
          const x = make(rows * d, 0), g = make(rows * d, 31), w = hasW ? make(d, 5) : null, b = hasB ? make(d, 9) : null;
          const ts = { y: make(rows * d, 0).fill(0), stats: new Float64Array(2 * rows) };
          const wasm = { y: make(rows * d, 0).fill(7), stats: new Float64Array(2 * rows).fill(7) };
          withBackend('js', () => layerNormForward(x, rows, d, 1e-5, w, b, ts.y, ts.stats));
          expect(layerNormForwardWasm(x, rows, d, 1e-5, w, b, wasm.y, wasm.stats)).toBe(true);
          expect(same(wasm.y, ts.y) && same(wasm.stats, ts.stats)).toBe(true);
          // dw and db are added to what they hold.
          const grads = () => ({ dx: wantDx ? make(rows * d, 0).fill(7) : null, dw: wantDw ? new Float64Array(d).fill(0.5) : null, db: new Float64Array(d).fill(-1) });
          const gt = grads(), gw = grads();
          withBackend('js', () => layerNormBackward(x, g, rows, d, w, ts.stats, gt.dx, gt.dw, gt.db));
          expect(layerNormBackwardWasm(x, g, rows, d, w, ts.stats, gw.dx, gw.dw, gw.db)).toBe(true);
          expect(same(gw.db, gt.db) && (gt.dx === null || same(gw.dx!, gt.dx)) && (gt.dw === null || same(gw.dw!, gt.dw))).toBe(true);
        },
      ),
      { numRuns: 80 },
    );
  });

  test('bad input names the op and the shapes', () => {
    const x = grad64([[1, 2, 3]]);
    expect(() => layerNorm(x, [2])).toThrow(ShapeError);
    expect(() => layerNorm(x, [2])).toThrow(/^layerNorm: input of shape \[1,3\] must end in normalizedShape \[2\]/);
    expect(() => layerNorm(x, 3, grad64([1, 2]))).toThrow(/^layerNorm: weight must have normalizedShape \[3\], got \[2\]/);
    expect(() => layerNorm(x, [1.5])).toThrow(ArgumentError);
    expect(() => layerNorm(x, 3, null, null, -1)).toThrow(/^layerNorm: eps must be a number >= 0, got -1/);
    expect(() => layerNorm(x, 3, tensor([1, 2, 3], { dtype: 'float32' }))).toThrow(DTypeError);
  });
});
