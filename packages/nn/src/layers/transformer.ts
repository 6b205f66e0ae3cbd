import { ArgumentError, Generator, ShapeError, full, type FloatDType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { xavierUniform } from '../init.js';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';
import { ModuleList } from './containers.js';
import { LayerNorm } from './layer-norm.js';
import {
  TransformerDecoderLayer, TransformerEncoderLayer,
  type TransformerDecoderLayerForwardOptions, type TransformerEncoderLayerForwardOptions, type TransformerLayerOptions,
} from './transformer-layers.js';

/** Options of `TransformerEncoder` and `TransformerDecoder`. */
export interface TransformerStackOptions {
  /** A LayerNorm applied to the last layer's output (PyTorch's `norm`; default none). */
  norm?: LayerNorm;
}

/**
 * A stack of `numLayers` copies of an encoder layer, as `torch.nn.TransformerEncoder`: the layer
 * is cloned (same configuration and initial weights, as PyTorch's deepcopy), each copy feeding the
 * next, then the optional final `norm`. State-dict keys `layers.0.self_attn.in_proj_weight`, ...,
 * `norm.weight`, as PyTorch's.
 * @example
 * const encoder = new TransformerEncoder(new TransformerEncoderLayer(128, 4, { batchFirst: true }), 2);
 * encoder.forward(x, { isCausal: true })
 */
export class TransformerEncoder extends Module<[Tensor, TransformerEncoderLayerForwardOptions?], Tensor> {
  /** The layers, in order (`layers.0`, `layers.1`, ...). */
  readonly layers: ModuleList<TransformerEncoderLayer>;
  /** The final LayerNorm, or null. */
  readonly norm: LayerNorm | null;

  /**
   * @param encoderLayer - the layer to copy (it is not itself part of the stack).
   * @param numLayers - number of copies.
   * @throws ArgumentError if numLayers is not a non-negative integer or encoderLayer is not a TransformerEncoderLayer.
   */
  constructor(encoderLayer: TransformerEncoderLayer, numLayers: number, options: TransformerStackOptions = {}) {
    super();
    if (!(encoderLayer instanceof TransformerEncoderLayer)) throw new ArgumentError('TransformerEncoder: encoderLayer must be a TransformerEncoderLayer');
    if (!Number.isInteger(numLayers) || numLayers < 0) throw new ArgumentError(`TransformerEncoder: numLayers must be a non-negative integer, got ${numLayers}`);
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: numLayers }, () => encoderLayer.clone())));
    this.norm = options.norm === undefined ? null : this.registerModule('norm', options.norm);
  }

  /**
   * Runs `src` through every layer with the same masks (`mask`, `srcKeyPaddingMask`, `isCausal`),
   * then the final norm; returns src's shape.
   * @throws ShapeError or DTypeError from the layers for inputs or masks that do not fit.
   */
  forward(src: Tensor, options: TransformerEncoderLayerForwardOptions = {}): Tensor {
    let x = src;
    try {
      for (const layer of this.layers) x = layer.forward(x, options);
      return this.norm === null ? x : this.norm.forward(x);
    } catch (e) {
      throw locateError(this, e);
    }
  }
}

/**
 * A stack of `numLayers` copies of a decoder layer, as `torch.nn.TransformerDecoder`; each copy
 * attends to the same `memory`; then the optional final `norm`. Keys `layers.0....`, `norm.weight`.
 * @example new TransformerDecoder(new TransformerDecoderLayer(128, 4), 2).forward(tgt, memory, { tgtIsCausal: true })
 */
export class TransformerDecoder extends Module<[Tensor, Tensor, TransformerDecoderLayerForwardOptions?], Tensor> {
  /** The layers, in order. */
  readonly layers: ModuleList<TransformerDecoderLayer>;
  /** The final LayerNorm, or null. */
  readonly norm: LayerNorm | null;

