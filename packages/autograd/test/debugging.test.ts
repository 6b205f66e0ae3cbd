import { describe, expect, test } from 'vitest';
import { AnomalyError, detectAnomaly, isAnomalyEnabled, randn, tensor, toDot, Value, where } from '@chainrule/autograd';

describe('anomaly mode', () => {
  test('with forwardInf, log(0) deep in a graph is reported as a forward anomaly of log, with the line that created it', () => {
    const x = tensor([1, 0.5, 0], { dtype: 'float64', requiresGrad: true });
    let error: unknown;
    try {
      detectAnomaly(() => {
        const h = x.mul(2).tanh().mul(x);
        const bad = h.log(); // the line the report must name
        bad.exp().sum().backward();
      }, { forwardInf: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AnomalyError);
    const message = (error as Error).message;
    expect(message).toMatch(/forward of 'log' produced -Infinity/);
    const line = new Error().stack!.split('\n')[1]!.match(/debugging\.test\.ts:(\d+)/)![1];
    // The offending op sits 11 lines above this test's own probe.
    expect(message).toContain(`debugging.test.ts:${Number(line) - 11}`);
  });

  test('by default the same log(0) passes forward, and the NaN its VJP makes (0 / 0) is reported in backward', () => {
    const x = tensor([1, 0.5, 0], { dtype: 'float64', requiresGrad: true });
    expect(() => detectAnomaly(() => x.mul(2).tanh().mul(x).log().exp().sum().backward())).toThrow(
      /^anomaly: backward of 'log' produced NaN in the gradient it computed for input 0 \(element 2\)/,
    );
  });

  test("a causal mask's -Infinity before a softmax is not an anomaly; its gradient is exact", () => {
    const n = 3;
    const mask = tensor(Array.from({ length: n * n }, (_, k) => (k % n > Math.floor(k / n) ? -Infinity : 0)), { dtype: 'float64', shape: [n, n] });
    const scores = randn([n, n], { dtype: 'float64', seed: 3, requiresGrad: true });
    const w = randn([n, n], { dtype: 'float64', seed: 4 });
    const p = detectAnomaly(() => {
      const probs = scores.add(mask).softmax();
      probs.mul(w).sum().backward();
      return probs;
    });
    expect(p.data[1]).toBe(0);
    // Row i of softmax's VJP: s ⊙ (w - <s, w>), zero where masked.
    for (let i = 0; i < n; i++) {
      let sw = 0;
      for (let j = 0; j < n; j++) sw += p.data[i * n + j]! * w.data[i * n + j]!;
      for (let j = 0; j < n; j++) {
        const at = i * n + j;
        expect(scores.grad!.data[at]!).toBeCloseTo(p.data[at]! * (w.data[at]! - sw), 14);
        if (j > i) expect(scores.grad!.data[at]).toBe(0);
      }
    }
    // Asked for, the same mask is reported where it enters.
    expect(() => detectAnomaly(() => scores.add(mask).softmax(), { forwardInf: true })).toThrow(/^anomaly: forward of 'add' produced -Infinity in its output \(element 1\)/);
  });

  test('a NaN in a forward output is always reported; a fully masked row makes one', () => {
    const x = tensor([-1, 4], { dtype: 'float64', requiresGrad: true });
    expect(() => detectAnomaly(() => x.log())).toThrow(/^anomaly: forward of 'log' produced NaN in its output \(element 0\)/);
    const row = tensor([-Infinity, -Infinity], { dtype: 'float64', requiresGrad: true });
    expect(() => detectAnomaly(() => row.softmax())).toThrow(/^anomaly: forward of '\w+' produced NaN in its output/);
  });

  test('nested calls use the innermost options and restore the outer ones; unknown options are refused', () => {
    const x = tensor([0], { dtype: 'float64', requiresGrad: true });
    expect(() => detectAnomaly(() => detectAnomaly(() => x.log(), { forwardInf: true }))).toThrow(/forward of 'log' produced -Infinity/);
    expect(() => detectAnomaly(() => { try { detectAnomaly(() => x.log(), { forwardInf: true }); } catch { /* reported inside */ } return x.log(); })).not.toThrow();
    expect(() => detectAnomaly(() => 1, { infs: true } as never)).toThrow(/^detectAnomaly: unknown option 'infs'/);
  });

  test('a NaN that first appears in backward is a backward anomaly of the op whose VJP made it', () => {
    const x = tensor([4, 0], { dtype: 'float64', requiresGrad: true });
    expect(() => detectAnomaly(() => x.sqrt().sum().backward())).toThrow(/backward of 'sqrt' produced Infinity in the gradient it computed for input 0/);
  });

  test('off by default: the same computations run, record no creation site and give Inf', () => {
    expect(isAnomalyEnabled()).toBe(false);
    const x = tensor([4, 0], { dtype: 'float64', requiresGrad: true });
    const y = x.sqrt();
    expect(y.gradFn!.site).toBeUndefined();
    y.sum().backward();
    expect(x.grad!.data[1]).toBe(Infinity);
  });

  test('mode is restored after an error', () => {
    expect(() => detectAnomaly(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isAnomalyEnabled()).toBe(false);
  });
});

describe('where and masked branches', () => {
  test('the unselected branch gets exactly zero gradient', () => {
    const x = tensor([-1, 2, -3], { dtype: 'float64', requiresGrad: true });
    where(x.gt(0), x.mul(5), x.mul(7)).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([7, 5, 7]);
  });

  test('documented trap: an Inf in the unselected branch still makes NaN through its own backward', () => {
    const x = tensor([0, 1], { dtype: 'float64', requiresGrad: true });
    where(x.gt(0), x.log(), 0).sum().backward();
    // log's VJP is g / x: the zero gradient where() passes in becomes 0 / 0 at x = 0.
    expect(Number.isNaN(x.grad!.data[0])).toBe(true);
    expect(x.grad!.data[1]).toBe(1);
    // The documented fix: make the unselected branch safe.
    const y = tensor([0, 1], { dtype: 'float64', requiresGrad: true });
    where(y.gt(0), y.clamp(1e-12).log(), 0).sum().backward();
    expect(Array.from(y.grad!.data)).toEqual([0, 1]);
  });
});

// Graphviz draws these dumps in viz.test.ts, which reads the nodes and edges back from the SVG.
describe('toDot', () => {
  test('the dump names every op, shape and dtype, marks leaves and shows gradient norms', () => {
    const w = randn([3, 2], { dtype: 'float64', seed: 1, requiresGrad: true });
    const x = randn([4, 3], { dtype: 'float64', seed: 2 });
    const loss = x.matmul(w).relu().logSoftmax(1).mean();
    loss.backward({ retainGraph: true });
    const dot = toDot(loss);
    for (const op of ['matmul', 'relu', 'sub', 'exp', 'log', 'sum', 'div']) expect(dot).toContain(`label="${op}\\n`);
    expect(dot).toMatch(/leaf\\n\[3,2\] float64\\nrequiresGrad\\n\|grad\| \d/);
    expect(dot).toContain('[4,2] float64');
  });

  test('a Value graph dumps with data, grad and labels', () => {
    const a = new Value(2, 'a');
    const c = a.mul(3).tanh();
    c.backward();
    const dot = toDot(c);
    expect(dot).toContain('leaf\\na\\ndata 2.000');
    expect(dot).toContain('tanh');
    expect(dot).toContain('mul');
  });
});
