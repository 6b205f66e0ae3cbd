import { currentInterpreter } from '../engine/dispatch.js';
import { carriesTangents } from '../engine/forward.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { ArgumentError, TraceError } from '../errors.js';
import { formatShape } from '../shape.js';
import { describe, Tensor } from '../tensor.js';
import { flattenTree, type TreeDef } from '../tree.js';
import { compileProgram, type CompiledProgram } from './compile.js';
import { printProgram } from './program.js';
import { isStatic, trace } from './trace.js';

/** A traced and compiled program, as `jit(f).lower(...args)` gives it. */
export interface JitProgram {
  /** The traced program after dead-code and repeated-computation elimination, printed as a jaxpr (see `printProgram`). */
  readonly text: string;
  /** The same with its fused groups marked: what runs. */
  readonly compiledText: string;
  /** How many elementwise groups run as one generated loop each. */
  readonly fusedGroups: number;
  /** Byte sizes of the storage slots for the values the program writes itself (fused loops, products): kept between calls for intermediates, fresh at each call for results. */
  readonly buffers: readonly number[];
  /** `text`. */
  toString(): string;
}

/** What `jit` returns: f, compiled per signature of its arguments. */
export interface Jitted<A extends unknown[], R> {
  (...args: A): R;
  /** The program for these arguments (traced and cached now if it was not). */
  lower(...args: A): JitProgram;
  /** How many signatures have been traced. */
  readonly cacheSize: number;
  /** Forgets every traced program (the next call traces again). */
  clearCache(): void;
}

interface Entry {
  readonly compiled: CompiledProgram;
  readonly rebuild: (outputs: readonly Tensor[]) => unknown;
}

/** A signature seen before: its structure and, per leaf, a tensor's dtype and shape or a static leaf's key. */
interface Seen {
  readonly def: TreeDef;
  readonly leaves: readonly ({ readonly dtype: string; readonly shape: readonly number[] } | string)[];
  readonly entry: Entry;
}

const isPlainObject = (value: object): boolean => {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * Whether `value` has the structure `def` (the nodes flattenTree would find: arrays, plain
 * objects with the same own enumerable keys, null, undefined, leaves where its leaves are),
 * pushing its leaves in flatten order onto `out`; false at the first difference. A structure
 * that contains itself never matches: `def` is finite.
 */
function matches(def: TreeDef, value: unknown, out: unknown[]): boolean {
  switch (def.kind) {
    case 'leaf':
      if (!(value instanceof Tensor) && !isStatic(value)) return false;
      out.push(value);
      return true;
    case 'null':
      return value === null;
    case 'undefined':
      return value === undefined;
    case 'array': {
      if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype || value.length !== def.children.length) return false;
      for (let i = 0; i < value.length; i++) if (!matches(def.children[i]!, (value as unknown[])[i], out)) return false;
      return true;
    }
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !isPlainObject(value)) return false;
      const { keys } = def;
      if (Object.keys(value).length !== keys.length) return false;
      for (let i = 0; i < keys.length; i++) {
        if (!Object.prototype.propertyIsEnumerable.call(value, keys[i]!)) return false;
        if (!matches(def.children[i]!, (value as Record<string, unknown>)[keys[i]!], out)) return false;
      }
      return true;
    }
  }
}

/** The entry of the last signature `args` have, with their leaves, or null. */
function matchSeen(seen: Seen | null, args: readonly unknown[]): { entry: Entry; leaves: unknown[] } | null {
  if (seen === null) return null;
  const leaves: unknown[] = [];
  if (!matches(seen.def, args, leaves) || leaves.length !== seen.leaves.length) return null;
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i], want = seen.leaves[i]!;
    if (typeof want === 'string') {
      if (leaf instanceof Tensor || leafKey(leaf) !== want) return null;
    } else {
      if (!(leaf instanceof Tensor) || leaf.dtype !== want.dtype || leaf.shape.length !== want.shape.length) return null;
      for (let d = 0; d < want.shape.length; d++) if (leaf.shape[d] !== want.shape[d]) return null;
    }
  }
  return { entry: seen.entry, leaves };
}

