import { describe, expect, it } from 'vitest';
import { customOp, gradients, tensor, type Tensor } from '@chainrule/autograd';
import { grad64, values } from './helpers/tensors.js';

// A leaf with no .grad keeps a gradient a VJP has just allocated as its .grad, without a copy,
// and later backward passes sum into that buffer in place. These tests pin down that no other
// tensor ever shares such a buffer: each would see its values change on the next backward.

describe('gradient buffers taken by leaves', () => {
  it('two leaves handed one gradient tensor by a VJP keep separate buffers', () => {
    const a = grad64([1, 2]);
    const b = grad64([3, 4]);
    // mul's VJP makes a fresh gradient for the sum below, and add hands it to both a and b.
    a.add(b).mul(2).sum().backward();
    expect(a.grad!.data).not.toBe(b.grad!.data);
    a.mul(3).sum().backward();
    expect(values(a.grad)).toEqual([5, 5]);
    expect(values(b.grad)).toEqual([2, 2]);
  });

  it('a gradient a hook saw is copied, so later passes leave the hook\'s tensor alone', () => {
    const x = grad64([1, 2, 3]);
    let seen: Tensor | null = null;
    x.registerHook((g) => {
      seen ??= g;
    });
    x.mul(2).sum().backward();
    x.mul(5).sum().backward();
    expect(values(seen)).toEqual([2, 2, 2]);
    expect(values(x.grad)).toEqual([7, 7, 7]);
  });

  it('a gradient a custom op\'s backward saw is not taken either', () => {
    let kept: Tensor | null = null;
    const passThrough = customOp({
      name: 'passThrough',
      forward: (t) => t.mul(1),
      backward: (g) => {
        kept ??= g;
        return g;
      },
    });
    const y = grad64([4, 5]);
    passThrough(y).mul(2).sum().backward(); // y receives the very tensor the op saw
    y.mul(10).sum().backward();
    expect(values(kept)).toEqual([2, 2]);
    expect(values(y.grad)).toEqual([12, 12]);
  });

  it('a gradient returned by gradients() and passed back in as a root gradient stays the caller\'s', () => {
    const w = grad64([1, 2]);
    const [g] = gradients([w.mul(3).sum()], [w]);
    const leaf = grad64([0, 0]);
    leaf.backward(g);
    leaf.backward(g);
    expect(values(g!)).toEqual([3, 3]);
    expect(values(leaf.grad)).toEqual([6, 6]);
  });

  it('a reshaped gradient is copied: the reshape shares storage with the tensor it came from', () => {
    const z = grad64([1, 2, 3, 4]);
    z.reshape(2, 2).mul(2).sum().backward();
    z.reshape(2, 2).mul(3).sum().backward();
    expect(values(z.grad)).toEqual([5, 5, 5, 5]);
  });

  it('a leaf that retained nothing and a non-leaf that retains its gradient do not share it', () => {
    const a = grad64([1, 2]);
    const h = a.mul(1).retainGrad();
    h.clone().mul(2).sum().backward({ retainGraph: true }); // clone's VJP passes its fresh incoming gradient through
    expect(values(h.grad)).toEqual([2, 2]);
    expect(values(a.grad)).toEqual([2, 2]);
    h.mul(4).sum().backward();
    expect(values(h.grad)).toEqual([6, 6]);
    expect(values(a.grad)).toEqual([6, 6]);
  });
});

describe('accumulation into .grad', () => {
  it('sums each pass in place, rounding once per element in float32, short and long alike', () => {
    // 3000 elements take the vector path, 5 the scalar loop; both must round like dst += src.
    for (const n of [5, 3000]) {
      const x = tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3), { requiresGrad: true });
      const w1 = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) / 3);
      const w2 = Float32Array.from({ length: n }, (_, i) => 1e-3 * Math.sin(i * 1.3) + 1e4 * (i % 2));
      x.mul(tensor(w1)).sum().backward();
      const buffer = x.grad!.data;
      x.mul(tensor(w2)).sum().backward();
      expect(x.grad!.data).toBe(buffer);
      const want = Array.from(w1, (v, i) => Math.fround(v + w2[i]!));
      expect(Array.from(x.grad!.data)).toEqual(want);
    }
  });
});
