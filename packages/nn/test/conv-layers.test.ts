import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, DTypeError, ShapeError, gradcheck, gradgradcheck, ones, randn, tensor, type Tensor } from '@chainrule/autograd';
import { assertClose, seededTensor } from '@chainrule/autograd/testing';
import {
  AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, BatchNorm2d, CELU, Conv1d, ConvTranspose1d, ELU, Hardtanh, MaxPool1d, PReLU, Conv2d, ConvTranspose2d, Dropout2d, Embedding, Flatten, GroupNorm,
  InstanceNorm2d, Linear, MaxPool2d, RMSNorm, ReLU, SGD, Sequential, StateDictError, Unflatten, functionalCall, type Module,
  type PaddingMode,
} from '@chainrule/nn';
import { exportOnnx, OnnxExportError } from '@chainrule/nn/onnx';

// Small shapes and few runs: each case differentiates numerically, and twice for gradgradcheck.
const GRAD_RUNS = 8;
const GRADGRAD_RUNS = 3;

/** A module to check, the input's shape, and which of its tensors are differentiated besides the input. */
interface Setup {
  build: () => Module;
  input: number[];
  names: string[];
  /** Bounds of the generated values per tensor name ('input' for the input); default [-2, 2]. */
  ranges?: Record<string, [number, number]>;
}

/**
 * gradcheck and gradgradcheck (float64) of `forward` with respect to the input and the named
 * parameters or buffers, swapped in through functionalCall, for every setup `setups` generates.
 */
function checkModule(setups: fc.Arbitrary<Setup>): void {
  const property = (check: typeof gradcheck | typeof gradgradcheck, numRuns: number): void => {
    fc.assert(
      fc.property(setups, fc.noShrink(fc.integer()), (s, seed) => {
        const m = s.build();
        const own = Object.fromEntries([...m.namedParameters(), ...m.namedBuffers()]);
        const make = (name: string, shape: readonly number[], i: number): Tensor => {
          const [min, max] = s.ranges?.[name] ?? [-2, 2];
          return seededTensor(shape, seed + i, { min, max });
        };
        const inputs = [make('input', s.input, 0), ...s.names.map((n, i) => make(n, own[n]!.shape, i + 1))];
        // A fresh module per call: a seeded Dropout2d then draws the same mask every time.
        const f = (...t: Tensor[]): Tensor => functionalCall(s.build(), Object.fromEntries(s.names.map((n, i) => [n, t[i + 1]!])), t[0]!);
        const report = check === gradcheck ? gradcheck(f, inputs) : gradgradcheck(f, inputs);
        if (!report.ok) throw new Error(`${String(m)} on ${JSON.stringify(s.input)}: ${JSON.stringify(report.worst)}`);
      }),
      { numRuns },
    );
  };
  property(gradcheck, GRAD_RUNS);
  property(gradgradcheck, GRADGRAD_RUNS);
}

const int = (min: number, max: number) => fc.integer({ min, max });
const pair = (min: number, max: number) => fc.tuple(int(min, max), int(min, max));
const weightAndBias = (bias: boolean) => (bias ? ['weight', 'bias'] : ['weight']);

