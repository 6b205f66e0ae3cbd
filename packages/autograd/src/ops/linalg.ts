// Linear algebra over the last two axes, batched over the leading ones. Each factorisation is
// one primitive whose VJP is written in Tensor ops (so it differentiates again); the rest
// (inv, choleskySolve, lstsq, matrixPower, svdvals) are compositions that inherit gradients.
// Adjoint formulas: Giles (2008), "An extended collection of matrix derivative results for
// forward and reverse mode algorithmic differentiation"; Murray (2016), "Differentiation of
// the Cholesky decomposition" (arXiv:1602.07527); Walter & Lehmann (2018) for QR; Townsend
// (2016) and Seeger et al. (2017) for the SVD; and PyTorch's FunctionsManual.cpp
// (linalg_qr_backward, svd_backward, linalg_eig_backward, pinv_backward,
// linalg_lstsq_backward), whose conventions these follow.
import type { DType, FloatArray } from '../dtype.js';
import { allocate, allocateUnset } from '../dtype.js';
import { ArgumentError, DTypeError, GraphError, LinAlgError, ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, sizeOf, type Shape } from '../shape.js';
import { broadcastStrides } from '../kernels/binary.js';
import {
  choleskyLower,
  expmPade,
  householderQr,
  symmetricEigen,
  jacobiSvd,
  luFactor,
  luSolve,
  permutationSign,
  triangularSolveInPlace,
} from '../kernels/linalg.js';
import { constant, expectFloat, expectTensor, makeOutput, type FloatTensor, Tensor } from '../tensor.js';
import { eye, onesLike, zeros, zerosLike } from '../creation.js';
import { checkSameDType } from './operands.js';
import { concat, reshape, slice, squeeze, transpose, unsqueeze } from './shape.js';
import { matmul } from './matmul.js';
import { indexSelect } from './indexing.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** The matrix transpose of the last two axes. */
function mT(x: Tensor): Tensor {
  return transpose(x, -2, -1);
}

/**
 * Checks a matrix (batch) argument: a float Tensor of rank ≥ 2, square when asked. An int32 or
 * bool tensor is a DTypeError, as torch.linalg refuses integer input.
 */
function matrixArg(op: string, name: string, value: unknown, square: boolean): FloatTensor {
  const x = expectFloat(op, expectTensor(op, name, value));
  if (x.ndim < 2) {
    throw new ShapeError(`${op}: ${name} must have at least 2 dimensions (a matrix or a batch of them), got shape ${formatShape(x.shape)} ${x.dtype}`);
  }
  if (square && x.shape[x.ndim - 1] !== x.shape[x.ndim - 2]) {
    throw new ShapeError(`${op}: ${name} must be a batch of square matrices, got shape ${formatShape(x.shape)} ${x.dtype}`);
  }
  return x;
}

/** Where in a batch a matrix sits, for errors: '' for one matrix, ' (batch element [1,0])' else. */
function batchElement(batch: Shape, index: number): string {
  if (batch.length === 0) return '';
  const at: number[] = [];
  let rest = index;
  for (let d = batch.length - 1; d >= 0; d--) {
    at.unshift(rest % batch[d]!);
    rest = Math.floor(rest / batch[d]!);
  }
  return ` (batch element [${at.join(',')}] of batch shape ${formatShape(batch)})`;
}

/** A float64 copy of matrix `index` (of `size` elements) of x: kernels factor in place. */
function matrixCopy(x: Tensor, index: number, size: number, out: Float64Array = new Float64Array(size)): Float64Array {
  const data = x.data, start = index * size;
  // float64 storage is one block copy; other dtypes convert element by element.
  if (data instanceof Float64Array) out.set(data.subarray(start, start + size));
  else for (let i = 0; i < size; i++) out[i] = data[start + i]!;
  return out;
}

/**
 * A Float64Array of at least `size` elements for a kernel's working copy that never leaves the
 * op (an LU factorisation being solved with): kept between calls, so a repeated solve does not
 * allocate (and fault in) a fresh multi-MB block each time. Only up to 4 MB is kept.
 * NOTE: one buffer for every caller: valid until the next call, so a caller takes it once and
 * calls nothing that could take it again while it is in use.
 */
function workspace(size: number): Float64Array {
  if (size > WORKSPACE_MAX) return new Float64Array(size);
  if (kept.length < size) kept = new Float64Array(size);
  return kept.length === size ? kept : kept.subarray(0, size);
}
const WORKSPACE_MAX = (4 << 20) / 8;
let kept: Float64Array = new Float64Array(0);

/** Pairs of matrices (of a and of b) for each element of the broadcast batch. */
function broadcastPairs(op: string, batchA: Shape, batchB: Shape): { batch: number[]; ia: Int32Array; ib: Int32Array } {
  const batch = broadcastShapes(op, batchA, batchB);
  const count = sizeOf(batch);
  const sa = broadcastStrides(batchA, batch), sb = broadcastStrides(batchB, batch);
  const ia = new Int32Array(count), ib = new Int32Array(count);
  for (let bi = 0; bi < count; bi++) {
    let rest = bi, oa = 0, ob = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      const i = rest % batch[d]!;
      rest = (rest - i) / batch[d]!;
      oa += i * sa[d]!;
      ob += i * sb[d]!;
    }
    ia[bi] = oa;
    ib[bi] = ob;
  }
  return { batch, ia, ib };
}

/** A 0/1 constant n×m matrix: on and above diagonal `k` when upper, on and below it else. */
function triangleMask(n: number, m: number, upper: boolean, k: number, dtype: DType): Tensor {
  const data = allocate(dtype, n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) if (upper ? j - i >= k : j - i <= k) data[i * m + j] = 1;
  }
  return constant(data, [n, m]);
}

/** The upper (or lower) triangle of the last two axes, from diagonal k; differentiable. */
function triangle(x: Tensor, upper: boolean, k = 0): Tensor {
  return x.mul(triangleMask(x.shape[x.ndim - 2]!, x.shape[x.ndim - 1]!, upper, k, x.dtype));
}

/** Vectors [..., n] to diagonal matrices [..., n, n]. */
function diagEmbed(v: Tensor): Tensor {
  const n = v.shape[v.ndim - 1]!;
  return unsqueeze(v, -1).mul(eye(n, n, { dtype: v.dtype }));
}

/**
 * 1/E elementwise where E ≠ 0, and 0 where E = 0 exactly: the spectral gaps' reciprocals in
 * the eigenvector and singular-vector adjoints. The mask is a constant; 1/E stays
 * differentiable. Dropping exactly-repeated pairs keeps losses of the eigenvalues or singular
 * values alone finite at repeated values, where those terms are multiplied by zero anyway.
 */
function gapReciprocal(e: Tensor): Tensor {
  const mask = allocate(e.dtype, e.size);
  const shifted = allocate(e.dtype, e.size);
  for (let i = 0; i < e.size; i++) {
    const nonzero = e.data[i] !== 0;
    mask[i] = nonzero ? 1 : 0;
    shifted[i] = nonzero ? 0 : 1;
  }
  const m = constant(mask, e.shape);
  return m.div(e.add(constant(shifted, e.shape)));
}

/**
 * Runs one primitive with several results: their storage is laid out end to end along one last
 * axis, so one graph node carries a VJP that receives the gradients of all of them at once
 * (zeros for a result the loss does not use). Returns the results as differentiable views.
 */
function multiOutput(
  op: string,
  batch: Shape,
  parts: readonly { shape: Shape; data: FloatArray }[],
  inputs: readonly Tensor[],
  vjp: (grads: Tensor[], outputs: Tensor[]) => (Tensor | null)[],
  jvp: (tangent: Tensor, outputs: Tensor[]) => Tensor[],
): Tensor[] {
  const count = sizeOf(batch);
  const sizes = parts.map((p) => sizeOf(p.shape));
  const total = sizes.reduce((s, v) => s + v, 0);
  const dtype = inputs[0]!.dtype;
  const data = allocate(dtype, count * total, op, [...batch, total]);
  let at = 0;
  const offsets = sizes.map((s) => {
    const o = at;
    at += s;
    return o;
  });
  for (let bi = 0; bi < count; bi++) {
    parts.forEach((p, i) => {
      const size = sizes[i]!;
      data.set(p.data.subarray(bi * size, (bi + 1) * size), bi * total + offsets[i]!);
    });
  }
  const unpack = (t: Tensor): Tensor[] =>
    parts.map((p, i) => reshape(slice(t, -1, offsets[i]!, offsets[i]! + sizes[i]!), [...batch, ...p.shape]));
  // The results' tangents (from the one input's) packed as the results are.
  const pack = (ts: Tensor[]): Tensor => concat(ts.map((t, i) => reshape(t, [...batch, sizes[i]!])), -1);
  const packed = makeOutput(op, data, [...batch, total], inputs, (g, out) => vjp(unpack(g), unpack(out)), {
    saves: inputs.map(() => ['output']),
    jvp: ([t], out) => pack(jvp(t!, unpack(out))),
  });
  return unpack(packed);
}

/** Ḃ - Ṫ·X, the right-hand side a solve's tangent solves for (Ḃ or Ṫ possibly absent). */
function differenceRhs(tb: Tensor | null | undefined, tt: Tensor | null | undefined, x: Tensor): Tensor {
  const moved = tt === null || tt === undefined ? null : matmul(tt, x);
  if (tb === null || tb === undefined) return moved!.neg();
  return moved === null ? tb : tb.sub(moved);
}

