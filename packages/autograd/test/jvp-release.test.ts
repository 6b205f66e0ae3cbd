import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { customOp, grad, jvp, memoryPool, randn, setMemoryPoolLimit, type Tensor } from '@chainrule/autograd';
import { DEFAULT_POOL_LIMIT, expectSameWithPoolOnAndOff } from './helpers/pool.js';

// Values of [64, 40] float64 (20 KiB): large enough for the pool, so jvp hands the
// intermediate tangents it is done with to it, and later ops take them again.
const SHAPE = [64, 40];

afterEach(() => {
  setMemoryPoolLimit(DEFAULT_POOL_LIMIT);
});

type Step = { op: 'mul' | 'add' | 'tanh' | 'reshape' | 'matmul' | 'square' | 'exp' | 'keep'; a: number; b: number };

const stepArb: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom('mul', 'add', 'tanh', 'reshape', 'matmul', 'square', 'exp', 'keep'),
  a: fc.nat(50),
  b: fc.nat(50),
});

/**
 * A random function of x and m: each step combines earlier values, through views and products;
 * 'keep' steps add a value (an intermediate, or a view of one) to what the function returns.
 */
function program(steps: readonly Step[]): (x: Tensor, m: Tensor) => Tensor[] {
  return (x, m) => {
    const values: Tensor[] = [x];
    const kept: Tensor[] = [];
    for (const { op, a, b } of steps) {
      const u = values[a % values.length]!;
      const v = values[b % values.length]!;
      let y: Tensor;
      switch (op) {
        case 'mul': y = u.mul(v); break;
        case 'add': y = u.add(v); break;
        case 'tanh': y = u.tanh(); break;
        case 'reshape': y = u.reshape([-1]).reshape(SHAPE); break;
        case 'matmul': y = u.matmul(m); break;
        case 'square': y = u.square().mul(0.5); break;
        case 'exp': y = u.mul(0.1).exp(); break;
        case 'keep': y = u.mul(1.5); kept.push(u.reshape([-1]), u); break;
      }
      values.push(y);
    }
    return [values[values.length - 1]!.tanh(), ...kept];
  };
}

/** jvp of `f` at seeded primals along seeded tangents: every output and tangent, copied. */
function run(f: (x: Tensor, m: Tensor) => Tensor[], seed: number): number[][] {
  const x = randn(SHAPE, { dtype: 'float64', seed });
  const m = randn([40, 40], { dtype: 'float64', seed: seed + 1 }).mul(0.2);
  const { output, tangent } = jvp(f, [x, m], [randn(SHAPE, { dtype: 'float64', seed: seed + 2 }), randn([40, 40], { dtype: 'float64', seed: seed + 3 })]);
  // What later ops allocate may take storage jvp gave back: the results must not change under them.
  for (let i = 0; i < 4; i++) randn(SHAPE, { dtype: 'float64', seed: 99 + i }).mul(3);
  return [...output, ...tangent].map((t) => Array.from(t.data));
}

describe('jvp handing finished intermediate tangents to the pool', () => {
  it('gives the same outputs and tangents, bit for bit, with the pool on and off, over random functions', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 1000 }), (steps, seed) => {
        const f = program(steps);
        expectSameWithPoolOnAndOff(() => run(f, seed));
      }),
      { numRuns: 40 },
    );
  });

  it('puts the intermediate tangents in the pool, and never a returned one', () => {
    setMemoryPoolLimit(0);
    setMemoryPoolLimit(DEFAULT_POOL_LIMIT);
    const x = randn(SHAPE, { dtype: 'float64', seed: 3 });
    const v = randn(SHAPE, { dtype: 'float64', seed: 4 });
    const { tangent } = jvp((a: Tensor) => a.tanh().mul(2).tanh(), [x], [v]);
    // Two intermediate tangents (of tanh and of mul), not the returned one.
    expect(memoryPool().bytes).toBe(2 * 64 * 40 * 8);
    const kept = Array.from(tangent.data);
    randn(SHAPE, { dtype: 'float64', seed: 5 }).mul(2).mul(3);
    expect(Array.from(tangent.data)).toEqual(kept);
  });

  it('keeps everything back where a graph was recorded (a backward pass may read the tangents), and grad of jvp is unchanged', () => {
    const f = (a: Tensor): Tensor => jvp((b: Tensor) => b.tanh().mul(2).tanh(), [a], [a.mul(0.5)]).tangent.sum();
    setMemoryPoolLimit(0);
    const off = Array.from(grad(f)(randn(SHAPE, { dtype: 'float64', seed: 6 })).data);
    setMemoryPoolLimit(DEFAULT_POOL_LIMIT);
    const x = randn(SHAPE, { dtype: 'float64', seed: 6, requiresGrad: true });
    const before = memoryPool().bytes;
    const out = jvp((b: Tensor) => b.tanh().mul(2).tanh(), [x], [x.detach().mul(0.5)]);
    expect(memoryPool().bytes).toBe(before);
    expect(out.tangent.requiresGrad).toBe(true);
    expect(Array.from(grad(f)(randn(SHAPE, { dtype: 'float64', seed: 6 })).data)).toEqual(off);
  });

  it('never gives back a tangent a custom op saw or returned (user code may keep it)', () => {
    const seen: Tensor[] = [];
    const scale = customOp({
      name: 'keepsTangents',
      forward: (a: Tensor) => a.mul(2),
      backward: (g: Tensor) => g.mul(2),
      jvp: ([t]: readonly (Tensor | null)[]) => {
        seen.push(t!);
        const out = t!.mul(2);
        seen.push(out);
        return out;
      },
    });
    const x = randn(SHAPE, { dtype: 'float64', seed: 7 });
    const v = randn(SHAPE, { dtype: 'float64', seed: 8 });
    jvp((a: Tensor) => scale(a.tanh()).tanh(), [x], [v]);
    const copies = seen.map((t) => Array.from(t.data));
    for (let i = 0; i < 4; i++) randn(SHAPE, { dtype: 'float64', seed: 9 + i }).mul(3);
    expect(seen.map((t) => Array.from(t.data))).toEqual(copies);
  });
});
