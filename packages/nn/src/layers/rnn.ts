import {
  ArgumentError, Generator, ShapeError, concat, dropout, linear, squeeze, stack, transpose, unbind, unsqueeze, zeros,
  type DType, type Tensor,
} from '@chainrule/autograd';
import { Module } from '../module.js';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';
import {
  cellWeights, checkDType, checkShape, checkSize, gateCount, initRecurrent, normalizeLengths, registerCellWeights, runDirection, stepMasks,
  type RecurrenceKind, type StepMask,
} from './recurrence.js';

/**
 * The valid length of each sequence of a padded batch: an int32 tensor [batch] or a number[],
 * each in [1, steps], in any order.
 */
export type SequenceLengths = Tensor | readonly number[];

/** Options of `LSTM` and `GRU` (and, with `nonlinearity`, of `RNN`); PyTorch's names and defaults. */
export interface RecurrentOptions {
  /** Number of stacked layers, each reading the previous one's output (default 1). */
  numLayers?: number;
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [batch, seq, feature] instead of [seq, batch, feature] (default false; the states are [layers·directions, batch, H] either way). */
  batchFirst?: boolean;
  /** Dropout probability on each layer's output but the last's, in training (default 0). */
  dropout?: number;
  /** Run a second direction from the end of each sequence back to its start, and concatenate both (default false). */
  bidirectional?: boolean;
  /** dtype of the weights (default 'float32'). */
  dtype?: DType;
  /** Seed of the module's generator: the initialisation, then the dropout masks. */
  seed?: number;
  /** Generator of the initialisation and the dropout masks (takes precedence over `seed`). */
  generator?: Generator;
}

/** Options of `LSTM`: those of every recurrent module, and PyTorch's `proj_size`. */
export interface LSTMOptions extends RecurrentOptions {
  /**
   * Size P of each layer's projected hidden state (default 0: none). With P > 0 (and P <
   * hiddenSize), h_t = (σ(o)⊙tanh(c_t))·W_hrᵀ through a learned `weight_hr_l{k}` of shape
   * [P, hiddenSize], so the outputs and h are P wide, c stays hiddenSize wide, and
   * `weight_hh_l{k}` is [4·hiddenSize, P].
   */
  projSize?: number;
}

/** Options of `RNN`. */
export interface RNNOptions extends RecurrentOptions {
  /** The cell's activation, 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/**
 * What `RNN`, `LSTM` and `GRU` share (torch.nn.RNNBase): the layers and directions, their
 * parameters under PyTorch's names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`,
 * an LSTM's `weight_hr_l0` with projSize, then `..._l0_reverse` when bidirectional, then layer
 * 1...), PyTorch's shapes, gate order and initialisation U(-1/√H, 1/√H), and the forward pass over time. Each layer's input-to-hidden
 * product for all time steps is one matrix product; the time loop only does the hidden-to-hidden
 * one.
 *
 * `State` is the recurrent state as `forward` takes and returns it: h for RNN and GRU, [h, c] for
 * LSTM, each [numLayers·directions, batch, H] (h is [..., projSize] for an LSTM with projSize).
 */
export abstract class RNNBase<State> extends Module<[input: Tensor, hx?: State | null, lengths?: SequenceLengths | null], [Tensor, State]> {
  /** Size of each input sample (the last axis of the input). */
  readonly inputSize: number;
  /** Size of the hidden state H of each layer and direction. */
  readonly hiddenSize: number;
  /** Number of stacked layers. */
  readonly numLayers: number;
  /** Whether the cells have biases. */
  readonly bias: boolean;
  /** Whether input and output are [batch, seq, feature]. */
  readonly batchFirst: boolean;
  /** Dropout probability between layers. */
  readonly dropout: number;
  /** Whether a reverse direction runs too. */
  readonly bidirectional: boolean;
  /** Size of an LSTM's projected h (PyTorch's proj_size), or 0 for none: h is then hiddenSize wide. */
  readonly projSize: number;
  private readonly kind: RecurrenceKind;
  private readonly dtype: DType;
  private readonly generator: Generator | undefined;

