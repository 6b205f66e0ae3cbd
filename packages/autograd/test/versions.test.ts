import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  GraphError, Tensor, Value, adamUpdate, axpy, axpby, crossEntropy, customOp, incrementVersion, linear, tensor, where, type FloatArray, type NestedArray,
} from '@chainrule/autograd';
import { seededTensor } from '@chainrule/autograd/testing';

const f64 = (v: NestedArray, requiresGrad = true): Tensor => tensor(v, { dtype: 'float64', requiresGrad });

/** An in-place write that leaves the values as they are: only the version moves. */
const touch = (t: Tensor): void => axpy(t.data as FloatArray, 0, new Float64Array(t.size) as FloatArray);

describe('version counters', () => {
  it('refuses a gradient of w·w after w changed in place, naming the op, input, shape, dtype and versions', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const y = w.mul(w).sum();
    axpy(w.data as FloatArray, 1, new Float32Array([0, 1]));
    expect(() => y.backward()).toThrow(GraphError);
    const w2 = tensor([1, 2], { requiresGrad: true });
    const y2 = w2.mul(w2).sum();
    axpy(w2.data as FloatArray, 1, new Float32Array([0, 1]));
    expect(() => y2.backward()).toThrow(
      "backward of 'mul': input 1 (shape [2], float32) was modified in place after the forward (it is now at version 1)",
    );
    expect(w2.grad).toBeNull();
  });

  it('counts every in-place write of the library', () => {
    const x = f64([1, 2]);
    expect(x.version).toBe(0);
    axpy(x.data as FloatArray, 1, new Float64Array(2));
    axpby(x.data as FloatArray, 1, new Float64Array(2), 1);
    incrementVersion(x);
    expect(x.version).toBe(3);
    const m = new Float64Array(2), v = new Float64Array(2);
    adamUpdate(x.data as FloatArray, new Float64Array([1, 1]), m, v, { beta1: 0.9, beta2: 0.999, stepSize: 0.1, biasCorrection2Sqrt: 1, eps: 1e-8, decay: 1, l2: 0, maximize: false });
    expect(x.version).toBe(4);
  });

  it('accepts edits to inputs whose values the VJP does not read (add, sub, neg, sum, reshape, ...)', () => {
    const cases: [string, (x: Tensor) => Tensor, number[]][] = [
      ['add', (x) => x.add(3), [1, 1, 1, 1]],
      ['sub', (x) => f64([1, 1, 1, 1], false).sub(x), [-1, -1, -1, -1]],
      ['neg', (x) => x.neg(), [-1, -1, -1, -1]],
      ['reshape', (x) => x.reshape(2, 2), [1, 1, 1, 1]],
      ['permute', (x) => x.reshape(2, 2).transpose(), [1, 1, 1, 1]],
      ['expand', (x) => x.reshape(1, 4).expand(3, 4), [3, 3, 3, 3]],
      ['slice', (x) => x.slice(0, 1, 3), [0, 1, 1, 0]],
      ['toDtype', (x) => x.toDtype('float32'), [1, 1, 1, 1]],
      ['mean', (x) => x.mean(), [0.25, 0.25, 0.25, 0.25]],
      ['gather', (x) => x.gather(0, [0, 0, 3]), [2, 0, 0, 1]],
    ];
    for (const [name, f, expected] of cases) {
      const x = f64([1, 2, 3, 4]);
      const y = f(x).sum();
      touch(x);
      expect(() => y.backward(), name).not.toThrow();
      expect(x.grad!.toArray(), name).toEqual(expected);
    }
  });

  it('refuses edits to what the VJP reads: inputs, outputs and captured tensors', () => {
    const x0 = [0.5, 1.5, 2, 3];
    const cases: [string, (x: Tensor) => Tensor, RegExp][] = [
      ['mul', (x) => x.mul(x), /'mul': input 1/],
      ['div by x', (x) => f64([1, 1, 1, 1], false).div(x), /'div': input 1/],
      ['pow', (x) => x.pow(3), /'pow': input 0/],
      ['log', (x) => x.log(), /'log': input 0/],
      ['tanh reads its output, not x: the x that sin reads', (x) => x.sin().tanh(), /'sin': input 0/],
      ['matmul', (x) => x.reshape(2, 2).matmul(x.reshape(2, 2)), /'matmul': input 1/],
      ['max', (x) => x.max(), /'max': input 0/],
      ['prod', (x) => x.prod(), /'prod': input 0/],
      ['linear', (x) => linear(x.reshape(2, 2), x.reshape(2, 2)), /'linear': input 1/],
      ['crossEntropy', (x) => crossEntropy(x.reshape(2, 2), [0, 1]), /'crossEntropy': input 0/],
    ];
    for (const [name, f, message] of cases) {
      const x = f64(x0);
      const y = f(x).sum();
      touch(x);
      expect(() => y.backward(), name).toThrow(message);
    }
    // where reads its condition, which is no input of the graph.
    const x = f64(x0);
    const cond = f64([1, 0, 1, 0], false);
    const y = where(cond, x, 0).sum();
    touch(cond);
    expect(() => y.backward()).toThrow(/'where': a tensor its gradient reads/);
    // An output edited in place (exp's VJP is g·out).
    const e = f64([1, 2]).exp();
    const s = e.sum();
    touch(e);
    expect(() => s.backward()).toThrow(/'exp': its output/);
  });

  it('refuses the whole pass before any .grad changes or the graph is freed', () => {
    const a = f64([1, 2]);
    const c = f64([3, 4]);
    const y = a.mul(2).sum().add(c.square().sum());
    touch(c);
    expect(() => y.backward()).toThrow(/'square': input 0/);
    expect(a.grad).toBeNull();
    expect(c.grad).toBeNull();
    // Still refused, for the same reason, not for a freed graph.
    expect(() => y.backward()).toThrow(/'square': input 0/);
  });

  it('checks only what the gradients of the inputs that require grad read', () => {
    // x·c needs c for x's gradient, and x only for c's, which is not asked for.
    const x = f64([1, 2]);
    const c = f64([3, 4], false);
    const y = x.mul(c).sum();
    touch(x);
    y.backward();
    expect(x.grad!.toArray()).toEqual([3, 4]);
    const y2 = x.mul(c).sum();
    touch(c);
    expect(() => y2.backward()).toThrow(/'mul': input 1 \(shape \[2\], float64\)/);
  });

  it('shares the counter between tensors sharing storage (reshape, detach)', () => {
    const x = f64([1, 2, 3, 4]);
    const v = x.reshape(2, 2);
    const y = v.mul(v).sum();
    touch(x);
    expect(v.version).toBe(1);
    expect(() => y.backward()).toThrow(/'mul'/);
    const w = f64([1, 2]);
    const d = w.detach();
    const z = w.mul(d).sum();
    axpy(w.data as FloatArray, 1, new Float64Array([1, 1]));
    expect(d.version).toBe(1);
    expect(() => z.backward()).toThrow(/'mul': input 1/);
  });

  it('refuses a retained graph after an edit, and checks custom ops against all their inputs and output', () => {
    const x = f64([1, 2]);
    const y = x.mul(x).sum();
    y.backward({ retainGraph: true });
    expect(x.grad!.toArray()).toEqual([2, 4]);
    touch(x);
    expect(() => y.backward()).toThrow(/'mul'/);
    const double = customOp({ name: 'double', forward: (a) => a.mul(2), backward: (g) => g.mul(2) });
    const c = f64([1]);
    const out = double(c).sum();
    touch(c);
    expect(() => out.backward()).toThrow(/'double': input 0/);
  });

  it('bumps a .grad summed into in place', () => {
    const x = f64([1, 2]);
    x.mul(2).sum().backward();
    const before = x.grad!.version;
    x.mul(2).sum().backward();
    expect(x.grad!.version).toBe(before + 1);
    expect(x.grad!.toArray()).toEqual([4, 4]);
  });

  // Random chains of ops on a leaf; one tensor of the chain is written in place (values kept,
  // version bumped) before backward. The model: backward throws exactly when some op reads the
  // values of a tensor sharing the edited storage (its input, or its output for exp/tanh/sqrt);
  // otherwise the gradient is the one computed without any edit.
  it('throws exactly when an edited tensor is read by a VJP (random chains)', () => {
    type Step = { name: string; readsInput: boolean; readsOutput: boolean; f: (t: Tensor) => Tensor };
    const steps: Step[] = [
      { name: 'add', readsInput: false, readsOutput: false, f: (t) => t.add(1) },
      { name: 'neg', readsInput: false, readsOutput: false, f: (t) => t.neg() },
      { name: 'reshape', readsInput: false, readsOutput: false, f: (t) => t.reshape(-1) },
      { name: 'mul2', readsInput: false, readsOutput: false, f: (t) => t.mul(2) },
      { name: 'square', readsInput: true, readsOutput: false, f: (t) => t.square() },
      { name: 'sin', readsInput: true, readsOutput: false, f: (t) => t.sin() },
      { name: 'exp', readsInput: false, readsOutput: true, f: (t) => t.exp() },
      { name: 'tanh', readsInput: false, readsOutput: true, f: (t) => t.tanh() },
    ];
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: steps.length - 1 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: 1, max: 5 }),
        fc.nat({ max: 1000 }),
        (picks, editAt, n, seed) => {
          const chain = picks.map((i) => steps[i]!);
          const base = seededTensor([n], seed, { dtype: 'float64', min: -1, max: 1 });
          const run = (edit: number | null): { ts: Tensor[]; x: Tensor; error: unknown } => {
            const x = new Tensor(base.data.slice(), [n], { requiresGrad: true });
            const ts = [x];
            for (const s of chain) ts.push(s.f(ts[ts.length - 1]!));
            const y = ts[ts.length - 1]!.sum();
            if (edit !== null) touch(ts[edit]!);
            try {
              y.backward();
              return { ts, x, error: null };
            } catch (e) {
              return { ts, x, error: e };
            }
          };
          const clean = run(null);
          expect(clean.error).toBeNull();
          const j = editAt % (chain.length + 1);
          const edited = run(j);
          const shared = (i: number): boolean => edited.ts[i]!.data === edited.ts[j]!.data;
          const expectThrow = chain.some((s, i) => (s.readsInput && shared(i)) || (s.readsOutput && shared(i + 1)));
          if (expectThrow) {
            expect(edited.error).toBeInstanceOf(GraphError);
            expect(String(edited.error)).toMatch(/was modified in place after the forward/);
          } else {
            expect(edited.error).toBeNull();
            expect(edited.x.grad!.toArray()).toEqual(clean.x.grad!.toArray());
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Value: assigning .data between a forward and its backward', () => {
  it('refuses w·w after w.data changed (it gave [1, 3]-style wrong gradients), naming the op, input and label', () => {
    const w = new Value(1, 'w');
    const y = w.mul(w);
    w.data += 1;
    expect(() => y.backward()).toThrow(GraphError);
    expect(w.grad).toBe(0);
    const v = new Value(1, 'v');
    const z = v.mul(v);
    v.data = 2;
    expect(() => z.backward()).toThrow(/^Value\.backward: input 0 'v' of 'mul' had its data assigned \(now 2\) after 'mul' used it/);
  });

  it('accepts assignments to values no chain rule reads, and the usual forward, backward, update loop', () => {
    const a = new Value(3);
    const s = a.add(2).tanh();
    a.data = 10; // add reads no data, tanh reads its output
    s.backward();
    expect(a.grad).toBeCloseTo(1 - Math.tanh(5) ** 2, 14);
    const p = new Value(0.5);
    for (let step = 0; step < 3; step++) {
      p.grad = 0;
      const loss = p.mul(p).add(p.exp());
      loss.backward();
      expect(p.grad).toBeCloseTo(2 * p.data + Math.exp(p.data), 12);
      p.data -= 0.1 * p.grad;
    }
  });

  it('refuses an output assigned in place, and checks graphs older than the last backward too', () => {
    const x = new Value(0.3);
    const e = x.exp();
    const out = e.add(1);
    e.data = 5;
    expect(() => out.backward()).toThrow(/'exp' had its data assigned/);
    // A graph built, then another backward (a new epoch), then an assignment, then the old graph.
    const u = new Value(2, 'u');
    const old = u.mul(3).mul(u);
    new Value(1).mul(2).backward();
    u.data = 4;
    expect(() => old.backward()).toThrow(/'u' of 'mul'/);
  });

  it('takes a number seed, as PyTorch backward(gradient)', () => {
    const b = new Value(2);
    b.mul(b).backward(5);
    expect(b.grad).toBe(20);
    const leaf = new Value(1);
    leaf.backward(-2);
    expect(leaf.grad).toBe(-2);
    expect(() => b.mul(2).backward('1' as never)).toThrow(/^Value\.backward: the seed gradient must be a number/);
  });

  it('throws exactly when a rule reads an assigned value (random chains)', () => {
    type Step = { reads: 'input' | 'output' | 'none'; f: (v: Value) => Value };
    const steps: Step[] = [
      { reads: 'none', f: (v) => v.add(1) },
      { reads: 'input', f: (v) => v.mul(v) },
      { reads: 'input', f: (v) => v.relu() },
      { reads: 'output', f: (v) => v.tanh() },
      { reads: 'output', f: (v) => v.sigmoid() },
    ];
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: steps.length - 1 }), { minLength: 1, maxLength: 6 }), fc.nat(), fc.double({ min: 0.1, max: 1, noNaN: true }), (picks, at, x0) => {
        const chain = picks.map((i) => steps[i]!);
        const run = (edit: number | null): { x: Value; error: unknown } => {
          const x = new Value(x0);
          const vs = [x];
          for (const s of chain) vs.push(s.f(vs[vs.length - 1]!));
          if (edit !== null) vs[edit]!.data = vs[edit]!.data; // the same number: only the assignment counts
          try {
            vs[vs.length - 1]!.backward();
            return { x, error: null };
          } catch (e) {
            return { x, error: e };
          }
        };
        const clean = run(null);
        const j = at % (chain.length + 1);
        const edited = run(j);
        const expectThrow = (j < chain.length && chain[j]!.reads === 'input') || (j > 0 && chain[j - 1]!.reads === 'output');
        if (expectThrow) expect(edited.error).toBeInstanceOf(GraphError);
        else {
          expect(edited.error).toBeNull();
          expect(edited.x.grad).toBe(clean.x.grad);
        }
      }),
      { numRuns: 200 },
    );
  });
});
