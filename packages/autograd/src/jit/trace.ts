import type { Primitive, PrimitiveKind, Interpreter } from '../engine/dispatch.js';
import { belowLevel, splitArguments, withInterpreter } from '../engine/dispatch.js';
import { guardValues, isSeed, isTainted, isTraced, markTainted, setShareHook, setVjpHook, swapValueReads, untaint, whileTracing, withValueAccess } from '../engine/trace-access.js';
import { TraceError } from '../errors.js';
import type { BinaryKind } from '../kernels/binary.js';
import { BINARY_EXPRESSIONS, UNARY_EXPRESSIONS } from '../kernels/expressions.js';
import type { UnaryKind } from '../kernels/unary.js';
import { numberDType } from '../ops/operands.js';
import { defaultGenerator } from '../random.js';
import { formatShape } from '../shape.js';
import { lastSerial, Tensor } from '../tensor.js';
import { treeFlatten, type TreeDef } from '../tree.js';
import type { Atom, Elementwise, Equation, Program, Var } from './program.js';
import { opBackward } from './vjp.js';

/**
 * Primitives whose result's shape depends on the values of their inputs: a program cannot hold
 * them (its shapes are fixed when it is traced), so tracing one is an error, as in JAX.
 */
const DATA_DEPENDENT: ReadonlySet<string> = new Set(['nonzero', 'maskedSelect', 'unique', 'bincount']);

/** Whether a call's result has a shape set by values: the ops above, or indexing with a bool mask. */
function dataDependent(name: string, tensors: readonly Tensor[]): boolean {
  return DATA_DEPENDENT.has(name) || (name === 'index' && tensors.some((t) => t.dtype === 'bool'));
}

/**
 * The kinds of primitive whose outputs depend on their inputs and parameters alone: not 'random'
 * (a draw from the stream) nor 'other' (custom ops, which run user code).
 */
const DETERMINISTIC: ReadonlySet<PrimitiveKind> = new Set<PrimitiveKind>(['unary', 'binary', 'elementwise', 'reduction', 'axis', 'layout', 'contraction']);

/** One placeholder stands for every tensor argument in an equation's argument template. */
const PLACEHOLDER = new Tensor(new Float32Array(0), [0]);

function hasOwn<T extends object>(table: T, key: string): key is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(table, key);
}

/**
 * The formula of an elementwise call, when the fuser may take it: a unary primitive applied to a
 * tensor alone, or a binary one to two operands (tensors or numbers), whose name is a kernel kind
 * (the public elementwise ops run the kernel of their own name; 'identity' is clone's).
 */
function elementwiseOf(prim: Primitive, args: readonly unknown[]): Elementwise | undefined {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  if (prim.spec.kind === 'unary' && n === 1 && hasOwn(UNARY_EXPRESSIONS, prim.name)) {
    return { arity: 1, kind: prim.name as UnaryKind };
  }
  if (prim.spec.kind === 'binary' && n === 2 && hasOwn(BINARY_EXPRESSIONS, prim.name)) {
    const operand = (a: unknown): boolean => a instanceof Tensor || typeof a === 'number';
    if (operand(args[0]) && operand(args[1])) return { arity: 2, kind: prim.name as BinaryKind };
  }
  return undefined;
}

/** Throws if a traced tensor hides in a static argument (an options object), where no equation would see it. */
function checkStatic(name: string, value: unknown, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    if (isTraced(value)) {
      throw new TraceError(`jit: '${name}' was given a traced tensor (${value.dtype} ${formatShape(value.shape)}) inside an options argument, which jit cannot follow: close over that tensor instead (a constant of the program, read by reference at each call)`);
    }
    return;
  }
  for (const v of Object.values(value)) checkStatic(name, v, depth + 1);
}

/** The jit interpreter: records each op call on traced tensors as an equation, running it as it goes. */
class Trace implements Interpreter {
  private next = 0;
  private readonly varOf = new WeakMap<Tensor, Var>();
  private readonly constOf = new Map<Tensor, Var>();
  /** The constant each backward seed of a dtype and shape stands as (see `isSeed`): all the same ones. */
  private readonly seedOf = new Map<string, Var>();
  /** The tensors given variables by recorded equations, in order (so a frame's can be taken back). */
  private readonly registered: Tensor[] = [];
  /** The tensors made from a registered one's storage (see `share`): they lose its variable with it. */
  private readonly sharing = new WeakMap<Tensor, Tensor[]>();
  private readonly ownerOf = new WeakMap<Tensor, Tensor>();
  readonly equations: Equation[] = [];
  readonly constants: { v: Var; value: Tensor; stale?: string }[] = [];
  /** The stale constants (see `atom`), and how many times an equation has read one. */
  private readonly stale = new Set<Var>();
  private staleUses = 0;
  /**
   * The recorded calls, in equation order, with the graph nodes each made (serials after `first`,
   * up to `last`) and which tensor arguments required grad: where a VJP is run again from.
   */
  private readonly calls: { equation: number; prim: Primitive; args: unknown[]; needs: boolean[]; first: number; last: number }[] = [];

