// Attention and transformer encoders as MatMul, Softmax, Add and LayerNormalization nodes (ONNX's
// Attention operator is opset 23, past the opsets exported). exportOnnx gives a model one input,
// so attention is self-attention of that input without masks: MultiheadAttention as
// forward(x, x, x), a TransformerEncoderLayer or TransformerEncoder as forward(x).
import { ShapeError, type Tensor } from '@chainrule/autograd';
import type { AnyModule } from '../module.js';
import { GELU } from '../layers/activations.js';
import { MultiheadAttention } from '../layers/attention.js';
import { TransformerDecoderLayer, TransformerEncoderLayer } from '../layers/transformer-layers.js';
import { Transformer, TransformerDecoder, TransformerEncoder } from '../layers/transformer.js';
import { LearnedPositionalEmbedding, SinusoidalPositionalEncoding, sinusoidalPositionalEncoding } from '../layers/positional.js';
import type { SymValue } from './graph.js';
import { OnnxExportError, at, checkDtype, describeModule, formatDims, join, register, type ExportContext } from './layers.js';
import { reshape } from './shape.js';

/** [rows, cols] row-major values transposed, for MatMul's [in, out] weight. */
function transposed(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j]!;
  return out;
}

/** Checks `x` is [seq, batch, E] ([batch, seq, E] when batchFirst) or unbatched [seq, E]. */
function checkSequence(m: MultiheadAttention | TransformerEncoderLayer, path: string, x: SymValue, e: number): void {
  const last = x.shape.at(-1);
  if ((x.shape.length !== 2 && x.shape.length !== 3) || (typeof last === 'number' && last !== e)) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} expects ${m.batchFirst ? '[batch, seq, ' : '[seq, batch, '}${e}] or [seq, ${e}], got shape ${formatDims(x.shape)}`);
  }
}

// forward(x, x, x) without masks: the projections, heads, softmax(q·kᵀ/√d)·v and out_proj. Its
// output is the first of forward's pair; the averaged attention weights are not a graph output.
register(MultiheadAttention, (m, path, x, ctx) => {
  const e = m.embedDim, h = m.numHeads, d = e / h;
  checkSequence(m, path, x, e);
  if (m.kdim !== e || m.vdim !== e) {
    throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} with kdim=${m.kdim}, vdim=${m.vdim} is not supported: the graph's one input is query, key and value, of embedDim=${e} features`);
  }
  if (m.addBiasKv || m.addZeroAttn) {
    const options = [m.addBiasKv ? 'addBiasKv' : '', m.addZeroAttn ? 'addZeroAttn' : ''].filter((o) => o !== '').join(' and ');
    throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} with ${options} is not supported: exportOnnx writes attention over the input's own keys and values only`);
  }
  const g = ctx.graph;
  const params = new Map(m.namedParameters());
  const w = params.get('in_proj_weight')!;
  const b = params.get('in_proj_bias') ?? null;
  checkDtype(ctx, path, m, 'in_proj_weight', w);
  if (b !== null) checkDtype(ctx, path, m, 'in_proj_bias', b);
  // Work in [batch, seq, E], where the heads split off.
  const unbatched = x.shape.length === 2;
  let y: SymValue = x;
  if (unbatched) y = { name: g.node('Unsqueeze', [x.name, g.int64s([0])], at(path, 'Unsqueeze')), shape: [1, ...x.shape] };
  else if (!m.batchFirst) y = { name: g.node('Transpose', [x.name], at(path, 'Transpose'), { perm: { ints: [1, 0, 2] } }), shape: [x.shape[1]!, x.shape[0]!, e] };
  // The three projections from row blocks of in_proj_weight [3E, E], stored as MatMul's [E, E].
  const project = (i: number, label: string): SymValue => {
    const wi = g.tensor(join(path, `in_proj_weight_${label}_t`), w, `in_proj_${label}`, () => ({ values: transposed(w.data.subarray(i * e * e, (i + 1) * e * e), e, e), shape: [e, e] }));
    let p = g.node('MatMul', [y.name, wi], at(path, `MatMul_${label}`));
    if (b !== null) {
      const bi = g.tensor(join(path, `in_proj_bias_${label}`), b, `in_proj_${label}`, () => ({ values: b.data.subarray(i * e, (i + 1) * e), shape: [e] }));
      p = g.node('Add', [p, bi], at(path, `Add_${label}`));
    }
    // [batch, seq, E] -> [batch, seq, heads, d]
    return reshape(ctx, path, { name: p, shape: y.shape }, [{ axis: 0 }, { axis: 1 }, h, d], [y.shape[0]!, y.shape[1]!, h, d]);
  };
  // Scaled before the product, as autograd's attention scales the query.
  const q = g.node('Mul', [g.node('Transpose', [project(0, 'q').name], at(path, 'Transpose_q'), { perm: { ints: [0, 2, 1, 3] } }), g.constant(1 / Math.sqrt(d))], at(path, 'Scale'));
  const kt = g.node('Transpose', [project(1, 'k').name], at(path, 'Transpose_k'), { perm: { ints: [0, 2, 3, 1] } });
  const v = g.node('Transpose', [project(2, 'v').name], at(path, 'Transpose_v'), { perm: { ints: [0, 2, 1, 3] } });
  const scores = g.node('MatMul', [q, kt], at(path, 'MatMul_scores'));
  const weights = g.node('Softmax', [scores], at(path, 'Softmax'), { axis: { int: -1 } });
  const attended = g.node('Transpose', [g.node('MatMul', [weights, v], at(path, 'MatMul_attend'))], at(path, 'Transpose_heads'), { perm: { ints: [0, 2, 1, 3] } });
  const merged = reshape(ctx, path, { name: attended, shape: [y.shape[0]!, y.shape[1]!, h, d] }, [{ axis: 0 }, { axis: 1 }, e], y.shape);
  const out = ctx.emit(m.outProj, join(path, 'out_proj'), merged);
  if (unbatched) return { name: g.node('Squeeze', [out.name, g.int64s([0])], at(path, 'Squeeze')), shape: x.shape };
  if (!m.batchFirst) return { name: g.node('Transpose', [out.name], at(path, 'Transpose'), { perm: { ints: [1, 0, 2] } }), shape: x.shape };
  return { name: out.name, shape: x.shape };
});

