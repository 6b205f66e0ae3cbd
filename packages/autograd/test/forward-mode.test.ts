/**
 * Forward mode as a transform: jvp nested in itself and in reverse mode both ways, jacfwd against
 * the reverse-mode jacobian, hessian (forward-over-reverse) against reverse-over-reverse,
 * linearize, levels kept apart, and the errors.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  argmax, customOp, det, scatter, stack, unbind, vmap, GraphError, grad, hessian, hvp, jacfwd, jacobian, jvp, linear, linearize, noGrad, ones, Tensor, tensor, zeros,
  type KernelBackend,
} from '@chainrule/autograd';
import { assertClose, seededTensor, shapeArb } from '@chainrule/autograd/testing';
import { jvpByDifferences, jvpByDoubleVjp } from './helpers/jvp-reference.js';
import { withBackend } from './helpers/backend.js';
import { helperThreadReady, setKernelThreads } from '../src/kernels/wasm/helper-thread.js';

const f64 = (v: number[] | number[][], requiresGrad = false): Tensor => tensor(v, { dtype: 'float64', requiresGrad });
const plain = (shape: number[], seed: number): Tensor => seededTensor(shape, seed, { requiresGrad: false }) as Tensor;

/** A smooth scalar function of a vector with every kind of mixing: elementwise, matmul, a reduction. */
function scalarF(x: Tensor): Tensor {
  const n = x.size;
  const w = seededTensor([n, n], 7, { requiresGrad: false });
  return x.reshape([1, n]).matmul(w).tanh().mul(x.sin()).sum().add(x.square().exp().sum().log());
}

/** A vector-valued one. */
function vectorF(x: Tensor): Tensor {
  return x.softmax(-1).mul(x.cos()).cumsum(-1);
}

const vectors = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1e6 })).map(([n, seed]) => ({
  x: plain([n], seed), v: plain([n], seed + 1), w: plain([n], seed + 2),
}));

const dot = (a: Tensor, b: Tensor): number => a.mul(b).sum().item();