  readonly runsEagerly = true;

  constructor(readonly level: number) {}

  private fresh(t: Tensor): Var {
    return { id: this.next++, shape: t.shape.slice(), dtype: t.dtype };
  }

  /** A traced stand-in for an argument: its own copy of the values, unreadable to f. */
  input(arg: Tensor): { tracer: Tensor; v: Var } {
    const tracer = new Tensor(arg.data.slice(), arg.shape.slice());
    const v = this.fresh(tracer);
    guardValues(tracer);
    this.varOf.set(tracer, v);
    return { tracer, v };
  }

  /** The variable a tensor argument stands for: traced, or a constant f closed over. */
  atom(t: Tensor, name: string): Var {
    const v = this.varOf.get(t) ?? this.constOf.get(t);
    if (v !== undefined) {
      if (this.stale.has(v)) this.staleUses++;
      return v;
    }
    if (!isTainted(t) && isTraced(t)) {
      throw new TraceError(
        `jit: a traced tensor (${t.dtype} ${formatShape(t.shape)}) from another trace was used; a jitted function must not keep its tensors (in a closure or an outer variable) for later calls`,
      );
    }
    const seedKey = isSeed(t) && !isTainted(t) ? `${t.dtype}[${t.shape.join(',')}]` : undefined;
    const same = seedKey === undefined ? undefined : this.seedOf.get(seedKey);
    if (same !== undefined) {
      this.constOf.set(t, same);
      return same;
    }
    const c = this.fresh(t);
    this.constOf.set(t, c);
    if (seedKey !== undefined) this.seedOf.set(seedKey, c);
    // A tensor an op made from traced values outside any op (see isTainted) holds the traced
    // call's values: allowed only if nothing the program returns depends on it (checked after
    // dead-code elimination, where a VJP that passes it along unread has dropped it).
    if (isTainted(t)) {
      this.stale.add(c);
      this.staleUses++;
    }
    this.constants.push(isTainted(t) ? { v: c, value: t, stale: name } : { v: c, value: t });
    return c;
  }

  /** A tensor made from a traced one's storage outside an op (a fresh leaf, a view) is the same value. */
  share(from: Tensor, to: Tensor): void {
    const v = this.varOf.get(from);
    if (v === undefined) return;
    this.varOf.set(to, v);
    // The tensor whose equation defines v: if that equation is taken back, `to` has no value either.
    const owner = this.ownerOf.get(from) ?? from;
    this.ownerOf.set(to, owner);
    const list = this.sharing.get(owner);
    if (list === undefined) this.sharing.set(owner, [to]);
    else list.push(to);
  }

