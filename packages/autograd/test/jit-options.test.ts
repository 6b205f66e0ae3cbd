import { describe, expect, test } from 'vitest';
import { Tensor, TraceError, crossEntropy, jit, tensor } from '@chainrule/autograd';

// jit takes f alone: every number, string or boolean argument is static already (part of the
// signature), so there is no staticArgnums to give. A second argument must not be silently
// ignored: JAX's jit(f, static_argnums=...) callers porting code would get a program that
// differs from what they asked for without a word. An options object jit does not know, or
// anything else, is an error naming jit.
describe('jit refuses options it does not take', () => {
  const f = (a: Tensor, s: number): Tensor => a.mul(s);

  test('an options object (staticArgnums, donateArgnums...) is an error naming jit and the option', () => {
    expect(() => (jit as (...args: unknown[]) => unknown)(f, { staticArgnums: [1] })).toThrow(/^jit: unknown option 'staticArgnums'/);
    expect(() => (jit as (...args: unknown[]) => unknown)(f, { donateArgnums: [0] })).toThrow(/^jit: unknown option 'donateArgnums'/);
  });

  test('a second argument that is not an options object is an error', () => {
    expect(() => (jit as (...args: unknown[]) => unknown)(f, 5)).toThrow(/^jit: /);
    // The jitted function itself still works when f alone is given.
    expect(Array.from(jit(f)(tensor([1, 2]), 3).data)).toEqual([3, 6]);
  });
});

describe('a traced tensor inside an op\'s options object', () => {
  test('is an error naming the op and telling how to pass it; closed over, the same tensor works and is read at each call', () => {
    const logits = tensor([[1, 2, 0.5], [0.1, -1, 2]]);
    const target = tensor([1, 2], { dtype: 'int32' });
    const weight = tensor([1, 2, 3]);
    const passed = jit((x: Tensor, w: Tensor) => crossEntropy(x, target, { weight: w }));
    expect(() => passed(logits, weight)).toThrow(TraceError);
    expect(() => passed(logits, weight)).toThrow(/^jit: 'crossEntropy' was given a traced tensor \(float32 \[3\]\) inside an options argument.*close over that tensor/);
    const closed = jit((x: Tensor) => crossEntropy(x, target, { weight }));
    expect(closed(logits).item()).toBeCloseTo(crossEntropy(logits, target, { weight }).item(), 6);
    weight.data[2] = 5;
    expect(closed(logits).item()).toBeCloseTo(crossEntropy(logits, target, { weight }).item(), 6);
  });
});
