// The losses against PyTorch: scripts/torch-losses-reference.py wrote each case's tensor arguments,
// options, output and the gradients of sum(output) with respect to its float arguments, in float64.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import {
  bceLoss, bceWithLogitsLoss, cosineEmbeddingLoss, crossEntropyLoss, ctcLoss, gaussianNllLoss, hingeEmbeddingLoss, poissonNllLoss, huberLoss, klDivLoss, l1Loss, marginRankingLoss,
  mseLoss, multiMarginLoss, multilabelSoftMarginLoss, nllLoss, smoothL1Loss, softMarginLoss, tripletMarginLoss,
} from '@chainrule/nn';

interface Flat {
  shape: number[];
  data: number[];
}

type Nested = number | Nested[];

interface Case {
  loss: string;
  options: Record<string, number | string | Nested>;
  args: (Flat & { indices: boolean })[];
  output: { shape: number[]; data: (number | null)[] };
  grads: (Flat | null)[];
}

const reference = JSON.parse(readFileSync(new URL('./fixtures/torch-losses.json', import.meta.url), 'utf8')) as { cases: Case[] };

type Two = (input: Tensor, target: Tensor, options: Record<string, unknown>) => Tensor;
type Three = (a: Tensor, b: Tensor, c: Tensor, options: Record<string, unknown>) => Tensor;
const LOSSES: Record<string, (args: Tensor[], options: Record<string, unknown>) => Tensor> = {};
const twos: Record<string, Two> = {
  mseLoss, l1Loss, huberLoss, smoothL1Loss, poissonNllLoss, bceLoss, bceWithLogitsLoss, klDivLoss: klDivLoss as Two, hingeEmbeddingLoss, softMarginLoss,
  crossEntropyLoss: crossEntropyLoss as Two, nllLoss: nllLoss as Two, multiMarginLoss: multiMarginLoss as Two, multilabelSoftMarginLoss: multilabelSoftMarginLoss as Two,
};
const threes: Record<string, Three> = { marginRankingLoss, cosineEmbeddingLoss, tripletMarginLoss, gaussianNllLoss };
for (const [name, f] of Object.entries(twos)) LOSSES[name] = ([a, b], o) => f(a!, b!, o);
for (const [name, f] of Object.entries(threes)) LOSSES[name] = ([a, b, c], o) => f(a!, b!, c!, o);
// The script's ctc cases take logits and log-softmax them first (see the script).
LOSSES.ctcLoss = ([x, t], { inputLengths, targetLengths, ...o }) => ctcLoss(x!.logSoftmax(-1), t!, (inputLengths as Tensor).data, (targetLengths as Tensor).data, o);

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
    test(`${c.loss} (${describeOptions(c.options)}) of ${c.args.map((a) => `[${a.shape}]`).join(', ')}`, () => {
      const args = c.args.map((a) => (a.indices ? new Tensor(Int32Array.from(a.data), a.shape) : new Tensor(Float64Array.from(a.data), a.shape, { requiresGrad: true })));
      const out = LOSSES[c.loss]!(args, options(c.options));
      expect(out.shape).toEqual(c.output.shape);
      assertClose(out.data, c.output.data.map((v) => v ?? NaN), 1e-10, 1e-12);
      if (c.grads.some((g) => g !== null)) {
        out.sum().backward();
        c.grads.forEach((g, i) => {
          if (g !== null) assertClose(args[i]!.grad!.data, g.data, 1e-10, 1e-12);
        });
      }
    });
  }
});