/** The diagonals [..., n] of square matrices [..., n, n]; differentiable. */
function diagonalOf(x: Tensor): Tensor {
  const n = x.shape[x.ndim - 1]!;
  return x.mul(eye(n, n, { dtype: x.dtype })).sum(-1);
}

/** (X + Xᵀ)/2: the tangent a symmetric matrix function sees, as its symmetric gradient assumes. */
function symmetric(x: Tensor): Tensor {
  return x.add(mT(x)).mul(0.5);
}

function singularError(op: string, x: Tensor, batch: Shape, index: number, detail: string): LinAlgError {
  return new LinAlgError(`${op}: the matrix${batchElement(batch, index)} of input ${formatShape(x.shape)} ${x.dtype} is singular (${detail})`);
}

/** An iterative decomposition that did not converge: LAPACK's info > 0, an error in PyTorch too. */
function convergenceError(op: string, x: Tensor, batch: Shape, index: number): LinAlgError {
  return new LinAlgError(`${op}: the algorithm did not converge for the matrix${batchElement(batch, index)} of input ${formatShape(x.shape)} ${x.dtype}`);
}

// ---------------------------------------------------------------------------------------------
// LU: solve, inv, det, slogdet

/**
 * X with A·X = B over broadcast batches, A [..., n, n], B [..., n, k]: the primitive behind
 * `solve` and `inv`. gB = A⁻ᵀ·g (another solve), gA = -gB·Xᵀ (Giles 2008, §2.3.1).
 */
function solveCore(op: string, a: Tensor, b: Tensor): Tensor {
  const n = a.shape[a.ndim - 1]!;
  const k = b.shape[b.ndim - 1]!;
  const batchA = a.shape.slice(0, -2);
  const { batch, ia, ib } = broadcastPairs(op, batchA, b.shape.slice(0, -2));
  const out = allocate(a.dtype, ia.length * n * k, op, [...batch, n, k]);
  const perm = new Int32Array(n);
  const x = new Float64Array(n * k);
  let lu: Float64Array | null = null;
  let factored = -1;
  for (let bi = 0; bi < ia.length; bi++) {
    const rhs = matrixCopy(b, ib[bi]!, n * k);
    if (ia[bi] !== factored) {
      lu = matrixCopy(a, ia[bi]!, n * n, lu ?? workspace(n * n));
      // One right side is solved for with the factorisation, while the factors are at hand.
      const zero = luFactor(lu, n, perm, k === 1 ? { b: rhs, x } : undefined);
      if (zero >= 0) throw singularError(op, a, batchA, ia[bi]!, `U[${zero},${zero}] is zero in its LU factorisation with partial pivoting`);
      factored = ia[bi]!;
      if (k === 1) {
        out.set(x, bi * n);
        continue;
      }
    }
    luSolve(lu!, n, perm, rhs, k, x);
    out.set(x, bi * n * k);
  }
  return makeOutput(op, out, [...batch, n, k], [a, b], (g, result) => {
    const gb = solveCore(op, mT(a), g);
    return [a.requiresGrad ? matmul(gb, mT(result)).neg() : null, b.requiresGrad ? gb : null];
  }, {
    saves: [[0, 'output'], [0]],
    // Ẋ = A⁻¹·(Ḃ - Ȧ·X).
    jvp: ([ta, tb], result) => solveCore(op, a, differenceRhs(tb, ta, result)),
  });
}

/**
 * The solution X of A·X = B (or X·A = B when `left` is false), as `torch.linalg.solve`: A is
 * [..., n, n]; B is [..., n, k], or [..., n] (a vector, when B is 1-D or has A's shape without
 * its last axis). Batch axes broadcast. Computed by LU with partial pivoting.
 * @throws LinAlgError if a matrix of A is singular (an exactly zero pivot), naming the batch element.
 * @throws ShapeError if A is not a batch of square matrices or B does not fit it; DTypeError if the dtypes differ.
 * @example solve(a, b) // a [3,3], b [3] -> x [3] with a·x = b
 */
export const solve = primitive('solve', { kind: 'other', rule: 'matrix' }, function (a: Tensor, b: Tensor, options: { left?: boolean } = {}): Tensor {
  checkOptions('solve', options, ['left']);
  const A = matrixArg('solve', 'A', a, true);
  const B = expectFloat('solve', expectTensor('solve', 'B', b));
  checkSameDType('solve', A, B);
  const left = options.left ?? true;
  const n = A.shape[A.ndim - 1]!;
  const vector = B.ndim === 1 || (B.ndim === A.ndim - 1 && B.shape.every((d, i) => d === A.shape[i]));
  const fits = vector ? B.shape[B.ndim - 1] === n : B.ndim >= 2 && B.shape[left ? B.ndim - 2 : B.ndim - 1] === n;
  if (B.ndim === 0 || !fits) {
    throw new ShapeError(`solve: B ${formatShape(B.shape)} does not fit A ${formatShape(A.shape)}: need ${left ? 'rows' : 'columns'} of size ${n}`);
  }
  if (vector) {
    const x = solveCore('solve', left ? A : mT(A), unsqueeze(B, -1));
    return reshape(x, x.shape.slice(0, -1));
  }
  return left ? solveCore('solve', A, B) : mT(solveCore('solve', mT(A), mT(B)));
});

/**
 * The inverse of each square matrix, as `torch.linalg.inv` (LU with partial pivoting). Its
 * gradient is -A⁻ᵀ·g·A⁻ᵀ.
 * @throws LinAlgError if a matrix is singular, naming the batch element; ShapeError if not square.
 * @example inv(tensor([[2, 0], [0, 4]], { dtype: 'float64' })) // [[0.5, 0], [0, 0.25]]
 */
export const inv = primitive('inv', { kind: 'other', rule: 'matrix' }, function (a: Tensor): Tensor {
  const A = matrixArg('inv', 'A', a, true);
  const n = A.shape[A.ndim - 1]!;
  return solveCore('inv', A, eye(n, n, { dtype: A.dtype }));
});

/**
 * LU of each matrix of x, for det and slogdet: the sign and log|det| of each, and the ratio of
 * its smallest pivot to its largest in absolute value (0 when singular; 1 for 0×0).
 */
function luDeterminants(x: Tensor): { batch: number[]; sign: Float64Array; logAbs: Float64Array; det: Float64Array; pivotRatio: Float64Array } {
  const n = x.shape[x.ndim - 1]!;
  const batch = x.shape.slice(0, -2);
  const count = sizeOf(batch);
  const sign = new Float64Array(count), logAbs = new Float64Array(count), det = new Float64Array(count);
  const pivotRatio = new Float64Array(count);
  const perm = new Int32Array(n);
  for (let bi = 0; bi < count; bi++) {
    const lu = matrixCopy(x, bi, n * n);
    luFactor(lu, n, perm);
    let s = permutationSign(perm, n), l = 0, d = s, smallest = Infinity, largest = 0;
    for (let i = 0; i < n; i++) {
      const u = lu[i * n + i]!;
      smallest = Math.min(smallest, Math.abs(u));
      largest = Math.max(largest, Math.abs(u));
      d *= u;
      if (u < 0) s = -s;
      l += Math.log(Math.abs(u));
    }
    // A zero pivot makes the matrix singular: sign 0 and log|det| = -inf, as PyTorch.
    if (l === -Infinity) s = 0;
    if (Number.isNaN(l)) s = NaN;
    sign[bi] = s;
    logAbs[bi] = l;
    det[bi] = d === 0 ? 0 : d; // no -0 from a negative permutation sign
    pivotRatio[bi] = n === 0 ? 1 : largest === 0 ? 0 : smallest / largest;
  }
  return { batch, sign, logAbs, det, pivotRatio };
}

/** A⁻ᵀ for the determinant adjoints; a singular matrix is the caller op's error. */
function inverseTranspose(op: string, a: Tensor): Tensor {
  const n = a.shape[a.ndim - 1]!;
  return mT(solveCore(op, a, eye(n, n, { dtype: a.dtype })));
}

/**
 * The determinant of each square matrix, as `torch.linalg.det`: the product of the pivots of
 * its LU factorisation with the permutation's sign (0 for a singular matrix). Its gradient is
 * the cofactor matrix g·adj(A)ᵀ: g·det(A)·A⁻ᵀ (Giles 2008, §2.3.4) while every matrix of the
 * batch is far from singular, else `cofactors` (exact at any rank, and so are its derivatives:
 * the second derivative of det at a matrix of rank n-2 is not zero).
 * @throws ShapeError if not square.
 * @example det(tensor([[1, 2], [3, 4]], { dtype: 'float64' })) // -2
 */
