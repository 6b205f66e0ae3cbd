import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { copysign, grad, hessian, jit, jvp, logcumsumexp, stack, tensor, Tensor, zeros } from '@chainrule/autograd';
import { assertClose, seededTensor, type ValueConstraints } from '@chainrule/autograd/testing';
import { opCases, type OpCase } from './helpers/op-cases.js';

// Second derivatives compiled, op by op: jit(grad(grad(f))), jit(hessian(f)) and jit of jvp (which a
// trace takes as two reverse passes) give what the same transforms give eagerly, on values other
// than the traced ones. An op whose VJP reads values outside ops is recorded as its backward
// primitive, whose own gradient is again a backward primitive: these are the paths checked here.
// To rounding, not bit for bit: jvp and hessian (forward mode eagerly) are two reverse passes
// inside jit, and a backward primitive runs its VJP without a graph (a fused path where the op has
// one) where eager second derivatives build one. Every element is within 1e-12 of the largest
// magnitude of the eager result, or of 1 where that is smaller (an exactly zero Hessian).

/** Inputs of a case's shapes from a seed, not requiring grad (a jitted call with one would run op by op). */
function inputs(c: OpCase, shapes: number[][], seed: number): Tensor[] {
  return shapes.map((s, k) => {
    const values = Array.isArray(c.values) ? (c.values as ValueConstraints[])[k] : (c.values as ValueConstraints | undefined);
    return seededTensor(s, seed + k, { ...values, requiresGrad: false }) as Tensor;
  });
}

