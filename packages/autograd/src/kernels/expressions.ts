import type { BinaryKind } from './binary.js';
import type { UnaryKind } from './unary.js';

/**
 * The scalar formula of every elementwise kernel as JavaScript source, for code that generates
 * fused loops (jit/fusion.ts). A unary formula reads `v`, a binary one `p` and `q`; both may call
 * the helpers below by name, and `erf` (kernels/special.ts, handed in by the generator).
 *
 * NOTE: each formula is the same sequence of float64 operations as its loop in unary.ts or
 * binary.ts, so a generated loop that rounds to the storage dtype after each formula gives the
 * kernels' bits exactly. test/jit-expressions.test.ts holds every kind of both tables to that,
 * bit for bit, over special and random values in both dtypes: a change to a kernel that is not
 * made here too fails there. `satisfies Record<...>` makes a new kind without a formula a
 * compile error.
 */
export const UNARY_EXPRESSIONS = {
  identity: 'v',
  neg: '-v',
  exp: 'Math.exp(v)',
  expm1: 'Math.expm1(v)',
  log: 'Math.log(v)',
  log1p: 'Math.log1p(v)',
  sqrt: 'Math.sqrt(v)',
  abs: 'Math.abs(v)',
  sign: 'Math.sign(v)',
  tanh: 'Math.tanh(v)',
  sigmoid: 'sigmoid(v)',
  // +0 for v ≤ 0 (also -0), v itself where v > 0 or NaN: the kernel's pick (see the helper).
  relu: '(reluPick[1] = v, reluPick[+(v > 0) | +(v !== v)])',
  silu: 'v / (1 + Math.exp(-v))',
  step: '+(v > 0)',
  sin: 'Math.sin(v)',
  cos: 'Math.cos(v)',
  erf: 'erf(v)',
  softplus: '(v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v)))',
  square: 'v * v',
  reciprocal: '1 / v',
  tan: 'Math.tan(v)',
  asin: 'Math.asin(v)',
  acos: 'Math.acos(v)',
  atan: 'Math.atan(v)',
  sinh: 'Math.sinh(v)',
  cosh: 'Math.cosh(v)',
  asinh: 'Math.asinh(v)',
  acosh: 'Math.acosh(v)',
  atanh: 'Math.atanh(v)',
  exp2: '2 ** v',
  log2: 'Math.log2(v)',
  log10: 'Math.log10(v)',
  mish: 'v * Math.tanh(Math.log1p(Math.exp(v)))',
  hardsigmoid: 'Math.min(Math.max(v + 3, 0), 6) / 6',
  hardswish: '(v * Math.min(Math.max(v + 3, 0), 6)) / 6',
  logsigmoid: '(v < 0 ? v : 0) - Math.log1p(Math.exp(-Math.abs(v)))',
  floor: 'Math.floor(v)',
  ceil: 'Math.ceil(v)',
  round: 'roundHalfEven(v)',
  trunc: 'Math.trunc(v)',
} as const satisfies Record<UnaryKind, string>;

/** The binary formulas, as `UNARY_EXPRESSIONS`; comparisons give 0 or 1. */
export const BINARY_EXPRESSIONS = {
  add: 'p + q',
  sub: 'p - q',
  mul: 'p * q',
  div: 'p / q',
  pow: 'pow(p, q)',
  maximum: 'max(p, q)',
  minimum: 'min(p, q)',
  atan2: 'Math.atan2(p, q)',
  hypot: 'hypot(p, q)',
  logaddexp: 'logaddexp(p, q)',
  xlogy: 'xlogy(p, q)',
  copysign: 'copysign(p, q)',
  fmod: 'p % q',
  remainder: 'remainder(p, q)',
  eq: '(p === q ? 1 : 0)',
  ne: '(p !== q ? 1 : 0)',
  lt: '(p < q ? 1 : 0)',
  le: '(p <= q ? 1 : 0)',
  gt: '(p > q ? 1 : 0)',
  ge: '(p >= q ? 1 : 0)',
} as const satisfies Record<BinaryKind, string>;

/**
 * The helper functions the formulas call, by name, as source: the same functions as the
 * kernels' local helpers (unary.ts's roundHalfEven and sigmoid loop, binary.ts's pow, max,
 * min, hypot, logaddexp, xlogy, copysign, remainder). A generator declares the ones its
 * formulas use before its loop.
 */
export const EXPRESSION_HELPERS: Readonly<Record<string, string>> = {
  sigmoid: 'function sigmoid(v) { if (v >= 0) return 1 / (1 + Math.exp(-v)); const e = Math.exp(v); return e / (1 + e); }',
  roundHalfEven: 'function roundHalfEven(v) { const r = Math.round(v); return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r; }',
  pow: 'function pow(x, y) { return x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y); }',
  // NOTE: relu, max and min select through a two-slot array by an index computed from
  // comparisons, never by a branch on the values: V8 compiles `c ? x : y` (and Math.max) to a
  // branch, and on values of random sign it mispredicts about half the time. Measured on V8
  // (Node 20, 1M float32 uniform in [-2, 2), 10-op chain with one relu, noisy shared machine):
  // 16.5 ms with the branch, 6.1 ms with the pick. Same values: a Float64Array slot holds any
  // float64 (and float32) value exactly.
  // relu's pick is written inline (its formula reads and writes the slots itself): a call per
  // element to a helper measured 11.1 ms against 7.8 ms inline.
  reluPick: 'const reluPick = new Float64Array(2);',
  max: 'const maxPick = new Float64Array(2); function max(x, y) { maxPick[0] = y; maxPick[1] = x; return maxPick[+(x > y) | +(x !== x)]; }',
  min: 'const minPick = new Float64Array(2); function min(x, y) { minPick[0] = y; minPick[1] = x; return minPick[+(x < y) | +(x !== x)]; }',
  hypot: 'function hypot(p, q) { const s = p * p + q * q; return s > 1e-290 && s < 1e300 ? Math.sqrt(s) : Math.hypot(p, q); }',
  logaddexp:
    'function logaddexp(p, q) { return p === q && (p === Infinity || p === -Infinity) ? p : (p > q || p !== p ? p : q) + Math.log1p(Math.exp(-Math.abs(p - q))); }',
  xlogy: 'function xlogy(p, q) { return q !== q ? NaN : p === 0 ? 0 : p * Math.log(q); }',
  copysign: 'function copysign(p, q) { return q < 0 || (q === 0 && 1 / q < 0) ? -Math.abs(p) : Math.abs(p); }',
  remainder: 'function remainder(p, q) { const m = p % q; return m !== 0 && q < 0 !== m < 0 ? m + q : m; }',
};

/** The helpers (by name) that `formula` calls or indexes, in a fixed order. */
export function helpersOf(formula: string): string[] {
  return Object.keys(EXPRESSION_HELPERS).filter((name) => new RegExp(`(?<![.\\w])${name}[([]`).test(formula));
}
