import { describe, expect, test } from 'vitest';
import { AnomalyError, detectAnomaly, isAnomalyEnabled, randn, tensor, toDot, Value, where } from '@chainrule/autograd';

describe('anomaly mode', () => {
  test('log(0) deep in a graph is reported as a forward anomaly of log, with the line that created it', () => {
    const x = tensor([1, 0.5, 0], { dtype: 'float64', requiresGrad: true });
    let error: unknown;
    try {
      detectAnomaly(() => {
        const h = x.mul(2).tanh().mul(x);
        const bad = h.log(); // the line the report must name
        bad.exp().sum().backward();
      });
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
