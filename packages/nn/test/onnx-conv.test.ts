// Convolution, pooling, normalisation, reshaping and embedding layers exported to ONNX: every
// graph runs in ONNX Runtime (CPU) and must give chainrule's evaluation-mode output.
import { describe, expect, test } from 'vitest';
import { DTypeError, ShapeError, randn, tensor, type DType, type Tensor } from '@chainrule/autograd';
import {
  AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, BatchNorm2d, Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Dropout2d, Embedding, Flatten,
  GroupNorm, InstanceNorm2d, Linear, MaxPool1d, MaxPool2d, Module, ModuleDict, ModuleList, ReLU, RMSNorm, Sequential, Tanh, Unflatten, init, type AnyModule,
} from '@chainrule/nn';
import { exportOnnx, OnnxExportError, type ExportOnnxOptions } from '@chainrule/nn/onnx';
import { decode, expectAgrees, opTypes } from './onnx-helpers.js';

const x4 = (shape: number[], seed: number, dtype: DType = 'float32'): Tensor => randn(shape, { dtype, seed }).mul(2);

/** Random affine parameters, so a normalisation's scale and shift are not ones and zeros. */
function randomize(m: AnyModule, seed: number): void {
  for (const [i, p] of m.parameters().entries()) init.uniform(p, 0.5, 1.5, { seed: seed + i });
}

/** Batches through the model in training, so its running statistics move away from 0 and 1. */
function runningStats(m: AnyModule, shape: number[], dtype: DType = 'float32'): void {
  m.train();
  for (let i = 0; i < 3; i++) (m as Module).forward(randn(shape, { dtype, seed: 50 + i }).mul(3).add(1));
  m.eval();
}

const opts = (inputShape: ExportOnnxOptions['inputShape'], more: Partial<ExportOnnxOptions> = {}): ExportOnnxOptions => ({ inputShape, ...more });

