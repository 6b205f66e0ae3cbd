import type { DType } from '../dtype.js';
import type { BinaryKind } from '../kernels/binary.js';
import type { UnaryKind } from '../kernels/unary.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** A tensor variable of a program: defined once (an input, a constant or an equation's output). */
export interface Var {
  /** Unique inside its program; the printer names variables by order of appearance, not by id. */
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** A number baked into the program (a 0-d operand of the given dtype, as `x.mul(2)` makes). */
export interface Literal {
  readonly literal: number;
  readonly dtype: DType;
}

/** What an equation reads: a variable or a literal. */
export type Atom = Var | Literal;

/** Whether an atom is a literal. */
export function isLiteral(atom: Atom): atom is Literal {
  return (atom as Partial<Literal>).literal !== undefined;
}

/** The scalar formula of an elementwise primitive, which the fuser compiles into loops. */
export type Elementwise = { readonly arity: 1; readonly kind: UnaryKind } | { readonly arity: 2; readonly kind: BinaryKind };

/** One primitive application: `outputs = primitive[params](inputs)`. */
export interface Equation {
  /** The primitive's name, as the dispatch layer gives it ('exp', 'add', 'matmul'...). */
  readonly primitive: string;
  readonly inputs: readonly Atom[];
  /** Static (non-tensor) parameters: axes, flags, numbers. Shown by the printer. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly outputs: readonly Var[];
  /**
   * Runs the primitive's own implementation on tensors (one per input, literals as 0-d tensors),
   * giving one tensor per output: how an equation that is not fused runs.
   */
  readonly apply: (inputs: readonly Tensor[]) => readonly Tensor[];
  /** The formula, where the primitive is elementwise and the fuser may take it. */
  readonly elementwise?: Elementwise;
  /**
   * Whether the primitive's outputs are a function of its inputs and parameters alone (no random
   * draw, no user code): two such equations with the same inputs give the same values.
   */
  readonly deterministic?: boolean;
}

/**
 * A traced program (JAX's jaxpr): inputs, constants (tensors f closed over, read by reference,
 * so in-place updates to them are seen at every call), equations in an order where each reads
 * only what is defined before it, and outputs.
 */
export interface Program {
  readonly inputs: readonly Var[];
  /**
   * `stale` names the first op that read a constant made from the traced call's values outside
   * any op (a mask an op's forward kept for its gradient): such a constant may not survive
   * dead-code elimination.
   */
  readonly constants: readonly { readonly v: Var; readonly value: Tensor; readonly stale?: string }[];
  readonly equations: readonly Equation[];
  readonly outputs: readonly Atom[];
}

const DTYPE_SHORT: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'bool' };

/** `f32[3,4]`: a variable's type as the printer shows it. */
export function typeText(v: { readonly shape: Shape; readonly dtype: DType }): string {
  return `${DTYPE_SHORT[v.dtype]}[${v.shape.join(',')}]`;
}

