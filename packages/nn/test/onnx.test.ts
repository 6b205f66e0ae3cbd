// Every exported graph runs in ONNX Runtime (onnxruntime-node, CPU) and must give the outputs
// chainrule gives for the same model and input.
import { describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ArgumentError, DTypeError, ShapeError, Tensor, randn, type DType } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import {
  BatchNorm1d, Dropout, Flatten, GELU, Identity, LayerNorm, LeakyReLU, Linear, LogSoftmax, MLP, Module, ReLU, Sequential,
  Sigmoid, Softmax, Softplus, Tanh, SGD, mseLoss,
} from '@chainrule/nn';
import { exportOnnx, OnnxExportError, type ExportOnnxOptions } from '@chainrule/nn/onnx';
import { saveOnnx } from '@chainrule/nn/node';
import { decode, opTypes, reference, runOnnx } from './onnx-helpers.js';

/** Exports `model`, runs it on a batch of each size, and checks ONNX Runtime agrees with chainrule. */
async function expectSameOutputs(model: Module, options: ExportOnnxOptions, batches: number[], tol = 1e-5, seed = 1, scale = 2): Promise<Uint8Array> {
  const bytes = exportOnnx(model, options);
  const features = options.inputShape.slice(1) as number[];
  const dtype = model.parameters()[0]?.dtype ?? options.dtype ?? 'float32';
  for (const [i, n] of batches.entries()) {
    const x = randn([n, ...features], { dtype, seed: seed + i }).mul(scale);
    const expected = reference(model, x);
    const got = await runOnnx(bytes, x);
    expect(got.dims).toEqual(expected.shape);
    expect(got.data).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
    assertClose(got.data, expected.data, 0, tol);
  }
  return bytes;
}

