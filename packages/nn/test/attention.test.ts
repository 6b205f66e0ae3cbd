import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { DTypeError, ShapeError, ArgumentError, concat, tensor, zeros, ones, type Tensor } from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import {
  LayerNorm, LearnedPositionalEmbedding, MultiheadAttention, Transformer, TransformerEncoder, TransformerDecoder, SinusoidalPositionalEncoding, StateDictError, TransformerDecoderLayer, TransformerEncoderLayer,
  functionalCall, sinusoidalPositionalEncoding,
} from '@chainrule/nn';
import { OnnxExportError, exportOnnx } from '@chainrule/nn/onnx';

const mhaCase = fc.record({
  heads: fc.integer({ min: 1, max: 3 }),
  headDim: fc.integer({ min: 1, max: 2 }),
  n: fc.integer({ min: 1, max: 2 }),
  l: fc.integer({ min: 1, max: 3 }),
  s: fc.integer({ min: 1, max: 3 }),
  batchFirst: fc.boolean(),
  self: fc.boolean(),
  separate: fc.boolean(),
  mask: fc.constantFrom('none', 'padding', 'float', 'causal'),
  extra: fc.constantFrom('none', 'biasKv', 'zeroAttn', 'both'),
  seed: fc.integer({ min: 0, max: 1e6 }),
});
type MhaCase = typeof mhaCase extends fc.Arbitrary<infer T> ? T : never;

/** A float64 layer and its forward as a function of (q, k, v, ...parameters), for gradcheck. */
function mhaFunction(r: MhaCase) {
  const e = r.heads * r.headDim;
  const kdim = r.separate ? e + 1 : e;
  const extra = { addBiasKv: r.extra === 'biasKv' || r.extra === 'both', addZeroAttn: r.extra === 'zeroAttn' || r.extra === 'both' };
  const m = new MultiheadAttention(e, r.heads, { batchFirst: r.batchFirst, dtype: 'float64', seed: r.seed, ...extra, ...(r.separate ? { kdim } : {}) });
  const s = r.self ? r.l : r.s;
  const layout = (len: number, f: number) => (r.batchFirst ? [r.n, len, f] : [len, r.n, f]);
  const q = seededTensor(layout(r.l, e), r.seed + 1);
  const k = r.self && !r.separate ? q : seededTensor(layout(s, kdim), r.seed + 2);
  const v = r.self && !r.separate ? q : seededTensor(layout(s, e), r.seed + 3);
  const names = m.namedParameters().map(([name]) => name);
  const params = m.namedParameters().map(([, t]) => t.detach().clone().requiresGrad_());
  // At least the first key stays unpadded, so no row is fully masked.
  const pad = tensor(Array.from({ length: r.n * s }, (_, i) => i % s !== 0 && (i + r.seed) % 3 === 0), { shape: [r.n, s] });
  const options = r.mask === 'padding' ? { keyPaddingMask: pad } : r.mask === 'float' ? { attnMask: seededTensor([r.l, s], r.seed + 4, { requiresGrad: false }) } : r.mask === 'causal' && r.l === s ? { isCausal: true } : {};
  const inputs = r.self && !r.separate ? [q, ...params] : [q, k, v, ...params];
  const f = (...t: Tensor[]) => {
    const [qq, kk, vv, rest] = r.self && !r.separate ? [t[0]!, t[0]!, t[0]!, t.slice(1)] : [t[0]!, t[1]!, t[2]!, t.slice(3)];
    const [out] = functionalCall(m, Object.fromEntries(names.map((n, i) => [n, rest[i]!])), qq, kk, vv, { ...options, needWeights: false });
    return out;
  };
  return { m, f, inputs, options, q, k, v };
}

