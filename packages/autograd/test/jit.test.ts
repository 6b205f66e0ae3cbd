import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  dropout, grad, gradients, jit, jvp, linear, logSoftmax, manualSeed, matmul, oneHot, rand, randn, vmap, nonzero, maskedSelect, numericGrad, stack, tensor, Tensor, TraceError, valueAndGrad, where, zeros, type DType,
} from '@chainrule/autograd';
import { assertClose, seededTensor } from '@chainrule/autograd/testing';
import { disableCodegen } from '../src/jit/fusion.js';

type Dtype = 'float32' | 'float64';

/** The same bits, shapes and dtypes: what jit promises wherever fusion keeps the order of operations (always). */
function expectSameBits(actual: unknown, expected: unknown, path = 'result'): void {
  if (expected instanceof Tensor) {
    if (!(actual instanceof Tensor)) throw new Error(`${path}: expected a Tensor`);
    expect(actual.shape, path).toEqual(expected.shape);
    expect(actual.dtype, path).toBe(expected.dtype);
    for (let i = 0; i < expected.size; i++) {
      if (!Object.is(actual.data[i], expected.data[i])) throw new Error(`${path}[${i}]: jit ${actual.data[i]}, eager ${expected.data[i]}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    expected.forEach((e, i) => expectSameBits((actual as unknown[])[i], e, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    for (const [k, e] of Object.entries(expected)) expectSameBits((actual as Record<string, unknown>)[k], e, `${path}.${k}`);
    return;
  }
  expect(actual, path).toBe(expected);
}

const t = (shape: number[], seed: number, dtype: Dtype = 'float32', min = -2, max = 2): Tensor =>
  seededTensor(shape, seed, { dtype, min, max, requiresGrad: false }) as Tensor;

// A program of public ops chosen by a list of codes: elementwise chains with broadcasting and
// numbers, reductions, matmul and reshapes among them.
const OPS: ((h: Tensor, x: Tensor, b: Tensor) => Tensor)[] = [
  (h) => h.exp().mul(0.25),
  (h) => h.tanh(),
  (h, _x, b) => h.add(b),
  (h, x) => h.mul(x),
  (h) => h.sigmoid().sub(0.5),
  (h, _x, b) => h.sub(b).square(),
  (h) => h.relu().add(h.neg().mul(0.1)),
  (h, x) => h.maximum(x).div(2),
  (h) => h.sin().mul(h.cos()),
  (h) => h.softplus(),
  (h) => h.sum(-1, true).add(h),
  (h) => h.abs().add(1).log(),
  (h) => matmul(h, h.transpose(0, 1)).mean(1, true).add(h).tanh(),
  (h) => h.reshape([-1]).reshape(h.shape.slice()).mul(3),
  (h, x) => where(h.gt(0), h, x).erf(),
  (h) => h.pow(2).add(1).sqrt(),
];

function program(codes: readonly number[]): (x: Tensor, b: Tensor) => Tensor {
  return (x, b) => {
    let h = x;
    for (const c of codes) h = OPS[c % OPS.length]!(h, x, b);
    return h;
  };
}

describe('jit against eager', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    test(`random programs give the eager bits (${dtype})`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.nat(100), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 6 }),
          fc.nat(10_000),
          (codes, rows, cols, seed) => {
            const f = program(codes);
            const x = t([rows, cols], seed, dtype);
            const b = t([cols], seed + 1, dtype);
            const before = Array.from(x.data);
            const jf = jit(f);
            expectSameBits(jf(x, b), f(x, b));
            // The cached program, on other values.
            const x2 = t([rows, cols], seed + 2, dtype);
            expectSameBits(jf(x2, b), f(x2, b));
            expect(jf.cacheSize).toBe(1);
            expect(Array.from(x.data)).toEqual(before);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  test('a 10-op arithmetic chain is one fused loop with one buffer', () => {
    const f = (x: Tensor): Tensor => x.mul(1.5).add(0.25).abs().mul(x).sub(0.1).relu().mul(0.5).neg().add(x).square();
    const x = t([1000], 1);
    const lowered = jit(f).lower(x);
    expect(lowered.fusedGroups).toBe(1);
    expect(lowered.buffers).toEqual([4000]);
    expectSameBits(jit(f)(x), f(x));
  });

  test("with three transcendental ops, three loops; the third writes into the first one's dead buffer", () => {
    const f = (x: Tensor): Tensor => x.mul(1.5).add(0.25).tanh().mul(x).sub(0.1).exp().mul(0.5).sigmoid().add(x).square();
    const x = t([1000], 1);
    const lowered = jit(f).lower(x);
    expect(lowered.fusedGroups).toBe(3);
    expect(lowered.buffers).toEqual([4000, 4000]);
    expectSameBits(jit(f)(x), f(x));
  });

  test('structures in and out; numbers, strings and booleans are static', () => {
    let traces = 0;
    const f = (p: { w: Tensor; b: Tensor }, x: Tensor, scale: number, mode: string, flag: boolean) => {
      traces++;
      const y = matmul(x, p.w).add(p.b).mul(scale);
      return { y: mode === 'tanh' ? y.tanh() : y.relu(), flag, parts: [y.sum(), null] };
    };
    const p = { w: t([3, 2], 1), b: t([2], 2) };
    const x = t([4, 3], 3);
    const jf = jit(f);
    expectSameBits(jf(p, x, 2, 'tanh', true), f(p, x, 2, 'tanh', true));
    jf(p, t([4, 3], 4), 2, 'tanh', true);
    expect(traces).toBe(2); // one eager call above, one trace
    expect(jf.cacheSize).toBe(1);
    expectSameBits(jf(p, x, 3, 'tanh', true), f(p, x, 3, 'tanh', true));
    expectSameBits(jf(p, x, 3, 'relu', true), f(p, x, 3, 'relu', true));
    expect(jf.cacheSize).toBe(3);
  });

  test('retraces on a new shape, dtype or structure, never reuses a program for another signature', () => {
    let traces = 0;
    const jf = jit((x: Tensor | Tensor[]) => {
      traces++;
      return Array.isArray(x) ? x[0]!.add(x[1]!) : x.exp().sum();
    });
    const results = [
      jf(t([3], 1)), jf(t([3], 2)), jf(t([4], 1)), jf(t([3], 1, 'float64')), jf([t([2], 1), t([2], 2)]), jf([t([2], 3), t([2], 4)]),
    ];
    expect(traces).toBe(4);
    expect(jf.cacheSize).toBe(4);
    expectSameBits(results[2], t([4], 1).exp().sum());
    expectSameBits(results[3], t([3], 1, 'float64').exp().sum());
    expectSameBits(results[5], t([2], 3).add(t([2], 4)));
    jf.clearCache();
    jf(t([3], 1));
    expect(traces).toBe(5);
  });

  test('calls alternating between signatures each run the program of their own (structures, key sets, shapes, static values)', () => {
    // Each argument below differs from the others in one thing the signature holds; the
    // function reports which structure it saw, so a program run for another signature shows.
    const describeArg = (a: unknown): string => {
      if (a instanceof Tensor) return `${a.dtype}[${a.shape.join(',')}]`;
      if (Array.isArray(a)) return `[${a.map(describeArg).join(',')}]`;
      if (a !== null && typeof a === 'object') return `{${Object.keys(a).sort().map((k) => `${k}:${describeArg((a as Record<string, unknown>)[k])}`).join(',')}}`;
      return typeof a === 'number' && Object.is(a, -0) ? '-0' : String(a);
    };
    const sumAll = (a: unknown): Tensor => {
      if (a instanceof Tensor) return a.sum().toDtype('float64');
      const zero = tensor(0).toDtype('float64');
      if (Array.isArray(a)) return a.map(sumAll).reduce((p, q) => p.add(q), zero);
      if (a !== null && typeof a === 'object') return Object.keys(a).sort().map((k) => sumAll((a as Record<string, unknown>)[k])).reduce((p, q) => p.add(q), zero);
      return tensor(typeof a === 'number' ? a : 0).toDtype('float64');
    };
    const f = (a: unknown): { seen: string; total: Tensor } => ({ seen: describeArg(a), total: sumAll(a) });
    const jf = jit(f);
    const withProto = Object.create(null) as Record<string, unknown>;
    withProto['w'] = t([2], 9);
    const hidden = { w: t([2], 10) };
    Object.defineProperty(hidden, 'b', { value: t([2], 11), enumerable: false });
    // As many enumerable keys as { b, w }, and a b, but not an enumerable one: { c, w }'s structure.
    const sneaky = { w: t([2], 1), c: t([3], 2) };
    Object.defineProperty(sneaky, 'b', { value: t([3], 2), enumerable: false });
    const args: unknown[] = [
      { w: t([2], 1), b: t([3], 2) },
      { b: t([3], 2), w: t([2], 1) },
      { w: t([2], 1), b: t([3], 2), c: null },
      { w: t([2], 1), b: t([4], 2) },
      { w: t([2], 1), b: t([3], 2, 'float64') },
      { w: t([2], 1), b: [t([3], 2)] },
      { w: t([2], 1), c: t([3], 2) },
      [t([2], 1), t([3], 2)],
      [t([2], 1), t([3], 2), undefined],
      [t([2], 1), 2],
      [t([2], 1), -0],
      [t([2], 1), 0],
      [t([2], 1), NaN],
      [t([2], 1), '2'],
      [t([2], 1), [2]],
      withProto,
      hidden,
      sneaky,
    ];
    fc.assert(
      fc.property(fc.array(fc.nat(args.length - 1), { minLength: 1, maxLength: 30 }), (order) => {
        for (const i of order) {
          const a = args[i];
          const got = jf(a);
          expect(got.seen).toBe(describeArg(a));
          expectSameBits(got.total, f(a).total);
        }
      }),
      { numRuns: 30 },
    );
    // Every argument once more, so the count does not depend on which ones the random orders drew.
    for (const a of args) expect(jf(a).seen).toBe(describeArg(a));
    // One program per signature: the two key orders of the first object are one signature, the
    // object without a prototype and the one whose b is not enumerable both have { w }'s, and
    // the last has { w, c }'s.
    expect(jf.cacheSize).toBe(args.length - 3);
  });

  test("results are rebuilt as f's structure, keys sorted, a '__proto__' key kept as a key", () => {
    const f = (x: Tensor): unknown => {
      const out: Record<string, unknown> = { z: [x.mul(2), 3, null], a: { s: 'text', u: undefined } };
      Object.defineProperty(out, '__proto__', { value: x.add(1), enumerable: true, writable: true, configurable: true });
      return out;
    };
    const jf = jit(f);
    for (let call = 0; call < 2; call++) {
      const got = jf(t([3], call)) as Record<string, unknown>;
      const want = f(t([3], call)) as Record<string, unknown>;
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.keys(got)).toEqual(['__proto__', 'a', 'z']);
      expect(got['a']).toEqual({ s: 'text', u: undefined });
      expect(Object.keys(got['a'] as object)).toEqual(['s', 'u']);
      const z = got['z'] as unknown[];
      expect(z.slice(1)).toEqual([3, null]);
      expectSameBits(z[0], (want['z'] as unknown[])[0]);
      expectSameBits(Object.getOwnPropertyDescriptor(got, '__proto__')!.value, Object.getOwnPropertyDescriptor(want, '__proto__')!.value);
    }
  });

  test('a closed-over tensor is read by reference: an in-place update is seen', () => {
    const w = tensor([1, 2, 3]);
    const jf = jit((x: Tensor) => x.mul(w).sum());
    expect(jf(tensor([1, 1, 1])).item()).toBe(6);
    w.data[0] = 10;
    expect(jf(tensor([1, 1, 1])).item()).toBe(15);
  });

  test('the program prints as a jaxpr, dead code removed', () => {
    const f = (x: Tensor, y: Tensor) => {
      x.sin(); // dead
      return x.exp().add(y).mul(2).sum(0);
    };
    const lowered = jit(f).lower(t([3, 4], 1), t([4], 2));
    expect(lowered.text).toBe(
      [
        '{ lambda ; a:f32[3,4] b:f32[4]. let',
        '    c:f32[3,4] = exp a',
        '    d:f32[3,4] = add c b',
        '    e:f32[3,4] = mul d 2.0:f32[]',
        '    f:f32[4] = sum[0 false] e',
        '  in (f) }',
      ].join('\n'),
    );
    expect(lowered.compiledText).toContain('fused[f32[3,4]] {');
  });

  test("a comparison's number prints in the dtype it is compared in", () => {
    const f = (x: Tensor, k: Tensor) => [x.ge(0.5), k.lt(2), k.gt(0.5)];
    const text = jit(f).lower(t([3], 1), tensor([0, 1, 2], { dtype: 'int32' })).text;
    expect(text).toContain('= ge a 0.5:f32[]');
    expect(text).toContain('= lt b 2:i32[]');
    // An integer tensor beside a fraction is compared in float32, as the eager op does.
    expect(text).toContain('= gt b 0.5:f32[]');
  });
});

describe('what cannot be traced is an error', () => {
  const x = t([3], 1);
  test.each([
    ['.data', (v: Tensor) => v.mul(v.data[0]!)],
    ['item()', (v: Tensor) => v.mul(v.sum().item())],
    ['toArray()', (v: Tensor) => tensor(v.toArray() as number[])],
    ['a branch on a value', (v: Tensor) => (v.sum().item() > 0 ? v : v.neg())],
    ['printing', (v: Tensor) => tensor([String(v).length])],
  ])('reading values: %s', (_, f) => {
    expect(() => jit(f)(x)).toThrow(TraceError);
    expect(() => jit(f)(x)).toThrow(/jit: the values of a traced tensor \(float32 \[[0-9]*\]\) cannot be read/);
  });

  test('data-dependent output shapes', () => {
    expect(() => jit((v: Tensor) => nonzero(v.gt(0)))(x)).toThrow(/jit: 'nonzero' gives a result whose shape depends on the values/);
    expect(() => jit((v: Tensor) => maskedSelect(v, v.gt(0)))(x)).toThrow(TraceError);
  });

  test('backward() into .grad, and a tracer kept for later', () => {
    expect(() =>
      jit((v: Tensor) => {
        const w = v.detach().requiresGrad_();
        w.square().sum().backward();
        return w.grad!;
      })(x),
    ).toThrow(TraceError);
    let kept: Tensor | null = null;
    const jf = jit((v: Tensor) => {
      kept ??= v.exp();
      return v.add(kept);
    });
    jf(x);
    expect(() => jf(t([4], 2))).toThrow(/from another trace/);
  });

  test('a failed trace caches nothing; the inputs are untouched', () => {
    const before = Array.from(x.data);
    const jf = jit((v: Tensor) => v.mul(v.data[0]!));
    expect(() => jf(x)).toThrow(TraceError);
    expect(jf.cacheSize).toBe(0);
    expect(Array.from(x.data)).toEqual(before);
    expect(x.data[0]).toBe(before[0]); // the caller's tensor stays readable
  });
});

describe('jit composed with grad', () => {
  const loss = (p: { w: Tensor; b: Tensor }, x: Tensor, y: Tensor): Tensor =>
    matmul(x, p.w).add(p.b).tanh().sub(y).square().mean();
  const params = (dtype: Dtype, seed: number) => ({ w: t([3, 2], seed, dtype), b: t([2], seed + 1, dtype) });

  for (const dtype of ['float32', 'float64'] as const) {
    test(`jit(valueAndGrad(loss)) traces forward and backward: the eager bits (${dtype})`, () => {
      fc.assert(
        fc.property(fc.nat(10_000), fc.integer({ min: 1, max: 6 }), (seed, n) => {
          const p = params(dtype, seed);
          const x = t([n, 3], seed + 2, dtype);
          const y = t([n, 2], seed + 3, dtype);
          const eager = valueAndGrad(loss)(p, x, y);
          const jf = jit(valueAndGrad(loss));
          const compiled = jf(p, x, y);
          expectSameBits(compiled.value, eager.value);
          expectSameBits(compiled.grads, eager.grads);
          // Replayed on other values, still the eager bits.
          const p2 = params(dtype, seed + 9);
          expectSameBits(jf(p2, x, y).grads, valueAndGrad(loss)(p2, x, y).grads);
        }),
        { numRuns: 25 },
      );
    });
  }

  test('jit(grad(f)) is grad(f) for elementwise ops whose VJPs read values (relu, abs, maximum, where)', () => {
    const f = (x: Tensor): Tensor => x.relu().add(x.abs().mul(0.5)).maximum(x.mul(0.3)).add(where(x.gt(0.5), x.square(), x)).sum();
    const jf = jit(grad(f));
    for (let seed = 0; seed < 5; seed++) {
      const x = t([7], seed, 'float64');
      expectSameBits(jf(x), grad(f)(x));
    }
  });

  test('grad(jit(f)): exact gradients through the jitted call, against finite differences', () => {
    const f = (x: Tensor): Tensor => x.exp().mul(x.sin()).add(x.square().mul(0.5)).sum();
    const jf = jit(f);
    fc.assert(
      fc.property(fc.nat(10_000), fc.integer({ min: 1, max: 6 }), (seed, n) => {
        const x = t([n], seed, 'float64');
        const g = grad(jf)(x);
        expectSameBits(g, grad(f)(x));
        assertClose(g, numericGrad((v: Tensor) => f(v), [x])[0]!, 1e-6, 1e-8);
      }),
      { numRuns: 30 },
    );
    // Second order through the jitted call: the graph is recorded op by op.
    const x = t([4], 3, 'float64');
    expectSameBits(grad((v: Tensor) => grad(jf)(v).sum())(x), grad((v: Tensor) => grad(f)(v).sum())(x));
  });

  test('jvp(jit(f)) carries the tangents through the jitted call: the ops run one by one, as under jvp(f)', () => {
    const w = t([3, 2], 7, 'float64');
    const f = (x: Tensor): Tensor => matmul(x.sin().mul(x), w).tanh();
    const jf = jit(f);
    fc.assert(
      fc.property(fc.nat(10_000), fc.integer({ min: 1, max: 5 }), (seed, n) => {
        const x = t([n, 3], seed, 'float64'), v = t([n, 3], seed + 1, 'float64');
        const got = jvp((z: Tensor) => jf(z), [x], [v]);
        const want = jvp(f, [x], [v]);
        expectSameBits(got.output, want.output);
        expectSameBits(got.tangent, want.tangent);
        // J·v against central differences: (f(x + hv) - f(x - hv)) / 2h.
        const h = 1e-6;
        assertClose(got.tangent, f(x.add(v.mul(h))).sub(f(x.sub(v.mul(h)))).div(2 * h), 1e-6, 1e-8);
      }),
      { numRuns: 20 },
    );
    // A tangent on a tensor f closes over is carried too.
    const x = t([2, 3], 4, 'float64'), tw = t([3, 2], 8, 'float64');
    const closed = jvp((ww: Tensor) => jit((z: Tensor) => matmul(z, ww).tanh())(x), [w], [tw]);
    expectSameBits(closed.tangent, jvp((ww: Tensor) => matmul(x, ww).tanh(), [w], [tw]).tangent);
  });

  test('a jitted forward over closed-over parameters that require grad records the graph: .backward() fills their .grad', () => {
    const w = t([3, 2], 5, 'float64').requiresGrad_();
    const w2 = t([3, 2], 5, 'float64').requiresGrad_();
    const x = t([4, 3], 6, 'float64');
    const forward = jit((v: Tensor) => matmul(v, w).tanh().sum());
    forward(x).backward();
    matmul(x, w2).tanh().sum().backward();
    expectSameBits(w.grad, w2.grad);
  });

  test('a training step jitted whole: parameters in, new parameters out', () => {
    const step = (p: { w: Tensor; b: Tensor }, x: Tensor, y: Tensor, lr: number) => {
      const { value, grads } = valueAndGrad(loss)(p, x, y);
      return { loss: value, params: { w: p.w.sub(grads.w.mul(lr)), b: p.b.sub(grads.b.mul(lr)) } };
    };
    const jstep = jit(step);
    let pe = params('float32', 1);
    let pj = params('float32', 1);
    for (let i = 0; i < 5; i++) {
      const x = t([8, 3], 10 + i), y = t([8, 2], 20 + i);
      const e = step(pe, x, y, 0.1);
      const j = jstep(pj, x, y, 0.1);
      expectSameBits(j, e);
      pe = e.params;
      pj = j.params;
    }
    expect(jstep.cacheSize).toBe(1);
  });
});

describe('an MLP training step under jit', () => {
  // 6-16-3 with relu (linear's fused activation), softmax cross-entropy written with logSoftmax
  // and one-hot targets (crossEntropy's own gradient does not trace yet), SGD as new parameters.
  type P = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
  const loss = (p: P, x: Tensor, labels: Tensor): Tensor => {
    const h = linear(x, p.w1, p.b1, 'relu');
    const z = linear(h, p.w2, p.b2);
    return logSoftmax(z, 1).mul(oneHot(labels, 3).toDtype(z.dtype as Dtype)).sum(1).neg().mean();
  };
  const step = (p: P, x: Tensor, labels: Tensor) => {
    const { value, grads } = valueAndGrad(loss)(p, x, labels);
    return { loss: value, p: { w1: p.w1.sub(grads.w1.mul(0.5)), b1: p.b1.sub(grads.b1.mul(0.5)), w2: p.w2.sub(grads.w2.mul(0.5)), b2: p.b2.sub(grads.b2.mul(0.5)) } };
  };

  test('ten steps on changing batches: the eager bits, one trace', () => {
    const init = (): P => ({ w1: t([16, 6], 1, 'float32', -0.5, 0.5), b1: t([16], 2, 'float32', -0.1, 0.1), w2: t([3, 16], 3, 'float32', -0.5, 0.5), b2: t([3], 4) });
    const jstep = jit(step);
    let pe = init(), pj = init();
    const losses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const x = t([8, 6], 100 + i);
      const labels = tensor(Array.from({ length: 8 }, (_, k) => (k * 7 + i) % 3), { dtype: 'int32' });
      const e = step(pe, x, labels);
      const j = jstep(pj, x, labels);
      expectSameBits(j, e);
      losses.push(j.loss.item());
      pe = e.p;
      pj = j.p;
    }
    expect(jstep.cacheSize).toBe(1);
    expect(losses[9]!).toBeLessThan(losses[0]!);
  });
});

describe('a physics-informed loss: second derivatives with respect to inputs, inside jit', () => {
  test('gradient calls of the same function share their work: their seeds are one constant', () => {
    const w = t([5, 3], 1);
    const du = (y: Tensor): Tensor => grad((z: Tensor) => z.tanh().matmul(w).sum())(y);
    const once = jit((x: Tensor) => du(x));
    const twice = jit((x: Tensor) => du(x).mul(du(x).add(1)));
    const x = t([4, 5], 2);
    const count = (text: string, op: string): number => text.split(`= ${op}[`).length - 1;
    // The second call's product (the cotangent through w) is the first's.
    expect(count(once.lower(x).text, 'matmulT')).toBe(1);
    expect(count(twice.lower(x).text, 'matmulT')).toBe(1);
    expectSameBits(twice(x), du(x).mul(du(x).add(1)));
  });

  // u(x, t) = MLP 2-8-8-1 (tanh); the heat equation's residual u_t - u_xx at collocation points.
  type P = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor; w3: Tensor; b3: Tensor };
  const u = (p: P, xt: Tensor): Tensor =>
    matmul(matmul(matmul(xt, p.w1).add(p.b1).tanh(), p.w2).add(p.b2).tanh(), p.w3).add(p.b3);
  const loss = (p: P, x: Tensor, tt: Tensor): Tensor => {
    // PyTorch's way: the inputs as leaves, u_t and u_xx by gradients kept on the graph. Each
    // point's u depends on its own (x, t) only, so gradients of the sum are per point.
    const xv = x.detach().requiresGrad_();
    const tv = tt.detach().requiresGrad_();
    const field = u(p, stack([xv, tv], 1)).sum();
    const [dudx, dudt] = gradients([field], [xv, tv], { createGraph: true });
    const [d2udx2] = gradients([dudx!.sum()], [xv], { createGraph: true });
    return dudt!.sub(d2udx2!).square().mean();
  };

  test('jit(valueAndGrad(pinnLoss)) gives the eager bits, and gradients match finite differences', () => {
    const params = (seed: number): P => ({
      w1: t([2, 8], seed, 'float64', -1, 1), b1: t([8], seed + 1, 'float64', -1, 1),
      w2: t([8, 8], seed + 2, 'float64', -1, 1), b2: t([8], seed + 3, 'float64', -1, 1),
      w3: t([8, 1], seed + 4, 'float64', -1, 1), b3: t([1], seed + 5, 'float64', -1, 1),
    });
    const jf = jit(valueAndGrad(loss));
    for (let seed = 0; seed < 3; seed++) {
      const p = params(seed * 10);
      const x = t([16], seed + 100, 'float64', -1, 1), tt = t([16], seed + 200, 'float64', 0, 1);
      const e = valueAndGrad(loss)(p, x, tt);
      const j = jf(p, x, tt);
      expectSameBits(j.value, e.value);
      expectSameBits(j.grads, e.grads);
    }
    expect(jf.cacheSize).toBe(1);
    const p = params(7);
    const x = t([6], 1, 'float64', -1, 1), tt = t([6], 2, 'float64', 0, 1);
    const g = jf(p, x, tt).grads;
    const [numeric] = numericGrad((b3: Tensor) => loss({ ...p, b3 }, x, tt), [p.b3]);
    assertClose(g.b3, numeric!, 1e-5, 1e-8);
    const [numericW1] = numericGrad((w1: Tensor) => loss({ ...p, w1 }, x, tt), [p.w1]);
    assertClose(g.w1, numericW1!, 1e-5, 1e-8);
  });
});

describe('without code generation (a Content-Security-Policy without unsafe-eval)', () => {
  test('programs run op by op: the same bits; only products, layout copies and sums (run by their kernel, no generated code) planned', () => {
    disableCodegen(true);
    try {
      fc.assert(
        fc.property(fc.array(fc.nat(100), { minLength: 1, maxLength: 8 }), fc.nat(10_000), (codes, seed) => {
          const f = program(codes);
          const x = t([3, 4], seed), b = t([4], seed + 1);
          const jf = jit(f);
          expectSameBits(jf(x, b), f(x, b));
          const lowered = jf.lower(x, b);
          if (!/= (matmulT|expand|sliceRange|padRange|sum)\[/.test(lowered.text)) expect(lowered.buffers).toEqual([]);
        }),
        { numRuns: 20 },
      );
    } finally {
      disableCodegen(false);
    }
  });
});

describe('sums run by the executor', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    test(`over any axes, kept or not, on both sides of the kernels' size thresholds: the eager bits, call after call (${dtype})`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
          fc.boolean(),
          fc.boolean(),
          fc.nat(10_000),
          (shape, picks, keepdims, all, seed) => {
            const axes = all ? undefined : shape.map((_, i) => i).filter((i) => picks[i]!);
            const f = (x: Tensor): Tensor => x.mul(1.5).sum(axes, keepdims).add(0.5);
            const jf = jit(f);
            for (let call = 0; call < 2; call++) {
              const x = t(shape, seed + call, dtype);
              expectSameBits(jf(x), f(x));
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});

describe('random ops', () => {
  test('draw at every call from the global stream, exactly as eager calls do', () => {
    const f = (x: Tensor): Tensor => dropout(x.add(randn([4])), 0.5).mul(rand([4]));
    const x = t([4], 1);
    manualSeed(7);
    const eager = [f(x), f(x), f(x)];
    manualSeed(7);
    const jf = jit(f);
    const compiled = [jf(x), jf(x), jf(x)];
    expectSameBits(compiled, eager);
    expect(Array.from(compiled[0]!.data)).not.toEqual(Array.from(compiled[1]!.data));
  });

  test('two draws of one shape stay two draws (never taken for a repeated computation)', () => {
    const f = (x: Tensor): Tensor => x.add(rand([4])).sub(rand([4]));
    const x = t([4], 2);
    manualSeed(11);
    const eager = f(x);
    manualSeed(11);
    const jf = jit(f);
    expect(jf.lower(x).text.match(/= rand/g)).toHaveLength(2);
    manualSeed(11);
    expectSameBits(jf(x), eager);
  });
});

describe('products run by the kernel into planned storage', () => {
  test('forward and both gradient products over random shapes (k = 0 included): the eager bits, call after call', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.nat(7), fc.integer({ min: 1, max: 7 }), fc.nat(10_000), (m, k, n, seed) => {
        // The gradients are matmulT with one operand transposed; tanh keeps the product an intermediate.
        const f = (x: Tensor, w: Tensor): Tensor => matmul(x, w).tanh().square().sum();
        const jf = jit(valueAndGrad(f, { argnums: [0, 1] }));
        const run = (s: number) => [t([m, k], s), t([k, n], s + 1)] as const;
        const [x1, w1] = run(seed), [x2, w2] = run(seed + 2);
        const first = jf(x1, w1);
        expectSameBits(first, valueAndGrad(f, { argnums: [0, 1] })(x1, w1));
        expectSameBits(jf(x2, w2), valueAndGrad(f, { argnums: [0, 1] })(x2, w2));
        // The second call wrote the kept storage again: the first call's results are untouched.
        expectSameBits(first, valueAndGrad(f, { argnums: [0, 1] })(x1, w1));
      }),
      { numRuns: 40 },
    );
  });
});

describe('repeated computations', () => {
  test('an equation that repeats an earlier one with the same inputs runs once: same bits', () => {
    const f = (x: Tensor, w: Tensor): Tensor => matmul(x, w).tanh().add(matmul(x, w).tanh().square().mul(x.exp().sum()).sub(x.exp().sum()));
    const x = t([3, 4], 1), w = t([4, 4], 2);
    const lowered = jit(f).lower(x, w);
    for (const op of ['matmulT', 'tanh', 'exp', 'sum']) expect(lowered.text.match(new RegExp(`= ${op}\\b`, 'g')), op).toHaveLength(1);
    expectSameBits(jit(f)(x, w), f(x, w));
  });

  test('two results computed alike stay two tensors with storage of their own', () => {
    const jf = jit((x: Tensor) => [x.exp(), x.exp(), x.reshape([-1]), x.reshape([-1])]);
    const x = t([2, 3], 3);
    const [a, b, c, d] = jf(x) as [Tensor, Tensor, Tensor, Tensor];
    expect(a).not.toBe(b);
    expect(a.data).not.toBe(b.data);
    expect(c).not.toBe(d);
    expectSameBits([a, b, c, d], [x.exp(), x.exp(), x.reshape([-1]), x.reshape([-1])]);
  });

  test('a gradient of a gradient (the PINN case) loses its recomputed forward: fewer products, same bits', () => {
    // As a PINN loss: the first derivative once alone, once inside the second.
    const f = (w: Tensor, x: Tensor): Tensor => {
      const du = grad((y: Tensor) => matmul(y, w).tanh().sum());
      return du(x).sum().add(grad((y: Tensor) => du(y).square().sum())(x).sum());
    };
    const w = t([3, 3], 4), x = t([5, 3], 5);
    const jf = jit(valueAndGrad(f));
    const text = jf.lower(w, x).text;
    // Traced, the forward product x·w is made once per level of gradient; it runs once.
    const [, wName, xName] = /; (\w+):f32\[3,3\] (\w+):f32\[5,3\]\./.exec(text)!;
    expect(text.match(new RegExp(`= matmulT\\[false false\\] ${xName!} ${wName!}$`, 'gm'))).toHaveLength(1);
    expect(text.match(/= tanh/g)).toHaveLength(1);
    expectSameBits(jf(w, x), valueAndGrad(f)(w, x));
  });
});

describe('results', () => {
  test('separate calls never share storage; zero-size and 0-d tensors', () => {
    const jf = jit((x: Tensor) => x.exp().add(1));
    const x = t([5], 1);
    const a = jf(x), b = jf(x);
    expect(a.data).not.toBe(b.data);
    expectSameBits(jit((v: Tensor) => v.exp().add(1))(zeros([0, 3])), zeros([0, 3]).exp().add(1));
    expectSameBits(jit((v: Tensor) => v.exp().add(1))(tensor(0.5)), tensor(0.5).exp().add(1));
    const dtypes: DType[] = ['int32', 'bool'];
    for (const dtype of dtypes) {
      const v = zeros([3], { dtype });
      expectSameBits(jit((u: Tensor) => u.add(u))(v), v.add(v));
    }
  });
});

describe('jit composed with vmap', () => {
  const loss = (p: { w: Tensor; b: Tensor }, x: Tensor, y: Tensor): Tensor => matmul(x, p.w).add(p.b).tanh().sub(y).square().sum();

  test('jit(vmap(grad(loss))): per-sample gradients, compiled, give the eager bits', () => {
    const perSample = vmap(grad(loss), { inAxes: [null, 0, 0] });
    const jf = jit(perSample);
    for (let seed = 0; seed < 3; seed++) {
      const p = { w: t([3, 2], seed, 'float64'), b: t([2], seed + 1, 'float64') };
      const x = t([5, 3], seed + 2, 'float64'), y = t([5, 2], seed + 3, 'float64');
      expectSameBits(jf(p, x, y), perSample(p, x, y));
    }
    expect(jf.cacheSize).toBe(1);
  });

  test('vmap(jit(f)) runs f under vmap: the same as vmap(f)', () => {
    const f = (x: Tensor): Tensor => x.exp().mul(x.sin()).sum();
    const x = t([4, 6], 1, 'float64');
    expectSameBits(vmap(jit(f))(x), vmap(f)(x));
  });
});
