import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { tensor, type Tensor } from '@chainrule/autograd';

// PyTorch's values for each op in scripts/torch-reference.py (forward in float64 and float32,
// float64 gradients for a fixed upstream gradient), checked against the Tensor method of the
// same name. The points include kinks, poles, signed zeros and infinities, where NaN must be
// NaN exactly where PyTorch has it.

type Encoded = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

interface Entry {
  name: string;
  inputs: Encoded[][];
  upstream: Encoded[];
  forward64: Encoded[];
  forward32: Encoded[];
  grads64: Encoded[][];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/torch-reference.json', import.meta.url), 'utf8')) as { torch: string; entries: Entry[] };

function decode(v: Encoded): number {
  return typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : -0;
}

/** Each element equal to PyTorch's within `rtol` (NaN where it has NaN, infinities exactly). */
function expectMatches(what: string, got: ArrayLike<number>, want: Encoded[], rtol: number): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = decode(want[i]!);
    const g = got[i]!;
    const where = `${what}, element ${i}: got ${g}, PyTorch ${w}`;
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(Object.is(g, w) || (g === w), where).toBe(true);
    else expect(Math.abs(g - w) <= rtol * Math.abs(w) + 1e-300, where).toBe(true);
  }
}

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
