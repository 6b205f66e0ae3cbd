import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import { Tensor, det, grad, gradients, hessian, jit, jvp, qr, tensor, vmap, type DType } from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import type { Arbitrary } from 'fast-check';
import { decode, expectMatches, torchFixture, type Encoded, type SecondOrderCase } from './helpers/torch-fixture.js';

// det's second derivative at matrices of every rank. d det(A) = tr(adj(A)·dA); at rank n-2 adj(A)
// is 0 but its derivative (the second-order cofactors) is not, and at rank ≤ n-3 both are 0.
// References: PyTorch (scripts/torch-reference.py, 'detSecondOrder': torch.linalg.det where its
// second derivative is right, else autograd through the cofactor expansion), finite differences
// of the gradient, gradgradcheck, and the Levi-Civita form of the 3×3 Hessian.

/** The Hessian of det applied to W (grad of <grad det(A), W>), with the gradient itself. */
function gradAndHvp(a: Tensor, w: Tensor): { g: Tensor; hv: Tensor } {
  const x = a.detach().requiresGrad_();
  const [g] = gradients([det(x).sum()], [x], { createGraph: true });
  const [hv] = gradients([g!.mul(w).sum()], [x]);
  return { g: g!.detach(), hv: hv! };
}

/** grad det at A. */
function gradientAt(a: Tensor): Tensor {
  const x = a.detach().requiresGrad_();
  return gradients([det(x).sum()], [x])[0]!;
}

/** U·diag(σ)·Vᵀ per batch element: U, V orthogonal (QR of seeded matrices), σ ∈ [0.5, 2] with the last n − rank zero. */
function planted(n: number, ranks: readonly number[], seed: number, dtype: DType = 'float64'): Tensor {
  const b = ranks.length;
  const u = qr(seededTensor([b, n, n], seed, { requiresGrad: false })).Q;
  const v = qr(seededTensor([b, n, n], seed + 1, { requiresGrad: false })).Q;
  const sigma = seededTensor([b, 1, n], seed + 2, { min: 0.5, max: 2, requiresGrad: false });
  const mask = new Float64Array(b * n);
  ranks.forEach((r, i) => mask.fill(1, i * n, i * n + r));
  const a = u.mul(sigma.mul(new Tensor(mask, [b, 1, n]))).matmul(v.transpose());
  return new Tensor(dtype === 'float64' ? Float64Array.from(a.data) : Float32Array.from(a.data), a.shape, { requiresGrad: true });
}

/** A batch of n×n matrices of planted ranks (0..n each), for n = 1..5. */
const plantedArb: Arbitrary<Tensor[]> = fc
  .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.noShrink(fc.integer({ min: 0, max: 1 << 30 })))
  .chain(([n, b, seed]) => fc.array(fc.integer({ min: 0, max: n }), { minLength: b, maxLength: b }).map((ranks) => [planted(n, ranks, seed)]));

