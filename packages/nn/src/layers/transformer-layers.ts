import { ArgumentError, Generator, gelu, type DType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { locateError } from '../locate.js';
import { Dropout } from './dropout.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';
import { MultiheadAttention } from './attention.js';

/** The feed-forward activation of a transformer layer: PyTorch's names, or any function. */
export type TransformerActivation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);

/** Options of `TransformerEncoderLayer` and `TransformerDecoderLayer`, PyTorch's defaults. */
export interface TransformerLayerOptions {
  /** Width of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability after attention, inside and after the feed-forward block (default 0.1). */
  dropout?: number;
  /** Feed-forward activation (default 'relu'; 'gelu' is the exact, erf one). */
  activation?: TransformerActivation;
  /** LayerNorm's eps (default 1e-5). */
  layerNormEps?: number;
  /** Inputs are [batch, seq, feature] (default false: [seq, batch, feature]). */
  batchFirst?: boolean;
  /** Pre-norm: normalise before each block instead of after the residual sum (default false). */
  normFirst?: boolean;
  /** Biases in the linear layers, attention and LayerNorms (default true). */
  bias?: boolean;
  /** dtype of the parameters (default 'float32'). */
  dtype?: DType;
  /** Seed of a fresh generator for the initialisation and then the dropout masks. */
  seed?: number;
  /** Generator of the initialisation and dropout masks (takes precedence over `seed`). */
  generator?: Generator;
}

/** Options of `TransformerEncoderLayer.forward` (PyTorch's `src_mask`, `src_key_padding_mask`, `is_causal`). */
export interface TransformerEncoderLayerForwardOptions {
  /** Attention mask [L, L] or [batch·nhead, L, L]: bool true where NOT allowed, or float added. */
  mask?: Tensor;
  /** Shape [batch, L]: bool, true at padding, or a float mask added. */
  srcKeyPaddingMask?: Tensor;
  /** Causal self-attention (builds the mask when `mask` is not given). */
  isCausal?: boolean;
}

/** Options of `TransformerDecoderLayer.forward`, PyTorch's argument names in camelCase. */
export interface TransformerDecoderLayerForwardOptions {
  /** Self-attention mask [T, T] or [batch·nhead, T, T] (as `MultiheadAttention`'s attnMask). */
  tgtMask?: Tensor;
  /** Cross-attention mask [T, S] or [batch·nhead, T, S]. */
  memoryMask?: Tensor;
  /** Shape [batch, T]: true at target padding. */
  tgtKeyPaddingMask?: Tensor;
  /** Shape [batch, S]: true at memory padding. */
  memoryKeyPaddingMask?: Tensor;
  /** Causal self-attention (builds the mask when `tgtMask` is not given). */
  tgtIsCausal?: boolean;
  /** Causal cross-attention (builds the mask when `memoryMask` is not given). */
  memoryIsCausal?: boolean;
}

interface Resolved {
  dModel: number;
  nhead: number;
  dimFeedforward: number;
  dropout: number;
  activation: TransformerActivation;
  layerNormEps: number;
  batchFirst: boolean;
  normFirst: boolean;
  bias: boolean;
  dtype: DType;
  generator: Generator | undefined;
}

function resolve(name: string, dModel: number, nhead: number, options: TransformerLayerOptions): Resolved {
  const {
    dimFeedforward = 2048, dropout = 0.1, activation = 'relu', layerNormEps = 1e-5, batchFirst = false, normFirst = false, bias = true, dtype = 'float32',
  } = options;
  if (!Number.isInteger(dimFeedforward) || dimFeedforward < 1) throw new ArgumentError(`${name}: dimFeedforward must be a positive integer, got ${dimFeedforward}`);
  if (typeof activation !== 'function' && activation !== 'relu' && activation !== 'gelu') {
    throw new ArgumentError(`${name}: activation must be 'relu', 'gelu' or a function, got ${JSON.stringify(activation)}`);
  }
  const generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
  return { dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias, dtype, generator };
}

