/**
 * jacfwd as JAX builds it, jvp mapped with vmap over the identity's rows: against jacrev (reverse
 * mode, vmap over cotangents) and central finite differences in float64 by property over random
 * shapes, over argument structures, and composed (jacfwd(jacrev(f)), vmap(jacfwd(f))).
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { argmax, customOp, hessian, jacfwd, jacobian, jacrev, noGrad, Tensor, tensor, vmap } from '@chainrule/autograd';
import { assertClose, seededTensor, shapeArb } from '@chainrule/autograd/testing';

const plain = (shape: number[], seed: number): Tensor => seededTensor(shape, seed, { requiresGrad: false }) as Tensor;

/** d f(x)[i] / d x[j] by central differences, laid out [...out.shape, ...x.shape]. */
function differences(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-6): Tensor {
  const y = noGrad(() => f(x));
  const out = new Float64Array(y.size * x.size);
  for (let j = 0; j < x.size; j++) {
    const moved = (sign: number): Tensor => {
      const data = Float64Array.from(x.data as Float64Array);
      data[j]! += sign * h;
      return noGrad(() => f(new Tensor(data, x.shape)));
    };
    const plus = moved(1).data, minus = moved(-1).data;
    for (let i = 0; i < y.size; i++) out[i * x.size + j] = (plus[i]! - minus[i]!) / (2 * h);
  }
  return new Tensor(out, [...y.shape, ...x.shape]);
}

const f = (a: Tensor): Tensor => a.tanh().mul(a.sum()).softmax(-1).add(a.square().mean());

describe('jacfwd on vmap', () => {
  test('equals jacrev and finite differences over random shapes', () => {
    fc.assert(
      fc.property(shapeArb({ maxRank: 3, maxDim: 3 }), fc.integer({ min: 0, max: 1e6 }), (shape, seed) => {
        const x = plain(shape, seed);
        const fwd = jacfwd(f)(x);
        expect(fwd.shape).toEqual([...shape, ...shape]);
        assertClose(fwd, jacrev(f)(x), 1e-12, 1e-12);
        assertClose(fwd, differences(f, x), 1e-6, 1e-6);
      }),
      { numRuns: 15 },
    );
  });

  test('one batched forward for every column: f runs twice (structure, then the batch), whatever the size', () => {
    for (const n of [1, 4, 9]) {
      let calls = 0;
      const counted = (a: Tensor): Tensor => {
        calls++;
        return a.sin().mul(a.sum());
      };
      const x = plain([n], n);
      const jac = jacfwd(counted)(x);
      expect(calls).toBe(2);
      assertClose(jac, differences((a) => a.sin().mul(a.sum()), x), 1e-6, 1e-6);
    }
  });

  test('hessian too: f runs twice (structure, then the batch) for every column, and equals the reverse-over-reverse Hessian', () => {
    for (const n of [1, 5]) {
      let calls = 0;
      const counted = (a: Tensor): Tensor => {
        calls++;
        return a.sin().mul(a.sum()).sum();
      };
      const x = plain([n], n + 10);
      const H = hessian(counted)(x);
      expect(calls).toBe(2);
      assertClose(H, jacrev(jacrev((a: Tensor) => a.sin().mul(a.sum()).sum()))(x), 1e-12, 1e-12);
    }
  });

  test('over argnums and structures, as jacrev nests them', () => {
    const p = { w: plain([2, 3], 1), b: plain([3], 2) }, x = plain([4, 2], 3);
    const g = (q: { w: Tensor; b: Tensor }, y: Tensor): { h: Tensor; s: Tensor } => {
      const h = y.matmul(q.w).add(q.b).tanh();
      return { h, s: h.sum() };
    };
    const fwd = jacfwd(g, { argnums: [0, 1] })(p, x);
    const rev = jacrev(g, { argnums: [0, 1] })(p, x);
    for (const key of ['h', 's'] as const) {
      assertClose(fwd[key][0].w, rev[key][0].w, 1e-12, 1e-12);
      assertClose(fwd[key][0].b, rev[key][0].b, 1e-12, 1e-12);
      assertClose(fwd[key][1], rev[key][1], 1e-12, 1e-12);
    }
    expect(fwd.h[0].w.shape).toEqual([4, 3, 2, 3]);
    expect(fwd.s[1].shape).toEqual([4, 2]);
  });

  test('zero-size arguments and a float32 argument beside a float64 one', () => {
    const z = plain([0, 2], 1);
    expect(jacfwd((a: Tensor) => a.exp())(z).shape).toEqual([0, 2, 0, 2]);
    const a32 = seededTensor([3], 5, { dtype: 'float32', requiresGrad: false }) as Tensor;
    const b64 = plain([2], 6);
    const [ja, jb] = jacfwd((a: Tensor, b: Tensor) => a.toDtype('float64').sum().mul(b), { argnums: [0, 1] })(a32, b64);
    expect(ja.dtype).toBe('float64');
    expect(ja.shape).toEqual([2, 3]);
    assertClose(jb, jacrev((a: Tensor, b: Tensor) => a.toDtype('float64').sum().mul(b), { argnums: [0, 1] })(a32, b64)[1], 1e-12, 1e-12);
  });

  test('composes: jacfwd(jacrev(f)) is the Hessian, vmap(jacfwd(f)) per-example Jacobians', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1e6 }), (n, seed) => {
        const x = plain([n], seed);
        const s = (a: Tensor): Tensor => a.sin().mul(a.square().sum()).sum();
        assertClose(jacfwd(jacrev(s))(x), jacrev(jacrev(s))(x), 1e-10, 1e-12);
        const batch = plain([3, n], seed + 1);
        const per = vmap(jacfwd(f))(batch);
        for (let i = 0; i < 3; i++) {
          const xi = new Tensor(Float64Array.from((batch.data as Float64Array).subarray(i * n, (i + 1) * n)), [n]);
          assertClose(new Tensor(Float64Array.from((per.data as Float64Array).subarray(i * n * n, (i + 1) * n * n)), [n, n]), jacrev(f)(xi), 1e-12, 1e-12);
        }
      }),
      { numRuns: 8 },
    );
  });

  test('an op without a batching rule is an error naming it, not a loop', () => {
    const noRule = customOp({ name: 'unbatchable', forward: (x) => x.mul(2), backward: (g) => g.mul(2), jvp: ([t]) => t!.mul(2) });
    expect(() => jacfwd((a: Tensor) => noRule(a))(plain([3], 1))).toThrow(/unbatchable/);
    expect(() => hessian((a: Tensor) => noRule(a).square().sum())(plain([3], 1))).toThrow(/unbatchable/);
  });
});

describe('integer outputs', () => {
  test('an integer output has a zero Jacobian in the input\'s dtype, from jacfwd as from jacrev and jacobian', () => {
    const x = tensor([1, 3, 2], { dtype: 'float64' });
    for (const transform of [jacfwd, jacrev, jacobian] as const) {
      const [J, s] = transform((z: Tensor) => [argmax(z), z.sum()] as const)(x) as unknown as [Tensor, Tensor];
      expect(J.dtype).toBe('float64');
      expect(J.shape).toEqual([3]);
      expect(Array.from(J.data)).toEqual([0, 0, 0]);
      expect(Array.from(s.data)).toEqual([1, 1, 1]);
    }
  });
});
