import { ArgumentError, DTypeError, ShapeError } from './errors.js';
import { checkOptions } from './options.js';
import { formatShape, shapesEqual } from './shape.js';
import { Tensor, describe, isFloat, lastSerial, makeOutput } from './tensor.js';
import { enableGrad, isGradEnabled } from './engine/grad-mode.js';
import { gradients } from './engine/gradients.js';
import { isTraced, isTracing, sharedTensor } from './engine/trace-access.js';
import { isBatched, opsRunEagerly } from './engine/dispatch.js';
import { isFresh, withFreshGradients } from './engine/fresh-grads.js';
import { recycleStorage } from './storage-pool.js';
import { eye, ones, zeros } from './creation.js';
import { concat, expand, narrow, permute, reshape, stack, unsqueeze } from './ops/shape.js';
import { flattenTree, isTensor, TreeDef, type Tree, type WithLeaves } from './tree.js';
import { batchLevels, rebatchAll, unbatchAll, vmap } from './vmap/vmap.js';
import { BatchedTensor } from './vmap/batched.js';
import { BroadcastLeaf } from './vmap/per-example.js';
import { carriesTangents, carryTangents, setTangent, tangentAt, withLevel, type Level } from './engine/forward.js';

/**
 * An argument a transform differentiates: a Tensor or a structure of them (arrays and plain
 * objects nested to any depth, `null`/`undefined` for nothing; see `treeFlatten`).
 */
export type Arg = Tree<Tensor>;

/** Argument positions: one, or a list. */
export type Argnums = number | readonly number[];

/** Which arguments to differentiate with respect to. */
export interface ArgnumsOption<N extends Argnums = Argnums> {
  /** An argument position, or a list of them (default 0). A list gives a tuple of results, one per position. */
  argnums?: N;
}

/** Options without `argnums`: the transform addresses argument 0. */
export interface NoArgnums {
  /** Left out (or undefined): argument 0. */
  argnums?: undefined;
}

/**
 * What a transform returns for `argnums` N of arguments A: the structure of argument N with a
 * Tensor at each leaf, or for a list, a tuple of those.
 */
export type GradsAt<A extends readonly unknown[], N> = N extends number
  ? WithLeaves<A[N], Tensor>
  : { -readonly [K in keyof N]: N[K] extends number ? WithLeaves<A[N[K]], Tensor> : never };

/** One structure of tensors per argument of P: tangents for `jvp`, vectors for `hvp`, cotangents out of a pullback. */
export type PerArgument<P extends readonly unknown[]> = { -readonly [K in keyof P]: WithLeaves<P[K], Tensor> };

/**
 * NOTE: transforms run f with recording on even inside `noGrad`, as torch.func does: a function
 * transform's result must not depend on a context outside f. The outer mode only decides
 * whether the results themselves stay on a graph (`nested`).
 */

/** @internal */
export function checkFunction(op: string, f: unknown): void {
  if (typeof f !== 'function') throw new ArgumentError(`${op}: the function to transform must be a function, got ${describe(f)}`);
}

/** The argument positions `argnums` names, checked. @internal */
export function positions(op: string, argnums: unknown, count: number): number[] {
  const list = typeof argnums === 'number' ? [argnums] : Array.isArray(argnums) ? (argnums as unknown[]) : null;
  if (list === null) throw new ArgumentError(`${op}: argnums must be a number or an array of numbers, got ${describe(argnums)}`);
  for (const i of list) {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= count) {
      throw new ArgumentError(`${op}: argnums ${JSON.stringify(argnums)} is out of range for ${count} argument(s)`);
    }
  }
  if (new Set(list).size !== list.length) throw new ArgumentError(`${op}: argnums ${JSON.stringify(argnums)} repeats a position`);
  return list as number[];
}

/** The tensors of one structure, checked: `label` names it in errors ("argument 1", "the cotangent"). @internal */
export function flatten(op: string, label: string, tree: unknown, floatOnly = false): { leaves: Tensor[]; def: TreeDef } {
  // A lone tensor, the usual argument, is its own structure: no walk (which costs a transform
  // call more than some of the ops it runs). The same leaf and check as the walk's.
  if (tree instanceof Tensor) {
    if (floatOnly && !isFloat(tree)) checkFloat(tree, `${op}: ${label}`);
    return { leaves: [tree], def: LEAF };
  }
  return flattenTree<Tensor>(tree, isTensor, (path) => `${op}: ${label}${path === '' ? '' : ` at ${path}`}`, floatOnly ? checkFloat : undefined);
}

/** The structure of a lone leaf. */
const LEAF = TreeDef.make('leaf');

function checkFloat(t: Tensor, where: string): void {
  if (!isFloat(t)) {
    // The transforms without argnums differentiate every primal: the way out is a closure.
    const primal = / primal \d+/.test(where);
    throw new DTypeError(
      `${where} is a tensor of dtype ${t.dtype} and shape ${formatShape(t.shape)}; only float32 and float64 tensors are differentiated (${primal ? 'close over it in f instead of passing it as a primal' : 'pass it as an argument outside argnums'}, or convert it with toDtype)`,
    );
  }
}

/** The differentiated arguments as f will see them, and their leaves. */
interface Tracked {
  /** f's arguments, the differentiated ones replaced by tracked copies. */
  callArgs: unknown[];
  /** The tracked leaves, in order: argument by argument, each in flatten order. */
  xs: Tensor[];
  /** The structure of each differentiated argument. */
  defs: TreeDef[];
  /** Whether the results must stay on the caller's graph (an input already requires grad). */
  nested: boolean;
}

/**
 * Each leaf to differentiate becomes its own graph vertex: a fresh leaf sharing the input's
 * storage or, when the input is on a graph being recorded, an identity view of it, so the
 * results stay connected to that graph (transforms nest). Never the input itself: a tensor
 * passed twice, or also closed over by f, must give per-position gradients, as JAX's do.
 */
function track(op: string, args: readonly unknown[], which: readonly number[], label: (i: number) => string): Tracked {
  const flat = which.map((i) => flatten(op, label(i), args[i], true));
  const nested = isGradEnabled() && flat.some((a) => a.leaves.some((t) => t.requiresGrad));
  const callArgs = [...args];
  const xs: Tensor[] = [];
  const levels = batchLevels();
  flat.forEach(({ leaves, def }, k) => {
    const tracked = leaves.map((t) => (levels.length > 0 ? trackBatched(op, t, nested, levels) : nested && t.requiresGrad ? view(t) : freshLeaf(t)));
    xs.push(...tracked);
    callArgs[which[k]!] = def.unflatten(tracked);
  });
  return { callArgs, xs, defs: flat.map((a) => a.def), nested };
}

