import { describe, test } from 'vitest';
import { atan2, celu, cumprod, elu, gradients, hardswish, logsumexp, max, prod, selu, sqrt, std, tensor, zerosLike, type Tensor } from '@chainrule/autograd';
import { decode, expectMatches, torchFixture, type SecondOrderCase } from './helpers/torch-fixture.js';

// PyTorch's second derivatives at the points where they take care (the `secondOrder` calls of
// scripts/torch-reference.py): for a fixed upstream u and direction w, the gradient g of
// <f(x), u> and the gradient of <g, w>, in float64 and float32, against the same two passes here.

type Args = Record<string, unknown>;

interface SecondOrderCall extends SecondOrderCase {
  op: string;
  args: Args;
}

const fixture = torchFixture<{ secondOrder: SecondOrderCall[] }>();

const axisOf = (args: Args): number | number[] | undefined => (args.axis === undefined || args.axis === null ? undefined : (args.axis as number | number[]));

/** Each op of the fixture, called as chainrule spells it. */
const OPS: Record<string, (xs: Tensor[], args: Args) => Tensor> = {
  prod: ([x], a) => prod(x!, axisOf(a), a.keepdims as boolean | undefined),
  elu: ([x]) => elu(x!),
  selu: ([x]) => selu(x!),
  celu: ([x], a) => celu(x!, { alpha: a.alpha as number }),
  hardswish: ([x]) => hardswish(x!),
  std: ([x], a) => std(x!, axisOf(a), { correction: a.correction as number }),
  max: ([x], a) => max(x!, axisOf(a)),
  logsumexp: ([x], a) => logsumexp(x!, axisOf(a)),
  sqrt: ([x]) => sqrt(x!),
  pow: ([x], a) => x!.pow(a.exponent as number),
  atan2: ([y, x]) => atan2(y!, x!),
  cumprod: ([x], a) => cumprod(x!, a.axis as number),
};

describe(`PyTorch ${fixture.torch} second derivatives`, () => {
  for (const c of fixture.secondOrder) {
    for (const dtype of ['float64', 'float32'] as const) {
      test(`${c.title} (${dtype})`, () => {
        const run = OPS[c.op];
        if (run === undefined) throw new Error(`no chainrule call for fixture op ${c.op}`);
        const [forward, grads, gradgrads, rtol] = dtype === 'float64' ? [c.forward64, c.grads64, c.gradgrads64, 1e-12] : [c.forward32, c.grads32, c.gradgrads32, 2e-6];
        const xs = c.inputs.map((x) => tensor(x.values.map(decode), { dtype, shape: x.shape, requiresGrad: true }));
        const y = run(xs, c.args);
        expectMatches(`${c.title} forward`, y.data, forward, rtol, rtol);
        const u = tensor(c.upstream.map(decode), { dtype, shape: y.shape });
        const gs = gradients([y.mul(u).sum()], xs, { createGraph: true });
        gs.forEach((g, k) => expectMatches(`${c.title} gradient of input ${k}`, g!.data, grads[k]!, rtol, rtol));
        const total = gs.map((g, k) => g!.mul(tensor(c.direction[k]!.map(decode), { dtype, shape: xs[k]!.shape })).sum()).reduce((a, b) => a.add(b));
        // A gradient constant in x (an op linear there) has no graph: its derivative is zero.
        const ggs = total.requiresGrad ? gradients([total], xs, { allowUnused: true }) : xs.map((x) => zerosLike(x));
        ggs.forEach((g, k) => expectMatches(`${c.title} second derivative of input ${k}`, g!.data, gradgrads[k]!, rtol, rtol));
      });
    }
  }
});