describe('MultiheadAttention', () => {
  test('a hand-computed case: one head of width 1', () => {
    const m = new MultiheadAttention(1, 1, { dtype: 'float64', batchFirst: true });
    const [a, b, c, d] = [0.5, -1.5, 2, 3];
    m.loadStateDict({
      in_proj_weight: tensor([[a], [b], [c]], { dtype: 'float64' }), in_proj_bias: tensor([0.1, 0.2, 0.3], { dtype: 'float64' }),
      'out_proj.weight': tensor([[d]], { dtype: 'float64' }), 'out_proj.bias': tensor([-1], { dtype: 'float64' }),
    });
    const xs = [1, -2, 0.5];
    const [y, w] = m.forward(tensor([xs.map((x) => [x])], { dtype: 'float64' }), tensor([xs.map((x) => [x])], { dtype: 'float64' }), tensor([xs.map((x) => [x])], { dtype: 'float64' }));
    const expected: number[] = [];
    const weights: number[] = [];
    for (const xi of xs) {
      const scores = xs.map((xj) => (a * xi + 0.1) * (b * xj + 0.2));
      const z = scores.map(Math.exp).reduce((p, q) => p + q, 0);
      const wi = scores.map((s) => Math.exp(s) / z);
      weights.push(...wi);
      expected.push(d * wi.reduce((acc, wj, j) => acc + wj * (c * xs[j]! + 0.3), 0) - 1);
    }
    assertClose(y, expected, 1e-12);
    expect(w!.shape).toEqual([1, 3, 3]);
    assertClose(w!, weights, 1e-12);
  });

  test('initialised as PyTorch: xavier_uniform in_proj_weight, zero biases; keys in its order', () => {
    const m = new MultiheadAttention(16, 4, { seed: 1 });
    expect(Object.keys(m.stateDict())).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    const w = Array.from(m.stateDict().in_proj_weight!.data);
    const bound = Math.sqrt(6 / (16 + 48));
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Array.from(m.stateDict().in_proj_bias!.data).every((x) => x === 0)).toBe(true);
    expect(Array.from(m.stateDict()['out_proj.bias']!.data).every((x) => x === 0)).toBe(true);
    const sep = new MultiheadAttention(8, 2, { kdim: 3, vdim: 5, bias: false });
    expect(Object.fromEntries(Object.entries(sep.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual({
      q_proj_weight: [8, 8], k_proj_weight: [8, 3], v_proj_weight: [8, 5], 'out_proj.weight': [8, 8],
    });
  });

  test('gradcheck in float64 over random shapes, layouts, masks, kdim and extra keys, for inputs and parameters', () => {
    fc.assert(fc.property(mhaCase, (r) => {
      const { f, inputs } = mhaFunction(r);
      checkGradProperty(f, fc.constant(inputs), { numRuns: 1 });
    }), { numRuns: 12 });
  });

  test('gradgradcheck in float64 over random shapes and masks', () => {
    fc.assert(fc.property(mhaCase.map((r) => ({ ...r, n: 1, heads: Math.min(r.heads, 2) })), (r) => {
      const { f, inputs } = mhaFunction(r);
      checkGradGradProperty(f, fc.constant(inputs), { numRuns: 1 });
    }), { numRuns: 3 });
  });

  test('isCausal is the explicit causal mask, also beside a key-padding mask; needWeights does not change the output', () => {
    const m = new MultiheadAttention(6, 2, { dtype: 'float64', seed: 3, batchFirst: true });
    const x = seededTensor([2, 4, 6], 5, { requiresGrad: false });
    const causal = ones([4, 4], { dtype: 'bool' }).triu(1);
    const [a, wa] = m.forward(x, x, x, { isCausal: true });
    const [b] = m.forward(x, x, x, { attnMask: causal, needWeights: false });
    assertClose(a, b, 1e-12);
    expect(Array.from(wa!.data).filter((_, i) => (i % 4) > Math.floor(i / 4) % 4).every((v) => v === 0)).toBe(true);
    const pad = tensor([[false, false, false, true], [false, false, true, true]]);
    const [c] = m.forward(x, x, x, { isCausal: true, keyPaddingMask: pad });
    const [d] = m.forward(x, x, x, { attnMask: causal, keyPaddingMask: pad });
    const floatPad = zeros([2, 4], { dtype: 'float64' }).maskedFill(pad, -Infinity);
    const [e] = m.forward(x, x, x, { attnMask: zeros([4, 4], { dtype: 'float64' }).maskedFill(causal, -Infinity), keyPaddingMask: floatPad, needWeights: false });
    assertClose(c, d, 1e-12);
    assertClose(c, e, 1e-12);
  });

  test('addBiasKv and addZeroAttn: bias_k, bias_v [1, 1, E] after in_proj_bias, xavier_normal; in String(m)', () => {
    const m = new MultiheadAttention(256, 4, { addBiasKv: true, addZeroAttn: true, bias: false, seed: 2 });
    expect(Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape])).toEqual([
      ['in_proj_weight', [768, 256]], ['bias_k', [1, 1, 256]], ['bias_v', [1, 1, 256]], ['out_proj.weight', [256, 256]],
    ]);
    // xavier_normal of [1, 1, E]: fan in = fan out = E, std √(2 / 2E).
    for (const name of ['bias_k', 'bias_v']) {
      const values = Array.from(m.stateDict()[name]!.data);
      const std = Math.sqrt(values.reduce((a, v) => a + v * v, 0) / values.length);
      expect(Math.abs(std / Math.sqrt(1 / 256) - 1)).toBeLessThan(0.15);
    }
    expect(Object.keys(new MultiheadAttention(4, 2, { addZeroAttn: true }).stateDict())).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    expect(String(new MultiheadAttention(4, 2, { addBiasKv: true, addZeroAttn: true }))).toContain('addBiasKv=true, addZeroAttn=true');
  });

  test('addBiasKv is one more key and value whose projections are bias_k and bias_v; addZeroAttn one whose projections are 0; masks padded to let every query see them', () => {
    const e = 6, heads = 2;
    const x = seededTensor([2, 4, e], 5, { requiresGrad: false });
    const extraRow = seededTensor([1, 1, e], 6, { requiresGrad: false });
    const plain = new MultiheadAttention(e, heads, { dtype: 'float64', seed: 3, batchFirst: true });
    const withBias = new MultiheadAttention(e, heads, { dtype: 'float64', seed: 3, batchFirst: true, addBiasKv: true });
    const own = plain.stateDict();
    const w = own.in_proj_weight!, b = own.in_proj_bias!;
    // bias_k, bias_v := the projections of one raw row, so appending that row to key and value is the same attention.
    withBias.loadStateDict({
      ...plain.stateDict(),
      bias_k: extraRow.matmul(w.narrow(0, e, e).transpose(0, 1)).add(b.narrow(0, e, e)),
      bias_v: extraRow.matmul(w.narrow(0, 2 * e, e).transpose(0, 1)).add(b.narrow(0, 2 * e, e)),
    });
    const kv = concat([x, extraRow.expand([2, 1, e])], 1);
    const pad = tensor([[false, false, false, true], [false, true, true, true]]);
    const causal = ones([4, 4], { dtype: 'bool' }).triu(1);
    const padded = (m: Tensor) => concat([m, zeros([...m.shape.slice(0, -1), 1], { dtype: 'bool' })], -1);
    for (const options of [{}, { keyPaddingMask: pad }, { attnMask: causal }, { isCausal: true, keyPaddingMask: pad }]) {
      const [got, gotWeights] = withBias.forward(x, x, x, options);
      const [want, wantWeights] = plain.forward(x, kv, kv, {
        ...(options.keyPaddingMask === undefined ? {} : { keyPaddingMask: padded(options.keyPaddingMask) }),
        ...(options.attnMask === undefined && options.isCausal === undefined ? {} : { attnMask: padded(causal) }),
      });
      assertClose(got, want, 1e-12);
      expect(gotWeights!.shape).toEqual([2, 4, 5]);
      assertClose(gotWeights!, wantWeights!, 1e-12);
    }
    // The zero key has the score 0 and the zero value: a constant share of each query's attention, adding nothing.
    const zeroAttn = new MultiheadAttention(e, heads, { dtype: 'float64', seed: 3, batchFirst: true, addZeroAttn: true });
    zeroAttn.loadStateDict(plain.stateDict());
    const [z, zw] = zeroAttn.forward(x, x, x, { isCausal: true });
    expect(zw!.shape).toEqual([2, 4, 5]);
    const zeroRow = zeros([2, 1, e], { dtype: 'float64' });
    const zeroKv = concat([x, zeroRow], 1);
    // With in_proj_bias zeroed, a raw zero row projects to the zero key and value.
    const unbiased = { ...plain.stateDict(), in_proj_bias: zeros([3 * e], { dtype: 'float64' }) };
    zeroAttn.loadStateDict(unbiased);
    plain.loadStateDict(unbiased);
    const [z0] = zeroAttn.forward(x, x, x, { isCausal: true });
    const [p0] = plain.forward(x, zeroKv, zeroKv, { attnMask: padded(causal) });
    assertClose(z0, p0, 1e-12);
    expect(Array.from(z.data).every(Number.isFinite)).toBe(true);
  });

  test('a query whose every key is padding gets out_proj.bias (zero attention), never NaN', () => {
    const m = new MultiheadAttention(4, 2, { dtype: 'float64', seed: 3, batchFirst: true });
    m.outProj.bias!.data.set([1, 2, 3, 4]);
    const x = seededTensor([2, 3, 4], 5);
    const [y] = m.forward(x, x, x, { keyPaddingMask: tensor([[false, true, true], [true, true, true]]) });
    assertClose(y.narrow(0, 1, 1), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    y.sum().backward();
    expect(Array.from(x.grad!.data).every(Number.isFinite)).toBe(true);
  });

  test('dropout applies in training only, from the layer\'s generator', () => {
    const x = seededTensor([3, 2, 4], 5, { requiresGrad: false });
    const run = () => {
      const m = new MultiheadAttention(4, 2, { dropout: 0.5, dtype: 'float64', seed: 9 });
      return [m.forward(x, x, x)[0], m.eval().forward(x, x, x)[0], m.train().forward(x, x, x)[0]];
    };
    const [t1, e1, t2] = run();
    const [u1] = run();
    assertClose(t1!, u1!, 0);
    expect(Array.from(t1!.data)).not.toEqual(Array.from(e1!.data));
    expect(Array.from(t1!.data)).not.toEqual(Array.from(t2!.data));
  });

  test('bad input names the layer, the argument and the shapes or dtypes', () => {
    const m = new MultiheadAttention(4, 2, { batchFirst: true });
    const x = zeros([2, 3, 4]);
    expect(() => m.forward(x, x, x, { keyPaddingMask: zeros([2, 4], { dtype: 'bool' }) })).toThrow(ShapeError);
    expect(() => m.forward(x, x, x, { keyPaddingMask: zeros([2, 4], { dtype: 'bool' }) })).toThrow(/MultiheadAttention\(embedDim=4, numHeads=2\): keyPaddingMask must be \[batch, S\] = \[2,3\], got \[2,4\]/);
    expect(() => m.forward(x, x, x, { attnMask: zeros([3, 4], { dtype: 'bool' }) })).toThrow(/attnMask must be \[L, S\] = \[3,3\] or \[batch·numHeads, L, S\] = \[4,3,3\], got \[3,4\]/);
    expect(() => m.forward(x, x, x, { attnMask: zeros([3, 3], { dtype: 'int32' }) })).toThrow(DTypeError);
    expect(() => m.forward(x, x, x, { attnMask: zeros([3, 3], { dtype: 'float64' }) })).toThrow(/attnMask must be bool or float32 \(the layer's dtype\), got float64 of shape \[3,3\]/);
    expect(() => m.forward(x, zeros([2, 3, 5]), x)).toThrow(/key must be \[batch, seq, 4\] .*; got query \[2,3,4\], key \[2,3,5\], value \[2,3,4\]/);
    expect(() => m.forward(x, zeros([3, 3, 4]), zeros([3, 3, 4]))).toThrow(/same batch size; got query \[2,3,4\], key \[3,3,4\]/);
    expect(() => m.forward(x, x, zeros([2, 2, 4]))).toThrow(/same sequence length/);
    expect(() => m.forward(x.toDtype('float64'), x, x)).toThrow(/query is float64 but the layer is float32/);
    expect(() => new MultiheadAttention(6, 4)).toThrow(ArgumentError);
    expect(() => new MultiheadAttention(6, 4)).toThrow(/embedDim 6 must be divisible by numHeads 4/);
    // With extra keys, masks still cover the keys given (PyTorch pads them).
    const extra = new MultiheadAttention(4, 2, { batchFirst: true, addBiasKv: true, addZeroAttn: true });
    expect(() => extra.forward(x, x, x, { keyPaddingMask: zeros([2, 5], { dtype: 'bool' }) })).toThrow(/keyPaddingMask must be \[batch, S\] = \[2,3\], got \[2,5\]/);
  });

  test('exportOnnx refuses addBiasKv and addZeroAttn, naming them', () => {
    expect(() => exportOnnx(new MultiheadAttention(4, 2, { addBiasKv: true }), { inputShape: [3, null, 4] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(new MultiheadAttention(4, 2, { addBiasKv: true, addZeroAttn: true }), { inputShape: [3, null, 4] })).toThrow(
      'exportOnnx: the model (MultiheadAttention) with addBiasKv and addZeroAttn is not supported',
    );
    expect(() => exportOnnx(new MultiheadAttention(4, 2, { addZeroAttn: true }), { inputShape: [3, null, 4] })).toThrow(/with addZeroAttn is not supported/);
  });
});

describe('TransformerEncoderLayer and TransformerDecoderLayer', () => {
  test('PyTorch defaults and key names', () => {
    const enc = new TransformerEncoderLayer(8, 2);
    expect(Object.fromEntries(Object.entries(enc.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual({
      'self_attn.in_proj_weight': [24, 8], 'self_attn.in_proj_bias': [24], 'self_attn.out_proj.weight': [8, 8], 'self_attn.out_proj.bias': [8],
      'linear1.weight': [2048, 8], 'linear1.bias': [2048], 'linear2.weight': [8, 2048], 'linear2.bias': [8],
      'norm1.weight': [8], 'norm1.bias': [8], 'norm2.weight': [8], 'norm2.bias': [8],
    });
    expect(enc.selfAttn.dropout).toBe(0.1);
    expect(enc.normFirst).toBe(false);
    expect(enc.batchFirst).toBe(false);
    const dec = new TransformerDecoderLayer(8, 2, { dimFeedforward: 4 });
    expect(Object.keys(dec.stateDict())).toEqual([
      'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
      'multihead_attn.in_proj_weight', 'multihead_attn.in_proj_bias', 'multihead_attn.out_proj.weight', 'multihead_attn.out_proj.bias',
      'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias',
      'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias', 'norm3.weight', 'norm3.bias',
    ]);
  });

  test('gradcheck in float64 for pre- and post-norm, relu and gelu', () => {
    for (const [normFirst, activation] of [[false, 'relu'], [true, 'gelu']] as const) {
      const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dtype: 'float64', seed: 2, normFirst, activation, dropout: 0 });
      const names = layer.namedParameters().map(([n]) => n);
      const params = layer.namedParameters().map(([, t]) => t.detach().clone().requiresGrad_());
      const src = seededTensor([3, 2, 4], 4);
      const f = (x: Tensor, ...p: Tensor[]) => functionalCall(layer, Object.fromEntries(names.map((n, i) => [n, p[i]!])), x, { isCausal: true });
      checkGradProperty(f, fc.constant([src, ...params]), { numRuns: 1 });
    }
    const dec = new TransformerDecoderLayer(4, 2, { dimFeedforward: 6, dtype: 'float64', seed: 2, dropout: 0, batchFirst: true });
    const tgt = seededTensor([2, 3, 4], 5), memory = seededTensor([2, 2, 4], 6);
    checkGradGradProperty((t, m) => dec.forward(t, m, { tgtIsCausal: true }), fc.constant([tgt, memory]), { numRuns: 1 });
  });

  test('clone copies the configuration and the weights into storage of its own', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, seed: 1 });
    const copy = layer.clone();
    const [a, b] = [layer.stateDict(), copy.stateDict()];
    for (const k of Object.keys(a)) expect(Array.from(b[k]!.data)).toEqual(Array.from(a[k]!.data));
    copy.linear1.weight.data[0] = 42;
    expect(layer.linear1.weight.data[0]).not.toBe(42);
    expect(String(copy)).toBe(String(layer));
  });

  test('a state dict from another architecture is refused, naming the module path, the parameter and both shapes; the model is unchanged', () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    const before = Array.from(layer.linear1.weight.data);
    const other = new TransformerEncoderLayer(8, 2, { dimFeedforward: 32 }).stateDict();
    expect(() => layer.loadStateDict(other)).toThrow(StateDictError);
    expect(() => layer.loadStateDict(other)).toThrow(/'linear1\.weight': shape \[32,8\] in the dict, \[16,8\] in the module \(parameter 'weight' of linear1 \(Linear\)\)/);
    expect(() => layer.loadStateDict(new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 }).stateDict())).toThrow(/unexpected key 'multihead_attn\.in_proj_weight'/);
    expect(() => layer.loadStateDict(new MultiheadAttention(8, 2, { kdim: 4 }).stateDict())).toThrow(/missing key 'self_attn\.in_proj_weight'/);
    expect(Array.from(layer.linear1.weight.data)).toEqual(before);
  });
});