export const det = primitive('det', { kind: 'other', rule: 'matrix' }, function (a: Tensor): Tensor {
  const A = matrixArg('det', 'A', a, true);
  const { batch, det: d, pivotRatio } = luDeterminants(A);
  const out = allocate(A.dtype, d.length);
  out.set(d);
  // A pivot this small relative to the largest leaves det·A⁻ᵀ a difference of huge terms, and
  // its derivative a worse one: such a batch takes the rank-aware form.
  const rankAware = pivotRatio.some((r) => r <= Math.sqrt(epsilonOf(A.dtype)));
  return makeOutput('det', out, batch, [A], (g, result) => [unsqueeze(unsqueeze(g, -1), -1).mul(cofactorNode(A, result, rankAware))], {
    saves: [[0, 'output']],
    // Σ_ij ∂det/∂A_ij·Ȧ_ij = tr(adj(A)·Ȧ).
    jvp: ([t], result) => cofactorNode(A, result, rankAware).mul(t!).sum([-2, -1]),
  });
});

/**
 * cof(A) as one graph node (`determinant` is det(A), already computed), so det's VJP makes the
 * same nodes whichever form computes it (a jitted second derivative finds them again). Its
 * derivative along G is det's Hessian applied to G, symmetric, so the VJP and the JVP are the
 * same: for a regular A, the derivative of det(A)·A⁻ᵀ, det(A)·(<A⁻ᵀ, G>·A⁻ᵀ − A⁻ᵀ·Gᵀ·A⁻ᵀ); else
 * that of `cofactors`. Both are in ops of A and G, so they differentiate again.
 */
function cofactorNode(a: Tensor, determinant: Tensor, rankAware: boolean): Tensor {
  const along = (g: Tensor): Tensor => {
    if (rankAware) return cofactors(a, g).d!;
    const it = inverseTranspose('det', a);
    const inner = it.mul(g).sum([-2, -1], true);
    return unsqueeze(unsqueeze(det(a), -1), -1).mul(it.mul(inner).sub(matmul(matmul(it, mT(g)), it)));
  };
  const x = a.detach();
  const value = rankAware ? cofactors(x).v : unsqueeze(unsqueeze(determinant.detach(), -1), -1).mul(inverseTranspose('det', x));
  return makeOutput('detCofactors', value.data as FloatArray, a.shape, [a], (g) => [along(g)], { saves: [[0]], jvp: ([t]) => along(t!) });
}

/** The machine epsilon of a float dtype: the spacing of its numbers just above 1. */
function epsilonOf(dtype: DType): number {
  return dtype === 'float32' ? 2 ** -23 : 2 ** -52;
}

/**
 * The cofactor matrices cof(A) = adj(A)ᵀ = ∂det/∂A of a batch [N..., n, n], and with a tangent T
 * its derivative along T, as Tensor ops of A (and T) that are, to every order, the derivatives
 * of the polynomial cof at any rank. With the SVD A₀ = U·diag(σ)·Vᵀ of the current value held
 * constant, B = Uᵀ·A·V has the blocks P (the r singular values above √ε·σ₁, invertible), Q, R
 * and S (the numerically zero rest, k = n − r ≥ 1 of them); with the Schur complement
 * C = S − R·P⁻¹·Q, the block inverse times det(B) is
 *   cof(B) = det(P)·(det(C)·[P⁻ᵀ 0; 0 0] + [−P⁻ᵀ·Rᵀ; I]·cof(C)·[−P⁻¹·Q; I]ᵀ),
 * polynomial in C, so continued exactly to singular C; and cof(A) = det(U)·det(V)·U·cof(B)·Vᵀ for
 * any constant U and V. det(C) and cof(C) of the small, near-zero C are the Faddeev–LeVerrier
 * polynomials (`characteristicCofactors`). PyTorch's linalg_det_backward differentiates the
 * singular vectors instead, undefined at repeated (zero) singular values.
 */
function cofactors(a: Tensor, tangent?: Tensor): Pair {
  const n = a.shape[a.ndim - 1]!;
  const batch = a.shape.slice(0, -2);
  const count = sizeOf(batch);
  const flat = reshape(a, [count, n, n]);
  const flatTangent = tangent === undefined ? null : reshape(tangent, [count, n, n]);
  const { u, s, vh } = svdForward(flat.detach(), true);
  const tolerance = Math.sqrt(epsilonOf(a.dtype));
  // Matrices grouped by the count r of singular values kept in P, each group one batched pass.
  const groups = new Map<number, number[]>();
  for (let bi = 0; bi < count; bi++) {
    const sigma = s.subarray(bi * n, (bi + 1) * n);
    let r = 0;
    while (r < n - 1 && sigma[r]! > tolerance * sigma[0]!) r++;
    const members = groups.get(r);
    if (members === undefined) groups.set(r, [bi]);
    else members.push(bi);
  }
  const values: Tensor[] = [], tangents: Tensor[] = [];
  const order: number[] = [];
  for (const [r, members] of groups) {
    const U = allocate(a.dtype, members.length * n * n), V = allocate(a.dtype, members.length * n * n);
    members.forEach((bi, j) => {
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < n; c++) {
          U[(j * n + i) * n + c] = u[(bi * n + i) * n + c]!;
          V[(j * n + i) * n + c] = vh[(bi * n + c) * n + i]!;
        }
      }
    });
    const Uc = constant(U, [members.length, n, n]), Vc = constant(V, [members.length, n, n]);
    // det(U)·det(V) = ±1, locally constant.
    const du = luDeterminants(Uc).det, dv = luDeterminants(Vc).det;
    const sign = allocate(a.dtype, members.length);
    for (let j = 0; j < members.length; j++) sign[j] = Math.sign(du[j]! * dv[j]!);
    const signs = constant(sign, [members.length, 1, 1]);
    const whole = members.length === count;
    const pick = (x: Tensor): Tensor => (whole ? x : indexSelect(x, 0, members));
    const part = rotatedCofactors({ v: pick(flat), d: flatTangent === null ? null : pick(flatTangent) }, Uc, Vc, r);
    values.push(part.v.mul(signs));
    // A 1×1 matrix's cofactor is the constant 1: no tangent.
    tangents.push(part.d === null ? zerosLike(part.v) : part.d.mul(signs));
    order.push(...members);
  }
  const back = new Array<number>(count).fill(0);
  order.forEach((bi, j) => (back[bi] = j));
  const inOrder = order.some((bi, j) => bi !== j);
  const join = (parts: Tensor[]): Tensor => {
    const joined = parts.length === 1 ? parts[0]! : concat(parts, 0);
    return reshape(inOrder ? indexSelect(joined, 0, back) : joined, [...batch, n, n]);
  };
  return { v: join(values), d: flatTangent === null ? null : join(tangents) };
}

/** A value v and its tangent d (null: constant), pushed through the formula of `cofactors` by hand. */
interface Pair {
  v: Tensor;
  d: Tensor | null;
}

const plus = (x: Tensor | null, y: Tensor | null): Tensor | null => (x === null ? y : y === null ? x : x.add(y));
const product = (x: Pair, y: Pair): Pair => ({ v: matmul(x.v, y.v), d: plus(x.d === null ? null : matmul(x.d, y.v), y.d === null ? null : matmul(x.v, y.d)) });
const scaled = (x: Pair, c: Pair): Pair => {
  const cv = unsqueeze(unsqueeze(c.v, -1), -1);
  return { v: x.v.mul(cv), d: plus(x.d === null ? null : x.d.mul(cv), c.d === null ? null : x.v.mul(unsqueeze(unsqueeze(c.d, -1), -1))) };
};
const difference = (x: Pair, y: Pair): Pair => ({ v: x.v.sub(y.v), d: plus(x.d, y.d === null ? null : y.d.neg()) });
const transposed = (x: Pair): Pair => ({ v: mT(x.v), d: x.d === null ? null : mT(x.d) });
const fixed = (x: Tensor): Pair => ({ v: x, d: null });
/** M⁻¹·B with its tangent M⁻¹·(Ḃ − Ṁ·M⁻¹·B). */
const solved = (m: Pair, b: Pair): Pair => {
  const v = solveCore('det (backward)', m.v, b.v);
  const rhs = plus(b.d, m.d === null ? null : matmul(m.d, v).neg());
  return { v, d: rhs === null ? null : solveCore('det (backward)', m.v, rhs) };
};

/** U·cof(Uᵀ·A·V)·Vᵀ for a group sharing r (see `cofactors`): A, U, V [N, n, n]. */
function rotatedCofactors(a: Pair, U: Tensor, V: Tensor, r: number): Pair {
  const n = a.v.shape[a.v.ndim - 1]!;
  const sandwich = (l: Tensor, rt: Tensor): Pair => product(product(fixed(mT(l)), a), fixed(rt));
  if (r === 0) return product(product(fixed(U), characteristicCofactors(sandwich(U, V)).cof), fixed(mT(V)));
  const Ub = slice(U, -1, 0, r), Uz = slice(U, -1, r, n), Vb = slice(V, -1, 0, r), Vz = slice(V, -1, r, n);
  const P = sandwich(Ub, Vb), Q = sandwich(Ub, Vz), R = sandwich(Uz, Vb), S = sandwich(Uz, Vz);
  const X = solved(P, Q); // P⁻¹·Q
  const Yt = solved(transposed(P), transposed(R)); // P⁻ᵀ·Rᵀ
  const { det: detC, cof: cofC } = characteristicCofactors(difference(S, product(R, X)));
  const left = difference(fixed(Uz), product(fixed(Ub), Yt)), right = difference(fixed(Vz), product(fixed(Vb), X));
  const inner = scaled(product(fixed(Ub), solved(transposed(P), fixed(mT(Vb)))), detC);
  const detP = det(P.v);
  // d det(P) = det(P)·tr(P⁻¹·Ṗ)
  const detPair: Pair = { v: detP, d: P.d === null ? null : detP.mul(diagonalOf(solveCore('det (backward)', P.v, P.d)).sum(-1)) };
  const sum = product(product(left, cofC), transposed(right));
  return scaled({ v: sum.v.add(inner.v), d: plus(sum.d, inner.d) }, detPair);
}

