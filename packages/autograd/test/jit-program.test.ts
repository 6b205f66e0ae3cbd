import { afterEach, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ceil, copysign, floor, round, sign, tensor, trunc, Tensor } from '@chainrule/autograd';
import { seededTensor } from '@chainrule/autograd/testing';
import type { BinaryKind } from '../src/kernels/binary.js';
import type { UnaryKind } from '../src/kernels/unary.js';
import { broadcastShapes } from '../src/shape.js';
import { planBuffers, type PlanStep } from '../src/jit/buffers.js';
import { compileProgram } from '../src/jit/compile.js';
import { disableCodegen, fuse, groupSource } from '../src/jit/fusion.js';
import { eliminateDeadCode, printProgram, type Atom, type Equation, type Program, type Var } from '../src/jit/program.js';

// Programs built by hand (no tracing): each equation runs through the public op it stands for,
// which is also what the eager reference calls.

type Dtype = 'float32' | 'float64';

const UNARY: Partial<Record<UnaryKind, (t: Tensor) => Tensor>> = {
  exp: (t) => t.exp(), tanh: (t) => t.tanh(), neg: (t) => t.neg(), sin: (t) => t.sin(), sigmoid: (t) => t.sigmoid(),
  square: (t) => t.square(), abs: (t) => t.abs(), relu: (t) => t.relu(), log1p: (t) => t.abs().log1p(), sqrt: (t) => t.sqrt(),
  erf: (t) => t.erf(), softplus: (t) => t.softplus(), expm1: (t) => t.expm1(),
  // Formulas a float32 loop does not round after (fusion.ts, CLOSED_IN_FLOAT32).
  sign: (t) => sign(t), floor: (t) => floor(t), ceil: (t) => ceil(t), round: (t) => round(t), trunc: (t) => trunc(t), identity: (t) => t.clone(),
};
const BINARY: Partial<Record<BinaryKind, (a: Tensor, b: Tensor) => Tensor>> = {
  add: (a, b) => a.add(b), sub: (a, b) => a.sub(b), mul: (a, b) => a.mul(b), div: (a, b) => a.div(b),
  maximum: (a, b) => a.maximum(b), minimum: (a, b) => a.minimum(b), pow: (a, b) => a.pow(b), atan2: (a, b) => a.atan2(b),
  copysign: (a, b) => copysign(a, b),
};

class Builder {
  private next = 0;
  readonly inputs: Var[] = [];
  readonly equations: Equation[] = [];
  v(shape: readonly number[], dtype: Dtype): Var {
    return { id: this.next++, shape, dtype };
  }
  input(shape: readonly number[], dtype: Dtype): Var {
    const v = this.v(shape, dtype);
    this.inputs.push(v);
    return v;
  }
  unary(kind: UnaryKind, x: Var): Var {
    const out = this.v(x.shape, x.dtype as Dtype);
    const f = UNARY[kind]!;
    // log1p runs on |x| in its apply, so the formula here must too: only plain kinds are fused.
    const elementwise = kind === 'log1p' ? undefined : ({ arity: 1, kind } as const);
    this.equations.push({ primitive: kind, inputs: [x], params: {}, outputs: [out], apply: ([t]) => [f(t!)], elementwise });
    return out;
  }
  binary(kind: BinaryKind, a: Atom, b: Atom): Var {
    const shape = broadcastShapes(kind, 'shape' in a ? a.shape : [], 'shape' in b ? b.shape : []);
    const out = this.v(shape, a.dtype as Dtype);
    const f = BINARY[kind]!;
    this.equations.push({ primitive: kind, inputs: [a, b], params: {}, outputs: [out], apply: ([x, y]) => [f(x!, y!)], elementwise: { arity: 2, kind } });
    return out;
  }
  /** A non-elementwise step: the sum over the last axis, kept. */
  sumLast(x: Var): Var {
    const shape = x.shape.length === 0 ? [] : [...x.shape.slice(0, -1), 1];
    const out = this.v(shape, x.dtype as Dtype);
    const axis = x.shape.length - 1;
    this.equations.push({
      primitive: 'sum', inputs: [x], params: { axis, keepdims: true }, outputs: [out],
      apply: ([t]) => [x.shape.length === 0 ? t!.mul(1) : t!.sum(axis, true)],
    });
    return out;
  }
  /** A step whose output is a view of its input's storage. */
  reshapeFlat(x: Var): Var {
    const size = x.shape.reduce((p, d) => p * d, 1);
    const out = this.v([size], x.dtype as Dtype);
    this.equations.push({ primitive: 'reshape', inputs: [x], params: { shape: [size] }, outputs: [out], apply: ([t]) => [t!.reshape([size])] });
    return out;
  }
  program(outputs: Atom[]): Program {
    return { inputs: this.inputs, constants: [], equations: this.equations, outputs };
  }
}

