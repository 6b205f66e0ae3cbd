import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DTypeError, GraphError, LinAlgError, ShapeError, ArgumentError, Tensor, cholesky, choleskySolve, det, eigh, eye, inv, lstsq, matrixExp,
  matrixPower, pinv, qr, slogdet, solve, svd, svdvals, tensor, triangularSolve, vmap,
} from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import type { Arbitrary } from 'fast-check';
import { batchCount, cofactorDet, expSeries, identity, matrixAt, maxDiff, mm, tr } from './helpers/linalg-reference.js';
import { messageOf } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

// ----------------------------------------------------------------------------------------------
// Inputs

/** Leading batch shapes: none, [b] or [b1, b2], with small sizes. */
const batchArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 });

/** Lists of tensors of the given shapes, seeded (values do not shrink), as `tensorsArb`. */
function seeded(shapes: Arbitrary<number[][]>, min = -1, max = 1): Arbitrary<Tensor[]> {
  return fc.tuple(shapes, fc.noShrink(fc.integer())).map(([list, seed]) => list.map((s, i) => seededTensor(s, seed + i * 7919, { min, max })));
}

/** One batch of n×n matrices. */
const squareArb = (maxN = 4): Arbitrary<Tensor[]> =>
  seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: maxN })).map(([b, n]) => [[...b, n, n]]));

/** One batch of m×n matrices (tall, square or wide). */
const rectArb = (maxN = 4): Arbitrary<Tensor[]> =>
  seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: maxN }), fc.integer({ min: 1, max: maxN })).map(([b, m, n]) => [[...b, m, n]]));

/** M + c·I: away from singular for the values seeded() draws (|m_ij| ≤ 1, c = n + 1). */
function wellConditioned(m: Tensor): Tensor {
  const n = m.shape[m.ndim - 1]!;
  return m.add(eye(n, n, { dtype: m.dtype }).mul(n + 1));
}

/** M·Mᵀ + I: symmetric positive-definite, for every M. */
function spd(m: Tensor): Tensor {
  const n = m.shape[m.ndim - 1]!;
  return m.matmul(m.transpose()).add(eye(n, n, { dtype: m.dtype }));
}

/** (M + Mᵀ)/2 + D with D = diag(0, 3, 6, ...): symmetric with well-separated eigenvalues. */
function separated(m: Tensor): Tensor {
  const n = m.shape[m.ndim - 1]!;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = 3 * i;
  return m.add(m.transpose()).mul(0.5).add(new Tensor(m.dtype === 'float64' ? d : Float32Array.from(d), [n, n]));
}

/** A matrix with well-separated singular values: M·0.3 + diag(k, k-1, ...)·2 padded to m×n. */
function separatedSingular(x: Tensor): Tensor {
  const m = x.shape[x.ndim - 2]!, n = x.shape[x.ndim - 1]!;
  const d = new Float64Array(m * n);
  for (let i = 0; i < Math.min(m, n); i++) d[i * n + i] = 2 * (Math.min(m, n) - i) + 1;
  return x.mul(0.3).add(new Tensor(d, [m, n]));
}

/** n×n matrices stacked into a [k, n, n] leaf that requires grad. */
function tensorStack(ms: Tensor[], n: number): Tensor {
  const data = new Float64Array(ms.length * n * n);
  ms.forEach((m, i) => data.set(m.data, i * n * n));
  return new Tensor(data, [ms.length, n, n], { requiresGrad: true });
}

function checkBoth(f: (...xs: Tensor[]) => Tensor, inputs: Arbitrary<Tensor[]>, runs = { grad: 15, gradgrad: 5 }): void {
  checkGradProperty(f, inputs, { numRuns: runs.grad });
  checkGradGradProperty(f, inputs, { numRuns: runs.gradgrad });
}

// ----------------------------------------------------------------------------------------------
// Forward against the definitions

