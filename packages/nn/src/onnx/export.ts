import { ArgumentError, DTypeError, type DType } from '@chainrule/autograd';
import { Module, type AnyModule } from '../module.js';
import { isWellFormed, quoteName } from '../serialize/keys.js';
import { GraphBuilder, type SymDim, type SymValue } from './graph.js';
import { exporterOf, type ExportContext } from './layers.js';
// Registered for their effect: the exporters of these modules.
import './shape.js';
import './spatial.js';
import './activations.js';
import './attention.js';

/** One axis of `inputShape`: a size, a name for a dynamic size, or null for a dynamic size named for you. @example const shape: OnnxDim[] = [null, 784]; */
export type OnnxDim = number | string | null;

/** Options of `exportOnnx`. @example exportOnnx(model, { inputShape: ['batch', 784], opset: 20, outputName: 'probabilities' }) */
export interface ExportOnnxOptions {
  /** The input's shape; a null or a name marks a dynamic axis: `[null, 784]` or `['batch', 784]`. */
  inputShape: readonly OnnxDim[];
  /** ONNX operator set, from 17 (the first with LayerNormalization; the default) to 22. From 20, GELU is one Gelu node. */
  opset?: number;
  /** Name of the graph's input (default 'input'). */
  inputName?: string;
  /** Name of the graph's output (default 'output'). */
  outputName?: string;
  /** Element type of a model without parameters (default: its parameters' dtype, else 'float32'). */
  dtype?: DType;
  /**
   * Element type of the graph's input (default: the model's dtype). 'int32' declares an ONNX
   * INT32 input of indices, for a model that starts with an Embedding (ONNX Runtime's Gather
   * takes int32 and int64 indices; chainrule's indices are int32, so the graph takes the same
   * tensors the model does).
   */
  inputDtype?: DType;
}

/** The opsets whose operators exportOnnx emits with the semantics of chainrule's layers. */
const MIN_OPSET = 17;
const MAX_OPSET = 22;

/** The IR version released with each opset: a runtime that knows the opset reads that IR. */
const IR_VERSION: Readonly<Record<number, number>> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10 };

// ONNX stores names as UTF-8: a lone surrogate would be written as U+FFFD, and two names could become one.
function checkName(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || !isWellFormed(value)) {
    throw new ArgumentError(`exportOnnx: ${option} must be a non-empty, well-formed string, got ${JSON.stringify(value)}`);
  }
  return value;
}

const OPTIONS: readonly string[] = ['inputShape', 'opset', 'inputName', 'outputName', 'dtype', 'inputDtype'] satisfies (keyof ExportOnnxOptions)[];

/** Dynamic axes get ONNX dim_params; an unnamed one is 'batch' on axis 0, `<input>_dim<i>` elsewhere. */
function inputDims(shape: readonly OnnxDim[], inputName: string): SymDim[] {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new ArgumentError(`exportOnnx: inputShape must be a non-empty array such as [null, 784], got ${JSON.stringify(shape)}`);
  }
  return shape.map((d, i) => {
    if (d === null) return i === 0 ? 'batch' : `${inputName}_dim${i}`;
    if ((typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) || (typeof d === 'string' && d !== '' && isWellFormed(d))) return d;
    throw new ArgumentError(`exportOnnx: inputShape[${i}] must be a non-negative integer, a non-empty name or null, got ${JSON.stringify(d)}`);
  });
}

/** The one dtype of the model's parameters, which becomes the graph's element type. */
function modelDtype(model: AnyModule, requested: DType | undefined): DType {
  if (requested !== undefined && requested !== 'float32' && requested !== 'float64') {
    throw new ArgumentError(`exportOnnx: dtype must be 'float32' or 'float64', got ${JSON.stringify(requested)}`);
  }
  const dtypes = new Map<DType, string>();
  for (const [name, p] of model.namedParameters()) if (!dtypes.has(p.dtype)) dtypes.set(p.dtype, name);
  if (dtypes.size > 1) {
    const found = [...dtypes].map(([dtype, name]) => `${dtype} ('${name}')`).join(' and ');
    throw new DTypeError(`exportOnnx: an ONNX graph has one element type, but the model's parameters are ${found}`);
  }
  const [own] = dtypes.keys();
  if (own !== undefined && requested !== undefined && own !== requested) {
    throw new DTypeError(`exportOnnx: dtype '${requested}' was requested but the model's parameters are ${own}`);
  }
  return own ?? requested ?? 'float32';
}