describe('gradients of the layers (gradcheck and gradgradcheck, float64, random shapes and options)', () => {
  test('Conv2d: strides, paddings and padding modes, dilations, groups, with and without bias', () => {
    const setups = fc
      .record({
        n: int(1, 2), groups: int(1, 2), cin: int(1, 2), cout: int(1, 2), k: pair(1, 3), stride: pair(1, 2), padding: int(0, 1),
        dilation: pair(1, 2), extra: pair(0, 2), bias: fc.boolean(), mode: fc.constantFrom<PaddingMode>('zeros', 'reflect', 'replicate', 'circular'),
      })
      .map((c): Setup => {
        const size = c.k.map((k, i) => Math.max(c.dilation[i]! * (k - 1) + 1 + c.extra[i]!, 2));
        const build = () => new Conv2d(c.cin * c.groups, c.cout * c.groups, c.k, {
          stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, bias: c.bias, paddingMode: c.mode, dtype: 'float64',
        });
        return { build, input: [c.n, c.cin * c.groups, ...size], names: weightAndBias(c.bias) };
      });
    checkModule(setups);
  });

  test("Conv1d, with padding 'same'", () => {
    const setups = fc.record({ n: int(1, 2), cin: int(1, 3), cout: int(1, 3), k: int(1, 4), l: int(1, 5), bias: fc.boolean() }).map((c): Setup => ({
      build: () => new Conv1d(c.cin, c.cout, c.k, { padding: 'same', bias: c.bias, dtype: 'float64' }),
      input: [c.n, c.cin, c.l],
      names: weightAndBias(c.bias),
    }));
    checkModule(setups);
  });

  test('ConvTranspose2d: strides, paddings, output paddings, dilations, groups', () => {
    const setups = fc
      .record({ n: int(1, 2), groups: int(1, 2), cin: int(1, 2), cout: int(1, 2), k: pair(1, 3), stride: int(1, 2), padding: int(0, 1), dilation: int(1, 2), op: int(0, 1), size: pair(1, 3), bias: fc.boolean() })
      .filter((c) => c.op < Math.max(c.stride, c.dilation) && c.size.every((s, i) => (s - 1) * c.stride - 2 * c.padding + c.dilation * (c.k[i]! - 1) + c.op + 1 > 0))
      .map((c): Setup => ({
        build: () => new ConvTranspose2d(c.cin * c.groups, c.cout * c.groups, c.k, {
          stride: c.stride, padding: c.padding, outputPadding: c.op, dilation: c.dilation, groups: c.groups, bias: c.bias, dtype: 'float64',
        }),
        input: [c.n, c.cin * c.groups, ...c.size],
        names: weightAndBias(c.bias),
      }));
    checkModule(setups);
  });

  test('MaxPool2d and AvgPool2d: kernels, strides, paddings, ceil mode, dilation, divisors', () => {
    const setups = fc
      .record({ max: fc.boolean(), k: int(1, 3), stride: int(1, 2), padding: int(0, 1), dilation: int(1, 2), ceil: fc.boolean(), include: fc.boolean(), divisor: fc.constantFrom(null, 2), extra: pair(0, 2) })
      .filter((c) => 2 * c.padding <= c.k)
      .map((c): Setup => {
        const span = c.max ? c.dilation * (c.k - 1) + 1 : c.k;
        const size = c.extra.map((e) => span + e);
        const build = (): Module => (c.max
          ? new MaxPool2d(c.k, { stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceil })
          : new AvgPool2d(c.k, { stride: c.stride, padding: c.padding, ceilMode: c.ceil, countIncludePad: c.include, divisorOverride: c.divisor }));
        return { build, input: [2, 2, ...size], names: [] };
      });
    checkModule(setups);
  });

  test('AdaptiveAvgPool2d to sizes smaller and larger than the input', () => {
    const setups = fc.record({ out: pair(1, 3), size: pair(1, 4) }).map((c): Setup => ({ build: () => new AdaptiveAvgPool2d([c.out[0], c.out[1]]), input: [1, 2, ...c.size], names: [] }));
    checkModule(setups);
  });

  test('BatchNorm2d in training (batch statistics) and evaluation (running statistics as inputs)', () => {
    const setups = fc.record({ training: fc.boolean(), n: int(1, 3), c: int(1, 3), size: pair(1, 3) }).filter((c) => c.n * c.size[0] * c.size[1] > 1).map((c): Setup => ({
      build: () => new BatchNorm2d(c.c, { dtype: 'float64' }).train(c.training),
      input: [c.n, c.c, ...c.size],
      names: c.training ? ['weight', 'bias'] : ['weight', 'bias', 'running_mean', 'running_var'],
      ranges: { running_var: [0.5, 2] },
    }));
    checkModule(setups);
  });

  test('GroupNorm over 3-D and 4-D inputs', () => {
    const setups = fc.record({ groups: int(1, 2), per: int(1, 2), n: int(1, 2), spatial: fc.array(int(1, 3), { minLength: 1, maxLength: 2 }), affine: fc.boolean() })
      .filter((c) => c.per * c.spatial.reduce((a, b) => a * b, 1) > 1)
      .map((c): Setup => ({
        build: () => new GroupNorm(c.groups, c.groups * c.per, { affine: c.affine, dtype: 'float64' }),
        input: [c.n, c.groups * c.per, ...c.spatial],
        names: c.affine ? ['weight', 'bias'] : [],
      }));
    checkModule(setups);
  });

  test('InstanceNorm2d, batched and unbatched, with running statistics in evaluation', () => {
    const setups = fc.record({ batched: fc.boolean(), c: int(1, 3), size: pair(1, 3), affine: fc.boolean(), training: fc.boolean() })
      .filter((c) => c.size[0] * c.size[1] > 1)
      .map((c): Setup => ({
        build: () => new InstanceNorm2d(c.c, { affine: c.affine, trackRunningStats: true, dtype: 'float64' }).train(c.training),
        input: [...(c.batched ? [2] : []), c.c, ...c.size],
        names: [...(c.affine ? ['weight', 'bias'] : []), ...(c.training ? [] : ['running_mean', 'running_var'])],
        ranges: { running_var: [0.5, 2] },
      }));
    checkModule(setups);
  });

  test('RMSNorm over one or two trailing axes, default or given eps', () => {
    const setups = fc.record({ lead: int(1, 3), shape: fc.array(int(1, 3), { minLength: 1, maxLength: 2 }), eps: fc.constantFrom(null, 1e-3), affine: fc.boolean() }).map((c): Setup => ({
      build: () => new RMSNorm(c.shape, { eps: c.eps, elementwiseAffine: c.affine, dtype: 'float64' }),
      input: [c.lead, ...c.shape],
      names: c.affine ? ['weight'] : [],
    }));
    checkModule(setups);
  });

  test('Dropout2d with a fixed mask, Flatten and Unflatten', () => {
    const setups = fc.record({ kind: int(0, 2), n: int(1, 3), c: int(1, 3), size: pair(1, 3) }).map((c): Setup => ({
      build: () => (c.kind === 0 ? new Dropout2d(0.5, { seed: 3 }) : c.kind === 1 ? new Flatten(1, 2) : new Unflatten(1, [1, c.c, 1])),
      input: [c.n, c.c, ...c.size],
      names: [],
    }));
    checkModule(setups);
  });

  test('Embedding: the gradient of the table (repeated indices summed)', () => {
    // NOTE: no paddingIdx here: its row feeds the output but gets no gradient, by design (as PyTorch).
    const emb = new Embedding(5, 3, { dtype: 'float64' });
    const idx = tensor([[0, 1, 4], [4, 2, 1]], { dtype: 'int32' });
    const w = seededTensor([5, 3], 7);
    const f = (t: Tensor): Tensor => functionalCall(emb, { weight: t }, idx).square();
    expect(gradcheck(f, [w]).ok).toBe(true);
    expect(gradgradcheck(f, [w]).ok).toBe(true);
  });
});

