import type { FloatArray, FloatDType } from '../dtype.js';
import { isFloatDType } from '../dtype.js';
import { broadcastStrides, collapseDims } from '../kernels/binary.js';
import { BINARY_EXPRESSIONS, EXPRESSION_HELPERS, helpersOf, UNARY_EXPRESSIONS } from '../kernels/expressions.js';
import { erf } from '../kernels/special.js';
import { wantsWasm } from '../kernels/backend.js';
import { shapesEqual, sizeOf, type Shape } from '../shape.js';
import { isLiteral, typeText, type Atom, type Elementwise, type Equation, type Program, type Var } from './program.js';
import { wasmLoop } from './wasm-loop.js';

/**
 * Elementwise fusion: maximal groups of elementwise equations of one shape and float dtype
 * become one generated JavaScript loop, which reads each outside operand once per element
 * (broadcast by its strides), keeps the group's intermediates in locals, and writes only the
 * values read after the group.
 *
 * NOTE: generated JavaScript, and WebAssembly where it can give the same bits. Both run in
 * browsers and Node. A loop of the formulas in kernels/expressions.ts as JavaScript calls the
 * very same Math functions the eager kernels call (exp, log, tanh... are not WebAssembly
 * instructions: a WebAssembly loop would have to import them per element, or use other
 * approximations and lose the same-bits guarantee), so every group has a JavaScript loop. A
 * float32 group of arithmetic, selects and tanh (Math.tanh's own float64 steps: wasm-tanh.ts) also gets a WebAssembly function computing in
 * float32 itself (wasm-loop.ts), which needs none of the Math.fround calls that are most of a
 * float32 JavaScript loop's cost, at the price of copying operands through WebAssembly memory
 * (a chunk at a time, in cache); `compileGroup` picks one per call by the kernel backend.
 * Code generation is a Content-Security-Policy question: `new Function` needs 'unsafe-eval', a
 * WebAssembly module 'wasm-unsafe-eval'. Where `new Function` is refused (it throws
 * EvalError), every group runs its equations one by one through the primitives' own
 * implementations instead: same results, no fusion (see `codegenAvailable`).
 *
 * Bits: float64 groups evaluate each formula in float64 as the kernels do; float32 groups
 * round every formula's result with Math.fround, exactly where the eager op stores into its
 * Float32Array, except after the formulas whose result is a float32 value already (see
 * CLOSED_IN_FLOAT32), where the rounding would change nothing. So a fused group gives the eager
 * ops' bits, always: fusion never reorders or reassociates anything.
 */

/** A group of elementwise equations run as one loop. */
export interface FusedGroup {
  readonly equations: readonly Equation[];
  /** Every equation's output shape: the loop's. */
  readonly shape: Shape;
  readonly dtype: FloatDType;
  /** The variables the group reads that it does not define, in the order the loop takes them. */
  readonly inputs: readonly Var[];
  /** The variables it defines that are read after it or are program outputs, in the loop's order. */
  readonly outputs: readonly Var[];
}

/** One step of a compiled program. */
export type Step = { readonly kind: 'fused'; readonly group: FusedGroup } | { readonly kind: 'equation'; readonly equation: Equation };

/** Whether an equation can join a fused loop: an elementwise formula over operands all of its own float dtype. */
export function fusible(e: Equation): boolean {
  if (e.elementwise === undefined || e.outputs.length !== 1) return false;
  const out = e.outputs[0]!;
  if (!isFloatDType(out.dtype)) return false;
  return e.inputs.length === e.elementwise.arity && e.inputs.every((a) => a.dtype === out.dtype);
}

interface OpenGroup {
  equations: Equation[];
  readonly shape: Shape;
  readonly dtype: FloatDType;
  /** Whether the group holds a formula that calls a transcendental function (see `heavy`). */
  heavy: boolean;
}

