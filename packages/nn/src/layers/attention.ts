import {
  ArgumentError, DTypeError, Generator, ShapeError, attentionWeights, concat, linear, logicalNot, ones, scaledDotProductAttention, zeros,
  type DType, type Tensor,
} from '@chainrule/autograd';
import { Module } from '../module.js';
import { xavierNormal, xavierUniform, zeros as fillZeros } from '../init.js';
import { formatShape } from '../format.js';
import { locateError } from '../locate.js';
import { Linear } from './linear.js';

/** Options of `MultiheadAttention`. */
export interface MultiheadAttentionOptions {
  /** Probability of dropping an attention weight in training (default 0). */
  dropout?: number;
  /** Learn the input and output projection biases (default true). */
  bias?: boolean;
  /** Size of the keys' features (default embedDim). */
  kdim?: number;
  /** Size of the values' features (default embedDim). */
  vdim?: number;
  /** Inputs and output are [batch, seq, feature] (default false: [seq, batch, feature], PyTorch's default). */
  batchFirst?: boolean;
  /**
   * Learn `bias_k` and `bias_v` [1, 1, embedDim], appended to every sequence's projected keys and
   * values as one more key that every query may attend (PyTorch's add_bias_kv; default false).
   */
  addBiasKv?: boolean;
  /**
   * Append one more key and value of zeros, after the bias ones, that every query may attend
   * (PyTorch's add_zero_attn; default false).
   */
  addZeroAttn?: boolean;
  /** dtype of the parameters (default 'float32'). */
  dtype?: DType;
  /** Seed of a fresh generator for the initialisation and then the dropout masks. */
  seed?: number;
  /** Generator of the initialisation and dropout masks (takes precedence over `seed`); share one across a model. */
  generator?: Generator;
}

/** Options of `MultiheadAttention.forward`, PyTorch's keyword arguments in camelCase. */
export interface MultiheadAttentionForwardOptions {
  /**
   * Shape [batch, S] (or [S] unbatched): bool, true where a key is padding and must be ignored (PyTorch's
   * sense, the opposite of `scaledDotProductAttention`'s mask), or a float mask added to the scores.
   */
  keyPaddingMask?: Tensor;
  /**
   * Shape [L, S] or [batch·numHeads, L, S]: bool, true where attention is NOT allowed, or a float mask
   * added to the scores.
   */
  attnMask?: Tensor;
  /** Return the attention weights too (default true, as PyTorch); false skips computing them apart. */
  needWeights?: boolean;
  /** Average the returned weights over the heads (default true): [batch, L, S], else [batch, numHeads, L, S]. */
  averageAttnWeights?: boolean;
  /**
   * Causal attention: query i sees keys j ≤ i. Without `attnMask` the causal mask is built here;
   * with one, `attnMask` is used as it is (PyTorch's "hint" that it is causal).
   */
  isCausal?: boolean;
}

/**
 * Multi-head attention, as `torch.nn.MultiheadAttention`: the inputs are projected (PyTorch's
 * packed `in_proj_weight` [3E, E] and `in_proj_bias` [3E], or `q_proj_weight`, `k_proj_weight`,
 * `v_proj_weight` when kdim or vdim differ from E), split into `numHeads` heads of E/numHeads
 * features, attended with `scaledDotProductAttention` and projected back by `out_proj`.
 * Initialised as PyTorch: xavier_uniform for the input projections, zero biases, `out_proj.weight`
 * as a `Linear`'s, xavier_normal for `bias_k` and `bias_v` (with addBiasKv). `forward` returns
 * `[output, weights]` (weights null unless `needWeights`). With addBiasKv and addZeroAttn the
 * source gets one or two keys more, S' = S + 1 or S + 2 (weights are [..., L, S']): the masks are
 * given for the S keys of `key` and padded as PyTorch pads them, so the extra keys are never masked.
 * A query whose every key is masked gets output `out_proj.bias` (zero attention), not NaN.
 * @example
 * const mha = new MultiheadAttention(64, 4, { batchFirst: true, seed: 0 });
 * const [y] = mha.forward(x, x, x, { keyPaddingMask: pad, needWeights: false }); // x: [batch, L, 64]
 */
