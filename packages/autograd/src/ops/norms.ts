import { allocate } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, normalizeAxes, normalizeAxis, reducedShape, sizeOf } from '../shape.js';
import { noGrad } from '../engine/grad-mode.js';
import { constant, expectTensor, floatInput, makeOutput, type FloatTensor, type Tensor } from '../tensor.js';
import { onesLike, zerosLike } from '../creation.js';
import { expand, permute, reshape } from './shape.js';
import { svdvals } from './linalg.js';
import { where } from './where.js';
import { abs, clamp, sign, sqrt } from './unary.js';
import { max, min, sum } from './reduce.js';
import { promoteAll } from './operands.js';
import { logicalOr } from './compare.js';
import { isNan } from './unary.js';
import { matmulT } from './matmul.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const NORMALIZE_OPTIONS = ['p', 'axis', 'eps'];
const COSINE_SIMILARITY_OPTIONS = ['axis', 'eps'];
const PAIRWISE_DISTANCE_OPTIONS = ['p', 'eps', 'keepdims'];
const CDIST_OPTIONS = ['p', 'computeMode'];

type Axis = number | readonly number[] | undefined;

/** The order of a vector norm: any real number, `Infinity` or `-Infinity`. */
export type VectorOrd = number;

function checkOrd(op: string, ord: unknown, x: Tensor): number {
  if (typeof ord !== 'number' || Number.isNaN(ord)) {
    throw new ArgumentError(`${op}: ord must be a number (Infinity and -Infinity included), got ${String(ord)} (input ${formatShape(x.shape)} ${x.dtype})`);
  }
  return ord;
}

/**
 * The vector `ord`-norm over `axis` (all axes by default), as `torch.linalg.vector_norm`:
 * `(Σ|x|^ord)^(1/ord)`; ord 0 counts the non-zero elements, `Infinity` is max|x| and `-Infinity`
 * min|x|. Gradients follow PyTorch: 0 at the zero vector (never NaN, also in the second
 * derivative), sign(x) for ord 1, shared evenly among tied extremes for ±Infinity, and none
 * for ord 0.
 * @throws ArgumentError if ord is not a number, or ord is negative or infinite and a reduced axis is empty (such a norm of nothing has no value).
 * @throws ShapeError if an axis is out of range or repeated.
 * @example vectorNorm(x, 2, -1, true)
 */
export const vectorNorm = primitive('vectorNorm', { kind: 'reduction', axisArg: 2, absent: 'all' }, function (input: Tensor, ord: VectorOrd = 2, axis?: Axis, keepdims = false): Tensor {
  return vectorNormAs('vectorNorm', input, ord, axis, keepdims);
});

/** `vectorNorm`, with errors naming `op`. */
function vectorNormAs(op: string, input: Tensor, ordArg: VectorOrd, axis: Axis, keepdims: boolean): Tensor {
  const x = floatInput(op, 'input', input);
  const x0 = x;
  const ord = checkOrd(op, ordArg, x);
  const axes = normalizeAxes(op, axis, x.ndim);
  const keepShape = reducedShape(x.shape, axes, true);
  const count = sizeOf(axes.map((a) => x.shape[a]!));
  if (count === 0 && (ord < 0 || ord === Infinity)) {
    throw new ArgumentError(`${op}: the ${ord}-norm of no elements has no value (input ${formatShape(x.shape)} ${x.dtype}, axes ${JSON.stringify(axes)})`);
  }
  // On x detached: these ops' tangents would be thrown away with their graph.
  const data = noGrad(() => {
    const x = x0.detach();
    const a = abs(x);
    if (ord === Infinity) return max(a, axes, true);
    if (ord === -Infinity) return min(a, axes, true);
    if (ord === 0) return sum(x.ne(0).toDtype(x.dtype), axes, true);
    if (ord === 1) return sum(a, axes, true);
    if (ord === 2) return sqrt(sum(x.square(), axes, true));
    return sum(a.pow(ord), axes, true).pow(1 / ord);
  }).data;
  const shape = keepdims ? keepShape : reducedShape(x.shape, axes, false);
  return makeOutput(op, data, shape, [x], (g, out) => [normVjp(ord, reshape(g, keepShape), x, reshape(out, keepShape), axes)], {
    saves: [[0, 'output']],
    // Each element reaches one norm, so the JVP sums the tangent against the norm's derivative.
    jvp: ([t], out) => {
      const outKeep = reshape(out, keepShape);
      return reshape(sum(normVjp(ord, onesLike(outKeep), x, outKeep, axes).mul(t!), axes, true), shape);
    },
  });
}

