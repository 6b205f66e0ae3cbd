import type { FloatArray } from '../dtype.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';

/**
 * The LSTM cell's pointwise part over `rows` rows: gate pre-activations [rows, 4H] (PyTorch's
 * order i, f, g, o) and the cell state c [rows, H] in; c' = σ(f)⊙c + σ(i)⊙tanh(g) and
 * h' = σ(o)⊙tanh(c') out, in one pass instead of a chunk, four activations and five products;
 * and its VJP in one pass too.
 */
interface LstmKernels {
  forward(gates: FloatArray, c: FloatArray, rows: number, h: number, hOut: FloatArray, cOut: FloatArray, acts: FloatArray): void;
  backward(acts: FloatArray, c: FloatArray, dh: FloatArray | null, dcNew: FloatArray | null, rows: number, h: number, dGates: FloatArray, dc: FloatArray): void;
}

/**
 * The LSTM kernels, made per dtype (see `perDtype`).
 * NOTE: cloned from its source text, so it must stay self-contained.
 */
function lstmKernels(): LstmKernels {
  /** σ(v), in the form whose exp never overflows (as the sigmoid kernel). */
  function sigmoid(v: number): number {
    if (v >= 0) return 1 / (1 + Math.exp(-v));
    const e = Math.exp(v);
    return e / (1 + e);
  }

  /** Also keeps σ(i), σ(f), tanh(g), σ(o) and tanh(c') in `acts` [rows, 5H], so backward computes no exp or tanh again. */
  function forward(gates: FloatArray, c: FloatArray, rows: number, h: number, hOut: FloatArray, cOut: FloatArray, acts: FloatArray): void {
    for (let r = 0; r < rows; r++) {
      const g0 = 4 * h * r, s0 = h * r, a0 = 5 * h * r;
      for (let j = 0; j < h; j++) {
        const i = sigmoid(gates[g0 + j]!);
        const f = sigmoid(gates[g0 + h + j]!);
        const g = Math.tanh(gates[g0 + 2 * h + j]!);
        const o = sigmoid(gates[g0 + 3 * h + j]!);
        cOut[s0 + j] = f * c[s0 + j]! + i * g;
        // From the stored c', as the composed form reads it.
        const tc = Math.tanh(cOut[s0 + j]!);
        hOut[s0 + j] = o * tc;
        acts[a0 + j] = i;
        acts[a0 + h + j] = f;
        acts[a0 + 2 * h + j] = g;
        acts[a0 + 3 * h + j] = o;
        acts[a0 + 4 * h + j] = tc;
      }
    }
  }

  /**
   * With δ = dc' + dh⊙σ(o)⊙(1 - tanh²c'): dGates = [δ⊙tanh(g)⊙σ'(i), δ⊙c⊙σ'(f),
   * δ⊙σ(i)⊙(1 - tanh²g), dh⊙tanh(c')⊙σ'(o)] and dc = δ⊙σ(f); a null dh or dc' counts as 0.
   */
  function backward(acts: FloatArray, c: FloatArray, dh: FloatArray | null, dcNew: FloatArray | null, rows: number, h: number, dGates: FloatArray, dc: FloatArray): void {
    for (let r = 0; r < rows; r++) {
      const g0 = 4 * h * r, s0 = h * r, a0 = 5 * h * r;
      for (let j = 0; j < h; j++) {
        const i = acts[a0 + j]!, f = acts[a0 + h + j]!, g = acts[a0 + 2 * h + j]!, o = acts[a0 + 3 * h + j]!, tc = acts[a0 + 4 * h + j]!;
        const u = dh === null ? 0 : dh[s0 + j]!;
        const delta = (dcNew === null ? 0 : dcNew[s0 + j]!) + u * o * (1 - tc * tc);
        dGates[g0 + j] = delta * g * i * (1 - i);
        dGates[g0 + h + j] = delta * c[s0 + j]! * f * (1 - f);
        dGates[g0 + 2 * h + j] = delta * i * (1 - g * g);
        dGates[g0 + 3 * h + j] = u * tc * o * (1 - o);
        dc[s0 + j] = delta * f;
      }
    }
  }

  return { forward, backward };
}

const kernels = perDtype(lstmKernels, [], (k: LstmKernels, make: Allocator) => {
  // Zero pre-activations: every σ is 1/2 and tanh 0, so c' = c/2 and h' = tanh(c/2)/2.
  const gates = make(4), c = make(1), hOut = make(1), cOut = make(1), acts = make(5);
  c.set([2]);
  k.forward(gates, c, 1, 1, hOut, cOut, acts);
  return holds(cOut, [1]) && holds(hOut, [Math.tanh(1) / 2]);
});

/** h' and c' of an LSTM cell from gate pre-activations [rows, 4H] and c [rows, H], the activations into `acts` [rows, 5H] (see LstmKernels). */
export function lstmCellForward(gates: FloatArray, c: FloatArray, rows: number, h: number, hOut: FloatArray, cOut: FloatArray, acts: FloatArray): void {
  kernels(hOut).forward(gates, c, rows, h, hOut, cOut, acts);
}

/** The gradients of the gates and of c given those of h' and c' (either null for 0), from the forward's activations. */
export function lstmCellBackward(acts: FloatArray, c: FloatArray, dh: FloatArray | null, dcNew: FloatArray | null, rows: number, h: number, dGates: FloatArray, dc: FloatArray): void {
  kernels(dGates).backward(acts, c, dh, dcNew, rows, h, dGates, dc);
}