/**
 * det(C) and cof(C) of square matrices [..., k, k] (with their tangents) by the Faddeev–LeVerrier
 * recurrence M₁ = I, c_{k−j} = −tr(C·M_j)/j, M_{j+1} = C·M_j + c_{k−j}·I: det(C) = (−1)ᵏ·c₀ and
 * adj(C) = (−1)^{k−1}·M_k. Only matmuls, sums and integer divisions, so exactly the polynomials
 * and their derivatives; its cancellation is harmless only for small C (as `cofactors` uses it).
 */
function characteristicCofactors(c: Pair): { det: Pair; cof: Pair } {
  const k = c.v.shape[c.v.ndim - 1]!;
  const identity = eye(k, k, { dtype: c.v.dtype });
  const traced = (x: Pair, by: number): Pair => ({ v: diagonalOf(x.v).sum(-1).mul(by), d: x.d === null ? null : diagonalOf(x.d).sum(-1).mul(by) });
  const negated = (x: Pair): Pair => ({ v: x.v.neg(), d: x.d === null ? null : x.d.neg() });
  let m: Pair = fixed(identity);
  let cm: Pair = c;
  let coefficient = traced(cm, -1);
  for (let j = 2; j <= k; j++) {
    m = { v: cm.v.add(unsqueeze(unsqueeze(coefficient.v, -1), -1).mul(identity)), d: plus(cm.d, coefficient.d === null ? null : unsqueeze(unsqueeze(coefficient.d, -1), -1).mul(identity)) };
    cm = product(c, m);
    coefficient = traced(cm, -1 / j);
  }
  // adj of a 1×1 matrix is the constant 1.
  const cof = k === 1 ? fixed(onesLike(c.v)) : transposed(k % 2 === 1 ? m : negated(m));
  return { det: k % 2 === 0 ? coefficient : negated(coefficient), cof };
}

/** What `slogdet` returns, as torch.linalg.slogdet's named tuple. */
export interface SlogdetResult {
  /** -1, 0 (singular) or 1 for each matrix; no gradient. */
  sign: Tensor;
  /** log|det A| for each matrix (-Infinity when singular). */
  logabsdet: Tensor;
}

/**
 * The sign and the log of the absolute value of each determinant, as `torch.linalg.slogdet`:
 * stable where the determinant itself would overflow or underflow. A singular matrix gives
 * sign 0 and logabsdet -Infinity. `sign` carries no gradient; logabsdet's is g·A⁻ᵀ.
 * @throws ShapeError if not square. LinAlgError in backward at a singular matrix.
 * @example slogdet(tensor([[1, 2], [3, 4]], { dtype: 'float64' })) // { sign: -1, logabsdet: log 2 }
 */
export const slogdet = primitive('slogdet', { kind: 'other', rule: 'matrix' }, function (a: Tensor): SlogdetResult {
  const A = matrixArg('slogdet', 'A', a, true);
  const { batch, sign, logAbs } = luDeterminants(A);
  const s = allocate(A.dtype, sign.length);
  s.set(sign);
  const l = allocate(A.dtype, logAbs.length);
  l.set(logAbs);
  const logabsdet = makeOutput('slogdet', l, batch, [A], (g) => [
    unsqueeze(unsqueeze(g, -1), -1).mul(inverseTranspose('slogdet (backward)', A)),
  ], {
    saves: [[0]],
    // tr(A⁻¹·Ȧ)
    jvp: ([t]) => inverseTranspose('slogdet (jvp)', A).mul(t!).sum([-2, -1]),
  });
  return { sign: constant(s, batch), logabsdet };
});

// ---------------------------------------------------------------------------------------------
// Triangular systems and Cholesky

/**
 * X with T·X = B for triangular T [..., n, n] (its `upper` or lower triangle read, a unit
 * diagonal assumed when `unit`), B [..., n, k], batches broadcast: the primitive behind
 * triangularSolve, choleskySolve and the Cholesky and QR adjoints. gB = T⁻ᵀ·g (the other
 * triangle), gT = -gB·Xᵀ restricted to T's triangle (the entries T is read from).
 */
function triangularCore(op: string, t: Tensor, b: Tensor, upper: boolean, unit: boolean): Tensor {
  const n = t.shape[t.ndim - 1]!;
  const k = b.shape[b.ndim - 1]!;
  const batchT = t.shape.slice(0, -2);
  const { batch, ia, ib } = broadcastPairs(op, batchT, b.shape.slice(0, -2));
  const out = allocate(t.dtype, ia.length * n * k, op, [...batch, n, k]);
  let tri: Float64Array | null = null;
  let loaded = -1;
  for (let bi = 0; bi < ia.length; bi++) {
    if (ia[bi] !== loaded) {
      tri = matrixCopy(t, ia[bi]!, n * n);
      loaded = ia[bi]!;
    }
    const x = matrixCopy(b, ib[bi]!, n * k);
    const zero = triangularSolveInPlace(tri!, n, x, k, upper, unit);
    if (zero >= 0) throw singularError(op, t, batchT, ia[bi]!, `its diagonal element [${zero},${zero}] is zero`);
    out.set(x, bi * n * k);
  }
  return makeOutput(op, out, [...batch, n, k], [t, b], (g, result) => {
    const gb = triangularCore(op, mT(t), g, !upper, unit);
    return [t.requiresGrad ? triangle(matmul(gb, mT(result)).neg(), upper, unit ? (upper ? 1 : -1) : 0) : null, b.requiresGrad ? gb : null];
  }, {
    saves: [[0, 'output'], [0]],
    // Ẋ = T⁻¹·(Ḃ - Ṫ·X), Ṫ read in the triangle T is read from.
    jvp: ([tt, tb], result) => {
      const read = tt === null || tt === undefined ? null : triangle(tt, upper, unit ? (upper ? 1 : -1) : 0);
      return triangularCore(op, t, differenceRhs(tb, read, result), upper, unit);
    },
  });
}

/** Options of `triangularSolve`, as `torch.linalg.solve_triangular`'s keywords. */
export interface TriangularSolveOptions {
  /** Whether A is upper triangular (its upper triangle is read) or lower (its lower one). */
  upper: boolean;
  /** Solve A·X = B (default true) or X·A = B. */
  left?: boolean;
  /** Take A's diagonal as ones without reading it (default false). */
  unitriangular?: boolean;
}

/**
 * The solution X of A·X = B (or X·A = B when `left` is false) for triangular A, as
 * `torch.linalg.solve_triangular(A, B, upper=..., left=..., unitriangular=...)`: only the
 * triangle `upper` names is read (and not the diagonal when `unitriangular`); A is [..., n, n],
 * B [..., n, k] ([..., k, n] when right), batches broadcast. The gradient for A lies in that
 * triangle, since no other entry affects the result.
 * @throws LinAlgError if a diagonal element is zero (and not unitriangular), naming the batch element.
 * @throws ShapeError for shapes that do not fit; DTypeError if the dtypes differ; ArgumentError without `upper`.
 * @example triangularSolve(l, b, { upper: false })
 */
export const triangularSolve = primitive('triangularSolve', { kind: 'other', rule: 'matrix' }, function (a: Tensor, b: Tensor, options: TriangularSolveOptions): Tensor {
  checkOptions('triangularSolve', options, ['upper', 'left', 'unitriangular']);
  const A = matrixArg('triangularSolve', 'A', a, true);
  const B = matrixArg('triangularSolve', 'B', b, false);
  checkSameDType('triangularSolve', A, B);
  if (typeof options?.upper !== 'boolean') {
    throw new ArgumentError('triangularSolve: options.upper must be true or false (which triangle of A to read)');
  }
  const { upper, left = true, unitriangular = false } = options;
  const n = A.shape[A.ndim - 1]!;
  const along = B.shape[left ? B.ndim - 2 : B.ndim - 1]!;
  if (along !== n) {
    throw new ShapeError(`triangularSolve: B ${formatShape(B.shape)} does not fit A ${formatShape(A.shape)}: need ${left ? 'rows' : 'columns'} of size ${n}`);
  }
  if (left) return triangularCore('triangularSolve', A, B, upper, unitriangular);
  // X·A = B ⟺ Aᵀ·Xᵀ = Bᵀ, and Aᵀ has the other triangle.
  return mT(triangularCore('triangularSolve', mT(A), mT(B), !upper, unitriangular));
});