/**
 * Inside vmap, the tensors a transform differentiates are plain tensors holding every example
 * (`unbatchAll`), each example's slice its own leaf, so that the gradients that come back are
 * per example, never summed over the batch; f sees them batched again. `pull` maps between the two.
 */
const unbatched = new WeakMap<Tensor, { raw: Tensor; levels: readonly { level: number; size: number }[] }>();

function trackBatched(op: string, t: Tensor, nested: boolean, levels: readonly { level: number; size: number }[]): Tensor {
  // An argument shared by the whole batch (a model's weights) becomes a lazy copy per example.
  // Not while jit traces (the lazy copy's values would be read outside any op), nor for a tensor
  // carrying a jvp's tangent (the other path's ops carry it).
  const shared = levels.length === 1 && !(t instanceof BatchedTensor) && !(nested && t.requiresGrad) && !isTracing() && !carriesTangents(t);
  const all = shared ? null : unbatchAll(op, t, levels);
  const raw = all === null ? new BroadcastLeaf(t, levels[0]!.size) : nested && all.requiresGrad ? view(all) : freshLeaf(all);
  const x = rebatchAll(raw, levels);
  unbatched.set(x, { raw, levels });
  return x;
}

/**
 * Whether results computed from `roots` must stay on a graph: when an argument already required
 * grad (`nested`), or when f closed over a tensor an enclosing grad tracks (a leaf requiring grad
 * other than the tracked `xs`): `grad(w => grad(x => x.mul(w).sum())(x0).sum())(w)` needs the
 * inner gradient as a function of w, as torch.func and JAX give it. Walks f's graph once, as the
 * backward sweep will, and stops at the first such leaf.
 */
function keepsGraph(nested: boolean, roots: readonly Tensor[], xs: readonly Tensor[]): boolean {
  if (nested) return true;
  if (!isGradEnabled()) return false;
  // Inside vmap the graph is on each tracked tensor's unbatched leaf.
  const own = new Set<Tensor>(xs);
  for (const x of xs) {
    const raw = unbatched.get(x)?.raw;
    if (raw !== undefined) own.add(raw);
  }
  const seen = new Set<Tensor>();
  // A batched root is no graph vertex: its graph is on the batch it holds.
  const stack = roots.map(unwrapBatches).filter((t) => t.requiresGrad);
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t) || own.has(t)) continue;
    seen.add(t);
    const node = t.gradFn;
    if (node === null) {
      if (t.requiresGrad) return true;
      continue;
    }
    for (const input of node.inputs) if (input.requiresGrad) stack.push(input);
  }
  return false;
}

/** The plain tensor under any vmap batching of t. */
function unwrapBatches(t: Tensor): Tensor {
  let v = t;
  while (v instanceof BatchedTensor) v = v.value;
  return v;
}

/**
 * A leaf that requires grad, sharing t's storage (traced as t's value inside jit) and carrying
 * its tangents (so a reverse pass inside `jvp` carries them).
 */
function freshLeaf(t: Tensor): Tensor {
  const leaf = sharedTensor(t, (data) => new Tensor(data, t.shape, { requiresGrad: true }));
  carryTangents(t, leaf);
  return leaf;
}

/** An identity op sharing t's storage: a vertex of its own, connected to t's graph. @internal */
export function view(t: Tensor): Tensor {
  return sharedTensor(t, (data) => makeOutput('view', data, t.shape, [t], (g) => [g], { storage: 'shared', saves: [[]], jvp: (ts) => ts[0]! }));
}

/** Flat results, one per tracked leaf, back in the structure of each argument. */
function regroup<L>(defs: readonly TreeDef[], flat: readonly L[]): Tree<L>[] {
  let at = 0;
  return defs.map((def) => {
    at += def.numLeaves;
    return def.unflatten(flat.slice(at - def.numLeaves, at));
  });
}

/**
 * f's result split into its output and aux (JAX's `has_aux`): with `hasAux`, f returns
 * `[output, aux]`; aux passes through untouched and is not differentiated. @internal
 */
export function splitAux(op: string, result: unknown, hasAux: boolean): [unknown, unknown] {
  if (!hasAux) return [result, undefined];
  if (!(Array.isArray(result) && result.length === 2)) {
    throw new ArgumentError(`${op}: with hasAux the function must return [output, aux], got ${Array.isArray(result) ? `an array of ${result.length}` : describe(result)}`);
  }
  return [result[0], result[1]];
}

/**
 * aux with its tensors detached, other values as they are: aux is not differentiated, so off the
 * transform's graph it carries none of it (JAX stops its gradient).
 */
function detachAux(aux: unknown): unknown {
  if (aux instanceof Tensor) return aux.requiresGrad ? aux.detach() : aux;
  if (Array.isArray(aux)) return aux.map(detachAux);
  if (aux !== null && typeof aux === 'object' && Object.getPrototypeOf(aux) === Object.prototype) {
    return Object.fromEntries(Object.entries(aux).map(([k, a]) => [k, detachAux(a)]));
  }
  return aux;
}

/** The `hasAux` option, checked. @internal */
export function hasAuxOption(op: string, options: { hasAux?: unknown }): boolean {
  const { hasAux = false } = options;
  if (typeof hasAux !== 'boolean') throw new ArgumentError(`${op}: hasAux must be a boolean, got ${describe(hasAux)}`);
  return hasAux;
}

function expectScalar(op: string, out: unknown): Tensor {
  if (!(out instanceof Tensor)) throw new ArgumentError(`${op}: the function must return a Tensor, got ${describe(out)}`);
  if (out.size !== 1) {
    throw new ArgumentError(`${op}: the function must return a one-element tensor, got shape ${formatShape(out.shape)}; use vjp or jacobian for other outputs`);
  }
  return out;
}

function zerosFor(xs: readonly Tensor[]): Tensor[] {
  return xs.map((x) => zeros(x.shape, { dtype: x.dtype }));
}

/** The gradients of `outputs` (seeded by `seeds`) with respect to `xs`, zeros where nothing flows. */
function pull(outputs: readonly Tensor[], seeds: readonly Tensor[] | undefined, xs: readonly Tensor[], createGraph: boolean): Tensor[] {
  const batched = xs.length === 0 ? undefined : unbatched.get(xs[0]!);
  if (batched !== undefined) {
    const { levels } = batched;
    const raw = (t: Tensor): Tensor => unbatchAll('grad', t, levels);
    const roots = outputs.map(raw);
    // A scalar output is one scalar per example: each seeded with 1, the examples stay apart.
    const rootSeeds = seeds?.map(raw) ?? roots.map((r) => ones(r.shape, { dtype: r.dtype }));
    const grads = pullPlain(roots, rootSeeds, xs.map((x) => unbatched.get(x)!.raw), createGraph);
    return grads.map((g) => rebatchAll(g, levels));
  }
  return pullPlain(outputs, seeds, xs, createGraph);
}

