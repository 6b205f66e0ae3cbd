import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, Tensor, Value, enableGrad, noGrad, tensor, toDot } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';

/** Builds f on fresh leaves, runs backward, returns [f, ...gradients]. */
function run(values: number[], f: (...xs: Value[]) => Value): number[] {
  const xs = values.map((v) => new Value(v));
  const out = f(...xs);
  out.backward();
  return [out.data, ...xs.map((x) => x.grad)];
}

describe('Value: hand-computed values and gradients', () => {
  it('add, sub, mul, div, neg', () => {
    expect(run([2, -3], (a, b) => a.add(b))).toEqual([-1, 1, 1]);
    expect(run([2, -3], (a, b) => a.sub(b))).toEqual([5, 1, -1]);
    expect(run([2, -3], (a, b) => a.mul(b))).toEqual([-6, -3, 2]);
    // a/b: 1/b and -a/b²
    assertClose(run([2, -3], (a, b) => a.div(b)), [-2 / 3, -1 / 3, -2 / 9], 1e-15);
    expect(run([2], (a) => a.neg())).toEqual([-2, -1]);
  });

  it('pow with a number exponent', () => {
    expect(run([2], (a) => a.pow(3))).toEqual([8, 12]);
    expect(run([4], (a) => a.pow(0.5))).toEqual([2, 0.25]);
    expect(run([2], (a) => a.pow(-1))).toEqual([0.5, -0.25]);
    expect(run([-3], (a) => a.pow(2))).toEqual([9, -6]);
    expect(run([5], (a) => a.pow(0))).toEqual([1, 0]);
    expect(run([0], (a) => a.pow(0))).toEqual([1, 0]);
    expect(() => new Value(2).pow(new Value(3) as unknown as number)).toThrow(ArgumentError);
    expect(() => new Value(2).pow(new Value(3) as unknown as number)).toThrow(/^Value\.pow: the exponent must be a number/);
  });

  it('exp, log, tanh, sigmoid, relu', () => {
    assertClose(run([2], (a) => a.exp()), [Math.E ** 2, Math.E ** 2], 1e-15);
    assertClose(run([2], (a) => a.log()), [Math.LN2, 0.5], 1e-15);
    // tanh x = (e^2x - 1)/(e^2x + 1); its derivative is 1/cosh² x.
    const e1 = Math.exp(1);
    assertClose(run([0.5], (a) => a.tanh()), [(e1 - 1) / (e1 + 1), 1 / Math.cosh(0.5) ** 2], 1e-15);
    expect(run([0], (a) => a.sigmoid())).toEqual([0.5, 0.25]);
    const s = 1 / (1 + Math.exp(-2));
    assertClose(run([2], (a) => a.sigmoid()), [s, s * (1 - s)], 1e-15);
    // Stable far from 0: no overflow to NaN in either direction.
    assertClose(run([-800], (a) => a.sigmoid()), [0, 0], 1e-15);
    assertClose(run([800], (a) => a.sigmoid()), [1, 0], 1e-15);
    expect(run([2], (a) => a.relu())).toEqual([2, 1]);
    expect(run([-1], (a) => a.relu())).toEqual([0, 0]);
    expect(run([0], (a) => a.relu())).toEqual([0, 0]); // gradient 0 at the kink, as in PyTorch
  });

  it('plain numbers as operands', () => {
    expect(run([2], (a) => a.add(3))).toEqual([5, 1]);
    expect(run([2], (a) => a.sub(3))).toEqual([-1, 1]);
    expect(run([2], (a) => a.mul(3))).toEqual([6, 3]);
    expect(run([2], (a) => a.div(4))).toEqual([0.5, 0.25]);
    // A number on the left: a constant Value as the receiver.
    expect(run([2], (a) => new Value(3).sub(a))).toEqual([1, -1]);
    assertClose(run([2], (a) => new Value(1).div(a)), [0.5, -0.25], 1e-15);
    expect(run([2], (a) => new Value(3).mul(a).add(1))).toEqual([7, 3]);
    expect(() => new Value('2' as unknown as number)).toThrow(/^Value: data must be a number, got string/);
  });

  it("micrograd's sanity check: y = -20, dy/dx = 46 at x = -4", () => {
    const x = new Value(-4);
    const z = x.mul(2).add(2).add(x);
    const q = z.relu().add(z.mul(x));
    const h = z.mul(z).relu();
    const y = h.add(q).add(q.mul(x));
    y.backward();
    expect(y.data).toBe(-20);
    expect(x.grad).toBe(46);
  });

  it('leaves accumulate over backward calls; intermediate values get each pass afresh', () => {
    const a = new Value(3);
    const h = a.mul(a);
    const y = h.add(a); // dy/da = 2a + 1 = 7, dy/dh = 1
    y.backward();
    expect(a.grad).toBe(7);
    expect(h.grad).toBe(1);
    y.backward();
    expect(a.grad).toBe(14);
    expect(h.grad).toBe(1);
  });

  it('records nothing under noGrad, and records again inside enableGrad', () => {
    const a = new Value(2);
    const b = noGrad(() => a.mul(3).exp());
    expect(b.op).toBe('leaf');
    expect(b.parents).toHaveLength(0);
    expect(b.data).toBeCloseTo(Math.exp(6), 10);
    b.backward();
    expect(a.grad).toBe(0);
    const c = noGrad(() => enableGrad(() => a.mul(3)));
    expect(c.op).toBe('mul');
    c.backward();
    expect(a.grad).toBe(3);
  });
});