describe('exportOnnx: convolutions', () => {
  test('Conv2d with strides, paddings, dilation and groups, on a dynamic batch', async () => {
    const configs = [
      { stride: 2, padding: 1 },
      { stride: [1, 2], padding: [2, 0], dilation: [2, 1] },
      { padding: 'same' as const }, // a 4x4 kernel: PyTorch pads one more after than before
      { padding: 'valid' as const, bias: false },
      { groups: 2, padding: 1 },
      { groups: 4, padding: 'same' as const, dilation: 2 }, // depthwise
    ];
    for (const [i, c] of configs.entries()) {
      const conv = new Conv2d(4, c.groups === 4 ? 8 : 6, c.padding === 'same' && c.groups === undefined ? 4 : 3, { ...c, seed: i });
      const bytes = await expectAgrees(conv, opts([null, 4, 9, 8]), [x4([1, 4, 9, 8], i), x4([3, 4, 9, 8], 10 + i)], 1e-5);
      expect(opTypes(bytes)).toEqual(['Conv']);
    }
  });

  test('Conv2d with reflect, replicate and circular padding is Pad, then Conv; circular needs opset 19', async () => {
    for (const [mode, onnx] of [['reflect', 'reflect'], ['replicate', 'edge'], ['circular', 'wrap']] as const) {
      for (const padding of [[1, 2], 'same'] as const) {
        const conv = new Conv2d(2, 3, 3, { padding: padding === 'same' ? 'same' : [...padding], paddingMode: mode, dilation: padding === 'same' ? [1, 2] : 1, seed: 3 });
        const bytes = await expectAgrees(conv, opts([null, 2, 6, 7], { opset: 19 }), [x4([2, 2, 6, 7], 1)], 1e-5);
        expect(opTypes(bytes)).toEqual(['Pad', 'Conv']);
        expect(decode(bytes).graph!.node[0]!.attribute.map((a) => new TextDecoder().decode(a.s))).toEqual([onnx]);
      }
    }
    const circular = new Sequential(new Conv2d(2, 3, 3, { padding: 1, paddingMode: 'circular' }));
    expect(() => exportOnnx(circular, opts([null, 2, 6, 7]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(circular, opts([null, 2, 6, 7]))).toThrow("0 (Conv2d) with paddingMode 'circular' needs Pad's 'wrap' mode, from opset 19 (got opset 17)");
    // Without padding there is nothing to pad, in any mode.
    expect(opTypes(exportOnnx(new Conv2d(2, 3, 3, { paddingMode: 'reflect' }), opts([null, 2, 6, 7])))).toEqual(['Conv']);
  });

  test('Conv1d with stride, same padding and groups', async () => {
    for (const [i, c] of [{ stride: 2, padding: 2 }, { padding: 'same' as const, dilation: 3 }, { groups: 3, padding: 'valid' as const }, { padding: 1, paddingMode: 'reflect' as const }].entries()) {
      const conv = new Conv1d(3, 6, 4, { ...c, seed: i });
      await expectAgrees(conv, opts([null, 3, 11]), [x4([2, 3, 11], i)], 1e-5);
    }
  });

  test('ConvTranspose2d with stride, padding, outputPadding, dilation and groups', async () => {
    const configs = [{ stride: 2 }, { stride: 2, padding: 1, outputPadding: 1 }, { stride: [3, 2], padding: [1, 0], outputPadding: [2, 1], dilation: [1, 2] }, { groups: 2, stride: 2, bias: false }];
    for (const [i, c] of configs.entries()) {
      const conv = new ConvTranspose2d(4, 6, 3, { ...c, seed: i });
      const bytes = await expectAgrees(conv, opts([null, 4, 5, 4]), [x4([2, 4, 5, 4], i)], 1e-5);
      expect(opTypes(bytes)).toEqual(['ConvTranspose']);
    }
  });

  test('ConvTranspose1d with stride, padding, outputPadding, dilation and groups, on a static or symbolic length', async () => {
    const configs = [
      {}, { stride: 2 }, { stride: 3, padding: 1, outputPadding: 2 }, { stride: 2, padding: 2, outputPadding: 1, dilation: 3 },
      { groups: 2, stride: 2, bias: false }, { groups: 4, dilation: 2, padding: 1 },
    ];
    for (const [i, c] of configs.entries()) {
      const conv = new ConvTranspose1d(4, c.groups === 4 ? 8 : 6, 3, { ...c, seed: i });
      for (const inputShape of [[null, 4, 5], ['n', 4, 'len']]) {
        const bytes = await expectAgrees(conv, opts(inputShape), [x4([2, 4, 5], i), x4([1, 4, 9], 20 + i)].filter((x) => inputShape[2] !== 5 || x.shape[2] === 5), 1e-5);
        expect(opTypes(bytes)).toEqual(['ConvTranspose']);
      }
    }
    const graph = decode(exportOnnx(new ConvTranspose1d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }), opts(['n', 4, 10]))).graph!;
    const out = graph.output[0]!.type!.value;
    expect(out.case === 'tensorType' ? out.value.shape!.dim.map((d) => d.value.value) : []).toEqual(['n', 2n, 20n]);
    expect(() => exportOnnx(new Sequential(new ConvTranspose1d(4, 2, 3)), opts([4, 5]))).toThrow('0 (ConvTranspose1d) expects [N, 4, L] (ONNX has no unbatched form), got shape [4,5]');
    expect(() => exportOnnx(new ConvTranspose1d(4, 2, 3, { padding: 3 }), opts([null, 4, 1]))).toThrow("the model (ConvTranspose1d)'s padding leaves no output");
  });

  test('a convolution needs a batched input of its channels; the output shape is declared', () => {
    expect(() => exportOnnx(new Sequential(new Conv2d(3, 4, 3)), opts([3, 8, 8]))).toThrow(ShapeError);
    expect(() => exportOnnx(new Sequential(new Conv2d(3, 4, 3)), opts([3, 8, 8]))).toThrow('0 (Conv2d) expects [N, 3, H, W] (ONNX has no unbatched form), got shape [3,8,8]');
    expect(() => exportOnnx(new Conv2d(3, 4, 3), opts([null, 2, 8, 8]))).toThrow('the model (Conv2d) expects [N, 3, H, W]');
    expect(() => exportOnnx(new Conv2d(3, 4, 5), opts([null, 3, 4, 8]))).toThrow(/window of 5 larger than the padded input \(4 \+ 0\)/);
    const graph = decode(exportOnnx(new Conv2d(3, 4, 3, { stride: 2 }), opts(['n', 3, 'h', 9]))).graph!;
    const out = graph.output[0]!.type!.value;
    expect(out.case === 'tensorType' ? out.value.shape!.dim.map((d) => d.value.value) : []).toEqual(['n', 4n, undefined, 4n]);
  });
});