/** The lower Cholesky factor of each matrix, reading its lower triangle. */
function choleskyCore(a: Tensor): Tensor {
  const n = a.shape[a.ndim - 1]!;
  const batch = a.shape.slice(0, -2);
  const count = sizeOf(batch);
  // Unset: every element is written (the copy of the input, then the factor's zeros above the diagonal).
  const out = allocateUnset(a.dtype, count * n * n, 'cholesky', a.shape);
  for (let bi = 0; bi < count; bi++) {
    // float64: factored in place in the output, with no working copy.
    const l = out instanceof Float64Array ? matrixCopy(a, bi, n * n, out.subarray(bi * n * n, (bi + 1) * n * n)) : matrixCopy(a, bi, n * n);
    const order = choleskyLower(l, n);
    if (order > 0) {
      throw new LinAlgError(
        `cholesky: the matrix${batchElement(batch, bi)} of input ${formatShape(a.shape)} ${a.dtype} is not positive-definite ` +
          `(its leading minor of order ${order} is not positive)`,
      );
    }
    if (l.buffer !== out.buffer) out.set(l, bi * n * n);
  }
  // Murray (2016), eq. 10, in PyTorch's cholesky_backward form: with Φ(X) the lower triangle of
  // X with its diagonal halved, gA = ½·(S + Sᵀ) where S = L⁻ᵀ·Φ(Lᵀ·gL)·L⁻¹; the two inverses
  // are triangular solves.
  return makeOutput('cholesky', out, a.shape, [a], (g, l) => {
    const phi = matmul(mT(l), g).mul(halfDiagonalLowerMask(n, a.dtype));
    const lt = mT(l);
    const y = triangularCore('cholesky (backward)', lt, phi, true, false);
    const s = mT(triangularCore('cholesky (backward)', lt, mT(y), true, false));
    return [s.add(mT(s)).mul(0.5)];
  }, {
    saves: [['output']],
    // L̇ = L·Φ(L⁻¹·sym(Ȧ)·L⁻ᵀ), Φ the lower triangle with its diagonal halved (Murray 2016, eq. 8).
    jvp: ([t], l) => {
      const y = triangularCore('cholesky (jvp)', l, symmetric(t!), false, false);
      const z = mT(triangularCore('cholesky (jvp)', l, mT(y), false, false));
      return matmul(l, z.mul(halfDiagonalLowerMask(n, a.dtype)));
    },
  });
}

function halfDiagonalLowerMask(n: number, dtype: DType): Tensor {
  const data = allocate(dtype, n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) data[i * n + j] = 1;
    data[i * n + i] = 0.5;
  }
  return constant(data, [n, n]);
}

/**
 * The Cholesky factor of each symmetric positive-definite matrix, as `torch.linalg.cholesky`:
 * lower L with A = L·Lᵀ (reading A's lower triangle), or upper U = Lᵀ with A = Uᵀ·U when
 * `upper` (reading A's upper triangle). The gradient (Murray 2016) is symmetric, as PyTorch's:
 * it treats A as symmetric, so check it through a symmetric parametrisation such as X·Xᵀ + I.
 * @throws LinAlgError if a matrix is not positive-definite, naming the batch element and the
 * order of the failing leading minor; ShapeError if not square.
 * @example cholesky(tensor([[4, 2], [2, 3]], { dtype: 'float64' })) // [[2, 0], [1, √2]]
 */
export const cholesky = primitive('cholesky', { kind: 'other', rule: 'matrix' }, function (a: Tensor, options: { upper?: boolean } = {}): Tensor {
  checkOptions('cholesky', options, ['upper']);
  const A = matrixArg('cholesky', 'A', a, true);
  return options.upper === true ? mT(choleskyCore(mT(A))) : choleskyCore(A);
});

/**
 * The solution X of A·X = B given the Cholesky factor of A, as `torch.cholesky_solve(B, L,
 * upper)` (note the argument order, PyTorch's): L lower with A = L·Lᵀ, or U upper with
 * A = Uᵀ·U when `upper`. Two triangular solves, so only the factor's triangle is read and its
 * gradient lies in that triangle.
 * @throws LinAlgError if the factor has a zero on its diagonal; ShapeError if shapes do not fit.
 * @example choleskySolve(b, cholesky(a)) // same as solve(a, b) for positive-definite a
 */
export const choleskySolve = primitive('choleskySolve', { kind: 'other', rule: 'matrix' }, function (b: Tensor, factor: Tensor, options: { upper?: boolean } = {}): Tensor {
  checkOptions('choleskySolve', options, ['upper']);
  const B = matrixArg('choleskySolve', 'B', b, false);
  const L = matrixArg('choleskySolve', 'L', factor, true);
  checkSameDType('choleskySolve', B, L);
  const n = L.shape[L.ndim - 1]!;
  if (B.shape[B.ndim - 2] !== n) {
    throw new ShapeError(`choleskySolve: B ${formatShape(B.shape)} does not fit the factor ${formatShape(L.shape)}: need rows of size ${n}`);
  }
  const upper = options.upper === true;
  // Lower: L·(Lᵀ·X) = B. Upper: Uᵀ·(U·X) = B. Each transposed factor is read in its other triangle.
  const first = upper ? triangularCore('choleskySolve', mT(L), B, false, false) : triangularCore('choleskySolve', L, B, false, false);
  return upper ? triangularCore('choleskySolve', L, first, true, false) : triangularCore('choleskySolve', mT(L), first, true, false);
});

// ---------------------------------------------------------------------------------------------
// QR

/** What `qr` returns. */
export interface QrResult {
  /** Orthonormal columns: m×k ('reduced'), m×m ('complete'), or an empty tensor ('r'). */
  Q: Tensor;
  /** Upper triangular (trapezoidal): k×n ('reduced', 'r') or m×n ('complete'). */
  R: Tensor;
}

/**
 * The QR decomposition A = Q·R of each matrix by Householder reflections, as `torch.linalg.qr`:
 * `mode` 'reduced' (default; Q m×k, R k×n with k = min(m, n)), 'complete' (Q m×m, R m×n), or
 * 'r' (R only; Q is then an empty tensor). Signs follow LAPACK (R's diagonal may be negative),
 * as PyTorch's. The gradient (PyTorch's linalg_qr_backward; Walter & Lehmann 2018) needs A of
 * full rank, and does not exist for mode 'complete' with m > n.
 * @throws ShapeError for fewer than 2 dimensions; ArgumentError for another mode; GraphError in
 * backward for mode 'complete' with more rows than columns.
 * @example const { Q, R } = qr(a);
 */
export const qr = primitive('qr', { kind: 'other', rule: 'matrix' }, function (a: Tensor, options: { mode?: 'reduced' | 'complete' | 'r' } = {}): QrResult {
  checkOptions('qr', options, ['mode']);
  const A = matrixArg('qr', 'A', a, false);
  const mode = options.mode ?? 'reduced';
  if (mode !== 'reduced' && mode !== 'complete' && mode !== 'r') {
    throw new ArgumentError(`qr: mode must be 'reduced', 'complete' or 'r', got ${String(mode)}`);
  }
  const m = A.shape[A.ndim - 2]!, n = A.shape[A.ndim - 1]!;
  const complete = mode === 'complete';
  const qc = complete ? m : Math.min(m, n);
  const batch = A.shape.slice(0, -2);
  const count = sizeOf(batch);
  const qData = new Float64Array(count * m * qc), rData = new Float64Array(count * qc * n);
  for (let bi = 0; bi < count; bi++) {
    householderQr(matrixCopy(A, bi, m * n), m, n, complete, qData.subarray(bi * m * qc, (bi + 1) * m * qc), rData.subarray(bi * qc * n, (bi + 1) * qc * n));
  }
  const [Q, R] = multiOutput('qr', batch, [{ shape: [m, qc], data: qData }, { shape: [qc, n], data: rData }], [A], ([gQ, gR], [q, r]) => {
    if (complete && m > n) {
      throw new GraphError(`qr: the QR decomposition of ${formatShape(A.shape)} is not differentiable with mode 'complete' and more rows than columns; use mode 'reduced'`);
    }
    return [qrBackward(gQ!, gR!, q!, r!)];
  }, (t, [q, r]) => {
    if (complete && m > n) {
      throw new GraphError(`qr: the QR decomposition of ${formatShape(A.shape)} is not differentiable with mode 'complete' and more rows than columns; use mode 'reduced'`);
    }
    return qrJvp(t, q!, r!);
  });
  return { Q: mode === 'r' ? zeros([0], { dtype: A.dtype }) : Q!, R: R! };
});

/**
 * The tangents of Q (m×k) and R (k×n) along Ȧ, k = min(m, n): for m ≥ n, with C = Qᵀ·Ȧ·R⁻¹ and
 * Ω = tril(C, -1) - tril(C, -1)ᵀ, Q̇ = Q·(Ω - C) + Ȧ·R⁻¹ and Ṙ = (C - Ω)·R (JAX's qr_jvp_rule).
 * Wide A = Q·[R1 R2] takes that rule on its first m columns, then Ṙ2 = Qᵀ·(Ȧ2 - Q̇·R2).
 */
function qrJvp(t: Tensor, q: Tensor, r: Tensor): Tensor[] {
  const m = q.shape[q.ndim - 2]!, n = r.shape[r.ndim - 1]!;
  if (m < n) {
    const [dq, dr1] = qrJvp(slice(t, -1, 0, m), q, slice(r, -1, 0, m));
    const dr2 = matmul(mT(q), slice(t, -1, m, n).sub(matmul(dq!, slice(r, -1, m, n))));
    return [dq!, concat([dr1!, dr2], -1)];
  }
  // Ȧ·R⁻¹: Rᵀ·Y = Ȧᵀ with Rᵀ lower triangular.
  const aRinv = mT(triangularCore('qr (jvp)', mT(r), mT(t), false, false));
  const c = matmul(mT(q), aRinv);
  const lower = triangle(c, false, -1);
  const omega = lower.sub(mT(lower));
  return [matmul(q, omega.sub(c)).add(aRinv), matmul(c.sub(omega), r)];
}

