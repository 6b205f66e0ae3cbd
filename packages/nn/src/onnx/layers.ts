// How each built-in module becomes ONNX nodes. Modules are matched by exact class, never by
// instanceof, and their forward must be the class's own: a subclass or a replaced forward may
// compute something else, and exporting it as the built-in layer would be silently wrong.
import { DTypeError, ShapeError, type Tensor } from '@chainrule/autograd';
import type { AnyModule } from '../module.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../layers/sequential.js';
import { MLP } from '../layers/mlp.js';
import { GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh } from '../layers/activations.js';
import { Dropout } from '../layers/dropout.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { BatchNorm1d, type NormBase } from '../layers/batch-norm.js';
import { GRU, LSTM, RNN, type RNNBase } from '../layers/rnn.js';
import type { Attribute, GraphBuilder, SymDim, SymValue } from './graph.js';

/** A module exportOnnx cannot express in ONNX; the message names the module and its path. @example try { exportOnnx(net, opts) } catch (e) { if (e instanceof OnnxExportError) ... } */
export class OnnxExportError extends TypeError {
  /** Always 'OnnxExportError'. */
  override name = 'OnnxExportError';
}

/** What an exporter may use besides its module and input. */
export interface ExportContext {
  readonly graph: GraphBuilder;
  readonly opset: number;
  /** Exports a child module (for containers). */
  emit(module: AnyModule, path: string, x: SymValue): SymValue;
}

/** How one module class becomes nodes: given the module, its path and its input, returns its output. */
export type LayerExporter<M extends AnyModule> = (module: M, path: string, x: SymValue, ctx: ExportContext) => SymValue;

type ModuleClass = abstract new (...args: never[]) => AnyModule;

// Keyed by constructor; a value's parameter type is the key's instance type (see `register`).
// Each entry keeps the class's forward as it was when registered: the exporter writes what that
// forward computes, so a module whose forward is another function cannot be exported by it.
// `indices` marks the classes that take an integer input (Embedding, and what passes one along).
const EXPORTERS = new Map<ModuleClass, { exporter: LayerExporter<AnyModule>; forward: AnyModule['forward']; indices: boolean }>();

/** Makes `exporter` the ONNX form of instances of exactly `cls` whose forward is the class's own. */
export function register<M extends AnyModule>(cls: abstract new (...args: never[]) => M, exporter: LayerExporter<M>, options: { indices?: boolean } = {}): void {
  EXPORTERS.set(cls, { exporter: exporter as LayerExporter<AnyModule>, forward: cls.prototype.forward, indices: options.indices ?? false });
}

/** `layers.2 (BatchNorm1d)`: how messages name a module. */
export function describeModule(path: string, module: AnyModule): string {
  return `${path === '' ? 'the model' : path} (${module.constructor.name})`;
}

/**
 * The exporter of `module`'s exact class, or a clear error naming it and its path. A subclass is
 * not its parent, and a forward replaced on the instance (`layer.forward = ...`) or on the class
 * after the fact is not the one the exporter writes: both are refused rather than exported wrong.
 */
export function exporterOf(module: AnyModule, path: string, x: SymValue): LayerExporter<AnyModule> {
  const entry = EXPORTERS.get(module.constructor as ModuleClass);
  if (entry === undefined) throw new OnnxExportError(`exportOnnx: ${describeModule(path, module)} is not supported`);
  if (x.dtype !== undefined && !entry.indices) {
    throw new DTypeError(`exportOnnx: ${describeModule(path, module)} receives the ${x.dtype} input; only an Embedding takes integer indices`);
  }
  if (module.forward !== entry.forward) {
    const where = Object.hasOwn(module, 'forward') ? 'on the instance' : 'on its class';
    throw new OnnxExportError(
      `exportOnnx: ${describeModule(path, module)} has its forward replaced ${where}; the export would compute ${module.constructor.name}'s own forward instead, so it is refused`,
    );
  }
  return entry.exporter;
}

export function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** Name of a node's output: `layers.0/Gemm`. */
export function at(path: string, op: string): string {
  return path === '' ? op : `${path}/${op}`;
}