/** a, b, ..., z, ba, bb, ...: JAX's variable names. */
function nameOf(n: number): string {
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

function literalText(l: Literal): string {
  const v = Object.is(l.literal, -0) ? '-0.0' : Number.isInteger(l.literal) && l.dtype !== 'int32' && l.dtype !== 'bool' ? `${l.literal}.0` : String(l.literal);
  return `${v}:${DTYPE_SHORT[l.dtype]}[]`;
}

function paramText(value: unknown): string {
  if (typeof value === 'function') return '<function>';
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The program as text, in the shape of a jaxpr:
 *
 *     { lambda ; a:f32[3,4] b:f32[4]. let
 *         c:f32[3,4] = exp a
 *         d:f32[3,4] = add c b
 *       in (d) }
 *
 * Constants come before the `;`, inputs after; parameters print as `sum[axis=[0] keepdims=false]`.
 */
export function printProgram(program: Program): string {
  const names = new Map<number, string>();
  const name = (v: Var): string => {
    let n = names.get(v.id);
    if (n === undefined) {
      n = nameOf(names.size);
      names.set(v.id, n);
    }
    return n;
  };
  const atom = (a: Atom): string => (isLiteral(a) ? literalText(a) : name(a));
  const binder = (v: Var): string => `${name(v)}:${typeText(v)}`;
  const consts = program.constants.map((c) => binder(c.v)).join(' ');
  const inputs = program.inputs.map(binder).join(' ');
  const lines = program.equations.map((e) => {
    // Positional parameters (keys '1', '2'...: an op's non-tensor arguments) print as values.
    const params = Object.entries(e.params).map(([k, v]) => (/^\d+$/.test(k) ? paramText(v) : `${k}=${paramText(v)}`));
    const head = params.length === 0 ? e.primitive : `${e.primitive}[${params.join(' ')}]`;
    const outs = e.outputs.map(binder).join(' ');
    return `    ${outs} = ${head}${e.inputs.length === 0 ? '' : ' '}${e.inputs.map(atom).join(' ')}`;
  });
  const outs = program.outputs.map(atom).join(', ');
  const head = `{ lambda ${consts}${consts === '' ? '' : ' '}; ${inputs}. let`;
  return [head, ...lines, `  in (${outs}) }`].join('\n');
}

/**
 * The program without the equations none of whose outputs reaches an output, and without the
 * constants nothing reads (every primitive is pure, so nothing else can observe them).
 */
export function eliminateDeadCode(program: Program): Program {
  const live = new Set<number>();
  for (const o of program.outputs) if (!isLiteral(o)) live.add(o.id);
  const kept: Equation[] = [];
  for (let i = program.equations.length - 1; i >= 0; i--) {
    const e = program.equations[i]!;
    if (!e.outputs.some((v) => live.has(v.id))) continue;
    kept.push(e);
    for (const a of e.inputs) if (!isLiteral(a)) live.add(a.id);
  }
  kept.reverse();
  return {
    inputs: program.inputs,
    constants: program.constants.filter((c) => live.has(c.v.id)),
    equations: kept,
    outputs: program.outputs,
  };
}

/** The key two equations share when they compute the same values, or undefined if this one may not be shared. */
function equationKey(e: Equation, rename: (id: number) => number): string | undefined {
  if (e.deterministic !== true && e.elementwise === undefined) return undefined;
  let params: string;
  try {
    params = JSON.stringify(e.params, (_k, v: unknown) => {
      // A function parameter cannot be compared by value: the equation is not shared.
      if (typeof v === 'function') throw new TypeError('function');
      return v;
    });
  } catch {
    return undefined;
  }
  const inputs = e.inputs.map((a) => (isLiteral(a) ? `${Object.is(a.literal, -0) ? '-0' : String(a.literal)}:${a.dtype}` : `v${rename(a.id)}`));
  const outputs = e.outputs.map((v) => `${v.dtype}[${v.shape.join(',')}]`);
  return `${e.primitive}|${inputs.join(' ')}|${params}|${outputs.join(' ')}`;
}

/**
 * The program with each equation that repeats an earlier deterministic one (the same primitive,
 * inputs and parameters) removed, its outputs read from the earlier one's instead: what a
 * gradient's recomputed forward values and repeated VJP factors (1 - tanh² once per sweep) cost
 * otherwise. Same values, so the same bits. An equation whose output is a program output is kept,
 * so that two results f returned as separate tensors never become one.
 */
export function eliminateCommonSubexpressions(program: Program): Program {
  const replaced = new Map<number, Var>();
  const rename = (id: number): number => replaced.get(id)?.id ?? id;
  const returned = new Set<number>();
  for (const o of program.outputs) if (!isLiteral(o)) returned.add(o.id);
  const seen = new Map<string, Equation>();
  const kept: Equation[] = [];
  const renamed = (a: Atom): Atom => (isLiteral(a) ? a : replaced.get(a.id) ?? a);
  for (const e0 of program.equations) {
    const e = e0.inputs.some((a) => !isLiteral(a) && replaced.has(a.id)) ? { ...e0, inputs: e0.inputs.map(renamed) } : e0;
    const key = equationKey(e, rename);
    const earlier = key === undefined ? undefined : seen.get(key);
    if (earlier !== undefined && !e.outputs.some((v) => returned.has(v.id))) {
      e.outputs.forEach((v, k) => replaced.set(v.id, earlier.outputs[k]!));
      continue;
    }
    if (key !== undefined && earlier === undefined) seen.set(key, e);
    kept.push(e);
  }
  if (replaced.size === 0) return program;
  return { ...program, equations: kept, outputs: program.outputs.map(renamed) };
}