// A random scalar expression, built once with Value and once with 0-d float64 Tensors.
type Expr =
  | { kind: 'var'; index: number }
  | { kind: 'const'; value: number }
  | { kind: 'unary'; op: 'neg' | 'exp' | 'log' | 'tanh' | 'sigmoid' | 'relu'; arg: Expr }
  | { kind: 'pow'; exponent: number; arg: Expr }
  | { kind: 'binary'; op: 'add' | 'sub' | 'mul' | 'div'; left: Expr; right: Expr };

/** What Value and Tensor have in common: the ops of the expression, numbers allowed as operands. */
interface Scalar<T> {
  add(o: T | number): T;
  sub(o: T | number): T;
  mul(o: T | number): T;
  div(o: T | number): T;
  pow(exponent: number): T;
  neg(): T;
  exp(): T;
  log(): T;
  tanh(): T;
  sigmoid(): T;
  relu(): T;
}

/**
 * Evaluates `e`. A constant on the right is passed as a plain number; on the left it becomes a
 * constant of the algebra (`lift`). log, div and non-integer or negative powers get a positive
 * argument, x² + 0.5, so every generated expression is defined.
 */
function build<T extends Scalar<T>>(e: Expr, vars: T[], lift: (c: number) => T): T {
  const positive = (x: T): T => x.mul(x).add(0.5);
  switch (e.kind) {
    case 'var':
      return vars[e.index]!;
    case 'const':
      return lift(e.value);
    case 'unary': {
      const x = build(e.arg, vars, lift);
      return e.op === 'log' ? positive(x).log() : x[e.op]();
    }
    case 'pow': {
      const x = build(e.arg, vars, lift);
      return Number.isInteger(e.exponent) && e.exponent >= 0 ? x.pow(e.exponent) : positive(x).pow(e.exponent);
    }
    case 'binary': {
      const right = e.right.kind === 'const' ? e.right.value : build(e.right, vars, lift);
      const left = build(e.left, vars, lift);
      if (e.op === 'div') return left.div(typeof right === 'number' ? right : positive(right));
      return left[e.op](right);
    }
  }
}

const exprArb = (nVars: number): fc.Arbitrary<Expr> =>
  fc.letrec<{ expr: Expr; leaf: Expr; unary: Expr; pow: Expr; binary: Expr }>((tie) => ({
    expr: fc.oneof(
      { maxDepth: 6, depthSize: 'medium', depthIdentifier: 'expr' },
      { arbitrary: tie('leaf'), weight: 1 },
      { arbitrary: tie('unary'), weight: 2 },
      { arbitrary: tie('pow'), weight: 1 },
      { arbitrary: tie('binary'), weight: 3 },
    ),
    leaf: fc.oneof(
      fc.integer({ min: 0, max: nVars - 1 }).map((index): Expr => ({ kind: 'var', index })),
      fc.constantFrom(-2, -0.5, 0.5, 1.5, 3).map((value): Expr => ({ kind: 'const', value })),
    ),
    unary: fc.record({
      kind: fc.constant('unary' as const),
      op: fc.constantFrom('neg', 'exp', 'log', 'tanh', 'sigmoid', 'relu' as const),
      arg: tie('expr'),
    }) as fc.Arbitrary<Expr>,
    pow: fc.record({ kind: fc.constant('pow' as const), exponent: fc.constantFrom(0, 1, 2, 3, -1, 0.5, 1.5), arg: tie('expr') }) as fc.Arbitrary<Expr>,
    binary: fc.record({
      kind: fc.constant('binary' as const),
      op: fc.constantFrom('add', 'sub', 'mul', 'div' as const),
      left: tie('expr'),
      right: tie('expr'),
    }) as fc.Arbitrary<Expr>,
  })).expr;

