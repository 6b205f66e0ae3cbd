import { describe, expect, test } from 'vitest';
import { tensor } from '@chainrule/autograd';
import { Linear, SGD } from '@chainrule/nn';

describe('zeroGrad', () => {
  test('sets gradients to null by default', () => {
    const lin = new Linear(2, 1, { dtype: 'float64', seed: 0 });
    lin.forward(tensor([[1, 2]], { dtype: 'float64' })).sum().backward();
    lin.zeroGrad();
    expect(lin.weight.grad).toBeNull();
    expect(lin.bias!.grad).toBeNull();
  });

  test('{ setToNone: false } zeroes the buffers in place, and backward then sums into them', () => {
    const lin = new Linear(2, 1, { dtype: 'float64', seed: 0 });
    const opt = new SGD(lin.parameters(), { lr: 0.1 });
    const x = tensor([[1, 2]], { dtype: 'float64' });
    lin.forward(x).sum().backward();
    const buffer = lin.weight.grad!.data;
    for (const zero of [() => lin.zeroGrad({ setToNone: false }), () => opt.zeroGrad({ setToNone: false })]) {
      zero();
      expect(lin.weight.grad!.data).toBe(buffer);
      expect(Array.from(buffer)).toEqual([0, 0]);
      lin.forward(x).sum().backward();
      expect(lin.weight.grad!.data).toBe(buffer);
      expect(Array.from(buffer)).toEqual([1, 2]);
      expect(Array.from(lin.bias!.grad!.data)).toEqual([1]);
    }
  });

  test('{ setToNone: false } replaces a gradient kept from a createGraph pass instead of writing into it', () => {
    const w = tensor([3], { dtype: 'float64', requiresGrad: true });
    w.square().sum().backward({ createGraph: true });
    const kept = w.grad!;
    expect(kept.requiresGrad).toBe(true);
    const opt = new SGD([w], { lr: 0.1 });
    opt.zeroGrad({ setToNone: false });
    expect(Array.from(kept.data)).toEqual([6]);
    expect(w.grad).not.toBe(kept);
    expect(Array.from(w.grad!.data)).toEqual([0]);
  });
});
