import type { FloatArray } from '../dtype.js';
import { wantsWasm } from './backend.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { erf as erfScalar } from './special.js';
import { unaryWasm } from './wasm/elementwise.js';
import { isWasmUnaryOp } from './wasm/layout.js';

/** The elementwise unary functions the kernel knows. */
export type UnaryKind =
  | 'identity' | 'neg' | 'exp' | 'expm1' | 'log' | 'log1p' | 'sqrt' | 'abs' | 'sign' | 'tanh' | 'sigmoid'
  | 'relu' | 'silu' | 'step' | 'sin' | 'cos' | 'erf' | 'softplus' | 'square' | 'reciprocal'
  | 'tan' | 'asin' | 'acos' | 'atan' | 'sinh' | 'cosh' | 'asinh' | 'acosh' | 'atanh'
  | 'exp2' | 'log2' | 'log10' | 'mish' | 'hardsigmoid' | 'hardswish' | 'logsigmoid' | 'floor' | 'ceil'
  | 'round' | 'trunc';

interface UnaryKernels {
  mapUnary(kind: UnaryKind, x: FloatArray, out: FloatArray): void;
  leakyRelu(x: FloatArray, slope: number, out: FloatArray): void;
  clamp(x: FloatArray, lo: number, hi: number, out: FloatArray): void;
  insideMask(x: FloatArray, lo: number, hi: number, out: FloatArray): void;
  nanToNum(x: FloatArray, nan: number, posinf: number, neginf: number, out: FloatArray): void;
}

/**
 * The unary kernels, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained: what it needs from
 * outside (the scalar erf) comes in as an argument.
 */