/** PyTorch's linalg_qr_backward (real case); Q is m×k, R k×n with k = min(m, n). */
function qrBackward(gQ: Tensor, gR: Tensor, q: Tensor, r: Tensor): Tensor {
  const m = q.shape[q.ndim - 2]!, n = r.shape[r.ndim - 1]!;
  const M = matmul(gR, mT(r)).sub(matmul(mT(q), gQ));
  if (m >= n) {
    // b = Q·copyltu(M) + gQ, with copyltu the symmetric matrix built on M's upper triangle;
    // gA = b·R⁻ᵀ, that is Rᵀ solved from the right: R·gAᵀ = bᵀ.
    const sym = triangle(M, true).add(mT(triangle(M, true, 1)));
    const b = matmul(q, sym).add(gQ);
    return mT(triangularCore('qr (backward)', r, mT(b), true, false));
  }
  // Wide: A = Q·[R1 R2] with R1 m×m; gA = [Q·tril(Mᵀ - M)·R1⁻ᵀ, 0] + Q·gR.
  const r1 = slice(r, -1, 0, m);
  const b = matmul(q, triangle(mT(M).sub(M), false));
  const first = mT(triangularCore('qr (backward)', r1, mT(b), true, false));
  const rest = zeros([...first.shape.slice(0, -1), n - m], { dtype: q.dtype });
  return concat([first, rest], -1).add(matmul(q, gR));
}

// ---------------------------------------------------------------------------------------------
// Symmetric eigendecomposition and SVD

/** What `eigh` returns, as torch.linalg.eigh's named tuple. */
export interface EighResult {
  /** Shape [..., n], ascending. */
  eigenvalues: Tensor;
  /** Shape [..., n, n]; column j is the unit eigenvector of eigenvalue j (its sign is arbitrary). */
  eigenvectors: Tensor;
}

/**
 * Eigenvalues (ascending) and orthonormal eigenvectors (columns) of each symmetric matrix, as
 * `torch.linalg.eigh`: only the lower triangle (`UPLO` 'L', the default) or the upper ('U') is
 * read. Householder tridiagonalisation and implicit QL (LAPACK's syev route). Eigenvectors are
 * determined up to sign (and, at a repeated eigenvalue, up to a rotation within its
 * eigenspace), so only losses independent of that choice have a well-defined gradient.
 *
 * Gradient (PyTorch's linalg_eig_backward, Hermitian case): gA = V·(diag(gλ) + F∘skew(Vᵀ·gV))·Vᵀ
 * with F_ij = 1/(λ_j − λ_i). It is symmetric, as PyTorch's, so check it through a symmetric
 * parametrisation. Like PyTorch's, it becomes huge as two eigenvalues approach each other and is
 * not defined at a repeated eigenvalue; chainrule drops the terms of exactly equal pairs, so a
 * loss of the eigenvalues alone keeps a finite gradient there.
 * @throws ShapeError if not square; ArgumentError for another UPLO; LinAlgError if the QL iteration
 * does not converge (as LAPACK's syev reports; not seen on finite input in practice).
 * @example const { eigenvalues, eigenvectors } = eigh(a);
 */
export const eigh = primitive('eigh', { kind: 'other', rule: 'matrix' }, function (a: Tensor, options: { UPLO?: 'L' | 'U' } = {}): EighResult {
  checkOptions('eigh', options, ['UPLO']);
  const A = matrixArg('eigh', 'A', a, true);
  const uplo = options.UPLO ?? 'L';
  if (uplo !== 'L' && uplo !== 'U') throw new ArgumentError(`eigh: UPLO must be 'L' or 'U', got ${String(uplo)}`);
  const n = A.shape[A.ndim - 1]!;
  const batch = A.shape.slice(0, -2);
  const count = sizeOf(batch);
  const w = new Float64Array(count * n), v = new Float64Array(count * n * n);
  for (let bi = 0; bi < count; bi++) {
    const s = matrixCopy(A, bi, n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        if (uplo === 'L') s[j * n + i] = s[i * n + j]!;
        else s[i * n + j] = s[j * n + i]!;
      }
    }
    if (!symmetricEigen(s, n, w.subarray(bi * n, (bi + 1) * n), v.subarray(bi * n * n, (bi + 1) * n * n))) {
      throw convergenceError('eigh', A, batch, bi);
    }
  }
  const [values, vectors] = multiOutput('eigh', batch, [{ shape: [n], data: w }, { shape: [n, n], data: v }], [A], ([gL, gV], [L, V]) => {
    const vtgv = matmul(mT(V!), gV!);
    const skew = vtgv.sub(mT(vtgv)).mul(0.5);
    const gaps = unsqueeze(L!, -2).sub(unsqueeze(L!, -1)); // λ_j − λ_i
    const inner = skew.mul(gapReciprocal(gaps)).add(diagEmbed(gL!));
    return [matmul(matmul(V!, inner), mT(V!))];
  }, (t, [L, V]) => {
    // With M = Vᵀ·sym(Ȧ)·V: λ̇ = diag(M), V̇ = V·(F ∘ M), F_ij = 1/(λ_j − λ_i) off exact ties (JAX's eigh_jvp_rule).
    const mm = matmul(matmul(mT(V!), symmetric(t)), V!);
    const gaps = unsqueeze(L!, -2).sub(unsqueeze(L!, -1));
    return [diagonalOf(mm), matmul(V!, mm.mul(gapReciprocal(gaps)))];
  });
  return { eigenvalues: values!, eigenvectors: vectors! };
});

/** The SVD kernel over a batch: U, S, Vh as float64 arrays. */
function svdForward(A: Tensor, full: boolean): { batch: number[]; m: number; n: number; k: number; uc: number; vr: number; u: Float64Array; s: Float64Array; vh: Float64Array } {
  const m = A.shape[A.ndim - 2]!, n = A.shape[A.ndim - 1]!;
  const k = Math.min(m, n);
  const uc = full ? m : k, vr = full ? n : k;
  const batch = A.shape.slice(0, -2);
  const count = sizeOf(batch);
  const u = new Float64Array(count * m * uc), s = new Float64Array(count * k), vh = new Float64Array(count * vr * n);
  for (let bi = 0; bi < count; bi++) {
    if (!jacobiSvd(matrixCopy(A, bi, m * n), m, n, full, u.subarray(bi * m * uc, (bi + 1) * m * uc), s.subarray(bi * k, (bi + 1) * k), vh.subarray(bi * vr * n, (bi + 1) * vr * n))) {
      throw convergenceError('svd', A, batch, bi);
    }
  }
  return { batch, m, n, k, uc, vr, u, s, vh };
}

/** What `svd` returns, as torch.linalg.svd's named tuple. */
export interface SvdResult {
  /** Left singular vectors as columns: [..., m, m] (full) or [..., m, k]. */
  U: Tensor;
  /** Singular values [..., k], descending, k = min(m, n). */
  S: Tensor;
  /** Right singular vectors as rows: [..., n, n] (full) or [..., k, n]. */
  Vh: Tensor;
}

/**
 * The singular value decomposition A = U·diag(S)·Vh of each matrix, as `torch.linalg.svd`:
 * S descending; with `fullMatrices` (the default, as PyTorch) U is m×m and Vh n×n, else U is
 * m×k and Vh k×n with k = min(m, n). One-sided Jacobi, accurate for small singular values.
 * Singular vectors are determined up to sign (and, at a repeated singular value, a rotation), so
 * only losses independent of that choice have a well-defined gradient; the extra columns of a
 * full U or Vh get none, as in PyTorch.
 *
 * Gradient (PyTorch's svd_backward; Townsend 2016): its singular-vector terms divide by
 * σ_j² − σ_i² and, for non-square A, by σ_i, so they are huge near repeated (or, for
 * non-square A, zero) singular values and undefined at them, as in PyTorch. chainrule drops the
 * terms of exactly repeated or zero values, so losses of S alone (see `svdvals`) stay finite.
 * A matrix holding NaN or ±Inf gives NaN everywhere (as `eigh`; PyTorch raises).
 * @throws ShapeError for fewer than 2 dimensions; LinAlgError if the Jacobi sweeps do not
 * converge (LAPACK's info > 0).
 * @example const { U, S, Vh } = svd(a, { fullMatrices: false });
 */