function pullPlain(outputs: readonly Tensor[], seeds: readonly Tensor[] | undefined, xs: readonly Tensor[], createGraph: boolean): Tensor[] {
  const live = outputs.map((_, k) => k).filter((k) => outputs[k]!.requiresGrad);
  if (live.length === 0 || xs.length === 0) return zerosFor(xs);
  return gradients(
    live.map((k) => outputs[k]!),
    xs,
    { gradOutputs: seeds === undefined ? undefined : live.map((k) => seeds[k]!), retainGraph: true, createGraph, allowUnused: true },
  );
}

/** Leaves of `tree` checked against the structure and shapes of `like` (tangents, cotangents). */
function matching(op: string, label: string, tree: unknown, def: TreeDef, like: readonly Tensor[], likeLabel: string): Tensor[] {
  const flat = flatten(op, label, tree);
  if (!flat.def.equals(def)) {
    throw new ArgumentError(`${op}: ${label} has structure ${String(flat.def)}, ${likeLabel} ${String(def)}`);
  }
  flat.leaves.forEach((t, k) => {
    const x = like[k]!;
    if (!shapesEqual(t.shape, x.shape) || t.dtype !== x.dtype) {
      throw new ShapeError(`${op}: ${label} leaf ${k} is ${t.dtype} ${formatShape(t.shape)}, ${likeLabel} leaf ${k} is ${x.dtype} ${formatShape(x.shape)}`);
    }
  });
  return flat.leaves;
}

/** Result of `valueAndGrad`. */
export interface ValueAndGrad<Aux = undefined, G = Tensor> {
  /** f's value, a one-element tensor (on the graph when the transform is nested). */
  value: Tensor;
  /** The gradient in the structure of the argument at `argnums`; a tuple of them for a list of argnums. */
  grads: G;
  /** What f returned beside its value with `hasAux` (undefined without). */
  aux: Aux;
}

/**
 * Transforms f (returning a scalar Tensor) into a function returning its value and its gradient
 * with respect to the arguments in `argnums` (JAX's `value_and_grad`). A differentiated argument
 * is a Tensor or a structure of them (`{ w, b }`, `[w1, w2]`, nested), and its gradient comes
 * back in the same structure; a list of argnums gives a tuple. With `hasAux`, f returns
 * `[value, aux]`. The result stays on the graph when an input does, so transforms nest. An input
 * f does not use gets a zero gradient (JAX's behaviour; PyTorch's autograd.grad throws).
 * @throws ArgumentError if f returns something other than a one-element Tensor, an argnum is out
 * of range or repeated, or a differentiated argument is not a structure of Tensors (the message
 * names the argument and the path inside it); f's own errors pass through.
 * @example const { value, grads } = valueAndGrad((p: { w: Tensor; b: Tensor }, x: Tensor) => loss(p, x))(params, x) // grads: { w, b }
 */
export function valueAndGrad<A extends unknown[]>(
  f: (...args: A) => Tensor,
  options?: NoArgnums & { hasAux?: false },
): (...args: A) => ValueAndGrad<undefined, GradsAt<A, 0>>;
export function valueAndGrad<A extends unknown[], const N extends Argnums>(
  f: (...args: A) => Tensor,
  options: { argnums: N; hasAux?: false },
): (...args: A) => ValueAndGrad<undefined, GradsAt<A, N>>;
export function valueAndGrad<A extends unknown[], Aux>(
  f: (...args: A) => readonly [Tensor, Aux],
  options: NoArgnums & { hasAux: true },
): (...args: A) => ValueAndGrad<Aux, GradsAt<A, 0>>;
export function valueAndGrad<A extends unknown[], Aux, const N extends Argnums>(
  f: (...args: A) => readonly [Tensor, Aux],
  options: { argnums: N; hasAux: true },
): (...args: A) => ValueAndGrad<Aux, GradsAt<A, N>>;
export function valueAndGrad(
  f: (...args: unknown[]) => unknown,
  options: ArgnumsOption & { hasAux?: boolean } = {},
): (...args: unknown[]) => ValueAndGrad<unknown, unknown> {
  return gradTransform('valueAndGrad', f, options);
}

function gradTransform(
  op: string,
  f: (...args: unknown[]) => unknown,
  options: ArgnumsOption & { hasAux?: boolean },
): (...args: unknown[]) => ValueAndGrad<unknown, unknown> {
  checkFunction(op, f);
  checkOptions(op, options, ['argnums', 'hasAux']);
  const { argnums = 0 } = options;
  const hasAux = hasAuxOption(op, options);
  return (...args: unknown[]) => {
    const which = positions(op, argnums, args.length);
    const { callArgs, xs, defs, nested } = track(op, args, which, (i) => `argument ${i}`);
    const [raw, aux] = splitAux(op, enableGrad(() => f(...callArgs)), hasAux);
    const value = expectScalar(op, raw);
    const keep = keepsGraph(nested, [value], xs);
    const flat = enableGrad(() => pull([value], undefined, xs, keep));
    const grouped = regroup(defs, flat);
    return { value: keep ? value : value.detach(), grads: typeof argnums === 'number' ? grouped[0] : grouped, aux: keep ? aux : detachAux(aux) };
  };
}

/**
 * Transforms f (returning a scalar Tensor) into its gradient function, as JAX's `grad` (and
 * `torch.func.grad`): the gradient has the structure of the argument at `argnums` (a Tensor, an
 * array or object of Tensors, nested), or is a tuple of those for a list of argnums. With
 * `hasAux`, f returns `[value, aux]` and the gradient function returns `[gradient, aux]`, as
 * JAX's `has_aux`. Nests: `grad(grad(f))`.
 * @throws ArgumentError as `valueAndGrad`.
 * @example grad((x: Tensor) => x.pow(3).sum())(x) // 3x²
 * @example grad((p: { w: Tensor; b: Tensor }) => p.w.mul(p.b).sum())({ w, b }) // { w: b, b: w }
 * @example const [g, logits] = grad((w: Tensor) => { const z = x.matmul(w); return [z.square().sum(), z] as const }, { hasAux: true })(w)
 */