function unaryKernels(erf: (x: number) => number): UnaryKernels {
  // Scratch of the branch-free relu: slot 0 holds +0, slot 1 the value itself.
  const pick = new Float64Array(2);

  /** x rounded to the nearest integer, halves to even: Math.round rounds them up. */
  function roundHalfEven(v: number): number {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  /** out[i] = f(x[i]). The switch runs once per call, never per element. */
  function mapUnary(kind: UnaryKind, x: FloatArray, out: FloatArray): void {
    const n = x.length;
    switch (kind) {
      case 'identity':
        out.set(x);
        return;
      case 'neg':
        for (let i = 0; i < n; i++) out[i] = -x[i]!;
        return;
      case 'exp':
        for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
        return;
      case 'expm1':
        for (let i = 0; i < n; i++) out[i] = Math.expm1(x[i]!);
        return;
      case 'log':
        for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!);
        return;
      case 'log1p':
        for (let i = 0; i < n; i++) out[i] = Math.log1p(x[i]!);
        return;
      case 'sqrt':
        for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!);
        return;
      case 'abs':
        for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]!);
        return;
      case 'sign':
        // Math.sign keeps NaN and maps ±0 to ±0, as torch.sign.
        for (let i = 0; i < n; i++) out[i] = Math.sign(x[i]!);
        return;
      case 'tanh':
        for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!);
        return;
      case 'sigmoid':
        for (let i = 0; i < n; i++) {
          const v = x[i]!;
          // Two forms so exp never overflows.
          if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
          else {
            const e = Math.exp(v);
            out[i] = e / (1 + e);
          }
        }
        return;
      case 'relu':
        // NOTE: no branch on the sign (random signs mispredict half the time): `pick` holds +0
        // and the value, and comparisons choose (NaN stays NaN).
        for (let i = 0; i < n; i++) {
          const v = x[i]!;
          pick[1] = v;
          out[i] = pick[+(v > 0) | +(v !== v)]!;
        }
        return;
      case 'silu':
        // x / (1 + e^-x), PyTorch's form: -0 far below 0, NaN at -Infinity as in PyTorch.
        for (let i = 0; i < n; i++) out[i] = x[i]! / (1 + Math.exp(-x[i]!));
        return;
      case 'step':
        // 1 where x > 0: the derivative of relu, 0 at the kink as in PyTorch.
        for (let i = 0; i < n; i++) out[i] = +(x[i]! > 0);
        return;
      case 'sin':
        for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]!);
        return;
      case 'cos':
        for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]!);
        return;
      case 'erf':
        for (let i = 0; i < n; i++) out[i] = erf(x[i]!);
        return;
      case 'softplus':
        // max(x, 0) + log1p(exp(-|x|)): exact, and never overflows.
        for (let i = 0; i < n; i++) {
          const v = x[i]!;
          out[i] = (v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v)));
        }
        return;
      case 'square':
        for (let i = 0; i < n; i++) out[i] = x[i]! * x[i]!;
        return;
      case 'reciprocal':
        for (let i = 0; i < n; i++) out[i] = 1 / x[i]!;
        return;
      case 'tan':
        for (let i = 0; i < n; i++) out[i] = Math.tan(x[i]!);
        return;
      case 'asin':
        for (let i = 0; i < n; i++) out[i] = Math.asin(x[i]!);
        return;
      case 'acos':
        for (let i = 0; i < n; i++) out[i] = Math.acos(x[i]!);
        return;
      case 'atan':
        for (let i = 0; i < n; i++) out[i] = Math.atan(x[i]!);
        return;
      case 'sinh':
        for (let i = 0; i < n; i++) out[i] = Math.sinh(x[i]!);
        return;
      case 'cosh':
        for (let i = 0; i < n; i++) out[i] = Math.cosh(x[i]!);
        return;
      case 'asinh':
        for (let i = 0; i < n; i++) out[i] = Math.asinh(x[i]!);
        return;
      case 'acosh':
        for (let i = 0; i < n; i++) out[i] = Math.acosh(x[i]!);
        return;
      case 'atanh':
        for (let i = 0; i < n; i++) out[i] = Math.atanh(x[i]!);
        return;
      case 'exp2':
        for (let i = 0; i < n; i++) out[i] = 2 ** x[i]!;
        return;
      case 'log2':
        for (let i = 0; i < n; i++) out[i] = Math.log2(x[i]!);
        return;
      case 'log10':
        for (let i = 0; i < n; i++) out[i] = Math.log10(x[i]!);
        return;
      case 'mish':
        for (let i = 0; i < n; i++) out[i] = x[i]! * Math.tanh(Math.log1p(Math.exp(x[i]!)));
        return;
      case 'hardsigmoid':
        for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(x[i]! + 3, 0), 6) / 6;
        return;
      case 'hardswish':
        for (let i = 0; i < n; i++) out[i] = (x[i]! * Math.min(Math.max(x[i]! + 3, 0), 6)) / 6;
        return;
      case 'logsigmoid':
        for (let i = 0; i < n; i++) {
          // min(x, 0) as std::min(0, x): 0 where x is NaN, whose NaN then comes from the log1p term.
          const v = x[i]!;
          out[i] = (v < 0 ? v : 0) - Math.log1p(Math.exp(-Math.abs(v)));
        }
        return;
      case 'floor':
        for (let i = 0; i < n; i++) out[i] = Math.floor(x[i]!);
        return;
      case 'ceil':
        for (let i = 0; i < n; i++) out[i] = Math.ceil(x[i]!);
        return;
      case 'round':
        for (let i = 0; i < n; i++) out[i] = roundHalfEven(x[i]!);
        return;
      case 'trunc':
        for (let i = 0; i < n; i++) out[i] = Math.trunc(x[i]!);
        return;
      default: {
        // A kind without a loop is a compile error here, not an output left at zeros.
        const missing: never = kind;
        throw new Error(`mapUnary: no loop for kind ${String(missing)}`);
      }
    }
  }

  /** out[i] = x[i] > 0 ? x[i] : slope·x[i]. */
  function leakyRelu(x: FloatArray, slope: number, out: FloatArray): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = v > 0 ? v : slope * v;
    }
  }

  /**
   * out[i] = min(max(x[i], lo), hi) (NaN stays NaN). The upper bound is applied last, so with
   * lo > hi every element becomes hi, as in PyTorch.
   */
  function clamp(x: FloatArray, lo: number, hi: number, out: FloatArray): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const above = v < lo ? lo : v;
      out[i] = above > hi ? hi : above;
    }
  }

  /** out[i] = 1 where lo ≤ x[i] ≤ hi, else 0: where clamp passes gradient through. */
  function insideMask(x: FloatArray, lo: number, hi: number, out: FloatArray): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = v >= lo && v <= hi ? 1 : 0;
    }
  }
  /** out[i] = x[i], with NaN, +Inf and -Inf replaced by the given numbers. */
  function nanToNum(x: FloatArray, nan: number, posinf: number, neginf: number, out: FloatArray): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = v !== v ? nan : v === Infinity ? posinf : v === -Infinity ? neginf : v;
    }
  }
  return { mapUnary, leakyRelu, clamp, insideMask, nanToNum };
}