describe('Value and Tensor agree', () => {
  it('on the gradients of random scalar expressions over 2–3 variables (to 1e-12)', () => {
    const caseArb = fc.integer({ min: 2, max: 3 }).chain((n) =>
      fc.record({
        expr: exprArb(n),
        values: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n }),
      }),
    );
    fc.assert(
      fc.property(caseArb, ({ expr, values }) => {
        const vs = values.map((v) => new Value(v));
        const vOut = build<Value>(expr, vs, (c) => new Value(c));
        // exp of exp can overflow; such cases say nothing about gradients.
        fc.pre(Number.isFinite(vOut.data) && Math.abs(vOut.data) < 1e8);
        vOut.backward();
        fc.pre(vs.every((v) => Number.isFinite(v.grad) && Math.abs(v.grad) < 1e8));

        const ts = values.map((v) => tensor(v, { dtype: 'float64', requiresGrad: true }));
        const tOut = build<Tensor>(expr, ts, (c) => tensor(c, { dtype: 'float64' }));
        expect(tOut.shape).toEqual([]);
        const scale = Math.max(1, Math.abs(vOut.data));
        expect(Math.abs(tOut.item() - vOut.data)).toBeLessThanOrEqual(1e-12 * scale);
        if (tOut.requiresGrad) tOut.backward();
        vs.forEach((v, i) => {
          const tg = ts[i]!.grad === null ? 0 : ts[i]!.grad!.item();
          if (!(Math.abs(tg - v.grad) <= 1e-12 * Math.max(1, Math.abs(v.grad)))) {
            expect.fail(`variable ${i}: Value gives ${v.grad}, Tensor gives ${tg} for ${JSON.stringify(expr)}`);
          }
        });
      }),
      { numRuns: 150 },
    );
  });
});

