import { ArgumentError, Generator, ShapeError, linear, squeeze, unsqueeze, zeros, type DType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';
import {
  cellWeights, checkDType, checkShape, checkSize, gateCount, initRecurrent, registerCellWeights, step,
  type CellWeights, type RecurrenceKind,
} from './recurrence.js';

/** Options of `LSTMCell` and `GRUCell` (and, with `nonlinearity`, of `RNNCell`). */
export interface RecurrentCellOptions {
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** dtype of the weights (default 'float32'). */
  dtype?: DType;
  /** Seed of the initialisation (a fresh generator). */
  seed?: number;
  /** Generator of the initialisation (takes precedence over `seed`). */
  generator?: Generator;
}

/** Options of `RNNCell`. */
export interface RNNCellOptions extends RecurrentCellOptions {
  /** The cell's activation, 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** What the cell functions need to know of a cell: its name for messages, kind, sizes and dtype. */
interface CellSpec {
  readonly owner: string;
  readonly kind: RecurrenceKind;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly dtype: DType;
}

/** Checks the sizes, registers the cell's four tensors under PyTorch's names and initialises them. */
function buildCell(register: (name: string, t: Tensor) => Tensor, spec: CellSpec, options: RecurrentCellOptions): boolean {
  checkSize(spec.owner, 'inputSize', spec.inputSize);
  checkSize(spec.owner, 'hiddenSize', spec.hiddenSize);
  const bias = options.bias ?? true;
  const generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
  const params: Tensor[] = [];
  registerCellWeights((name, t) => {
    params.push(register(name, t));
    return t;
  }, '', { gates: gateCount(spec.kind), inputSize: spec.inputSize, hiddenSize: spec.hiddenSize, bias, dtype: spec.dtype });
  initRecurrent(params, spec.hiddenSize, generator);
  return bias;
}

/**
 * Checks a cell's input ([batch, in], or [in] for one unbatched sample) and state, and returns them
 * batched: the state as given or zeros.
 */
function cellOperands(spec: CellSpec, input: Tensor, states: readonly (Tensor | undefined)[]): { x: Tensor; states: Tensor[]; batched: boolean } {
  const { owner, inputSize, hiddenSize, dtype } = spec;
  checkDType(owner, 'input', input, dtype);
  if ((input.ndim !== 1 && input.ndim !== 2) || input.shape[input.ndim - 1] !== inputSize) {
    throw new ShapeError(`${owner}: input must be [batch, ${inputSize}] or [${inputSize}], got ${formatShape(input.shape)}`);
  }
  const batched = input.ndim === 2;
  const x = batched ? input : unsqueeze(input, 0);
  const batch = x.shape[0]!;
  const names = spec.kind === 'lstm' ? ['h', 'c'] : ['hx'];
  const out = states.map((s, i) => {
    if (s === undefined) return zeros([batch, hiddenSize], { dtype });
    checkDType(owner, names[i]!, s, dtype);
    checkShape(owner, `${names[i]!} (for input ${formatShape(input.shape)})`, s, batched ? [batch, hiddenSize] : [hiddenSize]);
    return batched ? s : unsqueeze(s, 0);
  });
  return { x, states: out, batched };
}

/** One step of a cell on batched operands, unbatched again if the input was. */
function cellStep(spec: CellSpec, w: CellWeights, input: Tensor, states: readonly (Tensor | undefined)[]): Tensor[] {
  const { x, states: s, batched } = cellOperands(spec, input, states);
  const next = step(spec.kind, linear(x, w.weightIh, w.biasIh), s, w);
  return batched ? next : next.map((t) => squeeze(t, 0));
}

/**
 * What `RNNCell`, `LSTMCell` and `GRUCell` share: their sizes, the four tensors under PyTorch's
 * names (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`) initialised U(-1/√H, 1/√H), and one step
 * of the recurrence on checked, batched operands.
 */
export abstract class RecurrentCell<In extends unknown[], Out> extends Module<In, Out> {
  /** Size of each input sample. */
  readonly inputSize: number;
  /** Size of the hidden (and, for LSTMCell, cell) state H. */
  readonly hiddenSize: number;
  private readonly spec: CellSpec;
  private readonly hasBias: boolean;

  /** @throws ArgumentError if a size is not a non-negative integer. */
  protected constructor(owner: string, kind: RecurrenceKind, inputSize: number, hiddenSize: number, options: RecurrentCellOptions) {
    super();
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.spec = { owner, kind, inputSize, hiddenSize, dtype: options.dtype ?? 'float32' };
    this.hasBias = buildCell((n, t) => this.registerParameter(n, t), this.spec, options);
  }

  /** The next states from `input` and the given states (undefined: zeros), as the cell's forward returns them. */
  protected stepFrom(input: Tensor, states: readonly (Tensor | undefined)[]): Tensor[] {
    return cellStep(this.spec, cellWeights(this.hasBias, (n) => this.param(n)), input, states);
  }

  /** Checks a given state component's dtype against the cell's, naming it. */
  protected checkState(name: string, t: Tensor): void {
    checkDType(this.spec.owner, name, t, this.spec.dtype);
  }

  protected override describe(): string {
    return `${this.inputSize}, ${this.hiddenSize}, bias=${this.hasBias}`;
  }
}

/**
 * An Elman cell, `h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)` with act tanh or relu, as
 * torch.nn.RNNCell: parameters `weight_ih` [H, in], `weight_hh` [H, H], `bias_ih`, `bias_hh` [H],
 * all initialised U(-1/√H, 1/√H).
 * @example const cell = new RNNCell(3, 5, { seed: 0 }); let h = cell.forward(x0); h = cell.forward(x1, h);
 */
export class RNNCell extends RecurrentCell<[input: Tensor, hx?: Tensor | null], Tensor> {
  /** The activation. */
  readonly nonlinearity: 'tanh' | 'relu';

  /**
   * @throws ArgumentError if a size is not a non-negative integer or `nonlinearity` is neither 'tanh' nor 'relu'.
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    const nonlinearity = options.nonlinearity ?? 'tanh';
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
      throw new ArgumentError(`RNNCell: nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(nonlinearity)}`);
    }
    super('RNNCell', nonlinearity === 'tanh' ? 'rnn_tanh' : 'rnn_relu', inputSize, hiddenSize, options);
    this.nonlinearity = nonlinearity;
  }

  /**
   * The next hidden state [batch, H] from input [batch, in] and `hx` [batch, H] (zeros when
   * omitted); unbatched, [in] and [H] give [H].
   * @throws ShapeError if the input or hx has another shape; DTypeError if a dtype differs from the cell's.
   */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    try {
      return this.stepFrom(input, [hx ?? undefined])[0]!;
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `${super.describe()}, nonlinearity=${this.nonlinearity}`;
  }
}

/**
 * A long short-term memory cell, as torch.nn.LSTMCell: gates i, f, g, o stacked in that order in
 * `weight_ih` [4H, in] and `weight_hh` [4H, H] (biases [4H]); c' = σ(f)⊙c + σ(i)⊙tanh(g),
 * h' = σ(o)⊙tanh(c'). Initialised U(-1/√H, 1/√H).
 * @example const cell = new LSTMCell(3, 5, { seed: 0 }); const [h, c] = cell.forward(x); cell.forward(x, [h, c]);
 */
export class LSTMCell extends RecurrentCell<[input: Tensor, hx?: readonly [Tensor, Tensor] | null], [Tensor, Tensor]> {
  /** @throws ArgumentError if a size is not a non-negative integer. */
  constructor(inputSize: number, hiddenSize: number, options: RecurrentCellOptions = {}) {
    super('LSTMCell', 'lstm', inputSize, hiddenSize, options);
  }

  /**
   * The next `[h, c]`, each [batch, H], from input [batch, in] and `hx` = [h, c] (zeros when
   * omitted); unbatched, [in] and [H] give [H].
   * @throws ShapeError if the input, h or c has another shape; DTypeError if a dtype differs from the cell's.
   */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    try {
      let states: readonly (Tensor | undefined)[] = [undefined, undefined];
      if (hx !== undefined && hx !== null) {
        // Given, both must be there: a missing c must not silently become zeros.
        if (!Array.isArray(hx) || hx.length !== 2) throw new ArgumentError('LSTMCell: hx must be [h, c] (or omitted for zeros)');
        this.checkState('c', hx[1]);
        states = hx;
      }
      const [h, c] = this.stepFrom(input, states);
      return [h!, c!];
    } catch (e) {
      throw locateError(this, e);
    }
  }
}

/**
 * A gated recurrent unit cell, as torch.nn.GRUCell: gates r, z, n stacked in that order in
 * `weight_ih` [3H, in] and `weight_hh` [3H, H] (biases [3H]); r = σ(W_ir x + b_ir + W_hr h + b_hr),
 * z likewise, n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)), h' = (1 - z)⊙n + z⊙h.
 * Initialised U(-1/√H, 1/√H).
 * @example const cell = new GRUCell(3, 5, { seed: 0 }); const h = cell.forward(x, h0);
 */
export class GRUCell extends RecurrentCell<[input: Tensor, hx?: Tensor | null], Tensor> {
  /** @throws ArgumentError if a size is not a non-negative integer. */
  constructor(inputSize: number, hiddenSize: number, options: RecurrentCellOptions = {}) {
    super('GRUCell', 'gru', inputSize, hiddenSize, options);
  }

  /**
   * The next hidden state [batch, H] from input [batch, in] and `hx` [batch, H] (zeros when
   * omitted); unbatched, [in] and [H] give [H].
   * @throws ShapeError if the input or hx has another shape; DTypeError if a dtype differs from the cell's.
   */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    try {
      return this.stepFrom(input, [hx ?? undefined])[0]!;
    } catch (e) {
      throw locateError(this, e);
    }
  }
}