describe('TransformerEncoder, TransformerDecoder and Transformer', () => {
  test('the stacks copy their layer (equal initial weights, own storage), with keys layers.i and norm', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, seed: 0 });
    const enc = new TransformerEncoder(layer, 2, { norm: new LayerNorm(4) });
    const dict = enc.stateDict();
    expect(Object.keys(dict).filter((k) => !k.startsWith('layers.'))).toEqual(['norm.weight', 'norm.bias']);
    expect(Array.from(dict['layers.0.linear1.weight']!.data)).toEqual(Array.from(layer.linear1.weight.data));
    expect(Array.from(dict['layers.1.linear1.weight']!.data)).toEqual(Array.from(layer.linear1.weight.data));
    enc.layers.at(0).linear1.weight.data[0] = 9;
    expect(enc.layers.at(1).linear1.weight.data[0]).not.toBe(9);
    const dec = new TransformerDecoder(new TransformerDecoderLayer(4, 2, { dimFeedforward: 6 }), 3);
    expect(Object.keys(dec.stateDict()).filter((k) => k.endsWith('multihead_attn.in_proj_weight'))).toEqual(
      [0, 1, 2].map((i) => `layers.${i}.multihead_attn.in_proj_weight`),
    );
    const x = seededTensor([3, 2, 4], 1, { dtype: 'float32', requiresGrad: false });
    assertClose(new TransformerEncoder(layer, 0).forward(x), x, 0);
  });

  test('Transformer: PyTorch defaults, keys, xavier re-initialisation, and the subsequent mask', () => {
    const t = new Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16, seed: 0 });
    const keys = Object.keys(t.stateDict());
    expect(keys[0]).toBe('encoder.layers.0.self_attn.in_proj_weight');
    expect(keys).toContain('encoder.norm.weight');
    expect(keys).toContain('decoder.layers.0.multihead_attn.out_proj.bias');
    expect(keys.at(-1)).toBe('decoder.norm.bias');
    // Re-drawn per parameter: the encoder's two layers no longer share their initial weights.
    const d = t.stateDict();
    expect(Array.from(d['encoder.layers.0.linear1.weight']!.data)).not.toEqual(Array.from(d['encoder.layers.1.linear1.weight']!.data));
    const bound = Math.sqrt(6 / (16 + 8));
    expect(Math.max(...Array.from(d['encoder.layers.0.linear1.weight']!.data, Math.abs))).toBeLessThanOrEqual(bound);
    const counts = new Transformer({ dModel: 8, nhead: 2, dimFeedforward: 4 });
    expect([counts.encoder.layers.length, counts.decoder.layers.length, counts.batchFirst]).toEqual([6, 6, false]);
    const wide = new Transformer({ numEncoderLayers: 1, numDecoderLayers: 0 });
    expect([wide.dModel, wide.nhead, wide.encoder.layers.at(0).linear1.outFeatures, wide.encoder.layers.at(0).selfAttn.dropout]).toEqual([512, 8, 2048, 0.1]);
    expect(Array.from(Transformer.generateSquareSubsequentMask(3).data)).toEqual([0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
    const src = zeros([5, 2, 8]);
    expect(() => t.forward(src, zeros([4, 3, 8]))).toThrow(/Transformer: src and tgt must have the same rank and batch size; got src \[5,2,8\] and tgt \[4,3,8\]/);
    expect(() => t.forward(src, zeros([4, 2, 6]))).toThrow(/feature size of src and tgt must be dModel 8/);
    expect(t.forward(src, zeros([4, 2, 8]), { tgtIsCausal: true }).shape).toEqual([4, 2, 8]);
  });
});