export const svd = primitive('svd', { kind: 'other', rule: 'matrix' }, function (a: Tensor, options: { fullMatrices?: boolean } = {}): SvdResult {
  checkOptions('svd', options, ['fullMatrices']);
  const A = matrixArg('svd', 'A', a, false);
  const full = options.fullMatrices ?? true;
  const { batch, m, n, k, uc, vr, u, s, vh } = svdForward(A, full);
  const [U, S, Vh] = multiOutput(
    'svd',
    batch,
    [{ shape: [m, uc], data: u }, { shape: [k], data: s }, { shape: [vr, n], data: vh }],
    [A],
    ([gU, gS, gVh], [uo, so, vho]) => [svdBackward(slice(gU!, -1, 0, k), gS!, slice(gVh!, -2, 0, k), slice(uo!, -1, 0, k), so!, slice(vho!, -2, 0, k))],
    (t, [uo, so, vho]) => {
      const [dU, dS, dVh] = svdJvp(t, slice(uo!, -1, 0, k), so!, slice(vho!, -2, 0, k));
      // The extra columns of a full U (rows of Vh) get none, as their gradient.
      const padU = uc > k ? concat([dU!, zeros([...dU!.shape.slice(0, -1), uc - k], { dtype: dU!.dtype })], -1) : dU!;
      const padVh = vr > k ? concat([dVh!, zeros([...dVh!.shape.slice(0, -2), vr - k, n], { dtype: dVh!.dtype })], -2) : dVh!;
      return [padU, dS!, padVh];
    },
  );
  return { U: U!, S: S!, Vh: Vh! };
});

/**
 * The tangents of the reduced U (m×k), S (k) and Vh (k×n) along Ȧ (JAX's svd_jvp_rule, real
 * case): with dP = Uᵀ·Ȧ·V, Ṡ = diag(dP), U̇ = U·(F ∘ (dP·S + S·dPᵀ)) and V̇ = V·(F ∘ (S·dP + dPᵀ·S)),
 * F_ij = 1/(σ_j² − σ_i²); plus, for a tall (wide) A, the part of Ȧ·V (Ȧᵀ·U) outside U's (V's)
 * span over S. Exactly repeated or zero values drop their terms, as the gradient does.
 */
function svdJvp(t: Tensor, U: Tensor, S: Tensor, Vh: Tensor): Tensor[] {
  const m = U.shape[U.ndim - 2]!, n = Vh.shape[Vh.ndim - 1]!;
  const V = mT(Vh);
  const dP = matmul(matmul(mT(U), t), V);
  const sRow = unsqueeze(S, -2), sCol = unsqueeze(S, -1);
  const s2 = S.mul(S);
  const f = gapReciprocal(unsqueeze(s2, -2).sub(unsqueeze(s2, -1)));
  const dPS = dP.mul(sRow), SdP = dP.mul(sCol);
  let dU = matmul(U, f.mul(dPS.add(mT(dPS))));
  let dV = matmul(V, f.mul(SdP.add(mT(SdP))));
  const sInv = unsqueeze(gapReciprocal(S), -2);
  if (m > n) {
    const aV = matmul(t, V);
    dU = dU.add(aV.sub(matmul(U, matmul(mT(U), aV))).mul(sInv));
  }
  if (n > m) {
    const aU = matmul(mT(t), U);
    dV = dV.add(aU.sub(matmul(V, matmul(Vh, aU))).mul(sInv));
  }
  return [dU, diagonalOf(dP), mT(dV)];
}

/** PyTorch's svd_backward (real case, reduced factors: U m×k, S k, Vh k×n). */
function svdBackward(gU: Tensor, gS: Tensor, gVh: Tensor, U: Tensor, S: Tensor, Vh: Tensor): Tensor {
  const m = U.shape[U.ndim - 2]!, n = Vh.shape[Vh.ndim - 1]!;
  const V = mT(Vh), gV = mT(gVh);
  const utgu = matmul(mT(U), gU);
  const vtgv = matmul(mT(V), gV);
  const skewU = utgu.sub(mT(utgu)), skewV = vtgv.sub(mT(vtgv));
  const s2 = S.mul(S);
  const gaps = unsqueeze(s2, -2).sub(unsqueeze(s2, -1)); // σ_j² − σ_i²
  const inner = skewU.mul(unsqueeze(S, -2)).add(unsqueeze(S, -1).mul(skewV)).mul(gapReciprocal(gaps)).add(diagEmbed(gS));
  if (m > n) {
    // gA = [U·inner + (I − U·Uᵀ)·gU·S⁻¹]·Vh
    const gUSinv = gU.mul(unsqueeze(gapReciprocal(S), -2));
    const left = matmul(U, inner).add(gUSinv).sub(matmul(U, matmul(mT(U), gUSinv)));
    return matmul(left, Vh);
  }
  if (m < n) {
    // gA = U·[inner·Vh + S⁻¹·gVh·(I − V·Vh)]
    const sinvgVh = gVh.mul(unsqueeze(gapReciprocal(S), -1));
    const right = matmul(inner, Vh).add(sinvgVh).sub(matmul(matmul(sinvgVh, V), Vh));
    return matmul(U, right);
  }
  return matmul(matmul(U, inner), Vh);
}

/**
 * The singular values of each matrix, descending, as `torch.linalg.svdvals`. Its gradient,
 * U·diag(g)·Vh, is defined even at repeated singular values.
 * @throws ShapeError for fewer than 2 dimensions.
 * @example svdvals(a).sum(-1) // the nuclear norm
 */
export const svdvals = primitive('svdvals', { kind: 'other', rule: 'matrix' }, function (a: Tensor): Tensor {
  matrixArg('svdvals', 'A', a, false);
  return svd(a, { fullMatrices: false }).S;
});

/** Options of `pinv`, as `torch.linalg.pinv`'s keywords. */
export interface PinvOptions {
  /** Singular values at or below atol are taken as zero (default 0). */
  atol?: number;
  /**
   * Singular values at or below rtol·σ_max are taken as zero; default ε·max(m, n), or 0 when a
   * positive atol is given.
   */
  rtol?: number;
}

/**
 * The Moore–Penrose pseudo-inverse of each matrix from its SVD, as `torch.linalg.pinv`:
 * singular values ≤ max(atol, rtol·σ_max) count as zero. Its gradient is Golub & Pereyra's
 * (1973) formula for a matrix of locally constant rank (PyTorch's pinv_backward); it jumps where
 * the rank changes.
 * @throws ShapeError for fewer than 2 dimensions; ArgumentError for a negative or non-finite tolerance.
 * @example pinv(a) // a [5,3] -> [3,5]
 */
export const pinv = primitive('pinv', { kind: 'other', rule: 'matrix' }, function (a: Tensor, options: PinvOptions = {}): Tensor {
  checkOptions('pinv', options, ['atol', 'rtol']);
  const A = matrixArg('pinv', 'A', a, false);
  const { atol = 0 } = options;
  const m = A.shape[A.ndim - 2]!, n = A.shape[A.ndim - 1]!;
  const rtol = options.rtol ?? (atol > 0 ? 0 : 2.220446049250313e-16 * Math.max(m, n));
  for (const [name, v] of [['atol', atol], ['rtol', rtol]] as const) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new ArgumentError(`pinv: ${name} must be a finite number ≥ 0, got ${v}`);
  }
  const { batch, k, u, s, vh } = svdForward(A, false);
  const count = sizeOf(batch);
  const out = allocate(A.dtype, count * n * m, 'pinv', [...batch, n, m]);
  const row = new Float64Array(m);
  for (let bi = 0; bi < count; bi++) {
    const sv = s.subarray(bi * k, (bi + 1) * k);
    const cut = Math.max(atol, rtol * (k > 0 ? sv[0]! : 0));
    // pinv = V·diag(1/σ)·Uᵀ over the kept values: row i is Σ_j Vh[j,i]/σ_j · U[:,j]ᵀ.
    for (let i = 0; i < n; i++) {
      row.fill(0);
      for (let j = 0; j < k; j++) {
        const sigma = sv[j]!;
        if (!(sigma > cut)) continue;
        const f = vh[bi * k * n + j * n + i]! / sigma;
        for (let r = 0; r < m; r++) row[r]! += f * u[bi * m * k + r * k + j]!;
      }
      out.set(row, bi * n * m + i * m);
    }
  }
  return makeOutput('pinv', out, [...batch, n, m], [A], (g, p) => [pinvBackward(g, p, A)], {
    saves: [[0, 'output']],
    // Golub & Pereyra: Ṗ = -P·Ȧ·P + P·Pᵀ·Ȧᵀ·(I - A·P) + (I - P·A)·Ȧᵀ·Pᵀ·P (JAX's pinv_jvp).
    jvp: ([t], p) => {
      const at = mT(t!), pT = mT(p);
      const ppT = matmul(p, pT), pTp = matmul(pT, p);
      const left = matmul(ppT, at);
      const right = matmul(at, pTp);
      return matmul(matmul(p, t!), p).neg().add(left.sub(matmul(matmul(left, A), p))).add(right.sub(matmul(p, matmul(A, right))));
    },
  });
});

/** PyTorch's pinv_backward, arranged so the products stay min(m, n)-sized. */
function pinvBackward(g: Tensor, p: Tensor, a: Tensor): Tensor {
  const m = a.shape[a.ndim - 2]!, n = a.shape[a.ndim - 1]!;
  const pT = mT(p), gT = mT(g);
  if (m <= n) {
    const K = matmul(gT, p);
    const KpT = matmul(K, pT);
    return mT(matmul(p, K)).neg().add(KpT).sub(matmul(matmul(a, p), KpT)).add(matmul(matmul(pT, p), gT.sub(matmul(K, a))));
  }
  const K = matmul(p, gT);
  const pTK = matmul(pT, K);
  return mT(matmul(K, p)).neg().add(matmul(matmul(gT.sub(matmul(a, K)), p), pT)).add(pTK).sub(matmul(matmul(pTK, p), a));
}