  /**
   * @throws ArgumentError if a size or numLayers (≥ 1) is not an integer in range, dropout is not
   * in [0, 1], or projSize is given to an RNN or GRU or is not below hiddenSize.
   */
  protected constructor(kind: RecurrenceKind, inputSize: number, hiddenSize: number, options: LSTMOptions) {
    super();
    const owner = new.target.name;
    checkSize(owner, 'inputSize', inputSize);
    checkSize(owner, 'hiddenSize', hiddenSize);
    const { numLayers = 1, bias = true, batchFirst = false, dropout: p = 0, bidirectional = false, dtype = 'float32' } = options;
    checkSize(owner, 'numLayers', numLayers, 1);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ArgumentError(`${owner}: dropout must be a probability in [0, 1], got ${String(p)}`);
    const { projSize = 0 } = options;
    if (kind !== 'lstm' && options.projSize !== undefined) {
      throw new ArgumentError(`${owner}: projSize is only supported by LSTM, got projSize=${String(options.projSize)}`);
    }
    checkSize(owner, 'projSize', projSize);
    if (projSize > 0 && projSize >= hiddenSize) throw new ArgumentError(`${owner}: projSize must be smaller than hiddenSize (${hiddenSize}), got ${projSize}`);
    this.kind = kind;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = bias;
    this.batchFirst = batchFirst;
    this.dropout = p;
    this.bidirectional = bidirectional;
    this.projSize = projSize;
    this.dtype = dtype;
    this.generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
    const directions = bidirectional ? 2 : 1;
    const params: Tensor[] = [];
    for (let layer = 0; layer < numLayers; layer++) {
      for (let dir = 0; dir < directions; dir++) {
        registerCellWeights((name, t) => {
          params.push(this.registerParameter(name, t));
          return t;
        }, suffix(layer, dir), { gates: gateCount(kind), inputSize: layer === 0 ? inputSize : this.outputSize * directions, hiddenSize, projSize, bias, dtype });
      }
    }
    initRecurrent(params, hiddenSize, this.generator);
  }

  /**
   * Runs the layers over a sequence. `input` is [seq, batch, in] ([batch, seq, in] with
   * batchFirst) or [seq, in] for one unbatched sequence; `hx` is the initial state (zeros when
   * omitted). With `lengths`, sequence b is only its first lengths[b] steps (the rest is
   * padding), as PyTorch's `pack_padded_sequence(..., enforce_sorted=False)` followed by
   * `pad_packed_sequence(..., total_length=seq)`: outputs past a sequence's length are 0, its
   * final state is the one at its last valid step, and the reverse direction starts at its own
   * end. Returns `[output, state]`: output [seq, batch, directions·Hout] (batch first with
   * batchFirst; both directions' outputs concatenated, forward first) and the final state, each
   * [numLayers·directions, batch, Hout] ordered layer 0 forward, layer 0 reverse, layer 1...; Hout
   * is projSize for an LSTM's output and h with a projection, hiddenSize otherwise (and for c).
   * @throws ShapeError if the input is not 2-D or 3-D, does not end in inputSize, has no time
   * steps, or a state has another shape; DTypeError if a dtype differs from the module's;
   * ArgumentError if lengths are not one integer in [1, seq] per sequence, or are given for
   * unbatched input.
   */
  forward(input: Tensor, hx?: State | null, lengths?: SequenceLengths | null): [Tensor, State] {
    try {
      return this.run(input, hx, lengths);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  /** `forward` before its errors are located. */
  private run(input: Tensor, hx?: State | null, lengths?: SequenceLengths | null): [Tensor, State] {
    const owner = this.constructor.name;
    checkDType(owner, 'input', input, this.dtype);
    const layout = this.batchFirst ? 'batch, seq' : 'seq, batch';
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 1] !== this.inputSize) {
      throw new ShapeError(`${owner}: input must be [${layout}, ${this.inputSize}] or, unbatched, [seq, ${this.inputSize}] (weight_ih_l0 is ${formatShape(this.param('weight_ih_l0').shape)}); got ${formatShape(input.shape)}`);
    }
    const batched = input.ndim === 3;
    // Time-major from here on: [steps, batch, features].
    let x = !batched ? unsqueeze(input, 1) : this.batchFirst ? transpose(input, 0, 1) : input;
    const [steps, batch] = x.shape as [number, number];
    if (steps === 0) throw new ShapeError(`${owner}: input ${formatShape(input.shape)} has no time steps`);
    const directions = this.bidirectional ? 2 : 1;
    const initial = this.initialStates(hx, batched, batch);
    let masks: StepMask[] | null = null;
    if (lengths !== undefined && lengths !== null) {
      if (!batched) throw new ArgumentError(`${owner}: lengths need batched input; got unbatched input ${formatShape(input.shape)}`);
      const list = normalizeLengths(owner, lengths, batch, steps);
      if (list.some((n) => n < steps)) masks = stepMasks(list, steps);
    }
    const finals: Tensor[][] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      if (layer > 0 && this.dropout > 0 && this.training) x = dropout(x, this.dropout, { generator: this.generator });
      const outputs: Tensor[] = [];
      for (let dir = 0; dir < directions; dir++) {
        const w = cellWeights(this.bias, (n) => this.param(n), suffix(layer, dir), this.projSize > 0);
        const projected = unbind(linear(x, w.weightIh, w.biasIh), 0);
        const run = runDirection(this.kind, projected, initial[layer * directions + dir]!, w, dir === 1, masks);
        outputs.push(stack(run.outputs, 0));
        finals.push(run.state);
      }
      x = directions === 1 ? outputs[0]! : concat(outputs, -1);
    }
    const output = !batched ? squeeze(x, 1) : this.batchFirst ? transpose(x, 0, 1) : x;
    const components = finals[0]!.map((_, c) => {
      const s = stack(finals.map((f) => f[c]!), 0);
      return batched ? s : squeeze(s, 1);
    });
    return [output, this.stateFrom(components)];
  }

