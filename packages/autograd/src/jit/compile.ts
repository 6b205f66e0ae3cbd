import { allocate, type FloatArray, bytesPerElement } from '../dtype.js';
import { noGrad } from '../engine/grad-mode.js';
import { formatShape, shapesEqual, sizeOf } from '../shape.js';
import { constant, scalarTensor, Tensor } from '../tensor.js';
import { planBuffers, type BufferPlan, type PlanStep } from './buffers.js';
import { compileGroup, fuse, type FusedLoop, type Step } from './fusion.js';
import { eliminateDeadCode, isLiteral, printProgram, typeText, type Atom, type Equation, type Program, type Var } from './program.js';
import { TraceError } from '../errors.js';

/** A program made ready to run: dead code removed, elementwise groups fused, buffers planned. */
export interface CompiledProgram {
  /** The program after dead-code elimination. */
  readonly program: Program;
  readonly steps: readonly Step[];
  readonly plan: BufferPlan;
  /** Runs the program on one tensor per input (their shapes and dtypes as traced); one tensor per output. */
  run(inputs: readonly Tensor[]): Tensor[];
  /**
   * Runs every equation through its primitive, unfused, in the grad mode and under the
   * transforms of the caller: so a graph is recorded (or an outer transform sees each op) as
   * for eager code.
   */
  replay(inputs: readonly Tensor[]): Tensor[];
  /** The program as text, fused groups marked (see `compiledText`). */
  toString(): string;
}

/**
 * Compiles `program`. Each call of `run` allocates the planned storage afresh (results never
 * share storage with an earlier call's), writes no input, and runs every equation that is not
 * fused through its primitive's own implementation with gradient recording off.
 */
export function compileProgram(traced: Program): CompiledProgram {
  const program = eliminateDeadCode(traced);
  const steps = fuse(program);
  const loops: (FusedLoop | null)[] = steps.map((s) => (s.kind === 'fused' ? compileGroup(s.group) : null));
  const planSteps: PlanStep[] = steps.map((s, i) => {
    const eqs = s.kind === 'fused' ? s.group.equations : [s.equation];
    const uses = new Set<number>();
    for (const e of eqs) for (const a of e.inputs) if (!isLiteral(a)) uses.add(a.id);
    if (s.kind === 'fused' && loops[i] !== null) {
      const own = new Set(s.group.outputs.map((v) => v.id));
      return { uses: s.group.inputs.map((v) => v.id), planned: [...own], foreign: [] };
    }
    return { uses: [...uses], planned: [], foreign: eqs.flatMap((e) => e.outputs.map((v) => v.id)) };
  });
  const vars = new Map<number, Var>();
  for (const s of steps) for (const e of s.kind === 'fused' ? s.group.equations : [s.equation]) for (const v of e.outputs) vars.set(v.id, v);
  const outputIds = program.outputs.filter((o): o is Var => !isLiteral(o)).map((v) => v.id);
  const plan = planBuffers(planSteps, (id) => byteSize(vars.get(id)!), outputIds);

  const run = (inputs: readonly Tensor[]): Tensor[] =>
    noGrad(() => {
      const env = new Map<number, Tensor>();
      program.inputs.forEach((v, i) => env.set(v.id, inputs[i]!));
      for (const c of program.constants) env.set(c.v.id, c.value);
      const buffers: (ArrayBuffer | undefined)[] = new Array(plan.slots.length);
      const read = (a: Atom): Tensor => (isLiteral(a) ? scalarTensor(a.literal, a.dtype) : env.get(a.id)!);
      steps.forEach((s, i) => {
        const loop = loops[i];
        if (s.kind === 'fused' && loop !== null && loop !== undefined) {
          const ins = s.group.inputs.map((v) => env.get(v.id)!.data as FloatArray);
          const outs = s.group.outputs.map((v) => {
            const slot = plan.slotOf.get(v.id)!;
            const buffer = (buffers[slot] ??= new ArrayBuffer(plan.slots[slot]!));
            return v.dtype === 'float32' ? new Float32Array(buffer) : new Float64Array(buffer);
          });
          loop(ins, outs);
          s.group.outputs.forEach((v, k) => env.set(v.id, constant(outs[k]!, v.shape)));
          return;
        }
        for (const e of s.kind === 'fused' ? s.group.equations : [s.equation]) applyEquation(e, env, read);
      });
      return program.outputs.map(read);
    });

  const replay = (inputs: readonly Tensor[]): Tensor[] => {
    const env = new Map<number, Tensor>();
    program.inputs.forEach((v, i) => env.set(v.id, inputs[i]!));
    for (const c of program.constants) env.set(c.v.id, c.value);
    const read = (a: Atom): Tensor => (isLiteral(a) ? scalarTensor(a.literal, a.dtype) : env.get(a.id)!);
    for (const e of program.equations) applyEquation(e, env, read);
    return program.outputs.map(read);
  };

  return {
    program,
    steps,
    plan,
    run,
    replay,
    toString: () => compiledText(program, steps),
  };
}

function byteSize(v: Var): number {
  return sizeOf(v.shape) * bytesPerElement(v.dtype);
}

/** Runs one equation through its primitive and checks what it made against the trace. */
function applyEquation(e: Equation, env: Map<number, Tensor>, read: (a: Atom) => Tensor): void {
  const outs = e.apply(e.inputs.map(read));
  e.outputs.forEach((v, k) => {
    const t = outs[k];
    // NOTE: the guard against a stale program: a primitive whose result's shape or dtype
    // depends on values (or on anything but its traced inputs) is refused here, never replayed
    // into a wrong answer.
    if (t === undefined || !shapesEqual(t.shape, v.shape) || t.dtype !== v.dtype) {
      const got = t === undefined ? 'nothing' : `${t.dtype} ${formatShape(t.shape)}`;
      throw new TraceError(
        `jit: primitive '${e.primitive}' gave ${got} for output ${k} on replay, where the trace had ${typeText(v)}; its result depends on the input values, which a jitted function cannot have`,
      );
    }
    env.set(v.id, t);
  });
}

/**
 * The program as text with its fused groups marked: each group prints as
 * `fused { ... }` around its equations, followed by the values it writes out.
 */
export function compiledText(program: Program, steps: readonly Step[]): string {
  const text = printProgram(program).split('\n');
  // Equation lines are 1..n in program order; regroup them by step.
  const lineOf = new Map<Equation, string>();
  program.equations.forEach((e, i) => lineOf.set(e, text[i + 1]!));
  const body: string[] = [];
  for (const s of steps) {
    if (s.kind === 'equation') {
      body.push(lineOf.get(s.equation)!);
      continue;
    }
    body.push(`    fused[${typeText({ shape: s.group.shape, dtype: s.group.dtype })}] {`);
    for (const e of s.group.equations) body.push(`    ${lineOf.get(e)!}`);
    body.push('    }');
  }
  return [text[0]!, ...body, text[text.length - 1]!].join('\n');
}

/** @internal for tests: storage for a value of `v`'s type. */
export function storageFor(v: Var): Tensor {
  return new Tensor(allocate(v.dtype, sizeOf(v.shape)), v.shape);
}
