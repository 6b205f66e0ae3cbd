import { ArgumentError, Generator, embedding, incrementVersion, zeros, type DType, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { asLayer } from '../format.js';
import { normal } from '../init.js';

/** Options of `Embedding` (PyTorch's defaults). */
export interface EmbeddingLayerOptions {
  /**
   * A row (negative counts from the end) that is initialised to zeros and gets no gradient, so
   * it stays as it is under training: the vector of a padding token.
   */
  paddingIdx?: number | null;
  /** When set, each row looked up whose norm exceeds this is first rescaled in place to this norm, as PyTorch's max_norm. */
  maxNorm?: number | null;
  /** The p of the norm maxNorm bounds (default 2; Infinity for the largest magnitude). */
  normType?: number;
  /** dtype of the weight (default 'float32'). */
  dtype?: DType;
  /** Seed of the initialisation (a fresh generator). */
  seed?: number;
  /** Generator of the initialisation (takes precedence over `seed`). */
  generator?: Generator;
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim`, as PyTorch's `nn.Embedding`:
 * `forward(indices)` maps int32 indices of any shape to [...indices.shape, embeddingDim]. The
 * weight is drawn from N(0, 1) (the paddingIdx row then zeroed); its gradient is a scatter-add
 * of the output's rows (repeats summed). PyTorch's scale_grad_by_freq and sparse gradients are
 * not offered.
 * @example const emb = new Embedding(1000, 64, { paddingIdx: 0, seed: 0 }); emb.forward(tokens) // [B, T] -> [B, T, 64]
 */
export class Embedding extends Module {
  /** Number of rows. */
  readonly numEmbeddings: number;
  /** Size of each row. */
  readonly embeddingDim: number;
  /** The padding row, counted from the start (a negative paddingIdx given is converted), or null. */
  readonly paddingIdx: number | null;
  /** The norm bound of looked-up rows, or null. */
  readonly maxNorm: number | null;
  /** The p of the norm maxNorm bounds. */
  readonly normType: number;

  /**
   * @throws ArgumentError if a size is not a non-negative integer, paddingIdx is not an integer in
   * [-numEmbeddings, numEmbeddings), maxNorm is negative, or normType is not positive.
   */
  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingLayerOptions = {}) {
    super();
    for (const [name, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`Embedding: ${name} must be a non-negative integer, got ${v}`);
    }
    const { paddingIdx = null, maxNorm = null, normType = 2, dtype = 'float32' } = options;
    if (paddingIdx !== null && !(Number.isInteger(paddingIdx) && paddingIdx >= -numEmbeddings && paddingIdx < numEmbeddings)) {
      throw new ArgumentError(`Embedding: paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${paddingIdx}`);
    }
    if (maxNorm !== null && !(maxNorm >= 0)) throw new ArgumentError(`Embedding: maxNorm must be >= 0 or null, got ${maxNorm}`);
    if (!(normType > 0)) throw new ArgumentError(`Embedding: normType must be > 0, got ${normType}`);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = paddingIdx === null ? null : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
    this.maxNorm = maxNorm;
    this.normType = normType;
    this.registerParameter('weight', zeros([numEmbeddings, embeddingDim], { dtype }));
    this.resetParameters(options.generator ?? (options.seed === undefined ? undefined : new Generator(options.seed)));
  }

  /** The [numEmbeddings, embeddingDim] table. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** Re-draws the table from N(0, 1) in place and zeroes the padding row. @example emb.resetParameters(new Generator(1)) */
  resetParameters(generator?: Generator): void {
    normal(this.weight, 0, 1, { generator });
    if (this.paddingIdx !== null) {
      const d = this.embeddingDim;
      this.weight.data.fill(0, this.paddingIdx * d, (this.paddingIdx + 1) * d);
    }
  }

  /**
   * The rows of the table at `indices` (int32, any shape; negative count from the end): the
   * result is [...indices.shape, embeddingDim]. With maxNorm, the rows looked up are first
   * renormalised in place (outside the graph), as PyTorch.
   * @throws DTypeError if `indices` is not int32; ShapeError for an index outside [-numEmbeddings, numEmbeddings). Both name this layer.
   */
  forward(indices: Tensor): Tensor {
    const weight = this.weight;
    return asLayer(this, () => {
      if (this.maxNorm !== null && indices.dtype === 'int32') this.renormalize(weight, indices.data as Int32Array);
      return embedding(weight, indices, this.paddingIdx === null ? {} : { paddingIdx: this.paddingIdx });
    });
  }

  /** PyTorch's embedding_renorm_: each distinct row looked up with norm > maxNorm is scaled by maxNorm / (norm + 1e-7). */
  private renormalize(weight: Tensor, indices: Int32Array): void {
    const n = this.numEmbeddings, d = this.embeddingDim, p = this.normType, w = weight.data;
    // Out-of-range indices leave the table alone: the lookup that follows reports them.
    if (indices.some((i) => i < -n || i >= n)) return;
    const rows = new Set<number>();
    for (const i of indices) rows.add(i < 0 ? i + n : i);
    let changed = false;
    for (const r of rows) {
      let norm = 0;
      for (let j = r * d; j < (r + 1) * d; j++) norm = p === Infinity ? Math.max(norm, Math.abs(w[j]!)) : norm + Math.abs(w[j]!) ** p;
      if (p !== Infinity) norm **= 1 / p;
      if (norm > this.maxNorm!) {
        const scale = this.maxNorm! / (norm + 1e-7);
        for (let j = r * d; j < (r + 1) * d; j++) w[j] = w[j]! * scale;
        changed = true;
      }
    }
    if (changed) incrementVersion(weight);
  }

  protected override describe(): string {
    const parts = [`${this.numEmbeddings}`, `${this.embeddingDim}`];
    if (this.paddingIdx !== null) parts.push(`paddingIdx=${this.paddingIdx}`);
    if (this.maxNorm !== null) parts.push(`maxNorm=${this.maxNorm}`);
    if (this.normType !== 2) parts.push(`normType=${this.normType}`);
    return parts.join(', ');
  }
}
