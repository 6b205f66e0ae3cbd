/**
 * Every row of the shared op table under vmap: vmap(f) against f stacked over slices (random
 * in-axes, shared arguments, out-axes), vmap(grad(f)) against the stacked gradients, and the
 * Hessian (forward over reverse: vmap of jvp of grad, every rule composed) against the Jacobian of
 * the gradient taken in reverse mode alone; and jit(vmap(grad(f))) replayed on other values
 * against vmap(grad(f)). float64, by property over shapes and values.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { grad, hessian, jacobian, jit, Tensor, treeLeaves, vmap } from '@chainrule/autograd';
import { seededTensor, type ValueConstraints } from '@chainrule/autograd/testing';
import { opCases, type OpCase } from './helpers/op-cases.js';
import { assertTreesClose, batchedShape, stackedReference, vmapCaseArb } from './helpers/vmap-reference.js';

/** The case's inputs at their batched shapes, each with its own value constraints. */
function batchedInputs(c: OpCase, vc: { shapes: number[][]; size: number; inAxes: (number | null)[]; seed: number }): Tensor[] {
  return vc.shapes.map((s, k) => {
    const values = Array.isArray(c.values) ? (c.values as ValueConstraints[])[k] : (c.values as ValueConstraints | undefined);
    return seededTensor(batchedShape(s, vc.inAxes[k]!, vc.size), vc.seed + 7919 * k, { ...values, requiresGrad: false }) as Tensor;
  });
}

/** A scalar loss of the case's output: smooth wherever the op is. */
const lossOf = (c: OpCase) => (...xs: Tensor[]): Tensor => c.f(...xs).square().sum();

// A mask computed from each example's values keeps a number of elements of its own: no one shape.
const REFUSED = new Map([['index (mask)', /vmap: 'index' has no batching rule for a batched bool mask/]]);

describe('vmap of every op in the shared table', () => {
  for (const c of opCases) {
    const refused = REFUSED.get(c.name);
    if (refused !== undefined) {
      test(`${c.name}: an error naming the op`, () => {
        const [vc] = fc.sample(vmapCaseArb(c.shapes), { numRuns: 1, seed: 1 });
        const xs = batchedInputs(c, { ...vc!, inAxes: vc!.inAxes.map(() => 0) });
        expect(() => vmap(c.f)(...xs)).toThrow(refused);
      });
      continue;
    }
    test(`${c.name}: vmap(f) and vmap(grad(f)) equal their loops`, () => {
      fc.assert(
        fc.property(vmapCaseArb(c.shapes), (vc) => {
          const xs = batchedInputs(c, vc);
          const outRank = (treeLeaves(stackedReference(c.f, xs, vc.inAxes, 0))[0] as Tensor).ndim;
          const outAxis = Math.floor(vc.out * 2 * outRank) - outRank;
          assertTreesClose(vmap(c.f, { inAxes: vc.inAxes, outAxes: outAxis })(...xs), stackedReference(c.f, xs, vc.inAxes, outAxis), 1e-9, 1e-11);
          const g = grad(lossOf(c), { argnums: xs.map((_, i) => i) });
          assertTreesClose(vmap(g, { inAxes: vc.inAxes })(...xs), stackedReference(g, xs, vc.inAxes, 0), 1e-8, 1e-10);
        }),
        { numRuns: 4 },
      );
    });
  }
});

describe('hessian (vmap of jvp of grad) of every op in the shared table', () => {
  for (const c of opCases) {
    if (c.noReference !== undefined || REFUSED.has(c.name)) continue;
    test(`${c.name}: equals the reverse-mode Jacobian of the gradient`, () => {
      fc.assert(
        fc.property(c.shapes, fc.integer({ min: 0, max: 1e6 }), (shapes, seed) => {
          const xs = batchedInputs(c, { shapes, size: 1, inAxes: shapes.map(() => null), seed });
          const loss = (x: Tensor): Tensor => lossOf(c)(x, ...xs.slice(1));
          assertTreesClose(hessian(loss)(xs[0]!), jacobian(grad(loss))(xs[0]!), 1e-8, 1e-10);
        }),
        { numRuns: 2 },
      );
    });
  }
});

// Results whose shape depends on values: no program holds them.
const UNTRACEABLE = new Set(['bincount']);

describe('jit(vmap(grad(f))) of every op in the shared table', () => {
  for (const c of opCases) {
    if (REFUSED.has(c.name) || UNTRACEABLE.has(c.name)) continue;
    test(`${c.name}: replayed on other values, equals vmap(grad(f))`, () => {
      fc.assert(
        fc.property(vmapCaseArb(c.shapes), (vc) => {
          const g = vmap(grad(lossOf(c), { argnums: vc.shapes.map((_, i) => i) }), { inAxes: vc.inAxes });
          const compiled = jit(g);
          compiled(...batchedInputs(c, vc));
          const xs = batchedInputs(c, { ...vc, seed: vc.seed + 1 });
          assertTreesClose(compiled(...xs), g(...xs), 1e-10, 1e-12);
        }),
        { numRuns: 2 },
      );
    });
  }
});
