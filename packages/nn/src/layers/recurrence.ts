/**
 * The maths shared by the recurrent cells and the multi-layer RNN/LSTM/GRU: one time step of each
 * recurrence, a direction run over time (with per-sequence lengths), parameter creation with
 * PyTorch's names, shapes and initialisation, and the input checks. Everything is composed from
 * autograd's differentiable ops (the LSTM's pointwise part is its fused `lstmCell`), so gradients
 * of any order come from theirs.
 */
import {
  ArgumentError, DTypeError, ShapeError, Tensor, add, chunk, linear, lstmCell, mul, relu, sigmoid, sub, tanh, tensor, where, zeros, zerosLike,
  type DType, type Generator,
} from '@chainrule/autograd';
import { uniform } from '../init.js';
import { formatShape } from '../format.js';

/** The recurrences, as PyTorch's modes: Elman with tanh or relu, LSTM, GRU. */
export type RecurrenceKind = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

/** How many stacked gate blocks W_ih and W_hh hold (PyTorch's gate_size / hidden_size). */
export function gateCount(kind: RecurrenceKind): number {
  return kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
}

/**
 * The weights of one layer and direction: W_ih [G·H, in], W_hh [G·H, Hout], biases [G·H] or null,
 * and an LSTM's projection W_hr [P, H] (or null), Hout being P with a projection and H without.
 */
export interface CellWeights {
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  weightHr: Tensor | null;
}

/**
 * A cell's weights by PyTorch name plus `suffix`, read through the module's `param` (so
 * functionalCall can swap them); `weight_hr` too when `projected`.
 */
export function cellWeights(bias: boolean, param: (name: string) => Tensor, suffix = '', projected = false): CellWeights {
  return {
    weightIh: param(`weight_ih${suffix}`),
    weightHh: param(`weight_hh${suffix}`),
    biasIh: bias ? param(`bias_ih${suffix}`) : null,
    biasHh: bias ? param(`bias_hh${suffix}`) : null,
    weightHr: projected ? param(`weight_hr${suffix}`) : null,
  };
}

/**
 * One time step. `gi` is the input's projection x·W_ihᵀ + b_ih [B, G·H], computed by the caller
 * (for every step at once in the multi-layer modules: it is the bulk of the work); `state` is [h]
 * or, for an LSTM, [h, c]. Returns the next state in the same form. Gate order is PyTorch's:
 * LSTM i, f, g, o; GRU r, z, n with n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)). With W_hr
 * (an LSTM's proj_size), the new h is σ(o)⊙tanh(c') projected to h·W_hrᵀ [B, P], and the next
 * step reads that (W_hh is [4H, P]); c stays [B, H].
 */
export function step(kind: RecurrenceKind, gi: Tensor, state: readonly Tensor[], weights: Pick<CellWeights, 'weightHh' | 'biasHh' | 'weightHr'>): Tensor[] {
  const h = state[0]!;
  const gh = linear(h, weights.weightHh, weights.biasHh);
  switch (kind) {
    case 'rnn_tanh':
      return [tanh(add(gi, gh))];
    case 'rnn_relu':
      return [relu(add(gi, gh))];
    case 'lstm': {
      // c' = σ(f)⊙c + σ(i)⊙tanh(g), h' = σ(o)⊙tanh(c'), in one fused op.
      const [hNext, cNext] = lstmCell(add(gi, gh), state[1]!);
      return weights.weightHr === null ? [hNext, cNext] : [linear(hNext, weights.weightHr), cNext];
    }
    case 'gru': {
      // NOTE: the hidden part of n is gated by r *after* its bias (PyTorch, cuDNN), unlike the
      // original paper's r ⊙ h inside the product; so gi and gh are split, not summed.
      const [ir, iz, iN] = chunk(gi, 3, -1) as [Tensor, Tensor, Tensor];
      const [hr, hz, hN] = chunk(gh, 3, -1) as [Tensor, Tensor, Tensor];
      const r = sigmoid(add(ir, hr));
      const z = sigmoid(add(iz, hz));
      const n = tanh(add(iN, mul(r, hN)));
      // (1 - z)·n + z·h, with one op fewer.
      return [add(n, mul(z, sub(h, n)))];
    }
  }
}

/**
 * Which sequences of a padded batch run at one time step: all of them (null), none (false: every
 * sequence has ended, the step is skipped), or those marked true in a bool [B, 1].
 */
export type StepMask = Tensor | null | false;

/**
 * Runs one layer in one direction over time. `projected[t]` is step t's input projection
 * [B, G·H]; `masks[t]` says which sequences run at step t (all when `masks` is null). A sequence
 * past its length keeps its state and outputs 0, so the reverse direction, walking from the last
 * step down, starts each sequence at its own end from the initial state: PyTorch's
 * packed-sequence results. Returns the outputs h_t in time order and the final state.
 */