/**
 * PyTorch's norm_backward, in Tensor ops so it differentiates again: gKeep and n have the
 * reduced axes kept. Where a division by the norm would be 0/0 the scale is 0 ("double where":
 * the unselected branch divides by 1, so no NaN reaches its own backward either).
 */
function normVjp(ord: number, gKeep: Tensor, x: Tensor, n: Tensor, axes: number[]): Tensor {
  if (ord === 0) return zerosLike(x);
  if (ord === 1) return sign(x).mul(gKeep);
  if (!Number.isFinite(ord)) {
    const a = abs(x);
    // NaN counts as the extreme, as in PyTorch, so a NaN input gives a NaN gradient, not 0.
    const mask = logicalOr(a.eq(n), isNan(a));
    return sign(x).mul(where(mask, gKeep.div(sum(mask.toDtype(x.dtype), axes, true)), 0));
  }
  const nonzero = n.ne(0);
  const safe = (t: Tensor): Tensor => where(nonzero, t, 1);
  if (ord === 2) return gKeep.mul(where(nonzero, x.div(safe(n)), 0));
  if (ord < 1) {
    // |x|^(ord-1) is infinite at x = 0, where PyTorch's gradient is 0.
    const xz = x.eq(0);
    const scaled = where(xz, 0, sign(x).mul(where(xz, 1, abs(x)).pow(ord - 1)));
    return scaled.mul(gKeep).mul(n.pow(1 - ord));
  }
  const scaled = sign(x).mul(abs(x).pow(ord - 1));
  return scaled.mul(where(nonzero, gKeep.div(safe(n).pow(ord - 1)), 0));
}

/**
 * The order of a matrix norm, as torch.linalg.matrix_norm spells it: 'fro', 'nuc', 1, -1, 2, -2,
 * Infinity or -Infinity.
 */
export type MatrixOrd = 'fro' | 'nuc' | number;

/**
 * A matrix norm over the two axes in `axis` (the last two by default), as
 * `torch.linalg.matrix_norm`: 'fro' is √(Σx²); 1 and -1 the largest and smallest absolute column
 * sum; Infinity and -Infinity the largest and smallest absolute row sum; 'nuc' the sum of the
 * singular values, 2 and -2 the largest and smallest (from `svdvals`, whose gradient
 * U·diag(g)·Vh they take; the spectral norm's is shared evenly between equal largest values).
 * @throws ArgumentError for another ord.
 * @throws ShapeError if the input has fewer than two dimensions or the axes are out of range or equal.
 * @example matrixNorm(a) // Frobenius norm of each matrix in a batch
 */
export const matrixNorm = primitive('matrixNorm', { kind: 'reduction', axisArg: 2 }, function (input: Tensor, ord: MatrixOrd = 'fro', axis: readonly [number, number] = [-2, -1], keepdims = false): Tensor {
  const x = floatInput('matrixNorm', 'input', input);
  if (x.ndim < 2) {
    throw new ShapeError(`matrixNorm: needs a tensor of at least 2 dimensions, got shape ${formatShape(x.shape)} ${x.dtype}`);
  }
  if (!Array.isArray(axis) || axis.length !== 2) {
    throw new ShapeError(`matrixNorm: axis must be a pair of axes, got ${JSON.stringify(axis)} (input ${formatShape(x.shape)})`);
  }
  const row = normalizeAxis('matrixNorm', axis[0], x.ndim);
  const col = normalizeAxis('matrixNorm', axis[1], x.ndim);
  if (row === col) throw new ShapeError(`matrixNorm: the two axes must differ, got ${JSON.stringify(axis)} (input ${formatShape(x.shape)})`);
  if (ord === 'fro') return vectorNormAs('matrixNorm', x, 2, [row, col], keepdims);
  if (ord === 'nuc' || ord === 2 || ord === -2) return singularValueNorm(x, ord, row, col, keepdims);
  if (ord !== 1 && ord !== -1 && ord !== Infinity && ord !== -Infinity) {
    throw new ArgumentError(`matrixNorm: ord must be 'fro', 'nuc', 1, -1, 2, -2, Infinity or -Infinity, got ${String(ord)} (input ${formatShape(x.shape)} ${x.dtype})`);
  }
  if (x.shape[row] === 0 || x.shape[col] === 0) {
    throw new ArgumentError(`matrixNorm: the ${ord}-norm of an empty matrix has no value (input ${formatShape(x.shape)} ${x.dtype})`);
  }
  const reducedAxes = [row, col].sort((a, b) => a - b);
  // 1-norms sum each column (over the rows), ∞-norms each row (over the columns).
  const [summed, other] = Math.abs(ord) === 1 ? [row, col] : [col, row];
  const sums = sum(abs(x), summed, true);
  const out = ord > 0 ? max(sums, other, true) : min(sums, other, true);
  return keepdims ? out : reshape(out, reducedShape(x.shape, reducedAxes, false));
});

