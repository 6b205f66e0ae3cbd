import { describe, expect, expectTypeOf, test } from 'vitest';
import { grad, hessian, jacfwd, jacobian, jacrev, jvp, linearize, numericGrad, Tensor, valueAndGrad, vjp } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { f64 } from './helpers/tensors.js';

// JAX's has_aux: f returns (output, aux); the transform differentiates the output only and hands
// aux back untouched: grad → (g, aux), jvp → (out, tangent, aux), jacfwd/jacrev/hessian → (J, aux).
// Expected values are hand-derived or central differences, never the transform without aux.

const x = f64([0.3, -1.2, 0.8]);
const v = f64([0.5, 2, -1]);

/** f(x) = Σ sin(x)·x², with the intermediate sin(x) and a label as aux. */
const withAux = (t: Tensor): [Tensor, { s: Tensor; label: string }] => {
  const s = t.sin();
  return [s.mul(t.square()).sum(), { s, label: 'aux' }];
};
const fd = (t: Tensor): Tensor => withAux(t)[0];
/** d/dx sin(x)x² = cos(x)x² + 2x sin(x); second derivative -sin(x)x² + 4x cos(x) + 2 sin(x). */
const d1 = (a: number): number => Math.cos(a) * a * a + 2 * a * Math.sin(a);
const d2 = (a: number): number => -Math.sin(a) * a * a + 4 * a * Math.cos(a) + 2 * Math.sin(a);

