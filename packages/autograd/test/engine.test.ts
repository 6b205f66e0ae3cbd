import { describe, expect, it } from 'vitest';
import {
  GraphError, ShapeError, Tensor, Value, enableGrad, gradients, isGradEnabled, noGrad, tensor,
} from '@chainrule/autograd';
import { messageOf } from './helpers/reference.js';
import { f64, grad64 } from './helpers/tensors.js';

describe('gradient accumulation', () => {
  it('adds the contributions of a tensor used more than once', () => {
    const a = grad64([1, -2, 3]);
    a.mul(a).sum().backward(); // d(a²)/da = 2a
    expect(a.grad!.toArray()).toEqual([2, -4, 6]);
    const b = grad64([1, 2]);
    b.add(b).add(b).sum().backward();
    expect(b.grad!.toArray()).toEqual([3, 3]);
  });

  it('adds the paths of a diamond', () => {
    // d = (2a)·e^a: both branches start at a; dd/da = 2e^a + 2a·e^a, 4e at a = 1.
    const a = grad64(1);
    const d = a.mul(2).mul(a.exp());
    d.backward();
    expect(a.grad!.item()).toBeCloseTo(4 * Math.E, 14);
    // y = b + b·b with b = 3a shared: dy/da = 3 + 18a, 39 at a = 2.
    const x = grad64(2);
    const bb = x.mul(3);
    bb.add(bb.mul(bb)).backward();
    expect(x.grad!.item()).toBe(39);
  });

  it('sums a broadcast operand back and accumulates over separate backward calls', () => {
    const a = grad64([1, 2, 3]);
    const m = f64([[1, 1, 1], [2, 2, 2]]);
    a.add(m).mul(m).sum().backward(); // d/da Σ (a + m)·m = column sums of m
    expect(a.grad!.toArray()).toEqual([3, 3, 3]);
    a.mul(2).sum().backward();
    expect(a.grad!.toArray()).toEqual([5, 5, 5]);
  });
});

describe('accumulation after a createGraph pass', () => {
  it('a plain backward adds to a .grad kept on the graph instead of replacing it', () => {
    const x = grad64(2);
    x.pow(3).backward({ createGraph: true }); // 3x² = 12, kept on the graph
    expect(x.grad!.item()).toBe(12);
    x.mul(1).backward();
    expect(x.grad!.item()).toBe(13);
  });

  it('inputs handed one gradient tensor do not share a buffer afterwards', () => {
    // add's VJP gives both inputs the same tensor; a createGraph pass stores it as both .grads.
    const a = grad64(1);
    const b = grad64(1);
    a.add(b).backward({ createGraph: true });
    a.add(b).backward();
    expect(a.grad!.item()).toBe(2);
    expect(b.grad!.item()).toBe(2);
  });

  it("the caller's gradient is never summed into", () => {
    const x = grad64([1, 2]);
    const g = f64([1, 1]);
    x.backward(g, { createGraph: true }); // a leaf root: its .grad is g itself
    x.backward(g);
    expect(x.grad!.toArray()).toEqual([2, 2]);
    expect(g.toArray()).toEqual([1, 1]);
  });
});