describe('initialisation, as PyTorch', () => {
  const bound = (t: Tensor): number => Math.max(...Array.from(t.data, Math.abs));

  test('convolutions: weight and bias in U(±1/√fan_in), fan_in from the weight axis 1 and kernel; a seed fixes them', () => {
    const conv = new Conv2d(8, 16, 3, { seed: 1 });
    const fanIn = 8 * 9;
    expect(conv.weight.shape).toEqual([16, 8, 3, 3]);
    expect(bound(conv.weight)).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    expect(bound(conv.weight)).toBeGreaterThan(0.95 / Math.sqrt(fanIn));
    expect(bound(conv.bias!)).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    expect(Array.from(new Conv2d(8, 16, 3, { seed: 1 }).weight.data)).toEqual(Array.from(conv.weight.data));
    const deconv = new ConvTranspose2d(4, 6, 2, { groups: 2, seed: 2 });
    expect(deconv.weight.shape).toEqual([4, 3, 2, 2]);
    expect(bound(deconv.weight)).toBeLessThanOrEqual(1 / Math.sqrt(3 * 4));
    expect(bound(deconv.weight)).toBeGreaterThan(0.8 / Math.sqrt(3 * 4));
    expect(new Conv1d(4, 8, 3, { groups: 4, bias: false }).weight.shape).toEqual([8, 1, 3]);
  });

  test('Embedding: N(0, 1) with the padding row zero; norms start at ones and zeros', () => {
    const emb = new Embedding(400, 8, { paddingIdx: -1, seed: 0 });
    expect(emb.paddingIdx).toBe(399);
    const w = Array.from(emb.weight.data);
    expect(w.slice(399 * 8)).toEqual(Array(8).fill(0));
    const rest = w.slice(0, 399 * 8);
    const mean = rest.reduce((a, b) => a + b, 0) / rest.length;
    const variance = rest.reduce((a, b) => a + (b - mean) ** 2, 0) / rest.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(variance - 1)).toBeLessThan(0.08);
    expect(Array.from(new GroupNorm(2, 4).weight!.data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(new RMSNorm(3).weight!.data)).toEqual([1, 1, 1]);
    expect(new InstanceNorm2d(3).namedParameters()).toEqual([]);
  });
});

