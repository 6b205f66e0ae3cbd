import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { scaledDotProductAttention, tensor, type Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';

// PyTorch's outputs and float64 gradients of scaled dot-product attention
// (scripts/torch-attention-reference.py); float32 must agree to its rounding.

interface Data { shape: number[]; data: number[] }
interface Case {
  inputs: Data[];
  options: { mask?: Data & { dtype: 'bool' | 'float' }; isCausal?: boolean; scale?: number };
  output: Data;
  upstream: number[];
  grads: number[][];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/torch-attention-reference.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

function run(c: Case, dtype: 'float32' | 'float64'): { y: Tensor; leaves: Tensor[] } {
  const make = (t: Data) => tensor(dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data), { shape: t.shape, requiresGrad: true });
  const leaves = c.inputs.map(make);
  const m = c.options.mask;
  let mask: Tensor | undefined;
  if (m !== undefined) {
    mask = m.dtype === 'bool' ? tensor(Uint8Array.from(m.data), { shape: m.shape, dtype: 'bool' }) : make(m);
    if (m.dtype === 'float') leaves.push(mask);
  }
  const y = scaledDotProductAttention(leaves[0]!, leaves[1]!, leaves[2]!, {
    ...(mask === undefined ? {} : { mask }),
    ...(c.options.isCausal === undefined ? {} : { isCausal: c.options.isCausal }),
    ...(c.options.scale === undefined ? {} : { scale: c.options.scale }),
  });
  return { y, leaves };
}

describe(`PyTorch ${fixture.torch} reference values: scaledDotProductAttention`, () => {
  fixture.cases.forEach((c, i) => {
    test(`#${i} ${c.inputs.map((t) => JSON.stringify(t.shape)).join(' ')} ${JSON.stringify({ ...c.options, mask: c.options.mask && `${c.options.mask.dtype} ${JSON.stringify(c.options.mask.shape)}` })}`, () => {
      const { y, leaves } = run(c, 'float64');
      expect(y.shape).toEqual(c.output.shape);
      assertClose(y, c.output.data, 1e-12, 1e-12);
      y.backward(tensor(Float64Array.from(c.upstream), { shape: c.output.shape }));
      expect(leaves.length).toBe(c.grads.length);
      leaves.forEach((x, k) => assertClose(x.grad!, c.grads[k]!, 1e-11, 1e-11));
      const f32 = run(c, 'float32');
      expect(f32.y.dtype).toBe('float32');
      assertClose(f32.y, c.output.data, 1e-4, 1e-5);
    });
  });
});