  /** The state's components (h, or h and c) as forward takes them. */
  protected abstract componentsOf(hx: State): readonly Tensor[];

  /** The state as forward returns it, from its components. */
  protected abstract stateFrom(components: readonly Tensor[]): State;

  /** Names of the state's components, for messages. */
  protected abstract componentNames(): readonly string[];

  /** Width of the outputs and of h: projSize with a projection, else hiddenSize. */
  private get outputSize(): number {
    return this.projSize > 0 ? this.projSize : this.hiddenSize;
  }

  /**
   * Checks `hx` and splits it per layer and direction: [layer·directions + dir][component], each
   * [batch, Hout] for h and [batch, H] for c.
   */
  private initialStates(hx: State | null | undefined, batched: boolean, batch: number): Tensor[][] {
    const owner = this.constructor.name;
    const count = this.numLayers * (this.bidirectional ? 2 : 1);
    const names = this.componentNames();
    // h is the first component; an LSTM's c is never projected.
    const sizes = names.map((_, c) => (c === 0 ? this.outputSize : this.hiddenSize));
    if (hx === undefined || hx === null) {
      return Array.from({ length: count }, () => sizes.map((size) => zeros([batch, size], { dtype: this.dtype })));
    }
    const components = this.componentsOf(hx);
    const perLayer = components.map((s, c) => {
      const name = names[c]!;
      const size = sizes[c]!;
      const sizeName = c === 0 && this.projSize > 0 ? 'projSize' : 'hiddenSize';
      checkDType(owner, name, s, this.dtype);
      checkShape(owner, `${name} (numLayers·directions, ${batched ? 'batch, ' : ''}${sizeName})`, s, batched ? [count, batch, size] : [count, size]);
      return unbind(batched ? s : unsqueeze(s, 1), 0);
    });
    return Array.from({ length: count }, (_, i) => perLayer.map((pieces) => pieces[i]!));
  }

  protected override describe(): string {
    const extra = [
      this.projSize !== 0 ? `projSize=${this.projSize}` : '',
      this.numLayers !== 1 ? `numLayers=${this.numLayers}` : '',
      !this.bias ? 'bias=false' : '',
      this.batchFirst ? 'batchFirst=true' : '',
      this.dropout !== 0 ? `dropout=${this.dropout}` : '',
      this.bidirectional ? 'bidirectional=true' : '',
    ].filter((s) => s !== '');
    return [`${this.inputSize}, ${this.hiddenSize}`, ...extra].join(', ');
  }
}

/** PyTorch's parameter-name suffix of a layer and direction: `_l0`, `_l1_reverse`. */
function suffix(layer: number, dir: number): string {
  return `_l${layer}${dir === 1 ? '_reverse' : ''}`;
}