/**
 * Exports a model as the bytes of an `.onnx` file, for ONNX Runtime (Node, web, Python, C#...)
 * or any other ONNX consumer. Supported: Sequential, MLP, Linear, the activations (PReLU too),
 * Dropout, Dropout2d, Identity, Flatten and Unflatten (any axes), LayerNorm, RMSNorm,
 * BatchNorm1d/2d, InstanceNorm2d, GroupNorm, Conv1d/2d, ConvTranspose1d/2d, MaxPool1d/2d,
 * AvgPool1d/2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, Embedding, RNN, LSTM, GRU, MultiheadAttention, TransformerEncoderLayer,
 * TransformerEncoder and the positional encodings (see the package README for the ONNX form of
 * each and what is refused). Weights become initializers of the model's dtype (FLOAT or DOUBLE). The graph is the
 * model in evaluation mode: dropout is left out and batch normalisation uses its running
 * statistics. Any other module is an `OnnxExportError` naming it and its path. PyTorch's
 * `torch.onnx.export` traces a forward run; this walks the module tree instead, so it needs no
 * sample input, only `inputShape` (and `inputDtype: 'int32'` for a model that starts with an
 * Embedding). `RNN`, `LSTM` and `GRU` become ONNX's own RNN, LSTM and GRU operators (one node
 * per layer) on a 3-D input, and the graph gives their output sequence from zero initial states:
 * forward's initial and final states and lengths are not part of the graph. (ONNX Runtime's CPU
 * provider runs those operators in float32 only.) The graph has one input, so attention is
 * self-attention without masks: MultiheadAttention as forward(x, x, x), giving its output
 * only; the encoders as forward(x).
 * @throws OnnxExportError for a module without an ONNX form, or a configuration ONNX cannot
 * express (BatchNorm without running statistics, circular padding before opset 19, an adaptive
 * pooling size that does not divide the input or meets a dynamic one, Embedding's maxNorm...).
 * @throws ShapeError if `inputShape` does not fit a layer (Linear's features, a norm's shape,
 * channels, an unbatched input to a convolution or pooling, a recurrent layer's input that is
 * not 3-D, an axis out of range).
 * @throws DTypeError if parameters mix float32 and float64, differ from the requested `dtype`, or
 * an integer input reaches a layer other than Embedding.
 * @throws ArgumentError for a bad option: `opset` outside 17–22, an empty or repeated input/output
 * name, a malformed `inputShape`, an unknown dtype or inputDtype.
 * @example const bytes = exportOnnx(new MLP([784, 128, 10], { seed: 0 }), { inputShape: [null, 784] });
 */
export function exportOnnx(model: AnyModule, options: ExportOnnxOptions): Uint8Array {
  if (!(model instanceof Module)) throw new ArgumentError('exportOnnx: model must be a Module');
  if (typeof options !== 'object' || options === null) throw new ArgumentError('exportOnnx: options with an inputShape are required');
  // Own properties only, and only known ones: a misspelt option is an error, not a default, and
  // nothing is read from a prototype.
  const unknown = Object.keys(options).filter((k) => !OPTIONS.includes(k));
  if (unknown.length > 0) throw new ArgumentError(`exportOnnx: unknown option(s) ${unknown.map((k) => quoteName(k)).join(', ')}; the options are ${OPTIONS.join(', ')}`);
  const own: ExportOnnxOptions = Object.assign(Object.create(null) as ExportOnnxOptions, options);
  const { opset = MIN_OPSET } = own;
  if (!(Number.isInteger(opset) && opset >= MIN_OPSET && opset <= MAX_OPSET)) {
    throw new ArgumentError(`exportOnnx: opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
  }
  const inputName = checkName('inputName', own.inputName ?? 'input');
  const outputName = checkName('outputName', own.outputName ?? 'output');
  if (inputName === outputName) throw new ArgumentError(`exportOnnx: inputName and outputName must differ, both are '${inputName}'`);
  const dtype = modelDtype(model, own.dtype);
  const inputDtype = own.inputDtype ?? dtype;
  if (inputDtype !== dtype && inputDtype !== 'int32') {
    throw new ArgumentError(`exportOnnx: inputDtype must be the model's dtype ('${dtype}') or 'int32' (indices for an Embedding), got ${JSON.stringify(own.inputDtype)}`);
  }
  const input: SymValue = inputDtype === dtype ? { name: inputName, shape: inputDims(own.inputShape, inputName) } : { name: inputName, shape: inputDims(own.inputShape, inputName), dtype: inputDtype };
  const graph = new GraphBuilder(dtype, [inputName, outputName]);

  const ctx: ExportContext = {
    graph,
    opset,
    emit: (module, path, x) => exporterOf(module, path, x)(module, path, x, ctx),
  };
  const result = ctx.emit(model, '', input);
  return graph.encode(result.name, {
    graphName: model.constructor.name,
    docString: model.toString(),
    opset,
    irVersion: IR_VERSION[opset]!,
    input,
    output: result.dtype === undefined ? { name: outputName, shape: result.shape } : { name: outputName, shape: result.shape, dtype: result.dtype },
  });
}
