// The activation layers exported to ONNX: every graph runs in ONNX Runtime (CPU) and must give
// chainrule's output, in float32 (ONNX's own operators) and float64 (their formulas in operators
// ONNX Runtime runs in double), at the opsets where the form changes.
import { describe, expect, test } from 'vitest';
import { DTypeError, ShapeError, concat, randn, tensor, type DType, type Tensor } from '@chainrule/autograd';
import {
  CELU, ELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, SELU, Sequential, SiLU, Softsign, Tanhshrink, init, type Module,
} from '@chainrule/nn';
import { exportOnnx, type ExportOnnxOptions } from '@chainrule/nn/onnx';
import { decode, expectAgrees, opTypes } from './onnx-helpers.js';

/**
 * [n, 3, 7]: random values over [-8, 8] or so, and a row of the kinks and far tails (±3 and ±6
 * for the hard activations, 0, values where e^x over- or underflows a naive formula).
 */
function inputs(n: number, seed: number, dtype: DType, far: number): Tensor {
  const edges = [-far, -20, -6, -3, -1, -0.5, 0, 0.5, 1, 3, 6, 20, far, -2.5, 2.5, -7, 7, -0.01, 0.01, -40, 40];
  return concat([randn([n, 3, 7], { dtype, seed }).mul(4), tensor(edges, { dtype }).reshape(1, 3, 7)], 0);
}

// float32 also has a relative tolerance of a few ulps: CELU with a negative alpha grows as e^{|x/α|}
// (ONNX Runtime rounds x/α to float32 first, an error of |x/α| ulps in the result).
const FLOAT32 = { dtype: 'float32' as const, tol: 1e-5, rtol: 1e-6, far: 30 };
const FLOAT64 = { dtype: 'float64' as const, tol: 1e-12, far: 100 };

/** Every activation with several settings of its options: [label, model, ONNX ops in float32 (opset 17)]. */
function activations(dtype: DType): [string, Module, string[]][] {
  const prelu = (numParameters: number, seed: number): PReLU => {
    const m = new PReLU({ numParameters, dtype });
    init.uniform(m.parameters()[0]!, -1, 1, { seed });
    return m;
  };
  return [
    ['SiLU', new SiLU(), ['Sigmoid', 'Mul']],
    ['Mish', new Mish(), ['Softplus', 'Tanh', 'Mul']],
    ['ReLU6', new ReLU6(), ['Clip']],
    ['SELU', new SELU(), ['Selu']],
    ['LogSigmoid', new LogSigmoid(), ['Neg', 'Softplus', 'Neg']],
    ['Softsign', new Softsign(), ['Softsign']],
    ['Hardsigmoid', new Hardsigmoid(), ['HardSigmoid']],
    ['Hardswish', new Hardswish(), ['HardSwish']],
    ['Tanhshrink', new Tanhshrink(), ['Tanh', 'Sub']],
    ['ELU()', new ELU(), ['Elu']],
    ['ELU(0.3)', new ELU(0.3), ['Elu']],
    ['ELU(-0.7)', new ELU(-0.7), ['Elu']],
    ['CELU()', new CELU(), ['Celu']],
    ['CELU(2.5)', new CELU(2.5), ['Celu']],
    ['CELU(0.1)', new CELU(0.1), ['Celu']],
    ['CELU(-5)', new CELU(-5), ['Celu']],
    ['Hardtanh()', new Hardtanh(), ['Clip']],
    ['Hardtanh(-0.1, 2.3)', new Hardtanh(-0.1, 2.3), ['Clip']],
    ['Hardtanh(0.5, 0.5)', new Hardtanh(0.5, 0.5), ['Clip']],
    ['PReLU()', new PReLU({ dtype }), ['PRelu']],
    ['PReLU(1 learned)', prelu(1, 1), ['PRelu']],
    ['PReLU(3 per channel)', prelu(3, 2), ['PRelu']],
  ];
}

const opts = (inputShape: ExportOnnxOptions['inputShape'], more: Partial<ExportOnnxOptions> = {}): ExportOnnxOptions => ({ inputShape, ...more });