/** The options that rebuild a layer from its resolved configuration (for clones). */
function optionsOf(c: Resolved): TransformerLayerOptions {
  const { dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias, dtype, generator } = c;
  return { dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias, dtype, ...(generator === undefined ? {} : { generator }) };
}

/** The sublayers every transformer layer has: self-attention and the feed-forward block. */
abstract class TransformerLayerBase<In extends unknown[]> extends Module<In, Tensor> {
  /** The resolved configuration (PyTorch's defaults filled in). */
  protected readonly config: Resolved;
  /** Self-attention (`self_attn.*`). */
  readonly selfAttn: MultiheadAttention;
  /** The first feed-forward linear layer, dModel → dimFeedforward. */
  readonly linear1: Linear;
  /** The second feed-forward linear layer, dimFeedforward → dModel. */
  readonly linear2: Linear;
  /** The dropout inside the feed-forward block (PyTorch's `dropout`). */
  protected readonly dropoutFF: Dropout;

  protected constructor(config: Resolved) {
    super();
    this.config = config;
    const { dModel, nhead, dropout, batchFirst, bias, dtype, generator } = config;
    const source = generator === undefined ? {} : { generator };
    // Registration order is PyTorch's, so state-dict keys come in its order.
    this.selfAttn = this.registerModule('self_attn', new MultiheadAttention(dModel, nhead, { dropout, bias, batchFirst, dtype, ...source }));
    this.addCrossAttention();
    this.linear1 = this.registerModule('linear1', new Linear(dModel, config.dimFeedforward, { bias, dtype, ...source }));
    this.dropoutFF = this.registerModule('dropout', new Dropout(dropout, source));
    this.linear2 = this.registerModule('linear2', new Linear(config.dimFeedforward, dModel, { bias, dtype, ...source }));
  }

  /** Registers a decoder's cross-attention between self-attention and the feed-forward block. */
  protected addCrossAttention(): void {}

  /** The model width. */
  get dModel(): number { return this.config.dModel; }
  /** Number of attention heads. */
  get nhead(): number { return this.config.nhead; }
  /** Whether the layer normalises before each block (pre-norm). */
  get normFirst(): boolean { return this.config.normFirst; }
  /** Whether inputs are [batch, seq, feature]. */
  get batchFirst(): boolean { return this.config.batchFirst; }
  /** The feed-forward activation. */
  get activation(): TransformerActivation { return this.config.activation; }

  /** A LayerNorm of the layer's width, eps, bias and dtype. */
  protected layerNorm(): LayerNorm {
    return new LayerNorm(this.config.dModel, { eps: this.config.layerNormEps, bias: this.config.bias, dtype: this.config.dtype });
  }

  /** A Dropout of the layer's probability, drawing from its generator. */
  protected dropoutLayer(): Dropout {
    return new Dropout(this.config.dropout, this.config.generator === undefined ? {} : { generator: this.config.generator });
  }

  /** linear2(dropout(activation(linear1(x)))), without the block's closing dropout. */
  protected feedForward(x: Tensor): Tensor {
    const { activation } = this.config;
    const h = activation === 'relu' ? this.linear1.forwardActivated(x, 'relu') : activation === 'gelu' ? gelu(this.linear1.forward(x)) : activation(this.linear1.forward(x));
    return this.linear2.forward(this.dropoutFF.forward(h));
  }

  protected override describe(): string {
    const { dModel, nhead, dimFeedforward, dropout, activation, normFirst, batchFirst } = this.config;
    return `dModel=${dModel}, nhead=${nhead}, dimFeedforward=${dimFeedforward}, dropout=${dropout}, activation=${typeof activation === 'function' ? activation.name || 'function' : activation}, normFirst=${normFirst}, batchFirst=${batchFirst}`;
  }
}