describe('linear along its weights (output and tangent made in one pass)', () => {
  const layers = fc.record({
    rows: fc.integer({ min: 1, max: 12 }),
    inF: fc.integer({ min: 1, max: 40 }),
    outF: fc.integer({ min: 1, max: 12 }),
    withBias: fc.constantFrom('none', 'shared', 'tangent'),
    relu: fc.boolean(),
    seed: fc.noShrink(fc.integer({ min: 0, max: 1e6 })),
  });

  test('equals the rule in Tensor ops and the double VJP, for every bias and activation', () => {
    fc.assert(
      fc.property(layers, ({ rows, inF, outF, withBias, relu, seed }) => {
        const x = plain([rows, inF], seed);
        const w = plain([outF, inF], seed + 1);
        const tw = plain([outF, inF], seed + 2);
        const b = plain([outF], seed + 3);
        const tb = plain([outF], seed + 4);
        const act = relu ? 'relu' : 'none';
        // The bias either carries a tangent, is closed over (no tangent), or is absent.
        const run = (): { output: Tensor; tangent: Tensor } =>
          withBias === 'tangent'
            ? jvp((v: Tensor, c: Tensor) => linear(x, v, c, act), [w, b], [tw, tb])
            : jvp((v: Tensor) => linear(x, v, withBias === 'shared' ? b : null, act), [w], [tw]);
        const fused = withBackend('wasm', run);
        const apart = withBackend('js', run);
        assertClose(fused.output, apart.output);
        assertClose(fused.tangent, apart.tangent);
        const f = (v: Tensor, c: Tensor): Tensor => linear(x, v, withBias === 'none' ? null : c, act);
        assertClose(fused.tangent, jvpByDoubleVjp(f, [w, b], [tw, withBias === 'tangent' ? tb : zeros([outF], { dtype: 'float64' })]));
      }),
      { numRuns: 40 },
    );
  });

  test('with the input carrying a tangent too (a later layer): the bits of the rule in Tensor ops', () => {
    const cases = fc.record({
      rows: fc.integer({ min: 1, max: 12 }),
      inF: fc.integer({ min: 1, max: 40 }),
      outF: fc.integer({ min: 1, max: 12 }),
      // Which of x, w, b carry a tangent (x or w always does); b may also be absent.
      tangents: fc.constantFrom('x', 'xw', 'xwb', 'xb', 'wb', 'w'),
      withBias: fc.boolean(),
      relu: fc.boolean(),
      dtype: fc.constantFrom('float32', 'float64'),
      seed: fc.noShrink(fc.integer({ min: 0, max: 1e6 })),
    });
    type Case = typeof cases extends fc.Arbitrary<infer C> ? C : never;
    fc.assert(
      fc.property(cases, ({ rows, inF, outF, tangents, withBias, relu, dtype, seed }) => {
        const make = (shape: number[], k: number): Tensor => seededTensor(shape, seed + k, { dtype, requiresGrad: false }) as Tensor;
        const primals = [make([rows, inF], 0), make([outF, inF], 1), make([outF], 2)];
        const tans = [make([rows, inF], 3), make([outF, inF], 4), make([outF], 5)];
        const act = relu ? 'relu' : 'none';
        const on = [tangents.includes('x'), tangents.includes('w'), withBias && tangents.includes('b')];
        const f = (x: Tensor, w: Tensor, b: Tensor): Tensor => linear(x, w, withBias ? b : null, act);
        // Primals without a tangent are closed over, so that they have none at the jvp's level.
        const run = (ps: Tensor[]): { output: Tensor; tangent: Tensor } => {
          const idx = [0, 1, 2].filter((i) => on[i]);
          return jvp((...xs: Tensor[]) => f(...([0, 1, 2].map((i) => (on[i] ? xs[idx.indexOf(i)]! : ps[i]!)) as [Tensor, Tensor, Tensor])), idx.map((i) => ps[i]!), idx.map((i) => tans[i]!));
        };
        // A primal requiring grad makes linear take its rule in Tensor ops (the tangent goes on the graph).
        const tracked = primals.map((p) => new Tensor(p.data, p.shape, { requiresGrad: true }));
        for (const backend of ['wasm', 'auto'] as const) {
          const fused = withBackend(backend, () => run(primals));
          const ruled = withBackend(backend, () => run(tracked));
          expect(Array.from(fused.output.data)).toEqual(Array.from(ruled.output.data));
          expect(Array.from(fused.tangent.data)).toEqual(Array.from(ruled.tangent.data));
        }
        const zero = (t: Tensor): Tensor => zeros(t.shape, { dtype });
        const reference = jvpByDoubleVjp(f, primals, tans.map((t, i) => (on[i] ? t : zero(t))));
        assertClose(withBackend('wasm', () => run(primals)).tangent, reference, dtype === 'float32' ? 1e-4 : 1e-10, dtype === 'float32' ? 1e-4 : 1e-10);
      }),
      {
        numRuns: 60,
        // Sizes whose x and x·Wᵀ fill whole cache lines, where x's and its tangent's products with W are made as one.
        // So do W and its tangent, where both products along them are made as one of 2·out columns.
        examples: [
          ...(['x', 'xb', 'xwb'] as const).flatMap((tangents) =>
            (['float32', 'float64'] as const).map((dtype): [Case] => [{ rows: 8, inF: 16, outF: 8, tangents, withBias: true, relu: true, dtype, seed: 11 }])),
          ...(['w', 'wb', 'xw', 'xwb'] as const).flatMap((tangents) =>
            (['float32', 'float64'] as const).flatMap((dtype) =>
              [false, true].map((withBias): [Case] => [{ rows: 5, inF: 16, outF: 8, tangents, withBias, relu: !withBias, dtype, seed: 12 }]))),
        ],
      },
    );
  });

  test('shares the products of a large layer between threads with the bits of the rule in Tensor ops', async () => {
    setKernelThreads(2);
    expect(await helperThreadReady()).toBe(true);
    // Past the size where a product is shared: with W's tangent, the tangent's product goes to the
    // helper while the caller makes the output's; x's tangent adds a product after both.
    const shapes = [[32, 64, 300], [64, 128, 97]] as const;
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [rows, outF, inF] of shapes) {
        for (const tangents of ['w', 'wb', 'xw', 'xwb', 'x'] as const) {
          for (const [withBias, act] of [[true, 'relu'], [false, 'none'], [true, 'none'], [false, 'relu']] as const) {
            const make = (shape: number[], k: number): Tensor => seededTensor(shape, 40 + k, { dtype, requiresGrad: false }) as Tensor;
            const primals = [make([rows, inF], 0), make([outF, inF], 1), make([outF], 2)];
            const tans = [make([rows, inF], 3), make([outF, inF], 4), make([outF], 5)];
            const on = [tangents.includes('x'), tangents.includes('w'), withBias && tangents.includes('b')];
            const idx = [0, 1, 2].filter((i) => on[i]);
            const run = (ps: Tensor[]): { output: Tensor; tangent: Tensor } => jvp(
              (...xs: Tensor[]) => {
                const [x, w, b] = [0, 1, 2].map((i) => (on[i] ? xs[idx.indexOf(i)]! : ps[i]!));
                return linear(x!, w!, withBias ? b! : null, act);
              },
              idx.map((i) => ps[i]!), idx.map((i) => tans[i]!),
            );
            // A primal requiring grad makes linear take its rule in Tensor ops.
            const tracked = primals.map((p) => new Tensor(p.data, p.shape, { requiresGrad: true }));
            const fused = withBackend('wasm', () => run(primals));
            const ruled = withBackend('wasm', () => run(tracked));
            const what = `${dtype} ${rows}x${outF}x${inF} tangents ${tangents} bias ${withBias} ${act}`;
            expect(Array.from(fused.output.data), what).toEqual(Array.from(ruled.output.data));
            expect(Array.from(fused.tangent.data), what).toEqual(Array.from(ruled.tangent.data));
          }
        }
      }
    }
  });

  test('stays differentiable where a reverse pass needs the tangent (x requiring grad)', () => {
    const x = plain([6, 30], 1);
    const w = plain([8, 30], 2);
    const tw = plain([8, 30], 3);
    const g = (backend: KernelBackend): Tensor =>
      withBackend(backend, () => grad((a: Tensor) => jvp((v: Tensor) => linear(a, v, null, 'none'), [w], [tw]).tangent.square().sum())(x));
    // d/dx Σ (x·twᵀ)² = 2 (x·twᵀ)·tw.
    assertClose(g('wasm'), x.matmul(tw.transpose()).mul(2).matmul(tw));
    assertClose(g('wasm'), g('js'));
  });
});