export function grad<A extends unknown[]>(f: (...args: A) => Tensor, options?: NoArgnums & { hasAux?: false }): (...args: A) => GradsAt<A, 0>;
export function grad<A extends unknown[], const N extends Argnums>(f: (...args: A) => Tensor, options: { argnums: N; hasAux?: false }): (...args: A) => GradsAt<A, N>;
export function grad<A extends unknown[], Aux>(f: (...args: A) => readonly [Tensor, Aux], options: NoArgnums & { hasAux: true }): (...args: A) => [GradsAt<A, 0>, Aux];
export function grad<A extends unknown[], Aux, const N extends Argnums>(
  f: (...args: A) => readonly [Tensor, Aux],
  options: { argnums: N; hasAux: true },
): (...args: A) => [GradsAt<A, N>, Aux];
export function grad(f: (...args: unknown[]) => unknown, options: ArgnumsOption & { hasAux?: boolean } = {}): (...args: unknown[]) => unknown {
  const vg = gradTransform('grad', f, options);
  if (options.hasAux === true) {
    return (...args: unknown[]) => {
      const { grads, aux } = vg(...args);
      return [grads, aux];
    };
  }
  return (...args: unknown[]) => vg(...args).grads;
}

/** Result of `vjp`: f's output and its pullback. */
export interface VjpResult<O = Tensor, P extends readonly unknown[] = Tensor[]> {
  /** f's output at the primals (a Tensor or a structure of them). */
  output: O;
  /**
   * Maps a cotangent in the output's structure and shapes to one gradient per primal, each in
   * that primal's structure. Callable many times.
   */
  pullback: (cotangent: WithLeaves<O, Tensor>) => PerArgument<P>;
}

/** Result of `vjp` with `{ hasAux: true }`: also what f returned beside its output. */
export interface VjpAuxResult<O = Tensor, P extends readonly unknown[] = Tensor[], Aux = unknown> extends VjpResult<O, P> {
  /** What f returned beside its output (JAX's `has_aux`); not differentiated, its tensors detached. */
  aux: Aux;
}

/** Whether the last argument of vjp is its options, `{ hasAux }`: a boolean can be no leaf of a primal. */
function isVjpOptions(value: unknown): value is { hasAux: boolean } {
  return (
    value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype &&
    Object.keys(value).length === 1 && typeof (value as { hasAux?: unknown }).hasAux === 'boolean'
  );
}

/**
 * Evaluates f at `primals` and returns the output with its vector-Jacobian pullback, as JAX's
 * `vjp` (and `torch.func.vjp`). Primals and output may be Tensors or structures of them. A last
 * argument `{ hasAux: true }` (JAX's `has_aux`; a boolean is never part of a primal) means f returns
 * `[output, aux]`: aux comes back as the result's `aux`, not differentiated.
 * @throws ArgumentError if a primal or the output is not a structure of Tensors; the pullback
 * throws an ArgumentError for a cotangent of another structure and a ShapeError for a leaf of
 * another shape or dtype than the output's.
 * @example const { output, pullback } = vjp((x: Tensor) => x.sin(), x); const [dx] = pullback(ones(x.shape))
 */
export function vjp<P extends unknown[], O>(f: (...primals: P) => O, ...primals: P): VjpResult<O, P>;
export function vjp<P extends unknown[], O, Aux>(f: (...primals: P) => readonly [O, Aux], ...args: [...P, { hasAux: true }]): VjpAuxResult<O, P, Aux>;
export function vjp<P extends unknown[]>(f: (...primals: P) => unknown, ...args: unknown[]): { output: unknown; pullback: (cotangent: never) => unknown; aux?: unknown } {
  checkFunction('vjp', f);
  const options = args.length > 0 && isVjpOptions(args[args.length - 1]) ? (args[args.length - 1] as { hasAux: boolean }) : null;
  const primals = options === null ? args : args.slice(0, -1);
  const hasAux = options?.hasAux ?? false;
  const { callArgs, xs, defs, nested } = track('vjp', primals, primals.map((_, i) => i), (i) => `primal ${i}`);
  const [out, aux] = splitAux('vjp', enableGrad(() => (f as (...a: unknown[]) => unknown)(...callArgs)), hasAux);
  const { leaves: ys, def: outDef } = flatten('vjp', "the function's output", out);
  const keep = keepsGraph(nested, ys, xs);
  return {
    output: (keep ? out : outDef.unflatten(ys.map((y) => y.detach()))) as never,
    pullback: (cotangent: unknown): never => {
      const seeds = matching('vjp', 'the cotangent', cotangent, outDef, ys, 'the output');
      return regroup(defs, enableGrad(() => pull(ys, seeds, xs, keep))) as never;
    },
    aux: keep ? aux : detachAux(aux),
  };
}

/** Result of `jvp`. */
export interface JvpResult<O = Tensor, Aux = undefined> {
  /** f's output at the primals. */
  output: O;
  /** J·v: the directional derivative of the output along the tangents, in the output's structure. */
  tangent: WithLeaves<O, Tensor>;
  /** What f returned beside its output with `hasAux` (undefined without); it carries no tangent. */
  aux: Aux;
}

/** Options of `jvp`. */
export interface JvpOptions {
  /** f returns `[output, aux]`; aux comes back as `aux`, not differentiated (JAX's `has_aux`). */
  hasAux?: boolean;
}

function argumentList(op: string, what: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) throw new ArgumentError(`${op}: ${what} must be an array with one entry per argument of f, got ${describe(value)}`);
  return value;
}

/**
 * Forward mode, as JAX's `jvp` (and `torch.func.jvp`): evaluates f at `primals` and, alongside, the
 * directional derivative J·v of its output along `tangents`, in one pass. Each op carries its
 * input's tangents forward by its JVP rule, so the cost is about one extra forward pass and no graph
 * is kept. `primals` lists f's arguments, each a Tensor or a structure of them; `tangents` matches
 * them in structure, shapes and dtypes. Integer and bool outputs get zero tangents. With
 * `{ hasAux: true }`, f returns `[output, aux]` and aux comes back as the result's `aux`, carrying
 * no tangent (JAX's `has_aux`).
 *
 * Nests with every transform: `jvp` of a function calling `jvp` (tangents of each call are kept
 * apart), `jvp` of `grad` (forward-over-reverse: the VJPs, written in Tensor ops, carry the
 * tangent), `grad` of a function calling `jvp` (the tangent is on the graph when a primal is).
 * Inside `jit` the tangent comes from two reverse passes the trace records (J·v as the derivative
 * along v of u ↦ Jᵀu), since ops make forward-mode tangents out of the trace's sight.
 * @throws ArgumentError if tangents and primals differ in number or structure, f does not
 * return a structure of Tensors (with `hasAux`, a pair), or an option is unknown.
 * @throws ShapeError if a tangent's shape or dtype differs from its primal's.
 * @throws GraphError naming the op when a tangent reaches an op with no forward-mode rule.
 * @example jvp((x: Tensor) => x.exp(), [x], [v]).tangent // exp(x)·v
 */