/** The program run equation by equation on the public ops: what eager code computes. */
function eager(p: Program, inputs: readonly Tensor[]): Tensor[] {
  const env = new Map<number, Tensor>();
  p.inputs.forEach((v, i) => env.set(v.id, inputs[i]!));
  const read = (a: Atom): Tensor => ('literal' in a ? tensor(a.literal, { dtype: a.dtype as Dtype }) : env.get(a.id)!);
  for (const e of p.equations) {
    const outs = e.apply(e.inputs.map(read));
    e.outputs.forEach((v, k) => env.set(v.id, outs[k]!));
  }
  return p.outputs.map(read);
}

function expectSameBits(actual: readonly Tensor[], expected: readonly Tensor[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((t, i) => {
    const e = expected[i]!;
    expect(t.shape).toEqual(e.shape);
    expect(t.dtype).toBe(e.dtype);
    for (let k = 0; k < e.size; k++) {
      if (!Object.is(t.data[k], e.data[k])) throw new Error(`output ${i} element ${k}: compiled ${t.data[k]}, eager ${e.data[k]}`);
    }
  });
}

afterEach(() => disableCodegen(false));

describe('printer', () => {
  test('prints a jaxpr-like program with types, parameters and literals', () => {
    const b = new Builder();
    const x = b.input([3, 4], 'float32');
    const y = b.input([4], 'float32');
    const e = b.unary('exp', x);
    const s = b.binary('add', e, y);
    const m = b.binary('mul', s, { literal: 2, dtype: 'float32' });
    const r = b.sumLast(m);
    expect(printProgram(b.program([r, e]))).toBe(
      [
        '{ lambda ; a:f32[3,4] b:f32[4]. let',
        '    c:f32[3,4] = exp a',
        '    d:f32[3,4] = add c b',
        '    e:f32[3,4] = mul d 2.0:f32[]',
        '    f:f32[3,1] = sum[axis=1 keepdims=true] e',
        '  in (f, c) }',
      ].join('\n'),
    );
  });

  test('compiled text marks the fused group', () => {
    const b = new Builder();
    const x = b.input([5], 'float64');
    const r = b.sumLast(b.binary('add', b.unary('tanh', x), x));
    expect(compileProgram(b.program([r])).toString()).toBe(
      [
        '{ lambda ; a:f64[5]. let',
        '    fused[f64[5]] {',
        '        b:f64[5] = tanh a',
        '        c:f64[5] = add b a',
        '    }',
        '    d:f64[1] = sum[axis=0 keepdims=true] c',
        '  in (d) }',
      ].join('\n'),
    );
  });
});

describe('dead-code elimination', () => {
  test('drops equations no output reaches, keeps the order of the rest', () => {
    const b = new Builder();
    const x = b.input([2], 'float64');
    const dead = b.unary('exp', x);
    b.unary('sin', dead);
    const live = b.unary('tanh', x);
    const out = b.binary('mul', live, x);
    const p = eliminateDeadCode(b.program([out]));
    expect(p.equations.map((e) => e.primitive)).toEqual(['tanh', 'mul']);
  });
});

describe('fusion', () => {
  test('a chain of one shape is one loop that writes only what is read after it', () => {
    const b = new Builder();
    const x = b.input([4, 3], 'float32');
    let h = x;
    for (const k of ['neg', 'abs', 'square', 'relu'] as const) h = b.unary(k, h);
    const steps = fuse(b.program([h]));
    expect(steps).toHaveLength(1);
    const s = steps[0]!;
    if (s.kind !== 'fused') throw new Error('expected a fused step');
    expect(s.group.outputs.map((v) => v.id)).toEqual([h.id]);
    expect(s.group.inputs.map((v) => v.id)).toEqual([x.id]);
    // float32: square rounded where the eager op stores; neg, abs and relu of a float32 value
    // are float32 values already, so they are not rounded again.
    expect(groupSource(s.group).match(/Math\.fround/g)).toHaveLength(1);
  });

  test('a loop holds one transcendental formula: cheap ones fuse around each', () => {
    const b = new Builder();
    const x = b.input([5], 'float64');
    let h = b.binary('mul', x, { literal: 2, dtype: 'float64' });
    h = b.unary('exp', h);
    h = b.unary('neg', h);
    h = b.unary('tanh', h);
    h = b.binary('add', h, x);
    const steps = fuse(b.program([h]));
    expect(steps.map((st) => (st.kind === 'fused' ? st.group.equations.map((q) => q.primitive).join(',') : ''))).toEqual(['mul,exp,neg', 'tanh,add']);
  });

  test('a non-elementwise reader closes the group; a different shape starts another', () => {
    const b = new Builder();
    const x = b.input([4, 3], 'float64');
    const e = b.unary('exp', x);
    const s = b.sumLast(e);
    const t = b.binary('mul', s, { literal: 3, dtype: 'float64' });
    const u = b.binary('add', e, t); // [4,3] + [4,1]
    const steps = fuse(b.program([u]));
    expect(steps.map((st) => (st.kind === 'fused' ? `fused:${st.group.equations.map((q) => q.primitive).join(',')}` : st.equation.primitive))).toEqual([
      'fused:exp',
      'sum',
      'fused:mul',
      'fused:add',
    ]);
  });

  test('two independent groups of one shape merge when an equation reads both', () => {
    const b = new Builder();
    const x = b.input([6], 'float64');
    const y = b.input([6], 'float64');
    const out = b.binary('add', b.unary('neg', x), b.unary('sin', y));
    expect(fuse(b.program([out]))).toHaveLength(1);
  });
});

/** A random program: elementwise equations over broadcasting operands, sums and views among them. */
function randomProgram(dtype: Dtype, seed: number): { program: Program; inputs: Tensor[] } {
  const rng = fc.sample(fc.array(fc.nat(1_000_000), { minLength: 200, maxLength: 200 }), { seed, numRuns: 1 })[0]!;
  let r = 0;
  const pick = (n: number): number => rng[r++ % rng.length]! % n;
  const b = new Builder();
  const base = [1 + pick(3), 1 + pick(4), 1 + pick(3)].slice(pick(3));
  const inputs: Tensor[] = [];
  const vars: Var[] = [];
  const nIn = 1 + pick(3);
  for (let i = 0; i < nIn; i++) {
    // A suffix of the base shape, some dimensions made 1: broadcasts against the rest.
    const shape = base.slice(pick(base.length + 1)).map((d) => (pick(3) === 0 ? 1 : d));
    vars.push(b.input(shape, dtype));
    inputs.push(seededTensor(shape, seed * 7 + i, { dtype, min: -2, max: 2 }) as Tensor);
  }
  const unaries = Object.keys(UNARY) as UnaryKind[];
  const binaries = Object.keys(BINARY) as BinaryKind[];
  const nEq = 3 + pick(12);
  for (let i = 0; i < nEq; i++) {
    const x = vars[vars.length - 1 - pick(Math.min(vars.length, 4))]!;
    const choice = pick(10);
    if (choice < 4) vars.push(b.unary(unaries[pick(unaries.length)]!, x));
    else if (choice < 8) {
      const other = vars[pick(vars.length)]!;
      const fits = ((): boolean => {
        try {
          broadcastShapes('test', x.shape, other.shape);
          return true;
        } catch {
          return false;
        }
      })();
      const y: Atom = pick(4) === 0 || !fits ? { literal: [0.5, -1.25, 3, 2][pick(4)]!, dtype } : other;
      vars.push(pick(2) === 0 ? b.binary(binaries[pick(binaries.length)]!, x, y) : b.binary(binaries[pick(binaries.length)]!, y, x));
    } else if (choice === 8) vars.push(b.sumLast(x));
    else vars.push(b.reshapeFlat(x));
  }
  const outs: Atom[] = [vars[vars.length - 1]!];
  if (pick(2) === 0) outs.push(vars[nIn + pick(vars.length - nIn)]!);
  return { program: b.program(outs), inputs };
}

describe('compiled programs against eager', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    test(`random elementwise programs with broadcasting give the eager bits (${dtype})`, () => {
      fc.assert(
        fc.property(fc.nat(100_000), (seed) => {
          const { program, inputs } = randomProgram(dtype, seed);
          const before = inputs.map((t) => Array.from(t.data));
          const expected = eager(program, inputs);
          const compiled = compileProgram(program);
          expectSameBits(compiled.run(inputs), expected);
          // A second call gives the same again (no state kept between calls), inputs untouched.
          const first = compiled.run(inputs);
          expectSameBits(first, expected);
          inputs.forEach((t, i) => expect(Array.from(t.data)).toEqual(before[i]));
          // A call on other values (the kept intermediate storage written again) leaves the
          // results of the earlier call as they were.
          const others = inputs.map((t, i) => seededTensor(t.shape.slice(), seed * 13 + i + 1, { dtype, min: -3, max: 3 }) as Tensor);
          expectSameBits(compiled.run(others), eager(program, others));
          expectSameBits(first, expected);
        }),
        { numRuns: 150 },
      );
    });
  }

  test('without code generation every equation runs through its primitive, same bits', () => {
    fc.assert(
      fc.property(fc.nat(100_000), (seed) => {
        const { program, inputs } = randomProgram('float32', seed);
        disableCodegen(true);
        const compiled = compileProgram(program);
        expect(compiled.plan.slots).toHaveLength(0);
        expectSameBits(compiled.run(inputs), eager(program, inputs));
        disableCodegen(false);
      }),
      { numRuns: 40 },
    );
  });

  test('a long chain of one shape needs one buffer; results of separate calls do not share storage', () => {
    const b = new Builder();
    const x = b.input([1000], 'float32');
    let h: Var = x;
    for (let i = 0; i < 10; i++) h = i % 2 === 0 ? b.unary('square', h) : b.binary('mul', h, { literal: 1.5, dtype: 'float32' });
    const compiled = compileProgram(b.program([h]));
    expect(compiled.plan.slots).toEqual([4000]);
    const input = seededTensor([1000], 3, { dtype: 'float32' }) as Tensor;
    const [first] = compiled.run([input]);
    const [second] = compiled.run([input]);
    expect(first!.data).not.toBe(second!.data);
    expect(first!.data.buffer).not.toBe(second!.data.buffer);
  });
});