describe('nesting', () => {
  test('jvp of jvp is the second directional derivative <H v, w>', () => {
    fc.assert(fc.property(vectors, ({ x, v, w }) => {
      const inner = (y: Tensor): Tensor => jvp(scalarF, [y], [v]).tangent;
      const second = jvp(inner, [x], [w]).tangent;
      const reference = dot(hvp(scalarF, [x], [v]).hvp[0], w);
      assertClose(second, tensor(reference, { dtype: 'float64' }), 1e-9, 1e-10);
    }), { numRuns: 10 });
  });

  test('jvp of jvp of a vector function matches finite differences of the inner jvp', () => {
    fc.assert(fc.property(vectors, ({ x, v, w }) => {
      const inner = (y: Tensor): Tensor => jvp(vectorF, [y], [v]).tangent;
      assertClose(jvp(inner, [x], [w]).tangent, jvpByDifferences(inner, [x], [w]), 1e-5, 1e-6);
    }), { numRuns: 10 });
  });

  test('jvp of grad (forward-over-reverse) is the Hessian-vector product', () => {
    fc.assert(fc.property(vectors, ({ x, v }) => {
      const { output, tangent } = jvp(grad(scalarF), [x], [v]);
      assertClose(output, grad(scalarF)(x), 1e-12, 1e-12);
      assertClose(tangent, hvp(scalarF, [x], [v]).hvp[0], 1e-9, 1e-10);
    }), { numRuns: 10 });
  });

  test('grad of a function calling jvp (reverse-over-forward) is the Hessian-vector product', () => {
    fc.assert(fc.property(vectors, ({ x, v }) => {
      const g = grad((y: Tensor) => jvp(scalarF, [y], [v]).tangent.sum())(x);
      assertClose(g, hvp(scalarF, [x], [v]).hvp[0], 1e-9, 1e-10);
    }), { numRuns: 10 });
  });

  test('grad of jvp reaches the tangent too: d<∇f(x), v>/dv = ∇f(x)', () => {
    const x = plain([3], 1), v = plain([3], 2);
    const g = grad((t: Tensor) => jvp(scalarF, [x], [t]).tangent, { argnums: 0 })(v);
    assertClose(g, grad(scalarF)(x), 1e-12, 1e-12);
  });

  test('jvp of jvp of grad: a third derivative, against finite differences of the Hessian-vector product', () => {
    const x = plain([3], 3), v = plain([3], 4), w = plain([3], 5);
    const hv = (y: Tensor): Tensor => jvp(grad(scalarF), [y], [v]).tangent;
    assertClose(jvp(hv, [x], [w]).tangent, jvpByDifferences(hv, [x], [w]), 1e-5, 1e-6);
  });

  test('jvp of vmap and vmap of jvp equal jvp row by row', () => {
    const x = plain([3, 2], 11), v = plain([3, 2], 12);
    const f = (r: Tensor): Tensor => r.sin().mul(r.sum());
    const rows = stack(unbind(x, 0).map((r, i) => jvp(f, [r], [unbind(v, 0)[i]!]).tangent), 0);
    assertClose(jvp(vmap(f), [x], [v]).tangent, rows, 1e-12, 1e-12);
    assertClose(vmap((r: Tensor, s: Tensor) => jvp(f, [r], [s]).tangent)(x, v), rows, 1e-12, 1e-12);
    // A tangent shared by the batch, and a primal shared by it.
    const shared = plain([2], 13);
    assertClose(vmap((r: Tensor) => jvp(f, [r], [shared]).tangent)(x), stack(unbind(x, 0).map((r) => jvp(f, [r], [shared]).tangent), 0), 1e-12, 1e-12);
  });

  test('tangents of different levels never mix (no perturbation confusion)', () => {
    // d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1; mixing the levels would give 2.
    const x = f64([3]), y = f64([5]);
    const outer = jvp((a: Tensor) => a.mul(jvp((b: Tensor) => a.add(b), [y], [f64([1])]).tangent), [x], [f64([1])]);
    expect(outer.tangent.item()).toBe(1);
  });

  test('a tensor kept from a finished jvp carries no tangent into the next one', () => {
    let kept: Tensor | null = null;
    jvp((a: Tensor) => (kept = a.mul(2)), [f64([1, 2])], [f64([1, 1])]);
    const { tangent } = jvp((b: Tensor) => b.mul(kept!), [f64([3, 4])], [f64([1, 1])]);
    assertClose(tangent, f64([2, 4]), 0, 0);
  });

  test('the same tensor passed twice gets a tangent per position', () => {
    const x = f64([2]);
    const { tangent } = jvp((a: Tensor, b: Tensor) => a.mul(b), [x, x], [f64([1]), f64([0])]);
    expect(tangent.item()).toBe(2);
  });

  test('jvp runs under noGrad and in float32', () => {
    const x = tensor([0.5, 1], { dtype: 'float32' });
    const { output, tangent } = noGrad(() => jvp((a: Tensor) => a.exp(), [x], [ones([2])]));
    expect(output.requiresGrad).toBe(false);
    expect(tangent.dtype).toBe('float32');
    assertClose(tangent, x.exp(), 1e-7, 0);
  });
});