/** The nuclear (sum) or spectral (largest, smallest) norm from the singular values of the matrices on axes row and col. */
function singularValueNorm(x: FloatTensor, ord: 'nuc' | 2 | -2, row: number, col: number, keepdims: boolean): Tensor {
  const rest = x.shape.map((_, i) => i).filter((i) => i !== row && i !== col);
  const s = svdvals(permute(x, [...rest, row, col]));
  if (ord !== 'nuc' && s.shape[s.ndim - 1] === 0) {
    throw new ArgumentError(`matrixNorm: the ${ord}-norm of an empty matrix has no value (input ${formatShape(x.shape)} ${x.dtype})`);
  }
  const out = ord === 'nuc' ? sum(s, -1) : ord === 2 ? max(s, -1) : min(s, -1);
  if (!keepdims) return out;
  return reshape(out, x.shape.map((d, i) => (i === row || i === col ? 1 : d)));
}

/**
 * The norm of `torch.norm`: a vector p-norm over `axis` (all axes by default) for a number p,
 * and for 'fro' the square root of the sum of squares over the axes (the Frobenius norm of a
 * matrix); for 'nuc' the nuclear norm (`matrixNorm(x, 'nuc')`) of a 2-D input, or over the two
 * axes of `axis`. Gradients as `vectorNorm`: 0 at the zero vector.
 * @throws As `vectorNorm`; ArgumentError for another string; ShapeError for 'nuc' without two axes.
 * @example norm(x) // √Σx² over all elements
 */
export const norm = primitive('norm', { kind: 'reduction', axisArg: 2, absent: 'all' }, function (input: Tensor, p: number | 'fro' | 'nuc' = 'fro', axis?: Axis, keepdims = false): Tensor {
  const x = floatInput('norm', 'input', input);
  if (p === 'fro') return vectorNormAs('norm', x, 2, axis, keepdims);
  if (p === 'nuc') {
    const axes = axis === undefined ? (x.ndim === 2 ? [0, 1] : null) : typeof axis === 'number' ? null : axis;
    if (axes === null || axes.length !== 2) {
      throw new ShapeError(`norm: p 'nuc' needs a 2-D input or two axes, got shape ${formatShape(x.shape)} and axis ${JSON.stringify(axis)}`);
    }
    return matrixNorm(x, 'nuc', [axes[0]!, axes[1]!], keepdims);
  }
  if (typeof p === 'string') {
    throw new ArgumentError(`norm: p '${p}' is not computed here; p is a number, 'fro' or 'nuc' (input ${formatShape(x.shape)} ${x.dtype})`);
  }
  return vectorNormAs('norm', x, p, axis, keepdims);
});

/** Options of `normalize`. */
export interface NormalizeOptions {
  /** The norm's order (default 2). */
  p?: number;
  /** The axis along which vectors are normalised (default 1, PyTorch's). */
  axis?: number;
  /** The smallest divisor (default 1e-12), so a zero vector stays zero. */
  eps?: number;
}

/**
 * `x / max(‖x‖_p, eps)` along `axis`, as `torch.nn.functional.normalize`.
 * @throws ShapeError if `axis` is out of range; ArgumentError for a p that is not a number or an eps below 0.
 * @example normalize(embeddings, { axis: -1 })
 */
export const normalize = primitive('normalize', { kind: 'axis', rule: 'axisOption' }, function (input: Tensor, options: NormalizeOptions = {}): Tensor {
  checkOptions('normalize', options, NORMALIZE_OPTIONS);
  const x = floatInput('normalize', 'input', input);
  const { p = 2, axis = 1, eps = 1e-12 } = options;
  if (typeof eps !== 'number' || !(eps >= 0)) {
    throw new ArgumentError(`normalize: eps must be a number ≥ 0, got ${String(eps)} (input ${formatShape(x.shape)} ${x.dtype})`);
  }
  const ax = normalizeAxis('normalize', axis, x.ndim);
  return x.div(clamp(vectorNormAs('normalize', x, p, ax, true), eps));
});

