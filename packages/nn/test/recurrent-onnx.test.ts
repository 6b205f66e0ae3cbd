// RNN, LSTM and GRU exported as ONNX's own operators run in ONNX Runtime (onnxruntime-node) and
// give chainrule's output sequence.
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { ShapeError, noGrad, randn, type DType } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { GRU, LSTM, RNN, type RecurrentOptions } from '@chainrule/nn';
import { OnnxExportError, exportOnnx } from '@chainrule/nn/onnx';

type Recurrent = RNN | LSTM | GRU;

async function expectSameOutput(model: Recurrent, dims: [number, number], dtype: DType, tol: number): Promise<string[]> {
  const [a, b] = dims;
  const bytes = exportOnnx(model, { inputShape: ['d0', 'd1', model.inputSize] });
  const x = randn([a, b, model.inputSize], { dtype, seed: 3 });
  const [expected] = noGrad(() => model.forward(x));
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = (await session.run({ input: new ort.Tensor(dtype, x.data, [...x.shape]) })).output!;
    expect(out.dims).toEqual(expected.shape);
    assertClose(out.data as Float32Array, expected.data, 0, tol);
  } finally {
    await session.release();
  }
  return fromBinary(ModelProtoSchema, bytes).graph!.node.map((n) => n.opType);
}

const configs: [string, RecurrentOptions][] = [
  ['one layer', {}],
  ['two layers, bidirectional', { numLayers: 2, bidirectional: true }],
  ['batch first, bidirectional, no bias', { batchFirst: true, bidirectional: true, bias: false }],
];

describe('exportOnnx: recurrent layers as ONNX RNN, LSTM and GRU nodes', () => {
  for (const [label, options] of configs) {
    test(`LSTM, GRU and RNN (tanh, relu): ${label}`, async () => {
      for (const [make, op] of [
        [(o: RecurrentOptions) => new LSTM(3, 5, o), 'LSTM'],
        [(o: RecurrentOptions) => new GRU(3, 5, o), 'GRU'],
        [(o: RecurrentOptions) => new RNN(3, 5, o), 'RNN'],
        [(o: RecurrentOptions) => new RNN(3, 5, { ...o, nonlinearity: 'relu' }), 'RNN'],
      ] as const) {
        const model = make({ ...options, seed: 7 });
        const ops = await expectSameOutput(model, [4, 2], 'float32', 1e-5);
        expect(ops.filter((o) => o === op)).toHaveLength(options.numLayers ?? 1);
        // Another sequence length and batch size through the same dynamic axes.
        await expectSameOutput(model, [1, 3], 'float32', 1e-5);
      }
    });
  }

  test('float64 models give double weights (ONNX Runtime\'s CPU provider has no double kernels for these operators)', () => {
    const model = new LSTM(3, 4, { numLayers: 2, dtype: 'float64', seed: 1 });
    const graph = fromBinary(ModelProtoSchema, exportOnnx(model, { inputShape: [null, null, 3] })).graph!;
    expect(graph.node.map((n) => n.opType)).toEqual(['LSTM', 'Transpose', 'Reshape', 'LSTM', 'Transpose', 'Reshape']);
    const floats = graph.initializer.filter((t) => t.name.includes('_l'));
    expect(floats.map((t) => t.name)).toEqual(['W_l0', 'R_l0', 'B_l0', 'W_l1', 'R_l1', 'B_l1']);
    expect(floats.every((t) => t.dataType === 11)).toBe(true); // DOUBLE
  });

  test('an LSTM with projSize is refused, naming the option (ONNX\'s LSTM has no projection)', () => {
    expect(() => exportOnnx(new LSTM(3, 4, { projSize: 2 }), { inputShape: [null, null, 3] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(new LSTM(3, 4, { projSize: 2 }), { inputShape: [null, null, 3] })).toThrow(
      'exportOnnx: the model (LSTM) with projSize=2 is not supported: ONNX\'s LSTM operator has no projection of the hidden state',
    );
  });

  test('an input shape that does not fit names the layer', () => {
    expect(() => exportOnnx(new GRU(3, 4), { inputShape: [null, 4] })).toThrow(ShapeError);
    expect(() => exportOnnx(new GRU(3, 4, { batchFirst: true }), { inputShape: [null, 7, 4] })).toThrow('exportOnnx: the model (GRU) expects [batch, seq, 3], got shape ["batch",7,4]');
  });
});