describe('linalg: forward against the definitions', () => {
  it('inv: A·inv(A) = I for every matrix of a batch', () => {
    fc.assert(fc.property(squareArb(5), ([m]) => {
      const a = wellConditioned(m!);
      const x = inv(a);
      const n = a.shape[a.ndim - 1]!;
      expect(x.shape).toEqual(a.shape);
      for (let i = 0; i < batchCount(a); i++) {
        expect(maxDiff(mm(matrixAt(a, i), matrixAt(x, i), n, n, n), identity(n))).toBeLessThan(1e-13);
      }
    }), { numRuns: 40 });
  });

  it('solve: the residual A·X - B vanishes, with broadcast batches and vector right sides', () => {
    fc.assert(fc.property(seeded(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([n, k, b]) => [[b, 1, n, n], [1, 3, n, k]])), ([m, b]) => {
      const a = wellConditioned(m!);
      const x = solve(a, b!);
      const n = a.shape[3]!, k = b!.shape[3]!;
      expect(x.shape).toEqual([a.shape[0]!, 3, n, k]);
      for (let i = 0; i < batchCount(x); i++) {
        const ai = Math.floor(i / 3), bi = i % 3;
        expect(maxDiff(mm(matrixAt(a, ai), matrixAt(x, i), n, n, k), matrixAt(b!, bi))).toBeLessThan(1e-13);
      }
    }), { numRuns: 30 });
    const a = f64([[3, 1], [1, 2]]);
    assertClose(solve(a, f64([9, 8])), [2, 3], 1e-15);
    assertClose(solve(a, f64([[9, 8]]), { left: false }), f64([[2, 3]]), 1e-14);
  });

  it('det: equals the cofactor expansion; slogdet agrees with it', () => {
    fc.assert(fc.property(squareArb(5), ([m]) => {
      const a = m!.mul(2);
      const d = det(a);
      const { sign, logabsdet } = slogdet(a);
      const n = a.shape[a.ndim - 1]!;
      expect(d.shape).toEqual(a.shape.slice(0, -2));
      for (let i = 0; i < batchCount(a); i++) {
        const want = cofactorDet(matrixAt(a, i), n);
        expect(Math.abs(d.data[i]! - want)).toBeLessThan(1e-12 * Math.max(1, Math.abs(want)));
        expect(sign.data[i]! + 0).toBe(Math.sign(want) + 0);
        expect(Math.abs(Math.exp(logabsdet.data[i]!) - Math.abs(want))).toBeLessThan(1e-12 * Math.max(1, Math.abs(want)));
      }
    }), { numRuns: 40 });
    expect(det(f64([[1, 2], [3, 4]])).item()).toBeCloseTo(-2, 14);
    const singular = slogdet(f64([[1, 2], [2, 4]]));
    expect(singular.sign.item()).toBe(0);
    expect(singular.logabsdet.item()).toBe(-Infinity);
    expect(det(f64([[1, 2], [2, 4]])).item()).toBe(0);
  });

  it('cholesky: L is lower with a positive diagonal and L·Lᵀ = A; upper gives Lᵀ', () => {
    fc.assert(fc.property(squareArb(5), ([m]) => {
      const a = spd(m!);
      const l = cholesky(a);
      const u = cholesky(a, { upper: true });
      const n = a.shape[a.ndim - 1]!;
      for (let i = 0; i < batchCount(a); i++) {
        const li = matrixAt(l, i);
        for (let r = 0; r < n; r++) {
          expect(li[r * n + r]!).toBeGreaterThan(0);
          for (let c = r + 1; c < n; c++) expect(li[r * n + c]).toBe(0);
        }
        expect(maxDiff(mm(li, tr(li, n, n), n, n, n), matrixAt(a, i))).toBeLessThan(1e-13);
        expect(maxDiff(matrixAt(u, i), tr(li, n, n))).toBeLessThan(1e-14);
      }
    }), { numRuns: 40 });
    // Only the lower triangle is read: garbage above the diagonal changes nothing.
    const a = f64([[4, 99], [2, 3]]);
    assertClose(cholesky(a), f64([[2, 0], [1, Math.SQRT2]]), 1e-15);
  });

  it('triangularSolve: T·X = B reading only the named triangle, left and right, unitriangular', () => {
    fc.assert(fc.property(seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), fc.boolean()).map(([b, n, k]) => [[...b, n, n], [...b, n, k], [...b, k, n]])), fc.boolean(), fc.boolean(), ([t, b, bRight], upper, unit) => {
      const n = t!.shape[t!.ndim - 1]!, k = b!.shape[b!.ndim - 1]!;
      const a = wellConditioned(t!);
      const x = triangularSolve(a, b!, { upper, unitriangular: unit });
      const xr = triangularSolve(a, bRight!, { upper, left: false, unitriangular: unit });
      for (let i = 0; i < batchCount(a); i++) {
        // The triangle as the op reads it, built here from the definition.
        const full = matrixAt(a, i);
        const tri = full.map((v, idx) => {
          const r = Math.floor(idx / n), c = idx % n;
          if (r === c) return unit ? 1 : v;
          return (upper ? c > r : c < r) ? v : 0;
        });
        expect(maxDiff(mm(tri, matrixAt(x, i), n, n, k), matrixAt(b!, i))).toBeLessThan(1e-13);
        expect(maxDiff(mm(matrixAt(xr, i), tri, k, n, n), matrixAt(bRight!, i))).toBeLessThan(1e-13);
      }
    }), { numRuns: 40 });
  });

  it('choleskySolve: solves A·X = B from the lower or the upper factor', () => {
    fc.assert(fc.property(seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })).map(([b, n, k]) => [[...b, n, n], [...b, n, k]])), ([m, b]) => {
      const a = spd(m!);
      const n = a.shape[a.ndim - 1]!, k = b!.shape[b!.ndim - 1]!;
      const x = choleskySolve(b!, cholesky(a));
      const xu = choleskySolve(b!, cholesky(a, { upper: true }), { upper: true });
      for (let i = 0; i < batchCount(a); i++) {
        expect(maxDiff(mm(matrixAt(a, i), matrixAt(x, i), n, n, k), matrixAt(b!, i))).toBeLessThan(1e-12);
        expect(maxDiff(mm(matrixAt(a, i), matrixAt(xu, i), n, n, k), matrixAt(b!, i))).toBeLessThan(1e-12);
      }
    }), { numRuns: 30 });
  });

  it('qr: Q has orthonormal columns, R is upper triangular, Q·R = A, in every mode', () => {
    fc.assert(fc.property(rectArb(5), fc.constantFrom('reduced' as const, 'complete' as const), ([a], mode) => {
      const { Q, R } = qr(a!, { mode });
      const m = a!.shape[a!.ndim - 2]!, n = a!.shape[a!.ndim - 1]!;
      const qc = mode === 'complete' ? m : Math.min(m, n);
      expect(Q.shape).toEqual([...a!.shape.slice(0, -2), m, qc]);
      expect(R.shape).toEqual([...a!.shape.slice(0, -2), qc, n]);
      for (let i = 0; i < batchCount(a!); i++) {
        const q = matrixAt(Q, i), r = matrixAt(R, i);
        expect(maxDiff(mm(tr(q, m, qc), q, qc, m, qc), identity(qc))).toBeLessThan(1e-14);
        for (let row = 0; row < qc; row++) for (let c = 0; c < Math.min(row, n); c++) expect(r[row * n + c]).toBe(0);
        expect(maxDiff(mm(q, r, m, qc, n), matrixAt(a!, i))).toBeLessThan(1e-14);
      }
      const { R: rOnly, Q: empty } = qr(a!, { mode: 'r' });
      expect(empty.shape).toEqual([0]);
      assertClose(rOnly, qr(a!).R, 0, 0);
    }), { numRuns: 40 });
  });

  it('eigh: ascending eigenvalues, orthonormal eigenvectors, V·diag(λ)·Vᵀ = A; UPLO picks the triangle', () => {
    fc.assert(fc.property(squareArb(6), fc.constantFrom('L' as const, 'U' as const), ([m], uplo) => {
      const n = m!.shape[m!.ndim - 1]!;
      const sym = m!.add(m!.transpose());
      // Garbage in the triangle UPLO does not name must not matter.
      const noise = seededTensor(m!.shape, 5, { requiresGrad: false }).mul(10);
      const mask = new Float64Array(n * n);
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) mask[r * n + c] = (uplo === 'L' ? c > r : c < r) ? 1 : 0;
      const a = sym.add(noise.mul(new Tensor(mask, [n, n])));
      const { eigenvalues: w, eigenvectors: v } = eigh(a, { UPLO: uplo });
      for (let i = 0; i < batchCount(a); i++) {
        const wi = Array.from(w.data.subarray(i * n, (i + 1) * n));
        const vi = matrixAt(v, i);
        for (let j = 1; j < n; j++) expect(wi[j]!).toBeGreaterThanOrEqual(wi[j - 1]!);
        expect(maxDiff(mm(tr(vi, n, n), vi, n, n, n), identity(n))).toBeLessThan(1e-14);
        const d = identity(n).map((x, idx) => x * wi[idx % n]!);
        expect(maxDiff(mm(mm(vi, d, n, n, n), tr(vi, n, n), n, n, n), matrixAt(sym, i))).toBeLessThan(1e-13);
      }
    }), { numRuns: 40 });
  });

  it('eigh, svd, qr and pinv: larger matrices, repeated eigenvalues, a diagonal input, and NaN', () => {
    const cases: Tensor[] = [];
    for (const n of [17, 40, 90]) {
      const m = seededTensor([n, n], n, { requiresGrad: false });
      cases.push(m.add(m.transpose()));
    }
    cases.push(f64([[2, 0, 0], [0, 2, 0], [0, 0, -1]]), eye(5, 5, { dtype: 'float64' }), f64([[0, 1], [1, 0]]));
    // Q·diag(1, 1, 1, 5)·Qᵀ for an orthogonal Q: a threefold eigenvalue.
    const { Q } = qr(seededTensor([4, 4], 3, { requiresGrad: false }));
    cases.push(Q.mul(f64([1, 1, 1, 5])).matmul(Q.transpose()));
    for (const a of cases) {
      const n = a.shape[0]!;
      const { eigenvalues: w, eigenvectors: v } = eigh(a);
      const vi = matrixAt(v, 0), wi = Array.from(w.data);
      for (let j = 1; j < n; j++) expect(wi[j]!).toBeGreaterThanOrEqual(wi[j - 1]!);
      expect(maxDiff(mm(tr(vi, n, n), vi, n, n, n), identity(n))).toBeLessThan(1e-13);
      const d = identity(n).map((x, idx) => x * wi[idx % n]!);
      expect(maxDiff(mm(mm(vi, d, n, n, n), tr(vi, n, n), n, n, n), matrixAt(a, 0))).toBeLessThan(1e-13 * n);
    }
    for (const [m, n] of [[50, 30], [30, 50]] as const) {
      const a = seededTensor([m, n], m, { requiresGrad: false });
      const { U, S, Vh } = svd(a);
      const u = matrixAt(U, 0), vh = matrixAt(Vh, 0), k = Math.min(m, n);
      const sigma = new Array<number>(m * n).fill(0);
      for (let j = 0; j < k; j++) sigma[j * n + j] = S.data[j]!;
      expect(maxDiff(mm(tr(u, m, m), u, m, m, m), identity(m))).toBeLessThan(1e-13);
      expect(maxDiff(mm(vh, tr(vh, n, n), n, n, n), identity(n))).toBeLessThan(1e-13);
      expect(maxDiff(mm(mm(u, sigma, m, m, n), vh, m, n, n), matrixAt(a, 0))).toBeLessThan(1e-13);
      const { Q, R } = qr(a, { mode: 'complete' });
      const q = matrixAt(Q, 0);
      expect(maxDiff(mm(tr(q, m, m), q, m, m, m), identity(m))).toBeLessThan(1e-13);
      expect(maxDiff(mm(q, matrixAt(R, 0), m, m, n), matrixAt(a, 0))).toBeLessThan(1e-13);
      const p = matrixAt(pinv(a), 0);
      expect(maxDiff(mm(mm(matrixAt(a, 0), p, m, n, m), matrixAt(a, 0), m, m, n), matrixAt(a, 0))).toBeLessThan(1e-12);
    }
    const bad = eigh(f64([[1, NaN], [NaN, 1]]));
    expect(Array.from(bad.eigenvalues.data).every(Number.isNaN)).toBe(true);
    const badSvd = svd(f64([[1, 2], [Infinity, 1], [0, 0]]));
    for (const t of [badSvd.U, badSvd.S, badSvd.Vh]) expect(Array.from(t.data).every(Number.isNaN)).toBe(true);
  });

  it('svd converges on rank-one matrices (outer products), whose second column is rounding noise', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 2, max: 4 }), fc.integer(), (m, n, seed) => {
      const u = seededTensor([m, 1], seed, { requiresGrad: false });
      const v = seededTensor([1, n], seed + 1, { requiresGrad: false });
      const a = u.matmul(v);
      const { U, S, Vh } = svd(a, { fullMatrices: false });
      expect(maxDiff(Array.from(U.mul(S.unsqueeze(0)).matmul(Vh).data), Array.from(a.data))).toBeLessThan(1e-13);
      expect(S.data[1]!).toBeLessThan(1e-14 * S.data[0]!);
    }), { numRuns: 300 });
  });

  it('svd: descending values, orthonormal U and V, U·diag(S)·Vh = A, full and reduced', () => {
    fc.assert(fc.property(rectArb(5), fc.boolean(), ([a], full) => {
      const { U, S, Vh } = svd(a!, { fullMatrices: full });
      const m = a!.shape[a!.ndim - 2]!, n = a!.shape[a!.ndim - 1]!, k = Math.min(m, n);
      const uc = full ? m : k, vr = full ? n : k;
      expect(U.shape).toEqual([...a!.shape.slice(0, -2), m, uc]);
      expect(Vh.shape).toEqual([...a!.shape.slice(0, -2), vr, n]);
      for (let i = 0; i < batchCount(a!); i++) {
        const u = matrixAt(U, i), vh = matrixAt(Vh, i);
        const s = Array.from(S.data.subarray(i * k, (i + 1) * k));
        for (let j = 1; j < k; j++) expect(s[j]!).toBeLessThanOrEqual(s[j - 1]!);
        expect(maxDiff(mm(tr(u, m, uc), u, uc, m, uc), identity(uc))).toBeLessThan(1e-14);
        expect(maxDiff(mm(vh, tr(vh, vr, n), vr, n, vr), identity(vr))).toBeLessThan(1e-14);
        const sigma = new Array<number>(uc * vr).fill(0);
        for (let j = 0; j < k; j++) sigma[j * vr + j] = s[j]!;
        expect(maxDiff(mm(mm(u, sigma, m, uc, vr), vh, m, vr, n), matrixAt(a!, i))).toBeLessThan(1e-14);
      }
      assertClose(svdvals(a!), S, 0, 0);
    }), { numRuns: 40 });
    // A rank-deficient matrix still gets a complete orthonormal basis.
    const { U, S } = svd(f64([[1, 1], [1, 1], [0, 0]]));
    assertClose(S, [2, 0], 1e-15, 1e-15);
    assertClose(U.transpose().matmul(U), eye(3, 3, { dtype: 'float64' }), 0, 1e-15);
  });

  it('pinv: satisfies the four Penrose conditions, also for rank-deficient matrices', () => {
    fc.assert(fc.property(rectArb(4), fc.boolean(), ([x], deficient) => {
      // A rank-one matrix when `deficient`: the outer product of its first column and row.
      const a = deficient ? x!.slice(-1, 0, 1).matmul(x!.slice(-2, 0, 1)) : x!;
      const p = pinv(a);
      const m = a.shape[a.ndim - 2]!, n = a.shape[a.ndim - 1]!;
      for (let i = 0; i < batchCount(a); i++) {
        const ai = matrixAt(a, i), pi = matrixAt(p, i);
        const ap = mm(ai, pi, m, n, m), pa = mm(pi, ai, n, m, n);
        const scale = Math.max(1, ...pi.map(Math.abs));
        expect(maxDiff(mm(ap, ai, m, m, n), ai)).toBeLessThan(1e-13 * scale);
        expect(maxDiff(mm(pa, pi, n, n, m), pi)).toBeLessThan(1e-13 * scale ** 2);
        expect(maxDiff(ap, tr(ap, m, m))).toBeLessThan(1e-13 * scale);
        expect(maxDiff(pa, tr(pa, n, n))).toBeLessThan(1e-13 * scale);
      }
    }), { numRuns: 40 });
  });

  it("lstsq: B with one dimension fewer than A is a vector (or a batch of them), solved as one column, as PyTorch's", () => {
    fc.assert(fc.property(seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([b, n, extra]) => [[...b, n + extra, n], [...b, n + extra]])), ([x, b]) => {
      const a = x!.add(eye(x!.shape[x!.ndim - 2]!, x!.shape[x!.ndim - 1]!, { dtype: 'float64' }).mul(3));
      const vector = lstsq(a, b!);
      const column = lstsq(a, b!.unsqueeze(-1));
      // PyTorch 1.13 (driver 'gelsd'): solution [..., n], residuals [..., 1] as the column's.
      expect(vector.solution.shape).toEqual(a.shape.slice(0, -2).concat(a.shape[a.ndim - 1]!));
      expect(Array.from(vector.solution.data)).toEqual(Array.from(column.solution.data));
      expect(vector.residuals.shape).toEqual(column.residuals.shape);
      expect(Array.from(vector.residuals.data)).toEqual(Array.from(column.residuals.data));
      expect(Array.from(vector.rank.data)).toEqual(Array.from(column.rank.data));
    }), { numRuns: 20 });
    // Its gradient reaches b as the column's does.
    const a = f64([[2, 1], [1, 3], [0, 1]]);
    const b = grad64([1, 2, 3]);
    lstsq(a, b).solution.sum().backward();
    const bc = grad64([[1], [2], [3]]);
    lstsq(a, bc).solution.sum().backward();
    expect(Array.from(b.grad!.data)).toEqual(Array.from(bc.grad!.data));
  });

  it('lstsq: the residual is orthogonal to the columns of A (the normal equations)', () => {
    fc.assert(fc.property(seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 2 })).map(([b, n, extra, k]) => [[...b, n + extra, n], [...b, n + extra, k]])), ([x, b]) => {
      const a = x!.add(eye(x!.shape[x!.ndim - 2]!, x!.shape[x!.ndim - 1]!, { dtype: 'float64' }).mul(3));
      const { solution, residuals, rank } = lstsq(a, b!);
      const m = a.shape[a.ndim - 2]!, n = a.shape[a.ndim - 1]!, k = b!.shape[b!.ndim - 1]!;
      for (let i = 0; i < batchCount(a); i++) {
        const r = mm(matrixAt(a, i), matrixAt(solution, i), m, n, k).map((v, j) => v - matrixAt(b!, i)[j]!);
        expect(maxDiff(mm(tr(matrixAt(a, i), m, n), r, n, m, k), new Array<number>(n * k).fill(0))).toBeLessThan(1e-13);
        expect(rank.dtype).toBe('int32');
        expect(rank.data[i]).toBe(n);
        if (m > n) {
          for (let c = 0; c < k; c++) {
            let ss = 0;
            for (let row = 0; row < m; row++) ss += r[row * k + c]! ** 2;
            expect(Math.abs(residuals.data[i * k + c]! - ss)).toBeLessThan(1e-13);
          }
        }
      }
      if (m === n) expect(residuals.shape).toEqual([0]);
    }), { numRuns: 30 });
  });

  it('matrixExp: equals the Taylor series, and e^A·e^-A = I', () => {
    fc.assert(fc.property(squareArb(4), fc.constantFrom(0.1, 1, 4), ([m], scale) => {
      const a = m!.mul(scale);
      const e = matrixExp(a);
      const eNeg = matrixExp(a.neg());
      const n = a.shape[a.ndim - 1]!;
      for (let i = 0; i < batchCount(a); i++) {
        const want = expSeries(matrixAt(a, i), n);
        const big = Math.max(1, ...want.map(Math.abs));
        expect(maxDiff(matrixAt(e, i), want)).toBeLessThan(1e-13 * big);
        // The product's rounding error scales with both factors' sizes.
        const bigNeg = Math.max(1, ...matrixAt(eNeg, i).map(Math.abs));
        expect(maxDiff(mm(matrixAt(e, i), matrixAt(eNeg, i), n, n, n), identity(n))).toBeLessThan(1e-13 * n * big * bigNeg);
      }
    }), { numRuns: 40 });
    assertClose(matrixExp(f64([[0, 1], [-1, 0]])), f64([[Math.cos(1), Math.sin(1)], [-Math.sin(1), Math.cos(1)]]), 1e-15, 1e-16);
  });

  it('matrixPower: repeated products; 0 gives I; negative powers go through inv', () => {
    fc.assert(fc.property(squareArb(4), fc.integer({ min: -4, max: 6 }), ([m], k) => {
      const a = wellConditioned(m!).mul(0.3);
      const p = matrixPower(a, k);
      const n = a.shape[a.ndim - 1]!;
      for (let i = 0; i < batchCount(a); i++) {
        let want = identity(n);
        const base = k < 0 ? matrixAt(inv(a), i) : matrixAt(a, i);
        for (let j = 0; j < Math.abs(k); j++) want = mm(want, base, n, n, n);
        const big = Math.max(1, ...want.map(Math.abs));
        expect(maxDiff(matrixAt(p, i), want)).toBeLessThan(1e-13 * big);
      }
    }), { numRuns: 40 });
  });

  it('matrices larger than a factorisation block: solve, det, cholesky, and failures in a late block', () => {
    for (const n of [33, 70, 131]) {
      const m = seededTensor([n, n], n, { requiresGrad: false });
      const a = m.add(eye(n, n, { dtype: 'float64' }).mul(0.5)); // pivoting happens: the diagonal does not dominate
      const b = seededTensor([n, 3], n + 1, { requiresGrad: false });
      const x = solve(a, b);
      expect(maxDiff(mm(matrixAt(a, 0), matrixAt(x, 0), n, n, 3), matrixAt(b, 0))).toBeLessThan(1e-11);
      const ai = matrixAt(inv(a), 0);
      expect(maxDiff(mm(matrixAt(a, 0), ai, n, n, n), identity(n))).toBeLessThan(1e-10);
      // det(A)·det(A⁻¹) = 1 (the cofactor expansion is out of reach at this size).
      expect(Math.abs(det(a).item() * det(inv(a)).item() - 1)).toBeLessThan(1e-9);
      const s = spd(m);
      const l = matrixAt(cholesky(s), 0);
      expect(maxDiff(mm(l, tr(l, n, n), n, n, n), matrixAt(s, 0))).toBeLessThan(1e-11 * n);
      for (let r = 0; r < n; r++) for (let c = r + 1; c < n; c++) expect(l[r * n + c]).toBe(0);
      for (const upper of [false, true]) {
        for (const unitriangular of [false, true]) {
          const xt = matrixAt(triangularSolve(a, b, { upper, unitriangular }), 0);
          const tri = matrixAt(a, 0).map((v, idx) => {
            const r = Math.floor(idx / n), c = idx % n;
            return r === c ? (unitriangular ? 1 : v) : (upper ? c > r : c < r) ? v : 0;
          });
          const scale = Math.max(1, ...xt.map(Math.abs));
          expect(maxDiff(mm(tri, xt, n, n, 3), matrixAt(b, 0))).toBeLessThan(1e-12 * scale * n);
        }
      }
      // A zero row late in the matrix: singular, found in the last block.
      const zeroRow = Float64Array.from(a.data);
      zeroRow.fill(0, (n - 2) * n, (n - 1) * n);
      expect(messageOf(() => solve(new Tensor(zeroRow, [n, n]), b))).toMatch(/^solve: the matrix of input \[\d+,\d+\] float64 is singular/);
      expect(det(new Tensor(zeroRow, [n, n])).item()).toBe(0);
      // Not positive-definite only at the last leading minor.
      const sd = Float64Array.from(s.data);
      sd[n * n - 1] = -1;
      expect(messageOf(() => cholesky(new Tensor(sd, [n, n])))).toMatch(new RegExp(`leading minor of order ${n} is not positive`));
    }
  });

  it('float32 inputs give float32 results close to the float64 ones', () => {
    const m = seededTensor([2, 3, 3], 11, { requiresGrad: false });
    const a64 = wellConditioned(m), a32 = a64.toDtype('float32');
    for (const [f, tol] of [[inv, 1e-6], [det, 1e-5], [(x: Tensor) => cholesky(spd(x)), 1e-5], [matrixExp, 1e-5], [(x: Tensor) => eigh(separated(x)).eigenvalues, 1e-5], [svdvals, 1e-5], [pinv, 1e-5]] as const) {
      const r32 = f(a32), r64 = f(a64);
      expect(r32.dtype).toBe('float32');
      assertClose(r32, r64, tol, tol);
    }
  });

  it('zero-size batches and 0×0 matrices give empty results (det of 0×0 is 1)', () => {
    const none = f64([], [0, 3, 3]);
    expect(inv(none).shape).toEqual([0, 3, 3]);
    expect(det(none).shape).toEqual([0]);
    expect(eigh(none).eigenvalues.shape).toEqual([0, 3]);
    expect(svd(none).S.shape).toEqual([0, 3]);
    const empty = f64([], [0, 0]);
    expect(det(empty).item()).toBe(1);
    expect(inv(empty).shape).toEqual([0, 0]);
    expect(cholesky(empty).shape).toEqual([0, 0]);
  });
});