/** x1 and x2 in the float dtype they combine to, expanded to the shape they broadcast to. */
function broadcastPair(op: string, x1: Tensor, x2: Tensor): [FloatTensor, FloatTensor] {
  const [a, b] = floatPair(op, x1, x2);
  const shape = broadcastShapes(op, a.shape, b.shape);
  return [expand(a, shape) as FloatTensor, expand(b, shape) as FloatTensor];
}

/** Two operands in the float dtype they combine to (int32 and bool as float ops take them). */
function floatPair(op: string, a: Tensor, b: Tensor): [FloatTensor, FloatTensor] {
  return promoteAll(op, [a, b], 'float') as [FloatTensor, FloatTensor];
}

/** Options of `cosineSimilarity`. */
export interface CosineSimilarityOptions {
  /** The axis holding the vectors (default 1, PyTorch's). */
  axis?: number;
  /** The smallest norm each vector is divided by (default 1e-8). */
  eps?: number;
}

/**
 * `Σ (x1/‖x1‖)·(x2/‖x2‖)` along `axis`, x1 and x2 broadcast together, as
 * `torch.nn.functional.cosine_similarity` in PyTorch 1.13: each vector is divided by its own
 * norm clamped to at least eps (so the result stays in [-1, 1]), and as there the clamp acts on
 * the value only (its squared norm is clamped outside the graph), so a vector shorter than eps
 * still gets a gradient through its norm.
 * @throws ShapeError if x1 and x2 do not broadcast or `axis` is out of range.
 * @throws DTypeError if their dtypes differ; ArgumentError for an eps below 0.
 * @example cosineSimilarity(a, b, { axis: -1 })
 */
export const cosineSimilarity = primitive('cosineSimilarity', { kind: 'axis', rule: 'axisOption' }, function (x1: Tensor, x2: Tensor, options: CosineSimilarityOptions = {}): Tensor {
  checkOptions('cosineSimilarity', options, COSINE_SIMILARITY_OPTIONS);
  const a0 = expectTensor('cosineSimilarity', 'x1', x1);
  const b0 = expectTensor('cosineSimilarity', 'x2', x2);
  const { axis = 1, eps = 1e-8 } = options;
  if (typeof eps !== 'number' || !(eps >= 0)) {
    throw new ArgumentError(`cosineSimilarity: eps must be a number ≥ 0, got ${String(eps)} (x1 ${formatShape(a0.shape)}, x2 ${formatShape(b0.shape)})`);
  }
  const [a, b] = broadcastPair('cosineSimilarity', a0, b0);
  const ax = normalizeAxis('cosineSimilarity', axis, a.ndim);
  const clampedNorm = (t: Tensor): Tensor => {
    const s = sum(t.square(), ax, true);
    const lifted = noGrad(() => clamp(s, eps * eps).sub(s));
    return sqrt(s.add(constant(lifted.data, lifted.shape)));
  };
  return sum(a.div(clampedNorm(a)).mul(b.div(clampedNorm(b))), ax);
});

/** Options of `pairwiseDistance`. */
export interface PairwiseDistanceOptions {
  /** The norm's order (default 2). */
  p?: number;
  /** Added to the difference, so equal vectors keep a gradient (default 1e-6). */
  eps?: number;
  /** Keep the last axis as size 1 (default false). */
  keepdims?: boolean;
}

/**
 * `‖x1 - x2 + eps‖_p` over the last axis, x1 and x2 broadcast together, as
 * `torch.nn.functional.pairwise_distance`.
 * @throws ShapeError if x1 and x2 do not broadcast; DTypeError if their dtypes differ; ArgumentError for a p that is not a number.
 * @example pairwiseDistance(anchor, positive)
 */
export const pairwiseDistance = primitive('pairwiseDistance', { kind: 'other', rule: 'broadcast' }, function (x1: Tensor, x2: Tensor, options: PairwiseDistanceOptions = {}): Tensor {
  checkOptions('pairwiseDistance', options, PAIRWISE_DISTANCE_OPTIONS);
  const a = expectTensor('pairwiseDistance', 'x1', x1);
  const b = expectTensor('pairwiseDistance', 'x2', x2);
  const { p = 2, eps = 1e-6, keepdims = false } = options;
  const [ea, eb] = broadcastPair('pairwiseDistance', a, b);
  const diff = ea.sub(eb).add(eps);
  return vectorNormAs('pairwiseDistance', diff, p, -1, keepdims);
});

