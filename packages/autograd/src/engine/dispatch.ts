/**
 * Primitive dispatch: every public op enters through the function `primitive` builds, so that a
 * transform (vmap, a tracer for jit) can see each op call with its name, implementation, tensor
 * arguments and static parameters, as JAX's `bind` hands a primitive to its trace stack.
 *
 * - With no transform active (the usual eager case), the wrapper checks one module variable and
 *   calls the implementation: the per-op cost is one load and one compare.
 * - Transforms are interpreters on a stack, each with a level (1 for the outermost). An op call
 *   goes to the innermost active interpreter's `process(prim, args)`. While it runs, the current
 *   interpreter is the next one out, so any op it calls (the primitive itself on unwrapped
 *   tensors, or helpers such as a reshape) goes to the outer levels and finally to `prim.impl`.
 *   An interpreter that has nothing to do for a call (no argument of its own) passes it on with
 *   `prim.bind(...args)`.
 * - What a tracer needs: `prim.name`, `prim.kind` (elementwise 'unary' and 'binary' ops are told
 *   apart from the rest), `splitArguments(args)` (the Tensor arguments — at the top level of the
 *   argument list or inside an array there, as concat's list — and a function rebuilding the
 *   argument list around other tensors; everything else is a static parameter, kept as is), and
 *   `prim.impl` (or `prim.bind`) to replay the call with other tensors. Outputs are a Tensor or a
 *   structure of them (`{ values, indices }`, a list for split): flatten them with `treeFlatten`.
 * - What vmap needs: `prim.spec`, data saying which batching rule applies (see `PrimitiveSpec`).
 *
 * NOTE: ops call `primitive` at module load, inside the import cycle of tensor.ts and the ops (see
 * ops/README.md), so `primitive` must not read this module's variables at load time: it only
 * builds closures. The variables are read when an op runs.
 */
import { Tensor } from '../tensor.js';
import { DisposedError } from './disposed.js';

/**
 * What an op is, for transforms that treat families alike: elementwise 'unary' (one tensor
 * argument, the others static) and 'binary' (two broadcasting operands, numbers allowed), n-ary
 * 'elementwise' (where, lerp), 'reduction' and other ops along an 'axis', 'layout' (moves
 * elements only), 'contraction' (matmul, einsum, linear), 'random' draws, and 'other'.
 */
export type PrimitiveKind = 'unary' | 'binary' | 'elementwise' | 'reduction' | 'axis' | 'layout' | 'contraction' | 'random' | 'other';

/**
 * The batching rules vmap has beyond the families of `PrimitiveKind` (their rules are named after
 * the op or the group of ops sharing one); vmap/rules.ts implements each.
 */
export type BatchRuleName =
  | 'reshape' | 'expand' | 'permute' | 'transpose' | 'squeeze' | 'unsqueeze' | 'concat' | 'split'
  | 'movedim' | 'flip' | 'roll' | 'pad' | 'tile' | 'sumTo' | 'gather' | 'indexSelect' | 'take'
  | 'scatter' | 'indexAdd' | 'searchsorted' | 'index' | 'maskedFill' | 'bincount' | 'broadcast'
  | 'matmul' | 'matmulT' | 'bmm' | 'outer' | 'linear' | 'einsum' | 'tensordot' | 'addmm'
  | 'conv' | 'pool' | 'matrix' | 'diag' | 'crossEntropy' | 'oneHot' | 'embedding' | 'softmaxGrad' | 'rowwise' | 'layerNorm'
  | 'axisOption' | 'composite' | 'custom' | 'none';

/**
 * How vmap batches an op, as data (ops declare it; vmap/rules.ts reads it):
 * - kind 'unary', 'binary', 'elementwise': the elementwise rules, from the kind alone.
 * - an axis argument (`axisArg`: its position; a number, a list, or undefined): the axes move past
 *   the batch dimension. `absent` says what undefined means: every axis ('all'), the flattened
 *   tensor ('flatten'), or a default axis (a number, as softmax's -1).
 * - `rule`: a rule of its own (matmul, conv...); 'composite' for an op written only with other
 *   ops (vmap runs it on the batched tensors, each inner op batched by its own rule); 'custom'
 *   for a `customOp`, batched by the rule its definition gives (`customRule`); 'none' where no
 *   rule exists (vmap throws, naming the op, rather than loop over the batch).
 */
export interface PrimitiveSpec {
  readonly kind: PrimitiveKind;
  readonly axisArg?: number;
  readonly absent?: 'all' | 'flatten' | number;
  readonly rule?: BatchRuleName;
  /**
   * A customOp's batching rule: its inputs with the batch dimension first (`batched[i]` false for
   * an input without one), returning the output with the batch dimension first.
   */
  readonly customRule?: (inputs: Tensor[], batched: boolean[]) => Tensor;
}

/** A function taking and returning anything: what an op's implementation is, for dispatch. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/** A primitive op as transforms see it. */
export interface Primitive<F extends AnyFunction = AnyFunction> {
  /** The op's public name, as errors name it: 'add', 'sum', 'conv2d'. */
  readonly name: string;
  /** What the op is (see `PrimitiveKind`) and how vmap batches it. */
  readonly spec: PrimitiveSpec;
  /** Runs the op eagerly with no transform in between: the kernels and the graph recording. */
  readonly impl: F;
  /** Calls the op through the current interpreter: what an interpreter calls to pass it on. */
  readonly bind: F;
}

/**
 * A transform that sees op calls: vmap's batch interpreter, jit's tracer. `process` runs with
 * this interpreter taken off the current position (ops it calls go to outer levels).
 */
