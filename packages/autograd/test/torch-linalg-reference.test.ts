import { describe, expect, test } from 'vitest';
import {
  Tensor, arange, cholesky, choleskySolve, concat, det, eigh, eye, inv, lstsq, matrixExp, matrixPower, pinv, qr, slogdet, solve, svd, svdvals,
  tensor, triangularSolve,
} from '@chainrule/autograd';
import { decode, torchFixture, type Encoded } from './helpers/torch-fixture.js';

// PyTorch's values for the `linalg` cases of scripts/torch-reference.py: each case's function,
// written here again with chainrule's ops under the same name, runs on the same inputs; its
// forward and its float64 gradients for the same upstream gradient must match.

interface Flat {
  shape: number[];
  data: Encoded[];
}

interface LinalgCase {
  name: string;
  inputs: Flat[];
  output: Flat;
  upstream: Encoded[];
  grads64: Encoded[][];
}

const fixture = torchFixture<{ linalg: LinalgCase[] }>();

const f64 = (data: number[] | Float64Array, shape: number[]): Tensor => tensor(Float64Array.from(data), { shape });

function spd(m: Tensor): Tensor {
  const n = m.shape[m.ndim - 1]!;
  return m.matmul(m.transpose()).add(eye(n, n, { dtype: 'float64' }));
}

function wellConditioned(m: Tensor): Tensor {
  const n = m.shape[m.ndim - 1]!;
  return m.add(eye(n, n, { dtype: 'float64' }).mul(n + 1));
}

function separated(m: Tensor): Tensor {
  const n = m.shape[m.ndim - 1]!;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = 3 * i;
  return m.add(m.transpose()).div(2).add(f64(d, [n, n]));
}

function separatedSingular(m: Tensor): Tensor {
  const r = m.shape[m.ndim - 2]!, c = m.shape[m.ndim - 1]!, k = Math.min(r, c);
  const d = new Float64Array(r * c);
  for (let i = 0; i < k; i++) d[i * c + i] = 2 * (k - i) + 1;
  return m.mul(0.3).add(f64(d, [r, c]));
}

function svdInvariant(m: Tensor, fullMatrices: boolean): Tensor {
  const { U, S, Vh } = svd(separatedSingular(m), { fullMatrices });
  const k = S.shape[S.ndim - 1]!;
  const w = arange(1, k + 1, 1, { dtype: 'float64' });
  return concat([S.flatten(), U.slice(-1, 0, k).mul(w).matmul(Vh.slice(-2, 0, k)).flatten()]);
}

function qrBoth(m: Tensor, mode: 'reduced' | 'complete'): Tensor {
  const { Q, R } = qr(separatedSingular(m), { mode });
  return concat([Q.flatten(), R.flatten()]);
}

const CASES: Record<string, (...xs: Tensor[]) => Tensor> = {
  inv: (a) => inv(wellConditioned(a)),
  solve: (a, b) => solve(wellConditioned(a), b!),
  solve_vector: (a, b) => solve(wellConditioned(a), b!),
  solve_right: (a, b) => solve(wellConditioned(a), b!, { left: false }),
  det: (a) => det(a.mul(2)),
  slogdet: (a) => slogdet(a.mul(2)).logabsdet,
  det_singular: (x, y) => det(x.matmul(y!)),
  cholesky: (m) => cholesky(spd(m)),
  cholesky_upper: (m) => cholesky(spd(m), { upper: true }),
  cholesky_solve: (b, m) => choleskySolve(b, cholesky(spd(m!))),
  solve_triangular_lower: (a, b) => triangularSolve(wellConditioned(a), b!, { upper: false }),
  solve_triangular_upper_right_unit: (a, b) => triangularSolve(wellConditioned(a), b!, { upper: true, left: false, unitriangular: true }),
  qr_tall: (m) => qrBoth(m, 'reduced'),
  qr_wide: (m) => qrBoth(m, 'reduced'),
  qr_complete_wide: (m) => qrBoth(m, 'complete'),
  eigh: (m) => {
    const { eigenvalues, eigenvectors: v } = eigh(separated(m));
    return concat([eigenvalues.flatten(), v.mul(v).flatten()]);
  },
  svd_tall: (m) => svdInvariant(m, false),
  svd_wide_full: (m) => svdInvariant(m, true),
  svdvals: (m) => svdvals(separatedSingular(m)),
  pinv_tall: (m) => pinv(separatedSingular(m)),
  pinv_wide: (m) => pinv(separatedSingular(m)),
  lstsq: (a, b) => lstsq(separatedSingular(a), b!).solution,
  matrix_exp: (a) => matrixExp(a.mul(3)),
  matrix_power_3: (a) => matrixPower(a, 3),
  matrix_power_neg2: (a) => matrixPower(wellConditioned(a), -2),
};

/** Within rtol of PyTorch relative to the largest value of the result (LAPACK rounds otherwise). */
function expectNear(what: string, got: ArrayLike<number>, want: Encoded[], rtol: number): void {
  expect(got.length, what).toBe(want.length);
  const w = want.map(decode);
  const scale = Math.max(1, ...w.map(Math.abs));
  for (let i = 0; i < w.length; i++) {
    expect(Math.abs(got[i]! - w[i]!) <= rtol * scale, `${what}, element ${i}: got ${got[i]}, PyTorch ${w[i]}`).toBe(true);
  }
}

describe(`PyTorch ${fixture.torch} torch.linalg reference values`, () => {
  test('every case of the fixture has a function here, and every function a case', () => {
    expect(fixture.linalg.map((c) => c.name).sort()).toEqual(Object.keys(CASES).sort());
  });
  for (const c of fixture.linalg) {
    test(`${c.name}: forward and float64 gradients`, () => {
      const inputs = c.inputs.map((x) => tensor(Float64Array.from(x.data, decode), { shape: x.shape, requiresGrad: true }));
      const y = CASES[c.name]!(...inputs);
      expect(y.shape).toEqual(c.output.shape);
      expectNear(`${c.name} forward`, y.data, c.output.data, 1e-13);
      y.backward(tensor(Float64Array.from(c.upstream, decode), { shape: y.shape }));
      inputs.forEach((x, i) => expectNear(`${c.name} gradient of input ${i}`, x.grad!.data, c.grads64[i]!, 1e-12));
    });
  }
  test('a singular matrix: det 0, slogdet (0, -inf), as PyTorch', () => {
    const s = f64([1, 2, 2, 4], [2, 2]);
    expect(det(s).item()).toBe(0);
    expect(slogdet(s).sign.item()).toBe(0);
    expect(slogdet(s).logabsdet.item()).toBe(-Infinity);
  });
});