describe('buffer planner', () => {
  /**
   * A random program shape: each step reads some earlier values and defines new ones, planned
   * (storage from the planner) or foreign (a view of what it reads, or its own).
   */
  const stepsArb = fc
    .array(
      fc.record({
        reads: fc.array(fc.nat(), { maxLength: 3 }),
        planned: fc.array(fc.constantFrom(8, 16, 24), { maxLength: 2 }),
        foreign: fc.nat(2),
      }),
      { minLength: 1, maxLength: 30 },
    )
    .chain((raw) => fc.tuple(fc.constant(raw), fc.array(fc.nat(), { maxLength: 3 }), fc.nat(3)));

  test('never hands a storage that is still read to a new value; same byte sizes only; outputs and inputs kept', () => {
    fc.assert(
      fc.property(stepsArb, ([raw, outPicks, nInputs]) => {
        const bytes = new Map<number, number>();
        const defined: number[] = [];
        let next = 0;
        for (let i = 0; i < nInputs; i++) defined.push(next++);
        const inputs = new Set(defined);
        const steps: PlanStep[] = raw.map((s) => {
          const uses = defined.length === 0 ? [] : [...new Set(s.reads.map((r) => defined[r % defined.length]!))];
          const planned = s.planned.map((size) => {
            const v = next++;
            bytes.set(v, size);
            return v;
          });
          const foreign = Array.from({ length: s.foreign }, () => next++);
          defined.push(...planned, ...foreign);
          return { uses, planned, foreign };
        });
        const outputs = defined.length === 0 ? [] : [...new Set(outPicks.map((o) => defined[o % defined.length]!))];
        const plan = planBuffers(steps, (v) => bytes.get(v)!, outputs);

        // Simulate: each planned value stamps its slot; every read checks that each planned value
        // the read value may alias still has its stamp. A foreign value aliases what its step read.
        const aliases = new Map<number, Set<number>>();
        const stamps = new Array<number>(plan.slots.length).fill(-1);
        const check = (v: number, at: string): void => {
          for (const p of aliases.get(v) ?? []) {
            const slot = plan.slotOf.get(p)!;
            if (stamps[slot] !== p) throw new Error(`${at}: value ${v} reads planned ${p}, whose slot ${slot} now holds ${stamps[slot]}`);
          }
        };
        for (const i of inputs) aliases.set(i, new Set());
        steps.forEach((s, i) => {
          for (const u of s.uses) check(u, `step ${i}`);
          for (const p of s.planned) {
            const slot = plan.slotOf.get(p);
            if (slot === undefined) throw new Error(`planned ${p} got no slot`);
            expect(plan.slots[slot]).toBe(bytes.get(p));
            stamps[slot] = p;
            aliases.set(p, new Set([p]));
          }
          for (const f of s.foreign) {
            const set = new Set<number>();
            for (const u of s.uses) for (const p of aliases.get(u) ?? []) set.add(p);
            aliases.set(f, set);
          }
        });
        // Outputs leave with the result: what they hold must still be theirs at the end.
        for (const o of outputs) check(o, 'the end');
        // A slot an output may alias is marked as leaving with the result (allocated per call).
        for (const o of outputs) for (const p of aliases.get(o) ?? []) expect(plan.escapes[plan.slotOf.get(p)!]).toBe(true);
        // Inputs are never planned, so never written.
        for (const i of inputs) expect(plan.slotOf.has(i)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  test('reuses a dead value of the same size, not one of another size', () => {
    const steps: PlanStep[] = [
      { uses: [0], planned: [1], foreign: [] },
      { uses: [1], planned: [2], foreign: [] },
      { uses: [2], planned: [3], foreign: [] },
      { uses: [3], planned: [4], foreign: [] },
    ];
    const sizes: Record<number, number> = { 1: 8, 2: 8, 3: 8, 4: 16 };
    const plan = planBuffers(steps, (v) => sizes[v]!, [4]);
    expect(plan.slots).toEqual([8, 8, 16]);
    expect(plan.slotOf.get(3)).toBe(plan.slotOf.get(1));
  });
});
