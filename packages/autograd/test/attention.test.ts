import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, DTypeError, ShapeError, attentionWeights, dropout, jvp, scaledDotProductAttention, tensor, vmap, zeros, type Tensor,
} from '@chainrule/autograd';
import { assertClose, checkGradGradProperty, checkGradProperty, seededTensor } from '@chainrule/autograd/testing';
import { attentionRef } from './helpers/attention-reference.js';
import { values } from './helpers/tensors.js';

type MaskKind = 'none' | 'bool' | 'float' | 'causal';

/** Small random attention problems: leading axes that broadcast, Lq ≠ Lk, every mask kind. */
const attnCase = fc.record({
  batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  ones: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
  lq: fc.integer({ min: 1, max: 4 }),
  lk: fc.integer({ min: 1, max: 4 }),
  e: fc.integer({ min: 1, max: 4 }),
  ev: fc.integer({ min: 1, max: 3 }),
  mask: fc.constantFrom<MaskKind>('none', 'bool', 'float', 'causal'),
  maskRank: fc.integer({ min: 0, max: 2 }),
  scale: fc.option(fc.double({ min: -2, max: 2, noNaN: true }), { nil: undefined }),
  seed: fc.integer(),
});
type Case = typeof attnCase extends fc.Arbitrary<infer T> ? T : never;

/** The batch axes as one operand sees them: some set to 1, so they broadcast. */
function lead(c: Case, which: number): number[] {
  return c.batch.map((d, i) => (c.ones[which * 2 + i] ? 1 : d));
}

function build(c: Case) {
  const q = seededTensor([...lead(c, 0), c.lq, c.e], c.seed);
  const k = seededTensor([...lead(c, 1), c.lk, c.e], c.seed + 1);
  const v = seededTensor([...lead(c, 2), c.lk, c.ev], c.seed + 2);
  // The scores' leading axes: the broadcast of the three operands'.
  const batch = c.batch.map((_, i) => Math.max(q.shape[i]!, k.shape[i]!, v.shape[i]!));
  const maskShape = [...batch.slice(batch.length - Math.min(c.maskRank, batch.length)), c.lq, c.lk];
  let mask: Tensor | undefined;
  if (c.mask === 'bool') {
    const u = seededTensor(maskShape, c.seed + 3, { min: 0, max: 1, requiresGrad: false });
    mask = u.lt(0.7);
  } else if (c.mask === 'float') {
    mask = seededTensor(maskShape, c.seed + 3, { min: -3, max: 1 });
  }
  return { q, k, v, mask };
}

function options(c: Case, mask: Tensor | undefined) {
  return { ...(mask === undefined ? {} : { mask }), ...(c.mask === 'causal' ? { isCausal: true } : {}), ...(c.scale === undefined ? {} : { scale: c.scale }) };
}