describe('positional encodings', () => {
  test('the sinusoidal table is the paper\'s formula', () => {
    const pe = sinusoidalPositionalEncoding(3, 5, { dtype: 'float64' });
    const expected: number[] = [];
    for (let pos = 0; pos < 3; pos++) {
      const f = (i: number) => pos / Math.pow(10000, (2 * i) / 5);
      expected.push(Math.sin(f(0)), Math.cos(f(0)), Math.sin(f(1)), Math.cos(f(1)), Math.sin(f(2)));
    }
    assertClose(pe, expected, 1e-15);
    expect(Array.from(pe.data).slice(0, 5)).toEqual([0, 1, 0, 1, 0]);
  });

  test('SinusoidalPositionalEncoding adds the table along the sequence axis of each layout and has no state', () => {
    const x = seededTensor([4, 2, 6], 1, { requiresGrad: false });
    const table = sinusoidalPositionalEncoding(4, 6, { dtype: 'float64' });
    const seqFirst = new SinusoidalPositionalEncoding(6, { dtype: 'float64' });
    assertClose(seqFirst.forward(x), x.add(table.unsqueeze(1)), 0);
    const batchFirst = new SinusoidalPositionalEncoding(6, { dtype: 'float64', batchFirst: true, maxLen: 4 });
    assertClose(batchFirst.forward(x.transpose(0, 1)), x.transpose(0, 1).add(table), 0);
    expect(Object.keys(seqFirst.stateDict())).toEqual([]);
    expect(() => batchFirst.forward(zeros([1, 5, 6], { dtype: 'float64' }))).toThrow(/SinusoidalPositionalEncoding: input must be \[batch, seq, 6\] with seq at most maxLen 4; got shape \[1,5,6\]/);
  });

  test('LearnedPositionalEmbedding adds its first rows, and only they get gradients', () => {
    const pos = new LearnedPositionalEmbedding(5, 3, { batchFirst: true, dtype: 'float64', seed: 0 });
    expect(Object.fromEntries(Object.entries(pos.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual({ weight: [5, 3] });
    const x = seededTensor([2, 4, 3], 1);
    const y = pos.forward(x);
    assertClose(y, x.add(pos.weight.narrow(0, 0, 4)), 0);
    y.sum().backward();
    expect(Array.from(pos.weight.grad!.data)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0]);
    expect(() => pos.forward(zeros([2, 6, 3], { dtype: 'float64' }))).toThrow(ShapeError);
  });
});
