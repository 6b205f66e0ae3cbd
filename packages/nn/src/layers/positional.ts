import { ArgumentError, DTypeError, Generator, ShapeError, tensor, zeros, type DType, type FloatDType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { normal } from '../init.js';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';

/**
 * The sinusoidal position table of "Attention is all you need" (Vaswani et al., 2017, §3.5):
 * `pe[pos, 2i] = sin(pos / 10000^(2i/dModel))`, `pe[pos, 2i+1] = cos(pos / 10000^(2i/dModel))`,
 * a [length, dModel] tensor (an odd dModel ends with a sine column). Computed in float64 and
 * rounded once.
 * @throws ArgumentError if length or dModel is not a non-negative integer.
 * @example sinusoidalPositionalEncoding(64, 128) // [64, 128]
 */
export function sinusoidalPositionalEncoding(length: number, dModel: number, options: { dtype?: FloatDType } = {}): Tensor {
  for (const [name, v] of [['length', length], ['dModel', dModel]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`sinusoidalPositionalEncoding: ${name} must be a non-negative integer, got ${v}`);
  }
  const data = new Float64Array(length * dModel);
  for (let pos = 0; pos < length; pos++) {
    for (let c = 0; c < dModel; c++) {
      const angle = pos / 10000 ** ((c - (c % 2)) / dModel);
      data[pos * dModel + c] = c % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return tensor(data, { shape: [length, dModel], dtype: options.dtype ?? 'float32' });
}

/** Options of the positional encodings. */
export interface PositionalEncodingOptions {
  /** Longest sequence (default 5000). */
  maxLen?: number;
  /** Inputs are [batch, seq, feature] (default false: [seq, batch, feature], as the transformer modules). */
  batchFirst?: boolean;
  /** dtype of the table (default 'float32'). */
  dtype?: FloatDType;
}

/** The [L, E] table laid out to add to x ([L, E], [N, L, E] batch-first, [L, N, E] otherwise). */
function placed(name: string, x: Tensor, table: (length: number) => Tensor, dModel: number, maxLen: number, batchFirst: boolean, dtype: DType): Tensor {
  if (x.dtype !== dtype) throw new DTypeError(`${name}: input is ${x.dtype} but the encoding is ${dtype}; got shape ${formatShape(x.shape)}`);
  const seqAxis = x.ndim === 3 && !batchFirst ? 0 : x.ndim - 2;
  if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== dModel || x.shape[seqAxis]! > maxLen) {
    throw new ShapeError(
      `${name}: input must be ${x.ndim === 2 ? '[seq, ' : batchFirst ? '[batch, seq, ' : '[seq, batch, '}${dModel}] with seq at most maxLen ${maxLen}; got shape ${formatShape(x.shape)}`,
    );
  }
  const pe = table(x.shape[seqAxis]!);
  return x.ndim === 3 && !batchFirst ? pe.unsqueeze(1) : pe;
}

/**
 * Adds the fixed sinusoidal position table (`sinusoidalPositionalEncoding`) to its input. It has
 * no parameters and no state-dict entry (PyTorch has no such module; its tutorial keeps the
 * table as a buffer `pe`): the table is a function of the position. Scaling the embeddings by
 * √dModel, as the paper does, and dropout are left to the model.
 * @example const pos = new SinusoidalPositionalEncoding(128, { batchFirst: true }); pos.forward(embed.forward(tokens))
 */
export class SinusoidalPositionalEncoding extends Module {
  /** Width of the encoded features. */
  readonly dModel: number;
  /** Longest sequence accepted. */
  readonly maxLen: number;
  /** Whether inputs are [batch, seq, feature]. */
  readonly batchFirst: boolean;
  private readonly dtype: FloatDType;
  private cache: Tensor | null = null;

  /** @throws ArgumentError if dModel or maxLen is not a positive integer. */
  constructor(dModel: number, options: PositionalEncodingOptions = {}) {
    super();
    const { maxLen = 5000, batchFirst = false, dtype = 'float32' } = options;
    for (const [name, v] of [['dModel', dModel], ['maxLen', maxLen]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`SinusoidalPositionalEncoding: ${name} must be a positive integer, got ${v}`);
    }
    this.dModel = dModel;
    this.maxLen = maxLen;
    this.batchFirst = batchFirst;
    this.dtype = dtype;
  }

  /**
   * `x + pe[:seq]`, broadcast over the batch.
   * @throws ShapeError if x is not [seq, dModel] or 3-D with dModel features, or seq exceeds maxLen; DTypeError if x's dtype differs.
   */
  forward(x: Tensor): Tensor {
    try {
      const table = (length: number) => {
        // The longest table asked for so far; shorter ones are its leading rows.
        if (this.cache === null || this.cache.shape[0]! < length) this.cache = sinusoidalPositionalEncoding(length, this.dModel, { dtype: this.dtype });
        return this.cache.shape[0] === length ? this.cache : this.cache.narrow(0, 0, length);
      };
      return x.add(placed('SinusoidalPositionalEncoding', x, table, this.dModel, this.maxLen, this.batchFirst, this.dtype));
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `dModel=${this.dModel}, maxLen=${this.maxLen}, batchFirst=${this.batchFirst}`;
  }
}

/** Options of `LearnedPositionalEmbedding`. */
export interface LearnedPositionalEmbeddingOptions {
  /** Inputs are [batch, seq, feature] (default false). */
  batchFirst?: boolean;
  /** dtype of the table (default 'float32'). */
  dtype?: FloatDType;
  /** Seed of the initialisation. */
  seed?: number;
  /** Generator of the initialisation (takes precedence over `seed`). */
  generator?: Generator;
}

/**
 * A learned position table added to its input, as GPT-2 and BERT do: a parameter `weight`
 * [maxLen, dModel] drawn from N(0, 1) as `torch.nn.Embedding`'s (so an `nn.Embedding(maxLen,
 * dModel)` state dict from PyTorch loads into it); `forward(x)` adds its first `seq` rows.
 * @example const pos = new LearnedPositionalEmbedding(256, 128, { batchFirst: true, seed: 0 }); pos.forward(h)
 */
export class LearnedPositionalEmbedding extends Module {
  /** Longest sequence accepted (rows of `weight`). */
  readonly maxLen: number;
  /** Width of the features. */
  readonly dModel: number;
  /** Whether inputs are [batch, seq, feature]. */
  readonly batchFirst: boolean;

  /** @throws ArgumentError if maxLen or dModel is not a positive integer. */
  constructor(maxLen: number, dModel: number, options: LearnedPositionalEmbeddingOptions = {}) {
    super();
    for (const [name, v] of [['maxLen', maxLen], ['dModel', dModel]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`LearnedPositionalEmbedding: ${name} must be a positive integer, got ${v}`);
    }
    const { batchFirst = false, dtype = 'float32' } = options;
    this.maxLen = maxLen;
    this.dModel = dModel;
    this.batchFirst = batchFirst;
    const w = this.registerParameter('weight', zeros([maxLen, dModel], { dtype }));
    normal(w, 0, 1, options.generator !== undefined ? { generator: options.generator } : options.seed !== undefined ? { seed: options.seed } : {});
  }

  /** The [maxLen, dModel] table. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /**
   * `x + weight[:seq]`, broadcast over the batch; the gradient reaches the rows used.
   * @throws ShapeError if x is not [seq, dModel] or 3-D with dModel features, or seq exceeds maxLen; DTypeError if x's dtype differs.
   */
  forward(x: Tensor): Tensor {
    try {
      const w = this.weight;
      const table = (length: number) => (length === this.maxLen ? w : w.narrow(0, 0, length));
      return x.add(placed('LearnedPositionalEmbedding', x, table, this.dModel, this.maxLen, this.batchFirst, w.dtype));
    } catch (e) {
      throw locateError(this, e);
    }
  }

  protected override describe(): string {
    return `maxLen=${this.maxLen}, dModel=${this.dModel}, batchFirst=${this.batchFirst}`;
  }
}
