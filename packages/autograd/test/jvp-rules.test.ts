/**
 * Every op's forward-mode rule, one row per op: `jvp` against the double-VJP reference (which
 * uses no JVP rule) and against central finite differences, in float64, by property over random
 * shapes, values and tangents. The primals do not require grad, so a rule cannot lean on the
 * reverse graph.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { jvp, Tensor } from '@chainrule/autograd';
import { assertClose, seededTensor, type ValueConstraints } from '@chainrule/autograd/testing';
import { opCases, type OpCase } from './helpers/op-cases.js';
import { jvpByDifferences, jvpByDoubleVjp } from './helpers/jvp-reference.js';

/** Primals (not requiring grad) and tangents of the given shapes, from seeds. */
function primalsAndTangents(c: OpCase): fc.Arbitrary<{ xs: Tensor[]; vs: Tensor[] }> {
  return fc.tuple(c.shapes, fc.integer({ min: 0, max: 1e6 })).map(([shapes, seed]) => {
    const xs = shapes.map((s, k) => {
      const values = Array.isArray(c.values) ? (c.values as ValueConstraints[])[k] : (c.values as ValueConstraints | undefined);
      return seededTensor(s, seed + k, { ...values, requiresGrad: false }) as Tensor;
    });
    const vs = shapes.map((s, k) => seededTensor(s, seed + 100 + k, { min: -1, max: 1, requiresGrad: false }) as Tensor);
    return { xs, vs };
  });
}

describe('each JVP rule', () => {
  for (const c of opCases) {
    test(`${c.name}: jvp equals the double VJP and finite differences`, () => {
      fc.assert(
        fc.property(primalsAndTangents(c), ({ xs, vs }) => {
          const { output, tangent } = jvp(c.f, xs, vs);
          assertClose(output, c.f(...xs), 1e-12, 1e-12);
          expect(tangent.shape).toEqual(output.shape);
          expect(tangent.dtype).toBe(output.dtype);
          if (c.noReference === undefined) assertClose(tangent, jvpByDoubleVjp(c.f, xs, vs), 1e-8, 1e-9);
          if (c.noDifferences === undefined) assertClose(tangent, jvpByDifferences(c.f, xs, vs), c.fdTol ?? 1e-5, c.fdTol ?? 1e-5);
        }),
        { numRuns: 8 },
      );
    });
  }
});