/** How `cdist` computes Euclidean distances (PyTorch's `compute_mode`). */
export type CdistComputeMode = 'use_mm_for_euclid_dist_if_necessary' | 'use_mm_for_euclid_dist' | 'donot_use_mm_for_euclid_dist';

/** Options of `cdist`. */
export interface CdistOptions {
  /** The p of the p-norm distance, ≥ 0 (default 2; Infinity allowed). */
  p?: number;
  /**
   * For p = 2: through the matrix product ‖a‖² + ‖b‖² - 2a·b when either set has more than 25
   * rows (the default, PyTorch's), always, or never.
   */
  computeMode?: CdistComputeMode;
}

const CDIST_MODES: readonly CdistComputeMode[] = ['use_mm_for_euclid_dist_if_necessary', 'use_mm_for_euclid_dist', 'donot_use_mm_for_euclid_dist'];

/**
 * The p-norm distance between each row of x1 [..., P, M] and each row of x2 [..., R, M], batch
 * axes broadcast: [..., P, R] (`torch.cdist`). For p = 2 and more than 25 rows on either side
 * (or when `computeMode` says so) it runs on the matrix product, as PyTorch, after centring
 * both sets on the mean of x2's rows, which leaves distances unchanged but keeps the expansion
 * from cancelling catastrophically far from the origin; a squared distance rounded below 0
 * becomes 0. The gradient at zero distance is 0, as PyTorch's.
 * NOTE: PyTorch's product path returns 1e-15 (√1e-30) for coincident points; this returns 0.
 * @throws ShapeError if an operand has fewer than 2 dimensions, their last sizes differ or their batch axes do not broadcast.
 * @throws ArgumentError for a p that is negative or not a number, or an unknown compute mode.
 * @throws DTypeError if the dtypes differ.
 * @example cdist(queries, keys) // [P, R] Euclidean distances
 */
export const cdist = primitive('cdist', { kind: 'other', rule: 'matrix' }, function (x1: Tensor, x2: Tensor, options: CdistOptions = {}): Tensor {
  checkOptions('cdist', options, CDIST_OPTIONS);
  const [a, b] = floatPair('cdist', expectTensor('cdist', 'x1', x1), expectTensor('cdist', 'x2', x2));
  const { p = 2, computeMode = 'use_mm_for_euclid_dist_if_necessary' } = options;
  if (typeof p !== 'number' || !(p >= 0)) {
    throw new ArgumentError(`cdist: p must be a number ≥ 0, got ${String(p)} (x1 ${formatShape(a.shape)}, x2 ${formatShape(b.shape)})`);
  }
  if (!CDIST_MODES.includes(computeMode)) {
    throw new ArgumentError(`cdist: computeMode must be one of ${CDIST_MODES.join(', ')}, got ${String(computeMode)}`);
  }
  if (a.ndim < 2 || b.ndim < 2) {
    throw new ShapeError(`cdist: x1 and x2 need at least 2 dimensions, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  const m = a.shape[a.ndim - 1]!;
  if (b.shape[b.ndim - 1] !== m) {
    throw new ShapeError(`cdist: x1 ${formatShape(a.shape)} and x2 ${formatShape(b.shape)} must have the same number of columns (${m} != ${b.shape[b.ndim - 1]})`);
  }
  const batch = broadcastShapes('cdist', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const rowsA = a.shape[a.ndim - 2]!, rowsB = b.shape[b.ndim - 2]!;
  const useMatmul = p === 2 && (computeMode === 'use_mm_for_euclid_dist' || (computeMode === 'use_mm_for_euclid_dist_if_necessary' && (rowsA > 25 || rowsB > 25)));
  if (!useMatmul) {
    const diff = expand(a.unsqueeze(-2), [...batch, rowsA, rowsB, m]).sub(b.unsqueeze(-3));
    return vectorNormAs('cdist', diff, p, -1, false);
  }
  // Distances do not depend on the origin, so a detached centre costs no gradient term.
  const centre = rowsB === 0 ? constant(allocate(a.dtype, m), [m]) : b.detach().mean(-2, true);
  const ac = a.sub(centre), bc = b.sub(centre);
  const squared = sum(ac.square(), -1, true).add(sum(bc.square(), -1).unsqueeze(-2)).sub(matmulT(ac, bc, false, true).mul(2));
  const d2 = clamp(squared, 0);
  const positive = d2.gt(0);
  return where(positive, sqrt(where(positive, d2, 1)), 0);
});