export interface Interpreter {
  /** 1 for the outermost transform, one more per nested one. */
  readonly level: number;
  /** Handles one op call: returns what the op returns, as the op would. */
  process(prim: Primitive, args: unknown[]): unknown;
  /**
   * True for an interpreter that runs every op eagerly as it records it (jit's trace): a VJP may
   * take its eager fused path, since the trace records a VJP that reads values outside ops as
   * the op's backward primitive and so replays that same path.
   */
  readonly runsEagerly?: boolean;
}

// The interpreter stack. `current` is the one the next op call goes to: the innermost while user
// code runs, the next one out while an interpreter processes a call. null: run the op directly.
let current: Interpreter | null = null;
const stack: Interpreter[] = [];

/**
 * Wraps an op's implementation as a primitive: the function returned is the op's public function,
 * of the same type, with its `Primitive` readable through `primitiveOf`.
 * @example export const exp = primitive('exp', { kind: 'unary' }, function exp(x: Tensor): Tensor { ... });
 */
export function primitive<F extends AnyFunction>(name: string, spec: PrimitiveSpec, impl: F): F {
  const prim: Primitive<F> = { name, spec, impl, bind: undefined as unknown as F };
  const bind = function (this: unknown, ...args: unknown[]): unknown {
    try {
      return current === null ? impl(...args) : process(prim, args);
    } catch (e) {
      // A disposed tensor read on the way: the error names the op it was given to (the outermost).
      if (e instanceof DisposedError) e.usedBy(name);
      throw e;
    }
  } as F;
  (prim as { bind: F }).bind = bind;
  // A property, not a module-level map: this runs at load time (see the note at the top).
  (bind as unknown as { primitive: Primitive }).primitive = prim as Primitive;
  return bind;
}

function process(prim: Primitive, args: unknown[]): unknown {
  const interpreter = current!;
  current = interpreter.level > 1 ? stack[interpreter.level - 2]! : null;
  try {
    return interpreter.process(prim, args);
  } finally {
    current = interpreter;
  }
}

/** The primitive behind a public op function (`primitiveOf(exp).name === 'exp'`), or undefined. */
export function primitiveOf(f: AnyFunction): Primitive | undefined {
  return (f as unknown as { primitive?: Primitive }).primitive;
}

/**
 * Runs `body` with a new innermost interpreter made by `make(level)`, then takes it off the stack
 * (also on error). Interpreters nest: `body` may push more.
 * @throws Error if called while an interpreter is processing a call (transforms start only from user code).
 */
export function withInterpreter<I extends Interpreter, R>(make: (level: number) => I, body: (interpreter: I) => R): R {
  if (current !== (stack.length === 0 ? null : stack[stack.length - 1])) {
    throw new Error('internal: a transform was started from inside an interpreter');
  }
  const interpreter = make(stack.length + 1);
  if (interpreter.level !== stack.length + 1) throw new Error('internal: interpreter level out of order');
  stack.push(interpreter);
  current = interpreter;
  try {
    return body(interpreter);
  } finally {
    stack.pop();
    current = stack.length === 0 ? null : stack[stack.length - 1]!;
  }
}

/** The active interpreters, outermost first (empty when no transform runs). */
export function activeInterpreters(): readonly Interpreter[] {
  return stack;
}

/** The interpreter the next op call goes to, or null when ops run directly. */
export function currentInterpreter(): Interpreter | null {
  return current;
}

/** Whether ops run as they would with no transform: none is active, or only jit's recording. */
export function opsRunEagerly(): boolean {
  return current === null || current.runsEagerly === true;
}

/**
 * Runs `body` with op calls going straight to the levels below `level` (to the implementations
 * for level 1): how an interpreter works on the tensors it unwrapped outside `process`.
 */
export function belowLevel<R>(level: number, body: () => R): R {
  const saved = current;
  current = level > 1 ? stack[level - 2] ?? null : null;
  try {
    return body();
  } finally {
    current = saved;
  }
}

/** What `splitArguments` returns. */
export interface SplitArguments {
  /** The Tensor arguments in order: top-level ones, and the elements of top-level arrays. */
  readonly tensors: Tensor[];
  /** The argument list with these tensors (same count, same order) in place of the originals. */
  rebuild(tensors: readonly Tensor[]): unknown[];
}

/**
 * The tensor arguments of an op call and everything else (its static parameters): a tracer
 * records the tensors as the call's inputs and replays it with `rebuild(others)`.
 */
export function splitArguments(args: readonly unknown[]): SplitArguments {
  const tensors: Tensor[] = [];
  for (const a of args) {
    if (a instanceof Tensor) tensors.push(a);
    else if (Array.isArray(a)) for (const e of a) if (e instanceof Tensor) tensors.push(e);
  }
  return {
    tensors,
    rebuild(replacements) {
      let k = 0;
      return args.map((a) => {
        if (a instanceof Tensor) return replacements[k++]!;
        if (Array.isArray(a)) return a.map((e: unknown) => (e instanceof Tensor ? replacements[k++]! : e));
        return a;
      });
    },
  };
}

/**
 * Marks a tensor that stands for a batch inside a transform (vmap's BatchedTensor): the engine
 * refuses it as a graph vertex. A property, so the engine needs no import of vmap.
 */
export function markBatched(t: Tensor): void {
  (t as unknown as { batchedByVmap: true }).batchedByVmap = true;
}

/** Whether `t` was marked by `markBatched`. */
export function isBatched(t: Tensor): boolean {
  return (t as unknown as { batchedByVmap?: true }).batchedByVmap === true;
}