// Data and grad live in shared Float64Array blocks of a few hundred slots, not in fields: the
// tests below check that nothing of that shows through.
describe('Value storage behaves like plain fields', () => {
  it('data and grad read back exactly what was written, across many blocks', () => {
    const specials = [0, -0, 1.5, -1e-308, 5e-324, Number.MAX_VALUE, Infinity, -Infinity, NaN];
    const vs = Array.from({ length: 3000 }, (_, i) => new Value(specials[i % specials.length]! + (i % 7 === 0 ? 0 : i)));
    vs.forEach((v, i) => expect(Object.is(v.data, specials[i % specials.length]! + (i % 7 === 0 ? 0 : i))).toBe(true));
    vs.forEach((v, i) => {
      v.data = i * 0.25;
      v.grad = -i;
    });
    // Writing one value never touches a neighbour (in the same block or the next).
    vs.forEach((v, i) => {
      expect(v.data).toBe(i * 0.25);
      expect(v.grad).toBe(-i);
    });
    const z = new Value(1);
    z.grad = -0;
    expect(Object.is(z.grad, -0)).toBe(true);
    expect(new Value(3).grad).toBe(0);
  });

  it('values outlive many dropped graphs with their numbers intact', () => {
    const kept = Array.from({ length: 50 }, (_, i) => new Value(i + 0.5, `p${i}`));
    let total = 0;
    for (let round = 0; round < 40; round++) {
      // ~5,000 nodes per round, dropped at once: blocks fill up and are released under the kept values.
      let s = new Value(0);
      for (let j = 0; j < 2500; j++) s = s.add(kept[j % 50]!.mul(round));
      s.backward();
      total += round;
      kept.forEach((p, i) => {
        p.data += 0; // a write through the setter in between rounds
        expect(p.data).toBe(i + 0.5);
      });
    }
    // Each kept value appears 50 times per round with factor `round`, and leaves accumulate.
    kept.forEach((p, i) => {
      expect(p.grad).toBe(50 * total);
      expect(p.label).toBe(`p${i}`);
    });
  });

  it('labels: given, set later, or empty', () => {
    const a = new Value(1, 'a');
    const b = new Value(2);
    expect(a.label).toBe('a');
    expect(b.label).toBe('');
    b.label = 'b';
    a.label = '';
    expect(b.label).toBe('b');
    expect(a.label).toBe('');
    expect(a.add(b).label).toBe('');
  });

  it('op and parents name the recorded graph, parents by identity', () => {
    const a = new Value(2);
    const b = new Value(3);
    const c = a.mul(b);
    const d = c.pow(2.5).tanh();
    expect(c.op).toBe('mul');
    expect(c.parents[0]).toBe(a);
    expect(c.parents[1]).toBe(b);
    expect(d.op).toBe('tanh');
    expect(d.parents[0]!.op).toBe('pow');
    expect(d.parents[0]!.parents).toEqual([c]);
    expect(a.op).toBe('leaf');
    expect(a.parents).toEqual([]);
  });

  it('pow keeps its own exponent next to others in the same block', () => {
    const x = new Value(1.5);
    const ps = [-2, -1, -0.5, 0, 0.5, 1, 2, 3].map((e) => x.pow(e));
    const y = ps.reduce((s, p) => s.add(p));
    y.backward();
    const expected = [-2, -1, -0.5, 0, 0.5, 1, 2, 3].reduce((s, e) => s + (e === 0 ? 0 : e * 1.5 ** (e - 1)), 0);
    expect(x.grad).toBeCloseTo(expected, 13);
    ps.forEach((p, i) => expect(p.data).toBe(Math.pow(1.5, [-2, -1, -0.5, 0, 0.5, 1, 2, 3][i]!)));
  });
});

describe('Value backward', () => {
  it('leaves created long before the graph (many blocks back) receive their gradients', () => {
    const w = new Value(0.5);
    for (let i = 0; i < 5000; i++) new Value(i).mul(2); // fills and drops several blocks
    const x = new Value(3);
    const y = w.mul(x).tanh().mul(w);
    y.backward();
    const t = Math.tanh(1.5);
    expect(w.grad).toBeCloseTo((1 - t * t) * 3 * 0.5 + t, 14);
    expect(x.grad).toBeCloseTo((1 - t * t) * 0.5 * 0.5, 14);
  });

  it('gives values outside the root\'s graph nothing, even when built in between', () => {
    const a = new Value(2);
    const b = new Value(5);
    let y = a;
    let other = b;
    for (let i = 0; i < 1000; i++) {
      y = y.mul(1.001).add(a);
      other = other.add(b.mul(a)); // interleaved in the same blocks, not reachable from y
    }
    other.backward();
    const aFromOther = a.grad;
    const bFromOther = b.grad;
    const mid = other.parents[0]!;
    const midGrad = mid.grad;
    y.backward();
    // y's pass reached none of other's nodes: their grads are as other's pass left them.
    expect(mid.grad).toBe(midGrad);
    expect(b.grad).toBe(bFromOther);
    expect(a.grad).toBeGreaterThan(aFromOther);
  });

  it('an intermediate value used twice and reached along two paths gets the sum, once per pass', () => {
    const x = new Value(0.3);
    const h = x.mul(x).add(1); // dh/dx = 2x
    const y = h.mul(h).add(h.tanh()); // dy/dh = 2h + 1 - tanh²h
    y.backward();
    const hv = 0.3 * 0.3 + 1;
    const dydh = 2 * hv + 1 - Math.tanh(hv) ** 2;
    expect(h.grad).toBeCloseTo(dydh, 14);
    expect(x.grad).toBeCloseTo(dydh * 0.6, 14);
    y.backward();
    expect(h.grad).toBeCloseTo(dydh, 14);
    expect(x.grad).toBeCloseTo(2 * dydh * 0.6, 14);
  });

  it('a graph dump between passes does not confuse the next pass', () => {
    const a = new Value(2, 'a');
    const b = a.mul(a).add(a); // db/da = 2a + 1 = 5
    b.backward();
    expect(toDot(b)).toContain('leaf\\na\\ndata 2.000');
    b.backward();
    expect(a.grad).toBe(10);
    expect(b.grad).toBe(1);
    expect(toDot(b)).toContain('grad 10.00');
  });

  it('backward on a leaf adds 1 to it, and on a noGrad result records nothing', () => {
    const a = new Value(4);
    a.backward();
    a.backward();
    expect(a.grad).toBe(2);
    const b = noGrad(() => a.mul(a));
    b.backward();
    expect(b.grad).toBe(1);
    expect(a.grad).toBe(2);
  });

  it('NaN and infinities propagate as they would through fields', () => {
    const a = new Value(Infinity);
    const b = new Value(0);
    const y = a.mul(b); // d/da = b = 0, d/db = a = Infinity; y = NaN
    y.backward();
    expect(y.data).toBeNaN();
    expect(a.grad).toBe(0);
    expect(b.grad).toBe(Infinity);
  });
});