  /**
   * @param decoderLayer - the layer to copy.
   * @param numLayers - number of copies.
   * @throws ArgumentError if numLayers is not a non-negative integer or decoderLayer is not a TransformerDecoderLayer.
   */
  constructor(decoderLayer: TransformerDecoderLayer, numLayers: number, options: TransformerStackOptions = {}) {
    super();
    if (!(decoderLayer instanceof TransformerDecoderLayer)) throw new ArgumentError('TransformerDecoder: decoderLayer must be a TransformerDecoderLayer');
    if (!Number.isInteger(numLayers) || numLayers < 0) throw new ArgumentError(`TransformerDecoder: numLayers must be a non-negative integer, got ${numLayers}`);
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: numLayers }, () => decoderLayer.clone())));
    this.norm = options.norm === undefined ? null : this.registerModule('norm', options.norm);
  }

  /**
   * Runs `tgt` through every layer, each attending to `memory`, then the final norm; returns tgt's shape.
   * @throws ShapeError or DTypeError from the layers for inputs or masks that do not fit.
   */
  forward(tgt: Tensor, memory: Tensor, options: TransformerDecoderLayerForwardOptions = {}): Tensor {
    let x = tgt;
    try {
      for (const layer of this.layers) x = layer.forward(x, memory, options);
      return this.norm === null ? x : this.norm.forward(x);
    } catch (e) {
      throw locateError(this, e);
    }
  }
}

/** Options of `Transformer`, PyTorch's defaults: its layers' options and the sizes of the stacks. */
export interface TransformerOptions extends TransformerLayerOptions {
  /** Model width (default 512). */
  dModel?: number;
  /** Attention heads (default 8). */
  nhead?: number;
  /** Encoder layers (default 6). */
  numEncoderLayers?: number;
  /** Decoder layers (default 6). */
  numDecoderLayers?: number;
}

/** Options of `Transformer.forward`, PyTorch's argument names in camelCase. */
export interface TransformerForwardOptions extends TransformerDecoderLayerForwardOptions {
  /** Encoder self-attention mask [S, S] or [batch·nhead, S, S]. */
  srcMask?: Tensor;
  /** Shape [batch, S]: true at source padding. */
  srcKeyPaddingMask?: Tensor;
  /** Causal encoder self-attention. */
  srcIsCausal?: boolean;
}

/**
 * The encoder-decoder transformer of "Attention is all you need", as `torch.nn.Transformer`: an
 * encoder of `numEncoderLayers` layers and a final LayerNorm, a decoder of `numDecoderLayers`
 * layers and a final LayerNorm; every parameter of two or more dimensions re-drawn with
 * xavier_uniform, as PyTorch's `_reset_parameters`. PyTorch's defaults and state-dict keys
 * (`encoder.layers.0.self_attn.in_proj_weight`, `decoder.norm.weight`, ...). Embeddings, positional
 * encodings and the output projection are the caller's, as in PyTorch.
 * @example
 * const model = new Transformer({ dModel: 64, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2, batchFirst: true });
 * model.forward(src, tgt, { tgtMask: Transformer.generateSquareSubsequentMask(tgt.shape[1]!) })
 */
export class Transformer extends Module<[Tensor, Tensor, TransformerForwardOptions?], Tensor> {
  /** The encoder (`encoder.*`). */
  readonly encoder: TransformerEncoder;
  /** The decoder (`decoder.*`). */
  readonly decoder: TransformerDecoder;
  /** Model width. */
  readonly dModel: number;
  /** Attention heads. */
  readonly nhead: number;
  /** Whether inputs are [batch, seq, feature]. */
  readonly batchFirst: boolean;