function add(ctx: ExportContext, path: string, a: SymValue, b: SymValue): SymValue {
  return { name: ctx.graph.node('Add', [a.name, b.name], at(path, 'Add')), shape: a.shape };
}

// forward(x) without masks; dropout is left out, as everywhere in an inference graph.
register(TransformerEncoderLayer, (m, path, x, ctx) => {
  checkSequence(m, path, x, m.dModel);
  const { activation } = m;
  if (typeof activation === 'function') {
    throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} with a function as its activation is not supported (only 'relu' and 'gelu')`);
  }
  const sub = (name: string) => join(path, name);
  const attend = (v: SymValue) => ctx.emit(m.selfAttn, sub('self_attn'), v);
  const feedForward = (v: SymValue) => {
    const hidden = ctx.emit(m.linear1, sub('linear1'), v);
    const activated = activation === 'relu'
      ? { name: ctx.graph.node('Relu', [hidden.name], at(sub('activation'), 'Relu')), shape: hidden.shape }
      : ctx.emit(new GELU(), sub('activation'), hidden);
    return ctx.emit(m.linear2, sub('linear2'), activated);
  };
  const norm1 = (v: SymValue) => ctx.emit(m.norm1, sub('norm1'), v);
  const norm2 = (v: SymValue) => ctx.emit(m.norm2, sub('norm2'), v);
  if (m.normFirst) {
    const h = add(ctx, path, x, attend(norm1(x)));
    return add(ctx, path, h, feedForward(norm2(h)));
  }
  const h = norm1(add(ctx, path, x, attend(x)));
  return norm2(add(ctx, path, h, feedForward(h)));
});

register(TransformerEncoder, (m, path, x, ctx) => {
  let y = x;
  for (const [i, layer] of [...m.layers].entries()) y = ctx.emit(layer, join(path, `layers.${i}`), y);
  return m.norm === null ? y : ctx.emit(m.norm, join(path, 'norm'), y);
});

/**
 * x + table[:seq], the table placed along x's sequence axis. A sequence length known at export
 * takes those rows as they are; a dynamic one slices the table at run time (Shape, Slice).
 */
function addPositions(ctx: ExportContext, path: string, module: SinusoidalPositionalEncoding | LearnedPositionalEmbedding, x: SymValue, table: (rows: number) => { values: ArrayLike<number>; key: Tensor | null }): SymValue {
  const { dModel, maxLen, batchFirst } = module;
  const r = x.shape.length;
  const seqAxis = r === 3 && !batchFirst ? 0 : r - 2;
  const seq = x.shape[seqAxis];
  if ((r !== 2 && r !== 3) || (typeof x.shape[r - 1] === 'number' && x.shape[r - 1] !== dModel) || (typeof seq === 'number' && seq > maxLen)) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, module)} expects ${batchFirst ? '[batch, seq, ' : '[seq, batch, '}${dModel}] or [seq, ${dModel}] with seq at most ${maxLen}, got shape ${formatDims(x.shape)}`);
  }
  const g = ctx.graph;
  // Seq-first batches broadcast a [seq, 1, dModel] table over the batch axis.
  const placed = (rows: number) => (r === 3 && !batchFirst ? [rows, 1, dModel] : [rows, dModel]);
  const rows = typeof seq === 'number' ? seq : maxLen;
  const { values, key } = table(rows);
  const name = join(path, 'weight');
  const stored = key === null ? g.initializer(name, values, placed(rows)) : g.tensor(name, key, `positions${rows},${r},${batchFirst}`, () => ({ values, shape: placed(rows) }));
  let positions = stored;
  if (typeof seq !== 'number') {
    const length = g.node('Shape', [x.name], at(path, 'Shape'), { start: { int: seqAxis }, end: { int: seqAxis + 1 } });
    positions = g.node('Slice', [stored, g.int64s([0]), length, g.int64s([0])], at(path, 'Slice'));
  }
  return { name: g.node('Add', [x.name, positions], at(path, 'Add')), shape: x.shape };
}

register(SinusoidalPositionalEncoding, (m, path, x, ctx) =>
  addPositions(ctx, path, m, x, (rows) => ({ values: sinusoidalPositionalEncoding(rows, m.dModel, { dtype: ctx.graph.dtype === 'float64' ? 'float64' : 'float32' }).data, key: null })));

register(LearnedPositionalEmbedding, (m, path, x, ctx) => {
  checkDtype(ctx, path, m, 'weight', m.weight);
  return addPositions(ctx, path, m, x, (rows) => ({ values: m.weight.data.subarray(0, rows * m.dModel), key: m.weight }));
});

// The decoder side attends to a second input, the encoder's memory: a graph of one input cannot.
function twoInputs(m: AnyModule, path: string): never {
  throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} is not supported: its forward takes a target and a memory, and an exported graph has one input`);
}
register(TransformerDecoderLayer, twoInputs);
register(TransformerDecoder, twoInputs);
register(Transformer, twoInputs);