// ----------------------------------------------------------------------------------------------
// Gradients: gradcheck and gradgradcheck in float64

describe('linalg: gradcheck and gradgradcheck', () => {
  it('inv', () => checkBoth((m) => inv(wellConditioned(m)), squareArb()));
  it('solve (A and B, broadcast batches, vector right side)', () => {
    checkBoth((m, b) => solve(wellConditioned(m), b), seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })).map(([b, n, k]) => [[n, n], [...b, n, k]])));
    checkBoth((m, b) => solve(wellConditioned(m), b), seeded(fc.integer({ min: 1, max: 3 }).map((n) => [[2, n, n], [2, n]])));
    checkBoth((m, b) => solve(wellConditioned(m), b, { left: false }), seeded(fc.integer({ min: 1, max: 3 }).map((n) => [[n, n], [2, n]])));
  });
  it('det and slogdet', () => {
    checkBoth((m) => det(wellConditioned(m)), squareArb());
    checkBoth((m) => det(m.mul(3)), squareArb(3));
    checkBoth((m) => slogdet(m.mul(3)).logabsdet, squareArb(3));
  });
  it('det at singular matrices: the adjugate, by gradcheck (rank n-1 and n-2, in a batch with regular ones)', () => {
    // A = X·Y with X n×r and Y r×n has rank r; the batch mixes ranks n-1, n-2 and n.
    checkGradProperty((a) => det(a), seeded(fc.integer({ min: 2, max: 4 }).map((n) => [[n, n - 1], [n - 1, n], [n, n - 2], [n - 2, n], [n, n]])).map(([x1, y1, x2, y2, full]) => {
      const n = full!.shape[0]!;
      return [tensorStack([x1!.matmul(y1!), x2!.matmul(y2!), wellConditioned(full!)], n)];
    }), { numRuns: 15 });
    const a = grad64([[1, 2], [2, 4]]);
    det(a).backward();
    assertClose(a.grad!, f64([[4, -2], [-2, 1]]), 1e-14, 1e-15); // the cofactors
  });
  it('cholesky (lower and upper), through a symmetric positive-definite parametrisation', () => {
    checkBoth((m) => cholesky(spd(m)), squareArb());
    checkBoth((m) => cholesky(spd(m), { upper: true }), squareArb());
  });
  it('triangularSolve: both operands, each triangle, left and right, unitriangular', () => {
    for (const upper of [false, true]) {
      for (const left of [true, false]) {
        for (const unitriangular of [false, true]) {
          checkBoth(
            (t, b) => triangularSolve(wellConditioned(t), b, { upper, left, unitriangular }),
            seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })).map(([b, n, k]) => [[...b, n, n], left ? [...b, n, k] : [...b, k, n]])),
            { grad: 5, gradgrad: 2 },
          );
        }
      }
    }
  });
  it('choleskySolve: both operands', () => {
    checkBoth((b, m) => choleskySolve(b, wellConditioned(m)), seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })).map(([b, n, k]) => [[...b, n, k], [...b, n, n]])));
    checkBoth((b, m) => choleskySolve(b, wellConditioned(m), { upper: true }), seeded(fc.integer({ min: 1, max: 3 }).map((n) => [[n, 2], [n, n]])));
  });
  it('qr: Q and R together, tall, square and wide; complete mode when rows ≤ columns', () => {
    // Q∘(Q + 1) and 2R: every entry of both reaches the loss.
    const loss = (q: Tensor, r: Tensor): Tensor => q.mul(q.add(1)).sum().add(r.mul(2).sum());
    checkBoth((m) => {
      const { Q, R } = qr(separatedSingular(m));
      return loss(Q, R);
    }, rectArb(4));
    checkBoth((m) => {
      const { Q, R } = qr(separatedSingular(m), { mode: 'complete' });
      return loss(Q, R);
    }, seeded(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 })).map(([m, extra]) => [[m, m + extra]])));
  });
  it('eigh: eigenvalues and a sign-invariant function of the eigenvectors', () => {
    checkBoth((m) => eigh(separated(m)).eigenvalues, squareArb());
    // UPLO 'U' on a symmetric input: the same function of it, reached through the other triangle.
    checkBoth((m) => {
      const { eigenvalues, eigenvectors: v } = eigh(separated(m), { UPLO: 'U' });
      return v.mul(v).mul(eigenvalues.unsqueeze(-2)).sum(-1);
    }, squareArb(3), { grad: 8, gradgrad: 3 });
    checkBoth((m) => {
      const { eigenvalues, eigenvectors: v } = eigh(separated(m));
      // V∘V is invariant under the sign of each column.
      return v.mul(v).mul(eigenvalues.unsqueeze(-2)).sum(-1);
    }, squareArb());
  });
  it('svd: S, and U·diag(w)·Vh products that are sign-invariant, tall, square and wide', () => {
    checkBoth((m) => svdvals(separatedSingular(m)), rectArb());
    for (const fullMatrices of [false, true]) {
      checkBoth((m) => {
        const x = separatedSingular(m);
        const { U, S, Vh } = svd(x, { fullMatrices });
        const k = S.shape[S.ndim - 1]!;
        // Uₖ·diag(1..k)·Vhₖ: each pair of singular vectors enters with its sign twice.
        const w = Float64Array.from({ length: k }, (_, i) => i + 1);
        return U.slice(-1, 0, k).mul(new Tensor(w, [k])).matmul(Vh.slice(-2, 0, k)).add(U.slice(-1, 0, k).mul(U.slice(-1, 0, k)).sum(-2).unsqueeze(-1).mul(S.unsqueeze(-1)).sum(-2).unsqueeze(-1));
      }, rectArb(), { grad: 10, gradgrad: 4 });
    }
  });
  it('pinv, for full-rank matrices of every shape', () => {
    checkBoth((m) => pinv(separatedSingular(m)), rectArb());
  });
  it('lstsq: both operands', () => {
    checkBoth((m, b) => lstsq(separatedSingular(m), b).solution, seeded(fc.tuple(batchArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 })).map(([b, n, extra]) => [[...b, n + extra, n], [...b, n + extra, 2]])));
  });
  it('matrixExp', () => {
    checkBoth((m) => matrixExp(m), squareArb(3), { grad: 10, gradgrad: 3 });
    checkBoth((m) => matrixExp(m.mul(4)), seeded(fc.constant([[3, 3]])), { grad: 3, gradgrad: 2 });
  });
  it('matrixPower, positive, zero and negative', () => {
    for (const k of [0, 1, 2, 5, -1, -3]) checkBoth((m) => matrixPower(wellConditioned(m).mul(0.3), k), squareArb(3), { grad: 5, gradgrad: 2 });
  });

  it('gradients at repeated eigenvalues and singular values stay finite for losses of the values alone', () => {
    const a = grad64([[2, 0, 0], [0, 2, 0], [0, 0, 5]]);
    eigh(a).eigenvalues.sum().backward();
    assertClose(a.grad!, f64([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), 1e-15, 1e-15);
    const b = grad64([[3, 0], [0, 3], [0, 0]]);
    svdvals(b).sum().backward();
    expect(Array.from(b.grad!.data).every(Number.isFinite)).toBe(true);
    assertClose(b.grad!, f64([[1, 0], [0, 1], [0, 0]]), 1e-15, 1e-15);
  });
});

