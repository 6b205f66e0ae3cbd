import { describe, expect, expectTypeOf, test } from 'vitest';
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

describe('transforms of functions closing over tensors an outer transform tracks', () => {
  // The inner transform's result is a function of the closed-over w, so the outer gradient flows
  // through it (torch.func and JAX alike); checked against finite differences of the outer function.
  test('grad of a sum of an inner grad, vjp, hvp and jacobian, by property', () => {
    fc.assert(
      fc.property(shapeArb({ maxRank: 2, maxDim: 3 }).chain((shape) => fc.tuple(tensorArb(shape, { requiresGrad: false }), tensorArb(shape, { requiresGrad: false }))), ([x0, w0]) => {
        const inners: ((w: Tensor) => Tensor)[] = [
          (w) => grad((x: Tensor) => x.mul(w).tanh().sum())(x0).sum(),
          (w) => valueAndGrad((x: Tensor) => x.mul(w).sin().sum())(x0).value,
          (w) => vjp((x: Tensor) => x.mul(w).exp(), x0).pullback(x0)[0].sum(),
          (w) => hvp((x: Tensor) => x.mul(w).pow(3).sum(), [x0], [x0]).hvp[0].sum(),
          (w) => jacobian((x: Tensor) => x.mul(w).sinh())(x0).sum(),
        ];
        for (const outer of inners) {
          const analytic = grad(outer)(w0);
          const numeric = numericGrad(outer, [w0])[0]!;
          expect(Math.max(...Array.from(analytic.data, (v, i) => Math.abs(v - numeric.data[i]!)))).toBeLessThan(1e-6 * (1 + Math.max(...Array.from(numeric.data, Math.abs))));
        }
      }),
      { numRuns: 20 },
    );
  });

  test('with nothing tracked outside, results stay off the graph', () => {
    const w = f64([1, 2]);
    const g = grad((x: Tensor) => x.mul(w).sum())(f64([3, 4]));
    expect(g.requiresGrad).toBe(false);
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

describe('transforms over structures of tensors', () => {
  // A two-layer network whose parameters are one dictionary, with an optional (null) bias.
  type Params = { layers: { w: Tensor; b: Tensor | null }[]; scale: Tensor };
  const net = (p: Params, x: Tensor): Tensor => {
    let h = x;
    for (const { w, b } of p.layers) {
      h = h.matmul(w);
      if (b !== null) h = h.add(b);
      h = h.tanh();
    }
    return h.mul(p.scale).square().mean();
  };
  const makeParams = (seed: number): Params => ({
    layers: [
      { w: randn([3, 4], { dtype: 'float64', seed }), b: randn([4], { dtype: 'float64', seed: seed + 1 }) },
      { w: randn([4, 2], { dtype: 'float64', seed: seed + 2 }), b: null },
    ],
    scale: randn([], { dtype: 'float64', seed: seed + 3 }),
  });

  test('grad of a parameter dictionary equals backward() into .grad, in the same structure, with null kept', () => {
    const p = makeParams(1);
    const x = randn([5, 3], { dtype: 'float64', seed: 9 });
    const g = grad(net)(p, x);
    // The reference: the engine's own accumulation into leaves marked requiresGrad.
    const leaves = [p.layers[0]!.w, p.layers[0]!.b!, p.layers[1]!.w, p.scale].map((t) => new Tensor(t.data, t.shape, { requiresGrad: true }));
    net({ layers: [{ w: leaves[0]!, b: leaves[1]! }, { w: leaves[2]!, b: null }], scale: leaves[3]! }, x).backward();
    expect(Array.from(g.layers[0]!.w.data)).toEqual(Array.from(leaves[0]!.grad!.data));
    expect(Array.from(g.layers[0]!.b!.data)).toEqual(Array.from(leaves[1]!.grad!.data));
    expect(Array.from(g.layers[1]!.w.data)).toEqual(Array.from(leaves[2]!.grad!.data));
    expect(g.layers[1]!.b).toBeNull();
    expect(g.scale.item()).toBe(leaves[3]!.grad!.item());
    expect(p.layers[0]!.w.requiresGrad).toBe(false);
  });

  test('property: grad of a dictionary agrees with central differences', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (seed) => {
        const p = makeParams(seed);
        const x = randn([2, 3], { dtype: 'float64', seed: seed + 7 });
        const g = grad(net)(p, x);
        const flat = [p.layers[0]!.w, p.layers[0]!.b!, p.layers[1]!.w, p.scale];
        const numeric = numericGrad((a, b, c, d) => net({ layers: [{ w: a, b }, { w: c, b: null }], scale: d }, x), flat);
        const analytic = [g.layers[0]!.w, g.layers[0]!.b!, g.layers[1]!.w, g.scale];
        analytic.forEach((a, k) => a.data.forEach((v, i) => expect(Math.abs(v - numeric[k]!.data[i]!)).toBeLessThan(1e-7 * (1 + Math.abs(v)))));
      }),
      { numRuns: 10 },
    );
  });

  test('valueAndGrad with a list of argnums returns a tuple of structures; hasAux passes aux through', () => {
    const p = { a: f64([1, 2]), b: [f64([3])] };
    const x = f64([5, 7]);
    const f = (q: typeof p, y: Tensor): [Tensor, string] => [q.a.mul(y).sum().add(q.b[0]!.square().sum()), 'aux'];
    const { value, grads, aux } = valueAndGrad(f, { argnums: [0, 1], hasAux: true })(p, x);
    expect(value.item()).toBe(5 + 14 + 9);
    expect(aux).toBe('aux');
    const [gp, gx] = grads;
    expect(Array.from(gp.a.data)).toEqual([5, 7]);
    expect(Array.from(gp.b[0]!.data)).toEqual([6]);
    expect(Array.from(gx.data)).toEqual([1, 2]);
  });

  test('a tensor passed twice gets one gradient per position (as JAX), nested or not', () => {
    const f = (x: Tensor, y: Tensor): Tensor => x.mul(y.square()).sum();
    const x = f64([2, 3]);
    const [g0, g1] = grad(f, { argnums: [0, 1] })(x, x);
    expect(Array.from(g0.data)).toEqual([4, 9]); // y²
    expect(Array.from(g1.data)).toEqual([8, 18]); // 2xy
    // Inside another transform the same argument requires grad; positions still count apart.
    const outer = grad((z: Tensor) => grad(f, { argnums: 0 })(z, z).sum())(x);
    expect(Array.from(outer.data)).toEqual([4, 6]); // d/dz Σ z² = 2z
  });

  test('no perturbation confusion: d/dx [d/dy Σ x·y at y = x] is 1, not 2', () => {
    const x = f64([0.5, -1.5]);
    const g = grad((a: Tensor) => grad((b: Tensor) => a.mul(b).sum())(a).sum())(x);
    expect(Array.from(g.data)).toEqual([1, 1]);
  });

  test('vjp and jvp over structured primals and outputs satisfy <J v, u> = <v, Jᵀ u>', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (seed) => {
        const r = (shape: number[], k: number): Tensor => randn(shape, { dtype: 'float64', seed: seed + k });
        const f = (p: { w: Tensor; v: Tensor[] }, x: Tensor): { out: Tensor; extra: [Tensor] } => ({
          out: x.matmul(p.w).tanh(),
          extra: [p.v[0]!.mul(p.v[1]!).sin().add(x.sum())],
        });
        const p = { w: r([3, 2], 0), v: [r([4], 1), r([4], 2)] };
        const x = r([2, 3], 3);
        const tp = { w: r([3, 2], 4), v: [r([4], 5), r([4], 6)] };
        const tx = r([2, 3], 7);
        const u = { out: r([2, 2], 8), extra: [r([4], 9)] as [Tensor] };
        const { tangent } = jvp(f, [p, x], [tp, tx]);
        const { output, pullback } = vjp(f, p, x);
        expect(Array.from(output.out.data)).toEqual(Array.from(f(p, x).out.data));
        const [gp, gx] = pullback(u);
        const left = dot(tangent.out, u.out) + dot(tangent.extra[0], u.extra[0]);
        const right = dot(gp.w, tp.w) + dot(gp.v[0]!, tp.v[0]!) + dot(gp.v[1]!, tp.v[1]!) + dot(gx, tx);
        expect(Math.abs(left - right)).toBeLessThan(1e-10 * (1 + Math.abs(left)));
      }),
      { numRuns: 15 },
    );
  });

  test('jacobian with several argnums gives one block per argument', () => {
    const x = f64([1, 2, 3]);
    const y = f64([-1, 0.5]);
    const [jx, jy] = jacobian((a: Tensor, b: Tensor) => a.sum().mul(b), { argnums: [0, 1] })(x, y);
    expect(jx.shape).toEqual([2, 3]);
    expect(jx.toArray()).toEqual([[-1, -1, -1], [0.5, 0.5, 0.5]]);
    expect(jy.toArray()).toEqual([[6, 0], [0, 6]]);
  });

  test('jacobian of a structured output nests the argument structure under each output leaf', () => {
    const x = f64([1, 2]);
    const J = jacobian((p: { a: Tensor; b: Tensor }): [Tensor, Tensor] => [p.a.mul(p.b), p.b.sum()])({ a: x, b: f64([3, 4]) });
    expect(J[0].a.toArray()).toEqual([[3, 0], [0, 4]]);
    expect(J[0].b.toArray()).toEqual([[1, 0], [0, 2]]);
    expect(J[1].a.toArray()).toEqual([0, 0]);
    expect(J[1].b.toArray()).toEqual([1, 1]);
  });

  test('hessian of a function of two tensors returns the blocks [[Hxx, Hxy], [Hyx, Hyy]] of (x·y)²', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
        const x = randn([n], { dtype: 'float64', seed });
        const y = randn([n], { dtype: 'float64', seed: seed + 1 });
        const [[hxx, hxy], [hyx, hyy]] = hessian((a: Tensor, b: Tensor) => a.mul(b).sum().square(), { argnums: [0, 1] })(x, y);
        const s = dot(x, y);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const at = i * n + j;
            expect(hxx.data[at]!).toBeCloseTo(2 * y.data[i]! * y.data[j]!, 10);
            expect(hyy.data[at]!).toBeCloseTo(2 * x.data[i]! * x.data[j]!, 10);
            // ∂²/∂x_i∂y_j (x·y)² = 2 x_j y_i + 2 (x·y) δ_ij
            expect(hxy.data[at]!).toBeCloseTo(2 * x.data[j]! * y.data[i]! + (i === j ? 2 * s : 0), 10);
            expect(hyx.data[at]!).toBeCloseTo(hxy.data[j * n + i]!, 12);
          }
        }
      }),
      { numRuns: 15 },
    );
  });

  test('hessian and hvp of a dictionary argument agree block by block', () => {
    const p = { a: f64([0.3, -0.7]), b: f64([1.1]) };
    const f = (q: { a: Tensor; b: Tensor }): Tensor => q.a.sin().mul(q.b).sum().add(q.b.pow(3).sum());
    const H = hessian(f)(p);
    expect(H.a.a.shape).toEqual([2, 2]);
    expect(H.a.b.shape).toEqual([2, 1]);
    expect(H.b.a.shape).toEqual([1, 2]);
    const v = { a: f64([1, 2]), b: f64([-1]) };
    const { hvp: hv } = hvp(f, [p], [v]);
    const [hp] = hv;
    // (H v)_a = Haa va + Hab vb, (H v)_b = Hba va + Hbb vb
    const Hva = H.a.a.matmul(v.a).add(H.a.b.matmul(v.b));
    const Hvb = H.b.a.matmul(v.a).add(H.b.b.matmul(v.b));
    Hva.data.forEach((val, i) => expect(hp.a.data[i]!).toBeCloseTo(val, 12));
    expect(hp.b.data[0]!).toBeCloseTo(Hvb.data[0]!, 12);
    // by hand: Hbb = 6b, Hab = cos(a)
    expect(H.b.b.item()).toBeCloseTo(6 * 1.1, 12);
    expect(H.a.b.data[1]!).toBeCloseTo(Math.cos(-0.7), 12);
  });

  test('wrong arguments are errors naming the transform and what was passed', () => {
    const f = (p: unknown): Tensor => (p as Tensor).sum();
    expect(() => grad(f)(5)).toThrow(/^grad: argument 0 is a number \(5\); a structure holds Tensors in arrays and plain objects/);
    expect(() => grad(f)({ w: f64([1]), lr: 0.1 })).toThrow(/^grad: argument 0 at \.lr is a number \(0\.1\)/);
    expect(() => valueAndGrad(f)(new Map())).toThrow(/^valueAndGrad: argument 0 is a Map/);
    expect(() => jacobian((a: unknown, b: unknown) => f(a).add(f(b)), { argnums: [0, 1] })(f64([1]), 'x')).toThrow(/^jacobian: argument 1 is a string \("x"\)/);
    expect(() => vjp(f, [f64([1]), null, 3])).toThrow(/^vjp: primal 0 at \[2\] is a number \(3\)/);
    expect(() => jvp(f, [f64([1])], [f64([1, 2])])).toThrow(/^jvp: tangent 0 leaf 0 is float64 \[2\], primal 0 leaf 0 is float64 \[1\]/);
    expect(() => jvp(f as (...a: unknown[]) => Tensor, [{ a: f64([1]) }], [[f64([1])]] as never)).toThrow(/^jvp: tangent 0 has structure \[\*\], primal 0 \{a: \*\}/);
    expect(() => hvp(f, f64([1]) as unknown as [Tensor], [f64([1])])).toThrow(/^hvp: primals must be an array with one entry per argument of f, got Tensor/);
    expect(() => grad(f)({ w: f64([1]), idx: tensor([0, 2], { dtype: 'int32' }) })).toThrow(
      /^grad: argument 0 at \.idx is a tensor of dtype int32 and shape \[2\]; only float32 and float64 tensors are differentiated/,
    );
    expect(() => grad(f, { argnums: [0, 0] })(f64([1]))).toThrow(/^grad: argnums \[0,0\] repeats a position/);
    // jvp differentiates every primal, so the hint for an integer one is a closure, not argnums.
    expect(() => jvp((t: Tensor) => t, [tensor([1], { dtype: 'int32' })], [tensor([1], { dtype: 'int32' })])).toThrow(
      /^jvp: primal 0 is a tensor of dtype int32 and shape \[1\]; only float32 and float64 tensors are differentiated \(close over it in f instead of passing it as a primal, or convert it with toDtype\)$/,
    );
    expect(() => grad(f, { argnum: 1 } as never)).toThrow(/^grad: unknown option 'argnum'/);
    expect(() => grad(5 as never)).toThrow(/^grad: the function to transform must be a function, got number/);
    expect(() => grad((x: Tensor) => [x.sum()] as unknown as Tensor)(f64([1]))).toThrow(/^grad: the function must return a Tensor, got an array/);
    const { pullback } = vjp((x: Tensor) => ({ y: x.exp() }), f64([1]));
    expect(() => pullback([f64([1])] as never)).toThrow(/^vjp: the cotangent has structure \[\*\], the output \{y: \*\}/);
    expect(() => pullback({ y: f64([1, 2]) })).toThrow(/^vjp: the cotangent leaf 0 is float64 \[2\], the output leaf 0 is float64 \[1\]/);
  });

  test('the public types follow argnums and the argument structures', () => {
    const x = f64([1]);
    const p = { w: x, b: [x] as Tensor[], c: null as Tensor | null };
    const loss = (q: typeof p, y: Tensor): Tensor => q.w.mul(y).sum();
    expectTypeOf(grad(loss)(p, x)).toEqualTypeOf<{ w: Tensor; b: Tensor[]; c: Tensor | null }>();
    expectTypeOf(grad(loss, { argnums: 1 })(p, x)).toEqualTypeOf<Tensor>();
    expectTypeOf(grad(loss, { argnums: [1, 0] })(p, x)).toEqualTypeOf<[Tensor, { w: Tensor; b: Tensor[]; c: Tensor | null }]>();
    expectTypeOf(grad(grad((t: Tensor) => t.pow(3).sum()))(x)).toEqualTypeOf<Tensor>();
    const two = (a: Tensor, b: Tensor): Tensor => a.mul(b).sum();
    expectTypeOf(hessian(two, { argnums: [0, 1] })(x, x)).toEqualTypeOf<[[Tensor, Tensor], [Tensor, Tensor]]>();
    expectTypeOf(jacobian((a: Tensor) => ({ s: a }))(x)).toEqualTypeOf<{ s: Tensor }>();
    expectTypeOf(vjp(loss, p, x).pullback).returns.toEqualTypeOf<[{ w: Tensor; b: Tensor[]; c: Tensor | null }, Tensor]>();
    expectTypeOf(valueAndGrad((a: Tensor): [Tensor, number] => [a.sum(), 1], { hasAux: true })(x).aux).toEqualTypeOf<number>();
  });
});
