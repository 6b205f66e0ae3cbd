import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as A from '@chainrule/autograd';
import { grad, jit, Tensor, TraceError, valueAndGrad } from '@chainrule/autograd';
import { assertClose, seededTensor, type ValueConstraints } from '@chainrule/autograd/testing';
import { opCases, type OpCase } from './helpers/op-cases.js';

// jit(grad(f)) op by op: the compiled gradient, replayed on other values than the traced ones,
// gives grad(f)'s bits (every program runs the eager kernels in the eager order, and fused
// loops round where the eager ops store). An op whose VJP reads values outside ops is recorded
// as its backward primitive, which runs its forward again from the program's values; never a
// stale gradient.

/** Element-by-element identity, NaN matching NaN. */
function expectSameBits(name: string, actual: Tensor, expected: Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  for (let i = 0; i < expected.size; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) throw new Error(`${name}: element ${i}: jit ${a}, eager ${e}`);
  }
}

/** Inputs of a case's shapes from a seed, not requiring grad. */
function inputs(c: OpCase, shapes: number[][], seed: number): Tensor[] {
  return shapes.map((s, k) => {
    const values = Array.isArray(c.values) ? (c.values as ValueConstraints[])[k] : (c.values as ValueConstraints | undefined);
    return seededTensor(s, seed + k, { ...values, requiresGrad: false }) as Tensor;
  });
}

// Ops whose result's shape depends on values: no program holds them, with or without gradients.
const DATA_DEPENDENT = new Map([['bincount', 'bincount'], ['index (mask)', 'index']]);

describe('jit(grad(f)) equals grad(f) for every op, by property over shapes and values', () => {
  for (const c of opCases) {
    const refused = DATA_DEPENDENT.get(c.name);
    if (refused !== undefined) {
      test(`${c.name}: a TraceError naming '${refused}'`, () => {
        const [shapes] = fc.sample(c.shapes, { numRuns: 1, seed: 1 });
        const xs = inputs(c, shapes!, 1);
        const loss = (...v: Tensor[]): Tensor => c.f(...v).square().sum();
        expect(() => jit(grad(loss, { argnums: xs.map((_, i) => i) }))(...xs)).toThrow(TraceError);
        expect(() => jit(grad(loss, { argnums: xs.map((_, i) => i) }))(...xs)).toThrow(`'${refused}'`);
      });
      continue;
    }
    test(`${c.name}: same bits, replayed on other values, retraced on new shapes`, () => {
      const loss = (...v: Tensor[]): Tensor => c.f(...v).square().sum();
      // One compiled function for every run: each new signature traces, each repeated one replays.
      const compiled = new Map<number, (...xs: Tensor[]) => { value: Tensor; grads: Tensor[] }>();
      const shapesSeen = new Set<string>();
      fc.assert(
        fc.property(c.shapes, fc.integer({ min: 0, max: 1e6 }), (shapes, seed) => {
          const argnums = shapes.map((_, i) => i);
          let jf = compiled.get(shapes.length);
          if (jf === undefined) {
            jf = jit(valueAndGrad(loss, { argnums })) as unknown as (...xs: Tensor[]) => { value: Tensor; grads: Tensor[] };
            compiled.set(shapes.length, jf);
          }
          const before = (jf as unknown as { cacheSize: number }).cacheSize;
          const key = JSON.stringify(shapes);
          jf(...inputs(c, shapes, seed)); // traces, unless these shapes were seen
          expect((jf as unknown as { cacheSize: number }).cacheSize).toBe(before + (shapesSeen.has(key) ? 0 : 1));
          shapesSeen.add(key);
          // Other values, other signs and orders: what a stale program would get wrong.
          const xs = inputs(c, shapes, seed + 1000);
          const actual = jf(...xs);
          const expected = valueAndGrad(loss, { argnums })(...xs);
          expectSameBits(`${c.name} value`, actual.value, expected.value);
          expected.grads.forEach((g, k) => expectSameBits(`${c.name} gradient ${k}`, actual.grads[k]!, g));
          // jit(grad(f)) is the same program without the value.
          const gs = jit(grad(loss, { argnums }))(...xs) as unknown as Tensor[];
          expected.grads.forEach((g, k) => expectSameBits(`${c.name} grad ${k}`, gs[k]!, g));
        }),
        { numRuns: 6 },
      );
    });
  }
});

