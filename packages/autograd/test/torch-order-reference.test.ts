import { describe, expect, test } from 'vitest';
import * as chainrule from '@chainrule/autograd';
import { decode, torchFixture, upstreamTotal, type Encoded } from './helpers/torch-fixture.js';
import { tensor, type Tensor } from '@chainrule/autograd';

// PyTorch's results for the selection and order ops in scripts/torch-reference.py ('order'): each
// entry calls the chainrule function of that name on the inputs with the entry's arguments and
// compares every output (values, int32 indices, counts) and the float64 gradients of the inputs
// for a fixed upstream gradient of the float outputs. float32 inputs give the same selection.

interface Data {
  dtype: 'float' | 'int';
  shape: number[];
  data: Encoded[];
}

interface OrderEntry {
  fn: string;
  args: unknown[];
  inputs: Data[];
  outputs: Data[];
  /** The gradient of each output; null for an integer one. */
  upstream: (Encoded[] | null)[];
  /** The gradient of each input; null where PyTorch has none (integer inputs, non-differentiable ops). */
  grads64: (Encoded[] | null)[];
}

const fixture = torchFixture<{ order: OrderEntry[] }>();

/** Equal as numbers, NaN to NaN; -0 and 0 alike (PyTorch sorts them as equal, keeping their order). */
function expectSame(what: string, got: ArrayLike<number>, want: Encoded[]): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = decode(want[i]!);
    const g = got[i]!;
    expect(Number.isNaN(w) ? Number.isNaN(g) : g === w, `${what}, element ${i}: got ${g}, PyTorch ${w}`).toBe(true);
  }
}

type Result = Tensor | Tensor[] | { values: Tensor; indices?: Tensor; inverse?: Tensor; counts?: Tensor };

/** The outputs in PyTorch's order: values, then indices (or inverse, then counts). */
function call(e: OrderEntry, inputs: Tensor[]): Tensor[] {
  const fn = (chainrule as unknown as Record<string, (...a: unknown[]) => Result>)[e.fn];
  if (typeof fn !== 'function') throw new Error(`@chainrule/autograd exports no function ${e.fn}`);
  const out = fn(...inputs, ...e.args);
  if (out instanceof chainrule.Tensor) return [out];
  if (Array.isArray(out)) return out as Tensor[]; // a tuple of index tensors (where(condition))
  return [out.values, out.indices, out.inverse, out.counts].filter((t): t is Tensor => t !== undefined);
}

function input(d: Data, float: 'float32' | 'float64', requiresGrad: boolean): Tensor {
  const values = d.data.map(decode);
  return d.dtype === 'int'
    ? tensor(values, { dtype: 'int32', shape: d.shape })
    : tensor(float === 'float64' ? Float64Array.from(values) : Float32Array.from(values), { shape: d.shape, requiresGrad });
}

describe(`PyTorch ${fixture.torch} reference values of selection and order ops`, () => {
  for (const e of fixture.order) {
    const title = `${e.fn}(${e.inputs.map((i) => `${i.dtype} ${JSON.stringify(i.shape)}`).join(', ')}${e.args.length > 0 ? `, ${JSON.stringify(e.args).slice(1, -1)}` : ''})`;
    test(title, () => {
      const differentiable = e.grads64.some((g) => g !== null);
      const xs = e.inputs.map((d) => input(d, 'float64', differentiable));
      const ys = call(e, xs);
      expect(ys.length).toBe(e.outputs.length);
      ys.forEach((y, k) => {
        const want = e.outputs[k]!;
        expect(y.shape, `output ${k} shape`).toEqual(want.shape);
        expect(y.dtype, `output ${k} dtype`).toBe(want.dtype === 'int' ? 'int32' : 'float64');
        expectSame(`${e.fn} output ${k}`, y.data, want.data);
      });
      if (differentiable) {
        const total = upstreamTotal(ys, e.upstream);
        total.backward();
        xs.forEach((x, i) => {
          const want = e.grads64[i];
          if (want !== null && want !== undefined) expectSame(`${e.fn} gradient of input ${i}`, x.grad!.data, want);
        });
      }
      // float32: the same selection; values are the float32 roundings of PyTorch's.
      const ys32 = call(e, e.inputs.map((d) => input(d, 'float32', false)));
      ys32.forEach((y, k) => {
        const want = e.outputs[k]!;
        expect(y.dtype).toBe(want.dtype === 'int' ? 'int32' : 'float32');
        expectSame(`${e.fn} float32 output ${k}`, y.data, want.dtype === 'int' ? want.data : want.data.map((v) => Math.fround(decode(v))));
      });
    });
  }
});
