import { describe, expect, test } from 'vitest';
import {
  addmm, baddbmm, bmm, cdist, clamp, cosineSimilarity, crossEntropy, einsum, gelu, lerp, matrixNorm, max, min, nanmean, nanquantile, nansum, nanToNum, norm, normalize,
  outer, pairwiseDistance, quantile, round, softplus, std, tensor, tensordot, vectorNorm, type MatrixOrd, type QuantileInterpolation, type Tensor,
} from '@chainrule/autograd';
import { decode, expectMatches, torchFixture, type Encoded } from './helpers/torch-fixture.js';

// PyTorch's values for the ops called with options in scripts/torch-reference.py (the `calls`
// of the fixture): forward in float64 and float32 and float64 gradients for a fixed upstream
// gradient, each checked against the chainrule function of the same op.

type Args = Record<string, unknown>;

interface Call {
  title: string;
  op: string;
  args: Args;
  inputs: { shape: number[]; values: Encoded[] }[];
  shape: number[];
  upstream: Encoded[];
  forward64: Encoded[];
  forward32: Encoded[];
  grads64: (Encoded[] | null)[];
}

const fixture = torchFixture<{ calls: Call[] }>();

const num = (v: unknown): number => (typeof v === 'number' ? v : decode(v as Encoded));
const opt = (args: Args, key: string): number | undefined => (args[key] === undefined || args[key] === null ? undefined : num(args[key]));
const axisOf = (args: Args): number | number[] | undefined => (args.axis === undefined || args.axis === null ? undefined : (args.axis as number | number[]));

/** A q argument in the input's dtype: a number or a 1-D tensor. */
function qOf(args: Args, like: Tensor): number | Tensor {
  return Array.isArray(args.q) ? tensor(args.q as number[], { dtype: like.dtype }) : num(args.q);
}

/** Each op of the fixture, called as chainrule spells it. */
const OPS: Record<string, (xs: Tensor[], args: Args) => Tensor> = {
  einsum: (xs, a) => einsum(a.equation as string, ...xs),
  outer: ([x, y]) => outer(x!, y!),
  tensordot: ([x, y], a) => tensordot(x!, y!, a.dims as number | [number[], number[]]),
  bmm: ([x, y]) => bmm(x!, y!),
  addmm: ([c, x, y], a) => addmm(c!, x!, y!, { beta: opt(a, 'beta'), alpha: opt(a, 'alpha') }),
  baddbmm: ([c, x, y], a) => baddbmm(c!, x!, y!, { beta: opt(a, 'beta'), alpha: opt(a, 'alpha') }),
  vectorNorm: ([x], a) => vectorNorm(x!, num(a.ord), axisOf(a), a.keepdims as boolean),
  matrixNorm: ([x], a) => matrixNorm(x!, (typeof a.ord === 'string' && a.ord !== 'fro' && a.ord !== 'nuc' ? decode(a.ord as Encoded) : a.ord) as MatrixOrd),
  norm: ([x], a) => norm(x!, a.p === 'fro' || a.p === 'nuc' ? a.p : num(a.p), axisOf(a)),
  normalize: ([x], a) => normalize(x!, { p: opt(a, 'p'), axis: opt(a, 'axis') }),
  cosineSimilarity: ([x, y], a) => cosineSimilarity(x!, y!, { axis: opt(a, 'axis') }),
  pairwiseDistance: ([x, y], a) => pairwiseDistance(x!, y!, { p: opt(a, 'p'), keepdims: a.keepdims as boolean | undefined }),
  cdist: ([x, y], a) => cdist(x!, y!, { p: opt(a, 'p') }),
  nansum: ([x], a) => nansum(x!, axisOf(a), a.keepdims as boolean | undefined),
  nanmean: ([x], a) => nanmean(x!, axisOf(a), a.keepdims as boolean | undefined),
  quantile: ([x], a) => quantile(x!, qOf(a, x!), axisOf(a) as number | undefined, { keepdims: a.keepdims as boolean | undefined, interpolation: a.interpolation as QuantileInterpolation | undefined }),
  nanquantile: ([x], a) => nanquantile(x!, qOf(a, x!), axisOf(a) as number | undefined, { keepdims: a.keepdims as boolean | undefined }),
  std: ([x], a) => std(x!, axisOf(a), { correction: opt(a, 'correction') }),
  max: ([x], a) => max(x!, axisOf(a)),
  min: ([x], a) => min(x!, axisOf(a)),
  gelu: ([x], a) => gelu(x!, { approximate: a.approximate as 'none' | 'tanh' }),
  softplus: ([x], a) => softplus(x!, { beta: opt(a, 'beta') }),
  round: ([x], a) => round(x!, { decimals: opt(a, 'decimals') }),
  crossEntropy: ([x, p], a) => crossEntropy(x!, p ?? tensor(a.target as number | number[][][], { dtype: 'int32' }), {
    reduction: a.reduction as 'mean' | 'sum' | 'none' | undefined,
    weight: a.weight === undefined ? undefined : tensor(a.weight as number[], { dtype: x!.dtype }),
    ignoreIndex: opt(a, 'ignoreIndex'),
    labelSmoothing: opt(a, 'labelSmoothing'),
  }),
  lerp: ([s, e, w], a) => lerp(s!, e!, w ?? num(a.weight)),
  clamp: ([x, b1, b2], a) => (a.bounds === 'min,max' ? clamp(x!, b1!, b2!) : a.bounds === 'min' ? clamp(x!, b1!) : clamp(x!, undefined, b1!)),
  nanToNum: ([x], a) => nanToNum(x!, { nan: opt(a, 'nan'), posinf: opt(a, 'posinf'), neginf: opt(a, 'neginf') }),
};