describe('scaledDotProductAttention', () => {
  it('a hand-computed case: one query, two keys, scale 1', () => {
    // scores [1·1, 1·0] = [1, 0]; weights [e/(e+1), 1/(e+1)]; out = w·[[2], [4]].
    const q = tensor([[1, 0]], { dtype: 'float64' });
    const k = tensor([[1, 0], [0, 1]], { dtype: 'float64' });
    const v = tensor([[2], [4]], { dtype: 'float64' });
    const w = Math.E / (Math.E + 1);
    assertClose(scaledDotProductAttention(q, k, v, { scale: 1 }), [2 * w + 4 * (1 - w)]);
    // The default scale is 1/√2 here.
    const w2 = Math.exp(1 / Math.SQRT2) / (Math.exp(1 / Math.SQRT2) + 1);
    assertClose(scaledDotProductAttention(q, k, v), [2 * w2 + 4 * (1 - w2)]);
  });

  it('matches the plain-loop reference over random shapes, masks and scales', () => {
    fc.assert(fc.property(attnCase, (c) => {
      const { q, k, v, mask } = build(c);
      const ref = attentionRef(q, k, v, {
        ...(mask === undefined ? {} : { mask: { data: mask.data, shape: mask.shape, bool: mask.dtype === 'bool' } }),
        isCausal: c.mask === 'causal',
        ...(c.scale === undefined ? {} : { scale: c.scale }),
      });
      const y = scaledDotProductAttention(q, k, v, options(c, mask));
      expect(y.shape).toEqual(ref.shape);
      assertClose(y, ref.data, 1e-12, 1e-12);
      // The weights' leading axes are q's and k's; v's may broadcast them further, so k takes them all.
      const w = attentionWeights(q, k.expand([...ref.shape.slice(0, -2), c.lk, c.e]), options(c, mask));
      assertClose(w, ref.weights, 1e-12, 1e-12);
    }), { numRuns: 150 });
  });

  it('float32 agrees with float64 to float32 rounding', () => {
    fc.assert(fc.property(attnCase, (c) => {
      const { q, k, v, mask } = build(c);
      const f32 = (t: Tensor) => t.detach().toDtype(t.dtype === 'bool' ? 'bool' : 'float32');
      const y32 = scaledDotProductAttention(f32(q), f32(k), f32(v), options(c, mask === undefined ? undefined : f32(mask)));
      expect(y32.dtype).toBe('float32');
      assertClose(y32, scaledDotProductAttention(q, k, v, options(c, mask)), 1e-5, 1e-5);
    }), { numRuns: 40 });
  });

  it('gradcheck over random shapes and masks (a float mask is differentiated too)', () => {
    checkGradProperty(
      (q, k, v, m) => scaledDotProductAttention(q!, k!, v!, { mask: m! }),
      attnCase.filter((c) => c.mask === 'float').map((c) => { const b = build(c); return [b.q, b.k, b.v, b.mask!]; }),
      { numRuns: 15 },
    );
    for (const kind of ['none', 'bool', 'causal'] as const) {
      fc.assert(fc.property(attnCase.map((c) => ({ ...c, mask: kind })), (c) => {
        const { q, k, v, mask } = build(c);
        checkGradProperty((a, b, d) => scaledDotProductAttention(a!, b!, d!, options(c, mask)), fc.constant([q, k, v]), { numRuns: 1 });
      }), { numRuns: 8 });
    }
  });

  it('gradgradcheck over random shapes and masks', () => {
    checkGradGradProperty(
      (q, k, v, m) => scaledDotProductAttention(q!, k!, v!, { mask: m! }),
      attnCase.filter((c) => c.mask === 'float').map((c) => { const b = build({ ...c, batch: c.batch.slice(0, 1) }); return [b.q, b.k, b.v, b.mask!]; }),
      { numRuns: 4 },
    );
    for (const kind of ['bool', 'causal'] as const) {
      fc.assert(fc.property(attnCase.map((c) => ({ ...c, mask: kind, batch: c.batch.slice(0, 1) })), (c) => {
        const { q, k, v, mask } = build(c);
        checkGradGradProperty((a, b, d) => scaledDotProductAttention(a!, b!, d!, options(c, mask)), fc.constant([q, k, v]), { numRuns: 1 });
      }), { numRuns: 4 });
    }
  });

  it('a fully masked query row gives 0 and a zero gradient, never NaN (PyTorch ≥ 2.5)', () => {
    const q = seededTensor([2, 3, 2], 1), k = seededTensor([2, 4, 2], 2), v = seededTensor([2, 4, 3], 3);
    const mask = tensor([[true, false, true, false], [false, false, false, false], [true, true, true, true]]);
    const y = scaledDotProductAttention(q, k, v, { mask });
    const rows = values(y);
    for (const b of [0, 1]) expect(rows.slice(b * 9 + 3, b * 9 + 6)).toEqual([0, 0, 0]);
    expect(rows.every(Number.isFinite)).toBe(true);
    y.sum().backward();
    const gq = values(q.grad);
    expect(gq.every(Number.isFinite)).toBe(true);
    expect([gq[2], gq[3], gq[8], gq[9]]).toEqual([0, 0, 0, 0]);
    expect([...values(k.grad), ...values(v.grad)].every(Number.isFinite)).toBe(true);
    // The same through a float mask of -Infinity, and through second derivatives.
    const fmask = tensor([[0, 0, 0, 0], [-Infinity, -Infinity, -Infinity, -Infinity], [0, -Infinity, 0, 0]], { dtype: 'float64' });
    checkGradGradProperty((a, b, d) => scaledDotProductAttention(a!, b!, d!, { mask: fmask }), fc.constant([q, k, v]), { numRuns: 1 });
    assertClose(scaledDotProductAttention(q, k, v, { mask: fmask }).narrow(1, 1, 1), new Float64Array(6));
  });

  it('isCausal with Lq ≠ Lk is aligned at the top left, as torch.ones(Lq, Lk).tril()', () => {
    const q = seededTensor([3, 2], 4, { requiresGrad: false }), k = seededTensor([5, 2], 5, { requiresGrad: false });
    const w = attentionWeights(q, k, { isCausal: true });
    const d = values(w);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) if (j > i) expect(d[i * 5 + j]).toBe(0);
    expect(d[0]).toBe(1);
    // More queries than keys: the rows past Lk see every key.
    const w2 = values(attentionWeights(k, q, { isCausal: true }));
    assertClose(w2.slice(4 * 3), values(attentionWeights(k.narrow(0, 4, 1), q)));
  });

  it('no keys: the output is zeros of shape [..., Lq, Ev]', () => {
    const y = scaledDotProductAttention(seededTensor([2, 3, 2], 1), zeros([2, 0, 2], { dtype: 'float64' }), zeros([2, 0, 5], { dtype: 'float64' }));
    expect(y.shape).toEqual([2, 3, 5]);
    expect(values(y).every((x) => x === 0)).toBe(true);
  });

  it('dropout draws one uniform per weight, as the functional dropout does with the same source', () => {
    const q = seededTensor([2, 3, 4], 6, { requiresGrad: false }), k = seededTensor([2, 5, 4], 7, { requiresGrad: false }), v = seededTensor([2, 5, 3], 8, { requiresGrad: false });
    const dropped = dropout(attentionWeights(q, k), 0.4, { seed: 11 });
    assertClose(attentionWeights(q, k, { dropout: 0.4, seed: 11 }), dropped);
    assertClose(scaledDotProductAttention(q, k, v, { dropout: 0.4, seed: 11 }), dropped.matmul(v));
    const zeroed = values(dropped).filter((x) => x === 0).length;
    expect(zeroed).toBeGreaterThan(0);
    expect(zeroed).toBeLessThan(30);
    expect(values(scaledDotProductAttention(q, k, v, { dropout: 1, seed: 1 })).every((x) => x === 0)).toBe(true);
    assertClose(scaledDotProductAttention(q, k, v, { dropout: 0, seed: 1 }), scaledDotProductAttention(q, k, v));
  });

  it('runs under vmap: mapped over a leading axis it equals the batched call, fully masked rows included', () => {
    fc.assert(fc.property(attnCase.filter((c) => c.batch.length > 0), (c) => {
      const full = { ...c, ones: c.ones.map(() => false) };
      const { q, k, v, mask } = build(full);
      const f = (a: Tensor, b: Tensor, d: Tensor) => scaledDotProductAttention(a, b, d, options(full, mask === undefined || mask.ndim < q.ndim ? mask : undefined));
      assertClose(vmap(f)(q, k, v), f(q, k, v), 1e-12, 1e-12);
    }), { numRuns: 20 });
    const q = seededTensor([2, 3, 2], 1, { requiresGrad: false }), k = seededTensor([2, 4, 2], 2, { requiresGrad: false });
    const mask = tensor([[true, false, true, false], [false, false, false, false], [true, true, true, true]]);
    assertClose(vmap((a: Tensor, b: Tensor) => scaledDotProductAttention(a, b, b, { mask }))(q, k), scaledDotProductAttention(q, k, k, { mask }), 1e-12, 1e-12);
  });

  it('leaves its inputs untouched', () => {
    const q = seededTensor([2, 3, 4], 6), k = seededTensor([2, 5, 4], 7), v = seededTensor([2, 5, 3], 8);
    const before = [values(q), values(k), values(v)];
    scaledDotProductAttention(q, k, v, { isCausal: true, dropout: 0.5, seed: 3 }).sum().backward();
    expect([values(q), values(k), values(v)]).toEqual(before);
  });

  it('bad input names the op, the shapes and the dtypes', () => {
    const q = seededTensor([2, 3, 4], 1), k = seededTensor([2, 5, 4], 2), v = seededTensor([2, 5, 6], 3);
    const sdpa = scaledDotProductAttention;
    expect(() => sdpa(q, k, v, { mask: tensor([[true, false]]) })).toThrow(ShapeError);
    expect(() => sdpa(q, k, v, { mask: tensor([[true, false]]) })).toThrow(/scaledDotProductAttention: mask of shape \[1,2\] does not broadcast to the attention scores \[\.\.\., Lq, Lk\] = \[2,3,5\]; got query \[2,3,4\], key \[2,5,4\], value \[2,5,6\]/);
    // A mask that would enlarge the output is refused too.
    expect(() => sdpa(q, k, v, { mask: zeros([4, 2, 3, 5], { dtype: 'bool' }) })).toThrow(/mask of shape \[4,2,3,5\] does not broadcast/);
    expect(() => sdpa(q, k, v, { mask: zeros([3, 5], { dtype: 'int32' }) })).toThrow(DTypeError);
    expect(() => sdpa(q, k, v, { mask: zeros([3, 5], { dtype: 'int32' }) })).toThrow(/scaledDotProductAttention: mask must be bool .* or float64 .*, got int32 of shape \[3,5\]/);
    expect(() => sdpa(q, k, v, { mask: zeros([3, 5], { dtype: 'float32' }) })).toThrow(/got float32 of shape \[3,5\]/);
    expect(() => sdpa(q, k, v, { mask: zeros([3, 5], { dtype: 'bool' }), isCausal: true })).toThrow(ArgumentError);
    expect(() => sdpa(q, seededTensor([2, 5, 3], 2), v)).toThrow(/scaledDotProductAttention: query and key differ in their last axis \(4 != 3\); got query \[2,3,4\], key \[2,5,3\], value \[2,5,6\]/);
    expect(() => sdpa(q, k, seededTensor([2, 4, 6], 2))).toThrow(/key and value differ in their sequence axis \(5 != 4\)/);
    expect(() => sdpa(q, seededTensor([3, 5, 4], 2), v)).toThrow(/scaledDotProductAttention: the leading axes do not broadcast; got query \[2,3,4\], key \[3,5,4\]/);
    expect(() => sdpa(seededTensor([4], 1), k, v)).toThrow(/query needs at least 2 axes/);
    expect(() => sdpa(q, k.toDtype('float32'), v)).toThrow(/scaledDotProductAttention: dtypes differ: \[2,3,4\] float64 and \[2,5,4\] float32/);
    expect(() => sdpa(q, k, v, { dropout: 1.5 })).toThrow(/scaledDotProductAttention: dropout must be a probability in \[0, 1\], got 1.5/);
    expect(() => sdpa(q, k, v, { scale: NaN })).toThrow(ArgumentError);
    expect(() => attentionWeights(q, seededTensor([2, 5, 3], 2))).toThrow(/^attentionWeights: query and key differ/);
  });
});