describe('jacfwd, hessian, linearize', () => {
  test('jacfwd equals the reverse-mode jacobian over random shapes', () => {
    fc.assert(fc.property(shapeArb({ maxRank: 2, maxDim: 3 }), fc.integer({ min: 0, max: 1e6 }), (shape, seed) => {
      const x = plain(shape, seed);
      const f = (a: Tensor): Tensor => a.tanh().mul(a.sum()).softmax(-1);
      assertClose(jacfwd(f)(x), jacobian(f)(x), 1e-12, 1e-12);
    }), { numRuns: 10 });
  });

  test('jacfwd over argnums and structures nests as jacobian does', () => {
    const p = { w: plain([2, 3], 1), b: plain([3], 2) }, x = plain([4, 2], 3);
    const f = (q: { w: Tensor; b: Tensor }, y: Tensor): { h: Tensor; s: Tensor } => {
      const h = y.matmul(q.w).add(q.b).tanh();
      return { h, s: h.sum() };
    };
    const fwd = jacfwd(f, { argnums: [0, 1] })(p, x);
    const rev = jacobian(f, { argnums: [0, 1] })(p, x);
    for (const key of ['h', 's'] as const) {
      assertClose(fwd[key][0].w, rev[key][0].w, 1e-12, 1e-12);
      assertClose(fwd[key][0].b, rev[key][0].b, 1e-12, 1e-12);
      assertClose(fwd[key][1], rev[key][1], 1e-12, 1e-12);
    }
    expect(fwd.h[0].w.shape).toEqual([4, 3, 2, 3]);
  });

  test('hessian (forward-over-reverse) equals reverse-over-reverse', () => {
    fc.assert(fc.property(vectors, ({ x }) => {
      assertClose(hessian(scalarF)(x), jacobian(grad(scalarF))(x), 1e-9, 1e-10);
    }), { numRuns: 10 });
  });

  test('hessian of two arguments gives the four blocks', () => {
    const x = plain([2], 1), y = plain([3], 2);
    const f = (a: Tensor, b: Tensor): Tensor => a.outer(b).sin().sum();
    const h = hessian(f, { argnums: [0, 1] })(x, y);
    const r = jacobian(grad(f, { argnums: [0, 1] }), { argnums: [0, 1] })(x, y);
    for (const i of [0, 1] as const) for (const j of [0, 1] as const) assertClose(h[i][j], r[i][j], 1e-10, 1e-12);
    expect(h[0][1].shape).toEqual([2, 3]);
  });

  test('linearize gives the output and the same J·v as jvp, for several tangents', () => {
    const x = plain([3], 4);
    const { output, jvp: lin } = linearize(vectorF, x);
    assertClose(output, vectorF(x), 0, 0);
    for (const seed of [5, 6]) {
      const v = plain([3], seed);
      assertClose(lin(v), jvp(vectorF, [x], [v]).tangent, 0, 0);
    }
  });

  test("the linear map's tangent errors name linearize, the mismatch and both shapes", () => {
    const x = plain([3], 4);
    const { jvp: lin } = linearize(vectorF, x);
    expect(() => lin(plain([2], 5))).toThrow(/^linearize: tangent 0 leaf 0 is float64 \[2\], primal 0 leaf 0 is float64 \[3\]$/);
    expect(() => lin(x.toDtype('float32'))).toThrow(/^linearize: tangent 0 leaf 0 is float32 \[3\], primal 0 leaf 0 is float64 \[3\]$/);
    expect(() => (lin as (...t: Tensor[]) => Tensor)(x, x)).toThrow(/^linearize: got 2 tangents for 1 primals$/);
    const { jvp: linP } = linearize((p: { a: Tensor }) => p.a.sin(), { a: x });
    expect(() => linP([x] as never)).toThrow(/^linearize: tangent 0 has structure \[\*\], primal 0 \{a: \*\}$/);
  });
});

