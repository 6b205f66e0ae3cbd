// The losses against PyTorch: scripts/torch-losses-reference.py wrote each case's input, target,
// options, output and the gradient of sum(output) with respect to the input, in float64.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { bceLoss, bceWithLogitsLoss, crossEntropyLoss, huberLoss, l1Loss, mseLoss, nllLoss } from '@chainrule/nn';

interface Flat {
  shape: number[];
  data: number[];
}

type Nested = number | Nested[];

interface Case {
  loss: string;
  options: Record<string, number | string | Nested>;
  input: Flat;
  target: Flat & { indices: boolean };
  output: { shape: number[]; data: (number | null)[] };
  gradInput: Flat | null;
}

const reference = JSON.parse(readFileSync(new URL('./fixtures/torch-losses.json', import.meta.url), 'utf8')) as { cases: Case[] };

type AnyLoss = (input: Tensor, target: Tensor, options: Record<string, unknown>) => Tensor;
const LOSSES: Record<string, AnyLoss> = {
  mseLoss, l1Loss, huberLoss, bceLoss, bceWithLogitsLoss,
  crossEntropyLoss: crossEntropyLoss as AnyLoss, nllLoss: nllLoss as AnyLoss,
};

function nestedShape(v: Nested): number[] {
  return Array.isArray(v) ? [v.length, ...nestedShape(v[0]!)] : [];
}

function flatten(v: Nested): number[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v];
}

/** PyTorch's option names to chainrule's; tensors (nested lists) become float64 Tensors. */
function options(o: Case['options']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const value = Array.isArray(v) ? new Tensor(Float64Array.from(flatten(v)), nestedShape(v)) : v;
    out[k.replace(/_(.)/g, (_, c: string) => c.toUpperCase())] = value;
  }
  return out;
}

/** The options in a test's name, tensors by their shape. */
function describeOptions(o: Case['options']): string {
  return Object.entries(o).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${nestedShape(v)}]` : String(v)}`).join(', ');
}

describe('losses against PyTorch', () => {
  for (const c of reference.cases) {
    test(`${c.loss} (${describeOptions(c.options)}) input [${c.input.shape}] target [${c.target.shape}]`, () => {
      const x = new Tensor(Float64Array.from(c.input.data), c.input.shape, { requiresGrad: true });
      const t = c.target.indices ? new Tensor(Int32Array.from(c.target.data), c.target.shape) : new Tensor(Float64Array.from(c.target.data), c.target.shape);
      const out = LOSSES[c.loss]!(x, t, options(c.options));
      expect(out.shape).toEqual(c.output.shape);
      assertClose(out.data, c.output.data.map((v) => v ?? NaN), 1e-10, 1e-12);
      if (c.gradInput !== null) {
        out.sum().backward();
        assertClose(x.grad!.data, c.gradInput.data, 1e-10, 1e-12);
      }
    });
  }
});