/**
 * A multi-layer Elman RNN, `h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)` with act tanh or
 * relu, as torch.nn.RNN (see `RNNBase` for the layout, lengths and parameters).
 * @example
 * const rnn = new RNN(3, 8, { numLayers: 2, seed: 0 });
 * const [output, hN] = rnn.forward(x); // x [seq, batch, 3] -> output [seq, batch, 8], hN [2, batch, 8]
 */
export class RNN extends RNNBase<Tensor> {
  /** The activation. */
  readonly nonlinearity: 'tanh' | 'relu';

  /**
   * @throws ArgumentError as RNNBase, or if `nonlinearity` is neither 'tanh' nor 'relu'.
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const nonlinearity = options.nonlinearity ?? 'tanh';
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
      throw new ArgumentError(`RNN: nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(nonlinearity)}`);
    }
    super(nonlinearity === 'tanh' ? 'rnn_tanh' : 'rnn_relu', inputSize, hiddenSize, options);
    this.nonlinearity = nonlinearity;
  }

  protected componentsOf(hx: Tensor): readonly Tensor[] {
    return [hx];
  }

  protected stateFrom(components: readonly Tensor[]): Tensor {
    return components[0]!;
  }

  protected componentNames(): readonly string[] {
    return ['h0'];
  }

  protected override describe(): string {
    return this.nonlinearity === 'tanh' ? super.describe() : `${super.describe()}, nonlinearity=relu`;
  }
}

/**
 * A multi-layer long short-term memory, as torch.nn.LSTM: per step, gates i, f, g, o (stacked in
 * that order in `weight_ih_lk` [4H, in] and `weight_hh_lk` [4H, H]), c_t = σ(f)⊙c_{t-1} + σ(i)⊙tanh(g),
 * h_t = σ(o)⊙tanh(c_t). The state is [h, c]. With `projSize` P (PyTorch's proj_size), h_t is then
 * projected, h_t = (σ(o)⊙tanh(c_t))·W_hrᵀ with `weight_hr_lk` of shape [P, H], so outputs and h
 * are P wide, `weight_hh_lk` is [4H, P] and a layer above reads directions·P features. See `RNNBase`.
 * @example
 * const lstm = new LSTM(3, 8, { batchFirst: true, bidirectional: true, seed: 0 });
 * const [output, [hN, cN]] = lstm.forward(x, null, [5, 3]); // x [2, 5, 3] -> output [2, 5, 16]
 * const projected = new LSTM(3, 8, { projSize: 2, seed: 0 }); // output [seq, batch, 2], hN [1, batch, 2], cN [1, batch, 8]
 */
export class LSTM extends RNNBase<[Tensor, Tensor]> {
  /** @throws ArgumentError as RNNBase, or if projSize is not an integer in [0, hiddenSize). */
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    super('lstm', inputSize, hiddenSize, options);
  }

  protected componentsOf(hx: [Tensor, Tensor]): readonly Tensor[] {
    if (!Array.isArray(hx) || hx.length !== 2) throw new ArgumentError('LSTM: hx must be [h0, c0]');
    return hx;
  }

  protected stateFrom(components: readonly Tensor[]): [Tensor, Tensor] {
    return [components[0]!, components[1]!];
  }

  protected componentNames(): readonly string[] {
    return ['h0', 'c0'];
  }
}

/**
 * A multi-layer gated recurrent unit, as torch.nn.GRU: per step, gates r, z, n (stacked in that
 * order in `weight_ih_lk` [3H, in] and `weight_hh_lk` [3H, H]), n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)),
 * h_t = (1 - z)⊙n + z⊙h_{t-1}. See `RNNBase`.
 * @example
 * const gru = new GRU(3, 8, { numLayers: 2, dropout: 0.1, seed: 0 });
 * const [output, hN] = gru.forward(x, h0);
 */
export class GRU extends RNNBase<Tensor> {
  /** @throws ArgumentError as RNNBase. */
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super('gru', inputSize, hiddenSize, options);
  }

  protected componentsOf(hx: Tensor): readonly Tensor[] {
    return [hx];
  }

  protected stateFrom(components: readonly Tensor[]): Tensor {
    return components[0]!;
  }

  protected componentNames(): readonly string[] {
    return ['h0'];
  }
}