describe('hasAux, as JAX has_aux', () => {
  test('grad returns [gradient, aux]; the gradient agrees with central differences and aux is f\'s own', () => {
    const [g, aux] = grad(withAux, { hasAux: true })(x);
    assertClose(g, numericGrad(fd, [x])[0]!, 1e-7, 1e-9);
    assertClose(g, f64(Array.from(x.data, d1)), 1e-12, 1e-12);
    assertClose(aux.s, f64(Array.from(x.data, Math.sin)), 1e-15, 0);
    expect(aux.label).toBe('aux');
    expect(aux.s.requiresGrad).toBe(false);
  });

  test('grad with a list of argnums and hasAux gives [[g0, g1], aux]', () => {
    const y = f64([2, -1, 0.5]);
    const f = (a: Tensor, b: Tensor): [Tensor, number] => [a.mul(b).sum(), 7];
    const [[ga, gb], aux] = grad(f, { argnums: [0, 1], hasAux: true })(x, y);
    assertClose(ga, y, 0, 0);
    assertClose(gb, x, 0, 0);
    expect(aux).toBe(7);
    expect(valueAndGrad(f, { argnums: [0, 1], hasAux: true })(x, y).aux).toBe(7);
  });

  test('jvp with hasAux returns the output, J·v and aux', () => {
    const { output, tangent, aux } = jvp((t: Tensor) => [t.sin(), t.cos()] as const, [x], [v], { hasAux: true });
    assertClose(output, f64(Array.from(x.data, Math.sin)), 1e-15, 0);
    assertClose(tangent, f64(Array.from(x.data, (a, i) => Math.cos(a) * v.data[i]!)), 1e-15, 0);
    assertClose(aux, f64(Array.from(x.data, Math.cos)), 1e-15, 0);
    expect(jvp((t: Tensor) => t.sin(), [x], [v]).aux).toBeUndefined();
  });

  test('vjp with a last argument { hasAux: true } returns the output, the pullback and aux', () => {
    const y = f64([2, -1, 0.5]);
    const { output, pullback, aux } = vjp((a: Tensor, b: Tensor): [Tensor, string] => [a.mul(b).sin(), 'note'], x, y, { hasAux: true });
    assertClose(output, f64(Array.from(x.data, (a, i) => Math.sin(a * y.data[i]!))), 1e-15, 0);
    expect(aux).toBe('note');
    // d/da sin(a·b)·u = cos(a·b)·b·u, d/db = cos(a·b)·a·u.
    const [da, db] = pullback(v);
    assertClose(da, f64(Array.from(x.data, (a, i) => Math.cos(a * y.data[i]!) * y.data[i]! * v.data[i]!)), 1e-14, 1e-15);
    assertClose(db, f64(Array.from(x.data, (a, i) => Math.cos(a * y.data[i]!) * a * v.data[i]!)), 1e-14, 1e-15);
    // Without the option the last argument is a primal as before, and a boolean in it is refused.
    expect(() => (vjp as (...args: unknown[]) => unknown)((a: Tensor) => a, x, { hasAux: 'yes' })).toThrow(/^vjp: primal 1 at \.hasAux is a string/);
    expect(() => vjp(((a: Tensor) => a) as never, x, { hasAux: true })).toThrow(/^vjp: with hasAux the function must return \[output, aux\], got Tensor/);
    expectTypeOf(vjp((a: Tensor): [Tensor, number] => [a, 1], x, { hasAux: true }).aux).toEqualTypeOf<number>();
    expectTypeOf(vjp((a: Tensor, b: Tensor): [Tensor, number] => [a.mul(b), 1], x, y, { hasAux: true }).pullback).returns.toEqualTypeOf<[Tensor, Tensor]>();
  });

  test('linearize with a last argument { hasAux: true } returns the output, the linear map and aux', () => {
    const { output, jvp: lin, aux } = linearize((t: Tensor): [Tensor, number] => [t.exp(), 42], x, { hasAux: true });
    assertClose(output, f64(Array.from(x.data, Math.exp)), 1e-15, 0);
    expect(aux).toBe(42);
    assertClose(lin(v), f64(Array.from(x.data, (a, i) => Math.exp(a) * v.data[i]!)), 1e-15, 0);
    expect(() => linearize(((t: Tensor) => t) as never, x, { hasAux: true })).toThrow(/^linearize: with hasAux the function must return \[output, aux\]/);
  });

  test('jacfwd, jacrev and jacobian with hasAux return [J, aux], J = diag of the derivative', () => {
    const expected = f64(Array.from({ length: 9 }, (_, k) => (k % 4 === 0 ? Math.cos(x.data[k / 4]!) : 0))).reshape([3, 3]);
    const f = (t: Tensor): [Tensor, Tensor] => [t.sin(), t.square()];
    for (const transform of [jacfwd, jacrev, jacobian] as const) {
      const [J, aux] = transform(f, { hasAux: true })(x);
      assertClose(J, expected, 1e-14, 1e-15);
      assertClose(aux, f64(Array.from(x.data, (a) => a * a)), 0, 0);
    }
  });

  test('hessian with hasAux returns [H, aux], H = diag of the second derivative', () => {
    const [H, aux] = hessian(withAux, { hasAux: true })(x);
    const expected = f64(Array.from({ length: 9 }, (_, k) => (k % 4 === 0 ? d2(x.data[k / 4]!) : 0))).reshape([3, 3]);
    assertClose(H, expected, 1e-12, 1e-12);
    expect(aux.label).toBe('aux');
    const y = f64([2, -1, 0.5]);
    const [[[hxx, hxy], [hyx, hyy]], n] = hessian((a: Tensor, b: Tensor): [Tensor, number] => [a.mul(b).sum(), 3], { argnums: [0, 1], hasAux: true })(x, y);
    const eye = f64([1, 0, 0, 0, 1, 0, 0, 0, 1]).reshape([3, 3]);
    const zero = f64(Array<number>(9).fill(0)).reshape([3, 3]);
    assertClose(hxx, zero, 0, 0);
    assertClose(hyy, zero, 0, 0);
    assertClose(hxy, eye, 0, 0);
    assertClose(hyx, eye, 0, 0);
    expect(n).toBe(3);
  });

  test('a function that does not return a pair, a non-boolean hasAux and unknown options are errors naming the transform', () => {
    const f = (t: Tensor): Tensor => t.sum();
    expect(() => grad(f as never, { hasAux: true })(x)).toThrow(/^grad: with hasAux the function must return \[output, aux\], got Tensor/);
    expect(() => jacrev(f as never, { hasAux: true })(x)).toThrow(/^jacrev: with hasAux the function must return \[output, aux\]/);
    expect(() => jacfwd(((t: Tensor) => [t, t, t]) as never, { hasAux: true })(x)).toThrow(/^jacfwd: with hasAux the function must return \[output, aux\], got an array of 3/);
    expect(() => hessian(f as never, { hasAux: true })(x)).toThrow(/^hessian: with hasAux the function must return \[output, aux\]/);
    expect(() => jvp(f as never, [x], [v], { hasAux: true })).toThrow(/^jvp: with hasAux the function must return \[output, aux\]/);
    expect(() => grad(f, { hasAux: 'yes' } as never)).toThrow(/^grad: hasAux must be a boolean, got string/);
    // An options object jvp does not know is an error, never silently ignored.
    expect(() => jvp(f, [x], [v], { has_aux: true } as never)).toThrow(/^jvp: unknown option 'has_aux' \(the options are hasAux\)/);
  });

  test('the public types carry aux', () => {
    expectTypeOf(grad(withAux, { hasAux: true })(x)).toEqualTypeOf<[Tensor, { s: Tensor; label: string }]>();
    expectTypeOf(grad((a: Tensor, b: Tensor): [Tensor, number] => [a.mul(b).sum(), 1], { argnums: [0, 1], hasAux: true })(x, x)).toEqualTypeOf<[[Tensor, Tensor], number]>();
    expectTypeOf(jvp((t: Tensor): [Tensor, number] => [t, 1], [x], [v], { hasAux: true }).aux).toEqualTypeOf<number>();
    expectTypeOf(jacrev((t: Tensor): [Tensor, string] => [t, 's'], { hasAux: true })(x)).toEqualTypeOf<[Tensor, string]>();
    expectTypeOf(hessian(withAux, { hasAux: true })(x)).toEqualTypeOf<[Tensor, { s: Tensor; label: string }]>();
  });
});
