import { describe, expect, test } from 'vitest';
import * as chainrule from '@chainrule/autograd';
import { decode, expectMatches, torchFixture, upstreamTotal, type Encoded } from './helpers/torch-fixture.js';
import { tensor, type DType, type NestedArray, type NestedBooleans, type Tensor } from '@chainrule/autograd';

// PyTorch's values for each op in scripts/torch-reference.py (forward in float64 and float32,
// float64 gradients for a fixed upstream gradient), checked against the Tensor method of the
// same name. The points include kinks, poles, signed zeros and infinities, where NaN must be
// NaN exactly where PyTorch has it.

interface Entry {
  name: string;
  inputs: Encoded[][];
  upstream: Encoded[];
  forward64: Encoded[];
  forward32: Encoded[];
  grads64: Encoded[][];
}

/** A call of a shaped op: `fn(input(s), ...args)`, one output or a list, float64 gradients of the inputs. */
interface ShapedEntry {
  fn: string;
  args: unknown[];
  /** Whether the function takes its tensors as one array (meshgrid). */
  listInput: boolean;
  inputs: { shape: number[]; data: Encoded[] }[];
  outputs: { shape: number[]; forward64: Encoded[]; forward32: Encoded[] }[];
  /** The gradient of each output; null for an integer output (indices), which has none. */
  upstream: (Encoded[] | null)[];
  grads64: Encoded[][];
}

const fixture = torchFixture<{ entries: Entry[]; shaped: ShapedEntry[] }>();

type Method = (...operands: Tensor[]) => Tensor;

function run(name: string, operands: Tensor[]): Tensor {
  const [self, ...rest] = operands;
  const method = (self as unknown as Record<string, Method>)[name];
  if (typeof method !== 'function') throw new Error(`Tensor has no method ${name}`);
  return method.apply(self, rest);
}

describe(`PyTorch ${fixture.torch} reference values`, () => {
  for (const e of fixture.entries) {
    test(`${e.name}: forward in float64 and float32, gradients in float64`, () => {
      const inputs = e.inputs.map((xs) => tensor(Float64Array.from(xs, decode), { requiresGrad: true }));
      const y = run(e.name, inputs);
      // A few ulp: libm implementations differ in the last bit.
      expectMatches(`${e.name} float64`, y.data, e.forward64, 4e-16);
      y.backward(tensor(Float64Array.from(e.upstream, decode)));
      inputs.forEach((x, i) => expectMatches(`${e.name} gradient of operand ${i}`, x.grad!.data, e.grads64[i]!, 1e-15));
      const y32 = run(e.name, e.inputs.map((xs) => tensor(Float32Array.from(xs, decode))));
      expect(y32.dtype).toBe('float32');
      expectMatches(`${e.name} float32`, y32.data, e.forward32, 2.4e-7);
    });
  }
});

type ShapedFn = (...args: unknown[]) => Tensor | Tensor[] | { values: Tensor; indices: Tensor };

function callShaped(e: ShapedEntry, inputs: Tensor[]): Tensor[] {
  const fn = (chainrule as unknown as Record<string, ShapedFn>)[e.fn];
  if (typeof fn !== 'function') throw new Error(`@chainrule/autograd exports no function ${e.fn}`);
  // JSON has no undefined: PyTorch's None (an open slice bound) arrives as null. An index or mask
  // tensor comes as { tensor, dtype }; { input: k } places input k in the call (then the inputs
  // are not passed first: scatterAdd(x, axis, index, src)).
  let placed = false;
  const args = e.args.map((a) => {
    if (a === null) return undefined;
    if (typeof a === 'object' && !Array.isArray(a) && 'input' in a) {
      placed = true;
      return inputs[(a as { input: number }).input];
    }
    if (typeof a === 'object' && !Array.isArray(a) && 'tensor' in a) {
      const t = a as { tensor: NestedArray | NestedBooleans; dtype: DType };
      return tensor(t.tensor, { dtype: t.dtype });
    }
    return a;
  });
  const out = e.listInput ? fn(inputs, ...args) : placed ? fn(...args) : fn(...inputs, ...args);
  if (Array.isArray(out)) return out;
  return 'values' in out ? [out.values, out.indices] : [out];
}

describe(`PyTorch ${fixture.torch} reference values of shaped ops`, () => {
  for (const e of fixture.shaped) {
    test(`${e.fn}(${e.inputs.map((i) => JSON.stringify(i.shape)).join(', ')}, ${JSON.stringify(e.args)}): forward in float64 and float32, gradients in float64`, () => {
      const inputs = e.inputs.map((i) => tensor(Float64Array.from(i.data, decode), { shape: i.shape, requiresGrad: true }));
      const ys = callShaped(e, inputs);
      expect(ys.length).toBe(e.outputs.length);
      ys.forEach((y, k) => {
        expect(y.shape).toEqual(e.outputs[k]!.shape);
        expectMatches(`${e.fn} output ${k} float64`, y.data, e.outputs[k]!.forward64, 1e-14);
      });
      // One backward through the sum of <output, upstream> reaches every input once (none when
      // every output is integer: nonzero, oneHot).
      if (e.upstream.some((g) => g !== null && g !== undefined)) upstreamTotal(ys, e.upstream).backward();
      inputs.forEach((x, i) => expectMatches(`${e.fn} gradient of input ${i}`, x.grad?.data ?? new Float64Array(x.size), e.grads64[i]!, 1e-14));
      const ys32 = callShaped(e, e.inputs.map((i) => tensor(Float32Array.from(i.data, decode), { shape: i.shape })));
      ys32.forEach((y, k) => {
        expect(y.dtype).toBe(e.upstream[k] === null ? ys[k]!.dtype : 'float32');
        expectMatches(`${e.fn} output ${k} float32`, y.data, e.outputs[k]!.forward32, 1e-6);
      });
    });
  }
});
