import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { memoryPool, randn, setMemoryPoolLimit, type Tensor } from '@chainrule/autograd';
import { DEFAULT_POOL_LIMIT, expectSameWithPoolOnAndOff } from './helpers/pool.js';

// Values of [64, 40] float64 (20 KiB): large enough for the pool, so backward hands the
// gradients it is done with to it, and later ops of the same pass take them again.
const SHAPE = [64, 40];

afterEach(() => {
  setMemoryPoolLimit(DEFAULT_POOL_LIMIT);
});

type Step = { op: 'mul' | 'add' | 'tanh' | 'reshape' | 'rowScale' | 'matmul' | 'square' | 'retain' | 'hook'; a: number; b: number };

const stepArb: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom('mul', 'add', 'tanh', 'reshape', 'rowScale', 'matmul', 'square', 'retain', 'hook'),
  a: fc.nat(50),
  b: fc.nat(50),
});

/**
 * Runs a random graph over x and m (both require grad): each step combines earlier values (so
 * gradients meet and are summed), through views, broadcasting and products, then backward twice
 * (the second sums into .grad in place). Returns every gradient it can see, copied at the end:
 * those in .grad, and those hooks kept (a kept gradient must not be reused under them).
 */
function run(program: readonly Step[], seed: number): number[][] {
  const x = randn(SHAPE, { dtype: 'float64', seed, requiresGrad: true });
  const m = randn([40, 40], { dtype: 'float64', seed: seed + 1, requiresGrad: true }).detach().mul(0.2).detach().requiresGrad_();
  const values: Tensor[] = [x];
  const retained: Tensor[] = [];
  const kept: Tensor[] = [];
  for (const { op, a, b } of program) {
    const u = values[a % values.length]!;
    const v = values[b % values.length]!;
    let y: Tensor;
    switch (op) {
      case 'mul': y = u.mul(v); break;
      case 'add': y = u.add(v); break;
      case 'tanh': y = u.tanh(); break;
      case 'reshape': y = u.reshape([-1]).reshape(SHAPE); break;
      case 'rowScale': y = u.sum(0, true).mul(0.01).mul(v); break;
      case 'matmul': y = u.matmul(m); break;
      case 'square': y = u.square().mul(0.5); break;
      case 'retain': y = u.mul(1.5).retainGrad(); retained.push(y); break;
      case 'hook':
        y = u.mul(0.5);
        y.registerHook((g) => void kept.push(g));
        break;
    }
    values.push(y);
  }
  const loss = values.reduce((s, t) => s.add(t.tanh().sum()), values[0]!.sum());
  loss.backward({ retainGraph: true });
  loss.backward();
  return [x.grad, m.grad, ...retained.map((t) => t.grad), ...kept].map((g) => (g === null ? [] : Array.from(g.data)));
}

describe('backward handing finished gradients to the pool', () => {
  it('gives the same gradients, bit for bit, with the pool on and off, over random graphs', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 1000 }), (program, seed) => {
        expectSameWithPoolOnAndOff(() => run(program, seed));
      }),
      { numRuns: 40 },
    );
  });

  it('puts intermediate gradients in the pool during backward', () => {
    setMemoryPoolLimit(0);
    setMemoryPoolLimit(DEFAULT_POOL_LIMIT);
    const x = randn(SHAPE, { dtype: 'float64', seed: 3, requiresGrad: true });
    x.tanh().mul(2).tanh().sum().backward();
    expect(memoryPool().bytes).toBeGreaterThan(0);
  });

  it('keeps nothing back while building a graph of the backward (createGraph)', () => {
    setMemoryPoolLimit(0);
    setMemoryPoolLimit(DEFAULT_POOL_LIMIT);
    const x = randn(SHAPE, { dtype: 'float64', seed: 4, requiresGrad: true });
    const y = x.tanh().mul(2).tanh().sum();
    const before = memoryPool().bytes;
    y.backward({ createGraph: true, retainGraph: true });
    expect(memoryPool().bytes).toBe(before);
    // And the gradient, differentiated again, matches the pool-off figure.
    const g2 = x.grad!.square().sum();
    x.grad = null;
    g2.backward();
    const on = Array.from(x.grad!.data);
    setMemoryPoolLimit(0);
    const x0 = randn(SHAPE, { dtype: 'float64', seed: 4, requiresGrad: true });
    x0.tanh().mul(2).tanh().sum().backward({ createGraph: true, retainGraph: true });
    const h = x0.grad!.square().sum();
    x0.grad = null;
    h.backward();
    expect(on).toEqual(Array.from(x0.grad!.data));
  });
});