export function formatDims(shape: readonly SymDim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : typeof d === 'string' ? JSON.stringify(d) : d)).join(',')}]`;
}

/** ONNX nodes take one element type throughout, so every tensor must have the graph's dtype. */
export function checkDtype(ctx: ExportContext, path: string, module: AnyModule, name: string, t: Tensor): void {
  if (t.dtype !== ctx.graph.dtype) {
    throw new DTypeError(`exportOnnx: ${describeModule(path, module)} has a ${t.dtype} '${name}' in a ${ctx.graph.dtype} model`);
  }
}

/** A module's tensor as an initializer named after its parameter (`layers.0.weight`). */
export function weight(ctx: ExportContext, path: string, module: AnyModule, name: string, t: Tensor): string {
  checkDtype(ctx, path, module, name, t);
  return ctx.graph.tensor(join(path, name), t);
}

/** A per-feature tensor of ones or zeros for an optional ONNX input the module does not have. */
export function filled(ctx: ExportContext, path: string, name: string, value: number, size: readonly number[]): string {
  const count = size.reduce((a, b) => a * b, 1);
  return ctx.graph.initializer(join(path, name), new Array<number>(count).fill(value), size);
}

/** A per-channel [C] tensor as [C, 1, ...] to broadcast along axis 1 of a rank-`rank` input. */
export function perChannel(ctx: ExportContext, path: string, m: AnyModule, name: string, t: Tensor, rank: number): string {
  if (rank <= 2) return weight(ctx, path, m, name, t);
  checkDtype(ctx, path, m, name, t);
  const shape = [t.shape[0]!, ...Array<number>(rank - 2).fill(1)];
  return ctx.graph.tensor(join(path, name), t, `perChannel${rank}`, () => ({ values: t.data, shape }));
}

export function unary(op: string) {
  return (_m: AnyModule, path: string, x: SymValue, ctx: ExportContext): SymValue => ({ name: ctx.graph.node(op, [x.name], at(path, op)), shape: x.shape });
}

export function checkAxis(path: string, module: AnyModule, axis: number, x: SymValue): void {
  const r = x.shape.length;
  if (!(Number.isInteger(axis) && axis >= -r && axis < r)) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, module)} has axis ${axis}, out of range for an input of shape ${formatDims(x.shape)}`);
  }
}

register(Sequential, (m, path, x, ctx) => {
  let y = x;
  for (const [name, child] of m.namedChildren()) y = ctx.emit(child, join(path, name), y);
  return y;
}, { indices: true });

register(MLP, (m, path, x, ctx) => ctx.emit(m.layers, join(path, 'layers'), x));