describe('backward: misuse is a clear error', () => {
  it('a non-scalar output without a gradient', () => {
    const x = grad64([1, 2]);
    const y = x.mul(2);
    expect(() => y.backward()).toThrow(GraphError);
    expect(messageOf(() => y.backward())).toBe(
      'backward: the gradient can be implied only for a one-element output; got shape [2], so pass backward(gradient) with that shape',
    );
    y.backward(f64([1, 10]));
    expect(x.grad!.toArray()).toEqual([2, 20]);
  });

  it('a gradient of the wrong shape or dtype', () => {
    const y = grad64([1, 2]).mul(2);
    expect(() => y.backward(f64([1, 2, 3]))).toThrow(ShapeError);
    expect(() => y.backward(f64([1, 2, 3]))).toThrow(/^backward: gradient of shape \[3\] \(float64\) does not match the output's shape \[2\] \(float64\)/);
    expect(() => y.backward(tensor([1, 2]))).toThrow(/float32/);
  });

  it('an output that does not require grad', () => {
    expect(() => f64([1, 2]).sum().backward()).toThrow(GraphError);
    expect(() => f64([1, 2]).sum().backward()).toThrow(/^backward: tensor of shape \[\] does not require grad/);
  });

  it('an error midway leaves nothing half-summed for the next pass', () => {
    const x = grad64([1, 2]);
    const y = x.mul(3);
    const handle = y.registerHook(() => {
      throw new Error('hook failed');
    });
    const z = y.sum();
    expect(() => z.backward({ retainGraph: true })).toThrow('hook failed');
    handle.remove();
    z.backward();
    expect(x.grad!.toArray()).toEqual([3, 3]);
  });
});

describe('graph freeing and retainGraph', () => {
  it('frees the graph after backward, and a second backward through it is a clear error', () => {
    const x = grad64([1, 2]);
    const y = x.mul(x).sum();
    y.backward();
    expect(y.gradFn!.vjp).toBeNull();
    expect(() => y.backward()).toThrow(GraphError);
    expect(messageOf(() => y.backward())).toBe(
      "backward: the graph through 'sum' was already freed by an earlier backward(); pass { retainGraph: true } to the first call to backpropagate twice",
    );
    expect(x.grad!.toArray()).toEqual([2, 4]); // the failed call added nothing
  });

  it('a new output built on a freed intermediate is refused too', () => {
    const x = grad64([1, 2]);
    const h = x.mul(2);
    h.sum().backward();
    expect(() => h.mean().backward()).toThrow(/^backward: the graph through 'mul' was already freed/);
  });

  it('retainGraph keeps it: a second backward accumulates again', () => {
    const x = grad64([1, 2]);
    const y = x.mul(x).sum();
    y.backward({ retainGraph: true });
    expect(y.gradFn!.vjp).not.toBeNull();
    y.backward(undefined, { retainGraph: true });
    expect(x.grad!.toArray()).toEqual([4, 8]);
    y.backward();
    expect(x.grad!.toArray()).toEqual([6, 12]);
    expect(() => y.backward()).toThrow(GraphError);
  });
});

describe('.grad, retainGrad and requiresGrad', () => {
  it('.grad is set on leaves only; retainGrad keeps it on a non-leaf', () => {
    const x = grad64([1, 2]);
    const h = x.mul(3);
    const k = x.mul(4).retainGrad();
    h.add(k).mul(h).sum().backward(); // (3x + 4x)·3x = 21x²
    expect(x.grad!.toArray()).toEqual([42, 84]);
    expect(h.grad).toBeNull();
    expect(h.isLeaf).toBe(false);
    // d/dk of Σ (h + k)·h = h
    expect(k.grad!.toArray()).toEqual([3, 6]);
    const c = f64([5]);
    c.mul(x).sum().backward();
    expect(c.grad).toBeNull();
  });

  it('retained non-leaf gradients accumulate over passes, as leaves do', () => {
    const x = grad64([1, 2]);
    const h = x.mul(2).retainGrad();
    const y = h.sum();
    y.backward({ retainGraph: true });
    y.backward();
    expect(h.grad!.toArray()).toEqual([2, 2]);
    expect(x.grad!.toArray()).toEqual([4, 4]);
  });

  it('requiresGrad propagates from any input and settles isLeaf', () => {
    const a = f64([1]);
    const b = grad64([2]);
    expect(a.add(a).requiresGrad).toBe(false);
    expect(a.add(a).isLeaf).toBe(true);
    expect(a.add(b).requiresGrad).toBe(true);
    expect(a.add(b).isLeaf).toBe(false);
    expect(a.add(b).gradFn!.op).toBe('add');
    a.requiresGrad = true;
    a.mul(b).sum().backward();
    expect(a.grad!.toArray()).toEqual([2]);
  });

  it('setting requiresGrad on a non-leaf throws either way, naming the op and detach(), as PyTorch', () => {
    const y = grad64([1, 2]).exp();
    expect(() => {
      y.requiresGrad = false;
    }).toThrow(GraphError);
    expect(() => {
      y.requiresGrad = false;
    }).toThrow("requiresGrad: only leaf tensors' requiresGrad can be set; this tensor is the output of 'exp', shape [2]. To use its values without gradients, detach() it first: t.detach()");
    expect(() => {
      y.requiresGrad = true;
    }).toThrow(/^requiresGrad: only leaf tensors' requiresGrad can be set; this tensor \(the output of 'exp', shape \[2\]\) already requires grad through its inputs\. For a new leaf with its values, use t\.detach\(\)\.requiresGrad_\(\)/);
    expect(() => y.requiresGrad_(false)).toThrow(/^requiresGrad_: only leaf tensors' requiresGrad can be set; this tensor is the output of 'exp'/);
    expect(y.requiresGrad_()).toBe(y);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn!.op).toBe('exp');
    expect(() => {
      (y.detach() as { requiresGrad: unknown }).requiresGrad = 1;
    }).toThrow(/^requiresGrad: expected a boolean, got number/);
  });

  it('requiresGrad_ on a leaf sets the flag and returns the tensor', () => {
    const x = f64([1, 2]);
    expect(x.requiresGrad_()).toBe(x);
    expect(x.requiresGrad).toBe(true);
    x.square().sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 4]);
    expect(x.requiresGrad_(false).requiresGrad).toBe(false);
  });

  it('detach shares the data and stops the gradient', () => {
    const x = grad64([2, 3]);
    const d = x.detach();
    expect(d.data).toBe(x.data);
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    x.mul(d).sum().backward(); // d is a constant: the gradient is d, not 2x
    expect(x.grad!.toArray()).toEqual([2, 3]);
  });
});

