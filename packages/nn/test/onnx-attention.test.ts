// Attention, transformer encoders and positional encodings exported to ONNX: each graph runs in
// ONNX Runtime (CPU) and must give chainrule's evaluation-mode output for the one-input form
// exportOnnx expresses (self-attention without masks).
import { describe, expect, test } from 'vitest';
import { ShapeError, noGrad, randn, tensor, type DType, type Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import {
  Embedding, LayerNorm, LearnedPositionalEmbedding, Linear, MultiheadAttention, Sequential, SinusoidalPositionalEncoding, TransformerEncoder,
  TransformerEncoderLayer, TransformerDecoderLayer, Transformer, init, type AnyModule,
} from '@chainrule/nn';
import { exportOnnx, OnnxExportError } from '@chainrule/nn/onnx';
import { decode, expectAgrees, opTypes, runOnnx } from './onnx-helpers.js';

const seqs = (shape: number[], seed: number, dtype: DType = 'float32'): Tensor => randn(shape, { dtype, seed });

/** Non-zero biases and LayerNorm affines, so every parameter shows in the output. */
function perturb(m: AnyModule, seed: number): void {
  for (const [i, [name, p]] of [...m.namedParameters()].entries()) if (p.ndim === 1 || name.endsWith('bias')) init.uniform(p, -0.5, 0.5, { seed: seed + i });
}

describe('exportOnnx: MultiheadAttention as MatMul and Softmax', () => {
  test('self-attention forward(x, x, x): seq-first, batch-first, unbatched, without biases', async () => {
    const cases = [
      [{}, [null, 'batch', 8], [[5, 2, 8], [3, 1, 8]]],
      [{ batchFirst: true }, [null, 'seq', 8], [[2, 5, 8], [1, 4, 8]]],
      [{}, ['seq', 8], [[6, 8]]],
      [{ bias: false, batchFirst: true }, [2, 3, 8], [[2, 3, 8]]],
    ] as const;
    for (const [i, [options, inputShape, shapes]] of cases.entries()) {
      const mha = new MultiheadAttention(8, 2, { ...options, dropout: 0.5, seed: i });
      perturb(mha, 10 * i);
      mha.train(); // the graph is the model in evaluation: no dropout
      const bytes = exportOnnx(mha, { inputShape: [...inputShape] });
      for (const [j, shape] of shapes.entries()) {
        const x = seqs([...shape], 20 + j);
        mha.eval();
        const [expected] = noGrad(() => mha.forward(x, x, x));
        mha.train();
        const got = await runOnnx(bytes, x);
        expect(got.dims).toEqual(expected.shape);
        assertClose(got.data, expected.data, 0, 1e-5);
      }
      expect(opTypes(bytes).filter((op) => op === 'Softmax' || op === 'MatMul')).toEqual(['MatMul', 'MatMul', 'MatMul', 'MatMul', 'Softmax', 'MatMul', 'MatMul']);
    }
  });

  // ONNX Runtime's double kernels on the 4-d head tensors differ from a float64 loop of the same
  // formula by about 1e-9, where chainrule agrees with such a loop to 1e-16: the bound is 1e-8.
  test('float64 agrees to 1e-8', async () => {
    const mha = new MultiheadAttention(6, 3, { batchFirst: true, dtype: 'float64', seed: 5 });
    perturb(mha, 50);
    const x = seqs([2, 4, 6], 51, 'float64');
    const [expected] = noGrad(() => mha.eval().forward(x, x, x));
    const got = await runOnnx(exportOnnx(mha, { inputShape: [null, 4, 6] }), x);
    assertClose(got.data, expected.data, 0, 1e-8);
  });

  test('what one input cannot express is refused', () => {
    const cross = new MultiheadAttention(8, 2, { kdim: 4, vdim: 4 });
    expect(() => exportOnnx(cross, { inputShape: [null, 2, 8] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(cross, { inputShape: [null, 2, 8] })).toThrow('the model (MultiheadAttention) with kdim=4, vdim=4 is not supported');
    expect(() => exportOnnx(new MultiheadAttention(8, 2), { inputShape: [null, 2, 6] })).toThrow(ShapeError);
    const custom = new TransformerEncoderLayer(8, 2, { activation: (t) => t.tanh(), dimFeedforward: 16 });
    expect(() => exportOnnx(custom, { inputShape: [null, 2, 8] })).toThrow('the model (TransformerEncoderLayer) with a function as its activation is not supported');
  });
});

describe('exportOnnx: transformer encoders', () => {
  test('TransformerEncoderLayer, post-norm and pre-norm, ReLU and GELU, both layouts', async () => {
    const configs = [{}, { normFirst: true, activation: 'gelu' as const }, { batchFirst: true, activation: 'gelu' as const }, { batchFirst: true, normFirst: true, bias: false }];
    for (const [i, c] of configs.entries()) {
      const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, ...c, seed: i });
      perturb(layer, 100 + 10 * i);
      layer.train();
      const shape = c.batchFirst === true ? [2, 5, 8] : [5, 2, 8];
      const bytes = await expectAgrees(layer, { inputShape: c.batchFirst === true ? [null, 'seq', 8] : ['seq', null, 8] }, [seqs(shape, 110 + i)], 1e-5);
      expect(opTypes(bytes).filter((op) => op === 'LayerNormalization')).toHaveLength(2);
      expect(opTypes(bytes)).not.toContain('Dropout');
    }
  });

  test('a token model: Embedding, positions, a 2-layer TransformerEncoder with a final norm, and a head', async () => {
    for (const Positions of [SinusoidalPositionalEncoding, LearnedPositionalEmbedding] as const) {
      const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, seed: 1 });
      perturb(layer, 200);
      const positions = Positions === SinusoidalPositionalEncoding ? new SinusoidalPositionalEncoding(8, { batchFirst: true, maxLen: 12 }) : new LearnedPositionalEmbedding(12, 8, { batchFirst: true, seed: 2 });
      const model = new Sequential(
        new Embedding(11, 8, { seed: 3 }), positions, new TransformerEncoder(layer, 2, { norm: new LayerNorm(8) }), new Linear(8, 11, { seed: 4 }),
      );
      const tokens = (shape: number[], seed: number) => tensor(Int32Array.from(randn(shape, { seed }).data, (v) => Math.abs(Math.round(v * 4)) % 11), { shape });
      // A dynamic sequence length slices the position table at run time; a fixed one stores its rows.
      const dynamic = await expectAgrees(model, { inputShape: [null, 'seq'], inputDtype: 'int32' }, [tokens([2, 5], 5), tokens([1, 12], 6)], 1e-4);
      expect(opTypes(dynamic)).toContain('Slice');
      const fixed = await expectAgrees(model, { inputShape: [null, 5], inputDtype: 'int32' }, [tokens([3, 5], 7)], 1e-4);
      expect(opTypes(fixed)).not.toContain('Slice');
      const table = decode(fixed).graph!.initializer.find((t) => t.name === '1.weight')!;
      expect(table.dims).toEqual([5n, 8n]);
    }
  });

  test('decoders take two inputs and are refused, naming the module', () => {
    const decoder = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
    expect(() => exportOnnx(decoder, { inputShape: [null, 2, 8] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(decoder, { inputShape: [null, 2, 8] })).toThrow('exportOnnx: the model (TransformerDecoderLayer) is not supported: its forward takes a target and a memory');
    const transformer = new Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16 });
    expect(() => exportOnnx(transformer, { inputShape: [null, 2, 8] })).toThrow('the model (Transformer) is not supported');
  });

  test('a sequence longer than the position table is refused', () => {
    expect(() => exportOnnx(new SinusoidalPositionalEncoding(8, { maxLen: 4 }), { inputShape: [5, null, 8] })).toThrow(ShapeError);
  });
});