// Contractions sum in another order than PyTorch's kernels: a few ulp of the terms' size.
const RTOL64 = 1e-12, ATOL64 = 1e-12;
const RTOL32 = 2e-5, ATOL32 = 2e-5;

describe(`PyTorch ${fixture.torch} reference values of ops called with options`, () => {
  for (const c of fixture.calls) {
    test(c.title, () => {
      const run = OPS[c.op];
      if (run === undefined) throw new Error(`no chainrule call for fixture op ${c.op}`);
      const inputs = c.inputs.map((x, i) =>
        tensor(Float64Array.from(x.values, decode), { shape: x.shape, requiresGrad: c.grads64[i] !== null }),
      );
      const y = run(inputs, c.args);
      expect(y.shape, 'shape').toEqual(c.shape);
      // PyTorch's product path gives √1e-30 = 1e-15 for coincident points where this gives 0.
      const atol = c.op === 'cdist' ? 2e-15 : ATOL64;
      expectMatches(`${c.title} float64`, y.data, c.forward64, RTOL64, atol);
      if (c.grads64.some((g) => g !== null)) {
        y.backward(tensor(Float64Array.from(c.upstream, decode), { shape: c.shape }));
        inputs.forEach((x, i) => {
          const want = c.grads64[i];
          if (want === null || want === undefined) return;
          // A deliberate difference (README): a NaN element of a nan-reduction gets gradient 0,
          // where PyTorch's mask multiplies an infinite gradient of an all-NaN slice into NaN.
          const adjusted = c.op.startsWith('nan') && c.op !== 'nanToNum'
            ? want.map((w, k) => (w === 'NaN' && Number.isNaN(x.data[k]!) ? 0 : w))
            : want;
          expectMatches(`${c.title} gradient of input ${i}`, x.grad!.data, adjusted, 1e-10, 1e-10);
        });
      }
      const inputs32 = c.inputs.map((x, i) => tensor(Float32Array.from(x.values, decode), { shape: x.shape, requiresGrad: c.grads64[i] !== null }));
      const y32 = run(inputs32, c.args);
      expect(y32.dtype).toBe('float32');
      expectMatches(`${c.title} float32`, y32.data, c.forward32, RTOL32, c.op === 'cdist' ? 1e-6 : ATOL32);
      // Gradients stay float32 all the way back (no float64 constant slips into the graph).
      if (c.grads64.some((g) => g !== null)) {
        y32.backward(tensor(Float32Array.from(c.upstream, decode), { shape: c.shape }));
        inputs32.forEach((x, i) => {
          if (c.grads64[i] !== null) expect(x.grad!.dtype, `${c.title} gradient of input ${i}`).toBe('float32');
        });
      }
    });
  }
});
