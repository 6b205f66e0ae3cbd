import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { tensor, type Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import {
  LayerNorm, MultiheadAttention, Transformer, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer, parseSafetensors, type Module,
} from '@chainrule/nn';

// PyTorch's attention and transformer modules (scripts/torch-attention-reference.py): each case's
// weights load with loadStateDict into the chainrule module of the same configuration, whose
// outputs and gradients (inputs and every parameter) must agree to float32 rounding.

type Encoded = number | '-Infinity';
interface Data { shape: number[]; dtype: 'bool' | 'float32'; data: Encoded[] }
interface Case {
  name: string;
  config: Record<string, number | string | boolean>;
  stateDict: Record<string, number[]>;
  inputs: Record<string, Data>;
  masks: Record<string, Data>;
  outputs: (Data | null)[];
  upstream: (number[] | null)[];
  inputGrads: Record<string, number[]>;
  paramGrads: Record<string, number[]>;
}

const dir = new URL('./fixtures/attention/', import.meta.url);
const fixture = JSON.parse(readFileSync(new URL('reference.json', dir), 'utf8')) as { torch: string; cases: Case[] };

function decode(d: Data, requiresGrad = false): Tensor {
  if (d.dtype === 'bool') return tensor(Uint8Array.from(d.data as number[]), { shape: d.shape, dtype: 'bool' });
  return tensor(Float32Array.from(d.data, (v) => (v === '-Infinity' ? -Infinity : v)), { shape: d.shape, requiresGrad });
}

/** The chainrule module of a case, and its forward on the case's inputs and masks. */
interface Built { module: Module<never[], unknown>; run: (inputs: Record<string, Tensor>, masks: Record<string, Tensor>) => (Tensor | null)[] }

const c = (v: number | string | boolean | undefined) => v as never;

const BUILDERS: Record<string, (cfg: Case['config']) => Built> = {
  mha_self: (cfg) => {
    const m = new MultiheadAttention(c(cfg.embedDim), c(cfg.numHeads));
    return { module: m as never, run: (i, k) => m.forward(i.x!, i.x!, i.x!, { keyPaddingMask: k.keyPaddingMask!, attnMask: k.attnMask! }) };
  },
  mha_kdim_vdim: (cfg) => {
    const m = new MultiheadAttention(c(cfg.embedDim), c(cfg.numHeads), { kdim: c(cfg.kdim), vdim: c(cfg.vdim), batchFirst: true });
    return { module: m as never, run: (i, k) => m.forward(i.q!, i.k!, i.v!, { attnMask: k.attnMask!, averageAttnWeights: false }) };
  },
  mha_unbatched: (cfg) => {
    const m = new MultiheadAttention(c(cfg.embedDim), c(cfg.numHeads), { bias: false });
    return { module: m as never, run: (i, k) => m.forward(i.q!, i.k!, i.v!, { keyPaddingMask: k.keyPaddingMask!, needWeights: false }) };
  },
  mha_bias_kv: (cfg) => {
    const m = new MultiheadAttention(c(cfg.embedDim), c(cfg.numHeads), { addBiasKv: true });
    return { module: m as never, run: (i, k) => m.forward(i.x!, i.x!, i.x!, { keyPaddingMask: k.keyPaddingMask!, attnMask: k.attnMask! }) };
  },
  mha_bias_kv_zero_attn: (cfg) => {
    const m = new MultiheadAttention(c(cfg.embedDim), c(cfg.numHeads), { kdim: c(cfg.kdim), vdim: c(cfg.vdim), batchFirst: true, addBiasKv: true, addZeroAttn: true });
    return { module: m as never, run: (i, k) => m.forward(i.q!, i.k!, i.v!, { attnMask: k.attnMask!, keyPaddingMask: k.keyPaddingMask!, averageAttnWeights: false }) };
  },
  mha_zero_attn: (cfg) => {
    const m = new MultiheadAttention(c(cfg.embedDim), c(cfg.numHeads), { bias: false, addZeroAttn: true });
    return { module: m as never, run: (i, k) => m.forward(i.q!, i.k!, i.v!, { keyPaddingMask: k.keyPaddingMask! }) };
  },
  mha_bias_kv_zero_attn_unbatched: (cfg) => {
    const m = new MultiheadAttention(c(cfg.embedDim), c(cfg.numHeads), { addBiasKv: true, addZeroAttn: true });
    return { module: m as never, run: (i, k) => m.forward(i.q!, i.k!, i.v!, { keyPaddingMask: k.keyPaddingMask! }) };
  },
  encoder_layer_post: (cfg) => {
    const m = new TransformerEncoderLayer(c(cfg.dModel), c(cfg.nhead), { dimFeedforward: c(cfg.dimFeedforward) }).eval();
    return { module: m as never, run: (i, k) => [m.forward(i.src!, { srcKeyPaddingMask: k.srcKeyPaddingMask! })] };
  },
  encoder_layer_pre: (cfg) => {
    const m = new TransformerEncoderLayer(c(cfg.dModel), c(cfg.nhead), {
      dimFeedforward: c(cfg.dimFeedforward), activation: c(cfg.activation), batchFirst: true, normFirst: true, layerNormEps: c(cfg.layerNormEps), dropout: 0,
    });
    return { module: m as never, run: (i, k) => [m.forward(i.src!, { mask: k.mask! })] };
  },
  decoder_layer_post: (cfg) => {
    const m = new TransformerDecoderLayer(c(cfg.dModel), c(cfg.nhead), { dimFeedforward: c(cfg.dimFeedforward), batchFirst: true }).eval();
    return { module: m as never, run: (i, k) => [m.forward(i.tgt!, i.memory!, { tgtMask: k.tgtMask!, memoryKeyPaddingMask: k.memoryKeyPaddingMask! })] };
  },
  decoder_layer_pre: (cfg) => {
    const m = new TransformerDecoderLayer(c(cfg.dModel), c(cfg.nhead), { dimFeedforward: c(cfg.dimFeedforward), normFirst: true }).eval();
    return { module: m as never, run: (i, k) => [m.forward(i.tgt!, i.memory!, { tgtMask: k.tgtMask! })] };
  },
  encoder_2: (cfg) => {
    const layer = new TransformerEncoderLayer(c(cfg.dModel), c(cfg.nhead), { dimFeedforward: c(cfg.dimFeedforward), dropout: 0 });
    const m = new TransformerEncoder(layer, c(cfg.numLayers), { norm: new LayerNorm(c(cfg.dModel)) });
    return { module: m as never, run: (i, k) => [m.forward(i.src!, { mask: k.mask!, srcKeyPaddingMask: k.srcKeyPaddingMask! })] };
  },
  transformer: (cfg) => {
    const m = new Transformer({
      dModel: c(cfg.dModel), nhead: c(cfg.nhead), numEncoderLayers: c(cfg.numEncoderLayers), numDecoderLayers: c(cfg.numDecoderLayers),
      dimFeedforward: c(cfg.dimFeedforward), batchFirst: true,
    }).eval();
    return {
      module: m as never,
      run: (i, k) => [m.forward(i.src!, i.tgt!, { tgtMask: k.tgtMask!, srcKeyPaddingMask: k.srcKeyPaddingMask!, memoryKeyPaddingMask: k.memoryKeyPaddingMask! })],
    };
  },
};

describe(`PyTorch ${fixture.torch} reference models: attention and transformers`, () => {
  for (const kase of fixture.cases) {
    test(`${kase.name}: state-dict keys and shapes are PyTorch's; outputs and gradients agree`, () => {
      const build = BUILDERS[kase.name];
      if (build === undefined) throw new Error(`no chainrule builder for the fixture case ${kase.name}`);
      const { module, run } = build(kase.config);
      const own = module.stateDict();
      expect(Object.keys(own)).toEqual(Object.keys(kase.stateDict));
      expect(Object.fromEntries(Object.entries(own).map(([k, t]) => [k, t.shape]))).toEqual(kase.stateDict);
      module.loadStateDict(parseSafetensors(readFileSync(new URL(`${kase.name}.safetensors`, dir))));
      const inputs = Object.fromEntries(Object.entries(kase.inputs).map(([k, d]) => [k, decode(d, true)]));
      const masks = Object.fromEntries(Object.entries(kase.masks).map(([k, d]) => [k, decode(d)]));
      const outputs = run(inputs, masks);
      let total: Tensor | null = null;
      kase.outputs.forEach((want, j) => {
        const got = outputs[j] ?? null;
        if (want === null) {
          expect(got).toBeNull();
          return;
        }
        expect(got).not.toBeNull();
        expect(got!.shape).toEqual(want.shape);
        assertClose(got!, want.data as number[], 1e-4, 2e-6);
        const term = got!.mul(tensor(Float32Array.from(kase.upstream[j]!), { shape: want.shape })).sum();
        total = total === null ? term : total.add(term);
      });
      (total as unknown as Tensor).backward();
      for (const [k, g] of Object.entries(kase.inputGrads)) assertClose(inputs[k]!.grad!, g, 1e-4, 1e-5);
      const params = Object.fromEntries(module.namedParameters());
      for (const [k, g] of Object.entries(kase.paramGrads)) assertClose(params[k]!.grad!, g, 1e-4, 1e-5);
    });
  }
});