export class MultiheadAttention extends Module<[Tensor, Tensor, Tensor, MultiheadAttentionForwardOptions?], [Tensor, Tensor | null]> {
  /** Size of the query features and of the output (E). */
  readonly embedDim: number;
  /** Number of heads; each has embedDim / numHeads features. */
  readonly numHeads: number;
  /** Size of the keys' features. */
  readonly kdim: number;
  /** Size of the values' features. */
  readonly vdim: number;
  /** Probability of dropping an attention weight in training. */
  readonly dropout: number;
  /** Whether inputs are [batch, seq, feature]. */
  readonly batchFirst: boolean;
  /** Whether the learned `bias_k`, `bias_v` are appended to the keys and values. */
  readonly addBiasKv: boolean;
  /** Whether a key and value of zeros are appended. */
  readonly addZeroAttn: boolean;
  /** The output projection (`out_proj.weight`, `out_proj.bias`). */
  readonly outProj: Linear;
  private readonly packed: boolean;
  private readonly hasBias: boolean;
  private readonly generator: Generator | undefined;

  /**
   * @param embedDim - size of the query features E (and of the output).
   * @param numHeads - number of heads; must divide embedDim.
   * @throws ArgumentError if a size is not a positive integer, numHeads does not divide embedDim, or dropout is not in [0, 1].
   */
  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const { dropout = 0, bias = true, kdim = embedDim, vdim = embedDim, batchFirst = false, addBiasKv = false, addZeroAttn = false, dtype = 'float32' } = options;
    for (const [name, v] of [['embedDim', embedDim], ['numHeads', numHeads], ['kdim', kdim], ['vdim', vdim]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`MultiheadAttention: ${name} must be a positive integer, got ${v}`);
    }
    if (embedDim % numHeads !== 0) throw new ArgumentError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1)) throw new ArgumentError(`MultiheadAttention: dropout must be in [0, 1], got ${dropout}`);
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.kdim = kdim;
    this.vdim = vdim;
    this.dropout = dropout;
    this.batchFirst = batchFirst;
    this.addBiasKv = addBiasKv;
    this.addZeroAttn = addZeroAttn;
    this.packed = kdim === embedDim && vdim === embedDim;
    this.hasBias = bias;
    // One generator for every draw, initialisation first, so a seed fixes the whole layer.
    this.generator = options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed));
    if (this.packed) {
      this.registerParameter('in_proj_weight', zeros([3 * embedDim, embedDim], { dtype }));
    } else {
      this.registerParameter('q_proj_weight', zeros([embedDim, embedDim], { dtype }));
      this.registerParameter('k_proj_weight', zeros([embedDim, kdim], { dtype }));
      this.registerParameter('v_proj_weight', zeros([embedDim, vdim], { dtype }));
    }
    if (bias) this.registerParameter('in_proj_bias', zeros([3 * embedDim], { dtype }));
    if (addBiasKv) {
      this.registerParameter('bias_k', zeros([1, 1, embedDim], { dtype }));
      this.registerParameter('bias_v', zeros([1, 1, embedDim], { dtype }));
    }
    this.outProj = this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias, dtype, ...(this.generator === undefined ? {} : { generator: this.generator }) }));
    this.resetParameters(this.generator);
  }

  /**
   * Re-draws the input projections (xavier_uniform), zeroes the biases and re-draws `bias_k` and
   * `bias_v` (xavier_normal), as PyTorch's `_reset_parameters` (which leaves `out_proj.weight` as
   * its Linear drew it).
   * @example mha.resetParameters(new Generator(1))
   */
  resetParameters(generator?: Generator): void {
    const source = generator === undefined ? {} : { generator };
    if (this.packed) xavierUniform(this.param('in_proj_weight'), source);
    else for (const name of ['q_proj_weight', 'k_proj_weight', 'v_proj_weight']) xavierUniform(this.param(name), source);
    if (this.hasBias) {
      fillZeros(this.param('in_proj_bias'));
      fillZeros(this.outProj.bias!);
    }
    if (this.addBiasKv) for (const name of ['bias_k', 'bias_v']) xavierNormal(this.param(name), source);
  }

  /**
   * Attends `query` [L, N, E] to `key` [S, N, kdim] and `value` [S, N, vdim] ([N, L, E] ... when
   * batchFirst; [L, E], [S, kdim], [S, vdim] unbatched). Returns `[output, weights]`: output
   * shaped as the query, weights [N, L, S'] (averaged over heads), [N, numHeads, L, S'], or null
   * when `needWeights` is false; S' is S plus one key for addBiasKv and one for addZeroAttn.
   * Masks cover the S keys given. Dropout applies in training only.
   * @throws ShapeError if an input's rank or feature size is wrong, the batch sizes or key and value
   * lengths differ, or a mask's shape is not one of those documented. DTypeError if the inputs'
   * dtype is not the layer's or a mask is neither bool nor that dtype.
   */
  forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    try {
      return this.attend(query, key, value, options);
    } catch (e) {
      throw locateError(this, e);
    }
  }

  /** `forward` before its errors are located. */
  private attend(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const { needWeights = true, averageAttnWeights = true, isCausal = false } = options;
    const name = `MultiheadAttention(embedDim=${this.embedDim}, numHeads=${this.numHeads})`;
    const dtype = this.outProj.weight.dtype;
    const inputs = () => `query ${formatShape(query.shape)}, key ${formatShape(key.shape)}, value ${formatShape(value.shape)}`;
    const batched = query.ndim === 3;
    const layout = !batched ? '[seq, ' : this.batchFirst ? '[batch, seq, ' : '[seq, batch, ';
    for (const [argName, t, features] of [['query', query, this.embedDim], ['key', key, this.kdim], ['value', value, this.vdim]] as const) {
      if (t.dtype !== dtype) throw new DTypeError(`${name}: ${argName} is ${t.dtype} but the layer is ${dtype}; got ${inputs()}`);
      if ((t.ndim !== 2 && t.ndim !== 3) || t.ndim !== query.ndim || t.shape[t.ndim - 1] !== features) {
        throw new ShapeError(`${name}: ${argName} must be ${layout}${features}] (rank 3, or 2 unbatched, as the query); got ${inputs()}`);
      }
    }
    // Work in [N, L, E], the layout the heads split from.
    const toBatchFirst = (t: Tensor) => (!batched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose(0, 1));
    const q0 = toBatchFirst(query);
    const k0 = key === query ? q0 : toBatchFirst(key);
    const v0 = value === key ? k0 : value === query ? q0 : toBatchFirst(value);
    const n = q0.shape[0]!, l = q0.shape[1]!, s = k0.shape[1]!;
    if (k0.shape[0] !== n || v0.shape[0] !== n) throw new ShapeError(`${name}: query, key and value must have the same batch size; got ${inputs()}`);
    if (v0.shape[1] !== s) throw new ShapeError(`${name}: key and value must have the same sequence length; got ${inputs()}`);

    const [q, kGiven, vGiven] = this.project(q0, k0, v0);
    const [k, v] = this.extraKeys(kGiven, vGiven);
    const sExtended = k.shape[1]!;
    const heads = (t: Tensor, len: number) => t.reshape([n, len, this.numHeads, this.embedDim / this.numHeads]).transpose(1, 2);
    const mask = this.mask(name, options, n, l, s, sExtended - s, batched, dtype, isCausal);
    const p = this.training ? this.dropout : 0;
    const sample = p > 0 && this.generator !== undefined ? { generator: this.generator } : {};
    const causalOnly = isCausal && mask === undefined;
    const attend = { ...(mask === undefined ? {} : { mask }), ...(causalOnly ? { isCausal: true } : {}), dropout: p, ...sample };
    // q, k and v keep their heads packed side by side ([N, L, E]): the attention ops read each head in place.
    const packed = { ...attend, heads: this.numHeads };
    let weights: Tensor | null = null;
    let attended: Tensor;
    if (needWeights) {
      weights = attentionWeights(q, k, packed);
      attended = weights.matmul(heads(v, sExtended)).transpose(1, 2).reshape([n, l, this.embedDim]);
    } else {
      attended = scaledDotProductAttention(q, k, v, packed);
    }
    let out = this.outProj.forward(attended);
    out = !batched ? out.squeeze(0) : this.batchFirst ? out : out.transpose(0, 1);
    if (weights !== null) {
      if (averageAttnWeights) weights = weights.mean(1);
      if (!batched) weights = weights.squeeze(0);
    }
    return [out, weights];
  }

  /**
   * q, k, v projected, in [N, L, E], each by its own rows of the packed weight. Self-attention too
   * takes three products rather than one cut in three: the cut's copies forward and its padded,
   * summed gradients backward cost more than the one product saves.
   */
  private project(q0: Tensor, k0: Tensor, v0: Tensor): [Tensor, Tensor, Tensor] {
    const e = this.embedDim;
    const b = this.hasBias ? this.param('in_proj_bias') : null;
    const bias = (i: number) => (b === null ? null : b.narrow(0, i * e, e));
    if (this.packed) {
      const w = this.param('in_proj_weight');
      return [linear(q0, w.narrow(0, 0, e), bias(0)), linear(k0, w.narrow(0, e, e), bias(1)), linear(v0, w.narrow(0, 2 * e, e), bias(2))];
    }
    return [linear(q0, this.param('q_proj_weight'), bias(0)), linear(k0, this.param('k_proj_weight'), bias(1)), linear(v0, this.param('v_proj_weight'), bias(2))];
  }

  /**
   * The projected keys and values [N, S, E] with PyTorch's extra keys appended along the sequence:
   * `bias_k`/`bias_v` for each sequence (addBiasKv), then zeros (addZeroAttn). In [N, S, E] the
   * heads sit side by side, so a row of zeros is every head's zero key, as PyTorch's per-head one.
   */
  private extraKeys(k: Tensor, v: Tensor): [Tensor, Tensor] {
    const [n, , e] = k.shape as [number, number, number];
    if (this.addBiasKv) {
      k = concat([k, this.param('bias_k').expand([n, 1, e])], 1);
      v = concat([v, this.param('bias_v').expand([n, 1, e])], 1);
    }
    if (this.addZeroAttn) {
      k = concat([k, zeros([n, 1, e], { dtype: k.dtype })], 1);
      v = concat([v, zeros([n, 1, e], { dtype: v.dtype })], 1);
    }
    return [k, v];
  }

  /**
   * The two masks as one for `scaledDotProductAttention` ([N, H, L, S + extra] or broadcastable):
   * kept bool (true = attend) when both are bool, else summed as floats, -Infinity where
   * PyTorch's bool masks are true. Each mask covers the S keys given and is padded with `extra`
   * columns that mask nothing (false, or 0 added), PyTorch's padding for the appended keys; a
   * causal mask is then explicit, so that the extra keys stay visible to every query.
   */
  private mask(
    name: string, options: MultiheadAttentionForwardOptions, n: number, l: number, s: number, extra: number, batched: boolean, dtype: DType, isCausal: boolean,
  ): Tensor | undefined {
    const { keyPaddingMask: kpm, attnMask: am } = options;
    const parts: Tensor[] = [];
    if (am !== undefined) {
      checkMaskDType(name, 'attnMask', am, dtype);
      const h = this.numHeads;
      if (am.ndim === 2 && am.shape[0] === l && am.shape[1] === s) parts.push(am);
      else if (am.ndim === 3 && am.shape[0] === n * h && am.shape[1] === l && am.shape[2] === s) parts.push(am.reshape([n, h, l, s]));
      else throw new ShapeError(`${name}: attnMask must be [L, S] = [${l},${s}] or [batch·numHeads, L, S] = [${n * h},${l},${s}], got ${formatShape(am.shape)}`);
    }
    if (kpm !== undefined) {
      checkMaskDType(name, 'keyPaddingMask', kpm, dtype);
      const want = batched ? [n, s] : [s];
      if (kpm.ndim !== want.length || kpm.shape.some((d, i) => d !== want[i])) {
        throw new ShapeError(`${name}: keyPaddingMask must be ${batched ? '[batch, S]' : '[S]'} = ${formatShape(want)}, got ${formatShape(kpm.shape)}`);
      }
      parts.push(kpm.reshape([n, 1, 1, s]));
    }
    if (parts.length === 0 && !(isCausal && extra > 0)) return undefined;
    // Causal and another mask or extra keys: the causal mask joins the others (true = not allowed, as theirs).
    if (isCausal && am === undefined) parts.push(ones([l, s], { dtype: 'bool' }).triu(1));
    if (extra > 0) {
      for (let i = 0; i < parts.length; i++) {
        const m = parts[i]!;
        parts[i] = concat([m, zeros([...m.shape.slice(0, -1), extra], { dtype: m.dtype })], -1);
      }
    }
    if (parts.every((m) => m.dtype === 'bool')) return logicalNot(parts.reduce((a, m) => a.logicalOr(m)));
    return parts.map((m) => (m.dtype === 'bool' ? zeros(m.shape, { dtype }).maskedFill(m, -Infinity) : m)).reduce((a, m) => a.add(m));
  }

  protected override describe(): string {
    const extra = [this.addBiasKv ? ', addBiasKv=true' : '', this.addZeroAttn ? ', addZeroAttn=true' : ''].join('');
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}${extra}`;
  }
}

function checkMaskDType(name: string, arg: string, m: Tensor, dtype: DType): void {
  if (m.dtype !== 'bool' && m.dtype !== dtype) {
    throw new DTypeError(`${name}: ${arg} must be bool or ${dtype} (the layer's dtype), got ${m.dtype} of shape ${formatShape(m.shape)}`);
  }
}
