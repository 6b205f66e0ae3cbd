import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as chainrule from '@chainrule/autograd';
import { tensor, type Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';

// PyTorch's outputs, max-pooling indices and float64 gradients for the convolution, pooling and
// resampling functions (scripts/torch-conv-reference.py), each case called through the chainrule
// function of the same name with the same options; float32 must agree to its rounding.

interface Case {
  fn: string;
  inputs: { shape: number[]; data: number[] }[];
  args: unknown[];
  options?: Record<string, unknown>;
  output: { shape: number[]; data: number[] };
  upstream: number[];
  grads: number[][];
  indices?: number[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/torch-conv-reference.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

type Fn = (...args: unknown[]) => Tensor | [Tensor, Tensor];

function call(c: Case, inputs: Tensor[]): [Tensor, Tensor | undefined] {
  const fn = (chainrule as unknown as Record<string, Fn>)[c.fn];
  if (typeof fn !== 'function') throw new Error(`@chainrule/autograd exports no function ${c.fn}`);
  // Convolutions take (input, weight, bias, options); the others (input, ...args, options).
  const result = fn(...inputs, ...c.args, ...(c.options === undefined ? [] : [c.options]));
  return Array.isArray(result) ? result : [result, undefined];
}

describe(`PyTorch ${fixture.torch} reference values: convolution, pooling, resampling`, () => {
  fixture.cases.forEach((c, i) => {
    test(`${c.fn} #${i} ${JSON.stringify([...c.args, c.options ?? {}])}`, () => {
      const inputs = c.inputs.map((t) => tensor(Float64Array.from(t.data), { shape: t.shape, requiresGrad: true }));
      const [y, indices] = call(c, inputs);
      expect(y.shape).toEqual(c.output.shape);
      assertClose(y, c.output.data, 1e-12, 1e-12);
      if (c.indices !== undefined) {
        expect(indices?.dtype).toBe('int32');
        expect(Array.from(indices!.data)).toEqual(c.indices);
      }
      y.backward(tensor(Float64Array.from(c.upstream), { shape: c.output.shape }));
      inputs.forEach((x, k) => assertClose(x.grad!, c.grads[k]!, 1e-12, 1e-12));
      const [y32] = call(c, c.inputs.map((t) => tensor(Float32Array.from(t.data), { shape: t.shape })));
      expect(y32.dtype).toBe('float32');
      assertClose(y32, c.output.data, 1e-5, 1e-5);
    });
  });
});