describe('grad mode', () => {
  it('noGrad records nothing and restores the mode, even on throw', () => {
    const x = grad64([1, 2]);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return x.mul(2).exp().sum();
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => y.backward()).toThrow(GraphError);
    expect(() =>
      noGrad(() => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(isGradEnabled()).toBe(true);
  });

  it('enableGrad inside noGrad records again', () => {
    const x = grad64([1, 2]);
    const y = noGrad(() => enableGrad(() => x.mul(3).sum()));
    y.backward();
    expect(x.grad!.toArray()).toEqual([3, 3]);
  });
});

describe('dtypes', () => {
  it('backward of float32 gives float32 gradients', () => {
    const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const w = tensor([[0.5], [0.25]], { requiresGrad: true });
    const h = x.matmul(w).tanh().retainGrad();
    h.sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(w.grad!.dtype).toBe('float32');
    expect(h.grad!.dtype).toBe('float32');
    expect(x.grad!.data).toBeInstanceOf(Float32Array);
  });
});

describe('gradients(outputs, inputs)', () => {
  it('returns the gradients without touching .grad', () => {
    const x = grad64([1, 2]);
    const w = grad64([3, 4]);
    const h = x.mul(w);
    const [gx, gw, gh] = gradients([h.sum()], [x, w, h]);
    expect(gx!.toArray()).toEqual([3, 4]);
    expect(gw!.toArray()).toEqual([1, 2]);
    expect(gh!.toArray()).toEqual([1, 1]); // a non-leaf input works too
    expect(x.grad).toBeNull();
    expect(w.grad).toBeNull();
  });

  it('takes gradOutputs for non-scalar outputs and sums several outputs', () => {
    const x = grad64([1, 2]);
    const [g] = gradients([x.mul(2), x.square().sum()], [x], { gradOutputs: [f64([1, 10]), f64(1)] });
    expect(g!.toArray()).toEqual([2 + 2, 20 + 4]);
  });

  it('builds a graph for higher derivatives with createGraph', () => {
    const x = grad64(2);
    const [dx] = gradients([x.pow(3)], [x], { createGraph: true }); // 3x²
    expect(dx!.item()).toBe(12);
    const [ddx] = gradients([dx!], [x]); // 6x
    expect(ddx!.item()).toBe(12);
    expect(x.grad).toBeNull();
  });

  it('refuses unused inputs unless allowUnused, and inputs that do not require grad', () => {
    const x = grad64([1, 2]);
    const u = grad64([5]);
    expect(() => gradients([x.sum()], [x, u])).toThrow(GraphError);
    expect(() => gradients([x.sum()], [x, u])).toThrow(/^gradients: the outputs do not depend on input 1 \(shape \[1\]\)/);
    const [, gu] = gradients([x.sum()], [x, u], { allowUnused: true });
    expect(gu!.toArray()).toEqual([0]);
    expect(() => gradients([x.sum()], [f64([1])])).toThrow(/^gradients: input 0 \(shape \[1\]\) does not require grad/);
  });
});

describe('hooks', () => {
  it('a hook can replace the gradient of a leaf, and remove() undoes it', () => {
    const x = grad64([1, 2]);
    const seen: number[][] = [];
    const observer = x.registerHook((g) => {
      seen.push([...g.data]);
    });
    const doubler = x.registerHook((g) => g.mul(2));
    x.mul(3).sum().backward();
    expect(seen).toEqual([[3, 3]]);
    expect(x.grad!.toArray()).toEqual([6, 6]);
    doubler.remove();
    observer.remove();
    x.grad = null;
    x.mul(3).sum().backward();
    expect(x.grad!.toArray()).toEqual([3, 3]);
    expect(seen).toHaveLength(1);
  });

  it('a hook on a non-leaf changes what flows upstream, and sees the summed gradient once', () => {
    const x = grad64([1, 2]);
    const h = x.mul(2);
    const calls: number[][] = [];
    h.registerHook((g) => {
      calls.push([...g.data]);
      return g.clamp(-1, 1);
    });
    h.mul(h).sum().backward(); // dL/dh = 2h = [4, 8], clamped to [1, 1], times dh/dx = 2
    expect(calls).toEqual([[4, 8]]);
    expect(x.grad!.toArray()).toEqual([2, 2]);
  });

  it('refuses a replacement of another shape, and a hook on a tensor without gradients', () => {
    const x = grad64([1, 2]);
    x.registerHook(() => f64([1, 2, 3]));
    expect(() => x.mul(2).sum().backward()).toThrow(GraphError);
    expect(() => x.mul(2).sum().backward()).toThrow(/^registerHook: a hook returned a gradient of shape \[3\]/);
    expect(() => f64([1]).registerHook(() => undefined)).toThrow(/^registerHook: cannot register a hook on a tensor that does not require grad/);
  });
});

// A million-op graph takes 12–22 s on an idle two-core machine and several times that when the
// machine is shared; the limit is about not overflowing the stack, not about speed.
const LONG_CHAIN_TIMEOUT_MS = 180_000;

describe('long chains do not overflow the stack', () => {
  it('Tensor: 1,000,000 ops backpropagate', () => {
    // Reshapes (no new storage, so the test stays fast) with a doubling every 1000th op:
    // y = 2^1000·x, so dy/dx = 2^1000 exactly (finite in float64).
    const x = grad64([0.5]);
    let y: Tensor = x;
    for (let i = 0; i < 1_000_000; i++) {
      y = i % 1000 === 999 ? y.mul(2) : y.reshape(i % 2 === 0 ? [] : [1]);
    }
    expect(y.item()).toBe(2 ** 999);
    y.sum().backward();
    expect(x.grad!.item()).toBe(2 ** 1000);
  }, LONG_CHAIN_TIMEOUT_MS);

  it('Value: 1,000,000 ops backpropagate and accumulate', () => {
    const a = new Value(0.5);
    const b = new Value(0.25);
    let v = a;
    for (let i = 0; i < 1_000_000; i++) v = v.add(b);
    v.backward();
    expect(a.grad).toBe(1);
    expect(b.grad).toBe(1_000_000); // b feeds every link of the chain
  }, LONG_CHAIN_TIMEOUT_MS);
});

describe('gradients runs only the VJPs that lead to its inputs', () => {
  it('a branch that reaches no input is neither run nor freed', () => {
    const a = grad64([0.5, 1]);
    const x = grad64([2, 3]);
    const w = a.exp(); // a graph outside the question asked
    let seen = 0;
    w.registerHook(() => {
      seen++;
    });
    const y = x.mul(w).sum();
    const [dx] = gradients([y], [x]);
    expect(Array.from(dx!.data)).toEqual([Math.exp(0.5), Math.exp(1)]);
    expect(seen).toBe(0);
    // exp's VJP was not freed by that pass: a backward through it still works.
    w.sum().backward();
    expect(Array.from(a.grad!.data)).toEqual([Math.exp(0.5), Math.exp(1)]);
  });

  it('an input reached through another input still gets its total derivative', () => {
    const x = grad64([1.5]);
    const u = x.square();
    const y = u.mul(x).sum(); // x³ through u = x² and directly
    const [dx, du] = gradients([y], [x, u]);
    expect(dx!.item()).toBeCloseTo(3 * 1.5 ** 2, 14);
    expect(du!.item()).toBe(1.5);
  });
});

describe('assigning .grad, as PyTorch checks it', () => {
  it('a gradient of another shape or dtype, or not a Tensor, is refused naming both; null and a matching one are kept', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    // torch: "assigned grad has data of a different size" / "... of a different type".
    expect(() => {
      x.grad = tensor([1], { dtype: 'float64' });
    }).toThrow(/^Tensor\.grad: the gradient's shape \[1\] differs from the tensor's \[3\] \(float64\)$/);
    expect(() => {
      x.grad = tensor([1, 2, 3]);
    }).toThrow(/^Tensor\.grad: the gradient's dtype float32 \(shape \[3\]\) differs from the tensor's float64 \(shape \[3\]\)$/);
    expect(() => {
      x.grad = [1, 2, 3] as never;
    }).toThrow(/^Tensor\.grad: a gradient must be a Tensor or null/);
    expect(x.grad).toBeNull();
    const g = tensor([0.5, 0.5, 0.5], { dtype: 'float64' });
    x.grad = g;
    expect(x.grad).toBe(g);
    // backward accumulates into the assigned gradient, as into any other.
    x.square().sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([2.5, 4.5, 6.5]);
    x.grad = null;
    expect(x.grad).toBeNull();
  });
});

