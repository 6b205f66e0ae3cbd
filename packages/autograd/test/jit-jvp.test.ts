import { describe, test } from 'vitest';
import { Tensor, jit, jvp, linearize } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { f64 } from './helpers/tensors.js';

// Failing: forward mode does not trace. A jvp inside a jitted function computes its tangents
// inside each op, out of the trace's sight, so the trace holds the tangent as a constant of the
// traced call and refuses it ("'the result' reads a tensor ... that an op computed from traced
// values outside any op"). JAX's jit(jvp(f)) and jit of linearize's map compile. (jacfwd and
// hessian take the Jacobian in reverse mode while jit traces, so they work.)
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
});