export function jvp<P extends readonly unknown[] | [], O>(
  f: (...primals: NoInfer<P>) => O,
  primals: P,
  tangents: PerArgument<NoInfer<P>>,
  options?: { hasAux?: false },
): JvpResult<O>;
export function jvp<P extends readonly unknown[] | [], O, Aux>(
  f: (...primals: NoInfer<P>) => readonly [O, Aux],
  primals: P,
  tangents: PerArgument<NoInfer<P>>,
  options: { hasAux: true },
): JvpResult<O, Aux>;
export function jvp(f: (...primals: never[]) => unknown, primals: readonly unknown[], tangents: readonly unknown[], options: JvpOptions = {}): JvpResult<unknown, unknown> {
  checkFunction('jvp', f);
  checkOptions('jvp', options, ['hasAux']);
  const hasAux = hasAuxOption('jvp', options);
  const ps = argumentList('jvp', 'primals', primals);
  const ts = argumentList('jvp', 'tangents', tangents);
  if (ps.length !== ts.length) throw new ArgumentError(`jvp: got ${ts.length} tangents for ${ps.length} primals`);
  const flat = ps.map((p, i) => flatten('jvp', `primal ${i}`, p, true));
  const vs = flat.map(({ def, leaves }, i) => matching('jvp', `tangent ${i}`, ts[i], def, leaves, `primal ${i}`));
  if (isTracing()) {
    // The reverse passes jvp takes while jit traces cannot start from tensors a vmap inside the jitted function batched.
    const batched = [...flat.flatMap((a) => a.leaves), ...vs.flat()].find((t) => t instanceof BatchedTensor);
    if (batched !== undefined) {
      throw new ArgumentError(`jvp: inside a vmap inside jit (here a batched ${batched.dtype} ${formatShape(batched.shape)}), jvp is not supported yet: while jit traces it is taken as two reverse passes, which batched tensors cannot start; use jit(jacfwd(f)), vmap outside the jitted function, or jvp outside jit`);
    }
    return tracedJvp(f as (...args: unknown[]) => unknown, ps, vs.flat(), hasAux);
  }
  const recorded = lastSerial();
  // The pass's own stamp tells the tangents made during it (fresh-grads.ts) from the caller's.
  return withFreshGradients(true, () => withLevel((level) => {
    const callArgs = flat.map(({ def, leaves }, i) => def.unflatten(leaves.map((x, k) => dual(x, vs[i]![k]!, level))));
    const [out, aux] = splitAux('jvp', (f as (...args: unknown[]) => unknown)(...callArgs), hasAux);
    const { leaves: ys, def: outDef } = flatten('jvp', "the function's output", out);
    const tangent = ys.map((y) => tangentOut(y, level) ?? zeros(y.shape, { dtype: y.dtype }));
    // A graph recorded meanwhile may have saved a tangent for a backward pass still to come.
    if (lastSerial() === recorded) releaseTangents(level.made, tangent);
    return { output: out, tangent: outDef.unflatten(tangent) as never, aux };
  }));
}

/**
 * `jvp` while jit traces. Forward-mode tangents are made inside each op, out of the trace's
 * sight, so J·v is taken instead as the derivative along v of the linear map u ↦ Jᵀu: two
 * reverse passes, which the trace records. The map is linear, so any u gives J; u is ones, not
 * zeros, so that a VJP taking log|u| (logcumsumexp's) stays finite. Integer and bool outputs
 * get zero tangents, as in forward mode.
 */
function tracedJvp(f: (...args: unknown[]) => unknown, ps: readonly unknown[], vs: readonly Tensor[], hasAux: boolean): JvpResult<unknown, unknown> {
  const { callArgs, xs, nested } = track('jvp', ps, ps.map((_, i) => i), (i) => `primal ${i}`);
  const [out, aux] = splitAux('jvp', enableGrad(() => f(...callArgs)), hasAux);
  const { leaves: ys, def: outDef } = flatten('jvp', "the function's output", out);
  const live = ys.map((_, k) => k).filter((k) => isFloat(ys[k]!) && ys[k]!.requiresGrad);
  const tangent: (Tensor | null)[] = ys.map(() => null);
  if (live.length > 0) {
    const us = live.map((k) => freshLeaf(ones(ys[k]!.shape, { dtype: ys[k]!.dtype })));
    const transposed = enableGrad(() =>
      gradients(live.map((k) => ys[k]!), xs, { gradOutputs: us, createGraph: true, retainGraph: true, allowUnused: true }),
    );
    const reached = xs.map((_, j) => j).filter((j) => transposed[j]!.requiresGrad);
    if (reached.length > 0) {
      const jv = enableGrad(() =>
        gradients(reached.map((j) => transposed[j]!), us, { gradOutputs: reached.map((j) => vs[j]!), createGraph: nested, retainGraph: true, allowUnused: true }),
      );
      live.forEach((k, i) => (tangent[k] = jv[i]!));
    }
  }
  const output = nested ? out : outDef.unflatten(ys.map((y) => y.detach()));
  const tangents = tangent.map((t, k) => t ?? zeros(ys[k]!.shape, { dtype: ys[k]!.dtype }));
  return { output, tangent: outDef.unflatten(tangents) as never, aux: nested ? aux : detachAux(aux) };
}

/**
 * Gives the storage pool the storage of the tangents ops made at a closing `jvp` level, as a
 * backward pass gives back its intermediate gradients (engine/backward.ts): nothing reads a
 * level's tangents once it closes (`tangentAt` is never asked for it again), so the next
 * intermediate tangent of that size takes the storage instead of the allocator and the garbage
 * collector. Only tangents still fresh (made in storage of their own during this pass, never
 * handed to user code), outside jit and vmap, and sharing no storage with what `jvp` returns;
 * the pool itself refuses storage a view shares.
 */
function releaseTangents(made: readonly Tensor[], returned: readonly Tensor[]): void {
  if (made.length === 0 || !opsRunEagerly() || isTracing()) return;
  for (const r of returned) if (isBatched(r) || isTraced(r)) return;
  for (const t of made) {
    if (!isFresh(t) || isBatched(t) || isTraced(t)) continue;
    const data = t.data;
    if (returned.some((r) => r === t || r.data.buffer === data.buffer)) continue;
    recycleStorage(data);
  }
}