/** Equal to rounding: every element within 1e-12 of the largest magnitude of `expected` (at least 1). */
function expectRounding(name: string, actual: Tensor, expected: Tensor): void {
  let scale = 1;
  for (let i = 0; i < expected.size; i++) if (Number.isFinite(expected.data[i]!)) scale = Math.max(scale, Math.abs(expected.data[i]!));
  try {
    assertClose(actual, expected, 0, 1e-12 * scale);
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
}

// Ops whose result's shape depends on values: no program holds them (jit-grad-ops.test.ts).
const DATA_DEPENDENT = new Set(['bincount', 'index (mask)']);

describe('jit(grad(grad(f))), jit(hessian(f)) and jit(jvp) equal eager for every op, by property over shapes and values', () => {
  for (const c of opCases.filter((k) => !DATA_DEPENDENT.has(k.name))) {
    test(c.name, () => {
      fc.assert(
        fc.property(c.shapes, fc.integer({ min: 0, max: 1e6 }), (shapes, seed) => {
          const argnums = shapes.map((_, i) => i);
          const xs = inputs(c, shapes, seed);
          const ws = shapes.map((s, i) => seededTensor(s, seed + 100 + i, { requiresGrad: false }) as Tensor);
          const loss = (...v: Tensor[]): Tensor => c.f(...v).sin().sum();
          // ⟨∇f, w⟩ differentiated again: a Hessian-vector product through every argument.
          const gg = (...v: Tensor[]): Tensor[] =>
            grad((...u: Tensor[]) => (grad(loss, { argnums })(...u) as unknown as Tensor[]).reduce((s, g, i) => s.add(g.mul(ws[i]!).sum()), tensor(0, { dtype: 'float64' })), { argnums })(...v) as unknown as Tensor[];
          const hess = (...v: Tensor[]): Tensor[] => [hessian((u: Tensor) => loss(u, ...v.slice(1)))(v[0]!) as unknown as Tensor];
          // The Hessian in the first argument row by row, each row an eager grad of one entry of the gradient.
          const rows = (...v: Tensor[]): Tensor[] => {
            const x = v[0]!;
            const g = (u: Tensor): Tensor => grad((z: Tensor) => loss(z, ...v.slice(1)))(u).reshape([-1]);
            const list = Array.from({ length: x.size }, (_, i) => grad((u: Tensor) => g(u).narrow(0, i, 1).sum())(x));
            return [list.length === 0 ? zeros([...x.shape, ...x.shape], { dtype: 'float64' }) : stack(list).reshape([...x.shape, ...x.shape])];
          };
          const tangent = (...v: Tensor[]): Tensor[] => [jvp((...u: Tensor[]) => c.f(...u), v.slice(0, xs.length), v.slice(xs.length)).tangent as Tensor];
          // Traced on xs, run on other values.
          const others = inputs(c, shapes, seed + 1000);
          for (const [name, h, args, again] of [
            ['grad(grad)', gg, xs, others],
            ['hessian', hess, xs, others],
            ['jvp', tangent, [...xs, ...ws], [...others, ...ws.map((w) => w.mul(-0.5))]],
          ] as const) {
            const eager = h as (...v: Tensor[]) => Tensor[];
            // hessian's reference is built from eager grad(grad), row by row: independent of the vmap
            // eager hessian batches its columns with.
            const expected = (h === hess ? rows : eager)(...again);
            const compiled = jit(eager);
            compiled(...args);
            const actual = compiled(...again);
            expected.forEach((e, k) => expectRounding(`${c.name} ${name} ${k}`, actual[k]!, e));
          }
        }),
        { numRuns: 2 },
      );
    });
  }
});

describe('a trace that takes back an op recorded whole', () => {
  test("forgets the variables of tensors sharing its results' storage (where's detached mask in a backward primitive)", () => {
    // copysign's VJP is recorded as its backward primitive; the second backward pass meets the
    // `where` that VJP made, whose detached condition must not name the taken-back variable.
    const f = (x: Tensor, y: Tensor): Tensor => copysign(x, y).pow(3).sum();
    const gg = (x: Tensor, y: Tensor): Tensor => grad((u: Tensor) => grad(f)(u, y).square().sum())(x);
    const x = tensor([0.5, -1.5, 2], { dtype: 'float64' });
    const y = tensor([-1, 2, -3], { dtype: 'float64' });
    // The gradient is 3x²·sign(x)·sign(y), whose squares sum to Σ 9x⁴: its derivative is 36x³.
    assertClose(jit(gg)(x, y), tensor([36 * 0.5 ** 3, 36 * -(1.5 ** 3), 36 * 8], { dtype: 'float64' }), 1e-15, 0);
  });
});

describe('tensors made while tracing from storage no trace computed', () => {
  test('jvp inside jit seeds its reverse passes with ones, a constant of the program: a VJP nonlinear in its cotangent compiles', () => {
    const step = jit((x: Tensor, v: Tensor) => jvp((z: Tensor) => logcumsumexp(z, 0), [x], [v]).tangent);
    const x = tensor([0.3, -1.2, 2], { dtype: 'float64' });
    const v = tensor([1, -2, 0.5], { dtype: 'float64' });
    step(x.neg(), v.neg());
    // ẏ_i = Σ_{j≤i} v_j softmax(x_{0..i})_j.
    const e = [0.3, -1.2, 2].map(Math.exp);
    const want = [1, 2, 3].map((n) => e.slice(0, n).reduce((s, a, j) => s + a * [1, -2, 0.5][j]!, 0) / e.slice(0, n).reduce((s, a) => s + a, 0));
    assertClose(step(x, v), tensor(want, { dtype: 'float64' }), 1e-14, 1e-15);
  });

  test('a closed-over tensor detached inside f is the tensor, read by reference at each call', () => {
    const w = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const f = jit((a: Tensor) => a.mul(w.detach()));
    expect(Array.from(f(tensor([3, 3], { dtype: 'float64' })).data)).toEqual([3, 6]);
    w.data[0] = 5; // an in-place update, as an optimiser's step
    expect(Array.from(f(tensor([3, 3], { dtype: 'float64' })).data)).toEqual([15, 6]);
    expect(f.cacheSize).toBe(1);
  });
});

describe("prod's second derivatives inside jit hold both forms: traced on one side of zero, run on the other", () => {
  // [2, 3, 2]: without zeros, and with zeros planted so that along axis 1 one slice is all zeros,
  // one holds two and one holds one (and the product of everything is 0).
  const noZeros = [0.5, -1.2, 0.8, 1.5, -0.7, 1.1, 0.9, -1.3, 1.4, -0.6, 0.75, 1.25];
  const zeros_ = noZeros.map((v, i) => ([0, 2, 4, 7, 9, 1].includes(i) ? 0 : v));
  const w = [0.3, -0.8, 1.1, 0.4, -0.2, 0.9, -1.0, 0.6, 0.25, -0.45, 0.7, -0.35];
  const AXES: [string, number | number[] | undefined, boolean][] = [
    ['all', undefined, false], ['axis 1', 1, false], ['axis -1, keepdims', -1, true], ['axes [0, 2]', [0, 2], false], ['axes [1, 2], keepdims', [1, 2], true],
  ];
  for (const dtype of ['float64', 'float32'] as const) {
    const make = (v: number[]): Tensor => tensor(v, { dtype, shape: [2, 3, 2] });
    for (const [label, axis, keepdims] of AXES) {
      test(`${dtype}, ${label}`, () => {
        const loss = (x: Tensor): Tensor => x.prod(axis, keepdims).sin().sum();
        const dir = make(w);
        const gg = (x: Tensor): Tensor => grad((u: Tensor) => grad(loss)(u).mul(dir).sum())(x);
        const tangent = (x: Tensor, v: Tensor): Tensor => jvp((u: Tensor) => grad(loss)(u), [x], [v]).tangent as Tensor;
        for (const [traced, run] of [[noZeros, zeros_], [zeros_, noZeros]]) {
          const compiled = jit(gg);
          compiled(make(traced!));
          const compiledJvp = jit(tangent);
          compiledJvp(make(traced!), dir);
          for (const [name, actual, expected] of [
            ['grad(grad)', compiled(make(run!)), gg(make(run!))],
            ['jvp of grad', compiledJvp(make(run!), dir), tangent(make(run!), dir)],
          ] as const) {
            expect(actual.dtype).toBe(dtype);
            if (dtype === 'float64') expectRounding(`${label} ${name}`, actual, expected);
            else assertClose(actual, expected, 1e-5, 1e-5);
            expect(Array.from(actual.data).every(Number.isFinite)).toBe(true);
          }
        }
      });
    }
  }
});
