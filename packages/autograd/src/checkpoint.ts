import { ArgumentError, DTypeError } from './errors.js';
import { allocate } from './dtype.js';
import { pinStorage } from './storage-pool.js';
import { Tensor, lastSerial, makeOutput } from './tensor.js';
import { sizeOf } from './shape.js';
import { enableGrad, isGradEnabled } from './engine/grad-mode.js';
import { forwardActive } from './engine/forward.js';
import { isTracing } from './engine/trace-access.js';
import { backward } from './engine/backward.js';
import { zeros } from './creation.js';
import { concat, reshape, slice } from './ops/shape.js';
import { Generator, defaultGenerator } from './random.js';
import { checkFunction, flatten, view } from './functional.js';
import { checkOptions } from './options.js';
import { batchLevels } from './vmap/vmap.js';
import type { TreeDef } from './tree.js';

/** Options of `checkpoint`. */
export interface CheckpointOptions {
  /**
   * Replay random draws in the recomputation (default true), as PyTorch's `preserve_rng_state`:
   * the global generator's state, and that of each of `generators`, is saved when f runs and
   * restored around its recomputation, so dropout masks and other draws come out the same.
   */
  preserveRngState?: boolean;
  /** Generators f draws from besides the global one (a seeded `Dropout`'s, say), to replay too. */
  generators?: readonly Generator[];
}

/**
 * Rematerialisation (JAX's `checkpoint`/`remat`, PyTorch's `torch.utils.checkpoint`): returns a
 * function computing f whose intermediate results are not kept for backward but recomputed from
 * f's inputs when backward reaches them. The graph keeps only f's inputs and outputs, so a deep
 * network checkpointed segment by segment holds one segment's activations at a time, for about
 * one extra forward pass. Gradients are those of f itself, to any order (`createGraph` and
 * nested transforms recompute on the graph).
 *
 * - f's arguments are Tensors or structures of them (see `treeFlatten`); an argument that is a
 *   number, string, boolean, function or class instance as a whole is a setting, passed through
 *   to f and its recomputation as it is (as `torch.utils.checkpoint` passes non-tensor arguments). Tensors f closes over (a module's parameters, an earlier result)
 *   receive their gradients too: the forward records f once to find them, then drops that graph.
 * - Outputs of several tensors (a structure) must share one dtype; they are stored together and
 *   recomputed once per backward.
 * - Random draws replay the same numbers (see `preserveRngState`); anything else f reads must
 *   not change between forward and backward. An input modified in place in between is refused by
 *   backward, as for any op.
 * - Under `noGrad`, inside a `jvp`, inside `vmap`, while `jit` traces, or when nothing f depends on
 *   requires grad, f simply runs: the values and gradients are f's own either way.
 * @throws ArgumentError if an argument is not a structure of Tensors, f's output is not one, or
 * the recomputation returns another structure.
 * @throws DTypeError for outputs of mixed dtypes.
 * @example const block = checkpoint((h: Tensor) => mlp.forward(h)); block(x).sum().backward()
 */