/**
 * A new tensor for x's value (an identity view, so x's graph and outer tangents carry on) with
 * tangent v at `level`: a primal as f sees it inside `jvp`, one per position, as JAX's.
 */
function dual(x: Tensor, v: Tensor, level: Level): Tensor {
  // Inside vmap (vmap of jvp): the tangent rides on the batch's value, batched as the primal or
  // the tangent is, innermost vmap first; the other is broadcast along that batch.
  if (x instanceof BatchedTensor || v instanceof BatchedTensor) {
    const inner = Math.max(x instanceof BatchedTensor ? x.level : 0, v instanceof BatchedTensor ? v.level : 0);
    const size = (x instanceof BatchedTensor && x.level === inner ? x.value : (v as BatchedTensor).value).shape[0]!;
    const batch = (t: Tensor): Tensor => (t instanceof BatchedTensor && t.level === inner ? t.value : expand(unsqueeze(t, 0), [size, ...t.shape]));
    return new BatchedTensor(dual(batch(x), batch(v), level), inner);
  }
  const d = view(x);
  setTangent(d, level, v);
  return d;
}

/** y's tangent at `level`, inside vmap read from the batch's value and batched as y is; null for none. */
function tangentOut(y: Tensor, level: Level): Tensor | null {
  if (y instanceof BatchedTensor) {
    const t = tangentOut(y.value, level);
    return t === null ? null : new BatchedTensor(t, y.level);
  }
  return tangentAt(y, level);
}

/** Result of `linearize`. */
export interface LinearizeResult<O = Tensor, P extends readonly unknown[] = Tensor[]> {
  /** f's output at the primals. */
  output: O;
  /** v ↦ J·v at the primals: one tangent per primal in, the output's tangent (its structure) out. */
  jvp: (...tangents: PerArgument<P>) => WithLeaves<O, Tensor>;
}

/** Result of `linearize` with `{ hasAux: true }`: also what f returned beside its output. */
export interface LinearizeAuxResult<O = Tensor, P extends readonly unknown[] = Tensor[], Aux = unknown> extends LinearizeResult<O, P> {
  /** What f returned beside its output at the primals (JAX's `has_aux`). */
  aux: Aux;
}

/**
 * f's output at `primals` and its linear map v ↦ J·v there, as JAX's `linearize`.
 * NOTE: unlike JAX, which partially evaluates f into a stored linear program, each call of the
 * returned `jvp` runs f again alongside the tangents (one forward-mode pass: about two forwards),
 * so f must be deterministic (seed any randomness it draws). What it saves is the bookkeeping, not
 * the primal computation.
 * A last argument `{ hasAux: true }` (JAX's `has_aux`) means f returns `[output, aux]`; aux comes
 * back as the result's `aux`, taken at the primals.
 * @throws ArgumentError or ShapeError naming linearize, when the returned function is called with
 * tangents that differ from the primals in number, structure, shape or dtype; f's errors as `jvp`.
 * @example const { output, jvp: lin } = linearize((x: Tensor) => x.sin(), x); lin(v) // cos(x)·v
 */
export function linearize<P extends unknown[], O>(f: (...primals: P) => O, ...primals: P): LinearizeResult<O, P>;
export function linearize<P extends unknown[], O, Aux>(f: (...primals: P) => readonly [O, Aux], ...args: [...P, { hasAux: true }]): LinearizeAuxResult<O, P, Aux>;
export function linearize<P extends unknown[]>(f: (...primals: P) => unknown, ...args: unknown[]): { output: unknown; jvp: (...tangents: never[]) => unknown; aux?: unknown } {
  checkFunction('linearize', f);
  // A last argument { hasAux } is the options, as vjp's: a boolean is never part of a primal.
  const options = args.length > 0 && isVjpOptions(args[args.length - 1]) ? (args[args.length - 1] as { hasAux: boolean }) : null;
  const primals = options === null ? args : args.slice(0, -1);
  const hasAux = options?.hasAux ?? false;
  const flat = primals.map((p, i) => flatten('linearize', `primal ${i}`, p, true));
  const run = f as (...args: unknown[]) => unknown;
  const [output, aux] = splitAux('linearize', run(...primals), hasAux);
  return {
    output,
    jvp: (...tangents: unknown[]) => {
      // Checked here so that the errors name linearize, whose caller never called jvp.
      if (tangents.length !== primals.length) throw new ArgumentError(`linearize: got ${tangents.length} tangents for ${primals.length} primals`);
      flat.forEach(({ def, leaves }, i) => matching('linearize', `tangent ${i}`, tangents[i], def, leaves, `primal ${i}`));
      return jvp((...a: unknown[]) => splitAux('linearize', run(...a), hasAux)[0], primals, tangents as never).tangent;
    },
    ...(hasAux ? { aux } : {}),
  };
}

/**
 * The Jacobian of f with respect to the arguments at `argnums` by forward mode (`torch.func.jacfwd`,
 * JAX's `jacfwd`): `jvp` mapped with `vmap` over the rows of the identity (one tangent per element
 * of the differentiated arguments), so every column comes from one batched forward pass; it suits
 * functions with fewer inputs than outputs (`jacrev` maps a pullback over the output's elements).
 * The result is laid out as `jacobian`'s: for a Tensor output and argument, shape
 * [...output.shape, ...input.shape]; structures nest as JAX nests them. Composes with vmap, grad
 * and jacrev (`jacfwd(jacrev(f))` is a Hessian). With `hasAux`, f returns `[output, aux]` and the
 * result is `[jacobian, aux]`, aux taken at the primals (JAX's `has_aux`).
 * @throws ArgumentError as `jacobian`, or (naming the op) for an op of f without a batching rule.
 * @example jacfwd((x: Tensor) => x.sin())(x) // diag(cos x)
 */
export function jacfwd<A extends unknown[], O>(f: (...args: A) => O, options?: NoArgnums & { hasAux?: false }): (...args: A) => WithLeaves<O, GradsAt<A, 0>>;
export function jacfwd<A extends unknown[], O, const N extends Argnums>(f: (...args: A) => O, options: { argnums: N; hasAux?: false }): (...args: A) => WithLeaves<O, GradsAt<A, N>>;
export function jacfwd<A extends unknown[], O, Aux>(f: (...args: A) => readonly [O, Aux], options: NoArgnums & { hasAux: true }): (...args: A) => [WithLeaves<O, GradsAt<A, 0>>, Aux];
export function jacfwd<A extends unknown[], O, Aux, const N extends Argnums>(
  f: (...args: A) => readonly [O, Aux],
  options: { argnums: N; hasAux: true },
): (...args: A) => [WithLeaves<O, GradsAt<A, N>>, Aux];
export function jacfwd(f: (...args: unknown[]) => unknown, options: ArgnumsOption & { hasAux?: boolean } = {}): (...args: unknown[]) => unknown {
  return jacfwdTransform('jacfwd', f, options);
}

