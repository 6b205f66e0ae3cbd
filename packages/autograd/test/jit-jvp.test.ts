import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Tensor, argmax, grad, jacfwd, jit, jvp, linearize, matmul, tensor, vmap } from '@chainrule/autograd';
import { assertClose, seededTensor } from '@chainrule/autograd/testing';
import { f64 } from './helpers/tensors.js';

// jvp inside a jitted function: while jit traces, J·v is taken as the derivative along v of the
// linear map u ↦ Jᵀu (two reverse passes the trace records), so the compiled program computes
// the tangent. Checked against eager jvp and against central differences, at values other than
// the traced ones.
const t = (shape: number[], seed: number): Tensor => seededTensor(shape, seed, { dtype: 'float64', requiresGrad: false }) as Tensor;

describe('jvp inside jit', () => {
  test('jit(x, v ↦ jvp(sin, [x], [v]).tangent) is cos(x)·v at every call', () => {
    const step = jit((x: Tensor, v: Tensor) => jvp((z: Tensor) => z.sin(), [x], [v]).tangent);
    for (const [xs, vs] of [[[1, 2], [0.5, -1]], [[0.1, -3], [2, 1]]] as const) {
      assertClose(step(f64([...xs]), f64([...vs])), f64(xs.map((a, i) => Math.cos(a) * vs[i]!)), 1e-15, 0);
    }
  });

  test('jit of a function calling linearize\'s map', () => {
    const step = jit((x: Tensor, v: Tensor) => linearize((z: Tensor) => z.exp(), x).jvp(v));
    assertClose(step(f64([0, 1]), f64([1, 2])), f64([1, 2 * Math.E]), 1e-15, 0);
  });

  test('several primals and a structured output: the jitted jvp equals eager jvp and central differences', () => {
    const f = (x: Tensor, w: Tensor) => ({ y: matmul(x, w).tanh().exp().mul(x.sum(-1, true)), s: x.square().sum() });
    const step = jit((x: Tensor, w: Tensor, vx: Tensor, vw: Tensor) => jvp(f, [x, w], [vx, vw]));
    fc.assert(
      fc.property(fc.nat(10_000), fc.integer({ min: 1, max: 4 }), (seed, n) => {
        const x = t([n, 3], seed), w = t([3, 4], seed + 1), vx = t([n, 3], seed + 2), vw = t([3, 4], seed + 3);
        const got = step(x, w, vx, vw), want = jvp(f, [x, w], [vx, vw]);
        assertClose(got.output.y, want.output.y, 1e-14, 1e-15);
        assertClose(got.tangent.y, want.tangent.y, 1e-12, 1e-14);
        assertClose(got.tangent.s, want.tangent.s, 1e-12, 1e-14);
        const h = 1e-6;
        const at = (e: number) => f(x.add(vx.mul(e)), w.add(vw.mul(e)));
        assertClose(got.tangent.y, at(h).y.sub(at(-h).y).div(2 * h), 1e-6, 1e-8);
      }),
      { numRuns: 15 },
    );
  });

  test('inside a vmap inside jit, jvp is a clear error naming what works instead; jit(jacfwd) and vmap outside jit work', () => {
    const x = tensor([[0.1, 0.2], [0.3, 0.4]], { dtype: 'float64' });
    const v = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const batchedJvp = (a: Tensor, b: Tensor): Tensor => vmap((p: Tensor, q: Tensor) => jvp((z: Tensor) => z.sin(), [p], [q]).tangent)(a, b);
    expect(() => jit(batchedJvp)(x, v)).toThrow(/^jvp: inside a vmap inside jit \(here a batched float64 \[2\]\).*jit\(jacfwd\(f\)\)/);
    assertClose(batchedJvp(x, v), x.cos().mul(v), 1e-15, 1e-15);
    assertClose(jit((a: Tensor) => vmap(jacfwd((z: Tensor) => z.sin()))(a))(x), vmap(jacfwd((z: Tensor) => z.sin()))(x), 1e-15, 1e-15);
  });

  test('an integer output gets a zero tangent of its dtype, as in forward mode', () => {
    const step = jit((x: Tensor, v: Tensor) => jvp((z: Tensor) => [argmax(z.sin(), 0), z.exp()], [x], [v]).tangent);
    const [ti, tf] = step(f64([0.3, 1.4, -2]), f64([1, 1, 1])) as Tensor[];
    expect(ti!.dtype).toBe('int32');
    expect(Array.from(ti!.data)).toEqual([0]);
    assertClose(tf!, f64([Math.exp(0.3), Math.exp(1.4), Math.exp(-2)]), 1e-15, 0);
  });

  test('grad through a jitted jvp (forward-over-reverse order reversed): d/dx of Σ (cos x · v)', () => {
    const g = grad((x: Tensor) => jit((z: Tensor) => jvp((q: Tensor) => q.sin(), [z], [f64([1, -2])]).tangent.sum())(x));
    assertClose(g(f64([0.4, 1.1])), f64([-Math.sin(0.4), 2 * Math.sin(1.1)]), 1e-15, 0);
  });
});