describe('outputs and errors', () => {
  test('integer outputs get zero tangents of their dtype', () => {
    const { output, tangent } = jvp((a: Tensor) => argmax(a), [f64([1, 3, 2])], [f64([1, 1, 1])]);
    expect(output.item()).toBe(1);
    expect(tangent.dtype).toBe('int32');
    expect(tangent.item()).toBe(0);
  });

  test('det at a singular matrix: tr(adj(A)·Ȧ), by hand', () => {
    // det [[3, ε], [4, 2ε]] = 2ε
    const { tangent } = jvp(det, [f64([[3, 0], [4, 0]])], [f64([[0, 1], [0, 2]])]);
    expect(tangent.item()).toBeCloseTo(2, 12);
  });

  test('an output that does not depend on the primals has a zero tangent', () => {
    const { tangent } = jvp(() => zeros([2], { dtype: 'float64' }), [f64([1])], [f64([1])]);
    assertClose(tangent, zeros([2], { dtype: 'float64' }), 0, 0);
  });

  test('a tangent reaching an op without a JVP rule is an error naming it', () => {
    const noRule = customOp({ name: 'myOp', forward: (x) => x.mul(2), backward: (g) => g.mul(2) });
    expect(() => jvp((a: Tensor) => noRule(a), [f64([1])], [f64([1])])).toThrow(GraphError);
    expect(() => jvp((a: Tensor) => noRule(a), [f64([1])], [f64([1])])).toThrow(/^jvp: 'myOp' has no forward-mode \(JVP\) rule.*float64 \[1\]/);
    // Without a tangent reaching it, the op runs inside a jvp.
    expect(jvp((a: Tensor) => a.add(noRule(f64([1]))), [f64([1])], [f64([1])]).tangent.item()).toBe(1);
  });

  test("a custom op's jvp is used, and nests", () => {
    const cube = customOp({
      name: 'cube',
      forward: (x) => x.pow(3),
      backward: (g, { inputs: [x] }) => g.mul(x!.square().mul(3)),
      jvp: ([t], { inputs: [x] }) => t!.mul(x!.square().mul(3)),
    });
    const x = f64([2]);
    expect(jvp((a: Tensor) => cube(a), [x], [f64([1])]).tangent.item()).toBe(12);
    const second = jvp((a: Tensor) => jvp((b: Tensor) => cube(b), [a], [f64([1])]).tangent, [x], [f64([1])]);
    expect(second.tangent.item()).toBe(12);
  });

  test('a rule returning the wrong shape is an error naming the op', () => {
    const bad = customOp({ name: 'bad', forward: (x) => x.mul(1), backward: (g) => g, jvp: () => f64([1, 2]) });
    expect(() => jvp((a: Tensor) => bad(a), [f64([1])], [f64([1])])).toThrow(/^jvp: the forward-mode rule of 'bad' returned a tangent of float64 \[2\] for an output of float64 \[1\]/);
  });

  test('scatter with reduce multiply has no tangent: an error, not a silent zero', () => {
    const f = (a: Tensor): Tensor => scatter(a, 0, [0], f64([2]), { reduce: 'multiply' });
    expect(() => jvp(f, [f64([1, 2])], [f64([1, 1])])).toThrow(/^jvp: 'scatter \(reduce 'multiply'\)' has no forward-mode/);
    assertClose(noGrad(() => f(f64([1, 2]))), f64([2, 2]), 0, 0);
  });
});