/**
 * A transformer encoder layer, as `torch.nn.TransformerEncoderLayer`: self-attention then a
 * feed-forward block (linear1, activation, dropout, linear2), each with dropout and a residual
 * connection, and LayerNorm after each sum (post-norm, the default) or before each block
 * (`normFirst`). PyTorch's defaults and state-dict keys (`self_attn.in_proj_weight`,
 * `linear1.weight`, `norm1.weight`, ...), so PyTorch's weights load with `loadStateDict`.
 * @example
 * const layer = new TransformerEncoderLayer(128, 4, { dimFeedforward: 512, batchFirst: true, seed: 0 });
 * layer.forward(x, { srcKeyPaddingMask: pad }) // x: [batch, L, 128]
 */
export class TransformerEncoderLayer extends TransformerLayerBase<[Tensor, TransformerEncoderLayerForwardOptions?]> {
  /** LayerNorm of the attention block. */
  readonly norm1: LayerNorm;
  /** LayerNorm of the feed-forward block. */
  readonly norm2: LayerNorm;
  private readonly dropout1: Dropout;
  private readonly dropout2: Dropout;

  /**
   * @param dModel - model width (the features of each position).
   * @param nhead - number of attention heads; must divide dModel.
   * @throws ArgumentError for a size that is not a positive integer, nhead not dividing dModel, dropout outside [0, 1] or an unknown activation.
   */
  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super(resolve('TransformerEncoderLayer', dModel, nhead, options));
    this.norm1 = this.registerModule('norm1', this.layerNorm());
    this.norm2 = this.registerModule('norm2', this.layerNorm());
    this.dropout1 = this.registerModule('dropout1', this.dropoutLayer());
    this.dropout2 = this.registerModule('dropout2', this.dropoutLayer());
  }

  /**
   * One layer over `src` ([L, N, E], or [N, L, E] when batchFirst, or [L, E] unbatched); returns the same shape.
   * @throws ShapeError or DTypeError from the attention for inputs or masks that do not fit.
   */
  forward(src: Tensor, options: TransformerEncoderLayerForwardOptions = {}): Tensor {
    try {
      return this.encode(src, options);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  /** `forward` before its errors are located. */
  private encode(src: Tensor, options: TransformerEncoderLayerForwardOptions = {}): Tensor {
    const attend = (x: Tensor) => {
      const [y] = this.selfAttn.forward(x, x, x, {
        ...(options.mask === undefined ? {} : { attnMask: options.mask }),
        ...(options.srcKeyPaddingMask === undefined ? {} : { keyPaddingMask: options.srcKeyPaddingMask }),
        ...(options.isCausal === undefined ? {} : { isCausal: options.isCausal }),
        needWeights: false,
      });
      return this.dropout1.forward(y);
    };
    const ff = (x: Tensor) => this.dropout2.forward(this.feedForward(x));
    let x = src;
    if (this.config.normFirst) {
      x = x.add(attend(this.norm1.forward(x)));
      return x.add(ff(this.norm2.forward(x)));
    }
    x = this.norm1.forward(x.add(attend(x)));
    return this.norm2.forward(x.add(ff(x)));
  }

  /** A new layer of the same configuration with a copy of these weights (PyTorch's deepcopy in TransformerEncoder). @example layer.clone() */
  clone(): TransformerEncoderLayer {
    const copy = new TransformerEncoderLayer(this.config.dModel, this.config.nhead, optionsOf(this.config));
    copy.loadStateDict(this.stateDict());
    copy.train(this.training);
    return copy;
  }
}

/**
 * A transformer decoder layer, as `torch.nn.TransformerDecoderLayer`: self-attention over the
 * target, cross-attention to the encoder's `memory` (`multihead_attn`), then the feed-forward
 * block, each with dropout, a residual connection and LayerNorm (`norm1..3`; after each sum, or
 * before each block with `normFirst`). PyTorch's defaults and state-dict keys.
 * @example new TransformerDecoderLayer(128, 4, { batchFirst: true }).forward(tgt, memory, { tgtIsCausal: true })
 */
export class TransformerDecoderLayer extends TransformerLayerBase<[Tensor, Tensor, TransformerDecoderLayerForwardOptions?]> {
  /** Cross-attention to the memory (`multihead_attn.*`). */
  declare readonly multiheadAttn: MultiheadAttention;
  /** LayerNorm of the self-attention block. */
  readonly norm1: LayerNorm;
  /** LayerNorm of the cross-attention block. */
  readonly norm2: LayerNorm;
  /** LayerNorm of the feed-forward block. */
  readonly norm3: LayerNorm;
  private readonly dropout1: Dropout;
  private readonly dropout2: Dropout;
  private readonly dropout3: Dropout;

  /**
   * @param dModel - model width.
   * @param nhead - number of attention heads; must divide dModel.
   * @throws ArgumentError as `TransformerEncoderLayer`.
   */
  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super(resolve('TransformerDecoderLayer', dModel, nhead, options));
    this.norm1 = this.registerModule('norm1', this.layerNorm());
    this.norm2 = this.registerModule('norm2', this.layerNorm());
    this.norm3 = this.registerModule('norm3', this.layerNorm());
    this.dropout1 = this.registerModule('dropout1', this.dropoutLayer());
    this.dropout2 = this.registerModule('dropout2', this.dropoutLayer());
    this.dropout3 = this.registerModule('dropout3', this.dropoutLayer());
  }

  protected override addCrossAttention(): void {
    const { dModel, nhead, dropout, batchFirst, bias, dtype, generator } = this.config;
    (this as { multiheadAttn: MultiheadAttention }).multiheadAttn = this.registerModule(
      'multihead_attn',
      new MultiheadAttention(dModel, nhead, { dropout, bias, batchFirst, dtype, ...(generator === undefined ? {} : { generator }) }),
    );
  }

  /**
   * One layer over `tgt` ([T, N, E], [N, T, E] when batchFirst, [T, E] unbatched) attending to
   * `memory` ([S, N, E] likewise); returns tgt's shape.
   * @throws ShapeError or DTypeError from the attention for inputs or masks that do not fit.
   */
  forward(tgt: Tensor, memory: Tensor, options: TransformerDecoderLayerForwardOptions = {}): Tensor {
    try {
      return this.decode(tgt, memory, options);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  /** `forward` before its errors are located. */
  private decode(tgt: Tensor, memory: Tensor, options: TransformerDecoderLayerForwardOptions = {}): Tensor {
    const selfBlock = (x: Tensor) => {
      const [y] = this.selfAttn.forward(x, x, x, {
        ...(options.tgtMask === undefined ? {} : { attnMask: options.tgtMask }),
        ...(options.tgtKeyPaddingMask === undefined ? {} : { keyPaddingMask: options.tgtKeyPaddingMask }),
        ...(options.tgtIsCausal === undefined ? {} : { isCausal: options.tgtIsCausal }),
        needWeights: false,
      });
      return this.dropout1.forward(y);
    };
    const crossBlock = (x: Tensor) => {
      const [y] = this.multiheadAttn.forward(x, memory, memory, {
        ...(options.memoryMask === undefined ? {} : { attnMask: options.memoryMask }),
        ...(options.memoryKeyPaddingMask === undefined ? {} : { keyPaddingMask: options.memoryKeyPaddingMask }),
        ...(options.memoryIsCausal === undefined ? {} : { isCausal: options.memoryIsCausal }),
        needWeights: false,
      });
      return this.dropout2.forward(y);
    };
    const ff = (x: Tensor) => this.dropout3.forward(this.feedForward(x));
    let x = tgt;
    if (this.config.normFirst) {
      x = x.add(selfBlock(this.norm1.forward(x)));
      x = x.add(crossBlock(this.norm2.forward(x)));
      return x.add(ff(this.norm3.forward(x)));
    }
    x = this.norm1.forward(x.add(selfBlock(x)));
    x = this.norm2.forward(x.add(crossBlock(x)));
    return this.norm3.forward(x.add(ff(x)));
  }

  /** A new layer of the same configuration with a copy of these weights. @example layer.clone() */
  clone(): TransformerDecoderLayer {
    const copy = new TransformerDecoderLayer(this.config.dModel, this.config.nhead, optionsOf(this.config));
    copy.loadStateDict(this.stateDict());
    copy.train(this.training);
    return copy;
  }
}