describe('attention with heads packed in the last axis ({ heads })', () => {
  const headsCase = fc.record({
    base: attnCase,
    heads: fc.integer({ min: 1, max: 3 }),
    maskHeads: fc.boolean(),
  });

  /** [..., L, H·D] seen as [..., H, L, D]: what the packed layout stands for. */
  const split = (t: Tensor, heads: number): Tensor => {
    const lead = t.shape.slice(0, -2), l = t.shape[t.ndim - 2]!, d = t.shape[t.ndim - 1]! / heads;
    return t.reshape([...lead, l, heads, d]).transpose(lead.length, lead.length + 1);
  };
  const merge = (t: Tensor): Tensor => {
    const lead = t.shape.slice(0, -3), [h, l, d] = t.shape.slice(-3) as [number, number, number];
    return t.transpose(lead.length, lead.length + 1).reshape([...lead, l, h * d]);
  };

  function buildHeads({ base: c, heads, maskHeads }: { base: Case; heads: number; maskHeads: boolean }, dtype: 'float32' | 'float64' = 'float64') {
    const q = seededTensor([...lead(c, 0), c.lq, heads * c.e], c.seed, { dtype });
    const k = seededTensor([...lead(c, 1), c.lk, heads * c.e], c.seed + 1, { dtype });
    const v = seededTensor([...lead(c, 2), c.lk, heads * c.ev], c.seed + 2, { dtype });
    const batch = c.batch.map((_, i) => Math.max(q.shape[i]!, k.shape[i]!, v.shape[i]!));
    // A mask over the heads too, or one that broadcasts over them.
    const maskBatch = batch.slice(batch.length - Math.min(c.maskRank, batch.length));
    const maskShape = [...maskBatch, ...(maskHeads ? [heads] : maskBatch.length > 0 ? [1] : []), c.lq, c.lk];
    let mask: Tensor | undefined;
    if (c.mask === 'bool') mask = seededTensor(maskShape, c.seed + 3, { min: 0, max: 1, requiresGrad: false }).lt(0.7);
    else if (c.mask === 'float') mask = seededTensor(maskShape, c.seed + 3, { min: -3, max: 1, dtype });
    return { q, k, v, mask, opts: options(c, mask) };
  }

  it('gives the bits of splitting the heads out and merging the result back, in both dtypes', () => {
    fc.assert(fc.property(headsCase, fc.constantFrom<'float32' | 'float64'>('float32', 'float64'), (hc, dtype) => {
      const { q, k, v, opts } = buildHeads(hc, dtype);
      const h = hc.heads;
      const got = scaledDotProductAttention(q, k, v, { ...opts, heads: h });
      const want = merge(scaledDotProductAttention(split(q, h), split(k, h), split(v, h), opts));
      expect(got.shape).toEqual(want.shape);
      expect(values(got)).toEqual(values(want));
      // The weights' leading axes are q's and k's; v's may broadcast them further, so k takes them all.
      const kAll = k.expand([...got.shape.slice(0, -2), hc.base.lk, k.shape[k.ndim - 1]!]);
      const w = attentionWeights(q, kAll, { ...opts, heads: h }), wSplit = attentionWeights(split(q, h), split(kAll, h), opts);
      expect(w.shape).toEqual(wSplit.shape);
      expect(values(w)).toEqual(values(wSplit));
    }), { numRuns: 120 });
  });

  it('gradients (first and second) equal those of the split form, and gradcheck passes', () => {
    fc.assert(fc.property(headsCase.map((hc) => ({ ...hc, base: { ...hc.base, batch: hc.base.batch.slice(0, 1) } })), (hc) => {
      const { q, k, v, opts } = buildHeads(hc);
      const h = hc.heads;
      const packed = (a: Tensor, b: Tensor, d: Tensor) => scaledDotProductAttention(a, b, d, { ...opts, heads: h });
      const unpacked = (a: Tensor, b: Tensor, d: Tensor) => merge(scaledDotProductAttention(split(a, h), split(b, h), split(d, h), opts));
      const g = seededTensor(packed(q, k, v).shape, hc.base.seed + 9, { requiresGrad: false });
      const grads = (f: typeof packed) => {
        for (const t of [q, k, v]) t.grad = null;
        f(q, k, v).mul(g).sum().backward();
        return [q, k, v].map((t) => values(t.grad));
      };
      expect(grads(packed)).toEqual(grads(unpacked));
      checkGradProperty(packed, fc.constant([q, k, v]), { numRuns: 1 });
    }), { numRuns: 10 });
    fc.assert(fc.property(headsCase.map((hc) => ({ ...hc, base: { ...hc.base, batch: hc.base.batch.slice(0, 1) } })), (hc) => {
      const { q, k, v, opts } = buildHeads(hc);
      checkGradGradProperty((a, b, d) => scaledDotProductAttention(a!, b!, d!, { ...opts, heads: hc.heads }), fc.constant([q, k, v]), { numRuns: 1 });
    }), { numRuns: 5 });
  });

  it('forward mode (jvp) equals the split form\'s, and vmap equals the batched call', () => {
    fc.assert(fc.property(headsCase.filter((hc) => hc.base.batch.length > 0 && hc.base.mask !== 'float'), (hc) => {
      const full = { ...hc, base: { ...hc.base, ones: hc.base.ones.map(() => false) } };
      const { q, k, v, mask, opts } = buildHeads(full);
      const h = hc.heads;
      const tangent = (t: Tensor, i: number) => seededTensor(t.shape, hc.base.seed + 20 + i, { requiresGrad: false });
      const tangents: [Tensor, Tensor, Tensor] = [tangent(q, 0), tangent(k, 1), tangent(v, 2)];
      const packed = (a: Tensor, b: Tensor, d: Tensor) => scaledDotProductAttention(a, b, d, { ...opts, heads: h });
      const unpacked = (a: Tensor, b: Tensor, d: Tensor) => merge(scaledDotProductAttention(split(a, h), split(b, h), split(d, h), opts));
      assertClose(jvp(packed, [q, k, v] as [Tensor, Tensor, Tensor], tangents).tangent, jvp(unpacked, [q, k, v] as [Tensor, Tensor, Tensor], tangents).tangent, 1e-12, 1e-12);
      const mapped = { ...opts, heads: h, ...(mask !== undefined && mask.ndim > 2 + (hc.maskHeads ? 1 : 0) ? { mask: undefined } : {}) };
      const f = (a: Tensor, b: Tensor, d: Tensor) => scaledDotProductAttention(a, b, d, mapped);
      assertClose(vmap(f)(q, k, v), f(q, k, v), 1e-12, 1e-12);
    }), { numRuns: 20 });
  });

  it('bad heads name the op and the shapes', () => {
    const q = seededTensor([2, 3, 6], 1), k = seededTensor([2, 5, 6], 2), v = seededTensor([2, 5, 4], 3);
    expect(() => scaledDotProductAttention(q, k, v, { heads: 0 })).toThrow(/scaledDotProductAttention: heads must be a positive integer, got 0/);
    expect(() => scaledDotProductAttention(q, k, v, { heads: 1.5 })).toThrow(ArgumentError);
    expect(() => scaledDotProductAttention(q, k, v, { heads: 3 })).toThrow(/scaledDotProductAttention: the last axis of value does not split into 3 heads; got query \[2,3,6\], key \[2,5,6\], value \[2,5,4\]/);
    expect(() => attentionWeights(q, k, { heads: 4 })).toThrow(/attentionWeights: the last axis of query does not split into 4 heads/);
    expect(() => scaledDotProductAttention(q, k, v, { heads: 2, mask: zeros([3, 3, 5], { dtype: 'bool' }) })).toThrow(/does not broadcast to the attention scores .* = \[2,2,3,5\]/);
  });
});