function jacfwdTransform(op: string, f: (...args: unknown[]) => unknown, options: ArgnumsOption & { hasAux?: boolean }): (...args: unknown[]) => unknown {
  checkFunction(op, f);
  checkOptions(op, options, ['argnums', 'hasAux']);
  const { argnums = 0 } = options;
  const hasAux = hasAuxOption(op, options);
  // NOTE: jit does not trace forward-mode tangents yet (they are computed inside each op, out of
  // the trace's sight), so while jit traces, the same Jacobian is taken in reverse mode: one
  // pullback per output element, equal up to rounding.
  const reverse = jacobianTransform(op, f, options);
  return (...args: unknown[]) => {
    if (isTracing()) return reverse(...args);
    const which = positions(op, argnums, args.length);
    const flat = which.map((i) => flatten(op, `argument ${i}`, args[i], true));
    const defs = flat.map((a) => a.def);
    const xs = flat.flatMap((a) => a.leaves);
    const call = (...leaves: Tensor[]): unknown => {
      const callArgs = [...args];
      let at = 0;
      which.forEach((i, k) => {
        const n = defs[k]!.numLeaves;
        callArgs[i] = defs[k]!.unflatten(leaves.slice(at, at + n));
        at += n;
      });
      return f(...callArgs);
    };
    const g = (...leaves: Tensor[]): unknown => splitAux(op, call(...leaves), hasAux)[0];
    // One forward for the output's structure and shapes, whatever the inputs' sizes; aux is
    // taken from it, at the primals, as JAX's has_aux.
    const [first, aux] = splitAux(op, call(...xs), hasAux);
    const { leaves: ys, def: outDef } = flatten(op, "the function's output", first);
    // JAX's jacfwd: jvp mapped with vmap over the rows of the identity, split into one batch of
    // tangents per input leaf, so every column comes from one batched forward pass.
    const total = xs.reduce((n, x) => n + x.size, 0);
    const offsets: number[] = [];
    xs.reduce((at, x) => (offsets.push(at), at + x.size), 0);
    const columns: Tensor[] =
      total === 0
        ? ys.map((y) => zeros([0, ...y.shape], { dtype: y.dtype }))
        : (vmap((...vs: Tensor[]) => flatten(op, "the function's output", jvp(g, xs, vs).tangent).leaves)(
          ...xs.map((x, k) => reshape(narrow(eye(total, total, { dtype: x.dtype }), 1, offsets[k]!, x.size), [total, ...x.shape])),
        ) as Tensor[]);
    const perOutput = ys.map((y, o) => {
      const blocks = xs.map((x, k) => {
        // An integer or bool output has no derivative: zeros of the input's dtype, as jacrev's.
        if (!isFloat(y)) return zeros([...y.shape, ...x.shape], { dtype: x.dtype });
        if (x.size === 0) return zeros([...y.shape, ...x.shape], { dtype: y.dtype });
        // [x.size, ...y.shape] → [...y.shape, x.size] → [...y.shape, ...x.shape]
        const rows = narrow(columns[o]!, 0, offsets[k]!, x.size);
        const moved = permute(rows, [...y.shape.map((_, d) => d + 1), 0]);
        return reshape(moved, [...y.shape, ...x.shape]);
      });
      const grouped = regroup(defs, blocks);
      return typeof argnums === 'number' ? grouped[0] : grouped;
    });
    const jac = outDef.unflatten(perOutput);
    return hasAux ? [jac, aux] : jac;
  };
}

/** Concatenates, over the arguments' structures, what `each(def, i, offset)` returns for argument i. */
function regroupFlat<L>(defs: readonly TreeDef[], each: (def: TreeDef, i: number, offset: number) => L[]): L[] {
  const out: L[] = [];
  defs.forEach((def, i) => out.push(...each(def, i, out.length)));
  return out;
}

/** Result of `hvp`. */
export interface HvpResult<P extends readonly unknown[] = Tensor[]> {
  /** f's value at the primals. */
  output: Tensor;
  /** H·v, one entry per primal in that primal's structure. */
  hvp: PerArgument<P>;
}

/**
 * Hessian-vector product of a scalar f: the gradient of <∇f, v>, without forming the Hessian
 * (`torch.autograd.functional.hvp`). `primals` lists f's arguments (Tensors or structures);
 * `v` matches them.
 * @throws ArgumentError if vectors and primals differ in number or structure, or f does not
 * return a one-element Tensor.
 * @throws ShapeError if a vector's shape or dtype differs from its primal's.
 * @example hvp((x: Tensor) => x.pow(3).sum(), [x], [v]).hvp[0] // 6x·v
 */
export function hvp<P extends readonly unknown[] | []>(f: (...primals: NoInfer<P>) => Tensor, primals: P, v: PerArgument<NoInfer<P>>): HvpResult<P> {
  checkFunction('hvp', f);
  const ps = argumentList('hvp', 'primals', primals);
  const vl = argumentList('hvp', 'v', v);
  if (ps.length !== vl.length) throw new ArgumentError(`hvp: got ${vl.length} vectors for ${ps.length} primals`);
  const { callArgs, xs, defs, nested } = track('hvp', ps, ps.map((_, i) => i), (i) => `primal ${i}`);
  return enableGrad(() => {
    const vs = regroupFlat(defs, (def, i, at) => matching('hvp', `vector ${i}`, vl[i], def, xs.slice(at, at + def.numLeaves), `primal ${i}`));
    const output = expectScalar('hvp', (f as (...args: unknown[]) => unknown)(...callArgs));
    const g = pull([output], undefined, xs, true);
    const keep = keepsGraph(nested, [output], xs);
    const result = pull(g, vs, xs, keep);
    return { output: keep ? output : output.detach(), hvp: regroup(defs, result) as PerArgument<P> };
  });
}