/** What `lstsq` returns, as torch.linalg.lstsq's named tuple. */
export interface LstsqResult {
  /** X [..., n, k], minimising ‖A·X - B‖ (and ‖X‖ among the minimisers). */
  solution: Tensor;
  /** Squared residual norms [..., k] when m > n and every matrix has full rank, else shape [0]. */
  residuals: Tensor;
  /** The effective rank of each matrix, int32; no gradient. */
  rank: Tensor;
  /** The singular values of each matrix, descending; no gradient. */
  singularValues: Tensor;
}

/**
 * The least-squares solution of A·X ≈ B, as `torch.linalg.lstsq` for the minimum-norm solution
 * (its 'gelsd' driver): X = pinv(A, rtol: rcond)·B, so it also solves under-determined and
 * rank-deficient systems. `residuals` holds the squared residual norms of the columns of X when
 * m > n and every matrix has full rank, and is empty otherwise (as PyTorch); `rank` holds each
 * matrix's effective rank (int32) and `singularValues` its singular values. A B with one
 * dimension fewer than A ([..., m]) is a vector per matrix, as PyTorch's: X is [..., n].
 * The gradients are pinv's, as PyTorch's linalg_lstsq_backward.
 * @throws ShapeError if B does not have A's number of rows; DTypeError if the dtypes differ.
 * @example lstsq(a, b).solution // a [5,3], b [5,2] -> [3,2]; b [5] -> [3]
 */
export const lstsq = primitive('lstsq', { kind: 'other', rule: 'matrix' }, function (a: Tensor, b: Tensor, options: { rcond?: number } = {}): LstsqResult {
  checkOptions('lstsq', options, ['rcond']);
  const A = matrixArg('lstsq', 'A', a, false);
  // B with one dimension fewer than A is a vector (or a batch of them), as PyTorch's: solved as one column.
  if (b instanceof Tensor && b.ndim === A.ndim - 1) {
    const column = lstsq(A, unsqueeze(b, -1), options);
    return { ...column, solution: squeeze(column.solution, -1) };
  }
  const B = matrixArg('lstsq', 'B', b, false);
  checkSameDType('lstsq', A, B);
  const m = A.shape[A.ndim - 2]!, n = A.shape[A.ndim - 1]!;
  if (B.shape[B.ndim - 2] !== m) {
    throw new ShapeError(`lstsq: B ${formatShape(B.shape)} does not fit A ${formatShape(A.shape)}: need rows of size ${m}`);
  }
  const rcond = options.rcond ?? 2.220446049250313e-16 * Math.max(m, n);
  const solution = matmul(pinv(A, { rtol: rcond }), B);
  const singularValues = svdvals(A.detach());
  const k = Math.min(m, n);
  const ranks = new Int32Array(singularValues.size / Math.max(k, 1));
  for (let bi = 0; bi < ranks.length; bi++) {
    const top = singularValues.data[bi * k] ?? 0;
    let r = 0;
    for (let j = 0; j < k; j++) if (singularValues.data[bi * k + j]! > rcond * top) r++;
    ranks[bi] = r;
  }
  const rank = constant(ranks, singularValues.shape.slice(0, -1));
  const fullRank = ranks.every((r) => r === n);
  const residuals = m > n && fullRank ? matmul(A, solution).sub(B).square().sum(-2) : zeros([0], { dtype: A.dtype });
  return { solution, residuals, rank, singularValues };
});

// ---------------------------------------------------------------------------------------------
// Matrix functions

/**
 * The matrix exponential e^A = Σ Aᵏ/k! of each square matrix, as `torch.linalg.matrix_exp`:
 * scaling and squaring with the [13/13] Padé approximant (Higham 2005). Its gradient is the
 * Fréchet derivative at Aᵀ in the direction g, read from the exponential of the block matrix
 * [[Aᵀ, g], [0, Aᵀ]] (Najfeld & Havel 1995; PyTorch's backward_analytic_function_of_a_matrix),
 * so it differentiates again.
 * @throws ShapeError if not square.
 * @example matrixExp(zeros([2, 2])) // the identity
 */
export const matrixExp = primitive('matrixExp', { kind: 'other', rule: 'matrix' }, function (a: Tensor): Tensor {
  const A = matrixArg('matrixExp', 'A', a, true);
  const n = A.shape[A.ndim - 1]!;
  const count = sizeOf(A.shape.slice(0, -2));
  const out = allocate(A.dtype, count * n * n, 'matrixExp', A.shape);
  const e = new Float64Array(n * n);
  for (let bi = 0; bi < count; bi++) {
    expmPade(matrixCopy(A, bi, n * n), n, e);
    out.set(e, bi * n * n);
  }
  return makeOutput('matrixExp', out, A.shape, [A], (g) => {
    const at = mT(A);
    const block = concat([concat([at, g], -1), concat([zeros(g.shape, { dtype: g.dtype }), at], -1)], -2);
    return [slice(slice(matrixExp(block), -2, 0, n), -1, n, 2 * n)];
  }, {
    saves: [[0]],
    // The Fréchet derivative at A along Ȧ: the top-right block of exp([[A, Ȧ], [0, A]]).
    jvp: ([t]) => {
      const block = concat([concat([A, t!], -1), concat([zeros(t!.shape, { dtype: t!.dtype }), A], -1)], -2);
      return slice(slice(matrixExp(block), -2, 0, n), -1, n, 2 * n);
    },
  });
});

/** matrixPower of an int32 matrix (or batch): exact products in int32 arithmetic, no graph. */
function integerMatrixPower(A: Tensor, k: number): Tensor {
  const op = 'matrixPower';
  if (!Number.isSafeInteger(k)) throw new ArgumentError(`${op}: the exponent must be an integer, got ${k}`);
  const n = A.ndim < 2 ? -1 : A.shape[A.ndim - 1]!;
  if (A.ndim < 2 || A.shape[A.ndim - 2] !== n) {
    throw new ShapeError(`${op}: A must be a batch of square matrices, got shape ${formatShape(A.shape)} ${A.dtype}`);
  }
  if (k < 0) throw new DTypeError(`${op}: a negative power of an int32 matrix ${formatShape(A.shape)} needs its inverse, which is float only; convert with toDtype('float64')`);
  const size = n * n;
  const count = size === 0 ? 0 : A.size / size;
  const src = A.data as Int32Array;
  const out = new Int32Array(A.size);
  const base = new Int32Array(size);
  const acc = new Int32Array(size);
  const tmp = new Int32Array(size);
  for (let b = 0; b < count; b++) {
    base.set(src.subarray(b * size, (b + 1) * size));
    acc.fill(0);
    for (let i = 0; i < n; i++) acc[i * n + i] = 1;
    // Repeated squaring; int32 products and sums wrap modulo 2³², so any order gives PyTorch's bits.
    for (let rest = k; rest > 0; rest = Math.floor(rest / 2)) {
      if (rest % 2 === 1) {
        integerMatmul(acc, base, tmp, n);
        acc.set(tmp);
      }
      if (rest > 1) {
        integerMatmul(base, base, tmp, n);
        base.set(tmp);
      }
    }
    out.set(acc, b * size);
  }
  return constant(out, A.shape);
}

/** out = a·b for n×n int32 matrices, wrapping modulo 2³² (Math.imul, then |0 on each sum). */
function integerMatmul(a: Int32Array, b: Int32Array, out: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s = (s + Math.imul(a[i * n + p]!, b[p * n + j]!)) | 0;
      out[i * n + j] = s;
    }
  }
}

/**
 * Aᵏ for an integer k, as `torch.linalg.matrix_power`: repeated squaring for k > 0, the
 * identity for k = 0, and inv(A)^|k| for k < 0. Built from matmul and inv, which carry the
 * gradient. An int32 matrix gives an int32 power computed exactly, wrapping modulo 2³² on
 * overflow as PyTorch's int32 products do (k ≥ 0 only: inv is a float op, in PyTorch too).
 * @throws ArgumentError if k is not an integer; ShapeError if not square; LinAlgError for k < 0 and
 * a singular matrix; DTypeError for a bool matrix, or an int32 one with k < 0.
 * @example matrixPower(a, 3) // a·a·a
 */
export const matrixPower = primitive('matrixPower', { kind: 'other', rule: 'matrix' }, function (a: Tensor, k: number): Tensor {
  if (a instanceof Tensor && a.dtype === 'int32') return integerMatrixPower(a, k);
  const A = matrixArg('matrixPower', 'A', a, true);
  if (!Number.isSafeInteger(k)) throw new ArgumentError(`matrixPower: the exponent must be an integer, got ${k}`);
  const n = A.shape[A.ndim - 1]!;
  // A·0 + I keeps A's batch shape and its graph (a zero gradient), as PyTorch's k = 0 result.
  if (k === 0) return A.mul(0).add(eye(n, n, { dtype: A.dtype }));
  let base = k < 0 ? inv(A) : A;
  let rest = Math.abs(k);
  let result: Tensor | null = null;
  for (;;) {
    if (rest % 2 === 1) result = result === null ? base : matmul(result, base);
    rest = Math.floor(rest / 2);
    if (rest === 0) break;
    base = matmul(base, base);
  }
  return result!;
});