export function checkpoint<A extends unknown[], O>(f: (...args: A) => O, options: CheckpointOptions = {}): (...args: A) => O {
  checkFunction('checkpoint', f);
  checkOptions('checkpoint', options, ['preserveRngState', 'generators']);
  const { preserveRngState = true, generators = [] } = options;
  if (!Array.isArray(generators) || generators.some((g) => !(g instanceof Generator))) {
    throw new ArgumentError('checkpoint: generators must be an array of Generators');
  }
  const run = f as (...args: unknown[]) => unknown;
  const checkpointed = (...args: A): O => {
    // A number, string, boolean, function or class instance passed as a whole argument is a
    // setting, not data: it is passed through to f (and to its recomputation) as it is, as
    // torch.utils.checkpoint passes non-tensor arguments through.
    const dynamic = args.map((_, i) => i).filter((i) => !isSetting(args[i]));
    if (dynamic.length < args.length) {
      const bound = (...values: unknown[]): unknown => {
        const full: unknown[] = [...args];
        dynamic.forEach((i, k) => (full[i] = values[k]));
        return run(...full);
      };
      return (checkpoint(bound, options) as (...values: unknown[]) => O)(...dynamic.map((i) => args[i]));
    }
    const flat = args.map((a, i) => flatten('checkpoint', `argument ${i}`, a));
    // checkpoint changes what is kept, never a value or a gradient (JAX's checkpoint is the
    // identity on both), so where it cannot rematerialise, f simply runs: inside a jvp (the
    // tangents would have to be recomputed too), inside vmap (the recomputation replays f on the
    // saved inputs' storage, which a batched tensor has none of) and while jit traces (the
    // program plans its own buffers; the recomputation would read traced values outside any op).
    if (!isGradEnabled() || forwardActive() || batchLevels().length > 0 || isTracing()) return f(...args);
    const gens = preserveRngState ? [defaultGenerator(), ...generators] : [];
    const states = gens.map((g) => g.getState());
    const start = lastSerial();
    // Recorded once on fresh leaves, to find what f closes over; that graph is dropped on return.
    const leaves = flat.flatMap((a) => a.leaves);
    const fresh = leaves.map((t) => new Tensor(pinStorage(t.data), t.shape, { requiresGrad: t.requiresGrad }));
    const out = run(...rebuild(args, flat, fresh));
    const { leaves: ys, def: outDef } = flatten('checkpoint', "the function's output", out);
    const externals = closedOver(ys, new Set(fresh), start);
    if (!leaves.some((t) => t.requiresGrad) && externals.length === 0) return out as O;
    const live = ys.map((_, k) => k).filter((k) => ys[k]!.requiresGrad);
    if (live.length === 0) return out as O;
    const segment: Segment = { run, args, flat, leaves, externals, outDef, live, gens, states };
    const carried = attach(segment, live.map((k) => ys[k]!));
    const results = ys.map((y) => (y.requiresGrad ? y : y.detach()));
    live.forEach((k, j) => {
      results[k] = carried[j]!;
    });
    return outDef.unflatten(results) as O;
  };
  return checkpointed;
}

/** A whole argument that is no structure of tensors: anything but a Tensor, null, undefined, an array or a plain object. */
function isSetting(value: unknown): boolean {
  if (value instanceof Tensor || value === null || value === undefined || Array.isArray(value)) return false;
  if (typeof value !== 'object') return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto !== Object.prototype && proto !== null;
}

/**
 * The outputs the caller gets: `ys`' values on a node whose VJP is the recomputation.
 * NOTE: a function of its own, so that the VJP closures' scope holds no tensor of the recorded
 * forward (V8 keeps every variable a sibling closure captures): only values, shapes and the
 * segment. Else that graph, every activation of f, would live as long as the output.
 */
function attach(segment: Segment, ys: readonly Tensor[]): Tensor[] {
  const inputs = [...segment.leaves, ...segment.externals];
  const saves = inputs.map(() => inputs.map((_, i) => i));
  if (ys.length === 1) {
    const { data, shape } = ys[0]!;
    return [makeOutput('checkpoint', data, shape, inputs, (g) => recompute(segment, [g]), { storage: 'shared', saves })];
  }
  const dtype = ys[0]!.dtype;
  const mixed = ys.find((y) => y.dtype !== dtype);
  if (mixed !== undefined) {
    throw new DTypeError(`checkpoint: outputs of mixed dtypes (${dtype} and ${mixed.dtype}); checkpoint the functions giving each apart`);
  }
  const shapes = ys.map((y) => y.shape);
  const offsets: number[] = [];
  const total = ys.reduce((n, y) => (offsets.push(n), n + y.size), 0);
  const data = allocate(dtype, total);
  ys.forEach((y, j) => data.set(y.data, offsets[j]));
  // One node recomputes f once for all outputs; each output is a view of its part.
  const cotangents = (g: Tensor): Tensor[] => shapes.map((shape, j) => reshape(slice(g, 0, offsets[j]!, offsets[j]! + sizeOf(shape)), shape));
  const all = makeOutput('checkpoint', data, [total], inputs, (g) => recompute(segment, cotangents(g)), { storage: 'new', saves });
  return shapes.map((shape, j) => {
    const at = offsets[j]!;
    const size = sizeOf(shape);
    return makeOutput('checkpointOutput', data.subarray(at, at + size), shape, [all], (g) => [padInto(g, at, total)], { storage: 'shared', saves: [[]] });
  });
}