register(Linear, (m, path, x, ctx) => {
  const last = x.shape.at(-1);
  if (x.shape.length === 0 || (typeof last === 'number' && last !== m.inFeatures)) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} expects ${m.inFeatures} input features, got shape ${formatDims(x.shape)}`);
  }
  const shape = [...x.shape.slice(0, -1), m.outFeatures];
  const w = m.weight;
  const b = m.bias;
  if (x.shape.length === 2) {
    // Gemm reads the [out, in] weight transposed in place, so it is stored as PyTorch stores it.
    const inputs = [x.name, weight(ctx, path, m, 'weight', w)];
    if (b !== null) inputs.push(weight(ctx, path, m, 'bias', b));
    return { name: ctx.graph.node('Gemm', inputs, at(path, 'Gemm'), { transB: { int: 1 } }), shape };
  }
  // Gemm takes only matrices; MatMul broadcasts over leading axes but has no transpose flag.
  checkDtype(ctx, path, m, 'weight', w);
  const wt = ctx.graph.tensor(join(path, 'weight_t'), w, 'transposed', () => ({ values: transpose(w), shape: [m.inFeatures, m.outFeatures] }));
  const product = ctx.graph.node('MatMul', [x.name, wt], at(path, 'MatMul'));
  if (b === null) return { name: product, shape };
  return { name: ctx.graph.node('Add', [product, weight(ctx, path, m, 'bias', b)], at(path, 'Add')), shape };
});

function transpose(w: Tensor): Float64Array {
  const [rows, cols] = [w.shape[0]!, w.shape[1]!];
  const out = new Float64Array(w.size);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w.data[i * cols + j]!;
  return out;
}

register(ReLU, unary('Relu'));
register(Sigmoid, unary('Sigmoid'));
register(Tanh, unary('Tanh'));

register(LeakyReLU, (m, path, x, ctx) => {
  const g = ctx.graph;
  // ONNX float attributes are float32: a float64 graph whose slope float32 cannot hold exactly
  // multiplies by a double constant instead, so it computes what LeakyReLU.forward computes.
  if (g.dtype === 'float64' && Math.fround(m.negativeSlope) !== m.negativeSlope) {
    const negative = g.node('Less', [x.name, g.constant(0)], at(path, 'Less'));
    const scaled = g.node('Mul', [x.name, g.constant(m.negativeSlope)], at(path, 'Mul'));
    return { name: g.node('Where', [negative, scaled, x.name], at(path, 'Where')), shape: x.shape };
  }
  return { name: g.node('LeakyRelu', [x.name], at(path, 'LeakyRelu'), { alpha: { float: m.negativeSlope } }), shape: x.shape };
});

// NOTE: ONNX Runtime's CPU provider has no double kernels for Erf, Softplus or (through Erf) Gelu,
// so float64 graphs spell those out with operators it does run in double.

register(GELU, (m, path, x, ctx) => {
  const g = ctx.graph;
  if (ctx.opset >= 20 && g.dtype === 'float32') {
    return { name: g.node('Gelu', [x.name], at(path, 'Gelu'), { approximate: { string: m.approximate } }), shape: x.shape };
  }
  // Otherwise the formulas of GELU.forward, node by node.
  if (m.approximate === 'none') {
    // x/2 · (1 + erf(x/√2))
    const scaled = g.node('Div', [x.name, g.constant(Math.SQRT2)], at(path, 'Div'));
    const erf = g.dtype === 'float32' ? g.node('Erf', [scaled], at(path, 'Erf')) : erfInFloat32(g, path, scaled);
    const half = g.node('Mul', [x.name, g.constant(0.5)], at(path, 'Mul'));
    return { name: g.node('Mul', [half, g.node('Add', [erf, g.constant(1)], at(path, 'Add'))], at(path, 'Mul')), shape: x.shape };
  }
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  const cube = g.node('Mul', [x.name, g.node('Mul', [x.name, x.name], at(path, 'Square'))], at(path, 'Cube'));
  const poly = g.node('Add', [x.name, g.node('Mul', [cube, g.constant(0.044715)], at(path, 'Mul'))], at(path, 'Add'));
  const tanh = g.node('Tanh', [g.node('Mul', [poly, g.constant(Math.sqrt(2 / Math.PI))], at(path, 'Mul'))], at(path, 'Tanh'));
  const half = g.node('Mul', [x.name, g.constant(0.5)], at(path, 'Mul'));
  return { name: g.node('Mul', [half, g.node('Add', [tanh, g.constant(1)], at(path, 'Add'))], at(path, 'Mul')), shape: x.shape };
});

/**
 * erf of a double tensor, evaluated in float32 (relative error about 1e-7). A double-precision erf
 * from elementary operators takes a piecewise rational approximation of a hundred nodes; exact GELU
 * in a float64 graph is the one place where the export is less precise than the model.
 */
function erfInFloat32(g: GraphBuilder, path: string, x: string): string {
  const narrow = g.node('Cast', [x], at(path, 'CastToFloat'), { to: { int: 1 } });
  return g.node('Cast', [g.node('Erf', [narrow], at(path, 'Erf'))], at(path, 'CastToDouble'), { to: { int: 11 } });
}

register(Softplus, (m, path, x, ctx) => {
  const g = ctx.graph;
  // log(1 + e^{βx}) / β, and x itself where βx > threshold, as Softplus.forward.
  const bx = m.beta === 1 ? x.name : g.node('Mul', [x.name, g.constant(m.beta)], at(path, 'Mul'));
  const soft = softplus(g, path, bx);
  const scaled = m.beta === 1 ? soft : g.node('Div', [soft, g.constant(m.beta)], at(path, 'Div'));
  if (m.threshold === Infinity) return { name: scaled, shape: x.shape };
  const above = g.node('Greater', [bx, g.constant(m.threshold)], at(path, 'Greater'));
  return { name: g.node('Where', [above, x.name, scaled], at(path, 'Where')), shape: x.shape };
});

/** log(1 + e^z): ONNX's Softplus in float32, else by parts in operators ONNX Runtime runs in double. */
export function softplus(g: GraphBuilder, path: string, z: string): string {
  return g.dtype === 'float32' ? g.node('Softplus', [z], at(path, 'Softplus')) : softplusByParts(g, path, z);
}

/** Softplus as max(z, 0) + log(1 + e^{-|z|}): no exp overflows, whatever z. */
function softplusByParts(g: GraphBuilder, path: string, z: string): string {
  const decay = g.node('Exp', [g.node('Neg', [g.node('Abs', [z], at(path, 'Abs'))], at(path, 'Neg'))], at(path, 'Exp'));
  const tail = g.node('Log', [g.node('Add', [decay, g.constant(1)], at(path, 'Add'))], at(path, 'Log'));
  return g.node('Add', [g.node('Relu', [z], at(path, 'Relu')), tail], at(path, 'Add'));
}

register(Softmax, (m, path, x, ctx) => {
  checkAxis(path, m, m.axis, x);
  return { name: ctx.graph.node('Softmax', [x.name], at(path, 'Softmax'), { axis: { int: m.axis } }), shape: x.shape };
});

register(LogSoftmax, (m, path, x, ctx) => {
  checkAxis(path, m, m.axis, x);
  return { name: ctx.graph.node('LogSoftmax', [x.name], at(path, 'LogSoftmax'), { axis: { int: m.axis } }), shape: x.shape };
});

// Inference graphs: Dropout is the identity in evaluation, whatever mode the model is in now.
register(Dropout, (_m, _path, x) => x);
register(Identity, (_m, _path, x) => x, { indices: true });

register(LayerNorm, (m, path, x, ctx) => {
  const k = m.normalizedShape.length;
  const tail = x.shape.slice(x.shape.length - k);
  if (x.shape.length < k || tail.some((d, i) => typeof d === 'number' && d !== m.normalizedShape[i])) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} normalizes [${m.normalizedShape.join(',')}] but its input has shape ${formatDims(x.shape)}`);
  }
  // LayerNormalization requires a scale; a LayerNorm without one scales by ones.
  const scale = m.weight === null ? filled(ctx, path, 'weight', 1, m.normalizedShape) : weight(ctx, path, m, 'weight', m.weight);
  const bias = m.bias === null ? [] : [weight(ctx, path, m, 'bias', m.bias)];
  const attributes = { axis: { int: -k }, epsilon: { float: m.eps } };
  return { name: ctx.graph.node('LayerNormalization', [x.name, scale, ...bias], at(path, 'LayerNormalization'), attributes), shape: x.shape };
});