describe('exportOnnx: activations', () => {
  test('float32: each is its ONNX operator (or formula), on a symbolic batch and length', async () => {
    const { dtype, tol, rtol, far } = FLOAT32;
    for (const [label, m, ops] of activations(dtype)) {
      const bytes = await expectAgrees(m, opts([null, 3, 'len']), [inputs(2, 1, dtype, far), randn([1, 3, 4], { dtype, seed: 2 }).mul(5)], tol, rtol).catch((e: unknown) => {
        throw new Error(`${label}: ${String(e)}`);
      });
      expect(opTypes(bytes), label).toEqual(ops);
    }
  });

  test('float64: the formulas in double agree to 1e-12 at opsets 17, 18 and 22', async () => {
    const { dtype, tol, far } = FLOAT64;
    for (const opset of [17, 18, 22]) {
      for (const [label, m] of activations(dtype)) {
        const bytes = await expectAgrees(m, opts(['batch', 3, 7], { opset, dtype }), [inputs(3, 3, dtype, far)], tol).catch((e: unknown) => {
          throw new Error(`${label} at opset ${opset}: ${String(e)}`);
        });
        // Constants and slopes are DOUBLE initializers: no float32 attribute rounds them.
        expect(decode(bytes).graph!.initializer.filter((t) => t.dataType !== 11), label).toEqual([]);
        expect(decode(bytes).graph!.node.flatMap((n) => n.attribute.map((a) => a.name)), label).toEqual([]);
      }
    }
  });

  test('Mish is one Mish node from opset 18 in float32, x·tanh(softplus(x)) before', async () => {
    for (const [opset, ops] of [[17, ['Softplus', 'Tanh', 'Mul']], [18, ['Mish']], [22, ['Mish']]] as const) {
      const bytes = await expectAgrees(new Mish(), opts([null, 3, 7], { opset }), [inputs(2, 4, 'float32', 30)], 1e-5);
      expect(opTypes(bytes)).toEqual(ops);
    }
    expect(opTypes(exportOnnx(new Mish(), opts([null, 3], { opset: 18, dtype: 'float64' })))).toEqual(['Abs', 'Neg', 'Exp', 'Add', 'Log', 'Relu', 'Add', 'Tanh', 'Mul']);
  });

  test('every activation loads and agrees at each opset from 17 to 22, in a chain', async () => {
    const chain = new Sequential(...activations('float32').map(([, m]) => m));
    for (let opset = 17; opset <= 22; opset++) {
      await expectAgrees(chain, opts([null, 3, 7], { opset }), [inputs(2, 5, 'float32', 30)], FLOAT32.tol, FLOAT32.rtol);
    }
  });

  test('PReLU: one slope or one per channel of [N, C, ...], any rank, symbolic axes', async () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const tol = dtype === 'float32' ? 1e-6 : 1e-12;
      const one = new PReLU({ init: -0.4, dtype });
      await expectAgrees(one, opts([null]), [randn([5], { dtype, seed: 6 })], tol);
      await expectAgrees(one, opts([null, 'c', 'h', 'w']), [randn([2, 3, 4, 2], { dtype, seed: 7 })], tol);
      const perChannel = new PReLU({ numParameters: 4, dtype });
      init.uniform(perChannel.parameters()[0]!, -2, 2, { seed: 8 });
      for (const shape of [[3, 4], [2, 4, 5], [2, 4, 3, 2], [1, 4, 2, 2, 3]]) {
        const bytes = await expectAgrees(perChannel, opts([null, 4, ...shape.slice(2).map(() => null)]), [randn(shape, { dtype, seed: shape.length })], tol);
        const slope = decode(bytes).graph!.initializer[0]!;
        expect(slope.dims.map(Number)).toEqual([4, ...shape.slice(2).map(() => 1)]);
      }
      // A dynamic channel axis is left to the runtime, as BatchNorm's is.
      await expectAgrees(perChannel, opts([null, 'c', 3]), [randn([2, 4, 3], { dtype, seed: 9 })], tol);
    }
  });

  test('PReLU: slopes that do not match the channels, and dtypes, are refused naming the layer', () => {
    const model = new Sequential(new PReLU({ numParameters: 3 }));
    expect(() => exportOnnx(model, opts([null, 4, 5]))).toThrow(ShapeError);
    expect(() => exportOnnx(model, opts([null, 4, 5]))).toThrow('exportOnnx: 0 (PReLU) has 3 slopes for the channels on axis 1, but its input has shape ["batch",4,5]');
    expect(() => exportOnnx(model, opts([3]))).toThrow('0 (PReLU) has 3 slopes for the channels on axis 1, but its input has shape [3]');
    const mixed = new Sequential(new PReLU({ numParameters: 3, dtype: 'float64' }), new PReLU({ numParameters: 3 }));
    expect(() => exportOnnx(mixed, opts([null, 3, 2]))).toThrow(DTypeError);
  });

  test('a subclass of a new activation is not taken for its parent', () => {
    class ShiftedSiLU extends SiLU {
      override forward(x: Tensor): Tensor {
        return super.forward(x).add(1);
      }
    }
    expect(() => exportOnnx(new Sequential(new ShiftedSiLU()), opts([null, 2]))).toThrow('exportOnnx: 0 (ShiftedSiLU) is not supported');
  });
});