function fail(path: string): string {
  return `jit: argument${path === '' ? 's' : ` at ${path}`}`;
}

/** One cache key part per leaf: a tensor's dtype and shape, a static value itself. */
function leafKey(leaf: unknown): string {
  if (leaf instanceof Tensor) return `${leaf.dtype}[${leaf.shape.join(',')}]`;
  if (typeof leaf === 'number') return `n${Object.is(leaf, -0) ? '-0' : String(leaf)}`;
  if (typeof leaf === 'string') return `s${JSON.stringify(leaf)}`;
  return `${typeof leaf}:${String(leaf)}`;
}

/**
 * Compiles `f` (JAX's `jax.jit`). The first call with a new signature — the structure of the
 * arguments (nested arrays and plain objects), each tensor's shape and dtype, and the value of
 * every non-tensor leaf (numbers, strings, booleans: static arguments) — traces f once into a
 * program of primitive ops and caches it; every call runs the cached program for its signature.
 * The program is printable (`lower(...args).text`, a jaxpr), dead code is removed, an op that
 * repeats an earlier deterministic one on the same inputs (a gradient's recomputed forward) runs
 * once, chains and DAGs of elementwise ops of one shape and float dtype run as one generated loop
 * each, and the buffers of dead intermediates are reused for new values of the same byte size,
 * and kept from one call to the next (results always get storage of their own).
 *
 * Results: the same bits as calling f, also where ops are fused (the fused loop rounds to the
 * dtype after every op exactly where the eager op stores; see jit/fusion.ts). Tensors f closes
 * over are constants of the program, read by reference at each call, so in-place updates to
 * them (an optimiser step) are seen; other values f closes over are fixed at tracing.
 *
 * Composition: transforms inside f are traced with it, so `jit(valueAndGrad(loss))` compiles the
 * forward and the backward sweep as one program, and `jit(vmap(f))` the batched computation.
 * Called where a graph must be recorded (an argument requires grad, as under `grad(jit(f))`), the
 * program runs op by op through the primitives, recording the graph as eager code does: the
 * gradients are exact, and only the fused forward is given up. Called inside another transform
 * (`vmap(jit(f))`, a jit inside a jitted function), f runs as is, so that transform sees its ops.
 *
 * @throws TraceError (during the call that traces) when f reads a traced tensor's values
 * (`.data`, `item()`, `toArray()`, printing, so also when it branches on them), calls an op
 * whose result's shape depends on values (nonzero, maskedSelect, unique...), stores gradients
 * into `.grad` (`backward()`: use `grad`/`valueAndGrad` inside f), writes into a traced tensor in
 * place, or keeps a traced tensor for a later call; a cached program that no longer matches its
 * trace on replay also throws a TraceError instead of returning a stale result.
 * @throws ArgumentError if f is not a function, if anything is passed after f (jit has no
 * options), or an argument holds something other than tensors, numbers, strings, booleans,
 * arrays and plain objects.
 * @example
 * const f = jit((x: Tensor, y: Tensor) => x.exp().mul(y).add(1).tanh());
 * f(x, y);               // traces, compiles, runs
 * f(x2, y2);             // same shapes: runs the cached program
 * f.lower(x, y).text     // '{ lambda ; a:f32[3] b:f32[3]. let c:f32[3] = exp a ...'
 */
