import type { FloatArray } from '../dtype.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { wantsWasm } from './backend.js';
import { reluBackwardWasm } from './wasm/elementwise.js';

/**
 * Kernels of the fused ops (ops/linear.ts, ops/cross-entropy.ts): each does in one pass over
 * [rows, n] data what a chain of broadcasting ops would do in several, with an intermediate
 * array each.
 */
interface FusedKernels {
  biasActivation(y: FloatArray, rows: number, n: number, bias: FloatArray | null, relu: boolean): void;
  reluBackward(g: FloatArray, y: FloatArray, rows: number, n: number, out: FloatArray, sums: FloatArray | null): void;
  tanhBackward(g: FloatArray, y: FloatArray, out: FloatArray): void;
  crossEntropyForward(x: FloatArray, rows: number, n: number, labels: Int32Array | null, p: FloatArray | null, stats: Float64Array, losses: Float64Array): void;
  crossEntropyBackward(x: FloatArray, rows: number, n: number, labels: Int32Array | null, p: FloatArray | null, stats: Float64Array, scale: Float64Array, dx: FloatArray, dp: FloatArray | null): void;
}

/**
 * The fused kernels, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function fusedKernels(): FusedKernels {
  // Scratch of the branch-free relu below: slot 0 holds +0, slot 1 the value itself.
  const pick = new Float64Array(2);

  /**
   * y[r, j] = act(y[r, j] + bias[j]) in place over `rows` rows of n, where act is relu or the
   * identity and a null bias adds nothing. relu keeps NaN, as the relu kernel.
   * NOTE: relu selects through `pick` by an index computed from comparisons, with no branch:
   * pre-activations have random signs, and a branch on them mispredicts about half the time,
   * which made this pass cost twice the bias add alone.
   */
  function biasActivation(y: FloatArray, rows: number, n: number, bias: FloatArray | null, relu: boolean): void {
    if (bias === null && !relu) return;
    for (let r = 0, o = 0; r < rows; r++, o += n) {
      if (bias === null) {
        for (let j = 0; j < n; j++) {
          const v = y[o + j]!;
          pick[1] = v;
          y[o + j] = pick[+(v > 0) | +(v !== v)]!;
        }
      } else if (relu) {
        for (let j = 0; j < n; j++) {
          const v = y[o + j]! + bias[j]!;
          pick[1] = v;
          y[o + j] = pick[+(v > 0) | +(v !== v)]!;
        }
      } else {
        for (let j = 0; j < n; j++) y[o + j] = y[o + j]! + bias[j]!;
      }
    }
  }

  /**
   * out[i] = g[i]·[y[i] > 0] over `rows` rows of n: relu's VJP from its output (y > 0 exactly
   * where x > 0), a product as in the composed VJP (so NaN in g stays NaN), and without a branch
   * on the sign of y. With `sums`, also sums[j] = Σ_r out[r, j] in the same pass (the bias
   * gradient), summed in float64 row by row as the sum reduction does.
   */
  function reluBackward(g: FloatArray, y: FloatArray, rows: number, n: number, out: FloatArray, sums: FloatArray | null): void {
    if (sums === null) {
      for (let i = 0; i < rows * n; i++) out[i] = g[i]! * +(y[i]! > 0);
      return;
    }
    const acc = new Float64Array(n);
    for (let r = 0, o = 0; r < rows; r++, o += n) {
      for (let j = 0; j < n; j++) {
        const v = g[o + j]! * +(y[o + j]! > 0);
        out[o + j] = v;
        acc[j]! += out[o + j]!;
      }
    }
    sums.set(acc);
  }

  /**
   * Softmax cross-entropy of each row of logits x [rows, n], in float64. Each row is shifted by
   * its maximum m (0 where that is ±Inf) and stats[2r] = m, stats[2r + 1] = log Σ_j e^(x[r,j] - m);
   * losses[r] = (m - x[r, label]) + log Σ for class labels, or Σ_j p[r, j]·((m - x[r, j]) + log Σ)
   * for target probabilities p.
   * NOTE: not lse - x with lse = m + log Σ: that rounds at the logits' magnitude (1e-13 off at
   * 1000); the shifted differences are small numbers, as in logSoftmax.
   */
  function crossEntropyForward(
    x: FloatArray, rows: number, n: number, labels: Int32Array | null, p: FloatArray | null,
    stats: Float64Array, losses: Float64Array,
  ): void {
    for (let r = 0, o = 0; r < rows; r++, o += n) {
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        const v = x[o + j]!;
        if (v > m || v !== v) m = v;
      }
      if (m === Infinity || m === -Infinity) m = 0;
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(x[o + j]! - m);
      const logSum = Math.log(s);
      stats[2 * r] = m;
      stats[2 * r + 1] = logSum;
      if (labels !== null) {
        losses[r] = m - x[o + labels[r]!]! + logSum;
      } else if (p !== null) {
        let loss = 0;
        for (let j = 0; j < n; j++) loss += p[o + j]! * (m - x[o + j]! + logSum);
        losses[r] = loss;
      }
    }
  }

  /**
   * The VJP of crossEntropyForward, with scale[r] the gradient of row r's loss:
   * dx[r, j] = scale[r]·(softmax[r, j]·Σp[r] - p[r, j]), p being the one-hot label row for labels;
   * for probabilities also dp[r, j] = scale[r]·-logSoftmax[r, j] (when dp is not null).
   */
  function crossEntropyBackward(
    x: FloatArray, rows: number, n: number, labels: Int32Array | null, p: FloatArray | null,
    stats: Float64Array, scale: Float64Array, dx: FloatArray, dp: FloatArray | null,
  ): void {
    for (let r = 0, o = 0; r < rows; r++, o += n) {
      const m = stats[2 * r]!;
      const logSum = stats[2 * r + 1]!;
      const s = scale[r]!;
      if (labels !== null) {
        for (let j = 0; j < n; j++) dx[o + j] = s * Math.exp(x[o + j]! - m - logSum);
        const c = o + labels[r]!;
        dx[c] = s * (Math.exp(x[c]! - m - logSum) - 1);
      } else if (p !== null) {
        let total = 0;
        for (let j = 0; j < n; j++) total += p[o + j]!;
        for (let j = 0; j < n; j++) dx[o + j] = s * (Math.exp(x[o + j]! - m - logSum) * total - p[o + j]!);
        if (dp !== null) for (let j = 0; j < n; j++) dp[o + j] = s * (m - x[o + j]! + logSum);
      }
    }
  }

  /**
   * out[i] = g[i]·(1 − y[i]²), tanh's VJP from its output y, rounded after each operation as the
   * composed ops round (y², then 1 − y², then the product): the same bits in float32 too. Each
   * float32 step is exact in float64 or correctly rounded there (53 ≥ 2·24 + 2 bits), so Math.fround
   * of it is the float32 operation's result.
   */
  function tanhBackward(g: FloatArray, y: FloatArray, out: FloatArray): void {
    if (out instanceof Float32Array) {
      for (let i = 0; i < out.length; i++) {
        const v = y[i]!;
        out[i] = g[i]! * Math.fround(1 - Math.fround(v * v));
      }
      return;
    }
    for (let i = 0; i < out.length; i++) {
      const v = y[i]!;
      out[i] = g[i]! * (1 - v * v);
    }
  }

  return { biasActivation, reluBackward, tanhBackward, crossEntropyForward, crossEntropyBackward };
}