describe('exportOnnx: ONNX Runtime computes what chainrule computes', () => {
  test('MLP with ReLU, 784-128-10, at batch sizes 1, 5 and 64 of one dynamic batch axis', async () => {
    const model = new MLP([784, 128, 10], { activation: 'relu', seed: 0 });
    const bytes = await expectSameOutputs(model, { inputShape: [null, 784] }, [1, 5, 64]);
    expect(opTypes(bytes)).toEqual(['Gemm', 'Relu', 'Gemm']);
  });

  test('MLP with tanh hidden layers and a sigmoid output', async () => {
    const model = new MLP([6, 16, 8, 1], { activation: 'tanh', outputActivation: 'sigmoid', seed: 1 });
    const bytes = await expectSameOutputs(model, { inputShape: ['batch', 6] }, [3, 10]);
    expect(opTypes(bytes)).toEqual(['Gemm', 'Tanh', 'Gemm', 'Tanh', 'Gemm', 'Sigmoid']);
  });

  test('Sequential with LayerNorm, exact GELU and Softmax (Erf decomposition at opset 17, one Gelu node at 20)', async () => {
    const model = new Sequential(new Linear(12, 32, { seed: 2 }), new LayerNorm(32), new GELU(), new Linear(32, 5, { seed: 3 }), new Softmax(-1));
    trainBriefly(model, 12, 5); // so LayerNorm's scale and shift are no longer ones and zeros
    const at17 = await expectSameOutputs(model, { inputShape: [null, 12] }, [4, 9]);
    expect(opTypes(at17)).toEqual(['Gemm', 'LayerNormalization', 'Div', 'Erf', 'Mul', 'Add', 'Mul', 'Gemm', 'Softmax']);
    const at20 = await expectSameOutputs(model, { inputShape: [null, 12], opset: 20 }, [4]);
    expect(opTypes(at20)).toEqual(['Gemm', 'LayerNormalization', 'Gelu', 'Gemm', 'Softmax']);
  });

  test('tanh-approximated GELU, as nodes and as Gelu(approximate=tanh)', async () => {
    const model = new Sequential(new Linear(5, 7, { seed: 4 }), new GELU({ approximate: 'tanh' }), new Linear(7, 3, { seed: 5 }));
    await expectSameOutputs(model, { inputShape: [null, 5] }, [6]);
    await expectSameOutputs(model, { inputShape: [null, 5], opset: 20 }, [6]);
  });

  test('LogSoftmax output, and softmax over axis 0', async () => {
    const logits = new MLP([8, 16, 4], { activation: 'relu', outputActivation: 'logSoftmax', seed: 6 });
    const bytes = await expectSameOutputs(logits, { inputShape: [null, 8] }, [5]);
    expect(decode(bytes).graph!.node.at(-1)!.attribute.map((a) => [a.name, a.i])).toEqual([['axis', -1n]]);
    const overBatch = new Sequential(new Linear(3, 4, { seed: 7 }), new LogSoftmax(0), new Softmax(1));
    await expectSameOutputs(overBatch, { inputShape: [null, 3] }, [6]);
  });

  test('Dropout is left out: the graph is the model in evaluation mode, whatever its mode now', async () => {
    const model = new Sequential(new Linear(10, 20, { seed: 8 }), new ReLU(), new Dropout(0.5, { seed: 0 }), new Linear(20, 2, { seed: 9 }));
    model.train();
    const bytes = await expectSameOutputs(model, { inputShape: [null, 10] }, [8]);
    expect(opTypes(bytes)).toEqual(['Gemm', 'Relu', 'Gemm']);
    expect(model.training).toBe(true);
  });

  test('a float64 model exports DOUBLE initializers and agrees to 1e-12', async () => {
    const model = new Sequential(
      new Linear(6, 12, { dtype: 'float64', seed: 10 }), new LayerNorm(12, { dtype: 'float64' }), new Tanh(),
      new Linear(12, 12, { dtype: 'float64', seed: 11 }), new GELU({ approximate: 'tanh' }), new Softplus({ beta: 2 }),
      new Linear(12, 12, { dtype: 'float64', seed: 12 }), new LeakyReLU(0.01), new Sigmoid(),
      new Linear(12, 4, { dtype: 'float64', seed: 13 }), new LogSoftmax(),
    );
    trainBriefly(model, 6, 4, 'float64');
    for (const opset of [17, 20]) {
      const bytes = await expectSameOutputs(model, { inputShape: [null, 6], opset }, [1, 7], 1e-12);
      const initializers = decode(bytes).graph!.initializer;
      expect(new Set(initializers.map((t) => t.dataType))).toEqual(new Set([11]));
      expect(initializers.map((t) => t.name)).toContain('0.weight');
    }
  });

  test('float64 exact GELU agrees to 1e-6 (ONNX Runtime runs Erf in float32 only)', async () => {
    const model = new Sequential(new Linear(5, 9, { dtype: 'float64', seed: 14 }), new GELU(), new Linear(9, 3, { dtype: 'float64', seed: 15 }));
    for (const opset of [17, 20]) await expectSameOutputs(model, { inputShape: [null, 5], opset }, [8], 1e-6);
  });

  test('float32 initializers are FLOAT, named by parameter path, with PyTorch-layout weights', () => {
    const model = new MLP([3, 4, 2], { seed: 13 });
    const graph = decode(exportOnnx(model, { inputShape: [null, 3] })).graph!;
    const byName = new Map(graph.initializer.map((t) => [t.name, t]));
    expect([...byName.keys()]).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
    const w = byName.get('layers.0.weight')!;
    expect(w.dataType).toBe(1);
    expect(w.dims).toEqual([4n, 3n]);
    assertClose(new Float32Array(w.rawData.slice().buffer), model.layers.at(0).parameters()[0]!.data, 0);
  });

  test('LeakyReLU, Softplus with beta and its threshold, Identity', async () => {
    const model = new Sequential(
      new Linear(4, 16, { seed: 14 }), new LeakyReLU(0.2), new Identity(), new Linear(16, 16, { seed: 15 }),
      new Softplus(), new Softplus({ beta: 3, threshold: 5 }),
    );
    // Scaled inputs push some values past each Softplus threshold.
    await expectSameOutputs(model, { inputShape: [null, 4] }, [32], 1e-5, 1, 20);
  });

  test('Flatten of [batch, 2, 3, 4] feeds a Linear through Flatten(axis=1)', async () => {
    const model = new Sequential(new Flatten(), new Linear(24, 5, { seed: 16 }), new Sigmoid());
    const bytes = await expectSameOutputs(model, { inputShape: [null, 2, 3, 4] }, [3]);
    expect(opTypes(bytes)).toEqual(['Flatten', 'Gemm', 'Sigmoid']);
  });

  test('a Linear on a rank-3 input is MatMul with a transposed weight, plus Add', async () => {
    const model = new Sequential(new Linear(6, 4, { seed: 17 }), new Tanh(), new Linear(4, 3, { bias: false, seed: 18 }));
    const bytes = await expectSameOutputs(model, { inputShape: [null, 5, 6] }, [2]);
    expect(opTypes(bytes)).toEqual(['MatMul', 'Add', 'Tanh', 'MatMul']);
    expect(decode(bytes).graph!.initializer.map((t) => [t.name, t.dims])).toEqual([
      ['0.weight_t', [6n, 4n]], ['0.bias', [4n]], ['2.weight_t', [4n, 3n]],
    ]);
  });

  test('BatchNorm1d exports its evaluation-mode normalisation with the running statistics', async () => {
    const model = new Sequential(new Linear(5, 8, { seed: 19 }), new BatchNorm1d(8), new ReLU(), new Linear(8, 2, { seed: 20 }));
    trainBriefly(model, 5, 2); // moves the running statistics away from 0 and 1
    const bytes = await expectSameOutputs(model, { inputShape: [null, 5] }, [1, 6]);
    expect(opTypes(bytes)).toEqual(['Gemm', 'BatchNormalization', 'Relu', 'Gemm']);
    const noAffine = new Sequential(new BatchNorm1d(3, { affine: false }));
    for (let i = 0; i < 3; i++) noAffine.forward(randn([8, 3], { seed: 300 + i }).mul(2).add(1));
    await expectSameOutputs(noAffine, { inputShape: [null, 3] }, [4]);
  });

  test('a layer shared by two positions is stored once', async () => {
    const shared = new Linear(4, 4, { seed: 21 });
    const model = new Sequential(shared, new Tanh(), shared);
    const bytes = await expectSameOutputs(model, { inputShape: [null, 4] }, [3]);
    expect(decode(bytes).graph!.initializer.map((t) => t.name)).toEqual(['0.weight', '0.bias']);
  });

  test('input and output names, dims and dtype are declared in the graph', async () => {
    const model = new MLP([3, 2], { seed: 22 });
    const bytes = exportOnnx(model, { inputShape: ['n', 3], inputName: 'features', outputName: 'logits' });
    const graph = decode(bytes).graph!;
    const dims = (v: (typeof graph.input)[number]) =>
      v.type!.value.case === 'tensorType' ? v.type!.value.value.shape!.dim.map((d) => d.value.value) : [];
    expect(graph.input.map((v) => v.name)).toEqual(['features']);
    expect(graph.output.map((v) => v.name)).toEqual(['logits']);
    expect(dims(graph.input[0]!)).toEqual(['n', 3n]);
    expect(dims(graph.output[0]!)).toEqual(['n', 2n]);
    expect(decode(bytes).opsetImport.map((o) => [o.domain, o.version])).toEqual([['', 17n]]);
    const x = randn([4, 3], { seed: 0 });
    const got = await runOnnx(bytes, x, { input: 'features', output: 'logits' });
    assertClose(got.data, reference(model, x).data, 0, 1e-5);
  });

  test('a model of identities passes its input through', async () => {
    await expectSameOutputs(new Sequential(new Dropout(0.3), new Identity()), { inputShape: [null, 3] }, [2]);
    await expectSameOutputs(new Sequential(new ReLU()), { inputShape: [null, 3], dtype: 'float64' }, [2]);
  });

  test('every opset from 17 to 22 loads and computes the same', async () => {
    const model = new Sequential(new Linear(4, 6, { seed: 23 }), new LayerNorm(6), new GELU(), new Linear(6, 3, { seed: 24 }), new LogSoftmax());
    for (let opset = 17; opset <= 22; opset++) await expectSameOutputs(model, { inputShape: [null, 4], opset }, [3]);
  });

  test('saveOnnx writes the file ONNX Runtime loads by path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chainrule-onnx-'));
    try {
      const model = new MLP([4, 8, 2], { seed: 25 });
      const path = join(dir, 'model.onnx');
      const bytes = saveOnnx(path, model, { inputShape: [null, 4] });
      expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
      const x = randn([3, 4], { seed: 2 });
      assertClose((await runOnnx(path, x)).data, reference(model, x).data, 1e-5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('@chainrule/nn/onnx in a browser', () => {
  test('bundles for the browser; the one Node global it reaches sits behind a typeof guard', async () => {
    const { GUARDED_GLOBALS, findNodeDependencies } = await import('../../../scripts/browser-bundle.mjs');
    // @bufbuild/protobuf reads process.env.BUF_BIGINT_DISABLE, but only once `typeof process` is
    // "object": the checker allows that one module, and only while the typeof test is in it.
    expect(GUARDED_GLOBALS['@bufbuild/protobuf/dist/esm/proto-int64.js']).toEqual(['process']);
    expect(await findNodeDependencies('packages/nn/src/onnx.ts')).toEqual([]);
    const leaked = await findNodeDependencies({ contents: "import { exportOnnx } from '@chainrule/nn/onnx'; export const f = [exportOnnx, process.pid];", sourcefile: 'page.ts', resolveDir: 'examples' });
    expect(leaked).toEqual(["examples/page.ts uses the Node global 'process'"]);
  });
});

describe('exportOnnx: what it refuses, and how it says so', () => {
  class Scale extends Module {
    forward(x: Tensor): Tensor {
      return x.mul(2);
    }
  }

  test('an unsupported module names itself and its path', () => {
    const model = new Sequential(new Linear(2, 3), new ReLU(), new Scale(), new Linear(3, 1));
    expect(() => exportOnnx(model, { inputShape: [null, 2] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(model, { inputShape: [null, 2] })).toThrow('exportOnnx: 2 (Scale) is not supported');
    const mlp = new MLP([2, 3, 1], { activation: () => new Scale() });
    expect(() => exportOnnx(mlp, { inputShape: [null, 2] })).toThrow('exportOnnx: layers.1 (Scale) is not supported');
    expect(() => exportOnnx(new Scale(), { inputShape: [null, 2] })).toThrow('exportOnnx: the model (Scale) is not supported');
  });

  test('a subclass of a supported layer is not taken for its parent (its forward may differ)', () => {
    class ShiftedReLU extends ReLU {
      override forward(x: Tensor): Tensor {
        return super.forward(x).add(1);
      }
    }
    expect(() => exportOnnx(new Sequential(new ShiftedReLU()), { inputShape: [null, 2] })).toThrow('exportOnnx: 0 (ShiftedReLU) is not supported');
  });

  test('a forward replaced on the instance or on the class is refused, naming the module path', () => {
    const relu = new ReLU();
    relu.forward = (x: Tensor): Tensor => x.mul(3);
    const model = new Sequential(new Linear(2, 2), new Sequential(new Tanh(), relu));
    expect(() => exportOnnx(model, { inputShape: [null, 2] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(model, { inputShape: [null, 2] })).toThrow('exportOnnx: 1.1 (ReLU) has its forward replaced on the instance');
    // Replacing a container's forward is refused too: the export walks its children in order.
    const seq = new Sequential(new Linear(2, 2));
    seq.forward = (x: Tensor): Tensor => x;
    expect(() => exportOnnx(seq, { inputShape: [null, 2] })).toThrow('exportOnnx: the model (Sequential) has its forward replaced on the instance');
    const original = Tanh.prototype.forward;
    try {
      Tanh.prototype.forward = function (x: Tensor): Tensor {
        return x;
      };
      expect(() => exportOnnx(new Sequential(new Tanh()), { inputShape: [null, 2] })).toThrow('exportOnnx: 0 (Tanh) has its forward replaced on its class');
    } finally {
      Tanh.prototype.forward = original;
    }
    // Put back, it exports again.
    delete (relu as { forward?: unknown }).forward;
    expect(exportOnnx(model, { inputShape: [null, 2] }).length).toBeGreaterThan(0);
  });

  test('graph names from options: any well-formed string is kept as given, others and unknown options are refused', async () => {
    const model = new MLP([2, 2], { seed: 0 });
    for (const [inputName, outputName, dim] of [['__proto__', 'constructor', 'toString'], ['hasOwnProperty', 'valueOf', '🦀'], ['a.b/c', ' ', 'x'.repeat(1000)]] as const) {
      const bytes = exportOnnx(model, { inputShape: [dim, 2], inputName, outputName });
      const graph = decode(bytes).graph!;
      expect(graph.input[0]!.name).toBe(inputName);
      expect(graph.output[0]!.name).toBe(outputName);
      const session = await ort.InferenceSession.create(bytes);
      expect(session.inputNames).toEqual([inputName]);
    }
    expect(() => exportOnnx(model, { inputShape: [null, 2], inputName: 'a\ud800' })).toThrow('exportOnnx: inputName must be a non-empty, well-formed string');
    expect(() => exportOnnx(model, { inputShape: ['\udc00', 2] })).toThrow('exportOnnx: inputShape[0]');
    expect(() => exportOnnx(model, { inputShape: [null, 2], opst: 18 } as ExportOnnxOptions)).toThrow("exportOnnx: unknown option(s) 'opst'");
    expect(() => exportOnnx(model, JSON.parse('{"inputShape":[null,2],"__proto__":{"opset":99}}') as ExportOnnxOptions)).toThrow("unknown option(s) '__proto__'");
  });

  test('BatchNorm1d without running statistics is refused', () => {
    const model = new Sequential(new Linear(2, 3), new BatchNorm1d(3, { trackRunningStats: false }));
    expect(() => exportOnnx(model, { inputShape: [null, 2] })).toThrow(/1 \(BatchNorm1d\) is not supported without running statistics/);
  });

  test('shapes that do not fit the layers', () => {
    const model = new MLP([4, 3, 2], { seed: 0 });
    expect(() => exportOnnx(model, { inputShape: [null, 5] })).toThrow(ShapeError);
    expect(() => exportOnnx(model, { inputShape: [null, 5] })).toThrow('layers.0 (Linear) expects 4 input features, got shape ["batch",5]');
    expect(() => exportOnnx(new Sequential(new LayerNorm(4)), { inputShape: [null, 3] })).toThrow(ShapeError);
    expect(() => exportOnnx(new Sequential(new Softmax(2)), { inputShape: [null, 3] })).toThrow(/axis 2, out of range/);
    expect(() => exportOnnx(new Sequential(new BatchNorm1d(4)), { inputShape: [null, 3] })).toThrow(ShapeError);
  });

  test('dtypes: one per graph', () => {
    const mixed = new Sequential(new Linear(2, 2), new Linear(2, 2, { dtype: 'float64' }));
    expect(() => exportOnnx(mixed, { inputShape: [null, 2] })).toThrow(DTypeError);
    expect(() => exportOnnx(mixed, { inputShape: [null, 2] })).toThrow("float32 ('0.weight') and float64 ('1.weight')");
    expect(() => exportOnnx(new Linear(2, 2), { inputShape: [null, 2], dtype: 'float64' })).toThrow(DTypeError);
    expect(() => exportOnnx(new Sequential(new Linear(2, 2), new LayerNorm(2, { dtype: 'float64' })), { inputShape: [null, 2] })).toThrow(DTypeError);
  });

  test('options are checked', () => {
    const model = new MLP([2, 1]);
    const bad: [Partial<ExportOnnxOptions>, RegExp][] = [
      [{ inputShape: [] }, /inputShape must be a non-empty array/],
      [{ inputShape: [null, -1] }, /inputShape\[1\] must be a non-negative integer/],
      [{ inputShape: [null, 2.5] }, /inputShape\[1\]/],
      [{ inputShape: [null, 2], opset: 16 }, /opset must be an integer from 17 to 22, got 16/],
      [{ inputShape: [null, 2], opset: 23 }, /opset must be an integer from 17 to 22/],
      [{ inputShape: [null, 2], inputName: '' }, /inputName must be a non-empty, well-formed string/],
      [{ inputShape: [null, 2], inputName: 'x', outputName: 'x' }, /must differ/],
      [{ inputShape: [null, 2], dtype: 'int32' as DType }, /dtype must be 'float32' or 'float64'/],
    ];
    for (const [options, message] of bad) {
      expect(() => exportOnnx(model, options as ExportOnnxOptions)).toThrow(ArgumentError);
      expect(() => exportOnnx(model, options as ExportOnnxOptions)).toThrow(message);
    }
    expect(() => exportOnnx({} as Module, { inputShape: [null, 2] })).toThrow(/model must be a Module/);
  });
});

/** A few SGD steps on random data, so normalisation layers hold learned, non-default values. */
function trainBriefly(model: Module, inFeatures: number, outFeatures: number, dtype: DType = 'float32'): void {
  const optimizer = new SGD(model.parameters(), { lr: 0.1 });
  model.train();
  for (let step = 0; step < 5; step++) {
    const x = randn([16, inFeatures], { dtype, seed: 100 + step }).mul(3).add(1);
    const y = randn([16, outFeatures], { dtype, seed: 200 + step });
    model.zeroGrad();
    mseLoss(model.forward(x), y).backward();
    optimizer.step();
  }
  model.eval();
}
