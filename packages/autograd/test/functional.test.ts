import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { grad, hessian, hvp, jacobian, jvp, numericGrad, randn, tensor, Tensor, valueAndGrad, vjp, zeros } from '@chainrule/autograd';
import { shapeArb, tensorArb } from '@chainrule/autograd/testing';
import { f64 } from './helpers/tensors.js';

function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

// A smooth test function of one tensor with a non-trivial Hessian.
const smooth = (x: Tensor): Tensor => x.sin().mul(x.square()).sum().add(x.exp().sum().log());

describe('grad and valueAndGrad', () => {
  test('grad(grad(x³)) is 6x for a scalar x', () => {
    for (const v of [-1.5, 0.3, 2]) {
      const x = tensor(v, { dtype: 'float64' });
      expect(grad(grad((t: Tensor) => t.pow(3).sum()))(x).item()).toBeCloseTo(6 * v, 12);
    }
  });

  test('grad of x³ is 3x² elementwise and leaves the input untouched', () => {
    const x = f64([-1, 0.5, 2]);
    const g = grad((t: Tensor) => t.pow(3).sum())(x);
    expect(Array.from(g.data)).toEqual([3, 0.75, 12]);
    expect(x.grad).toBeNull();
    expect(x.requiresGrad).toBe(false);
    expect(g.requiresGrad).toBe(false);
  });

  test('argnums picks arguments; array arguments give arrays of gradients', () => {
    const a = f64([1, 2]);
    const b = f64([3, 4]);
    const f = (x: Tensor, y: Tensor): Tensor => x.mul(y).sum();
    expect(Array.from(grad(f, { argnums: 1 })(a, b).data)).toEqual([1, 2]);
    const { value, grads } = valueAndGrad(f, { argnums: [0, 1] })(a, b);
    expect(value.item()).toBe(11);
    const [ga, gb] = grads as Tensor[];
    expect(Array.from(ga!.data)).toEqual([3, 4]);
    expect(Array.from(gb!.data)).toEqual([1, 2]);
    const params = [a, b];
    const list = valueAndGrad((ps: readonly Tensor[]) => ps[0]!.square().sum().add(ps[1]!.sum()))(params);
    const [gl0, gl1] = list.grads as Tensor[];
    expect(Array.from(gl0!.data)).toEqual([2, 4]);
    expect(Array.from(gl1!.data)).toEqual([1, 1]);
  });

  test('hasAux passes auxiliary data through', () => {
    const x = f64([2]);
    const { value, grads, aux } = valueAndGrad((t: Tensor): [Tensor, string] => [t.square().sum(), 'note'], { hasAux: true })(x);
    expect(value.item()).toBe(4);
    expect((grads as Tensor).item()).toBe(4);
    expect(aux).toBe('note');
  });

  test('a function that ignores its argument has a zero gradient; non-scalar output is an error', () => {
    const x = f64([1, 2]);
    expect(Array.from(grad((_t: Tensor) => tensor(3, { dtype: 'float64' }))(x).data)).toEqual([0, 0]);
    expect(() => grad((t: Tensor) => t.mul(2))(x)).toThrow(/one-element tensor, got shape \[2\]/);
    expect(() => grad((t: Tensor) => t.sum(), { argnums: 3 })(x)).toThrow(/argnums 3 is out of range/);
  });
});

describe('vjp, jvp, hvp, jacobian, hessian', () => {
  test('<J v, u> = <v, Jᵀ u> for random u, v (jvp against vjp)', () => {
    const f = (x: Tensor): Tensor => x.tanh().matmul(x.transpose()).mul(x.sum(1, true).exp());
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((n) => fc.integer({ min: 1, max: 4 }).map((m) => [n, m])),
        fc.integer({ min: 0, max: 1000 }),
        ([n, m], seed) => {
          const x = randn([n!, m!], { dtype: 'float64', seed });
          const v = randn([n!, m!], { dtype: 'float64', seed: seed + 1 });
          const u = randn([n!, n!], { dtype: 'float64', seed: seed + 2 });
          const { tangent } = jvp(f, [x], [v]);
          const [jtu] = vjp(f, x).pullback(u);
          expect(Math.abs(dot(tangent, u) - dot(v, jtu!))).toBeLessThan(1e-10 * (1 + Math.abs(dot(tangent, u))));
        },
      ),
      { numRuns: 25 },
    );
  });

  test('vjp returns the output, and its pullback can run twice', () => {
    const x = f64([0.5, -1]);
    const { output, pullback } = vjp((t: Tensor) => t.sin(), x);
    expect(Array.from(output.data)).toEqual([Math.sin(0.5), Math.sin(-1)]);
    const once = pullback(f64([1, 1]));
    const twice = pullback(f64([2, 0]));
    expect(Array.from(once[0]!.data)).toEqual([Math.cos(0.5), Math.cos(-1)]);
    expect(Array.from(twice[0]!.data)).toEqual([2 * Math.cos(0.5), 0]);
  });

  test('hvp and hessian agree with finite differences of grad on random smooth functions', () => {
    fc.assert(
      fc.property(shapeArb({ minRank: 1, maxRank: 2, maxDim: 3 }).chain((s) => fc.tuple(tensorArb(s, { requiresGrad: false }), tensorArb(s, { requiresGrad: false }))), ([x, v]) => {
        const g = (t: Tensor): Tensor => grad(smooth)(t);
        // d/dε ∇f(x + εv) at 0, by central differences of the analytic gradient.
        const numeric = numericGrad((t: Tensor) => g(t).mul(v).sum(), [x])[0]!; // = H v (H symmetric)
        const analytic = hvp(smooth, [x], [v]).hvp[0]!;
        for (let i = 0; i < x.size; i++) expect(Math.abs(analytic.data[i]! - numeric.data[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(numeric.data[i]!)));
        const H = hessian(smooth)(x);
        expect(H.shape).toEqual([...x.shape, ...x.shape]);
        const Hv = H.reshape([x.size, x.size]).matmul(v.reshape([x.size]));
        for (let i = 0; i < x.size; i++) expect(Hv.data[i]!).toBeCloseTo(analytic.data[i]!, 10);
      }),
      { numRuns: 15 },
    );
  });

  test('hessian of x³ summed is diag(6x); jacobian of softmax is diag(s) - s sᵀ', () => {
    const x = f64([0.5, -2, 1]);
    const H = hessian((t: Tensor) => t.pow(3).sum())(x).toArray() as number[][];
    H.forEach((row, i) => row.forEach((h, j) => expect(h).toBeCloseTo(i === j ? 6 * x.data[i]! : 0, 12)));
    const J = jacobian((t: Tensor) => t.softmax())(x).toArray() as number[][];
    const e = Array.from(x.data, Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    const s = e.map((v) => v / z);
    J.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo((i === j ? s[i]! : 0) - s[i]! * s[j]!, 12)));
  });

  test('jvp of a function that does not depend on its input is zero', () => {
    const x = f64([1, 2]);
    const { tangent } = jvp(() => zeros([3], { dtype: 'float64' }), [x], [f64([1, 1])]);
    expect(Array.from(tangent.data)).toEqual([0, 0, 0]);
  });
});