describe('jit(grad(f)) by hand, replayed on other values', () => {
  const x = A.tensor([[0.3, -0.5, 0.7], [0.2, 0.9, -0.4]], { dtype: 'float64' });
  const x2 = A.tensor([[-0.6, 0.8, 0.1], [1.3, -0.2, 0.45]], { dtype: 'float64' });
  const CASES: [string, (v: Tensor) => Tensor][] = [
    ['prod', (v) => v.prod()], ['cumsum', (v) => A.cumsum(v, 1)], ['cumprod', (v) => A.cumprod(v, 1)], ['sort', (v) => A.sort(v, 1).values],
    ['topk', (v) => A.topk(v, 2).values], ['gather', (v) => A.gather(v, 1, A.tensor([[0], [2]], { dtype: 'int32' }))],
    ['index_select', (v) => A.indexSelect(v, 1, A.tensor([2, 0], { dtype: 'int32' }))], ['pad', (v) => A.pad(v, [1, 1])], ['flip', (v) => A.flip(v, 1)],
    ['crossEntropy', (v) => A.crossEntropy(v, A.tensor([0, 2], { dtype: 'int32' }))], ['median', (v) => A.median(v)], ['quantile', (v) => A.quantile(v, 0.5)],
    ['det', (v) => A.det(A.matmul(v, v.transpose(0, 1)))], ['cholesky', (v) => A.cholesky(A.matmul(v, v.transpose(0, 1)).add(A.eye(2, 2, { dtype: 'float64' })))],
    ['conv1d', (v) => A.conv1d(v.unsqueeze(0), A.ones([1, 2, 2], { dtype: 'float64' }))], ['maxPool1d', (v) => A.maxPool1d(v.unsqueeze(0), 2)],
    ['normalize', (v) => A.normalize(v)], ['cdist', (v) => A.cdist(v, v.add(1))], ['maximum', (v) => v.maximum(v.flip([1]))],
  ];
  test.each(CASES)('%s', (name, f) => {
    const loss = (v: Tensor): Tensor => f(v).square().sum();
    const jf = jit(grad(loss));
    jf(x);
    expectSameBits(name, jf(x2), grad(loss)(x2));
  });

  test('an op whose VJP reads values is one backward equation of its arguments and the cotangent', () => {
    const loss = (v: Tensor): Tensor => A.sort(v, 1).values.mul(A.arange(0, 3, 1, { dtype: 'float64' })).sum();
    const text = jit(grad(loss)).lower(x).text;
    // Its inputs: the program's input c (sorted again at every call) and the cotangent.
    expect(text).toMatch(/= sortBackward\[.*\] c [a-z]+$/m);
  });

  test('grad(jit(grad(f))) through a rematerialised VJP: the replay records a graph that differentiates again', () => {
    const inner = (v: Tensor): Tensor => A.cumprod(v, 1).mul(A.sort(v, 1).values).sum();
    const compiled = jit(grad(inner));
    compiled(x);
    const outer = (v: Tensor): Tensor => compiled(v).square().sum();
    const eager = (v: Tensor): Tensor => grad(inner)(v).square().sum();
    // To rounding, not bits: the replayed graph reaches v through the backward primitives' own
    // graphs, so the contributions are summed in another order than eager's.
    assertClose(grad(outer)(x2), grad(eager)(x2), 1e-13, 1e-13);
  });

  test("dropout's gradient reads the mask the program drew at that call", () => {
    const loss = (v: Tensor): Tensor => A.dropout(v, 0.5).mul(v).sum();
    const jf = jit(valueAndGrad(loss));
    A.manualSeed(11);
    const eager = [valueAndGrad(loss)(x2), valueAndGrad(loss)(x2)];
    A.manualSeed(11);
    const compiled = [jf(x2), jf(x2)];
    compiled.forEach((c, i) => {
      expectSameBits('dropout value', c.value, eager[i]!.value);
      expectSameBits('dropout gradient', c.grads, eager[i]!.grads);
    });
  });

  test('a random op whose gradient needs its draws again is a TraceError naming it', () => {
    const loss = (s: Tensor): Tensor => A.normal(0, s, [2, 3]).square().sum();
    expect(() => jit(grad(loss))(x.abs())).toThrow(TraceError);
    expect(() => jit(grad(loss))(x.abs())).toThrow(/'normal'/);
  });

  test('second derivatives through a rematerialised VJP', () => {
    const inner = (v: Tensor): Tensor => A.cumprod(v, 1).sum();
    const outer = (v: Tensor): Tensor => grad(inner)(v).square().sum();
    const jf = jit(grad(outer));
    jf(x);
    expectSameBits('grad of grad', jf(x2), grad(outer)(x2));
  });
});