describe('exportOnnx: pooling', () => {
  test('MaxPool2d with stride, padding, dilation and ceil mode', async () => {
    const configs = [
      [2, {}], [3, { stride: 2, padding: 1 }], [3, { stride: 2, ceilMode: true }], [2, { dilation: 2, stride: 1, padding: 1 }],
      // ceil mode where the last window would start in the trailing padding: PyTorch drops it.
      [2, { stride: 2, padding: 1, ceilMode: true }],
    ] as const;
    for (const [k, c] of configs) {
      const bytes = await expectAgrees(new MaxPool2d(k, c), opts([null, 2, 6, 7]), [x4([2, 2, 6, 7], 1)], 0);
      expect(opTypes(bytes)).toEqual(['MaxPool']);
    }
  });

  test('MaxPool1d with stride, padding, dilation and ceil mode, float32 and float64', async () => {
    const configs = [
      [2, {}], [3, { stride: 2, padding: 1 }], [3, { stride: 2, ceilMode: true }], [2, { dilation: 3, stride: 1, padding: 1 }],
      [2, { stride: 2, padding: 1, ceilMode: true }], [4, { stride: 3, padding: 2, dilation: 2, ceilMode: true }],
    ] as const;
    for (const [k, c] of configs) {
      for (const dtype of ['float32', 'float64'] as const) {
        const bytes = await expectAgrees(new MaxPool1d(k, c), opts([null, 3, 11], { dtype }), [x4([2, 3, 11], 1, dtype)], 0);
        expect(opTypes(bytes)).toEqual(['MaxPool']);
        expect(decode(bytes).graph!.node[0]!.attribute.find((a) => a.name === 'kernel_shape')!.ints).toEqual([BigInt(k)]);
      }
      // A symbolic length: the runtime sizes the output.
      await expectAgrees(new MaxPool1d(k, c), opts(['n', 3, 'len']), [x4([1, 3, 12], 2), x4([2, 3, 9], 3)], 0);
    }
    expect(() => exportOnnx(new Sequential(new MaxPool1d(2)), opts([null, 3, 4, 4]))).toThrow('0 (MaxPool1d) expects [N, C, L] (ONNX has no unbatched form), got shape ["batch",3,4,4]');
  });

  test('AvgPool1d with stride, padding, countIncludePad and ceil mode', async () => {
    const configs = [
      [2, {}], [3, { stride: 2, padding: 1 }], [3, { stride: 2, padding: 1, countIncludePad: false }], [3, { stride: 2, ceilMode: true }],
      [3, { stride: 2, padding: 1, ceilMode: true }], [4, { stride: 3, padding: 2, ceilMode: true, countIncludePad: false }],
    ] as const;
    for (const [k, c] of configs) {
      const bytes = await expectAgrees(new AvgPool1d(k, c), opts([null, 3, 11]), [x4([2, 3, 11], 4)], 1e-6);
      expect(opTypes(bytes)).toEqual(['AveragePool']);
      await expectAgrees(new AvgPool1d(k, c), opts(['n', 3, 'len']), [x4([1, 3, 12], 5), x4([2, 3, 8], 6)], 1e-6);
    }
  });

  test('AvgPool2d with countIncludePad, ceil mode and divisorOverride', async () => {
    const configs = [
      [2, {}], [3, { stride: 2, padding: 1 }], [3, { stride: 2, padding: 1, countIncludePad: false }],
      [3, { stride: 2, ceilMode: true }], [3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: true }],
      [3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }],
      [2, { divisorOverride: 3 }], [3, { padding: 1, stride: 2, divisorOverride: 5, countIncludePad: false }],
    ] as const;
    for (const [k, c] of configs) {
      const bytes = await expectAgrees(new AvgPool2d(k, c), opts([null, 2, 7, 6]), [x4([2, 2, 7, 6], 2)], 1e-6);
      expect(opTypes(bytes)).toEqual('divisorOverride' in c ? ['AveragePool', 'Mul'] : ['AveragePool']);
    }
    // Ceil mode with a window past the padding would need another divisor there.
    const model = new Sequential(new AvgPool2d(3, { stride: 2, ceilMode: true, divisorOverride: 2 }));
    expect(() => exportOnnx(model, opts([null, 2, 6, 6]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(model, opts([null, 2, 6, 6]))).toThrow('0 (AvgPool2d) with divisorOverride and ceilMode is not supported for input ["batch",2,6,6]');
    // ... and without such a window it exports.
    await expectAgrees(model, opts([null, 2, 7, 7]), [x4([1, 2, 7, 7], 3)], 1e-6);
  });

  test('AdaptiveAvgPool2d: GlobalAveragePool to 1x1, AveragePool where the input divides, else an error', async () => {
    const global = await expectAgrees(new AdaptiveAvgPool2d(1), opts([null, 3, 'h', 'w']), [x4([2, 3, 5, 7], 4), x4([1, 3, 4, 4], 5)], 1e-6);
    expect(opTypes(global)).toEqual(['GlobalAveragePool']);
    for (const size of [[2, 3], [null, 2], [4, 1], [4, 6]] as const) {
      const bytes = await expectAgrees(new AdaptiveAvgPool2d([...size]), opts([null, 3, 4, 6]), [x4([2, 3, 4, 6], 6)], 1e-6);
      expect(opTypes(bytes)).toEqual(size[0] === 4 && size[1] === 6 ? ['Identity'] : ['AveragePool']);
    }
    const odd = new Sequential(new AdaptiveAvgPool2d(3));
    expect(() => exportOnnx(odd, opts([null, 3, 4, 6]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(odd, opts([null, 3, 4, 6]))).toThrow('0 (AdaptiveAvgPool2d) to 3 needs input sizes the output divides (then it is an AveragePool), got shape ["batch",3,4,6]');
    expect(() => exportOnnx(odd, opts([null, 3, 'h', 6]))).toThrow(OnnxExportError);
  });
  test('AdaptiveMaxPool2d: GlobalMaxPool to 1x1, MaxPool where the input divides, else an error naming why', async () => {
    for (const size of [1, [1, 1]] as const) {
      const global = await expectAgrees(new AdaptiveMaxPool2d(size), opts([null, 3, 'h', 'w']), [x4([2, 3, 5, 7], 4), x4([1, 3, 4, 4], 5)], 0);
      expect(opTypes(global)).toEqual(['GlobalMaxPool']);
    }
    for (const size of [[2, 3], [null, 2], [4, 1], [1, 2], [4, 6], [null, null]] as const) {
      for (const dtype of ['float32', 'float64'] as const) {
        const model = new AdaptiveMaxPool2d([...size]);
        const bytes = await expectAgrees(model, opts([null, 3, 4, 6], { dtype }), [x4([2, 3, 4, 6], 6, dtype)], 0);
        expect(opTypes(bytes)).toEqual((size[0] === 4 || size[0] === null) && (size[1] === 6 || size[1] === null) ? ['Identity'] : ['MaxPool']);
      }
    }
    // A size kept (null) may be dynamic: its window is 1 wide.
    await expectAgrees(new AdaptiveMaxPool2d([2, null]), opts([null, 3, 4, 'w']), [x4([2, 3, 4, 5], 7)], 0);
    const odd = new Sequential(new AdaptiveMaxPool2d(3));
    expect(() => exportOnnx(odd, opts([null, 3, 4, 6]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(odd, opts([null, 3, 4, 6]))).toThrow('0 (AdaptiveMaxPool2d) to 3 needs input sizes the output divides (then it is a MaxPool), got shape ["batch",3,4,6]');
    expect(() => exportOnnx(odd, opts([null, 3, 'h', 6]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(odd, opts([null, 3, 'h', 6]))).toThrow('0 (AdaptiveMaxPool2d) to 3 needs input sizes known at export that the output divides (then it is a MaxPool), got the dynamic shape ["batch",3,"h",6]');
    expect(() => exportOnnx(odd, opts([null, 3, 6]))).toThrow(ShapeError);
  });
});

describe('exportOnnx: normalisation', () => {
  test('BatchNorm2d uses its running statistics (BatchNormalization), with and without affine', async () => {
    for (const affine of [true, false]) {
      const model = new Sequential(new Conv2d(2, 4, 3, { seed: 1 }), new BatchNorm2d(4, { affine }), new ReLU());
      if (affine) randomize(model.at(1), 7);
      runningStats(model, [4, 2, 6, 6]);
      const bytes = await expectAgrees(model, opts([null, 2, 6, 6]), [x4([3, 2, 6, 6], 8)], 1e-5);
      expect(opTypes(bytes)).toEqual(['Conv', 'BatchNormalization', 'Relu']);
    }
    expect(() => exportOnnx(new BatchNorm2d(3, { trackRunningStats: false }), opts([null, 3, 4, 4]))).toThrow('the model (BatchNorm2d) is not supported without running statistics');
    expect(() => exportOnnx(new BatchNorm2d(3), opts([null, 3, 4]))).toThrow(ShapeError);
  });

  test('InstanceNorm2d: InstanceNormalization, or BatchNormalization when it tracks running statistics', async () => {
    for (const affine of [false, true]) {
      const norm = new InstanceNorm2d(3, { affine });
      randomize(norm, 9);
      expect(opTypes(await expectAgrees(norm, opts([null, 3, 5, 4]), [x4([2, 3, 5, 4], 10)], 1e-5))).toEqual(['InstanceNormalization']);
    }
    const tracked = new InstanceNorm2d(3, { trackRunningStats: true, affine: true });
    randomize(tracked, 11);
    runningStats(tracked, [2, 3, 5, 4]);
    expect(opTypes(await expectAgrees(tracked, opts([null, 3, 5, 4]), [x4([2, 3, 5, 4], 12)], 1e-5))).toEqual(['BatchNormalization']);
  });

  test('GroupNorm over 4-d and 2-d inputs, at opsets 17 (ReduceMean axes attribute) and 18 (input)', async () => {
    for (const opset of [17, 18]) {
      const norm = new GroupNorm(3, 6);
      randomize(norm, 13);
      await expectAgrees(norm, opts([null, 6, 3, 'w'], { opset }), [x4([2, 6, 3, 5], 14), x4([1, 6, 3, 2], 15).add(4)], 1e-5);
      const flat = new GroupNorm(2, 4, { affine: false, eps: 0.1 });
      await expectAgrees(flat, opts([null, 4], { opset }), [x4([3, 4], 16)], 1e-5);
    }
  });

  test('RMSNorm over one or two trailing axes, with its machine-epsilon default and an explicit eps', async () => {
    for (const opset of [17, 18]) {
      const norm = new RMSNorm(8);
      randomize(norm, 17);
      await expectAgrees(norm, opts([null, 'seq', 8], { opset }), [x4([2, 3, 8], 18)], 1e-5);
      await expectAgrees(new RMSNorm([2, 4], { eps: 0.5, elementwiseAffine: false }), opts([null, 2, 4], { opset }), [x4([3, 2, 4], 19).mul(0.1)], 1e-6);
    }
    expect(() => exportOnnx(new RMSNorm(8), opts([null, 7]))).toThrow('the model (RMSNorm) normalizes [8] but its input has shape ["batch",7]');
  });

  test('float64: the layers ONNX Runtime runs in double agree to 1e-12', async () => {
    // ONNX Runtime's CPU provider has no double kernels for Conv, ConvTranspose, AveragePool,
    // GlobalAveragePool or InstanceNormalization, so those layers are checked in float32 only
    // (a float64 model exports the same nodes with DOUBLE initializers, as checked below).
    const model = new Sequential(
      new MaxPool2d(2, { stride: 1, padding: 1 }), new BatchNorm2d(4, { dtype: 'float64' }), new GroupNorm(2, 4, { dtype: 'float64' }),
      new RMSNorm([4, 4, 4], { dtype: 'float64' }), new Flatten(2), new Unflatten(2, [4, 4]),
    );
    randomize(model, 20);
    runningStats(model, [3, 4, 3, 3], 'float64');
    await expectAgrees(model, opts([null, 4, 3, 3]), [x4([2, 4, 3, 3], 21, 'float64')], 1e-12);
    const conv = decode(exportOnnx(new Conv2d(2, 3, 3, { dtype: 'float64' }), opts([null, 2, 5, 5]))).graph!;
    expect(conv.initializer.map((t) => [t.name, t.dataType])).toEqual([['weight', 11], ['bias', 11]]);
  });
});

describe('exportOnnx: reshaping, channel dropout and embeddings', () => {
  test('Flatten over any axes, Unflatten (Reshape), and Dropout2d (the identity)', async () => {
    const cases: [AnyModule, ExportOnnxOptions['inputShape'], number[], string[]][] = [
      [new Flatten(), [null, 2, 3, 4], [2, 2, 3, 4], ['Flatten']],
      [new Flatten(2), [null, 2, 3, 4], [2, 2, 3, 4], ['Reshape']],
      [new Flatten(0, 1), [null, 'c', 3], [2, 5, 3], ['Reshape']],
      [new Flatten(1, 2), [null, 2, 3, 'w'], [2, 2, 3, 4], ['Shape', 'Shape', 'Concat', 'Reshape']],
      [new Flatten(-2, -1), [5, 2, 3], [5, 2, 3], ['Flatten']],
      [new Flatten(-3, -2), [5, 2, 3], [5, 2, 3], ['Reshape']],
      [new Flatten(0, -1), [null, 3], [4, 3], ['Reshape']],
      [new Unflatten(1, [2, -1]), [null, 12], [3, 12], ['Reshape']],
      [new Unflatten(-2, [3, 1, 2]), [null, 6, 'w'], [2, 6, 5], ['Shape', 'Shape', 'Concat', 'Reshape']],
      [new Unflatten(0, [2, 3]), [6, 4], [6, 4], ['Reshape']],
      [new Sequential(new Dropout2d(0.5), new Flatten(1, 1)), [null, 2, 3, 4], [2, 2, 3, 4], ['Identity']],
    ];
    for (const [model, inputShape, shape, ops] of cases) {
      model.train(); // the export is the model in evaluation, whatever its mode
      const bytes = await expectAgrees(model, opts(inputShape), [x4(shape, 22)], 0);
      expect(opTypes(bytes)).toEqual(ops);
    }
    expect(() => exportOnnx(new Flatten(2, 1), opts([null, 2, 3]))).toThrow('the model (Flatten) has no axes 2 to 1 in order for an input of shape ["batch",2,3]');
    expect(() => exportOnnx(new Unflatten(1, [5, -1]), opts([null, 12]))).toThrow(ShapeError);
    expect(() => exportOnnx(new Dropout2d(), opts([null, 12]))).toThrow(ShapeError);
  });

  test('Embedding is a Gather over an int32 input of indices, negative ones counted from the end', async () => {
    const emb = new Embedding(10, 4, { paddingIdx: 0, seed: 23 });
    const ids = tensor(new Int32Array([1, 0, 9, -1, 3, -10, 2, 2]), { shape: [2, 4] });
    const bytes = await expectAgrees(emb, opts([null, 'seq'], { inputDtype: 'int32' }), [ids], 0);
    expect(opTypes(bytes)).toEqual(['Gather']);
    const input = decode(bytes).graph!.input[0]!.type!.value;
    expect(input.case === 'tensorType' ? input.value.elemType : undefined).toBe(6); // INT32
    // Embedding, then a flattened bag of features into a classifier, in float64.
    const model = new Sequential(new Embedding(7, 3, { dtype: 'float64', seed: 24 }), new Flatten(), new Linear(15, 2, { dtype: 'float64', seed: 25 }), new Tanh());
    const tokens = tensor(new Int32Array([0, 6, 2, 2, 5, 1, 1, 3, 4, 0]), { shape: [2, 5] });
    await expectAgrees(model, opts([null, 5], { inputDtype: 'int32' }), [tokens], 1e-12);
  });

  test('integer inputs reach only an Embedding; maxNorm and float indices are refused', () => {
    expect(() => exportOnnx(new Sequential(new Linear(3, 2)), opts([null, 3], { inputDtype: 'int32' }))).toThrow(DTypeError);
    expect(() => exportOnnx(new Sequential(new Linear(3, 2)), opts([null, 3], { inputDtype: 'int32' }))).toThrow('0 (Linear) receives the int32 input; only an Embedding takes integer indices');
    expect(() => exportOnnx(new Sequential(new Embedding(5, 2)), opts([null, 3]))).toThrow("0 (Embedding) looks up int32 indices, but its input is float32; export with inputDtype: 'int32'");
    expect(() => exportOnnx(new Embedding(5, 2, { maxNorm: 1 }), opts([null, 3], { inputDtype: 'int32' }))).toThrow('the model (Embedding) with maxNorm=1 is not supported');
    expect(() => exportOnnx(new Linear(3, 2), opts([null, 3], { inputDtype: 'float64' }))).toThrow(/inputDtype must be the model's dtype \('float32'\) or 'int32'/);
  });

  test('ModuleList and ModuleDict hold modules but have no forward: a clear error', () => {
    const list = new Sequential(new Linear(2, 2), new ModuleList([new ReLU()]));
    expect(() => exportOnnx(list, opts([null, 2]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(list, opts([null, 2]))).toThrow('exportOnnx: 1 (ModuleList) is not supported: it only holds modules and has no forward');
    expect(() => exportOnnx(new ModuleDict({ a: new ReLU() }), opts([null, 2]))).toThrow('exportOnnx: the model (ModuleDict) is not supported');
  });
});

describe('exportOnnx: a LeNet-style CNN end to end', () => {
  function lenet(dtype: DType): Sequential {
    return new Sequential(
      new Conv2d(1, 6, 5, { padding: 2, dtype, seed: 1 }), new BatchNorm2d(6, { dtype }), new ReLU(), new MaxPool2d(2),
      new Conv2d(6, 16, 5, { dtype, seed: 2 }), new ReLU(), new AvgPool2d(2), new Dropout2d(0.25),
      new Flatten(), new Linear(400, 120, { dtype, seed: 3 }), new ReLU(), new Linear(120, 84, { dtype, seed: 4 }), new ReLU(), new Linear(84, 10, { dtype, seed: 5 }),
    );
  }

  test('float32, at batch sizes 1 and 3 of a dynamic batch axis', async () => {
    const model = lenet('float32');
    runningStats(model, [4, 1, 28, 28]);
    const bytes = await expectAgrees(model, opts([null, 1, 28, 28]), [x4([1, 1, 28, 28], 30), x4([3, 1, 28, 28], 31)], 1e-4);
    expect(opTypes(bytes)).toEqual(['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Conv', 'Relu', 'AveragePool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    const out = decode(bytes).graph!.output[0]!.type!.value;
    expect(out.case === 'tensorType' ? out.value.shape!.dim.map((d) => d.value.value) : []).toEqual(['batch', 10n]);
  });
});