  process(prim: Primitive, args: unknown[]): unknown {
    const { tensors, rebuild } = splitArguments(args);
    if (dataDependent(prim.name, tensors)) {
      throw new TraceError(
        `jit: '${prim.name}' gives a result whose shape depends on the values of its input, which a traced program cannot have; compute it outside the jitted function, or use a fixed-shape form (where with a mask)`,
      );
    }
    const tensorAtoms = tensors.map((t) => this.atom(t, prim.name));
    for (const a of args) if (!(a instanceof Tensor) && !Array.isArray(a)) checkStatic(prim.name, a);
    // The implementation runs with this trace still current, so the ops it is made of come back
    // here: a composite (softmax, gelu, mean) is recorded as its parts, which fuse, and whose
    // gradients then read only recorded values. An implementation that reads values itself
    // (kernels) may have derived numbers from them for the ops it called: it is recorded whole
    // instead, its parts dropped, and replayed by running it again.
    const mark = this.equations.length;
    const marked = this.registered.length;
    const constMark = this.constants.length;
    const outerReads = swapValueReads(0);
    const first = lastSerial();
    let result: unknown;
    let ownReads: number;
    try {
      result = withValueAccess(() => belowLevel(this.level + 1, () => prim.impl(...args) as unknown));
    } finally {
      ownReads = swapValueReads(outerReads);
    }
    const outputs = outputLeaves(prim.name, result).leaves;
    if (this.equations.length > mark) {
      // Parts that read a tensor the implementation made outside any op (dropout's random
      // mask) would replay it as a constant: recorded whole too.
      const madeHere = this.constants.slice(constMark).some((c) => c.stale !== undefined);
      if (ownReads === 0 && !madeHere && outputs.every((t) => this.varOf.has(t))) return result;
      this.equations.length = mark;
      this.dropSince(mark, marked);
    }
    if (outputs.every((t) => tensors.includes(t))) {
      // The op gave back an argument as it is: nothing to record.
      return result;
    }
    const vars = outputs.map((t) => {
      const v = this.fresh(t);
      if (!tensors.includes(t)) {
        guardValues(t);
        // An op's output is a value of the program, not a stray tensor (see isTainted).
        untaint(t);
        this.varOf.set(t, v);
        this.registered.push(t);
      }
      return v;
    });
    this.calls.push({ equation: this.equations.length, prim, args, needs: tensors.map((t) => t.requiresGrad), first, last: lastSerial() });
    const elementwise = elementwiseOf(prim, args);
    let inputs: Atom[] = tensorAtoms;
    const params: Record<string, unknown> = {};
    if (elementwise !== undefined) {
      let k = 0;
      // A number takes the dtype it is computed in: the result's, except beside a comparison's
      // tensor operand (`ge a 0.5:f32[]`, not the bool the comparison gives).
      const out = vars[0]!.dtype;
      const literalDType = (n: number) => (out === 'bool' && tensorAtoms[0] !== undefined ? numberDType(n, tensorAtoms[0].dtype) : out);
      inputs = args.slice(0, elementwise.arity).map((a) => (a instanceof Tensor ? tensorAtoms[k++]! : { literal: a as number, dtype: literalDType(a as number) }));
    } else {
      args.forEach((a, i) => {
        if (!(a instanceof Tensor) && !Array.isArray(a) && a !== undefined) params[String(i)] = a;
        else if (Array.isArray(a) && !a.some((e) => e instanceof Tensor)) params[String(i)] = a;
      });
    }
    const template = rebuild(tensors.map(() => PLACEHOLDER));
    const rebuildArgs = splitArguments(template).rebuild;
    const literalAt = inputs.map((a) => 'literal' in a);
    this.equations.push({
      primitive: prim.name,
      inputs,
      params,
      outputs: vars,
      elementwise,
      deterministic: DETERMINISTIC.has(prim.spec.kind),
      apply: (ts) => {
        const given = ts.filter((_, i) => !literalAt[i]);
        return outputLeaves(prim.name, prim.bind(...rebuildArgs(given))).leaves;
      },
    });
    return result;
  }

  /** Takes back the equations recorded since `mark` and the variables of tensors registered since `marked`. */
  private dropSince(mark: number, marked: number): void {
    this.equations.length = mark;
    for (const t of this.registered.splice(marked)) {
      // NOTE: with the tensors sharing its storage (a `detach()` where's VJP keeps): left behind,
      // they would name a variable no equation defines any more.
      for (const s of [t, ...(this.sharing.get(t) ?? [])]) {
        this.varOf.delete(s);
        markTainted(s);
      }
    }
    while (this.calls.length > 0 && this.calls[this.calls.length - 1]!.equation >= mark) this.calls.pop();
  }

  /**
   * Runs the VJP of the op that made `out` (see setVjpHook). A VJP written in ops on recorded
   * values is recorded as its ops. One that reads values itself, or reads a tensor its forward
   * made outside any op, is taken back and recorded as the op's backward primitive instead
   * (jit/vjp.ts), which recomputes what it needs from the forward's recorded arguments.
   */
  vjp(out: Tensor, g: Tensor, run: () => readonly (Tensor | null)[]): readonly (Tensor | null)[] {
    const mark = this.equations.length;
    const marked = this.registered.length;
    const staleMark = this.staleUses;
    const outerReads = swapValueReads(0);
    let grads: readonly (Tensor | null)[];
    let ownReads: number;
    try {
      grads = withValueAccess(run);
    } finally {
      ownReads = swapValueReads(outerReads);
    }
    if (ownReads === 0 && this.staleUses === staleMark && grads.every((t) => t === null || this.varOf.has(t) || this.constOf.has(t))) return grads;
    this.dropSince(mark, marked);
    const serial = out.gradFn?.serial ?? 0;
    const op = out.gradFn?.op ?? 'an op';
    let made: (typeof this.calls)[number] | undefined;
    for (let i = this.calls.length - 1; i >= 0 && made === undefined; i--) {
      const c = this.calls[i]!;
      if (c.first < serial && serial <= c.last) made = c;
    }
    if (made === undefined) {
      throw new TraceError(
        `jit: the gradient of '${op}' cannot be traced: its VJP reads values outside ops, and no recorded call made its output (${out.dtype} ${formatShape(out.shape)}) to run again; take the gradient outside (grad(jit(f)))`,
      );
    }
    if (made.prim.spec.kind === 'random') {
      throw new TraceError(
        `jit: the gradient of '${made.prim.name}' cannot be traced: its VJP reads the draws its forward made outside ops, and running it again would draw again; take the gradient outside (grad(jit(f)))`,
      );
    }
    return opBackward(made.prim)(...made.args, g, serial - made.first, made.needs, made.args.length);
  }
}