/**
 * Evaluation-mode normalisation with the running statistics, as torch.onnx exports by default:
 * BatchNorm1d/2d, and InstanceNorm2d when it tracks them. `ranks` are the input ranks the layer
 * takes, `expected` says them in messages.
 */
export function batchNormalization(m: NormBase, path: string, x: SymValue, ctx: ExportContext, ranks: readonly number[], expected: string): SymValue {
  const c = m.numFeatures;
  const { runningMean, runningVar } = m;
  if (runningMean === null || runningVar === null) {
    throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} is not supported without running statistics (trackRunningStats: false)`);
  }
  if (!ranks.includes(x.shape.length) || (typeof x.shape[1] === 'number' && x.shape[1] !== c)) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} expects ${expected}, got shape ${formatDims(x.shape)}`);
  }
  const inputs = [
    x.name,
    m.weight === null ? filled(ctx, path, 'weight', 1, [c]) : weight(ctx, path, m, 'weight', m.weight),
    m.bias === null ? filled(ctx, path, 'bias', 0, [c]) : weight(ctx, path, m, 'bias', m.bias),
    weight(ctx, path, m, 'running_mean', runningMean),
    weight(ctx, path, m, 'running_var', runningVar),
  ];
  return { name: ctx.graph.node('BatchNormalization', inputs, at(path, 'BatchNormalization'), { epsilon: { float: m.eps } }), shape: x.shape };
}

register(BatchNorm1d, (m, path, x, ctx) => batchNormalization(m, path, x, ctx, [2, 3], `[N, ${m.numFeatures}] or [N, ${m.numFeatures}, L]`));

// Recurrent layers as ONNX's own RNN, LSTM and GRU operators, one node per layer (both directions
// in it). ONNX stacks gates in another order than PyTorch (LSTM i, o, f, c against i, f, g, o;
// GRU z, r, h against r, z, n) and keeps both biases in one [directions, 2·G·H] input; its GRU
// with linear_before_reset = 1 is PyTorch's (r gates W_hn h + b_hn). The graph computes the output
// sequence from zero initial states, for whole sequences: the final states, initial states and
// lengths of forward are not graph inputs or outputs.

/** Where each ONNX gate block comes from in PyTorch's stacking. */
const ONNX_GATES = { RNN: [0], LSTM: [0, 3, 1, 2], GRU: [1, 0, 2] } as const;