// ----------------------------------------------------------------------------------------------
// Errors

describe('linalg: errors', () => {
  it('a singular matrix names the op and the batch element, and leaves the input unchanged', () => {
    const a = f64([[[1, 0], [0, 1]], [[1, 2], [2, 4]]]);
    const before = Array.from(a.data);
    expect(() => inv(a)).toThrow(LinAlgError);
    expect(messageOf(() => inv(a))).toMatch(/^inv: the matrix \(batch element \[1\] of batch shape \[2\]\) of input \[2,2,2\] float64 is singular/);
    expect(messageOf(() => solve(a, f64([1, 1])))).toMatch(/^solve: .*batch element \[1\].*singular/);
    expect(Array.from(a.data)).toEqual(before);
    expect(messageOf(() => triangularSolve(f64([[1, 0], [1, 0]]), f64([[1], [1]]), { upper: false }))).toMatch(/^triangularSolve: the matrix of input \[2,2\] float64 is singular \(its diagonal element \[1,1\] is zero\)/);
  });

  it('a matrix that is not positive-definite names cholesky, the batch element and the minor', () => {
    const a = f64([[[[4, 0], [0, 1]], [[1, 0], [0, 1]]], [[[1, 0], [0, 1]], [[1, 2], [2, 1]]]]);
    const before = Array.from(a.data);
    expect(() => cholesky(a)).toThrow(LinAlgError);
    expect(messageOf(() => cholesky(a))).toBe(
      'cholesky: the matrix (batch element [1,1] of batch shape [2,2]) of input [2,2,2,2] float64 is not positive-definite (its leading minor of order 2 is not positive)',
    );
    expect(Array.from(a.data)).toEqual(before);
    expect(messageOf(() => cholesky(f64([[NaN, 0], [0, 1]])))).toMatch(/order 1/);
  });

  it('backward of slogdet at a singular matrix is a clear error (log|det| has no derivative there)', () => {
    const a = grad64([[1, 2], [2, 4]]);
    expect(messageOf(() => slogdet(a).logabsdet.backward())).toMatch(/^slogdet \(backward\): the matrix of input \[2,2\] float64 is singular/);
  });

  it('shapes, dtypes and options are checked, naming the op', () => {
    expect(() => inv(f64([1, 2]))).toThrow(ShapeError);
    expect(messageOf(() => inv(f64([[1, 2, 3], [4, 5, 6]])))).toBe('inv: A must be a batch of square matrices, got shape [2,3] float64');
    expect(messageOf(() => solve(f64([[1, 0], [0, 1]]), f64([1, 2, 3])))).toBe('solve: B [3] does not fit A [2,2]: need rows of size 2');
    expect(() => solve(f64([[1, 0], [0, 1]]), tensor([1, 2]))).toThrow(DTypeError);
    expect(() => solve(f64([[[1, 0], [0, 1]], [[1, 0], [0, 1]]]), f64([[[1], [1]], [[1], [1]], [[1], [1]]]))).toThrow(ShapeError);
    expect(() => triangularSolve(f64([[1, 0], [0, 1]]), f64([[1], [1]]), {} as { upper: boolean })).toThrow(ArgumentError);
    expect(() => qr(f64([[1, 0], [0, 1]]), { mode: 'thin' as 'r' })).toThrow(ArgumentError);
    expect(() => eigh(f64([[1, 0], [0, 1]]), { UPLO: 'X' as 'L' })).toThrow(ArgumentError);
    expect(() => matrixPower(f64([[1, 0], [0, 1]]), 1.5)).toThrow(ArgumentError);
    expect(() => pinv(f64([[1, 0], [0, 1]]), { rtol: -1 })).toThrow(ArgumentError);
    expect(messageOf(() => lstsq(f64([[1, 0], [0, 1]]), f64([[1, 2, 3]])))).toBe('lstsq: B [1,3] does not fit A [2,2]: need rows of size 2');
    expect(() => det(eye(2))).not.toThrow();
    expect(messageOf(() => inv(tensor([[1, 0], [0, 1]], { dtype: 'int32' })))).toBe('inv: expected a float32 or float64 tensor, got int32 of shape [2,2]');
    expect(() => solve(f64([[1, 0], [0, 1]]), tensor([1, 0], { dtype: 'bool' }))).toThrow(DTypeError);
  });

  it('the complete QR of a tall matrix has no gradient, as in PyTorch', () => {
    const a = grad64([[1, 2], [3, 4], [5, 7]]);
    expect(() => qr(a, { mode: 'complete' }).R.sum().backward()).toThrow(GraphError);
  });
});