describe('gradients (torch.autograd.grad) options', () => {
  it('an unknown or non-boolean option is an error naming gradients, never a default silently kept', () => {
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const y = x.square().sum();
    expect(() => gradients([y], [x], { allow_unused: true } as never)).toThrow(
      /^gradients: unknown option 'allow_unused' \(the options are gradOutputs, retainGraph, createGraph, allowUnused\)$/,
    );
    expect(() => gradients([y], [x], { createGraph: 1 } as never)).toThrow(/^gradients: createGraph must be a boolean, got number$/);
    // The graph was not consumed by the refused calls.
    expect(Array.from(gradients([y], [x])[0]!.data)).toEqual([2, 4]);
  });
});

describe('backward({ inputs }), as PyTorch 1.13', () => {
  it('accumulates into the listed tensors only, leaf or not; an unreached input keeps its .grad', () => {
    const x = grad64([1, 2]);
    const z = grad64([3, 4]);
    const w = grad64([1, 1]);
    // d/dx Σ x·z = z; z is left alone.
    x.mul(z).sum().backward({ inputs: [x] });
    expect(Array.from(x.grad!.data)).toEqual([3, 4]);
    expect(z.grad).toBeNull();
    // Accumulates like any backward; a lone tensor is a list of one.
    x.mul(z).sum().backward({ inputs: x });
    expect(Array.from(x.grad!.data)).toEqual([6, 8]);
    x.mul(z).sum().backward({ inputs: [w] });
    expect(w.grad).toBeNull();
    // A non-leaf input gets its .grad, and nothing flows past it to x.
    x.grad = null;
    const h = x.mul(2);
    h.mul(z).sum().backward({ inputs: [h] });
    expect(Array.from(h.grad!.data)).toEqual([3, 4]);
    expect(x.grad).toBeNull();
  });

  it('createGraph keeps the accumulated gradient differentiable: d/dx Σ (d/dx Σ x³) = 6x', () => {
    const x = grad64([1, -2]);
    x.pow(3).sum().backward({ inputs: [x], createGraph: true });
    const g = x.grad!;
    x.grad = null;
    g.sum().backward({ inputs: [x] });
    expect(Array.from(x.grad!.data)).toEqual([6, -12]);
  });

  it('an empty list, a tensor that does not require grad, or a non-tensor is an error before anything runs', () => {
    const x = grad64([1, 2]);
    const y = x.square().sum();
    expect(() => y.backward({ inputs: [] })).toThrow(/^backward: inputs cannot be empty/);
    expect(() => y.backward({ inputs: [f64([1])] })).toThrow(/^backward: inputs\[0\] \(shape \[1\], float64\) does not require grad/);
    expect(() => y.backward({ inputs: [3] as never })).toThrow(/^backward: inputs\[0\] must be a Tensor, got number/);
    expect(x.grad).toBeNull();
    y.backward();
    expect(Array.from(x.grad!.data)).toEqual([2, 4]);
  });
});

describe('retainGrad, as PyTorch', () => {
  it('on a tensor that does not require grad is an error (torch: "can\'t retain_grad on Tensor that has requires_grad=False")', () => {
    expect(() => tensor([1, 2]).retainGrad()).toThrow(/^retainGrad: the tensor \(shape \[2\], float32\) does not require grad/);
    const x = grad64([1, 2]);
    expect(() => noGrad(() => x.mul(2)).retainGrad()).toThrow(GraphError);
    // On a leaf that requires grad it changes nothing; on a non-leaf it keeps the gradient.
    expect(x.retainGrad()).toBe(x);
    const y = x.mul(3).retainGrad();
    y.square().sum().backward();
    expect(Array.from(y.grad!.data)).toEqual([6, 12]);
    expect(Array.from(x.grad!.data)).toEqual([18, 36]);
  });
});