/**
 * The Jacobian of f with respect to the arguments at `argnums` (reverse mode: one pullback per
 * output element), as `torch.func.jacrev` / JAX's `jacrev`. For a Tensor output and a Tensor
 * argument, a tensor of shape [...output.shape, ...input.shape]. Outputs and arguments may be
 * structures: the result has the output's structure, each of its leaves holding the argument's
 * structure of blocks (a tuple of them for a list of argnums), as JAX nests them. With `hasAux`,
 * f returns `[output, aux]` and the result is `[jacobian, aux]` (JAX's `has_aux`).
 * @throws ArgumentError if f does not return a structure of Tensors (or, with `hasAux`, a pair),
 * an argnum is out of range or repeated, or a differentiated argument is not a structure of Tensors.
 * @example jacobian((x: Tensor) => x.softmax())(x) // [n, n]
 * @example jacobian((x: Tensor, y: Tensor) => x.mul(y), { argnums: [0, 1] })(x, y) // [diag(y), diag(x)]
 */
export function jacobian<A extends unknown[], O>(f: (...args: A) => O, options?: NoArgnums & { hasAux?: false }): (...args: A) => WithLeaves<O, GradsAt<A, 0>>;
export function jacobian<A extends unknown[], O, const N extends Argnums>(f: (...args: A) => O, options: { argnums: N; hasAux?: false }): (...args: A) => WithLeaves<O, GradsAt<A, N>>;
export function jacobian<A extends unknown[], O, Aux>(f: (...args: A) => readonly [O, Aux], options: NoArgnums & { hasAux: true }): (...args: A) => [WithLeaves<O, GradsAt<A, 0>>, Aux];
export function jacobian<A extends unknown[], O, Aux, const N extends Argnums>(
  f: (...args: A) => readonly [O, Aux],
  options: { argnums: N; hasAux: true },
): (...args: A) => [WithLeaves<O, GradsAt<A, N>>, Aux];
export function jacobian(f: (...args: unknown[]) => unknown, options: ArgnumsOption & { hasAux?: boolean } = {}): (...args: unknown[]) => unknown {
  return jacobianTransform('jacobian', f, options);
}

function jacobianTransform(op: string, f: (...args: unknown[]) => unknown, options: ArgnumsOption & { hasAux?: boolean }): (...args: unknown[]) => unknown {
  checkFunction(op, f);
  checkOptions(op, options, ['argnums', 'hasAux']);
  const { argnums = 0 } = options;
  const hasAux = hasAuxOption(op, options);
  return (...args: unknown[]) => {
    const which = positions(op, argnums, args.length);
    const { callArgs, xs, defs, nested } = track(op, args, which, (i) => `argument ${i}`);
    return enableGrad(() => {
      const [out, aux] = splitAux(op, f(...callArgs), hasAux);
      const { leaves: ys, def: outDef } = flatten(op, "the function's output", out);
      const keep = keepsGraph(nested, ys, xs);
      const perOutput = ys.map((y) => {
        const blocks = jacobianBlocks(y, xs, keep);
        const grouped = regroup(defs, blocks);
        return typeof argnums === 'number' ? grouped[0] : grouped;
      });
      const jac = outDef.unflatten(perOutput);
      return hasAux ? [jac, keep ? aux : detachAux(aux)] : jac;
    });
  };
}

/** d y / d x for each x, of shape [...y.shape, ...x.shape]: one pullback per element of y. */
function jacobianBlocks(y: Tensor, xs: readonly Tensor[], nested: boolean): Tensor[] {
  if (!y.requiresGrad || y.size === 0) return xs.map((x) => zeros([...y.shape, ...x.shape], { dtype: x.dtype }));
  const flatY = reshape(y, [y.size]);
  const rows: Tensor[][] = xs.map(() => []);
  for (let j = 0; j < y.size; j++) {
    const e = zeros([y.size], { dtype: y.dtype });
    e.data[j] = 1;
    pull([flatY], [e], xs, nested).forEach((g, k) => rows[k]!.push(g));
  }
  return xs.map((x, k) => reshape(stack(rows[k]!, 0), [...y.shape, ...x.shape]));
}

/**
 * The Hessian of a scalar f with respect to the arguments at `argnums`: the Jacobian of its
 * gradient, as `torch.func.hessian` and JAX's `hessian`, computed forward-over-reverse
 * (`jacfwd` of `grad`: the `jvp` of the gradient mapped with `vmap` over the rows of the identity,
 * every column from one batched pass). For one Tensor argument, a tensor of
 * shape [...x.shape, ...x.shape]; for structures or a list of argnums, the nested blocks JAX
 * returns: `hessian(f, { argnums: [0, 1] })(x, y)` is `[[Hxx, Hxy], [Hyx, Hyy]]`, block
 * `Hxy` of shape [...x.shape, ...y.shape]. With `hasAux`, f returns `[value, aux]` and the result
 * is `[hessian, aux]` (JAX's `has_aux`).
 * @throws ArgumentError as `jacobian`, or if f does not return a one-element Tensor.
 * @example hessian((x: Tensor) => x.pow(3).sum())(x) // diag(6x)
 */
export function hessian<A extends unknown[]>(f: (...args: A) => Tensor, options?: NoArgnums & { hasAux?: false }): (...args: A) => WithLeaves<GradsAt<A, 0>, GradsAt<A, 0>>;
export function hessian<A extends unknown[], const N extends Argnums>(
  f: (...args: A) => Tensor,
  options: { argnums: N; hasAux?: false },
): (...args: A) => WithLeaves<GradsAt<A, N>, GradsAt<A, N>>;
export function hessian<A extends unknown[], Aux>(
  f: (...args: A) => readonly [Tensor, Aux],
  options: NoArgnums & { hasAux: true },
): (...args: A) => [WithLeaves<GradsAt<A, 0>, GradsAt<A, 0>>, Aux];
export function hessian<A extends unknown[], Aux, const N extends Argnums>(
  f: (...args: A) => readonly [Tensor, Aux],
  options: { argnums: N; hasAux: true },
): (...args: A) => [WithLeaves<GradsAt<A, N>, GradsAt<A, N>>, Aux];
export function hessian(f: (...args: unknown[]) => unknown, options: ArgnumsOption & { hasAux?: boolean } = {}): (...args: unknown[]) => unknown {
  checkFunction('hessian', f);
  checkOptions('hessian', options, ['argnums', 'hasAux']);
  const hasAux = hasAuxOption('hessian', options);
  const g = gradTransform('hessian', f, options);
  return jacfwdTransform('hessian', (...args: unknown[]) => {
    const { grads, aux } = g(...args);
    return hasAux ? [grads, aux] : grads;
  }, options);
}

/** Every element of the tensors, in order, as one vector: how several gradients are compared at once. */
export function flattenAll(ts: readonly Tensor[]): Tensor {
  if (ts.length === 0) return zeros([0], { dtype: 'float64' });
  return concat(ts.map((t) => reshape(t, [t.size])), 0);
}