export function runDirection(
  kind: RecurrenceKind,
  projected: readonly Tensor[],
  initial: readonly Tensor[],
  weights: Pick<CellWeights, 'weightHh' | 'biasHh' | 'weightHr'>,
  reverse: boolean,
  masks: readonly StepMask[] | null,
): { outputs: Tensor[]; state: Tensor[] } {
  const steps = projected.length;
  const outputs = new Array<Tensor>(steps);
  let state = [...initial];
  for (let k = 0; k < steps; k++) {
    const t = reverse ? steps - 1 - k : k;
    const mask = masks === null ? null : masks[t]!;
    if (mask === false) {
      // Past every sequence's end (the input is longer than the longest): nothing to compute.
      outputs[t] = zerosLike(state[0]!);
      continue;
    }
    const next = step(kind, projected[t]!, state, weights);
    if (mask === null) {
      state = next;
      outputs[t] = next[0]!;
    } else {
      const previous = state;
      state = next.map((s, i) => where(mask, s, previous[i]!));
      outputs[t] = where(mask, next[0]!, 0);
    }
  }
  return { outputs, state };
}

/** The masks `runDirection` takes for sequences of `lengths` padded to `steps`. */
export function stepMasks(lengths: readonly number[], steps: number): StepMask[] {
  const masks: StepMask[] = [];
  for (let t = 0; t < steps; t++) {
    const running = lengths.map((n) => n > t);
    masks.push(running.every(Boolean) ? null : running.some(Boolean) ? tensor(running.map((r) => [r])) : false);
  }
  return masks;
}

/**
 * Creates the tensors of one cell under PyTorch's names plus `suffix` (`_l0`, `_l1_reverse`, or ''
 * for a cell) and registers them in PyTorch's order: weight_ih, weight_hh, bias_ih, bias_hh, then,
 * with a projection (`projSize` > 0, LSTM only), weight_hr [projSize, H], W_hh then being
 * [G·H, projSize].
 */
export function registerCellWeights(
  register: (name: string, t: Tensor) => Tensor,
  suffix: string,
  shape: { gates: number; inputSize: number; hiddenSize: number; projSize?: number; bias: boolean; dtype: DType },
): void {
  const { gates, inputSize, hiddenSize, projSize = 0, bias, dtype } = shape;
  register(`weight_ih${suffix}`, zeros([gates * hiddenSize, inputSize], { dtype }));
  register(`weight_hh${suffix}`, zeros([gates * hiddenSize, projSize > 0 ? projSize : hiddenSize], { dtype }));
  if (bias) {
    register(`bias_ih${suffix}`, zeros([gates * hiddenSize], { dtype }));
    register(`bias_hh${suffix}`, zeros([gates * hiddenSize], { dtype }));
  }
  if (projSize > 0) register(`weight_hr${suffix}`, zeros([projSize, hiddenSize], { dtype }));
}

/** PyTorch's initialisation of every recurrent weight and bias: U(-1/√H, 1/√H), in registration order. */
export function initRecurrent(params: readonly Tensor[], hiddenSize: number, generator: Generator | undefined): void {
  const bound = hiddenSize > 0 ? 1 / Math.sqrt(hiddenSize) : 0;
  for (const p of params) uniform(p, -bound, bound, { generator });
}

/** Checks a size argument of a recurrent module's constructor. */
export function checkSize(owner: string, name: string, value: unknown, min = 0): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(`${owner}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Checks a tensor argument's dtype against the module's. */
export function checkDType(owner: string, what: string, x: Tensor, dtype: DType): void {
  if (!(x instanceof Tensor)) throw new ArgumentError(`${owner}: ${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  if (x.dtype !== dtype) {
    throw new DTypeError(`${owner}: ${what} is ${x.dtype} but the module is ${dtype}; build it with { dtype: '${x.dtype}' } or convert with toDtype('${dtype}')`);
  }
}

/** Checks that `x` has exactly `shape`, naming both. */
export function checkShape(owner: string, what: string, x: Tensor, shape: readonly number[]): void {
  if (x.ndim !== shape.length || x.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${owner}: ${what} must have shape ${formatShape(shape)}, got ${formatShape(x.shape)}`);
  }
}

/**
 * The lengths of a batch of padded sequences as numbers, checked: one integer in [1, steps] per
 * sequence, in any order (PyTorch's pack_padded_sequence with enforce_sorted=False).
 */
export function normalizeLengths(owner: string, lengths: Tensor | readonly number[], batch: number, steps: number): number[] {
  let list: number[];
  if (lengths instanceof Tensor) {
    if (lengths.dtype !== 'int32') throw new DTypeError(`${owner}: lengths must be an int32 tensor or a number[], got a ${lengths.dtype} tensor`);
    if (lengths.ndim !== 1) throw new ShapeError(`${owner}: lengths must be 1-D [batch], got shape ${formatShape(lengths.shape)}`);
    list = Array.from(lengths.data);
  } else if (Array.isArray(lengths)) {
    list = [...(lengths as readonly unknown[])] as number[];
  } else {
    throw new ArgumentError(`${owner}: lengths must be an int32 tensor or a number[], got ${lengths === null ? 'null' : typeof lengths}`);
  }
  if (list.length !== batch) throw new ShapeError(`${owner}: lengths has ${list.length} entries but the batch has ${batch} sequences`);
  list.forEach((n, b) => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > steps) {
      throw new ArgumentError(`${owner}: lengths[${b}] is ${String(n)}; each length must be an integer in [1, ${steps}] (the input's time steps)`);
    }
  });
  return list;
}