describe('training and evaluation', () => {
  test('BatchNorm2d: batch statistics and running ones by hand; evaluation uses the running ones', () => {
    const bn = new BatchNorm2d(1, { dtype: 'float64' });
    // Channel values 1..8 over a batch of 2 and a 2×2 plane: mean 4.5, biased variance 5.25, unbiased 6.
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], { dtype: 'float64', shape: [2, 1, 2, 2] });
    const y = bn.forward(x);
    assertClose(y.data, [1, 2, 3, 4, 5, 6, 7, 8].map((v) => (v - 4.5) / Math.sqrt(5.25 + 1e-5)), 1e-12);
    assertClose(bn.runningMean!.data, [0.45], 1e-15);
    assertClose(bn.runningVar!.data, [0.9 + 0.6], 1e-15);
    expect(bn.numBatchesTracked!.dtype).toBe('int32');
    expect(Array.from(bn.numBatchesTracked!.data)).toEqual([1]);
    bn.eval();
    assertClose(bn.forward(x).data, [1, 2, 3, 4, 5, 6, 7, 8].map((v) => (v - 0.45) / Math.sqrt(1.5 + 1e-5)), 1e-12);
    expect(Array.from(bn.numBatchesTracked!.data)).toEqual([1]);
  });

  test('Dropout2d zeroes whole channels with probability p and scales the rest by 1/(1-p); identity in evaluation', () => {
    const p = 0.25;
    const drop = new Dropout2d(p, { seed: 5 });
    const x = ones([40, 50, 2, 3]);
    const y = drop.forward(x);
    let dropped = 0;
    for (let plane = 0; plane < 40 * 50; plane++) {
      const vals = Array.from(y.data.subarray(plane * 6, plane * 6 + 6));
      const first = vals[0]!;
      expect(vals.every((v) => v === first)).toBe(true);
      expect([0, Math.fround(1 / (1 - p))]).toContain(first);
      if (first === 0) dropped++;
    }
    // 2000 channels: the dropped share is p within 4 standard deviations (≈ 0.039).
    expect(Math.abs(dropped / 2000 - p)).toBeLessThan(0.04);
    expect(drop.eval().forward(x)).toBe(x);
    expect(Array.from(new Dropout2d(1).forward(x).data).every((v) => v === 0)).toBe(true);
  });

  test('InstanceNorm2d with running statistics updates them from the instances and uses them in evaluation', () => {
    const inorm = new InstanceNorm2d(1, { trackRunningStats: true, dtype: 'float64' });
    // Two instances: [1, 3] (mean 2, unbiased var 2) and [2, 6] (mean 4, unbiased var 8).
    inorm.forward(tensor([1, 3, 2, 6], { dtype: 'float64', shape: [2, 1, 1, 2] }));
    assertClose(inorm.runningMean!.data, [0.1 * 3], 1e-15);
    assertClose(inorm.runningVar!.data, [0.9 + 0.1 * 5], 1e-15);
    expect(Array.from(inorm.numBatchesTracked!.data)).toEqual([0]);
  });

  test('Embedding: the padding row gets no gradient and stays zero through training', () => {
    const emb = new Embedding(4, 2, { paddingIdx: 0, seed: 1 });
    const opt = new SGD(emb.parameters(), { lr: 0.5, momentum: 0.9 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      emb.forward(tensor([0, 1, 0, 3], { dtype: 'int32' })).square().sum().backward();
      expect(Array.from(emb.weight.grad!.data.subarray(0, 2))).toEqual([0, 0]);
      opt.step();
    }
    expect(Array.from(emb.weight.data.subarray(0, 2))).toEqual([0, 0]);
  });
});