describe('det: second derivative at singular matrices', () => {
  it('equals central differences of the gradient, at random matrices of planted rank (float64)', () => {
    fc.assert(fc.property(plantedArb, fc.noShrink(fc.integer()), ([a], seed) => {
      const w = seededTensor(a!.shape, seed, { requiresGrad: false });
      const { hv } = gradAndHvp(a!, w);
      const h = 1e-5;
      const numeric = gradientAt(a!.add(w.mul(h))).sub(gradientAt(a!.sub(w.mul(h)))).div(2 * h);
      const scale = Math.max(1, ...Array.from(numeric.data, Math.abs));
      assertClose(hv, numeric, 0, 1e-7 * scale);
      // Forward over reverse: the JVP of the gradient along W is the same Hessian-vector product.
      const { tangent } = jvp((x: Tensor) => gradients([det(x).sum()], [x], { createGraph: true })[0]!, [a!.detach().requiresGrad_()], [w]);
      assertClose(tangent, hv, 1e-10, 1e-10 * scale);
    }), { numRuns: 60 });
  });

  it('gradcheck and gradgradcheck at matrices of planted rank', () => {
    checkGradProperty((a) => det(a), plantedArb, { numRuns: 20 });
    checkGradGradProperty((a) => det(a), plantedArb, { numRuns: 20 });
  });

  it('the 3×3 Hessian at a rank-1 matrix is Σ ε_ikm·ε_jlp·A_mp (hand-derived)', () => {
    const values = [[1, 2, 3], [2, 4, 6], [3, 6, 9]];
    const a = tensor(values, { dtype: 'float64', requiresGrad: true });
    const h = hessian((x: Tensor) => det(x))(a) as Tensor;
    const eps = (i: number, j: number, k: number): number => ((i - j) * (j - k) * (k - i)) / 2;
    const want: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        for (let k = 0; k < 3; k++) {
          for (let l = 0; l < 3; l++) {
            let s = 0;
            for (let m = 0; m < 3; m++) for (let p = 0; p < 3; p++) s += eps(i, k, m) * eps(j, l, p) * values[m]![p]!;
            want.push(s);
          }
        }
      }
    }
    expect(h.shape).toEqual([3, 3, 3, 3]);
    assertClose(h.data, want, 0, 1e-13);
    // One entry by hand: ∂²det/∂A₀₀∂A₁₁ = A₂₂ = 9 (the 1×1 complementary minor); the gradient, adj(A)ᵀ, is 0.
    expect(h.data[0 * 27 + 0 * 9 + 1 * 3 + 1]).toBeCloseTo(9, 13);
    assertClose(gradientAt(a), new Array<number>(9).fill(0), 0, 1e-14);
  });

  it('third derivatives are exact too: Σ W_ij·V_mn·ε_imk·ε_jnl for every 3×3, at ranks 0, 1 and 3', () => {
    const eps = (i: number, j: number, k: number): number => ((i - j) * (j - k) * (k - i)) / 2;
    const w = tensor([[0.5, -1, 1.5], [0.25, -2, 0.75], [0.5, -1, 1.5]], { dtype: 'float64' });
    const v = tensor([[1, 0.5, -1], [2, 0, 1], [-0.5, 1, 3]], { dtype: 'float64' });
    const want: number[] = [];
    for (let k = 0; k < 3; k++) {
      for (let l = 0; l < 3; l++) {
        let s = 0;
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let m = 0; m < 3; m++) for (let n = 0; n < 3; n++) s += w.data[i * 3 + j]! * v.data[m * 3 + n]! * eps(i, m, k) * eps(j, n, l);
        want.push(s);
      }
    }
    for (const values of [[[0, 0, 0], [0, 0, 0], [0, 0, 0]], [[1, 2, 3], [2, 4, 6], [3, 6, 9]], [[2, 1, 0], [1, 3, 1], [0, 1, 4]]]) {
      const a = tensor(values, { dtype: 'float64', requiresGrad: true });
      const [g] = gradients([det(a)], [a], { createGraph: true });
      const [h] = gradients([g!.mul(w).sum()], [a], { createGraph: true });
      assertClose(gradients([h!.mul(v).sum()], [a])[0]!, want, 0, 1e-13);
    }
  });

  it('is zero at rank n-3 and the gradient exact at rank n-1, in float32 too', () => {
    for (const dtype of ['float64', 'float32'] as const) {
      const tol = dtype === 'float64' ? 1e-12 : 1e-5;
      const a = tensor([[[1, 2, 3], [2, 4, 6], [-1, -2, -3]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]], { dtype });
      const w = tensor([[[0.5, -1, 1.5], [0.25, -2, 0.75], [0.5, -1, 1.5]], [[0.5, -1, 1.5], [0.25, -2, 0.75], [0.5, -1, 1.5]]], { dtype });
      const { g, hv } = gradAndHvp(a, w);
      expect(g.dtype).toBe(dtype);
      // Rank 1: gradient 0, Hessian·W = Σ ε_ikm·ε_jlp·A_mp·W_kl; rank 2: adj(A)ᵀ (integers).
      assertClose(g, [0, 0, 0, 0, 0, 0, 0, 0, 0, -3, 6, -3, 6, -12, 6, -3, 6, -3], 0, tol * 20);
      const zero = tensor([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], { dtype });
      const z = gradAndHvp(zero, tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]], { dtype }));
      assertClose(z.g, new Array<number>(16).fill(0), 0, 0);
      assertClose(z.hv, new Array<number>(16).fill(0), 0, 0);
      expect(hv.data.every(Number.isFinite)).toBe(true);
    }
  });

  it('vmap of the Hessian-vector product equals it per matrix', () => {
    const a = planted(3, [1, 2, 3], 7);
    const w = seededTensor([3, 3, 3], 11, { requiresGrad: false });
    const per = vmap((x: Tensor, v: Tensor) => grad((y: Tensor) => grad((z: Tensor) => det(z))(y).mul(v).sum())(x));
    const { hv } = gradAndHvp(a, w);
    assertClose(per(a.detach(), w), hv, 1e-12, 1e-12);
  });

  it('jit(grad of grad): a program traced at a regular matrix gives the eager value at a singular one, and the reverse', () => {
    const w = tensor([[0.5, -1, 1.5], [0.25, -2, 0.75], [0.5, -1, 1.5]], { dtype: 'float64' });
    const hvp = (a: Tensor): Tensor => {
      const x = a.requiresGrad ? a : a.detach().requiresGrad_();
      const [g] = gradients([det(x)], [x], { createGraph: true });
      return gradients([g!.mul(w).sum()], [x])[0]!;
    };
    const singular = tensor([[1, 2, 3], [2, 4, 6], [3, 6, 9]], { dtype: 'float64' });
    const rankTwo = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], { dtype: 'float64' });
    const regular = tensor([[2, 1, 0], [1, 3, 1], [0, 1, 4]], { dtype: 'float64' });
    for (const [first, second] of [[regular, singular], [singular, regular], [singular, rankTwo], [rankTwo, singular]] as const) {
      const f = jit(hvp);
      assertClose(f(first), hvp(first), 1e-12, 1e-12);
      assertClose(f(second), hvp(second), 1e-12, 1e-12);
    }
  });
});