/** Rows of a [G·H, cols] (or [G·H]) tensor regrouped by gate as ONNX stacks them. */
function onnxGateOrder(t: Tensor, order: readonly number[], hidden: number): number[] {
  const cols = t.ndim === 2 ? t.shape[1]! : 1;
  const out: number[] = [];
  for (const gate of order) for (let i = gate * hidden * cols; i < (gate + 1) * hidden * cols; i++) out.push(t.data[i]!);
  return out;
}

function exportRecurrent(op: 'RNN' | 'LSTM' | 'GRU', m: RNNBase<unknown>, path: string, x: SymValue, ctx: ExportContext, attributes: Record<string, Attribute> = {}): SymValue {
  const g = ctx.graph;
  const last = x.shape.at(-1);
  if (x.shape.length !== 3 || (typeof last === 'number' && last !== m.inputSize)) {
    const layout = m.batchFirst ? 'batch, seq' : 'seq, batch';
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} expects [${layout}, ${m.inputSize}], got shape ${formatDims(x.shape)}`);
  }
  const directions = m.bidirectional ? 2 : 1;
  const hidden = m.hiddenSize;
  const gates = ONNX_GATES[op];
  const params = new Map(m.namedParameters());
  const stacked = (layer: number, kind: 'weight_ih' | 'weight_hh' | 'bias'): number[] => {
    const out: number[] = [];
    for (let dir = 0; dir < directions; dir++) {
      const suffix = `_l${layer}${dir === 1 ? '_reverse' : ''}`;
      for (const name of kind === 'bias' ? [`bias_ih${suffix}`, `bias_hh${suffix}`] : [`${kind}${suffix}`]) {
        const t = params.get(name)!;
        checkDtype(ctx, path, m, name, t);
        out.push(...onnxGateOrder(t, gates, hidden));
      }
    }
    return out;
  };
  // Time-major inside: ONNX Runtime's recurrent kernels take [seq, batch, features].
  let seq = m.batchFirst ? g.node('Transpose', [x.name], at(path, 'Transpose'), { perm: { ints: [1, 0, 2] } }) : x.name;
  for (let layer = 0; layer < m.numLayers; layer++) {
    const inputSize = layer === 0 ? m.inputSize : directions * hidden;
    const w = g.initializer(join(path, `W_l${layer}`), stacked(layer, 'weight_ih'), [directions, gates.length * hidden, inputSize]);
    const r = g.initializer(join(path, `R_l${layer}`), stacked(layer, 'weight_hh'), [directions, gates.length * hidden, hidden]);
    const inputs = [seq, w, r];
    if (m.bias) inputs.push(g.initializer(join(path, `B_l${layer}`), stacked(layer, 'bias'), [directions, 2 * gates.length * hidden]));
    const y = g.node(op, inputs, at(path, `${op}_l${layer}`), {
      hidden_size: { int: hidden },
      direction: { string: m.bidirectional ? 'bidirectional' : 'forward' },
      ...attributes,
    });
    // Y is [seq, directions, batch, H]; the next layer and the output want [seq, batch, directions·H].
    const t = g.node('Transpose', [y], at(path, `Transpose_l${layer}`), { perm: { ints: [0, 2, 1, 3] } });
    seq = g.node('Reshape', [t, g.int64s([0, 0, -1])], at(path, `Reshape_l${layer}`));
  }
  const [a, b] = [x.shape[0]!, x.shape[1]!];
  if (m.batchFirst) {
    return { name: g.node('Transpose', [seq], at(path, 'Transpose'), { perm: { ints: [1, 0, 2] } }), shape: [a, b, directions * hidden] };
  }
  return { name: seq, shape: [a, b, directions * hidden] };
}

register(RNN, (m, path, x, ctx) => {
  const activation = m.nonlinearity === 'tanh' ? 'Tanh' : 'Relu';
  return exportRecurrent('RNN', m, path, x, ctx, { activations: { strings: m.bidirectional ? [activation, activation] : [activation] } });
});
register(LSTM, (m, path, x, ctx) => {
  if (m.projSize > 0) {
    throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} with projSize=${m.projSize} is not supported: ONNX's LSTM operator has no projection of the hidden state`);
  }
  return exportRecurrent('LSTM', m, path, x, ctx);
});
register(GRU, (m, path, x, ctx) => exportRecurrent('GRU', m, path, x, ctx, { linear_before_reset: { int: 1 } }));