const kernels = perDtype(unaryKernels, [erfScalar], (k: UnaryKernels, make: Allocator) => {
  const x = make(3), out = make(3);
  x.set([-1, 0, 2]);
  k.mapUnary('relu', x, out);
  if (!holds(out, [0, 0, 2])) return false;
  k.clamp(x, -0.5, 1, out);
  return holds(out, [-0.5, 0, 1]);
});

/** out[i] = f(x[i]). The switch runs once per call, never per element. */
export function mapUnary(kind: UnaryKind, x: FloatArray, out: FloatArray): void {
  if (
    x.length > 0 &&
    wantsWasm('unary', out.length, out.byteLength) &&
    isWasmUnaryOp(kind) &&
    unaryWasm(kind, x, out)
  ) {
    return;
  }
  kernels(out).mapUnary(kind, x, out);
}

/** out[i] = x[i] > 0 ? x[i] : slope·x[i]. */
export function leakyRelu(x: FloatArray, slope: number, out: FloatArray): void {
  kernels(out).leakyRelu(x, slope, out);
}

/**
 * out[i] = min(max(x[i], lo), hi) (NaN stays NaN). The upper bound is applied last, so with
 * lo > hi every element becomes hi, as in PyTorch.
 */
export function clamp(x: FloatArray, lo: number, hi: number, out: FloatArray): void {
  kernels(out).clamp(x, lo, hi, out);
}

/** out[i] = 1 where lo ≤ x[i] ≤ hi, else 0: where clamp passes gradient through. */
export function insideMask(x: FloatArray, lo: number, hi: number, out: FloatArray): void {
  kernels(out).insideMask(x, lo, hi, out);
}

/** out[i] = x[i], with NaN, +Inf and -Inf replaced by the given numbers. */
export function nanToNum(x: FloatArray, nan: number, posinf: number, neginf: number, out: FloatArray): void {
  kernels(out).nanToNum(x, nan, posinf, neginf, out);
}

/** Whether each dtype runs its own copy of the unary kernels (for tests). */
export function unaryKernelsAreMonomorphic(): boolean {
  return kernels.isMonomorphic();
}

/** The float classifications, each giving a bool. */
export type ClassifyKind = 'isfinite' | 'isnan' | 'isinf';

/** out[i] = 1 where x[i] is of `kind`, else 0. */
export function classify(kind: ClassifyKind, x: FloatArray, out: Uint8Array): void {
  const n = out.length;
  switch (kind) {
    case 'isfinite':
      for (let i = 0; i < n; i++) out[i] = x[i]! - x[i]! === 0 ? 1 : 0;
      return;
    case 'isnan':
      for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? 1 : 0;
      return;
    case 'isinf':
      for (let i = 0; i < n; i++) out[i] = x[i] === Infinity || x[i] === -Infinity ? 1 : 0;
      return;
  }
}
