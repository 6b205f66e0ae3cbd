import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, Tensor, Value, enableGrad, noGrad, tensor } from '@chainrule/autograd';

/** Builds f on fresh leaves, runs backward, returns [f, ...gradients]. */
function run(values: number[], f: (...xs: Value[]) => Value): number[] {
  const xs = values.map((v) => new Value(v));
  const out = f(...xs);
  out.backward();
  return [out.data, ...xs.map((x) => x.grad)];
}

function expectNear(actual: number[], expected: number[], tol = 1e-15): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)))) {
      expect.fail(`entry ${i}: got ${a}, expected ${expected[i]}`);
    }
  });
}

describe('Value: hand-computed values and gradients', () => {
  it('add, sub, mul, div, neg', () => {
    expect(run([2, -3], (a, b) => a.add(b))).toEqual([-1, 1, 1]);
    expect(run([2, -3], (a, b) => a.sub(b))).toEqual([5, 1, -1]);
    expect(run([2, -3], (a, b) => a.mul(b))).toEqual([-6, -3, 2]);
    // a/b: 1/b and -a/b²
    expectNear(run([2, -3], (a, b) => a.div(b)), [-2 / 3, -1 / 3, -2 / 9]);
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
    expectNear(run([2], (a) => a.exp()), [Math.E ** 2, Math.E ** 2]);
    expectNear(run([2], (a) => a.log()), [Math.LN2, 0.5]);
    // tanh x = (e^2x - 1)/(e^2x + 1); its derivative is 1/cosh² x.
    const e1 = Math.exp(1);
    expectNear(run([0.5], (a) => a.tanh()), [(e1 - 1) / (e1 + 1), 1 / Math.cosh(0.5) ** 2]);
    expect(run([0], (a) => a.sigmoid())).toEqual([0.5, 0.25]);
    const s = 1 / (1 + Math.exp(-2));
    expectNear(run([2], (a) => a.sigmoid()), [s, s * (1 - s)]);
    // Stable far from 0: no overflow to NaN in either direction.
    expectNear(run([-800], (a) => a.sigmoid()), [0, 0]);
    expectNear(run([800], (a) => a.sigmoid()), [1, 0]);
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
    expectNear(run([2], (a) => new Value(1).div(a)), [0.5, -0.25]);
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