/** What a checkpointed call keeps for its recomputation: no intermediate tensor of f. */
interface Segment {
  run: (...args: unknown[]) => unknown;
  args: readonly unknown[];
  flat: readonly { leaves: Tensor[]; def: TreeDef }[];
  /** The tensors in f's arguments, in order. */
  leaves: readonly Tensor[];
  /** Tensors requiring grad that f closes over. */
  externals: readonly Tensor[];
  outDef: TreeDef;
  /** Which output leaves require grad (those the node carries). */
  live: readonly number[];
  gens: readonly Generator[];
  states: readonly ReturnType<Generator['getState']>[];
}

function rebuild(args: readonly unknown[], flat: readonly { leaves: Tensor[]; def: TreeDef }[], leaves: readonly Tensor[]): unknown[] {
  let at = 0;
  return args.map((_, i) => {
    const { def } = flat[i]!;
    at += def.numLeaves;
    return def.unflatten(leaves.slice(at - def.numLeaves, at));
  });
}

/**
 * The tensors requiring grad that the segment's graph reaches without having made them: leaves
 * and results of ops recorded before `start`, other than the fresh argument leaves.
 */
function closedOver(ys: readonly Tensor[], fresh: ReadonlySet<Tensor>, start: number): Tensor[] {
  const found: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack = [...ys];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (fresh.has(t) || !t.requiresGrad) continue;
    if (t.gradFn === null || t.gradFn.serial <= start) {
      found.push(t);
      continue;
    }
    for (const p of t.gradFn.inputs) stack.push(p);
  }
  return found;
}

/**
 * The VJP of a checkpointed call: runs f again (with the random state it first saw) and pulls
 * the cotangents back through that fresh graph, cut at its inputs so each gets the partial
 * derivative through f alone. Under createGraph the arguments enter as views of the node's
 * inputs, so the gradients stay differentiable.
 */
function recompute(s: Segment, cotangents: readonly Tensor[]): (Tensor | null)[] {
  const now = s.gens.map((g) => g.getState());
  s.gens.forEach((g, i) => g.setState(s.states[i]!));
  try {
    const recording = isGradEnabled();
    const tracked = s.leaves.map((t) => (!t.requiresGrad ? t : recording ? view(t) : new Tensor(pinStorage(t.data), t.shape, { requiresGrad: true })));
    const out = enableGrad(() => s.run(...rebuild(s.args, s.flat, tracked)));
    const { leaves: ys, def } = flatten('checkpoint', "the recomputed output", out);
    if (!def.equals(s.outDef)) {
      throw new ArgumentError(`checkpoint: the recomputation returned the structure ${String(def)}, the forward ${String(s.outDef)}; f must be deterministic`);
    }
    const pairs = s.live.map((k, j) => [ys[k]!, cotangents[j]!] as const).filter(([y]) => y.requiresGrad);
    const wrt = [...tracked.filter((t) => t.requiresGrad), ...s.externals];
    const gs = pairs.length === 0
      ? wrt.map(() => null)
      : backward(pairs.map(([y]) => y), pairs.map(([, c]) => c), { inputs: wrt, createGraph: recording, retainGraph: recording, cutAtInputs: true });
    let at = 0;
    const forLeaves = s.leaves.map((t) => (t.requiresGrad ? gs[at++]! : null));
    return [...forLeaves, ...gs.slice(at)];
  } finally {
    s.gens.forEach((g, i) => g.setState(now[i]!));
  }
}

/** g placed at [at, at + g.size) of a zero vector of `total` elements, in Tensor ops so it differentiates again. */
function padInto(g: Tensor, at: number, total: number): Tensor {
  const before = zeros([at], { dtype: g.dtype });
  const after = zeros([total - at - g.size], { dtype: g.dtype });
  return concat([before, reshape(g, [g.size]), after], 0);
}