const kernels = perDtype(fusedKernels, [], (k: FusedKernels, make: Allocator) => {
  const y = make(4), bias = make(2);
  y.set([1, -3, 2, 0.5]);
  bias.set([1, 2]);
  k.biasActivation(y, 2, 2, bias, true);
  if (!holds(y, [2, 0, 3, 2.5])) return false;
  const stats = new Float64Array(2), losses = new Float64Array(1);
  const x = make(2);
  k.crossEntropyForward(x, 1, 2, Int32Array.of(1), null, stats, losses);
  return stats[1] === Math.LN2 && losses[0] === Math.LN2;
});

/** y[r, j] = act(y[r, j] + bias[j]) in place (act: relu or identity; bias may be null). */
export function biasActivation(y: FloatArray, rows: number, n: number, bias: FloatArray | null, relu: boolean): void {
  kernels(y).biasActivation(y, rows, n, bias, relu);
}

/**
 * out[i] = g[i]·[y[i] > 0] over [rows, n] (relu's VJP, from relu's output y) and, when `sums`
 * is given, its column sums in the same pass. Large arrays take the WebAssembly vector loop
 * where it is available (the same bits).
 */
export function reluBackward(g: FloatArray, y: FloatArray, rows: number, n: number, out: FloatArray, sums: FloatArray | null = null): void {
  if (wantsWasm('reluBackward', rows * n) && reluBackwardWasm(g, y, rows, n, out, sums)) return;
  reluBackwardJs(g, y, rows, n, out, sums);
}

/** The TypeScript relu VJP alone, whatever the backend (for tests). */
export function reluBackwardJs(g: FloatArray, y: FloatArray, rows: number, n: number, out: FloatArray, sums: FloatArray | null = null): void {
  kernels(out).reluBackward(g, y, rows, n, out, sums);
}

/** out[i] = g[i]·(1 − y[i]²): tanh's VJP from its output y, in one pass (the composed ops' bits). */
export function tanhBackward(g: FloatArray, y: FloatArray, out: FloatArray): void {
  kernels(out).tanhBackward(g, y, out);
}

/**
 * Per-row softmax cross-entropy of logits [rows, n] against class labels (each in [0, n)) or
 * target probabilities p [rows, n] (exactly one of them non-null); fills losses [rows] and
 * stats [2·rows] (each row's shift and log-sum, for the VJP).
 */
export function crossEntropyForward(
  x: FloatArray, rows: number, n: number, labels: Int32Array | null, p: FloatArray | null,
  stats: Float64Array, losses: Float64Array,
): void {
  kernels(x).crossEntropyForward(x, rows, n, labels, p, stats, losses);
}

/** The VJP of crossEntropyForward given each row's loss gradient `scale`; fills dx and, if given, dp. */
export function crossEntropyBackward(
  x: FloatArray, rows: number, n: number, labels: Int32Array | null, p: FloatArray | null,
  stats: Float64Array, scale: Float64Array, dx: FloatArray, dp: FloatArray | null,
): void {
  kernels(x).crossEntropyBackward(x, rows, n, labels, p, stats, scale, dx, dp);
}