describe('bad input: errors name the layer and the shapes, and leave the data as it was', () => {
  test('channels that do not divide by groups, and sizes out of range, at construction', () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow('Conv2d: groups=2 must divide inChannels=3 and outChannels=4');
    expect(() => new ConvTranspose2d(4, 3, 3, { groups: 2 })).toThrow('ConvTranspose2d: groups=2 must divide inChannels=4 and outChannels=3');
    expect(() => new Conv2d(3, 4, 0)).toThrow(/Conv2d: kernelSize must be an integer or 2 integers >= 1, got 0/);
    expect(() => new Conv2d(3, 4, 3, { padding: 'same', stride: 2 })).toThrow(/Conv2d: padding='same' is not supported for strided/);
    expect(() => new Conv1d(3, 4, 3, { paddingMode: 'mirror' as PaddingMode })).toThrow(/Conv1d: paddingMode must be one of/);
    expect(() => new ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 2 })).toThrow(/ConvTranspose2d: outputPadding 2 must be smaller than the stride/);
    expect(() => new GroupNorm(3, 4)).toThrow('GroupNorm: numChannels=4 must be divisible by numGroups=3');
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow(/MaxPool2d: padding 2 must be at most half the kernel size 2/);
    expect(() => new Embedding(3, 2, { paddingIdx: 3 })).toThrow('Embedding: paddingIdx must be an integer in [-3, 3), got 3');
    expect(() => new AdaptiveAvgPool2d(0)).toThrow(ArgumentError);
    expect(() => new Dropout2d(1.5)).toThrow('Dropout2d: p must be in [0, 1], got 1.5');
  });

  test('wrong rank, wrong channels, a kernel larger than the padded input: the layer, the op and both shapes', () => {
    const conv = new Conv2d(3, 4, 5, { padding: 1 });
    const small = randn([1, 3, 2, 2], { seed: 0 });
    const before = Array.from(small.data);
    expect(() => conv.forward(small)).toThrow(
      'Conv2d(3, 4, kernelSize=[5, 5], stride=[1, 1], padding=[1, 1]): conv2d: input [1,3,2,2] and weight [4,3,5,5]: kernel of size 5 (dilation 1) is larger than the padded input 4 (padding=[1,1])',
    );
    expect(Array.from(small.data)).toEqual(before);
    expect(() => conv.forward(randn([1, 2, 9, 9]))).toThrow(/Conv2d\(3, 4.*input \[1,2,9,9\] and weight \[4,3,5,5\]: weight expects 3 input channels/);
    expect(() => conv.forward(randn([9, 9]))).toThrow(ShapeError);
    expect(() => conv.forward(randn([1, 3, 9, 9], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => new MaxPool2d(3).forward(randn([1, 1, 2, 2]))).toThrow(/^MaxPool2d\(kernelSize=3.*maxPool2d: input \[1,1,2,2\]: kernel \[3,3\]/);
    expect(() => new BatchNorm2d(3).forward(randn([2, 3, 4]))).toThrow('BatchNorm2d(3): input must be [N, 3, H, W], got [2,3,4]');
    expect(() => new BatchNorm2d(3).forward(randn([1, 3, 1, 1]))).toThrow(/BatchNorm2d: expected more than 1 value per feature/);
    expect(() => new InstanceNorm2d(3).forward(randn([2, 4, 3, 3]))).toThrow('InstanceNorm2d(3): input must be [N, 3, H, W] or [3, H, W], got [2,4,3,3]');
    expect(() => new GroupNorm(2, 4).forward(randn([2, 3, 5]))).toThrow('GroupNorm(2, 4): input must be [N, 4, ...], got [2,3,5]');
    expect(() => new RMSNorm([3, 4]).forward(randn([2, 4, 3]))).toThrow('RMSNorm: input of shape [2,4,3] must end in [3,4]');
    expect(() => new Dropout2d().forward(randn([2, 3, 4]))).toThrow('Dropout2d(p=0.5): input must be [N, C, H, W], got [2,3,4]');
    expect(() => new Flatten(2, 1).forward(randn([2, 3, 4]))).toThrow(/Flatten\(startDim=2, endDim=1\): input \[2,3,4\]/);
    expect(() => new Unflatten(1, [2, 2]).forward(randn([2, 3]))).toThrow(/axis 1 of input \[2,3\] has size 3, which does not split into \[2,2\]/);
  });

  test('Embedding: float or out-of-range indices are refused, and maxNorm leaves the table alone then', () => {
    const emb = new Embedding(3, 2, { maxNorm: 0.1, seed: 0 });
    const before = Array.from(emb.weight.data);
    expect(() => emb.forward(tensor([0, 1]))).toThrow(/^Embedding\(3, 2, maxNorm=0.1\): embedding: index must be an int32 tensor/);
    expect(() => emb.forward(tensor([0, 5], { dtype: 'int32' }))).toThrow(ShapeError);
    expect(Array.from(emb.weight.data)).toEqual(before);
    // With valid indices, rows looked up are renormalised to maxNorm (PyTorch's 1e-7 in the divisor).
    emb.forward(tensor([2], { dtype: 'int32' }));
    const row = Array.from(emb.weight.data.subarray(4, 6));
    expect(Math.hypot(...row)).toBeCloseTo(0.1, 6);
    expect(Array.from(emb.weight.data.subarray(0, 4))).toEqual(before.slice(0, 4));
  });

  test('a state dict from a different architecture: every key with both shapes, and the model unchanged', () => {
    const model = new Sequential(new Conv2d(1, 4, 3, { seed: 0 }), new ReLU(), new Conv2d(4, 8, 3, { seed: 1 }));
    const other = new Sequential(new Conv2d(1, 4, 5, { seed: 2 }), new ReLU(), new Conv2d(4, 8, 3, { seed: 3 }));
    const before = Array.from((model.at(2) as Conv2d).weight.data);
    expect(() => model.loadStateDict(other.stateDict())).toThrow(StateDictError);
    expect(() => model.loadStateDict(other.stateDict())).toThrow(/'0.weight': shape \[4,1,5,5\] in the dict, \[4,1,3,3\] in the module \(parameter 'weight' of 0 \(Conv2d\)\)/);
    expect(Array.from((model.at(2) as Conv2d).weight.data)).toEqual(before);
  });

  test('ONNX export names a layer whose configuration it cannot express (the exported forms are checked in onnx-conv.test.ts)', () => {
    const cnn = new Sequential(new Conv2d(1, 2, 3, { padding: 1, paddingMode: 'circular' }), new ReLU(), new Flatten(), new Linear(32, 2));
    expect(() => exportOnnx(cnn, { inputShape: [null, 1, 4, 4] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(cnn, { inputShape: [null, 1, 4, 4] })).toThrow("exportOnnx: 0 (Conv2d) with paddingMode 'circular' needs Pad's 'wrap' mode, from opset 19");
    expect(exportOnnx(cnn, { inputShape: [null, 1, 4, 4], opset: 19 }).length).toBeGreaterThan(0);
  });
});

describe('descriptions, as PyTorch repr', () => {
  test('show the arguments in PyTorch order, non-defaults only where PyTorch leaves defaults out', () => {
    expect(String(new Conv2d(1, 6, 5))).toBe('Conv2d(1, 6, kernelSize=[5, 5], stride=[1, 1])');
    expect(String(new Conv2d(4, 8, [3, 1], { stride: 2, padding: [1, 0], dilation: 2, groups: 4, bias: false, paddingMode: 'circular' }))).toBe(
      "Conv2d(4, 8, kernelSize=[3, 1], stride=[2, 2], padding=[1, 0], dilation=[2, 2], groups=4, bias=false, paddingMode='circular')",
    );
    expect(String(new ConvTranspose2d(4, 2, 3, { stride: 2, outputPadding: 1 }))).toBe('ConvTranspose2d(4, 2, kernelSize=[3, 3], stride=[2, 2], outputPadding=[1, 1])');
    expect(String(new MaxPool2d(2))).toBe('MaxPool2d(kernelSize=2, stride=2, padding=0, dilation=1, ceilMode=false)');
    expect(String(new AvgPool2d(3, { stride: 1 }))).toBe('AvgPool2d(kernelSize=3, stride=1, padding=0)');
    expect(String(new BatchNorm2d(16))).toBe('BatchNorm2d(16, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)');
    expect(String(new GroupNorm(2, 4))).toBe('GroupNorm(2, 4, eps=0.00001, affine=true)');
    expect(String(new Embedding(10, 3, { paddingIdx: 0 }))).toBe('Embedding(10, 3, paddingIdx=0)');
  });
});

describe('1-D pooling, transposed 1-D convolution and adaptive max pooling: construction', () => {
  test('options are checked with the layer\'s name, and reprs', () => {
    expect(() => new MaxPool1d(2, { padding: 2 })).toThrow('MaxPool1d: padding 2 must be at most half the kernel size 2');
    expect(() => new MaxPool1d([2, 2])).toThrow('MaxPool1d: kernelSize must be an integer >= 1, got [2,2]');
    expect(() => new AvgPool1d(2, { divisorOverride: 3 } as object)).toThrow('AvgPool1d: divisorOverride is not an option of 1-D average pooling');
    expect(() => new ConvTranspose1d(2, 2, 3, { padding: 'same' as unknown as number })).toThrow(/ConvTranspose1d: padding must be numbers, got "same"/);
    expect(() => new ConvTranspose1d(2, 2, 3, { stride: 2, outputPadding: 2 })).toThrow(/ConvTranspose1d: outputPadding 2 must be smaller than the stride/);
    expect(() => new AdaptiveMaxPool2d(0)).toThrow('AdaptiveMaxPool2d: outputSize must be a positive integer or a pair of them');
    expect(String(new MaxPool1d(3, { stride: 2 }))).toBe('MaxPool1d(kernelSize=3, stride=2, padding=0, dilation=1, ceilMode=false)');
    expect(String(new AvgPool1d(4))).toBe('AvgPool1d(kernelSize=4, stride=4, padding=0)');
    expect(new ConvTranspose1d(4, 6, 3, { groups: 2 }).weight.shape).toEqual([4, 3, 3]);
    expect(() => new MaxPool1d(2).forward(randn([2, 3, 4, 5], { seed: 0 }))).toThrow(/MaxPool1d/);
    expect(() => new ELU(NaN)).toThrow('ELU: alpha must be finite, got NaN');
    expect(() => new CELU(0)).toThrow('CELU: alpha must be finite and nonzero, got 0');
    expect(() => new Hardtanh(1, -1)).toThrow('Hardtanh: minVal and maxVal must be finite with minVal <= maxVal, got 1, -1');
    expect(String(new Hardtanh(-2, 2))).toBe('Hardtanh(minVal=-2, maxVal=2)');
    expect(() => new PReLU({ numParameters: 3 }).forward(randn([3], { seed: 0 }))).toThrow('PReLU(numParameters=3): input [3] must have 3 channels on axis 1');
    expect(Object.keys(new PReLU({ numParameters: 3 }).stateDict())).toEqual(['weight']);
  });
});
