// Builds an ONNX graph node by node and encodes it. The only file that touches the protobuf
// schema, so the layer exporters speak in plain names, shapes and attributes.
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import type { DType, Tensor } from '@chainrule/autograd';

/** One axis of a symbolic shape: a size, a named dynamic size, or null when not known at export. */
export type SymDim = number | string | null;

/** A value flowing through the graph: its name, (symbolic) shape, and dtype when not the graph's (integer indices). */
export interface SymValue {
  readonly name: string;
  readonly shape: readonly SymDim[];
  readonly dtype?: DType;
}

/** A node attribute: ONNX keeps ints, floats, strings and their lists apart, so each value says which it is. */
export type Attribute =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly string: string }
  | { readonly ints: readonly number[] }
  | { readonly strings: readonly string[] };

/** What `GraphBuilder.encode` writes around the graph. */
export interface ModelInfo {
  readonly graphName: string;
  readonly docString: string;
  readonly opset: number;
  readonly irVersion: number;
  readonly input: SymValue;
  readonly output: SymValue;
}

const DATA_TYPE: Record<DType, TensorProto_DataType> = {
  float32: TensorProto_DataType.FLOAT,
  float64: TensorProto_DataType.DOUBLE,
  int32: TensorProto_DataType.INT32,
  bool: TensorProto_DataType.BOOL,
};

/** Little-endian bytes, as ONNX's raw_data requires whatever the host's byte order. */
function rawBytes(values: ArrayLike<number>, dtype: DType): Uint8Array<ArrayBuffer> {
  const width = dtype === 'float32' ? 4 : 8;
  const view = new DataView(new ArrayBuffer(values.length * width));
  for (let i = 0; i < values.length; i++) {
    if (width === 4) view.setFloat32(i * 4, values[i]!, true);
    else view.setFloat64(i * 8, values[i]!, true);
  }
  return new Uint8Array(view.buffer);
}

function attribute(name: string, value: Attribute): AttributeProto {
  if ('int' in value) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value.int) });
  if ('float' in value) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value.float });
  if ('ints' in value) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: value.ints.map((v) => BigInt(v)) });
  if ('strings' in value) {
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRINGS, strings: value.strings.map((v) => new TextEncoder().encode(v)) });
  }
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value.string) });
}

function valueInfo(value: SymValue, graphDtype: DType): ValueInfoProto {
  const dtype = value.dtype ?? graphDtype;
  const dim = value.shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, {
      value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : typeof d === 'string' ? { case: 'dimParam', value: d } : { case: undefined },
    }),
  );
  const tensorType = create(TypeProto_TensorSchema, { elemType: DATA_TYPE[dtype], shape: create(TensorShapeProtoSchema, { dim }) });
  return create(ValueInfoProtoSchema, { name: value.name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }) });
}

/**
 * Collects nodes and initializers of one graph whose tensors all have one dtype. Value names are
 * made unique here, so exporters can name things after module paths without checking.
 */
export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly taken = new Set<string>();
  private readonly byTensor = new Map<string, Map<Tensor, string>>();
  private readonly constants = new Map<number, string>();
  private readonly int64Constants = new Map<string, string>();

  constructor(readonly dtype: DType, reserved: readonly string[]) {
    for (const name of reserved) this.taken.add(name);
  }

  /** `base`, or `base_1`, `base_2`... if taken. */
  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  /** Adds a node with one output and returns the output's name (`<name>:0`-free, so it reads in viewers). */
  node(opType: string, inputs: readonly string[], name: string, attributes: Readonly<Record<string, Attribute>> = {}): string {
    const output = this.unique(name);
    this.nodes.push(
      create(NodeProtoSchema, {
        opType,
        name: output,
        input: [...inputs],
        output: [output],
        attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      }),
    );
    return output;
  }

  /** Stores `values` (row-major, of `shape`) as an initializer and returns its name. */
  initializer(name: string, values: ArrayLike<number>, shape: readonly number[]): string {
    const unique = this.unique(name);
    this.initializers.push(
      create(TensorProtoSchema, {
        name: unique,
        dims: shape.map((d) => BigInt(d)),
        dataType: DATA_TYPE[this.dtype],
        rawData: rawBytes(values, this.dtype),
      }),
    );
    return unique;
  }

  /**
   * A module's tensor as an initializer, stored once however many layers share it; `variant` keys
   * a derived form (e.g. 'transposed', which `make` computes) so it is stored once too.
   */
  tensor(name: string, tensor: Tensor, variant = '', make: () => { values: ArrayLike<number>; shape: readonly number[] } = () => ({ values: tensor.data, shape: tensor.shape })): string {
    let cache = this.byTensor.get(variant);
    if (cache === undefined) this.byTensor.set(variant, (cache = new Map()));
    const known = cache.get(tensor);
    if (known !== undefined) return known;
    const { values, shape } = make();
    const stored = this.initializer(name, values, shape);
    cache.set(tensor, stored);
    return stored;
  }

  /**
   * A 1-d INT64 initializer (shapes, axes, pads: ONNX takes those as int64 inputs), shared by
   * every node that needs the same list.
   */
  int64s(values: readonly number[]): string {
    const key = values.join(',');
    const known = this.int64Constants.get(key);
    if (known !== undefined) return known;
    const view = new DataView(new ArrayBuffer(values.length * 8));
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    const name = this.unique(`const_i64_${values.length === 1 ? values[0] : values.length}`);
    this.initializers.push(create(TensorProtoSchema, { name, dims: [BigInt(values.length)], dataType: TensorProto_DataType.INT64, rawData: new Uint8Array(view.buffer) }));
    this.int64Constants.set(key, name);
    return name;
  }

  /** A 0-d initializer holding `value`, shared by every node that needs the same number. */
  constant(value: number): string {
    const known = this.constants.get(value);
    if (known !== undefined) return known;
    const stored = this.initializer(`const_${value}`, [value], []);
    this.constants.set(value, stored);
    return stored;
  }

  /** Encodes the model: `info.output.name` becomes the name of the value computed last (`last`). */
  encode(last: string, info: ModelInfo): Uint8Array {
    const { input, output } = info;
    const producer = this.nodes.findLast((n) => n.output.includes(last));
    if (producer === undefined) {
      // Nothing was computed (every layer was an identity): the output is the input, passed through.
      this.nodes.push(create(NodeProtoSchema, { opType: 'Identity', name: output.name, input: [last], output: [output.name] }));
    } else {
      for (const n of this.nodes) {
        n.input = n.input.map((v) => (v === last ? output.name : v));
        n.output = n.output.map((v) => (v === last ? output.name : v));
      }
    }
    const graph = create(GraphProtoSchema, {
      name: info.graphName,
      docString: info.docString,
      node: this.nodes,
      initializer: this.initializers,
      input: [valueInfo(input, this.dtype)],
      output: [valueInfo(output, this.dtype)],
    });
    const model = create(ModelProtoSchema, {
      irVersion: BigInt(info.irVersion),
      producerName: 'chainrule',
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(info.opset) })],
      graph,
    });
    return toBinary(ModelProtoSchema, model);
  }
}