  /** @throws ArgumentError for sizes that are not positive integers, nhead not dividing dModel, or other bad options (as the layers). */
  constructor(options: TransformerOptions = {}) {
    super();
    const { dModel = 512, nhead = 8, numEncoderLayers = 6, numDecoderLayers = 6, layerNormEps = 1e-5, batchFirst = false, bias = true, dtype = 'float32' } = options;
    const generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
    const layerOptions = {
      ...(options.dimFeedforward === undefined ? {} : { dimFeedforward: options.dimFeedforward }),
      ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
      ...(options.activation === undefined ? {} : { activation: options.activation }),
      ...(options.normFirst === undefined ? {} : { normFirst: options.normFirst }),
      layerNormEps, batchFirst, bias, dtype, ...(generator === undefined ? {} : { generator }),
    };
    const norm = () => new LayerNorm(dModel, { eps: layerNormEps, bias, dtype });
    this.dModel = dModel;
    this.nhead = nhead;
    this.batchFirst = batchFirst;
    this.encoder = this.registerModule('encoder', new TransformerEncoder(new TransformerEncoderLayer(dModel, nhead, layerOptions), numEncoderLayers, { norm: norm() }));
    this.decoder = this.registerModule('decoder', new TransformerDecoder(new TransformerDecoderLayer(dModel, nhead, layerOptions), numDecoderLayers, { norm: norm() }));
    const source = generator === undefined ? {} : { generator };
    for (const [, p] of this.namedParameters()) if (p.ndim > 1) xavierUniform(p, source);
  }

  /**
   * Encodes `src` and decodes `tgt` attending to it: src [S, N, E], tgt [T, N, E] ([N, S, E] and
   * [N, T, E] when batchFirst; [S, E] and [T, E] unbatched). Returns [T, N, E] (tgt's shape).
   * @throws ShapeError if src and tgt differ in rank, batch size or feature size (dModel), and as the layers for masks.
   */
  forward(src: Tensor, tgt: Tensor, options: TransformerForwardOptions = {}): Tensor {
    try {
      return this.transform(src, tgt, options);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  /** `forward` before its errors are located. */
  private transform(src: Tensor, tgt: Tensor, options: TransformerForwardOptions = {}): Tensor {
    const batchAxis = this.batchFirst ? 0 : 1;
    if (src.ndim !== tgt.ndim || (src.ndim === 3 && src.shape[batchAxis] !== tgt.shape[batchAxis])) {
      throw new ShapeError(`Transformer: src and tgt must have the same rank and batch size; got src ${formatShape(src.shape)} and tgt ${formatShape(tgt.shape)} (batchFirst=${this.batchFirst})`);
    }
    if (src.shape[src.ndim - 1] !== this.dModel || tgt.shape[tgt.ndim - 1] !== this.dModel) {
      throw new ShapeError(`Transformer: the feature size of src and tgt must be dModel ${this.dModel}; got src ${formatShape(src.shape)} and tgt ${formatShape(tgt.shape)}`);
    }
    const { srcMask, srcKeyPaddingMask, srcIsCausal, ...decoderOptions } = options;
    const memory = this.encoder.forward(src, {
      ...(srcMask === undefined ? {} : { mask: srcMask }),
      ...(srcKeyPaddingMask === undefined ? {} : { srcKeyPaddingMask }),
      ...(srcIsCausal === undefined ? {} : { isCausal: srcIsCausal }),
    });
    return this.decoder.forward(tgt, memory, decoderOptions);
  }

  /**
   * A float [size, size] mask, -Infinity above the diagonal and 0 elsewhere (PyTorch's
   * `generate_square_subsequent_mask`): position i attends to positions ≤ i.
   * @throws ArgumentError if size is not a non-negative integer.
   * @example Transformer.generateSquareSubsequentMask(4)
   */
  static generateSquareSubsequentMask(size: number, options: { dtype?: FloatDType } = {}): Tensor {
    if (!Number.isInteger(size) || size < 0) throw new ArgumentError(`Transformer.generateSquareSubsequentMask: size must be a non-negative integer, got ${size}`);
    return full([size, size], -Infinity, { dtype: options.dtype ?? 'float32' }).triu(1);
  }
}