/** The tensors an op returned (a Tensor, or a structure of them). */
function outputLeaves(name: string, result: unknown): { leaves: Tensor[]; def: TreeDef } {
  try {
    return treeFlatten<Tensor>(result);
  } catch {
    throw new TraceError(`jit: '${name}' returned something other than tensors, which would be computed once from the traced values; keep it outside the jitted function`);
  }
}

/** What tracing a function gives: the program and how to rebuild its result. */
export interface Traced {
  readonly program: Program;
  /** Rebuilds f's result from one tensor per program output. */
  readonly rebuild: (outputs: readonly Tensor[]) => unknown;
}

/**
 * Traces `f` on `args`, whose tensors (`tensors`, in flatten order, replaced by tracers through
 * `withTracers`) become the program's inputs.
 */
export function trace(
  f: (...args: unknown[]) => unknown,
  tensors: readonly Tensor[],
  withTracers: (tracers: readonly Tensor[]) => unknown[],
): Traced {
  return withInterpreter(
    (level) => new Trace(level),
    (t) => {
      const ins = tensors.map((x) => t.input(x));
      const previous = setShareHook((from, to) => t.share(from, to));
      const previousVjp = setVjpHook((out, g, run) => t.vjp(out, g, run));
      // The trace's random draws are not the call's: the program draws again when it runs, from
      // where the stream was, so a jitted call consumes the global stream as an eager one does.
      const rng = defaultGenerator();
      const state = rng.getState();
      let result: unknown;
      try {
        result = whileTracing(() => f(...withTracers(ins.map((i) => i.tracer))));
      } finally {
        setShareHook(previous);
        setVjpHook(previousVjp);
        rng.setState(state);
      }
      // Tensors and other leaves (numbers, strings, booleans) of the result, in flatten order.
      const { leaves, def } = treeFlatten<unknown>(result, { isLeaf: (v) => v instanceof Tensor || isStatic(v) });
      const outputs: Atom[] = [];
      const slots: (number | { value: unknown })[] = leaves.map((leaf) => {
        if (!(leaf instanceof Tensor)) return { value: leaf };
        outputs.push(t.atom(leaf, 'the result'));
        return outputs.length - 1;
      });
      return {
        program: { inputs: ins.map((i) => i.v), constants: t.constants, equations: t.equations, outputs },
        rebuild: builder(def, slots),
      };
    },
  );
}

/**
 * `def.unflatten` of the result's leaves (`slots`: an output's index, or a static leaf's value),
 * resolved once into nested closures: each call then builds the arrays and objects directly,
 * objects' keys in the same (sorted) order.
 */
function builder(def: TreeDef, slots: readonly (number | { value: unknown })[]): (outputs: readonly Tensor[]) => unknown {
  let at = 0;
  const make = (d: TreeDef): ((outputs: readonly Tensor[]) => unknown) => {
    switch (d.kind) {
      case 'leaf': {
        const slot = slots[at++]!;
        if (typeof slot === 'number') return (outputs) => outputs[slot];
        const { value } = slot;
        return () => value;
      }
      case 'null':
        return () => null;
      case 'undefined':
        return () => undefined;
      case 'array': {
        const parts = d.children.map(make);
        return (outputs) => parts.map((part) => part(outputs));
      }
      case 'object': {
        const parts = d.children.map(make);
        const { keys } = d;
        return (outputs) => {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < keys.length; i++) {
            // NOTE: defined, not assigned, as fromEntries does, so that a key '__proto__' stays a key.
            if (keys[i] === '__proto__') Object.defineProperty(o, '__proto__', { value: parts[i]!(outputs), enumerable: true, writable: true, configurable: true });
            else o[keys[i]!] = parts[i]!(outputs);
          }
          return o;
        };
      }
    }
  };
  return make(def);
}

/** A value that is part of a call's signature as it is: a number, string, boolean or bigint. */
export function isStatic(v: unknown): boolean {
  const type = typeof v;
  return type === 'number' || type === 'string' || type === 'boolean' || type === 'bigint';
}