// ----------------------------------------------------------------------------------------------
// PyTorch

interface DetCall extends SecondOrderCase {
  reference: 'torch.linalg.det' | 'cofactor expansion';
  torchGradgrads64?: Encoded[][];
}

const fixture = torchFixture<{ detSecondOrder: DetCall[] }>();

// Within rtol·scale absolutely, scale = (n·max|A_ij|)^(n − order) for the order-th derivative of
// det: the size of the products it sums, whose cancellation leaves absolute, not relative, errors.
const expectNear = (what: string, got: ArrayLike<number>, want: readonly Encoded[], rtol: number, scale: number): void => expectMatches(what, got, want, 0, rtol * scale);

describe(`PyTorch ${fixture.torch}: det's first and second derivatives at every rank`, () => {
  for (const c of fixture.detSecondOrder) {
    for (const dtype of ['float64', 'float32'] as const) {
      test(`${c.title} (${dtype}; ${c.reference})`, () => {
        const [forward, grads, gradgrads, rtol] = dtype === 'float64' ? [c.forward64, c.grads64, c.gradgrads64, 1e-14] : [c.forward32, c.grads32, c.gradgrads32, 1e-5];
        const input = c.inputs[0]!;
        const n = input.shape[input.shape.length - 1]!;
        const size = Math.max(1, n * Math.max(...input.values.map((v) => Math.abs(decode(v)))));
        const scale = (order: number): number => size ** Math.max(0, n - order);
        const x = tensor(input.values.map(decode), { dtype, shape: input.shape, requiresGrad: true });
        const y = det(x);
        expectNear('forward', y.data, forward, rtol, scale(0));
        const [g] = gradients([y.mul(tensor(c.upstream.map(decode), { dtype, shape: y.shape })).sum()], [x], { createGraph: true });
        expectNear('gradient', g!.data, grads[0]!, rtol, scale(1));
        const [gg] = gradients([g!.mul(tensor(c.direction[0]!.map(decode), { dtype, shape: x.shape })).sum()], [x]);
        expectNear('second derivative', gg!.data, gradgrads[0]!, rtol, scale(2));
      });
    }
  }
  test('the cases where torch.linalg.det is wrong are still in the fixture (NaN at repeated zero singular values)', () => {
    const differing = fixture.detSecondOrder.filter((c) => c.reference === 'cofactor expansion');
    expect(differing.some((c) => c.torchGradgrads64![0]!.some((v) => Number.isNaN(decode(v))))).toBe(true);
  });
});