export function jit<A extends unknown[], R>(f: (...args: A) => R, ...rest: never[]): Jitted<A, R> {
  if (typeof f !== 'function') throw new ArgumentError(`jit: the function to compile must be a function, got ${describe(f)}`);
  // jit takes no options: numbers, strings and booleans are already static (part of the
  // signature), so code ported with JAX's static_argnums or donate_argnums must hear that.
  if (rest.length > 0) {
    const extra: unknown = rest[0];
    const keys = typeof extra === 'object' && extra !== null ? Object.keys(extra) : [];
    if (keys.length > 0) {
      throw new ArgumentError(`jit: unknown option '${keys[0]}' (jit takes f alone: its number, string and boolean arguments are static already)`);
    }
    throw new ArgumentError(`jit: takes the function alone, got a second argument ${describe(extra)}`);
  }
  const cache = new Map<string, Entry>();
  // The last signature called: a call with the same one finds its program by walking its
  // arguments against it, without building a structure and a key.
  let last: Seen | null = null;

  const prepare = (args: readonly unknown[]): { entry: Entry; tensors: Tensor[] } => {
    const again = matchSeen(last, args);
    if (again !== null) return { entry: again.entry, tensors: again.leaves.filter((l): l is Tensor => l instanceof Tensor) };
    const { leaves, def } = flattenTree<unknown>(args, (v) => v instanceof Tensor || isStatic(v), fail);
    const key = `${String(def)}|${leaves.map(leafKey).join(';')}`;
    const tensors = leaves.filter((l): l is Tensor => l instanceof Tensor);
    let entry = cache.get(key);
    if (entry === undefined) {
      const traced = trace(
        f as (...args: unknown[]) => unknown,
        tensors,
        (tracers) => {
          let k = 0;
          return def.unflatten(leaves.map((l) => (l instanceof Tensor ? tracers[k++]! : l))) as unknown[];
        },
      );
      const compiled = compileProgram(traced.program);
      const stale = compiled.program.constants.find((c) => c.stale !== undefined);
      if (stale !== undefined) {
        throw new TraceError(
          `jit: '${stale.stale!}' reads a tensor (${stale.v.dtype} ${formatShape(stale.v.shape)}) that an op computed from traced values outside any op, ` +
            "most likely a mask or intermediate an op's forward keeps for its gradient; the program could only hold the traced call's values. " +
            'Differentiating that op inside jit is not supported: take the gradient outside (grad(jit(f))) or leave the op out of the jitted function',
        );
      }
      entry = { compiled, rebuild: traced.rebuild };
      cache.set(key, entry);
    }
    last = { def, leaves: leaves.map((l) => (l instanceof Tensor ? { dtype: l.dtype, shape: l.shape.slice() } : leafKey(l))), entry };
    return { entry, tensors };
  };

  const jitted = (...args: A): R => {
    if (currentInterpreter() !== null) return f(...args);
    const { entry, tensors } = prepare(args);
    // A graph is wanted when an argument, or a tensor f closes over (a module's parameter),
    // requires grad; tangents are carried when one of them has a tangent (jit(f) called inside
    // jvp). Either way the ops must run one by one, each recording its graph or carrying its
    // tangents: the fused program computes neither.
    const constants = entry.compiled.program.constants;
    const recording =
      (isGradEnabled() && (tensors.some((t) => t.requiresGrad) || constants.some((c) => c.value.requiresGrad))) ||
      tensors.some(carriesTangents) ||
      constants.some((c) => carriesTangents(c.value));
    const outputs = recording ? entry.compiled.replay(tensors) : entry.compiled.run(tensors);
    return entry.rebuild(outputs) as R;
  };
  const lower = (...args: A): JitProgram => {
    const { compiled } = prepare(args).entry;
    const text = printProgram(compiled.program);
    return {
      text,
      compiledText: compiled.toString(),
      fusedGroups: compiled.steps.filter((s) => s.kind === 'fused').length,
      buffers: compiled.plan.slots,
      toString: () => text,
    };
  };
  // NOTE: defineProperties, not Object.assign, which would copy cacheSize's value once.
  return Object.defineProperties(jitted, {
    lower: { value: lower },
    cacheSize: { get: () => cache.size },
    clearCache: {
      value: () => {
        cache.clear();
        last = null;
      },
    },
  }) as Jitted<A, R>;
}