// backward walks the ops recorded since the previous backward in creation order, and searches
// the graph for anything older: these tests mix the two.
describe('Value backward over new and older parts of a graph', () => {
  const tanhPrime = (u: number): number => 1 - Math.tanh(u) ** 2;

  it('values made before the previous backward, one an ancestor of the other, reached twice', () => {
    const x = new Value(0.7);
    const h = x.mul(x); // older: made before the backward below
    const h2 = h.mul(h); // older, and h is its parent
    new Value(1).mul(2).backward(); // an unrelated pass in between
    const y = h.mul(3).add(h.tanh()).add(h2).add(x);
    y.backward();
    const hv = 0.7 * 0.7;
    const dydh = 3 + tanhPrime(hv) + 2 * hv;
    expect(h.grad).toBeCloseTo(dydh, 14);
    expect(h2.grad).toBe(1);
    expect(x.grad).toBeCloseTo(dydh * 1.4 + 1, 13);
    // The same graph again: now all of it is older; leaves accumulate, the rest is recomputed.
    y.backward();
    expect(h.grad).toBeCloseTo(dydh, 14);
    expect(x.grad).toBeCloseTo(2 * (dydh * 1.4 + 1), 13);
  });

  it('a root that is not the newest value: values made after it are left alone', () => {
    const x = new Value(2);
    const y = x.mul(x).add(x); // dy/dx = 2x + 1
    const later = y.mul(10).exp();
    later.grad = 42;
    y.backward();
    expect(x.grad).toBe(5);
    expect(y.grad).toBe(1);
    expect(later.grad).toBe(42);
  });

  it('a graph larger than the list of recent ops', () => {
    // 400,000 ops: the list (131,072) starts over several times while the graph is built.
    const a = new Value(0.5);
    const x = new Value(0.25);
    const w = new Value(2);
    let v = a;
    for (let i = 0; i < 200_000; i++) v = v.add(x.mul(w));
    v.backward();
    expect(a.grad).toBe(1);
    expect(x.grad).toBe(400_000);
    expect(w.grad).toBe(50_000);
  });

  it('a dump of the graph before its first backward changes nothing', () => {
    const a = new Value(1.5, 'a');
    const y = a.tanh().mul(a).add(a.pow(2));
    expect(toDot(y)).toContain('leaf\\na\\ndata 1.500');
    y.backward();
    const t = Math.tanh(1.5);
    expect(a.grad).toBeCloseTo(tanhPrime(1.5) * 1.5 + t + 3, 14);
  });

  it('ops made under noGrad in the middle of a graph are constants to it', () => {
    const x = new Value(3);
    const c = noGrad(() => x.mul(x)); // a leaf holding 9
    const y = x.mul(c).add(x); // dy/dx = c + 1 = 10
    y.backward();
    expect(x.grad).toBe(10);
    expect(c.grad).toBe(3);
  });
});

describe('Value graphs are freed like plain objects', () => {
  it('a value kept from each step keeps no earlier graph alive', () => {
    // In a child process with --expose-gc: the script keeps one leaf per step plus the last
    // graph, and reports whether the first step's graph was collected.
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const out = execFileSync(process.execPath, ['--expose-gc', 'scripts/run.mjs', 'packages/autograd/test/helpers/value-retention.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ firstGraphFreed: true, middleGraphFreed: true, lastGraphAlive: true });
  });
});