describe('matrixPower of int32 matrices (exact, wrapping modulo 2³² as PyTorch)', () => {
  /** Aᵏ by k - 1 plain products in BigInt, then wrapped to int32. */
  function reference(a: number[], n: number, k: number): number[] {
    let acc = Array.from({ length: n * n }, (_, i) => BigInt(i % (n + 1) === 0 ? 1 : 0));
    for (let step = 0; step < k; step++) {
      acc = acc.map((_, ij) => {
        const [i, j] = [Math.floor(ij / n), ij % n];
        let s = 0n;
        for (let p = 0; p < n; p++) s += acc[i * n + p]! * BigInt(a[p * n + j]!);
        return s;
      });
    }
    return acc.map((v) => Number(BigInt.asIntN(32, v)));
  }

  it('equals repeated exact products over random matrices, batches and exponents', () => {
    const cases = fc.record({ n: fc.integer({ min: 0, max: 4 }), batch: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 0, max: 9 }), big: fc.boolean(), seed: fc.noShrink(fc.integer()) });
    fc.assert(
      fc.property(cases, ({ n, batch, k, big, seed }) => {
        const values = Array.from({ length: batch * n * n }, (_, i) => ((seed + i * 7919) % (big ? 60001 : 7)) - (big ? 30000 : 3));
        const a = tensor(values, { dtype: 'int32', shape: [batch, n, n] });
        const got = matrixPower(a, k);
        expect(got.dtype).toBe('int32');
        expect(got.shape).toEqual([batch, n, n]);
        for (let b = 0; b < batch; b++) {
          expect(Array.from(got.data.slice(b * n * n, (b + 1) * n * n))).toEqual(reference(values.slice(b * n * n, (b + 1) * n * n), n, k));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a negative power (inv is float only), a bool or non-square matrix, naming matrixPower', () => {
    const a = tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    expect(() => matrixPower(a, -1)).toThrow(DTypeError);
    expect(() => matrixPower(a, -1)).toThrow(/^matrixPower: a negative power of an int32 matrix \[2,2\] needs its inverse/);
    expect(() => matrixPower(tensor([[1, 2, 3]], { dtype: 'int32' }), 2)).toThrow(/^matrixPower: A must be a batch of square matrices, got shape \[1,3\] int32/);
    expect(() => matrixPower(tensor([1, 2], { dtype: 'int32' }), 2)).toThrow(ShapeError);
    expect(() => matrixPower(a, 1.5)).toThrow(/^matrixPower: the exponent must be an integer, got 1.5/);
    expect(() => matrixPower(tensor([[true, false], [true, true]]), 2)).toThrow(DTypeError);
    expect(Array.from(vmap((m: Tensor) => matrixPower(m, 2))(tensor([[[1, 1], [0, 1]], [[2, 0], [0, 3]]], { dtype: 'int32' })).data)).toEqual([1, 2, 0, 1, 4, 0, 0, 9]);
  });
});