const TRANSCENDENTAL = /Math\.(exp|expm1|log|log1p|log2|log10|tanh|sinh|cosh|asinh|acosh|atanh|sin|cos|tan|asin|acos|atan|atan2|pow|hypot)\(|(?<![.\w])(sigmoid|erf|pow|hypot|logaddexp|xlogy)\(|\*\*/;

/**
 * Whether an equation's formula calls a transcendental function (exp, tanh, log, sigmoid...).
 * NOTE: a loop holds at most one such formula. Measured on V8 (Node 20, 1M float32, noisy shared
 * machine): exp(tanh(v)) in one loop took 375 ms against 258 ms as two loops with the
 * intermediate stored, exp(exp(v)) 276 against 196, while cheap arithmetic fused into one loop
 * ran 15× faster than two loops. So cheap ops fuse around each transcendental call, and a second
 * transcendental call starts a new loop. The results are the same bits either way.
 */
export function heavy(e: Equation): boolean {
  const w = e.elementwise;
  if (w === undefined) return false;
  return TRANSCENDENTAL.test(w.arity === 1 ? UNARY_EXPRESSIONS[w.kind] : BINARY_EXPRESSIONS[w.kind]);
}

/**
 * The program's equations as steps, elementwise ones grouped. An equation joins (and merges)
 * the open groups it reads from when they have its shape and dtype; a group is closed, and
 * becomes a step, when something of another shape or a non-elementwise equation reads from it.
 * So every open group reads only what earlier steps made, and steps stay in dependency order.
 */
export function fuse(program: Program): Step[] {
  const steps: Step[] = [];
  const open: OpenGroup[] = [];
  const groupOf = new Map<number, OpenGroup>();
  const closed: { group: OpenGroup; at: number }[] = [];
  const close = (g: OpenGroup): void => {
    const i = open.indexOf(g);
    if (i < 0) return;
    open.splice(i, 1);
    for (const e of g.equations) for (const v of e.outputs) groupOf.delete(v.id);
    closed.push({ group: g, at: steps.length });
    steps.push({ kind: 'fused', group: { equations: g.equations, shape: g.shape, dtype: g.dtype, inputs: [], outputs: [] } });
  };
  const openReadBy = (e: Equation): OpenGroup[] => {
    const found: OpenGroup[] = [];
    for (const a of e.inputs) {
      if (isLiteral(a)) continue;
      const g = groupOf.get(a.id);
      if (g !== undefined && !found.includes(g)) found.push(g);
    }
    return found;
  };
  for (const e of program.equations) {
    if (!fusible(e)) {
      for (const g of openReadBy(e)) close(g);
      steps.push({ kind: 'equation', equation: e });
      continue;
    }
    const out = e.outputs[0]!;
    const dtype = out.dtype as FloatDType;
    const costly = heavy(e);
    let target: OpenGroup | undefined;
    for (const g of openReadBy(e)) {
      if (g.dtype !== dtype || !shapesEqual(g.shape, out.shape) || (costly && g.heavy)) {
        close(g);
      } else if (target === undefined) {
        target = g;
      } else if (target.heavy && g.heavy) {
        close(g);
      } else {
        // Two open groups never read from each other, so their equations concatenate in either order.
        target.equations.push(...g.equations);
        target.heavy ||= g.heavy;
        open.splice(open.indexOf(g), 1);
        for (const q of g.equations) for (const v of q.outputs) groupOf.set(v.id, target);
      }
    }
    if (target === undefined) {
      target = { equations: [], shape: out.shape, dtype, heavy: false };
      open.push(target);
    }
    target.equations.push(e);
    target.heavy ||= costly;
    groupOf.set(out.id, target);
  }
  for (const g of open.slice()) close(g);

  // Each group's outside reads and the values read after it, now that every step is known.
  const readOutside = new Set<number>();
  for (const o of program.outputs) if (!isLiteral(o)) readOutside.add(o.id);
  const groupIndex = new Map<number, number>();
  for (const { group, at } of closed) for (const e of group.equations) for (const v of e.outputs) groupIndex.set(v.id, at);
  steps.forEach((s, at) => {
    const eqs = s.kind === 'fused' ? s.group.equations : [s.equation];
    for (const e of eqs) for (const a of e.inputs) if (!isLiteral(a) && groupIndex.get(a.id) !== at) readOutside.add(a.id);
  });
  return steps.map((s) => {
    if (s.kind !== 'fused') return s;
    const defined = new Set<number>();
    const inputs: Var[] = [];
    const outputs: Var[] = [];
    for (const e of s.group.equations) {
      for (const a of e.inputs) if (!isLiteral(a) && !defined.has(a.id) && !inputs.includes(a)) inputs.push(a);
      for (const v of e.outputs) {
        defined.add(v.id);
        if (readOutside.has(v.id)) outputs.push(v);
      }
    }
    return { kind: 'fused', group: { ...s.group, inputs, outputs } };
  });
}

/** A fused group's loop: reads `ins` (the group's inputs, in order), writes `outs`. */
export type FusedLoop = (ins: readonly FloatArray[], outs: readonly FloatArray[]) => void;

let codegen: boolean | undefined;
let forcedOff = false;

/**
 * Whether this runtime lets the library generate code (`new Function`): false under a browser
 * Content-Security-Policy without 'unsafe-eval', where compiled programs run unfused.
 */
export function codegenAvailable(): boolean {
  if (forcedOff) return false;
  if (codegen === undefined) {
    try {
      codegen = (new Function('return 1') as () => number)() === 1;
    } catch {
      codegen = false;
    }
  }
  return codegen;
}

/** @internal Turns code generation off (true) or back to what the runtime allows, for tests of the unfused path. */
export function disableCodegen(off: boolean): void {
  forcedOff = off;
}

const compiled = new Map<string, FusedLoop>();

function numberText(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/**
 * The formulas whose result is a float32 value whenever their operands are: they return an
 * operand, its negation or magnitude, a constant (0, 1, -1), or an integer no larger than the
 * operand (floor, ceil, trunc, round: a float32 value of magnitude 2^23 or more is already an
 * integer, and every smaller integer is a float32 value). Math.fround is the identity on their
 * results (NaN stays NaN), so a float32 loop leaves it out after them and gives the same bits:
 * every operand in a loop is a float32 value (a Float32Array element, a literal rounded at
 * generation, or the result of a formula that is rounded or in this list).
 * Every other formula (add, mul, square, exp...) is rounded after each op, exactly as the eager
 * kernel stores it: rounding once at the end of a chain instead would give other bits.
 * NOTE: the fround calls are most of a float32 loop's cost in V8 (a 10-op arithmetic chain over
 * 1M values: 5.6 ms with one per op, 1.7 ms with none, noisy shared machine), which is why a
 * group of the ops wasm-loop.ts covers runs as WebAssembly where the backend allows.
 */
const CLOSED_IN_FLOAT32: ReadonlySet<string> = new Set([
  'identity', 'neg', 'abs', 'sign', 'relu', 'step', 'floor', 'ceil', 'round', 'trunc',
  'maximum', 'minimum', 'copysign', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
]);

/** Whether `w`'s result needs no rounding to float32 (see CLOSED_IN_FLOAT32). */
export function closedInFloat32(w: Elementwise): boolean {
  return CLOSED_IN_FLOAT32.has(w.kind);
}

/** The JavaScript source of a group's loop (also what `compileGroup` caches by). */
export function groupSource(group: FusedGroup): string {
  const f32 = group.dtype === 'float32';
  const round = (expr: string, w: Elementwise): string => (f32 && !closedInFloat32(w) ? `Math.fround(${expr})` : expr);
  const outStrides = broadcastStrides(group.shape, group.shape);
  const { shape, strides } = collapseDims(group.shape, [outStrides, ...group.inputs.map((v) => broadcastStrides(v.shape, group.shape))]);
  const nd = shape.length;
  const [contiguous, ...inStrides] = strides as [number[], ...number[][]];
  const lines: string[] = [];
  const helpers = new Set<string>();
  const local = new Map<number, string>();
  group.inputs.forEach((_, k) => lines.push(`const x${k} = ins[${k}];`));
  group.outputs.forEach((_, k) => lines.push(`const y${k} = outs[${k}];`));
  const hoisted: string[] = [];
  const loads: string[] = [];
  group.inputs.forEach((v, k) => {
    const st = inStrides[k]!;
    if (st.every((s) => s === 0)) {
      hoisted.push(`const a${k} = x${k}[0];`);
    } else {
      const same = st.every((s, d) => s === contiguous[d]);
      const index = same ? 'k' : st.map((s, d) => (s === 0 ? '' : `d${d} * ${s}`)).filter((t) => t !== '').join(' + ');
      loads.push(`const a${k} = x${k}[${index}];`);
    }
    local.set(v.id, `a${k}`);
  });
  const body: string[] = [...loads];
  const atom = (a: Atom): string => {
    if (isLiteral(a)) return numberText(f32 ? Math.fround(a.literal) : a.literal);
    const name = local.get(a.id);
    if (name === undefined) throw new Error(`jit: fused loop reads ${typeText(a)} before it is defined`);
    return name;
  };
  let t = 0;
  for (const e of group.equations) {
    const w = e.elementwise!;
    const out = e.outputs[0]!;
    const name = `t${t++}`;
    if (w.arity === 1) {
      const formula = UNARY_EXPRESSIONS[w.kind];
      for (const h of helpersOf(formula)) helpers.add(h);
      body.push(`let ${name}; { const v = ${atom(e.inputs[0]!)}; ${name} = ${round(formula, w)}; }`);
    } else {
      const formula = BINARY_EXPRESSIONS[w.kind];
      for (const h of helpersOf(formula)) helpers.add(h);
      body.push(`let ${name}; { const p = ${atom(e.inputs[0]!)}, q = ${atom(e.inputs[1]!)}; ${name} = ${round(formula, w)}; }`);
    }
    local.set(out.id, name);
  }
  group.outputs.forEach((v, k) => body.push(`y${k}[k] = ${local.get(v.id)!};`));
  // Nested loops over the collapsed dimensions; k walks the output contiguously.
  let loop = body.map((l) => `  ${l}`).join('\n');
  for (let d = nd - 1; d >= 0; d--) {
    const inner = d === nd - 1 ? `d${d}++, k++` : `d${d}++`;
    loop = `for (let d${d} = 0; d${d} < ${shape[d]}; ${inner}) {\n${loop}\n}`;
  }
  const decls = [...helpers].map((h) => EXPRESSION_HELPERS[h]!);
  return [`'use strict';`, ...decls, 'return function fused(ins, outs) {', ...lines, ...hoisted, 'let k = 0;', loop, '};'].join('\n');
}

/**
 * The group's loop, or null where code generation is unavailable (the group then runs unfused).
 * A float32 group of the ops a WebAssembly function computes in native float32 (wasm-loop.ts)
 * runs that function at each call where the kernel backend takes WebAssembly for its size
 * (never under 'js'), and the JavaScript loop otherwise: the same bits either way.
 */
export function compileGroup(group: FusedGroup): FusedLoop | null {
  if (!codegenAvailable()) return null;
  const source = groupSource(group);
  let loop = compiled.get(source);
  if (loop === undefined) {
    try {
      loop = (new Function('erf', source) as (e: typeof erf) => FusedLoop)(erf);
    } catch {
      return null;
    }
    compiled.set(source, loop);
  }
  const wasm = wasmLoop(group);
  if (wasm === null) return loop;
  const js = loop;
  const n = sizeOf(group.shape);
  return (ins, outs) => {
    if (wantsWasm('fused', n)) wasm.run(ins, outs);
    else js(ins, outs);
  };
}
