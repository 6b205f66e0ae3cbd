import { describe, expect, test } from 'vitest';
import { Tensor, grad, hessian, jacfwd, jit, numericGrad } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { f64 } from './helpers/tensors.js';

// JAX's jit(hessian(f)) and jit(jacfwd(f)) compile the Jacobian; chainrule's give the same
// Jacobians as outside jit, on every call (values other than the traced ones included).
// References: hand-derived derivatives and central differences of the gradient, never the
// transform itself.

const f = (x: Tensor): Tensor => x.sin().mul(x.square()).sum();
/** d²/dx² sin(x)x² = -sin(x)x² + 4x cos(x) + 2 sin(x), on the diagonal. */
const d2 = (a: number): number => -Math.sin(a) * a * a + 4 * a * Math.cos(a) + 2 * Math.sin(a);
const diag = (vs: readonly number[]): Tensor => f64(vs.flatMap((v, i) => vs.map((_, j) => (i === j ? v : 0)))).reshape([vs.length, vs.length]);

describe('jit of forward-mode Jacobians', () => {
  test('jit(hessian(f)) is the diagonal of the second derivative at every call, traced once', () => {
    const h = jit(hessian(f));
    for (const vs of [[0.3, -1.2, 0.8], [2, 0.5, -0.7]]) assertClose(h(f64(vs)), diag(vs.map(d2)), 1e-12, 1e-12);
    expect(h.cacheSize).toBe(1);
  });

  test('jit(jacfwd(f)) of a vector function agrees with central differences, row by row', () => {
    const g = (x: Tensor): Tensor => x.mul(x.sum()).tanh();
    const J = jit(jacfwd(g));
    for (const vs of [[0.3, -0.2, 0.1], [0.5, 0.4, -0.6]]) {
      const x = f64(vs);
      const jac = J(x);
      vs.forEach((_, i) => {
        const row = numericGrad((t: Tensor) => g(t).narrow(0, i, 1).sum(), [x])[0]!;
        assertClose(jac.narrow(0, i, 1).reshape([3]), row, 1e-7, 1e-9);
      });
    }
  });

  test('jit(hessian) of two arguments gives the blocks [[Hxx, Hxy], [Hyx, Hyy]] of Σ x²·y', () => {
    const H = jit(hessian((x: Tensor, y: Tensor) => x.square().mul(y).sum(), { argnums: [0, 1] }));
    const x = f64([1, -2]);
    const y = f64([3, 0.5]);
    const [[hxx, hxy], [hyx, hyy]] = H(x, y);
    assertClose(hxx, diag([6, 1]), 0, 0);
    assertClose(hxy, diag([2, -4]), 0, 0);
    assertClose(hyx, diag([2, -4]), 0, 0);
    assertClose(hyy, diag([0, 0]), 0, 0);
    // hasAux passes through the compiled program too.
    const [Ha, aux] = jit(hessian((t: Tensor): [Tensor, Tensor] => [f(t), grad(f)(t)], { hasAux: true }))(x);
    assertClose(Ha, diag([1, -2].map(d2)), 1e-12, 1e-12);
    assertClose(aux, numericGrad(f, [x])[0]!, 1e-7, 1e-9);
  });
});
